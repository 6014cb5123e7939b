//! Create: `INSERT` one or many rows, returning them as persisted.
//!
//! - With `RETURNING` (MariaDB): one `INSERT ... VALUES (...), ...
//!   RETURNING <every attribute>` per batch of rows.
//! - Without (MySQL): `INSERT`, then `SELECT` by key: the key values the
//!   input gives (caller-supplied, non-auto-increment and composite keys),
//!   or the auto-increment ids the server reports. A multi-row `INSERT`'s
//!   ids are consecutive only when `@@innodb_autoinc_lock_mode` is below 2;
//!   otherwise (and when some rows give their id and others do not) each
//!   row is inserted on its own.
//!
//! A batch holds as many rows as MySQL's 65,535 placeholders allow; more
//! than one statement runs in one transaction, so a failing batch writes
//! nothing.

use std::fmt;

use sqlx::mysql::MySqlRow;

use super::atomic::atomically;
use super::check::{AllReady, Ready, given_at, given_positions};
use super::input::Tuple;
use super::keys::{self, ReadKey};
use super::registry::AutoIncrement;
use super::statement::{InsertBatch, OnConflict, render_insert, rows_per_statement};
use super::{Command, fetch, fetch_one, run_insert};
use crate::error::{Error, Result};
use crate::relation::Relation;
use crate::relation::writing::key_batch;
use crate::row::decode_scalar;
use crate::value::Value;

/// Every attribute any tuple gives, in table order. `given` is the union
/// of the tuples' [`given_positions`] when every tuple has them (the
/// check works them out); without it the names are compared.
pub(crate) fn union_columns(cmd: &Command, tuples: &[Tuple], given: Option<u128>) -> Vec<String> {
    let attributes = cmd.relation.schema().attributes();
    attributes
        .iter()
        .enumerate()
        .filter(|(at, a)| {
            given_at(given, *at).unwrap_or_else(|| tuples.iter().any(|t| t.contains(&a.name)))
        })
        .map(|(_, a)| a.name.clone())
        .collect()
}

