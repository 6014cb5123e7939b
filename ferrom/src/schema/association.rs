//! Associations between relations, as declared and as resolved at finalize.
//!
//! ```
//! use ferrom::schema::Association;
//!
//! // companies: has_many :posts
//! let posts = Association::has_many("posts");
//! // posts: belongs_to :company (relation `companies`, key from the foreign key)
//! let company = Association::belongs_to("company");
//! assert_eq!(company.target, "companies");
//! ```

use crate::error::{Error, Result};

use super::Schema;

/// The kind of an association.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssociationKind {
    /// One parent, many children holding its key (`companies` has many `posts`).
    HasMany,
    /// One parent, at most one child holding its key.
    HasOne,
    /// The child's side: this relation holds the parent's key.
    BelongsTo,
    /// Many on both sides, through a join relation holding both keys.
    ManyToMany,
}

/// An association: declared with [`Association::has_many`] and friends,
/// resolved at finalize (keys taken from the inferred foreign keys unless
/// given).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Association {
    /// The name it is reached by (`posts`, `company`).
    pub name: String,
    /// Its kind.
    pub kind: AssociationKind,
    /// The target relation's name.
    pub target: String,
    /// The foreign-key column, when declared (on the child for has_many /
    /// has_one, on this relation for belongs_to).
    pub foreign_key: Option<String>,
    /// The join relation of a many-to-many.
    pub through: Option<String>,
    /// Resolved: the key on this relation's side (its primary key for
    /// has_many/has_one/many_to_many, its foreign key for belongs_to).
    pub source_key: String,
    /// Resolved: the key on the target's side (the child's foreign key for
    /// has_many/has_one, the parent's key for belongs_to, the target's
    /// primary key for many_to_many).
    pub target_key: String,
    /// Resolved for many-to-many: the join relation's columns pointing at
    /// this relation and at the target.
    pub through_keys: Option<(String, String)>,
}

impl Association {
    fn declared(name: &str, kind: AssociationKind, target: String) -> Self {
        Association {
            name: name.to_string(),
            kind,
            target,
            foreign_key: None,
            through: None,
            source_key: String::new(),
            target_key: String::new(),
            through_keys: None,
        }
    }

    /// `has_many :name`: the target relation is `name`.
    pub fn has_many(name: &str) -> Self {
        Association::declared(name, AssociationKind::HasMany, name.to_string())
    }

    /// `has_one :name`: the target relation is the plural of `name`.
    pub fn has_one(name: &str) -> Self {
        Association::declared(name, AssociationKind::HasOne, pluralize(name))
    }

    /// `belongs_to :name`: the target relation is the plural of `name`
    /// (`company` → `companies`).
    pub fn belongs_to(name: &str) -> Self {
        Association::declared(name, AssociationKind::BelongsTo, pluralize(name))
    }

    /// `has_many :name, through: :join`.
    pub fn many_to_many(name: &str, through: &str) -> Self {
        let mut a = Association::declared(name, AssociationKind::ManyToMany, name.to_string());
        a.through = Some(through.to_string());
        a
    }

    /// Names the target relation when it is not derived from the name.
    #[must_use]
    pub fn relation(mut self, target: &str) -> Self {
        self.target = target.to_string();
        self
    }

    /// Names the foreign-key column instead of taking it from the schema.
    #[must_use]
    pub fn foreign_key(mut self, column: &str) -> Self {
        self.foreign_key = Some(column.to_string());
        self
    }

    /// Whether this association yields at most one row per parent.
    pub fn is_to_one(&self) -> bool {
        matches!(
            self.kind,
            AssociationKind::BelongsTo | AssociationKind::HasOne
        )
    }
}

/// The plural of an English noun, for relation names (`company` →
/// `companies`, `post` → `posts`, `address` → `addresses`).
pub(crate) fn pluralize(word: &str) -> String {
    let vowel = |c: char| "aeiou".contains(c);
    if let Some(stem) = word.strip_suffix('y')
        && stem.chars().last().is_some_and(|c| !vowel(c))
    {
        return format!("{stem}ies");
    }
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|s| word.ends_with(s))
    {
        return format!("{word}es");
    }
    format!("{word}s")
}

fn no_key(source: &Schema, assoc: &Association, what: &str) -> Error {
    Error::InvalidAssociation {
        relation: source.relation().to_string(),
        association: assoc.name.clone(),
        reason: what.to_string(),
    }
}

