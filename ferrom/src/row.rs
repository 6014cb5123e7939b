//! Dynamic rows: the values of one result row, with the result's shared
//! column list. The console and factories read rows this way; library code
//! that wants speed maps rows into its own structs instead.
//!
//! Decoding follows the attribute's [`Type`] where the columns come from a
//! schema, and the column type the server reports otherwise (aggregates, raw
//! SQL). Each column's decoder is chosen once per column list, so reading a
//! row costs one match per value.
//!
//! | column | [`Value`] |
//! |---|---|
//! | NULL (and zero dates) | `Null` |
//! | integers, `year` | `Int`; unsigned values above `i64::MAX` as `UInt` |
//! | `tinyint(1)` | `Bool` (nonzero is true) |
//! | `decimal` | `Decimal`, the server's exact text |
//! | `float` / `double` | `Float` (a `float` is read as `f32` and widened) |
//! | `date`, `datetime`, `timestamp` | `Date`, `DateTime` (UTC: sessions run at `+00:00`) |
//! | `time` | `Time`, signed microseconds |
//! | text, `enum` | `String` |
//! | bytes | `Bytes` |
//! | JSON (a schema's `Json` attribute, or MySQL's native `JSON`) | `Json` |
//! | `set` | `List` of `String`s |
//! | a type ferrom does not know | `String` (lossy UTF-8), or `Bytes` for `bit` and spatial types |
//!
//! One thing the server decides: without bound values a statement runs over
//! MySQL's text protocol, where the server prints `float` columns with six
//! significant digits; with bound values (the binary protocol) a `float`
//! arrives with all of its bits. Doubles and everything else read the same
//! either way.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use futures_util::TryStreamExt as _;
use sqlx::ColumnOrigin;
use sqlx::error::BoxDynError;
use sqlx::mysql::types::MySqlTime;
use sqlx::mysql::{MySql, MySqlColumn, MySqlRow, MySqlTypeInfo, MySqlValueRef};
use sqlx::{Column as _, Decode, Row as _, TypeInfo as _, ValueRef as _};

use crate::bind::arguments;
use crate::error::{Error, Result};
use crate::schema::{Schema, Type};
use crate::value::Value;

/// What the relation is called in errors about rows of raw SQL.
const RAW_SQL: &str = "(raw sql)";

/// The columns of a result, shared by all its rows: output names, the
/// attribute type of each where a schema gives one, and how each is decoded.
#[derive(Debug)]
pub struct Columns {
    relation: String,
    names: Vec<String>,
    types: Vec<Option<Type>>,
    plans: Vec<DecodePlan>,
    by_name: HashMap<String, usize>,
}

impl Columns {
    /// Columns named in output order, each with its attribute type when a
    /// schema gives one; `None` decodes by the column type the server
    /// reports (aggregates, expressions). A repeated name resolves to its
    /// first column in [`Row::get`].
    pub(crate) fn new(relation: &str, columns: Vec<(String, Option<Type>)>) -> Arc<Columns> {
        let mut names = Vec::with_capacity(columns.len());
        let mut types = Vec::with_capacity(columns.len());
        let mut plans = Vec::with_capacity(columns.len());
        for (name, ty) in columns {
            plans.push(
                ty.as_ref()
                    .map_or(DecodePlan::Runtime, DecodePlan::for_type),
            );
            names.push(name);
            types.push(ty);
        }
        Arc::new(Columns::assemble(relation, names, types, plans))
    }

    /// Every attribute of `schema`, in table order.
    pub(crate) fn for_schema(schema: &Schema) -> Arc<Columns> {
        Columns::new(
            schema.relation(),
            schema
                .attributes()
                .iter()
                .map(|a| (a.name.clone(), Some(a.ty.clone())))
                .collect(),
        )
    }

    /// The columns of a result as the server describes them (raw SQL). A
    /// column that comes straight from `schema`'s table is read as its
    /// attribute (so MariaDB's JSON reads as JSON), whatever it is aliased
    /// to; any other column by the type the server reports.
    pub(crate) fn from_mysql(
        relation: &str,
        columns: &[MySqlColumn],
        schema: Option<&Schema>,
    ) -> Arc<Columns> {
        let mut names = Vec::with_capacity(columns.len());
        let mut types = Vec::with_capacity(columns.len());
        let mut plans = Vec::with_capacity(columns.len());
        for c in columns {
            let ti = c.type_info();
            let attribute = schema
                .and_then(|s| Some((s, origin_column(c, s.table())?)))
                .and_then(|(s, name)| {
                    s.attribute(&name)
                        .filter(|a| DecodePlan::for_type(&a.ty).accepts(ti))
                });
            names.push(c.name().to_string());
            match attribute {
                Some(a) => {
                    plans.push(DecodePlan::for_type(&a.ty));
                    types.push(Some(a.ty.clone()));
                }
                None => {
                    plans.push(DecodePlan::for_server(ti));
                    types.push(None);
                }
            }
        }
        Arc::new(Columns::assemble(relation, names, types, plans))
    }

