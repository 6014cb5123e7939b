//! The test harness: every test gets a migrated database of its own on the
//! real server, a container on it and the factories, and the database is
//! dropped when the test ends.
//!
//! ```no_run
//! use std::sync::LazyLock;
//!
//! use ferrom::testing::Harness;
//!
//! # fn configuration(_: &ferrom::Settings) -> ferrom::Configuration { unimplemented!() }
//! # fn define_factories(_: &mut ferrom::factory::Factories) -> ferrom::Result<()> { Ok(()) }
//! static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
//!     Harness::new(
//!         ferrom::migrate::Migrations::from_dir("migrations").expect("migrations"),
//!         configuration,
//!     )
//!     .with_factories(define_factories)
//! });
//!
//! #[tokio::test]
//! async fn a_company_has_its_post() -> ferrom::Result<()> {
//!     let t = HARNESS.setup().await?;
//!     let company = t.factories.create("with_post", ()).await?;
//!     assert_eq!(company.children("posts")?.len(), 1);
//!     Ok(())
//! }
//! ```
//!
//! ## Isolation and clean-up
//!
//! - Each test's database is named `ferrom_t_h<host>_<pid>_<n>` (`<host>`
//!   a hash of the machine's name): no two tests of a process, nor two
//!   processes, nor two machines sharing a server, share one, so tests run
//!   in parallel (cargo's default threads) without seeing each other's
//!   rows.
//! - [`TestDatabase`] drops the database when it goes out of scope, the
//!   test passing or failing.
//! - A run that crashed (killed, aborted) cannot drop its databases; the
//!   first setup of every later process drops the `ferrom_t_*` databases of
//!   this machine's processes that no longer exist (on systems with
//!   `/proc`), so nothing piles up and nothing left over can break a run.
//!
//! ## Speed: a template per process
//!
//! Migrating costs a lock, the history table and every migration's
//! statements, for every test. By default ([`Setup::CopyTemplate`]) the
//! harness migrates once per process, into a template database, reads back
//! its tables (`SHOW CREATE TABLE`, foreign keys included) and their rows
//! (the migration history among them), and drops it; each test's database
//! is then made from those in one round trip, plus one per table holding
//! rows. Migrations that create views, triggers, routines or events are
//! migrated per test instead ([`Setup::Migrate`]), which can also be asked
//! for. The README reports what each costs.
//!
//! ## Seeds
//!
//! The factories are seeded from `FERROM_SEED` when it is set, else
//! randomly. When a test fails, its [`TestDatabase`] prints the seed (and
//! the database name) on the test's output:
//!
//! ```text
//! ferrom::testing: this test failed with factory seed 1234567 (database ferrom_t_h1f2e3d4c_4242_3);
//! run it again with FERROM_SEED=1234567 to get the same data
//! ```
//!
//! ## The server
//!
//! The server is at `FERROM_TEST_DATABASE_URL` (`mysql://user:password@host:port/`),
//! else 127.0.0.1:3306 as root with an empty password. When none answers,
//! setup fails saying to start one with `scripts/db-up`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use sqlx::{AssertSqlSafe, Executor as _, MySqlConnection};
use tokio::sync::OnceCell;

use crate::container::{Configuration, Container};
use crate::error::{Error, Result};
use crate::factory::{Factories, seed_from_env};
use crate::gateway::open_connection;
use crate::migrate::{Migrations, Migrator};
use crate::row::Row;
use crate::settings::{DbSettings, Settings};
use crate::value::Value;

/// The environment variable naming the test server.
pub const DATABASE_URL_VAR: &str = "FERROM_TEST_DATABASE_URL";

/// The prefix of every test database's name.
pub const DATABASE_PREFIX: &str = "ferrom_t_";

