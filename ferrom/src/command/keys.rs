//! Keys that identify written rows, for re-reading them where the server
//! has no `RETURNING` (and for upserts everywhere), and for returning rows
//! in the order the input gave them.

use std::collections::HashMap;

use sqlx::mysql::MySqlRow;

use super::input::Tuple;
use crate::error::Result;
use crate::row::decode_scalar;
use crate::schema::Schema;
use crate::value::Value;

/// The key written rows are re-read by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReadKey {
    /// Columns every tuple gives a (non-NULL) value for: the primary key,
    /// or all columns of a unique key.
    Given(Vec<String>),
    /// The primary key, whose auto-increment column (at `auto` in the key)
    /// the server generates for tuples that do not give it; every tuple
    /// gives the key's other columns.
    Generated {
        /// The primary key's columns.
        key: Vec<String>,
        /// The position of the auto-increment column in `key`.
        auto: usize,
    },
}

impl ReadKey {
    /// The key's columns.
    pub(crate) fn columns(&self) -> &[String] {
        match self {
            ReadKey::Given(key) | ReadKey::Generated { key, .. } => key,
        }
    }
}

fn gives(tuple: &Tuple, column: &str) -> bool {
    tuple.get(column).is_some_and(|v| !v.is_null())
}

/// The key to re-read `tuples` by: the primary key when every tuple gives
/// it; then the primary key with its generated auto-increment column and
/// the first unique key every tuple gives in full, in that order when
/// `prefer_generated` (a create: the generated ids name exactly the rows
/// inserted) and the other way round otherwise (an upsert: a unique key the
/// input gives names the row whether it was inserted or updated, and works
/// for many rows). `Generated` is only offered for many tuples when
/// `prefer_generated`.
pub(crate) fn choose(schema: &Schema, tuples: &[Tuple], prefer_generated: bool) -> Option<ReadKey> {
    let pk = schema.primary_key_columns().to_vec();
    let all_give = |columns: &[String]| tuples.iter().all(|t| columns.iter().all(|c| gives(t, c)));
    if !pk.is_empty() && all_give(&pk) {
        return Some(ReadKey::Given(pk));
    }
    let generated = pk
        .iter()
        .position(|c| schema.attribute(c).is_some_and(|a| a.auto_increment))
        .filter(|&auto| {
            (prefer_generated || tuples.len() == 1)
                && pk
                    .iter()
                    .enumerate()
                    .all(|(i, c)| i == auto || tuples.iter().all(|t| gives(t, c)))
        })
        .map(|auto| ReadKey::Generated {
            key: pk.clone(),
            auto,
        });
    let unique = || {
        schema
            .unique_indexes()
            .filter(|index| index.name != "PRIMARY" && !index.columns.is_empty())
            .find(|index| all_give(&index.columns))
            .map(|index| ReadKey::Given(index.columns.clone()))
    };
    if prefer_generated {
        generated.or_else(unique)
    } else {
        unique().or(generated)
    }
}

/// The values `tuple` gives for `key`, if it gives them all.
pub(crate) fn key_of(tuple: &Tuple, key: &[String]) -> Option<Vec<Value>> {
    key.iter()
        .map(|c| tuple.get(c).filter(|v| !v.is_null()).cloned())
        .collect()
}

/// The positions of `key`'s columns among the schema's attributes (which
/// is how returned rows are laid out).
pub(crate) fn positions(schema: &Schema, key: &[String]) -> Vec<usize> {
    key.iter().filter_map(|c| schema.position(c)).collect()
}

/// The key values of a returned row.
pub(crate) fn row_key(row: &MySqlRow, positions: &[usize]) -> Result<Vec<Value>> {
    positions.iter().map(|&p| decode_scalar(row, p)).collect()
}

/// Key values as text that compares the way MySQL's default collations
/// compare keys: strings without trailing spaces and case-insensitively,
/// booleans as 0 and 1, integers whatever their signedness.
pub(crate) fn key_text(values: &[Value]) -> String {
    let mut text = String::new();
    for value in values {
        match value {
            Value::String(s) => text.push_str(&s.trim_end_matches(' ').to_lowercase()),
            Value::Bool(b) => text.push(if *b { '1' } else { '0' }),
            other => push_exact(&mut text, other),
        }
        text.push('\u{1f}');
    }
    text
}

/// A value's text, bytes in hex (their `Display` only gives the length).
fn push_exact(text: &mut String, value: &Value) {
    use std::fmt::Write as _;
    match value {
        Value::String(s) => text.push_str(s),
        Value::Bytes(bytes) => {
            for b in bytes {
                let _ = write!(text, "{b:02x}");
            }
        }
        other => {
            let _ = write!(text, "{other}");
        }
    }
}

/// `rows` in the order of `wanted` keys (a key wanted twice is returned
/// once), then any row no key matched, in the server's order.
///
/// # Errors
///
/// When a row's key column does not decode.
pub(crate) fn in_order(
    rows: Vec<MySqlRow>,
    positions: &[usize],
    wanted: &[Vec<Value>],
) -> Result<Vec<MySqlRow>> {
    if rows.len() <= 1 {
        // Nothing to order (a re-read by one key).
        return Ok(rows);
    }
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        by_key
            .entry(key_text(&row_key(row, positions)?))
            .or_default()
            .push(i);
    }
    let mut slots: Vec<Option<MySqlRow>> = rows.into_iter().map(Some).collect();
    let mut ordered = Vec::with_capacity(slots.len());
    for key in wanted {
        if let Some(indexes) = by_key.get_mut(&key_text(key)) {
            for i in indexes.drain(..) {
                if let Some(row) = slots.get_mut(i).and_then(Option::take) {
                    ordered.push(row);
                }
            }
        }
    }
    ordered.extend(slots.into_iter().flatten());
    Ok(ordered)
}

/// Key values as text that is equal only for equal values.
pub(crate) fn exact_text(values: &[Value]) -> String {
    let mut text = String::new();
    for value in values {
        text.push_str(value.kind());
        text.push(':');
        push_exact(&mut text, value);
        text.push('\u{1f}');
    }
    text
}

/// `keys` without repeats (equal values), first occurrence kept.
pub(crate) fn distinct(keys: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    if keys.len() < 2 {
        return keys;
    }
    let mut seen = std::collections::HashSet::with_capacity(keys.len());
    keys.into_iter()
        .filter(|k| seen.insert(exact_text(k)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_follows_default_collations() {
        assert_eq!(
            key_text(&[Value::from("Abc  ")]),
            key_text(&[Value::from("abc")])
        );
        assert_eq!(key_text(&[Value::Bool(true)]), key_text(&[Value::Int(1)]));
        assert_ne!(
            key_text(&[Value::Int(1), Value::Int(23)]),
            key_text(&[Value::Int(12), Value::Int(3)])
        );
        let keys = distinct(vec![
            vec![Value::Int(1)],
            vec![Value::Int(2)],
            vec![Value::Int(1)],
            vec![Value::from("A")],
            vec![Value::from("a")],
        ]);
        assert_eq!(keys.len(), 4);
        let uuids = [
            vec![Value::Bytes(vec![1, 2])],
            vec![Value::Bytes(vec![1, 3])],
        ];
        assert_ne!(key_text(&uuids[0]), key_text(&uuids[1]));
        assert_eq!(distinct(uuids.to_vec()).len(), 2);
    }
}