    fn assemble(
        relation: &str,
        names: Vec<String>,
        types: Vec<Option<Type>>,
        plans: Vec<DecodePlan>,
    ) -> Columns {
        let mut by_name = HashMap::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            by_name.entry(name.clone()).or_insert(i);
        }
        Columns {
            relation: relation.to_string(),
            names,
            types,
            plans,
            by_name,
        }
    }

    /// The relation the rows come from (`(raw sql)` for raw reads).
    pub fn relation(&self) -> &str {
        &self.relation
    }

    /// The output column names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// How many columns there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no columns.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The position of the column with this name (the first, if repeated).
    pub fn position(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The attribute type of the column at `index`, when a schema gives one.
    pub fn ty(&self, index: usize) -> Option<&Type> {
        self.types.get(index).and_then(Option::as_ref)
    }

    /// Names and types, for [`Relation::output_columns`](crate::Relation::output_columns).
    pub(crate) fn output(&self) -> Vec<crate::relation::OutputColumn> {
        self.names
            .iter()
            .zip(&self.types)
            .map(|(name, ty)| crate::relation::OutputColumn {
                name: name.clone(),
                ty: ty.clone(),
            })
            .collect()
    }

    fn unknown(&self, name: &str) -> Error {
        Error::UnknownAttribute {
            relation: self.relation.clone(),
            attribute: name.to_string(),
            known: self.names.clone(),
        }
    }

    fn decode_error(&self, index: usize, plan: DecodePlan, failure: Failure) -> Error {
        let name = self
            .names
            .get(index)
            .cloned()
            .unwrap_or_else(|| index.to_string());
        let expected = self
            .ty(index)
            .map_or_else(|| plan.describe().to_string(), ToString::to_string);
        match failure {
            Failure::Mismatch(got) => Error::TypeMismatch {
                relation: self.relation.clone(),
                attribute: name,
                expected,
                got: format!(
                    "a {got} column from the server (has the table changed since the container was finalized?)"
                ),
            },
            Failure::Malformed(source) => Error::database(
                format!(
                    "relation `{}`, attribute `{name}`: decoding {expected}",
                    self.relation
                ),
                sqlx::Error::ColumnDecode {
                    index: name.clone(),
                    source,
                },
            ),
        }
    }
}

/// One row of a result: its values in column order, with the shared
/// [`Columns`].
///
/// Accessors return `Result` or `Option`; none panics on a name that is not
/// there.
///
/// A row read with [`Relation::combine`](crate::Relation::combine) or
/// [`Relation::wrap`](crate::Relation::wrap) also holds its associated rows,
/// by association name: [`Row::children`] for has-many and many-to-many,
/// [`Row::parent`] for belongs-to and has-one.
#[derive(Clone)]
pub struct Row {
    columns: Arc<Columns>,
    values: Vec<Value>,
    /// Associated rows loaded with it, by association name, in the order
    /// they were combined.
    nested: Vec<(Arc<str>, Nested)>,
}

/// The rows of one association nested under a parent row.
#[derive(Clone, Debug, PartialEq)]
pub enum Nested {
    /// A has-many or many-to-many association: every child, in the child
    /// relation's order (empty when there are none).
    Many(Vec<Row>),
    /// A belongs-to or has-one association (combined or wrapped): the row,
    /// or `None` when there is no match.
    One(Option<Row>),
}

impl Nested {
    /// The nested rows as JSON: an array for [`Nested::Many`], an object or
    /// `null` for [`Nested::One`].
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Nested::Many(rows) => serde_json::Value::Array(rows.iter().map(Row::to_json).collect()),
            Nested::One(Some(row)) => row.to_json(),
            Nested::One(None) => serde_json::Value::Null,
        }
    }
}

impl Row {
    /// A row of `values` under `columns` (one value per column), for
    /// commands that build rows themselves.
    #[allow(dead_code)]
    pub(crate) fn from_parts(columns: Arc<Columns>, values: Vec<Value>) -> Row {
        debug_assert_eq!(columns.len(), values.len(), "one value per column");
        Row {
            columns,
            values,
            nested: Vec::new(),
        }
    }

    /// Nests the rows of association `name` under this row (replacing
    /// rows nested under that name before).
    pub(crate) fn set_nested(&mut self, name: &Arc<str>, rows: Nested) {
        match self.nested.iter_mut().find(|(n, _)| n == name) {
            Some((_, slot)) => *slot = rows,
            None => self.nested.push((Arc::clone(name), rows)),
        }
    }

