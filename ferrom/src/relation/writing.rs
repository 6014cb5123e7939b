//! A relation as the target of a write (crate-private: commands are the one
//! public write path, so no write skips their plugins).
//!
//! What a restriction selects ([`Target`]), and the statements commands
//! send through it: `SELECT ... FOR UPDATE` of the relation's own rows,
//! `SELECT` / `UPDATE` / `DELETE` by key values, `DELETE` by the relation's
//! condition. Identifiers come from the schema and are quoted; every value
//! is bound.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use smallvec::SmallVec;

use super::Relation;
use super::query::{
    CmpOp, ColumnRef, Cond, Lock, LockMode, LockWait, Operand, Query, Rendered, SelectItem, SqlText,
};
use super::sql::{self, MAX_PARAMETERS, push_identifier, render_condition};
use crate::command::CommandRegistries;
use crate::error::{Error, Result};
use crate::value::Value;

/// Which rows a restricted relation selects, as far as a write cares.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Target {
    /// Every row: no condition, no limit.
    All,
    /// Exactly the row with this primary key (`by_pk`): one value per key
    /// column, in key order.
    ByPk(Vec<Value>),
    /// The rows a condition on the table's own columns selects.
    Filter,
    /// Anything else (joins, a limit or offset): the rows are found by a
    /// locking `SELECT` first.
    Complex,
}

impl Relation {
    /// Every relation's command registry, shared by the container.
    pub(crate) fn command_registries(&self) -> &Arc<CommandRegistries> {
        &self.inner.commands
    }

    /// What this relation's restriction selects.
    ///
    /// # Errors
    ///
    /// A builder error the relation kept; [`Error::InvalidQuery`] for a
    /// grouped or aggregated relation, whose rows are not table rows.
    pub(crate) fn write_target(&self) -> Result<Target> {
        self.check()?;
        let q = &self.query;
        if !q.group.is_empty()
            || q.having.is_some()
            || q.select
                .iter()
                .any(|s| matches!(s, SelectItem::Aggregate(..)))
        {
            return Err(Error::InvalidQuery {
                relation: self.name().to_string(),
                reason: "a grouped or aggregated relation cannot be written to; restrict it with conditions instead".into(),
            });
        }
        if !q.joins.is_empty() || q.limit.is_some() || q.offset.is_some() {
            return Ok(Target::Complex);
        }
        Ok(match &q.filter {
            None => Target::All,
            Some(cond) => match self.pk_equality(cond) {
                Some(key) => Target::ByPk(key.into_iter().cloned().collect()),
                None => Target::Filter,
            },
        })
    }

