//! What a command is called with: [`Tuple`]s (one row's attributes, in the
//! order given) gathered in an [`Input`].

use std::fmt;

use serde::Serialize;
use smallvec::SmallVec;
use smol_str::SmolStr;

use crate::error::{Error, Result};
use crate::row::Row;
use crate::value::Value;

/// One row of command input: attribute names and values, in the order
/// given. It is checked against the relation's schema when the command is
/// called (an unknown attribute is an error listing the relation's
/// attributes).
///
/// An array of pairs takes literal names (`&'static str`), which the
/// tuple keeps without copying; names made at run time go through
/// `collect()` or a `Vec<(String, Value)>`.
///
/// ```
/// use ferrom::command::Tuple;
/// use ferrom::Value;
///
/// let column = String::from("state");
/// let made: Tuple = [(column.as_str(), Value::from("running"))].into_iter().collect();
/// assert_eq!(made.get("state"), Some(&Value::from("running")));
///
/// let mut tuple = Tuple::from([("name", "Acme"), ("domain", "https://acme.test")]);
/// tuple.set("state", "running");
/// assert_eq!(tuple.get("name"), Some(&ferrom::Value::from("Acme")));
/// assert_eq!(tuple.len(), 3);
/// ```
#[derive(Clone, Default)]
pub struct Tuple {
    entries: Entries,
    /// The schema positions of the entries, as bits, while every entry is
    /// checked and below position 128 (so that the plugins' and the
    /// second check's look at a checked tuple costs nothing); `None` as
    /// soon as anything changes that the check has not seen.
    checked: Option<u128>,
}

/// A tuple's entries: up to eight in the tuple itself (a large insert's
/// tuples lie side by side in one allocation, and a tuple costs no
/// allocation of its own), more on the heap.
type Entries = SmallVec<[Entry; 8]>;

/// Attributes a tuple has room for beyond those it is built with: what
/// plugins usually add (the timestamps plugin's `created_at` and
/// `updated_at`, and a few more).
const SPARE: usize = 4;

/// One attribute of a [`Tuple`].
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) name: SmolStr,
    pub(crate) value: Value,
    /// The attribute's position in the schema once the value has been
    /// checked and converted against it (so a second check after the
    /// plugins skips it); cleared whenever the value is set again. As
    /// `u32` (a table has at most 4,096 columns): an entry is 64 bytes,
    /// and a large insert's tuples go through the cache more than once.
    checked: Option<u32>,
}

impl Entry {
    fn new(name: SmolStr, value: Value) -> Entry {
        Entry {
            name,
            value,
            checked: None,
        }
    }

    /// The schema position the value was checked against, if it was.
    pub(crate) fn checked(&self) -> Option<usize> {
        self.checked.map(|at| at as usize)
    }

    /// Records that the value was checked against position `at` (or, with
    /// `None`, that it must be checked again).
    pub(crate) fn set_checked(&mut self, at: Option<usize>) {
        self.checked = at.and_then(|at| u32::try_from(at).ok());
    }
}

/// Equal names and values, in the same order (whether they have been
/// checked does not count).
impl PartialEq for Tuple {
    fn eq(&self, other: &Tuple) -> bool {
        self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(&other.entries)
                .all(|(a, b)| a.name == b.name && a.value == b.value)
    }
}

impl fmt::Debug for Tuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|e| (e.name.as_str(), &e.value)))
            .finish()
    }
}

impl Tuple {
    /// An empty tuple.
    pub fn new() -> Tuple {
        Tuple::default()
    }

    /// The tuple with `name` set to `value` (a builder step).
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Tuple {
        self.set(name, value);
        self
    }

