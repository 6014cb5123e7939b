//! The configuration and the container it is finalized into.
//!
//! Finalizing connects every gateway, reads each gateway's schema in one
//! introspection round trip (whatever the number of relations), infers every
//! relation's schema, resolves associations, and checks every registration,
//! so mistakes surface at boot rather than at first use.

mod configuration;
mod finalize;

pub use configuration::{Configuration, DEFAULT_GATEWAY, RelationDefinition};

use std::collections::BTreeMap;

use crate::command::Command;
use crate::error::{Error, Result};
use crate::gateway::Gateway;
use crate::relation::Relation;

/// The finalized registry of gateways and relations (the article's
/// `MAIN_CONTAINER`). Cloning is cheap.
#[derive(Clone, Debug)]
pub struct Container {
    gateways: BTreeMap<String, Gateway>,
    relations: BTreeMap<String, Relation>,
    warnings: Vec<String>,
}

/// A typed handle on a registered relation, for library users who prefer
/// `container.get::<Posts>()` to a name (`Posts` wraps a [`Relation`] and
/// adds the views as methods).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a relation handle",
    note = "implement `ferrom::container::RelationHandle` for it: `const NAME` and `fn from_relation`"
)]
pub trait RelationHandle: Sized {
    /// The registered name.
    const NAME: &'static str;
    /// Wraps the relation.
    fn from_relation(relation: Relation) -> Self;
}

impl Container {
    /// The relation registered under `name`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRelation`] listing the registered relations.
    pub fn relation(&self, name: &str) -> Result<Relation> {
        self.relations
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownRelation {
                name: name.to_string(),
                known: self.relations.keys().cloned().collect(),
            })
    }

    /// The relation behind a typed handle.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRelation`] when the handle's name is not registered.
    pub fn get<R: RelationHandle>(&self) -> Result<R> {
        self.relation(R::NAME).map(R::from_relation)
    }

    /// Every relation, by name.
    pub fn relations(&self) -> &BTreeMap<String, Relation> {
        &self.relations
    }

    /// The command registered as `name` for `relation` (ROM's
    /// `commands[:posts][:delete]`), acting on the whole relation.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRelation`] listing the relations;
    /// [`Error::UnknownCommand`] listing the relation's commands.
    pub fn command(&self, relation: &str, name: &str) -> Result<Command> {
        self.relation(relation)?.command(name)
    }

    /// Every command registered for `relation`, by name.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownRelation`] listing the relations.
    pub fn commands(&self, relation: &str) -> Result<BTreeMap<String, Command>> {
        Ok(self.relation(relation)?.commands())
    }

    /// The gateway registered under `name` (`default` for the settings').
    ///
    /// # Errors
    ///
    /// [`Error::UnknownGateway`] listing the gateways.
    pub fn gateway(&self, name: &str) -> Result<&Gateway> {
        self.gateways
            .get(name)
            .ok_or_else(|| Error::UnknownGateway {
                relation: "-".into(),
                gateway: name.to_string(),
                known: self.gateways.keys().cloned().collect(),
            })
    }

    /// Every gateway, by name.
    pub fn gateways(&self) -> &BTreeMap<String, Gateway> {
        &self.gateways
    }

    /// What finalize warned about (attributes of unknown types, read as
    /// text or bytes).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Closes every gateway's pool.
    pub async fn disconnect(&self) {
        for gateway in self.gateways.values() {
            gateway.close().await;
        }
    }
}
