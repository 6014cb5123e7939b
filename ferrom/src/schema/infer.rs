//! Schema inference: from the columns introspection found to a relation's
//! [`Schema`], with declared attributes taking precedence over the inferred
//! type.
//!
//! The mapping is the table in [`Type`]'s module docs. A column type ferrom
//! does not know (`bit`, the spatial types, MariaDB's `inet6` and `uuid`,
//! `vector`, ...) does not stop the boot: it becomes [`Type::Unknown`],
//! read as text or bytes, and a warning names it.

use crate::error::{Error, Result};
use crate::gateway::{ColumnInfo, TableInfo};

use super::{Attribute, Schema, Type};

/// Infers a relation's schema from its table, as the container does at
/// finalize: every column becomes an attribute typed after the column, and
/// an attribute in `declared` (matched by name) replaces the inferred type
/// only (nullability, default and keys still come from the database).
///
/// Returns the schema and the warnings inference raised (one per column of
/// a type ferrom does not know, saying how it reads).
///
/// ```
/// use ferrom::gateway::{ColumnInfo, TableInfo};
/// use ferrom::schema::{Attribute, Type, infer_schema};
///
/// let stats = ColumnInfo {
///     name: "stats".into(),
///     position: 1,
///     data_type: "longtext".into(),
///     column_type: "longtext".into(),
///     nullable: true,
///     default: None,
///     primary_key: false,
///     auto_increment: false,
///     generated: false,
///     max_length: Some(4_294_967_295),
///     numeric_precision: None,
///     numeric_scale: None,
///     datetime_precision: None,
///     json: false,
/// };
/// let table = TableInfo {
///     name: "posts".into(),
///     table_type: "BASE TABLE".into(),
///     columns: vec![stats],
///     ..TableInfo::default()
/// };
/// let (schema, warnings) =
///     infer_schema("posts", &table, &[Attribute::new("stats", Type::Json)])?;
/// assert_eq!(schema.attribute("stats").map(|a| &a.ty), Some(&Type::Json));
/// assert!(warnings.is_empty());
/// # Ok::<(), ferrom::Error>(())
/// ```
///
/// # Errors
///
/// - [`Error::UnknownAttribute`] when a declared attribute names no column
///   of the table (the error lists the table's columns);
/// - [`Error::TypeMismatch`] when a declared type cannot be read from its
///   column (a `date` declared over an `int` column, say).
pub fn infer_schema(
    relation: &str,
    table: &TableInfo,
    declared: &[Attribute],
) -> Result<(Schema, Vec<String>)> {
    let mut warnings = Vec::new();
    let schema = infer(relation, table, declared, &mut warnings)?;
    Ok((schema, warnings))
}

/// [`infer_schema`], pushing warnings onto the caller's list.
pub(crate) fn infer(
    relation: &str,
    table: &TableInfo,
    declared: &[Attribute],
    warnings: &mut Vec<String>,
) -> Result<Schema> {
    for d in declared {
        if table.column(&d.name).is_none() {
            return Err(Error::UnknownAttribute {
                relation: relation.to_string(),
                attribute: d.name.clone(),
                known: table.columns.iter().map(|c| c.name.clone()).collect(),
            });
        }
    }
    let mut attributes = Vec::with_capacity(table.columns.len());
    for column in &table.columns {
        let inferred = column_type(column);
        // The last declaration of a name wins, as a later `attribute` call
        // in a ROM schema block would.
        let declaration = declared.iter().rev().find(|d| d.name == column.name);
        let (ty, is_declared) = match declaration {
            Some(d) => {
                if !readable_as(&d.ty, &inferred) {
                    return Err(Error::TypeMismatch {
                        relation: relation.to_string(),
                        attribute: column.name.clone(),
                        expected: format!("a column that reads as {} (the declared type)", d.ty),
                        got: format!("a `{}` column", column.column_type),
                    });
                }
                (d.ty.clone(), true)
            }
            None => {
                if let Type::Unknown { db_type, binary } = &inferred {
                    warnings.push(format!(
                        "relation `{relation}`, attribute `{}`: column type `{db_type}` is not known to ferrom; it reads as {} (declare the attribute to choose a type)",
                        column.name,
                        if *binary { "bytes" } else { "text" },
                    ));
                }
                (inferred, false)
            }
        };
        attributes.push(Attribute {
            name: column.name.clone(),
            ty,
            nullable: column.nullable,
            default: column.default.clone(),
            primary_key: column.primary_key,
            auto_increment: column.auto_increment,
            generated: column.generated,
            db_type: column.column_type.clone(),
            declared: is_declared,
        });
    }
    Ok(Schema::new(
        relation,
        &table.name,
        attributes,
        table.indexes.clone(),
        table.foreign_keys.clone(),
    ))
}

