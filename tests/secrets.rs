//! A real password never shows (issue 8): the `ferrom` binary and the
//! console do their work as a MariaDB user of the test's own whose password
//! is distinctive and full of punctuation, and that password (raw,
//! percent-encoded, or any recognisable part of it) appears in none of
//! their output, logs, errors or history files.
//!
//! - [`cli_with_the_password_in_database_url`],
//!   [`cli_with_the_password_in_ferrom_db_password`] and
//!   [`cli_with_the_password_in_a_settings_file`] run the same session in
//!   the three ways a password reaches the binary, with `FERROM_LOG=trace`:
//!   `db create`, `db migrate` (also `--check` and a bad `--target`),
//!   `db status`, `db schema`, `db new`, a migration that fails at the
//!   server, a database the user may not use, the console (`-e` text and
//!   JSON, `--strict`, `--sandbox`, stdin) with expressions that succeed and
//!   that fail at the server, `db reset` and `db drop --yes`. Every command
//!   is checked to have done what it should (exit status and text), so the
//!   absence of the password is not the absence of output; where the
//!   connection target is shown it shows `***`. Afterwards every file the
//!   binary could have written under its `HOME` and `TMPDIR` is read.
//! - [`the_interactive_console_keeps_the_password_out_of_screen_logs_and_history`]
//!   types at the console in a pseudo-terminal (tmux) with the history in
//!   the default place (`$HOME/.ferrom_history`) and stderr (trace logs,
//!   errors) in a file, then reads every file: the typed expressions are in
//!   the history, the password is nowhere, and a typed line holding a URL
//!   with the password is kept out of the history.
//! - [`in_process_values_never_show_the_password`] checks the `Debug` of
//!   settings loaded in each of the three ways, of a connected `Gateway`
//!   and a finalized `Container`, the `Display`/`Debug` of errors from
//!   statements that fail at the server and of a refused database, and
//!   everything logged at `trace` meanwhile.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrom::{Error, Gateway, Settings};
use serde_json::Value as J;

use crate::support::tmux::Tmux;
use crate::support::{
    Output, TempDir, TestDb, reference_db, repo_root, run, run_with_input, server_connection,
    server_settings,
};

/// What stands for the password in failure messages, so that a failing
/// test does not print it either.
const HIDDEN: &str = "<PASSWORD>";

/// A MariaDB user of the test's own (`'name'@'127.0.0.1'` and
/// `'name'@'localhost'`) with a distinctive password, granted everything on
/// the databases named at creation; dropped when the value is dropped, also
/// when an assertion fails.
struct SecretUser {
    name: String,
    password: String,
}

const USER_HOSTS: [&str; 2] = ["127.0.0.1", "localhost"];

