//! Migrations: refinery over one sqlx connection, with the checks and reports
//! refinery leaves out.
//!
//! refinery decides *what* to apply (history table, checksums, ordering);
//! ferrom supplies the driver, loads and checks the files, serialises runs
//! with a server lock, reports progress and explains failures.
//!
//! ```no_run
//! # async fn demo(conn: &mut sqlx::MySqlConnection) -> ferrom::Result<()> {
//! use ferrom::migrate::{MigrationEvent, Migrations, Migrator};
//!
//! let migrator = Migrator::new(Migrations::from_dir("migrations")?);
//! let applied = migrator
//!     .migrate(conn, "post_analytics_dev", &mut |event| {
//!         if let MigrationEvent::Applied { version, name, duration, .. } = event {
//!             println!("applied {version} {name} in {duration:?}");
//!         }
//!     })
//!     .await?;
//! println!("{} migration(s) applied", applied.len());
//! print!("{}", ferrom::migrate::render_table(&migrator.status(conn).await?));
//! # Ok(()) }
//! ```
//!
//! # Layout
//!
//! | file | what it holds |
//! |---|---|
//! | `source.rs` | [`Migrations`]: loading and checking migration files, [`new_migration_file`] |
//! | `split.rs` | cutting a file into statements (`;` outside strings, comments and `BEGIN ... END`) |
//! | `driver.rs` | refinery's async traits over `&mut MySqlConnection`, statement by statement |
//! | `runner.rs` | [`Migrator`]: lock, pre-flight, apply one by one, record failures |
//! | `status.rs` | [`MigrationStatus`], [`MigrationState`], [`render_table`] |
//!
//! # Files
//!
//! Migration files are named `U{version}__{name}.sql`, where the version is a
//! UTC timestamp `YYYYMMDDHHMMSS` (refinery is built with `int8-versions`, so
//! versions are `i64`) and the name is lowercase snake_case, e.g.
//! `U20260101120000__create_companies.sql`. See [U prefix](#u-prefix) for why
//! the prefix is `U`.
//!
//! # U prefix
//!
//! refinery knows two prefixes. `V` ("versioned") files must be applied in
//! strict version order: a `V` file older than the newest applied migration is
//! treated as *missing* and never applied. `U` ("unversioned") files may be
//! applied out of order. Timestamped files written on parallel branches reach
//! the main branch out of order (a branch started on Monday merges after one
//! started on Tuesday), so `ferrom db new` writes `U` files; `V` files are
//! still read, and a late one is reported as [`MigrationError::OutOfOrder`].
//!
//! # MySQL does not roll back DDL
//!
//! `CREATE`, `ALTER`, `DROP` and friends commit implicitly, so a migration file
//! is not atomic. ferrom runs each file statement by statement; when one
//! fails, [`MigrationError::Failed`] says which statement of which file failed
//! and what happened to the ones before it, and the failure is recorded in the
//! table `ferrom_migration_failures` (shown by [`Migrator::status`] until the
//! migration is applied). Keep one schema change per migration when you can.
//!
//! # History table
//!
//! Applied migrations are recorded in refinery's own `refinery_schema_history`
//! table, in refinery's format, so `refinery_cli` (built with the
//! `int8-versions` feature) sees the same history.

mod driver;
mod runner;
mod source;
mod split;
mod status;

use std::path::PathBuf;

pub use runner::{AppliedMigration, DEFAULT_LOCK_TIMEOUT, MigrationEvent, Migrator};
pub use source::{MigrationFile, Migrations, new_migration_file};
pub use status::{MigrationState, MigrationStatus, render_table};

/// A migration version: the number in `U{version}__{name}.sql`.
pub type Version = refinery::SchemaVersion;

