//! Checking input tuples against the relation's schema before anything is
//! written: unknown and generated attributes, types (see `convert`), NULL
//! and missing values for NOT NULL attributes.

use std::sync::Arc;

use smallvec::SmallVec;

use super::convert::{Problem, convert, fits_as_is};
use super::input::Tuple;
use super::plugin::{CommandContext, Plugin};
use crate::error::{Error, Result};
use crate::schema::{Attribute, Schema};
use crate::value::Value;

/// Makes a call's input ready to write: checks every tuple, runs the
/// plugins' `before` hooks, checks what they set, and (for an insert)
/// that every required attribute is given. Returns the union of the
/// tuples' [`given_positions`] (`None` when some tuple's are not known).
///
/// # Errors
///
/// As [`check_tuple`] and [`check_required`], or a plugin's error;
/// nothing has been written.
pub(crate) fn prepare(
    ctx: &CommandContext<'_>,
    plugins: &[Arc<dyn Plugin>],
    tuples: &mut [Tuple],
) -> Result<Option<u128>> {
    let inserts = ctx.kind().inserts();
    let required = if inserts {
        required_positions(ctx.schema())
    } else {
        None
    };
    let mut given = Some(0_u128);
    let mut positions = Positions::default();
    // A tuple's last check, and what needs the tuple while it is in cache.
    let mut last_check = |tuple: &mut Tuple| -> Result<()> {
        let bits = check_tuple(ctx, tuple, &mut positions)?;
        if inserts {
            check_required(ctx, tuple, bits, required)?;
        }
        given = given.zip(bits).map(|(all, one)| all | one);
        Ok(())
    };
    if !plugins.is_empty() {
        let mut positions = Positions::default();
        for tuple in tuples.iter_mut() {
            check_tuple(ctx, tuple, &mut positions)?;
        }
        for plugin in plugins {
            plugin.before(ctx, tuples)?;
        }
    }
    tuples.iter_mut().try_for_each(&mut last_check)?;
    Ok(given)
}

/// How many tuples of a streamed call are made ready at a time: few enough
/// that their values' allocations are reused (mostly from the allocator's
/// per-thread cache) as the next few are built, enough that the plugins'
/// per-run work is shared.
const CHUNK: usize = 8;

/// Tuples checked and ready to insert, lent a few at a time (so that
/// none is moved on its way into the statement).
pub(crate) trait Ready: Send {
    /// The ready tuples not yet taken; when every one was taken, the next
    /// few are made ready first. Empty: there are no more.
    ///
    /// # Errors
    ///
    /// As [`prepare`]; nothing follows an error.
    fn ready(&mut self) -> Result<&[Tuple]>;

    /// Marks the first `n` tuples [`Ready::ready`] lent as taken.
    fn take(&mut self, n: usize);

    /// About how many tuples are left.
    fn left(&self) -> usize;
}

/// The tuples of a call, checked all at once ([`prepare`]).
pub(crate) struct AllReady {
    tuples: Vec<Tuple>,
    taken: usize,
}

impl AllReady {
    pub(crate) fn new(tuples: Vec<Tuple>) -> AllReady {
        AllReady { tuples, taken: 0 }
    }
}

impl Ready for AllReady {
    fn ready(&mut self) -> Result<&[Tuple]> {
        Ok(&self.tuples[self.taken..])
    }

    fn take(&mut self, n: usize) {
        self.taken = (self.taken + n).min(self.tuples.len());
    }

    fn left(&self) -> usize {
        self.tuples.len() - self.taken
    }
}

/// The tuples of a streamed call ([`Command::call_many`](super::Command::call_many)),
/// taken from its iterator and made ready [`CHUNK`] at a time, each chunk
/// through [`prepare`] (so every plugin must
/// [take chunks](Plugin::takes_chunks)). A chunk's tuples are dropped
/// when the next chunk is taken.
pub(crate) struct Chunked<'c, I> {
    ctx: CommandContext<'c>,
    plugins: &'c [Arc<dyn Plugin>],
    source: I,
    chunk: Vec<Tuple>,
    taken: usize,
    /// An error was returned: nothing follows it.
    failed: bool,
}

