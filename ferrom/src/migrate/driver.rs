//! refinery's async driver traits over one sqlx MySQL connection.
//!
//! refinery has no sqlx driver, so [`SqlxDriver`] implements the three traits
//! refinery's [`Runner::run_async`](refinery::Runner::run_async) needs
//! (`AsyncTransaction`, `AsyncQuery<Vec<Migration>>`, `AsyncMigrate`) over a
//! borrowed `&mut MySqlConnection`: one session for the whole run, so that
//! the session-scoped `GET_LOCK` taken by the runner covers every statement.
//!
//! refinery calls `execute` with `[migration_sql, history_insert]` for each
//! migration. The driver splits every query into statements
//! ([`split_statements`]) and runs them one at a time inside `BEGIN` ...
//! `COMMIT`. MySQL commits DDL implicitly, so the transaction only makes
//! data-only migrations atomic with their history row. When a statement
//! fails, the driver keeps a [`DriverFailure`] (which statement, of how many,
//! its text and line, and the server error) for the runner to report, and
//! hands refinery a short [`DriverError`] in its place.
//!
//! The history table is refinery's default `refinery_schema_history`, with
//! refinery's own DDL and row format (`applied_on` as RFC 3339 text,
//! `checksum` as a decimal `u64`), so `refinery_cli` built with
//! `int8-versions` can read and write the same table.

use refinery_core::traits::r#async::{AsyncMigrate, AsyncQuery, AsyncTransaction};
use refinery_core::{Migration, SchemaVersion};
use sqlx::mysql::MySqlRow;
use sqlx::{AssertSqlSafe, Connection, MySqlConnection, Row};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::split::{Statement, split_statements};

/// refinery's history table (its default name).
pub(crate) const HISTORY_TABLE: &str = "refinery_schema_history";

/// refinery's traits implemented over one borrowed MySQL connection.
pub(crate) struct SqlxDriver<'c> {
    conn: &'c mut MySqlConnection,
    failure: Option<DriverFailure>,
}

impl<'c> SqlxDriver<'c> {
    /// Wraps a connection for one refinery run.
    pub(crate) fn new(conn: &'c mut MySqlConnection) -> Self {
        SqlxDriver {
            conn,
            failure: None,
        }
    }

    /// The failure behind the last error this driver returned to refinery,
    /// if any.
    pub(crate) fn take_failure(&mut self) -> Option<DriverFailure> {
        self.failure.take()
    }
}

/// Why a driver call failed, with the original driver error.
#[derive(Debug)]
pub(crate) enum DriverFailure {
    /// A statement of a query passed to `execute` failed.
    Statement(StatementFailure),
    /// Anything else: `BEGIN`, `COMMIT`, or a `query` (reading the history).
    Other {
        /// What the driver was doing.
        what: &'static str,
        /// The driver error.
        cause: sqlx::Error,
    },
}

/// A failed statement of a query passed to `execute`.
#[derive(Debug)]
pub(crate) struct StatementFailure {
    /// Which query of the `execute` call failed (0-based). For a migration,
    /// 0 is the migration's SQL and 1 refinery's history insert.
    pub(crate) query_index: usize,
    /// The failed statement's position within that query, 1-based.
    pub(crate) statement_index: usize,
    /// How many statements that query has.
    pub(crate) statement_count: usize,
    /// The failed statement, on one line and shortened.
    pub(crate) statement: String,
    /// The 1-based line of the query on which the failed statement starts.
    pub(crate) line: usize,
    /// Whether the work done before the failure (earlier statements and
    /// queries of this call) was committed: true when one of them, or the
    /// failed statement itself, commits implicitly (DDL). When false it was
    /// rolled back with the transaction.
    pub(crate) committed: bool,
    /// The server's error.
    pub(crate) cause: sqlx::Error,
}

impl std::fmt::Display for DriverFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriverFailure::Statement(s) => write!(
                f,
                "statement {} of {} (line {}) failed: {}",
                s.statement_index, s.statement_count, s.line, s.cause
            ),
            DriverFailure::Other { what, cause } => write!(f, "{what}: {cause}"),
        }
    }
}

/// The error [`SqlxDriver`] hands refinery. The details (and the sqlx error
/// itself) stay in the driver; see [`SqlxDriver::take_failure`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct DriverError(String);

impl AsyncTransaction for SqlxDriver<'_> {
    type Error = DriverError;

    async fn execute<'a, T: Iterator<Item = &'a str> + Send + 'a>(
        &'a mut self,
        queries: T,
    ) -> Result<usize, DriverError> {
        let queries: Vec<&str> = queries.collect();
        // refinery's first call creates its history table; a failure there
        // is not a migration's.
        let asserting_table =
            queries == [Self::assert_migrations_table_query(HISTORY_TABLE).as_str()];
        match exec_batch(&mut *self.conn, queries.into_iter()).await {
            Ok(n) => Ok(n),
            Err(failure) => {
                let failure = match failure {
                    DriverFailure::Statement(f) if asserting_table => DriverFailure::Other {
                        what: "cannot create refinery_schema_history",
                        cause: f.cause,
                    },
                    other => other,
                };
                let message = failure.to_string();
                self.failure = Some(failure);
                Err(DriverError(message))
            }
        }
    }
}

