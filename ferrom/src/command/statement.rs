//! `INSERT` statements: multi-row `VALUES`, `DEFAULT` for what a row does
//! not give, `ON DUPLICATE KEY UPDATE` and `RETURNING`.
//!
//! Identifiers come from the schema (the input was checked against it) and
//! are quoted; values are bound. `DEFAULT` is a keyword, not a value, so a
//! row without an attribute others give gets its column default without a
//! second statement shape per attribute set.

use sqlx::Arguments;
use sqlx::mysql::MySqlArguments;

use crate::bind::bind_value;
use crate::error::Result;
use crate::relation::sql::MAX_PARAMETERS;
use crate::relation::sql::push_identifier;
use crate::value::Value;

use super::input::{Entry, Tuple};

/// The alias of the inserted row in MySQL 8.0.19's `ON DUPLICATE KEY
/// UPDATE` (`INSERT ... AS ferrom_new ... c = ferrom_new.c`).
const ROW_ALIAS: &str = "ferrom_new";

/// What an `INSERT` does when a row collides with a unique key.
#[derive(Clone, Copy, Debug)]
pub(crate) enum OnConflict<'a> {
    /// Fails (a create).
    Fail,
    /// Updates these columns to the inserted row's values.
    Update {
        /// The columns to update.
        columns: &'a [String],
        /// Refer to the inserted row through a row alias (MySQL 8.0.19+)
        /// rather than `VALUES(col)`.
        row_alias: bool,
        /// An auto-increment key column to report through
        /// `LAST_INSERT_ID(col)`, so that the statement's insert id names
        /// the row whether it was inserted or updated.
        report_id: Option<&'a str>,
    },
    /// Keeps the existing row: `col = col`, a no-op.
    Keep {
        /// The column assigned to itself.
        column: &'a str,
        /// Assign it through `LAST_INSERT_ID(col)` (see `Update`).
        report_id: bool,
    },
}

/// An `INSERT` ready to send: its SQL, and its values already encoded.
#[derive(Debug)]
pub(crate) struct Insert {
    pub(crate) sql: String,
    pub(crate) args: MySqlArguments,
    /// It ends in `RETURNING`: it answers with rows.
    pub(crate) returning: bool,
}

/// Where an insert's values go as it is rendered.
pub(crate) trait Binds {
    /// Takes the next value.
    ///
    /// # Errors
    ///
    /// As [`bind_value`].
    fn bind(&mut self, value: &Value) -> Result<()>;
}

/// Encoded straight from the tuples: no copy of the values in between.
impl Binds for MySqlArguments {
    fn bind(&mut self, value: &Value) -> Result<()> {
        bind_value(self, value)
    }
}

/// Collected, to look at.
impl Binds for Vec<Value> {
    fn bind(&mut self, value: &Value) -> Result<()> {
        self.push(value.clone());
        Ok(())
    }
}

/// How many rows of `columns` columns fit one statement.
pub(crate) fn rows_per_statement(columns: usize) -> usize {
    (MAX_PARAMETERS / columns.max(1)).max(1)
}

/// `INSERT INTO table (columns) VALUES (...), ...` for `rows`, each row
/// giving a value (`?`) or `DEFAULT` for each column, then the conflict
/// clause and `RETURNING returning` when given; the values encoded as the
/// statement's arguments.
///
/// # Errors
///
/// As [`bind_value`], for a value that cannot be a parameter.
pub(crate) fn render_insert(
    table: &str,
    columns: &[String],
    rows: &[Tuple],
    on_conflict: OnConflict<'_>,
    returning: Option<&[String]>,
) -> Result<Insert> {
    let mut args = MySqlArguments::default();
    // At most one value per row and column (exact for full rows), without
    // a pass over the rows.
    let values = rows.len() * columns.len();
    Arguments::reserve(&mut args, values, values * 8);
    let sql = render_insert_into(table, columns, rows, on_conflict, returning, &mut args)?;
    Ok(Insert {
        sql,
        args,
        returning: returning.is_some(),
    })
}

