//! Planning a row: every attribute computed, every association resolved,
//! before anything is built in memory or written. All fake data is drawn
//! here, so a plan is the same whether it is then built or created, and a
//! bad override fails before any statement runs.

use std::sync::Arc;

use super::definition::{AssocDef, Source};
use super::seed::rng_for;
use super::{AttrContext, Factories, FactoryError, Override, Overrides, Sequence};
use crate::command::Tuple;
use crate::error::Result;
use crate::relation::Relation;
use crate::row::Row;
use crate::schema::{Association, AssociationKind};
use crate::value::Value;

/// How deep associations may nest (a factory whose associations lead back
/// to itself without a foreign key to stop them would recurse forever).
const MAX_DEPTH: usize = 16;

/// The most children one association builds in a call: a guard against a
/// runaway count (a typo of 1_000_000), since children are created one
/// statement each.
const MAX_CHILDREN: usize = 10_000;

/// One row to build or create, with the rows it needs first (parents) and
/// the rows that need it (children).
pub(crate) struct Node {
    pub(crate) factory: String,
    pub(crate) relation: Relation,
    /// The attributes: overrides, then the definitions. Foreign keys to
    /// parents and from children are set when those rows exist.
    pub(crate) tuple: Tuple,
    pub(crate) parents: Vec<ParentLink>,
    pub(crate) children: Vec<ChildLink>,
}

/// A belongs-to parent of a row.
pub(crate) struct ParentLink {
    /// The association's name, which the parent is nested under.
    pub(crate) name: Arc<str>,
    /// The row's foreign key.
    pub(crate) fk: String,
    /// The parent's key the foreign key takes.
    pub(crate) key: String,
    pub(crate) source: ParentSource,
}

/// Where a parent comes from.
pub(crate) enum ParentSource {
    /// Built by its factory first.
    Plan(Box<Node>),
    /// Given by the call.
    Row(Row),
}

/// The has-many (or has-one) children of a row.
pub(crate) struct ChildLink {
    pub(crate) name: Arc<str>,
    /// The children's foreign key.
    pub(crate) fk: String,
    /// The row's key it takes.
    pub(crate) key: String,
    /// A has-one: nested as one row rather than a list.
    pub(crate) one: bool,
    pub(crate) nodes: Vec<Node>,
}

impl Node {
    /// Whether building it writes more than one row.
    pub(crate) fn has_links(&self) -> bool {
        self.children.iter().any(|c| !c.nodes.is_empty())
            || self
                .parents
                .iter()
                .any(|p| matches!(p.source, ParentSource::Plan(_)))
    }

    /// Every relation the plan writes to.
    pub(crate) fn relations<'a>(&'a self, out: &mut Vec<&'a Relation>) {
        out.push(&self.relation);
        for p in &self.parents {
            if let ParentSource::Plan(node) = &p.source {
                node.relations(out);
            }
        }
        for c in &self.children {
            for node in &c.nodes {
                node.relations(out);
            }
        }
    }
}

/// A JSON value as the closest [`Value`]: scalars as scalars, lists and
/// objects as JSON.
fn from_json(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Int(i),
            (None, Some(u), _) => Value::UInt(u),
            (None, None, Some(f)) => Value::Float(f),
            _ => Value::Json(json.clone()),
        },
        J::String(s) => Value::String(s.clone()),
        other => Value::Json(other.clone()),
    }
}