/// What can go wrong loading, checking or applying migrations.
///
/// Every message names the file (or version) at fault and says what to do.
/// For migrations embedded with `refinery::embed_migrations!`, `file` holds
/// the migration's name (`U20260101120000__create_companies`), as there is
/// no path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The migrations directory does not exist.
    #[error(
        "the migrations directory {} does not exist; create it, or create a first migration with `ferrom db new NAME`",
        .dir.display()
    )]
    NoDirectory {
        /// The directory that was looked for.
        dir: PathBuf,
    },

    /// A `.sql` file whose name refinery would silently skip.
    #[error(
        "{}: not a migration file name: {reason}. Migration files are named `U<version>__<name>.sql` with a numeric version and a name of lowercase letters, digits and `_`, for example `U20260101120000__create_companies.sql`; rename the file or move it out of the migrations directory",
        .file.display()
    )]
    BadFileName {
        /// The file.
        file: PathBuf,
        /// What is wrong with its name.
        reason: String,
    },

    /// A migration file that is not UTF-8.
    #[error("{}: line {line} is not valid UTF-8; save the file as UTF-8", .file.display())]
    NotUtf8 {
        /// The file.
        file: PathBuf,
        /// The first line with an invalid byte, 1-based.
        line: usize,
    },

    /// A migration file with no SQL statement in it.
    #[error(
        "{}: the migration is empty (only whitespace or comments); write its SQL, or delete the file",
        .file.display()
    )]
    Empty {
        /// The file.
        file: PathBuf,
    },

    /// A migration file that uses the `mysql` client's `DELIMITER` command.
    #[error(
        "{}, line {line}: `DELIMITER` is a command of the mysql client, not SQL, and the server rejects it; remove the DELIMITER lines and end each statement with `;` (ferrom keeps `BEGIN ... END` bodies of procedures, functions, triggers and events whole)",
        .file.display()
    )]
    Delimiter {
        /// The file.
        file: PathBuf,
        /// The line of the `DELIMITER` command.
        line: usize,
    },

    /// A statement that starts with `END` (or `ELSE`, `ELSEIF`, `UNTIL`,
    /// `WHEN`): the tail of a stored-program body that was cut at a `;`
    /// because it is not wrapped in `BEGIN ... END`.
    #[error(
        "{}, line {line}: a statement starts with `{keyword}`, so a body was cut apart at a `;`: the body of a procedure, function, trigger or event that holds more than one statement must be wrapped in `BEGIN ... END` (ferrom cuts the file at each `;` outside `BEGIN ... END` and `CASE ... END`)",
        .file.display()
    )]
    BodyWithoutBegin {
        /// The file.
        file: PathBuf,
        /// The line of the stray statement.
        line: usize,
        /// The keyword it starts with.
        keyword: String,
    },

    /// Two migration files with the same version.
    #[error(
        "{} and {} have the same version {version}; versions must be unique: give one of them a new version by renaming it",
        .first.display(),
        .second.display()
    )]
    DuplicateVersion {
        /// The shared version.
        version: Version,
        /// One file.
        first: PathBuf,
        /// The other file.
        second: PathBuf,
    },

    /// A name given to `ferrom db new` that cannot be a migration name.
    #[error("invalid migration name `{name}`: {reason}; for example `{example}`")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Why it is refused.
        reason: String,
        /// A valid name to use instead.
        example: String,
    },

    /// `ferrom db new` would overwrite an existing file.
    #[error("{} already exists; ferrom never overwrites a migration file", .file.display())]
    FileExists {
        /// The file.
        file: PathBuf,
    },

    /// An applied migration whose file has changed since it was applied.
    #[error(
        "migration {version} ({}) was changed after it was applied: it was applied as `{applied_name}` with checksum {applied_checksum}, the file is now `{name}` with checksum {file_checksum}. An applied migration must not be edited: restore the file as it was (for example from version control) and put the change in a new migration (`ferrom db new NAME`)",
        .file.display()
    )]
    Divergent {
        /// The file.
        file: PathBuf,
        /// The version.
        version: Version,
        /// The name recorded in the history table.
        applied_name: String,
        /// The checksum recorded in the history table.
        applied_checksum: u64,
        /// The name in the file name.
        name: String,
        /// The checksum of the file as it is now.
        file_checksum: u64,
    },

    /// A migration recorded as applied that has no file.
    #[error(
        "migration {version} `{name}` is recorded as applied in refinery_schema_history but no migration file has version {version}; restore the file (for example from version control), or, if it was removed on purpose, delete its row from refinery_schema_history"
    )]
    Missing {
        /// The version.
        version: Version,
        /// The name recorded in the history table.
        name: String,
    },

    /// A `V` migration that is older than the newest applied one, which
    /// refinery refuses to apply.
    #[error(
        "{} (version {version}) is not applied but is older than the newest applied migration {latest_applied}; refinery applies `V` migrations strictly in order and will not apply it. Rename it with a `U` prefix (`U{version}__...`), which may be applied out of order",
        .file.display()
    )]
    OutOfOrder {
        /// The file.
        file: PathBuf,
        /// Its version.
        version: Version,
        /// The newest applied version.
        latest_applied: Version,
    },

    /// Another run holds the migration lock of this database.
    #[error(
        "another migration run on database `{database}` holds the lock `{lock}`{}; gave up after {waited_secs} s. Wait for it to finish, then try again",
        .holder.map(|id| format!(" (MySQL connection {id})")).unwrap_or_default()
    )]
    Locked {
        /// The database.
        database: String,
        /// The lock name.
        lock: String,
        /// The connection id holding the lock, when the server said.
        holder: Option<i64>,
        /// How long ferrom waited, in seconds.
        waited_secs: u64,
    },

    /// `GET_LOCK` returned `NULL`.
    #[error(
        "the server could not take the migration lock `{lock}` (GET_LOCK returned NULL: out of memory, or the session was killed); try again"
    )]
    LockFailed {
        /// The lock name.
        lock: String,
    },

    /// The connection's default database is not the one migrations were
    /// asked for.
    #[error(
        "migrations were asked for database `{expected}` but the connection {}; connect to `{expected}`",
        .actual.as_ref().map(|a| format!("uses database `{a}`")).unwrap_or_else(|| "has no default database".to_owned())
    )]
    WrongDatabase {
        /// The database the caller named.
        expected: String,
        /// What `SELECT DATABASE()` said.
        actual: Option<String>,
    },

    /// A statement of a migration failed. Statements before it may have been
    /// committed (see the message); the migration is not recorded as applied.
    #[error(
        "{}",
        failed_message(.file, *.version, *.statement_index, *.statement_count, .statement, *.line, *.committed, .cause, .applied_before)
    )]
    Failed {
        /// The migration file.
        file: PathBuf,
        /// Its version.
        version: Version,
        /// The failed statement's position in the file, 1-based.
        statement_index: usize,
        /// How many statements the file has.
        statement_count: usize,
        /// The failed statement, on one line, shortened to about 200
        /// characters.
        statement: String,
        /// The line of the file on which the failed statement starts.
        line: usize,
        /// Whether statements `1..statement_index` were committed (they were
        /// when one of them, or the failed one, is DDL, which MySQL commits
        /// implicitly); when false they were rolled back.
        committed: bool,
        /// The server's error (boxed to keep [`MigrationError`] small).
        #[source]
        cause: Box<sqlx::Error>,
        /// Migrations applied (and recorded) by this run before the failure.
        applied_before: Vec<AppliedMigration>,
    },

    /// Every statement of a migration ran, but recording it in
    /// `refinery_schema_history` failed.
    #[error(
        "all statements of {} (version {version}) ran, but recording it in refinery_schema_history failed: {cause}. {}",
        .file.display(),
        if *.committed {
            "Its statements were committed (it contains DDL), so the database has the change but not the history row: check refinery_schema_history (did another process apply it at the same time?) and insert the row or undo the change, then run `ferrom db migrate` again"
        } else {
            "Its statements were rolled back with the history row (it changes data only); fix the cause and run `ferrom db migrate` again"
        }
    )]
    NotRecorded {
        /// The migration file.
        file: PathBuf,
        /// Its version.
        version: Version,
        /// Whether the migration's statements were committed.
        committed: bool,
        /// The server's error.
        #[source]
        cause: sqlx::Error,
    },

    /// refinery refused to run, for a reason ferrom's own checks did not
    /// catch first.
    #[error("refinery: {0}")]
    Refinery(#[source] refinery::Error),
}

