//! [`Migrator`]: applies migrations with refinery, one at a time, under a
//! server lock, and reports what happened.
//!
//! A run ([`Migrator::migrate`]):
//!
//! 1. checks that the connection's database is the one named, and takes the
//!    server lock `GET_LOCK('ferrom:migrate:<database>', timeout)` so that
//!    two runs never overlap (the lock is released at the end, also on
//!    error);
//! 2. reads the history (`refinery_schema_history`) and the failures table
//!    without creating either, and refuses to go on when an applied migration
//!    was changed ([`MigrationError::Divergent`]), has lost its file
//!    ([`MigrationError::Missing`]), or a `V` file arrived out of order
//!    ([`MigrationError::OutOfOrder`]);
//! 3. applies each pending migration (up to the target version, if set) with
//!    its own refinery run targeted at its version, sending a
//!    [`MigrationEvent`] before and after each (`Started`, then `Applied` or
//!    `Failed`);
//! 4. on failure, records it in `ferrom_migration_failures` and returns
//!    [`MigrationError::Failed`]; a later successful run of that version
//!    deletes the record.
//!
//! All of it happens on the one connection the caller passes in. Do not hand
//! a pooled connection back to its pool while a run may still hold the lock
//! (for example after cancelling the future): close it instead.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use refinery::error::Kind;
use refinery::{Runner, Target};
use sqlx::MySqlConnection;
use sqlx::Row;
use sqlx::mysql::MySqlRow;

use super::driver::{
    DriverFailure, HISTORY_TABLE, SqlxDriver, decode_history_row, is_no_such_table,
};
use super::source::{MigrationFile, Migrations};
use super::status::{AppliedRow, FailureRow, MigrationState, MigrationStatus, compute_status};
use super::{MigrationError, Version};
use crate::error::{Error, Result};

/// How long [`Migrator::migrate`] waits for another run's lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// The table where ferrom records failed migrations.
const FAILURES_TABLE: &str = "ferrom_migration_failures";

const CREATE_FAILURES_TABLE: &str = "CREATE TABLE IF NOT EXISTS ferrom_migration_failures (
    version BIGINT NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    statement_index INT NOT NULL,
    statement_count INT NOT NULL,
    statement TEXT NOT NULL,
    error TEXT NOT NULL,
    failed_at DATETIME(6) NOT NULL
) DEFAULT CHARSET = utf8mb4";

/// Something that happened during [`Migrator::migrate`], for progress output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationEvent {
    /// A migration is about to be applied.
    Started {
        /// Its version.
        version: Version,
        /// Its name.
        name: String,
    },
    /// A migration failed; [`Migrator::migrate`] returns the error next.
    Failed {
        /// Its version.
        version: Version,
        /// Its name.
        name: String,
        /// How long it ran before failing.
        duration: Duration,
    },
    /// A migration was applied and recorded.
    Applied {
        /// Its version.
        version: Version,
        /// Its name.
        name: String,
        /// How long it took.
        duration: Duration,
    },
}

/// A migration applied by [`Migrator::migrate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppliedMigration {
    /// Its version.
    pub version: Version,
    /// Its name.
    pub name: String,
    /// Its file, for migrations loaded from a directory.
    pub file: Option<PathBuf>,
    /// When it was recorded as applied (UTC).
    pub applied_on: DateTime<Utc>,
    /// How long it took.
    pub duration: Duration,
}

/// Applies [`Migrations`] to a database and reports their status.
#[derive(Debug, Clone)]
pub struct Migrator {
    migrations: Migrations,
    all: Vec<refinery::Migration>,
    target: Option<Version>,
    lock_timeout: Duration,
}

