//! Renders a [`Query`] to MySQL/MariaDB SQL with `?` placeholders.
//!
//! The rules every statement follows:
//!
//! - identifiers are quoted with backticks (a backtick inside is doubled) and
//!   every column is qualified with its table or join alias;
//! - every value is a `?` placeholder, its value pushed to
//!   [`Rendered::binds`] in order: no value ever appears in the SQL text,
//!   `LIMIT` and `OFFSET` included;
//! - one SQL text per query *shape*: the same query with other values renders
//!   the same text, so sqlx's prepared-statement cache hits. Only the length of
//!   an `IN` list is part of the shape;
//! - no statement has more than [`MAX_PARAMETERS`] placeholders
//!   (MySQL's prepared-statement limit).
//!
//! Conditions render as SQL's own three-valued logic would surprise: a NULL
//! compared with `=`/`!=` becomes `IS [NOT] NULL`, NULLs inside an `IN` list
//! match NULL, an empty `IN` list matches nothing and an empty `NOT IN` list
//! matches everything (neither is an SQL error).

use std::fmt::{self, Write as _};

use crate::error::Error;
use crate::gateway::Capabilities;
use crate::value::Value;

use super::query::{
    Aggregate, CmpOp, ColumnRef, Cond, Join, JoinKind, Lock, LockMode, LockWait, Operand, Query,
    Rendered, SelectItem,
};

/// The most placeholders one MySQL prepared statement can have.
pub(crate) const MAX_PARAMETERS: usize = 65_535;

/// `LIMIT` when a query has only an `OFFSET`: MySQL has no `OFFSET` without
/// `LIMIT`, and its manual recommends the largest unsigned 64-bit value.
const NO_LIMIT: u64 = u64::MAX;

/// The alias of the derived table in wrapped `COUNT(*)` / `EXISTS` queries.
const DERIVED: &str = "t";

/// Why a query cannot be rendered. The caller names the relation through
/// [`RenderError::into_error`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RenderError {
    /// An ordering comparison (or `LIKE`) with NULL.
    NullComparison {
        /// The operand, as `table.column` or `COUNT(*)`.
        operand: String,
        /// The operator (`<`, `LIKE`, ...).
        op: &'static str,
    },
    /// A list where one value is expected (a comparison, `LIKE`, or an item
    /// of an `IN` list).
    ListValue {
        /// The operand.
        operand: String,
        /// The operator.
        op: &'static str,
    },
    /// An aggregate in `WHERE`, which filters rows before grouping.
    AggregateInWhere {
        /// The aggregate, as `COUNT(*)` or `SUM(table.column)`.
        operand: String,
    },
    /// `SUM`, `MIN`, `MAX` or `AVG` without a column.
    AggregateWithoutColumn {
        /// The function.
        function: &'static str,
    },
    /// A join without key pairs (it would be a cross join).
    JoinWithoutKeys {
        /// The joined table's alias.
        alias: String,
    },
    /// The query selects nothing.
    EmptySelect,
    /// `NOWAIT` / `SKIP LOCKED` on a server without them.
    LockWaitUnsupported {
        /// `NOWAIT` or `SKIP LOCKED`.
        clause: &'static str,
    },
    /// More than [`MAX_PARAMETERS`] placeholders.
    TooManyParameters(usize),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::NullComparison { operand, op } => write!(
                f,
                "`{operand} {op} nil` can never be true: in SQL any comparison with NULL is \
                 unknown, so it would match no row; to match NULL use `{operand} = nil` \
                 (IS NULL) or `{operand} != nil` (IS NOT NULL)"
            ),
            RenderError::ListValue { operand, op } if *op == "IN" => write!(
                f,
                "the IN list for `{operand}` holds a list; its items must be single values"
            ),
            RenderError::ListValue { operand, op } => write!(
                f,
                "`{operand} {op}` was given a list where one value is expected; to match any \
                 of several values use an IN condition (a list with equality)"
            ),
            RenderError::AggregateInWhere { operand } => write!(
                f,
                "`{operand}` is an aggregate and cannot filter rows (WHERE runs before \
                 grouping); put it in `having`"
            ),
            RenderError::AggregateWithoutColumn { function } => write!(
                f,
                "{function} needs a column; only COUNT can count rows without one (COUNT(*))"
            ),
            RenderError::JoinWithoutKeys { alias } => write!(
                f,
                "the join `{alias}` has no key pairs and would pair every row with every row; \
                 join through an association with keys"
            ),
            RenderError::EmptySelect => {
                f.write_str("the query selects no columns; select at least one attribute")
            }
            RenderError::LockWaitUnsupported { clause } => write!(
                f,
                "{clause} needs MySQL 8.0.1 or later or MariaDB 10.6 or later, and this server \
                 does not support it; lock with the default wait instead"
            ),
            RenderError::TooManyParameters(count) => write!(
                f,
                "the statement needs {count} parameters, more than MySQL's limit of 65,535; \
                 split the IN list"
            ),
        }
    }
}

impl std::error::Error for RenderError {}

impl RenderError {
    /// The crate error, naming the relation whose query failed to render:
    /// [`Error::TooManyParameters`] for the parameter limit, otherwise
    /// [`Error::InvalidQuery`] with this error's message.
    pub(crate) fn into_error(self, relation: &str) -> Error {
        match self {
            RenderError::TooManyParameters(count) => Error::TooManyParameters {
                relation: relation.to_string(),
                count,
            },
            other => Error::InvalidQuery {
                relation: relation.to_string(),
                reason: other.to_string(),
            },
        }
    }
}

/// The `SELECT` statement of the query.
///
/// # Errors
///
/// [`RenderError`] for a condition SQL cannot express as meant (an ordering
/// comparison with NULL, a list where a value belongs, an aggregate in
/// `WHERE`), a lock wait the server lacks, or more than [`MAX_PARAMETERS`]
/// placeholders.
pub(crate) fn render(query: &Query, caps: &Capabilities) -> Result<Rendered, RenderError> {
    render_rows(query, caps, false)
}

/// [`render`], told whether the query returns at most one row (its
/// condition pins the whole primary key, and it has no join). Such a query
/// goes without `ORDER BY`, and without `LIMIT` when the limit lets that
/// row through: a prepared `... WHERE id = ?` is planned as a key lookup,
/// where `ORDER BY id LIMIT ?` costs the server a sort check and a bound
/// limit on every execution.
pub(crate) fn render_rows(
    query: &Query,
    caps: &Capabilities,
    single_row: bool,
) -> Result<Rendered, RenderError> {
    let mut w = Writer::new(query);
    w.single_row =
        single_row && query.offset.unwrap_or(0) == 0 && query.limit.is_none_or(|l| l >= 1);
    w.select(query, caps, Projection::Items)?;
    w.finish()
}

/// `SELECT COUNT(*)` of the rows the query returns.
///
/// When the query has `DISTINCT`, `GROUP BY`, `HAVING`, `LIMIT`, `OFFSET` or
/// aggregates in its select list, the count is over the query as a derived
/// table (`SELECT COUNT(*) FROM (...) AS t`); otherwise the select list is
/// replaced and `ORDER BY` dropped. A lock stays on the rows read.
///
/// # Errors
///
/// As [`render`].
pub(crate) fn render_count(query: &Query, caps: &Capabilities) -> Result<Rendered, RenderError> {
    let mut w = Writer::new(query);
    let wrap = query.distinct
        || !query.group.is_empty()
        || query.having.is_some()
        || query.limit.is_some()
        || query.offset.is_some()
        || selects_aggregate(query);
    if wrap {
        w.sql.push_str("SELECT COUNT(*) FROM (");
        w.select(query, caps, Projection::Derived)?;
        w.sql.push_str(") AS ");
        w.sql.push_str(DERIVED);
    } else {
        w.sql.push_str("SELECT COUNT(*)");
        w.source_and_filter(query)?;
        w.lock(query.lock, caps)?;
    }
    w.finish()
}

