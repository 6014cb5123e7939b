//! Relations and the container on the reference schema: every query method
//! and materializer against the real server.

use ferrom::relation::{AggregateFn, LockMode, LockWait, aggregate, count_all};
use ferrom::{Condition, Container, Error, Relation, Value, attr};
use futures_util::StreamExt;
use post_analytics::{Companies, Company, Post, Posts};

use crate::support::{TestDb, reference_db};

/// Three companies; posts 1-5 on company 1, 6-7 on company 2, none on 3.
async fn seed(container: &Container) {
    let companies = container.relation("companies").unwrap();
    companies
        .read(
            "INSERT INTO companies (id, name, domain, state, created_at) VALUES
             (1, 'Acme', 'https://acme.test', 'running', '2019-03-09 14:24:23'),
             (2, 'Beta', 'https://beta.test', 'stopped', NULL),
             (3, 'Gamma', 'https://gamma.test', 'running', NULL)",
            &[],
        )
        .await
        .unwrap();
    let posts = container.relation("posts").unwrap();
    for i in 1..=7 {
        let company = if i <= 5 { 1 } else { 2 };
        let error: Value = if i == 3 {
            "timeout".into()
        } else {
            Value::Null
        };
        posts
            .read(
                "INSERT INTO posts (id, url, se_post, scrapped_at, error, stats, company_id) VALUES (?, ?, ?, '2019-03-10 10:00:00', ?, ?, ?)",
                &[
                    Value::Int(i),
                    format!("http://example.com/{i}").into(),
                    (i % 2 == 0).into(),
                    error,
                    Value::Json(serde_json::json!({"views": i * 10})),
                    company.into(),
                ],
            )
            .await
            .unwrap();
    }
}

fn ids(rows: &[ferrom::Row]) -> Vec<i64> {
    rows.iter()
        .map(|r| r.get("id").unwrap().as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn container_gives_relations_by_name_and_type() {
    let (_db, container) = reference_db().await;
    let companies = container.relation("companies").unwrap();
    assert_eq!(companies.count().await.unwrap(), 0);
    assert_eq!(
        container.relation("posts").unwrap().count().await.unwrap(),
        0
    );
    let err = container.relation("nope").unwrap_err();
    assert!(matches!(err, Error::UnknownRelation { .. }));
    assert!(err.to_string().contains("companies, posts"), "{err}");
    let posts: Posts = container.get().unwrap();
    assert_eq!(posts.name(), "posts");
    let typed: Companies = container.get().unwrap();
    assert_eq!(typed.schema().primary_key_names(), ["id"]);
    assert!(container.gateway("default").is_ok());
    assert!(container.gateway("legacy").is_err());
    // The schema as inferred, with the declared JSON override.
    let schema = posts.schema();
    assert_eq!(schema.attribute("stats").unwrap().ty, ferrom::Type::Json);
    assert_eq!(schema.attribute("se_post").unwrap().ty, ferrom::Type::Bool);
    assert_eq!(schema.attribute("state").map(|_| ()), None);
    let company_assoc = schema.association("company").unwrap();
    assert_eq!(
        (
            company_assoc.source_key.as_str(),
            company_assoc.target_key.as_str()
        ),
        ("company_id", "id")
    );
    let posts_assoc = container
        .relation("companies")
        .unwrap()
        .schema()
        .association("posts")
        .unwrap()
        .clone();
    assert_eq!(
        (
            posts_assoc.source_key.as_str(),
            posts_assoc.target_key.as_str()
        ),
        ("id", "company_id")
    );
}

#[tokio::test]
async fn finalize_fails_at_boot_for_a_missing_table() {
    let db = TestDb::create().await;
    let err = post_analytics::configuration(&db.test_settings())
        .finalize()
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::MissingTable { .. }), "{msg}");
    assert!(
        msg.contains("relation `companies`") && msg.contains("table `companies`"),
        "{msg}"
    );
    assert!(msg.contains("ferrom db migrate"), "{msg}");
}