    /// The rows of association `name` nested under this row, if it was
    /// combined or wrapped.
    pub fn nested(&self, name: &str) -> Option<&Nested> {
        self.nested
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, rows)| rows)
    }

    /// `(association, rows)` pairs for every association nested under this
    /// row, in the order they were combined.
    pub fn nested_iter(&self) -> impl Iterator<Item = (&str, &Nested)> {
        self.nested.iter().map(|(n, rows)| (&**n, rows))
    }

    /// The children of the has-many or many-to-many association `name`
    /// (`companies.combine("posts")` → `row.children("posts")`), in the child
    /// relation's order; empty when there are none.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidAssociation`] when `name` was not combined into this
    /// row (listing what was), or is a to-one association (read it with
    /// [`Row::parent`]).
    pub fn children(&self, name: &str) -> Result<&[Row]> {
        match self.nested(name) {
            Some(Nested::Many(rows)) => Ok(rows),
            Some(Nested::One(_)) => Err(self.not_nested(
                name,
                "is a to-one association: read it with parent(...)".into(),
            )),
            None => Err(self.not_nested(name, self.nested_list())),
        }
    }

    /// The row of the belongs-to or has-one association `name`, combined or
    /// wrapped (`posts.wrap("company")` → `row.parent("company")`), or
    /// `None` when there is no match.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidAssociation`] when `name` was not combined or wrapped
    /// into this row (listing what was), or is a to-many association (read
    /// it with [`Row::children`]).
    pub fn parent(&self, name: &str) -> Result<Option<&Row>> {
        match self.nested(name) {
            Some(Nested::One(row)) => Ok(row.as_ref()),
            Some(Nested::Many(_)) => Err(self.not_nested(
                name,
                "is a to-many association: read it with children(...)".into(),
            )),
            None => Err(self.not_nested(name, self.nested_list())),
        }
    }

    fn nested_list(&self) -> String {
        if self.nested.is_empty() {
            "was not loaded: these rows have no associations; load them with \
             combine(...) or wrap(...)"
                .into()
        } else {
            format!(
                "was not loaded with these rows; loaded: {}",
                self.nested
                    .iter()
                    .map(|(n, _)| &**n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }

    fn not_nested(&self, name: &str, reason: String) -> Error {
        Error::InvalidAssociation {
            relation: self.columns.relation.clone(),
            association: name.to_string(),
            reason,
        }
    }

    /// The value of the column `name`.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownAttribute`] listing the row's columns when there is no
    /// column of that name.
    pub fn get(&self, name: &str) -> Result<&Value> {
        self.columns
            .position(name)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| self.columns.unknown(name))
    }

    /// The value at `index`, if there is one.
    pub fn get_index(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }

    /// The values, in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The row's columns.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// The column names, in order.
    pub fn names(&self) -> &[String] {
        &self.columns.names
    }

    /// How many values the row has.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the row has no values.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `(name, value)` pairs, in column order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.columns
            .names
            .iter()
            .map(String::as_str)
            .zip(&self.values)
    }

    /// The values, in column order, taken out of the row.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// The row as a JSON object keyed by column name (see
    /// [`Value::to_json`] for how values render), with nested associations
    /// under their names: has-many as an array, to-one as an object or
    /// `null`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.iter()
                .map(|(k, v)| (k.to_string(), v.to_json()))
                .chain(
                    self.nested
                        .iter()
                        .map(|(n, rows)| (n.to_string(), rows.to_json())),
                )
                .collect(),
        )
    }
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        map.entries(self.iter());
        for (name, rows) in &self.nested {
            map.entry(&&**name, rows);
        }
        map.finish()
    }
}

/// Rows are equal when they have the same column names and values, and the
/// same nested associations.
impl PartialEq for Row {
    fn eq(&self, other: &Row) -> bool {
        self.columns.names == other.columns.names
            && self.values == other.values
            && self.nested == other.nested
    }
}

/// How one column is decoded, chosen once per column list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DecodePlan {
    Bool,
    /// Signed or unsigned as the server flags the column.
    Integer,
    /// `f32` widened for a `FLOAT` column, `f64` for `DOUBLE`.
    Float,
    Decimal,
    Date,
    DateTime,
    Time,
    Text,
    Bytes,
    Json,
    Set,
    /// Text of a type ferrom does not know, lossy UTF-8.
    LossyText,
    /// Bytes of a type ferrom does not know.
    RawBytes,
    /// The column is always NULL (`SELECT NULL`).
    Null,
    /// Decided per value from the column type the server reports.
    Runtime,
}

