use std::sync::LazyLock;

use ferrom::factory::Factories;
use ferrom::testing::Harness;

/// The factories of the tests: one `define` call each.
fn define(factories: &mut Factories) -> ferrom::Result<()> {
    factories.define("company", "companies", |f| {
        f.sequence("name", |n| format!("Company Name {n}"));
        f.attr("domain", |ctx| {
            format!("https://{}", ctx.fake().domain_name())
        });
        f.value("state", "running");
    })?;
    factories.define("post", "posts", |f| {
        // `url` is UNIQUE: fake data plus a sequence number.
        f.sequence_with("url", |n, ctx| {
            format!("{}-{n}", ctx.fake().url("example.com"))
        });
        f.value("se_post", false);
        f.value("stats", serde_json::json!({}));
        f.association("company"); // creates a company unless the call gives one
        f.trait_("with_error", |t| {
            t.value("error", "timeout");
        });
    })?;
    factories.define_child("with_post", "company", |f| {
        f.association("posts").count(1);
    })?;
    Ok(())
}

/// One harness per test binary: migrations, configuration, factories.
static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    Harness::new(
        post_analytics::embedded_migrations().expect("the migrations"),
        post_analytics::configuration,
    )
    .with_factories(define)
});

#[tokio::test]
async fn a_company_has_its_post() -> ferrom::Result<()> {
    // A migrated database of this test's own, dropped when `t` is.
    let t = HARNESS.setup().await?;

    let company = t.factories.create("with_post", ()).await?;
    let posts = company.children("posts")?;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].get("company_id")?, company.get("id")?);

    // Overrides and traits per call; the timestamps plugin ran.
    let post = t
        .factories
        .create_with_traits("post", &["with_error"], [("se_post", true)])
        .await?;
    assert_eq!(post.get("error")?, &ferrom::Value::from("timeout"));
    assert!(!post.get("scrapped_at")?.is_null());

    // Built in memory: no statement runs.
    let built = t.factories.build("company", [("name", "Acme")])?;
    assert_eq!(built.get("name")?, &ferrom::Value::from("Acme"));
    Ok(())
}
