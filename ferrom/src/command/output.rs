//! [`CommandOutput`]: what a command call returns.

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::row::Row;
use crate::value::Value;

/// The rows a command call returns, as persisted (create, update, upsert)
/// or as they were (delete): one row or none for a command registered with
/// [`ResultKind::One`](super::ResultKind::One), every row for
/// [`ResultKind::Many`](super::ResultKind::Many), and only how many for
/// [`ResultKind::Count`](super::ResultKind::Count).
#[derive(Clone, Debug, PartialEq)]
pub enum CommandOutput {
    /// The first row, if any.
    One(Option<Row>),
    /// Every row.
    Many(Vec<Row>),
    /// How many rows were inserted, matched by an update, or deleted.
    Count(u64),
}

impl CommandOutput {
    /// The first row, if any (whichever the result kind).
    pub fn one(&self) -> Option<&Row> {
        match self {
            CommandOutput::One(row) => row.as_ref(),
            CommandOutput::Many(rows) => rows.first(),
            CommandOutput::Count(_) => None,
        }
    }

    /// The first row, taken out.
    pub fn into_one(self) -> Option<Row> {
        match self {
            CommandOutput::One(row) => row,
            CommandOutput::Many(rows) => rows.into_iter().next(),
            CommandOutput::Count(_) => None,
        }
    }

    /// The rows (none or one for a `One` result, none for a `Count`).
    pub fn rows(&self) -> &[Row] {
        match self {
            CommandOutput::One(row) => row.as_slice(),
            CommandOutput::Many(rows) => rows,
            CommandOutput::Count(_) => &[],
        }
    }

    /// The rows, taken out.
    pub fn into_rows(self) -> Vec<Row> {
        match self {
            CommandOutput::One(row) => row.into_iter().collect(),
            CommandOutput::Many(rows) => rows,
            CommandOutput::Count(_) => Vec::new(),
        }
    }

    /// How many rows the command wrote: the rows returned, or the count.
    pub fn len(&self) -> usize {
        match self {
            CommandOutput::Count(n) => usize::try_from(*n).unwrap_or(usize::MAX),
            _ => self.rows().len(),
        }
    }

    /// Whether the command wrote no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows as typed structs, through serde: each row is a map of its
    /// attributes. Datetimes are given as `YYYY-MM-DDTHH:MM:SS[.f]` without
    /// an offset (they are UTC), which is what `chrono::NaiveDateTime`
    /// reads; a `DateTime<Utc>` field needs `#[serde(with = ...)]` that
    /// reads that format. JSON attributes are given as JSON (so
    /// [`Json<T>`](crate::Json) and `serde_json::Value` fields work),
    /// decimals as strings.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the relation when a row does not
    /// deserialize into `T`.
    pub fn into_typed<T: DeserializeOwned>(self) -> Result<Vec<T>> {
        self.into_rows().iter().map(typed).collect()
    }

    /// The first row as a typed struct (see [`CommandOutput::into_typed`]).
    ///
    /// # Errors
    ///
    /// As [`CommandOutput::into_typed`].
    pub fn into_typed_one<T: DeserializeOwned>(self) -> Result<Option<T>> {
        self.into_one().as_ref().map(typed).transpose()
    }
}

fn typed<T: DeserializeOwned>(row: &Row) -> Result<T> {
    let map = row
        .iter()
        .map(|(name, value)| (name.to_string(), typed_json(value)))
        .collect();
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| Error::InvalidInput {
        reason: format!(
            "a row of relation `{}` does not deserialize into {}: {e}",
            row.columns().relation(),
            std::any::type_name::<T>()
        ),
    })
}

/// A value as JSON for deserializing a struct: datetimes without an
/// offset, everything else as [`Value::to_json`].
fn typed_json(value: &Value) -> serde_json::Value {
    match value {
        Value::DateTime(dt) => {
            serde_json::Value::String(dt.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
        }
        Value::List(items) => serde_json::Value::Array(items.iter().map(typed_json).collect()),
        other => other.to_json(),
    }
}