impl Migrator {
    /// A migrator for these migrations, applying all of them, waiting up to
    /// [`DEFAULT_LOCK_TIMEOUT`] for another run to finish.
    pub fn new(migrations: Migrations) -> Self {
        Migrator {
            all: migrations.refinery_migrations(),
            migrations,
            target: None,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }

    /// Applies only migrations whose version is at most the target
    /// (`None`, the default: all of them). Takes a version or an option:
    /// `with_target(20260101120000)`, `with_target(args.target)`.
    #[must_use]
    pub fn with_target(self, target: impl Into<Option<Version>>) -> Self {
        Migrator {
            target: target.into(),
            ..self
        }
    }

    /// How long to wait for another run's lock; rounded up to whole seconds,
    /// at least one.
    #[must_use]
    pub fn with_lock_timeout(self, timeout: Duration) -> Self {
        Migrator {
            lock_timeout: timeout,
            ..self
        }
    }

    /// The migrations.
    pub fn migrations(&self) -> &Migrations {
        &self.migrations
    }

    /// The target version, if any.
    pub fn target(&self) -> Option<Version> {
        self.target
    }

    /// Applies the pending migrations (up to the target), in version order,
    /// one at a time, calling `progress` before and after each. Returns the
    /// migrations applied, in order (empty when there was nothing to do).
    ///
    /// `database` must be the connection's current database (`SELECT
    /// DATABASE()`); it names the server lock that keeps two runs apart.
    ///
    /// # Errors
    ///
    /// * [`MigrationError::WrongDatabase`] when the connection is on another
    ///   database, or none;
    /// * [`MigrationError::Locked`] when another run holds the lock longer
    ///   than the lock timeout, [`MigrationError::LockFailed`] when the server
    ///   could not take it;
    /// * [`MigrationError::Divergent`], [`MigrationError::Missing`] or
    ///   [`MigrationError::OutOfOrder`] before anything is applied;
    /// * [`MigrationError::Failed`] when a statement fails (earlier migrations
    ///   of the run stay applied and are listed in it);
    ///   [`MigrationError::NotRecorded`] when the history row cannot be
    ///   written;
    /// * [`Error::Database`] for other database errors.
    pub async fn migrate(
        &self,
        conn: &mut MySqlConnection,
        database: &str,
        progress: &mut (dyn FnMut(MigrationEvent) + Send),
    ) -> Result<Vec<AppliedMigration>> {
        check_database(conn, database).await?;
        let lock = lock_name(database);
        acquire_lock(conn, database, &lock, lock_seconds(self.lock_timeout)).await?;
        let result = self.migrate_locked(conn, progress).await;
        release_lock(conn, &lock).await;
        result
    }

    async fn migrate_locked(
        &self,
        conn: &mut MySqlConnection,
        progress: &mut (dyn FnMut(MigrationEvent) + Send),
    ) -> Result<Vec<AppliedMigration>> {
        let statuses = self.status(conn).await?;
        preflight(&statuses, &self.migrations)?;
        let pending: Vec<&MigrationFile> = self
            .pending_of(&statuses)
            .filter_map(|s| self.migrations.get(s.version))
            .collect();
        tracing::debug!(count = pending.len(), target = ?self.target, "pending migrations");

        let mut applied = Vec::new();
        for file in pending {
            let version = file.version();
            progress(MigrationEvent::Started {
                version,
                name: file.name().to_owned(),
            });
            let started = Instant::now();
            let runner = Runner::new(&self.all)
                .set_abort_divergent(true)
                .set_abort_missing(true)
                .set_grouped(false)
                .set_target(Target::Version(version));
            let mut driver = SqlxDriver::new(conn);
            let outcome = runner.run_async(&mut driver).await;
            let failure = driver.take_failure();
            let report = match outcome {
                Ok(report) => report,
                Err(error) => {
                    progress(MigrationEvent::Failed {
                        version,
                        name: file.name().to_owned(),
                        duration: started.elapsed(),
                    });
                    return Err(self.failure(conn, file, failure, error, applied).await);
                }
            };
            let duration = started.elapsed();
            if !report
                .applied_migrations()
                .iter()
                .any(|m| m.version() == version)
            {
                tracing::warn!(
                    version,
                    "refinery applied nothing for this version; was it applied by another process meanwhile?"
                );
            }
            for done in report.applied_migrations() {
                forget_failure(conn, done.version()).await;
                progress(MigrationEvent::Applied {
                    version: done.version(),
                    name: done.name().to_owned(),
                    duration,
                });
                applied.push(AppliedMigration {
                    version: done.version(),
                    name: done.name().to_owned(),
                    file: self
                        .migrations
                        .get(done.version())
                        .and_then(|f| f.path().map(PathBuf::from)),
                    applied_on: done.applied_on().map_or_else(Utc::now, to_chrono),
                    duration,
                });
            }
        }
        Ok(applied)
    }

    /// Turns a failed refinery run into ferrom's error, recording statement
    /// failures in the failures table.
    async fn failure(
        &self,
        conn: &mut MySqlConnection,
        file: &MigrationFile,
        failure: Option<DriverFailure>,
        error: refinery::Error,
        applied_before: Vec<AppliedMigration>,
    ) -> Error {
        match failure {
            Some(DriverFailure::Statement(f)) if f.query_index == 0 => {
                let cause_text = f
                    .cause
                    .as_database_error()
                    .map_or_else(|| f.cause.to_string(), ToString::to_string);
                let row = FailureRow {
                    version: file.version(),
                    name: file.name().to_owned(),
                    statement_index: f.statement_index,
                    statement_count: f.statement_count,
                    statement: f.statement.clone(),
                    error: cause_text,
                    failed_at: None,
                };
                if let Err(e) = record_failure(conn, &row).await {
                    tracing::warn!(error = %e, version = row.version, "cannot record the failure in {FAILURES_TABLE}");
                }
                MigrationError::Failed {
                    file: file.label(),
                    version: file.version(),
                    statement_index: f.statement_index,
                    statement_count: f.statement_count,
                    statement: f.statement,
                    line: f.line,
                    committed: f.committed,
                    cause: Box::new(f.cause),
                    applied_before,
                }
                .into()
            }
            Some(DriverFailure::Statement(f)) => MigrationError::NotRecorded {
                file: file.label(),
                version: file.version(),
                committed: f.committed,
                cause: f.cause,
            }
            .into(),
            Some(DriverFailure::Other { what, cause }) => Error::database(what, cause),
            None => self.refinery_error(error),
        }
    }

    /// Maps a refinery error that did not come from the driver.
    fn refinery_error(&self, error: refinery::Error) -> Error {
        let mapped = match error.kind() {
            Kind::DivergentVersion(applied, _) => {
                self.migrations
                    .get(applied.version())
                    .map(|f| MigrationError::Divergent {
                        file: f.label(),
                        version: f.version(),
                        applied_name: applied.name().to_owned(),
                        applied_checksum: applied.checksum(),
                        name: f.name().to_owned(),
                        file_checksum: f.checksum(),
                    })
            }
            // An applied row without a file (refinery's other use of this
            // kind, a late `V` file, carries its SQL and is left as is).
            Kind::MissingVersion(m) if m.sql().is_none() => Some(MigrationError::Missing {
                version: m.version(),
                name: m.name().to_owned(),
            }),
            _ => None,
        };
        mapped.unwrap_or(MigrationError::Refinery(error)).into()
    }

    /// Every migration's state: files against the history table and the
    /// failures table, sorted by version. Creates no table: a database that
    /// has never been migrated shows every migration as pending.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when a table cannot be read (other than because
    /// it does not exist).
    pub async fn status(&self, conn: &mut MySqlConnection) -> Result<Vec<MigrationStatus>> {
        let applied = read_history(conn).await?;
        let failures = read_failures(conn).await?;
        Ok(compute_status(&self.migrations, &applied, &failures))
    }

    /// The migrations [`migrate`](Self::migrate) would apply: pending or
    /// failed, up to the target version. Use it for `ferrom db migrate
    /// --check`.
    ///
    /// # Errors
    ///
    /// The pre-flight errors of [`migrate`](Self::migrate)
    /// ([`MigrationError::Divergent`], [`MigrationError::Missing`],
    /// [`MigrationError::OutOfOrder`]), as those would stop a run too;
    /// [`Error::Database`] when a table cannot be read.
    pub async fn pending(&self, conn: &mut MySqlConnection) -> Result<Vec<MigrationStatus>> {
        let statuses = self.status(conn).await?;
        preflight(&statuses, &self.migrations)?;
        Ok(self.pending_of(&statuses).cloned().collect())
    }

    fn pending_of<'s>(
        &self,
        statuses: &'s [MigrationStatus],
    ) -> impl Iterator<Item = &'s MigrationStatus> + use<'s> {
        let target = self.target;
        statuses
            .iter()
            .filter(move |s| s.state.is_pending() && target.is_none_or(|t| s.version <= t))
    }
}

