//! Settings: `settings.yml` environments, environment-variable overrides and
//! secret redaction.
//!
//! A settings file holds one section per environment, keyed as the reference
//! application's was:
//!
//! ```yaml
//! development:
//!   db:
//!     host: 127.0.0.1
//!     port: 3306
//!     name: ferrom_development
//!     username: root
//!     password: ""
//!     encoding: utf8mb4
//!     collation: utf8mb4_unicode_ci
//!     pool_size: 5
//!     connect_timeout: 5   # seconds
//!     acquire_timeout: 5   # seconds
//!     statement_timeout: 0 # seconds; 0 sets no limit
//! ```
//!
//! The environment comes from `FERROM_ENV` (default `development`) unless the
//! caller names one. Any `db` key can then be overridden by an environment
//! variable `FERROM_DB__<KEY>` (`FERROM_DB__HOST=db.internal`), and
//! `DATABASE_URL` (`mysql://user:password@host:port/name`) replaces the whole
//! connection (host, port, name, username, password) while the pool settings
//! stay.
//!
//! Nothing below the binary reads the process environment by itself:
//! [`Settings::load`] takes the variables as an argument, and
//! [`Settings::load_from_env`] is the one place that reads them.
//!
//! The password is a [`Secret`]: it has no `Display`, its `Debug` prints
//! `***`, and connection targets are shown as [`RedactedUrl`]s.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The environment used when none is named.
pub const DEFAULT_ENV: &str = "development";

/// The environment variable that names the environment.
pub const ENV_VAR: &str = "FERROM_ENV";

/// The prefix of the variables that override `db` keys.
pub const DB_OVERRIDE_PREFIX: &str = "FERROM_DB__";

/// A value that must never be shown: `Debug` prints `***` and there is no
/// `Display`.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for handing to the driver. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The `db` section of one environment.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbSettings {
    /// Server host name or address.
    #[serde(default = "defaults::host")]
    pub host: String,
    /// Server TCP port.
    #[serde(default = "defaults::port")]
    pub port: u16,
    /// The database (schema) name.
    pub name: String,
    /// The user to connect as.
    #[serde(default = "defaults::username")]
    pub username: String,
    /// The user's password (never shown).
    #[serde(default)]
    pub password: Secret,
    /// The connection character set; ferrom requires `utf8mb4`.
    #[serde(default = "defaults::encoding")]
    pub encoding: String,
    /// The collation used for the session and for `db create`.
    #[serde(default = "defaults::collation")]
    pub collation: String,
    /// The most connections the pool opens.
    #[serde(default = "defaults::pool_size")]
    pub pool_size: u32,
    /// Seconds to wait for a new connection to be established.
    #[serde(default = "defaults::timeout")]
    pub connect_timeout: u64,
    /// Seconds to wait for a free connection from the pool.
    #[serde(default = "defaults::timeout")]
    pub acquire_timeout: u64,
    /// Seconds a statement on a pooled connection may run before the server
    /// stops it; 0 (the default) sets no limit. MariaDB limits every
    /// statement; MySQL limits `SELECT`s only. Migrations are not limited.
    #[serde(default)]
    pub statement_timeout: u64,
}

mod defaults {
    pub(super) fn host() -> String {
        "127.0.0.1".into()
    }
    pub(super) fn port() -> u16 {
        3306
    }
    pub(super) fn username() -> String {
        "root".into()
    }
    pub(super) fn encoding() -> String {
        "utf8mb4".into()
    }
    pub(super) fn collation() -> String {
        "utf8mb4_unicode_ci".into()
    }
    pub(super) fn pool_size() -> u32 {
        5
    }
    pub(super) fn timeout() -> u64 {
        5
    }
}

/// The largest `db.statement_timeout` the servers accept, in seconds.
const MAX_STATEMENT_TIMEOUT: u64 = 31_536_000;

/// The keys a `db` section may hold, in the order the docs list them.
pub const DB_KEYS: &[&str] = &[
    "host",
    "port",
    "name",
    "username",
    "password",
    "encoding",
    "collation",
    "pool_size",
    "connect_timeout",
    "acquire_timeout",
    "statement_timeout",
];

