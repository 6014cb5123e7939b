//! Transactions, sessions and the opt-in retry helper.
//!
//! A [`Transaction`] holds one connection between `START TRANSACTION` and
//! `COMMIT`/`ROLLBACK`; relations (and the commands reached through them)
//! bound to it with [`Transaction::bind`] or [`Transaction::relation`] run on
//! that connection. [`Container::transaction`] is the scope form: it commits
//! when the closure returns `Ok`, rolls back on `Err` (and when
//! [`Transaction::rollback_on_exit`] was called), and nested scopes
//! ([`Transaction::savepoint`]) use savepoints.
//!
//! ```no_run
//! # async fn demo(container: &ferrom::Container) -> ferrom::Result<()> {
//! let copied = container
//!     .transaction(|tx| async move {
//!         let posts = tx.relation("posts")?;
//!         let n = posts.count().await?;
//!         posts.read("INSERT INTO posts_archive SELECT * FROM posts", &[]).await?;
//!         Ok(n)
//!     })
//!     .await?;
//! # let _ = copied; Ok(()) }
//! ```
//!
//! A [`Session`] holds one connection without a transaction, so that a hot
//! loop of calls does not pay a pool checkout (and its ping) per call.
//!
//! [`retry`] re-runs a whole unit of work when it fails with a deadlock or a
//! lock wait timeout. It is opt-in: ferrom never retries a write by itself.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use crate::container::Container;
use crate::error::{Error, Result};
use crate::exec::{Exec, SharedConnection, Statement, hold};
use crate::gateway::Gateway;
use crate::relation::Relation;

/// A transaction isolation level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// `READ UNCOMMITTED`.
    ReadUncommitted,
    /// `READ COMMITTED`.
    ReadCommitted,
    /// `REPEATABLE READ` (InnoDB's default).
    RepeatableRead,
    /// `SERIALIZABLE`.
    Serializable,
}

impl Isolation {
    fn sql(self) -> &'static str {
        match self {
            Isolation::ReadUncommitted => "SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED",
            Isolation::ReadCommitted => "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
            Isolation::RepeatableRead => "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            Isolation::Serializable => "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        }
    }
}

/// One connection taken from a gateway's pool, shared by the relations
/// bound to it.
#[derive(Debug)]
struct Held {
    /// A transaction is open on the connection (not a plain session).
    in_transaction: bool,
    gateway: Gateway,
    conn: SharedConnection,
    relations: std::collections::BTreeMap<String, Relation>,
}

impl Held {
    async fn take(container: &Container, gateway: &str, in_transaction: bool) -> Result<Held> {
        let gateway = container.gateway(gateway)?.clone();
        let conn = hold(&gateway, None).await?;
        let relations = container
            .relations()
            .iter()
            .filter(|(_, r)| {
                r.gateway().database() == gateway.database() && r.gateway().url() == gateway.url()
            })
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect();
        Ok(Held {
            in_transaction,
            gateway,
            conn,
            relations,
        })
    }

    fn exec(&self) -> Exec {
        if self.in_transaction {
            Exec::Connection(self.conn.clone())
        } else {
            Exec::Session(self.conn.clone())
        }
    }

    async fn run(&self, sql: &str) -> Result<()> {
        self.exec()
            .execute(
                &self.gateway,
                Statement {
                    sql: sql.into(),
                    binds: &[],
                    relation: None,
                },
            )
            .await
            .map(drop)
    }

    fn bind(&self, relation: &Relation) -> Result<Relation> {
        if relation.gateway().url() != self.gateway.url() {
            return Err(Error::InvalidQuery {
                relation: relation.name().to_string(),
                reason: format!(
                    "it reads through {}, not through this transaction's gateway {}",
                    relation.gateway().url(),
                    self.gateway.url()
                ),
            });
        }
        Ok(relation.with_exec(self.exec()))
    }

    fn relation(&self, name: &str) -> Result<Relation> {
        let relation = self
            .relations
            .get(name)
            .ok_or_else(|| Error::UnknownRelation {
                name: name.to_string(),
                known: self.relations.keys().cloned().collect(),
            })?;
        self.bind(relation)
    }

    /// Gives the connection back to the pool (it can no longer be used by
    /// relations bound to it).
    async fn release(&self) {
        drop(self.conn.lock().await.take());
    }
}