#[tokio::test]
async fn finalize_reads_the_schema_in_one_round_trip() {
    let (db, _container) = reference_db().await;
    let container = post_analytics::configuration(&db.test_settings())
        .finalize()
        .await
        .unwrap();
    assert_eq!(container.relations().len(), 2);
    // Two relations, one introspection statement.
    assert_eq!(container.gateway("default").unwrap().statements_run(), 1);
    container.relation("posts").unwrap().count().await.unwrap();
    assert_eq!(container.gateway("default").unwrap().statements_run(), 2);
}

#[tokio::test]
async fn where_conditions() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();
    assert_eq!(
        ids(&posts.filter(("company_id", 2)).to_vec().await.unwrap()),
        [6, 7]
    );
    assert_eq!(
        ids(&posts
            .filter(("company_id", vec![2, 3]))
            .to_vec()
            .await
            .unwrap()),
        [6, 7]
    );
    assert_eq!(
        posts
            .filter(attr("id").in_list(Vec::<i64>::new()))
            .count()
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        posts
            .filter(attr("id").not_in(Vec::<i64>::new()))
            .count()
            .await
            .unwrap(),
        7
    );
    assert_eq!(
        ids(&posts
            .filter(("error", Value::Null))
            .exclude(("se_post", true))
            .to_vec()
            .await
            .unwrap()),
        [1, 5, 7]
    );
    assert_eq!(
        ids(&posts
            .filter(attr("error").not_null())
            .to_vec()
            .await
            .unwrap()),
        [3]
    );
    assert_eq!(
        ids(&posts.filter(attr("id").gt(5)).to_vec().await.unwrap()),
        [6, 7]
    );
    assert_eq!(
        ids(&posts.filter(attr("id").le(2)).to_vec().await.unwrap()),
        [1, 2]
    );
    assert_eq!(
        ids(&posts
            .filter(attr("id").ne(1) & attr("id").lt(3))
            .to_vec()
            .await
            .unwrap()),
        [2]
    );
    assert_eq!(
        ids(&posts
            .filter(attr("url").like("%/7"))
            .to_vec()
            .await
            .unwrap()),
        [7]
    );
    let either = attr("id").eq(1) | (attr("company_id").eq(2) & !attr("se_post").eq(true));
    assert_eq!(ids(&posts.filter(either).to_vec().await.unwrap()), [1, 7]);
    assert_eq!(
        ids(&posts
            .filter(Condition::from_pairs([("company_id", 1), ("se_post", 1)]))
            .to_vec()
            .await
            .unwrap()),
        [2, 4]
    );
    // NULL inside an IN list matches NULL.
    let companies = container.relation("companies").unwrap();
    assert_eq!(
        ids(&companies
            .filter(("created_at", vec![Value::Null]))
            .to_vec()
            .await
            .unwrap()),
        [2, 3]
    );
    // Unknown attributes are errors naming the relation's attributes.
    let err = posts.filter(("nope", 1)).to_vec().await.unwrap_err();
    assert!(matches!(err, Error::UnknownAttribute { .. }));
    assert!(
        err.to_string().contains("attributes: id, url, se_post"),
        "{err}"
    );
}