/// The settings of the test server (no database chosen yet):
/// `FERROM_TEST_DATABASE_URL` when set, else 127.0.0.1:3306, root, empty
/// password.
///
/// # Errors
///
/// [`Error::InvalidSetting`] when `FERROM_TEST_DATABASE_URL` is not a
/// `mysql://` URL.
pub fn server_settings() -> Result<DbSettings> {
    let mut settings = DbSettings::local("test");
    if let Ok(url) = std::env::var(DATABASE_URL_VAR)
        && !url.trim().is_empty()
    {
        let trimmed = url.trim().trim_end_matches('/');
        // A URL without a database gets a placeholder: a test database
        // replaces it.
        let url = if trimmed.matches('/').count() <= 2 {
            format!("{trimmed}/test")
        } else {
            url.trim().to_string()
        };
        settings.apply_url(&url)?;
    }
    Ok(settings)
}

/// A connection to the server alone (no database chosen).
///
/// # Errors
///
/// [`Error::Connect`] saying to start a server with `scripts/db-up` (or to
/// point `FERROM_TEST_DATABASE_URL` at one) when none answers.
pub async fn server_connection(server: &DbSettings) -> Result<MySqlConnection> {
    match open_connection(server, false).await {
        Ok((conn, _)) => Ok(conn),
        Err(Error::Connect {
            url,
            reason,
            source,
            ..
        }) => Err(Error::Connect {
            url,
            reason,
            hint: format!(
                "The tests need a MySQL or MariaDB server: start one with `scripts/db-up`, or point {DATABASE_URL_VAR} at one (mysql://user:password@host:port/)"
            ),
            source,
        }),
        Err(e) => Err(e),
    }
}

static NEXT_DATABASE: AtomicU64 = AtomicU64::new(0);

/// Eight hex digits naming this machine (its host name, hashed), so that
/// machines sharing one server never sweep each other's databases.
static HOST_TAG: LazyLock<String> = LazyLock::new(|| {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let mut hash: u32 = 0x811c_9dc5;
    for b in name.trim().bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}")
});

/// A database name no other test of this process, nor of any process
/// running on this or another machine, uses: `ferrom_t_h<host>_<pid>_<n>`.
pub fn unique_database_name() -> String {
    database_name(&NEXT_DATABASE.fetch_add(1, Ordering::Relaxed).to_string())
}

/// `ferrom_t_h<host>_<pid>_<suffix>`.
fn database_name(suffix: &str) -> String {
    format!(
        "{DATABASE_PREFIX}h{}_{}_{suffix}",
        *HOST_TAG,
        std::process::id()
    )
}

/// The machine (`None` for names made before machines were named) and
/// process a test database name was made by.
fn owner(name: &str) -> Option<(Option<&str>, u32)> {
    let mut parts = name.strip_prefix(DATABASE_PREFIX)?.split('_');
    let first = parts.next()?;
    match first.strip_prefix('h') {
        Some(host) => Some((Some(host), parts.next()?.parse().ok()?)),
        None => Some((None, first.parse().ok()?)),
    }
}

static SWEPT: OnceCell<()> = OnceCell::const_new();

/// Drops the test databases of this machine's processes that no longer run
/// (a crashed run's), once per process; a no-op on systems without `/proc`, where
/// whether a process runs is not known. Returns how many it dropped.
///
/// # Errors
///
/// When the server cannot be reached or the databases cannot be listed.
pub async fn sweep_leftovers(server: &DbSettings) -> Result<usize> {
    if !Path::new("/proc/self").exists() {
        return Ok(0);
    }
    let mut conn = server_connection(server).await?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'ferrom\\_t\\_%'",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(|e| Error::database("listing test databases", e))?;
    let mut dropped = 0;
    for name in names {
        let Some((host, pid)) = owner(&name) else {
            continue;
        };
        let ours = host.is_none_or(|h| h == HOST_TAG.as_str());
        if !ours || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if drop_database(&mut conn, &name).await.is_ok() {
            dropped += 1;
        }
    }
    Ok(dropped)
}

/// [`sweep_leftovers`], the first time it is called in the process.
async fn sweep_once(server: &DbSettings) -> Result<()> {
    SWEPT
        .get_or_try_init(|| async {
            sweep_leftovers(server).await?;
            Ok::<(), Error>(())
        })
        .await?;
    Ok(())
}

