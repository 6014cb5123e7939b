//! Factories against the real server, through the harness: the reference
//! test ported, factory-driven tests of relations and commands end to end,
//! overrides, traits, sequences under parallel tasks, build against create,
//! the harness itself, and properties over seeds and threads.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta, Utc};
use ferrom::factory::{Factories, FactoryError, Overrides};
use ferrom::testing::{Setup, TestContext};
use ferrom::{Container, Error, Row, Value};
use post_analytics::{Company, Post};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::harness;

/// The README's example, compiled and run as a test.
mod readme;

/// The README's "Factories and tests" example is `tests/factories/readme.rs`
/// word for word, so the README shows code that compiles and passes.
#[test]
fn the_readme_shows_the_tested_example() {
    let readme = include_str!("../README.md");
    let example = include_str!("factories/readme.rs");
    assert!(
        readme.contains(&format!("```rust\n{example}```")),
        "the README's factories example differs from tests/factories/readme.rs: copy the file into the README"
    );
}

async fn setup() -> TestContext {
    match harness().setup().await {
        Ok(t) => t,
        Err(e) => panic!("{e}"),
    }
}

fn get<'a>(row: &'a Row, name: &str) -> &'a Value {
    row.get(name).unwrap()
}

fn int(row: &Row, name: &str) -> i64 {
    get(row, name)
        .as_i64()
        .unwrap_or_else(|| panic!("{name} is {:?}", get(row, name)))
}

fn text<'a>(row: &'a Row, name: &str) -> &'a str {
    get(row, name)
        .as_str()
        .unwrap_or_else(|| panic!("{name} is {:?}", get(row, name)))
}

fn time(row: &Row, name: &str) -> NaiveDateTime {
    match get(row, name) {
        Value::DateTime(t) => *t,
        other => panic!("{name} is {other:?}, not a datetime"),
    }
}

async fn count(container: &Container, relation: &str) -> u64 {
    container.relation(relation).unwrap().count().await.unwrap()
}

fn statements(container: &Container) -> u64 {
    container.gateway("default").unwrap().statements_run()
}

fn factory_error(err: &Error) -> &FactoryError {
    match err {
        Error::Factory(e) => e,
        other => panic!("expected a factory error, got {other:?}"),
    }
}

/// The reference test (the article's spec), ported: clear posts then
/// companies with the delete commands, create `with_post`, expect one
/// company, one post, and the post's company_id equal to the company's id.
#[tokio::test]
async fn the_reference_test() {
    let t = setup().await;
    let c = &t.container;
    c.command("posts", "delete")
        .unwrap()
        .call(())
        .await
        .unwrap();
    c.command("companies", "delete")
        .unwrap()
        .call(())
        .await
        .unwrap();

    let company = t.factories.create("with_post", ()).await.unwrap();

    assert_eq!(count(c, "companies").await, 1);
    assert_eq!(count(c, "posts").await, 1);
    let post = c.relation("posts").unwrap().first().await.unwrap().unwrap();
    assert_eq!(int(&post, "company_id"), int(&company, "id"));
    // The returned company has its post nested, as persisted.
    let posts = company.children("posts").unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0], post);
    assert!(text(&company, "name").starts_with("Company Name "));
    assert!(text(&company, "domain").starts_with("https://"));
    assert_eq!(text(&company, "state"), "running");
    assert!(text(&post, "url").starts_with("https://example.com/"));
    assert_eq!(get(&post, "se_post"), &Value::Bool(false));
    assert_eq!(get(&post, "stats"), &Value::Json(serde_json::json!({})));
}