impl SecretUser {
    async fn create(databases: &[&str]) -> SecretUser {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let user = SecretUser {
            name: format!("ferrom_sec_{pid}_{n}"),
            // URL-reserved characters (`:@/%#?!`) that DATABASE_URL must
            // carry percent-encoded, and none that SQL or YAML quoting
            // would need escaped.
            password: format!("S3cr3t-{pid}-{n}:p@ss/w%rd#?!x"),
        };
        assert!(!user.password.contains(['\'', '\\', '"']));
        let mut conn = server_connection().await;
        for host in USER_HOSTS {
            let statements = [
                format!("DROP USER IF EXISTS '{}'@'{host}'", user.name),
                format!(
                    "CREATE USER '{}'@'{host}' IDENTIFIED BY '{}'",
                    user.name, user.password
                ),
            ];
            for sql in statements {
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("creating user {}@{host}: {e}", user.name));
            }
            for db in databases {
                // `_` is a wildcard in a GRANT's database name: escape it.
                let pattern = db.replace('_', "\\_");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "GRANT ALL PRIVILEGES ON `{pattern}`.* TO '{}'@'{host}'",
                    user.name
                )))
                .execute(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("granting {db} to {}@{host}: {e}", user.name));
            }
        }
        user
    }

    /// The part of the password no other text has: `S3cr3t-<pid>-<n>`.
    fn core(&self) -> &str {
        self.password
            .split(':')
            .next()
            .expect("the password has a core")
    }

    /// The password as it stands in a URL.
    fn encoded(&self) -> String {
        percent_encode(&self.password)
    }

    /// `mysql://user:<encoded password>@host:port/database`.
    fn url(&self, host: &str, port: u16, database: &str) -> String {
        format!(
            "mysql://{}:{}@{host}:{port}/{database}",
            self.name,
            self.encoded()
        )
    }

    /// The forms of the password a leak could take, longest first.
    fn forms(&self) -> Vec<String> {
        vec![
            self.encoded(),
            self.password.clone(),
            "p@ss/w%rd#?!x".to_string(),
            "p%40ss%2Fw%25rd".to_string(),
            self.core().to_string(),
        ]
    }

    /// `text` with every form of the password replaced by [`HIDDEN`].
    fn hide(&self, text: &str) -> String {
        let mut text = text.to_string();
        for form in self.forms() {
            text = text.replace(&form, HIDDEN);
        }
        text
    }

    /// The forms of the password `text` holds.
    fn found_in(&self, text: &str) -> Vec<String> {
        self.forms()
            .into_iter()
            .filter(|f| text.contains(f.as_str()))
            .collect()
    }

    /// Fails, quoting (with the password hidden) each line that holds it,
    /// when any form of the password is in `text`.
    fn assert_absent(&self, what: &str, text: &str) {
        let found = self.found_in(text);
        if found.is_empty() {
            return;
        }
        let lines: Vec<String> = text
            .lines()
            .filter(|l| found.iter().any(|f| l.contains(f.as_str())))
            .map(|l| format!("    {}", self.hide(l)))
            .collect();
        panic!(
            "the password leaked in {what} (as {}):\n{}",
            found
                .iter()
                .map(|f| self.hide(f))
                .collect::<Vec<_>>()
                .join(", "),
            lines.join("\n")
        );
    }

    /// The connection target as ferrom shows it.
    fn redacted(&self, host: &str, port: u16, database: &str) -> String {
        format!("mysql://{}:***@{host}:{port}/{database}", self.name)
    }
}

