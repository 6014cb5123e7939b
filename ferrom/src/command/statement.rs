//! `INSERT` statements: multi-row `VALUES`, `DEFAULT` for what a row does
//! not give, `ON DUPLICATE KEY UPDATE` and `RETURNING`.
//!
//! Identifiers come from the schema (the input was checked against it) and
//! are quoted; values are bound. `DEFAULT` is a keyword, not a value, so a
//! row without an attribute others give gets its column default without a
//! second statement shape per attribute set.

use smallvec::SmallVec;
use sqlx::Arguments;
use sqlx::mysql::MySqlArguments;

use crate::bind::bind_value;
use crate::error::{Error, Result};
use crate::relation::sql::MAX_PARAMETERS;
use crate::relation::sql::push_identifier;
use crate::schema::Schema;
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

/// A multi-row `INSERT ... VALUES` of checked tuples (a create's), built
/// one row at a time: each row's values are encoded as the row is added,
/// so the row can be dropped at once, and the SQL is rendered when the
/// statement is complete. Its column list is the union of the attributes
/// the rows give, in table order; a row gets `DEFAULT` for a column it
/// does not give, which binds nothing, so a row's values are the same
/// whatever the rows after it add.
pub(crate) struct InsertBatch {
    args: MySqlArguments,
    binds: usize,
    rows: usize,
    /// How many rows the statement is expected to hold.
    expected: usize,
    /// Consecutive rows giving the same attributes: their schema positions
    /// (as bits) and how many rows.
    runs: Vec<(Shape, usize)>,
    /// The positions any row gives.
    union: Shape,
    /// How the last row's entries lie.
    layout: Layout,
}

/// Schema positions as bits, in words of 64 (inline up to 128).
type Shape = SmallVec<[u64; 2]>;

/// Where a row's entries go: each entry's schema position, in the order
/// the tuple gives them, and the entries in table order (the order their
/// values are bound). Tuples built alike share it, so most rows of a
/// statement are bound without working it out again.
#[derive(Default)]
struct Layout {
    positions: SmallVec<[usize; 16]>,
    order: SmallVec<[usize; 16]>,
}

impl InsertBatch {
    /// An empty statement for a relation of `schema`, for about `rows`
    /// rows (room for their values is made when the first row shows how
    /// many each gives).
    pub(crate) fn new(schema: &Schema, rows: usize) -> InsertBatch {
        let words = schema.attributes().len().div_ceil(64);
        InsertBatch {
            args: MySqlArguments::default(),
            binds: 0,
            rows: 0,
            expected: rows,
            runs: Vec::new(),
            union: SmallVec::from_elem(0, words),
            layout: Layout::default(),
        }
    }

    /// How many rows it holds.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Whether `tuple`'s values fit beside those added (a first row always
    /// does; the server refuses a statement of more than
    /// [`MAX_PARAMETERS`] placeholders).
    pub(crate) fn fits(&self, tuple: &Tuple) -> bool {
        self.rows == 0 || self.binds + tuple.len() <= MAX_PARAMETERS
    }

    /// Adds a row: encodes `tuple`'s values in table order.
    ///
    /// # Errors
    ///
    /// As [`bind_value`]; [`Error::InvalidInput`] for a value that was not
    /// checked against the schema (a create checks every tuple first).
    pub(crate) fn push(&mut self, tuple: &Tuple) -> Result<()> {
        let entries = tuple.entries();
        if self.rows == 0 {
            let values = self
                .expected
                .saturating_mul(entries.len())
                .min(MAX_PARAMETERS);
            Arguments::reserve(&mut self.args, values, values * 8);
        }
        let layout = &self.layout;
        let same = !self.runs.is_empty()
            && entries.len() == layout.positions.len()
            && entries
                .iter()
                .zip(&layout.positions)
                .all(|(e, &at)| e.checked() == Some(at));
        if same {
            if let Some((_, n)) = self.runs.last_mut() {
                *n += 1;
            }
        } else {
            self.lay_out(entries)?;
        }
        for &k in &self.layout.order {
            bind_value(&mut self.args, &entries[k].value)?;
        }
        self.binds += entries.len();
        self.rows += 1;
        Ok(())
    }