impl<'c, I: Iterator<Item = Tuple>> Chunked<'c, I> {
    pub(crate) fn new(
        ctx: CommandContext<'c>,
        plugins: &'c [Arc<dyn Plugin>],
        source: I,
    ) -> Chunked<'c, I> {
        Chunked {
            ctx,
            plugins,
            source,
            chunk: Vec::with_capacity(CHUNK),
            taken: 0,
            failed: false,
        }
    }
}

impl<I: Iterator<Item = Tuple> + Send> Ready for Chunked<'_, I> {
    fn ready(&mut self) -> Result<&[Tuple]> {
        if self.taken == self.chunk.len() && !self.failed {
            self.chunk.clear();
            self.taken = 0;
            self.chunk.extend(self.source.by_ref().take(CHUNK));
            if self.chunk.is_empty() {
                return Ok(&[]);
            }
            if let Err(e) = prepare(&self.ctx, self.plugins, &mut self.chunk) {
                self.chunk.clear();
                self.failed = true;
                return Err(e);
            }
        }
        Ok(&self.chunk[self.taken..])
    }

    fn take(&mut self, n: usize) {
        self.taken = (self.taken + n).min(self.chunk.len());
    }

    fn left(&self) -> usize {
        let (low, _) = self.source.size_hint();
        low.saturating_add(self.chunk.len() - self.taken)
    }
}

/// Checks and converts every value of `tuple` in place; returns the
/// positions it gives (see [`given_positions`]).
///
/// # Errors
///
/// - [`Error::UnknownAttribute`] listing the relation's attributes;
/// - [`Error::InvalidInput`] for an attribute given twice;
/// - [`Error::InvalidCommand`] for a generated attribute;
/// - [`Error::TypeMismatch`] / [`Error::DataTooLong`] for a value that
///   does not fit;
/// - [`Error::NotNull`] for NULL into a NOT NULL attribute (an
///   auto-increment key takes NULL on insert: the server generates it).
pub(crate) fn check_tuple(
    ctx: &CommandContext<'_>,
    tuple: &mut Tuple,
    positions: &mut Positions,
) -> Result<Option<u128>> {
    // Checked, and not changed since (the plugins did not touch it, or
    // only added checked stamps).
    if let Some(bits) = tuple.checked_positions() {
        return Ok(Some(bits));
    }
    let schema = ctx.schema();
    let attributes = schema.attributes();
    let inserts = ctx.kind().inserts();
    let entries = tuple.entries_mut();
    let mut generate_key = false;
    // The positions below 128 given so far, as bits; whether every
    // position so far was below 128.
    let mut bits = 0_u128;
    let mut narrow = true;
    for i in 0..entries.len() {
        let (earlier, rest) = entries.split_at_mut(i);
        let Some(entry) = rest.first_mut() else {
            break;
        };
        // Checked before (the plugins run between two checks) and not set
        // since: its value is already the attribute's.
        if let Some(at) = entry.checked() {
            narrow &= at < 128;
            bits |= bit(at);
            continue;
        }
        let at = positions
            .find(schema, i, &entry.name)
            .ok_or_else(|| schema.unknown_attribute(&entry.name))?;
        let attribute = &attributes[at];
        if attribute.generated {
            return Err(Error::InvalidCommand {
                relation: ctx.relation().to_string(),
                command: ctx.command().to_string(),
                reason: format!(
                    "attribute `{}` is generated by the database and cannot be written",
                    entry.name
                ),
            });
        }
        // A value of the attribute's own kind (the usual case) stays where
        // it is.
        if !fits_as_is(&attribute.ty, &entry.value) {
            entry.value = convert(
                &attribute.ty,
                std::mem::replace(&mut entry.value, Value::Null),
            )
            .map_err(|p| problem(ctx, attribute, p))?;
        }
        if entry.value.is_null() && !attribute.nullable && !(inserts && attribute.auto_increment) {
            return Err(not_null(ctx, &attribute.name, false));
        }
        generate_key |= asks_for_generated_key(attribute, &entry.value);
        // One attribute per position: a position seen before is a name
        // given twice.
        let twice = if at < 128 {
            bits & bit(at) != 0
        } else {
            earlier.iter().any(|e| e.checked() == Some(at))
        };
        if twice {
            return Err(Error::InvalidInput {
                reason: format!(
                    "attribute `{}` of relation `{}` is given twice",
                    attribute.name,
                    ctx.relation()
                ),
            });
        }
        narrow &= at < 128;
        bits |= bit(at);
        entry.set_checked(Some(at));
    }
    let mut given = narrow.then_some(bits);
    if inserts && generate_key {
        // NULL or 0 for an auto-increment key means "generate one": leave
        // it out, so that re-reading knows the server chose it.
        entries.retain(|e| {
            !e.checked()
                .is_some_and(|at| asks_for_generated_key(&attributes[at], &e.value))
        });
        given = given_positions(tuple);
    }
    tuple.set_checked_positions(given);
    // What the required check and the statement's column list need,
    // worked out while the tuple is in cache.
    Ok(given)
}

