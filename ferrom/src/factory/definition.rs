//! Factory definitions: the [`FactoryBuilder`] a definition's closure
//! fills in, and the definition it resolves to (the parent's merged in,
//! names checked against the relation's schema).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::{AttrContext, FactoryError};
use crate::error::Result;
use crate::schema::{AssociationKind, Schema};
use crate::value::Value;

/// A closure computing an attribute.
pub(crate) type Compute = Arc<dyn Fn(&mut AttrContext<'_>) -> Result<Value> + Send + Sync>;
/// A closure computing an attribute from a sequence number.
pub(crate) type SequenceFn = Arc<dyn Fn(u64, &mut AttrContext<'_>) -> Result<Value> + Send + Sync>;

/// Where an attribute's value comes from.
#[derive(Clone)]
pub(crate) enum Source {
    /// The same value every row.
    Value(Value),
    /// A closure run for every row.
    Compute(Compute),
    /// A closure given the next number of a sequence.
    Sequence {
        /// The counter's name: the factory (and trait) and attribute it was
        /// written for, kept when a child inherits it.
        id: Arc<str>,
        f: SequenceFn,
    },
}

/// One attribute of a definition.
#[derive(Clone)]
pub(crate) struct AttrDef {
    pub(crate) name: String,
    pub(crate) source: Source,
}

impl fmt::Debug for AttrDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            Source::Value(v) => format!("value {v}"),
            Source::Compute(_) => "computed".to_string(),
            Source::Sequence { id, .. } => format!("sequence {id}"),
        };
        write!(f, "{}: {source}", self.name)
    }
}

/// One association of a definition, as declared (rom-factory's
/// `f.association(:posts, count: 2)`).
#[derive(Clone, Debug, Default)]
pub(crate) struct AssocDef {
    pub(crate) name: String,
    /// The factory building its rows; by default the association's name in
    /// the singular (`posts` → `post`).
    pub(crate) factory: Option<String>,
    /// How many rows a has-many builds (1 unless given).
    pub(crate) count: Option<usize>,
    /// Traits of that factory to use.
    pub(crate) traits: Vec<String>,
    /// Overrides for every row it builds.
    pub(crate) overrides: Vec<(String, Value)>,
}

impl AssocDef {
    /// The factory that builds the association's rows.
    pub(crate) fn factory_name(&self) -> String {
        self.factory.clone().unwrap_or_else(|| singular(&self.name))
    }
}

/// What a factory or a trait defines: attributes and associations, in the
/// order written.
#[derive(Clone, Debug, Default)]
pub(crate) struct Body {
    pub(crate) attrs: Vec<AttrDef>,
    pub(crate) assocs: Vec<AssocDef>,
}

impl Body {
    fn set_attr(&mut self, attr: AttrDef) {
        match self.attrs.iter_mut().find(|a| a.name == attr.name) {
            Some(slot) => *slot = attr,
            None => self.attrs.push(attr),
        }
    }

    fn set_assoc(&mut self, assoc: AssocDef) {
        match self.assocs.iter_mut().find(|a| a.name == assoc.name) {
            Some(slot) => *slot = assoc,
            None => self.assocs.push(assoc),
        }
    }

    /// `other` laid over this body: its attributes and associations
    /// replace those of the same name in place, new ones come after.
    pub(crate) fn merge(&mut self, other: &Body) {
        for attr in &other.attrs {
            self.set_attr(attr.clone());
        }
        for assoc in &other.assocs {
            self.set_assoc(assoc.clone());
        }
    }
}

/// A trait: a named variation of a factory, applied on request.
#[derive(Clone, Debug)]
pub(crate) struct TraitDef {
    /// Traits applied before this one's own body.
    pub(crate) includes: Vec<String>,
    pub(crate) body: Body,
}

/// A resolved factory definition.
#[derive(Clone, Debug)]
pub(crate) struct Definition {
    pub(crate) name: String,
    pub(crate) relation: String,
    pub(crate) parent: Option<String>,
    /// The parent's body with this factory's laid over it.
    pub(crate) body: Body,
    /// The parent's traits and this factory's (which replace those of the
    /// same name).
    pub(crate) traits: BTreeMap<String, TraitDef>,
}

impl Definition {
    /// The body with `traits` applied in order (each after the traits it
    /// includes).
    ///
    /// # Errors
    ///
    /// [`FactoryError::UnknownTrait`] listing the factory's traits.
    pub(crate) fn with_traits<S: AsRef<str>>(&self, traits: &[S]) -> Result<Body> {
        let mut body = self.body.clone();
        let mut applied = Vec::new();
        for name in traits {
            self.apply_trait(name.as_ref(), &mut body, &mut applied)?;
        }
        Ok(body)
    }