/// Why a value did not decode.
enum Failure {
    /// The server sent a column type the plan cannot read.
    Mismatch(String),
    /// The value itself is malformed.
    Malformed(BoxDynError),
}

impl From<BoxDynError> for Failure {
    fn from(e: BoxDynError) -> Self {
        Failure::Malformed(e)
    }
}

impl DecodePlan {
    fn for_type(ty: &Type) -> DecodePlan {
        match ty {
            Type::Integer { .. } => DecodePlan::Integer,
            Type::Bool => DecodePlan::Bool,
            Type::String { .. } | Type::Enum(_) => DecodePlan::Text,
            Type::Decimal { .. } => DecodePlan::Decimal,
            Type::Float { .. } => DecodePlan::Float,
            Type::Date => DecodePlan::Date,
            Type::DateTime { .. } => DecodePlan::DateTime,
            Type::Time { .. } => DecodePlan::Time,
            Type::Bytes { .. } => DecodePlan::Bytes,
            Type::Json => DecodePlan::Json,
            Type::Set(_) => DecodePlan::Set,
            Type::Unknown { binary: true, .. } => DecodePlan::RawBytes,
            Type::Unknown { binary: false, .. } => DecodePlan::LossyText,
        }
    }

    /// The plan for a column known only by the type the server reports.
    fn for_server(ti: &MySqlTypeInfo) -> DecodePlan {
        match ti.name() {
            "BOOLEAN" => DecodePlan::Bool,
            "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "TINYINT UNSIGNED"
            | "SMALLINT UNSIGNED" | "MEDIUMINT UNSIGNED" | "INT UNSIGNED" | "BIGINT UNSIGNED"
            | "YEAR" => DecodePlan::Integer,
            "FLOAT" | "DOUBLE" => DecodePlan::Float,
            "DECIMAL" => DecodePlan::Decimal,
            "DATE" => DecodePlan::Date,
            "DATETIME" | "TIMESTAMP" => DecodePlan::DateTime,
            "TIME" => DecodePlan::Time,
            "JSON" => DecodePlan::Json,
            "BIT" | "GEOMETRY" => DecodePlan::RawBytes,
            "NULL" => DecodePlan::Null,
            _ if <str as sqlx::Type<MySql>>::compatible(ti) => DecodePlan::Text,
            _ if <[u8] as sqlx::Type<MySql>>::compatible(ti) => DecodePlan::Bytes,
            _ => DecodePlan::LossyText,
        }
    }

    /// Whether a value of the column type the server reports can be read
    /// by this plan (the check sqlx's `try_get` makes, by family: a JSON
    /// attribute reads a text column).
    fn accepts(self, ti: &MySqlTypeInfo) -> bool {
        let stringish = || <[u8] as sqlx::Type<MySql>>::compatible(ti) || ti.name() == "JSON";
        match self {
            DecodePlan::Bool | DecodePlan::Integer => {
                <i64 as sqlx::Type<MySql>>::compatible(ti)
                    || (<u64 as sqlx::Type<MySql>>::compatible(ti) && ti.name() != "BIT")
                    || ti.name() == "YEAR"
            }
            DecodePlan::Float => <f64 as sqlx::Type<MySql>>::compatible(ti),
            DecodePlan::Decimal => ti.name() == "DECIMAL" || stringish(),
            DecodePlan::Date => <NaiveDate as sqlx::Type<MySql>>::compatible(ti),
            DecodePlan::DateTime => <DateTime<Utc> as sqlx::Type<MySql>>::compatible(ti),
            DecodePlan::Time => <MySqlTime as sqlx::Type<MySql>>::compatible(ti),
            DecodePlan::Text | DecodePlan::Json | DecodePlan::Set => stringish(),
            DecodePlan::Bytes => stringish() || matches!(ti.name(), "BIT" | "GEOMETRY"),
            DecodePlan::LossyText
            | DecodePlan::RawBytes
            | DecodePlan::Null
            | DecodePlan::Runtime => true,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            DecodePlan::Bool => "a boolean",
            DecodePlan::Integer => "an integer",
            DecodePlan::Float => "a float",
            DecodePlan::Decimal => "a decimal",
            DecodePlan::Date => "a date",
            DecodePlan::DateTime => "a datetime",
            DecodePlan::Time => "a time",
            DecodePlan::Text | DecodePlan::LossyText => "text",
            DecodePlan::Bytes | DecodePlan::RawBytes => "bytes",
            DecodePlan::Json => "JSON",
            DecodePlan::Set => "a set",
            DecodePlan::Null => "NULL",
            DecodePlan::Runtime => "a value",
        }
    }

