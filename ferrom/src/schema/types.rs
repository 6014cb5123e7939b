//! Attribute types: what ferrom reads a column as and what it accepts on
//! write.
//!
//! | MySQL / MariaDB column | [`Type`] | [`Value`](crate::Value) read |
//! |---|---|---|
//! | `tinyint`..`bigint` (signed or unsigned), `year` | `Integer` | `Int` (`UInt` above `i64::MAX`) |
//! | `tinyint(1)`, `bool` | `Bool` | `Bool` |
//! | `char`, `varchar`, `*text` | `String` (with length) | `String` |
//! | `decimal(p,s)` | `Decimal` | `Decimal` (exact text) |
//! | `float`, `double` | `Float` | `Float` |
//! | `date` | `Date` | `Date` |
//! | `datetime(n)`, `timestamp(n)` | `DateTime` | `DateTime` (UTC) |
//! | `time(n)` | `Time` | `Time` (microseconds) |
//! | `binary`, `varbinary`, `*blob` | `Bytes` | `Bytes` |
//! | `json` (MySQL), `longtext` + `json_valid` check (MariaDB) | `Json` | `Json` |
//! | `enum(...)` | `Enum` (allowed values) | `String` |
//! | `set(...)` | `Set` (allowed values) | `List` of `String` |
//! | anything else | `Unknown` (read as text or bytes, with a warning at boot) | `String` / `Bytes` |

use std::fmt;

/// The type of an attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Type {
    /// An integer of `bits` width (8, 16, 24, 32, 64), signed or not.
    Integer {
        /// Storage width in bits.
        bits: u8,
        /// `unsigned`.
        unsigned: bool,
    },
    /// A boolean stored as `tinyint(1)`.
    Bool,
    /// Text, with its maximum length in characters where the column has one.
    String {
        /// Maximum length in characters.
        max_length: Option<u64>,
    },
    /// An exact decimal.
    Decimal {
        /// Total digits.
        precision: u32,
        /// Digits after the point.
        scale: u32,
    },
    /// A floating-point number; `double` when 64 bits.
    Float {
        /// `double` rather than `float`.
        double: bool,
    },
    /// A calendar date.
    Date,
    /// A date and time (`datetime` or `timestamp`), in UTC.
    DateTime {
        /// Fractional-second digits (0 to 6).
        precision: u8,
        /// A `timestamp` column rather than `datetime`.
        timestamp: bool,
    },
    /// A time of day or duration.
    Time {
        /// Fractional-second digits (0 to 6).
        precision: u8,
    },
    /// Binary data, with its maximum length in bytes where the column has one.
    Bytes {
        /// Maximum length in bytes.
        max_length: Option<u64>,
    },
    /// A JSON document.
    Json,
    /// One of a fixed list of strings.
    Enum(Vec<String>),
    /// Any subset of a fixed list of strings.
    Set(Vec<String>),
    /// A column type ferrom does not know; read as text, or as bytes when
    /// `binary`.
    Unknown {
        /// The column's database type.
        db_type: String,
        /// Read as bytes rather than text.
        binary: bool,
    },
}

impl Type {
    /// ROM's name for the type: `integer`, `boolean`, `string`, `decimal`,
    /// `float`, `date`, `datetime`, `time`, `blob`, `json`, `enum`, `set`,
    /// `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            Type::Integer { .. } => "integer",
            Type::Bool => "boolean",
            Type::String { .. } => "string",
            Type::Decimal { .. } => "decimal",
            Type::Float { .. } => "float",
            Type::Date => "date",
            Type::DateTime { .. } => "datetime",
            Type::Time { .. } => "time",
            Type::Bytes { .. } => "blob",
            Type::Json => "json",
            Type::Enum(_) => "enum",
            Type::Set(_) => "set",
            Type::Unknown { .. } => "unknown",
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Integer { bits, unsigned } => {
                write!(
                    f,
                    "integer({bits}{})",
                    if *unsigned { ", unsigned" } else { "" }
                )
            }
            Type::String {
                max_length: Some(n),
            } => write!(f, "string({n})"),
            Type::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            Type::DateTime { precision, .. } if *precision > 0 => {
                write!(f, "datetime({precision})")
            }
            Type::Enum(values) | Type::Set(values) => {
                write!(f, "{}({})", self.name(), values.join(", "))
            }
            Type::Unknown { db_type, .. } => write!(f, "unknown({db_type})"),
            other => f.write_str(other.name()),
        }
    }
}
