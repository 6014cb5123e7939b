//! Test support: a database of its own for each test, on the real server.
//!
//! The server is the one at `FERROM_TEST_DATABASE_URL` (a
//! `mysql://user:password@host:port/` URL), or 127.0.0.1:3306 as root with an
//! empty password. Each [`TestDb`] is a database named
//! `ferrom_t_<pid>_<n>`, dropped when the value is dropped; databases left
//! by a process that no longer runs (a crashed run) are swept before the
//! first one is made.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferrom::DbSettings;
use ferrom::gateway::open_connection;
use sqlx::MySqlConnection;
use tokio::sync::OnceCell;

/// The repository root (where settings.yml and migrations/ are).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Settings for the test server with no particular database chosen.
pub fn server_settings() -> DbSettings {
    let mut settings = DbSettings::local("test");
    if let Ok(url) = std::env::var("FERROM_TEST_DATABASE_URL") {
        let url = if url.trim_end_matches('/').matches('/').count() <= 2 {
            format!("{}/test", url.trim_end_matches('/'))
        } else {
            url
        };
        settings
            .apply_url(&url)
            .expect("FERROM_TEST_DATABASE_URL must be mysql://user:password@host:port/");
    }
    settings
}

/// A server-level connection, or a panic that says how to start the server.
pub async fn server_connection() -> MySqlConnection {
    let settings = server_settings();
    match open_connection(&settings, false).await {
        Ok((conn, _)) => conn,
        Err(e) => panic!(
            "the tests need a MySQL or MariaDB server at {}: {e}\n\
             Start one with `scripts/db-up`, or point FERROM_TEST_DATABASE_URL at one.",
            settings.redacted_url().without_database()
        ),
    }
}

static SWEPT: OnceCell<()> = OnceCell::const_new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Drops `ferrom_t_<pid>_*` databases whose process is gone.
async fn sweep_leftovers() {
    let mut conn = server_connection().await;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'ferrom\\_t\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .expect("list test databases");
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS `{name}`"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

/// A database of the test's own, dropped on drop.
pub struct TestDb {
    /// Settings pointing at it.
    pub settings: DbSettings,
}

impl TestDb {
    /// A fresh name on the test server, not yet created.
    pub async fn reserve() -> TestDb {
        SWEPT.get_or_init(sweep_leftovers).await;
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("ferrom_t_{}_{n}", std::process::id());
        TestDb {
            settings: server_settings().with_name(name),
        }
    }

    /// A fresh, empty database.
    pub async fn create() -> TestDb {
        let db = TestDb::reserve().await;
        let mut conn = server_connection().await;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE `{}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
            db.name()
        )))
        .execute(&mut conn)
        .await
        .expect("create test database");
        db
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
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name().to_string();
        // Drop runs outside any runtime the test may still hold: use a
        // thread with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let mut conn = server_connection().await;
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS `{name}`"
                )))
                .execute(&mut conn)
                .await;
            });
        })
        .join();
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

/// Runs a command to completion.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run the ferrom binary");
    Output {
        status: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
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

/// A fresh database with the reference schema migrated, and the reference
/// application's container on it.
pub async fn reference_db() -> (TestDb, ferrom::Container) {
    let db = TestDb::create().await;
    let gateway = ferrom::Gateway::connect(&db.settings)
        .await
        .expect("connect");
    post_analytics::migrate(&gateway)
        .await
        .expect("migrate the reference schema");
    gateway.close().await;
    let container = post_analytics::configuration(&db.test_settings())
        .finalize()
        .await
        .expect("finalize the reference configuration");
    (db, container)
}

impl TestDb {
    /// Settings of the test environment pointing at this database.
    pub fn test_settings(&self) -> ferrom::Settings {
        ferrom::Settings {
            env: "test".into(),
            path: repo_root().join("settings.yml"),
            db: self.settings.clone(),
        }
    }
}
