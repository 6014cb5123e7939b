//! Factories: test data in one line (rom-factory, in Rust).
//!
//! A [`Factories`] registry is made over a container; each factory is
//! defined for one relation with a closure that fills in a
//! [`FactoryBuilder`]:
//!
//! ```no_run
//! # async fn demo(container: &ferrom::Container) -> ferrom::Result<()> {
//! use ferrom::factory::Factories;
//!
//! let mut factories = Factories::new(container)?;
//! factories.define("company", "companies", |f| {
//!     f.sequence("name", |n| format!("Company Name {n}"));
//!     f.attr("domain", |ctx| format!("https://{}", ctx.fake().domain_name()));
//!     f.value("state", "running");
//! })?;
//! factories.define("post", "posts", |f| {
//!     f.sequence_with("url", |n, ctx| format!("{}-{n}", ctx.fake().url("example.com")));
//!     f.value("se_post", false);
//!     f.value("stats", serde_json::json!({}));
//!     f.association("company");
//!     f.trait_("with_error", |t| {
//!         t.value("error", "timeout");
//!     });
//! })?;
//! factories.define_child("with_post", "company", |f| {
//!     f.association("posts").count(1);
//! })?;
//!
//! // Persisted through `companies.command("create")`, posts nested.
//! let company = factories.create("with_post", ()).await?;
//! assert_eq!(company.children("posts")?.len(), 1);
//! // Overrides and traits per call.
//! let post = factories
//!     .create_with_traits("post", &["with_error"], [("se_post", true)])
//!     .await?;
//! // In memory only: no statement runs.
//! let built = factories.build("company", [("name", "Acme")])?;
//! # Ok(()) }
//! ```
//!
//! ## What a definition holds
//!
//! | rom-factory | ferrom |
//! |---|---|
//! | `f.state 'running'` | [`FactoryBuilder::value`]`("state", "running")` |
//! | `f.domain { fake(:internet, :domain_name) }` | [`FactoryBuilder::attr`]`("domain", \|ctx\| ctx.fake().domain_name())` |
//! | `f.login { \|name\| ... }` (dependent) | [`FactoryBuilder::try_attr`]`("login", \|ctx\| ... ctx.get("name")? ...)` |
//! | `f.sequence(:name) { \|n\| "Company Name #{n}" }` | [`FactoryBuilder::sequence`]`("name", \|n\| format!(...))` |
//! | `f.association(:company)` | [`FactoryBuilder::association`]`("company")` |
//! | `f.association(:posts, count: 2)` | [`FactoryBuilder::association`]`("posts").count(2)` |
//! | `f.trait(:with_error) { \|t\| ... }` | [`FactoryBuilder::trait_`]`("with_error", \|t\| ...)` |
//! | `define(with_post: :company)` | [`Factories::define_child`]`("with_post", "company", ...)` |
//! | `Factory[:post, :with_error, url: 'x']` | [`Factories::create_with_traits`]`("post", &["with_error"], [("url", "x")])` |
//! | `Factory.structs[:post]` | [`Factories::build`]`("post", ())` |
//!
//! ## How a row is made
//!
//! 1. The overrides are checked: each must name an attribute or an
//!    association of the relation, or the call fails listing both, before
//!    anything is built or written.
//! 2. Attributes are built in order: the overrides first, then the
//!    definitions as written (a parent's before its child's own, the
//!    factory's before its traits', traits in the order named; redefining
//!    keeps the place). Each closure sees what is built before it
//!    ([`AttrContext::get`]).
//! 3. Belongs-to associations build (or create) their parent first and set
//!    the foreign key, unless the call gives the key, a row or `nil`
//!    ([`Overrides`]); has-many associations build their children after
//!    the row, each with its foreign key set (and its own belongs-to back
//!    to the row skipped); the children's factories run their own
//!    associations too.
//! 4. `create` inserts every row through its relation's registered
//!    `create` command (so the timestamps plugin stamps `created_at` and,
//!    for the reference posts, `scrapped_at`), or a plain insert when none
//!    is registered; several rows go in one transaction. It returns the
//!    rows as the database has them, associations nested
//!    ([`Row::children`](crate::Row::children), [`Row::parent`](crate::Row::parent)),
//!    or a typed struct ([`Factories::create_as`]).
//! 5. `build` makes the same rows in memory without touching the database:
//!    primary keys from a sequence, the create command's plugins run on the
//!    attributes, unset columns at their literal default.
//!
//! ## Reproducible data
//!
//! Every fake value comes from a generator seeded from the registry's seed
//! ([`Factories::seed`]): `FERROM_SEED` when set, else a random one. The
//! test harness ([`crate::testing`]) prints the seed when a test fails;
//! run the test again with `FERROM_SEED=<that seed>` and its factories make
//! the same data. Sequences restart at 1 on each test database (see
//! [`Sequence`]).