/// [`render_insert`], giving the values to `binds` in placeholder order.
pub(crate) fn render_insert_into(
    table: &str,
    columns: &[String],
    rows: &[Tuple],
    on_conflict: OnConflict<'_>,
    returning: Option<&[String]>,
    binds: &mut impl Binds,
) -> Result<String> {
    let mut sql = String::with_capacity(32 + columns.len() * 16 + rows.len() * columns.len() * 3);
    sql.push_str("INSERT INTO ");
    push_identifier(&mut sql, table);
    sql.push_str(" (");
    push_list(&mut sql, columns);
    sql.push_str(") VALUES ");
    // A row that gives every column: the same placeholders each time.
    let full_row = {
        let mut row = String::with_capacity(2 + columns.len() * 3);
        row.push('(');
        for j in 0..columns.len() {
            row.push_str(if j > 0 { ", ?" } else { "?" });
        }
        row.push(')');
        row
    };
    // The column of each schema position met so far (checked values know
    // their attribute's position): one name comparison per attribute per
    // statement, not per row.
    let mut column_at: Vec<Option<usize>> = Vec::new();
    // For the current row: the entry each column takes its value from.
    let mut source: Vec<Option<usize>> = Vec::with_capacity(columns.len());
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        let entries = row.entries();
        source.clear();
        source.resize(columns.len(), None);
        for (k, entry) in entries.iter().enumerate() {
            if let Some(j) = column_of(entry, columns, &mut column_at) {
                // A name given twice (unchecked input): the first counts.
                source[j].get_or_insert(k);
            }
        }
        if source.iter().all(Option::is_some) {
            sql.push_str(&full_row);
        } else {
            sql.push('(');
            for (j, k) in source.iter().enumerate() {
                if j > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(if k.is_some() { "?" } else { "DEFAULT" });
            }
            sql.push(')');
        }
        // Each value, in column order.
        for &k in source.iter().flatten() {
            binds.bind(&entries[k].value)?;
        }
    }
    match on_conflict {
        OnConflict::Fail => {}
        OnConflict::Update {
            columns: update,
            row_alias,
            report_id,
        } => {
            if row_alias {
                sql.push_str(" AS ");
                push_identifier(&mut sql, ROW_ALIAS);
            }
            sql.push_str(" ON DUPLICATE KEY UPDATE ");
            let mut first = true;
            if let Some(id) = report_id {
                push_report_id(&mut sql, id);
                first = false;
            }
            for column in update {
                if !first {
                    sql.push_str(", ");
                }
                first = false;
                push_identifier(&mut sql, column);
                sql.push_str(" = ");
                if row_alias {
                    push_identifier(&mut sql, ROW_ALIAS);
                    sql.push('.');
                    push_identifier(&mut sql, column);
                } else {
                    sql.push_str("VALUES(");
                    push_identifier(&mut sql, column);
                    sql.push(')');
                }
            }
        }
        OnConflict::Keep { column, report_id } => {
            sql.push_str(" ON DUPLICATE KEY UPDATE ");
            if report_id {
                push_report_id(&mut sql, column);
            } else {
                push_identifier(&mut sql, column);
                sql.push_str(" = ");
                push_identifier(&mut sql, column);
            }
        }
    }
    if let Some(returning) = returning {
        sql.push_str(" RETURNING ");
        push_list(&mut sql, returning);
    }
    Ok(sql)
}

/// The column `entry` goes to: by its schema position when it has been
/// checked (remembered in `column_at` after the first lookup), else by
/// name; `None` when no column has its name.
fn column_of(
    entry: &Entry,
    columns: &[String],
    column_at: &mut Vec<Option<usize>>,
) -> Option<usize> {
    let by_name = || columns.iter().position(|c| *c == entry.name);
    let Some(at) = entry.checked() else {
        return by_name();
    };
    if let Some(Some(j)) = column_at.get(at) {
        return Some(*j);
    }
    let j = by_name();
    if column_at.len() <= at {
        column_at.resize(at + 1, None);
    }
    column_at[at] = j;
    j
}

fn push_list(sql: &mut String, names: &[String]) {
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        push_identifier(sql, name);
    }
}

