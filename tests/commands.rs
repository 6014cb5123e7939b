//! Commands against the real server: the reference application's five
//! commands (the article's console session among them), input checks,
//! errors that leave tables unchanged, keys the rom-sql MySQL bugs got
//! wrong, upserts, deletes, plugins and typed input.
//!
//! The MariaDB statements run as the server has them (`RETURNING`); the
//! MySQL statements (no `RETURNING`, `VALUES(col)` upserts) run on the same
//! server through `Command::with_capabilities`.

use chrono::{NaiveDateTime, TimeDelta, Timelike, Utc};
use ferrom::command::{
    CommandContext, CommandDefinition, CommandKind, CommandOutput, Input, Plugin, ResultKind,
    Timestamps, Tuple,
};
use ferrom::gateway::{Capabilities, Flavour, Version};
use ferrom::{Configuration, Container, Error, RelationDefinition, Row, Value};
use post_analytics::{Company, Post};

use crate::support::{TestDb, call_err, call_one, reference_db};

/// A server without `RETURNING` and without the row alias (MySQL 8.0.18):
/// its statements also run on MariaDB.
fn mysql() -> Capabilities {
    Capabilities::of(Flavour::MySql, Version::new(8, 0, 18))
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn get<'a>(row: &'a Row, name: &str) -> &'a Value {
    row.get(name).unwrap()
}

fn int(row: &Row, name: &str) -> i64 {
    get(row, name).as_i64().unwrap()
}