#[tokio::test]
async fn queries_run_over_factory_data() {
    let t = setup().await;
    let f = &t.factories;
    let acme = f.create("company", [("name", "Acme")]).await.unwrap();
    let beta = f
        .create("company", [("name", "Beta"), ("state", "stopped")])
        .await
        .unwrap();
    for _ in 0..3 {
        f.request("post")
            .row("company", acme.clone())
            .create()
            .await
            .unwrap();
    }
    let se = f
        .create_with_traits(
            "post",
            &["search_engine"],
            Overrides::new().row("company", beta.clone()),
        )
        .await
        .unwrap();

    let c = &t.container;
    assert_eq!(count(c, "companies").await, 2);
    let posts = c.relation("posts").unwrap();
    assert_eq!(
        posts
            .filter(("company_id", int(&acme, "id")))
            .count()
            .await
            .unwrap(),
        3
    );
    assert_eq!(posts.filter(("se_post", true)).count().await.unwrap(), 1);
    let by_url = posts
        .view("by_url", &[get(&se, "url").clone()])
        .unwrap()
        .one()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(int(&by_url, "id"), int(&se, "id"));
    let running = c
        .relation("companies")
        .unwrap()
        .filter(("state", "running"))
        .pluck("name")
        .await
        .unwrap();
    assert_eq!(running, vec![Value::from("Acme")]);
    // Posts wrapped with their company: every post has one.
    let wrapped = posts.wrap("company").to_vec().await.unwrap();
    assert_eq!(wrapped.len(), 4);
    for post in &wrapped {
        let company = post.parent("company").unwrap().unwrap();
        assert_eq!(int(company, "id"), int(post, "company_id"));
    }
}

#[tokio::test]
async fn combine_loads_companies_with_several_posts() {
    let t = setup().await;
    let f = &t.factories;
    let three = f.create("company", [("posts", 3)]).await.unwrap();
    let two = f
        .request("with_post")
        .set("posts", 2)
        .create()
        .await
        .unwrap();
    let none = f.create("company", ()).await.unwrap();
    assert_eq!(three.children("posts").unwrap().len(), 3);
    assert_eq!(two.children("posts").unwrap().len(), 2);
    assert!(none.nested("posts").is_none());

    let companies = t
        .container
        .relation("companies")
        .unwrap()
        .combine("posts")
        .to_vec()
        .await
        .unwrap();
    let counts: Vec<(i64, usize)> = companies
        .iter()
        .map(|c| (int(c, "id"), c.children("posts").unwrap().len()))
        .collect();
    assert_eq!(
        counts,
        [
            (int(&three, "id"), 3),
            (int(&two, "id"), 2),
            (int(&none, "id"), 0)
        ]
    );
    for company in &companies {
        for post in company.children("posts").unwrap() {
            assert_eq!(int(post, "company_id"), int(company, "id"));
        }
    }
    // The factory's nesting is what combine reads.
    assert_eq!(
        companies[0].children("posts").unwrap(),
        three.children("posts").unwrap()
    );
}

#[tokio::test]
async fn timestamps_run_through_factories() {
    let t = setup().await;
    let before = Utc::now().naive_utc() - TimeDelta::seconds(1);
    let post = t.factories.create("post", ()).await.unwrap();
    let after = Utc::now().naive_utc() + TimeDelta::seconds(1);
    for name in ["scrapped_at", "created_at", "updated_at"] {
        let at = time(&post, name);
        assert!(before <= at && at <= after, "{name} = {at}");
    }
    let company = post.parent("company").unwrap().unwrap();
    assert!(before <= time(company, "created_at"));
    // As stored.
    let stored = t
        .container
        .relation("posts")
        .unwrap()
        .fetch_pk(int(&post, "id"))
        .await
        .unwrap();
    assert_eq!(time(&stored, "scrapped_at"), time(&post, "scrapped_at"));
    // The caller's value wins over the plugin's.
    let then = NaiveDateTime::parse_from_str("2019-03-09 14:24:23", "%Y-%m-%d %H:%M:%S").unwrap();
    let old = t
        .factories
        .create("post", [("scrapped_at", then)])
        .await
        .unwrap();
    assert_eq!(time(&old, "scrapped_at"), then);
}