impl Drop for SecretUser {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop cannot await, and may run inside the test's runtime: drop the
        // user from a thread with a runtime of its own, and wait for it.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the test user");
            runtime.block_on(async {
                let mut conn = server_connection().await;
                for host in USER_HOSTS {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP USER IF EXISTS '{name}'@'{host}'"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
        if dropped.is_err() && !std::thread::panicking() {
            panic!("could not drop the test user {}", self.name);
        }
    }
}

/// Every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`) as `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every regular file under `dir`, with its text.
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if path.is_file() {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push((path, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    out
}

/// How the password reaches the binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    /// `DATABASE_URL=mysql://user:<percent-encoded>@127.0.0.1:3306/db`.
    DatabaseUrl,
    /// `FERROM_DB__USERNAME`, `FERROM_DB__PASSWORD`, ... over the
    /// repository's settings.yml.
    Overrides,
    /// `FERROM_SETTINGS` naming a settings file of the test's own with
    /// `password:` (and `host: localhost`).
    SettingsFile,
}

/// The binary as one user runs it: the password given `via`, trace
/// logging, and `HOME` and `TMPDIR` in a directory of the test's own.
struct Cli<'a> {
    user: &'a SecretUser,
    via: Via,
    host: String,
    port: u16,
    /// Where the binary may write (`HOME`, `TMPDIR`); read at the end.
    home: TempDir,
    /// Settings files for [`Via::SettingsFile`] (they hold the password
    /// on purpose, so they live outside `home`).
    settings: TempDir,
}

impl<'a> Cli<'a> {
    fn new(user: &'a SecretUser, via: Via) -> Cli<'a> {
        let server = server_settings();
        let home = TempDir::new("secrets-home");
        std::fs::create_dir_all(home.path().join("tmp")).expect("create TMPDIR");
        Cli {
            user,
            via,
            host: if via == Via::SettingsFile && server.host == "127.0.0.1" {
                "localhost".to_string()
            } else {
                server.host.clone()
            },
            port: server.port,
            home,
            settings: TempDir::new("secrets-settings"),
        }
    }

    /// The binary pointed at `database`.
    fn ferrom(&self, database: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrom"));
        cmd.current_dir(repo_root());
        for (key, _) in std::env::vars() {
            if key.starts_with("FERROM_") || key == "DATABASE_URL" || key == "RUST_LOG" {
                cmd.env_remove(key);
            }
        }
        cmd.env("FERROM_ENV", "test")
            .env("FERROM_LOG", "trace")
            .env("NO_COLOR", "1")
            .env("HOME", self.home.path())
            .env("TMPDIR", self.home.path().join("tmp"))
            .stdin(Stdio::null());
        let user = self.user;
        match self.via {
            Via::DatabaseUrl => {
                cmd.env("DATABASE_URL", user.url(&self.host, self.port, database));
            }
            Via::Overrides => {
                cmd.env("FERROM_DB__HOST", &self.host)
                    .env("FERROM_DB__PORT", self.port.to_string())
                    .env("FERROM_DB__NAME", database)
                    .env("FERROM_DB__USERNAME", &user.name)
                    .env("FERROM_DB__PASSWORD", &user.password);
            }
            Via::SettingsFile => {
                let text = format!(
                    "test:\n  db:\n    host: {}\n    port: {}\n    name: {database}\n    username: {}\n    password: '{}'\n    pool_size: 2\n    connect_timeout: 5\n    acquire_timeout: 5\n",
                    self.host, self.port, user.name, user.password
                );
                let path = self.settings.write(&format!("{database}.yml"), &text);
                cmd.env("FERROM_SETTINGS", path);
            }
        }
        cmd
    }

    /// Runs `args` on `database` and checks the result: no form of the
    /// password in either stream, the exit status, and each of `stdout` in
    /// stdout and of `stderr` in stderr.
    fn check(
        &self,
        database: &str,
        args: &[&str],
        status: i32,
        stdout: &[&str],
        stderr: &[&str],
    ) -> Output {
        self.check_cmd(
            self.ferrom(database).args(args),
            args,
            status,
            stdout,
            stderr,
        )
    }

    fn check_cmd(
        &self,
        cmd: &mut Command,
        args: &[&str],
        status: i32,
        stdout: &[&str],
        stderr: &[&str],
    ) -> Output {
        let out = run(cmd);
        self.expect(&out, &format!("{args:?}"), status, stdout, stderr);
        out
    }

    fn expect(&self, out: &Output, label: &str, status: i32, stdout: &[&str], stderr: &[&str]) {
        let what = format!("`ferrom {label}` ({:?})", self.via);
        let user = self.user;
        user.assert_absent(&format!("the stdout of {what}"), &out.stdout);
        user.assert_absent(&format!("the stderr of {what}"), &out.stderr);
        let shown = || {
            format!(
                "stdout:\n{}\nstderr (last 40 lines):\n{}",
                user.hide(&out.stdout),
                user.hide(&tail(&out.stderr, 40))
            )
        };
        assert_eq!(out.status, status, "exit status of {what}\n{}", shown());
        for part in stdout {
            assert!(
                out.stdout.contains(part),
                "{part:?} in the stdout of {what}\n{}",
                shown()
            );
        }
        for part in stderr {
            assert!(
                out.stderr.contains(part),
                "{part:?} in the stderr of {what}\n{}",
                shown()
            );
        }
        // Trace logging is on, so each run logs (and could have leaked).
        assert!(
            out.stderr.contains("TRACE") || out.stderr.contains("DEBUG") || status == 2,
            "no log lines in the stderr of {what}: is FERROM_LOG still the variable?\n{}",
            shown()
        );
    }

    /// Every file the binary wrote under `HOME` and `TMPDIR`.
    fn assert_home_clean(&self) {
        for (path, text) in files_under(self.home.path()) {
            self.user
                .assert_absent(&format!("{} ({:?})", path.display(), self.via), &text);
        }
    }
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The JSON lines of stdout.
fn json_lines(out: &Output) -> Vec<J> {
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// The repository's migrations copied into a directory of the test's own,
/// plus `extra` files.
fn migrations_with(label: &str, extra: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new(label);
    for entry in std::fs::read_dir(repo_root().join("migrations")).expect("migrations/") {
        let path = entry.expect("a migration").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("a name")))
            .expect("copy a migration");
    }
    for (name, text) in extra {
        dir.write(name, text);
    }
    dir
}

/// Console expressions: ones that work, the connection target, and ones
/// the server refuses (a duplicate unique key, NULL into NOT NULL, a
/// missing parent row, a syntax error).
const CONSOLE: [&str; 14] = [
    "MAIN_CONTAINER.relations[:companies].count", // 0
    "gateways[:default].url",                     // 1
    "container.gateways[:default]",               // 2
    "companies.command(:create).call(name: 'Acme', domain: 'https://acme.test')", // 3
    "posts.command(:create).call(url: 'https://acme.test/dup', company_id: 1)", // 4
    "posts.command(:create).call(url: 'https://acme.test/dup', company_id: 1)", // 5 unique
    "companies.command(:create).call(name: nil, domain: 'https://nil.test')", // 6 not null
    "posts.command(:create).call(url: 'https://acme.test/fk', company_id: 999)", // 7 foreign key
    "companies.read('SELEC 1')",                  // 8 syntax error
    "sql on",                                     // 9
    "posts.where(url: 'https://acme.test/dup').count", // 10
    "sql off",                                    // 11
    "reload!",                                    // 12
    "companies.pluck(:name)",                     // 13
];

fn with_exprs<'a>(mut args: Vec<&'a str>, exprs: &[&'a str]) -> Vec<&'a str> {
    for e in exprs {
        args.push("-e");
        args.push(e);
    }
    args
}

/// The whole session, with the password given `via`.
async fn cli_session(via: Via) {
    let db = TestDb::reserve().await;
    // A database the user has no grant on: a refused login with the right
    // password.
    let other = TestDb::reserve().await;
    let user = SecretUser::create(&[db.name()]).await;
    let cli = Cli::new(&user, via);
    let name = db.name();
    let shown_url = user.redacted(&cli.host, cli.port, name);

    // Create, twice.
    cli.check(
        name,
        &["db", "create"],
        0,
        &[&format!("created database {name} (utf8mb4")],
        &[],
    );
    cli.check(
        name,
        &["db", "create"],
        0,
        &[&format!("database {name} already exists")],
        &[],
    );

    // Migrate: pending first, then applied, one line each.
    cli.check(
        name,
        &["db", "migrate", "--check"],
        1,
        &[
            "2 migration(s) need attention",
            "20190309141500 create_companies",
        ],
        &[],
    );
    cli.check(
        name,
        &["db", "migrate", "--target", "not-a-version"],
        2,
        &[],
        &["invalid value 'not-a-version'"],
    );
    cli.check(
        name,
        &["db", "migrate"],
        0,
        &[
            &format!("database {name} on "),
            "applying 20190309141500 create_companies ... done in",
            "applying 20190309141600 create_posts ... done in",
            "applied 2 migration(s)",
        ],
        &["running migration statement"],
    );
    cli.check(name, &["db", "migrate"], 0, &["no pending migrations"], &[]);
    cli.check(
        name,
        &["db", "migrate", "--check"],
        0,
        &["all migrations are applied"],
        &[],
    );
    cli.check(
        name,
        &["db", "status"],
        0,
        &[
            &format!("database {name} on "),
            "(test)",
            "create_companies",
            "applied",
        ],
        &[],
    );
    cli.check(
        name,
        &["db", "schema"],
        0,
        &["companies", "posts", "posts_company_id_fkey"],
        &[],
    );
    cli.check(
        name,
        &["db", "schema", "nosuch"],
        1,
        &[],
        &["error: no table `nosuch`", "tables: companies, posts"],
    );

    // The right password on a database the user may not use: the target
    // is shown, redacted.
    let refused = cli.check(
        other.name(),
        &["db", "status"],
        1,
        &[],
        &[
            &user.redacted(&cli.host, cli.port, other.name()),
            "Access denied",
        ],
    );
    assert!(
        refused.stderr.contains(":***@"),
        "{}",
        user.hide(&refused.stderr)
    );

    // `db new` writes a file and prints its path.
    let fresh = TempDir::new("secrets-new");
    let out = cli.check_cmd(
        cli.ferrom(name)
            .env("FERROM_MIGRATIONS", fresh.path())
            .args(["db", "new", "add_notes"]),
        &["db", "new", "add_notes"],
        0,
        &["__add_notes.sql"],
        &[],
    );
    let written = PathBuf::from(out.stdout.trim());
    assert!(written.starts_with(fresh.path()), "{}", out.stdout);
    for (path, text) in files_under(fresh.path()) {
        user.assert_absent(&path.display().to_string(), &text);
    }

    // The console: text, JSON, strict, sandbox, stdin.
    let out = cli.check(
        name,
        &with_exprs(vec!["console"], &CONSOLE),
        0,
        &[
            "0\n",
            &format!("\"{shown_url}\""),
            "#<ferrom::Gateway default>",
            ":name=>\"Acme\"",
            "[\"Acme\"]",
        ],
        &[
            &format!("console: database {name} on "),
            "error: relation `posts`: duplicate value",
            "cannot be NULL",
            "posts_company_id_fkey",
            "SELEC 1",
            "SELECT COUNT(*)",
            // The trace log of the connection, target redacted.
            "connected",
            &shown_url,
        ],
    );
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count(),
        4,
        "four errors, each on a line of its own:\n{}",
        user.hide(&tail(&out.stderr, 60))
    );

    let out = cli.check(
        name,
        &with_exprs(vec!["console", "--format", "json"], &CONSOLE),
        0,
        &[],
        &[],
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), CONSOLE.len(), "{}", user.hide(&out.stdout));
    assert_eq!(lines[0], J::from(1), "{}", lines[0]);
    assert_eq!(lines[1], J::from(shown_url.as_str()));
    assert_eq!(lines[3]["name"], "Acme");
    // The first run created the `dup` post: both are duplicates now.
    for (i, kind) in [
        (4, "unique"),
        (5, "unique"),
        (6, "not_null"),
        (7, "foreign_key"),
    ] {
        assert_eq!(
            lines[i]["error"]["kind"], kind,
            "{}: {}",
            CONSOLE[i], lines[i]
        );
    }
    assert!(
        lines[8]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("SELEC 1")),
        "{}",
        lines[8]
    );
    assert_eq!(lines[10], J::from(1));
    assert_eq!(lines[13], serde_json::json!(["Acme", "Acme"]));

    cli.check(
        name,
        &with_exprs(
            vec!["console", "--strict"],
            &["companies.count", CONSOLE[5], "companies.count"],
        ),
        1,
        &["2\n"],
        &["error: relation `posts`: duplicate value"],
    );

    let out = cli.check(
        name,
        &with_exprs(
            vec!["console", "--sandbox", "--format", "json"],
            &[
                "companies.command(:create).call(name: 'Sandboxed', domain: 'https://s.test')",
                "companies.count",
                CONSOLE[6],
            ],
        ),
        0,
        &[],
        &["sandbox"],
    );
    let lines = json_lines(&out);
    assert_eq!(lines[1], J::from(3), "{}", user.hide(&out.stdout));
    assert_eq!(lines[2]["error"]["kind"], "not_null");

    let script = format!("companies.count\n{}\ngateways[:default].url\n", CONSOLE[5]);
    let out = run_with_input(
        cli.ferrom(name).args(["console", "--format", "json"]),
        &script,
    );
    cli.expect(&out, "console < script", 0, &[], &[]);
    let lines = json_lines(&out);
    assert_eq!(
        lines,
        vec![J::from(2), lines[1].clone(), J::from(shown_url.as_str())],
        "{}",
        user.hide(&out.stdout)
    );
    assert_eq!(lines[1]["error"]["kind"], "unique");

    // A migration that fails at the server: the error names the file and
    // the statement.
    let broken = migrations_with(
        "secrets-broken",
        &[(
            "U20990101000000__broken.sql",
            "CREATE TABLE broken_one (id INT PRIMARY KEY);\nINSERT INTO no_such_table (id) VALUES (1);\n",
        )],
    );
    let broken_dir = broken.path().to_str().expect("a UTF-8 path");
    cli.check(
        name,
        &["--migrations", broken_dir, "db", "migrate"],
        1,
        &["applying 20990101000000 broken ... FAILED"],
        &["U20990101000000__broken.sql", "no_such_table"],
    );
    cli.check(
        name,
        &["--migrations", broken_dir, "db", "status"],
        0,
        &["broken", "failed"],
        &[],
    );
    cli.check(
        name,
        &["--migrations", broken_dir, "db", "migrate", "--check"],
        1,
        &["20990101000000 broken failed"],
        &[],
    );

    // Reset, then drop, twice.
    cli.check(
        name,
        &["db", "reset"],
        0,
        &[
            &format!("dropped database {name}"),
            &format!("created database {name}"),
            "applied 2 migration(s)",
        ],
        &[],
    );
    cli.check(
        name,
        &["db", "drop", "--yes"],
        0,
        &[&format!("dropped database {name}")],
        &[],
    );
    cli.check(
        name,
        &["db", "drop", "--yes"],
        0,
        &[&format!("database {name} does not exist")],
        &[],
    );

    // Nothing the binary wrote holds the password (and the scripts wrote
    // no history).
    cli.assert_home_clean();
    assert!(
        !cli.home.path().join(".ferrom_history").exists(),
        "a script must not write history"
    );
}

#[tokio::test]
async fn cli_with_the_password_in_database_url() {
    cli_session(Via::DatabaseUrl).await;
}

#[tokio::test]
async fn cli_with_the_password_in_ferrom_db_password() {
    cli_session(Via::Overrides).await;
}

#[tokio::test]
async fn cli_with_the_password_in_a_settings_file() {
    cli_session(Via::SettingsFile).await;
}

// ----- the interactive console, in a pseudo-terminal -----

const PROMPT: &str = "post-analytics(test)> ";

#[tokio::test]
async fn the_interactive_console_keeps_the_password_out_of_screen_logs_and_history() {
    let (db, _container) = reference_db().await;
    let user = SecretUser::create(&[db.name()]).await;
    let server = server_settings();
    let shown_url = user.redacted(&server.host, server.port, db.name());
    let home = TempDir::new("secrets-console-home");
    let log = home.path().join("console.stderr.log");
    let history = home.path().join(".ferrom_history");

    // History in its default place ($HOME), stderr (banner, errors, trace
    // logs) in a file under $HOME; no other variable reaches the console.
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let vars = [
        (
            "DATABASE_URL",
            user.url(&server.host, server.port, db.name()),
        ),
        ("FERROM_ENV", "test".to_string()),
        ("FERROM_LOG", "trace".to_string()),
        ("HOME", home.path().display().to_string()),
        ("TMPDIR", home.path().display().to_string()),
        ("NO_COLOR", "1".to_string()),
        ("TERM", "xterm-256color".to_string()),
    ];
    let vars: Vec<String> = vars
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect();
    let command = format!(
        "cd {} && exec env -i {} {} console 2>{}",
        quote(&repo_root().display().to_string()),
        vars.join(" "),
        quote(env!("CARGO_BIN_EXE_ferrom")),
        quote(&log.display().to_string())
    );
    let t = Tmux::start("secrets", (160, 50), &[], &command);
    let hide = |s: &str| user.hide(s);
    let prompts = |n: usize| move |s: &str| s.matches(PROMPT).count() >= n;
    t.wait_until("the prompt", hide, prompts(1));

    let typed = [
        "MAIN_CONTAINER.relations[:companies].count",
        "companies = MAIN_CONTAINER.relations[:companies]",
        "gateways[:default].url",
        "companies.command(:create).call(name: 'Typed Co', domain: 'https://typed.test')",
        "posts.command(:create).call(url: 'https://typed.test/dup', company_id: 1)",
        "posts.command(:create).call(url: 'https://typed.test/dup', company_id: 1)",
        "companies.read('SELEC 1')",
        "companies.pluck(:name)",
    ];
    for (i, line) in typed.iter().enumerate() {
        t.type_line(line);
        t.wait_until(&format!("the prompt after {line:?}"), hide, prompts(i + 2));
    }
    let screen = t.screen();
    user.assert_absent("the console's screen", &screen);
    for part in [
        "=> 0",
        "=> #<ferrom::Relation companies>",
        &format!("=> \"{shown_url}\""),
        ":name=>\"Typed Co\"",
        "=> [\"Typed Co\"]",
    ] {
        assert!(
            screen.contains(part),
            "{part} on the screen:\n{}",
            hide(&screen)
        );
    }

    // A line holding a URL with the password, typed by a person: it runs,
    // but it must not be written to the history file.
    let typed_secret = format!(
        "typed_url = '{}'",
        user.url(&server.host, server.port, "elsewhere")
    );
    t.type_line(&typed_secret);
    t.wait_until("the prompt after the URL", hide, prompts(typed.len() + 2));

    t.press("C-d");
    t.wait_exit(Duration::from_secs(10));
    assert!(!t.alive(), "Ctrl-D leaves the console");

    // The history holds what was typed, not the password.
    let saved = std::fs::read_to_string(&history).unwrap_or_else(|e| {
        panic!(
            "the history file {}: {e}; files: {:?}",
            history.display(),
            files_under(home.path())
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect::<Vec<_>>()
        )
    });
    for line in typed {
        assert!(
            saved.contains(line),
            "{line:?} in the history:\n{}",
            hide(&saved)
        );
    }
    assert!(
        !saved.contains("typed_url"),
        "a line with a password in a URL was written to the history:\n{}",
        hide(&saved)
    );

    // The log file holds the banner, the errors and the trace logs.
    let logged = std::fs::read_to_string(&log).expect("the console's stderr");
    for part in [
        &format!("console: database {} on ", db.name()),
        "error: relation `posts`: duplicate value",
        "SELEC 1",
        "TRACE",
    ] {
        assert!(
            logged.contains(part),
            "{part:?} in the console's stderr:\n{}",
            hide(&tail(&logged, 60))
        );
    }

    // Every file under $HOME: history, log, anything else.
    let files = files_under(home.path());
    assert!(files.len() >= 2, "history and log: {files:?}");
    for (path, text) in &files {
        user.assert_absent(&path.display().to_string(), text);
    }
}

// ----- in process -----

/// A `MakeWriter` collecting everything logged into one buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(
            &self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned()
    }
}