/// An open transaction on one connection. Dropping it without
/// [`commit`](Transaction::commit) rolls it back.
#[derive(Clone, Debug)]
pub struct Transaction {
    inner: Arc<TxInner>,
}

#[derive(Debug)]
struct TxInner {
    held: Held,
    depth: AtomicU32,
    rollback_only: AtomicBool,
    finished: AtomicBool,
}

impl Drop for TxInner {
    fn drop(&mut self) {
        if self.finished.load(Ordering::SeqCst) {
            return;
        }
        // Never give a connection with an open transaction back to the pool:
        // roll it back first, or close it when there is no runtime.
        let conn = self.held.conn.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    let mut guard = conn.lock().await;
                    if let Some(mut c) = guard.take()
                        && sqlx::Executor::execute(&mut *c, "ROLLBACK").await.is_err()
                    {
                        drop(c.detach());
                    }
                });
            }
            Err(_) => {
                if let Ok(mut guard) = conn.try_lock()
                    && let Some(c) = guard.take()
                {
                    drop(c.detach());
                }
            }
        }
    }
}

impl Transaction {
    async fn begin(
        container: &Container,
        gateway: &str,
        isolation: Option<Isolation>,
    ) -> Result<Transaction> {
        let held = Held::take(container, gateway, true).await?;
        if let Some(level) = isolation {
            held.run(level.sql()).await?;
        }
        held.run("START TRANSACTION").await?;
        Ok(Transaction {
            inner: Arc::new(TxInner {
                held,
                depth: AtomicU32::new(0),
                rollback_only: AtomicBool::new(false),
                finished: AtomicBool::new(false),
            }),
        })
    }

    /// The relation registered under `name`, bound to this transaction.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRelation`] (relations of other gateways are not
    /// reachable from this transaction).
    pub fn relation(&self, name: &str) -> Result<Relation> {
        self.inner.held.relation(name)
    }

    /// The same relation, its statements (and its commands') run in this
    /// transaction.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidQuery`] when the relation reads through another
    /// gateway.
    pub fn bind(&self, relation: &Relation) -> Result<Relation> {
        self.inner.held.bind(relation)
    }

    /// Marks the transaction to be rolled back when its scope ends, even if
    /// the scope returns `Ok` (ROM's `rollback!`).
    pub fn rollback_on_exit(&self) {
        self.inner.rollback_only.store(true, Ordering::SeqCst);
    }

    /// Whether the scope will roll back.
    pub fn is_rollback_only(&self) -> bool {
        self.inner.rollback_only.load(Ordering::SeqCst)
    }

    /// Commits and gives the connection back.
    ///
    /// # Errors
    ///
    /// The server's error; the transaction is then rolled back.
    pub async fn commit(self) -> Result<()> {
        self.finish(true).await
    }

    /// Rolls back and gives the connection back.
    ///
    /// # Errors
    ///
    /// The server's error (the connection is closed rather than reused).
    pub async fn rollback(self) -> Result<()> {
        self.finish(false).await
    }

    async fn finish(&self, commit: bool) -> Result<()> {
        if self.inner.finished.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        let result = self.inner.held.run(sql).await;
        if result.is_err() {
            // A connection in an unknown state never goes back to the pool.
            if let Some(c) = self.inner.held.conn.lock().await.take() {
                drop(c.detach());
            }
        }
        self.inner.held.release().await;
        result
    }

    /// A nested scope: `SAVEPOINT`, then `RELEASE SAVEPOINT` when `work`
    /// returns `Ok`, `ROLLBACK TO SAVEPOINT` when it returns `Err` (the outer
    /// transaction goes on).
    ///
    /// # Errors
    ///
    /// `work`'s error, after rolling back to the savepoint; or the server's.
    pub async fn savepoint<F, Fut, T>(&self, work: F) -> Result<T>
    where
        F: FnOnce(Transaction) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let depth = self.inner.depth.fetch_add(1, Ordering::SeqCst) + 1;
        let name = format!("ferrom_sp_{depth}");
        self.inner.held.run(&format!("SAVEPOINT {name}")).await?;
        let result = work(self.clone()).await;
        self.inner.depth.fetch_sub(1, Ordering::SeqCst);
        match result {
            Ok(value) => {
                self.inner
                    .held
                    .run(&format!("RELEASE SAVEPOINT {name}"))
                    .await?;
                Ok(value)
            }
            Err(e) => {
                self.inner
                    .held
                    .run(&format!("ROLLBACK TO SAVEPOINT {name}"))
                    .await?;
                Err(e)
            }
        }
    }

    /// Same as [`Transaction::savepoint`]: a transaction inside a
    /// transaction is a savepoint.
    ///
    /// # Errors
    ///
    /// As [`Transaction::savepoint`].
    pub async fn transaction<F, Fut, T>(&self, work: F) -> Result<T>
    where
        F: FnOnce(Transaction) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.savepoint(work).await
    }
}

