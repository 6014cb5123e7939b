//! Settings as the binary reads them: environments, overrides, secrets.

use crate::support::{TempDir, TestDb, run};

#[tokio::test]
async fn env_overrides_choose_the_database() {
    let db = TestDb::create().await;
    // No DATABASE_URL: the settings file plus FERROM_DB__* overrides.
    let s = &db.settings;
    let out = run(db
        .ferrom()
        .env_remove("DATABASE_URL")
        .env("FERROM_DB__NAME", db.name())
        .env("FERROM_DB__HOST", &s.host)
        .env("FERROM_DB__PORT", s.port.to_string())
        .env("FERROM_DB__USERNAME", &s.username)
        .env("FERROM_DB__PASSWORD", s.password.expose())
        .args(["db", "status"]));
    assert_eq!(out.status, 0, "{}", out.all());
    assert!(
        out.stdout.contains(&format!("database {}", db.name())),
        "{}",
        out.all()
    );
    assert!(out.stdout.contains("(test)"), "{}", out.all());
}

#[tokio::test]
async fn unknown_environment_and_bad_override_are_named() {
    let db = TestDb::reserve().await;
    let out = run(db.ferrom().args(["--env", "staging", "db", "status"]));
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("unknown environment `staging`"),
        "{}",
        out.all()
    );
    assert!(
        out.stderr.contains("development, production, test"),
        "{}",
        out.all()
    );

    let out = run(db
        .ferrom()
        .env("FERROM_DB__PORT", "not-a-port")
        .args(["db", "status"]));
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("port"), "{}", out.all());

    let out = run(db
        .ferrom()
        .env("FERROM_DB__POOLSIZE", "3")
        .args(["db", "status"]));
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("FERROM_DB__POOLSIZE") && out.stderr.contains("pool_size"),
        "{}",
        out.all()
    );
}

#[tokio::test]
async fn malformed_and_missing_settings_files_are_named() {
    let db = TestDb::reserve().await;
    let dir = TempDir::new("settings");
    let bad = dir.write("settings.yml", "test:\n  db:\n    name: x\n   port: [\n");
    let out = run(db
        .ferrom()
        .arg("--settings")
        .arg(&bad)
        .args(["db", "status"]));
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains(bad.to_str().unwrap()) && out.stderr.contains("line"),
        "{}",
        out.all()
    );

    let wrong_type = dir.write(
        "typed.yml",
        "test:\n  db:\n    name: x\n    connect_timeout: soon\n",
    );
    let out = run(db
        .ferrom()
        .arg("--settings")
        .arg(&wrong_type)
        .args(["db", "status"]));
    assert_eq!(out.status, 1);
    assert!(out.stderr.contains("connect_timeout"), "{}", out.all());

    let out = run(db
        .ferrom()
        .args(["--settings", "/nonexistent/settings.yml", "db", "status"]));
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("/nonexistent/settings.yml"),
        "{}",
        out.all()
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.all());
}

#[tokio::test]
async fn password_never_appears_in_cli_output() {
    let db = TestDb::reserve().await;
    let secret = "Pa55-w0rd-N3ver-Sh0wn";
    // Refused login.
    let url = format!(
        "mysql://ferrom_nobody:{secret}@{}:{}/{}",
        db.settings.host,
        db.settings.port,
        db.name()
    );
    let out = run(db.ferrom().env("DATABASE_URL", &url).args(["db", "status"]));
    assert_eq!(out.status, 1, "{}", out.all());
    assert!(
        out.stderr.contains("mysql://ferrom_nobody:***@"),
        "{}",
        out.all()
    );
    assert!(!out.all().contains(secret), "{}", out.all());
    // Nothing listening, with debug logging on.
    let url = format!("mysql://root:{secret}@127.0.0.1:1/{}", db.name());
    let out = run(db
        .ferrom()
        .env("DATABASE_URL", &url)
        .env("FERROM_LOG", "trace")
        .args(["db", "migrate"]));
    assert_eq!(out.status, 1, "{}", out.all());
    assert!(
        out.stderr.contains("127.0.0.1:1") && out.stderr.contains("scripts/db-up"),
        "{}",
        out.all()
    );
    assert!(!out.all().contains(secret), "{}", out.all());
    // A password given through the override variable.
    let out = run(db
        .ferrom()
        .env_remove("DATABASE_URL")
        .env("FERROM_DB__USERNAME", "ferrom_nobody")
        .env("FERROM_DB__PASSWORD", secret)
        .args(["db", "create"]));
    assert_eq!(out.status, 1, "{}", out.all());
    assert!(!out.all().contains(secret), "{}", out.all());
}