fn time(row: &Row, name: &str) -> NaiveDateTime {
    match get(row, name) {
        Value::DateTime(t) => *t,
        other => panic!("{name} is {other:?}, not a datetime"),
    }
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

/// Asserts `t` was stamped between `before` and `after` (at the column's
/// whole-second precision).
fn stamped_between(t: NaiveDateTime, before: NaiveDateTime, after: NaiveDateTime) {
    let floor = before.with_nanosecond(0).unwrap();
    assert!(floor <= t && t <= after, "{t} not within {floor}..{after}");
}

async fn count(container: &Container, relation: &str) -> u64 {
    container.relation(relation).unwrap().count().await.unwrap()
}

fn statements(container: &Container) -> u64 {
    container.gateway("default").unwrap().statements_run()
}

async fn new_company(container: &Container, name: &str) -> i64 {
    let row = call_one(
        container,
        "companies",
        "create",
        [("name", name), ("domain", "https://example.com")],
    )
    .await;
    int(&row, "id")
}

async fn new_post(container: &Container, url: &str, company: i64) -> Row {
    call_one(
        container,
        "posts",
        "create",
        Tuple::from([("url", Value::from(url)), ("company_id", company.into())]),
    )
    .await
}

/// The reference configuration plus commands the reference application
/// does not register: many-row creates, upserts, insert-or-ignore.
async fn extended(db: &TestDb) -> Container {
    let stamps = || Timestamps::new(["scrapped_at", "created_at", "updated_at"]);
    let mut config = post_analytics::configuration(&db.test_settings());
    config
        .register_command(CommandDefinition::create("posts", "create_many").plugin(stamps()))
        .register_command(
            CommandDefinition::create("companies", "create_many")
                .plugin(Timestamps::new(["created_at", "updated_at"])),
        )
        .register_command(
            CommandDefinition::upsert("posts", "upsert")
                .plugin(stamps())
                .update_columns(["error", "stats", "scrapped_at", "updated_at"]),
        )
        .register_command(CommandDefinition::upsert("posts", "upsert_given"))
        .register_command(CommandDefinition::upsert("companies", "upsert"))
        .register_command(
            CommandDefinition::insert_or_ignore("posts", "insert_or_ignore")
                .result(ResultKind::One)
                .plugin(stamps()),
        );
    config.finalize().await.unwrap()
}

#[tokio::test]
async fn the_articles_console_session() {
    let (_db, container) = reference_db().await;
    assert_eq!(count(&container, "companies").await, 0);
    let companies = container.relation("companies").unwrap();
    let before = now();
    let ran = statements(&container);
    let created = companies
        .command("create")
        .unwrap()
        .call([("name", "My 1st Company"), ("domain", "http://example.com")])
        .await
        .unwrap();
    let after = now();
    // One statement on MariaDB: INSERT ... RETURNING.
    assert_eq!(statements(&container) - ran, 1);
    let CommandOutput::One(Some(row)) = &created else {
        panic!("`create` returns one row: {created:?}")
    };
    assert_eq!(
        row.names(),
        ["id", "name", "domain", "state", "created_at", "updated_at"]
    );
    assert_eq!(int(row, "id"), 1);
    assert_eq!(get(row, "name"), &Value::from("My 1st Company"));
    assert_eq!(get(row, "domain"), &Value::from("http://example.com"));
    assert_eq!(get(row, "state"), &Value::from("running"));
    assert_eq!(time(row, "created_at"), time(row, "updated_at"));
    stamped_between(time(row, "created_at"), before, after);
    // Stored to the second: the stamp is "now" truncated, so it is less
    // than a second before the call started, and not after it ended.
    assert!(before - time(row, "created_at") < TimeDelta::seconds(1));
    // What it returned is what is stored.
    assert_eq!(&companies.fetch_pk(1).await.unwrap(), row);
    assert_eq!(count(&container, "companies").await, 1);
    // And as a typed struct.
    let company: Company = created.clone().into_typed_one().unwrap().unwrap();
    assert_eq!(company.id, 1);
    assert_eq!(company.state, "running");
    assert_eq!(company.created_at, Some(time(row, "created_at")));
}

#[tokio::test]
async fn create_post_stamps_scrapped_at_created_at_and_updated_at() {
    let (_db, container) = reference_db().await;
    let company = new_company(&container, "Acme").await;
    let before = now();
    let post = container
        .relation("posts")
        .unwrap()
        .command("create")
        .unwrap()
        .call(Tuple::from([
            ("url", Value::from("https://example.com/1")),
            ("company_id", company.into()),
            ("stats", Value::Json(serde_json::json!({"views": 3}))),
        ]))
        .await
        .unwrap()
        .into_one()
        .unwrap();
    let after = now();
    let stamp = time(&post, "scrapped_at");
    stamped_between(stamp, before, after);
    assert_eq!(time(&post, "created_at"), stamp);
    assert_eq!(time(&post, "updated_at"), stamp);
    assert_eq!(
        get(&post, "se_post"),
        &Value::Bool(false),
        "the column default"
    );
    assert_eq!(get(&post, "published_at"), &Value::Null);
    assert_eq!(
        get(&post, "stats"),
        &Value::Json(serde_json::json!({"views": 3}))
    );
    assert_eq!(int(&post, "company_id"), company);
    let stored = container
        .relation("posts")
        .unwrap()
        .fetch_pk(int(&post, "id"))
        .await
        .unwrap();
    assert_eq!(stored, post);
}

#[tokio::test]
async fn update_post_changes_updated_at_only_and_callers_timestamps_win() {
    let (_db, container) = reference_db().await;
    let company = new_company(&container, "Acme").await;
    let old = at("2019-03-09 14:24:23");
    // The caller's timestamps win over the plugin's.
    let post = call_one(
        &container,
        "posts",
        "create",
        Tuple::from([
            ("url", Value::from("https://example.com/1")),
            ("company_id", company.into()),
            ("scrapped_at", "2019-03-09 14:24:23".into()),
            ("created_at", old.into()),
            ("updated_at", Value::String("2019-03-09T14:24:23Z".into())),
        ]),
    )
    .await;
    for stamp in ["scrapped_at", "created_at", "updated_at"] {
        assert_eq!(time(&post, stamp), old, "{stamp}");
    }
    let other = new_post(&container, "https://example.com/2", company).await;
    let id = int(&post, "id");

    let posts = container.relation("posts").unwrap();
    let before = now();
    let ran = statements(&container);
    let updated = posts
        .by_pk(id)
        .command("update")
        .unwrap()
        .call([("error", "timeout")])
        .await
        .unwrap();
    let after = now();
    // UPDATE ... WHERE id = ?, then SELECT ... WHERE id = ?.
    assert_eq!(statements(&container) - ran, 2);
    let rows = updated.rows();
    assert_eq!(rows.len(), 1, "UpdatePost returns many: {updated:?}");
    let row = &rows[0];
    assert_eq!(int(row, "id"), id);
    assert_eq!(get(row, "error"), &Value::from("timeout"));
    assert_eq!(
        time(row, "created_at"),
        old,
        "created_at is not stamped on update"
    );
    assert_eq!(
        time(row, "scrapped_at"),
        old,
        "scrapped_at is not stamped on update"
    );
    stamped_between(time(row, "updated_at"), before, after);
    assert_eq!(&posts.fetch_pk(id).await.unwrap(), row);
    // The other post is untouched.
    assert_eq!(posts.fetch_pk(int(&other, "id")).await.unwrap(), other);

    // An updated_at the caller gives wins on update too.
    let given = posts
        .by_pk(id)
        .command("update")
        .unwrap()
        .call(Tuple::from([("updated_at", Value::from(old))]))
        .await
        .unwrap()
        .into_one()
        .unwrap();
    assert_eq!(time(&given, "updated_at"), old);
}

/// Updates by key of the same attributes share one statement text: each
/// still binds its own values in its own order and reads back its own row.
/// On a session every statement runs on one connection, where a row read
/// as it arrives (the re-read, `one`) leaves the end of its result for the
/// next statement to read.
#[tokio::test]
async fn updates_by_key_of_the_same_attributes_bind_their_own_values() {
    let (_db, container) = reference_db().await;
    let company = new_company(&container, "Acme").await;
    let a = int(
        &new_post(&container, "https://example.com/a", company).await,
        "id",
    );
    let b = int(
        &new_post(&container, "https://example.com/b", company).await,
        "id",
    );
    let session = container.session().await.unwrap();
    let sides = [
        container.relation("posts").unwrap(),
        session.relation("posts").unwrap(),
    ];
    for (side, posts) in sides.iter().enumerate() {
        for (i, id) in [a, b, a, b].into_iter().enumerate() {
            let error = format!("timeout {side}-{i}");
            let flag = i % 3 == 0;
            // The same two attributes, in one order and then the other.
            let input = if i % 2 == 0 {
                Tuple::from([
                    ("error", Value::from(error.as_str())),
                    ("se_post", flag.into()),
                ])
            } else {
                Tuple::from([
                    ("se_post", Value::from(flag)),
                    ("error", error.as_str().into()),
                ])
            };
            let row = posts
                .by_pk(id)
                .command("update")
                .unwrap()
                .call(input)
                .await
                .unwrap()
                .into_one()
                .unwrap();
            assert_eq!(int(&row, "id"), id);
            assert_eq!(get(&row, "error"), &Value::from(error.as_str()));
            assert_eq!(get(&row, "se_post"), &Value::Bool(flag), "{row:?}");
            assert_eq!(posts.by_pk(id).one_strict().await.unwrap(), row);
            let typed = posts
                .by_pk(id)
                .map_to::<Post>()
                .one()
                .await
                .unwrap()
                .unwrap();
            assert_eq!(typed.error.as_deref(), Some(error.as_str()));
        }
    }
    // Each post holds its last update, on the pool's connections too.
    let posts = container.relation("posts").unwrap();
    for (id, last) in [(a, "timeout 1-2"), (b, "timeout 1-3")] {
        assert_eq!(
            get(&posts.fetch_pk(id).await.unwrap(), "error"),
            &Value::from(last)
        );
    }
}

#[tokio::test]
async fn update_through_conditions_and_restrictions_after_the_fact() {
    let (db, _) = reference_db().await;
    let container = extended(&db).await;
    let acme = new_company(&container, "Acme").await;
    let beta = new_company(&container, "Beta").await;
    let a1 = new_post(&container, "https://example.com/a1", acme).await;
    let a2 = new_post(&container, "https://example.com/a2", acme).await;
    let b1 = new_post(&container, "https://example.com/b1", beta).await;
    let posts = container.relation("posts").unwrap();

    // Restricted by a condition: locked select, update, re-read.
    let ran = statements(&container);
    let updated = posts
        .filter(("company_id", acme))
        .command("update")
        .unwrap()
        .call([("se_post", 1)])
        .await
        .unwrap()
        .into_rows();
    // BEGIN, SELECT id ... FOR UPDATE, UPDATE, SELECT, COMMIT.
    assert_eq!(statements(&container) - ran, 5);
    assert_eq!(
        updated.iter().map(|r| int(r, "id")).collect::<Vec<_>>(),
        [int(&a1, "id"), int(&a2, "id")]
    );
    assert!(
        updated
            .iter()
            .all(|r| get(r, "se_post") == &Value::Bool(true))
    );
    assert_eq!(posts.fetch_pk(int(&b1, "id")).await.unwrap(), b1);

    // Restricted after the fact, on the container's unrestricted command.
    let update = container.command("posts", "update").unwrap();
    let one = update
        .by_pk(int(&b1, "id"))
        .call([("error", "gone")])
        .await
        .unwrap()
        .into_rows();
    assert_eq!(one.len(), 1);
    assert_eq!(get(&one[0], "error"), &Value::from("gone"));
    let through_join = update
        .restrict(|p| p.join("company").filter(("company.name", "Beta")))
        .call([("error", "joined")])
        .await
        .unwrap()
        .into_rows();
    assert_eq!(through_join.len(), 1);
    assert_eq!(int(&through_join[0], "id"), int(&b1, "id"));
    let limited = posts
        .filter(("company_id", acme))
        .reverse()
        .limit(1)
        .command("update")
        .unwrap()
        .call([("error", "last")])
        .await
        .unwrap()
        .into_rows();
    assert_eq!(limited.len(), 1);
    assert_eq!(int(&limited[0], "id"), int(&a2, "id"));
    assert_eq!(
        get(&posts.fetch_pk(int(&a1, "id")).await.unwrap(), "error"),
        &Value::Null
    );

    // Nothing matches: nothing changes, nothing returned.
    let none = posts
        .by_pk(999)
        .command("update")
        .unwrap()
        .call([("error", "x")])
        .await
        .unwrap();
    assert!(none.is_empty());
    let none = posts
        .filter(("url", "nope"))
        .command("update")
        .unwrap()
        .call([("error", "x")])
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(
        posts.filter(("error", "x")).count().await.unwrap(),
        0,
        "nothing updated"
    );

    // Setting the primary key re-reads the row under its new key.
    let moved = posts
        .by_pk(int(&a1, "id"))
        .command("update")
        .unwrap()
        .call([("id", 500)])
        .await
        .unwrap()
        .into_rows();
    assert_eq!(int(&moved[0], "id"), 500);
    assert_eq!(
        get(&moved[0], "url"),
        &Value::from("https://example.com/a1")
    );

    // The MySQL statements are the same for updates.
    let on_mysql = update
        .with_capabilities(mysql())
        .restrict(|p| p.filter(("company_id", acme)))
        .call([("error", "mysql")])
        .await
        .unwrap()
        .into_rows();
    assert_eq!(on_mysql.len(), 2);

    // An update takes one tuple.
    let err = update
        .call(Input::many([
            Tuple::from([("error", "a")]),
            Tuple::from([("error", "b")]),
        ]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
}

#[tokio::test]
async fn multi_row_create_stamps_each_row_and_returns_them_in_order() {
    let (db, _) = reference_db().await;
    let container = extended(&db).await;
    let company = new_company(&container, "Acme").await;
    let before = now();
    let ran = statements(&container);
    let rows = container
        .command("posts", "create_many")
        .unwrap()
        .call(Input::many([
            Tuple::from([
                ("url", Value::from("https://example.com/3")),
                ("company_id", company.into()),
            ]),
            // Rows need not give the same attributes.
            Tuple::from([
                ("url", Value::from("https://example.com/1")),
                ("se_post", true.into()),
            ]),
            Tuple::from([
                ("url", Value::from("https://example.com/2")),
                ("error", "timeout".into()),
                ("created_at", "2019-03-09 14:24:23".into()),
            ]),
        ]))
        .await
        .unwrap()
        .into_rows();
    let after = now();
    assert_eq!(statements(&container) - ran, 1, "one INSERT ... RETURNING");
    let urls: Vec<&Value> = rows.iter().map(|r| get(r, "url")).collect();
    assert_eq!(
        urls,
        [
            &Value::from("https://example.com/3"),
            &Value::from("https://example.com/1"),
            &Value::from("https://example.com/2")
        ]
    );
    let stamp = time(&rows[0], "created_at");
    stamped_between(stamp, before, after);
    for row in &rows {
        assert_eq!(
            time(row, "scrapped_at"),
            stamp,
            "the same time for every row"
        );
        assert_eq!(time(row, "updated_at"), stamp);
    }
    assert_eq!(time(&rows[1], "created_at"), stamp);
    assert_eq!(time(&rows[2], "created_at"), at("2019-03-09 14:24:23"));
    assert_eq!(get(&rows[1], "se_post"), &Value::Bool(true));
    assert_eq!(get(&rows[0], "se_post"), &Value::Bool(false));
    assert_eq!(get(&rows[1], "company_id"), &Value::Null);
    assert_eq!(get(&rows[2], "error"), &Value::from("timeout"));
    let stored = container.relation("posts").unwrap().to_vec().await.unwrap();
    let mut sorted = rows.clone();
    sorted.sort_by_key(|r| int(r, "id"));
    assert_eq!(stored, sorted);

    // A `One` create called with many rows creates them all and returns
    // the first (as ROM does).
    let first = container
        .command("posts", "create")
        .unwrap()
        .call(Input::many([
            Tuple::from([("url", "https://example.com/4")]),
            Tuple::from([("url", "https://example.com/5")]),
        ]))
        .await
        .unwrap();
    assert_eq!(
        get(first.one().unwrap(), "url"),
        &Value::from("https://example.com/4")
    );
    assert_eq!(count(&container, "posts").await, 5);
    // No rows: no statement.
    let ran = statements(&container);
    let none = container
        .command("posts", "create_many")
        .unwrap()
        .call(Input::many(Vec::<Tuple>::new()))
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(statements(&container), ran);
}

#[tokio::test]
async fn errors_are_typed_and_leave_the_tables_unchanged() {
    let (_db, container) = reference_db().await;
    let company = new_company(&container, "Acme").await;
    new_post(&container, "https://example.com/taken", company).await;
    let create = container.command("posts", "create").unwrap();
    let attempt = |tuple: Tuple| {
        let create = create.clone();
        async move { create.call(tuple).await.unwrap_err() }
    };

    let before = count(&container, "posts").await;
    let ran = statements(&container);
    // NOT NULL: no url (and no default).
    let err = attempt(Tuple::from([("company_id", company)])).await;
    assert!(
        matches!(&err, Error::NotNull { relation, attribute, .. } if relation == "posts" && attribute == "url"),
        "{err}"
    );
    // NOT NULL: an explicit NULL.
    let err = call_err(
        &container,
        "companies",
        "create",
        Tuple::from([("name", Value::Null), ("domain", "d".into())]),
    )
    .await;
    assert!(
        matches!(&err, Error::NotNull { attribute, .. } if attribute == "name"),
        "{err}"
    );
    assert_eq!(statements(&container), ran, "refused before the server");
    // Unique: a duplicate url, from the server.
    let err = attempt(Tuple::from([("url", "https://example.com/taken")])).await;
    assert!(
        matches!(&err, Error::Unique { relation, key, .. } if relation == "posts" && key == "posts_url_index"),
        "{err}"
    );
    // Foreign key: an unknown company.
    let err = attempt(Tuple::from([
        ("url", Value::from("https://example.com/orphan")),
        ("company_id", 999.into()),
    ]))
    .await;
    assert!(
        matches!(&err, Error::ForeignKey { relation, constraint, .. } if relation == "posts" && constraint == "posts_company_id_fkey"),
        "{err}"
    );
    // Data too long, refused before the server, naming the limit; and
    // unknown attributes, wrong types, repeated attributes.
    let ran = statements(&container);
    let err = attempt(Tuple::from([("url", "x".repeat(300))])).await;
    assert!(
        matches!(&err, Error::DataTooLong { attribute, .. } if attribute == "url"),
        "{err}"
    );
    assert!(
        err.to_string().contains("at most 255 characters, got 300"),
        "{err}"
    );
    // Unknown attribute: named, with the relation's attributes listed.
    let err = attempt(Tuple::from([("url", "u"), ("titel", "t")])).await;
    let Error::UnknownAttribute {
        relation,
        attribute,
        known,
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((relation.as_str(), attribute.as_str()), ("posts", "titel"));
    assert!(
        known.contains(&"url".to_string()) && known.len() == 10,
        "{known:?}"
    );
    // A value of the wrong type.
    let err = attempt(Tuple::from([
        ("url", Value::from("u")),
        ("se_post", "yes".into()),
    ]))
    .await;
    assert!(
        matches!(&err, Error::TypeMismatch { attribute, expected, got, .. }
            if attribute == "se_post" && expected.contains("boolean") && got == "string \"yes\""),
        "{err}"
    );
    // An attribute given twice.
    let err = attempt(Tuple::from(vec![
        ("url", Value::from("a")),
        ("url", Value::from("b")),
    ]))
    .await;
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    assert_eq!(statements(&container), ran, "refused before the server");
    assert_eq!(count(&container, "posts").await, before);
    assert_eq!(count(&container, "companies").await, 1);

    // Unknown commands list the relation's commands.
    let err = container.command("posts", "destroy").unwrap_err();
    assert!(
        matches!(&err, Error::UnknownCommand { known, .. } if known == &["create", "delete", "update"]),
        "{err}"
    );
    let err = container
        .relation("companies")
        .unwrap()
        .command("update")
        .unwrap_err();
    assert!(
        err.to_string().contains("commands: create, delete"),
        "{err}"
    );
    assert_eq!(
        container
            .commands("posts")
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["create", "delete", "update"]
    );
    // A delete takes no input.
    let err = call_err(&container, "posts", "delete", [("url", "x")]).await;
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    assert_eq!(count(&container, "posts").await, before);
}

#[tokio::test]
async fn a_failing_multi_row_create_writes_nothing() {
    let (db, _) = reference_db().await;
    let container = extended(&db).await;
    let company = new_company(&container, "Acme").await;
    let create = container.command("posts", "create_many").unwrap();

    // The third row fails at the server (unknown company): one statement.
    let rows = |third_company: i64| {
        Input::many([
            Tuple::from([
                ("url", Value::from("https://example.com/1")),
                ("company_id", company.into()),
            ]),
            Tuple::from([
                ("url", Value::from("https://example.com/2")),
                ("company_id", company.into()),
            ]),
            Tuple::from([
                ("url", Value::from("https://example.com/3")),
                ("company_id", third_company.into()),
            ]),
        ])
    };
    let err = create.call(rows(999)).await.unwrap_err();
    assert!(matches!(err, Error::ForeignKey { .. }), "{err}");
    assert_eq!(count(&container, "posts").await, 0);
    // The same on the MySQL path.
    let err = create
        .with_capabilities(mysql())
        .call(rows(999))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForeignKey { .. }), "{err}");
    assert_eq!(count(&container, "posts").await, 0);

    // Rows that give their id and rows that do not: on MySQL one INSERT per
    // row, in a transaction; the third fails and the first two are rolled
    // back.
    let mixed = |third_company: i64| {
        Input::many([
            Tuple::from([
                ("id", Value::from(100)),
                ("url", "https://example.com/1".into()),
            ]),
            Tuple::from([("url", "https://example.com/2")]),
            Tuple::from([
                ("url", Value::from("https://example.com/3")),
                ("company_id", third_company.into()),
            ]),
        ])
    };
    let ran = statements(&container);
    let err = create
        .with_capabilities(mysql())
        .call(mixed(999))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForeignKey { .. }), "{err}");
    // BEGIN, three INSERTs, ROLLBACK.
    assert_eq!(statements(&container) - ran, 5);
    assert_eq!(count(&container, "posts").await, 0);
    let created = create
        .with_capabilities(mysql())
        .call(mixed(company))
        .await
        .unwrap()
        .into_rows();
    assert_eq!(int(&created[0], "id"), 100);
    assert!(int(&created[1], "id") > 100);
    assert_eq!(
        get(&created[2], "url"),
        &Value::from("https://example.com/3")
    );
    assert_eq!(
        created,
        {
            let mut stored = container.relation("posts").unwrap().to_vec().await.unwrap();
            stored.sort_by_key(|r| {
                [
                    "https://example.com/1",
                    "https://example.com/2",
                    "https://example.com/3",
                ]
                .iter()
                .position(|u| get(r, "url") == &Value::from(*u))
            });
            stored
        },
        "returned in input order, as stored"
    );

    // More rows than one statement's placeholders hold: two INSERTs in one
    // transaction; a duplicate in the second batch rolls back the first.
    let per_statement = 65_535 / 5; // url, scrapped_at, created_at, updated_at, company_id
    let many = |last: &str| {
        let mut tuples: Vec<Tuple> = (0..per_statement)
            .map(|i| {
                Tuple::from([
                    ("url", Value::from(format!("https://example.com/bulk/{i}"))),
                    ("company_id", company.into()),
                ])
            })
            .collect();
        tuples.push(Tuple::from([
            ("url", Value::from(last)),
            ("company_id", company.into()),
        ]));
        Input::many(tuples)
    };
    let ran = statements(&container);
    let err = create
        .call(many("https://example.com/bulk/0"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unique { .. }), "{err}");
    assert_eq!(
        statements(&container) - ran,
        4,
        "BEGIN, 2 INSERTs, ROLLBACK"
    );
    assert_eq!(count(&container, "posts").await, 3);
    let rows = create
        .call(many("https://example.com/bulk/last"))
        .await
        .unwrap()
        .into_rows();
    assert_eq!(rows.len(), per_statement + 1);
    assert_eq!(
        get(&rows[0], "url"),
        &Value::from("https://example.com/bulk/0")
    );
    assert_eq!(
        get(&rows[per_statement], "url"),
        &Value::from("https://example.com/bulk/last")
    );
    assert_eq!(
        count(&container, "posts").await,
        3 + u64::try_from(per_statement).unwrap() + 1
    );
}

