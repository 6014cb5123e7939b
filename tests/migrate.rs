//! Migrations through the library: the reference schema, status, locking,
//! failures half-way, pre-flight checks, embedded migrations.

use ferrom::Error;
use ferrom::migrate::{MigrationError, MigrationState, Migrations, Migrator};
use sqlx::MySqlConnection;

use crate::support::{TempDir, TestDb, repo_root, run};

fn reference() -> Migrations {
    Migrations::from_dir(repo_root().join("migrations")).expect("reference migrations load")
}

async fn migrate(
    migrations: Migrations,
    conn: &mut MySqlConnection,
    db: &TestDb,
) -> ferrom::Result<usize> {
    Migrator::new(migrations)
        .migrate(conn, db.name(), &mut |_| {})
        .await
        .map(|applied| applied.len())
}

fn migration_error(e: Error) -> MigrationError {
    match e {
        Error::Migration(m) => *m,
        other => panic!("expected a migration error, got {other}"),
    }
}

/// (column, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA)
type ColumnRow = (String, String, String, Option<String>, String);

async fn columns(conn: &mut MySqlConnection, table: &str) -> Vec<ColumnRow> {
    sqlx::query_as(
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR)
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    )
    .bind(table)
    .fetch_all(conn)
    .await
    .unwrap()
}

