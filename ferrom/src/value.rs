//! Dynamic values: what one attribute of a dynamic [`Row`](crate::Row)
//! holds, and what conditions and command inputs are made of.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// One value of a dynamic row, a condition or a command input.
///
/// Values are always sent to the server as bound parameters, never spliced
/// into SQL text.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A boolean (`tinyint(1)`).
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer too large for `i64` is kept here; smaller unsigned
    /// values read as [`Value::Int`].
    UInt(u64),
    /// A floating-point number (`float`, `double`).
    Float(f64),
    /// An exact decimal, as its canonical text (`"12.50"`); never through
    /// `f64`.
    Decimal(String),
    /// Text (`char`, `varchar`, `text`, `enum`).
    String(String),
    /// Bytes (`binary`, `varbinary`, `blob`).
    Bytes(Vec<u8>),
    /// A date.
    Date(NaiveDate),
    /// A date and time, in UTC (`datetime`, `timestamp`).
    DateTime(NaiveDateTime),
    /// A time of day or a duration (`time`), as signed microseconds
    /// (MySQL's `TIME` ranges over -838:59:59 to 838:59:59).
    Time(i64),
    /// A JSON document.
    Json(serde_json::Value),
    /// A list, for `IN` conditions and `set` columns.
    List(Vec<Value>),
}

impl Value {
    /// Whether this is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The name of the value's kind, for error messages (`integer`,
    /// `string`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nil",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::UInt(_) => "integer",
            Value::Float(_) => "float",
            Value::Decimal(_) => "decimal",
            Value::String(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Date(_) => "date",
            Value::DateTime(_) => "datetime",
            Value::Time(_) => "time",
            Value::Json(_) => "json",
            Value::List(_) => "list",
        }
    }

    /// The integer, if this is one that fits `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::UInt(u) => i64::try_from(*u).ok(),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// The text, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as JSON: rows as objects, times as ISO 8601 in UTC, decimals
    /// as strings (exact), bytes as arrays of numbers.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::UInt(u) => J::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Decimal(d) => J::String(d.clone()),
            Value::String(s) => J::String(s.clone()),
            Value::Bytes(b) => J::Array(b.iter().map(|x| J::from(*x)).collect()),
            Value::Date(d) => J::String(d.format("%Y-%m-%d").to_string()),
            Value::DateTime(t) => J::String(
                t.and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            ),
            Value::Time(us) => J::String(format_time(*us)),
            Value::Json(j) => j.clone(),
            Value::List(items) => J::Array(items.iter().map(Value::to_json).collect()),
        }
    }
}

/// `HH:MM:SS[.ffffff]` with a sign for negative times.
pub(crate) fn format_time(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let m = micros.unsigned_abs();
    let (secs, frac) = (m / 1_000_000, m % 1_000_000);
    let (h, rem) = (secs / 3600, secs % 3600);
    let (min, s) = (rem / 60, rem % 60);
    if frac == 0 {
        format!("{sign}{h:02}:{min:02}:{s:02}")
    } else {
        format!("{sign}{h:02}:{min:02}:{s:02}.{frac:06}")
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::UInt(u) => write!(f, "{u}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Decimal(d) => f.write_str(d),
            Value::String(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "<{} bytes>", b.len()),
            Value::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Value::DateTime(t) => write!(f, "{}", t.format("%Y-%m-%d %H:%M:%S%.f +0000")),
            Value::Time(us) => f.write_str(&format_time(*us)),
            Value::Json(j) => write!(f, "{j}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(i64::from(v))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        i64::try_from(v).map_or(Value::UInt(v), Value::Int)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::String(v.clone())
    }
}

impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Self {
        Value::Date(v)
    }
}

impl From<NaiveDateTime> for Value {
    fn from(v: NaiveDateTime) -> Self {
        Value::DateTime(v)
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::DateTime(v.naive_utc())
    }
}

impl From<NaiveTime> for Value {
    fn from(v: NaiveTime) -> Self {
        let micros = (v - NaiveTime::MIN).num_microseconds().unwrap_or(0);
        Value::Time(micros)
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        Value::Json(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value> + Clone> From<&[T]> for Value {
    fn from(v: &[T]) -> Self {
        Value::List(v.iter().cloned().map(Into::into).collect())
    }
}

impl<T: Into<Value>, const N: usize> From<[T; N]> for Value {
    fn from(v: [T; N]) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}