/// Runs each query's statements one by one in one transaction.
///
/// A free function, so that the connection borrow and the query strings have
/// separate lifetimes (refinery's trait ties both to `'a`).
async fn exec_batch<'q, I>(conn: &mut MySqlConnection, queries: I) -> Result<usize, DriverFailure>
where
    I: Iterator<Item = &'q str> + Send,
{
    let mut tx = conn.begin().await.map_err(|cause| DriverFailure::Other {
        what: "cannot begin a transaction",
        cause,
    })?;
    let mut committed = false;
    let mut count = 0usize;
    for (query_index, query) in queries.enumerate() {
        let statements = split_statements(query);
        let statement_count = statements.len();
        for (i, statement) in statements.iter().enumerate() {
            tracing::debug!(
                query = query_index,
                statement = i + 1,
                of = statement_count,
                line = statement.line,
                sql = %statement.summary(),
                "running migration statement"
            );
            let result = sqlx::raw_sql(AssertSqlSafe(statement.text))
                .execute(&mut *tx)
                .await;
            if let Err(cause) = result {
                committed = match server_in_transaction(&mut tx).await {
                    // The server knows: if the transaction is no longer
                    // open, something (DDL) committed it.
                    Some(open) => !open,
                    None => committed || statement.commits_implicitly(),
                };
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "rollback after a failed migration statement failed");
                }
                return Err(DriverFailure::Statement(failure_of(
                    query_index,
                    i,
                    &statements,
                    committed,
                    cause,
                )));
            }
            committed |= statement.commits_implicitly();
        }
        count += 1;
    }
    tx.commit().await.map_err(|cause| DriverFailure::Other {
        what: "cannot commit the migration",
        cause,
    })?;
    Ok(count)
}

/// Asks the server whether a transaction is open (`@@in_transaction`,
/// MariaDB only; `None` on MySQL, which lacks the variable).
async fn server_in_transaction(conn: &mut MySqlConnection) -> Option<bool> {
    sqlx::query_scalar::<_, i64>("SELECT CAST(@@in_transaction AS SIGNED)")
        .fetch_one(conn)
        .await
        .ok()
        .map(|v| v != 0)
}

fn failure_of(
    query_index: usize,
    index: usize,
    statements: &[Statement<'_>],
    committed: bool,
    cause: sqlx::Error,
) -> StatementFailure {
    let statement = &statements[index];
    StatementFailure {
        query_index,
        statement_index: index + 1,
        statement_count: statements.len(),
        statement: statement.summary(),
        line: statement.line,
        committed,
        cause,
    }
}

impl AsyncQuery<Vec<Migration>> for SqlxDriver<'_> {
    async fn query<'a>(&'a mut self, query: &'a str) -> Result<Vec<Migration>, DriverError> {
        let rows = sqlx::raw_sql(AssertSqlSafe(query))
            .fetch_all(&mut *self.conn)
            .await;
        match rows.and_then(|rows| rows.iter().map(decode_migration).collect()) {
            Ok(migrations) => Ok(migrations),
            Err(cause) => {
                let failure = DriverFailure::Other {
                    what: "cannot read refinery_schema_history",
                    cause,
                };
                let message = failure.to_string();
                self.failure = Some(failure);
                Err(DriverError(message))
            }
        }
    }
}

impl AsyncMigrate for SqlxDriver<'_> {}

/// A row of the history table, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HistoryRow {
    pub(crate) version: SchemaVersion,
    pub(crate) name: String,
    /// RFC 3339 text, as refinery writes it.
    pub(crate) applied_on: String,
    pub(crate) checksum: u64,
}

/// Decodes `version, name, applied_on, checksum` (in that order).
pub(crate) fn decode_history_row(row: &MySqlRow) -> Result<HistoryRow, sqlx::Error> {
    let version: SchemaVersion = row.try_get(0)?;
    let name: String = row.try_get(1)?;
    let applied_on: String = row.try_get(2)?;
    let checksum: String = row.try_get(3)?;
    let checksum = checksum
        .trim()
        .parse::<u64>()
        .map_err(|e| sqlx::Error::ColumnDecode {
            index: "checksum".into(),
            source: Box::new(e),
        })?;
    Ok(HistoryRow {
        version,
        name,
        applied_on,
        checksum,
    })
}

fn decode_migration(row: &MySqlRow) -> Result<Migration, sqlx::Error> {
    let row = decode_history_row(row)?;
    let applied_on = OffsetDateTime::parse(&row.applied_on, &Rfc3339).map_err(|e| {
        sqlx::Error::ColumnDecode {
            index: "applied_on".into(),
            source: Box::new(e),
        }
    })?;
    Ok(Migration::applied(
        row.version,
        row.name,
        applied_on,
        row.checksum,
    ))
}

/// The MySQL error number of a driver error, if it came from the server.
pub(crate) fn mysql_error_number(error: &sqlx::Error) -> Option<u16> {
    error
        .as_database_error()?
        .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
        .map(sqlx::mysql::MySqlDatabaseError::number)
}

/// MySQL error 1146 (`ER_NO_SUCH_TABLE`, SQLSTATE 42S02).
pub(crate) const ER_NO_SUCH_TABLE: u16 = 1146;

/// Whether `error` says the table does not exist.
pub(crate) fn is_no_such_table(error: &sqlx::Error) -> bool {
    mysql_error_number(error) == Some(ER_NO_SUCH_TABLE)
}