/// Refuses to run over a divergent or missing migration, or a `V` file that
/// refinery would refuse as out of order. Pure, over the computed statuses.
pub(crate) fn preflight(
    statuses: &[MigrationStatus],
    migrations: &Migrations,
) -> Result<(), MigrationError> {
    for s in statuses {
        match &s.state {
            MigrationState::Divergent {
                applied_name,
                applied_checksum,
                file_checksum,
            } => {
                let file = migrations
                    .get(s.version)
                    .map_or_else(|| PathBuf::from(&s.name), MigrationFile::label);
                return Err(MigrationError::Divergent {
                    file,
                    version: s.version,
                    applied_name: applied_name.clone(),
                    applied_checksum: *applied_checksum,
                    name: s.name.clone(),
                    file_checksum: *file_checksum,
                });
            }
            MigrationState::Missing => {
                return Err(MigrationError::Missing {
                    version: s.version,
                    name: s.name.clone(),
                });
            }
            _ => {}
        }
    }
    let latest = statuses
        .iter()
        .filter(|s| s.state.is_recorded())
        .map(|s| s.version)
        .max();
    if let Some(latest_applied) = latest {
        let late = statuses
            .iter()
            .filter(|s| s.state.is_pending())
            .find_map(|s| {
                migrations
                    .get(s.version)
                    .filter(|f| f.is_versioned() && f.version() < latest_applied)
            });
        if let Some(f) = late {
            return Err(MigrationError::OutOfOrder {
                file: f.label(),
                version: f.version(),
                latest_applied,
            });
        }
    }
    Ok(())
}

