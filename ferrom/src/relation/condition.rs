//! Conditions as users write them: attribute names not yet checked, values
//! not yet bound.
//!
//! ```
//! use ferrom::{attr, Condition};
//!
//! // where(company_id: [1, 2, 3]).exclude(se_post: true)
//! let c: Condition = attr("company_id").in_list([1, 2, 3]) & !attr("se_post").eq(true);
//! // hash style: ("url", "http://example.com/a") is url = '...'
//! let d: Condition = ("url", "http://example.com/a").into();
//! let either = c | d;
//! # let _ = either;
//! ```

use std::ops::{BitAnd, BitOr, Not};

use crate::value::Value;

use super::query::{Aggregate, CmpOp};

/// What a condition is about: an attribute (`"id"`, or `"company.name"`
/// through a join) or an aggregate of one (for `having`).
#[derive(Clone, Debug, PartialEq)]
pub enum Subject {
    /// An attribute, optionally qualified by a joined association.
    Attribute(String),
    /// `COUNT(*)`.
    CountAll,
    /// An aggregate function of an attribute.
    Aggregate(AggregateFn, String),
}

/// Aggregate functions for `having` and `select_append`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregateFn {
    /// `COUNT(attr)`.
    Count,
    /// `SUM(attr)`.
    Sum,
    /// `MIN(attr)`.
    Min,
    /// `MAX(attr)`.
    Max,
    /// `AVG(attr)`.
    Avg,
}

impl AggregateFn {
    pub(crate) fn to_query(self) -> Aggregate {
        match self {
            AggregateFn::Count => Aggregate::Count,
            AggregateFn::Sum => Aggregate::Sum,
            AggregateFn::Min => Aggregate::Min,
            AggregateFn::Max => Aggregate::Max,
            AggregateFn::Avg => Aggregate::Avg,
        }
    }
}

/// A condition over a relation's attributes.
///
/// Build one with [`attr`] (comparisons), from an `(attribute, value)` pair
/// (equality, `IN` for a list, `IS NULL` for NULL), and combine with `&`,
/// `|` and `!`.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// `subject op value`.
    Compare(Subject, Comparison, Value),
    /// `subject IN (values)` (negated: `NOT IN`).
    In(Subject, Vec<Value>, bool),
    /// `subject IS NULL` (negated: `IS NOT NULL`).
    IsNull(Subject, bool),
    /// `subject LIKE pattern` (negated: `NOT LIKE`).
    Like(Subject, Value, bool),
    /// All of them.
    All(Vec<Condition>),
    /// Any of them.
    Any(Vec<Condition>),
    /// The negation.
    Not(Box<Condition>),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Comparison {
    pub(crate) fn to_query(self) -> CmpOp {
        match self {
            Comparison::Eq => CmpOp::Eq,
            Comparison::Ne => CmpOp::Ne,
            Comparison::Lt => CmpOp::Lt,
            Comparison::Le => CmpOp::Le,
            Comparison::Gt => CmpOp::Gt,
            Comparison::Ge => CmpOp::Ge,
        }
    }
}

/// A reference to an attribute, to build conditions and order keys from.
#[derive(Clone, Debug, PartialEq)]
pub struct Attr(pub(crate) Subject);

/// The attribute `name` (`"id"`, or `"company.name"` for a joined
/// association's attribute).
pub fn attr(name: &str) -> Attr {
    Attr(Subject::Attribute(name.to_string()))
}

/// `COUNT(*)`, for `having`.
pub fn count_all() -> Attr {
    Attr(Subject::CountAll)
}

/// An aggregate of an attribute, for `having` (`aggregate(AggregateFn::Sum, "views").gt(10)`).
pub fn aggregate(function: AggregateFn, name: &str) -> Attr {
    Attr(Subject::Aggregate(function, name.to_string()))
}

impl Attr {
    fn cmp(self, op: Comparison, value: impl Into<Value>) -> Condition {
        Condition::Compare(self.0, op, value.into())
    }

    /// `= value` (`IS NULL` for NULL).
    pub fn eq(self, value: impl Into<Value>) -> Condition {
        self.cmp(Comparison::Eq, value)
    }

    /// `<> value` (`IS NOT NULL` for NULL).
    pub fn ne(self, value: impl Into<Value>) -> Condition {
        self.cmp(Comparison::Ne, value)
    }