/// The type ferrom reads a column as.
pub(crate) fn column_type(column: &ColumnInfo) -> Type {
    if column.json {
        return Type::Json;
    }
    let data_type = column.data_type.to_ascii_lowercase();
    let column_type = column.column_type.to_ascii_lowercase();
    let unsigned = column_type.contains("unsigned");
    let integer = |bits: u8| Type::Integer { bits, unsigned };
    let fraction = || {
        column
            .datetime_precision
            .and_then(|p| u8::try_from(p).ok())
            .unwrap_or(0)
            .min(6)
    };
    match data_type.as_str() {
        "tinyint" if is_tinyint_1(&column_type) => Type::Bool,
        "bool" | "boolean" => Type::Bool,
        "tinyint" => integer(8),
        "smallint" => integer(16),
        "mediumint" => integer(24),
        "int" | "integer" => integer(32),
        "bigint" => integer(64),
        "year" => Type::Integer {
            bits: 16,
            unsigned: true,
        },
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => Type::String {
            max_length: column.max_length,
        },
        "decimal" | "numeric" | "dec" | "fixed" => {
            let (p, s) = parenthesized_pair(&column_type).unwrap_or((10, 0));
            Type::Decimal {
                precision: column.numeric_precision.unwrap_or(p),
                scale: column.numeric_scale.unwrap_or(s),
            }
        }
        "float" => Type::Float { double: false },
        "double" | "real" | "double precision" => Type::Float { double: true },
        "date" => Type::Date,
        "datetime" => Type::DateTime {
            precision: fraction(),
            timestamp: false,
        },
        "timestamp" => Type::DateTime {
            precision: fraction(),
            timestamp: true,
        },
        "time" => Type::Time {
            precision: fraction(),
        },
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => Type::Bytes {
            max_length: column.max_length,
        },
        "json" => Type::Json,
        "enum" => match parse_enum_values(&column.column_type) {
            Some(values) => Type::Enum(values),
            None => unknown(column, false),
        },
        "set" => match parse_enum_values(&column.column_type) {
            Some(values) => Type::Set(values),
            None => unknown(column, false),
        },
        "bit" | "geometry" | "point" | "linestring" | "polygon" | "multipoint"
        | "multilinestring" | "multipolygon" | "geometrycollection" | "geomcollection"
        | "vector" => unknown(column, true),
        _ => unknown(column, false),
    }
}

fn unknown(column: &ColumnInfo, binary: bool) -> Type {
    Type::Unknown {
        db_type: column.column_type.clone(),
        binary,
    }
}

/// `tinyint(1)`, signed or not: MySQL's and MariaDB's boolean.
fn is_tinyint_1(column_type: &str) -> bool {
    column_type
        .strip_prefix("tinyint(1)")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

/// `(p,s)` out of `decimal(p,s)`; `(p,0)` out of `decimal(p)`.
fn parenthesized_pair(column_type: &str) -> Option<(u32, u32)> {
    let inner = column_type.split_once('(')?.1.split_once(')')?.0;
    let mut parts = inner.split(',').map(|p| p.trim().parse::<u32>());
    let p = parts.next()?.ok()?;
    let s = match parts.next() {
        Some(s) => s.ok()?,
        None => 0,
    };
    Some((p, s))
}

/// The allowed values of an `enum(...)` or `set(...)` column type, as
/// information_schema spells them: each value single-quoted, a quote inside
/// doubled (`''`) or backslash-escaped, a backslash doubled. `None` when the
/// text is not such a list.
pub(crate) fn parse_enum_values(column_type: &str) -> Option<Vec<String>> {
    let open = column_type.find('(')?;
    let head = column_type[..open].trim();
    if !(head.eq_ignore_ascii_case("enum") || head.eq_ignore_ascii_case("set")) {
        return None;
    }
    let mut chars = column_type[open + 1..].chars().peekable();
    let mut values = Vec::new();
    loop {
        match chars.next()? {
            '\'' => {}
            ')' if values.is_empty() => break,
            _ => return None,
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    value.push('\'');
                }
                '\'' => break,
                '\\' => value.push(match chars.next()? {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    'b' => '\u{8}',
                    'Z' => '\u{1a}',
                    other => other,
                }),
                c => value.push(c),
            }
        }
        values.push(value);
        match chars.next()? {
            ',' => {}
            ')' => break,
            _ => return None,
        }
    }
    Some(values)
}

