//! Companies: the relation, its typed handle and the `Company` struct.

use chrono::NaiveDateTime;
use ferrom::container::RelationHandle;
use ferrom::{Association, Relation, RelationDefinition};
use serde::{Deserialize, Serialize};

use crate::posts::Post;

/// The relation's name.
pub const NAME: &str = "companies";

/// `companies`: schema inferred from the database; has many posts.
pub fn relation() -> RelationDefinition {
    RelationDefinition::new(NAME).association(Association::has_many("posts"))
}

/// A company as library users read it; `posts` is filled when they are
/// loaded with it:
///
/// ```no_run
/// # async fn demo(container: &ferrom::Container) -> ferrom::Result<()> {
/// use post_analytics::{Company, Post};
///
/// let companies: Vec<Company> = container
///     .relation("companies")?
///     .map_to::<Company>()
///     .nest("posts", |company: &mut Company, posts: Vec<Post>| company.posts = posts)
///     .to_vec()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Company {
    /// Primary key.
    pub id: i32,
    /// The company's name.
    pub name: String,
    /// Its web domain (`https://example.com`).
    pub domain: String,
    /// `running` unless set otherwise.
    pub state: String,
    /// When it was created (UTC).
    pub created_at: Option<NaiveDateTime>,
    /// When it was last updated (UTC).
    pub updated_at: Option<NaiveDateTime>,
    /// Its posts, when loaded with it ([`ferrom::relation::Mapped::nest`]);
    /// empty otherwise.
    #[sqlx(skip)]
    #[serde(default)]
    pub posts: Vec<Post>,
}

/// The `companies` relation, typed: `container.get::<Companies>()`.
#[derive(Clone, Debug)]
pub struct Companies(pub Relation);

impl RelationHandle for Companies {
    const NAME: &'static str = NAME;
    fn from_relation(relation: Relation) -> Self {
        Companies(relation)
    }
}

impl std::ops::Deref for Companies {
    type Target = Relation;
    fn deref(&self) -> &Relation {
        &self.0
    }
}