/// Every attribute, in table order (what `RETURNING` and re-reads list).
pub(crate) fn all_columns(cmd: &Command) -> Vec<String> {
    cmd.relation
        .schema()
        .attribute_names()
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Inserts `tuples`; returns the rows as persisted, in input order.
///
/// `given`: see [`union_columns`].
pub(crate) async fn create(
    cmd: &Command,
    tuples: Vec<Tuple>,
    given: Option<u128>,
) -> Result<Vec<MySqlRow>> {
    if tuples.is_empty() {
        return Ok(Vec::new());
    }
    if cmd.capabilities.insert_returning {
        return create_returning(cmd, &mut AllReady::new(tuples)).await;
    }
    let key = keys::choose(cmd.relation.schema(), &tuples, true).ok_or_else(|| {
        cmd.invalid(format!(
            "this server has no INSERT ... RETURNING, so created rows are re-read by key, and table `{}` has no primary key or unique key that every row gives",
            cmd.relation.schema().table()
        ))
    })?;
    atomically(&cmd.relation, tuples.len() > 1, async |relation| {
        insert_and_reread(cmd, relation, &tuples, &key, given).await
    })
    .await
}

/// Inserts `tuples` and reads nothing back (result `Count`); returns how
/// many rows were inserted. See [`insert_all`].
pub(crate) async fn create_count(cmd: &Command, tuples: &mut impl Ready) -> Result<u64> {
    Ok(insert_all(cmd, tuples, false).await?.0)
}

/// Inserts `tuples` with `RETURNING`; returns the rows as persisted. See
/// [`insert_all`].
pub(crate) async fn create_returning(
    cmd: &Command,
    tuples: &mut impl Ready,
) -> Result<Vec<MySqlRow>> {
    Ok(insert_all(cmd, tuples, true).await?.1)
}

/// Inserts checked `tuples` as they are made ready: one `INSERT` per as
/// many rows as the placeholders allow ([`InsertBatch`]), each tuple's
/// values encoded straight from where it lies. More than one statement run
/// in one transaction (a savepoint inside the caller's), begun before the
/// first is sent, so a failing statement, or a tuple that fails its check
/// after the first statement ran, writes nothing. With `returning`, each
/// statement ends in `RETURNING` every attribute.
///
/// Returns how many rows were inserted, and the rows `RETURNING` gave.
async fn insert_all(
    cmd: &Command,
    tuples: &mut impl Ready,
    returning: bool,
) -> Result<(u64, Vec<MySqlRow>)> {
    let mut statement = Statement::new(cmd, tuples.left());
    let more = statement.fill(tuples)?;
    if statement.batch.rows() == 0 {
        return Ok((0, Vec::new()));
    }
    let returning = returning.then(|| all_columns(cmd));
    let returning = returning.as_deref();
    if !more {
        return statement
            .run(cmd, &cmd.relation, returning, (0, Vec::new()))
            .await;
    }
    atomically(&cmd.relation, true, async |relation| {
        let mut written = (0, Vec::new());
        let mut more = more;
        while more {
            let full = std::mem::replace(&mut statement, Statement::new(cmd, tuples.left()));
            written = full.run(cmd, relation, returning, written).await?;
            more = statement.fill(tuples)?;
        }
        statement.run(cmd, relation, returning, written).await
    })
    .await
}

/// One `INSERT` of [`insert_all`] as it fills, and the tuples its values
/// came from (kept only when the trace shows them).
struct Statement {
    batch: InsertBatch,
    kept: Option<Vec<Tuple>>,
}

impl Statement {
    fn new(cmd: &Command, rows: usize) -> Statement {
        Statement {
            batch: InsertBatch::new(cmd.relation.schema(), rows),
            kept: tracing::enabled!(target: "ferrom::exec", tracing::Level::TRACE).then(Vec::new),
        }
    }

    /// Adds ready tuples while they fit; returns whether one is left that
    /// does not.
    fn fill(&mut self, tuples: &mut impl Ready) -> Result<bool> {
        loop {
            let ready = tuples.ready()?;
            if ready.is_empty() {
                return Ok(false);
            }
            let mut added = 0;
            for tuple in ready {
                if !self.batch.fits(tuple) {
                    tuples.take(added);
                    return Ok(true);
                }
                self.batch.push(tuple)?;
                added += 1;
                if let Some(kept) = &mut self.kept {
                    kept.push(tuple.clone());
                }
            }
            tuples.take(added);
        }
    }

    /// Sends the statement on `relation`; adds what it wrote to `written`.
    async fn run(
        self,
        cmd: &Command,
        relation: &Relation,
        returning: Option<&[String]>,
        (count, mut rows): (u64, Vec<MySqlRow>),
    ) -> Result<(u64, Vec<MySqlRow>)> {
        let from = Encoded {
            rows: self.batch.rows(),
            kept: self.kept,
        };
        let insert = self.batch.finish(cmd.relation.schema(), returning);
        let inserted = run_insert(relation, insert, from).await?;
        let count = count + inserted.rows_affected();
        rows.extend(inserted.into_rows());
        Ok((count, rows))
    }
}

/// What an `INSERT`'s values were encoded from, as the trace shows it: the
/// tuples when they were kept, else how many there were.
struct Encoded {
    rows: usize,
    kept: Option<Vec<Tuple>>,
}

impl fmt::Debug for Encoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kept {
            Some(kept) => kept.fmt(f),
            None => write!(f, "<{} rows>", self.rows),
        }
    }
}