/// Whether values of a column inferred as `inferred` can be read as
/// `declared`: the same storage family (integers and booleans; text, JSON,
/// enums, sets and bytes; each temporal and numeric kind on its own). An
/// `Unknown` declaration reads anything as text or bytes.
fn readable_as(declared: &Type, inferred: &Type) -> bool {
    use Type as T;
    let texty = |t: &Type| {
        matches!(
            t,
            T::String { .. }
                | T::Enum(_)
                | T::Set(_)
                | T::Json
                | T::Bytes { .. }
                | T::Unknown { .. }
        )
    };
    match declared {
        T::Unknown { .. } => true,
        T::Integer { .. } | T::Bool => matches!(inferred, T::Integer { .. } | T::Bool),
        T::Decimal { .. } => matches!(inferred, T::Decimal { .. }),
        T::Float { .. } => matches!(inferred, T::Float { .. }),
        T::Date => matches!(inferred, T::Date),
        T::DateTime { .. } => matches!(inferred, T::DateTime { .. }),
        T::Time { .. } => matches!(inferred, T::Time { .. }),
        T::String { .. } | T::Enum(_) | T::Set(_) | T::Json | T::Bytes { .. } => texty(inferred),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(data_type: &str, column_type: &str) -> ColumnInfo {
        ColumnInfo {
            name: "c".into(),
            position: 1,
            data_type: data_type.into(),
            column_type: column_type.into(),
            nullable: false,
            default: None,
            primary_key: false,
            auto_increment: false,
            generated: false,
            max_length: None,
            numeric_precision: None,
            numeric_scale: None,
            datetime_precision: None,
            json: false,
        }
    }

    fn table(columns: Vec<ColumnInfo>) -> TableInfo {
        TableInfo {
            name: "t".into(),
            table_type: "BASE TABLE".into(),
            columns,
            ..TableInfo::default()
        }
    }

    #[test]
    fn enum_values_with_doubled_quotes_and_backslashes() {
        assert_eq!(
            parse_enum_values(r"enum('a','B''c','d\\e','f,g','Hi')"),
            Some(vec![
                "a".to_string(),
                "B'c".into(),
                r"d\e".into(),
                "f,g".into(),
                "Hi".into()
            ])
        );
        assert_eq!(
            parse_enum_values(r"set('x','it\'s','')"),
            Some(vec!["x".to_string(), "it's".into(), String::new()])
        );
        assert_eq!(parse_enum_values("ENUM('A')"), Some(vec!["A".to_string()]));
        assert_eq!(parse_enum_values("enum()"), Some(vec![]));
    }

    #[test]
    fn malformed_enum_lists_are_rejected() {
        assert_eq!(parse_enum_values("enum('a'"), None);
        assert_eq!(parse_enum_values("enum('a' 'b')"), None);
        assert_eq!(parse_enum_values("enum(a)"), None);
        assert_eq!(parse_enum_values("varchar(3)"), None);
        assert_eq!(parse_enum_values("enum"), None);
    }

    #[test]
    fn integers_of_every_width_and_sign() {
        let cases = [
            ("tinyint", "tinyint(4)", 8, false),
            ("tinyint", "tinyint(3) unsigned", 8, true),
            ("tinyint", "tinyint(2)", 8, false),
            ("smallint", "smallint(6)", 16, false),
            ("mediumint", "mediumint(8) unsigned", 24, true),
            ("int", "int(11)", 32, false),
            ("int", "int", 32, false),
            ("bigint", "bigint(20) unsigned", 64, true),
            ("year", "year(4)", 16, true),
        ];
        for (data_type, db_type, bits, unsigned) in cases {
            assert_eq!(
                column_type_of(data_type, db_type),
                Type::Integer { bits, unsigned },
                "{db_type}"
            );
        }
    }

    fn column_type_of(data_type: &str, db_type: &str) -> Type {
        column_type(&column(data_type, db_type))
    }

    #[test]
    fn tinyint_1_is_a_boolean() {
        assert_eq!(column_type_of("tinyint", "tinyint(1)"), Type::Bool);
        assert_eq!(column_type_of("tinyint", "tinyint(1) unsigned"), Type::Bool);
        assert_eq!(
            column_type_of("tinyint", "tinyint(10)"),
            Type::Integer {
                bits: 8,
                unsigned: false
            }
        );
    }

    #[test]
    fn text_decimal_float_and_time_types() {
        let mut c = column("varchar", "varchar(20)");
        c.max_length = Some(20);
        assert_eq!(
            column_type(&c),
            Type::String {
                max_length: Some(20)
            }
        );

        let mut c = column("decimal", "decimal(12,4)");
        c.numeric_precision = Some(12);
        c.numeric_scale = Some(4);
        assert_eq!(
            column_type(&c),
            Type::Decimal {
                precision: 12,
                scale: 4
            }
        );
        // Without information_schema's numbers, from the column type.
        assert_eq!(
            column_type_of("decimal", "decimal(7,2) unsigned"),
            Type::Decimal {
                precision: 7,
                scale: 2
            }
        );

        assert_eq!(
            column_type_of("float", "float"),
            Type::Float { double: false }
        );
        assert_eq!(
            column_type_of("double", "double"),
            Type::Float { double: true }
        );

        let mut c = column("timestamp", "timestamp(3)");
        c.datetime_precision = Some(3);
        assert_eq!(
            column_type(&c),
            Type::DateTime {
                precision: 3,
                timestamp: true
            }
        );
        assert_eq!(
            column_type_of("datetime", "datetime"),
            Type::DateTime {
                precision: 0,
                timestamp: false
            }
        );
        let mut c = column("time", "time(6)");
        c.datetime_precision = Some(6);
        assert_eq!(column_type(&c), Type::Time { precision: 6 });
        assert_eq!(column_type_of("date", "date"), Type::Date);
    }

    #[test]
    fn bytes_json_enum_set() {
        let mut c = column("varbinary", "varbinary(16)");
        c.max_length = Some(16);
        assert_eq!(
            column_type(&c),
            Type::Bytes {
                max_length: Some(16)
            }
        );
        assert_eq!(column_type_of("json", "json"), Type::Json);
        let mut c = column("longtext", "longtext");
        c.json = true;
        assert_eq!(column_type(&c), Type::Json);
        assert_eq!(
            column_type_of("enum", "enum('a','b')"),
            Type::Enum(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            column_type_of("set", "set('x')"),
            Type::Set(vec!["x".into()])
        );
    }

    #[test]
    fn unknown_types_read_as_text_or_bytes_with_a_warning() {
        assert_eq!(
            column_type_of("bit", "bit(8)"),
            Type::Unknown {
                db_type: "bit(8)".into(),
                binary: true
            }
        );
        assert_eq!(
            column_type_of("point", "point"),
            Type::Unknown {
                db_type: "point".into(),
                binary: true
            }
        );
        assert_eq!(
            column_type_of("inet6", "inet6"),
            Type::Unknown {
                db_type: "inet6".into(),
                binary: false
            }
        );
        let mut c = column("uuid", "uuid");
        c.name = "token".into();
        let mut warnings = Vec::new();
        let schema = infer("things", &table(vec![c]), &[], &mut warnings).unwrap();
        assert_eq!(schema.attributes()[0].ty.name(), "unknown");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("`things`"), "{}", warnings[0]);
        assert!(warnings[0].contains("`token`"), "{}", warnings[0]);
        assert!(warnings[0].contains("`uuid`"), "{}", warnings[0]);
        assert!(warnings[0].contains("reads as text"), "{}", warnings[0]);
    }

    #[test]
    fn declared_attributes_override_the_type_only() {
        let mut c = column("longtext", "longtext");
        c.name = "stats".into();
        c.nullable = true;
        c.default = Some("{}".into());
        let (schema, warnings) = infer_schema(
            "posts",
            &table(vec![c]),
            &[Attribute::new("stats", Type::Json)],
        )
        .unwrap();
        let stats = schema.attribute("stats").unwrap();
        assert_eq!(stats.ty, Type::Json);
        assert!(stats.declared);
        assert!(stats.nullable);
        assert_eq!(stats.default.as_deref(), Some("{}"));
        assert_eq!(stats.db_type, "longtext");
        assert!(warnings.is_empty());
    }

    #[test]
    fn a_declared_attribute_without_a_column_is_an_error() {
        let err = infer_schema(
            "posts",
            &table(vec![column("int", "int(11)")]),
            &[Attribute::new("nope", Type::Json)],
        )
        .unwrap_err();
        match err {
            Error::UnknownAttribute {
                relation,
                attribute,
                known,
            } => {
                assert_eq!(relation, "posts");
                assert_eq!(attribute, "nope");
                assert_eq!(known, vec!["c".to_string()]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_declared_type_the_column_cannot_hold_is_an_error() {
        let err = infer_schema(
            "t",
            &table(vec![column("int", "int(11)")]),
            &[Attribute::new("c", Type::Date)],
        )
        .unwrap_err();
        assert!(matches!(err, Error::TypeMismatch { .. }), "{err:?}");
        // Booleans over integers are fine, and unknown reads anything.
        assert!(
            infer_schema(
                "t",
                &table(vec![column("int", "int(11)")]),
                &[Attribute::new("c", Type::Bool)]
            )
            .is_ok()
        );
    }
}