/// Whether `name` is one of ours, so safe to put in a statement.
fn is_test_name(name: &str) -> bool {
    name.starts_with(DATABASE_PREFIX)
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

async fn drop_database(conn: &mut MySqlConnection, name: &str) -> Result<()> {
    if !is_test_name(name) {
        return Err(Error::Refused(format!(
            "ferrom::testing drops only its own databases ({DATABASE_PREFIX}*), not `{name}`"
        )));
    }
    conn.execute(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
        .await
        .map_err(|e| Error::database(format!("dropping test database {name}"), e))?;
    Ok(())
}

fn create_database_sql(server: &DbSettings, name: &str) -> String {
    format!(
        "CREATE DATABASE `{name}` CHARACTER SET {} COLLATE {}",
        server.encoding, server.collation
    )
}

/// How a test's database gets its schema.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Setup {
    /// Run the migrations on every test's database.
    Migrate,
    /// Migrate a template once per process and copy its tables (and rows)
    /// into every test's database; falls back to [`Setup::Migrate`] when the
    /// migrations create views, triggers, routines or events.
    #[default]
    CopyTemplate,
}

/// What the template database held after migrating: its tables' DDL and
/// rows.
#[derive(Debug)]
struct Template {
    /// `SHOW CREATE TABLE` of every base table.
    tables: Vec<String>,
    /// `INSERT` statements with their values, for the tables holding rows.
    rows: Vec<(String, Vec<Value>)>,
}

/// Templates by server and migrations; `None` when the migrations cannot
/// be copied.
type TemplateCell = Arc<OnceCell<Option<Arc<Template>>>>;

static TEMPLATES: LazyLock<Mutex<HashMap<String, TemplateCell>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// What identifies a set of migrations on a server.
fn template_key(server: &DbSettings, migrations: &Migrations) -> String {
    let mut key = format!("{}:{}@{}", server.host, server.port, server.username);
    for m in migrations.iter() {
        key.push_str(&format!(";{}:{}", m.version(), m.checksum()));
    }
    key
}

/// Migrates `name` with a connection of its own.
async fn migrate(server: &DbSettings, name: &str, migrations: &Migrations) -> Result<()> {
    let (mut conn, _) = open_connection(&server.with_name(name), true).await?;
    Migrator::new(migrations.clone())
        .migrate(&mut conn, name, &mut |_| {})
        .await?;
    Ok(())
}

/// Makes the template: migrates a database, reads it back, drops it.
async fn make_template(server: &DbSettings, migrations: &Migrations) -> Result<Option<Template>> {
    let name = database_name(&format!(
        "template_{}",
        NEXT_DATABASE.fetch_add(1, Ordering::Relaxed)
    ));
    let mut conn = server_connection(server).await?;
    conn.execute(AssertSqlSafe(create_database_sql(server, &name)))
        .await
        .map_err(|e| Error::database("creating the template database", e))?;
    let read = async {
        migrate(server, &name, migrations).await?;
        read_template(&mut conn, &name).await
    }
    .await;
    drop_database(&mut conn, &name).await?;
    read
}

async fn read_template(conn: &mut MySqlConnection, name: &str) -> Result<Option<Template>> {
    let others: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE <> 'BASE TABLE') \
         + (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?) \
         + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?) \
         + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?)",
    )
    .bind(name)
    .bind(name)
    .bind(name)
    .bind(name)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| Error::database("reading the template database", e))?;
    if others > 0 {
        return Ok(None);
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY CREATE_TIME, TABLE_NAME",
    )
    .bind(name)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| Error::database("listing the template's tables", e))?;
    let mut template = Template {
        tables: Vec::new(),
        rows: Vec::new(),
    };
    for table in &tables {
        let quoted = format!("`{name}`.`{}`", table.replace('`', "``"));
        let (_, ddl): (String, String) =
            sqlx::query_as(AssertSqlSafe(format!("SHOW CREATE TABLE {quoted}")))
                .fetch_one(&mut *conn)
                .await
                .map_err(|e| {
                    Error::database(format!("reading table {table} of the template"), e)
                })?;
        template.tables.push(ddl);
        // A bound value makes the server send the rows in the binary
        // protocol, which keeps every bit of a FLOAT.
        let rows: Vec<Row> = crate::row::read(
            &mut *conn,
            &format!("SELECT * FROM {quoted} WHERE ?"),
            &[Value::Int(1)],
        )
        .await?;
        if let Some(first) = rows.first() {
            let columns = first
                .names()
                .iter()
                .map(|c| format!("`{}`", c.replace('`', "``")))
                .collect::<Vec<_>>()
                .join(", ");
            let one = format!("({})", vec!["?"; first.len()].join(", "));
            for chunk in rows.chunks(1000) {
                let sql = format!(
                    "INSERT INTO `{}` ({columns}) VALUES {}",
                    table.replace('`', "``"),
                    vec![one.as_str(); chunk.len()].join(", ")
                );
                let values = chunk
                    .iter()
                    .flat_map(|r| r.values().iter().cloned())
                    .collect();
                template.rows.push((sql, values));
            }
        }
    }
    Ok(Some(template))
}

