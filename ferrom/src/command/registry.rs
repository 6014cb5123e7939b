//! Resolving command definitions at finalize, and reaching the resolved
//! commands from a relation (`relation.command("create")`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Command;
use super::definition::{CommandDefinition, CommandKind, ResultKind};
use super::plugin::CommandContext;
use crate::error::{Error, Result};
use crate::relation::Relation;
use crate::row::Columns;
use crate::schema::Schema;

/// Every relation's registry, by relation name; shared by all relations of
/// a container.
pub(crate) type CommandRegistries = BTreeMap<String, Arc<CommandRegistry>>;

/// The commands of one relation, checked against its schema, and what
/// every call shares.
#[derive(Debug)]
pub(crate) struct CommandRegistry {
    /// The definitions, by registered name.
    pub(crate) definitions: BTreeMap<String, Arc<CommandDefinition>>,
    /// Every attribute, in table order: the columns of returned rows.
    pub(crate) columns: Arc<Columns>,
    /// The server's auto-increment settings, read once when a multi-row
    /// insert on a server without `RETURNING` needs them.
    pub(crate) autoinc: tokio::sync::OnceCell<AutoIncrement>,
}

/// How the server hands out auto-increment values.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AutoIncrement {
    /// `@@innodb_autoinc_lock_mode`: below 2, the ids of one multi-row
    /// `INSERT` are consecutive.
    pub(crate) lock_mode: i64,
    /// `@@auto_increment_increment`: the step between them.
    pub(crate) increment: u64,
}

impl CommandRegistry {
    /// An empty registry for a relation with no commands.
    pub(crate) fn empty(schema: &Schema) -> CommandRegistry {
        CommandRegistry {
            definitions: BTreeMap::new(),
            columns: Columns::for_schema(schema),
            autoinc: tokio::sync::OnceCell::new(),
        }
    }
}

/// Checks every definition against its relation's schema and groups them
/// by relation; every relation gets a registry.
///
/// # Errors
///
/// [`Error::InvalidCommand`] naming the command and relation: an
/// unregistered relation, an update on a relation without a primary key,
/// `update_columns` on a command that is not an upsert or naming an
/// attribute the relation lacks; and whatever a plugin's
/// [`check`](super::Plugin::check) returns.
pub(crate) fn resolve(
    definitions: &[CommandDefinition],
    schemas: &BTreeMap<String, Arc<Schema>>,
) -> Result<Arc<CommandRegistries>> {
    let mut registries: BTreeMap<String, CommandRegistry> = schemas
        .iter()
        .map(|(name, schema)| (name.clone(), CommandRegistry::empty(schema)))
        .collect();
    for def in definitions {
        let invalid = |reason: String| Error::InvalidCommand {
            relation: def.relation.clone(),
            command: def.name.clone(),
            reason,
        };
        let Some(schema) = schemas.get(&def.relation) else {
            return Err(invalid(format!(
                "its relation is not registered; relations: {}",
                schemas.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        };
        if def.kind == CommandKind::Update && schema.primary_key_names().is_empty() {
            return Err(invalid(format!(
                "table `{}` has no primary key, which an update needs to return the rows it updated",
                schema.table()
            )));
        }
        if def.result == ResultKind::Count
            && matches!(def.kind, CommandKind::Upsert | CommandKind::InsertOrIgnore)
        {
            return Err(invalid(format!(
                "result Count is for create, update and delete commands; a {}'s count would mix inserted and kept or updated rows, so register it with result One or Many",
                def.kind
            )));
        }
        if let Some(columns) = &def.update_columns {
            if def.kind != CommandKind::Upsert {
                return Err(invalid(format!(
                    "update_columns is for upsert commands, and this one is a {}",
                    def.kind
                )));
            }
            for column in columns {
                let attribute = schema.attribute(column).ok_or_else(|| {
                    invalid(format!(
                        "update_columns names `{column}`, which the relation does not have; attributes: {}",
                        schema.attribute_names().join(", ")
                    ))
                })?;
                if attribute.generated {
                    return Err(invalid(format!(
                        "update_columns names `{column}`, which the database generates"
                    )));
                }
            }
        }
        let ctx = CommandContext::new(&def.relation, &def.name, def.kind, schema);
        for plugin in &def.plugins {
            plugin.check(&ctx)?;
        }
        if let Some(registry) = registries.get_mut(&def.relation) {
            registry
                .definitions
                .insert(def.name.clone(), Arc::new(def.clone()));
        }
    }
    Ok(Arc::new(
        registries
            .into_iter()
            .map(|(k, v)| (k, Arc::new(v)))
            .collect(),
    ))
}

impl Relation {
    /// The command registered as `name` for this relation, acting on this
    /// relation as restricted (ROM's `relation.command(:update)`):
    /// `posts.by_pk(1).command("update")` updates post 1 only. Its
    /// statements run where the relation's do (the pool, or a
    /// transaction's connection).
    ///
    /// ```no_run
    /// # async fn demo(container: &ferrom::Container) -> ferrom::Result<()> {
    /// let companies = container.relation("companies")?;
    /// let created = companies
    ///     .command("create")?
    ///     .call([("name", "My 1st Company"), ("domain", "http://example.com")])
    ///     .await?;
    /// println!("{:?}", created.one());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::UnknownCommand`] listing the relation's commands.
    pub fn command(&self, name: &str) -> Result<Command> {
        let registry = self.command_registry();
        let definition = registry
            .as_ref()
            .and_then(|r| r.definitions.get(name))
            .ok_or_else(|| Error::UnknownCommand {
                relation: self.name().to_string(),
                command: name.to_string(),
                known: self.command_names(),
            })?;
        let registry = registry
            .cloned()
            .unwrap_or_else(|| Arc::new(CommandRegistry::empty(self.schema())));
        Ok(Command::new(definition.clone(), self.clone(), registry))
    }

    /// Every command registered for this relation, by name, acting on this
    /// relation as restricted.
    pub fn commands(&self) -> BTreeMap<String, Command> {
        let Some(registry) = self.command_registry() else {
            return BTreeMap::new();
        };
        registry
            .definitions
            .iter()
            .map(|(name, def)| {
                (
                    name.clone(),
                    Command::new(def.clone(), self.clone(), registry.clone()),
                )
            })
            .collect()
    }

    /// The names of the commands registered for this relation.
    pub fn command_names(&self) -> Vec<String> {
        self.command_registry()
            .map(|r| r.definitions.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn command_registry(&self) -> Option<&Arc<CommandRegistry>> {
        self.command_registries().get(self.name())
    }
}
