//! Building planned rows: in memory ([`Factories::build`]) or in the
//! database ([`Factories::create`]), and reading them as typed structs.

use std::sync::Arc;

use futures_core::future::BoxFuture;
use serde::de::DeserializeOwned;

use super::plan::{Node, ParentSource};
use super::{Factories, FactoryError, Sequence};
use crate::command::{
    Command, CommandContext, CommandDefinition, CommandRegistry, ResultKind, Tuple,
};
use crate::error::{Error, Result};
use crate::relation::Relation;
use crate::row::{Columns, Nested, Row};
use crate::schema::{Attribute, Type};
use crate::transaction::Transaction;
use crate::value::Value;

/// Where created rows are written: through the pool, or in a transaction.
#[derive(Clone)]
pub(crate) enum Target {
    Pool,
    Transaction(Transaction),
}

impl Target {
    fn bind(&self, relation: &Relation) -> Result<Relation> {
        match self {
            Target::Pool => Ok(relation.clone()),
            Target::Transaction(tx) => tx.bind(relation),
        }
    }
}

/// The create command of a relation: the one registered as `create`, so
/// its plugins (timestamps) run, else a plain insert returning the row.
fn create_command(relation: &Relation) -> Command {
    if let Ok(command) = relation.command("create") {
        return command;
    }
    let registry = relation
        .command_registries()
        .get(relation.name())
        .cloned()
        .unwrap_or_else(|| Arc::new(CommandRegistry::empty(relation.schema())));
    Command::new(
        Arc::new(CommandDefinition::create(relation.name(), "create").result(ResultKind::One)),
        relation.clone(),
        registry,
    )
}

/// The value a column takes when an insert does not give one, as far as it
/// can be known without the database: its literal default, else NULL.
fn default_value(attribute: &Attribute) -> Value {
    let Some(text) = attribute.default.as_deref().map(str::trim) else {
        return Value::Null;
    };
    if text.eq_ignore_ascii_case("null") {
        return Value::Null;
    }
    match &attribute.ty {
        Type::Bool => match text.to_ascii_lowercase().as_str() {
            "0" | "false" | "b'0'" => Value::Bool(false),
            "1" | "true" | "b'1'" => Value::Bool(true),
            _ => Value::Null,
        },
        Type::Integer { .. } => text
            .parse::<i64>()
            .map(Value::Int)
            .or_else(|_| text.parse::<u64>().map(Value::UInt))
            .unwrap_or(Value::Null),
        Type::Float { .. } => text.parse::<f64>().map_or(Value::Null, Value::Float),
        Type::Decimal { .. } if text.parse::<f64>().is_ok() => Value::Decimal(text.to_string()),
        Type::String { .. } | Type::Enum(_) => Value::String(text.to_string()),
        Type::Json => serde_json::from_str(text).map_or(Value::Null, Value::Json),
        _ => Value::Null,
    }
}

/// Runs the `before` hooks of the plugins of the relation's registered
/// `create` command on a built tuple (timestamps: a built post has its
/// `scrapped_at`, as a created one would).
fn run_plugins(relation: &Relation, tuple: &mut Tuple) -> Result<()> {
    let Ok(command) = relation.command("create") else {
        return Ok(());
    };
    let definition = command.definition();
    if definition.plugins().is_empty() {
        return Ok(());
    }
    let ctx = CommandContext::new(
        relation.name(),
        definition.name(),
        definition.kind(),
        relation.schema(),
    );
    let mut tuples = [std::mem::take(tuple)];
    for plugin in definition.plugins() {
        plugin.before(&ctx, &mut tuples)?;
    }
    let [built] = tuples;
    *tuple = built;
    Ok(())
}

