//! Bad input (issue 8): every kind of bad value, name or list a caller can
//! hand the toolkit is refused with a clear error naming the culprit, and
//! leaves the database exactly as it was.
//!
//! Each test seeds the same small data set, then for every bad input
//! asserts:
//!
//! - the `ferrom::Error` variant, and that its text names the relation and
//!   the attribute (or the relation name at fault) and says what was
//!   expected;
//! - that the database is unchanged: a full snapshot of every table (every
//!   column of every row, quoted by the server, read on a raw connection of
//!   its own) before and after, not just row counts;
//! - where ferrom can refuse before the server, that no statement was sent
//!   (the gateway's statement counter did not move).
//!
//! Input that is not bad must not be refused: NUL bytes, 4-byte UTF-8 and
//! SQL fragments in values are stored and read back byte for byte.
//!
//! The last test drives the `ferrom` console binary the same way with
//! relation names, orderings and attributes typed by a person.

use std::collections::BTreeMap;
use std::future::Future;

use chrono::NaiveDateTime;
use ferrom::command::{Command, Input, Tuple};
use ferrom::relation::count_all;
use ferrom::{Container, Error, Row, Value, attr};
use serde_json::{Value as J, json};

use crate::support::{Output, TestDb, call_one, reference_db, run};

// ----- helpers -----

/// Every row of every table of the test's database, each row one line of
/// its columns as the server quotes them (`QUOTE(col)`: NULL stays `NULL`,
/// NUL bytes and quotes are escaped), read on a connection of its own so
/// the gateway's statement counter does not move.
async fn snapshot(db: &TestDb) -> BTreeMap<String, Vec<String>> {
    let mut conn = db.connect().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name FROM information_schema.tables
         WHERE table_schema = DATABASE() ORDER BY table_name",
    )
    .fetch_all(&mut conn)
    .await
    .expect("list the tables");
    let mut out = BTreeMap::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name FROM information_schema.columns
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
        )
        .bind(&table)
        .fetch_all(&mut conn)
        .await
        .expect("list the columns");
        let quoted: Vec<String> = columns.iter().map(|c| format!("QUOTE(`{c}`)")).collect();
        let sql = format!(
            "SELECT CONCAT_WS(', ', {}) FROM `{table}` ORDER BY `{}`",
            quoted.join(", "),
            columns[0]
        );
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("snapshot {table}: {e}"));
        out.insert(table, rows);
    }
    out
}

/// Statements sent through the container's gateway so far.
fn statements(container: &Container) -> u64 {
    container.gateway("default").unwrap().statements_run()
}

/// Runs `call`, which must fail; asserts the database is unchanged by it
/// (full snapshot before and after). Returns the error and how many
/// statements the call sent.
async fn refused<T: std::fmt::Debug>(
    db: &TestDb,
    container: &Container,
    call: impl Future<Output = ferrom::Result<T>>,
) -> (Error, u64) {
    let before = snapshot(db).await;
    let ran = statements(container);
    let err = match call.await {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    };
    let sent = statements(container) - ran;
    assert_eq!(
        snapshot(db).await,
        before,
        "the database changed after `{err}`"
    );
    (err, sent)
}

/// As [`refused`], and nothing was sent to the server at all.
async fn refused_before_sending<T: std::fmt::Debug>(
    db: &TestDb,
    container: &Container,
    call: impl Future<Output = ferrom::Result<T>>,
) -> Error {
    let (err, sent) = refused(db, container, call).await;
    assert_eq!(sent, 0, "`{err}` was refused after {sent} statement(s)");
    err
}

/// Asserts the error's text contains every part.
fn says(err: &Error, parts: &[&str]) {
    let text = err.to_string();
    for part in parts {
        assert!(text.contains(part), "{part:?} is not in: {text}");
    }
}

/// The posts' attributes as the errors list them.
const POSTS_ATTRIBUTES: &str = "attributes: id, url, se_post, published_at, scrapped_at, error, stats, created_at, updated_at, company_id";

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn get<'a>(row: &'a Row, name: &str) -> &'a Value {
    row.get(name).unwrap()
}

fn id(row: &Row) -> i64 {
    get(row, "id").as_i64().unwrap()
}

/// Two companies and three posts with every column set somewhere.
struct Seeded {
    acme: i64,
    posts: Vec<i64>,
}

/// A fresh database with the seeded rows, the posts create command and
/// the update command of the `n`th seeded post.
async fn fixture(n: usize) -> (TestDb, Container, Seeded, Command, Command) {
    let (db, container) = reference_db().await;
    let seeded = seed(&container).await;
    let create = container.command("posts", "create").unwrap();
    let update = container
        .relation("posts")
        .unwrap()
        .by_pk(seeded.posts[n])
        .command("update")
        .unwrap();
    (db, container, seeded, create, update)
}

async fn seed(container: &Container) -> Seeded {
    let company = |name: &str| {
        let create = container.command("companies", "create").unwrap();
        let name = name.to_string();
        async move {
            let row = create
                .call([
                    ("name", name.as_str()),
                    ("domain", format!("https://{name}.test").as_str()),
                ])
                .await
                .unwrap()
                .into_one()
                .unwrap();
            id(&row)
        }
    };
    let acme = company("acme").await;
    let beta = company("beta").await;
    let mut posts = Vec::new();
    for (i, company) in [acme, acme, beta].into_iter().enumerate() {
        let row = call_one(
            container,
            "posts",
            "create",
            Tuple::from([
                ("url", Value::from(format!("https://example.com/{i}"))),
                ("se_post", (i == 1).into()),
                ("published_at", at("2019-03-09 14:24:23").into()),
                (
                    "error",
                    if i == 2 {
                        "timeout".into()
                    } else {
                        Value::Null
                    },
                ),
                ("stats", json!({"views": i * 10}).into()),
                ("company_id", company.into()),
            ]),
        )
        .await;
        posts.push(id(&row));
    }
    Seeded { acme, posts }
}