#[tokio::test]
async fn order_limit_offset_select_distinct() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();
    // Default order is the primary key.
    assert_eq!(ids(&posts.to_vec().await.unwrap()), [1, 2, 3, 4, 5, 6, 7]);
    assert!(
        posts
            .to_sql()
            .unwrap()
            .ends_with("ORDER BY `posts`.`id` ASC"),
        "{}",
        posts.to_sql().unwrap()
    );
    let ordered = posts.order([attr("company_id").desc(), attr("id").asc()]);
    assert_eq!(ids(&ordered.to_vec().await.unwrap()), [6, 7, 1, 2, 3, 4, 5]);
    assert_eq!(
        ids(&posts
            .order(["id"])
            .reverse()
            .limit(2)
            .to_vec()
            .await
            .unwrap()),
        [7, 6]
    );
    assert_eq!(
        ids(&posts.limit(2).offset(3).to_vec().await.unwrap()),
        [4, 5]
    );
    assert_eq!(ids(&posts.offset(5).to_vec().await.unwrap()), [6, 7]);
    let projected = posts.select(["id", "url"]).first().await.unwrap().unwrap();
    assert_eq!(projected.names(), ["id", "url"]);
    assert_eq!(
        projected.get("url").unwrap(),
        &Value::from("http://example.com/1")
    );
    assert!(projected.get("stats").is_err());
    let distinct = posts
        .select(["company_id"])
        .distinct()
        .unordered()
        .order(["company_id"])
        .pluck("company_id")
        .await
        .unwrap();
    assert_eq!(distinct, [Value::Int(1), Value::Int(2)]);
    assert_eq!(posts.project(["id"]).pluck("id").await.unwrap().len(), 7);
    assert!(!posts.unordered().to_sql().unwrap().contains("ORDER BY"));
}

#[tokio::test]
async fn group_having_joins_and_aggregates() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();
    let grouped = posts
        .group(["company_id"])
        .select_aggregate(count_all(), "posts_count")
        .having(count_all().gt(2));
    let rows = grouped.to_vec().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get("company_id").unwrap(), &Value::Int(1));
    assert_eq!(rows[0].get("posts_count").unwrap().as_i64(), Some(5));
    let summed = posts
        .group(["company_id"])
        .select_aggregate(aggregate(AggregateFn::Max, "id"), "last_id")
        .to_vec()
        .await
        .unwrap();
    assert_eq!(
        summed
            .iter()
            .map(|r| r.get("last_id").unwrap().as_i64().unwrap())
            .collect::<Vec<_>>(),
        [5, 7]
    );

    // join through belongs_to: posts of running companies.
    let running = posts.join("company").filter(("company.state", "running"));
    assert_eq!(running.count().await.unwrap(), 5);
    let with_name = running
        .select_append(["company.name"])
        .first()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(with_name.get("company_name").unwrap(), &Value::from("Acme"));
    // left_join through has_many keeps companies without posts.
    let companies = container.relation("companies").unwrap();
    let without = companies
        .left_join("posts")
        .filter(attr("posts.id").is_null());
    assert_eq!(ids(&without.to_vec().await.unwrap()), [3]);
    let err = posts
        .filter(("company.state", "x"))
        .to_vec()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not joined"), "{err}");
    assert!(matches!(
        posts.join("nope").to_vec().await.unwrap_err(),
        Error::UnknownAssociation { .. }
    ));

    assert_eq!(posts.sum("id").await.unwrap().to_string(), "28");
    assert_eq!(posts.min("id").await.unwrap().as_i64(), Some(1));
    assert_eq!(
        posts.max("url").await.unwrap(),
        Value::from("http://example.com/7")
    );
    assert_eq!(
        posts
            .filter(("company_id", 2))
            .avg("id")
            .await
            .unwrap()
            .to_string(),
        "6.5000"
    );
    assert_eq!(
        posts.filter(("id", 0)).sum("id").await.unwrap(),
        Value::Null
    );
}

