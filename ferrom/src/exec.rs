//! Where statements run: the gateway's pool, or one connection held by a
//! transaction (or a checked-out session). Every statement ferrom sends
//! goes through [`Exec`], which binds the values, traces the statement
//! (a `tracing` span with the SQL and its duration; bound values only at
//! `trace` level), counts it on the gateway and classifies its error.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use sqlx::MySqlConnection;
use sqlx::mysql::{MySqlArguments, MySqlQueryResult, MySqlRow};
use sqlx::pool::PoolConnection;
use sqlx::{FromRow, MySql};
use tokio::sync::{Mutex, OwnedMutexGuard};
use tracing::Instrument;

use crate::bind::arguments;
use crate::error::{Error, Result};
use crate::gateway::Gateway;
use crate::relation::query::SqlText;
use crate::value::Value;

/// One connection shared by the calls of a transaction or session.
pub(crate) type SharedConnection = Arc<Mutex<Option<PoolConnection<MySql>>>>;

/// Where a relation's or command's statements run.
#[derive(Clone, Debug)]
pub(crate) enum Exec {
    /// Any free connection of the gateway's pool.
    Pool,
    /// One connection, held by a transaction or session.
    Connection(SharedConnection),
    /// One connection in autocommit, held by a [`Session`](crate::Session):
    /// a command needing several statements opens its own transaction on it.
    Session(SharedConnection),
}

/// What an insert answered: how it went, or the rows of its `RETURNING`.
#[derive(Debug)]
pub(crate) enum Inserted {
    Done(MySqlQueryResult),
    Rows(Vec<MySqlRow>),
}

impl Inserted {
    /// The first id the server generated (0 after `RETURNING`, which gives
    /// the rows instead).
    pub(crate) fn last_insert_id(&self) -> u64 {
        match self {
            Inserted::Done(done) => done.last_insert_id(),
            Inserted::Rows(_) => 0,
        }
    }

    /// How many rows it wrote.
    pub(crate) fn rows_affected(&self) -> u64 {
        match self {
            Inserted::Done(done) => done.rows_affected(),
            Inserted::Rows(rows) => rows.len() as u64,
        }
    }

    /// The rows `RETURNING` gave (none without it).
    pub(crate) fn into_rows(self) -> Vec<MySqlRow> {
        match self {
            Inserted::Rows(rows) => rows,
            Inserted::Done(_) => Vec::new(),
        }
    }
}

/// A statement ready to run: SQL with `?` placeholders and its values.
#[derive(Clone, Debug)]
pub(crate) struct Statement<'a> {
    pub(crate) sql: Sql<'a>,
    pub(crate) binds: &'a [Value],
    /// The relation it is about, for error messages.
    pub(crate) relation: Option<&'a str>,
}

/// A statement's SQL as the driver takes it: text borrowed for the call
/// (which the driver copies), or text a relation shares between calls
/// (handed over without a copy).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Sql<'a> {
    Text(&'a str),
    Shared(&'a Arc<str>),
}

impl Sql<'_> {
    /// The text.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Sql::Text(text) => text,
            Sql::Shared(text) => text,
        }
    }

    /// The text as the driver's statement string.
    fn driver(self) -> sqlx::SqlStr {
        use sqlx::{AssertSqlSafe, SqlSafeStr as _};
        match self {
            Sql::Text(text) => AssertSqlSafe(text).into_sql_str(),
            Sql::Shared(text) => AssertSqlSafe(Arc::clone(text)).into_sql_str(),
        }
    }
}

impl<'a> From<&'a str> for Sql<'a> {
    fn from(text: &'a str) -> Sql<'a> {
        Sql::Text(text)
    }
}

impl<'a> From<&'a String> for Sql<'a> {
    fn from(text: &'a String) -> Sql<'a> {
        Sql::Text(text)
    }
}

impl<'a> From<&'a SqlText> for Sql<'a> {
    fn from(text: &'a SqlText) -> Sql<'a> {
        match text {
            SqlText::Owned(text) => Sql::Text(text),
            SqlText::Shared(text) => Sql::Shared(text),
        }
    }
}

/// A connection checked out of `gateway`'s pool to run several statements
/// on, one after the other (a transaction's, a session's, a command's).
///
/// # Errors
///
/// As [`Gateway::acquire`].
pub(crate) async fn hold(gateway: &Gateway, relation: Option<&str>) -> Result<SharedConnection> {
    let conn = gateway.acquire_for(relation).await?;
    Ok(Arc::new(Mutex::new(Some(conn))))
}