/// A create of one post with `extra` attributes beside a fresh url.
fn post(url: &str, extra: &[(&str, Value)]) -> Tuple {
    let mut tuple = Tuple::new().with("url", url);
    for (name, value) in extra {
        tuple.set(name, value.clone());
    }
    tuple
}

/// Creates a post through the reference `create` command and reads it back
/// by key; asserts the two agree.
async fn create_and_read(container: &Container, tuple: Tuple) -> Row {
    let created = call_one(container, "posts", "create", tuple).await;
    let read = container
        .relation("posts")
        .unwrap()
        .fetch_pk(id(&created))
        .await
        .unwrap();
    assert_eq!(read, created, "the created row and the row read back");
    read
}

// ----- commands -----

#[tokio::test]
async fn unknown_attributes_are_refused_naming_relation_and_attribute() {
    let (db, container) = reference_db().await;
    let seeded = seed(&container).await;
    let create = container.command("posts", "create").unwrap();
    let posts = container.relation("posts").unwrap();
    let update = posts.by_pk(seeded.posts[0]).command("update").unwrap();

    for name in [
        "titel",
        "URL",
        "url ",
        "posts.url",
        "url = 'x', error",
        "url'); DROP TABLE posts; --",
        "`url`",
        "",
    ] {
        for err in [
            refused_before_sending(
                &db,
                &container,
                create.call(post("https://example.com/new", &[(name, "x".into())])),
            )
            .await,
            refused_before_sending(&db, &container, update.call([(name, "x")])).await,
        ] {
            let Error::UnknownAttribute {
                relation,
                attribute,
                known,
            } = &err
            else {
                panic!("{name:?}: {err}")
            };
            assert_eq!((relation.as_str(), attribute.as_str()), ("posts", name));
            assert_eq!(known.len(), 10, "{known:?}");
            says(
                &err,
                &[
                    "relation `posts`",
                    &format!("no attribute `{name}`"),
                    POSTS_ATTRIBUTES,
                ],
            );
        }
    }
    // An unknown attribute among good ones is refused as a whole.
    let err = refused_before_sending(
        &db,
        &container,
        container.command("companies", "create").unwrap().call([
            ("name", "Gamma"),
            ("domain", "https://gamma.test"),
            ("owner", "x"),
        ]),
    )
    .await;
    assert!(
        matches!(&err, Error::UnknownAttribute { relation, attribute, .. } if relation == "companies" && attribute == "owner"),
        "{err}"
    );
    says(
        &err,
        &["attributes: id, name, domain, state, created_at, updated_at"],
    );
}

#[tokio::test]
async fn wrong_types_are_refused_naming_attribute_expected_and_given() {
    let (db, container, _, create, update) = fixture(1).await;

    // (attribute, value, expected in the message, given in the message)
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        // String into integer: no parsing of digits.
        ("company_id", "12".into(), "integer(32)", "string \"12\""),
        ("company_id", Value::Float(1.5), "integer(32)", "float"),
        (
            "company_id",
            Value::Int(1 << 40),
            "from -2147483648 to 2147483647",
            "1099511627776",
        ),
        ("company_id", json!({"id": 1}).into(), "integer(32)", "json"),
        // Into the boolean.
        ("se_post", "yes".into(), "boolean", "string \"yes\""),
        ("se_post", "true".into(), "boolean", "string \"true\""),
        (
            "se_post",
            Value::Int(2),
            "boolean (true, false, 0 or 1)",
            "2",
        ),
        // Into the datetimes.
        (
            "published_at",
            "yesterday".into(),
            "ISO 8601",
            "\"yesterday\"",
        ),
        (
            "published_at",
            Value::Int(1_552_141_463),
            "ISO 8601",
            "1552141463",
        ),
        ("scrapped_at", Value::Bool(true), "ISO 8601", "true"),
        ("scrapped_at", "14:24:23".into(), "ISO 8601", "\"14:24:23\""),
        // Into the strings.
        ("url", Value::Int(5), "string(255)", "integer 5"),
        ("error", Value::Bool(false), "string(255)", "false"),
        (
            "error",
            Value::List(vec!["a".into(), "b".into()]),
            "string(255)",
            "list",
        ),
        // Into the key.
        ("id", "1 OR 1=1".into(), "integer(32)", "\"1 OR 1=1\""),
    ];
    for (name, value, expected_text, got_text) in cases {
        let on_create = refused_before_sending(
            &db,
            &container,
            create.call(post("https://example.com/new", &[(name, value.clone())])),
        )
        .await;
        let on_update = refused_before_sending(
            &db,
            &container,
            update.call(Tuple::new().with(name, value.clone())),
        )
        .await;
        for err in [on_create, on_update] {
            let Error::TypeMismatch {
                relation,
                attribute,
                expected,
                got,
            } = &err
            else {
                panic!("{name} = {value:?}: {err}")
            };
            assert_eq!((relation.as_str(), attribute.as_str()), ("posts", name));
            assert!(expected.contains(expected_text), "{err}");
            assert!(got.contains(got_text), "{err}");
            says(
                &err,
                &[
                    &format!("relation `posts`, attribute `{name}`"),
                    "expected ",
                    ", got ",
                ],
            );
        }
    }
}

