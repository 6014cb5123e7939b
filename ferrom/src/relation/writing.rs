//! A relation as the target of a write (crate-private: commands are the one
//! public write path, so no write skips their plugins).
//!
//! What a restriction selects ([`Target`]), and the statements commands
//! send through it: `SELECT ... FOR UPDATE` of the relation's own rows,
//! `SELECT` / `UPDATE` / `DELETE` by key values, `DELETE` by the relation's
//! condition. Identifiers come from the schema and are quoted; every value
//! is bound.

use std::sync::Arc;

use super::Relation;
use super::query::{
    CmpOp, ColumnRef, Cond, Lock, LockMode, LockWait, Operand, Query, Rendered, SelectItem,
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
    pub(crate) fn pk_equality<'c>(&self, cond: &'c Cond) -> Option<Vec<&'c Value>> {
        let pk = self.schema().primary_key_names();
        if pk.is_empty() {
            return None;
        }
        let mut found: Vec<Option<&Value>> = vec![None; pk.len()];
        let mut pending = vec![cond];
        while let Some(c) = pending.pop() {
            match c {
                Cond::And(items) => pending.extend(items),
                Cond::Cmp(Operand::Column(col), CmpOp::Eq, value)
                    if col.table.is_none()
                        && !value.is_null()
                        && !matches!(value, Value::List(_)) =>
                {
                    let at = pk.iter().position(|p| **p == *col.column)?;
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
        let sql = self.key_lookup_sql()?.to_string();
        Some(Rendered { sql, binds })
    }

    /// The SQL of the key lookup, rendered on first use.
    fn key_lookup_sql(&self) -> Option<&str> {
        self.inner
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
                    .map(|r| r.sql)
            })
            .as_deref()
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
            && key
                .iter()
                .map(String::as_str)
                .eq(self.schema().primary_key_names())
            && let Some(sql) = self.key_lookup_sql()
        {
            return Ok(Rendered {
                sql: sql.to_string(),
                binds: one.clone(),
            });
        }
        let mut query = self.bare_query();
        query.filter = Some(keys_condition(key, keys));
        // One full key value is one row at most: no ORDER BY (a plain key
        // lookup for the server).
        let single_row = keys.len() == 1;
        query.order = self
            .schema()
            .primary_key_names()
            .into_iter()
            .map(|c| super::query::OrderItem {
                column: ColumnRef::new(None, c),
                descending: false,
            })
            .collect();
        sql::render_rows(&query, self.gateway().capabilities(), single_row)
            .map_err(|e| e.into_error(self.name()))
    }

    /// `UPDATE <table> SET <set> WHERE <key> IN <keys>`.
    ///
    /// # Errors
    ///
    /// As [`Relation::render_select_by_keys`]; [`Error::InvalidQuery`] when
    /// `set` is empty.
    pub(crate) fn render_update(
        &self,
        set: &[(String, Value)],
        key: &[String],
        keys: &[Vec<Value>],
    ) -> Result<Rendered> {
        if set.is_empty() {
            return Err(Error::InvalidQuery {
                relation: self.name().to_string(),
                reason: "an update needs at least one attribute to set".into(),
            });
        }
        let mut text = String::with_capacity(64 + 16 * set.len());
        let mut binds = Vec::with_capacity(set.len() + keys.len() * key.len());
        text.push_str("UPDATE ");
        push_identifier(&mut text, self.schema().table());
        text.push_str(" SET ");
        for (i, (name, value)) in set.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            push_identifier(&mut text, name);
            text.push_str(" = ?");
            binds.push(value.clone());
        }
        text.push_str(" WHERE ");
        self.push_condition(&keys_condition(key, keys), &mut text, &mut binds)?;
        self.finish(text, binds)
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
        self.finish(text, binds)
    }

    fn push_condition(&self, cond: &Cond, text: &mut String, binds: &mut Vec<Value>) -> Result<()> {
        render_condition(self.schema().table(), cond, text, binds)
            .map_err(|e| e.into_error(self.name()))
    }

    fn finish(&self, sql: String, binds: Vec<Value>) -> Result<Rendered> {
        if binds.len() > MAX_PARAMETERS {
            return Err(Error::TooManyParameters {
                relation: self.name().to_string(),
                count: binds.len(),
            });
        }
        Ok(Rendered { sql, binds })
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
