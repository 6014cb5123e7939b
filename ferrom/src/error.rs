//! The one error type of ferrom.
//!
//! Every fallible call in the toolkit returns [`Result<T>`], whose error is
//! [`Error`]. Each variant names what is at fault (the settings file and key,
//! the migration file and statement, the host and database that refused a
//! connection) and what was expected, so that the message alone tells a user
//! what to fix. Database passwords never appear in any message: connection
//! targets are shown through [`crate::settings::RedactedUrl`].

use std::path::PathBuf;

/// The result type of every fallible ferrom call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in ferrom.
///
/// Match on the variants to react to a particular failure; the `Display` text
/// is written for people and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The settings file does not exist or cannot be read.
    #[error("cannot read the settings file {path}: {reason}")]
    SettingsFile {
        /// The file that was looked for.
        path: PathBuf,
        /// Why it could not be read.
        reason: String,
    },

    /// The settings file is not valid YAML or a value has the wrong type.
    #[error("invalid settings in {path}: {reason}")]
    SettingsInvalid {
        /// The settings file (or the environment variable) at fault.
        path: PathBuf,
        /// What is wrong, with the key and line where known.
        reason: String,
    },

    /// The requested environment is not defined in the settings file.
    #[error("unknown environment `{env}` in {path}; known environments: {}", known.join(", "))]
    UnknownEnvironment {
        /// The environment that was asked for.
        env: String,
        /// The settings file.
        path: PathBuf,
        /// The environments the file defines.
        known: Vec<String>,
    },

    /// A setting has a value ferrom cannot use (a database name with a quote,
    /// a zero pool size, an unparsable `DATABASE_URL`).
    #[error("invalid setting `{key}`: {reason}")]
    InvalidSetting {
        /// The key (or environment variable) at fault.
        key: String,
        /// What was expected.
        reason: String,
    },

    /// The server could not be reached or refused the connection.
    #[error("cannot connect to MySQL at {url}: {reason}. {hint}")]
    Connect {
        /// Where ferrom tried to connect, password redacted.
        url: String,
        /// The cause, as the driver or the server reported it.
        reason: String,
        /// What to do about it.
        hint: String,
        /// The driver error, when there is one.
        #[source]
        source: Option<Box<sqlx::Error>>,
    },

    /// The server is older than the oldest version ferrom supports.
    #[error(
        "{server} at {url} is not supported: ferrom needs MariaDB 10.6 or later, or MySQL 8.0 or later"
    )]
    UnsupportedServer {
        /// The version string the server reported.
        server: String,
        /// Where it runs, password redacted.
        url: String,
    },

    /// A migration file or the migrations directory is not usable.
    #[error("{0}")]
    Migration(Box<crate::migrate::MigrationError>),

    /// A factory could not be defined, or could not build or create its
    /// rows (see [`crate::factory::FactoryError`]).
    #[error("{0}")]
    Factory(Box<crate::factory::FactoryError>),

    /// A command-line or console operation was refused (for example `db drop`
    /// outside the test environment without `--yes`).
    #[error("{0}")]
    Refused(String),

    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// No relation is registered under this name.
    #[error("unknown relation `{name}`; relations: {}", list(known))]
    UnknownRelation {
        /// The name asked for.
        name: String,
        /// The registered relations.
        known: Vec<String>,
    },

    /// A relation's table does not exist in its gateway's database.
    #[error(
        "relation `{relation}`: table `{table}` does not exist in database {database}; run `ferrom db migrate` (or check the table name)"
    )]
    MissingTable {
        /// The relation.
        relation: String,
        /// The table it names.
        table: String,
        /// The database looked in.
        database: String,
    },

    /// A relation names a gateway that is not configured.
    #[error(
        "relation `{relation}` names gateway `{gateway}`, which is not configured; gateways: {}",
        list(known)
    )]
    UnknownGateway {
        /// The relation.
        relation: String,
        /// The gateway it names.
        gateway: String,
        /// The configured gateways.
        known: Vec<String>,
    },

    /// The relation has no attribute of this name.
    #[error(
        "relation `{relation}` has no attribute `{attribute}`; attributes: {}",
        list(known)
    )]
    UnknownAttribute {
        /// The relation.
        relation: String,
        /// The name asked for.
        attribute: String,
        /// The relation's attributes.
        known: Vec<String>,
    },

    /// The relation has no association of this name.
    #[error(
        "relation `{relation}` has no association `{association}`; associations: {}",
        list(known)
    )]
    UnknownAssociation {
        /// The relation.
        relation: String,
        /// The name asked for.
        association: String,
        /// The relation's associations.
        known: Vec<String>,
    },

    /// An association cannot be resolved (no foreign key, ambiguous keys).
    #[error("relation `{relation}`, association `{association}`: {reason}")]
    InvalidAssociation {
        /// The relation declaring it.
        relation: String,
        /// The association.
        association: String,
        /// What is wrong and what to do.
        reason: String,
    },

    /// The relation has no view of this name.
    #[error("relation `{relation}` has no view `{view}`; views: {}", list(known))]
    UnknownView {
        /// The relation.
        relation: String,
        /// The name asked for.
        view: String,
        /// The relation's views.
        known: Vec<String>,
    },

    /// The relation has no command registered under this name.
    #[error(
        "relation `{relation}` has no command `{command}`; commands: {}",
        list(known)
    )]
    UnknownCommand {
        /// The relation.
        relation: String,
        /// The name asked for.
        command: String,
        /// The commands registered for the relation.
        known: Vec<String>,
    },

    /// A command definition cannot be resolved at finalize (an unknown
    /// relation, a plugin naming an attribute the relation lacks), or a
    /// command cannot do what it was called for (an update of a relation
    /// without a primary key, a generated attribute in the input).
    #[error("command `{command}` of relation `{relation}`: {reason}")]
    InvalidCommand {
        /// The relation.
        relation: String,
        /// The command's registered name.
        command: String,
        /// What is wrong and what to do.
        reason: String,
    },

    /// A command input is not a map of attributes (a struct that does not
    /// serialize to one, an attribute given twice).
    #[error("invalid command input: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: String,
    },

    /// A relation or query is used in a way it does not support (no primary
    /// key for `by_pk`, the wrong number of key values, ...).
    #[error("relation `{relation}`: {reason}")]
    InvalidQuery {
        /// The relation.
        relation: String,
        /// What is wrong.
        reason: String,
    },

    /// A value does not fit the attribute's type.
    #[error("relation `{relation}`, attribute `{attribute}`: expected {expected}, got {got}")]
    TypeMismatch {
        /// The relation.
        relation: String,
        /// The attribute.
        attribute: String,
        /// The type expected.
        expected: String,
        /// What was given (its kind, and the value when short).
        got: String,
    },

    /// NULL into a NOT NULL column (MySQL 1048, 1364), or a command input
    /// that ferrom refused before sending because it would be (the source
    /// is then an `InvalidArgument` saying so).
    #[error("relation `{relation}`: attribute `{attribute}` cannot be NULL")]
    NotNull {
        /// The relation.
        relation: String,
        /// The attribute.
        attribute: String,
        /// The server error.
        #[source]
        source: Box<sqlx::Error>,
    },

    /// A duplicate value for a unique key (MySQL 1062).
    #[error("relation `{relation}`: duplicate value {value} for unique key `{key}`")]
    Unique {
        /// The relation.
        relation: String,
        /// The unique key (index) name.
        key: String,
        /// The duplicate value, as the server reported it.
        value: String,
        /// The server error.
        #[source]
        source: Box<sqlx::Error>,
    },

    /// A foreign key is violated (MySQL 1451, 1452).
    #[error("relation `{relation}`: foreign key `{constraint}` violated: {detail}")]
    ForeignKey {
        /// The relation.
        relation: String,
        /// The constraint name.
        constraint: String,
        /// What the server said.
        detail: String,
        /// The server error.
        #[source]
        source: Box<sqlx::Error>,
    },

    /// A CHECK constraint is violated (MySQL 3819, MariaDB 4025).
    #[error("relation `{relation}`: check constraint `{constraint}` violated")]
    Check {
        /// The relation.
        relation: String,
        /// The constraint name.
        constraint: String,
        /// The server error.
        #[source]
        source: Box<sqlx::Error>,
    },

    /// A value is too long or out of range for its column (MySQL 1406,
    /// 1264, 1292, 1366); also a string longer than its column's
    /// `max_length`, refused by a command before sending (the source is
    /// then an `InvalidArgument` saying so).
    #[error("relation `{relation}`, attribute `{attribute}`: {detail}")]
    DataTooLong {
        /// The relation.
        relation: String,
        /// The attribute.
        attribute: String,
        /// What the server said.
        detail: String,
        /// The server error.
        #[source]
        source: Box<sqlx::Error>,
    },

    /// `one` found more than one row, or `one!`/`fetch` not exactly one.
    #[error("relation `{relation}`: expected {expected}, found {found} rows")]
    TupleCountMismatch {
        /// The relation.
        relation: String,
        /// What was expected (`exactly one row`, `at most one row`).
        expected: String,
        /// How many there were (or "more than one").
        found: String,
    },

    /// A deadlock was detected and this transaction rolled back (MySQL 1213).
    #[error("deadlock{}; the transaction was rolled back", on(relation))]
    Deadlock {
        /// The relation, where known.
        relation: Option<String>,
        /// The server error.
        #[source]
        source: Box<sqlx::Error>,
    },

    /// A lock wait timed out (MySQL 1205).
    #[error("lock wait timeout{}", on(relation))]
    LockWaitTimeout {
        /// The relation, where known.
        relation: Option<String>,
        /// The server error.
        #[source]
        source: Box<sqlx::Error>,
    },

    /// The connection to the server was lost or refused mid-work.
    #[error("connection to {url} lost: {reason}")]
    ConnectionLost {
        /// Where, password redacted.
        url: String,
        /// What happened.
        reason: String,
        /// The driver error.
        #[source]
        source: Box<sqlx::Error>,
    },

    /// No pooled connection came free within `db.acquire_timeout`: every
    /// one of the pool's `db.pool_size` connections stayed in use.
    #[error(
        "no free connection to {url} within {waited_secs} s (db.acquire_timeout): all {pool_size} connections of the pool (db.pool_size) stayed in use. Raise db.pool_size or db.acquire_timeout, or hold connections for less time (transactions, sessions and open streams each hold one)"
    )]
    PoolTimeout {
        /// Where, password redacted.
        url: String,
        /// The pool's size.
        pool_size: u32,
        /// How long the call waited, in seconds.
        waited_secs: u64,
    },

    /// A statement ran longer than `db.statement_timeout` and the server
    /// stopped it and rolled it back (MariaDB 1969, MySQL 3024).
    #[error(
        "statement{} ran longer than db.statement_timeout and the server stopped it; its changes were rolled back",
        on(relation)
    )]
    StatementTimeout {
        /// The relation, where known.
        relation: Option<String>,
        /// The server error.
        #[source]
        source: Box<sqlx::Error>,
    },

    /// A statement would need more bound parameters than MySQL allows (65,535).
    #[error(
        "relation `{relation}`: the statement needs {count} parameters, more than MySQL's limit of 65,535; split the IN list or the batch"
    )]
    TooManyParameters {
        /// The relation.
        relation: String,
        /// How many it would need.
        count: usize,
    },

    /// Any other database error, with the statement that caused it where known.
    #[error("database error{}: {source}", context.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Database {
        /// What ferrom was doing.
        context: Option<String>,
        /// The driver error.
        #[source]
        source: Box<sqlx::Error>,
    },
}

