//! [`Plugin`]: hooks that run around every call of a command, and the
//! [`CommandContext`] they are given.

use std::fmt;

use chrono::{NaiveDateTime, Utc};

use super::definition::CommandKind;
use super::input::Tuple;
use crate::error::Result;
use crate::row::Row;
use crate::schema::Schema;

/// What a plugin is told about the command it runs for.
#[derive(Clone, Copy, Debug)]
pub struct CommandContext<'a> {
    pub(crate) relation: &'a str,
    pub(crate) command: &'a str,
    pub(crate) kind: CommandKind,
    pub(crate) schema: &'a Schema,
    pub(crate) now: NaiveDateTime,
}

impl<'a> CommandContext<'a> {
    /// The context of a call starting now.
    pub(crate) fn new(
        relation: &'a str,
        command: &'a str,
        kind: CommandKind,
        schema: &'a Schema,
    ) -> CommandContext<'a> {
        CommandContext {
            relation,
            command,
            kind,
            schema,
            now: Utc::now().naive_utc(),
        }
    }

    /// The relation the command writes to.
    pub fn relation(&self) -> &'a str {
        self.relation
    }

    /// The command's registered name.
    pub fn command(&self) -> &'a str {
        self.command
    }

    /// What the command does.
    pub fn kind(&self) -> CommandKind {
        self.kind
    }

    /// The relation's schema.
    pub fn schema(&self) -> &'a Schema {
        self.schema
    }

    /// When the call started, in UTC: one time for every tuple of the
    /// call, however many times [`Plugin::before`] runs for it.
    pub fn now(&self) -> NaiveDateTime {
        self.now
    }
}

/// A command plugin: hooks over a command's input and result, run on every
/// call of every command that uses it (ROM's command plugins; see
/// [`Timestamps`](super::Timestamps)).
///
/// - [`Plugin::check`] runs once, at finalize, so that a misconfigured
///   plugin fails at boot;
/// - [`Plugin::before`] gets the input tuples after they were checked
///   against the schema and before anything is written; what it sets is
///   checked again. It sees every tuple of a call at once, unless the
///   plugin [takes chunks](Plugin::takes_chunks) and the call streams its
///   tuples ([`Command::call_many`](super::Command::call_many));
/// - [`Plugin::after`] gets the rows the command returns.
///
/// An error from any hook fails the call; from `before`, nothing is
/// written.
///
/// ```
/// use ferrom::command::{CommandContext, Plugin, Tuple};
///
/// /// Lower-cases the `domain` attribute.
/// #[derive(Debug)]
/// struct LowercaseDomain;
///
/// impl Plugin for LowercaseDomain {
///     fn name(&self) -> &str {
///         "lowercase_domain"
///     }
///
///     fn before(&self, _ctx: &CommandContext<'_>, tuples: &mut [Tuple]) -> ferrom::Result<()> {
///         for tuple in tuples {
///             if let Some(domain) = tuple.get("domain").and_then(|v| v.as_str()) {
///                 let lower = domain.to_lowercase();
///                 tuple.set("domain", lower);
///             }
///         }
///         Ok(())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a command plugin",
    note = "implement `ferrom::command::Plugin` for it: `fn name`, and the hooks it needs (`before`, `after`, `check`)"
)]
pub trait Plugin: Send + Sync + fmt::Debug {
    /// The plugin's name, for messages.
    fn name(&self) -> &str;

    /// Checks the plugin's configuration against the command's relation,
    /// at finalize.
    ///
    /// # Errors
    ///
    /// Whatever makes the configuration unusable; finalize fails with it.
    fn check(&self, ctx: &CommandContext<'_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Runs before the command writes, over every input tuple of the call
    /// (over a few at a time, in order, when the plugin
    /// [takes chunks](Plugin::takes_chunks) and the call streams them).
    ///
    /// # Errors
    ///
    /// Any error refuses the call; nothing is written.
    fn before(&self, ctx: &CommandContext<'_>, tuples: &mut [Tuple]) -> Result<()> {
        let _ = (ctx, tuples);
        Ok(())
    }

    /// Whether [`Plugin::before`] may run over a call's tuples a few at a
    /// time. A streamed create ([`Command::call_many`](super::Command::call_many))
    /// checks, runs the plugins over, and encodes each few tuples as its
    /// iterator yields them, then drops them, so that a large load is never
    /// all in memory; it does so only when every plugin of the command
    /// takes chunks, and otherwise collects the tuples first.
    ///
    /// `false` unless overridden: a plugin that looks across the tuples of
    /// a call (one that refuses duplicates within it, say) must see them
    /// together. A plugin that treats each tuple on its own, and takes any
    /// per-call value from the context ([`CommandContext::now`]), can
    /// return `true`.
    fn takes_chunks(&self) -> bool {
        false
    }

    /// Runs over the rows the command returns.
    ///
    /// # Errors
    ///
    /// Any error fails the call (what was written stays written unless the
    /// call runs in a transaction the error rolls back).
    fn after(&self, ctx: &CommandContext<'_>, rows: &mut Vec<Row>) -> Result<()> {
        let _ = (ctx, rows);
        Ok(())
    }
}
