//! Eager loading along associations: ROM's `combine`, `node`, `wrap` and
//! `assoc`.
//!
//! ```no_run
//! # async fn demo(container: &ferrom::Container) -> ferrom::Result<()> {
//! let companies = container.relation("companies")?;
//! // Two statements: the companies, then `WHERE company_id IN (...)`.
//! let rows = companies
//!     .combine("posts")
//!     .node("posts", |posts| posts.filter(("se_post", true)))
//!     .to_vec()
//!     .await?;
//! for company in &rows {
//!     println!("{}: {} posts", company.get("name")?, company.children("posts")?.len());
//! }
//! // One statement: posts INNER JOIN companies (posts without one drop out).
//! let posts = container.relation("posts")?.wrap("company").to_vec().await?;
//! # Ok(()) }
//! ```
//!
//! How it loads, as in rom-sql (never one query per parent, never lazily):
//!
//! - the parents first, in one statement; then, per combined association,
//!   one statement `WHERE <key> IN (<parent keys>)` over the distinct,
//!   non-NULL keys of the parents (none at all when there are none), split
//!   into several statements only when the keys would pass MySQL's 65,535
//!   placeholders. Each nested level repeats this over the level above, so
//!   `companies → posts → comments` is three statements;
//! - children are grouped in memory by key (a hash map) and nested under
//!   each parent in the parents' order; each parent's children keep the
//!   child relation's order (primary key unless a `node` refines it);
//! - the keys are read even when a selection leaves them out: they are
//!   added to the statement as hidden columns and do not appear in the rows;
//! - a many-to-many child statement joins the join relation and groups by
//!   its column pointing at the parent;
//! - `wrap` is an `INNER JOIN` in the parents' own statement: a parent
//!   without a match drops out, as in ROM;
//! - `assoc` is a relation, not a load: the target restricted by `key IN
//!   (SELECT key FROM <the parents' query>)`, to keep chaining;
//! - a `node`'s `limit` applies to each child statement, not to each parent;
//! - typed reads ([`Mapped::nest`]) decode each struct with its `FromRow`
//!   as the driver's rows stream in, reading the key columns from the same
//!   raw row: no dynamic rows, one hash-map pass to group the children.
//!
//! Child relations read through the parent's gateway and connection (a
//! transaction's included). Keys are compared in memory exactly (a
//! case-insensitive collation matching `'a'` to `'A'` in SQL does not
//! group them together).

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use futures_core::future::BoxFuture;
use sqlx::mysql::{MySql, MySqlRow};
use sqlx::{FromRow, Row as _, ValueRef as _};

use super::mapped::Mapped;
use super::query::{ColumnRef, Cond, Join, JoinKind, Operand, Query, Rendered, SelectItem};
use super::{Relation, and_filter, sql};
use crate::error::{Error, Result};
use crate::exec::{Exec, Statement};
use crate::row::{Columns, Nested, Row, decode_row, decode_scalar};
use crate::schema::{Association, AssociationKind, Schema};
use crate::value::Value;

/// The alias of a many-to-many join relation in a child statement.
const THROUGH: &str = "ferrom_through";
/// The output name of a child statement's grouping column.
const GROUP: &str = "ferrom_group";

/// What a relation eager-loads with its rows.
#[derive(Clone, Debug, Default)]
pub(crate) struct Graph {
    /// Combined associations, in the order they were combined.
    pub(crate) nodes: Vec<Node>,
    /// Wrapped to-one associations, joined into the parents' statement.
    pub(crate) wraps: Vec<Wrap>,
}

/// One combined association.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) name: Arc<str>,
    pub(crate) association: Association,
    /// The target relation, refined by `node`, with its own graph (the next
    /// level).
    pub(crate) relation: Relation,
}

/// One wrapped association.
#[derive(Clone, Debug)]
pub(crate) struct Wrap {
    pub(crate) name: Arc<str>,
    pub(crate) association: Association,
    pub(crate) schema: Arc<Schema>,
    pub(crate) columns: Arc<Columns>,
}

/// A statement that reads parents (or children) with everything their
/// associations need.
pub(crate) struct ReadPlan {
    pub(crate) rendered: Rendered,
    /// Every output column: the visible ones, then hidden keys, then wraps.
    pub(crate) columns: Arc<Columns>,
    /// Per requested key: its output position.
    pub(crate) keys: Vec<usize>,
    /// The position of the grouping column of a child statement.
    pub(crate) group: Option<usize>,
    /// Per wrap: its output positions.
    pub(crate) wraps: Vec<Range<usize>>,
}

fn split_path(path: &str) -> (&str, Option<&str>) {
    match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    }
}

fn kind_name(kind: AssociationKind) -> &'static str {
    match kind {
        AssociationKind::HasMany => "has_many",
        AssociationKind::HasOne => "has_one",
        AssociationKind::BelongsTo => "belongs_to",
        AssociationKind::ManyToMany => "many_to_many",
    }
}