    /// The key values when `cond` is exactly "each primary-key column
    /// equals a value".
    pub(crate) fn pk_equality<'c>(&self, cond: &'c Cond) -> Option<KeyValues<'c>> {
        let pk = self.schema().primary_key_iter();
        if pk.len() == 0 {
            return None;
        }
        let mut found: SmallVec<[Option<&Value>; 2]> = smallvec::smallvec![None; pk.len()];
        let mut pending: SmallVec<[&Cond; 4]> = smallvec::smallvec![cond];
        while let Some(c) = pending.pop() {
            match c {
                Cond::And(items) => pending.extend(items),
                Cond::Cmp(Operand::Column(col), CmpOp::Eq, value)
                    if col.table.is_none()
                        && !value.is_null()
                        && !matches!(value, Value::List(_)) =>
                {
                    let at = pk.clone().position(|p| *p == *col.column)?;
                    if found[at].is_some() {
                        return None;
                    }
                    found[at] = Some(value);
                }
                _ => return None,
            }
        }
        found.into_iter().collect()
    }

    /// The relation as its table's plain key lookup, when it is one: every
    /// attribute, a condition "each primary-key column equals a value", no
    /// join, grouping or lock, and no limit or offset that could leave the
    /// row out (its order does not matter for one row). Its SQL is
    /// rendered once per relation and reused; the key values are bound in
    /// primary-key order.
    pub(crate) fn key_lookup(&self) -> Option<Rendered> {
        let q = &self.query;
        let bare = &self.bare;
        let plain = q.joins.is_empty()
            && q.group.is_empty()
            && q.having.is_none()
            && q.limit.is_none_or(|l| l >= 1)
            && q.offset.is_none_or(|o| o == 0)
            && q.lock.is_none()
            && !q.distinct
            && q.table == bare.table
            && super::same_select(&q.select, &bare.select);
        if !plain {
            return None;
        }
        let binds = self
            .pk_equality(q.filter.as_ref()?)?
            .into_iter()
            .cloned()
            .collect();
        let sql = SqlText::Shared(self.key_lookup_sql()?.clone());
        Some(Rendered { sql, binds })
    }

    /// The SQL of the key lookup, rendered on first use.
    fn key_lookup_sql(&self) -> Option<&Arc<str>> {
        self.inner
            .shared
            .key_lookup
            .get_or_init(|| {
                let pk = self.schema().primary_key_names();
                let mut cmps: Vec<Cond> = pk
                    .iter()
                    .map(|c| {
                        Cond::Cmp(
                            Operand::Column(ColumnRef::new(None, c)),
                            CmpOp::Eq,
                            Value::Int(0),
                        )
                    })
                    .collect();
                let mut query = self.bare_query();
                query.filter = Some(match cmps.len() {
                    0 => return None,
                    1 => cmps.remove(0),
                    _ => Cond::And(cmps),
                });
                sql::render_rows(&query, self.gateway().capabilities(), true)
                    .ok()
                    .map(|r| Arc::from(&*r.sql))
            })
            .as_ref()
    }

    /// A query over the table's every attribute with no condition and no
    /// order.
    fn bare_query(&self) -> Query {
        (*self.bare).clone()
    }

    /// `SELECT <columns> ... FOR UPDATE` of the relation's own rows (its
    /// conditions, joins, order and limit), selecting `columns` of its table
    /// or, with `None`, every attribute.
    ///
    /// # Errors
    ///
    /// As [`Relation::to_sql`].
    pub(crate) fn render_locked_select(&self, columns: Option<&[String]>) -> Result<Rendered> {
        self.check()?;
        let mut query = (*self.query).clone();
        query.select = match columns {
            Some(columns) => Arc::new(
                columns
                    .iter()
                    .map(|c| SelectItem::Column(ColumnRef::new(None, c), None))
                    .collect(),
            ),
            None => self.bare.select.clone(),
        };
        query.distinct = false;
        query.lock = Some(Lock {
            mode: LockMode::Update,
            wait: LockWait::Wait,
        });
        sql::render(&query, self.gateway().capabilities()).map_err(|e| e.into_error(self.name()))
    }

    /// `SELECT <every attribute> WHERE <key> IN <keys>`, in primary-key
    /// order. The caller keeps `keys` within [`key_batch`].
    ///
    /// # Errors
    ///
    /// [`Error::TooManyParameters`] when `keys` is too long.
    pub(crate) fn render_select_by_keys(
        &self,
        key: &[String],
        keys: &[Vec<Value>],
    ) -> Result<Rendered> {
        // One primary key value: the key lookup.
        if let [one] = keys
            && key == self.schema().primary_key_columns()
            && let Some(sql) = self.key_lookup_sql()
        {
            return Ok(Rendered {
                sql: SqlText::Shared(sql.clone()),
                binds: one.clone(),
            });
        }
        let mut query = self.bare_query();
        query.filter = Some(keys_condition(key, keys));
        // One full key value is one row at most: no ORDER BY (a plain key
        // lookup for the server).
        let single_row = keys.len() == 1;
        query.order = Arc::new(super::primary_key_order(self.schema()));
        sql::render_rows(&query, self.gateway().capabilities(), single_row)
            .map_err(|e| e.into_error(self.name()))
    }

    /// `UPDATE <table> SET <set> WHERE <key> IN <keys>`.
    ///
    /// # Errors
    ///
    /// As [`Relation::render_select_by_keys`]; [`Error::InvalidQuery`] when
    /// `set` is empty.
    ///
    /// The text of an update of one row by its primary key depends only on
    /// the attributes set: it is rendered once per list of attributes and
    /// shared (see [`SharedStatements`]).
    pub(crate) fn render_update(
        &self,
        set: &[Assignment<'_>],
        key: &[String],
        keys: &[Vec<Value>],
    ) -> Result<Rendered> {
        if set.is_empty() {
            return Err(Error::InvalidQuery {
                relation: self.name().to_string(),
                reason: "an update needs at least one attribute to set".into(),
            });
        }
        let by_key = match keys {
            [one]
                if one
                    .iter()
                    .all(|v| !v.is_null() && !matches!(v, Value::List(_))) =>
            {
                (key == self.schema().primary_key_columns()).then_some(one)
            }
            _ => None,
        };
        let mut binds = Vec::with_capacity(set.len() + keys.len() * key.len());
        binds.extend(set.iter().map(|(_, value)| (*value).clone()));
        if let Some(one) = by_key
            && let Some(sql) = self.inner.shared.update_by_key(set)
        {
            binds.extend(one.iter().cloned());
            return self.finish(SqlText::Shared(sql), binds);
        }
        let mut text = String::with_capacity(64 + 16 * set.len());
        text.push_str("UPDATE ");
        push_identifier(&mut text, self.schema().table());
        text.push_str(" SET ");
        for (i, (name, _)) in set.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            push_identifier(&mut text, name);
            text.push_str(" = ?");
        }
        text.push_str(" WHERE ");
        self.push_condition(&keys_condition(key, keys), &mut text, &mut binds)?;
        let sql = match by_key {
            Some(_) => self.inner.shared.keep_update_by_key(set, text),
            None => SqlText::Owned(text),
        };
        self.finish(sql, binds)
    }

    /// `DELETE FROM <table>` with the relation's own condition (`by_keys`
    /// `None`; none at all for an unrestricted relation) or by key values,
    /// and `RETURNING` every attribute when `returning` (MariaDB).
    ///
    /// # Errors
    ///
    /// As [`Relation::render_select_by_keys`].
    pub(crate) fn render_delete(
        &self,
        by_keys: Option<(&[String], &[Vec<Value>])>,
        returning: bool,
    ) -> Result<Rendered> {
        self.check()?;
        let mut text = String::with_capacity(64);
        let mut binds = Vec::new();
        text.push_str("DELETE FROM ");
        push_identifier(&mut text, self.schema().table());
        let cond = match by_keys {
            Some((key, keys)) => Some(keys_condition(key, keys)),
            None => self.query.filter.clone(),
        };
        if let Some(cond) = cond {
            text.push_str(" WHERE ");
            self.push_condition(&cond, &mut text, &mut binds)?;
        }
        if returning {
            text.push_str(" RETURNING ");
            for (i, a) in self.schema().attributes().iter().enumerate() {
                if i > 0 {
                    text.push_str(", ");
                }
                push_identifier(&mut text, &a.name);
            }
        }
        self.finish(text.into(), binds)
    }

    fn push_condition(&self, cond: &Cond, text: &mut String, binds: &mut Vec<Value>) -> Result<()> {
        render_condition(self.schema().table(), cond, text, binds)
            .map_err(|e| e.into_error(self.name()))
    }

    fn finish(&self, sql: SqlText, binds: Vec<Value>) -> Result<Rendered> {
        if binds.len() > MAX_PARAMETERS {
            return Err(Error::TooManyParameters {
                relation: self.name().to_string(),
                count: binds.len(),
            });
        }
        Ok(Rendered { sql, binds })
    }
}