#[tokio::test]
async fn values_are_converted_to_the_attribute_types() {
    let (_db, container) = reference_db().await;
    let company = new_company(&container, "Acme").await;
    let create = container.command("posts", "create").unwrap();
    let post = create
        .call(Tuple::from([
            ("url", Value::from("https://example.com/1")),
            ("company_id", company.into()),
            // ISO 8601 with an offset: stored in UTC.
            ("published_at", "2019-03-09T15:24:23+01:00".into()),
            ("scrapped_at", "2019-03-09T14:24:23.999Z".into()),
            // JSON text for a JSON column.
            ("stats", r#"{"views": 7, "tags": ["a"]}"#.into()),
            // 0/1 for a boolean.
            ("se_post", 1.into()),
        ]))
        .await
        .unwrap()
        .into_one()
        .unwrap();
    assert_eq!(time(&post, "published_at"), at("2019-03-09 14:24:23"));
    assert_eq!(
        time(&post, "scrapped_at"),
        at("2019-03-09 14:24:23"),
        "fractional seconds cut to the column's precision"
    );
    assert_eq!(
        get(&post, "stats"),
        &Value::Json(serde_json::json!({"views": 7, "tags": ["a"]}))
    );
    assert_eq!(get(&post, "se_post"), &Value::Bool(true));

    let before = count(&container, "posts").await;
    let err = create
        .call(Tuple::from([
            ("url", "https://example.com/2"),
            ("stats", "{views: 7"),
        ]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TypeMismatch { attribute, got, .. } if attribute == "stats" && got.contains("not valid JSON")),
        "{err}"
    );
    let err = create
        .call(Tuple::from([
            ("url", "https://example.com/2"),
            ("published_at", "last tuesday"),
        ]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TypeMismatch { attribute, expected, .. } if attribute == "published_at" && expected.contains("ISO 8601")),
        "{err}"
    );
    let err = create
        .call(Tuple::from([
            ("url", Value::from("https://example.com/2")),
            ("se_post", 2.into()),
        ]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TypeMismatch { .. }), "{err}");
    let err = create
        .call(Tuple::from([
            ("url", Value::from("https://example.com/2")),
            ("company_id", Value::Int(1 << 40)),
        ]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TypeMismatch { expected, .. } if expected.contains("2147483647")),
        "{err}"
    );
    assert_eq!(count(&container, "posts").await, before);
}

/// A table with a VARCHAR primary key, an enum, a decimal and a
/// millisecond timestamp; and one with a composite key.
async fn keyed(db: &TestDb) -> Container {
    let mut conn = db.connect().await;
    sqlx::raw_sql(
        "CREATE TABLE accounts (
           code VARCHAR(20) NOT NULL PRIMARY KEY,
           name VARCHAR(50) NOT NULL,
           plan ENUM('free', 'pro') NOT NULL DEFAULT 'free',
           balance DECIMAL(8,2) NOT NULL DEFAULT 0,
           created_at DATETIME(3) NULL,
           doubled INT AS (LENGTH(name) * 2) VIRTUAL
         );
         CREATE TABLE memberships (
           a INT NOT NULL, b VARCHAR(10) NOT NULL, note VARCHAR(20) NULL,
           PRIMARY KEY (a, b)
         );
         INSERT INTO accounts (code, name) VALUES ('x', 'existing x'), ('y', 'existing y'), ('0', 'zero');
         INSERT INTO memberships VALUES (1, 'z', 'existing')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let mut config = Configuration::with_default_gateway(db.settings.clone());
    config
        .register_relation(RelationDefinition::new("accounts"))
        .register_relation(RelationDefinition::new("memberships"));
    for relation in ["accounts", "memberships"] {
        config
            .register_command(CommandDefinition::update(relation, "update"))
            .register_command(CommandDefinition::delete(relation, "delete"))
            .register_command(CommandDefinition::upsert(relation, "upsert"))
            .register_command(CommandDefinition::insert_or_ignore(
                relation,
                "insert_or_ignore",
            ));
    }
    config
        .register_command(
            CommandDefinition::create("accounts", "create").plugin(Timestamps::new(["created_at"])),
        )
        .register_command(CommandDefinition::create("memberships", "create"));
    config.finalize().await.unwrap()
}

#[tokio::test]
async fn caller_supplied_and_composite_keys_come_back_as_the_right_rows() {
    let (db, _) = reference_db().await;
    let container = keyed(&db).await;
    for (server, caps) in [
        (
            "mariadb",
            *container.gateway("default").unwrap().capabilities(),
        ),
        ("mysql", mysql()),
    ] {
        let create = container
            .command("accounts", "create")
            .unwrap()
            .with_capabilities(caps);
        let before = now();
        let rows = create
            .call(Input::many([
                Tuple::from([
                    ("code", Value::from(format!("b-{server}"))),
                    ("name", "Bee".into()),
                ]),
                Tuple::from([
                    ("code", Value::from(format!("a-{server}"))),
                    ("name", "Ay".into()),
                    ("plan", "pro".into()),
                    ("balance", 12.into()),
                ]),
            ]))
            .await
            .unwrap()
            .into_rows();
        // rom-sql #109 / #384: the rows asked for, in input order, and
        // nothing else (not 'x', 'y' or '0').
        assert_eq!(rows.len(), 2, "{server}: {rows:?}");
        assert_eq!(get(&rows[0], "code"), &Value::from(format!("b-{server}")));
        assert_eq!(get(&rows[0], "plan"), &Value::from("free"), "the default");
        assert_eq!(get(&rows[0], "balance"), &Value::Decimal("0.00".into()));
        assert_eq!(
            get(&rows[0], "doubled"),
            &Value::Int(6),
            "generated by the server"
        );
        assert_eq!(get(&rows[1], "code"), &Value::from(format!("a-{server}")));
        assert_eq!(get(&rows[1], "plan"), &Value::from("pro"));
        assert_eq!(get(&rows[1], "balance"), &Value::Decimal("12.00".into()));
        // DATETIME(3): milliseconds kept, and what is returned is stored.
        let stamp = time(&rows[0], "created_at");
        assert_eq!(stamp.nanosecond() % 1_000_000, 0, "{stamp}");
        assert!(
            stamp >= before - TimeDelta::milliseconds(1),
            "{stamp} {before}"
        );
        let stored = container
            .relation("accounts")
            .unwrap()
            .fetch_pk(format!("b-{server}"))
            .await
            .unwrap();
        assert_eq!(stored, rows[0]);

        let single = create
            .call([("code", format!("c-{server}")), ("name", "Cee".into())])
            .await
            .unwrap()
            .into_rows();
        assert_eq!(single.len(), 1);
        assert_eq!(get(&single[0], "name"), &Value::from("Cee"));

        let members = container
            .command("memberships", "create")
            .unwrap()
            .with_capabilities(caps);
        let a = if server == "mysql" { 10 } else { 20 };
        let rows = members
            .call(Input::many([
                Tuple::from([
                    ("a", Value::from(a)),
                    ("b", "y".into()),
                    ("note", "second".into()),
                ]),
                Tuple::from([("a", Value::from(a)), ("b", "x".into())]),
                Tuple::from([("a", Value::from(a + 1)), ("b", "y".into())]),
            ]))
            .await
            .unwrap()
            .into_rows();
        let keys: Vec<(i64, &Value)> = rows.iter().map(|r| (int(r, "a"), get(r, "b"))).collect();
        assert_eq!(
            keys,
            [
                (a, &Value::from("y")),
                (a, &Value::from("x")),
                (a + 1, &Value::from("y"))
            ],
            "{server}"
        );
        assert_eq!(get(&rows[0], "note"), &Value::from("second"));
    }
    // Enum values and generated columns are checked before the server.
    let create = container.command("accounts", "create").unwrap();
    let err = create
        .call([("code", "e"), ("name", "E"), ("plan", "gold")])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TypeMismatch { attribute, expected, .. } if attribute == "plan" && expected == "one of: free, pro"),
        "{err}"
    );
    let err = create
        .call(Tuple::from([
            ("code", Value::from("e")),
            ("name", "E".into()),
            ("doubled", 4.into()),
        ]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidCommand { reason, .. } if reason.contains("generated")),
        "{err}"
    );
    let err = create
        .call(Tuple::from([
            ("code", Value::from("e")),
            ("name", "E".into()),
            ("balance", "1234567.5".into()),
        ]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TypeMismatch { .. }), "{err}");

    // Update and delete by composite key.
    let memberships = container.relation("memberships").unwrap();
    for caps in [
        *container.gateway("default").unwrap().capabilities(),
        mysql(),
    ] {
        let updated = memberships
            .by_pk(vec![Value::from(1), "z".into()])
            .command("update")
            .unwrap()
            .with_capabilities(caps)
            .call([("note", "changed")])
            .await
            .unwrap()
            .into_rows();
        assert_eq!(updated.len(), 1);
        assert_eq!(get(&updated[0], "note"), &Value::from("changed"));
    }
    let deleted = memberships
        .by_pk(vec![Value::from(10), "x".into()])
        .command("delete")
        .unwrap()
        .with_capabilities(mysql())
        .call(())
        .await
        .unwrap()
        .into_rows();
    assert_eq!(deleted.len(), 1);
    assert_eq!(get(&deleted[0], "b"), &Value::from("x"));
    assert_eq!(memberships.count().await.unwrap(), 6);
}

