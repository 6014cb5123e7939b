//! The gateway: a sqlx MySQL pool built from the settings, the server's
//! flavour and capabilities, and introspection of its tables.
//!
//! Every session a gateway opens uses `utf8mb4` with the configured
//! collation, UTC (`time_zone = '+00:00'`) and a strict `sql_mode`
//! ([`SQL_MODE`]), so an over-long string or an impossible date is an error
//! rather than a silent truncation.

mod flavour;
mod introspect;

pub use flavour::{Capabilities, Flavour, MIN_MARIADB, MIN_MYSQL, ServerInfo, Version};
pub use introspect::{ColumnInfo, ForeignKeyInfo, IndexInfo, TableInfo, introspect, render_schema};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Executor, MySql, MySqlConnection, MySqlPool};

use crate::error::{Error, Result};
use crate::settings::{DbSettings, RedactedUrl};

/// The `sql_mode` of every ferrom session: strict on every table, no zero
/// or partial-zero dates, division by zero is an error, and no silent
/// engine substitution.
pub const SQL_MODE: &str = "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION";

/// A connection pool to one database, with what ferrom learned about the
/// server at connect.
///
/// Cloning a gateway is cheap: clones share the pool.
#[derive(Clone, Debug)]
pub struct Gateway {
    pool: MySqlPool,
    server: ServerInfo,
    settings: DbSettings,
    statements: Arc<AtomicU64>,
}

impl Gateway {
    /// Opens a pool to the database the settings name, checks the server is
    /// one ferrom supports, and sets up every session (see the module docs).
    ///
    /// # Errors
    ///
    /// - [`Error::Connect`] when the server cannot be reached, refuses the
    ///   login or does not have the database, naming host, port and database
    ///   (never the password) and what to do;
    /// - [`Error::UnsupportedServer`] for MariaDB before 10.6 or MySQL before 8.0.
    pub async fn connect(settings: &DbSettings) -> Result<Gateway> {
        // One plain connection first: it gives a precise error (refused,
        // unknown database, access denied) where a pool would only time out,
        // and tells the server's version.
        let (conn, server) = open_connection(settings, true).await?;
        drop(conn);
        let session = pool_session_statement(settings, &server);
        let pool = MySqlPoolOptions::new()
            .max_connections(settings.pool_size)
            .acquire_timeout(settings.acquire_timeout())
            .after_connect(move |conn, _meta| {
                let session = session.clone();
                Box::pin(async move {
                    conn.execute(sqlx::AssertSqlSafe(session)).await?;
                    Ok(())
                })
            })
            .connect_lazy_with(connect_options(settings, true));
        let url = settings.redacted_url();
        tracing::debug!(%url, %server, "connected");
        Ok(Gateway {
            pool,
            server,
            settings: settings.clone(),
            statements: Arc::new(AtomicU64::new(0)),
        })
    }

