//! [`FakeData`]: fake values through the [`fake`] crate, drawn from the
//! row's seeded generator (rom-factory's `fake(:internet, :url)`).
//!
//! The common ones are methods; anything else the `fake` crate has is one
//! call away through [`FakeData::rng`] (`fake` is re-exported as
//! [`ferrom::factory::fake`](crate::factory::fake)):
//!
//! ```
//! use ferrom::factory::fake::Fake as _;
//! use ferrom::factory::fake::faker::address::en::CityName;
//! use ferrom::factory::{FakeData, FactoryRng};
//! use ferrom::factory::fake::rand::SeedableRng as _;
//!
//! let mut rng = FactoryRng::seed_from_u64(7);
//! let mut fake = FakeData::new(&mut rng);
//! let domain = fake.domain_name();
//! assert!(domain.contains('.'));
//! let url = fake.url("example.com");
//! assert!(url.starts_with("https://example.com/"));
//! let city: String = CityName().fake_with_rng(fake.rng());
//! assert!(!city.is_empty());
//! ```

use std::ops::{Range, RangeInclusive};

use chrono::{NaiveDateTime, TimeDelta};
use fake::Fake as _;
use fake::faker::address::en::{CityName, CountryName, StreetName, ZipCode};
use fake::faker::company::en::{CatchPhrase, CompanyName};
use fake::faker::internet::en::{DomainSuffix, FreeEmail, IPv4, SafeEmail, Username};
use fake::faker::lorem::en::{Paragraph, Sentence, Word, Words};
use fake::faker::name::en::{FirstName, LastName, Name};
use fake::faker::phone_number::en::PhoneNumber;
use fake::rand::RngExt as _;

use super::FactoryRng;

/// Fake values drawn from one generator (the row's, in a factory): the
/// same generator state gives the same values.
#[derive(Debug)]
pub struct FakeData<'a> {
    rng: &'a mut FactoryRng,
}

impl<'a> FakeData<'a> {
    /// Fake values drawn from `rng`.
    pub fn new(rng: &'a mut FactoryRng) -> FakeData<'a> {
        FakeData { rng }
    }

    /// The generator, for any faker of the `fake` crate
    /// (`CityName().fake_with_rng(fake.rng())`) or any `rand` call.
    pub fn rng(&mut self) -> &mut FactoryRng {
        self.rng
    }

    /// A full name (`Lavina Schmitt`).
    pub fn name(&mut self) -> String {
        Name().fake_with_rng(self.rng)
    }

    /// A first name.
    pub fn first_name(&mut self) -> String {
        FirstName().fake_with_rng(self.rng)
    }

    /// A last name.
    pub fn last_name(&mut self) -> String {
        LastName().fake_with_rng(self.rng)
    }

    /// A company name (`Ernser and Sons`).
    pub fn company_name(&mut self) -> String {
        CompanyName().fake_with_rng(self.rng)
    }

    /// A catch phrase.
    pub fn catch_phrase(&mut self) -> String {
        CatchPhrase().fake_with_rng(self.rng)
    }

    /// One lorem-ipsum word.
    pub fn word(&mut self) -> String {
        Word().fake_with_rng(self.rng)
    }

    /// `count` lorem-ipsum words, joined with spaces.
    pub fn words(&mut self, count: usize) -> String {
        let words: Vec<String> = Words(count..count.saturating_add(1)).fake_with_rng(self.rng);
        words.join(" ")
    }

    /// A sentence of four to eight words.
    pub fn sentence(&mut self) -> String {
        Sentence(4..9).fake_with_rng(self.rng)
    }

    /// A paragraph of three to six sentences.
    pub fn paragraph(&mut self) -> String {
        Paragraph(3..7).fake_with_rng(self.rng)
    }

    /// `count` lower-case words joined with `-` (`dolor-amet`), for paths
    /// and host names.
    pub fn slug(&mut self, count: usize) -> String {
        (0..count.max(1))
            .map(|_| slugify(&self.word()))
            .collect::<Vec<_>>()
            .join("-")
    }

    /// A user name (`ben.kautzer`).
    pub fn username(&mut self) -> String {
        Username().fake_with_rng(self.rng)
    }

    /// An e-mail address on a reserved example domain
    /// (`maria@example.org`): never someone's real address.
    pub fn email(&mut self) -> String {
        SafeEmail().fake_with_rng(self.rng)
    }

    /// An e-mail address at a free mail provider.
    pub fn free_email(&mut self) -> String {
        FreeEmail().fake_with_rng(self.rng)
    }

    /// A domain suffix (`com`, `org`, ...).
    pub fn domain_suffix(&mut self) -> String {
        DomainSuffix().fake_with_rng(self.rng)
    }

    /// A domain name: a last name and a word, then a suffix
    /// (`schmitt-dolor.com`).
    pub fn domain_name(&mut self) -> String {
        let name = slugify(&self.last_name());
        let word = slugify(&self.word());
        let suffix = self.domain_suffix();
        let name = if name.is_empty() { "example" } else { &name };
        format!("{name}-{word}.{suffix}")
    }

    /// An `https` URL on `host` with a two-word path
    /// (`https://example.com/dolor-amet`).
    pub fn url(&mut self, host: &str) -> String {
        format!("https://{host}/{}", self.slug(2))
    }

    /// An `https` URL on a fake domain.
    pub fn any_url(&mut self) -> String {
        let host = self.domain_name();
        self.url(&host)
    }

    /// An IPv4 address, as text.
    pub fn ipv4(&mut self) -> String {
        IPv4().fake_with_rng(self.rng)
    }

    /// A phone number.
    pub fn phone_number(&mut self) -> String {
        PhoneNumber().fake_with_rng(self.rng)
    }

    /// A city name.
    pub fn city(&mut self) -> String {
        CityName().fake_with_rng(self.rng)
    }

    /// A country name.
    pub fn country(&mut self) -> String {
        CountryName().fake_with_rng(self.rng)
    }

    /// A street name.
    pub fn street(&mut self) -> String {
        StreetName().fake_with_rng(self.rng)
    }

    /// A zip code.
    pub fn zip_code(&mut self) -> String {
        ZipCode().fake_with_rng(self.rng)
    }

    /// An integer in `range` (both ends included); the start when the
    /// range is empty.
    pub fn int(&mut self, range: RangeInclusive<i64>) -> i64 {
        if range.is_empty() {
            return *range.start();
        }
        self.rng.random_range(range)
    }

    /// An unsigned integer in `range` (both ends included); the start when
    /// the range is empty.
    pub fn uint(&mut self, range: RangeInclusive<u64>) -> u64 {
        if range.is_empty() {
            return *range.start();
        }
        self.rng.random_range(range)
    }

    /// A float in `range` (end excluded); the start when the range is
    /// empty or not finite.
    pub fn float(&mut self, range: Range<f64>) -> f64 {
        if range.is_empty() || !range.start.is_finite() || !range.end.is_finite() {
            return range.start;
        }
        self.rng.random_range(range)
    }

    /// `true` or `false`, even odds.
    pub fn boolean(&mut self) -> bool {
        self.rng.random()
    }

    /// `true` with probability `p` (clamped to 0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        self.rng.random_bool(p)
    }