impl DbSettings {
    /// Settings for a database on the local server with the defaults
    /// (127.0.0.1:3306, root, empty password).
    pub fn local(name: impl Into<String>) -> Self {
        DbSettings {
            host: defaults::host(),
            port: defaults::port(),
            name: name.into(),
            username: defaults::username(),
            password: Secret::default(),
            encoding: defaults::encoding(),
            collation: defaults::collation(),
            pool_size: defaults::pool_size(),
            connect_timeout: defaults::timeout(),
            acquire_timeout: defaults::timeout(),
            statement_timeout: 0,
        }
    }

    /// The same settings for another database on the same server.
    #[must_use]
    pub fn with_name(&self, name: impl Into<String>) -> Self {
        DbSettings {
            name: name.into(),
            ..self.clone()
        }
    }

    /// The connection target with the password hidden, for messages and logs.
    pub fn redacted_url(&self) -> RedactedUrl {
        RedactedUrl {
            username: self.username.clone(),
            host: self.host.clone(),
            port: self.port,
            database: Some(self.name.clone()),
        }
    }

    /// The time allowed for establishing a connection.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout)
    }

    /// The time allowed for waiting on a pooled connection.
    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_secs(self.acquire_timeout)
    }

    /// Checks the values a YAML type check cannot: the database name and
    /// collation are safe identifiers, the encoding is `utf8mb4`, the pool
    /// and timeouts are positive.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] naming the key and what was expected.
    pub fn validate(&self) -> Result<()> {
        check_identifier("db.name", &self.name)?;
        check_identifier("db.collation", &self.collation)?;
        if !self.encoding.eq_ignore_ascii_case("utf8mb4") {
            return Err(invalid(
                "db.encoding",
                format!(
                    "expected `utf8mb4` (the only encoding that stores all of Unicode), got `{}`",
                    self.encoding
                ),
            ));
        }
        if !self.collation.to_ascii_lowercase().starts_with("utf8mb4_") {
            return Err(invalid(
                "db.collation",
                format!(
                    "expected a utf8mb4 collation such as `utf8mb4_unicode_ci`, got `{}`",
                    self.collation
                ),
            ));
        }
        if self.host.trim().is_empty() {
            return Err(invalid(
                "db.host",
                "expected a host name, got an empty string",
            ));
        }
        if self.pool_size == 0 {
            return Err(invalid("db.pool_size", "expected at least 1, got 0"));
        }
        for (key, value) in [
            ("db.connect_timeout", self.connect_timeout),
            ("db.acquire_timeout", self.acquire_timeout),
        ] {
            if value == 0 {
                return Err(invalid(
                    key,
                    "expected a number of seconds of at least 1, got 0",
                ));
            }
        }
        if self.statement_timeout > MAX_STATEMENT_TIMEOUT {
            return Err(invalid(
                "db.statement_timeout",
                format!(
                    "expected a number of seconds up to {MAX_STATEMENT_TIMEOUT} (one year), or 0 for no limit, got {}",
                    self.statement_timeout
                ),
            ));
        }
        Ok(())
    }

    /// The time a pooled statement may run, when limited.
    pub fn statement_timeout(&self) -> Option<Duration> {
        (self.statement_timeout > 0).then(|| Duration::from_secs(self.statement_timeout))
    }

    /// Replaces the connection (host, port, name, username, password) with
    /// the one a `mysql://` URL gives; pool settings stay.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSetting`] naming `DATABASE_URL` when the URL is not a
    /// `mysql://user[:password]@host[:port]/name` URL. The message never
    /// repeats the URL, since it may hold a password.
    pub fn apply_url(&mut self, url: &str) -> Result<()> {
        let bad = |what: &str| {
            invalid(
                "DATABASE_URL",
                format!("expected mysql://user:password@host:port/database, {what}"),
            )
        };
        let parsed =
            url::Url::parse(url).map_err(|e| bad(&format!("but it does not parse ({e})")))?;
        if !matches!(parsed.scheme(), "mysql" | "mariadb") {
            return Err(bad(&format!("but the scheme is `{}`", parsed.scheme())));
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("but it has no host"))?;
        let name = parsed.path().trim_start_matches('/');
        if name.is_empty() {
            return Err(bad("but it names no database"));
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        self.host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        self.port = parsed.port().unwrap_or(3306);
        self.name = decode(name);
        if !parsed.username().is_empty() {
            self.username = decode(parsed.username());
        }
        self.password = Secret::new(parsed.password().map(decode).unwrap_or_default());
        Ok(())
    }
}