/// One connection checked out of a gateway's pool for a sequence of calls,
/// without a transaction: bound relations skip the per-call pool checkout.
#[derive(Clone, Debug)]
pub struct Session {
    held: Arc<Held>,
}

impl Session {
    /// The relation registered under `name`, bound to this session.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRelation`].
    pub fn relation(&self, name: &str) -> Result<Relation> {
        self.held.relation(name)
    }

    /// The same relation, run on this session's connection.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidQuery`] when the relation reads through another
    /// gateway.
    pub fn bind(&self, relation: &Relation) -> Result<Relation> {
        self.held.bind(relation)
    }
}

impl Container {
    /// Starts a transaction on the `default` gateway.
    ///
    /// # Errors
    ///
    /// When no connection can be had or `START TRANSACTION` fails.
    pub async fn begin(&self) -> Result<Transaction> {
        Transaction::begin(self, crate::container::DEFAULT_GATEWAY, None).await
    }

    /// Starts a transaction on a named gateway, at an isolation level.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownGateway`]; as [`Container::begin`].
    pub async fn begin_with(
        &self,
        gateway: &str,
        isolation: Option<Isolation>,
    ) -> Result<Transaction> {
        Transaction::begin(self, gateway, isolation).await
    }

    /// Runs `work` in a transaction on the `default` gateway: commits when it
    /// returns `Ok` (unless [`Transaction::rollback_on_exit`] was called),
    /// rolls back when it returns `Err`.
    ///
    /// # Errors
    ///
    /// `work`'s error (after the rollback), or the server's.
    pub async fn transaction<F, Fut, T>(&self, work: F) -> Result<T>
    where
        F: FnOnce(Transaction) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.transaction_with(crate::container::DEFAULT_GATEWAY, None, work)
            .await
    }

    /// [`Container::transaction`] on a named gateway at an isolation level.
    ///
    /// # Errors
    ///
    /// As [`Container::transaction`].
    pub async fn transaction_with<F, Fut, T>(
        &self,
        gateway: &str,
        isolation: Option<Isolation>,
        work: F,
    ) -> Result<T>
    where
        F: FnOnce(Transaction) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let tx = Transaction::begin(self, gateway, isolation).await?;
        match work(tx.clone()).await {
            Ok(value) => {
                if tx.is_rollback_only() {
                    tx.finish(false).await?;
                } else {
                    tx.finish(true).await?;
                }
                Ok(value)
            }
            Err(e) => {
                let _ = tx.finish(false).await;
                Err(e)
            }
        }
    }

    /// Checks one connection out of the `default` gateway for a sequence of
    /// calls.
    ///
    /// # Errors
    ///
    /// When no connection can be had.
    pub async fn session(&self) -> Result<Session> {
        Ok(Session {
            held: Arc::new(Held::take(self, crate::container::DEFAULT_GATEWAY, false).await?),
        })
    }
}

/// Runs `work` again, up to `attempts` times in all, while it fails with
/// [`Error::Deadlock`] or [`Error::LockWaitTimeout`] (with a short, growing
/// pause between attempts). Any other result is returned as is.
///
/// Opt-in by design: wrap a whole unit of work (typically a
/// [`Container::transaction`]) that is safe to repeat; ferrom never retries
/// a write on its own.
///
/// # Errors
///
/// The last error when every attempt failed, or the first error that is not
/// a deadlock or lock wait timeout.
pub async fn retry<F, Fut, T>(attempts: u32, mut work: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let attempts = attempts.max(1);
    let mut n = 0;
    loop {
        n += 1;
        match work().await {
            Err(e @ (Error::Deadlock { .. } | Error::LockWaitTimeout { .. })) if n < attempts => {
                tracing::info!(attempt = n, error = %e, "retrying after a transient lock error");
                tokio::time::sleep(Duration::from_millis(10 * u64::from(n))).await;
            }
            other => return other,
        }
    }
}