/// The values of a primary key, in key order (held inline for keys of up
/// to two columns).
pub(crate) type KeyValues<'a> = SmallVec<[&'a Value; 2]>;

/// One attribute an update sets: its name and new value.
pub(crate) type Assignment<'a> = (&'a str, &'a Value);

/// How many lists of attributes a relation keeps the update-by-key text of;
/// updates of further lists are rendered each time.
const SHARED_UPDATES: usize = 32;

/// Statements a relation renders once and shares between its calls and
/// clones: their text only depends on the schema (and, for an update, on
/// which attributes it sets), the values are bound.
#[derive(Debug, Default)]
pub(crate) struct SharedStatements {
    /// The table's key lookup (see [`Relation::key_lookup`]), rendered on
    /// first use; `None` for a table without a primary key.
    key_lookup: OnceLock<Option<Arc<str>>>,
    /// `UPDATE <table> SET <attributes> WHERE <primary key> = ?`, by the
    /// attributes set, in order (at most [`SHARED_UPDATES`] lists).
    updates_by_key: Mutex<Vec<(Vec<String>, Arc<str>)>>,
}

impl SharedStatements {
    /// The update-by-key text setting `set`'s attributes, if kept.
    fn update_by_key(&self, set: &[Assignment<'_>]) -> Option<Arc<str>> {
        let updates = self
            .updates_by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        updates
            .iter()
            .find(|(names, _)| {
                names
                    .iter()
                    .map(String::as_str)
                    .eq(set.iter().map(|(n, _)| *n))
            })
            .map(|(_, sql)| Arc::clone(sql))
    }

    /// Keeps `text`, the update-by-key text setting `set`'s attributes,
    /// while there is room.
    fn keep_update_by_key(&self, set: &[Assignment<'_>], text: String) -> SqlText {
        let mut updates = self
            .updates_by_key
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if updates.len() >= SHARED_UPDATES {
            return SqlText::Owned(text);
        }
        let sql: Arc<str> = Arc::from(text);
        updates.push((
            set.iter().map(|(n, _)| (*n).to_string()).collect(),
            Arc::clone(&sql),
        ));
        SqlText::Shared(sql)
    }
}

/// How many keys of `key_len` columns fit one statement that binds `other`
/// values besides them.
pub(crate) fn key_batch(key_len: usize, other: usize) -> usize {
    (MAX_PARAMETERS.saturating_sub(other) / key_len.max(1)).max(1)
}

/// `key IN (...)` for a one-column key, `(a = ? AND b = ?) OR ...` for a
/// composite one.
fn keys_condition(key: &[String], keys: &[Vec<Value>]) -> Cond {
    let column = |name: &str| Operand::Column(ColumnRef::new(None, name));
    match (key, keys) {
        ([only], [one]) => Cond::Cmp(
            column(only),
            CmpOp::Eq,
            one.first().cloned().unwrap_or(Value::Null),
        ),
        ([only], _) => Cond::In(
            column(only),
            keys.iter()
                .map(|k| k.first().cloned().unwrap_or(Value::Null))
                .collect(),
            false,
        ),
        (_, _) => Cond::Or(
            keys.iter()
                .map(|k| {
                    Cond::And(
                        key.iter()
                            .zip(k)
                            .map(|(c, v)| Cond::Cmp(column(c), CmpOp::Eq, v.clone()))
                            .collect(),
                    )
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_batches_leave_room_for_other_values() {
        assert_eq!(key_batch(1, 0), MAX_PARAMETERS);
        assert_eq!(key_batch(2, 1), (MAX_PARAMETERS - 1) / 2);
        assert_eq!(key_batch(0, MAX_PARAMETERS + 5), 1);
    }

    /// An update by key of the same attributes, in the same order, shares
    /// its text; another list, or the same attributes in another order,
    /// has its own; past the limit, texts are rendered and not kept.
    #[test]
    fn updates_by_key_share_their_text_by_attribute_list() {
        let shared = SharedStatements::default();
        let (a, b) = (Value::Int(1), Value::from("x"));
        let error_then_views = [("error", &b), ("views", &a)];
        assert!(shared.update_by_key(&error_then_views).is_none());
        let SqlText::Shared(kept) = shared.keep_update_by_key(&error_then_views, "UPDATE 1".into())
        else {
            panic!("the first text of a list is kept");
        };
        let again = shared
            .update_by_key(&[("error", &a), ("views", &b)])
            .unwrap();
        assert!(Arc::ptr_eq(&kept, &again));
        assert!(
            shared
                .update_by_key(&[("views", &a), ("error", &b)])
                .is_none()
        );
        assert!(shared.update_by_key(&[("error", &a)]).is_none());
        let names: Vec<String> = (0..SHARED_UPDATES).map(|i| format!("c{i}")).collect();
        for name in &names[1..] {
            let set = [(name.as_str(), &a)];
            assert!(matches!(
                shared.keep_update_by_key(&set, format!("UPDATE {name}")),
                SqlText::Shared(_)
            ));
        }
        let over = [("over", &a)];
        assert!(matches!(
            shared.keep_update_by_key(&over, "UPDATE over".into()),
            SqlText::Owned(text) if text == "UPDATE over"
        ));
        assert!(shared.update_by_key(&over).is_none());
        assert_eq!(
            &*shared.update_by_key(&error_then_views).unwrap(),
            "UPDATE 1"
        );
    }

    #[test]
    fn composite_keys_become_ors_of_ands() {
        let key = ["a".to_string(), "b".to_string()];
        let cond = keys_condition(
            &key,
            &[
                vec![Value::Int(1), "x".into()],
                vec![Value::Int(2), "y".into()],
            ],
        );
        let mut text = String::new();
        let mut binds = Vec::new();
        render_condition("m", &cond, &mut text, &mut binds).unwrap();
        assert_eq!(
            text,
            "(`m`.`a` = ? AND `m`.`b` = ?) OR (`m`.`a` = ? AND `m`.`b` = ?)"
        );
        assert_eq!(binds.len(), 4);
        let cond = keys_condition(&key[..1], &[vec![Value::Int(1)], vec![Value::Int(2)]]);
        let mut text = String::new();
        render_condition("m", &cond, &mut text, &mut Vec::new()).unwrap();
        assert_eq!(text, "`m`.`a` IN (?, ?)");
    }
}
