//! Schema inference from a real table holding every type ferrom knows (and
//! one it does not), declared overrides, and dynamic rows: every value
//! bound, written and read back unchanged over both of MySQL's protocols.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use ferrom::gateway::{Flavour, ServerInfo, TableInfo, introspect, open_connection};
use ferrom::row::{read, read_with_schema};
use ferrom::schema::infer_schema;
use ferrom::{Attribute, Error, Row, Schema, Type, Value};
use serde_json::json;
use sqlx::MySqlConnection;

use crate::support::TestDb;

const DDL: &str = r"
CREATE TABLE parents (
  a INT NOT NULL,
  b VARCHAR(10) NOT NULL,
  PRIMARY KEY (a, b)
);
INSERT INTO parents (a, b) VALUES (1, 'x');
CREATE TABLE everything (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  i8 TINYINT NOT NULL DEFAULT -5,
  u8 TINYINT UNSIGNED,
  i16 SMALLINT,
  u16 SMALLINT UNSIGNED,
  i24 MEDIUMINT,
  u24 MEDIUMINT UNSIGNED,
  i32 INT,
  u32 INT UNSIGNED,
  i64 BIGINT,
  u64 BIGINT UNSIGNED,
  yr YEAR,
  flag TINYINT(1) NOT NULL DEFAULT 0,
  code CHAR(3),
  name VARCHAR(20) NOT NULL DEFAULT 'running',
  body TEXT,
  amount DECIMAL(12,4),
  f FLOAT,
  d DOUBLE,
  day DATE,
  at DATETIME,
  at6 DATETIME(6),
  ts TIMESTAMP(3) NULL,
  span TIME(6),
  bin4 BINARY(4),
  vbin VARBINARY(16),
  blb BLOB,
  doc JSON,
  raw_json LONGTEXT,
  mood ENUM('happy','it''s','back\\slash','with,comma'),
  tags SET('a','b','c'),
  bits BIT(8),
  doubled BIGINT AS (i32 * 2) VIRTUAL,
  parent_a INT,
  parent_b VARCHAR(10),
  UNIQUE KEY everything_code (code),
  CONSTRAINT everything_parent FOREIGN KEY (parent_a, parent_b) REFERENCES parents (a, b)
);
";

/// The columns an insert writes (all but `id` and the generated `doubled`).
const WRITTEN: [&str; 33] = [
    "i8", "u8", "i16", "u16", "i24", "u24", "i32", "u32", "i64", "u64", "yr", "flag", "code",
    "name", "body", "amount", "f", "d", "day", "at", "at6", "ts", "span", "bin4", "vbin", "blb",
    "doc", "raw_json", "mood", "tags", "bits", "parent_a", "parent_b",
];

/// Every column, in table order.
const ALL: [&str; 35] = [
    "id", "i8", "u8", "i16", "u16", "i24", "u24", "i32", "u32", "i64", "u64", "yr", "flag", "code",
    "name", "body", "amount", "f", "d", "day", "at", "at6", "ts", "span", "bin4", "vbin", "blb",
    "doc", "raw_json", "mood", "tags", "bits", "doubled", "parent_a", "parent_b",
];

struct Fixture {
    _db: TestDb,
    conn: MySqlConnection,
    server: ServerInfo,
    tables: BTreeMap<String, TableInfo>,
}

async fn fixture() -> Fixture {
    let db = TestDb::create().await;
    let (mut conn, server) = open_connection(&db.settings, true).await.expect("connect");
    sqlx::raw_sql(DDL)
        .execute(&mut conn)
        .await
        .expect("create the tables");
    let tables = introspect(&mut conn, &server).await.expect("introspect");
    Fixture {
        _db: db,
        conn,
        server,
        tables,
    }
}

fn dt(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").expect("a datetime")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a date")
}

/// Signed microseconds of `[-]h:m:s.us`.
fn time(negative: bool, h: i64, m: i64, s: i64, us: i64) -> Value {
    let t = ((h * 60 + m) * 60 + s) * 1_000_000 + us;
    Value::Time(if negative { -t } else { t })
}

fn everything(f: &Fixture, declared: &[Attribute]) -> (Schema, Vec<String>) {
    infer_schema("everything", &f.tables["everything"], declared).expect("infer")
}