    /// Decodes one value.
    fn decode(self, raw: MySqlValueRef<'_>) -> std::result::Result<Value, Failure> {
        if raw.is_null() {
            return Ok(Value::Null);
        }
        let plan = match self {
            DecodePlan::Runtime => DecodePlan::for_server(&raw.type_info()),
            plan => plan,
        };
        let unsigned = {
            let ti = raw.type_info();
            if !plan.accepts(&ti) {
                return Err(Failure::Mismatch(ti.name().to_string()));
            }
            match plan {
                DecodePlan::Bool | DecodePlan::Integer => {
                    <u64 as sqlx::Type<MySql>>::compatible(&ti)
                }
                // For floats: whether the column is a FLOAT (read as f32).
                DecodePlan::Float => ti.name() == "FLOAT",
                _ => false,
            }
        };
        Ok(match plan {
            DecodePlan::Bool if unsigned => Value::Bool(<u64 as Decode<MySql>>::decode(raw)? != 0),
            DecodePlan::Bool => Value::Bool(<i64 as Decode<MySql>>::decode(raw)? != 0),
            DecodePlan::Integer if unsigned => {
                let u = <u64 as Decode<MySql>>::decode(raw)?;
                i64::try_from(u).map_or(Value::UInt(u), Value::Int)
            }
            DecodePlan::Integer => Value::Int(<i64 as Decode<MySql>>::decode(raw)?),
            DecodePlan::Float if unsigned => {
                Value::Float(f64::from(<f32 as Decode<MySql>>::decode(raw)?))
            }
            DecodePlan::Float => Value::Float(<f64 as Decode<MySql>>::decode(raw)?),
            DecodePlan::Decimal => {
                Value::Decimal(<&str as Decode<MySql>>::decode(raw)?.to_string())
            }
            DecodePlan::Date => {
                if is_text_zero_date(&raw) {
                    return Ok(Value::Null);
                }
                Value::Date(<NaiveDate as Decode<MySql>>::decode(raw)?)
            }
            DecodePlan::DateTime => {
                if is_text_zero_date(&raw) {
                    return Ok(Value::Null);
                }
                Value::DateTime(<NaiveDateTime as Decode<MySql>>::decode(raw)?)
            }
            DecodePlan::Time => Value::Time(decode_time(<&[u8] as Decode<MySql>>::decode(raw)?)?),
            DecodePlan::Text => Value::String(<&str as Decode<MySql>>::decode(raw)?.to_string()),
            DecodePlan::Bytes | DecodePlan::RawBytes => {
                Value::Bytes(<&[u8] as Decode<MySql>>::decode(raw)?.to_vec())
            }
            DecodePlan::Json => {
                let bytes = <&[u8] as Decode<MySql>>::decode(raw)?;
                Value::Json(
                    serde_json::from_slice(bytes).map_err(|e| Failure::Malformed(Box::new(e)))?,
                )
            }
            DecodePlan::Set => {
                let text = <&str as Decode<MySql>>::decode(raw)?;
                Value::List(if text.is_empty() {
                    Vec::new()
                } else {
                    text.split(',')
                        .map(|s| Value::String(s.to_string()))
                        .collect()
                })
            }
            DecodePlan::LossyText => Value::String(
                String::from_utf8_lossy(<&[u8] as Decode<MySql>>::decode(raw)?).into_owned(),
            ),
            DecodePlan::Null | DecodePlan::Runtime => Value::Null,
        })
    }
}

/// The original column name when `column` comes straight from `table`.
fn origin_column(column: &MySqlColumn, table: &str) -> Option<String> {
    match column.origin() {
        ColumnOrigin::Table(t) => {
            let origin_table = t.table.rsplit_once('.').map_or(&*t.table, |(_, name)| name);
            (origin_table == table || &*t.table == table).then(|| t.name.to_string())
        }
        _ => None,
    }
}

/// A zero date (`0000-00-00`) sent as text, which reads as NULL as it
/// does in the binary protocol (strict sessions cannot store one, older
/// data may hold one).
fn is_text_zero_date(raw: &MySqlValueRef<'_>) -> bool {
    <&[u8] as Decode<MySql>>::decode(raw.clone()).is_ok_and(|b| b.starts_with(b"0000-00-00"))
}

