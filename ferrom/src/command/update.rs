//! Update: the rows of the restricted relation, returned as persisted.
//!
//! - Restricted by exactly its primary key (`by_pk`): `UPDATE ... WHERE
//!   pk = ?`, then `SELECT ... WHERE pk = ?` (the new key, when the update
//!   sets it), both on one connection (one pool checkout).
//! - Otherwise, in a transaction: `SELECT pk ... FOR UPDATE` with the
//!   relation's conditions, joins, order and limit; `UPDATE ... WHERE pk IN
//!   (...)`; `SELECT ... WHERE pk IN (...)`.
//!
//! No matching row: nothing is changed and nothing returned.

use smallvec::SmallVec;
use sqlx::mysql::MySqlRow;

use super::atomic::atomically;
use super::create::reread;
use super::input::Tuple;
use super::keys;
use super::{Command, execute, fetch};
use crate::error::Result;
use crate::exec::{Exec, hold};
use crate::relation::Relation;
use crate::relation::writing::{Assignment, Target, key_batch};
use crate::value::Value;

/// What an update sets (held inline for up to eight attributes).
type Assignments<'t> = SmallVec<[Assignment<'t>; 8]>;

/// The relation's primary key and the assignments `tuple` makes (borrowed
/// from it).
///
/// # Errors
///
/// [`Error::InvalidCommand`](crate::Error::InvalidCommand) when the table
/// has no primary key.
fn key_and_set<'c, 't>(
    cmd: &'c Command,
    tuple: &'t Tuple,
) -> Result<(&'c [String], Assignments<'t>)> {
    let schema = cmd.relation.schema();
    let pk = schema.primary_key_columns();
    if pk.is_empty() {
        return Err(cmd.invalid(format!(
            "table `{}` has no primary key, which an update needs to return the rows it updated",
            schema.table()
        )));
    }
    Ok((pk, tuple.iter().collect()))
}

/// Updates the command's relation with `tuple`.
pub(crate) async fn update(cmd: &Command, tuple: Tuple) -> Result<Vec<MySqlRow>> {
    let (pk, set) = key_and_set(cmd, &tuple)?;
    match cmd.relation.write_target()? {
        Target::ByPk(key) => {
            // On the pool, both statements run on one checked-out
            // connection (in autocommit, as they would on two): one pool
            // checkout, and its ping, instead of two.
            let relation = match &cmd.relation.exec {
                Exec::Pool if !set.is_empty() => {
                    let shared = hold(cmd.relation.gateway(), Some(cmd.relation.name())).await?;
                    cmd.relation.with_exec(Exec::Connection(shared))
                }
                _ => cmd.relation.clone(),
            };
            if !set.is_empty() {
                let update = relation.render_update(&set, pk, std::slice::from_ref(&key))?;
                execute(&relation, &update.sql, &update.binds).await?;
            }
            let new_key = rekeyed(pk, key, &set);
            reread(cmd, &relation, pk, vec![new_key]).await
        }
        _ => {
            in_transaction(cmd, pk, async |relation| {
                update_locked(cmd, relation, pk, &set).await
            })
            .await
        }
    }
}

/// Updates the command's relation with `tuple` and reads nothing back
/// (result `Count`): restricted by its primary key, one `UPDATE`;
/// otherwise the locked select and the updates, in a transaction. Returns
/// how many rows matched.
pub(crate) async fn update_count(cmd: &Command, tuple: Tuple) -> Result<u64> {
    let (pk, set) = key_and_set(cmd, &tuple)?;
    match cmd.relation.write_target()? {
        Target::ByPk(key) if !set.is_empty() => {
            let update = cmd
                .relation
                .render_update(&set, pk, std::slice::from_ref(&key))?;
            // The server reports matched rows (sqlx asks for FOUND_ROWS).
            Ok(execute(&cmd.relation, &update.sql, &update.binds)
                .await?
                .rows_affected())
        }
        _ => {
            let keys = in_transaction(cmd, pk, async |relation| {
                update_keys(relation, pk, &set).await
            })
            .await?;
            Ok(keys.len() as u64)
        }
    }
}

/// Runs `work` on the relation in a transaction. The locking select is
/// rendered first, so a relation that cannot be rendered (too many
/// parameters) sends nothing, not even `BEGIN`.
async fn in_transaction<T>(
    cmd: &Command,
    pk: &[String],
    work: impl AsyncFnOnce(&Relation) -> Result<T>,
) -> Result<T> {
    cmd.relation.render_locked_select(Some(pk))?;
    atomically(&cmd.relation, true, work).await
}

async fn update_locked(
    cmd: &Command,
    relation: &Relation,
    pk: &[String],
    set: &[Assignment<'_>],
) -> Result<Vec<MySqlRow>> {
    let old_keys = update_keys(relation, pk, set).await?;
    if old_keys.is_empty() {
        return Ok(Vec::new());
    }
    let new_keys: Vec<Vec<Value>> = old_keys.into_iter().map(|k| rekeyed(pk, k, set)).collect();
    reread(cmd, relation, pk, new_keys).await
}

/// Locks the relation's rows, updates them by key and returns their keys
/// from before the update.
async fn update_keys(
    relation: &Relation,
    pk: &[String],
    set: &[Assignment<'_>],
) -> Result<Vec<Vec<Value>>> {
    let select = relation.render_locked_select(Some(pk))?;
    let positions: Vec<usize> = (0..pk.len()).collect();
    let found = fetch(relation, &select.sql, &select.binds).await?;
    let old_keys = keys::distinct(
        found
            .iter()
            .map(|row| keys::row_key(row, &positions))
            .collect::<Result<_>>()?,
    );
    if !set.is_empty() {
        for batch in old_keys.chunks(key_batch(pk.len(), set.len())) {
            let update = relation.render_update(set, pk, batch)?;
            execute(relation, &update.sql, &update.binds).await?;
        }
    }
    Ok(old_keys)
}

/// `key` with the key columns `set` assigns replaced.
fn rekeyed(pk: &[String], mut key: Vec<Value>, set: &[Assignment<'_>]) -> Vec<Value> {
    for (column, value) in pk.iter().zip(key.iter_mut()) {
        if let Some((_, new)) = set.iter().find(|(name, _)| name == column) {
            *value = (*new).clone();
        }
    }
    key
}
