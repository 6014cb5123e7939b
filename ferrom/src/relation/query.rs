//! The query a relation stands for, as data: what [`Relation`](super::Relation)'s
//! builder methods produce and `sql.rs` renders.
//!
//! Identifiers in here have already been checked against the schema by the
//! builder; values are never rendered into SQL text, only bound.

use std::sync::Arc;

use crate::schema::Type;
use crate::value::Value;

/// A column, optionally qualified by its table (or join alias).
#[derive(Clone, Debug)]
pub(crate) struct ColumnRef {
    /// The table or alias, `None` for the relation's own table.
    pub(crate) table: Option<Arc<str>>,
    /// The column name (shared: relations are cloned on every builder
    /// call, and their select lists with them).
    pub(crate) column: Arc<str>,
}

/// Equal names; names shared by clones compare by pointer.
fn same_name(a: &Arc<str>, b: &Arc<str>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

impl PartialEq for ColumnRef {
    fn eq(&self, other: &ColumnRef) -> bool {
        same_name(&self.column, &other.column)
            && match (&self.table, &other.table) {
                (None, None) => true,
                (Some(a), Some(b)) => same_name(a, b),
                _ => false,
            }
    }
}

impl ColumnRef {
    pub(crate) fn new(table: Option<&str>, column: &str) -> Self {
        ColumnRef {
            table: table.map(Arc::from),
            column: Arc::from(column),
        }
    }
}

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Aggregate {
    Count,
    Sum,
    Min,
    Max,
    Avg,
}

/// Something a condition compares: a column, or an aggregate over one (for
/// `having`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Operand {
    Column(ColumnRef),
    /// `COUNT(*)` when the column is `None`.
    Aggregate(Aggregate, Option<ColumnRef>),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A condition tree (`WHERE` / `HAVING`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cond {
    /// `op value`; a NULL value with `Eq`/`Ne` renders as `IS [NOT] NULL`.
    Cmp(Operand, CmpOp, Value),
    /// `IN (...)` / `NOT IN (...)`; an empty list matches nothing (`IN`) or
    /// everything (`NOT IN`) without an SQL error. NULLs in the list match
    /// NULL (`col IN (...) OR col IS NULL`).
    In(Operand, Vec<Value>, bool),
    /// `IN (SELECT ...)`: the operand is among the values of the
    /// subquery's first (only) selected column. A subquery with `LIMIT` or
    /// `OFFSET` is wrapped in a derived table (MySQL refuses `LIMIT` inside
    /// `IN (...)`). For `assoc`.
    InQuery(Operand, Box<Query>),
    /// `IS NULL` / `IS NOT NULL`.
    IsNull(Operand, bool),
    /// `LIKE pattern` / `NOT LIKE pattern`.
    Like(Operand, Value, bool),
    /// All of them (`TRUE` when empty).
    And(Vec<Cond>),
    /// Any of them (`FALSE` when empty).
    Or(Vec<Cond>),
    /// The negation.
    Not(Box<Cond>),
}

/// One `SELECT` item.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SelectItem {
    /// A column, output under `alias` or its own name.
    Column(ColumnRef, Option<String>),
    /// An aggregate, output under `alias`.
    Aggregate(Aggregate, Option<ColumnRef>, String),
}

/// `JOIN` kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JoinKind {
    Inner,
    Left,
}

/// A join to another table on key equality.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Join {
    pub(crate) kind: JoinKind,
    /// The joined table.
    pub(crate) table: String,
    /// The name it is known by in the query (the association name, or the
    /// table).
    pub(crate) alias: String,
    /// `left = right` pairs; `left` on an earlier table, `right` on `alias`.
    pub(crate) on: Vec<(ColumnRef, ColumnRef)>,
}

/// One `ORDER BY` key.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OrderItem {
    pub(crate) column: ColumnRef,
    pub(crate) descending: bool,
}

/// The lock mode of `lock(...)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockMode {
    /// `FOR UPDATE`.
    Update,
    /// `FOR SHARE` (MySQL 8) / `LOCK IN SHARE MODE` (MariaDB).
    Share,
}

/// What a locking read does when a row is locked by another transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LockWait {
    /// Wait (up to `innodb_lock_wait_timeout`).
    #[default]
    Wait,
    /// Fail at once (`NOWAIT`).
    NoWait,
    /// Leave locked rows out (`SKIP LOCKED`).
    SkipLocked,
}

/// A lock on the rows read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lock {
    pub(crate) mode: LockMode,
    pub(crate) wait: LockWait,
}

/// The whole query.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Query {
    /// The relation's table.
    pub(crate) table: Arc<str>,
    /// The selected items; rendered in order. Never empty: a relation starts
    /// with every schema attribute.
    pub(crate) select: Arc<Vec<SelectItem>>,
    pub(crate) distinct: bool,
    pub(crate) joins: Vec<Join>,
    pub(crate) filter: Option<Cond>,
    pub(crate) group: Vec<ColumnRef>,
    pub(crate) having: Option<Cond>,
    /// Empty = unordered.
    pub(crate) order: Arc<Vec<OrderItem>>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) lock: Option<Lock>,
}

/// A rendered statement: SQL with `?` placeholders, the values to bind in
/// order, and what each output column holds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rendered {
    pub(crate) sql: SqlText,
    pub(crate) binds: Vec<Value>,
}

/// Rendered SQL: built for one statement, or shared by every statement
/// that renders the same text (a relation's key lookup, its update by key
/// of the same attributes), which reaches the driver without a copy.
#[derive(Clone, Debug)]
pub(crate) enum SqlText {
    Owned(String),
    Shared(Arc<str>),
}

impl SqlText {
    /// The text as an owned string.
    pub(crate) fn into_string(self) -> String {
        match self {
            SqlText::Owned(text) => text,
            SqlText::Shared(text) => text.to_string(),
        }
    }
}

impl std::ops::Deref for SqlText {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            SqlText::Owned(text) => text,
            SqlText::Shared(text) => text,
        }
    }
}

impl std::fmt::Display for SqlText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// Equal text, however held.
impl PartialEq for SqlText {
    fn eq(&self, other: &SqlText) -> bool {
        **self == **other
    }
}

impl PartialEq<&str> for SqlText {
    fn eq(&self, other: &&str) -> bool {
        **self == **other
    }
}

impl PartialEq<String> for SqlText {
    fn eq(&self, other: &String) -> bool {
        **self == **other
    }
}

impl From<String> for SqlText {
    fn from(text: String) -> SqlText {
        SqlText::Owned(text)
    }
}

/// What one output column of a relation holds.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputColumn {
    /// The name rows know it by.
    pub name: String,
    /// Its type where the schema tells (`None` for computed columns, which
    /// are read by their runtime type).
    pub ty: Option<Type>,
}