/// The attribute types' JSON for a typed struct: datetimes without an
/// offset (what `chrono::NaiveDateTime` reads), nested rows under their
/// association's name.
pub(crate) fn row_json(row: &Row) -> serde_json::Value {
    fn value_json(value: &Value) -> serde_json::Value {
        match value {
            Value::DateTime(dt) => {
                serde_json::Value::String(dt.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
            }
            Value::List(items) => serde_json::Value::Array(items.iter().map(value_json).collect()),
            other => other.to_json(),
        }
    }
    let mut map: serde_json::Map<String, serde_json::Value> = row
        .iter()
        .map(|(name, value)| (name.to_string(), value_json(value)))
        .collect();
    for (name, nested) in row.nested_iter() {
        let json = match nested {
            Nested::Many(rows) => serde_json::Value::Array(rows.iter().map(row_json).collect()),
            Nested::One(Some(row)) => row_json(row),
            Nested::One(None) => serde_json::Value::Null,
        };
        map.insert(name.to_string(), json);
    }
    serde_json::Value::Object(map)
}

/// A row (with what is nested in it) as a typed struct.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the factory and the type when it does
/// not deserialize.
pub(crate) fn typed<T: DeserializeOwned>(factory: &str, row: &Row) -> Result<T> {
    serde_json::from_value(row_json(row)).map_err(|e| Error::InvalidInput {
        reason: format!(
            "a row of factory `{factory}` does not deserialize into {}: {e}",
            std::any::type_name::<T>()
        ),
    })
}

impl Factories {
    /// Builds a planned row in memory: parents first, the primary key from
    /// a sequence, the create command's plugins run on the attributes,
    /// children after.
    pub(crate) fn build_node(&self, node: Node) -> Result<Row> {
        let Node {
            relation,
            mut tuple,
            parents,
            children,
            ..
        } = node;
        let mut nested = Vec::new();
        for parent in parents {
            let row = match parent.source {
                ParentSource::Plan(node) => self.build_node(*node)?,
                ParentSource::Row(row) => row,
            };
            tuple.set(&parent.fk, row.get(&parent.key)?.clone());
            nested.push((parent.name, Nested::One(Some(row))));
        }
        run_plugins(&relation, &mut tuple)?;
        let schema = relation.schema();
        if let [pk] = schema.primary_key().as_slice()
            && matches!(pk.ty, Type::Integer { .. })
            && !tuple.contains(&pk.name)
        {
            let id = format!("{}#built-primary-key", relation.name());
            let n = Sequence::on(relation.gateway().settings(), &id).next();
            tuple.set(
                &pk.name,
                i64::try_from(n).map_or(Value::UInt(n), Value::Int),
            );
        }
        let values = schema
            .attributes()
            .iter()
            .map(|a| {
                tuple
                    .get(&a.name)
                    .cloned()
                    .unwrap_or_else(|| default_value(a))
            })
            .collect();
        let mut row = Row::from_parts(Columns::for_schema(schema), values);
        for link in children {
            let key = row.get(&link.key)?.clone();
            let mut rows = Vec::with_capacity(link.nodes.len());
            for mut node in link.nodes {
                node.tuple.set(&link.fk, key.clone());
                rows.push(self.build_node(node)?);
            }
            let rows = if link.one {
                Nested::One(rows.into_iter().next())
            } else {
                Nested::Many(rows)
            };
            nested.push((link.name, rows));
        }
        for (name, rows) in nested {
            row.set_nested(&name, rows);
        }
        Ok(row)
    }

    /// Creates a planned row: parents first, the row through its relation's
    /// create command, then the children with their foreign key set. Every
    /// row is as the database returned it, nested as built.
    pub(crate) fn create_node<'a>(
        &'a self,
        node: Node,
        target: &'a Target,
    ) -> BoxFuture<'a, Result<Row>> {
        Box::pin(async move {
            let Node {
                factory,
                relation,
                mut tuple,
                parents,
                children,
            } = node;
            let mut nested = Vec::new();
            for parent in parents {
                let row = match parent.source {
                    ParentSource::Plan(node) => self.create_node(*node, target).await?,
                    ParentSource::Row(row) => row,
                };
                tuple.set(&parent.fk, row.get(&parent.key)?.clone());
                nested.push((parent.name, Nested::One(Some(row))));
            }
            let command = create_command(&target.bind(&relation)?);
            let mut row = command.call(tuple).await?.into_one().ok_or_else(|| {
                FactoryError::invalid(
                    &factory,
                    format!(
                        "the `{}` command of relation `{}` returned no row",
                        command.name(),
                        relation.name()
                    ),
                )
            })?;
            for link in children {
                let key = row.get(&link.key)?.clone();
                let mut rows = Vec::with_capacity(link.nodes.len());
                for mut node in link.nodes {
                    node.tuple.set(&link.fk, key.clone());
                    rows.push(self.create_node(node, target).await?);
                }
                let rows = if link.one {
                    Nested::One(rows.into_iter().next())
                } else {
                    Nested::Many(rows)
                };
                nested.push((link.name, rows));
            }
            for (name, rows) in nested {
                row.set_nested(&name, rows);
            }
            Ok(row)
        })
    }

    /// Creates a planned row, in a transaction of its own when it writes
    /// several rows through one gateway (so a failure leaves none of them),
    /// or in the caller's.
    pub(crate) async fn create_planned(&self, node: Node, tx: Option<&Transaction>) -> Result<Row> {
        if let Some(tx) = tx {
            return self
                .create_node(node, &Target::Transaction(tx.clone()))
                .await;
        }
        let Some(gateway) = self.single_gateway(&node) else {
            return self.create_node(node, &Target::Pool).await;
        };
        let tx = self.container.begin_with(&gateway, None).await?;
        let target = Target::Transaction(tx.clone());
        match self.create_node(node, &target).await {
            Ok(row) => {
                tx.commit().await?;
                Ok(row)
            }
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    /// The name of the one gateway every relation of a plan of several rows
    /// writes through; `None` for a single row or several gateways.
    fn single_gateway(&self, node: &Node) -> Option<String> {
        if !node.has_links() {
            return None;
        }
        let mut relations = Vec::new();
        node.relations(&mut relations);
        let settings = relations.first()?.gateway().settings();
        if relations.iter().any(|r| r.gateway().settings() != settings) {
            return None;
        }
        self.container
            .gateways()
            .iter()
            .find(|(_, g)| g.settings() == settings)
            .map(|(name, _)| name.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(ty: Type, default: Option<&str>) -> Attribute {
        let mut a = Attribute::new("a", ty);
        a.default = default.map(str::to_string);
        a
    }

    #[test]
    fn literal_defaults_are_read_as_their_type() {
        let string = Type::String {
            max_length: Some(255),
        };
        assert_eq!(
            default_value(&attribute(string.clone(), Some("running"))),
            Value::from("running")
        );
        assert_eq!(default_value(&attribute(string, Some("NULL"))), Value::Null);
        assert_eq!(
            default_value(&attribute(Type::Bool, Some("0"))),
            Value::Bool(false)
        );
        let int = Type::Integer {
            bits: 32,
            unsigned: false,
        };
        assert_eq!(
            default_value(&attribute(int.clone(), Some("7"))),
            Value::Int(7)
        );
        assert_eq!(default_value(&attribute(int, None)), Value::Null);
        let dt = Type::DateTime {
            precision: 0,
            timestamp: false,
        };
        assert_eq!(
            default_value(&attribute(dt, Some("current_timestamp()"))),
            Value::Null
        );
    }
}