    /// How many statements ferrom has sent through this gateway (its clones
    /// included): reads, writes and introspection. Tests use it to check
    /// round trips (one introspection statement at finalize, one query per
    /// eager-loading level).
    pub fn statements_run(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Counts one statement sent through this gateway.
    pub(crate) fn note_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    /// The sqlx pool, for running queries of your own next to ferrom's.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// Checks a connection out of the pool: an idle one, pinged first (as
    /// sqlx's checkout does; a broken one is closed and another taken), or
    /// a new one when none is idle and the pool is not full.
    ///
    /// # Errors
    ///
    /// - [`Error::PoolTimeout`] when every connection stayed in use for
    ///   `db.acquire_timeout`;
    /// - [`Error::ConnectionLost`] when the pool could not open a new
    ///   connection in that time (the server is down or unreachable).
    pub async fn acquire(&self) -> Result<PoolConnection<MySql>> {
        self.acquire_for(None).await
    }

    /// [`Gateway::acquire`] for a statement about `relation`, which other
    /// errors name.
    pub(crate) async fn acquire_for(
        &self,
        relation: Option<&str>,
    ) -> Result<PoolConnection<MySql>> {
        // An idle connection is tested here as the pool's checkout tests it
        // (a ping, within the checkout timeout). The pool's checkout future
        // is several kilobytes: inline, it would be copied with every
        // statement's future; boxed, it is an allocation large enough to
        // make the allocator consolidate its free lists, on every
        // statement run on the pool.
        if let Some(mut conn) = self.pool.try_acquire() {
            match tokio::time::timeout(self.settings.acquire_timeout(), conn.ping()).await {
                Ok(Ok(())) => return Ok(conn),
                // Broken: closed, not returned (the pool opens another).
                Ok(Err(_)) => drop(conn.detach()),
                // Hung: as the pool's checkout would have timed out.
                Err(_) => {
                    drop(conn.detach());
                    return Err(self.acquire_error(relation, sqlx::Error::PoolTimedOut));
                }
            }
        }
        Box::pin(self.pool.acquire())
            .await
            .map_err(|e| self.acquire_error(relation, e))
    }

    /// Classifies a failed checkout: a full pool that stayed busy, or a
    /// server that would not take a new connection.
    fn acquire_error(&self, relation: Option<&str>, e: sqlx::Error) -> Error {
        match e {
            sqlx::Error::PoolTimedOut if self.pool.size() >= self.settings.pool_size => {
                Error::PoolTimeout {
                    url: self.url().to_string(),
                    pool_size: self.settings.pool_size,
                    waited_secs: self.settings.acquire_timeout,
                }
            }
            sqlx::Error::PoolTimedOut => Error::ConnectionLost {
                url: self.url().to_string(),
                reason: format!(
                    "no new connection could be opened within {} s (db.acquire_timeout); is the server running?",
                    self.settings.acquire_timeout
                ),
                source: Box::new(e),
            },
            other => Error::classify(relation, &self.url(), other),
        }
    }

    /// The server this gateway talks to.
    pub fn server(&self) -> &ServerInfo {
        &self.server
    }

    /// What the server can do.
    pub fn capabilities(&self) -> &Capabilities {
        &self.server.capabilities
    }

    /// The database name.
    pub fn database(&self) -> &str {
        &self.settings.name
    }

    /// The settings the gateway was built from.
    pub fn settings(&self) -> &DbSettings {
        &self.settings
    }

    /// Where the gateway connects, password redacted.
    pub fn url(&self) -> RedactedUrl {
        self.settings.redacted_url()
    }

    /// Opens one connection outside the pool, set up like the pool's (used
    /// for migrations, which hold a session-scoped lock).
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] as for [`Gateway::connect`].
    pub async fn dedicated_connection(&self) -> Result<MySqlConnection> {
        open_connection(&self.settings, true)
            .await
            .map(|(conn, _)| conn)
    }

    /// Closes every connection of the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Opens one session, set up as every ferrom session is, to the settings'
/// database (`with_database`) or to the server alone (for `db create` and
/// `db drop`), and checks the server version.
///
/// # Errors
///
/// [`Error::Connect`] or [`Error::UnsupportedServer`] as for
/// [`Gateway::connect`].
pub async fn open_connection(
    settings: &DbSettings,
    with_database: bool,
) -> Result<(MySqlConnection, ServerInfo)> {
    settings.validate()?;
    let url = if with_database {
        settings.redacted_url()
    } else {
        settings.redacted_url().without_database()
    };
    let options = connect_options(settings, with_database);
    let mut conn = with_timeout(
        settings.connect_timeout(),
        &url,
        MySqlConnection::connect_with(&options),
    )
    .await?;
    let session = session_statement(settings);
    conn.execute(sqlx::AssertSqlSafe(session))
        .await
        .map_err(|e| Error::database("setting up the session", e))?;
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| Error::database("reading the server version", e))?;
    let server = check_server(&version, &url)?;
    Ok((conn, server))
}

fn check_server(version: &str, url: &RedactedUrl) -> Result<ServerInfo> {
    match ServerInfo::parse(version) {
        Some(info) if info.is_supported() => Ok(info),
        _ => Err(Error::UnsupportedServer {
            server: version.to_string(),
            url: url.to_string(),
        }),
    }
}