#[tokio::test]
async fn materializers() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();
    assert_eq!(
        posts.first().await.unwrap().unwrap().get("id").unwrap(),
        &Value::Int(1)
    );
    assert_eq!(
        posts.last().await.unwrap().unwrap().get("id").unwrap(),
        &Value::Int(7)
    );
    assert!(posts.filter(("id", 99)).first().await.unwrap().is_none());
    assert_eq!(
        posts
            .by_pk(3)
            .one()
            .await
            .unwrap()
            .unwrap()
            .get("error")
            .unwrap(),
        &Value::from("timeout")
    );
    assert!(posts.by_pk(99).one().await.unwrap().is_none());
    let many = posts.one().await.unwrap_err();
    assert!(matches!(many, Error::TupleCountMismatch { .. }), "{many}");
    assert!(matches!(
        posts.by_pk(99).one_strict().await.unwrap_err(),
        Error::TupleCountMismatch { .. }
    ));
    assert_eq!(
        posts.fetch_pk(2).await.unwrap().get("se_post").unwrap(),
        &Value::Bool(true)
    );
    assert!(posts.exists().await.unwrap());
    assert!(!posts.filter(("company_id", 3)).exists().await.unwrap());
    assert_eq!(
        posts
            .filter(("company_id", [1, 2, 3]))
            .count()
            .await
            .unwrap(),
        7
    );
    assert_eq!(posts.limit(3).count().await.unwrap(), 3);
    assert_eq!(
        posts.filter(("company_id", 2)).pluck("url").await.unwrap(),
        [
            Value::from("http://example.com/6"),
            Value::from("http://example.com/7")
        ]
    );
    assert_eq!(
        posts
            .filter(("id", 1))
            .pluck_many(["id", "company_id"])
            .await
            .unwrap(),
        [vec![Value::Int(1), Value::Int(1)]]
    );
    let stats = posts.by_pk(4).one_strict().await.unwrap();
    assert_eq!(
        stats.get("stats").unwrap(),
        &Value::Json(serde_json::json!({"views": 40}))
    );
    let streamed: Vec<i64> = posts
        .stream()
        .map(|r| r.unwrap().get("id").unwrap().as_i64().unwrap())
        .collect()
        .await;
    assert_eq!(streamed, [1, 2, 3, 4, 5, 6, 7]);
    let raw = posts
        .read(
            "SELECT COUNT(*) AS n, MAX(url) AS top FROM posts WHERE company_id = ?",
            &[2.into()],
        )
        .await
        .unwrap();
    assert_eq!(raw[0].get("n").unwrap().as_i64(), Some(2));
    assert_eq!(
        raw[0].get("top").unwrap(),
        &Value::from("http://example.com/7")
    );
}

#[tokio::test]
async fn views_by_name_and_typed() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();
    let by_url = posts
        .view("by_url", &["http://example.com/5".into()])
        .unwrap();
    assert_eq!(ids(&by_url.to_vec().await.unwrap()), [5]);
    assert!(
        by_url.to_sql().unwrap().contains("WHERE `posts`.`url` = ?"),
        "{}",
        by_url.to_sql().unwrap()
    );
    assert!(matches!(
        posts.view("by_name", &[]).unwrap_err(),
        Error::UnknownView { .. }
    ));
    assert!(
        posts
            .view("by_url", &[])
            .unwrap_err()
            .to_string()
            .contains("takes 1 argument")
    );
    let typed: Posts = container.get().unwrap();
    let post: Post = typed
        .by_url("http://example.com/6")
        .map_to::<Post>()
        .one_strict()
        .await
        .unwrap();
    assert_eq!(post.id, 6);
    assert!(post.se_post);
    assert_eq!(
        post.stats.as_ref().map(|j| j.0.clone()),
        Some(serde_json::json!({"views": 60}))
    );
    assert_eq!(post.company_id, Some(2));
}

#[tokio::test]
async fn typed_mapping_reads_structs() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let companies = container.relation("companies").unwrap();
    let all: Vec<Company> = companies.map_to::<Company>().to_vec().await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].name, "Acme");
    assert_eq!(
        all[0].created_at.unwrap().to_string(),
        "2019-03-09 14:24:23"
    );
    assert_eq!(all[1].state, "stopped");
    let posts = container.relation("posts").unwrap();
    let mut seen = Vec::new();
    posts
        .filter(("company_id", 1))
        .map_to::<Post>()
        .for_each(|p| {
            seen.push(p.id);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    assert!(posts.map_to::<Post>().one().await.is_err());
}

#[tokio::test]
async fn pagination_with_totals() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();
    let page = posts.per_page(3).page(3);
    assert_eq!(ids(&page.to_vec().await.unwrap()), [7]);
    let pager = page.pager().await.unwrap();
    assert_eq!(
        (pager.total, pager.total_pages(), pager.current_page),
        (7, 3, 3)
    );
    assert_eq!((pager.next_page(), pager.prev_page()), (None, Some(2)));
    assert_eq!((pager.first_in_page(), pager.last_in_page()), (7, 7));
    let first = posts.page(1).per_page(5);
    assert_eq!(ids(&first.to_vec().await.unwrap()), [1, 2, 3, 4, 5]);
    assert_eq!(first.pager().await.unwrap().next_page(), Some(2));
}

