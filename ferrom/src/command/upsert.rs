//! Upsert and insert-or-ignore: `INSERT ... ON DUPLICATE KEY UPDATE`,
//! returning the resulting rows.
//!
//! An upsert updates the colliding row's attributes to the inserted
//! values: every attribute the input gives except the primary key's, or the
//! definition's `update_columns`. Insert-or-ignore assigns a key column to
//! itself, a no-op that keeps the existing row; `INSERT IGNORE` is not used
//! because it also turns errors such as data-too-long into warnings. On
//! MySQL 8.0.19 and later the inserted row is referred to through a row
//! alias, elsewhere through `VALUES(col)`.
//!
//! The rows are re-read by the primary key when the input gives it, or by
//! the first unique key it gives in full; a single row whose
//! auto-increment key is generated is re-read by the id the server reports
//! (`pk = LAST_INSERT_ID(pk)` makes it report the existing row's id on a
//! collision).

use sqlx::mysql::MySqlRow;

use super::atomic::atomically;
use super::create::{reread, union_columns};
use super::input::Tuple;
use super::keys::{self, ReadKey};
use super::statement::{OnConflict, render_insert, rows_per_statement};
use super::{Command, run_insert};
use crate::error::Result;
use crate::relation::Relation;
use crate::value::Value;

/// Upserts (or, with `ignore`, inserts-or-ignores) `tuples`.
/// `given`: see [`union_columns`].
pub(crate) async fn upsert(
    cmd: &Command,
    tuples: &[Tuple],
    ignore: bool,
    given: Option<u128>,
) -> Result<Vec<MySqlRow>> {
    if tuples.is_empty() {
        return Ok(Vec::new());
    }
    let schema = cmd.relation.schema();
    let key = keys::choose(schema, tuples, false).ok_or_else(|| {
        cmd.invalid(format!(
            "the resulting rows are re-read by key: give the primary key ({}) or every column of a unique key in each row{}",
            schema.primary_key_names().join(", "),
            if tuples.len() > 1 { " (a single row may leave out its auto-increment key)" } else { "" }
        ))
    })?;
    let pk = schema.primary_key_names();
    let columns = union_columns(cmd, tuples, given);
    let update: Vec<String> = match &cmd.definition.update_columns {
        Some(listed) => listed.clone(),
        None => columns
            .iter()
            .filter(|c| !pk.contains(&c.as_str()))
            .cloned()
            .collect(),
    };
    let report_id = match &key {
        ReadKey::Generated { key, auto } => Some(key[*auto].clone()),
        ReadKey::Given(_) => None,
    };
    let keep_column = pk
        .first()
        .map(|c| (*c).to_string())
        .or_else(|| report_id.clone())
        .unwrap_or_else(|| columns.first().cloned().unwrap_or_default());
    let on_conflict = if ignore || update.is_empty() {
        OnConflict::Keep {
            column: report_id.as_deref().unwrap_or(&keep_column),
            report_id: report_id.is_some(),
        }
    } else {
        OnConflict::Update {
            columns: &update,
            row_alias: cmd.capabilities.insert_row_alias,
            report_id: report_id.as_deref(),
        }
    };
    let several = tuples.len() > rows_per_statement(columns.len());
    atomically(&cmd.relation, several, async |relation| {
        write_and_reread(cmd, relation, tuples, &columns, on_conflict, &key).await
    })
    .await
}

async fn write_and_reread(
    cmd: &Command,
    relation: &Relation,
    tuples: &[Tuple],
    columns: &[String],
    on_conflict: OnConflict<'_>,
    key: &ReadKey,
) -> Result<Vec<MySqlRow>> {
    let table = relation.schema().table();
    let mut wanted: Vec<Vec<Value>> = Vec::with_capacity(tuples.len());
    for batch in tuples.chunks(rows_per_statement(columns.len())) {
        let insert = render_insert(table, columns, batch, on_conflict, None)?;
        let result = run_insert(relation, insert, batch).await?;
        match key {
            ReadKey::Given(key) => wanted.extend(batch.iter().filter_map(|t| keys::key_of(t, key))),
            ReadKey::Generated { key, auto } => {
                let id = result.last_insert_id();
                if id == 0 {
                    return Err(
                        cmd.invalid("the server reported no id for the upserted row".into())
                    );
                }
                for tuple in batch {
                    wanted.push(
                        key.iter()
                            .enumerate()
                            .map(|(i, c)| {
                                if i == *auto {
                                    Value::from(id)
                                } else {
                                    tuple.get(c).cloned().unwrap_or(Value::Null)
                                }
                            })
                            .collect(),
                    );
                }
            }
        }
    }
    reread(cmd, relation, key.columns(), wanted).await
}