/// The `n`th single-quoted word of a server message.
fn quoted(message: &str, n: usize) -> Option<String> {
    message
        .split('\'')
        .skip(1)
        .step_by(2)
        .nth(n)
        .map(str::to_string)
}

/// The `n`th backticked word of a server message.
fn backticked(message: &str, n: usize) -> Option<String> {
    message
        .split('`')
        .skip(1)
        .step_by(2)
        .nth(n)
        .map(str::to_string)
}

/// The constraint named in a foreign-key message: `CONSTRAINT `name``.
fn constraint_name(message: &str) -> Option<String> {
    let rest = &message[message.find("CONSTRAINT `")? + "CONSTRAINT `".len()..];
    rest.split('`').next().map(str::to_string)
}

/// The column named in a data error: `for column 'x'` (MySQL) or
/// `` for column `db`.`t`.`x` `` (MariaDB).
fn column_in(message: &str) -> Option<String> {
    let rest = &message[message.find("column ")? + "column ".len()..];
    if let Some(stripped) = rest.strip_prefix('\'') {
        return stripped.split('\'').next().map(str::to_string);
    }
    let end = rest.find(" at row").unwrap_or(rest.len());
    rest[..end]
        .rsplit('.')
        .next()
        .map(|c| c.trim_matches('`').to_string())
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

fn on(relation: &Option<String>) -> String {
    relation
        .as_deref()
        .map(|r| format!(" on relation `{r}`"))
        .unwrap_or_default()
}

impl Error {
    /// Maps a driver error to the variant a caller can match on: NOT NULL,
    /// unique, foreign key, check, data too long, deadlock, lock wait
    /// timeout, connection lost; anything else stays [`Error::Database`].
    /// This is the one place MySQL error numbers are read.
    pub fn classify(
        relation: Option<&str>,
        url: &crate::settings::RedactedUrl,
        error: sqlx::Error,
    ) -> Error {
        let source = Box::new(error);
        let rel = || relation.unwrap_or("?").to_string();
        let (number, message) = match source
            .as_database_error()
            .and_then(|d| d.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>())
        {
            Some(d) => (d.number(), d.message().to_string()),
            None => {
                return match &*source {
                    sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
                    | sqlx::Error::Tls(_) => Error::ConnectionLost {
                        url: url.to_string(),
                        reason: match &*source {
                            sqlx::Error::PoolTimedOut => {
                                "timed out waiting for a free connection (db.acquire_timeout)"
                                    .to_string()
                            }
                            other => other.to_string(),
                        },
                        source,
                    },
                    _ => Error::Database {
                        context: relation.map(|r| format!("relation `{r}`")),
                        source,
                    },
                };
            }
        };
        match number {
            1048 | 1364 => Error::NotNull {
                relation: rel(),
                attribute: quoted(&message, 0).unwrap_or_default(),
                source,
            },
            1062 | 1586 => {
                let value = quoted(&message, 0).unwrap_or_default();
                let key = quoted(&message, 1).unwrap_or_default();
                // MySQL 8 names the key `table.key`.
                let key = key.rsplit('.').next().unwrap_or_default().to_string();
                Error::Unique {
                    relation: rel(),
                    key,
                    value: format!("'{value}'"),
                    source,
                }
            }
            1451 | 1452 | 1216 | 1217 => Error::ForeignKey {
                relation: rel(),
                constraint: constraint_name(&message).unwrap_or_default(),
                detail: if matches!(number, 1451 | 1217) {
                    "other rows still reference this row".into()
                } else {
                    "the referenced row does not exist".into()
                },
                source,
            },
            3819 | 4025 => Error::Check {
                relation: rel(),
                constraint: backticked(&message, 0)
                    .or_else(|| quoted(&message, 0))
                    .unwrap_or_default(),
                source,
            },
            1406 | 1264 | 1292 | 1366 | 1265 | 1367 | 3140 | 4038 => Error::DataTooLong {
                relation: rel(),
                attribute: column_in(&message).unwrap_or_default(),
                detail: message.clone(),
                source,
            },
            1213 => Error::Deadlock {
                relation: relation.map(str::to_string),
                source,
            },
            1969 | 3024 => Error::StatementTimeout {
                relation: relation.map(str::to_string),
                source,
            },
            1205 => Error::LockWaitTimeout {
                relation: relation.map(str::to_string),
                source,
            },
            2006 | 2013 | 1927 | 1053 => Error::ConnectionLost {
                url: url.to_string(),
                reason: message,
                source,
            },
            _ => Error::Database {
                context: relation.map(|r| format!("relation `{r}`")),
                source,
            },
        }
    }

    /// A copy of an error a relation kept from a builder call, to report
    /// each time the relation is read. Builder errors carry only text.
    pub(crate) fn replay(&self) -> Error {
        match self {
            Error::UnknownAttribute {
                relation,
                attribute,
                known,
            } => Error::UnknownAttribute {
                relation: relation.clone(),
                attribute: attribute.clone(),
                known: known.clone(),
            },
            Error::UnknownAssociation {
                relation,
                association,
                known,
            } => Error::UnknownAssociation {
                relation: relation.clone(),
                association: association.clone(),
                known: known.clone(),
            },
            Error::UnknownRelation { name, known } => Error::UnknownRelation {
                name: name.clone(),
                known: known.clone(),
            },
            Error::TypeMismatch {
                relation,
                attribute,
                expected,
                got,
            } => Error::TypeMismatch {
                relation: relation.clone(),
                attribute: attribute.clone(),
                expected: expected.clone(),
                got: got.clone(),
            },
            Error::TooManyParameters { relation, count } => Error::TooManyParameters {
                relation: relation.clone(),
                count: *count,
            },
            Error::InvalidQuery { relation, reason } => Error::InvalidQuery {
                relation: relation.clone(),
                reason: reason.clone(),
            },
            other => Error::InvalidQuery {
                relation: "?".into(),
                reason: other.to_string(),
            },
        }
    }

    /// Wraps a driver error with a note of what ferrom was doing.
    pub(crate) fn database(context: impl Into<String>, source: sqlx::Error) -> Self {
        Error::Database {
            context: Some(context.into()),
            source: Box::new(source),
        }
    }
}

impl From<crate::migrate::MigrationError> for Error {
    fn from(e: crate::migrate::MigrationError) -> Self {
        Error::Migration(Box::new(e))
    }
}

impl From<sqlx::Error> for Error {
    fn from(source: sqlx::Error) -> Self {
        Error::Database {
            context: None,
            source: Box::new(source),
        }
    }
}