#[tokio::test]
async fn traits_combine_and_unknown_ones_are_listed() {
    let t = setup().await;
    let post = t
        .factories
        .create_with_traits("post", &["with_error", "search_engine"], ())
        .await
        .unwrap();
    assert!(text(&post, "error").starts_with("timeout: "), "{post:?}");
    assert_eq!(get(&post, "se_post"), &Value::Bool(true));
    // Overrides win over traits.
    let post = t
        .factories
        .create_with_traits("post", &["with_error"], [("error", "refused")])
        .await
        .unwrap();
    assert_eq!(text(&post, "error"), "refused");
    // As the console calls them: names as strings, overrides as pairs.
    let traits: Vec<String> = vec!["search_engine".into()];
    let overrides: Vec<(String, Value)> = vec![("error".into(), Value::from("x"))];
    let built = t
        .factories
        .build_with_traits("post", &traits, overrides.clone())
        .unwrap();
    assert_eq!(get(&built, "se_post"), &Value::Bool(true));
    assert_eq!(text(&built, "error"), "x");
    let created = t
        .factories
        .create_with_traits("post", &traits, overrides)
        .await
        .unwrap();
    assert_eq!(get(&created, "se_post"), &Value::Bool(true));

    let err = t
        .factories
        .create_with_traits("post", &["with_eror"], ())
        .await
        .unwrap_err();
    assert!(
        matches!(factory_error(&err), FactoryError::UnknownTrait { name, .. } if name == "with_eror")
    );
    assert!(
        err.to_string()
            .contains("traits: search_engine, with_error"),
        "{err}"
    );
    assert_eq!(t.factories.traits("with_post").unwrap(), Vec::<&str>::new());
    assert_eq!(
        t.factories.traits("post").unwrap(),
        ["search_engine", "with_error"]
    );
}