/// The output position of `column`: where the selection has it already,
/// else appended under `alias`.
fn position(select: &mut Vec<SelectItem>, column: ColumnRef, alias: String) -> usize {
    if let Some(i) = select
        .iter()
        .position(|item| matches!(item, SelectItem::Column(c, _) if *c == column))
    {
        return i;
    }
    select.push(SelectItem::Column(column, Some(alias)));
    select.len() - 1
}

/// The placeholders one child statement may spend on keys, when the rest of
/// it binds `base` values.
fn keys_per_statement(base: usize) -> usize {
    sql::MAX_PARAMETERS.saturating_sub(base).max(1)
}

/// The keys in as few slices as keep each statement under MySQL's
/// placeholder limit, when the rest of the statement binds `base` values.
pub(crate) fn key_chunks(keys: &[Value], base: usize) -> std::slice::Chunks<'_, Value> {
    keys.chunks(keys_per_statement(base))
}

impl Relation {
    /// Applies a change to a copy of the graph; an error is kept and
    /// reported when the relation is read.
    fn with_graph(&self, change: impl FnOnce(&Relation, &mut Graph) -> Result<()>) -> Relation {
        let mut next = self.clone();
        if next.error.is_some() {
            return next;
        }
        let mut graph = self.graph.as_deref().cloned().unwrap_or_default();
        match change(self, &mut graph) {
            Ok(()) => next.graph = Some(Arc::new(graph)),
            Err(e) => next.error = Some(Arc::new(e)),
        }
        next
    }

    /// The same rows without eager loading (a wrap's join stays, so rows
    /// without a match still drop out).
    pub(crate) fn without_graph(&self) -> Relation {
        let mut plain = self.clone();
        plain.graph = None;
        plain
    }

    /// A relation that keeps `error`, to report when read.
    fn failed(&self, error: Error) -> Relation {
        self.with(|_, _| Err(error))
    }

    /// Eager-loads an association with the rows (ROM's `combine`): one more
    /// statement per level, `WHERE key IN (<parent keys>)`, its rows nested
    /// under each parent row ([`Row::children`], [`Row::parent`]). A path
    /// combines levels: `combine("posts.comments")` is ROM's
    /// `combine(posts: :comments)`. Call it again (or use
    /// [`Relation::combine_many`]) to combine several.
    ///
    /// An unknown association is [`Error::UnknownAssociation`], listing the
    /// relation's associations, when the relation is read.
    #[must_use]
    pub fn combine(&self, path: &str) -> Relation {
        let (head, rest) = split_path(path);
        self.with_graph(|r, graph| {
            if graph.wraps.iter().any(|w| &*w.name == head) {
                return Err(Error::InvalidQuery {
                    relation: r.name().to_string(),
                    reason: format!("`{head}` is wrapped already; combine or wrap it, not both"),
                });
            }
            let i = match graph.nodes.iter().position(|n| &*n.name == head) {
                Some(i) => i,
                None => {
                    let association = r.schema().association(head)?.clone();
                    let relation = r.sibling(&association.target)?;
                    graph.nodes.push(Node {
                        name: Arc::from(head),
                        association,
                        relation,
                    });
                    graph.nodes.len() - 1
                }
            };
            if let Some(rest) = rest {
                let node = &mut graph.nodes[i];
                let deeper = node.relation.combine(rest);
                deeper.check()?;
                node.relation = deeper;
            }
            Ok(())
        })
    }

