//! Posts: the relation, its view, its typed handle and the `Post` struct.

use chrono::NaiveDateTime;
use ferrom::container::RelationHandle;
use ferrom::{Association, Attribute, Json, Relation, RelationDefinition, Type, Value};
use serde::{Deserialize, Serialize};

/// The relation's name.
pub const NAME: &str = "posts";

/// `posts`: schema inferred, `stats` declared JSON (MariaDB stores JSON as a
/// checked LONGTEXT, MySQL natively: both read as JSON), belongs to a
/// company, and the view `by_url(url)`.
pub fn relation() -> RelationDefinition {
    RelationDefinition::new(NAME)
        .attribute(Attribute::new("stats", Type::Json))
        .association(Association::belongs_to("company"))
        .view("by_url", 1, |posts, args| {
            Ok(by_url(posts, args[0].clone()))
        })
}

/// The posts with this URL (at most one: `url` is unique).
pub fn by_url(posts: &Relation, url: impl Into<Value>) -> Relation {
    posts.filter(("url", url.into()))
}

/// A post as library users read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Post {
    /// Primary key.
    pub id: i32,
    /// The post's URL (unique).
    pub url: String,
    /// Whether it came from a search engine.
    pub se_post: bool,
    /// When it was published, if known (UTC).
    pub published_at: Option<NaiveDateTime>,
    /// When it was last fetched (UTC).
    pub scrapped_at: NaiveDateTime,
    /// The last fetch error, if any.
    pub error: Option<String>,
    /// The collected stats.
    pub stats: Option<Json<serde_json::Value>>,
    /// When it was created (UTC).
    pub created_at: Option<NaiveDateTime>,
    /// When it was last updated (UTC).
    pub updated_at: Option<NaiveDateTime>,
    /// The company it belongs to.
    pub company_id: Option<i32>,
}

/// The `posts` relation, typed: `container.get::<Posts>()?.by_url(...)`.
#[derive(Clone, Debug)]
pub struct Posts(pub Relation);

impl Posts {
    /// The posts with this URL.
    pub fn by_url(&self, url: &str) -> Relation {
        by_url(&self.0, url)
    }
}

impl RelationHandle for Posts {
    const NAME: &'static str = NAME;
    fn from_relation(relation: Relation) -> Self {
        Posts(relation)
    }
}

impl std::ops::Deref for Posts {
    type Target = Relation;
    fn deref(&self) -> &Relation {
        &self.0
    }
}