fn col<'a>(cols: &'a [ColumnRow], name: &str) -> &'a ColumnRow {
    cols.iter()
        .find(|c| c.0 == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[tokio::test]
async fn migrate_creates_exactly_the_reference_schema() {
    let db = TestDb::create().await;
    let mut conn = db.connect().await;
    assert_eq!(migrate(reference(), &mut conn, &db).await.unwrap(), 2);

    let companies = columns(&mut conn, "companies").await;
    let names: Vec<&str> = companies.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        ["id", "name", "domain", "state", "created_at", "updated_at"]
    );
    let id = col(&companies, "id");
    assert!(
        id.1.starts_with("int") && id.2 == "NO" && id.4.contains("auto_increment"),
        "{id:?}"
    );
    for c in ["name", "domain"] {
        let c = col(&companies, c);
        assert_eq!(
            (c.1.as_str(), c.2.as_str()),
            ("varchar(255)", "NO"),
            "{c:?}"
        );
    }
    let state = col(&companies, "state");
    assert_eq!(state.2, "NO");
    assert!(
        matches!(state.3.as_deref(), Some("'running'" | "running")),
        "{state:?}"
    );
    for c in ["created_at", "updated_at"] {
        let c = col(&companies, c);
        assert_eq!((c.1.as_str(), c.2.as_str()), ("datetime", "YES"), "{c:?}");
    }

    let posts = columns(&mut conn, "posts").await;
    let names: Vec<&str> = posts.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "id",
            "url",
            "se_post",
            "published_at",
            "scrapped_at",
            "error",
            "stats",
            "created_at",
            "updated_at",
            "company_id"
        ]
    );
    assert_eq!(col(&posts, "url").1, "varchar(255)");
    assert_eq!(col(&posts, "url").2, "NO");
    let se_post = col(&posts, "se_post");
    assert_eq!(
        (se_post.1.as_str(), se_post.2.as_str(), se_post.3.as_deref()),
        ("tinyint(1)", "NO", Some("0"))
    );
    assert_eq!(col(&posts, "published_at").2, "YES");
    assert_eq!(
        (
            col(&posts, "scrapped_at").1.as_str(),
            col(&posts, "scrapped_at").2.as_str()
        ),
        ("datetime", "NO")
    );
    assert_eq!(col(&posts, "error").2, "YES");
    assert_eq!(col(&posts, "stats").2, "YES");
    assert!(col(&posts, "company_id").1.starts_with("int"));

    // stats is JSON: native on MySQL, a json_valid-checked LONGTEXT on MariaDB.
    let (_, server) = ferrom::gateway::open_connection(&db.settings, true)
        .await
        .unwrap();
    let tables = ferrom::gateway::introspect(&mut conn, &server)
        .await
        .unwrap();
    assert!(tables["posts"].column("stats").unwrap().json);

    // The unique index on url and the foreign key.
    let unique: Vec<(String, i64)> = sqlx::query_as(
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(NON_UNIQUE AS SIGNED) FROM information_schema.STATISTICS
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'posts' AND INDEX_NAME <> 'PRIMARY' AND NON_UNIQUE = 0",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(unique, vec![("url".to_string(), 0)]);
    let fk: (String, String, String) = sqlx::query_as(
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(REFERENCED_TABLE_NAME AS CHAR), CAST(REFERENCED_COLUMN_NAME AS CHAR)
         FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'posts' AND REFERENCED_TABLE_NAME IS NOT NULL",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(fk, ("company_id".into(), "companies".into(), "id".into()));

    // InnoDB and utf8mb4 on both tables.
    let engines: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(ENGINE AS CHAR), CAST(TABLE_COLLATION AS CHAR) FROM information_schema.TABLES
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('companies', 'posts')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(engines.len(), 2);
    for (engine, collation) in engines {
        assert_eq!(engine, "InnoDB");
        assert!(collation.starts_with("utf8mb4"), "{collation}");
    }

    // The database defaults really apply.
    sqlx::query("INSERT INTO companies (name, domain) VALUES ('a', 'b')")
        .execute(&mut conn)
        .await
        .unwrap();
    let state: String = sqlx::query_scalar("SELECT state FROM companies")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(state, "running");
}

#[tokio::test]
async fn status_reports_applied_pending_divergent_and_missing() {
    let db = TestDb::create().await;
    let dir = TempDir::new("status");
    dir.write(
        "U20260101000001__one.sql",
        "CREATE TABLE one (id INT PRIMARY KEY);\n",
    );
    dir.write(
        "U20260101000002__two.sql",
        "CREATE TABLE two (id INT PRIMARY KEY);\n",
    );
    let mut conn = db.connect().await;
    let load = || Migrations::from_dir(dir.path()).unwrap();

    let before = Migrator::new(load()).status(&mut conn).await.unwrap();
    assert!(
        before
            .iter()
            .all(|s| matches!(s.state, MigrationState::Pending)),
        "{before:?}"
    );
    // status creates nothing
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, 0);

    assert_eq!(migrate(load(), &mut conn, &db).await.unwrap(), 2);
    dir.write(
        "U20260101000003__three.sql",
        "CREATE TABLE three (id INT PRIMARY KEY);\n",
    );
    // Edit an applied file, remove another.
    dir.write(
        "U20260101000001__one.sql",
        "CREATE TABLE one (id BIGINT PRIMARY KEY);\n",
    );
    let status = Migrator::new(load()).status(&mut conn).await.unwrap();
    let state = |v: i64| &status.iter().find(|s| s.version == v).unwrap().state;
    assert!(
        matches!(state(20260101000001), MigrationState::Divergent { .. }),
        "{status:?}"
    );
    assert!(
        matches!(state(20260101000002), MigrationState::Applied),
        "{status:?}"
    );
    assert!(
        matches!(state(20260101000003), MigrationState::Pending),
        "{status:?}"
    );
    std::fs::remove_file(dir.path().join("U20260101000002__two.sql")).unwrap();
    let status = Migrator::new(load()).status(&mut conn).await.unwrap();
    let two = status.iter().find(|s| s.version == 20260101000002).unwrap();
    assert!(matches!(two.state, MigrationState::Missing), "{status:?}");

    // migrate refuses a divergent file, naming it; nothing else is applied.
    let err = migration_error(migrate(load(), &mut conn, &db).await.unwrap_err());
    let msg = err.to_string();
    assert!(
        msg.contains("U20260101000001__one.sql") || msg.contains("20260101000001"),
        "{msg}"
    );
    let three: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'three'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(three, 0);

    // The CLI shows the same states.
    let out = run(db
        .ferrom()
        .args(["db", "status", "--migrations", dir.path().to_str().unwrap()]));
    assert_eq!(out.status, 0, "{}", out.all());
    for word in ["divergent", "missing", "pending"] {
        assert!(out.stdout.contains(word), "{word}: {}", out.stdout);
    }
}

