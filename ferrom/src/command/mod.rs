//! Commands: the write side (ROM's commands).
//!
//! A command is defined explicitly ([`CommandDefinition`]: relation,
//! registered name, kind, result, plugins), registered with the
//! configuration and checked at finalize. It is reached through the
//! relation it writes to, restricted as that relation is:
//!
//! ```no_run
//! # async fn demo(container: &ferrom::Container) -> ferrom::Result<()> {
//! use ferrom::command::Tuple;
//!
//! let companies = container.relation("companies")?;
//! let company = companies
//!     .command("create")?
//!     .call([("name", "My 1st Company"), ("domain", "http://example.com")])
//!     .await?
//!     .into_one();
//! println!("{company:?}"); // id, state "running" and the timestamps, as stored
//!
//! let posts = container.relation("posts")?;
//! posts.by_pk(1).command("update")?.call([("error", "timeout")]).await?;
//! container.command("posts", "delete")?.call(()).await?; // every post
//! # Ok(()) }
//! ```
//!
//! Every call checks its input against the schema before anything is
//! written (an unknown attribute lists the relation's attributes; values
//! are converted to the attribute's type only when that is lossless and
//! unambiguous), runs the plugins' `before` hooks, writes, and returns the
//! rows as persisted (create, update, upsert: re-read from the database,
//! ids and defaults included) or as they were (delete). Statements run
//! where the relation's do: the pool, or a transaction's connection. A
//! command that needs several statements runs them in a transaction of its
//! own (a savepoint inside the caller's), so it writes all or nothing.
//!
//! | kind | MariaDB | MySQL |
//! |---|---|---|
//! | create | `INSERT ... RETURNING` per batch | `INSERT`, then `SELECT` by key |
//! | update by primary key | `UPDATE`, `SELECT` | the same |
//! | update | `SELECT pk ... FOR UPDATE`, `UPDATE`, `SELECT` | the same |
//! | delete | `DELETE ... RETURNING` | `SELECT ... FOR UPDATE`, `DELETE` |
//! | upsert, insert-or-ignore | `INSERT ... ON DUPLICATE KEY UPDATE`, `SELECT` by key | the same |

mod atomic;
mod check;
mod convert;
mod create;
mod definition;
mod delete;
mod input;
mod keys;
mod output;
mod plugin;
mod registry;
mod statement;
mod timestamps;
mod update;
mod upsert;

pub use definition::{CommandDefinition, CommandKind, ResultKind};
pub use input::{Input, Tuple};
pub use output::CommandOutput;
pub use plugin::{CommandContext, Plugin};
pub(crate) use registry::{CommandRegistries, CommandRegistry, resolve};
pub use timestamps::Timestamps;

use std::fmt;
use std::sync::Arc;

use sqlx::mysql::{MySqlQueryResult, MySqlRow};

use crate::error::{Error, Result};
use crate::exec::{Inserted, Sql, Statement};
use crate::gateway::Capabilities;
use crate::relation::Relation;
use crate::row::{Row, decode_row};
use crate::value::Value;
use statement::Insert;

/// A registered command, bound to the relation it writes to (as
/// restricted) and to where that relation's statements run.
///
/// Get one from [`Relation::command`] or
/// [`Container::command`](crate::Container::command); call it with
/// [`Command::call`]. Cloning is cheap.
#[derive(Clone)]
pub struct Command {
    definition: Arc<CommandDefinition>,
    relation: Relation,
    registry: Arc<CommandRegistry>,
    capabilities: Capabilities,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("relation", &self.relation.name())
            .field("name", &self.definition.name)
            .field("kind", &self.definition.kind)
            .field("result", &self.definition.result)
            .finish()
    }
}

impl Command {
    pub(crate) fn new(
        definition: Arc<CommandDefinition>,
        relation: Relation,
        registry: Arc<CommandRegistry>,
    ) -> Command {
        let capabilities = *relation.gateway().capabilities();
        Command {
            definition,
            relation,
            registry,
            capabilities,
        }
    }

    /// The name it is registered as.
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// What it does.
    pub fn kind(&self) -> CommandKind {
        self.definition.kind
    }