/// The single-column primary key of a schema.
fn single_pk<'a>(schema: &'a Schema, source: &Schema, assoc: &Association) -> Result<&'a str> {
    match schema.primary_key_names().as_slice() {
        [one] => Ok(one),
        [] => Err(no_key(
            source,
            assoc,
            &format!("relation `{}` has no primary key", schema.relation()),
        )),
        _ => Err(no_key(
            source,
            assoc,
            &format!(
                "relation `{}` has a composite primary key; name the keys explicitly",
                schema.relation()
            ),
        )),
    }
}

/// The column of `child` that references `parent`'s table: the declared one
/// (checked), else the one foreign key that does.
fn fk_to(
    child: &Schema,
    parent: &Schema,
    declared: Option<&str>,
    source: &Schema,
    assoc: &Association,
) -> Result<(String, String)> {
    if let Some(col) = declared {
        child.require(col).map_err(|_| {
            no_key(
                source,
                assoc,
                &format!(
                    "foreign key `{col}` is not an attribute of `{}`",
                    child.relation()
                ),
            )
        })?;
        let referenced = child
            .foreign_keys()
            .iter()
            .find(|f| {
                f.columns.len() == 1 && f.columns[0] == col && f.referenced_table == parent.table()
            })
            .map(|f| f.referenced_columns[0].clone());
        let key = match referenced {
            Some(k) => k,
            None => single_pk(parent, source, assoc)?.to_string(),
        };
        return Ok((col.to_string(), key));
    }
    let candidates: Vec<_> = child
        .foreign_keys()
        .iter()
        .filter(|f| f.referenced_table == parent.table() && f.columns.len() == 1)
        .collect();
    match candidates.as_slice() {
        [fk] => Ok((fk.columns[0].clone(), fk.referenced_columns[0].clone())),
        [] => {
            // Convention when the database has no constraint: `<singular>_id`.
            let guess = format!("{}_id", singular(parent.relation()));
            if child.attribute(&guess).is_some() {
                Ok((guess, single_pk(parent, source, assoc)?.to_string()))
            } else {
                Err(no_key(
                    source,
                    assoc,
                    &format!(
                        "no foreign key from `{}` to `{}` (and no `{guess}` column); declare one with .foreign_key(...)",
                        child.table(),
                        parent.table()
                    ),
                ))
            }
        }
        many => Err(no_key(
            source,
            assoc,
            &format!(
                "`{}` has {} foreign keys to `{}` ({}); name one with .foreign_key(...)",
                child.table(),
                many.len(),
                parent.table(),
                many.iter()
                    .map(|f| f.columns[0].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = word
        .strip_suffix("es")
        .filter(|s| ["s", "x", "z", "ch", "sh"].iter().any(|e| s.ends_with(e)))
    {
        stem.to_string()
    } else {
        word.strip_suffix('s').unwrap_or(word).to_string()
    }
}

/// Resolves a declared association against the schemas it connects.
pub(crate) fn resolve_association(
    declared: &Association,
    source: &Schema,
    target: &Schema,
    through: Option<&Schema>,
) -> Result<Association> {
    let mut a = declared.clone();
    match a.kind {
        AssociationKind::HasMany | AssociationKind::HasOne => {
            let (fk, key) = fk_to(target, source, a.foreign_key.as_deref(), source, &a)?;
            a.target_key = fk;
            a.source_key = key;
        }
        AssociationKind::BelongsTo => {
            let (fk, key) = fk_to(source, target, a.foreign_key.as_deref(), source, &a)?;
            a.source_key = fk;
            a.target_key = key;
        }
        AssociationKind::ManyToMany => {
            let join =
                through.ok_or_else(|| no_key(source, &a, "many_to_many needs a join relation"))?;
            let (to_source, source_key) = fk_to(join, source, None, source, &a)?;
            let (to_target, target_key) =
                fk_to(join, target, a.foreign_key.as_deref(), source, &a)?;
            a.source_key = source_key;
            a.target_key = target_key;
            a.through_keys = Some((to_source, to_target));
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_and_singulars() {
        assert_eq!(pluralize("company"), "companies");
        assert_eq!(pluralize("post"), "posts");
        assert_eq!(pluralize("address"), "addresses");
        assert_eq!(pluralize("day"), "days");
        assert_eq!(singular("companies"), "company");
        assert_eq!(singular("posts"), "post");
        assert_eq!(singular("addresses"), "address");
    }
}