/// Inserts on `relation` (the command's, or one bound to a transaction),
/// then re-reads the rows by `key`.
async fn insert_and_reread(
    cmd: &Command,
    relation: &Relation,
    tuples: &[Tuple],
    key: &ReadKey,
    given: Option<u128>,
) -> Result<Vec<MySqlRow>> {
    let table = relation.schema().table();
    let columns = union_columns(cmd, tuples, given);
    let per_statement = rows_per_statement(columns.len());
    let mut wanted: Vec<Vec<Value>> = Vec::with_capacity(tuples.len());
    match key {
        ReadKey::Given(key) => {
            for batch in tuples.chunks(per_statement) {
                let insert = render_insert(table, &columns, batch, OnConflict::Fail, None)?;
                run_insert(relation, insert, batch).await?;
            }
            wanted.extend(tuples.iter().filter_map(|t| keys::key_of(t, key)));
        }
        ReadKey::Generated { key, auto } => {
            let auto_column = &key[*auto];
            let none_give_it = tuples.iter().all(|t| !t.contains(auto_column));
            // One INSERT per batch works when the server generates every
            // id, consecutively (one row, or lock mode below 2).
            let batched =
                none_give_it && (tuples.len() == 1 || autoinc(cmd, relation).await?.lock_mode < 2);
            if batched {
                let step = if tuples.len() == 1 {
                    1
                } else {
                    autoinc(cmd, relation).await?.increment
                };
                for batch in tuples.chunks(per_statement) {
                    let insert = render_insert(table, &columns, batch, OnConflict::Fail, None)?;
                    let first = generated_id(
                        cmd,
                        run_insert(relation, insert, batch).await?.last_insert_id(),
                    )?;
                    for (i, tuple) in batch.iter().enumerate() {
                        let id = u64::try_from(i)
                            .ok()
                            .and_then(|i| i.checked_mul(step))
                            .and_then(|o| o.checked_add(first))
                            .ok_or_else(|| {
                                cmd.invalid("the generated ids overflow 64 bits".into())
                            })?;
                        wanted.push(generated_key(tuple, key, *auto, id));
                    }
                }
            } else {
                // One row per statement: each statement's insert id is that
                // row's (or the row gives its own).
                for tuple in tuples {
                    let columns =
                        union_columns(cmd, std::slice::from_ref(tuple), given_positions(tuple));
                    let row = std::slice::from_ref(tuple);
                    let insert = render_insert(table, &columns, row, OnConflict::Fail, None)?;
                    let result = run_insert(relation, insert, row).await?;
                    match keys::key_of(tuple, key) {
                        Some(given) => wanted.push(given),
                        None => {
                            let id = generated_id(cmd, result.last_insert_id())?;
                            wanted.push(generated_key(tuple, key, *auto, id));
                        }
                    }
                }
            }
        }
    }
    reread(cmd, relation, key.columns(), wanted).await
}

/// Selects the rows with `wanted` keys, in the order wanted.
pub(crate) async fn reread(
    cmd: &Command,
    relation: &Relation,
    key: &[String],
    wanted: Vec<Vec<Value>>,
) -> Result<Vec<MySqlRow>> {
    let distinct = keys::distinct(wanted);
    if let [one] = distinct.as_slice() {
        // One key, one row at most: read as it arrives.
        let select = relation.render_select_by_keys(key, std::slice::from_ref(one))?;
        return Ok(fetch_one(relation, &select.sql, &select.binds)
            .await?
            .into_iter()
            .collect());
    }
    let mut rows = Vec::with_capacity(distinct.len());
    for batch in distinct.chunks(key_batch(key.len(), 0)) {
        let select = relation.render_select_by_keys(key, batch)?;
        rows.extend(fetch(relation, &select.sql, &select.binds).await?);
    }
    keys::in_order(
        rows,
        &keys::positions(cmd.relation.schema(), key),
        &distinct,
    )
}

fn generated_key(tuple: &Tuple, key: &[String], auto: usize, id: u64) -> Vec<Value> {
    key.iter()
        .enumerate()
        .map(|(i, c)| {
            if i == auto {
                Value::from(id)
            } else {
                tuple.get(c).cloned().unwrap_or(Value::Null)
            }
        })
        .collect()
}

fn generated_id(cmd: &Command, id: u64) -> Result<u64> {
    if id == 0 {
        return Err(cmd.invalid(
            "the server reported no generated id for an insert into an auto-increment key".into(),
        ));
    }
    Ok(id)
}

/// The server's auto-increment settings, read once per relation.
async fn autoinc(cmd: &Command, relation: &Relation) -> Result<AutoIncrement> {
    cmd.registry
        .autoinc
        .get_or_try_init(|| async {
            let rows = fetch(
                relation,
                "SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment",
                &[],
            )
            .await?;
            let row = rows.first().ok_or_else(|| Error::InvalidQuery {
                relation: relation.name().to_string(),
                reason: "the server did not report its auto-increment settings".into(),
            })?;
            let lock_mode = decode_scalar(row, 0)?.as_i64().unwrap_or(2);
            let increment = decode_scalar(row, 1)?
                .as_i64()
                .and_then(|i| u64::try_from(i).ok())
                .filter(|i| *i > 0)
                .unwrap_or(1);
            Ok(AutoIncrement {
                lock_mode,
                increment,
            })
        })
        .await
        .copied()
}
