//! Relations: immutable query values over one table.
//!
//! A relation starts as every attribute of its table in primary-key order
//! (as ROM's do). Each builder call returns a new relation and leaves the
//! old one as it was; nothing runs until a reading method is awaited.
//!
//! ```no_run
//! # async fn demo(container: &ferrom::Container) -> ferrom::Result<()> {
//! use ferrom::attr;
//!
//! let posts = container.relation("posts")?;
//! let recent = posts
//!     .filter(("company_id", 1))
//!     .exclude(("se_post", true))
//!     .order([attr("published_at").desc()])
//!     .limit(5);
//! println!("{}", recent.to_sql()?);
//! for row in recent.to_vec().await? {
//!     println!("{:?}", row.get("url")?);
//! }
//! # Ok(()) }
//! ```
//!
//! ROM's names and ferrom's, where Rust differs:
//!
//! | ROM | ferrom |
//! |---|---|
//! | `where(...)` | [`Relation::filter`] (`where` is a Rust keyword) |
//! | `to_a` | [`Relation::to_vec`] (also [`Relation::to_a`]) |
//! | `one!` | [`Relation::one_strict`] |
//! | `exist?` | [`Relation::exists`] |
//! | `each` | [`Relation::stream`] |
//! | `pluck(:a, :b)` | [`Relation::pluck_many`] |
//! | `lock(mode: :share, skip_locked: true)` | [`Relation::lock`]`(LockMode::Share, LockWait::SkipLocked)` |
//! | `combine(:posts, :tags)` | [`Relation::combine`]`("posts")` (again for each), [`Relation::combine_many`]`(["posts", "tags"])` |
//! | `combine(posts: :comments)` | [`Relation::combine`]`("posts.comments")` |
//! | `node(:posts) { \|p\| p.where(...) }` | [`Relation::node`]`("posts", \|p\| p.filter(...))` |
//! | `wrap(:company)`, `assoc(:posts)` | [`Relation::wrap`], [`Relation::assoc`] |
//! | `map_to(Company)` with combined posts | [`Relation::map_to`] then [`Mapped::nest`] |

mod combine;
mod condition;
mod mapped;
mod pager;
pub(crate) mod query;
mod reading;
pub(crate) mod sql;
pub(crate) mod writing;

pub use combine::Children;
pub use condition::{
    AggregateFn, Attr, Comparison, Condition, OrderKey, Subject, aggregate, attr, count_all,
};
pub use mapped::Mapped;
pub use pager::Pager;
pub use query::{LockMode, LockWait, OutputColumn};

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::error::{Error, Result};
use crate::exec::{Exec, Statement};
use crate::gateway::Gateway;
use crate::row::Columns;
use crate::schema::{Schema, Type};
use crate::value::Value;
use query::{ColumnRef, Cond, Join, JoinKind, Lock, Operand, OrderItem, Query, SelectItem};

/// A view: a named function from a relation and arguments to a relation,
/// registered with the relation's definition (the reference application's
/// `posts.by_url(url)`), callable by name from the console.
pub type View = Arc<dyn Fn(&Relation, &[Value]) -> Result<Relation> + Send + Sync>;

/// What every relation value of one registered relation shares.
pub(crate) struct RelationInner {
    pub(crate) name: String,
    pub(crate) schema: Arc<Schema>,
    pub(crate) gateway: Gateway,
    pub(crate) views: BTreeMap<String, (usize, View)>,
    /// Every relation's schema in the container, for joins.
    pub(crate) schemas: Arc<BTreeMap<String, Arc<Schema>>>,
    /// Every relation's commands in the container, by relation name.
    pub(crate) commands: Arc<crate::command::CommandRegistries>,
    /// The statements rendered once and shared by its calls.
    pub(crate) shared: writing::SharedStatements,
}

