//! Schemas: a relation's attributes, keys, indexes and associations,
//! inferred from the database at finalize, with declared attributes taking
//! precedence.

mod association;
mod attribute;
mod infer;
mod types;

pub(crate) use association::resolve_association;
pub use association::{Association, AssociationKind};
pub use attribute::Attribute;
pub(crate) use infer::infer;
pub use infer::infer_schema;
pub use types::Type;

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::gateway::{ForeignKeyInfo, IndexInfo};

/// A relation's schema: its attributes in table order, its primary key,
/// unique indexes, foreign keys and resolved associations.
#[derive(Clone, Debug)]
pub struct Schema {
    relation: String,
    table: String,
    attributes: Vec<Attribute>,
    /// Attribute positions by name (a fast, seeded hash: names are looked
    /// up for every value of every command call).
    by_name: HashMap<String, usize, foldhash::fast::RandomState>,
    primary_key: Vec<usize>,
    /// The primary key's attribute names, in key order (what commands
    /// write and re-read by).
    key_columns: Vec<String>,
    indexes: Vec<IndexInfo>,
    foreign_keys: Vec<ForeignKeyInfo>,
    associations: Vec<Association>,
}

impl Schema {
    /// Builds a schema from its parts. The primary key is taken from the
    /// attributes flagged `primary_key`, in the order the primary key index
    /// lists them.
    pub(crate) fn new(
        relation: &str,
        table: &str,
        attributes: Vec<Attribute>,
        indexes: Vec<IndexInfo>,
        foreign_keys: Vec<ForeignKeyInfo>,
    ) -> Schema {
        let by_name: HashMap<String, usize, foldhash::fast::RandomState> = attributes
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.clone(), i))
            .collect();
        let primary_key: Vec<usize> = indexes
            .iter()
            .find(|i| i.name == "PRIMARY")
            .map(|i| {
                i.columns
                    .iter()
                    .filter_map(|c| by_name.get(c).copied())
                    .collect()
            })
            .unwrap_or_else(|| {
                attributes
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| a.primary_key)
                    .map(|(i, _)| i)
                    .collect()
            });
        let key_columns = primary_key
            .iter()
            .map(|&i| attributes[i].name.clone())
            .collect();
        Schema {
            relation: relation.to_string(),
            table: table.to_string(),
            attributes,
            by_name,
            primary_key,
            key_columns,
            indexes,
            foreign_keys,
            associations: Vec::new(),
        }
    }

    pub(crate) fn set_associations(&mut self, associations: Vec<Association>) {
        self.associations = associations;
    }

    /// The relation's name.
    pub fn relation(&self) -> &str {
        &self.relation
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The attributes, in table order.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    /// The attribute names, in table order.
    pub fn attribute_names(&self) -> Vec<&str> {
        self.attributes.iter().map(|a| a.name.as_str()).collect()
    }

    /// The attribute with this name.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.by_name.get(name).map(|&i| &self.attributes[i])
    }

    /// The position of the attribute with this name.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The attribute with this name, or [`Error::UnknownAttribute`] listing
    /// the relation's attributes.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAttribute`] when there is no such attribute.
    pub fn require(&self, name: &str) -> Result<&Attribute> {
        self.attribute(name)
            .ok_or_else(|| self.unknown_attribute(name))
    }

    pub(crate) fn unknown_attribute(&self, name: &str) -> Error {
        Error::UnknownAttribute {
            relation: self.relation.clone(),
            attribute: name.to_string(),
            known: self
                .attribute_names()
                .into_iter()
                .map(str::to_string)
                .collect(),
        }
    }

    /// The primary key's attributes, in key order (empty when the table has
    /// none).
    pub fn primary_key(&self) -> Vec<&Attribute> {
        self.primary_key
            .iter()
            .map(|&i| &self.attributes[i])
            .collect()
    }

    /// The primary key's attribute names, in key order, without
    /// collecting them.
    pub(crate) fn primary_key_iter(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        self.key_columns.iter().map(String::as_str)
    }

    /// The primary key's attribute positions, in key order.
    pub(crate) fn primary_key_positions(&self) -> &[usize] {
        &self.primary_key
    }

    /// The primary key's attribute names, in key order, as owned names.
    pub(crate) fn primary_key_columns(&self) -> &[String] {
        &self.key_columns
    }

    /// The primary key's attribute names, in key order.
    pub fn primary_key_names(&self) -> Vec<&str> {
        self.primary_key
            .iter()
            .map(|&i| self.attributes[i].name.as_str())
            .collect()
    }

    /// The table's indexes (the primary key first).
    pub fn indexes(&self) -> &[IndexInfo] {
        &self.indexes
    }

    /// The unique indexes, the primary key included.
    pub fn unique_indexes(&self) -> impl Iterator<Item = &IndexInfo> {
        self.indexes.iter().filter(|i| i.unique)
    }

    /// The table's foreign keys.
    pub fn foreign_keys(&self) -> &[ForeignKeyInfo] {
        &self.foreign_keys
    }

    /// The resolved associations.
    pub fn associations(&self) -> &[Association] {
        &self.associations
    }

    /// The association with this name.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAssociation`] listing the relation's associations.
    pub fn association(&self, name: &str) -> Result<&Association> {
        self.associations
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| Error::UnknownAssociation {
                relation: self.relation.clone(),
                association: name.to_string(),
                known: self.associations.iter().map(|a| a.name.clone()).collect(),
            })
    }
}