#[tokio::test]
async fn null_into_not_null_is_refused_naming_the_attribute() {
    let (db, container, seeded, create, update) = fixture(0).await;

    // An explicit NULL into each NOT NULL attribute; `se_post` has a
    // default, which does not make an explicit NULL acceptable, and the
    // timestamps plugin does not overwrite a NULL given for `scrapped_at`.
    for name in ["url", "se_post", "scrapped_at"] {
        let mut tuple = post("https://example.com/null", &[]);
        tuple.set(name, Value::Null);
        for err in [
            refused_before_sending(&db, &container, create.call(tuple)).await,
            refused_before_sending(&db, &container, update.call([(name, Value::Null)])).await,
        ] {
            assert!(
                matches!(&err, Error::NotNull { relation, attribute, .. } if relation == "posts" && attribute == name),
                "{name}: {err}"
            );
            says(
                &err,
                &[&format!(
                    "relation `posts`: attribute `{name}` cannot be NULL"
                )],
            );
        }
    }
    // A NOT NULL attribute without a default, not given at all.
    let err =
        refused_before_sending(&db, &container, create.call([("company_id", seeded.acme)])).await;
    assert!(
        matches!(&err, Error::NotNull { attribute, .. } if attribute == "url"),
        "{err}"
    );
    let source = std::error::Error::source(&err).map(ToString::to_string);
    assert!(
        source
            .as_deref()
            .is_some_and(|s| s.contains("NOT NULL, has no default and was not given")),
        "{source:?}"
    );
    // The companies' NOT NULL strings, and an explicit NULL key on an
    // update (a key cannot be set to NULL; on insert NULL means "generate").
    let err = refused_before_sending(
        &db,
        &container,
        container
            .command("companies", "create")
            .unwrap()
            .call(Tuple::from([
                ("name", "Gamma".into()),
                ("domain", Value::Null),
            ])),
    )
    .await;
    assert!(
        matches!(&err, Error::NotNull { relation, attribute, .. } if relation == "companies" && attribute == "domain"),
        "{err}"
    );
    let err = refused_before_sending(&db, &container, update.call([("id", Value::Null)])).await;
    assert!(
        matches!(&err, Error::NotNull { attribute, .. } if attribute == "id"),
        "{err}"
    );
}

#[tokio::test]
async fn strings_longer_than_the_column_are_refused_counting_characters() {
    let (db, container, _, create, update) = fixture(2).await;

    // 256 characters of 1, 2, 3 and 4 bytes: all over varchar(255).
    for c in ['x', 'é', '中', '😀'] {
        let long: String = std::iter::repeat_n(c, 256).collect();
        for name in ["url", "error"] {
            let mut tuple = post("https://example.com/long", &[]);
            tuple.set(name, long.as_str());
            for err in [
                refused_before_sending(&db, &container, create.call(tuple.clone())).await,
                refused_before_sending(&db, &container, update.call([(name, long.as_str())])).await,
            ] {
                assert!(
                    matches!(&err, Error::DataTooLong { relation, attribute, .. } if relation == "posts" && attribute == name),
                    "{c} into {name}: {err}"
                );
                says(
                    &err,
                    &[
                        &format!("relation `posts`, attribute `{name}`"),
                        "string(255)",
                        "at most 255 characters, got 256",
                    ],
                );
            }
        }
    }
    // 255 of them fit, whatever their width in bytes (up to 1,020 bytes
    // for 4-byte characters), and read back as given.
    for (i, c) in ['x', 'é', '中', '😀'].into_iter().enumerate() {
        let full: String = std::iter::repeat_n(c, 255).collect();
        let url = format!("{i}{}", &full[c.len_utf8()..]);
        let row = create_and_read(&container, post(&url, &[("error", full.as_str().into())])).await;
        assert_eq!(get(&row, "url"), &Value::from(url.as_str()));
        assert_eq!(get(&row, "error"), &Value::from(full.as_str()));
    }
    // A company's name too.
    let err = refused_before_sending(
        &db,
        &container,
        container.command("companies", "create").unwrap().call([
            ("name", "é".repeat(300).as_str()),
            ("domain", "https://long.test"),
        ]),
    )
    .await;
    assert!(
        matches!(&err, Error::DataTooLong { relation, attribute, .. } if relation == "companies" && attribute == "name"),
        "{err}"
    );
    says(&err, &["at most 255 characters, got 300"]);
}

