//! One attribute of a relation's schema.

use super::Type;

/// An attribute: a column of the relation's table as ferrom reads and
/// writes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// The attribute (column) name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// The column default as SQL text (unquoted), if any.
    pub default: Option<String>,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Filled by the server (`AUTO_INCREMENT`).
    pub auto_increment: bool,
    /// A generated column (never written).
    pub generated: bool,
    /// The column's database type (`varchar(255)`, `tinyint(1)`, ...).
    pub db_type: String,
    /// Declared explicitly rather than inferred.
    pub declared: bool,
}

impl Attribute {
    /// An attribute declared by hand, to override what inference finds (the
    /// reference application declares `posts.stats` as JSON). Only the type
    /// is taken from the declaration; nullability, defaults and keys still
    /// come from the database.
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Attribute {
            name: name.into(),
            ty,
            nullable: true,
            default: None,
            primary_key: false,
            auto_increment: false,
            generated: false,
            db_type: String::new(),
            declared: true,
        }
    }
}
