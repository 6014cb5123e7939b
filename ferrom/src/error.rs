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
        source: Option<sqlx::Error>,
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

    /// Any other database error, with the statement that caused it where known.
    #[error("database error{}: {source}", context.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Database {
        /// What ferrom was doing.
        context: Option<String>,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
}

impl Error {
    /// Wraps a driver error with a note of what ferrom was doing.
    pub(crate) fn database(context: impl Into<String>, source: sqlx::Error) -> Self {
        Error::Database {
            context: Some(context.into()),
            source,
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
            source,
        }
    }
}
