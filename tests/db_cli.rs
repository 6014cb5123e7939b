//! `ferrom db ...` as an operator runs it: the real binary against the real
//! server, each test on a database of its own.

use crate::support::{TempDir, TestDb, repo_root, run};

#[tokio::test]
async fn create_and_drop_are_idempotent() {
    let db = TestDb::reserve().await;
    let first = run(db.ferrom().args(["db", "create"]));
    assert_eq!(first.status, 0, "{}", first.all());
    assert!(
        first
            .stdout
            .contains(&format!("created database {}", db.name())),
        "{}",
        first.all()
    );
    let again = run(db.ferrom().args(["db", "create"]));
    assert_eq!(again.status, 0, "{}", again.all());
    assert!(again.stdout.contains("already exists"), "{}", again.all());

    let mut conn = db.connect().await;
    let (charset, collation): (String, String) = sqlx::query_as(
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    )
    .bind(db.name())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (charset.as_str(), collation.as_str()),
        ("utf8mb4", "utf8mb4_unicode_ci")
    );
    drop(conn);

    let dropped = run(db.ferrom().args(["db", "drop"]));
    assert_eq!(dropped.status, 0, "{}", dropped.all());
    assert!(
        dropped
            .stdout
            .contains(&format!("dropped database {}", db.name()))
    );
    let again = run(db.ferrom().args(["db", "drop"]));
    assert_eq!(again.status, 0, "{}", again.all());
    assert!(again.stdout.contains("does not exist"), "{}", again.all());
}

#[tokio::test]
async fn drop_outside_test_needs_yes_and_reset_is_refused_in_production() {
    let db = TestDb::create().await;
    let refused = run(db.ferrom().args(["--env", "development", "db", "drop"]));
    assert_eq!(refused.status, 1, "{}", refused.all());
    assert!(refused.stderr.contains("--yes"), "{}", refused.all());
    let mut conn = db.connect().await;
    let still: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    )
    .bind(db.name())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(still, 1, "the database must still exist");

    let prod = run(db
        .ferrom()
        .args(["--env", "production", "db", "reset", "--yes"]));
    assert_eq!(prod.status, 1, "{}", prod.all());
    assert!(
        prod.stderr
            .contains("refused in the production environment"),
        "{}",
        prod.all()
    );

    let yes = run(db
        .ferrom()
        .args(["--env", "development", "db", "drop", "--yes"]));
    assert_eq!(yes.status, 0, "{}", yes.all());
}

#[tokio::test]
async fn migrate_prints_one_line_each_then_nothing_pending() {
    let db = TestDb::create().await;
    let out = run(db.ferrom().args(["db", "migrate"]));
    assert_eq!(out.status, 0, "{}", out.all());
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("applying"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(
        lines[0].contains("create_companies") && lines[0].contains(" ms"),
        "{}",
        out.stdout
    );
    assert!(lines[1].contains("create_posts"), "{}", out.stdout);
    let again = run(db.ferrom().args(["db", "migrate"]));
    assert_eq!(again.status, 0, "{}", again.all());
    assert!(
        again.stdout.contains("no pending migrations"),
        "{}",
        again.all()
    );

    let check = run(db.ferrom().args(["db", "migrate", "--check"]));
    assert_eq!(check.status, 0, "{}", check.all());
}

#[tokio::test]
async fn migrate_check_fails_while_pending() {
    let db = TestDb::create().await;
    let check = run(db.ferrom().args(["db", "migrate", "--check"]));
    assert_eq!(check.status, 1, "{}", check.all());
    assert!(
        check.stdout.contains("create_companies") && check.stdout.contains("create_posts"),
        "{}",
        check.all()
    );
    // --check changes nothing.
    let mut conn = db.connect().await;
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, 0);
}

#[tokio::test]
async fn migrate_target_stops_at_the_version() {
    let db = TestDb::create().await;
    let out = run(db
        .ferrom()
        .args(["db", "migrate", "--target", "20190309141500"]));
    assert_eq!(out.status, 0, "{}", out.all());
    assert!(
        out.stdout.contains("create_companies") && !out.stdout.contains("create_posts"),
        "{}",
        out.all()
    );
    let status = run(db.ferrom().args(["db", "status"]));
    assert!(
        status
            .stdout
            .lines()
            .any(|l| l.contains("create_posts") && l.contains("pending")),
        "{}",
        status.all()
    );
}