fn push_report_id(sql: &mut String, column: &str) {
    push_identifier(sql, column);
    sql.push_str(" = LAST_INSERT_ID(");
    push_identifier(sql, column);
    sql.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The SQL and the values in placeholder order; the encoded arguments
    /// hold as many.
    fn render_insert(
        table: &str,
        columns: &[String],
        rows: Vec<Tuple>,
        on_conflict: OnConflict<'_>,
        returning: Option<&[String]>,
    ) -> Rendered {
        let mut binds = Vec::new();
        let sql =
            render_insert_into(table, columns, &rows, on_conflict, returning, &mut binds).unwrap();
        let encoded = super::render_insert(table, columns, &rows, on_conflict, returning).unwrap();
        assert_eq!(encoded.sql, sql);
        assert_eq!(Arguments::len(&encoded.args), binds.len());
        Rendered { sql, binds }
    }

    struct Rendered {
        sql: String,
        binds: Vec<Value>,
    }

    #[test]
    fn rows_missing_a_column_get_its_default() {
        let rows = [
            Tuple::from([("name", "A"), ("domain", "a.test")]),
            Tuple::from([("name", "B")]),
        ];
        let insert = render_insert(
            "companies",
            &names(&["name", "domain"]),
            rows.to_vec(),
            OnConflict::Fail,
            Some(&names(&["id", "name"])),
        );
        assert_eq!(
            insert.sql,
            "INSERT INTO `companies` (`name`, `domain`) VALUES (?, ?), (?, DEFAULT) RETURNING `id`, `name`"
        );
        assert_eq!(
            insert.binds,
            vec![Value::from("A"), "a.test".into(), "B".into()]
        );
    }

    #[test]
    fn checked_values_go_to_their_columns_whatever_their_order() {
        let checked = |pairs: &[(&str, usize, i64)]| {
            let mut tuple: Tuple = pairs.iter().map(|(n, _, v)| (*n, *v)).collect();
            for (entry, (_, at, _)) in tuple.entries_mut().iter_mut().zip(pairs) {
                entry.set_checked(Some(*at));
            }
            tuple
        };
        let rows = vec![
            checked(&[("c", 7, 3), ("a", 2, 1), ("b", 5, 2)]),
            checked(&[("b", 5, 5), ("c", 7, 6), ("a", 2, 4)]),
            checked(&[("c", 7, 8)]),
            Tuple::from([("b", 9), ("a", 10)]),
        ];
        let insert = render_insert("t", &names(&["a", "b", "c"]), rows, OnConflict::Fail, None);
        assert_eq!(
            insert.sql,
            "INSERT INTO `t` (`a`, `b`, `c`) VALUES (?, ?, ?), (?, ?, ?), (DEFAULT, DEFAULT, ?), (?, ?, DEFAULT)"
        );
        let binds: Vec<Value> = [1, 2, 3, 4, 5, 6, 8, 10, 9].map(Value::Int).to_vec();
        assert_eq!(insert.binds, binds);
    }

    #[test]
    fn an_empty_row_inserts_every_default() {
        let insert = render_insert(
            "t",
            &[],
            vec![Tuple::new(), Tuple::new()],
            OnConflict::Fail,
            None,
        );
        assert_eq!(insert.sql, "INSERT INTO `t` () VALUES (), ()");
        assert!(insert.binds.is_empty());
    }

    #[test]
    fn upserts_by_values_or_row_alias() {
        let rows = [Tuple::from([("url", "u"), ("error", "e")])];
        let columns = names(&["url", "error"]);
        let update = names(&["error"]);
        let values = render_insert(
            "posts",
            &columns,
            rows.to_vec(),
            OnConflict::Update {
                columns: &update,
                row_alias: false,
                report_id: Some("id"),
            },
            None,
        );
        assert_eq!(
            values.sql,
            "INSERT INTO `posts` (`url`, `error`) VALUES (?, ?) ON DUPLICATE KEY UPDATE `id` = LAST_INSERT_ID(`id`), `error` = VALUES(`error`)"
        );
        let alias = render_insert(
            "posts",
            &columns,
            rows.to_vec(),
            OnConflict::Update {
                columns: &update,
                row_alias: true,
                report_id: None,
            },
            None,
        );
        assert_eq!(
            alias.sql,
            "INSERT INTO `posts` (`url`, `error`) VALUES (?, ?) AS `ferrom_new` ON DUPLICATE KEY UPDATE `error` = `ferrom_new`.`error`"
        );
        let keep = render_insert(
            "posts",
            &columns,
            rows.to_vec(),
            OnConflict::Keep {
                column: "id",
                report_id: false,
            },
            None,
        );
        assert!(
            keep.sql.ends_with("ON DUPLICATE KEY UPDATE `id` = `id`"),
            "{}",
            keep.sql
        );
    }

    #[test]
    fn batches_stay_under_the_placeholder_limit() {
        assert_eq!(rows_per_statement(10), 6553);
        assert_eq!(rows_per_statement(0), MAX_PARAMETERS);
        assert_eq!(rows_per_statement(100_000), 1);
    }
}