#[tokio::test]
async fn invalid_json_for_stats_is_refused_and_valid_json_is_stored() {
    let (db, container, seeded, create, update) = fixture(0).await;

    for text in [
        "{not json",
        "",
        "{'views': 1}",
        "[1, 2",
        "{\"views\": 1} trailing",
        "NaN",
        "undefined",
    ] {
        for err in [
            refused_before_sending(
                &db,
                &container,
                create.call(post("https://example.com/json", &[("stats", text.into())])),
            )
            .await,
            refused_before_sending(&db, &container, update.call([("stats", text)])).await,
        ] {
            assert!(
                matches!(&err, Error::TypeMismatch { relation, attribute, .. } if relation == "posts" && attribute == "stats"),
                "{text:?}: {err}"
            );
            says(
                &err,
                &[
                    "relation `posts`, attribute `stats`",
                    "expected json",
                    &format!("{text:?}"),
                    "not valid JSON",
                ],
            );
        }
    }
    // Bytes and non-finite numbers are not JSON either.
    for value in [Value::Bytes(b"{}".to_vec()), Value::Float(f64::NAN)] {
        let err =
            refused_before_sending(&db, &container, update.call([("stats", value.clone())])).await;
        assert!(
            matches!(&err, Error::TypeMismatch { attribute, .. } if attribute == "stats"),
            "{value:?}: {err}"
        );
    }

    // Valid JSON text is parsed and stored as the document, and documents,
    // lists and scalars are stored as given.
    let row = create_and_read(
        &container,
        post(
            "https://example.com/json-text",
            &[("stats", r#"{"views": 3, "tags": ["a", "😀"]}"#.into())],
        ),
    )
    .await;
    assert_eq!(
        get(&row, "stats"),
        &Value::Json(json!({"views": 3, "tags": ["a", "😀"]}))
    );
    for document in [
        json!({"nested": {"deep": [1, 2.5, null, true]}, "quote": "it's \"x\"\\"}),
        json!([1, "two"]),
        json!("just text"),
        json!(42),
    ] {
        let updated = update
            .call([("stats", document.clone())])
            .await
            .unwrap()
            .into_rows();
        assert_eq!(get(&updated[0], "stats"), &Value::Json(document.clone()));
        let read = container
            .relation("posts")
            .unwrap()
            .fetch_pk(seeded.posts[0])
            .await
            .unwrap();
        assert_eq!(get(&read, "stats"), &Value::Json(document));
    }
}

#[tokio::test]
async fn impossible_dates_are_refused_naming_the_attribute() {
    let (db, container, _, create, update) = fixture(1).await;

    for text in [
        "2024-02-30",
        "2023-02-29 10:00:00",
        "2024-04-31 10:00:00",
        "2023-13-01",
        "2023-00-10 10:00:00",
        "2023-01-00",
        "0000-00-00 00:00:00",
        "0000-00-00",
        "2024-02-29 24:00:00",
        "2024-02-29 23:60:00",
        "2024-02-29 23:59:61",
        "2024-02-29T10:00:00+25:00",
    ] {
        for name in ["published_at", "scrapped_at"] {
            for err in [
                refused_before_sending(
                    &db,
                    &container,
                    create.call(post("https://example.com/date", &[(name, text.into())])),
                )
                .await,
                refused_before_sending(&db, &container, update.call([(name, text)])).await,
            ] {
                assert!(
                    matches!(&err, Error::TypeMismatch { relation, attribute, .. } if relation == "posts" && attribute == name),
                    "{text} into {name}: {err}"
                );
                says(
                    &err,
                    &[
                        &format!("relation `posts`, attribute `{name}`"),
                        "expected datetime",
                        "ISO 8601",
                        &format!("{text:?}"),
                    ],
                );
            }
        }
    }

    // The real leap day, and an offset that lands on it, are fine.
    let updated = update
        .call([("published_at", "2024-03-01T01:30:00+02:00")])
        .await
        .unwrap()
        .into_rows();
    assert_eq!(
        get(&updated[0], "published_at"),
        &Value::DateTime(at("2024-02-29 23:30:00"))
    );
}

/// Valid calendar dates the DATETIME column cannot hold (it holds years
/// 0000 to 9999): refused before sending, like the impossible ones, naming
/// the attribute and the value given.
#[tokio::test]
async fn datetimes_outside_the_columns_range_are_refused_before_sending() {
    let (db, container, _, create, update) = fixture(1).await;
    let datetime = |year: i32| {
        Value::DateTime(
            chrono::NaiveDate::from_ymd_opt(year, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
        )
    };
    let cases: [(Value, &str); 4] = [
        // An offset that carries the last second of 9999 into year 10000.
        (
            "9999-12-31 23:59:59 -01:00".into(),
            "\"9999-12-31 23:59:59 -01:00\"",
        ),
        (datetime(10_000), "10000-01-01"),
        (datetime(65_536 + 2019), "67555-01-01"),
        (datetime(-1), "-0001-01-01"),
    ];
    for (value, shown) in cases {
        for name in ["published_at", "scrapped_at"] {
            for err in [
                refused_before_sending(
                    &db,
                    &container,
                    create.call(post("https://example.com/far", &[(name, value.clone())])),
                )
                .await,
                refused_before_sending(&db, &container, update.call([(name, value.clone())])).await,
            ] {
                assert!(
                    matches!(&err, Error::TypeMismatch { relation, attribute, .. } if relation == "posts" && attribute == name),
                    "{value:?} into {name}: {err}"
                );
                says(
                    &err,
                    &[
                        &format!("relation `posts`, attribute `{name}`"),
                        "expected datetime",
                        shown,
                    ],
                );
            }
        }
    }
    // The column's first and last second are fine.
    for (text, stored) in [
        ("0000-01-01 00:00:00", "0000-01-01 00:00:00"),
        ("9999-12-31T23:59:59Z", "9999-12-31 23:59:59"),
    ] {
        let updated = update
            .call([("published_at", text)])
            .await
            .unwrap()
            .into_rows();
        assert_eq!(
            get(&updated[0], "published_at"),
            &Value::DateTime(at(stored))
        );
    }
}

#[tokio::test]
async fn nul_bytes_in_strings_round_trip_exactly() {
    let (_db, container) = reference_db().await;
    let seeded = seed(&container).await;
    // MariaDB stores NUL in VARCHAR and JSON faithfully when the value is
    // bound: that is correct, so it is not an error.
    let url = "https://example.com/\0nul\0";
    let error = "\0";
    let stats = json!({"k\u{0}ey": "v\u{0}al"});
    let row = create_and_read(
        &container,
        post(
            url,
            &[("error", error.into()), ("stats", stats.clone().into())],
        ),
    )
    .await;
    assert_eq!(get(&row, "url"), &Value::from(url));
    assert_eq!(get(&row, "error"), &Value::from(error));
    assert_eq!(get(&row, "stats"), &Value::Json(stats));
    // Equality finds it, and only it: the NUL is not a terminator.
    let posts = container.relation("posts").unwrap();
    let found = posts.filter(("url", url)).to_vec().await.unwrap();
    assert_eq!(found, std::slice::from_ref(&row));
    assert_eq!(
        posts
            .filter(("url", "https://example.com/"))
            .count()
            .await
            .unwrap(),
        0
    );
    // An update with a NUL in the middle.
    let updated = posts
        .by_pk(seeded.posts[0])
        .command("update")
        .unwrap()
        .call([("error", "time\0out")])
        .await
        .unwrap()
        .into_rows();
    assert_eq!(get(&updated[0], "error"), &Value::from("time\0out"));
    let read = posts.fetch_pk(seeded.posts[0]).await.unwrap();
    assert_eq!(get(&read, "error"), &Value::from("time\0out"));
    // Equality finds it. (The utf8mb4_unicode_ci collation gives NUL no
    // weight, so `timeout` compares equal too: a property of the
    // collation, not of what is stored.)
    assert!(
        posts
            .filter(("error", "time\0out"))
            .pluck("id")
            .await
            .unwrap()
            .contains(&Value::Int(seeded.posts[0]))
    );
}

#[tokio::test]
async fn four_byte_utf8_round_trips_exactly() {
    let (_db, container) = reference_db().await;
    let seeded = seed(&container).await;
    let text = "😀𝄞 🦀 中文 e\u{301} \u{200d}";
    let url = format!("https://example.com/{text}");
    let row = create_and_read(
        &container,
        post(
            &url,
            &[
                ("error", text.into()),
                ("stats", json!({"😀": ["𝄞", text]}).into()),
            ],
        ),
    )
    .await;
    assert_eq!(get(&row, "url"), &Value::from(url.as_str()));
    assert_eq!(get(&row, "error"), &Value::from(text));
    assert_eq!(get(&row, "stats"), &Value::Json(json!({"😀": ["𝄞", text]})));
    let company = call_one(
        &container,
        "companies",
        "create",
        [("name", "😀𝄞"), ("domain", "https://😀.test")],
    )
    .await;
    let read = container
        .relation("companies")
        .unwrap()
        .fetch_pk(id(&company))
        .await
        .unwrap();
    assert_eq!(get(&read, "name"), &Value::from("😀𝄞"));
    assert_eq!(get(&read, "domain"), &Value::from("https://😀.test"));
    // Found by equality.
    let posts = container.relation("posts").unwrap();
    assert_eq!(
        posts.filter(("error", text)).pluck("id").await.unwrap(),
        [get(&row, "id").clone()]
    );
    // An update to a lone 4-byte character, read back by key. (Equality
    // on such strings follows the collation: utf8mb4_unicode_ci gives every
    // character beyond the BMP the same weight, so `🦀` = `😀` there.)
    let updated = posts
        .by_pk(seeded.posts[1])
        .command("update")
        .unwrap()
        .call([("error", "🦀")])
        .await
        .unwrap()
        .into_rows();
    assert_eq!(get(&updated[0], "error"), &Value::from("🦀"));
    let read = posts.fetch_pk(seeded.posts[1]).await.unwrap();
    assert_eq!(read, updated[0]);
}

#[tokio::test]
async fn a_multi_row_create_with_only_the_last_row_bad_writes_nothing() {
    let (db, container) = reference_db().await;
    let seeded = seed(&container).await;
    let create = container.command("posts", "create").unwrap();
    let good = |n: usize| post(&format!("https://example.com/batch/{n}"), &[]);
    let batch = |last: Tuple| Input::many([good(1), good(2), good(3), last]);

    // Refused before sending: the last row's unknown attribute, wrong
    // type, NULL, length or JSON.
    let cases: Vec<(Tuple, &str)> = vec![
        (
            post("https://example.com/batch/4", &[("titel", "x".into())]),
            "unknown attribute",
        ),
        (
            post("https://example.com/batch/4", &[("company_id", "1".into())]),
            "type",
        ),
        (Tuple::new().with("url", Value::Null), "not null"),
        (Tuple::new().with("url", "é".repeat(256)), "too long"),
        (
            post(
                "https://example.com/batch/4",
                &[("stats", "{not json".into())],
            ),
            "json",
        ),
        (
            post(
                "https://example.com/batch/4",
                &[("published_at", "2024-02-30".into())],
            ),
            "date",
        ),
    ];
    for (last, what) in cases {
        let err = refused_before_sending(&db, &container, create.call(batch(last))).await;
        let ok = match what {
            "unknown attribute" => {
                matches!(&err, Error::UnknownAttribute { attribute, .. } if attribute == "titel")
            }
            "type" => {
                matches!(&err, Error::TypeMismatch { attribute, .. } if attribute == "company_id")
            }
            "not null" => matches!(&err, Error::NotNull { attribute, .. } if attribute == "url"),
            "too long" => {
                matches!(&err, Error::DataTooLong { attribute, .. } if attribute == "url")
            }
            "json" => matches!(&err, Error::TypeMismatch { attribute, .. } if attribute == "stats"),
            _ => {
                matches!(&err, Error::TypeMismatch { attribute, .. } if attribute == "published_at")
            }
        };
        assert!(ok, "{what}: {err}");
    }

    // Refused by the server: the last row repeats the first row's url, or
    // names a company that does not exist. The rows before it are not
    // kept.
    let (err, sent) = refused(
        &db,
        &container,
        create.call(batch(post("https://example.com/batch/1", &[]))),
    )
    .await;
    assert!(sent >= 1);
    assert!(
        matches!(&err, Error::Unique { relation, key, value, .. }
            if relation == "posts" && key == "posts_url_index" && value.contains("https://example.com/batch/1")),
        "{err}"
    );
    let (err, _) = refused(
        &db,
        &container,
        create.call(batch(post(
            "https://example.com/batch/4",
            &[("company_id", 999.into())],
        ))),
    )
    .await;
    assert!(
        matches!(&err, Error::ForeignKey { relation, constraint, .. } if relation == "posts" && constraint == "posts_company_id_fkey"),
        "{err}"
    );
    // The same batch with a good last row goes in whole.
    create.call(batch(good(4))).await.unwrap();
    assert_eq!(
        container.relation("posts").unwrap().count().await.unwrap(),
        seeded.posts.len() as u64 + 4
    );
}

// ----- SQL fragments -----

/// Values that would break a statement built by pasting text.
const FRAGMENTS: [&str; 9] = [
    "x'); DROP TABLE posts; --",
    "\\' OR 1=1 --",
    "' OR '1'='1",
    "\" OR \"\"=\"",
    "\\",
    "\\\\'",
    "`; DELETE FROM companies; --",
    "%_*?[]{}$1",
    "'; SELECT SLEEP(5); #",
];

#[tokio::test]
async fn sql_fragments_in_values_are_stored_and_read_back_verbatim() {
    let (db, container) = reference_db().await;
    let seeded = seed(&container).await;
    let posts = container.relation("posts").unwrap();
    let before = snapshot(&db).await;
    let mut made = Vec::new();
    for (i, fragment) in FRAGMENTS.iter().enumerate() {
        let url = format!("{fragment}{i}");
        let row = create_and_read(
            &container,
            post(
                &url,
                &[
                    ("error", (*fragment).into()),
                    ("stats", json!({ *fragment: fragment }).into()),
                    ("company_id", seeded.acme.into()),
                ],
            ),
        )
        .await;
        assert_eq!(get(&row, "url"), &Value::from(url.as_str()));
        assert_eq!(get(&row, "error"), &Value::from(*fragment));
        assert_eq!(
            get(&row, "stats"),
            &Value::Json(json!({ *fragment: fragment }))
        );
        // Equality on the fragment finds exactly this row.
        assert_eq!(
            posts.filter(("url", url.as_str())).to_vec().await.unwrap(),
            std::slice::from_ref(&row)
        );
        let company = call_one(
            &container,
            "companies",
            "create",
            [("name", *fragment), ("domain", *fragment)],
        )
        .await;
        assert_eq!(get(&company, "name"), &Value::from(*fragment));
        made.push(id(&row));
    }
    // Updates too, and conditions of every kind with fragment values.
    for (fragment, id) in FRAGMENTS.iter().zip(&made) {
        let updated = posts
            .by_pk(*id)
            .command("update")
            .unwrap()
            .call([("error", format!("{fragment}!"))])
            .await
            .unwrap()
            .into_rows();
        assert_eq!(
            get(&updated[0], "error"),
            &Value::from(format!("{fragment}!"))
        );
        assert_eq!(
            posts
                .filter(attr("error").eq(format!("{fragment}!")))
                .pluck("id")
                .await
                .unwrap(),
            [Value::Int(*id)]
        );
        assert_eq!(
            posts
                .filter(attr("error").in_list([format!("{fragment}!"), (*fragment).to_string()]))
                .count()
                .await
                .unwrap(),
            1
        );
    }
    assert_eq!(
        posts
            .filter(attr("url").like("x'); DROP TABLE posts; --%"))
            .count()
            .await
            .unwrap(),
        1
    );
    // The tables and every row that was there before are still there.
    let after = snapshot(&db).await;
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for (table, rows) in &before {
        let now = &after[table];
        if table == "posts" || table == "companies" {
            assert!(
                rows.iter().all(|r| now.contains(r)),
                "{table}: rows before {rows:?}, now {now:?}"
            );
        } else {
            assert_eq!(now, rows, "{table}");
        }
    }
    assert_eq!(
        posts.count().await.unwrap(),
        (seeded.posts.len() + FRAGMENTS.len()) as u64
    );
    assert_eq!(
        container
            .relation("companies")
            .unwrap()
            .count()
            .await
            .unwrap(),
        2 + FRAGMENTS.len() as u64
    );
}

#[tokio::test]
async fn sql_fragments_as_attribute_or_relation_names_are_refused_and_nothing_runs() {
    let (db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();

    for name in [
        "id; DROP TABLE posts",
        "id desc",
        "id DESC, (SELECT SLEEP(5))",
        "1",
        "*",
        "url FROM posts; DROP TABLE posts; --",
        "id` ; DROP TABLE posts; --",
        "id)); DROP TABLE posts; --",
        "IF(1=1, id, url)",
    ] {
        let unknown = |err: &Error| {
            assert!(
                matches!(err, Error::UnknownAttribute { relation, attribute, .. } if relation == "posts" && attribute == name),
                "{name:?}: {err}"
            );
            says(
                err,
                &[
                    "relation `posts`",
                    &format!("no attribute `{name}`"),
                    POSTS_ATTRIBUTES,
                ],
            );
        };
        let order = posts.order([name]);
        unknown(&refused_before_sending(&db, &container, order.to_vec()).await);
        unknown(&order.to_sql().unwrap_err());
        unknown(
            &refused_before_sending(&db, &container, posts.order([attr(name).desc()]).first())
                .await,
        );
        unknown(&refused_before_sending(&db, &container, posts.select([name]).to_vec()).await);
        unknown(
            &refused_before_sending(&db, &container, posts.select_append([name]).to_vec()).await,
        );
        unknown(&refused_before_sending(&db, &container, posts.filter((name, 1)).count()).await);
        unknown(
            &refused_before_sending(
                &db,
                &container,
                posts.exclude(attr(name).is_null()).exists(),
            )
            .await,
        );
        unknown(
            &refused_before_sending(&db, &container, posts.filter(attr(name).like("%")).to_vec())
                .await,
        );
        unknown(&refused_before_sending(&db, &container, posts.pluck(name)).await);
        unknown(&refused_before_sending(&db, &container, posts.pluck_many(["id", name])).await);
        unknown(&refused_before_sending(&db, &container, posts.group([name]).to_vec()).await);
        unknown(&refused_before_sending(&db, &container, posts.max(name)).await);
        // A write restricted by such a condition is refused as well.
        let restricted = posts.filter((name, 1));
        let update = restricted.command("update").unwrap();
        unknown(&refused_before_sending(&db, &container, update.call([("error", "x")])).await);
        let delete = restricted.command("delete").unwrap();
        unknown(&refused_before_sending(&db, &container, delete.call(())).await);
    }

    // Qualified with the relation's own name, the rest is the attribute.
    let err = refused_before_sending(
        &db,
        &container,
        posts.order(["posts.id; DROP TABLE posts"]).to_vec(),
    )
    .await;
    assert!(
        matches!(&err, Error::UnknownAttribute { attribute, .. } if attribute == "id; DROP TABLE posts"),
        "{err}"
    );
    // Qualified with anything else, it names a join that is not there.
    let name = "x'); DROP TABLE posts; --.id";
    let err = refused_before_sending(&db, &container, posts.order([name]).to_vec()).await;
    assert!(
        matches!(&err, Error::InvalidQuery { relation, .. } if relation == "posts"),
        "{err}"
    );
    says(&err, &[&format!("`{name}`"), "which is not joined"]);
    // An alias must be a plain identifier.
    let err = refused_before_sending(
        &db,
        &container,
        posts
            .select_aggregate(count_all(), "n FROM posts; DROP TABLE posts; --")
            .to_vec(),
    )
    .await;
    assert!(matches!(&err, Error::InvalidQuery { .. }), "{err}");
    says(
        &err,
        &[
            "`n FROM posts; DROP TABLE posts; --`",
            "letters, digits and underscores",
        ],
    );

    // Relation, association, view and command names.
    let bad = "posts; DROP TABLE posts";
    let err = container.relation(bad).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownRelation { name, .. } if name == bad),
        "{err}"
    );
    says(
        &err,
        &[
            &format!("unknown relation `{bad}`"),
            "relations: companies, posts",
        ],
    );
    let err = container.command(bad, "create").unwrap_err();
    assert!(
        matches!(&err, Error::UnknownRelation { name, .. } if name == bad),
        "{err}"
    );
    let err = container
        .command("posts", "create; DROP TABLE posts")
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownCommand { relation, command, .. } if relation == "posts" && command == "create; DROP TABLE posts"),
        "{err}"
    );
    says(&err, &["commands: create, delete, update"]);
    let err = posts.view("by_url; DROP TABLE posts", &[]).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownView { relation, view, .. } if relation == "posts" && view == "by_url; DROP TABLE posts"),
        "{err}"
    );
    says(&err, &["views: by_url"]);
    for relation in [
        posts.combine("company; DROP TABLE posts"),
        posts.join("company; DROP TABLE posts"),
        posts.left_join("company; DROP TABLE posts"),
    ] {
        let err = refused_before_sending(&db, &container, relation.to_vec()).await;
        assert!(
            matches!(&err, Error::UnknownAssociation { relation, association, .. }
                if relation == "posts" && association == "company; DROP TABLE posts"),
            "{err}"
        );
        says(&err, &["associations: company"]);
    }
}