    fn apply_trait(&self, name: &str, body: &mut Body, applied: &mut Vec<String>) -> Result<()> {
        if applied.iter().any(|a| a == name) {
            return Ok(());
        }
        let def = self
            .traits
            .get(name)
            .ok_or_else(|| FactoryError::UnknownTrait {
                factory: self.name.clone(),
                name: name.to_string(),
                known: self.traits.keys().cloned().collect(),
            })?;
        applied.push(name.to_string());
        for include in &def.includes {
            self.apply_trait(include, body, applied)?;
        }
        body.merge(&def.body);
        Ok(())
    }

    /// Checks every name against the relation's schema, trait includes
    /// against the traits, and that no trait includes itself.
    pub(crate) fn check(&self, schema: &Schema) -> Result<()> {
        let bodies = std::iter::once(&self.body).chain(self.traits.values().map(|t| &t.body));
        for body in bodies {
            for attr in &body.attrs {
                let Some(attribute) = schema.attribute(&attr.name) else {
                    return Err(FactoryError::UnknownAttribute {
                        factory: self.name.clone(),
                        relation: self.relation.clone(),
                        attribute: attr.name.clone(),
                        known: schema
                            .attribute_names()
                            .into_iter()
                            .map(str::to_string)
                            .collect(),
                    }
                    .into());
                };
                if attribute.generated {
                    return Err(FactoryError::invalid(
                        &self.name,
                        format!(
                            "`{}` is generated by the database and cannot be set",
                            attr.name
                        ),
                    ));
                }
            }
            for assoc in &body.assocs {
                self.check_assoc(schema, assoc)?;
            }
        }
        for (name, t) in &self.traits {
            for include in &t.includes {
                if !self.traits.contains_key(include) {
                    return Err(FactoryError::UnknownTrait {
                        factory: self.name.clone(),
                        name: include.clone(),
                        known: self.traits.keys().cloned().collect(),
                    }
                    .into());
                }
            }
            let mut path = vec![name.clone()];
            self.check_cycle(name, &mut path)?;
        }
        Ok(())
    }

    fn check_cycle(&self, name: &str, path: &mut Vec<String>) -> Result<()> {
        let Some(t) = self.traits.get(name) else {
            return Ok(());
        };
        for include in &t.includes {
            if path.iter().any(|p| p == include) {
                path.push(include.clone());
                return Err(FactoryError::invalid(
                    &self.name,
                    format!(
                        "traits include each other in a cycle: {}",
                        path.join(" -> ")
                    ),
                ));
            }
            path.push(include.clone());
            self.check_cycle(include, path)?;
            path.pop();
        }
        Ok(())
    }