#[tokio::test]
async fn locks_render_for_the_server_and_run() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();
    let caps = *posts.gateway().capabilities();
    let update = posts.by_pk(1).lock(LockMode::Update, LockWait::Wait);
    assert!(update.to_sql().unwrap().ends_with("FOR UPDATE"));
    assert_eq!(update.count().await.unwrap(), 1);
    let share = posts
        .lock(LockMode::Share, LockWait::Wait)
        .to_sql()
        .unwrap();
    if caps.for_share {
        assert!(share.ends_with("FOR SHARE"), "{share}");
    } else {
        assert!(share.ends_with("LOCK IN SHARE MODE"), "{share}");
    }
    let skip = posts.lock(LockMode::Update, LockWait::SkipLocked);
    assert!(skip.to_sql().unwrap().ends_with("FOR UPDATE SKIP LOCKED"));
    assert_eq!(skip.to_vec().await.unwrap().len(), 7);
    assert!(
        posts
            .lock(LockMode::Update, LockWait::NoWait)
            .to_sql()
            .unwrap()
            .ends_with("FOR UPDATE NOWAIT")
    );
}

/// A relation pinned to one primary key is a plain key lookup for the
/// server: no `ORDER BY`, and no `LIMIT` when the limit lets the row
/// through; limits that do not, and offsets, still apply.
#[tokio::test]
async fn lookups_by_key_render_as_plain_key_lookups() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();
    let lookup = posts.by_pk(2);
    let sql = lookup.limit(2).to_sql().unwrap();
    assert!(
        sql.ends_with("FROM `posts` WHERE `posts`.`id` = ?"),
        "{sql}"
    );
    assert_eq!(sql, lookup.to_sql().unwrap());
    assert_eq!(ids(&lookup.limit(2).to_vec().await.unwrap()), [2]);
    assert_eq!(
        lookup.one().await.unwrap().unwrap().get("id").unwrap(),
        &Value::from(2)
    );
    // Limits that hide the row, and offsets, keep their clauses.
    assert!(lookup.limit(0).to_sql().unwrap().contains("LIMIT"));
    assert!(lookup.limit(0).to_vec().await.unwrap().is_empty());
    assert!(lookup.offset(1).to_vec().await.unwrap().is_empty());
    // Anything that is not the whole key stays ordered.
    let by_company = posts.filter(("company_id", 1)).limit(2).to_sql().unwrap();
    assert!(by_company.contains("ORDER BY"), "{by_company}");
    // by_pk is the filter on the key, whichever way it is built.
    for restricted in [posts.clone(), posts.filter(("company_id", 1))] {
        assert_eq!(
            restricted.by_pk(2).to_sql().unwrap(),
            restricted
                .filter(Condition::from_pairs([("id", 2)]))
                .to_sql()
                .unwrap()
        );
    }
    assert!(posts.by_pk(Value::Null).to_vec().await.unwrap().is_empty());
    assert!(
        posts
            .filter(("company_id", 2))
            .by_pk(2)
            .to_vec()
            .await
            .unwrap()
            .is_empty()
    );
    // The key with another condition, or another selection, is not the
    // plain lookup: the condition and the selection hold.
    let other = posts.filter(("url", "http://example.com/3")).by_pk(2);
    assert!(other.to_sql().unwrap().contains("`url`"));
    assert!(other.to_vec().await.unwrap().is_empty());
    let projected = posts.select(["id"]).by_pk(2).to_vec().await.unwrap();
    assert_eq!(projected[0].names(), ["id"]);
    // A lookup that kept a builder error reports it, read as it arrives or
    // not.
    let broken = lookup.filter(("no_such_attribute", 1));
    for err in [
        broken.one().await.unwrap_err(),
        broken.map_to::<Post>().one().await.unwrap_err(),
    ] {
        assert!(
            matches!(&err, Error::UnknownAttribute { attribute, .. } if attribute == "no_such_attribute"),
            "{err:?}"
        );
    }
    // Plain lookups of other keys and on a session read their own rows.
    let session = container.session().await.unwrap();
    let on_session = session.relation("posts").unwrap();
    for id in [5, 1, 7] {
        let row = on_session.by_pk(id).one_strict().await.unwrap();
        assert_eq!(row.get("id").unwrap(), &Value::from(id));
        assert_eq!(
            row.get("url").unwrap(),
            &Value::from(format!("http://example.com/{id}"))
        );
    }
}