/// `SELECT DATABASE()` must be `database`.
async fn check_database(conn: &mut MySqlConnection, database: &str) -> Result<()> {
    let actual: Option<String> = sqlx::query_scalar("SELECT DATABASE()")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| Error::database("reading the connection's database", e))?;
    if actual.as_deref() == Some(database) {
        Ok(())
    } else {
        Err(MigrationError::WrongDatabase {
            expected: database.to_owned(),
            actual,
        }
        .into())
    }
}

/// The longest lock name MySQL accepts.
const MAX_LOCK_NAME: usize = 64;

/// The server lock name for migrating `database`: `ferrom:migrate:<database>`,
/// or, when that is longer than 64 bytes, its first bytes followed by `~` and
/// a 16-digit hash of the whole name. Lock names are server-wide, hence the
/// database in the name.
pub(crate) fn lock_name(database: &str) -> String {
    let full = format!("ferrom:migrate:{database}");
    if full.len() <= MAX_LOCK_NAME {
        return full;
    }
    let hash = format!("{:016x}", fnv1a64(full.as_bytes()));
    let mut keep = MAX_LOCK_NAME - hash.len() - 1;
    while !full.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}~{hash}", &full[..keep])
}

/// FNV-1a, 64 bits: a hash that stays the same across Rust versions and
/// platforms, so every ferrom build derives the same lock name.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The lock timeout in whole seconds for `GET_LOCK`: rounded up, at least 1
/// (MariaDB treats a negative timeout as an error, and 0 would not wait), at
/// most `u32::MAX`.
pub(crate) fn lock_seconds(timeout: Duration) -> u64 {
    let secs = timeout
        .as_secs()
        .saturating_add(u64::from(timeout.subsec_nanos() > 0));
    secs.clamp(1, u64::from(u32::MAX))
}

async fn acquire_lock(
    conn: &mut MySqlConnection,
    database: &str,
    lock: &str,
    seconds: u64,
) -> Result<()> {
    tracing::debug!(lock, seconds, "taking the migration lock");
    let seconds_arg = i64::try_from(seconds).unwrap_or(i64::MAX);
    let got: Option<i64> = sqlx::query_scalar("SELECT CAST(GET_LOCK(?, ?) AS SIGNED)")
        .bind(lock)
        .bind(seconds_arg)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| Error::database(format!("taking the migration lock `{lock}`"), e))?;
    match got {
        Some(1) => Ok(()),
        Some(_) => {
            let holder: Option<i64> = sqlx::query_scalar("SELECT CAST(IS_USED_LOCK(?) AS SIGNED)")
                .bind(lock)
                .fetch_one(&mut *conn)
                .await
                .unwrap_or(None);
            Err(MigrationError::Locked {
                database: database.to_owned(),
                lock: lock.to_owned(),
                holder,
                waited_secs: seconds,
            }
            .into())
        }
        None => Err(MigrationError::LockFailed {
            lock: lock.to_owned(),
        }
        .into()),
    }
}

/// Releases the lock; a failure is logged, not returned (the session ending
/// releases it too).
async fn release_lock(conn: &mut MySqlConnection, lock: &str) {
    let released: Result<Option<i64>, sqlx::Error> =
        sqlx::query_scalar("SELECT CAST(RELEASE_LOCK(?) AS SIGNED)")
            .bind(lock)
            .fetch_one(&mut *conn)
            .await;
    match released {
        Ok(Some(1)) => tracing::debug!(lock, "released the migration lock"),
        Ok(other) => {
            tracing::warn!(lock, result = ?other, "the migration lock was not held at release")
        }
        Err(e) => {
            tracing::warn!(lock, error = %e, "cannot release the migration lock; closing the connection releases it")
        }
    }
}

