//! Configuration → container.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Configuration, Container};
use crate::error::{Error, Result};
use crate::gateway::{Gateway, TableInfo, introspect};
use crate::relation::{Relation, RelationInner};
use crate::schema::{Schema, infer, resolve_association};

impl Configuration {
    /// Connects the gateways, infers every relation's schema (one
    /// introspection round trip per gateway), resolves associations and
    /// commands, and checks every registration.
    ///
    /// # Errors
    ///
    /// - [`Error::Connect`] when a gateway cannot connect;
    /// - [`Error::UnknownGateway`] for a relation naming an unconfigured gateway;
    /// - [`Error::MissingTable`] for a relation whose table does not exist
    ///   (with the hint to run `ferrom db migrate`);
    /// - [`Error::UnknownAttribute`] for a declared attribute the table lacks;
    /// - [`Error::UnknownRelation`] / [`Error::InvalidAssociation`] for an
    ///   association that cannot be resolved.
    /// - [`Error::InvalidCommand`] for a command whose relation is not
    ///   registered or that its relation's schema cannot take (a plugin
    ///   naming an attribute the relation lacks), naming the command.
    pub async fn finalize(self) -> Result<Container> {
        for def in &self.relations {
            if !self.gateways.contains_key(&def.gateway) {
                return Err(Error::UnknownGateway {
                    relation: def.name.clone(),
                    gateway: def.gateway.clone(),
                    known: self.gateways.keys().cloned().collect(),
                });
            }
        }

        let mut gateways = BTreeMap::new();
        let mut tables: BTreeMap<String, BTreeMap<String, TableInfo>> = BTreeMap::new();
        for (name, db) in &self.gateways {
            let gateway = Gateway::connect(db).await?;
            if self.relations.iter().any(|r| &r.gateway == name) {
                let mut conn = gateway.acquire().await?;
                gateway.note_statement();
                tables.insert(name.clone(), introspect(&mut conn, gateway.server()).await?);
            }
            gateways.insert(name.clone(), gateway);
        }

        let mut warnings = Vec::new();
        let mut schemas: BTreeMap<String, Schema> = BTreeMap::new();
        for def in &self.relations {
            let gateway = &gateways[&def.gateway];
            let table = tables
                .get(&def.gateway)
                .and_then(|t| t.get(&def.table))
                .ok_or_else(|| Error::MissingTable {
                    relation: def.name.clone(),
                    table: def.table.clone(),
                    database: gateway.database().to_string(),
                })?;
            let schema = infer(&def.name, table, &def.attributes, &mut warnings)?;
            schemas.insert(def.name.clone(), schema);
        }

        // Associations need every schema.
        let mut resolved = BTreeMap::new();
        for def in &self.relations {
            let source = &schemas[&def.name];
            let mut list = Vec::new();
            for assoc in &def.associations {
                let target =
                    schemas
                        .get(&assoc.target)
                        .ok_or_else(|| Error::InvalidAssociation {
                            relation: def.name.clone(),
                            association: assoc.name.clone(),
                            reason: format!(
                                "its relation `{}` is not registered; relations: {}",
                                assoc.target,
                                schemas.keys().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        })?;
                let through = match &assoc.through {
                    None => None,
                    Some(t) => Some(schemas.get(t).ok_or_else(|| Error::InvalidAssociation {
                        relation: def.name.clone(),
                        association: assoc.name.clone(),
                        reason: format!("its join relation `{t}` is not registered"),
                    })?),
                };
                list.push(resolve_association(assoc, source, target, through)?);
            }
            resolved.insert(def.name.clone(), list);
        }
        for (name, list) in resolved {
            if let Some(schema) = schemas.get_mut(&name) {
                schema.set_associations(list);
            }
        }

        for warning in &warnings {
            tracing::warn!("{warning}");
        }
        let schemas: Arc<BTreeMap<String, Arc<Schema>>> =
            Arc::new(schemas.into_iter().map(|(k, v)| (k, Arc::new(v))).collect());
        let commands = crate::command::resolve(&self.commands, &schemas)?;
        let relations = self
            .relations
            .iter()
            .map(|def| {
                let relation = Relation::new(RelationInner {
                    name: def.name.clone(),
                    schema: schemas[&def.name].clone(),
                    gateway: gateways[&def.gateway].clone(),
                    views: def.views.clone(),
                    schemas: schemas.clone(),
                    commands: commands.clone(),
                    shared: crate::relation::writing::SharedStatements::default(),
                });
                (def.name.clone(), relation)
            })
            .collect();
        Ok(Container {
            gateways,
            relations,
            warnings,
        })
    }
}