#[tokio::test]
async fn composite_keys_and_huge_in_lists() {
    let (db, container) = reference_db().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql("CREATE TABLE memberships (a INT NOT NULL, b VARCHAR(10) NOT NULL, note TEXT, PRIMARY KEY (a, b));
                   INSERT INTO memberships VALUES (1, 'x', 'one'), (1, 'y', 'two'), (2, 'x', 'three')")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut config = ferrom::Configuration::with_default_gateway(db.settings.clone());
    config.register_relation(ferrom::RelationDefinition::new("memberships"));
    let c2 = config.finalize().await.unwrap();
    let m = c2.relation("memberships").unwrap();
    assert_eq!(m.schema().primary_key_names(), ["a", "b"]);
    let row = m
        .by_pk(vec![Value::Int(1), "y".into()])
        .one_strict()
        .await
        .unwrap();
    assert_eq!(row.get("note").unwrap(), &Value::from("two"));
    assert_eq!(
        m.fetch_pk(vec![Value::Int(2), "x".into()])
            .await
            .unwrap()
            .get("note")
            .unwrap(),
        &Value::from("three")
    );
    let wrong = m.by_pk(1).to_vec().await.unwrap_err();
    assert!(
        wrong
            .to_string()
            .contains("2 value(s) for the primary key (a, b)"),
        "{wrong}"
    );
    assert_eq!(
        ids_of(&m.to_vec().await.unwrap(), "note"),
        ["one", "two", "three"]
    );

    // An IN list beyond MySQL's 65,535 placeholders is a clear error.
    let posts = container.relation("posts").unwrap();
    let huge: Vec<i64> = (0..70_000).collect();
    let err = posts
        .filter(attr("id").in_list(huge))
        .count()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooManyParameters { .. }), "{err}");
    assert!(err.to_string().contains("65,535"), "{err}");
    let big: Vec<i64> = (0..60_000).collect();
    assert_eq!(
        posts.filter(attr("id").in_list(big)).count().await.unwrap(),
        0
    );
}