    /// Combines several associations (or paths) at once: ROM's
    /// `combine(:posts, :tags)`.
    #[must_use]
    pub fn combine_many<I, S>(&self, paths: I) -> Relation
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        paths
            .into_iter()
            .fold(self.clone(), |r, path| r.combine(path.as_ref()))
    }

    /// Refines the relation a combined association is read from (ROM's
    /// `node(:posts) { ... }`): `refine` gets the child relation and returns
    /// it filtered, ordered, projected or combined further. A path reaches a
    /// deeper level (`node("posts.comments", ...)`). The child keeps its
    /// primary-key order unless `refine` orders it.
    ///
    /// When the relation is read: [`Error::UnknownAssociation`] for a name
    /// that is no association, [`Error::InvalidQuery`] for one not combined
    /// yet (`node` comes after `combine`) or when `refine` returns a
    /// relation of another table; the child relation's own errors.
    #[must_use]
    pub fn node<F>(&self, path: &str, refine: F) -> Relation
    where
        F: FnOnce(&Relation) -> Relation,
    {
        self.with_graph(|r, graph| r.refine_node(graph, path, refine))
    }

    fn refine_node<F>(&self, graph: &mut Graph, path: &str, refine: F) -> Result<()>
    where
        F: FnOnce(&Relation) -> Relation,
    {
        let (head, rest) = split_path(path);
        let combined = graph
            .nodes
            .iter()
            .map(|n| n.name.to_string())
            .collect::<Vec<_>>();
        let Some(node) = graph.nodes.iter_mut().find(|n| &*n.name == head) else {
            // An association that is not combined, or no association at all.
            self.schema().association(head)?;
            return Err(Error::InvalidQuery {
                relation: self.name().to_string(),
                reason: format!(
                    "node(\"{path}\") needs combine(\"{head}\") first; combined: {}",
                    if combined.is_empty() {
                        "none".to_string()
                    } else {
                        combined.join(", ")
                    }
                ),
            });
        };
        let refined = match rest {
            None => {
                let refined = refine(&node.relation);
                if refined.name() != node.relation.name() {
                    return Err(Error::InvalidQuery {
                        relation: self.name().to_string(),
                        reason: format!(
                            "node(\"{head}\") must return a relation of `{}`, got `{}`",
                            node.relation.name(),
                            refined.name()
                        ),
                    });
                }
                refined
            }
            Some(rest) => node.relation.node(rest, refine),
        };
        refined.check()?;
        node.relation = refined;
        Ok(())
    }

    /// Embeds a to-one association (belongs_to, has_one) through an
    /// `INNER JOIN` in this relation's own statement (ROM's `wrap`): one
    /// statement, rows without a match drop out, and the joined row is
    /// nested under the association's name ([`Row::parent`]). Its
    /// attributes can also be filtered on as `"company.name"`. After a
    /// [`Relation::left_join`] of the same association the join stays a
    /// left join: rows without a match stay, their parent `None`.
    ///
    /// When the relation is read: [`Error::UnknownAssociation`];
    /// [`Error::InvalidQuery`] for a to-many association (combine it).
    #[must_use]
    pub fn wrap(&self, name: &str) -> Relation {
        let association = match self.schema().association(name) {
            Ok(a) => a.clone(),
            Err(e) => return self.failed(e),
        };
        if !association.is_to_one() {
            return self.failed(Error::InvalidQuery {
                relation: self.name().to_string(),
                reason: format!(
                    "wrap takes a to-one association (belongs_to, has_one); `{name}` is {}: \
                     combine it instead",
                    kind_name(association.kind)
                ),
            });
        }
        self.join(name).with_graph(|r, graph| {
            if graph.nodes.iter().any(|n| &*n.name == name) {
                return Err(Error::InvalidQuery {
                    relation: r.name().to_string(),
                    reason: format!("`{name}` is combined already; combine or wrap it, not both"),
                });
            }
            if graph.wraps.iter().any(|w| &*w.name == name) {
                return Ok(());
            }
            let schema = r.sibling(&association.target)?.inner.schema.clone();
            graph.wraps.push(Wrap {
                name: Arc::from(name),
                columns: Columns::for_schema(&schema),
                schema,
                association,
            });
            Ok(())
        })
    }

    /// The target relation of an association, restricted to the rows
    /// associated with this relation's rows (ROM's `assoc`):
    /// `companies.by_pk(1).assoc("posts")` is company 1's posts. It is a
    /// relation like any other, read in one statement (`company_id IN
    /// (SELECT id FROM companies WHERE ...)`), to keep chaining.
    ///
    /// # Errors
    ///
    /// A builder error this relation kept; [`Error::UnknownAssociation`]
    /// listing the relation's associations.
    pub fn assoc(&self, name: &str) -> Result<Relation> {
        self.check()?;
        let association = self.schema().association(name)?.clone();
        let target = self.sibling(&association.target)?;
        let mut parents = (*self.query).clone();
        parents.select = Arc::new(vec![SelectItem::Column(
            ColumnRef::new(None, &association.source_key),
            None,
        )]);
        parents.distinct = false;
        parents.lock = None;
        if parents.limit.is_none() && parents.offset.is_none() {
            parents.order = Arc::default();
        }
        let cond = match (&association.through, &association.through_keys) {
            (Some(through), Some((to_source, to_target))) => {
                let join = self.sibling(through)?;
                let mut links = (*join.query).clone();
                links.select = Arc::new(vec![SelectItem::Column(
                    ColumnRef::new(None, to_target),
                    None,
                )]);
                links.order = Arc::default();
                links.filter = Some(Cond::InQuery(
                    Operand::Column(ColumnRef::new(None, to_source)),
                    Box::new(parents),
                ));
                Cond::InQuery(
                    Operand::Column(ColumnRef::new(None, &association.target_key)),
                    Box::new(links),
                )
            }
            _ => Cond::InQuery(
                Operand::Column(ColumnRef::new(None, &association.target_key)),
                Box::new(parents),
            ),
        };
        Ok(target.with(|_, q| {
            and_filter(q, cond);
            Ok(())
        }))
    }

    /// The child relation of `association` to read typed children from:
    /// the combined node's (refined) relation, else the target relation.
    pub(crate) fn nest_target(&self, name: &str, many: bool) -> Result<(Association, Relation)> {
        self.check()?;
        let association = self.schema().association(name)?.clone();
        if many == association.is_to_one() {
            let (kind, want) = (
                kind_name(association.kind),
                if many { "an Option<_>" } else { "a Vec<_>" },
            );
            return Err(Error::InvalidQuery {
                relation: self.name().to_string(),
                reason: format!("association `{name}` is {kind}: nest it into {want}"),
            });
        }
        let node = self
            .graph
            .as_deref()
            .and_then(|g| g.nodes.iter().find(|n| &*n.name == name));
        let relation = match node {
            Some(node) => node.relation.clone(),
            None => self.sibling(&association.target)?,
        };
        Ok((association, relation))
    }

    /// The read statement of `query` with the output columns nodes and a
    /// grouping column need, then the wrapped attributes.
    fn plan(
        &self,
        mut query: Query,
        keys: &[&str],
        group: Option<&ColumnRef>,
        wraps: &[Wrap],
    ) -> Result<ReadPlan> {
        let select = Arc::make_mut(&mut query.select);
        let keys = keys
            .iter()
            .enumerate()
            .map(|(i, key)| position(select, ColumnRef::new(None, key), format!("ferrom_key_{i}")))
            .collect();
        let group = group.map(|g| position(select, g.clone(), GROUP.to_string()));
        let wraps = wraps
            .iter()
            .map(|w| {
                let start = select.len();
                for attribute in w.schema.attributes() {
                    select.push(SelectItem::Column(
                        ColumnRef::new(Some(&w.name), &attribute.name),
                        Some(format!("{}.{}", w.name, attribute.name)),
                    ));
                }
                start..select.len()
            })
            .collect();
        let rendered = sql::render(&query, self.gateway().capabilities())
            .map_err(|e| e.into_error(self.name()))?;
        Ok(ReadPlan {
            rendered,
            columns: self.columns_for(&query),
            keys,
            group,
            wraps,
        })
    }

    /// The statement [`Relation::to_vec`] runs for a relation with a graph.
    pub(crate) fn graph_plan(&self) -> Result<ReadPlan> {
        self.check()?;
        let graph = self.graph.clone().unwrap_or_default();
        let keys: Vec<&str> = graph
            .nodes
            .iter()
            .map(|n| n.association.source_key.as_str())
            .collect();
        self.plan((*self.query).clone(), &keys, None, &graph.wraps)
    }

    /// The child statement for `keys`: this relation's query restricted to
    /// children of those keys, and the column to group them by.
    fn child_query(&self, association: &Association, keys: &[Value]) -> Result<(Query, ColumnRef)> {
        let mut query = (*self.query).clone();
        let group = match (&association.through, &association.through_keys) {
            (Some(through), Some((to_source, to_target))) => {
                let join = self.sibling(through)?;
                query.joins.push(Join {
                    kind: JoinKind::Inner,
                    table: join.inner.schema.table().to_string(),
                    alias: THROUGH.to_string(),
                    on: vec![(
                        ColumnRef::new(None, &association.target_key),
                        ColumnRef::new(Some(THROUGH), to_target),
                    )],
                });
                ColumnRef::new(Some(THROUGH), to_source)
            }
            _ => ColumnRef::new(None, &association.target_key),
        };
        and_filter(
            &mut query,
            Cond::In(Operand::Column(group.clone()), keys.to_vec(), false),
        );
        Ok((query, group))
    }

    /// The child statements for all `keys`: one, or one per slice when the
    /// keys would pass the placeholder limit.
    fn child_queries(
        &self,
        association: &Association,
        keys: &[Value],
    ) -> Result<Vec<(Query, ColumnRef)>> {
        let (empty, _) = self.child_query(association, &[])?;
        let base = sql::render(&empty, self.gateway().capabilities())
            .map_err(|e| e.into_error(self.name()))?
            .binds
            .len();
        key_chunks(keys, base)
            .map(|chunk| self.child_query(association, chunk))
            .collect()
    }

    /// Reads the rows of `query` with this relation's graph; with `group`,
    /// also each row's value of that column.
    pub(crate) fn read_graph(
        &self,
        query: Query,
        group: Option<ColumnRef>,
    ) -> BoxFuture<'_, Result<(Vec<Row>, Vec<Value>)>> {
        Box::pin(async move {
            self.check()?;
            let graph = self.graph.clone().unwrap_or_default();
            let keys: Vec<&str> = graph
                .nodes
                .iter()
                .map(|n| n.association.source_key.as_str())
                .collect();
            let plan = self.plan(query, &keys, group.as_ref(), &graph.wraps)?;
            let raw = self.fetch_raw(plan.rendered).await?;
            let visible = self.columns.len();
            let mut rows = Vec::with_capacity(raw.len());
            let mut parent_keys: Vec<ParentKeys> = graph
                .nodes
                .iter()
                .map(|_| ParentKeys::with_capacity(raw.len()))
                .collect();
            let mut groups = Vec::with_capacity(if plan.group.is_some() { raw.len() } else { 0 });
            for mysql_row in &raw {
                let mut values = decode_row(&plan.columns, mysql_row)?.into_values();
                for (k, &at) in parent_keys.iter_mut().zip(&plan.keys) {
                    k.push(values.get(at).unwrap_or(&Value::Null));
                }
                if let Some(at) = plan.group {
                    groups.push(values.get(at).cloned().unwrap_or(Value::Null));
                }
                let hidden = plan.wraps.first().map_or(values.len(), |r| r.start);
                let mut rest = values.split_off(visible.min(values.len())).into_iter();
                rest.by_ref()
                    .take(hidden.saturating_sub(visible))
                    .for_each(drop);
                let mut row = Row::from_parts(self.columns.clone(), values);
                for (wrap, range) in graph.wraps.iter().zip(&plan.wraps) {
                    let wrapped: Vec<Value> = rest.by_ref().take(range.len()).collect();
                    let matched = wrap
                        .schema
                        .position(&wrap.association.target_key)
                        .and_then(|i| wrapped.get(i))
                        .is_some_and(|v| !v.is_null());
                    let nested = matched.then(|| Row::from_parts(wrap.columns.clone(), wrapped));
                    row.set_nested(&wrap.name, Nested::One(nested));
                }
                rows.push(row);
            }
            drop(raw);
            for (node, keys) in graph.nodes.iter().zip(&parent_keys) {
                let children = node.load_rows(&self.exec, keys).await?;
                let to_one = node.association.is_to_one();
                for (row, group) in rows.iter_mut().zip(children) {
                    let nested = if to_one {
                        Nested::One(group.into_iter().next())
                    } else {
                        Nested::Many(group)
                    };
                    row.set_nested(&node.name, nested);
                }
            }
            Ok((rows, groups))
        })
    }

    /// For typed reads: every combined association needs a typed nest, and
    /// wraps are not read into structs.
    fn check_typed_graph(&self, nested: &[&str]) -> Result<()> {
        let Some(graph) = self.graph.as_deref() else {
            return Ok(());
        };
        if let Some(wrap) = graph.wraps.first() {
            return Err(Error::InvalidQuery {
                relation: self.name().to_string(),
                reason: format!(
                    "typed reads do not read wrapped rows (`{}`): nest it with \
                     .nest(\"{}\", |row, parent: Option<_>| ...) instead (one more statement)",
                    wrap.name, wrap.name
                ),
            });
        }
        match graph.nodes.iter().find(|n| !nested.contains(&&*n.name)) {
            None => Ok(()),
            Some(node) => Err(Error::InvalidQuery {
                relation: self.name().to_string(),
                reason: format!(
                    "`{}` is combined but has nowhere to go in the typed rows: add \
                     .nest(\"{}\", |parent, children| ...) (or nest_with for a deeper level)",
                    node.name, node.name
                ),
            }),
        }
    }
}