#[tokio::test]
async fn overrides_apply_and_unknown_ones_write_nothing() {
    let t = setup().await;
    let c = &t.container;
    let company = t
        .factories
        .create(
            "company",
            [("name", "Acme"), ("domain", "https://acme.test")],
        )
        .await
        .unwrap();
    assert_eq!(text(&company, "name"), "Acme");
    assert_eq!(text(&company, "domain"), "https://acme.test");

    let before = statements(c);
    let err = t
        .factories
        .create("with_post", [("nmae", "Acme")])
        .await
        .unwrap_err();
    match factory_error(&err) {
        FactoryError::UnknownOverride {
            name,
            attributes,
            associations,
            ..
        } => {
            assert_eq!(name, "nmae");
            assert!(attributes.iter().any(|a| a == "name"));
            assert_eq!(associations, &["posts".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("`nmae`"), "{message}");
    assert!(
        message.contains("attributes: id, name, domain, state"),
        "{message}"
    );
    // A nested factory's unknown override fails before anything too.
    let err = t
        .factories
        .create(
            "company",
            [("posts", Value::Json(serde_json::json!([{"titel": "x"}])))],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`titel`"), "{err}");
    assert_eq!(statements(c), before, "nothing ran");
    assert_eq!(count(c, "companies").await, 1);
    assert_eq!(count(c, "posts").await, 0);

    // Unknown factories are listed too.
    let err = t.factories.create("compnay", ()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("no factory `compnay`; factories: company, post, with_post"),
        "{err}"
    );
}

#[tokio::test]
async fn associations_reuse_or_skip_their_parent() {
    let t = setup().await;
    let c = &t.container;
    let acme = t.factories.create("company", ()).await.unwrap();
    let id = int(&acme, "id");

    // The foreign key given: no company is built.
    let post = t
        .factories
        .create("post", [("company_id", id)])
        .await
        .unwrap();
    assert_eq!(int(&post, "company_id"), id);
    assert!(post.nested("company").is_none());
    // The association given as a key, or as a row (then nested).
    let post = t.factories.create("post", [("company", id)]).await.unwrap();
    assert_eq!(int(&post, "company_id"), id);
    let post = t
        .factories
        .request("post")
        .row("company", acme.clone())
        .create()
        .await
        .unwrap();
    assert_eq!(post.parent("company").unwrap(), Some(&acme));
    // nil: no company at all.
    let post = t
        .factories
        .create("post", [("company", Value::Null)])
        .await
        .unwrap();
    assert_eq!(get(&post, "company_id"), &Value::Null);
    assert_eq!(count(c, "companies").await, 1);
    // An object: overrides for the company it builds.
    let post = t
        .factories
        .create(
            "post",
            [("company", Value::Json(serde_json::json!({"name": "Built"})))],
        )
        .await
        .unwrap();
    let built = post.parent("company").unwrap().unwrap();
    assert_eq!(text(built, "name"), "Built");
    assert_eq!(count(c, "companies").await, 2);
    // Children with overrides each.
    let company = t
        .factories
        .create(
            "company",
            [(
                "posts",
                Value::Json(serde_json::json!([{"error": "a"}, {"error": "b"}])),
            )],
        )
        .await
        .unwrap();
    let errors: Vec<&str> = company
        .children("posts")
        .unwrap()
        .iter()
        .map(|p| text(p, "error"))
        .collect();
    assert_eq!(errors, ["a", "b"]);
    // A value an association cannot take.
    let err = t
        .factories
        .create("with_post", [("posts", "many")])
        .await
        .unwrap_err();
    assert!(
        matches!(factory_error(&err), FactoryError::InvalidOverride { association, .. } if association == "posts"),
        "{err}"
    );
}

/// An association's factory runs its own associations: a post whose
/// company is built by `with_post` comes with that company's own post; a
/// child factory inherits its parent's traits.
#[tokio::test]
async fn nested_factories_run_their_own_associations() {
    let t = setup().await;
    let mut f = t.factories.clone();
    f.define_child("post_of_busy_company", "post", |f| {
        f.association("company").factory("with_post");
    })
    .unwrap();
    assert_eq!(f.relation_of("post_of_busy_company").unwrap(), "posts");
    assert_eq!(f.parent_of("post_of_busy_company").unwrap(), Some("post"));

    let before = statements(&t.container);
    let built = f.build("post_of_busy_company", ()).unwrap();
    let company = built.parent("company").unwrap().unwrap();
    assert_eq!(company.children("posts").unwrap().len(), 1);
    assert_eq!(statements(&t.container), before);

    let post = f
        .create_with_traits("post_of_busy_company", &["with_error"], ())
        .await
        .unwrap();
    assert!(text(&post, "error").starts_with("timeout"));
    let company = post.parent("company").unwrap().unwrap();
    let sibling = &company.children("posts").unwrap()[0];
    assert_eq!(int(sibling, "company_id"), int(company, "id"));
    assert_eq!(int(&post, "company_id"), int(company, "id"));
    assert_ne!(int(sibling, "id"), int(&post, "id"));
    assert_eq!(count(&t.container, "companies").await, 1);
    assert_eq!(count(&t.container, "posts").await, 2);
}

/// Without a registered `create` command, factories insert with a plain
/// create (no plugin: no timestamps).
#[tokio::test]
async fn without_a_create_command_rows_are_inserted_plainly() {
    let t = setup().await;
    let mut config = ferrom::Configuration::new(&t.database.test_settings());
    config
        .register_relation(post_analytics::companies::relation())
        .register_relation(post_analytics::posts::relation());
    let container = config.finalize().await.unwrap();
    let mut f = Factories::with_seed(&container, 7);
    post_analytics::factories::define(&mut f).unwrap();
    let company = f.create("with_post", [("posts", 0)]).await.unwrap();
    assert_eq!(text(&company, "state"), "running");
    assert_eq!(get(&company, "created_at"), &Value::Null);
    // Nothing stamps `scrapped_at` now: the NOT NULL error names it.
    let err = f.create("post", ()).await.unwrap_err();
    assert!(
        matches!(&err, Error::NotNull { attribute, .. } if attribute == "scrapped_at"),
        "{err:?}"
    );
    let then = NaiveDateTime::parse_from_str("2019-03-09 14:24:23", "%Y-%m-%d %H:%M:%S").unwrap();
    let post = f.create("post", [("scrapped_at", then)]).await.unwrap();
    assert_eq!(time(&post, "scrapped_at"), then);
    assert_eq!(count(&container, "companies").await, 2);
}

#[tokio::test]
async fn a_failing_nested_create_leaves_nothing() {
    let t = setup().await;
    let c = &t.container;
    let err = t
        .factories
        .create(
            "company",
            [(
                "posts",
                Value::Json(serde_json::json!([
                    {"url": "https://example.com/same"},
                    {"url": "https://example.com/same"}
                ])),
            )],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unique { .. }), "{err:?}");
    assert_eq!(count(c, "companies").await, 0, "rolled back");
    assert_eq!(count(c, "posts").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sequences_stay_unique_under_parallel_tasks() {
    let t = setup().await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let factories = t.factories.clone();
            tokio::spawn(async move {
                let mut names = Vec::new();
                for _ in 0..25 {
                    let row = factories.create("company", ()).await.unwrap();
                    names.push(text(&row, "name").to_string());
                }
                names
            })
        })
        .collect();
    let mut names = HashSet::new();
    for task in tasks {
        for name in task.await.unwrap() {
            assert!(names.insert(name.clone()), "{name} twice");
        }
    }
    assert_eq!(names.len(), 200);
    assert_eq!(count(&t.container, "companies").await, 200);
    // Numbered 1 to 200: the sequence is this database's.
    for n in 1..=200 {
        assert!(names.contains(&format!("Company Name {n}")), "{n}");
    }
}

#[tokio::test]
async fn build_touches_no_database_and_create_does() {
    let t = setup().await;
    let c = &t.container;
    let before = statements(c);
    let company = t.factories.build("with_post", ()).unwrap();
    let post = t.factories.build("post", [("error", "x")]).unwrap();
    let many = t.factories.request("company").build_list(3).unwrap();
    assert_eq!(statements(c), before, "build ran a statement");

    // Keys from a sequence, foreign keys wired, nested like created rows.
    let posts = company.children("posts").unwrap();
    assert_eq!(posts.len(), 1);
    assert_eq!(int(&posts[0], "company_id"), int(&company, "id"));
    let parent = post.parent("company").unwrap().unwrap();
    assert_eq!(int(&post, "company_id"), int(parent, "id"));
    assert_ne!(int(&many[0], "id"), int(&many[1], "id"));
    // Every column is there: defaults and the create command's timestamps.
    assert_eq!(
        company.names(),
        ["id", "name", "domain", "state", "created_at", "updated_at"]
    );
    assert!(matches!(get(&post, "scrapped_at"), Value::DateTime(_)));
    assert_eq!(text(&post, "error"), "x");
    assert_eq!(get(&post, "published_at"), &Value::Null);

    // Typed, built and created.
    let built: Post = t.factories.build_as("post", ()).unwrap();
    assert!(built.url.starts_with("https://example.com/"));
    assert_eq!(statements(c), before);
    let created: Company = t.factories.create_as("with_post", ()).await.unwrap();
    assert!(statements(c) > before);
    assert_eq!(created.posts.len(), 1);
    assert_eq!(created.posts[0].company_id, Some(created.id));
    assert_eq!(count(c, "companies").await, 1);
}

#[tokio::test]
async fn the_same_seed_makes_the_same_data() {
    let t = setup().await;
    let a = t.factories.reseeded(42);
    let b = t.factories.reseeded(42);
    let other = t.factories.reseeded(43);
    let domain = |f: &Factories| text(&f.build("company", ()).unwrap(), "domain").to_string();
    let (da, db, dother) = (domain(&a), domain(&b), domain(&other));
    assert_eq!(da, db);
    assert_ne!(da, dother);
    // The seed lives in the registry; the harness took it from FERROM_SEED
    // or chose one.
    assert_eq!(a.seed(), 42);
    assert_eq!(t.database.seed(), Some(t.factories.seed()));
}

#[tokio::test]
async fn definitions_are_checked_when_defined() {
    let t = setup().await;
    let mut f = Factories::with_seed(&t.container, 1);
    let err = f
        .define("company", "companies", |f| {
            f.value("nmae", "x");
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no attribute `nmae`; attributes: id, name"),
        "{err}"
    );
    let err = f
        .define("post", "posts", |f| {
            f.association("comapny");
        })
        .unwrap_err();
    assert!(err.to_string().contains("associations: company"), "{err}");
    let err = f.define("x", "nope", |_| {}).unwrap_err();
    assert!(matches!(err, Error::UnknownRelation { .. }), "{err}");
    let err = f.define_child("y", "nope", |_| {}).unwrap_err();
    assert!(matches!(
        factory_error(&err),
        FactoryError::UnknownFactory { .. }
    ));
    post_analytics::factories::define(&mut f).unwrap();
    let err = post_analytics::factories::define(&mut f).unwrap_err();
    assert!(matches!(
        factory_error(&err),
        FactoryError::AlreadyDefined { .. }
    ));
    // Dependent attributes see what is built before them, and say what is
    // missing otherwise.
    f.define_child("slugged", "company", |f| {
        f.try_attr("domain", |ctx| {
            Ok(format!(
                "https://{}.test",
                ctx.text("name")?.replace(' ', "-").to_lowercase()
            ))
        });
        f.try_attr("state", |ctx| ctx.get("nope").cloned());
    })
    .unwrap();
    let err = f.build("slugged", ()).unwrap_err();
    assert!(
        err.to_string()
            .contains("needs `nope`, which is not built before it"),
        "{err}"
    );
    let row = f
        .build("slugged", [("state", "x"), ("name", "Acme Co")])
        .unwrap();
    assert_eq!(text(&row, "domain"), "https://acme-co.test");
}

#[tokio::test]
async fn the_harness_isolates_and_cleans_up() {
    let a = setup().await;
    let b = setup().await;
    assert_ne!(a.database.name(), b.database.name());
    a.factories.create("company", ()).await.unwrap();
    assert_eq!(count(&a.container, "companies").await, 1);
    assert_eq!(count(&b.container, "companies").await, 0);
    // The migration history came along.
    let versions = b
        .container
        .relation("companies")
        .unwrap()
        .read(
            "SELECT version FROM refinery_schema_history ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(versions.len(), 2);

    let name = a.database.name().to_string();
    let TestContext {
        container,
        database,
        ..
    } = a;
    container.disconnect().await;
    database.drop_now().await.unwrap();
    let mut conn = crate::support::server_connection().await;
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    )
    .bind(&name)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(left, 0, "{name} is still there");
}

#[tokio::test]
async fn a_missing_server_says_how_to_start_one() {
    let mut server = ferrom::testing::server_settings().unwrap();
    server.port = 1;
    server.connect_timeout = 2;
    let err = crate::support::harness()
        .clone()
        .with_server(server)
        .setup()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("scripts/db-up"), "{err}");
}

/// Both ways of setting up a test database give the same schema.
#[tokio::test]
async fn migrating_and_copying_the_template_agree() {
    let copied = setup().await;
    let migrated = harness()
        .clone()
        .with_setup(Setup::Migrate)
        .setup()
        .await
        .unwrap();
    let schema = |c: &Container| {
        ["companies", "posts"].map(|r| {
            let relation = c.relation(r).unwrap();
            let s = relation.schema();
            format!(
                "{:?} {:?} {:?} {:?}",
                s.attributes(),
                s.indexes(),
                s.foreign_keys(),
                s.associations()
            )
        })
    };
    assert_eq!(schema(&copied.container), schema(&migrated.container));
    migrated.factories.create("with_post", ()).await.unwrap();
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// One setup, timed: (database, finalize and factories, drop).
async fn timed_setup(harness: &ferrom::testing::Harness) -> (Duration, Duration, Duration) {
    let start = Instant::now();
    let database = harness.database().await.unwrap();
    let db = start.elapsed();
    let container = post_analytics::configuration(&database.test_settings())
        .finalize()
        .await
        .unwrap();
    let factories = post_analytics::factories(&container).unwrap();
    let finalize = start.elapsed() - db;
    drop((factories, container));
    let start = Instant::now();
    drop(database);
    (db, finalize, start.elapsed())
}

/// The harness's per-test cost for both strategies, interleaved so both
/// see the same load: the database (create and schema), finalize (with
/// the factories), and the drop; 20 setups each after a first one (which
/// makes the template and sweeps). A measurement, not a check: run it with
/// `cargo test --test main factories::harness_cost -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run it by hand"]
async fn harness_cost() {
    let strategies = [
        (
            "copy template",
            harness().clone().with_setup(Setup::CopyTemplate),
        ),
        ("migrate", harness().clone().with_setup(Setup::Migrate)),
    ];
    for (_, harness) in &strategies {
        drop(harness.setup().await.unwrap());
    }
    let mut times: [Vec<(Duration, Duration, Duration)>; 2] = [Vec::new(), Vec::new()];
    for round in 0..20 {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            times[i].push(timed_setup(&strategies[i].1).await);
        }
    }
    for ((label, _), times) in strategies.iter().zip(times) {
        let pick = |f: fn(&(Duration, Duration, Duration)) -> Duration| {
            median(times.iter().map(f).collect())
        };
        println!(
            "harness {label}: setup median {:?} (database {:?} + finalize and factories {:?}); drop median {:?}",
            pick(|t| t.0 + t.1),
            pick(|t| t.0),
            pick(|t| t.1),
            pick(|t| t.2)
        );
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Any seed yields valid records: built in memory with every NOT NULL
/// column set, and inserted by create.
#[test]
fn any_seed_yields_insertable_records() {
    let rt = runtime();
    let t = rt.block_on(setup());
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&any::<u64>(), |seed| {
            let f = t.factories.reseeded(seed);
            for name in ["company", "post", "with_post"] {
                let built = f
                    .build(name, ())
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let relation = t.container.relation(f.relation_of(name).unwrap()).unwrap();
                for attribute in relation.schema().attributes() {
                    if !attribute.nullable {
                        prop_assert!(
                            !built.get(&attribute.name).unwrap().is_null(),
                            "seed {seed}: {name}.{} is NULL",
                            attribute.name
                        );
                    }
                }
                let created = rt
                    .block_on(f.create(name, ()))
                    .map_err(|e| TestCaseError::fail(format!("seed {seed}, {name}: {e}")))?;
                prop_assert!(int(&created, "id") > 0);
                let domain_or_url = if name == "post" { "url" } else { "domain" };
                prop_assert!(text(&created, domain_or_url).starts_with("https://"));
            }
            Ok(())
        })
        .unwrap();
    drop(t);
}

/// Sequences never hand the same number to two threads.
#[test]
fn sequences_never_collide_across_threads() {
    let rt = runtime();
    let t = rt.block_on(setup());
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(2usize..9, 1usize..60), |(threads, per_thread)| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let factories = t.factories.clone();
                    std::thread::spawn(move || {
                        (0..per_thread)
                            .map(|_| {
                                let row = factories.build("post", ()).unwrap();
                                (
                                    text(&row, "url").to_string(),
                                    text(row.parent("company").unwrap().unwrap(), "name")
                                        .to_string(),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let (mut urls, mut names) = (HashSet::new(), HashSet::new());
            for handle in handles {
                for (url, name) in handle.join().unwrap() {
                    prop_assert!(urls.insert(url.clone()), "{url} twice");
                    prop_assert!(names.insert(name.clone()), "{name} twice");
                }
            }
            prop_assert_eq!(urls.len(), threads * per_thread);
            Ok(())
        })
        .unwrap();
    drop(t);
}