/// A relation: a query over one table that reads dynamic [`Row`](crate::Row)s
/// or, through [`Relation::map_to`], typed structs.
#[derive(Clone)]
pub struct Relation {
    inner: Arc<RelationInner>,
    /// Where its statements run: the pool, or a transaction's connection.
    pub(crate) exec: Exec,
    query: Arc<Query>,
    columns: Arc<Columns>,
    /// The first builder error, reported when the relation is read.
    error: Option<Arc<Error>>,
    page: Option<(u64, u64)>,
    /// What is eager-loaded with its rows (`combine`, `wrap`), if anything.
    graph: Option<Arc<combine::Graph>>,
    /// Every attribute of the table, no condition, no order: where the
    /// statements commands render by key start (shared, built once).
    bare: Arc<Query>,
}

impl fmt::Debug for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relation")
            .field("name", &self.inner.name)
            .field("sql", &self.to_sql().unwrap_or_else(|e| format!("<{e}>")))
            .finish()
    }
}

/// The default page size of [`Relation::page`].
pub const DEFAULT_PER_PAGE: u64 = 20;

impl Relation {
    pub(crate) fn new(inner: RelationInner) -> Relation {
        let schema = inner.schema.clone();
        let select = Arc::new(
            schema
                .attributes()
                .iter()
                .map(|a| SelectItem::Column(ColumnRef::new(None, &a.name), None))
                .collect(),
        );
        let order = Arc::new(primary_key_order(&schema));
        let query = Query {
            table: Arc::from(schema.table()),
            select,
            distinct: false,
            joins: Vec::new(),
            filter: None,
            group: Vec::new(),
            having: None,
            order,
            limit: None,
            offset: None,
            lock: None,
        };
        let columns = Columns::for_schema(&schema);
        let bare = Arc::new(Query {
            order: Arc::default(),
            ..query.clone()
        });
        Relation {
            inner: Arc::new(inner),
            exec: Exec::Pool,
            query: Arc::new(query),
            columns,
            error: None,
            page: None,
            graph: None,
            bare,
        }
    }

    /// The relation's registered name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The relation's schema.
    pub fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    /// The gateway it reads through.
    pub fn gateway(&self) -> &Gateway {
        &self.inner.gateway
    }

    /// The output columns, in order: their names and types.
    pub fn output_columns(&self) -> Vec<OutputColumn> {
        self.columns.output()
    }

    /// The names of the registered views.
    pub fn view_names(&self) -> Vec<&str> {
        self.inner.views.keys().map(String::as_str).collect()
    }

    /// The relation as it was registered: every attribute, primary-key
    /// order, no conditions.
    #[must_use]
    pub fn unfiltered(&self) -> Relation {
        let mut fresh = Relation::new(RelationInner {
            name: self.inner.name.clone(),
            schema: self.inner.schema.clone(),
            gateway: self.inner.gateway.clone(),
            views: self.inner.views.clone(),
            schemas: self.inner.schemas.clone(),
            commands: self.inner.commands.clone(),
            shared: writing::SharedStatements::default(),
        });
        fresh.exec = self.exec.clone();
        fresh
    }

    /// The registered relation `name` as `unfiltered` would give it (for
    /// the other side of an association), reading through this relation's
    /// gateway and connection. It has no views: those belong to the
    /// container's registration.
    pub(crate) fn sibling(&self, name: &str) -> Result<Relation> {
        let schema = self
            .inner
            .schemas
            .get(name)
            .ok_or_else(|| Error::UnknownRelation {
                name: name.to_string(),
                known: self.inner.schemas.keys().cloned().collect(),
            })?;
        let mut fresh = Relation::new(RelationInner {
            name: name.to_string(),
            schema: schema.clone(),
            gateway: self.inner.gateway.clone(),
            views: BTreeMap::new(),
            schemas: self.inner.schemas.clone(),
            commands: self.inner.commands.clone(),
            shared: writing::SharedStatements::default(),
        });
        fresh.exec = self.exec.clone();
        Ok(fresh)
    }

    /// The same relation, its statements run where `exec` says.
    pub(crate) fn with_exec(&self, exec: Exec) -> Relation {
        let mut next = self.clone();
        next.exec = exec;
        next
    }

    /// Every schema of the container, by relation name.
    #[allow(dead_code)]
    pub(crate) fn schemas(&self) -> &Arc<BTreeMap<String, Arc<Schema>>> {
        &self.inner.schemas
    }