    /// `count` decimal digits, as text (leading zeros kept).
    pub fn digits(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| char::from(b'0' + self.rng.random_range(0u8..10)))
            .collect()
    }

    /// One of `items`, or `None` when there are none.
    pub fn pick<'i, T>(&mut self, items: &'i [T]) -> Option<&'i T> {
        if items.is_empty() {
            return None;
        }
        items.get(self.rng.random_range(0..items.len()))
    }

    /// A datetime between `start` (included) and `end` (excluded), to the
    /// second; `start` when the span is empty.
    pub fn datetime_between(&mut self, start: NaiveDateTime, end: NaiveDateTime) -> NaiveDateTime {
        let span = (end - start).num_seconds();
        if span <= 0 {
            return start;
        }
        start + TimeDelta::seconds(self.rng.random_range(0..span))
    }
}

/// Lower-case ASCII letters and digits of `text` (accents dropped, other
/// characters removed).
fn slugify(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let c = fold_accent(c);
            c.is_ascii_alphanumeric().then(|| c.to_ascii_lowercase())
        })
        .collect()
}

/// The unaccented letter of the common Latin accented ones.
fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake::rand::SeedableRng as _;

    fn rng(seed: u64) -> FactoryRng {
        FactoryRng::seed_from_u64(seed)
    }

    #[test]
    fn the_same_generator_state_gives_the_same_values() {
        let (mut a, mut b) = (rng(3), rng(3));
        let (mut fa, mut fb) = (FakeData::new(&mut a), FakeData::new(&mut b));
        assert_eq!(fa.domain_name(), fb.domain_name());
        assert_eq!(fa.url("example.com"), fb.url("example.com"));
        assert_eq!(fa.name(), fb.name());
        assert_eq!(fa.int(1..=1000), fb.int(1..=1000));
    }

    #[test]
    fn values_have_their_shape() {
        let mut r = rng(11);
        let mut f = FakeData::new(&mut r);
        for _ in 0..200 {
            let domain = f.domain_name();
            let (name, suffix) = domain.split_once('.').unwrap_or_default();
            assert!(!name.is_empty() && !suffix.is_empty(), "{domain}");
            assert!(
                domain
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'),
                "{domain}"
            );
            let url = f.url("example.com");
            assert!(
                url.starts_with("https://example.com/") && !url.contains(' '),
                "{url}"
            );
            let n = f.int(5..=7);
            assert!((5..=7).contains(&n));
            let x = f.float(1.0..2.0);
            assert!((1.0..2.0).contains(&x));
            assert_eq!(f.digits(4).len(), 4);
            assert_eq!(f.words(3).split(' ').count(), 3);
            assert!(f.email().contains("@example."));
        }
        let (hi, lo) = (3, 1);
        assert_eq!(f.int(hi..=lo), 3);
        let (hi, lo) = (2.0, 1.0);
        assert_eq!(f.float(hi..lo), 2.0);
        assert!(f.pick::<u8>(&[]).is_none());
        assert!(!f.chance(0.0));
        assert!(f.chance(1.0));
    }

    #[test]
    fn slugs_are_ascii() {
        assert_eq!(slugify("O'Kéefe Jr."), "okeefejr");
    }
}
