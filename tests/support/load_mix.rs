//! The ferrom side of the load mix, shared by the load test
//! (`tests/load.rs`) and the load benchmark (`benches/load.rs`): a post's
//! create input, and the transactional step (create, then update by key).

use ferrom::command::Tuple;
use ferrom::{Container, Value};

/// The input of a post's create: its url, company and stats.
pub(crate) fn post_input(url: &str, company_id: i32, stats: serde_json::Value) -> Tuple {
    Tuple::from([
        ("url", Value::from(url)),
        ("company_id", Value::from(company_id)),
        ("stats", Value::Json(stats)),
    ])
}

/// Creates a post from `input` and sets its `error`, in one transaction;
/// returns its id.
pub(crate) async fn create_and_update_in_transaction(
    container: &Container,
    input: Tuple,
    error: String,
) -> ferrom::Result<i64> {
    container
        .transaction(|tx| async move {
            let posts = tx.relation("posts")?;
            let created = posts.command("create")?.call(input).await?.into_rows();
            let Some(id) = created
                .first()
                .and_then(|r| r.get("id").ok())
                .and_then(Value::as_i64)
            else {
                return Err(ferrom::Error::Refused(
                    "create in a transaction returned no id".into(),
                ));
            };
            posts
                .by_pk(id)
                .command("update")?
                .call([("error", error)])
                .await?;
            Ok(id)
        })
        .await
}