    /// Applies a change to a copy of the query; an error is kept and reported
    /// when the relation is read.
    fn with(&self, change: impl FnOnce(&Relation, &mut Query) -> Result<()>) -> Relation {
        let mut next = self.clone();
        if next.error.is_some() {
            return next;
        }
        let mut query = (*self.query).clone();
        match change(self, &mut query) {
            Ok(()) => {
                let select_changed = !same_select(&query.select, &self.query.select)
                    || query.joins != self.query.joins;
                next.query = Arc::new(query);
                if select_changed {
                    next.columns = self.columns_for(&next.query);
                }
            }
            Err(e) => next.error = Some(Arc::new(e)),
        }
        next
    }

    /// The first error a builder call met, as an owned error.
    pub(crate) fn check(&self) -> Result<()> {
        match &self.error {
            None => Ok(()),
            Some(e) => Err(e.replay()),
        }
    }

    /// The schema of the table or join alias `table` (`None`: this relation).
    fn schema_of(&self, table: Option<&str>) -> Option<Arc<Schema>> {
        match table {
            None => Some(self.inner.schema.clone()),
            Some(alias) => {
                let join = self.query.joins.iter().find(|j| j.alias == alias)?;
                self.inner
                    .schemas
                    .values()
                    .find(|s| s.table() == join.table)
                    .cloned()
            }
        }
    }

