//! Introspection: tables, columns, indexes, foreign keys and check
//! constraints of one database, read from `information_schema` in a single
//! statement (one round trip, however many tables).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sqlx::{MySqlConnection, Row};

use super::{Flavour, ServerInfo};
use crate::error::{Error, Result};

/// One column as the server describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnInfo {
    /// Column name.
    pub name: String,
    /// 1-based position in the table.
    pub position: u32,
    /// The bare type (`int`, `varchar`, `longtext`, `json`, ...).
    pub data_type: String,
    /// The full database type (`int(11)`, `varchar(255)`, `tinyint(1)`,
    /// `decimal(10,2)`, `enum('a','b')`, `bigint(20) unsigned`).
    pub column_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// The default as SQL text with string quotes removed (`running`,
    /// `0`, `current_timestamp()`); `None` when there is none or it is NULL.
    pub default: Option<String>,
    /// Part of the primary key.
    pub primary_key: bool,
    /// `AUTO_INCREMENT`.
    pub auto_increment: bool,
    /// A generated (virtual or stored) column.
    pub generated: bool,
    /// Maximum length in characters for string types.
    pub max_length: Option<u64>,
    /// Precision of numeric types.
    pub numeric_precision: Option<u32>,
    /// Scale of numeric types.
    pub numeric_scale: Option<u32>,
    /// Fractional-second digits of temporal types.
    pub datetime_precision: Option<u32>,
    /// Holds JSON: MySQL's native type, or MariaDB's `JSON` alias (a LONGTEXT
    /// with a `json_valid(col)` check).
    pub json: bool,
}

impl ColumnInfo {
    /// `unsigned` integer or decimal.
    pub fn unsigned(&self) -> bool {
        self.column_type.contains("unsigned")
    }

    /// The type ferrom reads the column as, in ROM's words: `integer`,
    /// `boolean` (`tinyint(1)`), `string`, `decimal`, `float`, `date`,
    /// `datetime`, `time`, `blob`, `json`, `enum`, `set`, or `unknown`.
    pub fn kind(&self) -> &'static str {
        if self.json {
            return "json";
        }
        match self.data_type.as_str() {
            "tinyint" if self.column_type.starts_with("tinyint(1)") => "boolean",
            "bool" | "boolean" => "boolean",
            "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => {
                "integer"
            }
            "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => "string",
            "decimal" | "numeric" => "decimal",
            "float" | "double" | "real" => "float",
            "date" => "date",
            "datetime" | "timestamp" => "datetime",
            "time" => "time",
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => "blob",
            "json" => "json",
            "enum" => "enum",
            "set" => "set",
            _ => "unknown",
        }
    }
}

/// One index, its columns in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexInfo {
    /// Index name (`PRIMARY` for the primary key).
    pub name: String,
    /// Its columns, in key order.
    pub columns: Vec<String>,
    /// A unique index.
    pub unique: bool,
}

/// One foreign key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKeyInfo {
    /// Constraint name.
    pub name: String,
    /// The referencing columns, in order.
    pub columns: Vec<String>,
    /// The referenced table.
    pub referenced_table: String,
    /// The referenced columns, in order.
    pub referenced_columns: Vec<String>,
    /// `ON UPDATE` rule.
    pub on_update: String,
    /// `ON DELETE` rule.
    pub on_delete: String,
}

/// One table (or view) and everything introspection found on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableInfo {
    /// Table name.
    pub name: String,
    /// `BASE TABLE` or `VIEW`.
    pub table_type: String,
    /// Columns in table order.
    pub columns: Vec<ColumnInfo>,
    /// Indexes, the primary key first, then by name.
    pub indexes: Vec<IndexInfo>,
    /// Foreign keys by name.
    pub foreign_keys: Vec<ForeignKeyInfo>,
}