mod build;
mod context;
mod definition;
mod error;
mod fake_data;
mod overrides;
mod plan;
mod seed;
mod sequence;

pub use self::context::AttrContext;
pub use self::definition::{AssociationBuilder, FactoryBuilder};
pub use self::error::FactoryError;
pub use self::fake_data::FakeData;
pub use self::overrides::{Override, Overrides};
pub use self::seed::{FactoryRng, SEED_VAR, random_seed, seed_from_env};
pub use self::sequence::Sequence;
/// The `fake` crate, for fakers beyond [`FakeData`]'s methods.
pub use ::fake;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde::de::DeserializeOwned;

use self::definition::Definition;
use crate::container::Container;
use crate::error::Result;
use crate::row::Row;
use crate::transaction::Transaction;

/// What clones of a registry share: the seed and how many rows each
/// factory built (which picks each row's generator).
#[derive(Debug)]
struct Shared {
    seed: u64,
    builds: Mutex<HashMap<String, u64>>,
}

impl Shared {
    fn new(seed: u64) -> Arc<Shared> {
        Arc::new(Shared {
            seed,
            builds: Mutex::new(HashMap::new()),
        })
    }
}

/// The factories of one container (rom-factory's `ROM::Factory.configure`):
/// define them once, then build rows in memory or create them in the
/// database, by name (what the console calls as `factories[:with_post]`).
///
/// Cloning is cheap; clones share the seed and the sequences. Calls take
/// `&self`, so one registry serves many tasks and threads at once.
#[derive(Clone)]
pub struct Factories {
    container: Container,
    definitions: BTreeMap<String, Arc<Definition>>,
    shared: Arc<Shared>,
}