    /// Resolves `name` or `alias.name` to a checked column.
    fn column(&self, query: &Query, name: &str) -> Result<(ColumnRef, Type)> {
        let (table, column) = match name.split_once('.') {
            Some((t, c)) if t == self.inner.name || *t == *query.table => (None, c),
            Some((t, c)) => (Some(t), c),
            None => (None, name),
        };
        let joined;
        let schema = match table {
            None => {
                let attribute = self.inner.schema.require(column)?;
                let col = self
                    .own_column(column)
                    .unwrap_or_else(|| ColumnRef::new(None, &attribute.name));
                return Ok((col, attribute.ty.clone()));
            }
            Some(alias) => {
                let join = query
                    .joins
                    .iter()
                    .find(|j| j.alias == alias)
                    .ok_or_else(|| Error::InvalidQuery {
                        relation: self.inner.name.clone(),
                        reason: format!(
                            "`{name}` names `{alias}`, which is not joined; joined: {}",
                            if query.joins.is_empty() {
                                "none (use join(:association) first)".to_string()
                            } else {
                                query
                                    .joins
                                    .iter()
                                    .map(|j| j.alias.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            }
                        ),
                    })?;
                joined = self
                    .inner
                    .schemas
                    .values()
                    .find(|s| s.table() == join.table)
                    .ok_or_else(|| Error::InvalidQuery {
                        relation: self.inner.name.clone(),
                        reason: format!("no schema for joined table `{}`", join.table),
                    })?;
                joined
            }
        };
        let attribute = schema.require(column)?;
        Ok((ColumnRef::new(table, &attribute.name), attribute.ty.clone()))
    }

    /// The relation's own column `name` as its every-attribute select
    /// already shares it (no allocation per builder call).
    fn own_column(&self, name: &str) -> Option<ColumnRef> {
        self.own_column_at(self.inner.schema.position(name)?, name)
    }

    /// [`Relation::own_column`] of the attribute at `at` in the schema,
    /// named `name`.
    fn own_column_at(&self, at: usize, name: &str) -> Option<ColumnRef> {
        match self.bare.select.get(at)? {
            SelectItem::Column(col, None) if col.table.is_none() && *col.column == *name => {
                Some(col.clone())
            }
            _ => None,
        }
    }

    fn operand(&self, query: &Query, subject: &Subject) -> Result<Operand> {
        Ok(match subject {
            Subject::Attribute(name) => Operand::Column(self.column(query, name)?.0),
            Subject::CountAll => Operand::Aggregate(query::Aggregate::Count, None),
            Subject::Aggregate(f, name) => {
                Operand::Aggregate(f.to_query(), Some(self.column(query, name)?.0))
            }
        })
    }

    /// Turns a user condition into the query's, checking every attribute.
    fn cond(&self, query: &Query, c: &Condition) -> Result<Cond> {
        Ok(match c {
            Condition::Compare(s, op, v) => {
                Cond::Cmp(self.operand(query, s)?, op.to_query(), self.scalar(s, v)?)
            }
            Condition::In(s, values, negated) => {
                Cond::In(self.operand(query, s)?, values.clone(), *negated)
            }
            Condition::IsNull(s, negated) => Cond::IsNull(self.operand(query, s)?, *negated),
            Condition::Like(s, v, negated) => {
                Cond::Like(self.operand(query, s)?, self.scalar(s, v)?, *negated)
            }
            Condition::All(items) => Cond::And(
                items
                    .iter()
                    .map(|i| self.cond(query, i))
                    .collect::<Result<_>>()?,
            ),
            Condition::Any(items) => Cond::Or(
                items
                    .iter()
                    .map(|i| self.cond(query, i))
                    .collect::<Result<_>>()?,
            ),
            Condition::Not(inner) => Cond::Not(Box::new(self.cond(query, inner)?)),
        })
    }

    fn scalar(&self, subject: &Subject, v: &Value) -> Result<Value> {
        if let Value::List(_) = v {
            let name = match subject {
                Subject::Attribute(n) | Subject::Aggregate(_, n) => n.clone(),
                Subject::CountAll => "count(*)".into(),
            };
            return Err(Error::TypeMismatch {
                relation: self.inner.name.clone(),
                attribute: name,
                expected: "a single value (use in_list for a list)".into(),
                got: "list".into(),
            });
        }
        Ok(v.clone())
    }

    /// Output columns for a query's select list.
    fn columns_for(&self, query: &Query) -> Arc<Columns> {
        let columns = query
            .select
            .iter()
            .map(|item| match item {
                SelectItem::Column(c, alias) => {
                    let ty = self
                        .schema_of(c.table.as_deref())
                        .and_then(|s| s.attribute(&c.column).map(|a| a.ty.clone()));
                    (alias.clone().unwrap_or_else(|| c.column.to_string()), ty)
                }
                SelectItem::Aggregate(_, _, alias) => (alias.clone(), None),
            })
            .collect();
        Columns::new(&self.inner.name, columns)
    }

    /// Rows matching the condition (ROM's `where`): an `(attribute, value)`
    /// pair, or any [`Condition`]. Conditions accumulate with AND.
    #[must_use]
    pub fn filter(&self, condition: impl Into<Condition>) -> Relation {
        let condition = condition.into();
        self.with(|r, q| {
            let c = r.cond(q, &condition)?;
            and_filter(q, c);
            Ok(())
        })
    }

    /// Rows not matching the condition.
    #[must_use]
    pub fn exclude(&self, condition: impl Into<Condition>) -> Relation {
        self.filter(!condition.into())
    }

    /// Orders by these keys (names ascending, or [`Attr::desc`]), replacing
    /// the current order.
    #[must_use]
    pub fn order<I, K>(&self, keys: I) -> Relation
    where
        I: IntoIterator<Item = K>,
        K: Into<OrderKey>,
    {
        let keys: Vec<OrderKey> = keys.into_iter().map(Into::into).collect();
        self.with(|r, q| {
            q.order = keys
                .iter()
                .map(|k| match &k.subject {
                    Subject::Attribute(name) => Ok(OrderItem {
                        column: r.column(q, name)?.0,
                        descending: k.descending,
                    }),
                    _ => Err(Error::InvalidQuery {
                        relation: r.inner.name.clone(),
                        reason: "order takes attributes, not aggregates".into(),
                    }),
                })
                .collect::<Result<Vec<_>>>()?
                .into();
            Ok(())
        })
    }

    /// No `ORDER BY` at all.
    #[must_use]
    pub fn unordered(&self) -> Relation {
        self.with(|_, q| {
            q.order = Arc::default();
            Ok(())
        })
    }

    /// The current order reversed (primary key descending by default).
    #[must_use]
    pub fn reverse(&self) -> Relation {
        self.with(|r, q| {
            if q.order.is_empty() {
                q.order = Arc::new(r.default_order());
            }
            for item in Arc::make_mut(&mut q.order) {
                item.descending = !item.descending;
            }
            Ok(())
        })
    }

    /// At most `n` rows.
    #[must_use]
    pub fn limit(&self, n: u64) -> Relation {
        self.with(|_, q| {
            q.limit = Some(n);
            Ok(())
        })
    }

    /// Skips the first `n` rows.
    #[must_use]
    pub fn offset(&self, n: u64) -> Relation {
        self.with(|_, q| {
            q.offset = Some(n);
            Ok(())
        })
    }

    /// Only these attributes (ROM's `select` / `project`).
    #[must_use]
    pub fn select<I, S>(&self, names: I) -> Relation
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let names: Vec<String> = names.into_iter().map(|n| n.as_ref().to_string()).collect();
        self.with(|r, q| {
            q.select = Arc::new(
                names
                    .iter()
                    .map(|n| Ok(SelectItem::Column(r.column(q, n)?.0, None)))
                    .collect::<Result<_>>()?,
            );
            if q.select.is_empty() {
                return Err(Error::InvalidQuery {
                    relation: r.inner.name.clone(),
                    reason: "select needs at least one attribute".into(),
                });
            }
            Ok(())
        })
    }