/// `bits` with position `at` added (`None` from 128 on).
fn add_position(bits: Option<u128>, at: usize) -> Option<u128> {
    bits.filter(|_| at < 128).map(|bits| bits | bit(at))
}

/// Position `at` as a bit (none from 128 on).
fn bit(at: usize) -> u128 {
    1_u128
        .checked_shl(u32::try_from(at).unwrap_or(u32::MAX))
        .unwrap_or(0)
}

/// The schema position each entry (by index) of the tuples checked so far
/// had, and where the text of its name lives. Tuples built from the same
/// literal names (`[("url", ...), ...]`) share that text, so their
/// entries find their positions without looking the names up; one is kept
/// for one pass over tuples that all stay alive (no name's text can move
/// or change during it).
#[derive(Debug, Default)]
pub(crate) struct Positions {
    seen: SmallVec<[Option<Seen>; 16]>,
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    /// The address and length of the name's text.
    text: (usize, usize),
    at: usize,
}

impl Positions {
    /// The position of `name`, the `k`th entry of its tuple, in `schema`.
    fn find(&mut self, schema: &Schema, k: usize, name: &str) -> Option<usize> {
        let text = (name.as_ptr() as usize, name.len());
        if let Some(Some(seen)) = self.seen.get(k)
            && seen.text == text
        {
            return Some(seen.at);
        }
        let at = schema.position(name)?;
        if self.seen.len() <= k {
            self.seen.resize(k + 1, None);
        }
        self.seen[k] = Some(Seen { text, at });
        Some(at)
    }
}

/// The schema positions of the attributes `tuple` gives, as bits, when
/// every value has been checked and the schema has at most 128 attributes.
pub(crate) fn given_positions(tuple: &Tuple) -> Option<u128> {
    if let Some(bits) = tuple.checked_positions() {
        return Some(bits);
    }
    tuple
        .entries()
        .iter()
        .try_fold(0_u128, |bits, e| add_position(Some(bits), e.checked()?))
}

/// Whether the attribute at schema position `at` is given, when bits from
/// [`given_positions`] tell (`None`: look by name instead).
pub(crate) fn given_at(given: Option<u128>, at: usize) -> Option<bool> {
    given
        .filter(|_| at < 128)
        .map(|bits| bits & (1_u128 << at) != 0)
}

/// Whether `value` for `attribute` asks the server for a generated key on
/// insert (NULL or 0 into an auto-increment column).
fn asks_for_generated_key(attribute: &Attribute, value: &Value) -> bool {
    attribute.auto_increment && matches!(value, Value::Null | Value::Int(0) | Value::UInt(0))
}

/// Whether an insert must give `attribute`: NOT NULL, without a default,
/// and not generated by the server.
fn required(attribute: &Attribute) -> bool {
    !attribute.nullable
        && attribute.default.is_none()
        && !attribute.auto_increment
        && !attribute.generated
}

/// The schema positions of the attributes an insert must give, as bits
/// (`None` beyond 128 attributes): worked out once per call, so that each
/// tuple's check is one mask.
pub(crate) fn required_positions(schema: &Schema) -> Option<u128> {
    let attributes = schema.attributes();
    (attributes.len() <= 128).then(|| {
        attributes
            .iter()
            .enumerate()
            .filter(|(_, a)| required(a))
            .fold(0, |bits, (at, _)| bits | (1_u128 << at))
    })
}