impl fmt::Debug for Factories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Factories")
            .field("seed", &self.shared.seed)
            .field("factories", &self.definitions.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Factories {
    /// An empty registry over `container`, seeded from `FERROM_SEED` when it
    /// is set, else randomly.
    ///
    /// # Errors
    ///
    /// [`FactoryError::InvalidSeed`] when `FERROM_SEED` is not a number.
    pub fn new(container: &Container) -> Result<Factories> {
        Ok(Factories::with_seed(container, seed_from_env()?))
    }

    /// An empty registry over `container` with this seed.
    pub fn with_seed(container: &Container, seed: u64) -> Factories {
        Factories {
            container: container.clone(),
            definitions: BTreeMap::new(),
            shared: Shared::new(seed),
        }
    }

    /// The same factories with another seed (and the per-factory row
    /// counts that pick each row's generator started again). Sequences go
    /// on: they belong to the database.
    #[must_use]
    pub fn reseeded(&self, seed: u64) -> Factories {
        Factories {
            container: self.container.clone(),
            definitions: self.definitions.clone(),
            shared: Shared::new(seed),
        }
    }

    /// The seed every fake value is drawn from: print it to repeat a run
    /// (`FERROM_SEED=<seed>`).
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// The container the factories write through.
    pub fn container(&self) -> &Container {
        &self.container
    }

    /// Defines factory `name` for `relation`; `body` fills in its
    /// attributes, associations and traits ([`FactoryBuilder`]).
    ///
    /// # Errors
    ///
    /// Checked now, so that mistakes fail where the factories are defined:
    /// - [`FactoryError::AlreadyDefined`];
    /// - [`Error::UnknownRelation`](crate::Error::UnknownRelation) listing
    ///   the relations;
    /// - [`FactoryError::UnknownAttribute`] / [`FactoryError::UnknownAssociation`]
    ///   for a name the relation lacks, listing what it has;
    /// - [`FactoryError::UnknownTrait`] for a trait including one that does
    ///   not exist; [`FactoryError::Invalid`] for traits including each
    ///   other, a trait defined inside a trait, a many-to-many association,
    ///   a count on a belongs-to.
    pub fn define(
        &mut self,
        name: &str,
        relation: &str,
        body: impl FnOnce(&mut FactoryBuilder),
    ) -> Result<&mut Self> {
        self.add(name, relation, None, body)
    }

    /// Defines factory `name` as a child of `parent` (rom-factory's
    /// `define(with_post: :company)`): it starts with the parent's
    /// attributes, associations and traits (sequences shared with the
    /// parent), writes to the parent's relation, and `body` adds or
    /// replaces what differs.
    ///
    /// # Errors
    ///
    /// [`FactoryError::UnknownFactory`] for an undefined parent; as
    /// [`Factories::define`].
    pub fn define_child(
        &mut self,
        name: &str,
        parent: &str,
        body: impl FnOnce(&mut FactoryBuilder),
    ) -> Result<&mut Self> {
        let relation = self.definition(parent)?.relation.clone();
        self.add(name, &relation, Some(parent), body)
    }

    fn add(
        &mut self,
        name: &str,
        relation: &str,
        parent: Option<&str>,
        body: impl FnOnce(&mut FactoryBuilder),
    ) -> Result<&mut Self> {
        if self.definitions.contains_key(name) {
            return Err(FactoryError::AlreadyDefined {
                name: name.to_string(),
            }
            .into());
        }
        let schema_relation = self.container.relation(relation)?;
        let mut builder = FactoryBuilder::new(name);
        body(&mut builder);
        if !builder.errors.is_empty() {
            return Err(FactoryError::invalid(name, builder.errors.join("; ")));
        }
        let (mut own_body, mut traits) = match parent {
            Some(p) => {
                let parent = self.definition(p)?;
                (parent.body.clone(), parent.traits.clone())
            }
            None => Default::default(),
        };
        own_body.merge(&builder.body);
        traits.extend(builder.traits);
        let definition = Definition {
            name: name.to_string(),
            relation: relation.to_string(),
            parent: parent.map(str::to_string),
            body: own_body,
            traits,
        };
        definition.check(schema_relation.schema())?;
        self.definitions
            .insert(name.to_string(), Arc::new(definition));
        Ok(self)
    }

    pub(crate) fn definition(&self, name: &str) -> Result<&Arc<Definition>> {
        self.definitions.get(name).ok_or_else(|| {
            FactoryError::UnknownFactory {
                name: name.to_string(),
                known: self.definitions.keys().cloned().collect(),
            }
            .into()
        })
    }

    /// The next row number of factory `name` in this registry.
    pub(crate) fn next_build(&self, name: &str) -> u64 {
        let mut builds = self
            .shared
            .builds
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let n = builds.entry(name.to_string()).or_insert(0);
        let current = *n;
        *n += 1;
        current
    }

    /// The defined factories' names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.definitions.keys().map(String::as_str).collect()
    }

    /// Whether factory `name` is defined.
    pub fn contains(&self, name: &str) -> bool {
        self.definitions.contains_key(name)
    }

    /// The relation factory `name` writes to.
    ///
    /// # Errors
    ///
    /// [`FactoryError::UnknownFactory`] listing the factories.
    pub fn relation_of(&self, name: &str) -> Result<&str> {
        Ok(&self.definition(name)?.relation)
    }

    /// The parent factory `name` was defined as a child of, if any.
    ///
    /// # Errors
    ///
    /// [`FactoryError::UnknownFactory`] listing the factories.
    pub fn parent_of(&self, name: &str) -> Result<Option<&str>> {
        Ok(self.definition(name)?.parent.as_deref())
    }

    /// The traits of factory `name` (its parent's included), sorted.
    ///
    /// # Errors
    ///
    /// [`FactoryError::UnknownFactory`] listing the factories.
    pub fn traits(&self, name: &str) -> Result<Vec<&str>> {
        Ok(self
            .definition(name)?
            .traits
            .keys()
            .map(String::as_str)
            .collect())
    }

    /// A call of factory `name` to refine (traits, overrides, a
    /// transaction) and then build or create.
    pub fn request(&self, name: &str) -> Request<'_> {
        Request {
            factories: self,
            name: name.to_string(),
            traits: Vec::new(),
            overrides: Overrides::new(),
            transaction: None,
        }
    }

    /// Creates a row of factory `name` (rom-factory's `Factory[:name,
    /// **overrides]`) with its associations, and returns it as persisted,
    /// associations nested.
    ///
    /// # Errors
    ///
    /// Before anything is written: [`FactoryError::UnknownFactory`],
    /// [`FactoryError::UnknownOverride`] (listing attributes and
    /// associations), [`FactoryError::InvalidOverride`], an attribute
    /// closure's error. Then the create commands' errors
    /// ([`Error::Unique`](crate::Error::Unique),
    /// [`Error::NotNull`](crate::Error::NotNull), ...); several rows are
    /// written in one transaction, so none of them is left.
    pub async fn create(&self, name: &str, overrides: impl Into<Overrides>) -> Result<Row> {
        self.request(name).overrides(overrides).create().await
    }

    /// [`Factories::create`] with traits, applied in the order given
    /// (`create_with_traits("post", &["with_error", "search_engine"], ())`).
    ///
    /// # Errors
    ///
    /// [`FactoryError::UnknownTrait`] listing the factory's traits; as
    /// [`Factories::create`].
    pub async fn create_with_traits<S: AsRef<str>>(
        &self,
        name: &str,
        traits: &[S],
        overrides: impl Into<Overrides>,
    ) -> Result<Row> {
        self.request(name)
            .traits(traits)
            .overrides(overrides)
            .create()
            .await
    }

    /// [`Factories::create`], read as a typed struct (nested associations
    /// fill fields of their names: `Company { posts: Vec<Post>, .. }`).
    ///
    /// # Errors
    ///
    /// As [`Factories::create`]; [`Error::InvalidInput`](crate::Error::InvalidInput)
    /// when the row does not deserialize into `T` (it is created all the
    /// same).
    pub async fn create_as<T: DeserializeOwned>(
        &self,
        name: &str,
        overrides: impl Into<Overrides>,
    ) -> Result<T> {
        self.request(name).overrides(overrides).create_as().await
    }

    /// Creates `count` rows of factory `name`, one after the other.
    ///
    /// # Errors
    ///
    /// As [`Factories::create`]; the rows created before a failure stay.
    pub async fn create_list(
        &self,
        name: &str,
        count: usize,
        overrides: impl Into<Overrides>,
    ) -> Result<Vec<Row>> {
        self.request(name)
            .overrides(overrides)
            .create_list(count)
            .await
    }

    /// Builds a row of factory `name` in memory (rom-factory's
    /// `Factory.structs[:name]`): no statement runs. Primary keys come from
    /// a sequence, belongs-to parents and has-many children are built in
    /// memory and nested, and the plugins of the relation's `create`
    /// command run on the attributes (a built post has its timestamps).
    ///
    /// # Errors
    ///
    /// As [`Factories::create`] before anything is written.
    pub fn build(&self, name: &str, overrides: impl Into<Overrides>) -> Result<Row> {
        self.request(name).overrides(overrides).build()
    }

    /// [`Factories::build`] with traits.
    ///
    /// # Errors
    ///
    /// As [`Factories::build`]; [`FactoryError::UnknownTrait`].
    pub fn build_with_traits<S: AsRef<str>>(
        &self,
        name: &str,
        traits: &[S],
        overrides: impl Into<Overrides>,
    ) -> Result<Row> {
        self.request(name)
            .traits(traits)
            .overrides(overrides)
            .build()
    }

    /// [`Factories::build`], as a typed struct.
    ///
    /// # Errors
    ///
    /// As [`Factories::build`]; [`Error::InvalidInput`](crate::Error::InvalidInput)
    /// when the row does not deserialize into `T`.
    pub fn build_as<T: DeserializeOwned>(
        &self,
        name: &str,
        overrides: impl Into<Overrides>,
    ) -> Result<T> {
        self.request(name).overrides(overrides).build_as()
    }
}