    /// What it returns.
    pub fn result_kind(&self) -> ResultKind {
        self.definition.result
    }

    /// Its definition.
    pub fn definition(&self) -> &CommandDefinition {
        &self.definition
    }

    /// The relation it writes to, as restricted.
    pub fn relation(&self) -> &Relation {
        &self.relation
    }

    /// The command acting on the relation `restrict` returns (ROM's
    /// restrictable commands: `delete.restrict(|posts| posts.by_pk(1))`).
    /// Conditions accumulate with the relation's own.
    #[must_use]
    pub fn restrict(&self, restrict: impl FnOnce(&Relation) -> Relation) -> Command {
        let mut next = self.clone();
        next.relation = restrict(&self.relation);
        next
    }

    /// The command acting on the row with this primary key only.
    #[must_use]
    pub fn by_pk(&self, key: impl Into<Value>) -> Command {
        self.restrict(|r| r.by_pk(key))
    }

    /// The command writing as if the server had these capabilities (a
    /// server without `RETURNING`, say). For testing the MySQL statements
    /// on MariaDB; capabilities the server lacks make its statements fail.
    #[doc(hidden)]
    #[must_use]
    pub fn with_capabilities(&self, capabilities: Capabilities) -> Command {
        let mut next = self.clone();
        next.capabilities = capabilities;
        next
    }

    /// Runs the command with `input`: a tuple for create, update and
    /// upsert (anything [`Input`] converts from: `[("name", "Acme")]`, a
    /// `Vec<(String, Value)>`, a [`Row`], [`Input::from_serde`]), many
    /// tuples for create and upsert ([`Input::many`]), `()` for delete.
    ///
    /// The input is checked against the relation's schema and converted to
    /// the attribute types, the plugins' `before` hooks run, then the
    /// statements; the rows written (or deleted) come back, after the
    /// plugins' `after` hooks, as one row or many as the definition says.
    ///
    /// # Errors
    ///
    /// Before anything is written:
    /// - [`Error::UnknownAttribute`] listing the relation's attributes;
    /// - [`Error::TypeMismatch`] naming the attribute, the expected and the
    ///   given type; [`Error::DataTooLong`] for a string over its column's
    ///   length;
    /// - [`Error::NotNull`] for NULL into (or no value for) a NOT NULL
    ///   attribute without a default;
    /// - [`Error::InvalidInput`] / [`Error::InvalidCommand`] for input the
    ///   command cannot take (several tuples for an update, a tuple for a
    ///   delete, a generated attribute);
    /// - a plugin's error; a builder error the relation kept.
    ///
    /// From the server, classified and naming the relation:
    /// [`Error::NotNull`], [`Error::Unique`], [`Error::ForeignKey`],
    /// [`Error::Check`], [`Error::DataTooLong`], [`Error::Deadlock`], ...
    /// A command of several statements then has written nothing.
    pub async fn call(&self, input: impl Into<Input>) -> Result<CommandOutput> {
        let written = self.run(input.into()).await?;
        Ok(self.output(written))
    }