#[tokio::test]
async fn auto_increment_ids_come_back_on_the_mysql_path() {
    let (db, _) = reference_db().await;
    let container = extended(&db).await;
    let create = container
        .command("companies", "create_many")
        .unwrap()
        .with_capabilities(mysql());
    // Single row: INSERT, then SELECT by the reported id.
    let ran = statements(&container);
    let one = create
        .call([("name", "One"), ("domain", "d")])
        .await
        .unwrap()
        .into_rows();
    assert_eq!(statements(&container) - ran, 2);
    assert_eq!(int(&one[0], "id"), 1);
    assert_eq!(get(&one[0], "state"), &Value::from("running"));
    // Many rows: one INSERT; consecutive ids (innodb_autoinc_lock_mode 1).
    let ran = statements(&container);
    let rows = create
        .call(Input::many(
            ["A", "B", "C"].map(|n| Tuple::from([("name", n), ("domain", "d")])),
        ))
        .await
        .unwrap()
        .into_rows();
    // BEGIN, the auto-increment settings (once), INSERT, SELECT, COMMIT.
    assert_eq!(statements(&container) - ran, 5);
    assert_eq!(
        rows.iter().map(|r| int(r, "id")).collect::<Vec<_>>(),
        [2, 3, 4]
    );
    assert_eq!(
        rows.iter()
            .map(|r| get(r, "name").clone())
            .collect::<Vec<_>>(),
        [Value::from("A"), "B".into(), "C".into()]
    );
    // A NULL id means "generate one".
    let generated = create
        .call(Tuple::from([
            ("id", Value::Null),
            ("name", "N".into()),
            ("domain", "d".into()),
        ]))
        .await
        .unwrap()
        .into_rows();
    assert_eq!(int(&generated[0], "id"), 5);
}