/// `SELECT 1 ... LIMIT 1`: one row when the query returns any.
///
/// `LIMIT`/`OFFSET`, or an aggregate select list or `HAVING` without
/// `GROUP BY` (one row over the whole table), make it a derived table
/// (`SELECT 1 FROM (...) AS t LIMIT 1`); otherwise the select list is
/// replaced and `ORDER BY` dropped. A lock stays on the rows read.
///
/// # Errors
///
/// As [`render`].
pub(crate) fn render_exists(query: &Query, caps: &Capabilities) -> Result<Rendered, RenderError> {
    let mut w = Writer::new(query);
    let wrap = query.limit.is_some()
        || query.offset.is_some()
        || (query.group.is_empty() && (query.having.is_some() || selects_aggregate(query)));
    if wrap {
        w.sql.push_str("SELECT 1 FROM (");
        w.select(query, caps, Projection::Derived)?;
        w.sql.push_str(") AS ");
        w.sql.push_str(DERIVED);
        w.sql.push_str(" LIMIT 1");
    } else {
        w.sql.push_str("SELECT 1");
        w.source_and_filter(query)?;
        w.group_having(query)?;
        w.sql.push_str(" LIMIT 1");
        w.lock(query.lock, caps)?;
    }
    w.finish()
}

/// Renders a condition on its own, columns without a table qualified with
/// `table`, appending to `sql` and `binds` (for `UPDATE` / `DELETE ...
/// WHERE`). Top-level `AND`/`OR` are not parenthesized.
///
/// # Errors
///
/// As [`render`], except the parameter limit, which the caller checks on the
/// whole statement.
#[allow(dead_code)] // for the writing side (commands); not called yet
pub(crate) fn render_condition(
    table: &str,
    cond: &Cond,
    sql: &mut String,
    binds: &mut Vec<Value>,
) -> Result<(), RenderError> {
    let mut w = Writer {
        sql: std::mem::take(sql),
        binds: std::mem::take(binds),
        base: table,
        single_row: false,
    };
    let result = w.cond(cond, Clause::Where, false);
    *sql = w.sql;
    *binds = w.binds;
    result
}

/// Appends `name` quoted with backticks, a backtick inside doubled.
pub(crate) fn push_identifier(sql: &mut String, name: &str) {
    sql.push('`');
    if name.contains('`') {
        for c in name.chars() {
            if c == '`' {
                sql.push_str("``");
            } else {
                sql.push(c);
            }
        }
    } else {
        sql.push_str(name);
    }
    sql.push('`');
}

/// What a `SELECT` outputs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Projection {
    /// The query's own select list.
    Items,
    /// The inner query of a wrapped count or exists: the select list with
    /// positional aliases (`c1`, `c2`, ...; a derived table's column names
    /// must be unique, and a join can select two `id`s) where `DISTINCT` or
    /// an aggregate makes it matter, `1` otherwise. `ORDER BY` is kept only
    /// where `LIMIT`/`OFFSET` make it choose rows.
    Derived,
}

/// Which clause a condition is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clause {
    Where,
    Having,
}

fn selects_aggregate(query: &Query) -> bool {
    query
        .select
        .iter()
        .any(|item| matches!(item, SelectItem::Aggregate(..)))
}

fn function_name(aggregate: Aggregate) -> &'static str {
    match aggregate {
        Aggregate::Count => "COUNT",
        Aggregate::Sum => "SUM",
        Aggregate::Min => "MIN",
        Aggregate::Max => "MAX",
        Aggregate::Avg => "AVG",
    }
}

fn cmp_sql(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => " = ",
        CmpOp::Ne => " <> ",
        CmpOp::Lt => " < ",
        CmpOp::Le => " <= ",
        CmpOp::Gt => " > ",
        CmpOp::Ge => " >= ",
    }
}

/// The operator as users write it, for messages.
fn cmp_name(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// A rough size for the statement, so the string grows at most once or twice.
fn capacity(query: &Query) -> usize {
    let items = query.select.len() + 2 * query.joins.len() + query.group.len() + query.order.len();
    96 + query.table.len() * (items + 2) + 24 * items
}

/// The statement being built.
struct Writer<'q> {
    sql: String,
    binds: Vec<Value>,
    /// The query's own table: what a column without a table belongs to.
    base: &'q str,
    /// The query returns at most one row: no `ORDER BY` or `LIMIT`.
    single_row: bool,
}

impl<'q> Writer<'q> {
    fn new(query: &'q Query) -> Self {
        Writer {
            sql: String::with_capacity(capacity(query)),
            binds: Vec::new(),
            base: &query.table,
            single_row: false,
        }
    }

    fn finish(self) -> Result<Rendered, RenderError> {
        if self.binds.len() > MAX_PARAMETERS {
            return Err(RenderError::TooManyParameters(self.binds.len()));
        }
        Ok(Rendered {
            sql: self.sql.into(),
            binds: self.binds,
        })
    }

    fn ident(&mut self, name: &str) {
        push_identifier(&mut self.sql, name);
    }

    fn column(&mut self, column: &ColumnRef) {
        let table = column.table.as_deref().unwrap_or(self.base);
        push_identifier(&mut self.sql, table);
        self.sql.push('.');
        push_identifier(&mut self.sql, &column.column);
    }

    fn bind(&mut self, value: &Value) {
        self.sql.push('?');
        self.binds.push(value.clone());
    }

    /// A whole `SELECT`, as the query or as the inner query of a wrap.
    fn select(
        &mut self,
        query: &Query,
        caps: &Capabilities,
        projection: Projection,
    ) -> Result<(), RenderError> {
        self.sql.push_str("SELECT ");
        if query.distinct {
            self.sql.push_str("DISTINCT ");
        }
        match projection {
            Projection::Items => self.select_list(&query.select, false)?,
            Projection::Derived if query.distinct || selects_aggregate(query) => {
                self.select_list(&query.select, true)?;
            }
            Projection::Derived => self.sql.push('1'),
        }
        self.source_and_filter(query)?;
        self.group_having(query)?;
        if !self.single_row {
            let paged = query.limit.is_some() || query.offset.is_some();
            if projection == Projection::Items || paged {
                self.order(query);
            }
            self.limit_offset(query);
        }
        self.lock(query.lock, caps)
    }

