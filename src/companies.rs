//! Companies: the relation, its typed handle and the `Company` struct.

use chrono::NaiveDateTime;
use ferrom::container::RelationHandle;
use ferrom::{Association, Relation, RelationDefinition};
use serde::{Deserialize, Serialize};

/// The relation's name.
pub const NAME: &str = "companies";

/// `companies`: schema inferred from the database; has many posts.
pub fn relation() -> RelationDefinition {
    RelationDefinition::new(NAME).association(Association::has_many("posts"))
}

/// A company as library users read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
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