impl Node {
    /// The children of every parent, aligned with the parents of `keys`.
    async fn load_rows(&self, exec: &Exec, keys: &ParentKeys) -> Result<Vec<Vec<Row>>> {
        if keys.values.is_empty() {
            return Ok(keys.no_children());
        }
        let relation = self.relation.with_exec(exec.clone());
        let mut children = Vec::new();
        let mut child_keys = Vec::new();
        for (query, group) in relation.child_queries(&self.association, &keys.values)? {
            let (rows, groups) = relation.read_graph(query, Some(group)).await?;
            if children.is_empty() {
                children = rows;
                child_keys = groups;
            } else {
                children.extend(rows);
                child_keys.extend(groups);
            }
        }
        Ok(keys.distribute(children, child_keys))
    }
}

/// A key value normalized for hashing: integers of any width and sign
/// compare equal by value; NULL is no key.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Key {
    Int(i64),
    /// An unsigned integer above `i64::MAX`.
    UInt(u64),
    Text(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    DateTime(NaiveDateTime),
    Time(i64),
    Float(u64),
    /// JSON and lists, by their text.
    Other(String),
}

/// Integer keys (nearly every key) hash as one `i64`, nothing else: equal
/// keys still hash equally, and the hash map's hasher does one word.
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self {
            Key::Int(i) => state.write_i64(*i),
            Key::UInt(u) => state.write_u64(*u),
            Key::Text(s) | Key::Other(s) => s.hash(state),
            Key::Bytes(b) => b.hash(state),
            Key::Date(d) => d.hash(state),
            Key::DateTime(t) => t.hash(state),
            Key::Time(t) => t.hash(state),
            Key::Float(f) => f.hash(state),
        }
    }
}