#[tokio::test]
async fn a_100000_element_in_list_is_too_many_parameters_and_nothing_is_sent() {
    let (db, container) = reference_db().await;
    let seeded = seed(&container).await;
    let posts = container.relation("posts").unwrap();
    let ids: Vec<i64> = (1..=100_000).collect();

    let too_many = |err: &Error, count: usize| {
        assert!(
            matches!(err, Error::TooManyParameters { relation, count: c } if relation == "posts" && *c == count),
            "{err}"
        );
        says(
            err,
            &[
                "relation `posts`",
                &format!("needs {count} parameters"),
                "limit of 65,535",
                "split the IN list",
            ],
        );
    };
    let huge = posts.filter(attr("id").in_list(ids.clone()));
    too_many(
        &refused_before_sending(&db, &container, huge.to_vec()).await,
        100_000,
    );
    too_many(
        &refused_before_sending(&db, &container, huge.count()).await,
        100_000,
    );
    too_many(
        &refused_before_sending(&db, &container, huge.exists()).await,
        100_000,
    );
    too_many(
        &refused_before_sending(&db, &container, huge.pluck("url")).await,
        100_000,
    );
    too_many(&huge.to_sql().unwrap_err(), 100_000);
    // As a `(name, list)` pair, negated, and with one more bound value.
    let pair = posts.filter(("id", Value::from(ids.clone())));
    too_many(
        &refused_before_sending(&db, &container, pair.to_vec()).await,
        100_000,
    );
    let not_in = posts.filter(attr("id").not_in(ids.clone()));
    too_many(
        &refused_before_sending(&db, &container, not_in.count()).await,
        100_000,
    );
    let more = huge.filter(("url", "https://example.com/0"));
    too_many(
        &refused_before_sending(&db, &container, more.to_vec()).await,
        100_001,
    );

    // A write restricted by it changes nothing and sends nothing (not even
    // the BEGIN of the update's transaction).
    let err = refused_before_sending(
        &db,
        &container,
        huge.command("update").unwrap().call([("error", "x")]),
    )
    .await;
    too_many(&err, 100_000);
    let err =
        refused_before_sending(&db, &container, huge.command("delete").unwrap().call(())).await;
    too_many(&err, 100_000);

    // Within the limit the same list works and finds the seeded posts.
    let within: Vec<i64> = (1..=60_000).collect();
    assert_eq!(
        posts
            .filter(attr("id").in_list(within))
            .count()
            .await
            .unwrap(),
        seeded.posts.len() as u64
    );
}