/// Makes database `name` from the template, on a server connection.
async fn copy_template(
    conn: &mut MySqlConnection,
    server: &DbSettings,
    name: &str,
    template: &Template,
) -> Result<()> {
    let mut batch = format!(
        "{}; USE `{name}`; SET foreign_key_checks = 0",
        create_database_sql(server, name)
    );
    for ddl in &template.tables {
        batch.push_str(";\n");
        batch.push_str(ddl);
    }
    batch.push_str(";\nSET foreign_key_checks = 1");
    sqlx::raw_sql(AssertSqlSafe(batch))
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            Error::database(
                format!("creating test database {name} from the template"),
                e,
            )
        })?;
    if !template.rows.is_empty() {
        conn.execute("SET foreign_key_checks = 0")
            .await
            .map_err(|e| Error::database("copying the template's rows", e))?;
        for (sql, values) in &template.rows {
            let args = crate::bind::arguments(values)?;
            sqlx::query_with(AssertSqlSafe(sql.clone()), args)
                .execute(&mut *conn)
                .await
                .map_err(|e| Error::database(format!("copying rows into {name}"), e))?;
        }
    }
    Ok(())
}

/// A function building the application's configuration from settings
/// (`post_analytics::configuration`).
type Configure = Arc<dyn Fn(&Settings) -> Configuration + Send + Sync>;
/// A function defining the factories (`factories::define`).
type Define = Arc<dyn Fn(&mut Factories) -> Result<()> + Send + Sync>;

/// Gives each test a migrated database of its own, a container on it and
/// the factories (see the [module docs](self)). Make one per test binary,
/// in a `static`, and call [`Harness::setup`] at the start of each test.
#[derive(Clone)]
pub struct Harness {
    server: Option<DbSettings>,
    migrations: Migrations,
    configure: Configure,
    define: Option<Define>,
    setup: Setup,
    settings_path: PathBuf,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field(
                "server",
                &self.server.as_ref().map(DbSettings::redacted_url),
            )
            .field("migrations", &self.migrations.len())
            .field("setup", &self.setup)
            .finish()
    }
}

impl Harness {
    /// A harness applying `migrations` to each test's database and building
    /// the container with `configure` (given settings of the `test`
    /// environment pointing at that database).
    pub fn new(
        migrations: Migrations,
        configure: impl Fn(&Settings) -> Configuration + Send + Sync + 'static,
    ) -> Harness {
        Harness {
            server: None,
            migrations,
            configure: Arc::new(configure),
            define: None,
            setup: Setup::default(),
            settings_path: PathBuf::from("settings.yml"),
        }
    }

    /// Uses this server instead of `FERROM_TEST_DATABASE_URL` (or the
    /// local default).
    #[must_use]
    pub fn with_server(mut self, server: DbSettings) -> Harness {
        self.server = Some(server);
        self
    }

    /// Defines the factories of every test with `define`.
    #[must_use]
    pub fn with_factories(
        mut self,
        define: impl Fn(&mut Factories) -> Result<()> + Send + Sync + 'static,
    ) -> Harness {
        self.define = Some(Arc::new(define));
        self
    }