/// Checks that an inserted tuple gives every NOT NULL attribute that has no
/// default and is not generated by the server. `given` is the tuple's
/// [`given_positions`] and `required` the schema's
/// [`required_positions`]; without either, the names are compared.
///
/// # Errors
///
/// [`Error::NotNull`] naming the first missing attribute.
pub(crate) fn check_required(
    ctx: &CommandContext<'_>,
    tuple: &Tuple,
    given: Option<u128>,
    required_bits: Option<u128>,
) -> Result<()> {
    let attributes = ctx.schema().attributes();
    let missing = match given.zip(required_bits) {
        Some((given, required_bits)) => {
            let missing = required_bits & !given;
            // Positions below 128: the mask is exact.
            (missing != 0).then(|| &attributes[missing.trailing_zeros() as usize])
        }
        None => attributes
            .iter()
            .find(|a| required(a) && !tuple.contains(&a.name)),
    };
    match missing {
        Some(attribute) => Err(not_null(ctx, &attribute.name, true)),
        None => Ok(()),
    }
}

fn not_null(ctx: &CommandContext<'_>, attribute: &str, missing: bool) -> Error {
    let why = if missing {
        format!(
            "ferrom refused the input before sending: `{attribute}` is NOT NULL, has no default and was not given"
        )
    } else {
        format!(
            "ferrom refused the input before sending: `{attribute}` is NOT NULL and was given NULL"
        )
    };
    Error::NotNull {
        relation: ctx.relation().to_string(),
        attribute: attribute.to_string(),
        source: Box::new(sqlx::Error::InvalidArgument(why)),
    }
}