/// Counts a statement on `gateway` and opens its `ferrom.sql` span (the
/// SQL and relation; the bound values, `binds`, as a `trace` event in it).
fn statement_span(
    gateway: &Gateway,
    sql: &str,
    relation: Option<&str>,
    binds: &dyn fmt::Debug,
) -> tracing::Span {
    gateway.note_statement();
    let span = tracing::info_span!(
        "ferrom.sql",
        relation = relation.unwrap_or(""),
        sql = sql,
        elapsed_us = tracing::field::Empty
    );
    tracing::trace!(parent: &span, binds = ?binds, "binds");
    span
}

fn closed(gateway: &Gateway) -> Error {
    Error::ConnectionLost {
        url: gateway.url().to_string(),
        reason: "the transaction or session this relation was bound to has ended".into(),
        source: Box::new(sqlx::Error::PoolClosed),
    }
}

/// A connection to run one statement on: checked out of the pool for it,
/// or the shared connection of a transaction or session, locked for it.
enum Checkout {
    Pooled(PoolConnection<MySql>),
    Held(OwnedMutexGuard<Option<PoolConnection<MySql>>>),
}

impl Checkout {
    fn conn(&mut self) -> Option<&mut MySqlConnection> {
        match self {
            Checkout::Pooled(conn) => Some(&mut **conn),
            Checkout::Held(guard) => guard.as_mut().map(|conn| &mut **conn),
        }
    }
}

impl Exec {
    /// The connection a statement runs on.
    async fn checkout(&self, gateway: &Gateway, relation: Option<&str>) -> Result<Checkout> {
        match self {
            Exec::Pool => gateway.acquire_for(relation).await.map(Checkout::Pooled),
            Exec::Connection(shared) | Exec::Session(shared) => {
                // Uncontended (the usual case: one caller at a time), the
                // lock is taken without a future to poll.
                let guard = match shared.clone().try_lock_owned() {
                    Ok(guard) => guard,
                    Err(_) => shared.clone().lock_owned().await,
                };
                Ok(Checkout::Held(guard))
            }
        }
    }

    /// Counts the statement, checks a connection out, runs `work` on it
    /// inside a `ferrom.sql` span and records the duration.
    async fn traced<T>(
        &self,
        gateway: &Gateway,
        stmt: &Statement<'_>,
        work: impl AsyncFnOnce(&mut MySqlConnection) -> Result<T>,
    ) -> Result<T> {
        let span = statement_span(gateway, stmt.sql.as_str(), stmt.relation, &stmt.binds);
        self.in_span(gateway, span, stmt.relation, work).await
    }

    /// Checks a connection out and runs `work` on it inside `span` (see
    /// [`statement_span`]), recording the duration.
    async fn in_span<T>(
        &self,
        gateway: &Gateway,
        span: tracing::Span,
        relation: Option<&str>,
        work: impl AsyncFnOnce(&mut MySqlConnection) -> Result<T>,
    ) -> Result<T> {
        let started = Instant::now();
        let run = async {
            let mut checkout = self.checkout(gateway, relation).await?;
            let conn = checkout.conn().ok_or_else(|| closed(gateway))?;
            work(conn).await
        };
        // Entered on every poll only when something listens.
        let result = if span.is_disabled() {
            run.await
        } else {
            run.instrument(span.clone()).await
        };
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        span.record("elapsed_us", elapsed_us);
        tracing::debug!(parent: &span, elapsed_us, "statement");
        result
    }

    /// Runs a statement and returns its rows.
    pub(crate) async fn fetch_all(
        &self,
        gateway: &Gateway,
        stmt: Statement<'_>,
    ) -> Result<Vec<MySqlRow>> {
        let args = arguments(stmt.binds)?;
        let classify = |e| Error::classify(stmt.relation, &gateway.url(), e);
        self.traced(gateway, &stmt, async |conn| {
            sqlx::query_with(stmt.sql.driver(), args)
                .fetch_all(conn)
                .await
                .map_err(classify)
        })
        .await
    }

    /// Runs a statement that returns at most one row (a key lookup, a
    /// re-read by one key) and returns that row as soon as it arrives: the
    /// end of the result is not awaited (the connection reads it before
    /// its next statement), as sqlx's `fetch_optional` does.
    pub(crate) async fn fetch_optional(
        &self,
        gateway: &Gateway,
        stmt: Statement<'_>,
    ) -> Result<Option<MySqlRow>> {
        let args = arguments(stmt.binds)?;
        let classify = |e| Error::classify(stmt.relation, &gateway.url(), e);
        self.traced(gateway, &stmt, async |conn| {
            sqlx::query_with(stmt.sql.driver(), args)
                .fetch_optional(conn)
                .await
                .map_err(classify)
        })
        .await
    }