    fn select_list(&mut self, items: &[SelectItem], positional: bool) -> Result<(), RenderError> {
        if items.is_empty() {
            return Err(RenderError::EmptySelect);
        }
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            let alias = match item {
                SelectItem::Column(column, alias) => {
                    self.column(column);
                    alias.as_deref()
                }
                SelectItem::Aggregate(aggregate, column, alias) => {
                    self.aggregate(*aggregate, column.as_ref())?;
                    Some(alias.as_str())
                }
            };
            if positional {
                // Infallible: writing to a String.
                let _ = write!(self.sql, " AS `c{}`", i + 1);
            } else if let Some(alias) = alias {
                self.sql.push_str(" AS ");
                self.ident(alias);
            }
        }
        Ok(())
    }

    fn aggregate(
        &mut self,
        aggregate: Aggregate,
        column: Option<&ColumnRef>,
    ) -> Result<(), RenderError> {
        let function = function_name(aggregate);
        self.sql.push_str(function);
        match column {
            Some(column) => {
                self.sql.push('(');
                self.column(column);
                self.sql.push(')');
            }
            None if aggregate == Aggregate::Count => self.sql.push_str("(*)"),
            None => return Err(RenderError::AggregateWithoutColumn { function }),
        }
        Ok(())
    }

    /// `FROM`, the joins and `WHERE`.
    fn source_and_filter(&mut self, query: &Query) -> Result<(), RenderError> {
        self.sql.push_str(" FROM ");
        self.ident(&query.table);
        for join in &query.joins {
            self.join(join)?;
        }
        if let Some(filter) = &query.filter {
            self.sql.push_str(" WHERE ");
            self.cond(filter, Clause::Where, false)?;
        }
        Ok(())
    }

    fn join(&mut self, join: &Join) -> Result<(), RenderError> {
        if join.on.is_empty() {
            return Err(RenderError::JoinWithoutKeys {
                alias: join.alias.clone(),
            });
        }
        self.sql.push_str(match join.kind {
            JoinKind::Inner => " INNER JOIN ",
            JoinKind::Left => " LEFT JOIN ",
        });
        self.ident(&join.table);
        if join.alias != join.table {
            self.sql.push_str(" AS ");
            self.ident(&join.alias);
        }
        self.sql.push_str(" ON ");
        for (i, (left, right)) in join.on.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(" AND ");
            }
            self.column(left);
            self.sql.push_str(" = ");
            self.column(right);
        }
        Ok(())
    }

    fn group_having(&mut self, query: &Query) -> Result<(), RenderError> {
        for (i, column) in query.group.iter().enumerate() {
            self.sql.push_str(if i == 0 { " GROUP BY " } else { ", " });
            self.column(column);
        }
        if let Some(having) = &query.having {
            self.sql.push_str(" HAVING ");
            self.cond(having, Clause::Having, false)?;
        }
        Ok(())
    }

    fn order(&mut self, query: &Query) {
        for (i, item) in query.order.iter().enumerate() {
            self.sql.push_str(if i == 0 { " ORDER BY " } else { ", " });
            self.column(&item.column);
            self.sql
                .push_str(if item.descending { " DESC" } else { " ASC" });
        }
    }

    fn limit_offset(&mut self, query: &Query) {
        match (query.limit, query.offset) {
            (None, None) => {}
            (limit, offset) => {
                self.sql.push_str(" LIMIT ");
                self.bind(&Value::from(limit.unwrap_or(NO_LIMIT)));
                if let Some(offset) = offset {
                    self.sql.push_str(" OFFSET ");
                    self.bind(&Value::from(offset));
                }
            }
        }
    }

    fn lock(&mut self, lock: Option<Lock>, caps: &Capabilities) -> Result<(), RenderError> {
        let Some(lock) = lock else {
            return Ok(());
        };
        let wait = match lock.wait {
            LockWait::Wait => None,
            LockWait::NoWait => Some("NOWAIT"),
            LockWait::SkipLocked => Some("SKIP LOCKED"),
        };
        if let Some(clause) = wait
            && !caps.nowait_skip_locked
        {
            return Err(RenderError::LockWaitUnsupported { clause });
        }
        self.sql.push_str(match lock.mode {
            LockMode::Update => " FOR UPDATE",
            LockMode::Share if caps.for_share => " FOR SHARE",
            // MariaDB (and MySQL before 8.0.1). MariaDB takes NOWAIT (10.3+)
            // and SKIP LOCKED (10.6+) after LOCK IN SHARE MODE; MySQL only
            // after FOR SHARE, which every MySQL with NOWAIT has.
            LockMode::Share => " LOCK IN SHARE MODE",
        });
        if let Some(clause) = wait {
            self.sql.push(' ');
            self.sql.push_str(clause);
        }
        Ok(())
    }

    fn operand(&mut self, operand: &Operand, clause: Clause) -> Result<(), RenderError> {
        match operand {
            Operand::Column(column) => {
                self.column(column);
                Ok(())
            }
            Operand::Aggregate(..) if clause == Clause::Where => {
                Err(RenderError::AggregateInWhere {
                    operand: self.describe(operand),
                })
            }
            Operand::Aggregate(aggregate, column) => self.aggregate(*aggregate, column.as_ref()),
        }
    }

    /// The operand for messages: `table.column`, `COUNT(*)`, `SUM(table.column)`.
    fn describe(&self, operand: &Operand) -> String {
        let column =
            |c: &ColumnRef| format!("{}.{}", c.table.as_deref().unwrap_or(self.base), c.column);
        match operand {
            Operand::Column(c) => column(c),
            Operand::Aggregate(aggregate, c) => format!(
                "{}({})",
                function_name(*aggregate),
                c.as_ref().map_or_else(|| "*".to_string(), column)
            ),
        }
    }

    /// A condition. `nested` is set inside `AND`/`OR`, where a compound
    /// child is parenthesized.
    fn cond(&mut self, cond: &Cond, clause: Clause, nested: bool) -> Result<(), RenderError> {
        match cond {
            Cond::Cmp(operand, op, value) => self.cmp(operand, *op, value, clause),
            Cond::In(operand, values, negated) => self.in_list(operand, values, *negated, clause),
            Cond::InQuery(operand, query) => {
                self.operand(operand, clause)?;
                self.sql.push_str(" IN (");
                self.subquery(query)?;
                self.sql.push(')');
                Ok(())
            }
            Cond::IsNull(operand, negated) => {
                self.operand(operand, clause)?;
                self.sql
                    .push_str(if *negated { " IS NOT NULL" } else { " IS NULL" });
                Ok(())
            }
            Cond::Like(operand, pattern, negated) => {
                let op = if *negated { "NOT LIKE" } else { "LIKE" };
                self.check_value(operand, op, pattern)?;
                self.operand(operand, clause)?;
                self.sql.push(' ');
                self.sql.push_str(op);
                self.sql.push(' ');
                self.bind(pattern);
                Ok(())
            }
            Cond::And(children) => self.junction(children, " AND ", "1 = 1", clause, nested),
            Cond::Or(children) => self.junction(children, " OR ", "1 = 0", clause, nested),
            Cond::Not(inner) => {
                self.sql.push_str("NOT (");
                self.cond(inner, clause, false)?;
                self.sql.push(')');
                Ok(())
            }
        }
    }

    /// The `SELECT` of an `IN (...)` subquery, its unqualified columns
    /// on its own table. Without a lock and, unless `LIMIT`/`OFFSET` choose
    /// the rows (then it is a derived table), without `ORDER BY`.
    fn subquery(&mut self, query: &Query) -> Result<(), RenderError> {
        let mut inner = Writer {
            sql: std::mem::take(&mut self.sql),
            binds: std::mem::take(&mut self.binds),
            base: &query.table,
            single_row: false,
        };
        let result = inner.subquery_select(query);
        self.sql = inner.sql;
        self.binds = inner.binds;
        result
    }

    fn subquery_select(&mut self, query: &Query) -> Result<(), RenderError> {
        let paged = query.limit.is_some() || query.offset.is_some();
        if paged {
            self.sql.push_str("SELECT ");
            self.ident(DERIVED);
            self.sql.push_str(".`c1` FROM (");
        }
        self.sql.push_str("SELECT ");
        if query.distinct {
            self.sql.push_str("DISTINCT ");
        }
        self.select_list(&query.select, paged)?;
        self.source_and_filter(query)?;
        self.group_having(query)?;
        if paged {
            self.order(query);
            self.limit_offset(query);
            self.sql.push_str(") AS ");
            self.ident(DERIVED);
        }
        Ok(())
    }

    fn junction(
        &mut self,
        children: &[Cond],
        separator: &str,
        empty: &str,
        clause: Clause,
        nested: bool,
    ) -> Result<(), RenderError> {
        match children {
            [] => self.sql.push_str(empty),
            [only] => self.cond(only, clause, nested)?,
            _ => {
                if nested {
                    self.sql.push('(');
                }
                for (i, child) in children.iter().enumerate() {
                    if i > 0 {
                        self.sql.push_str(separator);
                    }
                    self.cond(child, clause, true)?;
                }
                if nested {
                    self.sql.push(')');
                }
            }
        }
        Ok(())
    }

    /// Refuses NULL and lists where one non-NULL value is expected.
    fn check_value(
        &self,
        operand: &Operand,
        op: &'static str,
        value: &Value,
    ) -> Result<(), RenderError> {
        match value {
            Value::Null => Err(RenderError::NullComparison {
                operand: self.describe(operand),
                op,
            }),
            Value::List(_) => Err(RenderError::ListValue {
                operand: self.describe(operand),
                op,
            }),
            _ => Ok(()),
        }
    }

    fn cmp(
        &mut self,
        operand: &Operand,
        op: CmpOp,
        value: &Value,
        clause: Clause,
    ) -> Result<(), RenderError> {
        if value.is_null() {
            let test = match op {
                CmpOp::Eq => " IS NULL",
                CmpOp::Ne => " IS NOT NULL",
                _ => return self.check_value(operand, cmp_name(op), value),
            };
            self.operand(operand, clause)?;
            self.sql.push_str(test);
            return Ok(());
        }
        self.check_value(operand, cmp_name(op), value)?;
        self.operand(operand, clause)?;
        self.sql.push_str(cmp_sql(op));
        self.bind(value);
        Ok(())
    }

    /// `IN (?, ...)`; NULLs in the list become `OR ... IS NULL` (`AND ... IS
    /// NOT NULL` when negated), an empty list a constant truth value.
    fn in_list(
        &mut self,
        operand: &Operand,
        values: &[Value],
        negated: bool,
        clause: Clause,
    ) -> Result<(), RenderError> {
        if values.iter().any(|v| matches!(v, Value::List(_))) {
            return Err(RenderError::ListValue {
                operand: self.describe(operand),
                op: "IN",
            });
        }
        let nulls = values.iter().any(Value::is_null);
        let listed = values.iter().filter(|v| !v.is_null()).count();
        let null_test = if negated { " IS NOT NULL" } else { " IS NULL" };
        if listed == 0 {
            if nulls {
                self.operand(operand, clause)?;
                self.sql.push_str(null_test);
            } else {
                self.sql.push_str(if negated { "1 = 1" } else { "1 = 0" });
            }
            return Ok(());
        }
        if nulls {
            self.sql.push('(');
        }
        self.operand(operand, clause)?;
        self.sql
            .push_str(if negated { " NOT IN (" } else { " IN (" });
        self.sql.reserve(3 * listed + 1);
        self.binds.reserve(listed);
        for (i, value) in values.iter().filter(|v| !v.is_null()).enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.bind(value);
        }
        self.sql.push(')');
        if nulls {
            self.sql.push_str(if negated { " AND " } else { " OR " });
            self.operand(operand, clause)?;
            self.sql.push_str(null_test);
            self.sql.push(')');
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::{Flavour, Version};
    use crate::relation::query::OrderItem;

    fn mariadb() -> Capabilities {
        Capabilities::of(Flavour::MariaDb, Version::new(10, 11, 0))
    }

    fn mysql() -> Capabilities {
        Capabilities::of(Flavour::MySql, Version::new(8, 0, 36))
    }

    /// A column of the query's own table.
    fn c(name: &str) -> ColumnRef {
        ColumnRef::new(None, name)
    }

    fn on(table: &str, name: &str) -> ColumnRef {
        ColumnRef::new(Some(table), name)
    }

    fn o(name: &str) -> Operand {
        Operand::Column(c(name))
    }

    fn query(table: &str, columns: &[&str]) -> Query {
        Query {
            table: std::sync::Arc::from(table),
            select: std::sync::Arc::new(
                columns
                    .iter()
                    .map(|n| SelectItem::Column(c(n), None))
                    .collect(),
            ),
            distinct: false,
            joins: Vec::new(),
            filter: None,
            group: Vec::new(),
            having: None,
            order: std::sync::Arc::default(),
            limit: None,
            offset: None,
            lock: None,
        }
    }

    fn posts() -> Query {
        query("posts", &["id", "url"])
    }

    fn filtered(cond: Cond) -> Query {
        Query {
            filter: Some(cond),
            ..posts()
        }
    }

    fn ok(q: &Query) -> Rendered {
        render(q, &mariadb()).unwrap()
    }

    /// The SQL after `WHERE `.
    fn where_sql(cond: Cond) -> (String, Vec<Value>) {
        let r = ok(&filtered(cond));
        let prefix = "SELECT `posts`.`id`, `posts`.`url` FROM `posts` WHERE ";
        assert!(r.sql.starts_with(prefix), "{}", r.sql);
        (r.sql[prefix.len()..].to_string(), r.binds)
    }

    fn eq(name: &str, v: impl Into<Value>) -> Cond {
        Cond::Cmp(o(name), CmpOp::Eq, v.into())
    }

    #[test]
    fn plain_select_qualifies_every_column() {
        let r = ok(&posts());
        assert_eq!(r.sql, "SELECT `posts`.`id`, `posts`.`url` FROM `posts`");
        assert!(r.binds.is_empty());
    }

    #[test]
    fn identifiers_are_quoted_and_backticks_doubled() {
        let q = query("we`ird", &["a`b", "select"]);
        assert_eq!(
            ok(&q).sql,
            "SELECT `we``ird`.`a``b`, `we``ird`.`select` FROM `we``ird`"
        );
    }

    #[test]
    fn aliases_aggregates_and_distinct() {
        let q = Query {
            select: std::sync::Arc::new(vec![
                SelectItem::Column(c("company_id"), Some("company".into())),
                SelectItem::Aggregate(Aggregate::Count, None, "n".into()),
                SelectItem::Aggregate(Aggregate::Sum, Some(c("views")), "total".into()),
                SelectItem::Aggregate(Aggregate::Avg, Some(c("views")), "mean".into()),
                SelectItem::Aggregate(Aggregate::Min, Some(c("views")), "lo".into()),
                SelectItem::Aggregate(Aggregate::Max, Some(c("views")), "hi".into()),
                SelectItem::Aggregate(Aggregate::Count, Some(c("url")), "urls".into()),
            ]),
            distinct: true,
            ..posts()
        };
        assert_eq!(
            ok(&q).sql,
            "SELECT DISTINCT `posts`.`company_id` AS `company`, COUNT(*) AS `n`, \
             SUM(`posts`.`views`) AS `total`, AVG(`posts`.`views`) AS `mean`, \
             MIN(`posts`.`views`) AS `lo`, MAX(`posts`.`views`) AS `hi`, \
             COUNT(`posts`.`url`) AS `urls` FROM `posts`"
        );
    }

    #[test]
    fn aggregate_without_column_other_than_count_is_refused() {
        let q = Query {
            select: std::sync::Arc::new(vec![SelectItem::Aggregate(
                Aggregate::Sum,
                None,
                "s".into(),
            )]),
            ..posts()
        };
        let e = render(&q, &mariadb()).unwrap_err();
        assert_eq!(e, RenderError::AggregateWithoutColumn { function: "SUM" });
        assert!(e.to_string().contains("COUNT(*)"));
    }

    #[test]
    fn empty_select_is_refused() {
        let q = query("posts", &[]);
        assert_eq!(render(&q, &mariadb()), Err(RenderError::EmptySelect));
    }

    #[test]
    fn comparisons_bind_their_values() {
        let ops = [
            (CmpOp::Eq, "="),
            (CmpOp::Ne, "<>"),
            (CmpOp::Lt, "<"),
            (CmpOp::Le, "<="),
            (CmpOp::Gt, ">"),
            (CmpOp::Ge, ">="),
        ];
        for (op, sql) in ops {
            let (w, binds) = where_sql(Cond::Cmp(o("views"), op, Value::Int(10)));
            assert_eq!(w, format!("`posts`.`views` {sql} ?"));
            assert_eq!(binds, vec![Value::Int(10)]);
        }
    }

    #[test]
    fn null_equality_becomes_is_null() {
        assert_eq!(
            where_sql(eq("company_id", Value::Null)),
            ("`posts`.`company_id` IS NULL".to_string(), vec![])
        );
        assert_eq!(
            where_sql(Cond::Cmp(o("company_id"), CmpOp::Ne, Value::Null)),
            ("`posts`.`company_id` IS NOT NULL".to_string(), vec![])
        );
        assert_eq!(
            where_sql(Cond::IsNull(o("company_id"), false)).0,
            "`posts`.`company_id` IS NULL"
        );
        assert_eq!(
            where_sql(Cond::IsNull(o("company_id"), true)).0,
            "`posts`.`company_id` IS NOT NULL"
        );
    }

    #[test]
    fn ordering_comparison_with_null_is_refused() {
        for op in [CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge] {
            let e = render(
                &filtered(Cond::Cmp(o("views"), op, Value::Null)),
                &mariadb(),
            )
            .unwrap_err();
            assert_eq!(
                e,
                RenderError::NullComparison {
                    operand: "posts.views".into(),
                    op: cmp_name(op)
                }
            );
            assert!(e.to_string().contains("unknown"), "{e}");
            assert!(e.to_string().contains("IS NULL"), "{e}");
        }
        let e = render(
            &filtered(Cond::Like(o("url"), Value::Null, false)),
            &mariadb(),
        );
        assert!(matches!(
            e,
            Err(RenderError::NullComparison { op: "LIKE", .. })
        ));
    }

    #[test]
    fn list_as_a_single_value_is_refused() {
        let e = render(&filtered(eq("id", vec![1, 2])), &mariadb()).unwrap_err();
        assert_eq!(
            e,
            RenderError::ListValue {
                operand: "posts.id".into(),
                op: "="
            }
        );
        assert!(e.to_string().contains("IN"), "{e}");
        let nested = Cond::In(o("id"), vec![Value::Int(1), Value::from(vec![2])], false);
        assert!(matches!(
            render(&filtered(nested), &mariadb()),
            Err(RenderError::ListValue { op: "IN", .. })
        ));
        let like = Cond::Like(o("url"), Value::from(vec!["a"]), false);
        assert!(matches!(
            render(&filtered(like), &mariadb()),
            Err(RenderError::ListValue { op: "LIKE", .. })
        ));
    }

    #[test]
    fn in_lists_expand_to_placeholders() {
        let (w, binds) = where_sql(Cond::In(
            o("id"),
            vec![Value::Int(1), Value::Int(2), Value::Int(3)],
            false,
        ));
        assert_eq!(w, "`posts`.`id` IN (?, ?, ?)");
        assert_eq!(binds, vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
        let (w, binds) = where_sql(Cond::In(o("id"), vec![Value::Int(7)], true));
        assert_eq!(w, "`posts`.`id` NOT IN (?)");
        assert_eq!(binds, vec![Value::Int(7)]);
    }

    #[test]
    fn empty_in_lists_are_constant() {
        assert_eq!(
            where_sql(Cond::In(o("id"), vec![], false)),
            ("1 = 0".to_string(), vec![])
        );
        assert_eq!(
            where_sql(Cond::In(o("id"), vec![], true)),
            ("1 = 1".to_string(), vec![])
        );
    }

    #[test]
    fn nulls_in_in_lists_match_null() {
        let (w, binds) = where_sql(Cond::In(
            o("company_id"),
            vec![Value::Int(1), Value::Null, Value::Int(2)],
            false,
        ));
        assert_eq!(
            w,
            "(`posts`.`company_id` IN (?, ?) OR `posts`.`company_id` IS NULL)"
        );
        assert_eq!(binds, vec![Value::Int(1), Value::Int(2)]);
        let (w, binds) = where_sql(Cond::In(
            o("company_id"),
            vec![Value::Null, Value::Int(1)],
            true,
        ));
        assert_eq!(
            w,
            "(`posts`.`company_id` NOT IN (?) AND `posts`.`company_id` IS NOT NULL)"
        );
        assert_eq!(binds, vec![Value::Int(1)]);
        assert_eq!(
            where_sql(Cond::In(
                o("company_id"),
                vec![Value::Null, Value::Null],
                false
            )),
            ("`posts`.`company_id` IS NULL".to_string(), vec![])
        );
        assert_eq!(
            where_sql(Cond::In(o("company_id"), vec![Value::Null], true)),
            ("`posts`.`company_id` IS NOT NULL".to_string(), vec![])
        );
    }

    #[test]
    fn like_binds_the_pattern() {
        let (w, binds) = where_sql(Cond::Like(o("url"), Value::from("%rust%"), false));
        assert_eq!(w, "`posts`.`url` LIKE ?");
        assert_eq!(binds, vec![Value::from("%rust%")]);
        let (w, _) = where_sql(Cond::Like(o("url"), Value::from("a\\_%"), true));
        assert_eq!(w, "`posts`.`url` NOT LIKE ?");
    }

    #[test]
    fn and_or_not_parenthesize() {
        let a = eq("a", 1);
        let b = eq("b", 2);
        let cc = eq("c", 3);
        let d = eq("d", 4);
        // Top level: no parentheses.
        assert_eq!(
            where_sql(Cond::And(vec![a.clone(), b.clone()])).0,
            "`posts`.`a` = ? AND `posts`.`b` = ?"
        );
        assert_eq!(
            where_sql(Cond::Or(vec![a.clone(), b.clone()])).0,
            "`posts`.`a` = ? OR `posts`.`b` = ?"
        );
        // a AND (b OR c)
        assert_eq!(
            where_sql(Cond::And(vec![
                a.clone(),
                Cond::Or(vec![b.clone(), cc.clone()])
            ]))
            .0,
            "`posts`.`a` = ? AND (`posts`.`b` = ? OR `posts`.`c` = ?)"
        );
        // (a AND b) OR (c AND d)
        let (w, binds) = where_sql(Cond::Or(vec![
            Cond::And(vec![a.clone(), b.clone()]),
            Cond::And(vec![cc.clone(), d.clone()]),
        ]));
        assert_eq!(
            w,
            "(`posts`.`a` = ? AND `posts`.`b` = ?) OR (`posts`.`c` = ? AND `posts`.`d` = ?)"
        );
        assert_eq!(
            binds,
            vec![Value::Int(1), Value::Int(2), Value::Int(3), Value::Int(4)]
        );
        // NOT (a OR b) AND NOT (c)
        assert_eq!(
            where_sql(Cond::And(vec![
                Cond::Not(Box::new(Cond::Or(vec![a.clone(), b.clone()]))),
                Cond::Not(Box::new(cc.clone())),
            ]))
            .0,
            "NOT (`posts`.`a` = ? OR `posts`.`b` = ?) AND NOT (`posts`.`c` = ?)"
        );
        // A one-child group is its child, parenthesized as the child needs.
        assert_eq!(
            where_sql(Cond::And(vec![
                a.clone(),
                Cond::And(vec![Cond::Or(vec![b.clone(), cc.clone()])])
            ]))
            .0,
            "`posts`.`a` = ? AND (`posts`.`b` = ? OR `posts`.`c` = ?)"
        );
        // Deep nesting.
        assert_eq!(
            where_sql(Cond::Or(vec![
                a.clone(),
                Cond::And(vec![
                    b.clone(),
                    Cond::Or(vec![cc.clone(), Cond::Not(Box::new(d.clone()))])
                ])
            ]))
            .0,
            "`posts`.`a` = ? OR (`posts`.`b` = ? AND (`posts`.`c` = ? OR NOT (`posts`.`d` = ?)))"
        );
        // An IN with NULLs inside AND keeps its own parentheses.
        assert_eq!(
            where_sql(Cond::And(vec![
                a.clone(),
                Cond::In(o("e"), vec![Value::Int(5), Value::Null], false)
            ]))
            .0,
            "`posts`.`a` = ? AND (`posts`.`e` IN (?) OR `posts`.`e` IS NULL)"
        );
    }

    #[test]
    fn empty_groups_are_constant() {
        assert_eq!(where_sql(Cond::And(vec![])).0, "1 = 1");
        assert_eq!(where_sql(Cond::Or(vec![])).0, "1 = 0");
        assert_eq!(
            where_sql(Cond::Not(Box::new(Cond::Or(vec![])))).0,
            "NOT (1 = 0)"
        );
        assert_eq!(
            where_sql(Cond::And(vec![eq("a", 1), Cond::Or(vec![])])).0,
            "`posts`.`a` = ? AND 1 = 0"
        );
    }

    fn joined() -> Query {
        Query {
            table: "posts".into(),
            select: std::sync::Arc::new(vec![
                SelectItem::Column(c("id"), None),
                SelectItem::Column(on("company", "name"), Some("company_name".into())),
            ]),
            joins: vec![
                Join {
                    kind: JoinKind::Inner,
                    table: "companies".into(),
                    alias: "company".into(),
                    on: vec![(c("company_id"), on("company", "id"))],
                },
                Join {
                    kind: JoinKind::Left,
                    table: "stats".into(),
                    alias: "stats".into(),
                    on: vec![
                        (c("id"), on("stats", "post_id")),
                        (c("day"), on("stats", "day")),
                    ],
                },
            ],
            filter: Some(Cond::Cmp(
                Operand::Column(on("company", "name")),
                CmpOp::Eq,
                Value::from("Acme"),
            )),
            ..posts()
        }
    }

    #[test]
    fn joins_qualify_columns_and_alias_tables() {
        let r = ok(&joined());
        assert_eq!(
            r.sql,
            "SELECT `posts`.`id`, `company`.`name` AS `company_name` FROM `posts` \
             INNER JOIN `companies` AS `company` ON `posts`.`company_id` = `company`.`id` \
             LEFT JOIN `stats` ON `posts`.`id` = `stats`.`post_id` AND `posts`.`day` = `stats`.`day` \
             WHERE `company`.`name` = ?"
        );
        assert_eq!(r.binds, vec![Value::from("Acme")]);
    }

    #[test]
    fn join_without_keys_is_refused() {
        let mut q = joined();
        q.joins[0].on.clear();
        assert_eq!(
            render(&q, &mariadb()),
            Err(RenderError::JoinWithoutKeys {
                alias: "company".into()
            })
        );
    }

    fn grouped() -> Query {
        Query {
            select: std::sync::Arc::new(vec![
                SelectItem::Column(c("company_id"), None),
                SelectItem::Aggregate(Aggregate::Count, None, "posts".into()),
            ]),
            group: vec![c("company_id"), c("kind")],
            filter: Some(eq("published", true)),
            having: Some(Cond::And(vec![
                Cond::Cmp(
                    Operand::Aggregate(Aggregate::Count, None),
                    CmpOp::Gt,
                    Value::Int(5),
                ),
                Cond::Cmp(
                    Operand::Aggregate(Aggregate::Sum, Some(c("views"))),
                    CmpOp::Le,
                    Value::Int(1000),
                ),
            ])),
            order: std::sync::Arc::new(vec![OrderItem {
                column: c("company_id"),
                descending: false,
            }]),
            ..posts()
        }
    }

    #[test]
    fn group_and_having() {
        let r = ok(&grouped());
        assert_eq!(
            r.sql,
            "SELECT `posts`.`company_id`, COUNT(*) AS `posts` FROM `posts` \
             WHERE `posts`.`published` = ? \
             GROUP BY `posts`.`company_id`, `posts`.`kind` \
             HAVING COUNT(*) > ? AND SUM(`posts`.`views`) <= ? \
             ORDER BY `posts`.`company_id` ASC"
        );
        assert_eq!(
            r.binds,
            vec![Value::Bool(true), Value::Int(5), Value::Int(1000)]
        );
    }

    #[test]
    fn having_in_list_over_an_aggregate() {
        let q = Query {
            having: Some(Cond::In(
                Operand::Aggregate(Aggregate::Max, Some(c("views"))),
                vec![Value::Int(1), Value::Int(2)],
                false,
            )),
            ..grouped()
        };
        assert!(
            ok(&q)
                .sql
                .contains(" HAVING MAX(`posts`.`views`) IN (?, ?) ")
        );
    }

    #[test]
    fn aggregate_in_where_is_refused() {
        let q = filtered(Cond::Cmp(
            Operand::Aggregate(Aggregate::Count, None),
            CmpOp::Gt,
            Value::Int(1),
        ));
        let e = render(&q, &mariadb()).unwrap_err();
        assert_eq!(
            e,
            RenderError::AggregateInWhere {
                operand: "COUNT(*)".into()
            }
        );
        assert!(e.to_string().contains("having"), "{e}");
    }

    #[test]
    fn order_by_several_keys() {
        let q = Query {
            order: std::sync::Arc::new(vec![
                OrderItem {
                    column: c("published_at"),
                    descending: true,
                },
                OrderItem {
                    column: c("id"),
                    descending: false,
                },
            ]),
            ..posts()
        };
        assert_eq!(
            ok(&q).sql,
            "SELECT `posts`.`id`, `posts`.`url` FROM `posts` \
             ORDER BY `posts`.`published_at` DESC, `posts`.`id` ASC"
        );
    }

    #[test]
    fn limit_and_offset_are_bound() {
        let base = "SELECT `posts`.`id`, `posts`.`url` FROM `posts`";
        let q = Query {
            limit: Some(10),
            ..posts()
        };
        let r = ok(&q);
        assert_eq!(r.sql, format!("{base} LIMIT ?"));
        assert_eq!(r.binds, vec![Value::Int(10)]);

        let q = Query {
            limit: Some(10),
            offset: Some(20),
            ..posts()
        };
        let r = ok(&q);
        assert_eq!(r.sql, format!("{base} LIMIT ? OFFSET ?"));
        assert_eq!(r.binds, vec![Value::Int(10), Value::Int(20)]);

        // OFFSET alone: MySQL needs a LIMIT, the largest u64; same shape as
        // LIMIT + OFFSET.
        let q = Query {
            offset: Some(5),
            ..posts()
        };
        let r = ok(&q);
        assert_eq!(r.sql, format!("{base} LIMIT ? OFFSET ?"));
        assert_eq!(r.binds, vec![Value::UInt(u64::MAX), Value::Int(5)]);
    }

    #[test]
    fn limit_values_do_not_change_the_sql() {
        let sql = |limit, offset| {
            ok(&Query {
                limit: Some(limit),
                offset: Some(offset),
                ..posts()
            })
            .sql
        };
        assert_eq!(sql(1, 0), sql(u64::MAX, 1_000_000));
    }

    #[test]
    fn binds_follow_clause_order() {
        let q = Query {
            joins: joined().joins,
            filter: Some(Cond::And(vec![eq("a", 1), eq("b", 2)])),
            group: vec![c("a")],
            having: Some(Cond::Cmp(
                Operand::Aggregate(Aggregate::Count, None),
                CmpOp::Ge,
                Value::Int(3),
            )),
            limit: Some(4),
            offset: Some(5),
            ..posts()
        };
        assert_eq!(ok(&q).binds, (1..=5).map(Value::Int).collect::<Vec<_>>());
    }

    fn locked(mode: LockMode, wait: LockWait) -> Query {
        Query {
            filter: Some(eq("id", 1)),
            lock: Some(Lock { mode, wait }),
            ..posts()
        }
    }

    fn lock_clause(
        mode: LockMode,
        wait: LockWait,
        caps: &Capabilities,
    ) -> Result<String, RenderError> {
        let prefix = "SELECT `posts`.`id`, `posts`.`url` FROM `posts` WHERE `posts`.`id` = ?";
        render(&locked(mode, wait), caps).map(|r| r.sql[prefix.len()..].to_string())
    }

    #[test]
    fn locks_on_mysql() {
        let caps = mysql();
        let cases = [
            (LockMode::Update, LockWait::Wait, " FOR UPDATE"),
            (LockMode::Update, LockWait::NoWait, " FOR UPDATE NOWAIT"),
            (
                LockMode::Update,
                LockWait::SkipLocked,
                " FOR UPDATE SKIP LOCKED",
            ),
            (LockMode::Share, LockWait::Wait, " FOR SHARE"),
            (LockMode::Share, LockWait::NoWait, " FOR SHARE NOWAIT"),
            (
                LockMode::Share,
                LockWait::SkipLocked,
                " FOR SHARE SKIP LOCKED",
            ),
        ];
        for (mode, wait, sql) in cases {
            assert_eq!(lock_clause(mode, wait, &caps).unwrap(), sql);
        }
    }

    #[test]
    fn locks_on_mariadb() {
        let caps = mariadb();
        // MariaDB has no FOR SHARE; LOCK IN SHARE MODE takes NOWAIT (10.3+)
        // and SKIP LOCKED (10.6+), checked against MariaDB 10.11.
        let cases = [
            (LockMode::Update, LockWait::Wait, " FOR UPDATE"),
            (LockMode::Update, LockWait::NoWait, " FOR UPDATE NOWAIT"),
            (
                LockMode::Update,
                LockWait::SkipLocked,
                " FOR UPDATE SKIP LOCKED",
            ),
            (LockMode::Share, LockWait::Wait, " LOCK IN SHARE MODE"),
            (
                LockMode::Share,
                LockWait::NoWait,
                " LOCK IN SHARE MODE NOWAIT",
            ),
            (
                LockMode::Share,
                LockWait::SkipLocked,
                " LOCK IN SHARE MODE SKIP LOCKED",
            ),
        ];
        for (mode, wait, sql) in cases {
            assert_eq!(lock_clause(mode, wait, &caps).unwrap(), sql);
        }
    }

    #[test]
    fn lock_waits_need_the_capability() {
        let old = Capabilities::of(Flavour::MySql, Version::new(8, 0, 0));
        assert_eq!(
            lock_clause(LockMode::Share, LockWait::Wait, &old).unwrap(),
            " LOCK IN SHARE MODE"
        );
        assert_eq!(
            lock_clause(LockMode::Update, LockWait::Wait, &old).unwrap(),
            " FOR UPDATE"
        );
        for mode in [LockMode::Update, LockMode::Share] {
            let e = lock_clause(mode, LockWait::NoWait, &old).unwrap_err();
            assert_eq!(e, RenderError::LockWaitUnsupported { clause: "NOWAIT" });
            assert!(e.to_string().contains("MariaDB 10.6"), "{e}");
            let e = lock_clause(mode, LockWait::SkipLocked, &old).unwrap_err();
            assert_eq!(
                e,
                RenderError::LockWaitUnsupported {
                    clause: "SKIP LOCKED"
                }
            );
        }
        let old_maria = Capabilities::of(Flavour::MariaDb, Version::new(10, 5, 0));
        assert!(lock_clause(LockMode::Update, LockWait::SkipLocked, &old_maria).is_err());
    }

    #[test]
    fn lock_comes_after_limit() {
        let q = Query {
            limit: Some(1),
            ..locked(LockMode::Update, LockWait::SkipLocked)
        };
        assert!(ok(&q).sql.ends_with(" LIMIT ? FOR UPDATE SKIP LOCKED"));
    }

    #[test]
    fn count_replaces_the_select_list_and_drops_order() {
        let q = Query {
            filter: Some(eq("company_id", 3)),
            order: std::sync::Arc::new(vec![OrderItem {
                column: c("id"),
                descending: true,
            }]),
            ..joined()
        };
        let r = render_count(&q, &mariadb()).unwrap();
        assert_eq!(
            r.sql,
            "SELECT COUNT(*) FROM `posts` \
             INNER JOIN `companies` AS `company` ON `posts`.`company_id` = `company`.`id` \
             LEFT JOIN `stats` ON `posts`.`id` = `stats`.`post_id` AND `posts`.`day` = `stats`.`day` \
             WHERE `posts`.`company_id` = ?"
        );
        assert_eq!(r.binds, vec![Value::Int(3)]);
        let locked = render_count(&locked(LockMode::Share, LockWait::Wait), &mysql()).unwrap();
        assert_eq!(
            locked.sql,
            "SELECT COUNT(*) FROM `posts` WHERE `posts`.`id` = ? FOR SHARE"
        );
    }

    #[test]
    fn count_wraps_limit_and_offset() {
        let q = Query {
            filter: Some(eq("a", 1)),
            order: std::sync::Arc::new(vec![OrderItem {
                column: c("id"),
                descending: false,
            }]),
            limit: Some(10),
            offset: Some(30),
            ..posts()
        };
        let r = render_count(&q, &mariadb()).unwrap();
        assert_eq!(
            r.sql,
            "SELECT COUNT(*) FROM (SELECT 1 FROM `posts` WHERE `posts`.`a` = ? \
             ORDER BY `posts`.`id` ASC LIMIT ? OFFSET ?) AS t"
        );
        assert_eq!(r.binds, vec![Value::Int(1), Value::Int(10), Value::Int(30)]);
    }

    #[test]
    fn count_wraps_distinct_with_positional_aliases() {
        // Two `id`s from a join: a derived table needs unique names.
        let q = Query {
            distinct: true,
            select: std::sync::Arc::new(vec![
                SelectItem::Column(c("id"), None),
                SelectItem::Column(on("company", "id"), None),
            ]),
            order: std::sync::Arc::new(vec![OrderItem {
                column: c("id"),
                descending: false,
            }]),
            ..joined()
        };
        let r = render_count(&q, &mariadb()).unwrap();
        assert_eq!(
            r.sql,
            "SELECT COUNT(*) FROM (SELECT DISTINCT `posts`.`id` AS `c1`, `company`.`id` AS `c2` \
             FROM `posts` \
             INNER JOIN `companies` AS `company` ON `posts`.`company_id` = `company`.`id` \
             LEFT JOIN `stats` ON `posts`.`id` = `stats`.`post_id` AND `posts`.`day` = `stats`.`day` \
             WHERE `company`.`name` = ?) AS t"
        );
    }

    #[test]
    fn count_wraps_group_and_having() {
        let r = render_count(&grouped(), &mariadb()).unwrap();
        assert_eq!(
            r.sql,
            "SELECT COUNT(*) FROM (SELECT `posts`.`company_id` AS `c1`, COUNT(*) AS `c2` \
             FROM `posts` WHERE `posts`.`published` = ? \
             GROUP BY `posts`.`company_id`, `posts`.`kind` \
             HAVING COUNT(*) > ? AND SUM(`posts`.`views`) <= ?) AS t"
        );
        let plain_group = Query {
            group: vec![c("company_id")],
            ..posts()
        };
        assert_eq!(
            render_count(&plain_group, &mariadb()).unwrap().sql,
            "SELECT COUNT(*) FROM (SELECT 1 FROM `posts` GROUP BY `posts`.`company_id`) AS t"
        );
    }

    #[test]
    fn count_keeps_the_lock_inside_the_wrap() {
        let q = Query {
            limit: Some(3),
            ..locked(LockMode::Update, LockWait::NoWait)
        };
        assert_eq!(
            render_count(&q, &mysql()).unwrap().sql,
            "SELECT COUNT(*) FROM (SELECT 1 FROM `posts` WHERE `posts`.`id` = ? \
             LIMIT ? FOR UPDATE NOWAIT) AS t"
        );
        assert!(
            render_count(&q, &Capabilities::of(Flavour::MySql, Version::new(8, 0, 0))).is_err()
        );
    }

    #[test]
    fn exists_selects_one_row() {
        let q = Query {
            order: std::sync::Arc::new(vec![OrderItem {
                column: c("id"),
                descending: false,
            }]),
            ..filtered(eq("url", "x"))
        };
        let r = render_exists(&q, &mariadb()).unwrap();
        assert_eq!(
            r.sql,
            "SELECT 1 FROM `posts` WHERE `posts`.`url` = ? LIMIT 1"
        );
        assert_eq!(r.binds, vec![Value::from("x")]);
        let g = render_exists(&grouped(), &mariadb()).unwrap();
        assert_eq!(
            g.sql,
            "SELECT 1 FROM `posts` WHERE `posts`.`published` = ? \
             GROUP BY `posts`.`company_id`, `posts`.`kind` \
             HAVING COUNT(*) > ? AND SUM(`posts`.`views`) <= ? LIMIT 1"
        );
        let l = render_exists(&locked(LockMode::Update, LockWait::SkipLocked), &mariadb()).unwrap();
        assert_eq!(
            l.sql,
            "SELECT 1 FROM `posts` WHERE `posts`.`id` = ? LIMIT 1 FOR UPDATE SKIP LOCKED"
        );
    }

    #[test]
    fn exists_wraps_limit_offset_and_ungrouped_aggregates() {
        let q = Query {
            limit: Some(0),
            ..posts()
        };
        let r = render_exists(&q, &mariadb()).unwrap();
        assert_eq!(
            r.sql,
            "SELECT 1 FROM (SELECT 1 FROM `posts` LIMIT ?) AS t LIMIT 1"
        );
        assert_eq!(r.binds, vec![Value::Int(0)]);
        // SUM over the whole table is always one row, even on an empty table.
        let q = Query {
            select: std::sync::Arc::new(vec![SelectItem::Aggregate(
                Aggregate::Sum,
                Some(c("views")),
                "s".into(),
            )]),
            ..posts()
        };
        assert_eq!(
            render_exists(&q, &mariadb()).unwrap().sql,
            "SELECT 1 FROM (SELECT SUM(`posts`.`views`) AS `c1` FROM `posts`) AS t LIMIT 1"
        );
        assert_eq!(
            render_count(&q, &mariadb()).unwrap().sql,
            "SELECT COUNT(*) FROM (SELECT SUM(`posts`.`views`) AS `c1` FROM `posts`) AS t"
        );
    }

    #[test]
    fn too_many_parameters() {
        let at_limit: Vec<Value> = (0..65_535).map(Value::Int).collect();
        let r = render(&filtered(Cond::In(o("id"), at_limit, false)), &mariadb()).unwrap();
        assert_eq!(r.binds.len(), MAX_PARAMETERS);
        assert_eq!(r.sql.matches('?').count(), MAX_PARAMETERS);

        let over: Vec<Value> = (0..65_536).map(Value::Int).collect();
        let e = render(
            &filtered(Cond::In(o("id"), over.clone(), false)),
            &mariadb(),
        )
        .unwrap_err();
        assert_eq!(e, RenderError::TooManyParameters(65_536));
        assert!(e.to_string().contains("65,535"), "{e}");

        // LIMIT counts too.
        let q = Query {
            limit: Some(1),
            ..filtered(Cond::In(o("id"), over[..65_535].to_vec(), false))
        };
        assert_eq!(
            render(&q, &mariadb()),
            Err(RenderError::TooManyParameters(65_536))
        );
        assert!(render_count(&q, &mariadb()).is_err());
        assert!(render_exists(&q, &mariadb()).is_err());
    }

    #[test]
    fn into_error_names_the_relation() {
        assert!(matches!(
            RenderError::TooManyParameters(70_000).into_error("posts"),
            Error::TooManyParameters { relation, count: 70_000 } if relation == "posts"
        ));
        let e = RenderError::EmptySelect.into_error("posts");
        assert!(matches!(&e, Error::InvalidQuery { relation, .. } if relation == "posts"));
        assert!(e.to_string().contains("selects no columns"), "{e}");
    }

    #[test]
    fn values_never_reach_the_sql_text() {
        let tricky = [
            "",
            "plain",
            "'; DROP TABLE x; --",
            "\"; DROP TABLE x; --",
            "` OR 1=1 -- ",
            "\\",
            "\\'",
            "it's",
            "a\0b",
            "\u{1F600}\u{1F4A9}",
            "?",
            "%_",
            "\n\r\t",
            "SELECT * FROM posts",
            "/* comment */",
        ];
        let shape = |v: &str| {
            let value = Value::from(v);
            let q = Query {
                filter: Some(Cond::And(vec![
                    Cond::Cmp(o("url"), CmpOp::Eq, value.clone()),
                    Cond::Cmp(o("url"), CmpOp::Gt, value.clone()),
                    Cond::Like(o("url"), value.clone(), true),
                    Cond::In(o("url"), vec![value.clone(), Value::from("x")], false),
                    Cond::Not(Box::new(Cond::Or(vec![
                        Cond::Cmp(o("url"), CmpOp::Ne, value.clone()),
                        Cond::Cmp(o("data"), CmpOp::Eq, Value::Bytes(v.as_bytes().to_vec())),
                    ]))),
                ])),
                having: Some(Cond::Cmp(
                    Operand::Aggregate(Aggregate::Max, Some(c("url"))),
                    CmpOp::Eq,
                    value.clone(),
                )),
                group: vec![c("url")],
                limit: Some(u64::try_from(v.len()).unwrap() + 1),
                offset: Some(u64::try_from(v.len()).unwrap()),
                ..posts()
            };
            let r = render(&q, &mysql()).unwrap();
            assert_eq!(r.binds.len(), 10);
            assert_eq!(r.binds[0], value);
            // (A lone `?` is every placeholder.)
            if v.len() > 1 {
                assert!(!r.sql.contains(v), "{v:?} in {}", r.sql);
            }
            let count = render_count(&q, &mysql()).unwrap();
            let exists = render_exists(&q, &mysql()).unwrap();
            (r.sql, count.sql, exists.sql)
        };
        let first = shape(tricky[0]);
        for v in &tricky[1..] {
            assert_eq!(shape(v), first, "{v:?} changed the SQL");
        }
    }

    #[test]
    fn same_shape_same_sql_for_every_value_kind() {
        let values = [
            Value::Bool(true),
            Value::Int(-1),
            Value::UInt(u64::MAX),
            Value::Float(f64::NAN),
            Value::Decimal("12.50".into()),
            Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            Value::Time(-1),
            Value::Json(serde_json::json!({"a": "'"})),
        ];
        let sql = |v: &Value| ok(&filtered(Cond::Cmp(o("x"), CmpOp::Ge, v.clone()))).sql;
        for v in &values {
            assert_eq!(
                sql(v),
                "SELECT `posts`.`id`, `posts`.`url` FROM `posts` WHERE `posts`.`x` >= ?"
            );
        }
    }

    #[test]
    fn in_subquery_renders_the_inner_select_on_its_own_table() {
        let mut companies = query("companies", &["id"]);
        companies.filter = Some(eq("state", "running"));
        companies.order = std::sync::Arc::new(vec![OrderItem {
            column: c("id"),
            descending: false,
        }]);
        let mut posts = posts();
        posts.filter = Some(Cond::And(vec![
            eq("se_post", true),
            Cond::InQuery(o("company_id"), Box::new(companies.clone())),
        ]));
        let r = ok(&posts);
        assert_eq!(
            r.sql,
            "SELECT `posts`.`id`, `posts`.`url` FROM `posts` WHERE `posts`.`se_post` = ? AND \
             `posts`.`company_id` IN (SELECT `companies`.`id` FROM `companies` WHERE \
             `companies`.`state` = ?)"
        );
        assert_eq!(r.binds, vec![Value::Bool(true), Value::from("running")]);
        // LIMIT inside IN (...) is refused by MySQL: a derived table instead.
        companies.limit = Some(2);
        posts.filter = Some(Cond::InQuery(o("company_id"), Box::new(companies)));
        let r = ok(&posts);
        assert_eq!(
            r.sql,
            "SELECT `posts`.`id`, `posts`.`url` FROM `posts` WHERE `posts`.`company_id` IN \
             (SELECT `t`.`c1` FROM (SELECT `companies`.`id` AS `c1` FROM `companies` WHERE \
             `companies`.`state` = ? ORDER BY `companies`.`id` ASC LIMIT ?) AS `t`)"
        );
        assert_eq!(r.binds, vec![Value::from("running"), Value::Int(2)]);
    }

    #[test]
    fn render_condition_for_write_statements() {
        let mut sql = String::from("DELETE FROM `posts` WHERE ");
        let mut binds = vec![Value::Int(0)];
        render_condition(
            "posts",
            &Cond::Or(vec![eq("a", 1), Cond::In(o("b"), vec![], false)]),
            &mut sql,
            &mut binds,
        )
        .unwrap();
        assert_eq!(sql, "DELETE FROM `posts` WHERE `posts`.`a` = ? OR 1 = 0");
        assert_eq!(binds, vec![Value::Int(0), Value::Int(1)]);
    }
}