impl Key {
    fn int(u: u64) -> Key {
        i64::try_from(u).map_or(Key::UInt(u), Key::Int)
    }

    fn new(value: Value) -> Option<Key> {
        Some(match value {
            Value::Null => return None,
            Value::Int(i) => Key::Int(i),
            Value::UInt(u) => Key::int(u),
            Value::Bool(b) => Key::Int(i64::from(b)),
            Value::String(s) | Value::Decimal(s) => Key::Text(s),
            Value::Bytes(b) => Key::Bytes(b),
            Value::Date(d) => Key::Date(d),
            Value::DateTime(t) => Key::DateTime(t),
            Value::Time(t) => Key::Time(t),
            Value::Float(f) => Key::Float(f.to_bits()),
            other => Key::Other(other.to_string()),
        })
    }

    fn of(value: &Value) -> Option<Key> {
        match value {
            Value::Int(i) => Some(Key::Int(*i)),
            Value::UInt(u) => Some(Key::int(*u)),
            other => Key::new(other.clone()),
        }
    }
}

/// The key of each parent, and the distinct non-NULL keys to ask for.
#[derive(Debug, Default)]
pub(crate) struct ParentKeys {
    /// Distinct key → its slot.
    slots: HashMap<Key, usize>,
    /// The distinct keys, by slot, in first-seen order (the `IN` list).
    values: Vec<Value>,
    /// How many parents have each slot's key.
    parents_per_slot: Vec<usize>,
    /// Each parent's slot (`None`: a NULL key, no children).
    of_parent: Vec<Option<usize>>,
}