#[tokio::test]
async fn upsert_updates_on_conflict_and_inserts_otherwise() {
    let (db, _) = reference_db().await;
    let container = extended(&db).await;
    let company = new_company(&container, "Acme").await;
    let old = at("2019-03-09 14:24:23");
    let existing = call_one(
        &container,
        "posts",
        "create",
        Tuple::from([
            ("url", Value::from("https://example.com/1")),
            ("company_id", company.into()),
            ("created_at", old.into()),
            ("updated_at", old.into()),
            ("error", "old".into()),
        ]),
    )
    .await;
    let id = int(&existing, "id");
    for (server, caps) in [
        (
            "mariadb",
            *container.gateway("default").unwrap().capabilities(),
        ),
        ("mysql", mysql()),
    ] {
        let upsert = container
            .command("posts", "upsert")
            .unwrap()
            .with_capabilities(caps);
        let before = now();
        let rows = upsert
            .call(Input::many([
                Tuple::from([
                    ("url", Value::from("https://example.com/1")),
                    ("error", Value::from(format!("new {server}"))),
                    ("stats", serde_json::json!({"views": 1}).into()),
                ]),
                Tuple::from([("url", Value::from(format!("https://example.com/{server}")))]),
            ]))
            .await
            .unwrap()
            .into_rows();
        assert_eq!(rows.len(), 2, "{server}");
        // The colliding row, updated in place: same id, created_at kept
        // (not in update_columns), updated_at stamped.
        assert_eq!(int(&rows[0], "id"), id, "{server}");
        assert_eq!(
            get(&rows[0], "error"),
            &Value::from(format!("new {server}"))
        );
        assert_eq!(
            get(&rows[0], "company_id"),
            &Value::Int(company),
            "not updated"
        );
        assert_eq!(time(&rows[0], "created_at"), old);
        stamped_between(time(&rows[0], "updated_at"), before, now());
        // The new row, inserted.
        assert!(int(&rows[1], "id") > id);
        assert_eq!(
            get(&rows[1], "url"),
            &Value::from(format!("https://example.com/{server}"))
        );
        assert_eq!(
            container
                .relation("posts")
                .unwrap()
                .fetch_pk(id)
                .await
                .unwrap(),
            rows[0]
        );
    }
    assert_eq!(count(&container, "posts").await, 3);

    // Without update_columns: every given attribute but the primary key;
    // a single row leaving out its auto-increment id is re-read by the id
    // the server reports, inserted or updated.
    for caps in [
        *container.gateway("default").unwrap().capabilities(),
        mysql(),
    ] {
        let upserted = container
            .command("posts", "upsert_given")
            .unwrap()
            .with_capabilities(caps)
            .call(Tuple::from([
                ("id", Value::from(id)),
                ("url", "https://example.com/1".into()),
                ("se_post", true.into()),
                ("scrapped_at", old.into()),
            ]))
            .await
            .unwrap()
            .into_rows();
        assert_eq!(int(&upserted[0], "id"), id);
        assert_eq!(get(&upserted[0], "se_post"), &Value::Bool(true));
        assert_eq!(time(&upserted[0], "scrapped_at"), old);
    }

    // An upsert needs a key to re-read by: many companies without ids
    // have none (one could be re-read by the id the server reports).
    let err = call_err(
        &container,
        "companies",
        "upsert",
        Input::many([
            Tuple::from([("name", "a"), ("domain", "d")]),
            Tuple::from([("name", "b"), ("domain", "d")]),
        ]),
    )
    .await;
    assert!(matches!(err, Error::InvalidCommand { .. }), "{err}");
    assert_eq!(count(&container, "companies").await, 1);
    let one = container
        .command("companies", "upsert")
        .unwrap()
        .call([("name", "b"), ("domain", "d")])
        .await
        .unwrap()
        .into_rows();
    assert_eq!(int(&one[0], "id"), company + 1);
    // Errors other than the collision are not swallowed.
    let err = call_err(
        &container,
        "posts",
        "upsert",
        Tuple::from([
            ("url", Value::from("https://example.com/9")),
            ("company_id", 999.into()),
        ]),
    )
    .await;
    assert!(matches!(err, Error::ForeignKey { .. }), "{err}");
    assert_eq!(count(&container, "posts").await, 3);
}