/// The association's own overrides, then those of a JSON object.
fn overrides_with(
    base: &[(String, Value)],
    object: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Overrides {
    let mut overrides = Overrides::from(base.to_vec());
    for (name, value) in object.into_iter().flatten() {
        overrides = overrides.set(name, from_json(value));
    }
    overrides
}

impl Factories {
    /// Plans a row of factory `name` with `traits` and `overrides`.
    /// `pending_fk` is the foreign key a parent being created will set (so
    /// the belongs-to it stands for is not built).
    pub(crate) fn plan<S: AsRef<str>>(
        &self,
        name: &str,
        traits: &[S],
        overrides: &Overrides,
        pending_fk: Option<&str>,
        depth: usize,
    ) -> Result<Node> {
        let def = self.definition(name)?;
        if depth > MAX_DEPTH {
            return Err(FactoryError::invalid(
                name,
                format!(
                    "associations nest more than {MAX_DEPTH} levels deep; do they lead back to this factory?"
                ),
            ));
        }
        let relation = self.container.relation(&def.relation)?;
        let schema = relation.schema();
        let body = def.with_traits(traits)?;

        // Every override names an attribute or an association, or nothing
        // is built at all.
        let mut tuple = Tuple::new();
        let mut assoc_overrides = Vec::new();
        for (key, value) in overrides.iter() {
            if schema.attribute(key).is_some() {
                match value {
                    Override::Value(v) => tuple.set(key, v.clone()),
                    Override::Row(_) => {
                        return Err(FactoryError::InvalidOverride {
                            factory: name.to_string(),
                            association: key.to_string(),
                            reason: format!(
                                "`{key}` is an attribute: a row stands only for a belongs-to association"
                            ),
                        }
                        .into());
                    }
                }
            } else if schema.associations().iter().any(|a| a.name == key) {
                assoc_overrides.push(key);
            } else {
                return Err(FactoryError::UnknownOverride {
                    factory: name.to_string(),
                    relation: def.relation.clone(),
                    name: key.to_string(),
                    attributes: schema
                        .attribute_names()
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                    associations: schema
                        .associations()
                        .iter()
                        .map(|a| a.name.clone())
                        .collect(),
                }
                .into());
            }
        }

        let mut rng = rng_for(self.shared.seed, name, self.next_build(name));
        for attr in &body.attrs {
            if tuple.contains(&attr.name) || pending_fk == Some(attr.name.as_str()) {
                continue;
            }
            let mut ctx = AttrContext {
                factory: name,
                attribute: &attr.name,
                built: &tuple,
                rng: &mut rng,
            };
            let value = match &attr.source {
                Source::Value(v) => v.clone(),
                Source::Compute(f) => f(&mut ctx)?,
                Source::Sequence { id, f } => {
                    let n = Sequence::on(relation.gateway().settings(), id).next();
                    f(n, &mut ctx)?
                }
            };
            tuple.set(&attr.name, value);
        }

        let mut assocs: Vec<AssocDef> = body.assocs.clone();
        for key in assoc_overrides {
            if !assocs.iter().any(|a| a.name == key) {
                assocs.push(AssocDef {
                    name: key.to_string(),
                    ..AssocDef::default()
                });
            }
        }
        let mut node = Node {
            factory: name.to_string(),
            relation: relation.clone(),
            tuple,
            parents: Vec::new(),
            children: Vec::new(),
        };
        for assoc in &assocs {
            let resolved = schema.association(&assoc.name)?.clone();
            let given = overrides.get(&assoc.name);
            match resolved.kind {
                AssociationKind::BelongsTo => {
                    self.plan_parent(&mut node, assoc, &resolved, given, pending_fk, depth)?;
                }
                AssociationKind::HasMany | AssociationKind::HasOne => {
                    self.plan_children(&mut node, assoc, &resolved, given, depth)?;
                }
                AssociationKind::ManyToMany => {
                    return Err(FactoryError::InvalidOverride {
                        factory: name.to_string(),
                        association: assoc.name.clone(),
                        reason: "many-to-many associations are not built by factories yet".into(),
                    }
                    .into());
                }
            }
        }
        Ok(node)
    }

    fn invalid_override(node: &Node, assoc: &AssocDef, reason: &str) -> crate::Error {
        FactoryError::InvalidOverride {
            factory: node.factory.clone(),
            association: assoc.name.clone(),
            reason: reason.to_string(),
        }
        .into()
    }

    fn plan_parent(
        &self,
        node: &mut Node,
        assoc: &AssocDef,
        resolved: &Association,
        given: Option<&Override>,
        pending_fk: Option<&str>,
        depth: usize,
    ) -> Result<()> {
        let fk = resolved.source_key.clone();
        if pending_fk == Some(fk.as_str()) {
            return Ok(());
        }
        let link = |source| ParentLink {
            name: Arc::from(assoc.name.as_str()),
            fk: fk.clone(),
            key: resolved.target_key.clone(),
            source,
        };
        let object = match given {
            None if node.tuple.contains(&fk) => return Ok(()),
            None => None,
            Some(Override::Row(row)) => {
                let key = row.get(&resolved.target_key)?.clone();
                node.tuple.set(&fk, key);
                node.parents.push(link(ParentSource::Row(row.clone())));
                return Ok(());
            }
            Some(Override::Value(Value::Null)) => return Ok(()),
            Some(Override::Value(Value::Json(serde_json::Value::Object(map)))) => Some(map),
            Some(Override::Value(v @ (Value::Json(_) | Value::List(_)))) => {
                return Err(Self::invalid_override(
                    node,
                    assoc,
                    &format!(
                        "a belongs-to takes nil, the parent's key, a row or an object of overrides, not {}",
                        v.kind()
                    ),
                ));
            }
            Some(Override::Value(key)) => {
                node.tuple.set(&fk, key.clone());
                return Ok(());
            }
        };
        let parent = self.plan(
            &assoc.factory_name(),
            &assoc.traits,
            &overrides_with(&assoc.overrides, object),
            None,
            depth + 1,
        )?;
        self.check_target(node, assoc, resolved, &parent)?;
        node.parents
            .push(link(ParentSource::Plan(Box::new(parent))));
        Ok(())
    }

    fn plan_children(
        &self,
        node: &mut Node,
        assoc: &AssocDef,
        resolved: &Association,
        given: Option<&Override>,
        depth: usize,
    ) -> Result<()> {
        let one = resolved.kind == AssociationKind::HasOne;
        let repeat = |n: usize, object| vec![overrides_with(&assoc.overrides, object); n];
        let count = assoc.count.unwrap_or(1);
        let each: Vec<Overrides> = match given {
            None => repeat(count, None),
            Some(Override::Value(Value::Null)) => Vec::new(),
            Some(Override::Value(Value::Int(n))) => match usize::try_from(*n) {
                Ok(n) => repeat(n, None),
                Err(_) => {
                    return Err(Self::invalid_override(
                        node,
                        assoc,
                        &format!("a count cannot be negative ({n})"),
                    ));
                }
            },
            Some(Override::Value(Value::UInt(n))) => {
                repeat(usize::try_from(*n).unwrap_or(usize::MAX), None)
            }
            Some(Override::Value(Value::Json(serde_json::Value::Object(map)))) => {
                repeat(count, Some(map))
            }
            Some(Override::Value(Value::Json(serde_json::Value::Array(items)))) => items
                .iter()
                .map(|item| match item {
                    serde_json::Value::Object(map) => {
                        Ok(overrides_with(&assoc.overrides, Some(map)))
                    }
                    other => Err(Self::invalid_override(
                        node,
                        assoc,
                        &format!(
                            "each item of the list must be an object of overrides, not {other}"
                        ),
                    )),
                })
                .collect::<Result<_>>()?,
            Some(Override::Row(_)) => {
                return Err(Self::invalid_override(
                    node,
                    assoc,
                    "a row can stand only for a belongs-to; to attach existing children, update their foreign key",
                ));
            }
            Some(Override::Value(v)) => {
                return Err(Self::invalid_override(
                    node,
                    assoc,
                    &format!(
                        "a has-many takes a count, nil, an object of overrides or a list of them, not {}",
                        v.kind()
                    ),
                ));
            }
        };
        if one && each.len() > 1 {
            return Err(Self::invalid_override(
                node,
                assoc,
                &format!("a has-one builds at most one row, not {}", each.len()),
            ));
        }
        if each.len() > MAX_CHILDREN {
            return Err(Self::invalid_override(
                node,
                assoc,
                &format!(
                    "{} children is more than a factory builds at once ({MAX_CHILDREN}); create them in batches",
                    each.len()
                ),
            ));
        }
        let fk = resolved.target_key.clone();
        let mut nodes = Vec::with_capacity(each.len());
        for overrides in &each {
            let child = self.plan(
                &assoc.factory_name(),
                &assoc.traits,
                overrides,
                Some(&fk),
                depth + 1,
            )?;
            self.check_target(node, assoc, resolved, &child)?;
            nodes.push(child);
        }
        node.children.push(ChildLink {
            name: Arc::from(assoc.name.as_str()),
            fk,
            key: resolved.source_key.clone(),
            one,
            nodes,
        });
        Ok(())
    }

    /// Checks the factory building an association's rows writes to the
    /// association's relation.
    fn check_target(
        &self,
        node: &Node,
        assoc: &AssocDef,
        resolved: &Association,
        built: &Node,
    ) -> Result<()> {
        if built.relation.name() == resolved.target {
            return Ok(());
        }
        Err(FactoryError::invalid(
            &node.factory,
            format!(
                "association `{}` needs rows of `{}`, but factory `{}` builds `{}`; name another with .factory(...)",
                assoc.name,
                resolved.target,
                built.factory,
                built.relation.name()
            ),
        ))
    }
}
