//! The configuration: gateways and relation definitions registered
//! explicitly, before [`Configuration::finalize`] turns them into a
//! [`Container`](super::Container).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::Result;
use crate::command::CommandDefinition;
use crate::relation::{Relation, View};
use crate::schema::{Association, Attribute};
use crate::settings::{DbSettings, Settings};
use crate::value::Value;

/// The name of the gateway relations use unless they name another.
pub const DEFAULT_GATEWAY: &str = "default";

/// A relation as registered: its name, table, gateway, declared attributes
/// (overriding inference), associations and views.
///
/// ```
/// use ferrom::{Association, Attribute, RelationDefinition, Type};
///
/// let posts = RelationDefinition::new("posts")
///     .attribute(Attribute::new("stats", Type::Json))
///     .association(Association::belongs_to("company"))
///     .view("by_url", 1, |posts, args| Ok(posts.filter(("url", args[0].clone()))));
/// assert_eq!(posts.name(), "posts");
/// ```
#[derive(Clone)]
pub struct RelationDefinition {
    pub(crate) name: String,
    pub(crate) table: String,
    pub(crate) gateway: String,
    pub(crate) attributes: Vec<Attribute>,
    pub(crate) associations: Vec<Association>,
    pub(crate) views: BTreeMap<String, (usize, View)>,
}

impl std::fmt::Debug for RelationDefinition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelationDefinition")
            .field("name", &self.name)
            .field("table", &self.table)
            .field("gateway", &self.gateway)
            .field("attributes", &self.attributes)
            .field("associations", &self.associations)
            .field("views", &self.views.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl RelationDefinition {
    /// A relation over the table of the same name, on the default gateway,
    /// with its schema inferred.
    pub fn new(name: &str) -> Self {
        RelationDefinition {
            name: name.to_string(),
            table: name.to_string(),
            gateway: DEFAULT_GATEWAY.to_string(),
            attributes: Vec::new(),
            associations: Vec::new(),
            views: BTreeMap::new(),
        }
    }

    /// The relation's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads another table than the relation's name.
    #[must_use]
    pub fn table(mut self, table: &str) -> Self {
        self.table = table.to_string();
        self
    }

    /// Reads through another gateway than `default`.
    #[must_use]
    pub fn gateway(mut self, gateway: &str) -> Self {
        self.gateway = gateway.to_string();
        self
    }

    /// Declares an attribute's type, overriding inference.
    #[must_use]
    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.retain(|a| a.name != attribute.name);
        self.attributes.push(attribute);
        self
    }

    /// Declares an association.
    #[must_use]
    pub fn association(mut self, association: Association) -> Self {
        self.associations.retain(|a| a.name != association.name);
        self.associations.push(association);
        self
    }

    /// Registers a view: a function of the relation and `arity` arguments
    /// returning a relation (the reference's `by_url(url)`). Reachable by
    /// name through [`Relation::view`] and from the console; the call checks
    /// the number of arguments before the function runs.
    #[must_use]
    pub fn view<F>(mut self, name: &str, arity: usize, view: F) -> Self
    where
        F: Fn(&Relation, &[Value]) -> Result<Relation> + Send + Sync + 'static,
    {
        self.views.insert(name.to_string(), (arity, Arc::new(view)));
        self
    }
}

/// Gateways and relations, registered explicitly, then finalized into the
/// container (the article's `MAIN_CONTAINER`).
///
/// ```no_run
/// # async fn demo(settings: ferrom::Settings) -> ferrom::Result<()> {
/// use ferrom::{Configuration, RelationDefinition};
///
/// let mut config = Configuration::new(&settings);
/// config.register_relation(RelationDefinition::new("companies"));
/// let container = config.finalize().await?;
/// println!("{}", container.relation("companies")?.count().await?);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Configuration {
    pub(crate) gateways: BTreeMap<String, DbSettings>,
    pub(crate) relations: Vec<RelationDefinition>,
    pub(crate) commands: Vec<CommandDefinition>,
}

impl Configuration {
    /// A configuration whose `default` gateway is the settings' database.
    pub fn new(settings: &Settings) -> Self {
        Configuration::with_default_gateway(settings.db.clone())
    }

    /// A configuration whose `default` gateway is this database.
    pub fn with_default_gateway(db: DbSettings) -> Self {
        let mut gateways = BTreeMap::new();
        gateways.insert(DEFAULT_GATEWAY.to_string(), db);
        Configuration {
            gateways,
            relations: Vec::new(),
            commands: Vec::new(),
        }
    }

    /// Adds (or replaces) a named gateway.
    pub fn add_gateway(&mut self, name: &str, db: DbSettings) -> &mut Self {
        self.gateways.insert(name.to_string(), db);
        self
    }

    /// Registers a relation (replacing one of the same name).
    pub fn register_relation(&mut self, relation: RelationDefinition) -> &mut Self {
        self.relations.retain(|r| r.name != relation.name);
        self.relations.push(relation);
        self
    }

    /// The registered relation definitions.
    pub fn relations(&self) -> &[RelationDefinition] {
        &self.relations
    }

    /// Registers a command (replacing one registered under the same name
    /// for the same relation). Finalize checks it against its relation's
    /// schema.
    pub fn register_command(&mut self, command: CommandDefinition) -> &mut Self {
        self.commands
            .retain(|c| !(c.relation == command.relation && c.name == command.name));
        self.commands.push(command);
        self
    }

    /// The registered command definitions.
    pub fn commands(&self) -> &[CommandDefinition] {
        &self.commands
    }
}