#[tokio::test]
async fn missing_migration_aborts_migrate() {
    let db = TestDb::create().await;
    let dir = TempDir::new("missing");
    dir.write(
        "U20260101000001__one.sql",
        "CREATE TABLE one (id INT PRIMARY KEY);\n",
    );
    let mut conn = db.connect().await;
    migrate(Migrations::from_dir(dir.path()).unwrap(), &mut conn, &db)
        .await
        .unwrap();
    std::fs::remove_file(dir.path().join("U20260101000001__one.sql")).unwrap();
    dir.write(
        "U20260101000002__two.sql",
        "CREATE TABLE two (id INT PRIMARY KEY);\n",
    );
    let err = migration_error(
        migrate(Migrations::from_dir(dir.path()).unwrap(), &mut conn, &db)
            .await
            .unwrap_err(),
    );
    assert!(matches!(err, MigrationError::Missing { .. }), "{err}");
    assert!(err.to_string().contains("20260101000001"), "{err}");
}

#[tokio::test]
async fn concurrent_migrate_runs_apply_each_migration_once() {
    let db = TestDb::create().await;
    let dir = TempDir::new("concurrent");
    // Slow enough that the runs overlap.
    dir.write(
        "U20260101000001__one.sql",
        "CREATE TABLE one (id INT PRIMARY KEY);\nDO SLEEP(0.3);\n",
    );
    dir.write(
        "U20260101000002__two.sql",
        "CREATE TABLE two (id INT PRIMARY KEY);\nINSERT INTO one VALUES (1);\n",
    );
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let settings = db.settings.clone();
        let name = db.name().to_string();
        let path = dir.path().to_path_buf();
        tasks.push(tokio::spawn(async move {
            let (mut conn, _) = ferrom::gateway::open_connection(&settings, true)
                .await
                .unwrap();
            let migrator = Migrator::new(Migrations::from_dir(&path).unwrap());
            let applied = migrator
                .migrate(&mut conn, &name, &mut |_| {})
                .await
                .map(|a| a.len());
            applied.unwrap()
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 2, "each migration applied exactly once in all");
    let mut conn = db.connect().await;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM one")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let history: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM refinery_schema_history")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(history, 2);
}

#[tokio::test]
async fn a_migration_failing_half_way_is_named_and_shown_in_status() {
    let db = TestDb::create().await;
    let dir = TempDir::new("half");
    dir.write(
        "U20260101000001__ok.sql",
        "CREATE TABLE ok (id INT PRIMARY KEY);\n",
    );
    let broken = dir.write(
        "U20260101000002__broken.sql",
        "CREATE TABLE a (id INT PRIMARY KEY);\n\nCREATE TABLE b (id INT PRIMARY KEY);\nTHIS IS NOT SQL;\nCREATE TABLE c (id INT PRIMARY KEY);\n",
    );
    let mut conn = db.connect().await;
    let err = migration_error(
        migrate(Migrations::from_dir(dir.path()).unwrap(), &mut conn, &db)
            .await
            .unwrap_err(),
    );
    let msg = err.to_string();
    assert!(
        matches!(
            err,
            MigrationError::Failed {
                statement_index: 3,
                statement_count: 4,
                ..
            }
        ),
        "{msg}"
    );
    assert!(msg.contains("U20260101000002__broken.sql"), "{msg}");
    assert!(msg.contains("THIS IS NOT SQL"), "{msg}");
    assert!(msg.contains("line 4"), "{msg}");
    assert!(msg.contains("ferrom db migrate"), "{msg}");

    // What happened: statements 1-2 committed, 4 never ran, not recorded.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('a','b','c','ok') ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, ["a", "b", "ok"]);
    let status = Migrator::new(Migrations::from_dir(dir.path()).unwrap())
        .status(&mut conn)
        .await
        .unwrap();
    let broken_status = status.iter().find(|s| s.version == 20260101000002).unwrap();
    assert!(
        matches!(
            broken_status.state,
            MigrationState::Failed {
                statement_index: 3,
                ..
            }
        ),
        "{status:?}"
    );
    let out = run(db
        .ferrom()
        .args(["db", "status", "--migrations", dir.path().to_str().unwrap()]));
    assert!(
        out.stdout
            .lines()
            .any(|l| l.contains("broken") && l.contains("failed")),
        "{}",
        out.stdout
    );

    // Fixed (made idempotent by hand), the next run applies it and clears the failure.
    std::fs::write(
        &broken,
        "CREATE TABLE IF NOT EXISTS a (id INT PRIMARY KEY);\nCREATE TABLE IF NOT EXISTS b (id INT PRIMARY KEY);\nCREATE TABLE c (id INT PRIMARY KEY);\n",
    )
    .unwrap();
    assert_eq!(
        migrate(Migrations::from_dir(dir.path()).unwrap(), &mut conn, &db)
            .await
            .unwrap(),
        1
    );
    let status = Migrator::new(Migrations::from_dir(dir.path()).unwrap())
        .status(&mut conn)
        .await
        .unwrap();
    assert!(
        status
            .iter()
            .all(|s| matches!(s.state, MigrationState::Applied)),
        "{status:?}"
    );
}

#[tokio::test]
async fn preflight_rejects_bad_names_and_duplicate_versions() {
    let dir = TempDir::new("preflight");
    dir.write("U20260101000001__ok.sql", "SELECT 1;\n");
    dir.write("V20260101000002_single_underscore.sql", "SELECT 1;\n");
    let err = migration_error(Migrations::from_dir(dir.path()).unwrap_err());
    assert!(matches!(err, MigrationError::BadFileName { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("V20260101000002_single_underscore.sql"),
        "{err}"
    );
    std::fs::remove_file(dir.path().join("V20260101000002_single_underscore.sql")).unwrap();

    dir.write("U20260101000001__other.sql", "SELECT 2;\n");
    let err = migration_error(Migrations::from_dir(dir.path()).unwrap_err());
    let msg = err.to_string();
    assert!(
        matches!(err, MigrationError::DuplicateVersion { .. }),
        "{msg}"
    );
    assert!(
        msg.contains("U20260101000001__ok.sql") && msg.contains("U20260101000001__other.sql"),
        "{msg}"
    );
    std::fs::remove_file(dir.path().join("U20260101000001__other.sql")).unwrap();

    // Files that are not .sql are left alone.
    dir.write("README.md", "notes");
    assert_eq!(Migrations::from_dir(dir.path()).unwrap().len(), 1);

    // The CLI reports the same and exits 1.
    dir.write("U2026__Bad-Name.sql", "SELECT 1;\n");
    let db = TestDb::reserve().await;
    let out = run(db.ferrom().args([
        "db",
        "migrate",
        "--migrations",
        dir.path().to_str().unwrap(),
    ]));
    assert_eq!(out.status, 1, "{}", out.all());
    assert!(out.stderr.contains("U2026__Bad-Name.sql"), "{}", out.all());
}

#[tokio::test]
async fn embedded_migrations_bring_a_database_up_to_date() {
    let db = TestDb::create().await;
    let gateway = ferrom::Gateway::connect(&db.settings).await.unwrap();
    assert_eq!(post_analytics::migrate(&gateway).await.unwrap(), 2);
    assert_eq!(post_analytics::migrate(&gateway).await.unwrap(), 0);
    // The embedded migrations and the files agree: status from the files says all applied.
    let mut conn = db.connect().await;
    let status = Migrator::new(reference()).status(&mut conn).await.unwrap();
    assert!(
        status
            .iter()
            .all(|s| matches!(s.state, MigrationState::Applied)),
        "{status:?}"
    );
    gateway.close().await;
}
