//! The reference factories (the article's `spec/factories`): `company`,
//! `post` and `with_post`, as DESIGN.md describes them.
//!
//! This file is compiled into the reference application as
//! `post_analytics::factories` (`#[path = "../factories/mod.rs"]` in
//! `src/lib.rs`), so the tests and the console load the same definitions:
//! [`define`] adds them to a registry, and `post_analytics::factories`
//! makes a registry with them over a container. See `factories/README.md`.

use ferrom::Result;
use ferrom::factory::Factories;

/// Defines `company`, `post` and `with_post` in `factories`:
///
/// - `company`: `name` from the sequence "Company Name {n}", `domain`
///   "https://" and a fake domain name, `state` "running";
/// - `post`: `url` a fake URL on example.com, made unique by a sequence
///   (`url` is UNIQUE), `se_post` false, `stats` an empty object, and a
///   company (built by `company` unless the call gives one). `scrapped_at`
///   is left to the `create` command's timestamps plugin. Two traits:
///   `with_error` (a fetch error) and `search_engine` (`se_post` true);
/// - `with_post`: a `company` with one post.
///
/// # Errors
///
/// When the container lacks the `companies` or `posts` relation or one of
/// their attributes (the definitions are checked against the schema).
pub fn define(factories: &mut Factories) -> Result<()> {
    factories.define("company", "companies", |f| {
        f.sequence("name", |n| format!("Company Name {n}"));
        f.attr("domain", |ctx| {
            format!("https://{}", ctx.fake().domain_name())
        });
        f.value("state", "running");
    })?;
    factories.define("post", "posts", |f| {
        f.sequence_with("url", |n, ctx| {
            format!("{}-{n}", ctx.fake().url("example.com"))
        });
        f.value("se_post", false);
        f.value("stats", serde_json::json!({}));
        f.association("company");
        f.trait_("with_error", |t| {
            t.attr("error", |ctx| format!("timeout: {}", ctx.fake().sentence()));
        });
        f.trait_("search_engine", |t| {
            t.value("se_post", true);
        });
    })?;
    factories.define_child("with_post", "company", |f| {
        f.association("posts").count(1);
    })?;
    Ok(())
}