/// One call of a factory, refined step by step, then built or created:
///
/// ```no_run
/// # async fn demo(factories: &ferrom::factory::Factories, tx: &ferrom::Transaction) -> ferrom::Result<()> {
/// let post = factories
///     .request("post")
///     .traits(["with_error"])
///     .set("se_post", true)
///     .in_transaction(tx)
///     .create()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Request<'f> {
    factories: &'f Factories,
    name: String,
    traits: Vec<String>,
    overrides: Overrides,
    transaction: Option<Transaction>,
}

impl Request<'_> {
    /// Applies these traits (after any named before), in order.
    #[must_use]
    pub fn traits<I, S>(mut self, traits: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.traits
            .extend(traits.into_iter().map(|t| t.as_ref().to_string()));
        self
    }

    /// Overrides `name` (an attribute or association) with `value`.
    #[must_use]
    pub fn set(mut self, name: &str, value: impl Into<crate::Value>) -> Self {
        self.overrides = self.overrides.set(name, value);
        self
    }

    /// Gives the belongs-to association `name`'s parent as a row.
    #[must_use]
    pub fn row(mut self, name: &str, row: Row) -> Self {
        self.overrides = self.overrides.row(name, row);
        self
    }

    /// Adds these overrides (replacing earlier ones of the same names).
    #[must_use]
    pub fn overrides(mut self, overrides: impl Into<Overrides>) -> Self {
        for (name, value) in overrides.into().iter() {
            self.overrides = match value {
                Override::Value(v) => self.overrides.set(name, v.clone()),
                Override::Row(r) => self.overrides.row(name, r.clone()),
            };
        }
        self
    }

    /// Creates in the caller's transaction (and leaves committing to it).
    #[must_use]
    pub fn in_transaction(mut self, tx: &Transaction) -> Self {
        self.transaction = Some(tx.clone());
        self
    }

    /// Builds the row in memory (see [`Factories::build`]).
    ///
    /// # Errors
    ///
    /// As [`Factories::build`].
    pub fn build(&self) -> Result<Row> {
        let node = self
            .factories
            .plan(&self.name, &self.traits, &self.overrides, None, 0)?;
        self.factories.build_node(node)
    }

    /// Builds the row in memory, as a typed struct.
    ///
    /// # Errors
    ///
    /// As [`Factories::build_as`].
    pub fn build_as<T: DeserializeOwned>(&self) -> Result<T> {
        build::typed(&self.name, &self.build()?)
    }

    /// Builds `count` rows in memory.
    ///
    /// # Errors
    ///
    /// As [`Factories::build`].
    pub fn build_list(&self, count: usize) -> Result<Vec<Row>> {
        (0..count).map(|_| self.build()).collect()
    }

    /// Creates the row (see [`Factories::create`]).
    ///
    /// # Errors
    ///
    /// As [`Factories::create`].
    pub async fn create(&self) -> Result<Row> {
        let node = self
            .factories
            .plan(&self.name, &self.traits, &self.overrides, None, 0)?;
        self.factories
            .create_planned(node, self.transaction.as_ref())
            .await
    }

    /// Creates the row, as a typed struct.
    ///
    /// # Errors
    ///
    /// As [`Factories::create_as`].
    pub async fn create_as<T: DeserializeOwned>(&self) -> Result<T> {
        build::typed(&self.name, &self.create().await?)
    }

    /// Creates `count` rows, one after the other.
    ///
    /// # Errors
    ///
    /// As [`Factories::create_list`].
    pub async fn create_list(&self, count: usize) -> Result<Vec<Row>> {
        let mut rows = Vec::with_capacity(count);
        for _ in 0..count {
            rows.push(self.create().await?);
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Factories>();
        check::<Request<'_>>();
        check::<FactoryError>();
    }
}