/// A `TIME` value as signed microseconds, from either protocol: text
/// (`-838:59:59.000000`) starts with a sign or a digit, binary with its
/// length byte (0, 8 or 12).
fn decode_time(bytes: &[u8]) -> std::result::Result<i64, BoxDynError> {
    match bytes.first() {
        None => Err("empty TIME value".into()),
        Some(b'-' | b'0'..=b'9') => parse_time_text(std::str::from_utf8(bytes)?),
        Some(0) => Ok(0),
        Some(_) => {
            let malformed =
                || -> BoxDynError { format!("malformed binary TIME value {bytes:?}").into() };
            let field = |i: usize| bytes.get(i).copied().map(i64::from).ok_or_else(malformed);
            let negative = field(1)? == 1;
            let days = bytes
                .get(2..6)
                .and_then(|d| <[u8; 4]>::try_from(d).ok())
                .map(u32::from_le_bytes)
                .ok_or_else(malformed)?;
            let micros = match bytes.get(9..13) {
                Some(m) => <[u8; 4]>::try_from(m)
                    .map(u32::from_le_bytes)
                    .map_err(|_| malformed())?,
                None => 0,
            };
            let secs = ((i64::from(days) * 24 + field(6)?) * 60 + field(7)?) * 60 + field(8)?;
            let total = secs * 1_000_000 + i64::from(micros);
            Ok(if negative { -total } else { total })
        }
    }
}

/// `[-]H+:MM:SS[.f{1,6}]` as signed microseconds.
fn parse_time_text(text: &str) -> std::result::Result<i64, BoxDynError> {
    let malformed = || -> BoxDynError { format!("malformed TIME value {text:?}").into() };
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = rest.split_once('.').unwrap_or((rest, ""));
    let mut parts = whole.split(':');
    let mut number = |max_len: usize| -> std::result::Result<i64, BoxDynError> {
        let p = parts.next().ok_or_else(malformed)?;
        if p.is_empty() || p.len() > max_len || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed());
        }
        p.parse::<i64>().map_err(|_| malformed())
    };
    let (hours, minutes, seconds) = (number(4)?, number(2)?, number(2)?);
    if parts.next().is_some() || fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(malformed());
    }
    let mut micros = 0i64;
    for i in 0..6 {
        micros = micros * 10
            + fraction
                .as_bytes()
                .get(i)
                .map_or(0, |d| i64::from(d - b'0'));
    }
    let total = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000 + micros;
    Ok(if negative { -total } else { total })
}

/// Decodes one result row with `columns` (one per output column, in
/// order).
///
/// # Errors
///
/// - [`Error::InvalidQuery`] when the row has a different number of columns;
/// - [`Error::TypeMismatch`] when the server sends a column type the
///   attribute's type cannot be read from (the table changed since the
///   schema was inferred);
/// - [`Error::Database`] with a column-decode source for a malformed value
///   (invalid JSON in a JSON attribute, say), naming the attribute.
pub(crate) fn decode_row(columns: &Arc<Columns>, row: &MySqlRow) -> Result<Row> {
    let n = columns.plans.len();
    if row.len() != n {
        return Err(Error::InvalidQuery {
            relation: columns.relation.clone(),
            reason: format!(
                "the statement returned {} columns where {n} were expected ({})",
                row.len(),
                columns.names.join(", ")
            ),
        });
    }
    let mut values = Vec::with_capacity(n);
    for (i, &plan) in columns.plans.iter().enumerate() {
        let raw = row
            .try_get_raw(i)
            .map_err(|e| Error::database("reading a result column", e))?;
        values.push(
            plan.decode(raw)
                .map_err(|f| columns.decode_error(i, plan, f))?,
        );
    }
    Ok(Row {
        columns: Arc::clone(columns),
        values,
        nested: Vec::new(),
    })
}

/// The columns of a raw result row, decoded by the column types the
/// server reports.
#[allow(dead_code)]
pub(crate) fn columns_from_mysql(row: &MySqlRow) -> Arc<Columns> {
    Columns::from_mysql(RAW_SQL, row.columns(), None)
}

/// The value of one column of a raw row, decoded by the column type the
/// server reports (`COUNT(*)`, `SUM(...)`).
///
/// # Errors
///
/// As [`decode_row`]; also when there is no column at `index`.
pub(crate) fn decode_scalar(row: &MySqlRow, index: usize) -> Result<Value> {
    let raw = row
        .try_get_raw(index)
        .map_err(|e| Error::database("reading a result column", e))?;
    DecodePlan::Runtime.decode(raw).map_err(|f| {
        let source = match f {
            Failure::Mismatch(got) => format!("cannot read a {got} column").into(),
            Failure::Malformed(e) => e,
        };
        Error::database(
            format!("decoding result column {index}"),
            sqlx::Error::ColumnDecode {
                index: index.to_string(),
                source,
            },
        )
    })
}