    /// Runs a statement and maps each row as it arrives from the server
    /// (no intermediate `Vec` of driver rows: decoding overlaps the network
    /// read, and each driver row is freed once mapped).
    pub(crate) async fn fetch_map<T, F>(
        &self,
        gateway: &Gateway,
        stmt: Statement<'_>,
        mut map: F,
    ) -> Result<Vec<T>>
    where
        F: FnMut(&MySqlRow) -> Result<T> + Send,
        T: Send,
    {
        let args = arguments(stmt.binds)?;
        let classify = |e| Error::classify(stmt.relation, &gateway.url(), e);
        self.traced(gateway, &stmt, async |conn| {
            let mut out = Vec::new();
            let mut rows = sqlx::query_with(stmt.sql.driver(), args).fetch(conn);
            while let Some(row) = rows.try_next().await.map_err(classify)? {
                out.push(map(&row)?);
            }
            Ok(out)
        })
        .await
    }

    /// Runs a statement that returns no rows (or whose rows are not wanted).
    /// Statements without parameters (START TRANSACTION, SAVEPOINT, COMMIT,
    /// SET) go as plain text: not every server accepts them prepared.
    pub(crate) async fn execute(
        &self,
        gateway: &Gateway,
        stmt: Statement<'_>,
    ) -> Result<MySqlQueryResult> {
        let classify = |e| Error::classify(stmt.relation, &gateway.url(), e);
        if stmt.binds.is_empty() {
            return self
                .traced(gateway, &stmt, async |conn| {
                    sqlx::raw_sql(stmt.sql.driver())
                        .execute(conn)
                        .await
                        .map_err(classify)
                })
                .await;
        }
        let args = arguments(stmt.binds)?;
        self.traced(gateway, &stmt, async |conn| {
            sqlx::query_with(stmt.sql.driver(), args)
                .execute(conn)
                .await
                .map_err(classify)
        })
        .await
    }

    /// Runs an insert whose values are encoded already (encoded from its
    /// tuples as it was rendered); with `returning`, reads the rows its
    /// `RETURNING` clause gives. `rows`, what the values came from, shows
    /// in the trace; owned, it is freed while the server runs the
    /// statement rather than after it answers.
    pub(crate) async fn insert_encoded(
        &self,
        gateway: &Gateway,
        sql: &str,
        args: MySqlArguments,
        returning: bool,
        relation: Option<&str>,
        rows: impl fmt::Debug + Send,
    ) -> Result<Inserted> {
        let span = statement_span(gateway, sql, relation, &rows);
        let classify = |e| Error::classify(relation, &gateway.url(), e);
        // Boxed: a large statement's one allocation keeps the callers'
        // futures small.
        let run = Box::pin(self.in_span(gateway, span, relation, async |conn| {
            let query = sqlx::query_with(sqlx::AssertSqlSafe(sql), args);
            if returning {
                query.fetch_all(conn).await.map(Inserted::Rows)
            } else {
                query.execute(conn).await.map(Inserted::Done)
            }
            .map_err(classify)
        }));
        // Polled in order: the statement is sent, and while its answer is
        // awaited the rows are dropped.
        let (result, ()) = futures_util::join!(run, async move { drop(rows) });
        result
    }

    /// Runs a statement and reads its rows as `T`.
    pub(crate) async fn fetch_all_as<T>(
        &self,
        gateway: &Gateway,
        stmt: Statement<'_>,
    ) -> Result<Vec<T>>
    where
        T: for<'r> FromRow<'r, MySqlRow> + Send + Unpin,
    {
        let args = arguments(stmt.binds)?;
        let classify = |e| Error::classify(stmt.relation, &gateway.url(), e);
        self.traced(gateway, &stmt, async |conn| {
            sqlx::query_as_with::<_, T, _>(stmt.sql.driver(), args)
                .fetch_all(conn)
                .await
                .map_err(classify)
        })
        .await
    }

    /// Streams a statement's rows: a task holds the connection and sends
    /// rows through a small channel, so memory stays bounded.
    pub(crate) fn stream(
        &self,
        gateway: &Gateway,
        sql: String,
        binds: Vec<Value>,
        relation: Option<String>,
    ) -> BoxStream<'static, Result<MySqlRow>> {
        use futures_util::StreamExt;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<MySqlRow>>(64);
        let gateway = gateway.clone();
        let exec = self.clone();
        gateway.note_statement();
        tokio::spawn(async move {
            let produced: Result<()> = async {
                let args = arguments(&binds)?;
                let mut checkout = exec.checkout(&gateway, relation.as_deref()).await?;
                let conn = checkout.conn().ok_or_else(|| closed(&gateway))?;
                let mut rows =
                    sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), args).fetch(conn);
                while let Some(row) = rows
                    .try_next()
                    .await
                    .map_err(|e| Error::classify(relation.as_deref(), &gateway.url(), e))?
                {
                    if tx.send(Ok(row)).await.is_err() {
                        break;
                    }
                }
                Ok(())
            }
            .await;
            if let Err(e) = produced {
                let _ = tx.send(Err(e)).await;
            }
        });
        futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed()
    }
}
