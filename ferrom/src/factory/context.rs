//! [`AttrContext`]: what an attribute's closure sees while a row is built.

use super::{FactoryError, FactoryRng, FakeData};
use crate::command::Tuple;
use crate::error::Result;
use crate::value::Value;

/// What an attribute's closure is given: the attributes built so far, fake
/// data and the row's generator.
///
/// Attributes are built in a fixed order: the overrides of the call first,
/// then the definitions in the order written (a parent's before its
/// child's, the factory's before its traits', traits in the order named;
/// redefining an attribute keeps its place). A closure sees every attribute
/// built before it.
///
/// ```
/// # use ferrom::factory::Factories;
/// # fn demo(factories: &mut Factories) -> ferrom::Result<()> {
/// factories.define("company", "companies", |f| {
///     f.sequence("name", |n| format!("Company Name {n}"));
///     // Depends on `name`, defined before it.
///     f.try_attr("domain", |ctx| {
///         let name = ctx.text("name")?.to_lowercase().replace(' ', "-");
///         Ok(format!("https://{name}.{}", ctx.fake().domain_suffix()))
///     });
/// })?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AttrContext<'a> {
    pub(crate) factory: &'a str,
    pub(crate) attribute: &'a str,
    pub(crate) built: &'a Tuple,
    pub(crate) rng: &'a mut FactoryRng,
}

impl AttrContext<'_> {
    /// The factory building the row.
    pub fn factory(&self) -> &str {
        self.factory
    }

    /// The attribute being built.
    pub fn attribute(&self) -> &str {
        self.attribute
    }

    /// The value of an attribute built before this one.
    ///
    /// # Errors
    ///
    /// [`FactoryError::MissingAttribute`] naming what is built so far when
    /// `name` is not built (yet).
    pub fn get(&self, name: &str) -> Result<&Value> {
        self.built.get(name).ok_or_else(|| {
            FactoryError::MissingAttribute {
                factory: self.factory.to_string(),
                attribute: self.attribute.to_string(),
                needs: name.to_string(),
                built: self.built.names().map(str::to_string).collect(),
            }
            .into()
        })
    }

    /// The value of an attribute built before this one, as text: a string
    /// as it is, anything else as displayed (NULL as `""`).
    ///
    /// # Errors
    ///
    /// As [`AttrContext::get`].
    pub fn text(&self, name: &str) -> Result<String> {
        Ok(match self.get(name)? {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
    }

    /// The attributes built so far, in the order they were built.
    pub fn attributes(&self) -> &Tuple {
        self.built
    }

    /// Fake values drawn from the row's generator.
    pub fn fake(&mut self) -> FakeData<'_> {
        FakeData::new(self.rng)
    }

    /// The row's generator, for `rand` or any faker of the `fake` crate.
    pub fn rng(&mut self) -> &mut FactoryRng {
        self.rng
    }
}