impl ParentKeys {
    pub(crate) fn with_capacity(parents: usize) -> ParentKeys {
        ParentKeys {
            slots: HashMap::with_capacity(parents),
            values: Vec::with_capacity(parents),
            parents_per_slot: Vec::with_capacity(parents),
            of_parent: Vec::with_capacity(parents),
        }
    }

    /// Adds the next parent's key.
    pub(crate) fn push(&mut self, value: &Value) {
        let slot = Key::of(value).map(|key| {
            let next = self.values.len();
            let slot = *self.slots.entry(key).or_insert(next);
            if slot == next {
                self.values.push(value.clone());
                self.parents_per_slot.push(0);
            }
            self.parents_per_slot[slot] += 1;
            slot
        });
        self.of_parent.push(slot);
    }

    /// No children for any parent.
    fn no_children<C>(&self) -> Vec<Vec<C>> {
        self.of_parent.iter().map(|_| Vec::new()).collect()
    }

    /// Each parent's children, in the children's order: `children[i]` has
    /// the key `keys[i]`. A child shared by several parents (a belongs-to
    /// parent, or parents with equal keys) is cloned for all but the last.
    fn distribute<C: Clone>(&self, children: Vec<C>, keys: Vec<Value>) -> Vec<Vec<C>> {
        let slots: Vec<Option<usize>> = keys
            .into_iter()
            .map(|k| Key::new(k).and_then(|k| self.slots.get(&k).copied()))
            .collect();
        let mut counts = vec![0usize; self.values.len()];
        for &slot in slots.iter().flatten() {
            counts[slot] += 1;
        }
        let mut groups: Vec<Vec<C>> = counts.into_iter().map(Vec::with_capacity).collect();
        for (child, slot) in children.into_iter().zip(slots) {
            if let Some(slot) = slot {
                groups[slot].push(child);
            }
        }
        let mut left = self.parents_per_slot.clone();
        self.of_parent
            .iter()
            .map(|slot| match *slot {
                None => Vec::new(),
                Some(slot) => {
                    left[slot] -= 1;
                    if left[slot] == 0 {
                        std::mem::take(&mut groups[slot])
                    } else {
                        groups[slot].clone()
                    }
                }
            })
            .collect()
    }
}

/// How a typed parent receives the rows of one association in
/// [`Mapped::nest`]: `Vec<C>` for a has-many or many-to-many association
/// (empty when there are none), `Option<C>` for a belongs-to or has-one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot receive nested rows",
    note = "nest a has_many or many_to_many association into a `Vec<_>`, a belongs_to or has_one into an `Option<_>`"
)]
pub trait Children: Send + Sized + 'static {
    /// The type of one child.
    type Item;
    /// Whether it holds any number of children (`Vec`) or at most one.
    const MANY: bool;
    /// The children of one parent (at most one for a to-one association).
    fn from_children(children: Vec<Self::Item>) -> Self;
}

impl<C: Send + 'static> Children for Vec<C> {
    type Item = C;
    const MANY: bool = true;
    fn from_children(children: Vec<C>) -> Self {
        children
    }
}

impl<C: Send + 'static> Children for Option<C> {
    type Item = C;
    const MANY: bool = false;
    fn from_children(children: Vec<C>) -> Self {
        children.into_iter().next()
    }
}

/// A typed association: how to load it for parents of type `T`.
pub(crate) trait TypedNode<T>: Send + Sync {
    /// The association's name.
    fn name(&self) -> &str;
    /// The parent's key column.
    fn source_key(&self) -> &str;
    /// Loads the children of `parents` (whose keys are `keys`) and hands
    /// each parent its own.
    fn load<'a>(
        &'a self,
        exec: &'a Exec,
        parents: &'a mut [T],
        keys: &'a ParentKeys,
    ) -> BoxFuture<'a, Result<()>>;
}

/// A typed association nested into `T` with `set`.
pub(crate) struct TypedNest<T, K: Children, F> {
    pub(crate) association: Association,
    pub(crate) children: Mapped<K::Item>,
    pub(crate) set: F,
    pub(crate) parent: PhantomData<fn(&mut T)>,
}