// ----- the console -----

/// Runs the console on the test's database with these expressions.
fn console(db: &TestDb, args: &[&str], exprs: &[&str]) -> Output {
    let mut cmd = db.ferrom();
    cmd.arg("console").args(args).env("FERROM_HISTORY", "");
    for e in exprs {
        cmd.arg("-e").arg(e);
    }
    run(&mut cmd)
}

#[tokio::test]
async fn the_console_reports_bad_names_on_one_line_and_changes_nothing() {
    let (db, container) = reference_db().await;
    seed(&container).await;
    let before = snapshot(&db).await;

    // (expression, error kind, parts of the message)
    let cases: [(&str, &str, &[&str]); 12] = [
        (
            "rom.relations[:\"posts; DROP TABLE posts\"].count",
            "unknown_relation",
            &[
                "unknown relation `posts; DROP TABLE posts`",
                "known: companies, posts",
            ],
        ),
        (
            "MAIN_CONTAINER.relations['posts`; DROP TABLE posts; --'].to_a",
            "unknown_relation",
            &["unknown relation `posts`; DROP TABLE posts; --`"],
        ),
        (
            "rom.relations[:posts; DROP TABLE posts]",
            "syntax",
            &["syntax error", "found `;`"],
        ),
        (
            "posts; DROP TABLE posts",
            "syntax",
            &["syntax error", "`TABLE`"],
        ),
        (
            "rom.relations[:pots]",
            "unknown_relation",
            &["unknown relation `pots`", "did you mean `posts`?"],
        ),
        (
            "postz.count",
            "unknown_name",
            &["`postz`", "did you mean `posts`?"],
        ),
        (
            "commands[:\"posts; DROP TABLE posts\"]",
            "unknown_relation",
            &["unknown relation `posts; DROP TABLE posts`"],
        ),
        (
            "posts.order(:\"id; DROP TABLE posts\").to_a",
            "unknown_attribute",
            &[
                "relation `posts` has no attribute `id; DROP TABLE posts`",
                POSTS_ATTRIBUTES,
            ],
        ),
        (
            "posts.order('id desc, (SELECT SLEEP(5))' => :desc).pluck(:id)",
            "unknown_attribute",
            &["no attribute `id desc, (SELECT SLEEP(5))`"],
        ),
        (
            "posts.where(\"id = 1 OR 1=1\": 1).count",
            "unknown_attribute",
            &["no attribute `id = 1 OR 1=1`"],
        ),
        (
            "posts.command(:create).call(url: 'https://example.com/c', titel: 'x')",
            "unknown_attribute",
            &[
                "relation `posts` has no attribute `titel`",
                POSTS_ATTRIBUTES,
            ],
        ),
        (
            "posts.by_pk(1).command(:update).call(\"error = 'x' WHERE 1=1; --\": 'y')",
            "unknown_attribute",
            &["no attribute `error = 'x' WHERE 1=1; --`"],
        ),
    ];
    let exprs: Vec<&str> = cases
        .iter()
        .map(|(e, _, _)| *e)
        .chain(["posts.count", "companies.count"])
        .collect();
    let out = console(&db, &["--format", "json"], &exprs);
    assert_eq!(
        out.status,
        0,
        "without --strict every line runs: {}",
        out.all()
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let lines: Vec<J> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect();
    assert_eq!(
        lines.len(),
        exprs.len(),
        "one line per statement: {}",
        out.all()
    );
    for ((expr, kind, parts), line) in cases.iter().zip(&lines) {
        let error = &line["error"];
        assert_eq!(error["kind"], *kind, "{expr}: {line}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(!message.contains('\n'), "{message}");
        for part in *parts {
            assert!(
                message.contains(part),
                "{expr}: {part:?} is not in {message}"
            );
        }
    }
    // Both tables are still there, with their rows.
    assert_eq!(lines[cases.len()], J::from(3), "{}", out.all());
    assert_eq!(lines[cases.len() + 1], J::from(2), "{}", out.all());
    assert_eq!(snapshot(&db).await, before);

    // In text with --strict: the first bad name stops the script with exit
    // status 1 and one `error:` line on stderr naming it.
    let out = console(
        &db,
        &["--strict"],
        &[
            "posts.count",
            "rom.relations[:\"posts; DROP TABLE posts\"].count",
            "posts.command(:delete).call()",
        ],
    );
    assert_eq!(out.status, 1, "{}", out.all());
    assert_eq!(out.stdout, "3\n", "{}", out.all());
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors,
        ["error: unknown relation `posts; DROP TABLE posts`; known: companies, posts"],
        "{}",
        out.stderr
    );
    assert_eq!(snapshot(&db).await, before, "the delete after it never ran");
}