#[tokio::test]
async fn insert_or_ignore_keeps_the_existing_row() {
    let (db, _) = reference_db().await;
    let container = extended(&db).await;
    let company = new_company(&container, "Acme").await;
    let existing = new_post(&container, "https://example.com/1", company).await;
    for caps in [
        *container.gateway("default").unwrap().capabilities(),
        mysql(),
    ] {
        let kept = container
            .command("posts", "insert_or_ignore")
            .unwrap()
            .with_capabilities(caps)
            .call([("url", "https://example.com/1"), ("error", "ignored")])
            .await
            .unwrap()
            .into_one()
            .unwrap();
        assert_eq!(kept, existing, "the old row, unchanged");
    }
    let inserted = call_one(
        &container,
        "posts",
        "insert_or_ignore",
        [("url", "https://example.com/2"), ("error", "new")],
    )
    .await;
    assert_eq!(get(&inserted, "error"), &Value::from("new"));
    assert!(int(&inserted, "id") > int(&existing, "id"));
    // Not INSERT IGNORE: a value too long is still an error (checked by
    // ferrom), and so is an unknown company (from the server).
    let err = call_err(
        &container,
        "posts",
        "insert_or_ignore",
        Tuple::from([
            ("url", "https://example.com/3"),
            ("error", &*"e".repeat(300)),
        ]),
    )
    .await;
    assert!(matches!(err, Error::DataTooLong { .. }), "{err}");
    let err = call_err(
        &container,
        "posts",
        "insert_or_ignore",
        Tuple::from([
            ("url", Value::from("https://example.com/3")),
            ("company_id", 999.into()),
        ]),
    )
    .await;
    assert!(matches!(err, Error::ForeignKey { .. }), "{err}");
    assert_eq!(count(&container, "posts").await, 2);
}

/// Commands registered with result `Count` write in the fewest statements
/// and read nothing back: a 1,000-row create is one `INSERT` (no
/// `RETURNING`), a by-key update one `UPDATE`, a delete one `DELETE`.
#[tokio::test]
async fn count_results_write_without_reading_back() {
    let (db, _) = reference_db().await;
    let stamps = || Timestamps::new(["scrapped_at", "created_at", "updated_at"]);
    let mut config = post_analytics::configuration(&db.test_settings());
    config
        .register_command(
            CommandDefinition::create("posts", "import")
                .result(ResultKind::Count)
                .plugin(stamps()),
        )
        .register_command(
            CommandDefinition::update("posts", "touch")
                .result(ResultKind::Count)
                .plugin(Timestamps::new(["updated_at"])),
        )
        .register_command(CommandDefinition::delete("posts", "purge").result(ResultKind::Count));
    let container = config.finalize().await.unwrap();
    let company = new_company(&container, "Acme").await;
    let rows = (0..1_000).map(|n| {
        Tuple::from([
            ("url", Value::from(format!("https://example.com/{n}"))),
            ("stats", Value::from(serde_json::json!({ "views": n }))),
            ("company_id", company.into()),
        ])
    });
    let ran = statements(&container);
    let out = container
        .command("posts", "import")
        .unwrap()
        .call(Input::many(rows))
        .await
        .unwrap();
    assert_eq!(out, CommandOutput::Count(1_000));
    assert_eq!((out.len(), out.rows().len()), (1_000, 0));
    assert_eq!(
        statements(&container) - ran,
        1,
        "one INSERT, nothing read back"
    );
    let posts = container.relation("posts").unwrap();
    assert_eq!(posts.count().await.unwrap(), 1_000);
    // The plugin stamped every row.
    assert_eq!(
        posts
            .filter(("created_at", Value::Null))
            .count()
            .await
            .unwrap(),
        0
    );
    // A by-key update: one statement; the count is the rows matched, even
    // when a value does not change.
    let id = posts.order(["id"]).pluck("id").await.unwrap()[0].clone();
    let touch = posts.by_pk(id.clone()).command("touch").unwrap();
    let ran = statements(&container);
    for _ in 0..2 {
        let out = touch.call([("error", "same")]).await.unwrap();
        assert_eq!(out, CommandOutput::Count(1));
    }
    assert_eq!(statements(&container) - ran, 2);
    let missing = posts.by_pk(-1).command("touch").unwrap();
    assert_eq!(
        missing.call([("error", "x")]).await.unwrap(),
        CommandOutput::Count(0)
    );
    // A delete restricted by conditions: one DELETE.
    let ran = statements(&container);
    let out = posts
        .filter(("error", "same"))
        .command("purge")
        .unwrap()
        .call(())
        .await
        .unwrap();
    assert_eq!(out, CommandOutput::Count(1));
    assert_eq!(statements(&container) - ran, 1);
    assert_eq!(posts.count().await.unwrap(), 999);
    assert!(posts.by_pk(id).one().await.unwrap().is_none());
    // A bad row in a bulk create writes none of them.
    let err = call_err(
        &container,
        "posts",
        "import",
        Input::many([
            Tuple::from([
                ("url", Value::from("https://example.com/new")),
                ("company_id", company.into()),
            ]),
            Tuple::from([
                ("url", Value::from("https://example.com/1")),
                ("company_id", company.into()),
            ]),
        ]),
    )
    .await;
    assert!(matches!(err, Error::Unique { .. }), "{err}");
    assert_eq!(posts.count().await.unwrap(), 999);

    // Upserts cannot count: refused at finalize, naming the command.
    let mut config = post_analytics::configuration(&db.test_settings());
    config.register_command(CommandDefinition::upsert("posts", "sync").result(ResultKind::Count));
    let err = config.finalize().await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidCommand { relation, command, .. } if relation == "posts" && command == "sync"),
        "{err}"
    );
    assert!(err.to_string().contains("result Count"), "{err}");
}

#[tokio::test]
async fn delete_returns_the_deleted_rows() {
    let (_db, container) = reference_db().await;
    let acme = new_company(&container, "Acme").await;
    let beta = new_company(&container, "Beta").await;
    let mut posts_made = Vec::new();
    for i in 1..=6 {
        let company = if i <= 4 { acme } else { beta };
        posts_made.push(new_post(&container, &format!("https://example.com/{i}"), company).await);
    }
    let posts = container.relation("posts").unwrap();

    // By primary key: one DELETE ... RETURNING.
    let ran = statements(&container);
    let deleted = posts
        .by_pk(int(&posts_made[0], "id"))
        .command("delete")
        .unwrap()
        .call(())
        .await
        .unwrap()
        .into_rows();
    assert_eq!(statements(&container) - ran, 1);
    assert_eq!(deleted, [posts_made[0].clone()]);
    // By condition, on the MySQL path: SELECT ... FOR UPDATE, DELETE.
    let deleted = posts
        .filter(("url", "https://example.com/2"))
        .command("delete")
        .unwrap()
        .with_capabilities(mysql())
        .call(())
        .await
        .unwrap()
        .into_rows();
    assert_eq!(deleted, [posts_made[1].clone()]);
    // Through a join (the posts of Beta), and through a limit.
    let deleted = container
        .command("posts", "delete")
        .unwrap()
        .restrict(|p| p.join("company").filter(("company.name", "Beta")))
        .call(())
        .await
        .unwrap()
        .into_rows();
    assert_eq!(deleted, [posts_made[4].clone(), posts_made[5].clone()]);
    let deleted = posts
        .reverse()
        .limit(1)
        .command("delete")
        .unwrap()
        .call(())
        .await
        .unwrap()
        .into_rows();
    assert_eq!(deleted, [posts_made[3].clone()]);
    // Nothing matches: nothing deleted.
    assert!(
        posts
            .by_pk(999)
            .command("delete")
            .unwrap()
            .call(Input::empty())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(posts.count().await.unwrap(), 1);

    // A company still referenced cannot be deleted, and the error says so.
    let err = container
        .relation("companies")
        .unwrap()
        .by_pk(acme)
        .command("delete")
        .unwrap()
        .call(())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForeignKey { .. }), "{err}");

    // The reference test's clean-up: unrestricted deletes clear the tables.
    let cleared = container
        .command("posts", "delete")
        .unwrap()
        .call(())
        .await
        .unwrap();
    assert_eq!(cleared.into_rows(), [posts_made[2].clone()]);
    let cleared = container
        .command("companies", "delete")
        .unwrap()
        .with_capabilities(mysql())
        .call(())
        .await
        .unwrap()
        .into_rows();
    assert_eq!(
        cleared.iter().map(|r| int(r, "id")).collect::<Vec<_>>(),
        [acme, beta]
    );
    assert_eq!(count(&container, "posts").await, 0);
    assert_eq!(count(&container, "companies").await, 0);
}

#[derive(serde::Serialize)]
struct NewPost<'a> {
    url: &'a str,
    company_id: i64,
    published_at: NaiveDateTime,
    stats: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[tokio::test]
