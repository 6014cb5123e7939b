//! Delete: the rows of the restricted relation, returned as they were.
//!
//! - With `DELETE ... RETURNING` (MariaDB), a relation restricted by
//!   conditions on its own table (or not at all): one statement.
//! - Otherwise, in a transaction: `SELECT <every attribute> ... FOR UPDATE`
//!   with the relation's conditions, joins, order and limit, then `DELETE
//!   ... WHERE pk IN (...)` for the rows found.
//!
//! The unrestricted relation deletes every row.

use sqlx::mysql::MySqlRow;

use super::atomic::atomically;
use super::keys;
use super::{Command, execute, fetch};
use crate::error::Result;
use crate::relation::Relation;
use crate::relation::writing::{Target, key_batch};

/// Deletes the command's relation's rows.
pub(crate) async fn delete(cmd: &Command) -> Result<Vec<MySqlRow>> {
    let target = cmd.relation.write_target()?;
    if cmd.capabilities.delete_returning && target != Target::Complex {
        let delete = cmd.relation.render_delete(None, true)?;
        return fetch(&cmd.relation, &delete.sql, &delete.binds).await;
    }
    delete_in_transaction(cmd, &target).await
}

/// Deletes the command's relation's rows and reads nothing back (result
/// `Count`): one `DELETE` with the relation's conditions, or, for a
/// relation with joins, a limit or an offset, the locked select and the
/// deletes by key in a transaction. Returns how many rows were deleted.
pub(crate) async fn delete_count(cmd: &Command) -> Result<u64> {
    let target = cmd.relation.write_target()?;
    if target != Target::Complex {
        let delete = cmd.relation.render_delete(None, false)?;
        return Ok(execute(&cmd.relation, &delete.sql, &delete.binds)
            .await?
            .rows_affected());
    }
    let rows = delete_in_transaction(cmd, &target).await?;
    Ok(rows.len() as u64)
}

/// Locks the relation's rows and deletes them by key, in a transaction;
/// returns them as they were. The locking select is rendered first, so a
/// relation that cannot be rendered (too many parameters) sends nothing,
/// not even `BEGIN`.
async fn delete_in_transaction(cmd: &Command, target: &Target) -> Result<Vec<MySqlRow>> {
    cmd.relation.render_locked_select(None)?;
    atomically(&cmd.relation, true, async |relation| {
        delete_locked(cmd, relation, target).await
    })
    .await
}

async fn delete_locked(
    cmd: &Command,
    relation: &Relation,
    target: &Target,
) -> Result<Vec<MySqlRow>> {
    let select = relation.render_locked_select(None)?;
    let found = fetch(relation, &select.sql, &select.binds).await?;
    if found.is_empty() {
        return Ok(found);
    }
    let pk = relation.schema().primary_key_columns();
    if pk.is_empty() {
        if *target == Target::Complex {
            return Err(cmd.invalid(format!(
                "table `{}` has no primary key, so the rows of a relation with joins, a limit or an offset cannot be deleted exactly; restrict it with conditions on its own columns",
                relation.schema().table()
            )));
        }
        // The rows are locked; the same condition deletes them.
        let delete = relation.render_delete(None, false)?;
        execute(relation, &delete.sql, &delete.binds).await?;
        return Ok(found);
    }
    let positions = keys::positions(relation.schema(), pk);
    let mut rows = Vec::with_capacity(found.len());
    let mut doomed = Vec::with_capacity(found.len());
    let mut seen = std::collections::HashSet::with_capacity(found.len());
    for row in found {
        let key = keys::row_key(&row, &positions)?;
        // A join can return a row more than once.
        if seen.insert(keys::exact_text(&key)) {
            doomed.push(key);
            rows.push(row);
        }
    }
    for batch in doomed.chunks(key_batch(pk.len(), 0)) {
        let delete = relation.render_delete(Some((pk, batch)), false)?;
        execute(relation, &delete.sql, &delete.binds).await?;
    }
    Ok(rows)
}