fn problem(ctx: &CommandContext<'_>, attribute: &Attribute, problem: Problem) -> Error {
    match problem {
        Problem::Mismatch { expected, got } => Error::TypeMismatch {
            relation: ctx.relation().to_string(),
            attribute: attribute.name.clone(),
            expected,
            got,
        },
        Problem::TooLong { detail } => {
            let detail = format!("too long for {}: {detail}", attribute.ty);
            Error::DataTooLong {
                relation: ctx.relation().to_string(),
                attribute: attribute.name.clone(),
                source: Box::new(sqlx::Error::InvalidArgument(format!(
                    "ferrom refused the input before sending: {detail}"
                ))),
                detail,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::definition::CommandKind;
    use crate::schema::Type;

    fn schema() -> Schema {
        let mut id = Attribute::new(
            "id",
            Type::Integer {
                bits: 32,
                unsigned: false,
            },
        );
        id.nullable = false;
        id.primary_key = true;
        id.auto_increment = true;
        let mut url = Attribute::new(
            "url",
            Type::String {
                max_length: Some(4),
            },
        );
        url.nullable = false;
        let views = Attribute::new(
            "views",
            Type::Integer {
                bits: 8,
                unsigned: true,
            },
        );
        Schema::new(
            "posts",
            "posts",
            vec![id, url, views],
            Vec::new(),
            Vec::new(),
        )
    }

    fn ctx(schema: &Schema) -> CommandContext<'_> {
        CommandContext::new("posts", "create", CommandKind::Create, schema)
    }

    #[test]
    fn a_value_set_after_the_check_is_checked_again() {
        let schema = schema();
        let ctx = ctx(&schema);
        let mut tuple = Tuple::from([("views", Value::Int(3)), ("url", "ab".into())]);
        check_tuple(&ctx, &mut tuple, &mut Positions::default()).unwrap();
        assert_eq!(given_positions(&tuple), Some(0b110));
        // What a plugin does between the two checks: a checked value is
        // not looked at again, a value set since is.
        tuple.set("views", Value::Int(300));
        assert_eq!(given_positions(&tuple), None);
        let err = check_tuple(&ctx, &mut tuple, &mut Positions::default()).unwrap_err();
        assert!(
            matches!(&err, Error::TypeMismatch { attribute, .. } if attribute == "views"),
            "{err}"
        );
        tuple.set("views", Value::Int(30));
        check_tuple(&ctx, &mut tuple, &mut Positions::default()).unwrap();
        assert_eq!(tuple.get("views"), Some(&Value::Int(30)));
        // A checked stamp keeps the tuple checked; anything else does not.
        assert_eq!(tuple.checked_positions(), Some(0b110));
        tuple.remove("url");
        assert_eq!(tuple.checked_positions(), None);
        assert_eq!(
            check_tuple(&ctx, &mut tuple, &mut Positions::default()).unwrap(),
            Some(0b100)
        );
        tuple.push_checked(&"url".into(), 1, "cd".into());
        assert_eq!(tuple.checked_positions(), Some(0b110));
        assert!(tuple.set_default("id", "x"));
        assert_eq!(given_positions(&tuple), None);
        let err = check_tuple(&ctx, &mut tuple, &mut Positions::default()).unwrap_err();
        assert!(
            matches!(&err, Error::TypeMismatch { attribute, .. } if attribute == "id"),
            "{err}"
        );
    }

    #[test]
    fn names_given_twice_and_generated_keys_are_found_by_position() {
        let schema = schema();
        let ctx = ctx(&schema);
        let mut twice = Tuple::from([("url", "a"), ("views", "1"), ("url", "b")]);
        twice.set("views", 1);
        let err = check_tuple(&ctx, &mut twice, &mut Positions::default()).unwrap_err();
        assert!(err.to_string().contains("`url`"), "{err}");
        assert!(err.to_string().contains("given twice"), "{err}");
        // 0 for the auto-increment key: left out, for the server to choose.
        let mut generated = Tuple::from([("id", Value::Int(0)), ("url", "a".into())]);
        let given = check_tuple(&ctx, &mut generated, &mut Positions::default()).unwrap();
        assert_eq!(given, Some(0b010));
        assert_eq!(generated.names().collect::<Vec<_>>(), ["url"]);
        let required = required_positions(&schema);
        assert_eq!(required, Some(0b010));
        check_required(&ctx, &generated, given, required).unwrap();
        let mut missing = Tuple::from([("views", 1)]);
        let given = check_tuple(&ctx, &mut missing, &mut Positions::default()).unwrap();
        // By bits, and by name when the bits are not known: the same error.
        for (given, required) in [(given, required), (None, required), (given, None)] {
            let err = check_required(&ctx, &missing, given, required).unwrap_err();
            assert!(
                matches!(&err, Error::NotNull { attribute, .. } if attribute == "url"),
                "{err}"
            );
        }
        check_required(&ctx, &generated, None, None).unwrap();
    }

    #[test]
    fn positions_follow_the_names_whatever_their_order() {
        let schema = schema();
        let ctx = ctx(&schema);
        let views = String::from("views");
        let mut tuples = vec![
            Tuple::from([("url", Value::from("a")), ("views", Value::Int(1))]),
            Tuple::from([("views", Value::Int(2)), ("url", Value::from("b"))]),
            // The same name, in text of its own.
            [("url", Value::from("c")), (views.as_str(), Value::Int(3))]
                .into_iter()
                .collect(),
            Tuple::from([("url", Value::from("d"))]),
        ];
        let given = prepare(&ctx, &[], &mut tuples).unwrap();
        assert_eq!(given, Some(0b110));
        for tuple in &tuples {
            for entry in tuple.entries() {
                assert_eq!(entry.checked(), schema.position(&entry.name), "{tuple:?}");
            }
        }
        // A name met at a position another tuple had is still looked up.
        let mut tuples = vec![
            Tuple::from([("url", Value::from("a")), ("views", Value::Int(1))]),
            Tuple::from([("url", Value::from("b")), ("viewz", Value::Int(1))]),
        ];
        let err = prepare(&ctx, &[], &mut tuples).unwrap_err();
        assert!(
            matches!(&err, Error::UnknownAttribute { attribute, .. } if attribute == "viewz"),
            "{err}"
        );
    }

    #[test]
    fn an_entry_fits_one_cache_line() {
        assert!(std::mem::size_of::<super::super::input::Entry>() <= 64);
    }
}