    /// Same as [`Relation::select`], ROM's other name for it.
    #[must_use]
    pub fn project<I, S>(&self, names: I) -> Relation
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.select(names)
    }

    /// Adds attributes to the selection (a joined association's attribute
    /// as `"company.name"`, output as `company_name`).
    #[must_use]
    pub fn select_append<I, S>(&self, names: I) -> Relation
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let names: Vec<String> = names.into_iter().map(|n| n.as_ref().to_string()).collect();
        self.with(|r, q| {
            for n in &names {
                let (col, _) = r.column(q, n)?;
                let alias = col.table.as_ref().map(|t| format!("{t}_{}", col.column));
                Arc::make_mut(&mut q.select).push(SelectItem::Column(col, alias));
            }
            Ok(())
        })
    }

    /// Adds an aggregate to the selection under `alias`
    /// (`select_aggregate(count_all(), "posts_count")` with `group`).
    #[must_use]
    pub fn select_aggregate(&self, subject: Attr, alias: &str) -> Relation {
        let alias = alias.to_string();
        self.with(|r, q| {
            let item = match r.operand(q, &subject.0)? {
                Operand::Aggregate(f, c) => SelectItem::Aggregate(f, c, alias.clone()),
                Operand::Column(c) => SelectItem::Column(c, Some(alias.clone())),
            };
            crate::settings::check_identifier("alias", &alias).map_err(|_| {
                Error::InvalidQuery {
                    relation: r.inner.name.clone(),
                    reason: format!("alias `{alias}` must be letters, digits and underscores"),
                }
            })?;
            Arc::make_mut(&mut q.select).push(item);
            Ok(())
        })
    }

    /// Distinct rows only. The default primary-key order is dropped (MySQL
    /// refuses to order distinct rows by a column that is not selected);
    /// an order given explicitly stays.
    #[must_use]
    pub fn distinct(&self) -> Relation {
        self.with(|r, q| {
            q.distinct = true;
            if *q.order == r.default_order() {
                q.order = Arc::default();
            }
            Ok(())
        })
    }

    /// Primary-key order, ascending: every relation's order until told
    /// otherwise.
    fn default_order(&self) -> Vec<OrderItem> {
        primary_key_order(&self.inner.schema)
    }

    /// Groups by these attributes (the selection becomes them, the order the
    /// first of them).
    #[must_use]
    pub fn group<I, S>(&self, names: I) -> Relation
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let names: Vec<String> = names.into_iter().map(|n| n.as_ref().to_string()).collect();
        self.with(|r, q| {
            q.group = names
                .iter()
                .map(|n| Ok(r.column(q, n)?.0))
                .collect::<Result<_>>()?;
            q.select = Arc::new(
                q.group
                    .iter()
                    .map(|c| SelectItem::Column(c.clone(), None))
                    .collect(),
            );
            q.order = q
                .group
                .iter()
                .map(|c| OrderItem {
                    column: c.clone(),
                    descending: false,
                })
                .collect::<Vec<_>>()
                .into();
            Ok(())
        })
    }

    /// A condition on groups (over aggregates: `count_all().gt(2)`).
    #[must_use]
    pub fn having(&self, condition: impl Into<Condition>) -> Relation {
        let condition = condition.into();
        self.with(|r, q| {
            let c = r.cond(q, &condition)?;
            q.having = Some(match q.having.take() {
                None => c,
                Some(prev) => Cond::And(vec![prev, c]),
            });
            Ok(())
        })
    }

    fn join_kind(&self, association: &str, kind: JoinKind) -> Relation {
        let association = association.to_string();
        self.with(|r, q| {
            let assoc = r.inner.schema.association(&association)?.clone();
            let target =
                r.inner
                    .schemas
                    .get(&assoc.target)
                    .ok_or_else(|| Error::UnknownRelation {
                        name: assoc.target.clone(),
                        known: r.inner.schemas.keys().cloned().collect(),
                    })?;
            if q.joins.iter().any(|j| j.alias == assoc.name) {
                return Ok(());
            }
            if let (Some(through), Some((to_source, to_target))) =
                (&assoc.through, &assoc.through_keys)
            {
                let join_schema =
                    r.inner
                        .schemas
                        .get(through)
                        .ok_or_else(|| Error::UnknownRelation {
                            name: through.clone(),
                            known: r.inner.schemas.keys().cloned().collect(),
                        })?;
                let join_alias = format!("{}_{}", assoc.name, join_schema.table());
                q.joins.push(Join {
                    kind,
                    table: join_schema.table().to_string(),
                    alias: join_alias.clone(),
                    on: vec![(
                        ColumnRef::new(None, &assoc.source_key),
                        ColumnRef::new(Some(&join_alias), to_source),
                    )],
                });
                q.joins.push(Join {
                    kind,
                    table: target.table().to_string(),
                    alias: assoc.name.clone(),
                    on: vec![(
                        ColumnRef::new(Some(&join_alias), to_target),
                        ColumnRef::new(Some(&assoc.name), &assoc.target_key),
                    )],
                });
            } else {
                q.joins.push(Join {
                    kind,
                    table: target.table().to_string(),
                    alias: assoc.name.clone(),
                    on: vec![(
                        ColumnRef::new(None, &assoc.source_key),
                        ColumnRef::new(Some(&assoc.name), &assoc.target_key),
                    )],
                });
            }
            Ok(())
        })
    }

    /// An inner join through an association; its attributes are then
    /// reachable as `"association.attribute"` in conditions, order and
    /// `select_append`.
    #[must_use]
    pub fn join(&self, association: &str) -> Relation {
        self.join_kind(association, JoinKind::Inner)
    }

    /// A left join through an association.
    #[must_use]
    pub fn left_join(&self, association: &str) -> Relation {
        self.join_kind(association, JoinKind::Left)
    }

    /// Locks the rows read (inside a transaction): `FOR UPDATE`, `FOR SHARE`
    /// / `LOCK IN SHARE MODE`, with `NOWAIT` or `SKIP LOCKED`.
    #[must_use]
    pub fn lock(&self, mode: LockMode, wait: LockWait) -> Relation {
        self.with(|_, q| {
            q.lock = Some(Lock { mode, wait });
            Ok(())
        })
    }

    /// Page `n` (1-based) of [`Relation::per_page`] rows (default
    /// [`DEFAULT_PER_PAGE`]).
    #[must_use]
    pub fn page(&self, n: u64) -> Relation {
        let per_page = self.page.map_or(DEFAULT_PER_PAGE, |(_, p)| p);
        self.paged(n.max(1), per_page)
    }

    /// Rows per page.
    #[must_use]
    pub fn per_page(&self, n: u64) -> Relation {
        let page = self.page.map_or(1, |(p, _)| p);
        if n == 0 {
            return self.with(|r, _| {
                Err(Error::InvalidQuery {
                    relation: r.inner.name.clone(),
                    reason: "per_page must be at least 1".into(),
                })
            });
        }
        self.paged(page, n)
    }

    fn paged(&self, page: u64, per_page: u64) -> Relation {
        let mut next = self.with(|_, q| {
            q.limit = Some(per_page);
            q.offset = Some((page - 1).saturating_mul(per_page));
            Ok(())
        });
        next.page = Some((page, per_page));
        next
    }

    /// The row with this primary key; a composite key is given as a list in
    /// key order (`Value::List` or `vec![a, b]`).
    #[must_use]
    pub fn by_pk(&self, key: impl Into<Value>) -> Relation {
        let key = key.into();
        let schema = &self.inner.schema;
        let pk = schema.primary_key_iter();
        let values = match &key {
            Value::List(items) => items.as_slice(),
            v => std::slice::from_ref(v),
        };
        if pk.len() == 0 || pk.len() != values.len() {
            let reason = if pk.len() == 0 {
                "by_pk needs a primary key, and the table has none".to_string()
            } else {
                format!(
                    "by_pk takes {} value(s) for the primary key ({}), got {}",
                    pk.len(),
                    schema.primary_key_names().join(", "),
                    values.len()
                )
            };
            return self.with(|r, _| {
                Err(Error::InvalidQuery {
                    relation: r.inner.name.clone(),
                    reason,
                })
            });
        }
        // Plain values: the condition `filter` would build, built directly
        // from the shared column names.
        let plain: Option<SmallVec<[Cond; 1]>> = pk
            .zip(schema.primary_key_positions())
            .zip(values)
            .map(|((name, &at), value)| match value {
                Value::Null | Value::List(_) => None,
                v => Some(Cond::Cmp(
                    Operand::Column(self.own_column_at(at, name)?),
                    query::CmpOp::Eq,
                    v.clone(),
                )),
            })
            .collect();
        match plain {
            Some(mut cmps) => self.with(|_, q| {
                // One column (the key has one at least, checked above):
                // its comparison, which renders as an `And` of it would.
                let cond = if cmps.len() == 1 {
                    cmps.swap_remove(0)
                } else {
                    Cond::And(cmps.into_vec())
                };
                and_filter(q, cond);
                Ok(())
            }),
            None => self.filter(Condition::from_pairs(
                schema
                    .primary_key_names()
                    .into_iter()
                    .zip(values.iter().cloned()),
            )),
        }
    }

    /// Calls a registered view by name (`by_url` with one argument).
    ///
    /// # Errors
    ///
    /// [`Error::UnknownView`] listing the views; [`Error::InvalidQuery`] for
    /// the wrong number of arguments; whatever the view returns.
    pub fn view(&self, name: &str, args: &[Value]) -> Result<Relation> {
        let (arity, view) = self
            .inner
            .views
            .get(name)
            .ok_or_else(|| Error::UnknownView {
                relation: self.inner.name.clone(),
                view: name.to_string(),
                known: self.inner.views.keys().cloned().collect(),
            })?;
        if args.len() != *arity {
            return Err(Error::InvalidQuery {
                relation: self.inner.name.clone(),
                reason: format!(
                    "view `{name}` takes {arity} argument(s), got {}",
                    args.len()
                ),
            });
        }
        view(self, args)
    }

    /// The statement this relation runs, with `?` placeholders.
    ///
    /// # Errors
    ///
    /// A builder error, or a query the server cannot run (see [`Error`]).
    pub fn to_sql(&self) -> Result<String> {
        if self.graph.is_some() {
            // The statement `to_vec` runs: wrapped attributes and the keys
            // of combined associations included.
            return Ok(self.graph_plan()?.rendered.sql.into_string());
        }
        Ok(self.render()?.sql.into_string())
    }

    pub(crate) fn render(&self) -> Result<query::Rendered> {
        self.check()?;
        if let Some(lookup) = self.key_lookup() {
            return Ok(lookup);
        }
        sql::render_rows(
            &self.query,
            self.inner.gateway.capabilities(),
            self.is_single_row(),
        )
        .map_err(|e| e.into_error(&self.inner.name))
    }

    /// `rendered` as a statement about this relation.
    pub(crate) fn statement<'a>(&'a self, rendered: &'a query::Rendered) -> Statement<'a> {
        Statement {
            sql: (&rendered.sql).into(),
            binds: &rendered.binds,
            relation: Some(self.name()),
        }
    }

    /// The relation as a plain read of at most one row (see
    /// [`Relation::is_single_row`]) that nothing is combined into, whose
    /// one row `one` and `one_strict` read as it arrives; `None` otherwise.
    pub(crate) fn single_row_read(&self) -> Option<query::Rendered> {
        if self.graph.is_some() || self.error.is_some() {
            return None;
        }
        // The plain key lookup (its limit, if any, lets the row through).
        if let Some(lookup) = self.key_lookup() {
            return Some(lookup);
        }
        if !self.is_pinned() {
            return None;
        }
        sql::render_rows(&self.query, self.inner.gateway.capabilities(), true).ok()
    }

    /// Pinned to one key ([`Relation::is_single_row`]) with no limit or
    /// offset: its one row, if any, is all it reads.
    fn is_pinned(&self) -> bool {
        self.is_single_row() && self.query.limit.is_none() && self.query.offset.is_none()
    }

    /// The relation limited to two rows, for `one` and `one_strict` to tell
    /// one row from several; a relation pinned to one key as it is.
    pub(crate) fn at_most_two(&self) -> std::borrow::Cow<'_, Relation> {
        if self.is_pinned() {
            std::borrow::Cow::Borrowed(self)
        } else {
            std::borrow::Cow::Owned(self.limit(2))
        }
    }

    /// Whether the relation returns at most one row whatever its order and
    /// limit: its condition is "each primary-key column equals a value" and
    /// nothing (a join, a grouping) multiplies or merges rows.
    pub(crate) fn is_single_row(&self) -> bool {
        let q = &self.query;
        q.joins.is_empty()
            && q.group.is_empty()
            && q.having.is_none()
            && !q.distinct
            && q.filter
                .as_ref()
                .is_some_and(|f| self.pk_equality(f).is_some())
    }
}

