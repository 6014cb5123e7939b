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

use std::sync::Arc;

use sqlx::mysql::MySqlRow;
use tokio::sync::Mutex;

use super::atomic::Atomic;
use super::create::reread;
use super::input::Tuple;
use super::keys;
use super::{Command, execute, fetch};
use crate::error::Result;
use crate::exec::{Exec, SharedConnection};
use crate::relation::Relation;
use crate::relation::writing::{Target, key_batch};
use crate::value::Value;

/// Updates the command's relation with `tuple`.
pub(crate) async fn update(cmd: &Command, tuple: Tuple) -> Result<Vec<MySqlRow>> {
    let pk: Vec<String> = cmd
        .relation
        .schema()
        .primary_key_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    if pk.is_empty() {
        return Err(cmd.invalid(format!(
            "table `{}` has no primary key, which an update needs to return the rows it updated",
            cmd.relation.schema().table()
        )));
    }
    let set: Vec<(String, Value)> = tuple
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    match cmd.relation.write_target()? {
        Target::ByPk(key) => {
            // On the pool, both statements run on one checked-out
            // connection (in autocommit, as they would on two): one pool
            // checkout, and its ping, instead of two.
            let relation = match &cmd.relation.exec {
                Exec::Pool if !set.is_empty() => {
                    let gateway = cmd.relation.gateway();
                    let conn = gateway
                        .pool()
                        .acquire()
                        .await
                        .map_err(|e| gateway.acquire_error(Some(cmd.relation.name()), e))?;
                    let shared: SharedConnection = Arc::new(Mutex::new(Some(conn)));
                    cmd.relation.with_exec(Exec::Connection(shared))
                }
                _ => cmd.relation.clone(),
            };
            if !set.is_empty() {
                let update = relation.render_update(&set, &pk, std::slice::from_ref(&key))?;
                execute(&relation, &update.sql, &update.binds).await?;
            }
            let new_key = rekeyed(&pk, &key, &set);
            reread(cmd, &relation, &pk, &[new_key]).await
        }
        _ => {
            let atomic = Atomic::begin(&cmd.relation).await?;
            let result = update_locked(cmd, atomic.relation(), &pk, &set).await;
            atomic.finish(result).await
        }
    }
}

async fn update_locked(
    cmd: &Command,
    relation: &Relation,
    pk: &[String],
    set: &[(String, Value)],
) -> Result<Vec<MySqlRow>> {
    let select = relation.render_locked_select(Some(pk))?;
    let positions: Vec<usize> = (0..pk.len()).collect();
    let found = fetch(relation, &select.sql, &select.binds).await?;
    let old_keys = keys::distinct(
        found
            .iter()
            .map(|row| keys::row_key(row, &positions))
            .collect::<Result<_>>()?,
    );
    if old_keys.is_empty() {
        return Ok(Vec::new());
    }
    if !set.is_empty() {
        for batch in old_keys.chunks(key_batch(pk.len(), set.len())) {
            let update = relation.render_update(set, pk, batch)?;
            execute(relation, &update.sql, &update.binds).await?;
        }
    }
    let new_keys: Vec<Vec<Value>> = old_keys.iter().map(|k| rekeyed(pk, k, set)).collect();
    reread(cmd, relation, pk, &new_keys).await
}

/// `key` with the key columns `set` assigns replaced.
fn rekeyed(pk: &[String], key: &[Value], set: &[(String, Value)]) -> Vec<Value> {
    pk.iter()
        .zip(key)
        .map(|(column, old)| {
            set.iter()
                .find(|(name, _)| name == column)
                .map_or_else(|| old.clone(), |(_, new)| new.clone())
        })
        .collect()
}