#[tokio::test]
async fn schema_shows_the_reference_table() {
    let db = TestDb::create().await;
    assert_eq!(run(db.ferrom().args(["db", "migrate"])).status, 0);
    let out = run(db.ferrom().args(["db", "schema", "companies"]));
    assert_eq!(out.status, 0, "{}", out.all());
    let text = out.stdout;
    assert!(text.starts_with("companies\n"), "{text}");
    let state = text
        .lines()
        .find(|l| l.trim_start().starts_with("state"))
        .expect("state row");
    assert!(
        state.contains("string") && state.contains("varchar(255)") && state.contains("running"),
        "{state}"
    );
    let id = text
        .lines()
        .find(|l| l.trim_start().starts_with("id "))
        .expect("id row");
    assert_eq!(
        id.split_whitespace().collect::<Vec<_>>(),
        ["id", "integer", "int(11)", "no", "-", "yes", "yes"],
        "{id}"
    );
    let all = run(db.ferrom().args(["db", "schema"]));
    assert!(
        all.stdout
            .contains("posts_company_id_fkey (company_id) -> companies (id)"),
        "{}",
        all.stdout
    );
    assert!(
        all.stdout.contains("posts_url_index (url) unique"),
        "{}",
        all.stdout
    );
    assert!(
        !all.stdout.contains("refinery_schema_history"),
        "{}",
        all.stdout
    );
    let missing = run(db.ferrom().args(["db", "schema", "nope"]));
    assert_eq!(missing.status, 1);
    assert!(
        missing.stderr.contains("no table `nope`") && missing.stderr.contains("companies, posts"),
        "{}",
        missing.all()
    );
}

#[tokio::test]
async fn reset_drops_creates_and_migrates() {
    let db = TestDb::create().await;
    assert_eq!(run(db.ferrom().args(["db", "migrate"])).status, 0);
    let mut conn = db.connect().await;
    sqlx::query("INSERT INTO companies (name, domain) VALUES ('a', 'b')")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let out = run(db.ferrom().args(["db", "reset"]));
    assert_eq!(out.status, 0, "{}", out.all());
    let mut conn = db.connect().await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM companies")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(count, 0, "reset must start from an empty database");
}

#[tokio::test]
async fn new_writes_a_loadable_file_and_rejects_bad_names() {
    let db = TestDb::create().await;
    let dir = TempDir::new("db-new");
    let dir_arg = dir.path().to_str().unwrap().to_string();
    let out = run(db
        .ferrom()
        .args(["db", "new", "add_things", "--migrations", &dir_arg]));
    assert_eq!(out.status, 0, "{}", out.all());
    let path = std::path::PathBuf::from(out.stdout.trim());
    assert!(path.exists(), "{}", out.stdout);
    let file = path.file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        file.starts_with('U') && file.ends_with("__add_things.sql"),
        "{file}"
    );
    assert_eq!(
        file.len(),
        "U20260101120000__add_things.sql".len(),
        "{file}"
    );
    // The new file is loadable: give it a statement and migrate with it.
    std::fs::write(&path, "CREATE TABLE things (id INT PRIMARY KEY);\n").unwrap();
    let migrated = run(db
        .ferrom()
        .args(["db", "migrate", "--migrations", &dir_arg]));
    assert_eq!(migrated.status, 0, "{}", migrated.all());
    assert!(migrated.stdout.contains("add_things"), "{}", migrated.all());

    for bad in ["Add-Things", "add things", "1st", "ünïcode", ""] {
        let out = run(db
            .ferrom()
            .args(["db", "new", bad, "--migrations", &dir_arg]));
        assert_ne!(out.status, 0, "`{bad}` must be rejected: {}", out.all());
        assert!(out.stderr.contains("error"), "{}", out.all());
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing else written"
    );
}

#[tokio::test]
async fn usage_errors_exit_2_and_help_reads_well() {
    let db = TestDb::reserve().await;
    let out = run(db.ferrom().args(["db", "explode"]));
    assert_eq!(out.status, 2, "{}", out.all());
    let help = run(db.ferrom().args(["db", "--help"]));
    assert_eq!(help.status, 0);
    for cmd in [
        "create", "drop", "new", "migrate", "status", "schema", "reset",
    ] {
        assert!(help.stdout.contains(cmd), "{}", help.stdout);
    }
    let top = run(db.ferrom().arg("--help"));
    assert!(
        top.stdout.contains("--env") && top.stdout.contains("FERROM_ENV"),
        "{}",
        top.stdout
    );
}

#[tokio::test]
async fn the_reference_settings_file_has_three_environments() {
    let text = std::fs::read_to_string(repo_root().join("settings.yml")).unwrap();
    for env in ["development", "test", "production"] {
        let s = ferrom::Settings::load(
            repo_root().join("settings.yml"),
            env,
            Vec::<(String, String)>::new(),
        )
        .unwrap_or_else(|e| panic!("{env}: {e}"));
        assert_eq!(s.db.encoding, "utf8mb4");
        assert!(text.contains(&format!("{env}:")));
    }
    let dev = ferrom::Settings::load(
        repo_root().join("settings.yml"),
        "development",
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    assert_eq!(
        (dev.db.host.as_str(), dev.db.port, dev.db.name.as_str()),
        ("127.0.0.1", 3306, "ferrom_development")
    );
    let test = ferrom::Settings::load(
        repo_root().join("settings.yml"),
        "test",
        Vec::<(String, String)>::new(),
    )
    .unwrap();
    assert_eq!(test.db.name, "ferrom_test");
}