    /// How each test's database gets its schema.
    #[must_use]
    pub fn with_setup(mut self, setup: Setup) -> Harness {
        self.setup = setup;
        self
    }

    /// The settings file named in the test settings (`settings.yml`).
    #[must_use]
    pub fn with_settings_path(mut self, path: impl Into<PathBuf>) -> Harness {
        self.settings_path = path.into();
        self
    }

    fn server(&self) -> Result<DbSettings> {
        match &self.server {
            Some(s) => Ok(s.clone()),
            None => server_settings(),
        }
    }

    /// A new test database with the migrations applied, and nothing else:
    /// no container, no factories.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] saying how to start a server when none answers; a
    /// migration's error.
    pub async fn database(&self) -> Result<TestDatabase> {
        let server = self.server()?;
        sweep_once(&server).await?;
        let template = match self.setup {
            Setup::Migrate => None,
            Setup::CopyTemplate => self.template(&server).await?,
        };
        let name = unique_database_name();
        let mut conn = server_connection(&server).await?;
        // From here on the guard drops the database, whatever fails.
        let database = TestDatabase {
            settings: server.with_name(&name),
            server: server.clone(),
            settings_path: self.settings_path.clone(),
            seed: None,
            dropped: false,
        };
        match template {
            Some(template) => copy_template(&mut conn, &server, &name, &template).await?,
            None => {
                conn.execute(AssertSqlSafe(create_database_sql(&server, &name)))
                    .await
                    .map_err(|e| Error::database(format!("creating test database {name}"), e))?;
                drop(conn);
                migrate(&server, &name, &self.migrations).await?;
            }
        }
        Ok(database)
    }

    async fn template(&self, server: &DbSettings) -> Result<Option<Arc<Template>>> {
        let cell = {
            let mut templates = TEMPLATES.lock().unwrap_or_else(PoisonError::into_inner);
            templates
                .entry(template_key(server, &self.migrations))
                .or_default()
                .clone()
        };
        let template = cell
            .get_or_try_init(|| async {
                Ok::<_, Error>(make_template(server, &self.migrations).await?.map(Arc::new))
            })
            .await?;
        Ok(template.clone())
    }

    /// A new test database, migrated, with the container finalized on it
    /// and the factories defined (seeded from `FERROM_SEED`, else
    /// randomly). The database is dropped when the returned context is.
    ///
    /// # Errors
    ///
    /// As [`Harness::database`]; finalize's errors; the factory
    /// definitions' errors; [`FactoryError::InvalidSeed`](crate::factory::FactoryError::InvalidSeed).
    pub async fn setup(&self) -> Result<TestContext> {
        let mut database = self.database().await?;
        let container = (self.configure)(&database.test_settings())
            .finalize()
            .await?;
        let seed = seed_from_env()?;
        database.seed = Some(seed);
        let mut factories = Factories::with_seed(&container, seed);
        if let Some(define) = &self.define {
            define(&mut factories)?;
        }
        Ok(TestContext {
            container,
            factories,
            database,
        })
    }
}

/// What [`Harness::setup`] gives a test. Dropping it drops the test's
/// database (and prints the factories' seed if the test failed).
#[derive(Debug)]
pub struct TestContext {
    /// The container, on the test's database.
    pub container: Container,
    /// The factories, on that container.
    pub factories: Factories,
    /// The database, dropped with the context.
    pub database: TestDatabase,
}

/// A test's database: dropped when this is (the test passing or failing).
/// When dropped while the test panics, it prints the factories' seed and
/// the database's name first.
#[derive(Debug)]
pub struct TestDatabase {
    settings: DbSettings,
    server: DbSettings,
    settings_path: PathBuf,
    seed: Option<u64>,
    dropped: bool,
}

impl TestDatabase {
    /// A database name of the test's own on `server`, not created yet
    /// (for tests of `db create`): dropped, if it exists by then, when
    /// this is.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] saying how to start a server when none answers.
    pub async fn reserve(server: &DbSettings) -> Result<TestDatabase> {
        sweep_once(server).await?;
        Ok(TestDatabase {
            settings: server.with_name(unique_database_name()),
            server: server.clone(),
            settings_path: PathBuf::from("settings.yml"),
            seed: None,
            dropped: false,
        })
    }