fn ty<'a>(schema: &'a Schema, name: &str) -> &'a Type {
    &schema.require(name).expect("attribute").ty
}

#[tokio::test]
async fn every_column_type_is_inferred() {
    let f = fixture().await;
    let (schema, warnings) = everything(&f, &[]);
    assert_eq!(schema.relation(), "everything");
    assert_eq!(schema.table(), "everything");
    assert_eq!(schema.attribute_names(), ALL.to_vec());

    let int = |bits, unsigned| Type::Integer { bits, unsigned };
    let expected = [
        ("id", int(64, true)),
        ("i8", int(8, false)),
        ("u8", int(8, true)),
        ("i16", int(16, false)),
        ("u16", int(16, true)),
        ("i24", int(24, false)),
        ("u24", int(24, true)),
        ("i32", int(32, false)),
        ("u32", int(32, true)),
        ("i64", int(64, false)),
        ("u64", int(64, true)),
        ("yr", int(16, true)),
        ("flag", Type::Bool),
        (
            "code",
            Type::String {
                max_length: Some(3),
            },
        ),
        (
            "name",
            Type::String {
                max_length: Some(20),
            },
        ),
        (
            "body",
            Type::String {
                max_length: Some(65_535),
            },
        ),
        (
            "amount",
            Type::Decimal {
                precision: 12,
                scale: 4,
            },
        ),
        ("f", Type::Float { double: false }),
        ("d", Type::Float { double: true }),
        ("day", Type::Date),
        (
            "at",
            Type::DateTime {
                precision: 0,
                timestamp: false,
            },
        ),
        (
            "at6",
            Type::DateTime {
                precision: 6,
                timestamp: false,
            },
        ),
        (
            "ts",
            Type::DateTime {
                precision: 3,
                timestamp: true,
            },
        ),
        ("span", Type::Time { precision: 6 }),
        (
            "bin4",
            Type::Bytes {
                max_length: Some(4),
            },
        ),
        (
            "vbin",
            Type::Bytes {
                max_length: Some(16),
            },
        ),
        (
            "blb",
            Type::Bytes {
                max_length: Some(65_535),
            },
        ),
        // MySQL's native JSON, or MariaDB's alias (LONGTEXT + json_valid).
        ("doc", Type::Json),
        (
            "raw_json",
            Type::String {
                max_length: Some(4_294_967_295),
            },
        ),
        (
            "mood",
            Type::Enum(vec![
                "happy".into(),
                "it's".into(),
                r"back\slash".into(),
                "with,comma".into(),
            ]),
        ),
        ("tags", Type::Set(vec!["a".into(), "b".into(), "c".into()])),
        (
            "bits",
            Type::Unknown {
                db_type: "bit(8)".into(),
                binary: true,
            },
        ),
        ("doubled", int(64, false)),
        ("parent_a", int(32, false)),
        (
            "parent_b",
            Type::String {
                max_length: Some(10),
            },
        ),
    ];
    for (name, expected) in &expected {
        assert_eq!(ty(&schema, name), expected, "attribute `{name}`");
        assert!(!schema.require(name).unwrap().declared, "{name}");
    }

    // Nullability and defaults.
    let attr = |name: &str| schema.require(name).unwrap();
    for name in ["id", "i8", "flag", "name"] {
        assert!(!attr(name).nullable, "{name} is NOT NULL");
    }
    for name in ["u8", "ts", "doc", "tags", "bits", "parent_b"] {
        assert!(attr(name).nullable, "{name} is nullable");
    }
    assert_eq!(attr("i8").default.as_deref(), Some("-5"));
    assert_eq!(attr("flag").default.as_deref(), Some("0"));
    assert_eq!(attr("name").default.as_deref(), Some("running"));
    assert_eq!(attr("u8").default, None);
    assert_eq!(attr("flag").db_type, "tinyint(1)");

    // Keys, auto increment, generated columns.
    assert_eq!(schema.primary_key_names(), vec!["id"]);
    assert!(attr("id").primary_key && attr("id").auto_increment);
    assert!(!attr("i8").primary_key && !attr("i8").auto_increment);
    assert!(attr("doubled").generated);
    assert!(!attr("i32").generated);
    let unique: Vec<(&str, Vec<&str>)> = schema
        .unique_indexes()
        .map(|i| {
            (
                i.name.as_str(),
                i.columns.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        unique,
        vec![("PRIMARY", vec!["id"]), ("everything_code", vec!["code"])]
    );
    let fk = &schema.foreign_keys()[0];
    assert_eq!(schema.foreign_keys().len(), 1);
    assert_eq!(fk.name, "everything_parent");
    assert_eq!(fk.columns, vec!["parent_a", "parent_b"]);
    assert_eq!(fk.referenced_table, "parents");
    assert_eq!(fk.referenced_columns, vec!["a", "b"]);

    // A composite primary key, in key order.
    let (parents, _) = infer_schema("parents", &f.tables["parents"], &[]).unwrap();
    assert_eq!(parents.primary_key_names(), vec!["a", "b"]);
    assert!(
        parents
            .attributes()
            .iter()
            .all(|a| a.primary_key && !a.nullable)
    );

    // The one unknown type: a warning naming relation, attribute and type.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    for part in ["`everything`", "`bits`", "`bit(8)`", "reads as bytes"] {
        assert!(warnings[0].contains(part), "{part} in {}", warnings[0]);
    }
}

#[tokio::test]
async fn enum_and_set_values_keep_their_case() {
    let mut f = fixture().await;
    sqlx::raw_sql("CREATE TABLE cased (mood ENUM('Happy','SAD'), tags SET('Red','green'))")
        .execute(&mut f.conn)
        .await
        .unwrap();
    let tables = introspect(&mut f.conn, &f.server).await.unwrap();
    let (schema, _) = infer_schema("cased", &tables["cased"], &[]).unwrap();
    assert_eq!(
        ty(&schema, "mood"),
        &Type::Enum(vec!["Happy".into(), "SAD".into()])
    );
    assert_eq!(
        ty(&schema, "tags"),
        &Type::Set(vec!["Red".into(), "green".into()])
    );
}

#[tokio::test]
async fn unknown_types_warn_and_read_as_text_or_bytes() {
    let mut f = fixture().await;
    if f.server.flavour != Flavour::MariaDb {
        return; // inet6 and uuid are MariaDB's
    }
    sqlx::raw_sql("CREATE TABLE odd (id INT PRIMARY KEY, ip INET6, token UUID, shape POINT)")
        .execute(&mut f.conn)
        .await
        .unwrap();
    let tables = introspect(&mut f.conn, &f.server).await.unwrap();
    let (schema, warnings) = infer_schema("odd", &tables["odd"], &[]).unwrap();
    assert_eq!(
        ty(&schema, "ip"),
        &Type::Unknown {
            db_type: "inet6".into(),
            binary: false
        }
    );
    assert_eq!(
        ty(&schema, "shape"),
        &Type::Unknown {
            db_type: "point".into(),
            binary: true
        }
    );
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`ip`") && w.contains("reads as text"))
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("`shape`") && w.contains("reads as bytes"))
    );

    read(
        &mut f.conn,
        "INSERT INTO odd VALUES (1, '::1', '123e4567-e89b-12d3-a456-426655440000', POINT(1, 2))",
        &[],
    )
    .await
    .unwrap();
    for binds in [vec![], vec![Value::Int(1)]] {
        let sql = if binds.is_empty() {
            "SELECT * FROM odd"
        } else {
            "SELECT * FROM odd WHERE id = ?"
        };
        let rows = read_with_schema(&mut f.conn, &schema, sql, &binds)
            .await
            .unwrap();
        assert_eq!(rows[0].get("ip").unwrap(), &Value::String("::1".into()));
        assert_eq!(
            rows[0].get("token").unwrap(),
            &Value::String("123e4567-e89b-12d3-a456-426655440000".into())
        );
        assert!(matches!(rows[0].get("shape").unwrap(), Value::Bytes(b) if b.len() == 25));
    }
}