fn invalid(key: &str, reason: impl Into<String>) -> Error {
    Error::InvalidSetting {
        key: key.to_string(),
        reason: reason.into(),
    }
}

/// Checks that `value` can be used as a MySQL identifier without quoting
/// tricks: 1 to 64 characters of ASCII letters, digits, `_` and `$`.
pub(crate) fn check_identifier(key: &str, value: &str) -> Result<()> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            key,
            format!(
                "expected 1 to 64 ASCII letters, digits, `_` or `$`, got `{}`",
                value.escape_default()
            ),
        ))
    }
}

/// Finds which `db` key of `env` has a value of the wrong type, since the
/// config crate names only the environment when the whole section fails.
fn locate_bad_key(config: &config::Config, env: &str) -> Option<(String, String)> {
    let check = |key: &str| -> Option<String> {
        let path = format!("{env}.db.{key}");
        let result = match key {
            "port" => config.get::<u16>(&path).map(drop),
            "pool_size" => config.get::<u32>(&path).map(drop),
            "connect_timeout" | "acquire_timeout" | "statement_timeout" => {
                config.get::<u64>(&path).map(drop)
            }
            _ => config.get::<String>(&path).map(drop),
        };
        match result {
            Err(config::ConfigError::NotFound(_)) | Ok(()) => None,
            Err(e) => Some(e.to_string()),
        }
    };
    let known = DB_KEYS
        .iter()
        .find_map(|key| check(key).map(|r| (key.to_string(), r)));
    known.or_else(|| {
        // An unknown key: name it with the keys that are allowed.
        let table = config.get_table(&format!("{env}.db")).ok()?;
        let unknown = table.keys().find(|k| !DB_KEYS.contains(&k.as_str()))?;
        Some((
            unknown.clone(),
            format!(
                "unknown key `{env}.db.{unknown}`; known keys: {}",
                DB_KEYS.join(", ")
            ),
        ))
    })
}

/// A connection target shown without its password:
/// `mysql://root:***@127.0.0.1:3306/ferrom_development`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedactedUrl {
    username: String,
    host: String,
    port: u16,
    database: Option<String>,
}

impl RedactedUrl {
    /// The same target without a database (a server-level connection).
    #[must_use]
    pub fn without_database(mut self) -> Self {
        self.database = None;
        self
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "mysql://{}:***@{}:{}", self.username, host, self.port)?;
        if let Some(db) = &self.database {
            write!(f, "/{db}")?;
        }
        Ok(())
    }
}

/// The settings of one environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The environment these settings are for (`development`, `test`, ...).
    pub env: String,
    /// The file they were read from.
    pub path: PathBuf,
    /// The database connection.
    pub db: DbSettings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvironmentSection {
    db: DbSettings,
}

