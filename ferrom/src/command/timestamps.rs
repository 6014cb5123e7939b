//! The timestamps plugin (ROM's `use :timestamps`).

use smallvec::SmallVec;
use smol_str::SmolStr;

use super::check::{given_at, given_positions};
use super::convert::truncate_datetime;
use super::definition::CommandKind;
use super::input::Tuple;
use super::plugin::{CommandContext, Plugin};
use crate::error::{Error, Result};
use crate::schema::Type;
use crate::value::Value;

/// Sets the listed attributes to the current time in UTC on every tuple of
/// a create, update or upsert, unless the caller gave a value (the caller's
/// value wins, NULL included). All tuples of one call get the same time
/// (the call's [`CommandContext::now`]), cut to each column's
/// fractional-second precision so that what a command returns equals what
/// is stored. A `date` attribute gets today's date.
///
/// On an update it stamps the attributes it lists and nothing else: the
/// reference application's `UpdatePost` lists only `updated_at`.
///
/// ```
/// use ferrom::command::{CommandDefinition, ResultKind, Timestamps};
///
/// let create_post = CommandDefinition::create("posts", "create")
///     .result(ResultKind::One)
///     .plugin(Timestamps::new(["scrapped_at", "created_at", "updated_at"]));
/// # let _ = create_post;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timestamps {
    attributes: Vec<String>,
}

impl Timestamps {
    /// Stamps these attributes (each must be a `datetime`, `timestamp` or
    /// `date` attribute of the relation; finalize checks).
    pub fn new<I, S>(attributes: I) -> Timestamps
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Timestamps {
            attributes: attributes
                .into_iter()
                .map(|a| a.as_ref().to_string())
                .collect(),
        }
    }

    /// The attributes it stamps.
    pub fn attributes(&self) -> &[String] {
        &self.attributes
    }
}

impl Plugin for Timestamps {
    fn name(&self) -> &str {
        "timestamps"
    }

    /// Each tuple on its own, with the call's time from the context.
    fn takes_chunks(&self) -> bool {
        true
    }

    fn check(&self, ctx: &CommandContext<'_>) -> Result<()> {
        let invalid = |reason: String| Error::InvalidCommand {
            relation: ctx.relation().to_string(),
            command: ctx.command().to_string(),
            reason,
        };
        if self.attributes.is_empty() {
            return Err(invalid(
                "the timestamps plugin lists no attribute to stamp".into(),
            ));
        }
        for name in &self.attributes {
            let attribute = ctx.schema().attribute(name).ok_or_else(|| {
                invalid(format!(
                    "the timestamps plugin stamps `{name}`, which the relation does not have; attributes: {}",
                    ctx.schema().attribute_names().join(", ")
                ))
            })?;
            if !matches!(attribute.ty, Type::DateTime { .. } | Type::Date) {
                return Err(invalid(format!(
                    "the timestamps plugin stamps `{name}`, a {} attribute; it stamps datetime, timestamp and date attributes only",
                    attribute.ty
                )));
            }
            if attribute.generated {
                return Err(invalid(format!(
                    "the timestamps plugin stamps `{name}`, which the database generates"
                )));
            }
        }
        Ok(())
    }

    fn before(&self, ctx: &CommandContext<'_>, tuples: &mut [Tuple]) -> Result<()> {
        if ctx.kind() == CommandKind::Delete || tuples.is_empty() {
            return Ok(());
        }
        let now = ctx.now();
        let schema = ctx.schema();
        // Each stamped attribute once: its position, name and value.
        let mut stamps: SmallVec<[(usize, SmolStr, Value); 3]> = SmallVec::new();
        for name in &self.attributes {
            let Some(at) = schema.position(name) else {
                continue;
            };
            let value = match &schema.attributes()[at].ty {
                Type::DateTime { precision, .. } => {
                    Value::DateTime(truncate_datetime(now, *precision))
                }
                Type::Date => Value::Date(now.date()),
                // Checked at finalize; a schema without it cannot get here.
                _ => continue,
            };
            stamps.push((at, SmolStr::new(name), value));
        }
        for tuple in tuples.iter_mut() {
            // Checked tuples know which positions they give; others are
            // looked through by name.
            let given = given_positions(tuple);
            for (at, name, value) in &stamps {
                if !given_at(given, *at).unwrap_or_else(|| tuple.contains(name)) {
                    // Of the attribute's type, truncated to its precision,
                    // and writable (finalize checked): no second check.
                    tuple.push_checked(name, *at, value.clone());
                }
            }
        }
        Ok(())
    }
}