impl<T, K, F> TypedNode<T> for TypedNest<T, K, F>
where
    T: Send,
    K: Children,
    K::Item: for<'r> FromRow<'r, MySqlRow> + Clone + Send + Unpin + 'static,
    F: Fn(&mut T, K) + Send + Sync,
{
    fn name(&self) -> &str {
        &self.association.name
    }

    fn source_key(&self) -> &str {
        &self.association.source_key
    }

    fn load<'a>(
        &'a self,
        exec: &'a Exec,
        parents: &'a mut [T],
        keys: &'a ParentKeys,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let groups = if keys.values.is_empty() {
                keys.no_children()
            } else {
                let relation = self.children.relation().with_exec(exec.clone());
                let mut items = Vec::new();
                let mut child_keys = Vec::new();
                for (query, group) in relation.child_queries(&self.association, &keys.values)? {
                    let (more, more_keys) = self
                        .children
                        .read_typed(&relation, query, Some(group))
                        .await?;
                    if items.is_empty() {
                        items = more;
                        child_keys = more_keys;
                    } else {
                        items.extend(more);
                        child_keys.extend(more_keys);
                    }
                }
                keys.distribute(items, child_keys)
            };
            for (parent, group) in parents.iter_mut().zip(groups) {
                (self.set)(parent, K::from_children(group));
            }
            Ok(())
        })
    }
}

tokio::task_local! {
    /// Where the key columns are in the rows being decoded as [`Keyed`],
    /// and what was read from them: set around one typed statement.
    static KEY_READER: RefCell<KeyReader>;
}

/// The key columns of a typed statement's rows and their values, read by
/// [`Keyed`] from each raw row as it arrives.
#[derive(Default)]
struct KeyReader {
    /// Per typed nest: the output position of its parent key.
    positions: Vec<usize>,
    /// The output position of the grouping column of a child statement.
    group: Option<usize>,
    parent_keys: Vec<ParentKeys>,
    groups: Vec<Value>,
    /// The first key that could not be read.
    error: Option<Error>,
}

impl KeyReader {
    fn new(positions: Vec<usize>, group: Option<usize>) -> KeyReader {
        KeyReader {
            parent_keys: positions.iter().map(|_| ParentKeys::default()).collect(),
            positions,
            group,
            groups: Vec::new(),
            error: None,
        }
    }

    fn read(&mut self, row: &MySqlRow) -> Result<()> {
        for (keys, &at) in self.parent_keys.iter_mut().zip(&self.positions) {
            keys.push(&read_key(row, at)?);
        }
        if let Some(at) = self.group {
            self.groups.push(read_key(row, at)?);
        }
        Ok(())
    }
}

/// A `T` whose key columns are read from the same driver row it is decoded
/// from (into the task's [`KEY_READER`]), while the rows stream in: sqlx
/// decodes each row as it arrives, with no dynamic row and no second pass
/// over kept raw rows.
#[repr(transparent)]
struct Keyed<T>(T);

impl<'r, T: FromRow<'r, MySqlRow>> FromRow<'r, MySqlRow> for Keyed<T> {
    fn from_row(row: &'r MySqlRow) -> std::result::Result<Self, sqlx::Error> {
        let item = T::from_row(row)?;
        let read = KEY_READER.try_with(|cell| {
            let mut reader = cell.borrow_mut();
            match reader.read(row) {
                Ok(()) => true,
                Err(e) => {
                    reader.error.get_or_insert(e);
                    false
                }
            }
        });
        match read {
            Ok(true) => Ok(Keyed(item)),
            // The reader keeps the error; the statement stops here.
            Ok(false) => Err(sqlx::Error::Decode("ferrom: reading a key column".into())),
            Err(_) => Err(sqlx::Error::Decode(
                "ferrom: keyed rows decoded outside a typed read".into(),
            )),
        }
    }
}

/// One key column of a raw row: a signed integer straight from the
/// driver, anything else as [`decode_scalar`] reads it.
fn read_key(row: &MySqlRow, at: usize) -> Result<Value> {
    if let Ok(raw) = row.try_get_raw(at) {
        if raw.is_null() {
            return Ok(Value::Null);
        }
        if <i64 as sqlx::Type<MySql>>::compatible(&raw.type_info())
            && let Ok(i) = <i64 as sqlx::Decode<MySql>>::decode(raw)
        {
            return Ok(Value::Int(i));
        }
    }
    decode_scalar(row, at)
}