    /// Runs the command over many tuples, taken from `tuples` as it
    /// writes: a bulk load that never holds all its rows.
    ///
    /// A create checks each few tuples as the iterator yields them, runs
    /// the plugins over them, encodes their values into the statement
    /// being built, and drops them; a statement is sent when it holds as
    /// many values as MySQL's 65,535 placeholders allow, or the tuples run
    /// out. Memory stays at one statement's encoded values (and the rows a
    /// result other than [`ResultKind::Count`] returns), however many
    /// tuples there are. When there is more than one statement, they run
    /// in one transaction (a savepoint inside the caller's), begun before
    /// the first is sent: a tuple that fails its check, or a statement
    /// that fails, writes nothing. The result is what [`Command::call`]
    /// with [`Input::many`] returns.
    ///
    /// It streams a create whose plugins all
    /// [take chunks](Plugin::takes_chunks) (as [`Timestamps`] does) on a
    /// server with `INSERT ... RETURNING`, or with result `Count`
    /// anywhere. Otherwise (an upsert, a plugin that must see every tuple,
    /// rows re-read by key on MySQL) it collects the tuples and runs as
    /// [`Command::call`] does.
    ///
    /// ```no_run
    /// # async fn demo(container: &ferrom::Container) -> ferrom::Result<()> {
    /// use ferrom::command::Tuple;
    /// use ferrom::Value;
    ///
    /// let import = container.command("posts", "import")?; // result Count
    /// let posts = (0..100_000).map(|n| {
    ///     Tuple::from([
    ///         ("url", Value::from(format!("https://example.com/{n}"))),
    ///         ("company_id", Value::from(1)),
    ///     ])
    /// });
    /// let written = import.call_many(posts).await?;
    /// assert_eq!(written.len(), 100_000);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Command::call`].
    pub async fn call_many<I>(&self, tuples: I) -> Result<CommandOutput>
    where
        I: IntoIterator,
        I::Item: Into<Tuple>,
        I::IntoIter: Send,
    {
        let definition = &self.definition;
        let streams = definition.kind == CommandKind::Create
            && definition.plugins.iter().all(|p| p.takes_chunks())
            && (definition.result == ResultKind::Count || self.capabilities.insert_returning);
        if !streams {
            return self.call(Input::many(tuples)).await;
        }
        let ctx = self.context();
        let mut ready =
            check::Chunked::new(ctx, &definition.plugins, tuples.into_iter().map(Into::into));
        let raw = if definition.result == ResultKind::Count {
            Raw::Count(create::create_count(self, &mut ready).await?)
        } else {
            Raw::Rows(create::create_returning(self, &mut ready).await?)
        };
        let written = self.after(&ctx, raw)?;
        Ok(self.output(written))
    }

    /// What a call returns, as the definition's result says.
    fn output(&self, written: Written) -> CommandOutput {
        match written {
            Written::Count(n) => CommandOutput::Count(n),
            Written::Rows(rows) if self.definition.result == ResultKind::One => {
                CommandOutput::One(rows.into_iter().next())
            }
            Written::Rows(rows) => CommandOutput::Many(rows),
        }
    }

    /// The context of a call starting now.
    fn context(&self) -> CommandContext<'_> {
        CommandContext::new(
            self.relation.name(),
            &self.definition.name,
            self.definition.kind,
            self.relation.schema(),
        )
    }

    async fn run(&self, input: Input) -> Result<Written> {
        let definition = &self.definition;
        let ctx = self.context();
        let mut tuples = input.into_tuples();
        match definition.kind {
            CommandKind::Update if tuples.len() > 1 => {
                return Err(self.invalid_input(format!(
                    "an update takes one tuple of attributes to set, got {}",
                    tuples.len()
                )));
            }
            CommandKind::Update if tuples.is_empty() => tuples.push(Tuple::new()),
            CommandKind::Delete if tuples.iter().any(|t| !t.is_empty()) => {
                return Err(self.invalid_input(
                    "a delete takes no input (call it with `()`); restrict its relation instead (`by_pk`, `filter`)"
                        .into(),
                ));
            }
            CommandKind::Delete => tuples.clear(),
            _ => {}
        }
        let given = check::prepare(&ctx, &definition.plugins, &mut tuples)?;
        let raw = if definition.result == ResultKind::Count {
            Raw::Count(match definition.kind {
                CommandKind::Create => {
                    create::create_count(self, &mut check::AllReady::new(tuples)).await?
                }
                CommandKind::Update => {
                    let tuple = tuples.pop().unwrap_or_default();
                    update::update_count(self, tuple).await?
                }
                CommandKind::Delete => delete::delete_count(self).await?,
                CommandKind::Upsert | CommandKind::InsertOrIgnore => {
                    return Err(self.invalid("result Count is not for upserts".into()));
                }
            })
        } else {
            Raw::Rows(match definition.kind {
                CommandKind::Create => create::create(self, tuples, given).await?,
                CommandKind::Update => {
                    let tuple = tuples.pop().unwrap_or_default();
                    update::update(self, tuple).await?
                }
                CommandKind::Delete => delete::delete(self).await?,
                CommandKind::Upsert => upsert::upsert(self, &tuples, false, given).await?,
                CommandKind::InsertOrIgnore => upsert::upsert(self, &tuples, true, given).await?,
            })
        };
        self.after(&ctx, raw)
    }

    /// Decodes what the statements returned and runs the plugins' `after`
    /// hooks over it (over no rows for a count).
    fn after(&self, ctx: &CommandContext<'_>, raw: Raw) -> Result<Written> {
        let mut rows = match &raw {
            Raw::Rows(raw) => raw
                .iter()
                .map(|r| decode_row(&self.registry.columns, r))
                .collect::<Result<Vec<_>>>()?,
            Raw::Count(_) => Vec::new(),
        };
        for plugin in &self.definition.plugins {
            plugin.after(ctx, &mut rows)?;
        }
        Ok(match raw {
            Raw::Rows(_) => Written::Rows(rows),
            Raw::Count(count) => Written::Count(count),
        })
    }

    /// [`Error::InvalidCommand`] naming this command.
    pub(crate) fn invalid(&self, reason: String) -> Error {
        Error::InvalidCommand {
            relation: self.relation.name().to_string(),
            command: self.definition.name.clone(),
            reason,
        }
    }

    fn invalid_input(&self, reason: String) -> Error {
        Error::InvalidInput {
            reason: format!(
                "command `{}` of relation `{}`: {reason}",
                self.definition.name,
                self.relation.name()
            ),
        }
    }
}

