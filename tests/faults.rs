//! Faults: the server stopped and restarted under a running workload, a
//! pool with no free connection, and a statement that runs too long.
//!
//! The restart test starts a server of its own (MariaDB's `mariadbd`, or
//! MySQL's `mysqld`, from the machine's installation) on a free port with
//! a data directory in a temporary directory, so the machine's server is
//! never touched. It kills that server with SIGKILL (a crash, the harder
//! fault: nothing is flushed on the way down) while four tasks write
//! through one container, starts it again on the same port and data, and
//! checks that:
//! - the calls that were in flight or made while it was down failed with
//!   a connection error (no other kind of error, no hang);
//! - every call started once it was back succeeded, through the same
//!   container and pool (no restart of the process);
//! - every create that reported success is in the database exactly once,
//!   and every row in the database is a create that was attempted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferrom::{Container, DbSettings, Error, Settings, Tuple, Value};
use sqlx::{Connection, Executor, Row as _};

use crate::support::{TempDir, call_err, reference_db, repo_root};

/// A MySQL or MariaDB server this test runs itself.
struct OwnServer {
    dir: TempDir,
    server: PathBuf,
    mariadb: bool,
    port: u16,
    child: Option<Child>,
}

/// The first of `names` found on PATH or in the usual server directories.
fn find_bin(names: &[&str]) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin", "/usr/local/bin"].map(PathBuf::from));
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|path| path.is_file())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