impl Settings {
    /// Reads the settings of `env` from `path`, then applies overrides from
    /// `vars` (`FERROM_DB__<KEY>` and `DATABASE_URL`).
    ///
    /// # Errors
    ///
    /// - [`Error::SettingsFile`] when the file is missing or unreadable;
    /// - [`Error::SettingsInvalid`] for malformed YAML (with the line) or a
    ///   key of the wrong type (with the key);
    /// - [`Error::UnknownEnvironment`] listing the environments the file has;
    /// - [`Error::InvalidSetting`] for an unknown override variable or a value
    ///   ferrom cannot use.
    pub fn load<I, K, V>(path: impl AsRef<Path>, env: &str, vars: I) -> Result<Settings>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let path = path.as_ref().to_path_buf();
        let text = std::fs::read_to_string(&path).map_err(|e| Error::SettingsFile {
            path: path.clone(),
            reason: match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "no such file (run from the project directory, or pass --settings PATH)".into()
                }
                _ => e.to_string(),
            },
        })?;
        let config = config::Config::builder()
            .add_source(config::File::from_str(&text, config::FileFormat::Yaml))
            .build()
            .map_err(|e| Error::SettingsInvalid {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        let table = config
            .clone()
            .try_deserialize::<BTreeMap<String, config::Value>>()
            .map_err(|e| Error::SettingsInvalid {
                path: path.clone(),
                reason: format!("expected a map of environments at the top level ({e})"),
            })?;
        if !table.contains_key(env) {
            return Err(Error::UnknownEnvironment {
                env: env.to_string(),
                path,
                known: table.keys().cloned().collect(),
            });
        }

        let mut builder = config::Config::builder().add_source(config);
        let mut database_url = None;
        let mut overridden = Vec::new();
        for (key, value) in vars {
            let (key, value) = (key.as_ref(), value.as_ref());
            if key == "DATABASE_URL" {
                database_url = Some(value.to_string());
            } else if let Some(field) = key.strip_prefix(DB_OVERRIDE_PREFIX) {
                let field = field.to_ascii_lowercase();
                if !DB_KEYS.contains(&field.as_str()) {
                    return Err(invalid(
                        key,
                        format!("not a db setting; known keys: {}", DB_KEYS.join(", ")),
                    ));
                }
                overridden.push(field.clone());
                builder = builder
                    .set_override(format!("{env}.db.{field}"), value.to_string())
                    .map_err(|e| invalid(key, e.to_string()))?;
            }
        }
        let merged = builder.build().map_err(|e| Error::SettingsInvalid {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let section: EnvironmentSection = merged.get(env).map_err(|e| {
            let (reason, from) = match locate_bad_key(&merged, env) {
                Some((key, reason)) => {
                    let var = format!("{DB_OVERRIDE_PREFIX}{}", key.to_ascii_uppercase());
                    let from = overridden.contains(&key).then_some(var);
                    (reason, from)
                }
                None => (e.to_string(), None),
            };
            match from {
                Some(var) => invalid(&var, reason),
                None => Error::SettingsInvalid {
                    path: path.clone(),
                    reason,
                },
            }
        })?;
        let mut db = section.db;
        if let Some(url) = database_url {
            db.apply_url(&url)?;
        }
        db.validate()?;
        Ok(Settings {
            env: env.to_string(),
            path,
            db,
        })
    }

    /// Reads the settings from `path` for the environment named by `env`, or
    /// by `FERROM_ENV`, or `development`, with the process's environment
    /// variables as overrides.
    ///
    /// # Errors
    ///
    /// As [`Settings::load`].
    pub fn load_from_env(path: impl AsRef<Path>, env: Option<&str>) -> Result<Settings> {
        let env = env
            .map(str::to_string)
            .or_else(|| std::env::var(ENV_VAR).ok().filter(|e| !e.is_empty()))
            .unwrap_or_else(|| DEFAULT_ENV.to_string());
        Settings::load(path, &env, std::env::vars())
    }

    /// Whether this is the production environment, where destructive
    /// operations are refused or need confirmation.
    pub fn is_production(&self) -> bool {
        self.env == "production"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempdir::Dir, PathBuf) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("settings.yml");
        std::fs::write(&path, text).expect("temp file is writable");
        (dir, path)
    }

    mod tempdir {
        use std::path::PathBuf;
        use std::sync::atomic::{AtomicUsize, Ordering};
        pub(super) struct Dir(pub(super) PathBuf);
        impl Dir {
            pub(super) fn new() -> Self {
                static N: AtomicUsize = AtomicUsize::new(0);
                let p = std::env::temp_dir().join(format!(
                    "ferrom-settings-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                std::fs::create_dir_all(&p).expect("temp dir");
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    const SAMPLE: &str = "development:\n  db:\n    name: app_dev\n    password: s3cr3t\ntest:\n  db:\n    name: app_test\n    port: 3307\n";

    #[test]
    fn reads_environment_with_defaults() {
        let (_d, path) = write(SAMPLE);
        let s = Settings::load(&path, "test", Vec::<(String, String)>::new()).unwrap();
        assert_eq!(s.db.name, "app_test");
        assert_eq!(s.db.port, 3307);
        assert_eq!(s.db.host, "127.0.0.1");
        assert_eq!(s.db.pool_size, 5);
    }

    #[test]
    fn unknown_environment_lists_known_ones() {
        let (_d, path) = write(SAMPLE);
        let e = Settings::load(&path, "staging", Vec::<(String, String)>::new()).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, Error::UnknownEnvironment { .. }), "{msg}");
        assert!(
            msg.contains("staging") && msg.contains("development, test"),
            "{msg}"
        );
    }

    #[test]
    fn env_overrides_apply_and_are_type_checked() {
        let (_d, path) = write(SAMPLE);
        let s = Settings::load(
            &path,
            "development",
            [
                ("FERROM_DB__HOST", "db.internal"),
                ("FERROM_DB__PORT", "3310"),
            ],
        )
        .unwrap();
        assert_eq!((s.db.host.as_str(), s.db.port), ("db.internal", 3310));
        let e = Settings::load(&path, "development", [("FERROM_DB__PORT", "abc")]).unwrap_err();
        assert!(e.to_string().contains("port"), "{e}");
        let e = Settings::load(&path, "development", [("FERROM_DB__HOSTNAME", "x")]).unwrap_err();
        assert!(
            e.to_string().contains("FERROM_DB__HOSTNAME") && e.to_string().contains("host, port"),
            "{e}"
        );
    }

    #[test]
    fn database_url_replaces_connection_and_hides_password() {
        let (_d, path) = write(SAMPLE);
        let s = Settings::load(
            &path,
            "development",
            [("DATABASE_URL", "mysql://app:p%40ss@db:3308/other")],
        )
        .unwrap();
        assert_eq!(s.db.host, "db");
        assert_eq!(s.db.port, 3308);
        assert_eq!(s.db.name, "other");
        assert_eq!(s.db.username, "app");
        assert_eq!(s.db.password.expose(), "p@ss");
        let shown = format!("{s:?} {}", s.db.redacted_url());
        assert!(
            !shown.contains("p@ss") && !shown.contains("p%40ss"),
            "{shown}"
        );
        assert_eq!(
            s.db.redacted_url().to_string(),
            "mysql://app:***@db:3308/other"
        );
        let e = Settings::load(
            &path,
            "development",
            [("DATABASE_URL", "postgres://u:hunter2@h/db")],
        )
        .unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn password_never_in_debug() {
        let (_d, path) = write(SAMPLE);
        let s = Settings::load(&path, "development", Vec::<(String, String)>::new()).unwrap();
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert!(!format!("{:#?}", s.db).contains("s3cr3t"));
    }

    #[test]
    fn malformed_yaml_names_the_line() {
        let (_d, path) = write("development:\n  db:\n    name: [unclosed\n    port: 1\n");
        let e = Settings::load(&path, "development", Vec::<(String, String)>::new()).unwrap_err();
        assert!(matches!(e, Error::SettingsInvalid { .. }), "{e}");
        assert!(e.to_string().contains("line"), "{e}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let (_d, path) = write("development:\n  db:\n    name: x\n    pool_size: lots\n");
        let e = Settings::load(&path, "development", Vec::<(String, String)>::new()).unwrap_err();
        assert!(e.to_string().contains("pool_size"), "{e}");
    }

    #[test]
    fn missing_file_is_named() {
        let e = Settings::load(
            "/nonexistent/settings.yml",
            "development",
            Vec::<(String, String)>::new(),
        )
        .unwrap_err();
        assert!(matches!(e, Error::SettingsFile { .. }));
        assert!(e.to_string().contains("/nonexistent/settings.yml"), "{e}");
    }

    #[test]
    fn unsafe_database_name_is_rejected() {
        let (_d, path) = write("development:\n  db:\n    name: \"x`; DROP\"\n");
        let e = Settings::load(&path, "development", Vec::<(String, String)>::new()).unwrap_err();
        assert!(e.to_string().contains("db.name"), "{e}");
    }
}