/// Decodes raw result rows, one column list per result set (a statement
/// may return several).
#[allow(dead_code)]
pub(crate) fn decode_raw_rows(
    relation: &str,
    schema: Option<&Schema>,
    rows: &[MySqlRow],
) -> Result<Vec<Row>> {
    let mut out = Vec::with_capacity(rows.len());
    let mut current: Option<(&MySqlRow, Arc<Columns>)> = None;
    for row in rows {
        match &current {
            // Rows held together share their result set's column list.
            Some((first, columns)) if same_result_set(first, row) => {
                out.push(decode_row(columns, row)?);
            }
            _ => {
                let columns = Columns::from_mysql(relation, row.columns(), schema);
                out.push(decode_row(&columns, row)?);
                current = Some((row, columns));
            }
        }
    }
    Ok(out)
}

/// The bound arguments of a raw statement: none at all (MySQL's text
/// protocol, no prepare) when there are no values.
fn raw_arguments(binds: &[Value]) -> Result<Option<sqlx::mysql::MySqlArguments>> {
    if binds.is_empty() {
        Ok(None)
    } else {
        arguments(binds).map(Some)
    }
}

/// Runs raw SQL with bound values (`?` placeholders) and returns its rows
/// as dynamic rows, decoded by the column types the server reports (ROM's
/// `read`). Any executor works: a connection, a transaction (`&mut *tx`)
/// or a pool.
///
/// A statement with no values runs unprepared (MySQL's text protocol), one
/// with values as a cached prepared statement (the binary protocol); see
/// the module docs for the one difference that makes. Without a schema,
/// MariaDB's JSON columns (`LONGTEXT`) read as text: use
/// [`read_with_schema`] to read them as JSON.
///
/// ```no_run
/// # async fn example(conn: &mut sqlx::MySqlConnection) -> ferrom::Result<()> {
/// use ferrom::Value;
///
/// let sql = "SELECT id, name FROM companies WHERE id > ?";
/// for row in ferrom::row::read(&mut *conn, sql, &[Value::Int(0)]).await? {
///     println!("{} {}", row.get("id")?, row.get("name")?);
/// }
/// # Ok(())
/// # }
/// ```
///
/// # Errors
///
/// - [`Error::Database`] with the server's error, or when a value cannot be
///   bound (a [`Value::List`]: expand lists into one `?` each);
/// - [`Error::Database`] naming the column when a value is malformed.
pub async fn read<'c, E>(executor: E, sql: &str, binds: &[Value]) -> Result<Vec<Row>>
where
    E: sqlx::Executor<'c, Database = MySql>,
{
    read_inner(executor, None, sql, binds).await
}

/// [`read`], with the columns that come straight from `schema`'s table read
/// as its attributes (whatever they are aliased to): a JSON attribute reads
/// as [`Value::Json`] on MariaDB too, a `set` as a list. Other columns
/// (expressions, other tables) read by the type the server reports.
///
/// # Errors
///
/// As [`read`].
pub async fn read_with_schema<'c, E>(
    executor: E,
    schema: &Schema,
    sql: &str,
    binds: &[Value],
) -> Result<Vec<Row>>
where
    E: sqlx::Executor<'c, Database = MySql>,
{
    read_inner(executor, Some(schema), sql, binds).await
}

async fn read_inner<'c, E>(
    executor: E,
    schema: Option<&Schema>,
    sql: &str,
    binds: &[Value],
) -> Result<Vec<Row>>
where
    E: sqlx::Executor<'c, Database = MySql>,
{
    let relation = schema.map_or(RAW_SQL, Schema::relation);
    fetch_rows(executor, relation, schema, sql, binds, |e| {
        Error::database("running raw SQL", e)
    })
    .await
}

/// Runs a statement and decodes its rows as they arrive (each raw row is
/// dropped as soon as it is decoded, which keeps this close to sqlx's own
/// `query_as`), with one column list per result set.
async fn fetch_rows<'c, E>(
    executor: E,
    relation: &str,
    schema: Option<&Schema>,
    sql: &str,
    binds: &[Value],
    on_error: impl Fn(sqlx::Error) -> Error,
) -> Result<Vec<Row>>
where
    E: sqlx::Executor<'c, Database = MySql>,
{
    let args = raw_arguments(binds)?;
    let mut stream = executor.fetch((sqlx::AssertSqlSafe(sql), args));
    let mut out = Vec::new();
    // The first row of the current result set, kept so its column list
    // stays shared: the driver then gives the next result set a list of
    // its own, and a different pointer tells the sets apart.
    let mut current: Option<(MySqlRow, Arc<Columns>)> = None;
    while let Some(row) = stream.try_next().await.map_err(&on_error)? {
        match &current {
            Some((first, columns)) if same_result_set(first, &row) => {
                out.push(decode_row(columns, &row)?);
            }
            _ => {
                let columns = Columns::from_mysql(relation, row.columns(), schema);
                out.push(decode_row(&columns, &row)?);
                current = Some((row, columns));
            }
        }
    }
    Ok(out)
}

