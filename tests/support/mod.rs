//! Test support: a database of its own for each test, on the real server,
//! through the toolkit's harness (`ferrom::testing`).
//!
//! The server is the one at `FERROM_TEST_DATABASE_URL` (a
//! `mysql://user:password@host:port/` URL), or 127.0.0.1:3306 as root with an
//! empty password. Each [`TestDb`] is a database named
//! `ferrom_t_h<host>_<pid>_<n>`, dropped when the value is dropped; databases left
//! by a process that no longer runs (a crashed run) are swept before the
//! first one is made. [`harness`] gives each test the reference schema (a
//! per-process template copied into the test's database), the reference
//! container and the reference factories.

#![allow(dead_code, unreachable_pub)]

pub mod load_mix;
pub mod tmux;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferrom::command::Input;
use ferrom::gateway::open_connection;
use ferrom::testing::{Harness, TestDatabase};
use ferrom::{Container, DbSettings, Row};
use sqlx::MySqlConnection;

/// The repository root (where settings.yml and migrations/ are).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Settings for the test server with no particular database chosen.
pub fn server_settings() -> DbSettings {
    ferrom::testing::server_settings()
        .expect("FERROM_TEST_DATABASE_URL must be mysql://user:password@host:port/")
}

/// A server-level connection, or a panic that says how to start the server.
pub async fn server_connection() -> MySqlConnection {
    match ferrom::testing::server_connection(&server_settings()).await {
        Ok(conn) => conn,
        Err(e) => panic!("{e}"),
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The reference application's harness: the embedded migrations, the
/// reference configuration and the reference factories.
pub fn harness() -> &'static Harness {
    static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
        Harness::new(
            post_analytics::embedded_migrations().expect("the embedded migrations"),
            post_analytics::configuration,
        )
        .with_factories(post_analytics::factories::define)
        .with_settings_path(repo_root().join("settings.yml"))
    });
    &HARNESS
}

/// A database of the test's own, dropped on drop.
pub struct TestDb {
    /// Settings pointing at it.
    pub settings: DbSettings,
    guard: TestDatabase,
}

impl TestDb {
    fn from_guard(guard: TestDatabase) -> TestDb {
        let guard = guard.with_settings_path(repo_root().join("settings.yml"));
        TestDb {
            settings: guard.settings().clone(),
            guard,
        }
    }

    /// A fresh name on the test server, not yet created.
    pub async fn reserve() -> TestDb {
        match TestDatabase::reserve(&server_settings()).await {
            Ok(guard) => TestDb::from_guard(guard),
            Err(e) => panic!("{e}"),
        }
    }

    /// A fresh, empty database.
    pub async fn create() -> TestDb {
        match TestDatabase::create(&server_settings()).await {
            Ok(guard) => TestDb::from_guard(guard),
            Err(e) => panic!("{e}"),
        }
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// A `DATABASE_URL` for it.
    pub fn url(&self) -> String {
        let s = &self.settings;
        let password = if s.password.is_empty() {
            String::new()
        } else {
            format!(":{}", s.password.expose())
        };
        format!(
            "mysql://{}{password}@{}:{}/{}",
            s.username, s.host, s.port, s.name
        )
    }

    /// A connection to it.
    pub async fn connect(&self) -> MySqlConnection {
        open_connection(&self.settings, true)
            .await
            .expect("connect to the test database")
            .0
    }

    /// The `ferrom` binary, pointed at this database through `DATABASE_URL`
    /// in the test environment, with the repository's settings file.
    pub fn ferrom(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrom"));
        cmd.current_dir(repo_root())
            .env_remove("FERROM_ENV")
            .env_remove("FERROM_SETTINGS")
            .env_remove("FERROM_MIGRATIONS")
            .env("DATABASE_URL", self.url())
            .env("FERROM_ENV", "test");
        for (key, _) in std::env::vars() {
            if key.starts_with("FERROM_DB__") {
                cmd.env_remove(key);
            }
        }
        cmd
    }

    /// Settings of the test environment pointing at this database.
    pub fn test_settings(&self) -> ferrom::Settings {
        self.guard.test_settings()
    }
}

/// Output of a finished command, as text.
pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Both streams, for assertions about what a person sees.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl From<std::process::Output> for Output {
    fn from(out: std::process::Output) -> Output {
        Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs a command to completion.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run the ferrom binary").into()
}

/// Runs a command to completion with `input` written to its stdin (which
/// is then closed).
pub fn run_with_input(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write the command's input");
    child
        .wait_with_output()
        .expect("wait for the command")
        .into()
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("ferrom-{label}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes a file inside the directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh database with the reference schema (copied from the
/// per-process template the harness migrates), and the reference
/// application's container on it.
pub async fn reference_db() -> (TestDb, Container) {
    let guard = match harness().database().await {
        Ok(guard) => guard,
        Err(e) => panic!("{e}"),
    };
    let db = TestDb::from_guard(guard);
    let container = post_analytics::configuration(&db.test_settings())
        .finalize()
        .await
        .expect("finalize the reference configuration");
    (db, container)
}

/// Calls the command `name` of `relation` with `input` and returns the
/// error it gives; panics when it succeeds.
pub async fn call_err(
    container: &Container,
    relation: &str,
    name: &str,
    input: impl Into<Input>,
) -> ferrom::Error {
    container
        .command(relation, name)
        .unwrap()
        .call(input)
        .await
        .unwrap_err()
}

/// Calls the command `name` of `relation` with `input` and returns the one
/// row it gives; panics on an error or on no row.
pub async fn call_one(
    container: &Container,
    relation: &str,
    name: &str,
    input: impl Into<Input>,
) -> Row {
    container
        .command(relation, name)
        .unwrap()
        .call(input)
        .await
        .unwrap()
        .into_one()
        .unwrap()
}