async fn typed_input_from_a_serde_struct() {
    let (_db, container) = reference_db().await;
    let company = new_company(&container, "Acme").await;
    let published = at("2019-03-01 08:00:00.25");
    let post: Post = container
        .command("posts", "create")
        .unwrap()
        .call(
            Input::from_serde(&NewPost {
                url: "https://example.com/typed",
                company_id: company,
                published_at: published,
                stats: serde_json::json!({"views": 12}),
                error: None,
            })
            .unwrap(),
        )
        .await
        .unwrap()
        .into_typed_one()
        .unwrap()
        .unwrap();
    assert_eq!(post.url, "https://example.com/typed");
    assert_eq!(post.company_id, Some(i32::try_from(company).unwrap()));
    assert_eq!(post.published_at, Some(at("2019-03-01 08:00:00")));
    assert_eq!(
        post.stats.as_ref().map(|s| s.0.clone()),
        Some(serde_json::json!({"views": 12}))
    );
    assert!(!post.se_post);
    assert_eq!(post.created_at, Some(post.scrapped_at));
    // The typed struct and the typed read agree.
    let read: Post = container
        .relation("posts")
        .unwrap()
        .by_pk(post.id)
        .map_to::<Post>()
        .one()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, post);
    // A struct field the relation lacks is refused like any attribute.
    #[derive(serde::Serialize)]
    struct Wrong {
        url: &'static str,
        views: u32,
    }
    let err = call_err(
        &container,
        "posts",
        "create",
        Input::from_serde(&Wrong { url: "u", views: 1 }).unwrap(),
    )
    .await;
    assert!(matches!(err, Error::UnknownAttribute { .. }), "{err}");
}

/// Counts the calls it sees, and refuses a domain without a scheme.
#[derive(Debug, Default)]
struct RequireScheme {
    after: std::sync::atomic::AtomicUsize,
}

impl Plugin for RequireScheme {
    fn name(&self) -> &str {
        "require_scheme"
    }

    fn before(&self, ctx: &CommandContext<'_>, tuples: &mut [Tuple]) -> ferrom::Result<()> {
        assert_eq!(ctx.kind(), CommandKind::Create);
        assert_eq!(ctx.relation(), "companies");
        for tuple in tuples {
            let domain = tuple.get("domain").and_then(Value::as_str).unwrap_or("");
            if !domain.starts_with("https://") {
                return Err(Error::InvalidInput {
                    reason: format!("domain `{domain}` needs https://"),
                });
            }
            tuple.set("state", "checked");
        }
        Ok(())
    }