/// Primary-key order, ascending, of a table with `schema`.
pub(crate) fn primary_key_order(schema: &Schema) -> Vec<OrderItem> {
    schema
        .primary_key_iter()
        .map(|c| OrderItem {
            column: ColumnRef::new(None, c),
            descending: false,
        })
        .collect()
}

/// What `one` and `one_strict` found.
pub(crate) enum Found<T> {
    None,
    One(T),
    Several,
}

impl<T> Found<T> {
    /// What up to two rows read with `LIMIT 2` are.
    pub(crate) fn of(mut rows: Vec<T>) -> Found<T> {
        match (rows.pop(), rows.is_empty()) {
            (None, _) => Found::None,
            (Some(row), true) => Found::One(row),
            (Some(_), false) => Found::Several,
        }
    }

    /// The row or none (`one`); several are an error.
    pub(crate) fn at_most_one(self, relation: &str) -> Result<Option<T>> {
        match self {
            Found::None => Ok(None),
            Found::One(row) => Ok(Some(row)),
            Found::Several => Err(Error::TupleCountMismatch {
                relation: relation.to_string(),
                expected: "at most one row".into(),
                found: "more than one".into(),
            }),
        }
    }

    /// The row (`one_strict`); none or several are an error.
    pub(crate) fn exactly_one(self, relation: &str) -> Result<T> {
        let found = match self {
            Found::One(row) => return Ok(row),
            Found::None => "0",
            Found::Several => "more than one",
        };
        Err(Error::TupleCountMismatch {
            relation: relation.to_string(),
            expected: "exactly one row".into(),
            found: found.into(),
        })
    }
}

/// `c` added to the query's condition (`AND`).
pub(crate) fn and_filter(q: &mut Query, c: Cond) {
    q.filter = Some(match q.filter.take() {
        None => c,
        Some(Cond::And(mut items)) => {
            items.push(c);
            Cond::And(items)
        }
        Some(prev) => Cond::And(vec![prev, c]),
    });
}

/// Whether two select lists are the same (shared ones are, without
/// comparing their items).
pub(crate) fn same_select(a: &Arc<Vec<SelectItem>>, b: &Arc<Vec<SelectItem>>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}