    /// Works out the layout of a row whose entries are not laid out as the
    /// last row's, and starts a run of its shape (or adds to the last).
    fn lay_out(&mut self, entries: &[Entry]) -> Result<()> {
        let layout = &mut self.layout;
        layout.positions.clear();
        for entry in entries {
            let at = entry.checked().ok_or_else(|| Error::InvalidInput {
                reason: format!(
                    "attribute `{}` reached the INSERT without being checked against the schema",
                    entry.name
                ),
            })?;
            layout.positions.push(at);
        }
        layout.order.clear();
        layout.order.extend(0..entries.len());
        layout.order.sort_unstable_by_key(|&k| layout.positions[k]);
        let mut shape: Shape = SmallVec::from_elem(0, self.union.len());
        for (entry, &at) in entries.iter().zip(&layout.positions) {
            let word = shape.get_mut(at / 64).ok_or_else(|| Error::InvalidInput {
                reason: format!(
                    "attribute `{}` was checked against another relation's schema",
                    entry.name
                ),
            })?;
            *word |= 1 << (at % 64);
        }
        for (all, one) in self.union.iter_mut().zip(&shape) {
            *all |= one;
        }
        match self.runs.last_mut() {
            Some((last, n)) if *last == shape => *n += 1,
            _ => self.runs.push((shape, 1)),
        }
        Ok(())
    }

    /// The statement into `schema`'s table, with `RETURNING returning`
    /// when given.
    pub(crate) fn finish(self, schema: &Schema, returning: Option<&[String]>) -> Insert {
        let has = |shape: &Shape, at: usize| shape[at / 64] & (1 << (at % 64)) != 0;
        let columns: Vec<usize> = (0..schema.attributes().len())
            .filter(|&at| has(&self.union, at))
            .collect();
        let attributes = schema.attributes();
        let mut sql =
            String::with_capacity(32 + columns.len() * 16 + self.rows * (columns.len() * 3 + 2));
        push_insert_head(
            &mut sql,
            schema.table(),
            columns.iter().map(|&at| attributes[at].name.as_str()),
        );
        let mut row = String::with_capacity(2 + columns.len() * 9);
        for (r, (shape, n)) in self.runs.iter().enumerate() {
            row.clear();
            push_row(&mut row, columns.iter().map(|&at| has(shape, at)));
            for i in 0..*n {
                if r > 0 || i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&row);
            }
        }
        push_returning(&mut sql, returning);
        Insert {
            sql,
            args: self.args,
            returning: returning.is_some(),
        }
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
    push_insert_head(&mut sql, table, columns);
    // A row that gives every column: the same placeholders each time.
    let mut full_row = String::with_capacity(2 + columns.len() * 3);
    push_row(&mut full_row, columns.iter().map(|_| true));
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
            push_row(&mut sql, source.iter().map(Option::is_some));
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
    push_returning(&mut sql, returning);
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

fn push_list<S: AsRef<str>>(sql: &mut String, names: impl IntoIterator<Item = S>) {
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        push_identifier(sql, name.as_ref());
    }
}

/// `INSERT INTO table (columns) VALUES `.
fn push_insert_head<S: AsRef<str>>(
    sql: &mut String,
    table: &str,
    columns: impl IntoIterator<Item = S>,
) {
    sql.push_str("INSERT INTO ");
    push_identifier(sql, table);
    sql.push_str(" (");
    push_list(sql, columns);
    sql.push_str(") VALUES ");
}

/// One row of `VALUES`: for each column, `?` when the row gives it,
/// `DEFAULT` when it does not.
fn push_row(sql: &mut String, gives: impl IntoIterator<Item = bool>) {
    sql.push('(');
    for (j, given) in gives.into_iter().enumerate() {
        if j > 0 {
            sql.push_str(", ");
        }
        sql.push_str(if given { "?" } else { "DEFAULT" });
    }
    sql.push(')');
}