    fn after(&self, _ctx: &CommandContext<'_>, rows: &mut Vec<Row>) -> ferrom::Result<()> {
        self.after
            .fetch_add(rows.len(), std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn plugins_are_checked_at_finalize_and_run_around_every_call() {
    let (db, _) = reference_db().await;
    let finalize_with = |def: CommandDefinition| {
        let mut config = post_analytics::configuration(&db.test_settings());
        config.register_command(def);
        config.finalize()
    };
    let err = finalize_with(
        CommandDefinition::create("companies", "stamped").plugin(Timestamps::new(["created_on"])),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::InvalidCommand { .. }), "{msg}");
    assert!(
        msg.contains("command `stamped` of relation `companies`")
            && msg.contains("`created_on`")
            && msg.contains("attributes: id, name, domain, state, created_at, updated_at"),
        "{msg}"
    );
    let err = finalize_with(
        CommandDefinition::create("companies", "stamped").plugin(Timestamps::new(["name"])),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("a string(255) attribute"), "{err}");
    let err = finalize_with(CommandDefinition::create("comapnies", "create"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("relations: companies, posts"),
        "{err}"
    );
    let err = finalize_with(CommandDefinition::create("posts", "c").update_columns(["url"]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("upsert"), "{err}");

    let mut config = post_analytics::configuration(&db.test_settings());
    config.register_command(
        CommandDefinition::create("companies", "checked")
            .result(ResultKind::One)
            .plugin(RequireScheme::default())
            .plugin(Timestamps::new(["created_at"])),
    );
    let container = config.finalize().await.unwrap();
    let checked = container.command("companies", "checked").unwrap();
    let err = checked
        .call([("name", "A"), ("domain", "http://a.test")])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs https://"), "{err}");
    assert_eq!(count(&container, "companies").await, 0);
    let row = checked
        .call([("name", "A"), ("domain", "https://a.test")])
        .await
        .unwrap()
        .into_one()
        .unwrap();
    assert_eq!(get(&row, "state"), &Value::from("checked"));
    assert!(matches!(get(&row, "created_at"), Value::DateTime(_)));
    assert_eq!(get(&row, "updated_at"), &Value::Null, "not listed");
    let plugin = &checked.definition().plugins()[0];
    assert!(format!("{plugin:?}").contains("after: 1"), "{plugin:?}");
}

#[tokio::test]
async fn commands_run_in_the_callers_transaction() {
    let (db, _) = reference_db().await;
    let container = extended(&db).await;
    let company = new_company(&container, "Acme").await;

    // Rolled back: nothing stays.
    let tx = container.begin().await.unwrap();
    let posts = tx.relation("posts").unwrap();
    posts
        .command("create")
        .unwrap()
        .call([("url", "https://example.com/rolled-back")])
        .await
        .unwrap();
    assert_eq!(posts.count().await.unwrap(), 1, "seen inside");
    assert_eq!(count(&container, "posts").await, 0, "not outside");
    tx.rollback().await.unwrap();
    assert_eq!(count(&container, "posts").await, 0);

    // A failing multi-statement command inside a transaction undoes its own
    // writes only (a savepoint); the transaction goes on and commits.
    let tx = container.begin().await.unwrap();
    let posts = tx.relation("posts").unwrap();
    posts
        .command("create")
        .unwrap()
        .call(Tuple::from([
            ("url", Value::from("https://example.com/kept")),
            ("company_id", company.into()),
        ]))
        .await
        .unwrap();
    let err = posts
        .command("create_many")
        .unwrap()
        .with_capabilities(mysql())
        .call(Input::many([
            Tuple::from([
                ("id", Value::from(50)),
                ("url", "https://example.com/a".into()),
            ]),
            Tuple::from([("url", "https://example.com/b")]),
            Tuple::from([
                ("url", Value::from("https://example.com/c")),
                ("company_id", 999.into()),
            ]),
        ]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ForeignKey { .. }), "{err}");
    tx.commit().await.unwrap();
    let urls = container
        .relation("posts")
        .unwrap()
        .pluck("url")
        .await
        .unwrap();
    assert_eq!(urls, [Value::from("https://example.com/kept")]);

    // In a session (one connection, autocommit) several statements work
    // too; they commit as they run.
    let session = container.session().await.unwrap();
    let rows = session
        .relation("posts")
        .unwrap()
        .command("create_many")
        .unwrap()
        .with_capabilities(mysql())
        .call(Input::many([
            Tuple::from([("url", "https://example.com/s1")]),
            Tuple::from([("url", "https://example.com/s2")]),
        ]))
        .await
        .unwrap()
        .into_rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(count(&container, "posts").await, 3);

    // ... and all or nothing: a failing row undoes the ones before it.
    let err = session
        .relation("posts")
        .unwrap()
        .command("create_many")
        .unwrap()
        .with_capabilities(mysql())
        .call(Input::many([
            Tuple::from([("url", "https://example.com/s3")]),
            Tuple::from([("url", "https://example.com/s1")]),
        ]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unique { .. }), "{err}");
    assert_eq!(
        count(&container, "posts").await,
        3,
        "s3 was rolled back with the failing row"
    );
}

#[test]
fn created_rows_read_back_equal_for_generated_input() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_db, container) = runtime.block_on(reference_db());
    let tricky = prop_oneof![
        "\\PC{0,60}",
        "[%_'\"\\\\`;\\- ]{1,20}",
        Just("O'Reilly \"quoted\" \\ back`tick`; DROP TABLE companies; --".to_string()),
        Just("emoji 🦀 and 中文 and trailing spaces   ".to_string()),
    ];
    let strategy = (tricky.clone(), tricky, "[a-z0-9%?=&'#._~-]{0,80}");
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    let n = std::cell::Cell::new(0u32);
    runner
        .run(&strategy, |(name, domain, path)| {
            n.set(n.get() + 1);
            let n = n.get();
            let url = format!("https://example.com/{n}/{path}");
            runtime.block_on(async {
                let before = now();
                let company = call_one(
                    &container,
                    "companies",
                    "create",
                    [("name", name.as_str()), ("domain", domain.as_str())],
                )
                .await;
                let post = call_one(
                    &container,
                    "posts",
                    "create",
                    Tuple::from([
                        ("url", Value::from(url.as_str())),
                        ("company_id", get(&company, "id").clone()),
                    ]),
                )
                .await;
                let after = now();
                prop_assert_eq!(get(&company, "name"), &Value::from(name.as_str()));
                prop_assert_eq!(get(&company, "domain"), &Value::from(domain.as_str()));
                prop_assert_eq!(get(&company, "state"), &Value::from("running"));
                prop_assert_eq!(get(&post, "url"), &Value::from(url.as_str()));
                prop_assert_eq!(get(&post, "company_id"), get(&company, "id"));
                let stamp = time(&company, "created_at");
                prop_assert_eq!(time(&company, "updated_at"), stamp);
                prop_assert!(stamp >= before.with_nanosecond(0).unwrap() && stamp <= after);
                for name in ["scrapped_at", "created_at", "updated_at"] {
                    let t = time(&post, name);
                    prop_assert!(t >= before.with_nanosecond(0).unwrap() && t <= after);
                    prop_assert_eq!(t, time(&post, "created_at"));
                }
                let read = container
                    .relation("companies")
                    .unwrap()
                    .fetch_pk(get(&company, "id").clone())
                    .await
                    .unwrap();
                prop_assert_eq!(read, company);
                let read = by_url(&container.relation("posts").unwrap(), &url).await;
                prop_assert_eq!(read, post);
                Ok(())
            })
        })
        .unwrap();
}

/// `posts.by_url(url)`, the reference's view, read as one row.
async fn by_url(posts: &ferrom::Relation, url: &str) -> Row {
    posts
        .view("by_url", &[Value::from(url)])
        .unwrap()
        .one_strict()
        .await
        .unwrap()
}

/// Records what its `before` hook is given: how many tuples, each time.
#[derive(Debug)]
struct Recorder {
    chunks: bool,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Plugin for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn takes_chunks(&self) -> bool {
        self.chunks
    }

    fn before(&self, _ctx: &CommandContext<'_>, tuples: &mut [Tuple]) -> ferrom::Result<()> {
        let mut log = self.log.lock().unwrap();
        log.push(format!("before {}", tuples.len()));
        Ok(())
    }
}

#[tokio::test]
async fn call_many_checks_and_writes_tuples_as_its_iterator_yields_them() {
    let (db, _) = reference_db().await;
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stamps = || Timestamps::new(["scrapped_at", "created_at", "updated_at"]);
    let mut config = post_analytics::configuration(&db.test_settings());
    let recorder = |chunks| Recorder {
        chunks,
        log: log.clone(),
    };
    config
        .register_command(
            CommandDefinition::create("posts", "stream")
                .plugin(stamps())
                .plugin(recorder(true)),
        )
        .register_command(
            CommandDefinition::create("posts", "collect")
                .plugin(stamps())
                .plugin(recorder(false)),
        )
        .register_command(
            CommandDefinition::create("posts", "import")
                .result(ResultKind::Count)
                .plugin(stamps()),
        );
    let container = config.finalize().await.unwrap();
    let company = new_company(&container, "Acme").await;
    // Twenty posts, logged as the iterator builds them. Every third gives
    // its stats; the fifteenth (past the first few) is the first to give
    // `published_at`, a column the rows before it do not have.
    let posts = |prefix: &'static str, log: &std::sync::Arc<std::sync::Mutex<Vec<String>>>| {
        let log = log.clone();
        (0..20).map(move |n| {
            log.lock().unwrap().push("built".into());
            let mut tuple = Tuple::from([
                (
                    "url",
                    Value::from(format!("https://example.com/{prefix}/{n}")),
                ),
                ("company_id", Value::from(company)),
            ]);
            if n % 3 == 0 {
                tuple.set("stats", serde_json::json!({ "views": n }));
            }
            if n >= 14 {
                tuple.set("published_at", "2019-03-09T14:24:23Z");
            }
            tuple
        })
    };
    let logged = |log: &std::sync::Arc<std::sync::Mutex<Vec<String>>>| {
        std::mem::take(&mut *log.lock().unwrap())
    };
    let expect = |chunks: &[usize]| {
        chunks
            .iter()
            .flat_map(|&n| {
                std::iter::repeat_n("built".to_string(), n).chain([format!("before {n}")])
            })
            .collect::<Vec<_>>()
    };

    // Streamed: a few tuples built, made ready and encoded at a time; one
    // INSERT ... RETURNING for all of them.
    let stream = container.command("posts", "stream").unwrap();
    let ran = statements(&container);
    let before = now();
    let rows = stream
        .call_many(posts("s", &log))
        .await
        .unwrap()
        .into_rows();
    let after = now();
    assert_eq!(logged(&log), expect(&[8, 8, 4]));
    assert_eq!(statements(&container) - ran, 1);
    assert_eq!(rows.len(), 20);
    for (n, row) in rows.iter().enumerate() {
        assert_eq!(
            get(row, "url"),
            &Value::from(format!("https://example.com/s/{n}"))
        );
        let stats = get(row, "stats");
        if n % 3 == 0 {
            assert_eq!(stats, &Value::from(serde_json::json!({ "views": n })));
        } else {
            assert_eq!(stats, &Value::Null, "row {n} takes the column default");
        }
        assert_eq!(
            get(row, "published_at").is_null(),
            n < 14,
            "row {n}: {:?}",
            get(row, "published_at")
        );
        // One time for the whole call, though the plugin ran three times.
        assert_eq!(time(row, "created_at"), time(&rows[0], "created_at"));
        assert_eq!(time(row, "updated_at"), time(&rows[0], "created_at"));
    }
    stamped_between(time(&rows[0], "created_at"), before, after);
    let stored = container
        .relation("posts")
        .unwrap()
        .order(["id"])
        .to_vec()
        .await
        .unwrap();
    assert_eq!(stored, rows, "returned as stored, in input order");

    // A plugin that does not take chunks sees every tuple at once; so does
    // any plugin under `call`.
    let collect = container.command("posts", "collect").unwrap();
    let rows = collect.call_many(posts("c", &log)).await.unwrap();
    assert_eq!(logged(&log), expect(&[20]));
    assert_eq!(rows.len(), 20);
    let rows = stream.call(Input::many(posts("i", &log))).await.unwrap();
    assert_eq!(logged(&log), expect(&[20]));
    assert_eq!(rows.len(), 20);
    // On MySQL the created rows are re-read by key: collected first.
    let rows = stream
        .with_capabilities(mysql())
        .call_many(posts("m", &log))
        .await
        .unwrap()
        .into_rows();
    assert_eq!(logged(&log), expect(&[20]));
    assert_eq!(
        get(&rows[19], "url"),
        &Value::from("https://example.com/m/19")
    );
    assert_eq!(count(&container, "posts").await, 80);

    // A tuple that fails its check, past the first few: nothing is sent.
    let ran = statements(&container);
    let bad = posts("bad", &log).enumerate().map(|(n, mut tuple)| {
        if n == 12 {
            tuple.set("titel", "typo");
        }
        tuple
    });
    let err = stream.call_many(bad).await.unwrap_err();
    assert!(
        matches!(&err, Error::UnknownAttribute { attribute, .. } if attribute == "titel"),
        "{err}"
    );
    assert_eq!(statements(&container) - ran, 0);
    assert_eq!(count(&container, "posts").await, 80);
    // The iterator is not taken past the failing chunk, whose check
    // failed before the plugins ran.
    let mut want = expect(&[8]);
    want.extend(std::iter::repeat_n("built".to_string(), 8));
    assert_eq!(logged(&log), want);

    // Result Count on MySQL streams too: nothing is read back.
    let import = container.command("posts", "import").unwrap();
    let out = import
        .with_capabilities(mysql())
        .call_many((0..30).map(|n| {
            Tuple::from([
                ("url", Value::from(format!("https://example.com/count/{n}"))),
                ("company_id", Value::from(company)),
            ])
        }))
        .await
        .unwrap();
    assert_eq!(out, CommandOutput::Count(30));
    assert_eq!(count(&container, "posts").await, 110);
    // No tuple at all: nothing sent.
    let ran = statements(&container);
    let out = import.call_many(Vec::<Tuple>::new()).await.unwrap();
    assert_eq!(out, CommandOutput::Count(0));
    assert_eq!(statements(&container) - ran, 0);
}