    /// The value given for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| &e.value)
    }

    /// Whether a value is given for `name` (NULL included).
    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.name == name)
    }

    /// Sets `name` to `value`, replacing a value given before.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) {
        let value = value.into();
        self.checked = None;
        match self.entries.iter_mut().find(|e| e.name == name) {
            Some(entry) => {
                entry.value = value;
                entry.checked = None;
            }
            None => self.entries.push(Entry::new(SmolStr::new(name), value)),
        }
    }

    /// Sets `name` to `value` unless a value is given already (the
    /// caller's value wins); returns whether it was set.
    pub fn set_default(&mut self, name: &str, value: impl Into<Value>) -> bool {
        if self.contains(name) {
            return false;
        }
        self.checked = None;
        self.entries
            .push(Entry::new(SmolStr::new(name), value.into()));
        true
    }

    /// Adds `name` (a plugin's, shared) at schema position `at`, checked:
    /// the caller knows the tuple does not give it and that `value` is
    /// already of the attribute's type, not NULL, and the attribute one
    /// that can be written (the timestamps plugin's stamps).
    pub(crate) fn push_checked(&mut self, name: &SmolStr, at: usize, value: Value) {
        let mut entry = Entry::new(name.clone(), value);
        entry.set_checked(Some(at));
        self.entries.push(entry);
        self.checked = self
            .checked
            .filter(|_| at < 128)
            .map(|bits| bits | (1 << at));
    }

    /// Removes `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let at = self.entries.iter().position(|e| e.name == name)?;
        self.checked = None;
        Some(self.entries.remove(at).value)
    }

    /// `(name, value)` pairs, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|e| (e.name.as_str(), &e.value))
    }

    /// The attribute names, in the order given.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// How many attributes are given.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no attribute is given.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The fields of a serializable struct (or map) as a tuple: each field
    /// an attribute. Field values become [`Value`]s as JSON would have them
    /// (numbers, strings, booleans, NULL; lists and maps as JSON), and are
    /// then converted to the attribute types when the command is called
    /// (an ISO 8601 string for a datetime, a map for a JSON column).
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct NewCompany<'a> {
    ///     name: &'a str,
    ///     domain: &'a str,
    /// }
    ///
    /// let tuple = ferrom::command::Tuple::from_serde(&NewCompany {
    ///     name: "Acme",
    ///     domain: "https://acme.test",
    /// })?;
    /// assert_eq!(tuple.get("domain"), Some(&ferrom::Value::from("https://acme.test")));
    /// # Ok::<(), ferrom::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the value does not serialize, or does
    /// not serialize to a map of fields.
    pub fn from_serde<T: Serialize + ?Sized>(value: &T) -> Result<Tuple> {
        let json = serde_json::to_value(value).map_err(|e| Error::InvalidInput {
            reason: format!("the input does not serialize: {e}"),
        })?;
        match json {
            serde_json::Value::Object(map) => {
                Ok(map.into_iter().map(|(k, v)| (k, from_json(v))).collect())
            }
            other => Err(Error::InvalidInput {
                reason: format!(
                    "a command input must serialize to a map of attributes (a struct), not {}",
                    json_kind(&other)
                ),
            }),
        }
    }

    /// The entries, for the schema check (which records what it found
    /// with [`Tuple::set_checked_positions`]).
    pub(crate) fn entries_mut(&mut self) -> &mut Entries {
        self.checked = None;
        &mut self.entries
    }

    /// The schema positions of the entries, as bits, if every entry is
    /// checked (and below position 128) and nothing changed since.
    pub(crate) fn checked_positions(&self) -> Option<u128> {
        self.checked
    }

    /// Records that every entry is checked, at these positions.
    pub(crate) fn set_checked_positions(&mut self, bits: Option<u128>) {
        self.checked = bits;
    }

    /// The entries, for the statements.
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a map",
    }
}

/// A field value as the closest [`Value`]: scalars as scalars, lists and
/// maps as JSON.
fn from_json(value: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match value {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Int(i),
            (None, Some(u), _) => Value::UInt(u),
            (None, None, Some(f)) => Value::Float(f),
            _ => Value::Json(J::Number(n)),
        },
        J::String(s) => Value::String(s),
        other @ (J::Array(_) | J::Object(_)) => Value::Json(other),
    }
}