/// ` RETURNING returning`, when given.
fn push_returning(sql: &mut String, returning: Option<&[String]>) {
    if let Some(returning) = returning {
        sql.push_str(" RETURNING ");
        push_list(sql, returning);
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

    /// A tuple whose entries were checked against the positions given.
    fn checked(pairs: &[(&str, usize, i64)]) -> Tuple {
        let mut tuple: Tuple = pairs.iter().map(|(n, _, v)| (*n, *v)).collect();
        for (entry, (_, at, _)) in tuple.entries_mut().iter_mut().zip(pairs) {
            entry.set_checked(Some(*at));
        }
        tuple
    }

    /// Columns `a` to `j`.
    fn ten_columns() -> Schema {
        let attributes = ('a'..='j')
            .map(|c| {
                crate::schema::Attribute::new(
                    c.to_string(),
                    crate::schema::Type::Integer {
                        bits: 64,
                        unsigned: false,
                    },
                )
            })
            .collect();
        Schema::new("t", "t", attributes, Vec::new(), Vec::new())
    }

    /// Built a row at a time, an insert is the one rendered from all its
    /// rows at once: the union of the columns, `DEFAULT` where a row gives
    /// none (also for a column only a later row adds), and the values in
    /// column order whatever order each row gives them in.
    #[test]
    fn a_batch_built_row_by_row_renders_as_the_rows_at_once() {
        let schema = ten_columns();
        let rows = vec![
            checked(&[("c", 2, 3), ("a", 0, 1), ("b", 1, 2)]),
            checked(&[("c", 2, 6), ("a", 0, 4), ("b", 1, 5)]),
            checked(&[("b", 1, 8), ("c", 2, 9), ("a", 0, 7)]),
            checked(&[("c", 2, 10)]),
            checked(&[("c", 2, 11)]),
            checked(&[("h", 7, 12), ("a", 0, 13)]),
            checked(&[("c", 2, 16), ("a", 0, 14), ("b", 1, 15)]),
            Tuple::new(),
        ];
        for returning in [None, Some(names(&["a", "h"]))] {
            let mut batch = InsertBatch::new(&schema, rows.len());
            for row in &rows {
                assert!(batch.fits(row));
                batch.push(row).unwrap();
            }
            let built = batch.finish(&schema, returning.as_deref());
            let at_once = super::render_insert(
                "t",
                &names(&["a", "b", "c", "h"]),
                &rows,
                OnConflict::Fail,
                returning.as_deref(),
            )
            .unwrap();
            assert_eq!(built.sql, at_once.sql);
            assert!(
                built.sql.contains("(?, ?, ?, DEFAULT), (?, ?, ?, DEFAULT), (?, ?, ?, DEFAULT), (DEFAULT, DEFAULT, ?, DEFAULT), (DEFAULT, DEFAULT, ?, DEFAULT), (?, DEFAULT, DEFAULT, ?), (?, ?, ?, DEFAULT), (DEFAULT, DEFAULT, DEFAULT, DEFAULT)"),
                "{}",
                built.sql
            );
            assert_eq!(built.returning, returning.is_some());
            assert_eq!(Arguments::len(&built.args), 16);
            assert_eq!(format!("{:?}", built.args), format!("{:?}", at_once.args));
        }
    }

    #[test]
    fn a_batch_is_full_at_the_placeholder_limit_and_refuses_unchecked_values() {
        let schema = ten_columns();
        let row = checked(&[("a", 0, 1), ("b", 1, 2), ("c", 2, 3)]);
        let mut batch = InsertBatch::new(&schema, 1);
        for _ in 0..MAX_PARAMETERS / 3 {
            assert!(batch.fits(&row));
            batch.push(&row).unwrap();
        }
        assert!(
            !batch.fits(&row),
            "65,535 placeholders hold 21,845 rows of 3"
        );
        assert!(batch.fits(&Tuple::new()));
        let insert = batch.finish(&schema, None);
        assert_eq!(insert.sql.matches('?').count(), MAX_PARAMETERS);

        let mut batch = InsertBatch::new(&schema, 1);
        let err = batch.push(&Tuple::from([("a", 1)])).unwrap_err();
        assert!(err.to_string().contains("`a`"), "{err}");
        // The first row of an empty batch always fits, however wide.
        assert!(InsertBatch::new(&schema, 0).fits(&row));
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