/// Every way an error is shown: `Display`, `Debug`, pretty `Debug`, the
/// CLI's rendering with its causes, and each source.
fn error_texts(e: &Error) -> String {
    let mut text = format!("{e}\n{e:?}\n{e:#?}\n{}\n", ferrom::cli::render_error(e));
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!("{s}\n{s:?}\n"));
        source = s.source();
    }
    text
}

#[tokio::test]
async fn in_process_values_never_show_the_password() {
    let (db, _root_container) = reference_db().await;
    let other = TestDb::reserve().await;
    let user = SecretUser::create(&[db.name()]).await;
    // Everything logged on this (the test's only) thread from here on, at
    // trace level (not the test's own CREATE USER above).
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);

    let server = server_settings();
    let (host, port, name) = (server.host.as_str(), server.port, db.name());
    let path = repo_root().join("settings.yml");

    // The check finds the password in every form it is given in, so that
    // its finding nothing below means something.
    for given in [
        user.url(host, port, name),
        user.password.clone(),
        format!("password: '{}'", user.password),
    ] {
        assert!(!user.found_in(&given).is_empty(), "{}", user.hide(&given));
        assert!(user.found_in(&user.hide(&given)).is_empty());
    }

    // Settings loaded the three ways.
    let by_url = Settings::load(
        &path,
        "test",
        [("DATABASE_URL", user.url(host, port, name))],
    )
    .expect("settings from DATABASE_URL");
    let by_override = Settings::load(
        &path,
        "test",
        vec![
            ("FERROM_DB__HOST", host.to_string()),
            ("FERROM_DB__PORT", port.to_string()),
            ("FERROM_DB__NAME", name.to_string()),
            ("FERROM_DB__USERNAME", user.name.clone()),
            ("FERROM_DB__PASSWORD", user.password.clone()),
        ],
    )
    .expect("settings from FERROM_DB__*");
    let dir = TempDir::new("secrets-in-process");
    let file = dir.write(
        "settings.yml",
        &format!(
            "test:\n  db:\n    host: {host}\n    port: {port}\n    name: {name}\n    username: {}\n    password: '{}'\n",
            user.name, user.password
        ),
    );
    let by_file = Settings::load(&file, "test", Vec::<(String, String)>::new())
        .expect("settings from a file");
    for (how, s) in [
        ("DATABASE_URL", &by_url),
        ("FERROM_DB__PASSWORD", &by_override),
        ("a settings file", &by_file),
    ] {
        assert_eq!(s.db.password.expose(), user.password, "{how}");
        assert_eq!(s.db.username, user.name, "{how}");
        let shown = format!(
            "{s:?}\n{s:#?}\n{:?}\n{:?}\n{}\n{:?}",
            s.db,
            s.db.password,
            s.db.redacted_url(),
            s.db.redacted_url()
        );
        user.assert_absent(&format!("the Debug of settings from {how}"), &shown);
        assert_eq!(
            s.db.redacted_url().to_string(),
            user.redacted(host, port, name)
        );
        assert!(shown.contains("***"), "{shown}");
    }

    // A gateway and a container connected as the user.
    let gateway = Gateway::connect(&by_url.db)
        .await
        .expect("connect as the user");
    let current: String = sqlx::query_scalar("SELECT CURRENT_USER()")
        .fetch_one(gateway.pool())
        .await
        .expect("who am I");
    assert!(current.starts_with(&format!("{}@", user.name)), "{current}");
    let shown = format!("{gateway:?}\n{gateway:#?}\n{}", gateway.url());
    user.assert_absent("the Debug of a connected Gateway", &shown);
    assert!(
        shown.contains(&user.redacted(host, port, name)),
        "{}",
        user.hide(&shown)
    );

    let container = post_analytics::configuration(&by_override)
        .finalize()
        .await
        .expect("finalize as the user");
    let companies = container.relation("companies").expect("companies");
    let posts = container.relation("posts").expect("posts");
    let create_company = companies.command("create").expect("create");
    let create_post = posts.command("create").expect("create");
    let shown = format!("{container:?}\n{container:#?}\n{companies:?}\n{create_post:?}");
    user.assert_absent("the Debug of a finalized Container", &shown);
    assert!(shown.contains(name), "{}", user.hide(&shown));

    // Work that succeeds ...
    let company = create_company
        .call([("name", "Acme"), ("domain", "https://acme.test")])
        .await
        .expect("create a company")
        .into_one()
        .expect("the company");
    let id = company.get("id").expect("an id").clone();
    create_post
        .call(vec![
            ("url", ferrom::Value::from("https://acme.test/dup")),
            ("company_id", id.clone()),
        ])
        .await
        .expect("create a post");
    assert_eq!(posts.count().await.expect("count"), 1);

    // ... and statements the server refuses.
    let duplicate = create_post
        .call(vec![
            ("url", ferrom::Value::from("https://acme.test/dup")),
            ("company_id", id),
        ])
        .await
        .expect_err("a duplicate url");
    assert!(matches!(duplicate, Error::Unique { .. }), "{duplicate:?}");
    let null = create_company
        .call(vec![
            ("name", ferrom::Value::Null),
            ("domain", ferrom::Value::from("https://nil.test")),
        ])
        .await
        .expect_err("a NULL name");
    assert!(matches!(null, Error::NotNull { .. }), "{null:?}");
    let orphan = create_post
        .call(vec![
            ("url", ferrom::Value::from("https://acme.test/fk")),
            ("company_id", ferrom::Value::from(999)),
        ])
        .await
        .expect_err("a missing company");
    assert!(matches!(orphan, Error::ForeignKey { .. }), "{orphan:?}");
    let syntax = companies
        .read("SELEC 1", &[])
        .await
        .expect_err("a syntax error");
    for (what, e) in [
        ("a duplicate key", &duplicate),
        ("NULL into NOT NULL", &null),
        ("a foreign key", &orphan),
        ("a syntax error", &syntax),
    ] {
        user.assert_absent(&format!("the error for {what}"), &error_texts(e));
    }
    assert!(error_texts(&syntax).contains("SELEC 1"), "{syntax}");

    // The right password on a database the user may not use.
    let refused = Gateway::connect(&by_file.db.with_name(other.name()))
        .await
        .expect_err("no grant on the other database");
    let shown = error_texts(&refused);
    user.assert_absent("the error for a refused database", &shown);
    assert!(shown.contains("Access denied"), "{}", user.hide(&shown));
    assert!(
        shown.contains(&user.redacted(host, port, other.name())),
        "{}",
        user.hide(&shown)
    );

    gateway.close().await;
    drop(container);

    // Everything logged meanwhile, bound values included.
    let logged = captured.text();
    user.assert_absent("the trace log", &logged);
    assert!(
        logged.contains("connected") && logged.contains("https://acme.test/dup"),
        "trace logging was captured:\n{}",
        user.hide(&tail(&logged, 40))
    );
}
