//! [`CommandDefinition`]: a command as registered (ROM's command class:
//! `relation`, `register_as`, `result`, `use :timestamps`).

use std::fmt;
use std::sync::Arc;

use super::plugin::Plugin;

/// What a command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CommandKind {
    /// `INSERT` one or many rows; returns them as persisted.
    Create,
    /// `UPDATE` the rows of the (restricted) relation; returns them as
    /// persisted.
    Update,
    /// `DELETE` the rows of the (restricted) relation; returns them as they
    /// were.
    Delete,
    /// `INSERT ... ON DUPLICATE KEY UPDATE`: inserts, or updates the row a
    /// unique key collides with; returns the resulting rows.
    Upsert,
    /// Inserts, or keeps the row a unique key collides with unchanged;
    /// returns the resulting rows (without `INSERT IGNORE`, which would
    /// turn other errors into warnings).
    InsertOrIgnore,
}

impl CommandKind {
    /// The kind's name (`create`, `update`, `delete`, `upsert`,
    /// `insert_or_ignore`).
    pub fn name(self) -> &'static str {
        match self {
            CommandKind::Create => "create",
            CommandKind::Update => "update",
            CommandKind::Delete => "delete",
            CommandKind::Upsert => "upsert",
            CommandKind::InsertOrIgnore => "insert_or_ignore",
        }
    }

    /// Whether the command inserts rows (create, upsert, insert-or-ignore).
    pub fn inserts(self) -> bool {
        matches!(
            self,
            CommandKind::Create | CommandKind::Upsert | CommandKind::InsertOrIgnore
        )
    }
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a command returns (ROM's `result :one | :many`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ResultKind {
    /// The first row, or none.
    One,
    /// Every row (ROM's default).
    #[default]
    Many,
    /// No rows, only how many were written: a create inserts in one
    /// `INSERT` per batch and reads nothing back, an update or delete sends
    /// no `SELECT` to return rows (bulk imports, purges). Not for upserts,
    /// whose count would mix inserted and updated rows.
    Count,
}

/// A command as registered: its relation, the name it is registered as,
/// its kind, its result and its plugins. Register it with
/// [`Configuration::register_command`](crate::Configuration::register_command);
/// finalizing checks it against the relation's schema.
///
/// ```
/// use ferrom::command::{CommandDefinition, ResultKind, Timestamps};
///
/// let create = CommandDefinition::create("companies", "create")
///     .result(ResultKind::One)
///     .plugin(Timestamps::new(["created_at", "updated_at"]));
/// assert_eq!(create.relation(), "companies");
/// assert_eq!(create.name(), "create");
/// assert_eq!(create.result_kind(), ResultKind::One);
/// ```
#[derive(Clone)]
pub struct CommandDefinition {
    pub(crate) relation: String,
    pub(crate) name: String,
    pub(crate) kind: CommandKind,
    pub(crate) result: ResultKind,
    pub(crate) plugins: Vec<Arc<dyn Plugin>>,
    pub(crate) update_columns: Option<Vec<String>>,
}

impl fmt::Debug for CommandDefinition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandDefinition")
            .field("relation", &self.relation)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("result", &self.result)
            .field("plugins", &self.plugins)
            .field("update_columns", &self.update_columns)
            .finish()
    }
}

impl CommandDefinition {
    /// A command of `kind` on `relation`, registered as `name`, returning
    /// many rows and using no plugin.
    pub fn new(kind: CommandKind, relation: &str, name: &str) -> CommandDefinition {
        CommandDefinition {
            relation: relation.to_string(),
            name: name.to_string(),
            kind,
            result: ResultKind::default(),
            plugins: Vec::new(),
            update_columns: None,
        }
    }

    /// A create command.
    pub fn create(relation: &str, name: &str) -> CommandDefinition {
        CommandDefinition::new(CommandKind::Create, relation, name)
    }

    /// An update command.
    pub fn update(relation: &str, name: &str) -> CommandDefinition {
        CommandDefinition::new(CommandKind::Update, relation, name)
    }

    /// A delete command.
    pub fn delete(relation: &str, name: &str) -> CommandDefinition {
        CommandDefinition::new(CommandKind::Delete, relation, name)
    }

    /// An upsert command (`INSERT ... ON DUPLICATE KEY UPDATE`). On a
    /// collision it updates every attribute the input gives except the
    /// primary key's, unless [`CommandDefinition::update_columns`] says
    /// which. With a timestamps plugin stamping `created_at`, name the
    /// columns to update so that a collision does not restamp it.
    pub fn upsert(relation: &str, name: &str) -> CommandDefinition {
        CommandDefinition::new(CommandKind::Upsert, relation, name)
    }

    /// An insert-or-ignore command: a row whose unique key collides with an
    /// existing row is not inserted, and the existing row is returned.
    pub fn insert_or_ignore(relation: &str, name: &str) -> CommandDefinition {
        CommandDefinition::new(CommandKind::InsertOrIgnore, relation, name)
    }

    /// Returns one row or many.
    #[must_use]
    pub fn result(mut self, result: ResultKind) -> CommandDefinition {
        self.result = result;
        self
    }

    /// Uses a plugin; plugins run in the order added.
    #[must_use]
    pub fn plugin(mut self, plugin: impl Plugin + 'static) -> CommandDefinition {
        self.plugins.push(Arc::new(plugin));
        self
    }

    /// For an upsert: the attributes a collision updates (checked at
    /// finalize). An attribute a row does not give is updated to its
    /// default.
    #[must_use]
    pub fn update_columns<I, S>(mut self, columns: I) -> CommandDefinition
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.update_columns = Some(
            columns
                .into_iter()
                .map(|c| c.as_ref().to_string())
                .collect(),
        );
        self
    }

    /// The relation it writes to.
    pub fn relation(&self) -> &str {
        &self.relation
    }

    /// The name it is registered as.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it does.
    pub fn kind(&self) -> CommandKind {
        self.kind
    }

    /// What it returns.
    pub fn result_kind(&self) -> ResultKind {
        self.result
    }

    /// Its plugins, in the order they run.
    pub fn plugins(&self) -> &[Arc<dyn Plugin>] {
        &self.plugins
    }
}