    /// `< value`.
    pub fn lt(self, value: impl Into<Value>) -> Condition {
        self.cmp(Comparison::Lt, value)
    }

    /// `<= value`.
    pub fn le(self, value: impl Into<Value>) -> Condition {
        self.cmp(Comparison::Le, value)
    }

    /// `> value`.
    pub fn gt(self, value: impl Into<Value>) -> Condition {
        self.cmp(Comparison::Gt, value)
    }

    /// `>= value`.
    pub fn ge(self, value: impl Into<Value>) -> Condition {
        self.cmp(Comparison::Ge, value)
    }

    /// `IN (values)`; an empty list matches nothing.
    pub fn in_list<I, V>(self, values: I) -> Condition
    where
        I: IntoIterator<Item = V>,
        V: Into<Value>,
    {
        Condition::In(self.0, values.into_iter().map(Into::into).collect(), false)
    }

    /// `NOT IN (values)`; an empty list matches everything.
    pub fn not_in<I, V>(self, values: I) -> Condition
    where
        I: IntoIterator<Item = V>,
        V: Into<Value>,
    {
        Condition::In(self.0, values.into_iter().map(Into::into).collect(), true)
    }

    /// `IS NULL`.
    pub fn is_null(self) -> Condition {
        Condition::IsNull(self.0, false)
    }

    /// `IS NOT NULL`.
    pub fn not_null(self) -> Condition {
        Condition::IsNull(self.0, true)
    }

    /// `LIKE pattern` (`%` and `_` are wildcards).
    pub fn like(self, pattern: impl Into<Value>) -> Condition {
        Condition::Like(self.0, pattern.into(), false)
    }

    /// `NOT LIKE pattern`.
    pub fn not_like(self, pattern: impl Into<Value>) -> Condition {
        Condition::Like(self.0, pattern.into(), true)
    }

    /// Ascending order on this attribute.
    pub fn asc(self) -> OrderKey {
        OrderKey {
            subject: self.0,
            descending: false,
        }
    }

    /// Descending order on this attribute.
    pub fn desc(self) -> OrderKey {
        OrderKey {
            subject: self.0,
            descending: true,
        }
    }
}

/// One key of `order(...)`: an attribute name orders ascending, and
/// [`Attr::desc`] descending.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderKey {
    pub(crate) subject: Subject,
    pub(crate) descending: bool,
}

impl From<&str> for OrderKey {
    fn from(name: &str) -> Self {
        attr(name).asc()
    }
}

impl From<String> for OrderKey {
    fn from(name: String) -> Self {
        attr(&name).asc()
    }
}

impl From<Attr> for OrderKey {
    fn from(a: Attr) -> Self {
        a.asc()
    }
}

impl Condition {
    /// Both conditions.
    #[must_use]
    pub fn and(self, other: Condition) -> Condition {
        match self {
            Condition::All(mut items) => {
                items.push(other);
                Condition::All(items)
            }
            first => Condition::All(vec![first, other]),
        }
    }

    /// Either condition.
    #[must_use]
    pub fn or(self, other: Condition) -> Condition {
        match self {
            Condition::Any(mut items) => {
                items.push(other);
                Condition::Any(items)
            }
            first => Condition::Any(vec![first, other]),
        }
    }

    /// Equality on every pair, as ROM's `where(a: 1, b: 2)`.
    pub fn from_pairs<I, K, V>(pairs: I) -> Condition
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<Value>,
    {
        Condition::All(
            pairs
                .into_iter()
                .map(|(k, v)| Condition::from((k.as_ref(), v.into())))
                .collect(),
        )
    }
}

impl<V: Into<Value>> From<(&str, V)> for Condition {
    /// `(name, value)`: equality; a list is `IN`, NULL is `IS NULL`.
    fn from((name, value): (&str, V)) -> Self {
        match value.into() {
            Value::List(items) => attr(name).in_list(items),
            Value::Null => attr(name).is_null(),
            v => attr(name).eq(v),
        }
    }
}

impl BitAnd for Condition {
    type Output = Condition;
    fn bitand(self, rhs: Condition) -> Condition {
        self.and(rhs)
    }
}

impl BitOr for Condition {
    type Output = Condition;
    fn bitor(self, rhs: Condition) -> Condition {
        self.or(rhs)
    }
}

impl Not for Condition {
    type Output = Condition;
    fn not(self) -> Condition {
        Condition::Not(Box::new(self))
    }
}