/// Reads `refinery_schema_history`; no table means nothing applied.
async fn read_history(conn: &mut MySqlConnection) -> Result<Vec<AppliedRow>> {
    let rows = sqlx::query(
        "SELECT version, name, applied_on, checksum FROM refinery_schema_history ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) if is_no_such_table(&e) => return Ok(Vec::new()),
        Err(e) => return Err(Error::database(format!("reading {HISTORY_TABLE}"), e)),
    };
    rows.iter()
        .map(|row| {
            let row = decode_history_row(row)
                .map_err(|e| Error::database(format!("reading {HISTORY_TABLE}"), e))?;
            let applied_on = DateTime::parse_from_rfc3339(&row.applied_on)
                .map(|t| t.with_timezone(&Utc))
                .inspect_err(|e| {
                    tracing::warn!(version = row.version, applied_on = %row.applied_on, error = %e, "unreadable applied_on");
                })
                .ok();
            Ok(AppliedRow {
                version: row.version,
                name: row.name,
                applied_on,
                checksum: row.checksum,
            })
        })
        .collect()
}

/// Reads `ferrom_migration_failures`; no table means no failures.
async fn read_failures(conn: &mut MySqlConnection) -> Result<Vec<FailureRow>> {
    let rows = sqlx::query(
        "SELECT version, name, statement_index, statement_count, statement, error, failed_at \
         FROM ferrom_migration_failures ORDER BY version",
    )
    .fetch_all(&mut *conn)
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) if is_no_such_table(&e) => return Ok(Vec::new()),
        Err(e) => return Err(Error::database(format!("reading {FAILURES_TABLE}"), e)),
    };
    rows.iter()
        .map(|row| {
            decode_failure(row).map_err(|e| Error::database(format!("reading {FAILURES_TABLE}"), e))
        })
        .collect()
}

fn decode_failure(row: &MySqlRow) -> Result<FailureRow, sqlx::Error> {
    let index: i64 = row.try_get("statement_index")?;
    let count: i64 = row.try_get("statement_count")?;
    let failed_at: Option<chrono::NaiveDateTime> = row.try_get("failed_at")?;
    Ok(FailureRow {
        version: row.try_get("version")?,
        name: row.try_get("name")?,
        statement_index: usize::try_from(index).unwrap_or_default(),
        statement_count: usize::try_from(count).unwrap_or_default(),
        statement: row.try_get("statement")?,
        error: row.try_get("error")?,
        failed_at: failed_at.map(|t| t.and_utc()),
    })
}

/// The longest error text stored in the failures table, in characters.
const MAX_STORED_ERROR: usize = 8000;

/// Writes (or replaces) the failure row of a migration.
async fn record_failure(conn: &mut MySqlConnection, row: &FailureRow) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(CREATE_FAILURES_TABLE)
        .execute(&mut *conn)
        .await?;
    let error: String = row.error.chars().take(MAX_STORED_ERROR).collect();
    sqlx::query(
        "REPLACE INTO ferrom_migration_failures \
         (version, name, statement_index, statement_count, statement, error, failed_at) \
         VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
    )
    .bind(row.version)
    .bind(&row.name)
    .bind(i64::try_from(row.statement_index).unwrap_or(i64::MAX))
    .bind(i64::try_from(row.statement_count).unwrap_or(i64::MAX))
    .bind(&row.statement)
    .bind(error)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes a migration's failure row once it has been applied.
async fn forget_failure(conn: &mut MySqlConnection, version: Version) {
    let result = sqlx::query("DELETE FROM ferrom_migration_failures WHERE version = ?")
        .bind(version)
        .execute(&mut *conn)
        .await;
    match result {
        Ok(done) if done.rows_affected() > 0 => {
            tracing::debug!(version, "cleared the recorded failure");
        }
        Ok(_) => {}
        Err(e) if is_no_such_table(&e) => {}
        Err(e) => tracing::warn!(version, error = %e, "cannot clear the recorded failure"),
    }
}

