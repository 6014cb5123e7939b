//! Binding dynamic [`Value`]s as sqlx parameters.
//!
//! Every value reaches the server as a bound parameter, never as SQL text:
//!
//! | [`Value`] | bound as |
//! |---|---|
//! | `Null` | NULL |
//! | `Bool` | `TINYINT` 0 or 1 |
//! | `Int`, `UInt` | `BIGINT`, `BIGINT UNSIGNED` |
//! | `Float` | `DOUBLE` |
//! | `Decimal` | its text (exact; the server converts on insert) |
//! | `String`, `Bytes` | text, bytes |
//! | `Date`, `DateTime` | `DATE`, `DATETIME` (microseconds kept) |
//! | `Time` | `TIME` (signed, within ±838:59:59; as text beyond, for the server to reject) |
//! | `Json` | its serialized text |
//! | `List` | an error: the SQL renderer expands lists into one parameter each |
//!
//! A decimal bound as text compares with a `DECIMAL` column as a double on
//! the server; where exactness of a comparison matters the SQL renderer
//! wraps the placeholder as `CAST(? AS DECIMAL(p,s))`.

use sqlx::Arguments;
use sqlx::mysql::MySqlArguments;
use sqlx::mysql::types::{MySqlTime, MySqlTimeSign};

use crate::error::{Error, Result};
use crate::value::{Value, format_time};

/// Adds one value to `args`.
///
/// # Errors
///
/// [`Error::Database`] wrapping an encode error when the value cannot be a
/// parameter: a [`Value::List`] (lists are expanded by the SQL renderer, so
/// one reaching here is a bug in the caller) or a JSON document that does
/// not serialize.
pub(crate) fn bind_value(args: &mut MySqlArguments, value: &Value) -> Result<()> {
    let added = match value {
        Value::Null => Arguments::add(args, Option::<&str>::None),
        Value::Bool(b) => Arguments::add(args, *b),
        Value::Int(i) => Arguments::add(args, *i),
        Value::UInt(u) => Arguments::add(args, *u),
        Value::Float(f) => Arguments::add(args, *f),
        Value::Decimal(d) | Value::String(d) => Arguments::add(args, d.as_str()),
        Value::Bytes(b) => Arguments::add(args, b.as_slice()),
        Value::Date(d) => Arguments::add(args, *d),
        Value::DateTime(t) => Arguments::add(args, *t),
        Value::Time(micros) => match mysql_time(*micros) {
            Some(t) => Arguments::add(args, t),
            // Out of TIME's range: as text, for the server to reject (or
            // clip, outside strict mode) with its own message.
            None => Arguments::add(args, format_time(*micros)),
        },
        // Serialized straight into the arguments, as text.
        Value::Json(j) => Arguments::add(args, sqlx::types::Json(j)),
        Value::List(items) => Err(format!(
            "a list of {} values cannot be bound as one parameter; lists are expanded into one placeholder per item (IN lists), so this is a bug in the statement's renderer",
            items.len()
        )
        .into()),
    };
    added.map_err(|e| {
        Error::database(
            format!("binding a {} parameter", value.kind()),
            sqlx::Error::Encode(e),
        )
    })
}

/// Arguments holding `values`, in order.
///
/// # Errors
///
/// As [`bind_value`], for the first value that cannot be bound.
pub(crate) fn arguments(values: &[Value]) -> Result<MySqlArguments> {
    let mut args = MySqlArguments::default();
    Arguments::reserve(&mut args, values.len(), values.len() * 8);
    for value in values {
        bind_value(&mut args, value)?;
    }
    Ok(args)
}

/// Signed microseconds as a `MySqlTime`, `None` beyond TIME's range
/// (±838:59:59).
fn mysql_time(micros: i64) -> Option<MySqlTime> {
    let sign = if micros < 0 {
        MySqlTimeSign::Negative
    } else {
        MySqlTimeSign::Positive
    };
    let m = micros.unsigned_abs();
    let frac = u32::try_from(m % 1_000_000).ok()?;
    let secs = m / 1_000_000;
    let hours = u32::try_from(secs / 3600).ok()?;
    let minutes = u8::try_from(secs % 3600 / 60).ok()?;
    let seconds = u8::try_from(secs % 60).ok()?;
    MySqlTime::new(sign, hours, minutes, seconds, frac).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scalar_binds() {
        let values = [
            Value::Null,
            Value::Bool(true),
            Value::Int(-1),
            Value::UInt(u64::MAX),
            Value::Float(1.5),
            Value::Decimal("-12345678.1234".into()),
            Value::String("it's".into()),
            Value::Bytes(vec![0, 1, 2]),
            Value::Time(-1),
            Value::Time(839 * 3_600_000_000),
            Value::Json(serde_json::json!({"a": [1, 2]})),
        ];
        let args = arguments(&values).unwrap();
        assert_eq!(sqlx::Arguments::len(&args), values.len());
    }

    #[test]
    fn a_list_is_an_error_not_a_panic() {
        let err = arguments(&[Value::Int(1), Value::List(vec![Value::Int(2)])]).unwrap_err();
        assert!(err.to_string().contains("cannot be bound"), "{err}");
    }

    #[test]
    fn time_range() {
        let max = ((838 * 60 + 59) * 60 + 59) * 1_000_000;
        assert!(mysql_time(max).is_some());
        assert!(mysql_time(-max).is_some());
        assert!(mysql_time(max + 1).is_none());
        assert!(mysql_time(0).is_some());
        let t = mysql_time(-(30 * 60 * 1_000_000 + 5)).unwrap();
        // (`MySqlTime::is_negative` is inverted in sqlx 0.9; the sign is right.)
        assert!(t.sign().is_negative());
        assert_eq!(
            (t.hours(), t.minutes(), t.seconds(), t.microseconds()),
            (0, 30, 0, 5)
        );
    }
}