#[tokio::test]
async fn declared_attributes_override_the_inferred_type() {
    let f = fixture().await;
    let (schema, _) = everything(&f, &[Attribute::new("raw_json", Type::Json)]);
    let raw_json = schema.require("raw_json").unwrap();
    assert_eq!(raw_json.ty, Type::Json);
    assert!(raw_json.declared);
    // Only the type: the rest still comes from the database.
    assert!(raw_json.nullable);
    assert_eq!(raw_json.db_type, "longtext");

    // A declared unknown type silences the warning.
    let (_, warnings) = everything(
        &f,
        &[Attribute::new(
            "bits",
            Type::Bytes {
                max_length: Some(1),
            },
        )],
    );
    assert!(warnings.is_empty(), "{warnings:?}");

    // Declaring an attribute the table does not have is an error listing
    // the columns.
    match infer_schema(
        "everything",
        &f.tables["everything"],
        &[Attribute::new("stats", Type::Json)],
    ) {
        Err(Error::UnknownAttribute {
            relation,
            attribute,
            known,
        }) => {
            assert_eq!(relation, "everything");
            assert_eq!(attribute, "stats");
            assert_eq!(known, ALL.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        }
        other => panic!("expected UnknownAttribute, got {other:?}"),
    }

    // So is a type the column cannot be read as.
    let err = infer_schema(
        "everything",
        &f.tables["everything"],
        &[Attribute::new("day", Type::Json)],
    )
    .unwrap_err();
    assert!(
        matches!(err, Error::TypeMismatch { ref attribute, .. } if attribute == "day"),
        "{err:?}"
    );
}

/// A row's expected values, by column.
type Expected = Vec<(&'static str, Value)>;

/// The rows the round-trip test writes, as (column, value) in `WRITTEN`
/// order, and the values it expects back for every column.
fn rows_to_write() -> Vec<(Vec<Value>, Expected)> {
    let bytes: Vec<u8> = (0..=255).collect();
    let doc = json!({"a": [1, 2.5, "x"], "b": null, "c": {"d": "é 🦀"}});
    let full = |values: Vec<Value>| -> (Vec<Value>, Expected) {
        let mut expected: Expected = WRITTEN
            .iter()
            .copied()
            .zip(values.iter().cloned())
            .collect();
        for (name, value) in &mut expected {
            match (*name, &*value) {
                ("tags", Value::String(s)) => {
                    let mut items: Vec<&str> = s.split(',').filter(|s| !s.is_empty()).collect();
                    items.sort_unstable();
                    *value = Value::List(items.into_iter().map(Value::from).collect());
                }
                ("raw_json", Value::String(s)) => {
                    *value = Value::Json(serde_json::from_str(s).unwrap());
                }
                ("f", Value::Float(x)) => {
                    // A FLOAT column holds an f32.
                    #[allow(clippy::cast_possible_truncation)]
                    let stored = *x as f32;
                    *value = Value::Float(f64::from(stored));
                }
                _ => {}
            }
        }
        let i32v = values[6].as_i64();
        expected.push(("doubled", i32v.map_or(Value::Null, |v| Value::Int(v * 2))));
        (values, expected)
    };
    vec![
        full(vec![
            Value::Int(-128),
            Value::Int(255),
            Value::Int(-32_768),
            Value::Int(65_535),
            Value::Int(-8_388_608),
            Value::Int(16_777_215),
            Value::Int(i64::from(i32::MIN)),
            Value::Int(i64::from(u32::MAX)),
            Value::Int(i64::MIN),
            Value::UInt(u64::MAX),
            Value::Int(2155),
            Value::Bool(true),
            Value::from("abc"),
            Value::from("it's \\ \"q\" 🦀"),
            Value::from("line1\nline2\0\t'--; DROP TABLE x"),
            Value::Decimal("12345678.1234".into()),
            Value::Float(1.5),
            Value::Float(0.1),
            Value::Date(date(2024, 2, 29)),
            Value::DateTime(dt("2024-03-09 14:24:23")),
            Value::DateTime(dt("2024-03-09 14:24:23.123456")),
            Value::DateTime(dt("2038-01-19 03:14:07.999")),
            time(true, 838, 59, 59, 0),
            Value::Bytes(vec![0, 1, 2, 255]),
            Value::Bytes(vec![]),
            Value::Bytes(bytes),
            Value::Json(doc),
            Value::from(r#"{"k": [true, "\u00e9"]}"#),
            Value::from("it's"),
            Value::from("c,a"),
            Value::Bytes(vec![5]),
            Value::Int(1),
            Value::from("x"),
        ]),
        full(vec![
            Value::Int(0),
            Value::Int(0),
            Value::Int(32_767),
            Value::Int(0),
            Value::Int(8_388_607),
            Value::Int(0),
            Value::Int(i64::from(i32::MAX)),
            Value::Int(0),
            Value::Int(i64::MAX),
            Value::UInt(1 << 63),
            Value::Int(1901),
            Value::Bool(false),
            Value::from(""),
            Value::from(""),
            Value::from(""),
            Value::Decimal("-12345678.1234".into()),
            Value::Float(0.3),
            Value::Float(-2.5e-300),
            Value::Date(date(1000, 1, 1)),
            Value::DateTime(dt("1000-01-01 00:00:00")),
            Value::DateTime(dt("9999-12-31 23:59:59.999999")),
            Value::DateTime(dt("1970-01-01 00:00:01")),
            time(true, 0, 30, 0, 1),
            Value::Bytes(vec![0, 0, 0, 0]),
            Value::Bytes(vec![0; 16]),
            Value::Bytes(vec![]),
            Value::Json(json!([])),
            Value::from("null"),
            Value::from(r"back\slash"),
            Value::from(""),
            Value::Bytes(vec![0]),
            Value::Null,
            Value::Null,
        ]),
        full(vec![
            Value::Int(127),
            Value::Int(1),
            Value::Int(-1),
            Value::Int(1),
            Value::Int(-1),
            Value::Int(1),
            Value::Int(-1),
            Value::Int(1),
            Value::Int(-1),
            Value::Int(0),
            Value::Int(2024),
            Value::Bool(true),
            Value::from("xyz"),
            Value::from("Z"),
            Value::from("x".repeat(1000)),
            Value::Decimal("-0.0001".into()),
            Value::Float(-0.001),
            Value::Float(1e300),
            Value::Date(date(9999, 12, 31)),
            Value::DateTime(dt("2024-01-01 00:00:00")),
            Value::DateTime(dt("2024-01-01 00:00:00.000001")),
            Value::DateTime(dt("2024-06-30 12:00:00.5")),
            time(false, 25, 0, 0, 500_000),
            Value::Bytes(b"\0\0ab".to_vec()),
            Value::Bytes(b"'\\\"".to_vec()),
            Value::Bytes(vec![0]),
            Value::Json(json!({"n": 1e-7, "big": 12345678901234567u64, "s": "a\"b"})),
            Value::from("{}"),
            Value::from("with,comma"),
            Value::from("b"),
            Value::Bytes(vec![255]),
            Value::Int(1),
            Value::from("x"),
        ]),
    ]
}

async fn insert_all(conn: &mut MySqlConnection) -> Vec<Expected> {
    let placeholders = vec!["?"; WRITTEN.len()].join(", ");
    let sql = format!(
        "INSERT INTO everything ({}) VALUES ({placeholders})",
        WRITTEN.join(", ")
    );
    let mut expected = Vec::new();
    for (n, (binds, mut row)) in rows_to_write().into_iter().enumerate() {
        let inserted = read(&mut *conn, &sql, &binds).await.expect("insert");
        assert!(inserted.is_empty());
        row.insert(0, ("id", Value::Int(i64::try_from(n).unwrap() + 1)));
        expected.push(row);
    }
    // A row of defaults and NULLs.
    read(
        &mut *conn,
        "INSERT INTO everything (span) VALUES (?)",
        &[Value::Null],
    )
    .await
    .expect("insert defaults");
    let defaults: Expected = ALL
        .iter()
        .map(|&name| {
            let value = match name {
                "id" => Value::Int(4),
                "i8" => Value::Int(-5),
                "flag" => Value::Bool(false),
                "name" => Value::from("running"),
                _ => Value::Null,
            };
            (name, value)
        })
        .collect();
    expected.push(defaults);
    expected
}

fn assert_rows(rows: &[Row], expected: &[Expected], protocol: &str) {
    assert_eq!(rows.len(), expected.len(), "{protocol}");
    for (row, expected) in rows.iter().zip(expected) {
        assert_eq!(row.names(), ALL.map(String::from).as_slice(), "{protocol}");
        for (name, value) in expected {
            assert_eq!(
                row.get(name).unwrap(),
                value,
                "{protocol} protocol, row {:?}, column `{name}`",
                row.get("id").unwrap()
            );
        }
    }
}

#[tokio::test]
async fn every_value_round_trips_over_both_protocols() {
    let mut f = fixture().await;
    let (schema, _) = everything(&f, &[Attribute::new("raw_json", Type::Json)]);
    let expected = insert_all(&mut f.conn).await;

    // No bound values: MySQL's text protocol.
    let text = read_with_schema(
        &mut f.conn,
        &schema,
        "SELECT * FROM everything ORDER BY id",
        &[],
    )
    .await
    .unwrap();
    // Bound values: a prepared statement, the binary protocol.
    let binary = read_with_schema(
        &mut f.conn,
        &schema,
        "SELECT * FROM everything WHERE id > ? ORDER BY id",
        &[Value::Int(0)],
    )
    .await
    .unwrap();
    assert_rows(&text, &expected, "text");
    assert_rows(&binary, &expected, "binary");
    assert_eq!(text, binary);
    assert_eq!(
        text[0].columns().ty(0),
        Some(&Type::Integer {
            bits: 64,
            unsigned: true
        })
    );
    assert_eq!(text[0].columns().relation(), "everything");

    // Without a schema, columns read by the type the server reports: the
    // same values, but `set`s as their text and MariaDB's JSON as text.
    for binds in [vec![], vec![Value::Int(0)]] {
        let sql = if binds.is_empty() {
            "SELECT * FROM everything ORDER BY id"
        } else {
            "SELECT * FROM everything WHERE id > ? ORDER BY id"
        };
        let rows = read(&mut f.conn, sql, &binds).await.unwrap();
        assert_eq!(rows.len(), expected.len());
        for (row, expected) in rows.iter().zip(&expected) {
            assert_eq!(row.columns().ty(0), None);
            for (name, value) in expected {
                let got = row.get(name).unwrap();
                match (*name, value) {
                    ("tags", Value::List(items)) => {
                        let text: Vec<String> = items
                            .iter()
                            .map(|v| v.as_str().unwrap().to_string())
                            .collect();
                        assert_eq!(got, &Value::String(text.join(",")));
                    }
                    ("doc" | "raw_json", Value::Json(j)) => match got {
                        Value::Json(g) => assert_eq!(g, j),
                        Value::String(s) => {
                            assert_eq!(&serde_json::from_str::<serde_json::Value>(s).unwrap(), j);
                        }
                        other => panic!("`{name}` read as {other:?}"),
                    },
                    _ => assert_eq!(
                        got,
                        value,
                        "raw read ({} binds), column `{name}`",
                        binds.len()
                    ),
                }
            }
        }
    }
}

#[tokio::test]
async fn bound_values_compare_exactly() {
    let mut f = fixture().await;
    let expected = insert_all(&mut f.conn).await;
    let first: BTreeMap<&str, Value> = expected[0].iter().cloned().collect();
    let second: BTreeMap<&str, Value> = expected[1].iter().cloned().collect();
    let cases = [
        ("u64", first["u64"].clone(), 1),
        ("i64", first["i64"].clone(), 1),
        ("flag", Value::Bool(true), 2),
        ("amount", Value::Decimal("-12345678.1234".into()), 1),
        ("day", first["day"].clone(), 1),
        ("at6", first["at6"].clone(), 1),
        ("ts", second["ts"].clone(), 1),
        ("span", first["span"].clone(), 1),
        ("span", second["span"].clone(), 1),
        ("bin4", first["bin4"].clone(), 1),
        ("name", first["name"].clone(), 1),
        ("mood", Value::from("with,comma"), 1),
    ];
    for (column, value, count) in cases {
        let sql = format!("SELECT COUNT(*) AS n FROM everything WHERE {column} = ?");
        let rows = read(&mut f.conn, &sql, std::slice::from_ref(&value))
            .await
            .unwrap();
        assert_eq!(
            rows[0].get("n").unwrap(),
            &Value::Int(count),
            "{column} = {value:?}"
        );
    }
    let rows = read(
        &mut f.conn,
        "SELECT COUNT(*) AS n FROM everything WHERE u8 IS NULL",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(rows[0].get("n").unwrap(), &Value::Int(1));
}

#[tokio::test]
async fn aggregates_and_expressions_read_by_their_runtime_type() {
    let mut f = fixture().await;
    insert_all(&mut f.conn).await;
    for binds in [vec![], vec![Value::Int(0)]] {
        let sql = if binds.is_empty() {
            "SELECT COUNT(*) AS n, SUM(amount) AS total, MAX(at6) AS latest, MIN(span) AS shortest, \
             AVG(d) IS NOT NULL AS has_avg, NULL AS nothing, 'text' AS word, 1.5 AS num FROM everything"
        } else {
            "SELECT COUNT(*) AS n, SUM(amount) AS total, MAX(at6) AS latest, MIN(span) AS shortest, \
             AVG(d) IS NOT NULL AS has_avg, NULL AS nothing, 'text' AS word, 1.5 AS num FROM everything WHERE id > ?"
        };
        let rows = read(&mut f.conn, sql, &binds).await.unwrap();
        let row = &rows[0];
        assert_eq!(row.get("n").unwrap(), &Value::Int(4));
        assert_eq!(row.get("total").unwrap(), &Value::Decimal("-0.0001".into()));
        assert_eq!(
            row.get("latest").unwrap(),
            &Value::DateTime(dt("9999-12-31 23:59:59.999999"))
        );
        assert_eq!(row.get("shortest").unwrap(), &time(true, 838, 59, 59, 0));
        assert_eq!(row.get("has_avg").unwrap(), &Value::Int(1));
        assert_eq!(row.get("nothing").unwrap(), &Value::Null);
        assert_eq!(row.get("word").unwrap(), &Value::from("text"));
        assert_eq!(row.get("num").unwrap(), &Value::Decimal("1.5".into()));
        assert_eq!(row.to_json()["total"], json!("-0.0001"));
    }
}

#[tokio::test]
async fn rows_report_bad_names_bad_values_and_bad_binds() {
    let mut f = fixture().await;
    let (schema, _) = everything(&f, &[Attribute::new("raw_json", Type::Json)]);
    read(
        &mut f.conn,
        "INSERT INTO everything (raw_json) VALUES (?)",
        &[Value::from("not json")],
    )
    .await
    .unwrap();

    let rows = read(&mut f.conn, "SELECT id, raw_json FROM everything", &[])
        .await
        .unwrap();
    match rows[0].get("nope") {
        Err(Error::UnknownAttribute {
            attribute, known, ..
        }) => {
            assert_eq!(attribute, "nope");
            assert_eq!(known, vec!["id".to_string(), "raw_json".to_string()]);
        }
        other => panic!("expected UnknownAttribute, got {other:?}"),
    }

    // Invalid JSON in a JSON attribute: an error naming the attribute.
    let err = read_with_schema(
        &mut f.conn,
        &schema,
        "SELECT id, raw_json AS j FROM everything",
        &[],
    )
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("`everything`") && message.contains("`j`"),
        "{message}"
    );

    // A list is never bound as one value.
    let err = read(
        &mut f.conn,
        "SELECT id FROM everything WHERE id IN (?)",
        &[Value::List(vec![Value::Int(1)])],
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("cannot be bound"), "{err}");
}

#[tokio::test]
async fn several_result_sets_keep_their_own_columns() {
    let mut f = fixture().await;
    let rows = read(&mut f.conn, "SELECT 1 AS a; SELECT 'x' AS b, 2 AS c", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].names(), ["a".to_string()]);
    assert_eq!(rows[0].get("a").unwrap(), &Value::Int(1));
    assert_eq!(rows[1].names(), ["b".to_string(), "c".to_string()]);
    assert_eq!(rows[1].get("b").unwrap(), &Value::from("x"));
    assert_eq!(rows[1].get("c").unwrap(), &Value::Int(2));
}
