//! Where statements run: the gateway's pool, or one connection held by a
//! transaction (or a checked-out session). Every statement ferrom sends
//! goes through [`Exec`], which binds the values, traces the statement
//! (a `tracing` span with the SQL and its duration; bound values only at
//! `trace` level), counts it on the gateway and classifies its error.

use std::sync::Arc;
use std::time::Instant;

use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use sqlx::mysql::{MySqlQueryResult, MySqlRow};
use sqlx::pool::PoolConnection;
use sqlx::{FromRow, MySql};
use tokio::sync::Mutex;
use tracing::Instrument;

use crate::bind::arguments;
use crate::error::{Error, Result};
use crate::gateway::Gateway;
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

/// A statement ready to run: SQL with `?` placeholders and its values.
#[derive(Clone, Debug)]
pub(crate) struct Statement<'a> {
    pub(crate) sql: &'a str,
    pub(crate) binds: &'a [Value],
    /// The relation it is about, for error messages.
    pub(crate) relation: Option<&'a str>,
}

fn closed(gateway: &Gateway) -> Error {
    Error::ConnectionLost {
        url: gateway.url().to_string(),
        reason: "the transaction or session this relation was bound to has ended".into(),
        source: Box::new(sqlx::Error::PoolClosed),
    }
}

macro_rules! run {
    ($self:ident, $gateway:ident, $stmt:ident, |$query:ident, $executor:ident| $body:expr) => {{
        let args = arguments($stmt.binds)?;
        $gateway.note_statement();
        let span = tracing::info_span!("ferrom.sql", relation = $stmt.relation.unwrap_or(""), sql = $stmt.sql, elapsed_us = tracing::field::Empty);
        tracing::trace!(parent: &span, binds = ?$stmt.binds, "binds");
        let started = Instant::now();
        let $query = sqlx::query_with(sqlx::AssertSqlSafe($stmt.sql), args);
        let result = async {
            match $self {
                Exec::Pool => {
                    let $executor = $gateway.pool();
                    $body.await
                }
                Exec::Connection(shared) | Exec::Session(shared) => {
                    let mut guard = shared.lock().await;
                    match guard.as_mut() {
                        Some(conn) => {
                            let $executor = &mut **conn;
                            $body.await
                        }
                        None => return Err(closed($gateway)),
                    }
                }
            }
            .map_err(|e| Error::classify($stmt.relation, &$gateway.url(), e))
        }
        .instrument(span.clone())
        .await;
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        span.record("elapsed_us", elapsed_us);
        tracing::debug!(parent: &span, elapsed_us, "statement");
        result
    }};
}

