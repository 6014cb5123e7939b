//! [`Overrides`]: the values one call gives instead of the definition's.

use crate::command::Tuple;
use crate::row::Row;
use crate::value::Value;

/// One override: a value, or (for a belongs-to association) a row to use
/// as the parent.
#[derive(Clone, Debug, PartialEq)]
pub enum Override {
    /// A value: for an attribute, its value; for an association, see
    /// [`Overrides`].
    Value(Value),
    /// A row as a belongs-to's parent: its key becomes the foreign key and
    /// it is nested under the association's name.
    Row(Row),
}

/// The values one factory call sets instead of the definition's, by name:
/// attributes of the factory's relation and its associations. A name that
/// is neither is an error listing both (nothing is built or written).
///
/// For an association, the value says what to do:
///
/// | association | value | effect |
/// |---|---|---|
/// | belongs-to | `nil` ([`Value::Null`]) | no parent (the foreign key as the definition has it, usually NULL) |
/// | belongs-to | a key (number, string) | that parent: the foreign key is set, nothing is built |
/// | belongs-to | a row ([`Overrides::row`]) | that parent, nested under the association |
/// | belongs-to | a JSON object | overrides for building the parent |
/// | has-many, has-one | a number | how many children to build (`0` for none) |
/// | has-many, has-one | `nil` | no children |
/// | has-many, has-one | a JSON array of objects | one child per object, with those overrides |
/// | has-many, has-one | a JSON object | overrides for every child |
///
/// Anything converts into `Overrides` that makes a [`Tuple`]: `()`,
/// `[("name", "Acme")]`, a `Vec<(String, Value)>` (what the console
/// passes).
///
/// ```
/// use ferrom::factory::Overrides;
///
/// let o = Overrides::from([("name", "Acme")]).set("posts", 3);
/// assert_eq!(o.len(), 2);
/// assert!(Overrides::from(()).is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    entries: Vec<(String, Override)>,
}

impl Overrides {
    /// No overrides.
    pub fn new() -> Overrides {
        Overrides::default()
    }

    /// With `name` set to `value` (replacing an earlier override of it).
    #[must_use]
    pub fn set(mut self, name: &str, value: impl Into<Value>) -> Overrides {
        self.put(name, Override::Value(value.into()));
        self
    }

    /// With the belongs-to association `name`'s parent given as a row.
    #[must_use]
    pub fn row(mut self, name: &str, row: Row) -> Overrides {
        self.put(name, Override::Row(row));
        self
    }

    fn put(&mut self, name: &str, value: Override) {
        match self.entries.iter_mut().find(|(n, _)| n == name) {
            Some((_, slot)) => *slot = value,
            None => self.entries.push((name.to_string(), value)),
        }
    }

    /// The override of `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Override> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// `(name, override)` pairs, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Override)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// How many names are overridden.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl From<Tuple> for Overrides {
    fn from(tuple: Tuple) -> Self {
        Overrides {
            entries: tuple
                .iter()
                .map(|(n, v)| (n.to_string(), Override::Value(v.clone())))
                .collect(),
        }
    }
}

impl From<()> for Overrides {
    fn from((): ()) -> Self {
        Overrides::new()
    }
}

impl From<Vec<(String, Value)>> for Overrides {
    fn from(entries: Vec<(String, Value)>) -> Self {
        let mut o = Overrides::new();
        for (name, value) in entries {
            o.put(&name, Override::Value(value));
        }
        o
    }
}

impl From<Vec<(&str, Value)>> for Overrides {
    fn from(entries: Vec<(&str, Value)>) -> Self {
        let mut o = Overrides::new();
        for (name, value) in entries {
            o.put(name, Override::Value(value));
        }
        o
    }
}

impl<V: Into<Value>, const N: usize> From<[(&str, V); N]> for Overrides {
    fn from(pairs: [(&str, V); N]) -> Self {
        let mut o = Overrides::new();
        for (name, value) in pairs {
            o.put(name, Override::Value(value.into()));
        }
        o
    }
}

impl From<&Overrides> for Overrides {
    fn from(o: &Overrides) -> Self {
        o.clone()
    }
}
