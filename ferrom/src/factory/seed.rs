//! The seed behind every fake value, and the random number generators
//! derived from it.
//!
//! A registry has one seed: `FERROM_SEED` when it is set, else a random one.
//! Each row a factory builds gets a generator of its own, derived from the
//! seed, the factory's name and how many rows that factory built before in
//! the registry, so the data of a test does not depend on what other
//! factories drew in between, and a rerun with the same seed repeats it.

use fake::rand::SeedableRng as _;

use super::FactoryError;
use crate::error::Result;

/// The environment variable that fixes the seed.
pub const SEED_VAR: &str = "FERROM_SEED";

/// The generator fake data is drawn from: ChaCha8, whose output for a seed
/// is fixed by its specification (rand's `StdRng` may change between
/// versions).
pub type FactoryRng = fake::rand::rngs::ChaCha8Rng;

/// The seed in `FERROM_SEED` if it is set, else a random one.
///
/// # Errors
///
/// [`FactoryError::InvalidSeed`] when `FERROM_SEED` is set to something
/// that is not an unsigned 64-bit number.
pub fn seed_from_env() -> Result<u64> {
    match std::env::var(SEED_VAR) {
        Ok(text) if !text.trim().is_empty() => parse_seed(&text),
        _ => Ok(random_seed()),
    }
}

/// Parses a seed as a test printed it.
pub(crate) fn parse_seed(text: &str) -> Result<u64> {
    text.trim().parse::<u64>().map_err(|_| {
        FactoryError::InvalidSeed {
            value: text.to_string(),
        }
        .into()
    })
}

/// A seed from the operating system's randomness.
pub fn random_seed() -> u64 {
    fake::rand::random()
}

/// FNV-1a, a hash whose value never changes between Rust versions (std's
/// hasher makes no such promise).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// SplitMix64's finalizer: spreads the bits of `x`.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The generator for the `n`th row factory `factory` builds under `seed`.
pub(crate) fn rng_for(seed: u64, factory: &str, n: u64) -> FactoryRng {
    let key = mix(seed ^ mix(fnv1a(factory.as_bytes()) ^ mix(n)));
    FactoryRng::seed_from_u64(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake::rand::RngExt as _;

    #[test]
    fn the_same_seed_factory_and_row_give_the_same_numbers() {
        let draw = |seed, factory, n| rng_for(seed, factory, n).random::<u64>();
        assert_eq!(draw(1, "post", 0), draw(1, "post", 0));
        assert_ne!(draw(1, "post", 0), draw(2, "post", 0));
        assert_ne!(draw(1, "post", 0), draw(1, "company", 0));
        assert_ne!(draw(1, "post", 0), draw(1, "post", 1));
    }

    #[test]
    fn seeds_parse_as_printed() {
        assert_eq!(parse_seed(" 42\n").ok(), Some(42));
        let err = parse_seed("abc").unwrap_err();
        assert!(err.to_string().contains("FERROM_SEED"), "{err}");
    }
}