fn to_chrono(t: &time::OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or_else(Utc::now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use refinery::Migration;

    fn migrations(names: &[&str]) -> Migrations {
        Migrations::from_embedded(
            names
                .iter()
                .map(|n| Migration::unapplied(n, "SELECT 1").unwrap())
                .collect(),
        )
        .unwrap()
    }

    fn row(m: &Migrations, version: Version) -> AppliedRow {
        let f = m.get(version).unwrap();
        AppliedRow {
            version,
            name: f.name().to_owned(),
            applied_on: None,
            checksum: f.checksum(),
        }
    }

    #[test]
    fn lock_name_short_and_long() {
        assert_eq!(
            lock_name("post_analytics_dev"),
            "ferrom:migrate:post_analytics_dev"
        );
        let exactly = "d".repeat(MAX_LOCK_NAME - "ferrom:migrate:".len());
        assert_eq!(lock_name(&exactly).len(), MAX_LOCK_NAME);
        assert!(!lock_name(&exactly).contains('~'));

        let long_a = format!("{}a", "x".repeat(100));
        let long_b = format!("{}b", "x".repeat(100));
        let (a, b) = (lock_name(&long_a), lock_name(&long_b));
        assert!(a.len() <= MAX_LOCK_NAME && b.len() <= MAX_LOCK_NAME);
        assert!(a.starts_with("ferrom:migrate:xxx"));
        assert_ne!(a, b, "a hash of the whole name keeps long names apart");
        assert_eq!(a, lock_name(&long_a), "stable");
    }

    #[test]
    fn lock_name_cuts_on_a_char_boundary() {
        let name = lock_name(&"é".repeat(40));
        assert!(name.len() <= MAX_LOCK_NAME);
        assert!(name.contains('~'));
    }

    #[test]
    fn fnv_is_the_reference_fnv1a() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn lock_timeout_is_positive_whole_seconds() {
        assert_eq!(lock_seconds(Duration::ZERO), 1);
        assert_eq!(lock_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(lock_seconds(DEFAULT_LOCK_TIMEOUT), 60);
        assert_eq!(lock_seconds(Duration::MAX), u64::from(u32::MAX));
    }

    #[test]
    fn preflight_passes_a_clean_history() {
        let m = migrations(&["U1__a", "U2__b"]);
        let s = compute_status(&m, &[row(&m, 1)], &[]);
        assert!(preflight(&s, &m).is_ok());
    }

    #[test]
    fn preflight_refuses_divergent() {
        let m = migrations(&["U1__a", "U2__b"]);
        let mut changed = row(&m, 1);
        changed.checksum = 1;
        let s = compute_status(&m, &[changed], &[]);
        match preflight(&s, &m) {
            Err(MigrationError::Divergent { file, version, .. }) => {
                assert_eq!((file, version), (PathBuf::from("U1__a"), 1));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn preflight_refuses_missing() {
        let m = migrations(&["U2__b"]);
        let gone = AppliedRow {
            version: 1,
            name: "a".to_owned(),
            applied_on: None,
            checksum: 0,
        };
        let s = compute_status(&m, &[gone], &[]);
        let e = preflight(&s, &m).unwrap_err();
        assert!(
            matches!(e, MigrationError::Missing { version: 1, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("`a`"), "{e}");
    }

    #[test]
    fn preflight_refuses_late_v_files_but_not_late_u_files() {
        let m = migrations(&["V1__a", "U2__late_u", "V3__late_v", "V5__e", "V6__f"]);
        let s = compute_status(&m, &[row(&m, 1), row(&m, 5)], &[]);
        match preflight(&s, &m) {
            Err(MigrationError::OutOfOrder {
                version,
                latest_applied,
                ..
            }) => assert_eq!((version, latest_applied), (3, 5)),
            other => panic!("{other:?}"),
        }
        let m = migrations(&["V1__a", "U2__late_u", "V5__e", "V6__f"]);
        let s = compute_status(&m, &[row(&m, 1), row(&m, 5)], &[]);
        assert!(preflight(&s, &m).is_ok());
    }

    #[test]
    fn pending_respects_the_target() {
        let m = migrations(&["U1__a", "U2__b", "U3__c", "U4__d"]);
        let s = compute_status(&m, &[row(&m, 1)], &[]);
        let all: Vec<Version> = Migrator::new(m.clone())
            .pending_of(&s)
            .map(|s| s.version)
            .collect();
        assert_eq!(all, [2, 3, 4]);
        let upto: Vec<Version> = Migrator::new(m)
            .with_target(3)
            .pending_of(&s)
            .map(|s| s.version)
            .collect();
        assert_eq!(upto, [2, 3]);
    }

    #[test]
    fn to_chrono_keeps_the_instant() {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(1_767_225_600_123_456_789).unwrap();
        let c = to_chrono(&t);
        assert_eq!(c.timestamp(), 1_767_225_600);
        assert_eq!(c.timestamp_subsec_nanos(), 123_456_789);
    }
}