impl TableInfo {
    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&ColumnInfo> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The primary key's columns, in key order (empty when there is none).
    pub fn primary_key(&self) -> Vec<&str> {
        self.indexes
            .iter()
            .find(|i| i.name == "PRIMARY")
            .map(|i| i.columns.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// The statement: one `UNION ALL` over tables (`T`), columns (`C`), indexes
/// (`I`), foreign keys (`F`) and, on MariaDB, check constraints (`K`), every
/// value cast to text so the branches line up.
fn introspection_sql(flavour: Flavour) -> String {
    let checks = match flavour {
        // MariaDB's JSON is a LONGTEXT with a check `json_valid(col)`.
        Flavour::MariaDb => {
            "UNION ALL SELECT 'K', TABLE_NAME, CONSTRAINT_NAME, CAST(0 AS SIGNED), CHECK_CLAUSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
             FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()"
        }
        Flavour::MySql => "",
    };
    format!(
        "SELECT 'T' AS k, TABLE_NAME AS t, TABLE_NAME AS n, CAST(0 AS SIGNED) AS o, TABLE_TYPE AS a, NULL AS b, NULL AS c, NULL AS d, NULL AS e, NULL AS f, NULL AS g, NULL AS h, NULL AS i, NULL AS j \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
         UNION ALL SELECT 'C', TABLE_NAME, COLUMN_NAME, CAST(ORDINAL_POSITION AS SIGNED), DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_KEY, EXTRA, \
           CAST(CHARACTER_MAXIMUM_LENGTH AS CHAR), CAST(NUMERIC_PRECISION AS CHAR), CAST(NUMERIC_SCALE AS CHAR), CAST(DATETIME_PRECISION AS CHAR) \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
         UNION ALL SELECT 'I', TABLE_NAME, INDEX_NAME, CAST(SEQ_IN_INDEX AS SIGNED), COLUMN_NAME, CAST(NON_UNIQUE AS CHAR), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL \
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
         UNION ALL SELECT 'F', k.TABLE_NAME, k.CONSTRAINT_NAME, CAST(k.ORDINAL_POSITION AS SIGNED), k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE, NULL, NULL, NULL, NULL, NULL \
         FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
         WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         {checks} \
         ORDER BY 1, 2, 3, 4"
    )
}

/// Reads every table of the connection's current database, with columns,
/// indexes, foreign keys and JSON columns, in one round trip.
///
/// # Errors
///
/// [`Error::Database`] when the statement fails.
pub async fn introspect(
    conn: &mut MySqlConnection,
    server: &ServerInfo,
) -> Result<BTreeMap<String, TableInfo>> {
    let sql = introspection_sql(server.flavour);
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| Error::database("reading the schema from information_schema", e))?;
    let mut tables: BTreeMap<String, TableInfo> = BTreeMap::new();
    let mut json_checks: Vec<(String, String)> = Vec::new();
    let mut indexes: BTreeMap<(String, String), IndexInfo> = BTreeMap::new();
    let mut fks: BTreeMap<(String, String), ForeignKeyInfo> = BTreeMap::new();
    for row in rows {
        let text = |i: usize| -> Result<Option<String>> {
            // information_schema text comes back as VARCHAR or, on some
            // servers, as binary strings: accept both.
            match row.try_get::<Option<String>, _>(i) {
                Ok(v) => Ok(v),
                Err(_) => row
                    .try_get::<Option<Vec<u8>>, _>(i)
                    .map(|v| v.map(|b| String::from_utf8_lossy(&b).into_owned()))
                    .map_err(|e| Error::database("decoding information_schema", e)),
            }
        };
        let kind = text(0)?.unwrap_or_default();
        let table = text(1)?.unwrap_or_default();
        let name = text(2)?.unwrap_or_default();
        let position = row
            .try_get::<Option<i64>, _>(3)
            .map_err(|e| Error::database("decoding information_schema", e))?
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(0);
        match kind.as_str() {
            "T" => {
                let entry = tables.entry(table.clone()).or_default();
                entry.name = table;
                entry.table_type = text(4)?.unwrap_or_default();
            }
            "C" => {
                let extra = text(9)?.unwrap_or_default().to_ascii_lowercase();
                let key = text(8)?.unwrap_or_default();
                let data_type = text(4)?.unwrap_or_default().to_ascii_lowercase();
                let column = ColumnInfo {
                    json: data_type == "json",
                    data_type,
                    column_type: text(5)?.unwrap_or_default(),
                    nullable: text(6)?.as_deref() == Some("YES"),
                    default: normalize_default(text(7)?, server.flavour),
                    primary_key: key == "PRI",
                    auto_increment: extra.contains("auto_increment"),
                    // "VIRTUAL GENERATED" / "STORED GENERATED" (MariaDB
                    // also "PERSISTENT"), but not MySQL 8's
                    // "DEFAULT_GENERATED", which marks an expression default.
                    generated: extra.contains("virtual")
                        || extra.contains("stored")
                        || extra.contains("persistent"),
                    max_length: text(10)?.and_then(|v| v.parse().ok()),
                    numeric_precision: text(11)?.and_then(|v| v.parse().ok()),
                    numeric_scale: text(12)?.and_then(|v| v.parse().ok()),
                    datetime_precision: text(13)?.and_then(|v| v.parse().ok()),
                    name,
                    position,
                };
                tables.entry(table).or_default().columns.push(column);
            }
            "I" => {
                let column = text(4)?.unwrap_or_default();
                let unique = text(5)?.as_deref() == Some("0");
                let index = indexes
                    .entry((table, name.clone()))
                    .or_insert_with(|| IndexInfo {
                        name,
                        columns: Vec::new(),
                        unique,
                    });
                index.columns.push(column);
            }
            "F" => {
                let column = text(4)?.unwrap_or_default();
                let referenced_table = text(5)?.unwrap_or_default();
                let referenced_column = text(6)?.unwrap_or_default();
                let on_update = text(7)?.unwrap_or_default();
                let on_delete = text(8)?.unwrap_or_default();
                let fk = fks
                    .entry((table, name.clone()))
                    .or_insert_with(|| ForeignKeyInfo {
                        name,
                        columns: Vec::new(),
                        referenced_table,
                        referenced_columns: Vec::new(),
                        on_update,
                        on_delete,
                    });
                fk.columns.push(column);
                fk.referenced_columns.push(referenced_column);
            }
            "K" => {
                let clause = text(4)?.unwrap_or_default();
                if let Some(column) = json_valid_column(&clause) {
                    json_checks.push((table, column));
                }
            }
            _ => {}
        }
    }
    for ((table, _), index) in indexes {
        tables.entry(table).or_default().indexes.push(index);
    }
    for ((table, _), fk) in fks {
        tables.entry(table).or_default().foreign_keys.push(fk);
    }
    for (table, column) in json_checks {
        if let Some(c) = tables
            .get_mut(&table)
            .and_then(|t| t.columns.iter_mut().find(|c| c.name == column))
        {
            c.json = true;
        }
    }
    for table in tables.values_mut() {
        table.columns.sort_by_key(|c| c.position);
        table
            .indexes
            .sort_by(|a, b| (a.name != "PRIMARY", &a.name).cmp(&(b.name != "PRIMARY", &b.name)));
    }
    Ok(tables)
}

/// MariaDB reports string defaults quoted (`'running'`) and an explicit NULL
/// default as the text `NULL`; MySQL reports them bare. Returns the bare
/// value, `None` for no default or NULL.
fn normalize_default(raw: Option<String>, flavour: Flavour) -> Option<String> {
    let raw = raw?;
    match flavour {
        Flavour::MariaDb if raw == "NULL" => None,
        Flavour::MariaDb if raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'') => Some(
            raw[1..raw.len() - 1]
                .replace("''", "'")
                .replace("\\\\", "\\"),
        ),
        _ => Some(raw),
    }
}

/// The column a `json_valid(`col`)` check constraint guards, if that is what
/// the clause is.
fn json_valid_column(clause: &str) -> Option<String> {
    let inner = clause
        .trim()
        .strip_prefix("json_valid(")?
        .strip_suffix(')')?
        .trim();
    Some(inner.trim_matches('`').to_string())
}

/// Renders tables as the `ferrom db schema` command prints them: a column
/// table (name, type, database type, null, default, primary key, auto
/// increment), then indexes and foreign keys.
pub fn render_schema(tables: &[&TableInfo]) -> String {
    let mut out = String::new();
    for (n, table) in tables.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", table.name);
        let mut rows = vec![[
            "column".to_string(),
            "type".to_string(),
            "db type".to_string(),
            "null".to_string(),
            "default".to_string(),
            "primary key".to_string(),
            "auto increment".to_string(),
        ]];
        for c in &table.columns {
            rows.push([
                c.name.clone(),
                c.kind().to_string(),
                c.column_type.clone(),
                yes_no(c.nullable),
                c.default.clone().unwrap_or_else(|| "-".into()),
                yes_no(c.primary_key),
                yes_no(c.auto_increment),
            ]);
        }
        out.push_str(&render_rows(&rows));
        if !table.indexes.is_empty() {
            out.push_str("  indexes:\n");
            for i in &table.indexes {
                let _ = writeln!(
                    out,
                    "    {} ({}){}",
                    i.name,
                    i.columns.join(", "),
                    if i.unique { " unique" } else { "" }
                );
            }
        }
        if !table.foreign_keys.is_empty() {
            out.push_str("  foreign keys:\n");
            for f in &table.foreign_keys {
                let _ = writeln!(
                    out,
                    "    {} ({}) -> {} ({}) on delete {} on update {}",
                    f.name,
                    f.columns.join(", "),
                    f.referenced_table,
                    f.referenced_columns.join(", "),
                    f.on_delete.to_ascii_lowercase(),
                    f.on_update.to_ascii_lowercase()
                );
            }
        }
    }
    out
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// Left-aligned columns separated by two spaces, indented by two.
pub(crate) fn render_rows<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::from("  ");
        for (i, (w, cell)) in widths.iter().zip(row).enumerate() {
            if i + 1 == N {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_unquoted_on_mariadb() {
        assert_eq!(
            normalize_default(Some("'running'".into()), Flavour::MariaDb),
            Some("running".into())
        );
        assert_eq!(
            normalize_default(Some("'it''s'".into()), Flavour::MariaDb),
            Some("it's".into())
        );
        assert_eq!(
            normalize_default(Some("NULL".into()), Flavour::MariaDb),
            None
        );
        assert_eq!(
            normalize_default(Some("0".into()), Flavour::MariaDb),
            Some("0".into())
        );
        assert_eq!(
            normalize_default(Some("NULL".into()), Flavour::MySql),
            Some("NULL".into())
        );
        assert_eq!(normalize_default(None, Flavour::MySql), None);
    }

    #[test]
    fn json_valid_check_is_recognised() {
        assert_eq!(
            json_valid_column("json_valid(`stats`)"),
            Some("stats".into())
        );
        assert_eq!(json_valid_column("`a` > 0"), None);
    }
}
