//! `INSERT` statements: multi-row `VALUES`, `DEFAULT` for what a row does
//! not give, `ON DUPLICATE KEY UPDATE` and `RETURNING`.
//!
//! Identifiers come from the schema (the input was checked against it) and
//! are quoted; values are bound. `DEFAULT` is a keyword, not a value, so a
//! row without an attribute others give gets its column default without a
//! second statement shape per attribute set.

use crate::relation::sql::MAX_PARAMETERS;
use crate::relation::sql::push_identifier;
use crate::value::Value;

use super::input::Tuple;

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

/// An `INSERT` ready to send.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Insert {
    pub(crate) sql: String,
    pub(crate) binds: Vec<Value>,
}

/// How many rows of `columns` columns fit one statement.
pub(crate) fn rows_per_statement(columns: usize) -> usize {
    (MAX_PARAMETERS / columns.max(1)).max(1)
}

/// `INSERT INTO table (columns) VALUES (...), ...` for `rows`, each row
/// giving a value (`?`) or `DEFAULT` for each column, then the conflict
/// clause and `RETURNING returning` when given.
pub(crate) fn render_insert(
    table: &str,
    columns: &[String],
    rows: &[Tuple],
    on_conflict: OnConflict<'_>,
    returning: Option<&[String]>,
) -> Insert {
    let mut sql = String::with_capacity(32 + columns.len() * 16 + rows.len() * columns.len() * 3);
    let mut binds = Vec::with_capacity(rows.len() * columns.len());
    sql.push_str("INSERT INTO ");
    push_identifier(&mut sql, table);
    sql.push_str(" (");
    push_list(&mut sql, columns);
    sql.push_str(") VALUES ");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for (j, column) in columns.iter().enumerate() {
            if j > 0 {
                sql.push_str(", ");
            }
            match row.get(column) {
                Some(value) => {
                    sql.push('?');
                    binds.push(value.clone());
                }
                None => sql.push_str("DEFAULT"),
            }
        }
        sql.push(')');
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
    Insert { sql, binds }
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

    #[test]
    fn rows_missing_a_column_get_its_default() {
        let rows = [
            Tuple::from([("name", "A"), ("domain", "a.test")]),
            Tuple::from([("name", "B")]),
        ];
        let insert = render_insert(
            "companies",
            &names(&["name", "domain"]),
            &rows,
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
    fn an_empty_row_inserts_every_default() {
        let insert = render_insert(
            "t",
            &[],
            &[Tuple::new(), Tuple::new()],
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
            &rows,
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
            &rows,
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
            &rows,
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