/// Runs a statement whose output columns are known (a relation's select
/// list) and decodes each row with `columns` as it arrives: the fast path
/// for materializing dynamic rows (decoding while streaming, rather than
/// after `fetch_all`, keeps within a few percent of sqlx's `query_as`).
/// Binds always go through a prepared statement, so one SQL shape is one
/// cached statement.
///
/// # Errors
///
/// `on_error` of the driver's error; as [`decode_row`].
#[allow(dead_code)]
pub(crate) async fn fetch_with_columns<'c, E>(
    executor: E,
    columns: &Arc<Columns>,
    sql: &str,
    binds: &[Value],
    on_error: impl Fn(sqlx::Error) -> Error,
) -> Result<Vec<Row>>
where
    E: sqlx::Executor<'c, Database = MySql>,
{
    let args = arguments(binds)?;
    let mut stream = executor.fetch((sqlx::AssertSqlSafe(sql), Some(args)));
    let mut out = Vec::new();
    while let Some(row) = stream.try_next().await.map_err(&on_error)? {
        out.push(decode_row(columns, &row)?);
    }
    Ok(out)
}

/// Whether two rows share their column list (come from one result set).
fn same_result_set(a: &MySqlRow, b: &MySqlRow) -> bool {
    std::ptr::eq(a.columns(), b.columns())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_text() {
        assert_eq!(parse_time_text("00:00:00").unwrap(), 0);
        assert_eq!(parse_time_text("-00:30:00").unwrap(), -30 * 60 * 1_000_000);
        assert_eq!(
            parse_time_text("838:59:59.000001").unwrap(),
            ((838 * 60 + 59) * 60 + 59) * 1_000_000 + 1
        );
        assert_eq!(
            parse_time_text("-01:02:03.5").unwrap(),
            -(3723 * 1_000_000 + 500_000)
        );
        for bad in [
            "",
            "1:2",
            "1:2:3:4",
            "aa:00:00",
            "00:00:00.1234567",
            "00:00:00.x",
            "-",
        ] {
            assert!(parse_time_text(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_binary() {
        // 1 day 2:03:04.000005, negative.
        let bytes = [12u8, 1, 1, 0, 0, 0, 2, 3, 4, 5, 0, 0, 0];
        assert_eq!(
            decode_time(&bytes).unwrap(),
            -((26 * 3600 + 3 * 60 + 4) * 1_000_000 + 5)
        );
        let bytes = [8u8, 0, 0, 0, 0, 0, 0, 30, 0];
        assert_eq!(decode_time(&bytes).unwrap(), 30 * 60 * 1_000_000);
        assert_eq!(decode_time(&[0]).unwrap(), 0);
        assert!(decode_time(&[8, 0, 0]).is_err());
        assert!(decode_time(&[]).is_err());
    }

    #[test]
    fn rows_look_values_up_by_name_without_panicking() {
        let columns = Columns::new(
            "companies",
            vec![
                (
                    "id".into(),
                    Some(Type::Integer {
                        bits: 32,
                        unsigned: false,
                    }),
                ),
                ("name".into(), None),
            ],
        );
        let row = Row::from_parts(columns, vec![Value::Int(1), Value::String("A".into())]);
        assert_eq!(row.get("id").unwrap(), &Value::Int(1));
        assert_eq!(row.names(), ["id".to_string(), "name".to_string()]);
        assert_eq!(row.to_json(), serde_json::json!({"id": 1, "name": "A"}));
        assert_eq!(row.iter().count(), 2);
        assert_eq!(format!("{row:?}"), r#"{"id": Int(1), "name": String("A")}"#);
        match row.get("nope").unwrap_err() {
            Error::UnknownAttribute {
                relation,
                attribute,
                known,
            } => {
                assert_eq!(
                    (relation.as_str(), attribute.as_str()),
                    ("companies", "nope")
                );
                assert_eq!(known, vec!["id".to_string(), "name".to_string()]);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(row.get_index(2).is_none());
    }

    #[test]
    fn plans_follow_the_schema_type() {
        let cases = [
            (Type::Bool, DecodePlan::Bool),
            (Type::Set(vec![]), DecodePlan::Set),
            (Type::Enum(vec![]), DecodePlan::Text),
            (Type::Json, DecodePlan::Json),
            (
                Type::Unknown {
                    db_type: "bit(1)".into(),
                    binary: true,
                },
                DecodePlan::RawBytes,
            ),
            (
                Type::Unknown {
                    db_type: "uuid".into(),
                    binary: false,
                },
                DecodePlan::LossyText,
            ),
        ];
        for (ty, plan) in cases {
            assert_eq!(DecodePlan::for_type(&ty), plan, "{ty}");
        }
    }
}
