//! The gateway: pool, session setup, server detection, connection errors.

use ferrom::gateway::{Flavour, introspect, open_connection};
use ferrom::{Error, Gateway, Secret};

use crate::support::{TestDb, server_settings};

#[tokio::test]
async fn sessions_are_utf8mb4_utc_and_strict() {
    let db = TestDb::create().await;
    let gateway = Gateway::connect(&db.settings).await.expect("connect");
    let (charset, collation, tz, mode): (String, String, String, String) = sqlx::query_as(
        "SELECT @@character_set_connection, @@collation_connection, @@session.time_zone, @@session.sql_mode",
    )
    .fetch_one(gateway.pool())
    .await
    .unwrap();
    assert_eq!(charset, "utf8mb4");
    assert_eq!(collation, "utf8mb4_unicode_ci");
    assert_eq!(tz, "+00:00");
    assert!(mode.contains("STRICT_ALL_TABLES"), "{mode}");
    assert!(mode.contains("NO_ZERO_DATE"), "{mode}");

    // Strict mode: an over-long string is an error, not a truncation.
    sqlx::query("CREATE TABLE t (s VARCHAR(3))")
        .execute(gateway.pool())
        .await
        .unwrap();
    let err = sqlx::query("INSERT INTO t (s) VALUES (?)")
        .bind("abcdef")
        .execute(gateway.pool())
        .await
        .expect_err("an over-long string must be rejected");
    assert!(err.to_string().contains("too long"), "{err}");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
        .fetch_one(gateway.pool())
        .await
        .unwrap();
    assert_eq!(count, 0);
    gateway.close().await;
}

#[tokio::test]
async fn detects_flavour_version_and_capabilities() {
    let db = TestDb::create().await;
    let gateway = Gateway::connect(&db.settings).await.expect("connect");
    let server = gateway.server().clone();
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(gateway.pool())
        .await
        .unwrap();
    assert_eq!(server.version_string, version);
    assert!(server.is_supported());
    match server.flavour {
        Flavour::MariaDb => {
            assert!(version.contains("MariaDB"));
            assert!(gateway.capabilities().insert_returning);
            assert!(!gateway.capabilities().native_json);
        }
        Flavour::MySql => {
            assert!(!gateway.capabilities().insert_returning);
            assert!(gateway.capabilities().native_json);
        }
    }
    gateway.close().await;
}

#[tokio::test]
async fn nothing_listening_gives_a_clear_error() {
    let mut settings = server_settings().with_name("ferrom_nowhere");
    settings.port = 1; // nothing listens on port 1
    settings.connect_timeout = 3;
    settings.password = Secret::new("hunter2-secret");
    let err = Gateway::connect(&settings).await.expect_err("must fail");
    let msg = err.to_string();
    assert!(matches!(err, Error::Connect { .. }), "{msg}");
    assert!(msg.contains("127.0.0.1:1/ferrom_nowhere"), "{msg}");
    assert!(msg.contains("scripts/db-up"), "{msg}");
    assert!(!msg.contains("hunter2-secret"), "{msg}");
    assert!(!format!("{err:?}").contains("hunter2-secret"));
}

#[tokio::test]
async fn unknown_database_says_to_create_it() {
    let db = TestDb::reserve().await;
    let err = Gateway::connect(&db.settings).await.expect_err("must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("does not exist") && msg.contains("ferrom db create"),
        "{msg}"
    );
    assert!(msg.contains(db.name()), "{msg}");
}

#[tokio::test]
async fn wrong_password_is_not_repeated() {
    let db = TestDb::create().await;
    let mut settings = db.settings.clone();
    settings.username = "ferrom_no_such_user".into();
    settings.password = Secret::new("Sup3r-S3cret-pw");
    let err = Gateway::connect(&settings).await.expect_err("must fail");
    let shown = format!("{err} {err:?} {}", ferrom::cli::render_error(&err));
    assert!(shown.contains("Access denied"), "{shown}");
    assert!(shown.contains("db.password"), "{shown}");
    assert!(!shown.contains("Sup3r-S3cret-pw"), "{shown}");
}

#[tokio::test]
async fn introspection_reads_mariadb_json_alias_and_keys() {
    let db = TestDb::create().await;
    let (mut conn, server) = open_connection(&db.settings, true).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE parent (a INT NOT NULL, b VARCHAR(10) NOT NULL, PRIMARY KEY (a, b));
         CREATE TABLE child (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
           pa INT, pb VARCHAR(10), doc JSON, price DECIMAL(10,2) DEFAULT 1.50, at DATETIME(6),
           flag TINYINT(1) NOT NULL DEFAULT 0, label VARCHAR(20) DEFAULT 'it''s',
           UNIQUE KEY child_doc (price, label),
           CONSTRAINT child_parent FOREIGN KEY (pa, pb) REFERENCES parent (a, b) ON DELETE CASCADE)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let tables = introspect(&mut conn, &server).await.unwrap();
    let parent = &tables["parent"];
    assert_eq!(parent.primary_key(), vec!["a", "b"]);
    let child = &tables["child"];
    let doc = child.column("doc").unwrap();
    assert!(doc.json, "JSON must be recognised on {server}");
    assert_eq!(doc.kind(), "json");
    let id = child.column("id").unwrap();
    assert!(id.auto_increment && id.primary_key && id.unsigned());
    let price = child.column("price").unwrap();
    assert_eq!(
        (price.numeric_precision, price.numeric_scale),
        (Some(10), Some(2))
    );
    assert_eq!(price.default.as_deref(), Some("1.50"));
    assert_eq!(child.column("at").unwrap().datetime_precision, Some(6));
    assert_eq!(child.column("flag").unwrap().kind(), "boolean");
    assert_eq!(
        child.column("label").unwrap().default.as_deref(),
        Some("it's")
    );
    assert_eq!(child.column("label").unwrap().max_length, Some(20));
    let unique = child
        .indexes
        .iter()
        .find(|i| i.name == "child_doc")
        .unwrap();
    assert!(unique.unique);
    assert_eq!(unique.columns, vec!["price", "label"]);
    let fk = &child.foreign_keys[0];
    assert_eq!(fk.columns, vec!["pa", "pb"]);
    assert_eq!(fk.referenced_table, "parent");
    assert_eq!(fk.referenced_columns, vec!["a", "b"]);
    assert_eq!(fk.on_delete, "CASCADE");
}