/// The driver options for the settings. sqlx's own session setup is turned
/// off: [`session_statement`] does it in one statement.
fn connect_options(settings: &DbSettings, with_database: bool) -> MySqlConnectOptions {
    let mut options = MySqlConnectOptions::new()
        .host(&settings.host)
        .port(settings.port)
        .username(&settings.username)
        .charset(&settings.encoding)
        .collation(&settings.collation)
        .pipes_as_concat(false)
        .no_engine_substitution(false)
        .timezone(None)
        .set_names(false);
    if !settings.password.is_empty() {
        options = options.password(settings.password.expose());
    }
    if with_database {
        options = options.database(&settings.name);
    }
    options
}

/// The one statement that sets up a session. The encoding and collation are
/// checked identifiers ([`DbSettings::validate`]), so they can stand in the
/// text.
fn session_statement(settings: &DbSettings) -> String {
    format!(
        "SET NAMES {} COLLATE {}, time_zone = '+00:00', sql_mode = '{SQL_MODE}'",
        settings.encoding, settings.collation
    )
}

/// The statement that sets up each pooled session: [`session_statement`]
/// and, when `db.statement_timeout` is set, the server's statement time
/// limit (MariaDB's `max_statement_time`, every statement; MySQL's
/// `max_execution_time`, which limits `SELECT`s only). Dedicated
/// connections (migrations) get no limit: a schema change may take long.
fn pool_session_statement(settings: &DbSettings, server: &ServerInfo) -> String {
    let mut statement = session_statement(settings);
    if settings.statement_timeout > 0 {
        match server.flavour {
            Flavour::MariaDb => statement.push_str(&format!(
                ", max_statement_time = {}",
                settings.statement_timeout
            )),
            Flavour::MySql => statement.push_str(&format!(
                ", max_execution_time = {}",
                settings.statement_timeout.saturating_mul(1000)
            )),
        }
    }
    statement
}

/// Runs a connect step within the connect timeout and turns its failure into
/// an [`Error::Connect`] that says what to do.
async fn with_timeout<T>(
    timeout: Duration,
    url: &RedactedUrl,
    future: impl Future<Output = std::result::Result<T, sqlx::Error>>,
) -> Result<T> {
    match tokio::time::timeout(timeout, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(connect_error(url, e)),
        Err(_) => Err(Error::Connect {
            url: url.to_string(),
            reason: format!(
                "no answer within {} s (db.connect_timeout)",
                timeout.as_secs()
            ),
            hint: "Is the server running and reachable? Start a local one with `scripts/db-up`."
                .into(),
            source: None,
        }),
    }
}

/// Classifies a failure to connect.
pub(crate) fn connect_error(url: &RedactedUrl, e: sqlx::Error) -> Error {
    let code = e
        .as_database_error()
        .and_then(|d| d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
        .map(|d| d.number());
    let (reason, hint) = match (&e, code) {
        (_, Some(1049)) => (
            "the database does not exist".to_string(),
            "Create it with `ferrom db create`.".to_string(),
        ),
        (_, Some(1045 | 1044 | 1698)) => (
            e.as_database_error().map(|d| d.message().to_string()).unwrap_or_default(),
            "Check db.username and db.password in the settings (or FERROM_DB__USERNAME / FERROM_DB__PASSWORD)."
                .to_string(),
        ),
        (sqlx::Error::Io(io), _) => (
            io.to_string(),
            "Is the server running? Start a local one with `scripts/db-up`.".to_string(),
        ),
        (sqlx::Error::PoolTimedOut, _) => (
            "timed out waiting for a connection".to_string(),
            "Is the server running? Start a local one with `scripts/db-up`.".to_string(),
        ),
        (sqlx::Error::Tls(t), _) => (t.to_string(), "Check the server's TLS setup.".to_string()),
        _ => (
            e.to_string(),
            "Is the server running? Start a local one with `scripts/db-up`.".to_string(),
        ),
    };
    Error::Connect {
        url: url.to_string(),
        reason,
        hint,
        source: Some(Box::new(e)),
    }
}