impl<T> Mapped<T>
where
    T: for<'r> FromRow<'r, MySqlRow> + Send + Unpin,
{
    /// Reads `query` of `relation` as `T` with the typed nests; with
    /// `group`, also each row's value of that column. Keys are read from
    /// the same raw rows `T` is decoded from: no dynamic rows in between.
    pub(crate) async fn read_typed(
        &self,
        relation: &Relation,
        query: Query,
        group: Option<ColumnRef>,
    ) -> Result<(Vec<T>, Vec<Value>)> {
        relation.check()?;
        let names: Vec<&str> = self.nodes.iter().map(|n| n.name()).collect();
        relation.check_typed_graph(&names)?;
        let keys: Vec<&str> = self.nodes.iter().map(|n| n.source_key()).collect();
        let plan = relation.plan(query, &keys, group.as_ref(), &[])?;
        let reader = KeyReader::new(plan.keys, plan.group);
        let (items, reader) = KEY_READER
            .scope(RefCell::new(reader), async {
                let rows = relation
                    .exec
                    .fetch_all_as::<Keyed<T>>(
                        relation.gateway(),
                        Statement {
                            sql: (&plan.rendered.sql).into(),
                            binds: &plan.rendered.binds,
                            relation: Some(relation.name()),
                        },
                    )
                    .await;
                let reader = KEY_READER
                    .try_with(|cell| std::mem::take(&mut *cell.borrow_mut()))
                    .unwrap_or_default();
                (rows, reader)
            })
            .await;
        if let Some(e) = reader.error {
            return Err(e);
        }
        // `Keyed<T>` is `T` (`repr(transparent)`): this reuses the vector.
        let mut items: Vec<T> = items?.into_iter().map(|Keyed(item)| item).collect();
        let KeyReader {
            parent_keys,
            groups,
            ..
        } = reader;
        for (node, keys) in self.nodes.iter().zip(&parent_keys) {
            node.load(&relation.exec, &mut items, keys).await?;
        }
        Ok((items, groups))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(range: std::ops::Range<i64>) -> Vec<Value> {
        range.map(Value::Int).collect()
    }

    #[test]
    fn keys_split_below_the_placeholder_limit() {
        let keys = ints(0..70_000);
        let sizes: Vec<usize> = key_chunks(&keys, 0).map(<[Value]>::len).collect();
        assert_eq!(sizes, [65_535, 4_465]);
        // Other values in the statement take their placeholders first.
        let sizes: Vec<usize> = key_chunks(&keys, 3).map(<[Value]>::len).collect();
        assert_eq!(sizes, [65_532, 4_468]);
        assert_eq!(key_chunks(&keys[..65_535], 0).count(), 1);
        assert_eq!(key_chunks(&keys[..10], 0).count(), 1);
        assert_eq!(key_chunks(&[], 0).count(), 0);
        // Even a statement at the limit makes progress (and then fails to
        // render with TooManyParameters rather than looping).
        assert_eq!(key_chunks(&keys[..3], 70_000).count(), 3);
        // Every key is in exactly one slice, in order.
        let rejoined: Vec<Value> = key_chunks(&keys, 100).flatten().cloned().collect();
        assert_eq!(rejoined, keys);
    }

    #[test]
    fn parent_keys_are_distinct_and_skip_null() {
        let mut keys = ParentKeys::with_capacity(5);
        for v in [
            Value::Int(2),
            Value::Null,
            Value::Int(1),
            Value::Int(2),
            Value::UInt(1u64 << 63),
        ] {
            keys.push(&v);
        }
        assert_eq!(
            keys.values,
            [Value::Int(2), Value::Int(1), Value::UInt(1u64 << 63)]
        );
        assert_eq!(keys.of_parent, [Some(0), None, Some(1), Some(0), Some(2)]);
    }

    #[test]
    fn children_go_to_every_parent_with_their_key_in_child_order() {
        let mut keys = ParentKeys::with_capacity(4);
        for v in [1, 2, 3, 1] {
            keys.push(&Value::Int(v));
        }
        keys.push(&Value::Null);
        let children = vec!["a", "b", "c", "d", "orphan"];
        let child_keys = vec![
            Value::Int(1),
            Value::Int(3),
            Value::Int(1),
            Value::UInt(3),
            Value::Int(9),
        ];
        let groups = keys.distribute(children, child_keys);
        assert_eq!(
            groups,
            vec![
                vec!["a", "c"],
                vec![],
                vec!["b", "d"],
                vec!["a", "c"],
                vec![]
            ]
        );
    }

    #[test]
    fn keys_normalize_integers_and_text() {
        assert_eq!(Key::of(&Value::Int(5)), Key::of(&Value::UInt(5)));
        assert_eq!(Key::of(&Value::Bool(true)), Key::of(&Value::Int(1)));
        assert_eq!(Key::of(&Value::Null), None);
        assert_ne!(Key::of(&Value::from("a")), Key::of(&Value::from("A")));
        assert_eq!(Key::of(&Value::from("a")), Key::new(Value::from("a")));
    }

    #[test]
    fn selected_keys_are_found_and_missing_ones_appended() {
        let mut select = vec![
            SelectItem::Column(ColumnRef::new(None, "name"), None),
            SelectItem::Column(ColumnRef::new(None, "id"), Some("key".into())),
        ];
        assert_eq!(
            position(&mut select, ColumnRef::new(None, "id"), "k".into()),
            1
        );
        assert_eq!(
            position(&mut select, ColumnRef::new(None, "company_id"), "k".into()),
            2
        );
        assert_eq!(
            select[2],
            SelectItem::Column(ColumnRef::new(None, "company_id"), Some("k".into()))
        );
        // A joined table's column of the same name is another column.
        assert_eq!(
            position(
                &mut select,
                ColumnRef::new(Some("company"), "id"),
                "j".into()
            ),
            3
        );
    }
}