impl<S: AsRef<str>, V: Into<Value>> FromIterator<(S, V)> for Tuple {
    fn from_iter<I: IntoIterator<Item = (S, V)>>(iter: I) -> Self {
        let iter = iter.into_iter();
        // Room for what plugins add (timestamps), without growing.
        let mut entries = Entries::with_capacity(iter.size_hint().0 + SPARE);
        entries.extend(iter.map(|(k, v)| Entry::new(SmolStr::new(k), v.into())));
        Tuple {
            entries,
            checked: None,
        }
    }
}

/// Literal names (`[("name", "Acme")]`) are kept as they are, not copied.
impl<V: Into<Value>, const N: usize> From<[(&'static str, V); N]> for Tuple {
    fn from(pairs: [(&'static str, V); N]) -> Self {
        let mut entries = Entries::with_capacity(N + SPARE);
        entries.extend(
            pairs
                .into_iter()
                .map(|(k, v)| Entry::new(SmolStr::new_static(k), v.into())),
        );
        Tuple {
            entries,
            checked: None,
        }
    }
}

impl From<Vec<(String, Value)>> for Tuple {
    fn from(entries: Vec<(String, Value)>) -> Self {
        entries.into_iter().collect()
    }
}

impl From<Vec<(&str, Value)>> for Tuple {
    fn from(entries: Vec<(&str, Value)>) -> Self {
        entries.into_iter().collect()
    }
}

impl From<Row> for Tuple {
    fn from(row: Row) -> Self {
        let names = row.names().to_vec();
        names.into_iter().zip(row.into_values()).collect()
    }
}

impl From<&Row> for Tuple {
    fn from(row: &Row) -> Self {
        row.iter().map(|(k, v)| (k, v.clone())).collect()
    }
}

/// What a command is called with: no tuple (delete), one (create, update,
/// upsert) or many (create, upsert).
///
/// Everything a [`Tuple`] is made from converts into an `Input` of one
/// tuple; `()` is the empty input of a delete; a `Vec<Tuple>` or
/// [`Input::many`] is many.
///
/// ```
/// use ferrom::command::{Input, Tuple};
///
/// let one = Input::from([("name", "Acme"), ("domain", "https://acme.test")]);
/// assert_eq!(one.tuples().len(), 1);
/// let many = Input::many([
///     Tuple::from([("url", "https://example.com/1")]),
///     Tuple::from([("url", "https://example.com/2")]),
/// ]);
/// assert_eq!(many.tuples().len(), 2);
/// assert!(Input::from(()).tuples().is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Input {
    tuples: Vec<Tuple>,
}

impl Input {
    /// No tuple at all: what a delete is called with.
    pub fn empty() -> Input {
        Input::default()
    }

    /// One tuple.
    pub fn one(tuple: impl Into<Tuple>) -> Input {
        Input {
            tuples: vec![tuple.into()],
        }
    }

    /// Many tuples (a multi-row create or upsert).
    pub fn many<I, T>(tuples: I) -> Input
    where
        I: IntoIterator<Item = T>,
        T: Into<Tuple>,
    {
        Input {
            tuples: tuples.into_iter().map(Into::into).collect(),
        }
    }

    /// One tuple from a serializable struct (see [`Tuple::from_serde`]).
    ///
    /// # Errors
    ///
    /// As [`Tuple::from_serde`].
    pub fn from_serde<T: Serialize + ?Sized>(value: &T) -> Result<Input> {
        Ok(Input::one(Tuple::from_serde(value)?))
    }

    /// Many tuples from serializable structs (see [`Tuple::from_serde`]).
    ///
    /// # Errors
    ///
    /// As [`Tuple::from_serde`], for the first value that fails.
    pub fn many_from_serde<'a, I, T>(values: I) -> Result<Input>
    where
        I: IntoIterator<Item = &'a T>,
        T: Serialize + 'a,
    {
        Ok(Input {
            tuples: values
                .into_iter()
                .map(Tuple::from_serde)
                .collect::<Result<_>>()?,
        })
    }

    /// The tuples.
    pub fn tuples(&self) -> &[Tuple] {
        &self.tuples
    }

    /// The tuples, taken out.
    pub fn into_tuples(self) -> Vec<Tuple> {
        self.tuples
    }
}

impl From<()> for Input {
    fn from((): ()) -> Self {
        Input::empty()
    }
}

impl From<Tuple> for Input {
    fn from(tuple: Tuple) -> Self {
        Input::one(tuple)
    }
}

impl From<Vec<Tuple>> for Input {
    fn from(tuples: Vec<Tuple>) -> Self {
        Input { tuples }
    }
}

impl<V: Into<Value>, const N: usize> From<[(&'static str, V); N]> for Input {
    fn from(pairs: [(&'static str, V); N]) -> Self {
        Input::one(pairs)
    }
}

impl From<Vec<(String, Value)>> for Input {
    fn from(entries: Vec<(String, Value)>) -> Self {
        Input::one(entries)
    }
}

impl From<Vec<(&str, Value)>> for Input {
    fn from(entries: Vec<(&str, Value)>) -> Self {
        Input::one(entries)
    }
}

impl From<Row> for Input {
    fn from(row: Row) -> Self {
        Input::one(row)
    }
}

impl From<&Row> for Input {
    fn from(row: &Row) -> Self {
        Input::one(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tuples_beyond_eight_entries_keep_them_all() {
        let names: Vec<String> = (0..20).map(|i| format!("a{i}")).collect();
        let mut tuple: Tuple = (0_i64..)
            .zip(&names)
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        tuple.set("b", 99);
        assert_eq!(tuple.len(), 21);
        for (i, name) in (0_i64..).zip(&names) {
            assert_eq!(tuple.get(name), Some(&Value::Int(i)));
        }
        assert_eq!(tuple.remove("a3"), Some(Value::Int(3)));
        assert_eq!(tuple.names().nth(3), Some("a4"));
        assert_eq!(tuple.get("b"), Some(&Value::Int(99)));
    }

    #[test]
    fn tuples_keep_order_and_the_callers_value_wins() {
        let mut t = Tuple::from([("b", 1), ("a", 2)]);
        assert!(!t.set_default("a", 3));
        assert!(t.set_default("c", 4));
        t.set("b", 5);
        let names: Vec<&str> = t.names().collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert_eq!(t.get("b"), Some(&Value::Int(5)));
        assert_eq!(t.remove("a"), Some(Value::Int(2)));
        assert!(!t.contains("a"));
        assert_eq!(Tuple::new().with("x", true).len(), 1);
    }

    #[test]
    fn serde_structs_become_tuples() {
        #[derive(serde::Serialize)]
        struct Post {
            url: String,
            views: u64,
            ratio: f64,
            stats: serde_json::Value,
            error: Option<String>,
        }
        let t = Tuple::from_serde(&Post {
            url: "u".into(),
            views: u64::MAX,
            ratio: 0.5,
            stats: serde_json::json!({"a": 1}),
            error: None,
        })
        .unwrap();
        assert_eq!(t.get("url"), Some(&Value::from("u")));
        assert_eq!(t.get("views"), Some(&Value::UInt(u64::MAX)));
        assert_eq!(t.get("ratio"), Some(&Value::Float(0.5)));
        assert_eq!(
            t.get("stats"),
            Some(&Value::Json(serde_json::json!({"a": 1})))
        );
        assert_eq!(t.get("error"), Some(&Value::Null));
        let err = Tuple::from_serde(&[1, 2]).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
        assert!(err.to_string().contains("not a list"), "{err}");
    }
}