impl Exec {
    /// Runs a statement and returns its rows.
    pub(crate) async fn fetch_all(
        &self,
        gateway: &Gateway,
        stmt: Statement<'_>,
    ) -> Result<Vec<MySqlRow>> {
        run!(self, gateway, stmt, |query, executor| query
            .fetch_all(executor))
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
        gateway.note_statement();
        let span = tracing::info_span!(
            "ferrom.sql",
            relation = stmt.relation.unwrap_or(""),
            sql = stmt.sql,
            elapsed_us = tracing::field::Empty
        );
        let started = Instant::now();
        let query = sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), args);
        let classify = |e| Error::classify(stmt.relation, &gateway.url(), e);
        let result = async {
            let mut out = Vec::new();
            match self {
                Exec::Pool => {
                    let mut conn = gateway.pool().acquire().await.map_err(classify)?;
                    let mut rows = query.fetch(&mut *conn);
                    while let Some(row) = rows.try_next().await.map_err(classify)? {
                        out.push(map(&row)?);
                    }
                }
                Exec::Connection(shared) | Exec::Session(shared) => {
                    let mut guard = shared.lock().await;
                    let Some(conn) = guard.as_mut() else {
                        return Err(closed(gateway));
                    };
                    let mut rows = query.fetch(&mut **conn);
                    while let Some(row) = rows.try_next().await.map_err(classify)? {
                        out.push(map(&row)?);
                    }
                }
            }
            Ok(out)
        }
        .instrument(span.clone())
        .await;
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        span.record("elapsed_us", elapsed_us);
        tracing::debug!(parent: &span, elapsed_us, "statement");
        result
    }

    /// Runs a statement that returns no rows (or whose rows are not wanted).
    pub(crate) async fn execute(
        &self,
        gateway: &Gateway,
        stmt: Statement<'_>,
    ) -> Result<MySqlQueryResult> {
        if stmt.binds.is_empty() {
            // Control statements (START TRANSACTION, SAVEPOINT, COMMIT, SET)
            // go as plain text: not every server accepts them prepared.
            return self.execute_text(gateway, stmt).await;
        }
        run!(self, gateway, stmt, |query, executor| query
            .execute(executor))
    }

    /// Runs a statement without parameters over the text protocol.
    async fn execute_text(
        &self,
        gateway: &Gateway,
        stmt: Statement<'_>,
    ) -> Result<MySqlQueryResult> {
        gateway.note_statement();
        let span = tracing::info_span!(
            "ferrom.sql",
            relation = stmt.relation.unwrap_or(""),
            sql = stmt.sql
        );
        let started = Instant::now();
        let raw = sqlx::raw_sql(sqlx::AssertSqlSafe(stmt.sql));
        let result = async {
            match self {
                Exec::Pool => raw.execute(gateway.pool()).await,
                Exec::Connection(shared) | Exec::Session(shared) => {
                    let mut guard = shared.lock().await;
                    match guard.as_mut() {
                        Some(conn) => raw.execute(&mut **conn).await,
                        None => return Err(closed(gateway)),
                    }
                }
            }
            .map_err(|e| Error::classify(stmt.relation, &gateway.url(), e))
        }
        .instrument(span.clone())
        .await;
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        tracing::debug!(parent: &span, elapsed_us, "statement");
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
        gateway.note_statement();
        let span = tracing::info_span!(
            "ferrom.sql",
            relation = stmt.relation.unwrap_or(""),
            sql = stmt.sql
        );
        let query = sqlx::query_as_with::<_, T, _>(sqlx::AssertSqlSafe(stmt.sql), args);
        async {
            match self {
                Exec::Pool => query.fetch_all(gateway.pool()).await,
                Exec::Connection(shared) | Exec::Session(shared) => {
                    let mut guard = shared.lock().await;
                    match guard.as_mut() {
                        Some(conn) => query.fetch_all(&mut **conn).await,
                        None => return Err(closed(gateway)),
                    }
                }
            }
            .map_err(|e| Error::classify(stmt.relation, &gateway.url(), e))
        }
        .instrument(span)
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
            let args = match arguments(&binds) {
                Ok(a) => a,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let url = gateway.url();
            let classify = |e| Error::classify(relation.as_deref(), &url, e);
            let query = sqlx::query_with(sqlx::AssertSqlSafe(sql.as_str()), args);
            match exec {
                Exec::Pool => match gateway.pool().acquire().await {
                    Err(e) => {
                        let _ = tx.send(Err(classify(e))).await;
                    }
                    Ok(mut conn) => {
                        let mut rows = query.fetch(&mut *conn);
                        loop {
                            match rows.try_next().await {
                                Ok(Some(row)) => {
                                    if tx.send(Ok(row)).await.is_err() {
                                        break;
                                    }
                                }
                                Ok(None) => break,
                                Err(e) => {
                                    let _ = tx.send(Err(classify(e))).await;
                                    break;
                                }
                            }
                        }
                    }
                },
                Exec::Connection(shared) | Exec::Session(shared) => {
                    let mut guard = shared.lock_owned().await;
                    let Some(conn) = guard.as_mut() else {
                        let _ = tx.send(Err(closed(&gateway))).await;
                        return;
                    };
                    let mut rows = query.fetch(&mut **conn);
                    loop {
                        match rows.try_next().await {
                            Ok(Some(row)) => {
                                if tx.send(Ok(row)).await.is_err() {
                                    break;
                                }
                            }
                            Ok(None) => break,
                            Err(e) => {
                                let _ = tx.send(Err(classify(e))).await;
                                break;
                            }
                        }
                    }
                }
            }
        });
        futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed()
    }
}