fn ids_of(rows: &[ferrom::Row], name: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r.get(name).unwrap().as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn streaming_a_large_table_keeps_memory_bounded() {
    let (db, container) = reference_db().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(
        "INSERT INTO companies (name, domain) VALUES ('big', 'big.test');
         CREATE TEMPORARY TABLE d (n INT);
         INSERT INTO d VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);
         INSERT INTO posts (url, scrapped_at, stats, company_id, error)
           SELECT CONCAT('http://example.com/big/', a.n + 10*b.n + 100*c.n + 1000*e.n + 10000*f.n), '2020-01-01', '{}', 1, REPEAT('x', 200)
           FROM d a, d b, d c, d e, d f",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let posts = container.relation("posts").unwrap();
    assert_eq!(posts.count().await.unwrap(), 100_000);
    let before = rss_kib();
    let mut stream = posts.stream();
    let mut n = 0u64;
    let mut peak = before;
    while let Some(row) = stream.next().await {
        let row = row.unwrap();
        assert!(
            row.get("url")
                .unwrap()
                .as_str()
                .unwrap()
                .starts_with("http://example.com/big/")
        );
        n += 1;
        if n.is_multiple_of(10_000) {
            peak = peak.max(rss_kib());
        }
    }
    assert_eq!(n, 100_000);
    // 100,000 rows of ~300 bytes are ~30 MB as rows; streaming keeps growth
    // far below that.
    assert!(
        peak.saturating_sub(before) < 20_000,
        "RSS grew by {} KiB while streaming",
        peak - before
    );
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn server_errors_are_classified() {
    let (_db, container) = reference_db().await;
    seed(&container).await;
    let posts = container.relation("posts").unwrap();
    let dup = posts
        .read(
            "INSERT INTO posts (url, scrapped_at) VALUES ('http://example.com/1', NOW())",
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&dup, Error::Unique { key, .. } if key == "posts_url_index"),
        "{dup}"
    );
    let fk = posts
        .read(
            "INSERT INTO posts (url, scrapped_at, company_id) VALUES ('http://x.test', NOW(), 999)",
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&fk, Error::ForeignKey { constraint, .. } if constraint == "posts_company_id_fkey"),
        "{fk}"
    );
    let null = posts
        .read(
            "INSERT INTO posts (url, scrapped_at) VALUES (NULL, NOW())",
            &[],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&null, Error::NotNull { attribute, .. } if attribute == "url"),
        "{null}"
    );
    let long = posts
        .read(
            "INSERT INTO posts (url, scrapped_at) VALUES (?, NOW())",
            &["x".repeat(300).into()],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&long, Error::DataTooLong { attribute, .. } if attribute == "url"),
        "{long}"
    );
    let json = posts
        .read("INSERT INTO posts (url, scrapped_at, stats) VALUES ('http://j.test', NOW(), 'not json')", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(json, Error::Check { .. } | Error::DataTooLong { .. }),
        "{json}"
    );
    assert_eq!(posts.count().await.unwrap(), 7, "nothing was written");
}

fn _assert_relation_is_send(r: Relation) -> impl Send {
    r
}

#[tokio::test]
async fn relations_on_named_gateways_and_unknown_types_warn() {
    let main = TestDb::create().await;
    let legacy = TestDb::create().await;
    let mut conn = legacy.connect().await;
    sqlx::raw_sql(
        "CREATE TABLE accounts (id INT PRIMARY KEY, flags BIT(8), spot POINT, note VARCHAR(10));
         INSERT INTO accounts VALUES (1, b'00000101', POINT(1, 2), 'old')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let mut config = ferrom::Configuration::with_default_gateway(main.settings.clone());
    config.add_gateway("legacy", legacy.settings.clone());
    config.register_relation(ferrom::RelationDefinition::new("accounts").gateway("legacy"));
    let container = config.finalize().await.unwrap();
    let accounts = container.relation("accounts").unwrap();
    assert_eq!(accounts.gateway().database(), legacy.name());
    assert_eq!(
        container.gateway("legacy").unwrap().database(),
        legacy.name()
    );
    // Unknown column types do not stop the boot: they read as bytes, with a warning naming them.
    let warnings = container.warnings().join("\n");
    assert!(
        warnings.contains("accounts") && warnings.contains("flags") && warnings.contains("bit(8)"),
        "{warnings}"
    );
    assert!(warnings.contains("spot"), "{warnings}");
    let row = accounts.by_pk(1).one_strict().await.unwrap();
    assert_eq!(row.get("flags").unwrap(), &Value::Bytes(vec![5]));
    assert_eq!(row.get("note").unwrap(), &Value::from("old"));

    // A relation naming an unconfigured gateway fails at boot.
    let mut bad = ferrom::Configuration::with_default_gateway(main.settings.clone());
    bad.register_relation(ferrom::RelationDefinition::new("accounts").gateway("archive"));
    let err = bad.finalize().await.unwrap_err();
    assert!(matches!(err, Error::UnknownGateway { .. }), "{err}");
    assert!(
        err.to_string().contains("archive") && err.to_string().contains("default"),
        "{err}"
    );
}