/// "1" or "1–3".
fn range(from: usize, to: usize) -> String {
    if from == to {
        format!("{from}")
    } else {
        format!("{from}–{to}")
    }
}

/// The text of [`MigrationError::Failed`].
#[allow(clippy::too_many_arguments)]
fn failed_message(
    file: &std::path::Path,
    version: Version,
    index: usize,
    count: usize,
    statement: &str,
    line: usize,
    committed: bool,
    cause: &sqlx::Error,
    applied_before: &[AppliedMigration],
) -> String {
    let cause = cause
        .as_database_error()
        .map_or_else(|| cause.to_string(), ToString::to_string);
    let mut text = format!(
        "migration {} (version {version}) failed at statement {index} of {count} (line {line}): {cause}\n  statement: {statement}\n",
        file.display()
    );
    let rest = if index < count {
        format!(
            "; statement{} {} did not run",
            if count - index == 1 { "" } else { "s" },
            range(index + 1, count)
        )
    } else {
        String::new()
    };
    if index <= 1 {
        text.push_str(&format!(
            "No statement of this file took effect: the first one failed{rest}.\n"
        ));
    } else {
        let before = range(1, index - 1);
        let (noun, verb) = if index == 2 {
            ("Statement", "was")
        } else {
            ("Statements", "were")
        };
        if committed {
            text.push_str(&format!(
                "{noun} {before} of this file {verb} applied and committed (MySQL commits DDL implicitly, so they cannot be rolled back); statement {index} failed{rest}.\n"
            ));
        } else {
            text.push_str(&format!(
                "{noun} {before} of this file {verb} rolled back (no DDL had run, so they were still in the migration's transaction); statement {index} failed{rest}.\n"
            ));
        }
    }
    text.push_str(
        "The migration is not recorded as applied, and the failure is recorded in ferrom_migration_failures. ",
    );
    if committed && index > 1 {
        text.push_str(&format!(
            "`ferrom db migrate` runs the whole file again from statement 1, so first undo what statement{} {} did by hand (or make {} idempotent, e.g. `CREATE TABLE IF NOT EXISTS`), fix statement {index} or the database, then run `ferrom db migrate` again.",
            if index == 2 { "" } else { "s" },
            range(1, index - 1),
            if index == 2 { "it" } else { "them" },
        ));
    } else {
        text.push_str(&format!(
            "Fix statement {index} or the database, then run `ferrom db migrate` again."
        ));
    }
    if !applied_before.is_empty() {
        let names: Vec<String> = applied_before
            .iter()
            .map(|m| format!("{} {}", m.version, m.name))
            .collect();
        text.push_str(&format!(
            "\nApplied by this run before the failure (they stay applied): {}.",
            names.join(", ")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(index: usize, count: usize, committed: bool) -> MigrationError {
        MigrationError::Failed {
            file: PathBuf::from("migrations/U20260101120000__create_companies.sql"),
            version: 20260101120000,
            statement_index: index,
            statement_count: count,
            statement: "THIS IS NOT SQL".to_owned(),
            line: 7,
            committed,
            cause: Box::new(sqlx::Error::Protocol("boom".to_owned())),
            applied_before: Vec::new(),
        }
    }

    #[test]
    fn failed_message_names_file_statement_and_fate() {
        let text = failed(2, 3, true).to_string();
        assert!(
            text.contains("U20260101120000__create_companies.sql"),
            "{text}"
        );
        assert!(text.contains("statement 2 of 3 (line 7)"), "{text}");
        assert!(text.contains("THIS IS NOT SQL"), "{text}");
        assert!(
            text.contains("Statement 1 of this file was applied and committed"),
            "{text}"
        );
        assert!(text.contains("statement 3 did not run"), "{text}");
        assert!(text.contains("not recorded as applied"), "{text}");
        assert!(text.contains("ferrom db migrate"), "{text}");
    }

    #[test]
    fn failed_message_variants() {
        let first = failed(1, 1, false).to_string();
        assert!(
            first.contains("No statement of this file took effect"),
            "{first}"
        );
        assert!(!first.contains("did not run"), "{first}");
        let rolled = failed(4, 6, false).to_string();
        assert!(
            rolled.contains("Statements 1–3 of this file were rolled back"),
            "{rolled}"
        );
        assert!(rolled.contains("statements 5–6 did not run"), "{rolled}");
        let last = failed(3, 3, true).to_string();
        assert!(
            last.contains("Statements 1–2 of this file were applied and committed"),
            "{last}"
        );
        assert!(last.contains("undo what statements 1–2 did"), "{last}");
    }

    #[test]
    fn locked_message_names_holder() {
        let e = MigrationError::Locked {
            database: "app".into(),
            lock: "ferrom:migrate:app".into(),
            holder: Some(42),
            waited_secs: 60,
        };
        let text = e.to_string();
        assert!(text.contains("connection 42"), "{text}");
        assert!(text.contains("60 s"), "{text}");
    }
}