    fn check_assoc(&self, schema: &Schema, assoc: &AssocDef) -> Result<()> {
        let Some(resolved) = schema.associations().iter().find(|a| a.name == assoc.name) else {
            return Err(FactoryError::UnknownAssociation {
                factory: self.name.clone(),
                relation: self.relation.clone(),
                association: assoc.name.clone(),
                known: schema
                    .associations()
                    .iter()
                    .map(|a| a.name.clone())
                    .collect(),
            }
            .into());
        };
        match (resolved.kind, assoc.count) {
            (AssociationKind::ManyToMany, _) => Err(FactoryError::invalid(
                &self.name,
                format!(
                    "association `{}` is many-to-many, which factories do not build yet; create the rows and the join rows with their own factories",
                    assoc.name
                ),
            )),
            (AssociationKind::BelongsTo, Some(_)) => Err(FactoryError::invalid(
                &self.name,
                format!(
                    "association `{}` is a belongs-to: it builds one parent, so it takes no count",
                    assoc.name
                ),
            )),
            (AssociationKind::HasOne, Some(n)) if n > 1 => Err(FactoryError::invalid(
                &self.name,
                format!(
                    "association `{}` is a has-one: a count of {n} is more than one",
                    assoc.name
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// What a definition's closure fills in: `f` in
/// `factories.define("company", "companies", |f| { ... })`.
///
/// Every method names an attribute (or association) of the factory's
/// relation; names are checked against the relation's schema when the
/// closure returns, so a typo fails at definition, listing the attributes.
/// Defining a name again replaces its definition, keeping its place in the
/// build order (see [`AttrContext`]).
///
/// ```
/// # use ferrom::factory::Factories;
/// # fn demo(factories: &mut Factories) -> ferrom::Result<()> {
/// factories.define("post", "posts", |f| {
///     f.sequence_with("url", |n, ctx| format!("{}-{n}", ctx.fake().url("example.com")));
///     f.value("se_post", false);
///     f.value("stats", serde_json::json!({}));
///     f.association("company");
///     f.trait_("with_error", |t| {
///         t.value("error", "timeout");
///     });
///     f.trait_("search_engine", |t| {
///         t.value("se_post", true);
///     });
/// })?;
/// # Ok(()) }
/// ```
pub struct FactoryBuilder {
    factory: String,
    /// The trait being defined, if this builder is a trait's.
    in_trait: Option<String>,
    pub(crate) body: Body,
    pub(crate) traits: Vec<(String, TraitDef)>,
    pub(crate) errors: Vec<String>,
}

impl fmt::Debug for FactoryBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FactoryBuilder")
            .field("factory", &self.factory)
            .field("trait", &self.in_trait)
            .field("body", &self.body)
            .field("traits", &self.traits)
            .finish()
    }
}

impl FactoryBuilder {
    pub(crate) fn new(factory: &str) -> FactoryBuilder {
        FactoryBuilder {
            factory: factory.to_string(),
            in_trait: None,
            body: Body::default(),
            traits: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The name of the factory being defined.
    pub fn factory(&self) -> &str {
        &self.factory
    }

    fn push(&mut self, name: &str, source: Source) -> &mut Self {
        self.body.set_attr(AttrDef {
            name: name.to_string(),
            source,
        });
        self
    }

    /// The same value for every row (`f.value("state", "running")`).
    pub fn value(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.push(name, Source::Value(value.into()))
    }

    /// A value computed for every row by `f`, which sees the attributes
    /// built before this one, fake data and the row's generator.
    pub fn attr<F, V>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(&mut AttrContext<'_>) -> V + Send + Sync + 'static,
        V: Into<Value>,
    {
        self.push(
            name,
            Source::Compute(Arc::new(move |ctx| Ok(f(ctx).into()))),
        )
    }

    /// As [`FactoryBuilder::attr`], for a closure that can fail (one that
    /// reads another attribute with [`AttrContext::get`]): its error fails
    /// the build, before anything is written.
    pub fn try_attr<F, V>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(&mut AttrContext<'_>) -> Result<V> + Send + Sync + 'static,
        V: Into<Value>,
    {
        self.push(
            name,
            Source::Compute(Arc::new(move |ctx| f(ctx).map(Into::into))),
        )
    }

    /// A value made from the next number of the attribute's sequence
    /// (`f.sequence("name", |n| format!("Company Name {n}"))`): 1, 2, 3,
    /// ..., never the same twice on one database, however many threads
    /// build (see [`Sequence`](super::Sequence)).
    pub fn sequence<F, V>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(u64) -> V + Send + Sync + 'static,
        V: Into<Value>,
    {
        let id = self.sequence_id(name);
        self.push(
            name,
            Source::Sequence {
                id,
                f: Arc::new(move |n, _| Ok(f(n).into())),
            },
        )
    }

    /// As [`FactoryBuilder::sequence`], with the context too: to mix fake
    /// data or other attributes into a unique value.
    pub fn sequence_with<F, V>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(u64, &mut AttrContext<'_>) -> V + Send + Sync + 'static,
        V: Into<Value>,
    {
        let id = self.sequence_id(name);
        self.push(
            name,
            Source::Sequence {
                id,
                f: Arc::new(move |n, ctx| Ok(f(n, ctx).into())),
            },
        )
    }

    fn sequence_id(&self, name: &str) -> Arc<str> {
        match &self.in_trait {
            Some(t) => Arc::from(format!("{}[{t}].{name}", self.factory)),
            None => Arc::from(format!("{}.{name}", self.factory)),
        }
    }

    /// An association of the relation, built with the row:
    ///
    /// - a belongs-to (`f.association("company")`) builds its parent first
    ///   and sets the foreign key, unless the call gives the foreign key or
    ///   the association (a key, a row, or `nil` for none);
    /// - a has-many (`f.association("posts").count(2)`) builds that many
    ///   children after the row (1 unless given), each with its foreign key
    ///   set to the row's key; a has-one builds one.
    ///
    /// The rows are built by the factory named after the association in the
    /// singular (`company`, `post`) unless [`AssociationBuilder::factory`]
    /// names another; that factory's own associations are built too
    /// (except its belongs-to back to this row).
    pub fn association(&mut self, name: &str) -> AssociationBuilder<'_> {
        let def = AssocDef {
            name: name.to_string(),
            ..AssocDef::default()
        };
        let assocs = &mut self.body.assocs;
        let at = match assocs.iter().position(|a| a.name == name) {
            Some(at) => {
                assocs[at] = def;
                at
            }
            None => {
                assocs.push(def);
                assocs.len() - 1
            }
        };
        // `at` is in bounds: the position just found, or the one just pushed.
        AssociationBuilder {
            def: &mut assocs[at],
        }
    }

    /// A trait: a named variation applied when a call names it
    /// (`factories.create_with_traits("post", &["with_error"], ())`).
    /// Traits combine, in the order named; what a trait defines replaces
    /// the factory's definition of the same name.
    pub fn trait_(&mut self, name: &str, body: impl FnOnce(&mut FactoryBuilder)) -> &mut Self {
        self.trait_with(name, &[], body)
    }

    /// A trait that applies other traits of the factory first (rom-factory's
    /// `f.trait(:admin, [:with_age])`).
    pub fn trait_with(
        &mut self,
        name: &str,
        includes: &[&str],
        body: impl FnOnce(&mut FactoryBuilder),
    ) -> &mut Self {
        if let Some(outer) = &self.in_trait {
            self.errors.push(format!(
                "trait `{name}` is defined inside trait `{outer}`; define traits on the factory"
            ));
            return self;
        }
        let mut builder = FactoryBuilder::new(&self.factory);
        builder.in_trait = Some(name.to_string());
        body(&mut builder);
        self.errors.append(&mut builder.errors);
        self.traits.retain(|(n, _)| n != name);
        self.traits.push((
            name.to_string(),
            TraitDef {
                includes: includes.iter().map(|s| (*s).to_string()).collect(),
                body: builder.body,
            },
        ));
        self
    }
}

/// Refines an association declared with [`FactoryBuilder::association`].
#[derive(Debug)]
pub struct AssociationBuilder<'a> {
    def: &'a mut AssocDef,
}

impl AssociationBuilder<'_> {
    /// How many children a has-many builds (a has-one takes 0 or 1; a
    /// belongs-to takes none).
    pub fn count(&mut self, count: usize) -> &mut Self {
        self.def.count = Some(count);
        self
    }

    /// The factory that builds the association's rows.
    pub fn factory(&mut self, factory: &str) -> &mut Self {
        self.def.factory = Some(factory.to_string());
        self
    }

    /// Traits of that factory to apply.
    pub fn traits<I, S>(&mut self, traits: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.def.traits = traits.into_iter().map(|s| s.as_ref().to_string()).collect();
        self
    }

    /// An override for every row it builds.
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.def.overrides.retain(|(n, _)| n != name);
        self.def.overrides.push((name.to_string(), value.into()));
        self
    }
}

/// The singular of a relation-like name (`posts` → `post`, `companies` →
/// `company`, `addresses` → `address`).
pub(crate) fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = word
        .strip_suffix("es")
        .filter(|s| ["s", "x", "z", "ch", "sh"].iter().any(|e| s.ends_with(e)))
    {
        stem.to_string()
    } else if word.ends_with("ss") {
        word.to_string()
    } else {
        word.strip_suffix('s').unwrap_or(word).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singulars() {
        assert_eq!(singular("posts"), "post");
        assert_eq!(singular("companies"), "company");
        assert_eq!(singular("addresses"), "address");
        assert_eq!(singular("company"), "company");
        assert_eq!(singular("class"), "class");
    }

    fn names(body: &Body) -> Vec<&str> {
        body.attrs.iter().map(|a| a.name.as_str()).collect()
    }

    #[test]
    fn redefining_keeps_the_place_and_traits_apply_in_order() {
        let mut f = FactoryBuilder::new("company");
        f.value("name", "a").value("domain", "b").value("name", "c");
        f.trait_("x", |t| {
            t.value("state", "x").value("domain", "x");
        });
        f.trait_with("y", &["x"], |t| {
            t.value("state", "y");
        });
        assert_eq!(names(&f.body), ["name", "domain"]);
        let def = Definition {
            name: "company".into(),
            relation: "companies".into(),
            parent: None,
            body: f.body.clone(),
            traits: f.traits.iter().cloned().collect(),
        };
        let body = def.with_traits(&["y"]).unwrap();
        assert_eq!(names(&body), ["name", "domain", "state"]);
        match &body.attrs[2].source {
            Source::Value(v) => assert_eq!(v, &Value::from("y")),
            _ => panic!("a value"),
        }
        let err = def.with_traits(&["z"]).unwrap_err();
        assert!(
            err.to_string().contains("no trait `z`; traits: x, y"),
            "{err}"
        );
    }

    #[test]
    fn traits_inside_traits_are_refused() {
        let mut f = FactoryBuilder::new("company");
        f.trait_("outer", |t| {
            t.trait_("inner", |_| {});
        });
        assert_eq!(f.errors.len(), 1);
        assert!(f.errors[0].contains("inside trait `outer`"));
    }
}
