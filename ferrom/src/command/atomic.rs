//! Running a command's several statements as one unit.
//!
//! On the pool, [`Atomic::begin`] takes a connection of its own and sends
//! `BEGIN`; [`Atomic::finish`] sends `COMMIT` when the work succeeded and
//! `ROLLBACK` when it failed, and gives the connection back. On a
//! connection the caller holds (a transaction's), it runs there inside a
//! `SAVEPOINT`, released on success and rolled back to on failure, so a
//! failing command leaves the caller's transaction as it was.
//!
//! A connection a [`Session`](crate::Session) holds is in autocommit mode:
//! there the savepoint is a no-op, each statement commits as it runs, and a
//! command of several statements is not atomic (`RELEASE SAVEPOINT` then
//! reports that the savepoint does not exist, which is taken as success).
//! Run such commands in a transaction when they must be atomic.
//!
//! A connection whose transaction state is unknown (a `COMMIT` that
//! failed, or an `Atomic` dropped mid-way because its future was dropped)
//! is closed rather than returned to the pool.

use crate::error::{Error, Result};
use crate::exec::{Exec, SharedConnection, Statement, hold};
use crate::relation::Relation;

const SAVEPOINT: &str = "SAVEPOINT ferrom_command";
const RELEASE: &str = "RELEASE SAVEPOINT ferrom_command";
const ROLLBACK_TO: &str = "ROLLBACK TO SAVEPOINT ferrom_command";

/// Runs `work` on `relation`'s statements as one unit when `needed`: in a
/// transaction (or savepoint) begun before and ended after it, committed
/// when it succeeds; otherwise (one statement, atomic by itself) directly
/// on `relation`.
///
/// # Errors
///
/// `work`'s error (then rolled back), or the error of beginning or ending
/// the unit.
pub(crate) async fn atomically<T>(
    relation: &Relation,
    needed: bool,
    work: impl AsyncFnOnce(&Relation) -> Result<T>,
) -> Result<T> {
    if !needed {
        return work(relation).await;
    }
    let atomic = Atomic::begin(relation).await?;
    let result = work(atomic.relation()).await;
    atomic.finish(result).await
}

/// A relation bound to a connection inside a transaction (or savepoint)
/// for the duration of one command.
struct Atomic {
    relation: Relation,
    /// The connection this `Atomic` took from the pool, when it did.
    owned: Option<SharedConnection>,
    /// Whether the work runs inside a savepoint of the caller's transaction.
    savepoint: bool,
}

impl Atomic {
    /// Starts the unit of work for `relation`'s statements.
    ///
    /// # Errors
    ///
    /// The pool's or the server's error, classified.
    async fn begin(relation: &Relation) -> Result<Atomic> {
        match &relation.exec {
            Exec::Connection(_) => {
                run(relation, SAVEPOINT).await?;
                Ok(Atomic {
                    relation: relation.clone(),
                    owned: None,
                    savepoint: true,
                })
            }
            Exec::Session(_) => {
                // A session's connection is in autocommit: a transaction of
                // the command's own, on that connection.
                run(relation, "BEGIN").await?;
                Ok(Atomic {
                    relation: relation.clone(),
                    owned: None,
                    savepoint: false,
                })
            }
            Exec::Pool => {
                let shared = hold(relation.gateway(), Some(relation.name())).await?;
                let atomic = Atomic {
                    relation: relation.with_exec(Exec::Connection(shared.clone())),
                    owned: Some(shared),
                    savepoint: false,
                };
                run(&atomic.relation, "BEGIN").await?;
                Ok(atomic)
            }
        }
    }

    /// The relation, its statements running inside the unit of work.
    fn relation(&self) -> &Relation {
        &self.relation
    }

    /// Ends the unit of work: commits (or releases the savepoint) when
    /// `result` is `Ok`, rolls back otherwise, and returns `result` (or the
    /// commit's error).
    ///
    /// # Errors
    ///
    /// `result`'s error; or, when `result` is `Ok`, the error of the
    /// `COMMIT` / `RELEASE SAVEPOINT`.
    async fn finish<T>(mut self, result: Result<T>) -> Result<T> {
        let ending = match (self.savepoint, result.is_ok()) {
            (true, true) => RELEASE,
            (true, false) => ROLLBACK_TO,
            (false, true) => "COMMIT",
            (false, false) => "ROLLBACK",
        };
        let ended = match run(&self.relation, ending).await {
            // No such savepoint: the connection is a session's, in
            // autocommit, where each statement committed as it ran.
            Err(e) if self.savepoint && is_missing_savepoint(&e) => Ok(()),
            other => other,
        };
        if let Some(shared) = self.owned.take() {
            let conn = shared.lock().await.take();
            if let Some(mut conn) = conn
                && ended.is_err()
            {
                // Its transaction state is unknown: do not reuse it.
                conn.close_on_drop();
            }
        }
        match (result, ended) {
            (Ok(value), Ok(())) => Ok(value),
            (Ok(_), Err(e)) | (Err(e), _) => Err(e),
        }
    }
}

impl Drop for Atomic {
    fn drop(&mut self) {
        // Dropped before `finish` (the call's future was dropped): the
        // server rolls back when the connection closes.
        let Some(shared) = self.owned.take() else {
            return;
        };
        match shared.try_lock() {
            Ok(mut guard) => {
                if let Some(mut conn) = guard.take() {
                    conn.close_on_drop();
                }
            }
            // A statement still holds the connection: close it once that
            // lets go, so it never returns to the pool mid-transaction.
            Err(_) => {
                if let Ok(handle) = tokio::runtime::Handle::try_current() {
                    let shared = shared.clone();
                    handle.spawn(async move {
                        if let Some(mut conn) = shared.lock().await.take() {
                            conn.close_on_drop();
                        }
                    });
                }
            }
        }
    }
}

/// MySQL's "SAVEPOINT ... does not exist" (1305).
fn is_missing_savepoint(error: &Error) -> bool {
    let Error::Database { source, .. } = error else {
        return false;
    };
    source
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
        .is_some_and(|d| d.number() == 1305)
}

async fn run(relation: &Relation, sql: &str) -> Result<()> {
    relation
        .exec
        .execute(
            relation.gateway(),
            Statement {
                sql: sql.into(),
                binds: &[],
                relation: Some(relation.name()),
            },
        )
        .await
        .map(drop)
}