impl OwnServer {
    /// Initialises a data directory in a temporary directory.
    fn init() -> OwnServer {
        let server = find_bin(&["mariadbd", "mysqld"]).unwrap_or_else(|| {
            panic!(
                "the fault tests start a server of their own and need mariadbd or mysqld installed \
                 (Debian: apt-get install mariadb-server; `scripts/db-up --system` does it)"
            )
        });
        let version = Command::new(&server)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let mariadb = version.contains("MariaDB");
        let dir = TempDir::new("own-server");
        let data = dir.path().join("data");
        let mut init = if mariadb {
            let install = find_bin(&["mariadb-install-db", "mysql_install_db"])
                .expect("mariadb-install-db (part of the MariaDB server package)");
            let mut cmd = Command::new(install);
            cmd.arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .arg("--auth-root-authentication-method=normal")
                .arg("--skip-test-db");
            cmd
        } else {
            let mut cmd = Command::new(&server);
            cmd.arg("--no-defaults")
                .arg("--initialize-insecure")
                .arg(format!("--datadir={}", data.display()));
            cmd
        };
        if running_as_root() {
            init.arg("--user=root");
        }
        let out = init
            .stdin(Stdio::null())
            .output()
            .expect("run the server's data directory initialisation");
        assert!(
            out.status.success(),
            "initialising {} failed:\n{}{}",
            data.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        OwnServer {
            dir,
            server,
            mariadb,
            port: free_port(),
            child: None,
        }
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.err")
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Settings for a database on this server.
    fn settings(&self, database: &str) -> DbSettings {
        let mut settings = DbSettings::local(database);
        settings.port = self.port;
        settings
    }

    /// Starts the server and waits until it answers (at most 60 s).
    async fn start(&mut self) {
        let dir = self.dir.path();
        let mut cmd = Command::new(&self.server);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", dir.join("data").display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", dir.join("server.sock").display()))
            .arg(format!("--pid-file={}", dir.join("server.pid").display()))
            .arg(format!("--log-error={}", self.log_file().display()))
            .arg("--innodb-buffer-pool-size=32M");
        if self.mariadb {
            cmd.arg("--character-set-server=utf8mb4");
        } else {
            cmd.args(["--mysqlx=OFF", "--skip-log-bin"]);
        }
        if running_as_root() {
            cmd.arg("--user=root");
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the test's own server");
        self.child = Some(child);
        let probe = self.settings("mysql");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if ferrom::gateway::open_connection(&probe, false)
                .await
                .is_ok()
            {
                return;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "the test's own server exited ({status}):\n{}",
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the test's own server did not answer on port {} within 60 s:\n{}",
                self.port,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills the server outright (SIGKILL), as a crash would.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Phases of the restart test, as the tasks see them when a call starts.
const UP: u8 = 0;
const DOWN: u8 = 1;
const BACK: u8 = 2;
const STOP: u8 = 3;

/// One create attempt and how it ended.
struct Attempt {
    url: String,
    phase: u8,
    outcome: Result<i64, String>,
}

/// What the workload tasks did, shared with the test.
#[derive(Default)]
struct Ledger {
    attempts: Mutex<Vec<Attempt>>,
    /// Successful creates per phase the call started in.
    ok: [AtomicUsize; 3],
    failed: [AtomicUsize; 3],
}

/// One workload task: creates posts (each with a unique url, repeated in
/// its `error` column)
/// and reads every fifth one back, until the phase is `STOP`.
async fn writer(
    container: Container,
    task: usize,
    company: i64,
    phase: Arc<AtomicU8>,
    ledger: Arc<Ledger>,
) {
    let create = container.command("posts", "create").unwrap();
    let posts = container.relation("posts").unwrap();
    for seq in 0.. {
        let started_in = phase.load(Ordering::SeqCst);
        if started_in == STOP {
            break;
        }
        let url = format!("https://faults.example/{task}/{seq}");
        let result = create
            .call(Tuple::from([
                ("url", Value::from(url.as_str())),
                ("error", Value::from(url.as_str())),
                ("company_id", company.into()),
            ]))
            .await
            .map(|out| {
                let row = out.into_one().expect("create returns the row");
                row.get("id").ok().and_then(Value::as_i64).expect("an id")
            });
        let outcome = match result {
            Ok(id) => {
                ledger.ok[usize::from(started_in)].fetch_add(1, Ordering::SeqCst);
                if seq % 5 == 0 {
                    // A read through the pool sees the row just written.
                    let row = posts.by_pk(id).one().await;
                    match row {
                        Ok(Some(row)) => {
                            assert_eq!(
                                row.get("url").ok().and_then(Value::as_str),
                                Some(url.as_str())
                            )
                        }
                        Ok(None) => panic!("post {id} ({url}) reported created but not found"),
                        Err(e) if phase.load(Ordering::SeqCst) == UP => {
                            panic!("reading {url} back failed before any fault: {e}")
                        }
                        Err(_) => {}
                    }
                }
                Ok(id)
            }
            Err(e) => {
                ledger.failed[usize::from(started_in)].fetch_add(1, Ordering::SeqCst);
                let kind_ok = matches!(
                    e,
                    Error::ConnectionLost { .. }
                        | Error::PoolTimeout { .. }
                        | Error::Connect { .. }
                );
                let text = e.to_string();
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err(if kind_ok {
                    text
                } else {
                    format!("UNEXPECTED KIND: {e:?}")
                })
            }
        };
        ledger.attempts.lock().unwrap().push(Attempt {
            url,
            phase: started_in,
            outcome,
        });
    }
}

/// Waits (at most `limit`) until `done` holds, else panics with `what`.
async fn wait_for(limit: Duration, what: &str, ledger: &Ledger, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        let unexpected = ledger.attempts.lock().unwrap().iter().find_map(|a| {
            a.outcome
                .as_ref()
                .err()
                .filter(|e| e.starts_with("UNEXPECTED"))
                .cloned()
        });
        assert!(
            unexpected.is_none(),
            "while waiting for {what}: {unexpected:?}"
        );
        assert!(
            Instant::now() < deadline,
            "gave up waiting {limit:?} for {what}; last attempts: {:?}",
            ledger
                .attempts
                .lock()
                .unwrap()
                .iter()
                .rev()
                .take(5)
                .map(|a| (&a.url, a.phase, &a.outcome))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_crash_and_restart_mid_workload_loses_and_duplicates_nothing() {
    const TASKS: usize = 4;
    let mut server = OwnServer::init();
    server.start().await;
    let mut db = server.settings("ferrom_faults");
    db.pool_size = 4;
    db.connect_timeout = 2;
    db.acquire_timeout = 2;
    let mut admin = ferrom::testing::server_connection(&db).await.unwrap();
    admin
        .execute("CREATE DATABASE ferrom_faults CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        .await
        .unwrap();
    admin.close().await.unwrap();
    let gateway = ferrom::Gateway::connect(&db).await.unwrap();
    assert_eq!(post_analytics::migrate(&gateway).await.unwrap(), 2);
    gateway.close().await;
    let settings = Settings {
        env: "test".into(),
        path: repo_root().join("settings.yml"),
        db: db.clone(),
    };
    let container = post_analytics::configuration(&settings)
        .finalize()
        .await
        .unwrap();
    let company = container
        .command("companies", "create")
        .unwrap()
        .call([("name", "Acme"), ("domain", "https://acme.example")])
        .await
        .unwrap()
        .into_one()
        .unwrap()
        .get("id")
        .ok()
        .and_then(Value::as_i64)
        .unwrap();

    let phase = Arc::new(AtomicU8::new(UP));
    let ledger = Arc::new(Ledger::default());
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            tokio::spawn(writer(
                container.clone(),
                task,
                company,
                phase.clone(),
                ledger.clone(),
            ))
        })
        .collect();
    let count = |which: &[AtomicUsize; 3], at: u8| which[usize::from(at)].load(Ordering::SeqCst);

    wait_for(
        Duration::from_secs(30),
        "creates before the crash",
        &ledger,
        || count(&ledger.ok, UP) >= 40,
    )
    .await;
    // DOWN first: a call that fails while the phase still reads UP failed
    // before any fault.
    phase.store(DOWN, Ordering::SeqCst);
    server.kill();
    wait_for(
        Duration::from_secs(30),
        "failures while the server is down",
        &ledger,
        || count(&ledger.failed, DOWN) >= TASKS,
    )
    .await;
    server.start().await;
    phase.store(BACK, Ordering::SeqCst);
    wait_for(
        Duration::from_secs(30),
        "creates after the restart",
        &ledger,
        || count(&ledger.ok, BACK) >= 40,
    )
    .await;
    phase.store(STOP, Ordering::SeqCst);
    for task in tasks {
        task.await.expect("a workload task panicked");
    }

    let attempts = std::mem::take(&mut *ledger.attempts.lock().unwrap());
    let unexpected: Vec<&String> = attempts
        .iter()
        .filter_map(|a| a.outcome.as_ref().err())
        .filter(|e| e.starts_with("UNEXPECTED"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "errors other than connection errors: {unexpected:#?}"
    );
    // Every call started once the server was back succeeded.
    let failed_back: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.phase == BACK && a.outcome.is_err())
        .collect();
    assert!(
        failed_back.is_empty(),
        "calls failed after the server was back: {:?}",
        failed_back
            .iter()
            .map(|a| a.outcome.as_ref().unwrap_err())
            .collect::<Vec<_>>()
    );
    // Calls made while it was down failed, naming where and never hanging
    // past the acquire timeout.
    let down: Vec<&Attempt> = attempts.iter().filter(|a| a.phase == DOWN).collect();
    assert!(down.iter().any(|a| a.outcome.is_err()));
    for attempt in down.iter().filter(|a| a.outcome.is_err()) {
        let text = attempt.outcome.as_ref().unwrap_err();
        assert!(
            text.contains(&format!("mysql://root:***@127.0.0.1:{}", server.port)),
            "{text}"
        );
    }

    // The database, read by a fresh connection: each reported create is
    // there exactly once with its id; each row is an attempted create.
    let mut conn = ferrom::gateway::open_connection(&db, true).await.unwrap().0;
    let rows = sqlx::query("SELECT id, url, error FROM posts")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let mut in_db: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    for row in &rows {
        let url: String = row.get("url");
        let title: String = row.get("error");
        assert_eq!(url, title, "row {url} has another attempt's error text");
        let entry = in_db.entry(url).or_insert((row.get("id"), 0));
        entry.1 += 1;
    }
    let mut reported = 0;
    for attempt in &attempts {
        if let Ok(id) = attempt.outcome {
            reported += 1;
            assert_eq!(
                in_db.get(&attempt.url),
                Some(&(id, 1)),
                "{} reported created as {id}",
                attempt.url
            );
        }
    }
    let attempted: BTreeSet<&str> = attempts.iter().map(|a| a.url.as_str()).collect();
    let unknown: Vec<&String> = in_db
        .keys()
        .filter(|u| !attempted.contains(u.as_str()))
        .collect();
    assert!(unknown.is_empty(), "rows nobody attempted: {unknown:?}");
    let committed_unreported = rows.len() - reported;
    let failed = attempts.iter().filter(|a| a.outcome.is_err()).count();
    assert!(committed_unreported <= failed);
    // The same container still reads, and agrees with the fresh connection.
    let posts = container.relation("posts").unwrap();
    assert_eq!(posts.count().await.unwrap(), rows.len() as u64);
    eprintln!(
        "restart: {} creates reported ({} before the crash, {} after the restart), {} failed ({} in flight at the crash, {} while down), {} committed without a reply",
        reported,
        count(&ledger.ok, UP),
        count(&ledger.ok, BACK),
        failed,
        count(&ledger.failed, UP),
        count(&ledger.failed, DOWN),
        committed_unreported
    );
    container.gateway("default").unwrap().close().await;
    server.kill();
}

/// The reference container over a fresh database, with `change` applied
/// to its settings.
async fn container_with(
    change: impl FnOnce(&mut DbSettings),
) -> (crate::support::TestDb, Container) {
    let (db, _) = reference_db().await;
    let mut settings = db.test_settings();
    change(&mut settings.db);
    let container = post_analytics::configuration(&settings)
        .finalize()
        .await
        .unwrap();
    (db, container)
}

/// The pool's connection, its server thread id.
async fn pooled_connection_id(container: &Container) -> u64 {
    let mut conn = container
        .gateway("default")
        .unwrap()
        .acquire()
        .await
        .unwrap();
    sqlx::query_scalar("SELECT CONNECTION_ID()")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

/// Waits until the pool holds `n` idle connections (a connection handed
/// back is tested before it is idle again).
async fn wait_idle(container: &Container, n: usize) {
    let pool = container.gateway("default").unwrap().pool().clone();
    let started = Instant::now();
    while pool.num_idle() != n {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the pool never held {n} idle connections"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// An idle connection the server has closed is found out at checkout (its
/// ping fails): it is closed and a new one serves the call, which sees
/// nothing of it, even with a pool of one connection.
#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced_at_checkout() {
    let (db, container) = container_with(|db| {
        db.pool_size = 1;
        db.acquire_timeout = 5;
    })
    .await;
    let killed = pooled_connection_id(&container).await;
    wait_idle(&container, 1).await;
    let mut admin = db.connect().await;
    let mut kill = async |id: u64| {
        admin
            .execute(sqlx::AssertSqlSafe(format!("KILL CONNECTION {id}")))
            .await
            .unwrap();
    };
    kill(killed).await;
    let posts = container.relation("posts").unwrap();
    assert_eq!(posts.count().await.unwrap(), 0);
    wait_idle(&container, 1).await;
    let replacement = pooled_connection_id(&container).await;
    assert_ne!(replacement, killed);
    // A command's checkout too.
    wait_idle(&container, 1).await;
    kill(replacement).await;
    let company = crate::support::call_one(
        &container,
        "companies",
        "create",
        [("name", "Acme"), ("domain", "https://acme.example")],
    )
    .await;
    assert_eq!(company.get("name").unwrap(), &Value::from("Acme"));
}

#[tokio::test]
async fn a_pool_with_every_connection_in_use_times_out_naming_the_settings() {
    let (_db, container) = container_with(|db| {
        db.pool_size = 1;
        db.acquire_timeout = 1;
    })
    .await;
    // A session holds the pool's only connection.
    let session = container.session().await.unwrap();
    let posts = container.relation("posts").unwrap();
    let started = Instant::now();
    let err = posts.count().await.unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(
            err,
            Error::PoolTimeout {
                pool_size: 1,
                waited_secs: 1,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    for part in [
        "db.pool_size",
        "db.acquire_timeout",
        "within 1 s",
        "all 1 connections",
        "mysql://root:***@",
    ] {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }
    // Waited for the timeout, not forever.
    assert!(waited >= Duration::from_millis(900), "{waited:?}");
    // A write also fails the same way, and writes nothing.
    let err = call_err(
        &container,
        "companies",
        "create",
        [("name", "Acme"), ("domain", "https://acme.example")],
    )
    .await;
    assert!(matches!(err, Error::PoolTimeout { .. }), "{err:?}");
    // The session still works on its connection; once it ends, the pool
    // serves again.
    assert_eq!(
        session
            .relation("companies")
            .unwrap()
            .count()
            .await
            .unwrap(),
        0
    );
    drop(session);
    assert_eq!(posts.count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_statement_over_the_statement_timeout_is_stopped_and_rolled_back() {
    // Two seconds, not one: finalize's introspection runs under the limit
    // too, and the whole suite shares two cores.
    let (_db, container) = container_with(|db| db.statement_timeout = 2).await;
    let companies = container.relation("companies").unwrap();
    let err = companies
        .read("SELECT SLEEP(5) AS slept", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::StatementTimeout { relation: Some(r), .. } if r == "companies"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("relation `companies` ran longer than db.statement_timeout"),
        "{err}"
    );
    // A slow write is stopped and its change rolled back.
    container
        .command("companies", "create")
        .unwrap()
        .call([("name", "Acme"), ("domain", "https://acme.example")])
        .await
        .unwrap();
    let err = companies
        .read(
            "UPDATE companies SET name = 'Changed' WHERE SLEEP(4) = 0",
            &[],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StatementTimeout { .. }), "{err:?}");
    let names = companies.pluck("name").await.unwrap();
    assert_eq!(names, [Value::from("Acme")]);
    // Statements within the limit run, on the same pool.
    let slept = companies
        .read("SELECT SLEEP(0.1) AS slept", &[])
        .await
        .unwrap();
    assert_eq!(slept.len(), 1);
}

#[tokio::test]
async fn timeouts_come_from_the_settings_and_bad_values_are_named() {
    let path: &Path = &repo_root().join("settings.yml");
    let settings = Settings::load(path, "production", Vec::<(String, String)>::new()).unwrap();
    assert_eq!(settings.db.statement_timeout, 60);
    assert_eq!(
        settings.db.statement_timeout(),
        Some(Duration::from_secs(60))
    );
    let settings = Settings::load(path, "test", [("FERROM_DB__STATEMENT_TIMEOUT", "7")]).unwrap();
    assert_eq!(settings.db.statement_timeout, 7);
    let settings = Settings::load(path, "test", Vec::<(String, String)>::new()).unwrap();
    assert_eq!(settings.db.statement_timeout(), None);

    let err = Settings::load(path, "test", [("FERROM_DB__STATEMENT_TIMEOUT", "soon")]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("FERROM_DB__STATEMENT_TIMEOUT") || text.contains("statement_timeout"),
        "{text}"
    );
    let err =
        Settings::load(path, "test", [("FERROM_DB__STATEMENT_TIMEOUT", "99999999")]).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidSetting { key, .. } if key == "db.statement_timeout"),
        "{err:?}"
    );
    assert!(err.to_string().contains("or 0 for no limit"), "{err}");
}