/// What a command call wrote: the rows, or only how many.
enum Written {
    Rows(Vec<Row>),
    Count(u64),
}

/// What a command's statements returned, before decoding.
enum Raw {
    Rows(Vec<MySqlRow>),
    Count(u64),
}

/// Runs a statement on `relation`'s connection and returns its rows.
pub(crate) async fn fetch<'s>(
    relation: &Relation,
    sql: impl Into<Sql<'s>>,
    binds: &[Value],
) -> Result<Vec<MySqlRow>> {
    relation
        .exec
        .fetch_all(
            relation.gateway(),
            Statement {
                sql: sql.into(),
                binds,
                relation: Some(relation.name()),
            },
        )
        .await
}

/// Runs a statement of at most one row on `relation`'s connection and
/// returns the row as it arrives (see [`Exec::fetch_optional`](crate::exec::Exec::fetch_optional)).
pub(crate) async fn fetch_one<'s>(
    relation: &Relation,
    sql: impl Into<Sql<'s>>,
    binds: &[Value],
) -> Result<Option<MySqlRow>> {
    relation
        .exec
        .fetch_optional(
            relation.gateway(),
            Statement {
                sql: sql.into(),
                binds,
                relation: Some(relation.name()),
            },
        )
        .await
}

/// Runs a statement on `relation`'s connection.
pub(crate) async fn execute<'s>(
    relation: &Relation,
    sql: impl Into<Sql<'s>>,
    binds: &[Value],
) -> Result<MySqlQueryResult> {
    relation
        .exec
        .execute(
            relation.gateway(),
            Statement {
                sql: sql.into(),
                binds,
                relation: Some(relation.name()),
            },
        )
        .await
}

/// Runs an insert on `relation`'s connection; `rows` are what its values
/// were encoded from (shown in the trace; owned, freed while the server
/// runs it).
pub(crate) async fn run_insert(
    relation: &Relation,
    insert: Insert,
    rows: impl fmt::Debug + Send,
) -> Result<Inserted> {
    relation
        .exec
        .insert_encoded(
            relation.gateway(),
            &insert.sql,
            insert.args,
            insert.returning,
            Some(relation.name()),
            rows,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// Command calls can be spawned on a multi-threaded runtime.
    #[allow(dead_code, unreachable_code, clippy::diverging_sub_expression)]
    fn call_futures_are_send(command: &Command) {
        assert_send(&command.call(()));
        assert_send(&command.call_many((0..3).map(|n| Tuple::from([("n", n)]))));
    }

    #[test]
    fn commands_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Command>();
        check::<CommandDefinition>();
        check::<CommandOutput>();
    }
}