    /// A new, empty database of the test's own on `server`, dropped when
    /// this is.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] saying how to start a server when none answers;
    /// the server's error creating it.
    pub async fn create(server: &DbSettings) -> Result<TestDatabase> {
        let database = TestDatabase::reserve(server).await?;
        let mut conn = server_connection(server).await?;
        conn.execute(AssertSqlSafe(create_database_sql(server, database.name())))
            .await
            .map_err(|e| {
                Error::database(format!("creating test database {}", database.name()), e)
            })?;
        Ok(database)
    }

    /// The same database, naming this settings file in
    /// [`TestDatabase::test_settings`].
    #[must_use]
    pub fn with_settings_path(mut self, path: impl Into<PathBuf>) -> TestDatabase {
        self.settings_path = path.into();
        self
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Settings pointing at it.
    pub fn settings(&self) -> &DbSettings {
        &self.settings
    }

    /// Settings of the `test` environment pointing at it.
    pub fn test_settings(&self) -> Settings {
        Settings {
            env: "test".into(),
            path: self.settings_path.clone(),
            db: self.settings.clone(),
        }
    }

    /// The seed printed when the test fails, if one is set.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Sets the seed printed when the test fails (for factories made by
    /// hand).
    pub fn set_seed(&mut self, seed: u64) {
        self.seed = Some(seed);
    }

    /// Drops the database now (rather than when this is dropped).
    ///
    /// # Errors
    ///
    /// When the server cannot be reached or refuses the drop.
    pub async fn drop_now(mut self) -> Result<()> {
        self.dropped = true;
        let mut conn = server_connection(&self.server).await?;
        drop_database(&mut conn, &self.settings.name).await
    }
}

impl TestDatabase {
    /// What a failed test prints: the seed to repeat its data with.
    fn failure_note(&self) -> String {
        match self.seed {
            Some(seed) => format!(
                "ferrom::testing: this test failed with factory seed {seed} (database {}); \
                 run it again with {}={seed} to get the same data",
                self.settings.name,
                crate::factory::SEED_VAR
            ),
            None => format!(
                "ferrom::testing: this test failed (database {})",
                self.settings.name
            ),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.failure_note());
        }
        if self.dropped {
            return;
        }
        let server = self.server.clone();
        let name = self.settings.name.clone();
        // Drop runs inside or outside a runtime, on any thread: use a
        // thread with a runtime of its own. A failure leaves the database
        // to the next run's sweep.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut conn) = server_connection(&server).await {
                    let _ = drop_database(&mut conn, &name).await;
                }
            });
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_pid_and_are_safe() {
        let a = unique_database_name();
        let b = unique_database_name();
        assert_ne!(a, b);
        assert_eq!(
            owner(&a),
            Some((Some(HOST_TAG.as_str()), std::process::id()))
        );
        assert!(is_test_name(&a));
        assert!(!is_test_name("production"));
        assert!(!is_test_name("ferrom_t_1`; DROP DATABASE x"));
        assert_eq!(
            owner("ferrom_t_h0badf00d_77_template_3"),
            Some((Some("0badf00d"), 77))
        );
        assert_eq!(owner("ferrom_t_77_3"), Some((None, 77)));
        assert_eq!(owner("ferrom_t_x_1"), None);
        assert_eq!(owner("other_1_2"), None);
        assert_eq!(HOST_TAG.len(), 8);
    }

    #[test]
    fn a_failure_prints_the_seed_to_set() {
        let mut db = TestDatabase {
            settings: DbSettings::local("ferrom_t_1_2"),
            server: DbSettings::local("test"),
            settings_path: PathBuf::from("settings.yml"),
            seed: None,
            // Nothing to drop: no server is involved.
            dropped: true,
        };
        assert!(db.failure_note().contains("database ferrom_t_1_2"));
        db.set_seed(1234);
        let note = db.failure_note();
        assert!(note.contains("seed 1234"), "{note}");
        assert!(note.contains("FERROM_SEED=1234"), "{note}");
    }
}
