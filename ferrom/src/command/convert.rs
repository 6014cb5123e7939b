//! Converting a command input's values to their attributes' types, before
//! anything is sent to the server.
//!
//! A value is converted only when the conversion is lossless and
//! unambiguous; anything else is a [`Problem`] the caller turns into an
//! error naming the relation and attribute.
//!
//! | attribute type | accepted values |
//! |---|---|
//! | integer | integers (and booleans) within the column's range and sign |
//! | boolean | booleans, the integers 0 and 1 |
//! | string(n) | strings of at most `n` characters |
//! | decimal(p,s) | decimals, decimal strings and integers that fit `p` and `s` |
//! | float | floats, integers up to 2^53 |
//! | date | dates, `YYYY-MM-DD` strings |
//! | datetime(n) | datetimes, dates (midnight), ISO 8601 strings (`YYYY-MM-DD HH:MM:SS[.ffffff]`, a `T` separator, an offset `Z` / `+HH:MM` converted to UTC); fractional seconds beyond the column's `n` digits are truncated, as MariaDB stores them |
//! | time(n) | times |
//! | blob(n) | bytes, strings (as UTF-8) of at most `n` bytes |
//! | json | JSON documents, JSON text (a string must parse), scalars and lists |
//! | enum | one of the allowed strings, exactly |
//! | set | lists of allowed strings, or one comma-separated string |
//! | unknown | anything but a list (the server decides) |
//!
//! NULL is NULL for every type; whether the attribute takes it is checked
//! separately.

use chrono::{Datelike as _, NaiveDate, NaiveDateTime, TimeDelta, Timelike};

use crate::schema::Type;
use crate::value::Value;

/// Why a value does not fit its attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// Not the type, or out of the type's range.
    Mismatch {
        /// What the attribute takes.
        expected: String,
        /// What was given.
        got: String,
    },
    /// Longer than the column holds.
    TooLong {
        /// The limit and the length given.
        detail: String,
    },
}

/// The value's kind, and the value itself when it is short.
pub(crate) fn describe(value: &Value) -> String {
    let shown = match value {
        Value::String(s) => format!("{s:?}"),
        Value::Bytes(b) => return format!("{} bytes", b.len()),
        other => other.to_string(),
    };
    if shown.chars().count() <= 40 {
        format!("{} {shown}", value.kind())
    } else {
        format!("a {} of {} characters", value.kind(), shown.chars().count())
    }
}

fn mismatch(expected: impl Into<String>, value: &Value) -> Problem {
    Problem::Mismatch {
        expected: expected.into(),
        got: describe(value),
    }
}

/// The years a MySQL `DATE` or `DATETIME` column holds.
const COLUMN_YEARS: std::ops::RangeInclusive<i32> = 0..=9999;

/// `value` as a value of type `ty`.
pub(crate) fn convert(ty: &Type, value: Value) -> Result<Value, Problem> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    match ty {
        Type::Integer { bits, unsigned } => integer(ty, *bits, *unsigned, value),
        Type::Bool => match value {
            Value::Bool(_) => Ok(value),
            Value::Int(0) | Value::UInt(0) => Ok(Value::Bool(false)),
            Value::Int(1) | Value::UInt(1) => Ok(Value::Bool(true)),
            other => Err(mismatch("boolean (true, false, 0 or 1)", &other)),
        },
        Type::String { max_length } => match value {
            Value::String(s) => match max_length {
                // No more characters than bytes: count only when the bytes
                // alone exceed the limit.
                Some(max) if s.len() as u64 > *max => {
                    let length = s.chars().count() as u64;
                    if length > *max {
                        Err(Problem::TooLong {
                            detail: format!("at most {max} characters, got {length}"),
                        })
                    } else {
                        Ok(Value::String(s))
                    }
                }
                _ => Ok(Value::String(s)),
            },
            other => Err(mismatch(ty.to_string(), &other)),
        },
        Type::Decimal { precision, scale } => {
            let text = match &value {
                Value::Decimal(t) | Value::String(t) => t.trim().to_string(),
                Value::Int(i) => i.to_string(),
                Value::UInt(u) => u.to_string(),
                _ => return Err(mismatch(ty.to_string(), &value)),
            };
            match decimal_fits(&text, *precision, *scale) {
                Some(true) => Ok(Value::Decimal(text)),
                Some(false) => Err(mismatch(
                    format!(
                        "{ty}: at most {} digits before the point and {scale} after",
                        precision.saturating_sub(*scale)
                    ),
                    &value,
                )),
                None => Err(mismatch(
                    format!("{ty} (digits, one optional point)"),
                    &value,
                )),
            }
        }
        Type::Float { .. } => match value {
            Value::Float(f) if f.is_finite() => Ok(value),
            Value::Int(i) if i.unsigned_abs() <= 1 << 53 => Ok(Value::Float(i as f64)),
            Value::UInt(u) if u <= 1 << 53 => Ok(Value::Float(u as f64)),
            other => Err(mismatch(
                "float (a finite float, or an integer of at most 2^53)",
                &other,
            )),
        },
        Type::Date => {
            let expected = "date (a date or an ISO 8601 YYYY-MM-DD string)";
            let date = match &value {
                Value::Date(d) => *d,
                Value::String(s) => parse_date(s).ok_or_else(|| mismatch(expected, &value))?,
                _ => return Err(mismatch(expected, &value)),
            };
            if !COLUMN_YEARS.contains(&date.year()) {
                return Err(mismatch(
                    "date between 0000-01-01 and 9999-12-31 (the column's range)",
                    &value,
                ));
            }
            Ok(Value::Date(date))
        }
        Type::DateTime { precision, .. } => {
            let expected = || {
                format!(
                    "{ty} (a datetime, a date, or an ISO 8601 string such as 2019-03-09 14:24:23 or 2019-03-09T14:24:23Z)"
                )
            };
            let dt = match &value {
                Value::DateTime(dt) => *dt,
                Value::Date(d) => d.and_time(chrono::NaiveTime::MIN),
                Value::String(s) => {
                    parse_datetime(s).ok_or_else(|| mismatch(expected(), &value))?
                }
                _ => return Err(mismatch(expected(), &value)),
            };
            if !COLUMN_YEARS.contains(&dt.year()) {
                return Err(mismatch(
                    format!(
                        "{ty} between 0000-01-01 00:00:00 and 9999-12-31 23:59:59 (the column's range)"
                    ),
                    &value,
                ));
            }
            Ok(Value::DateTime(truncate_datetime(dt, *precision)))
        }
        Type::Time { precision } => match value {
            Value::Time(us) => {
                let unit = fraction_unit(*precision);
                Ok(Value::Time(us - us % unit))
            }
            other => Err(mismatch(ty.to_string(), &other)),
        },
        Type::Bytes { max_length } => {
            let bytes = match value {
                Value::Bytes(b) => b,
                Value::String(s) => s.into_bytes(),
                other => return Err(mismatch("blob (bytes, or a string)", &other)),
            };
            match max_length {
                Some(max) if bytes.len() as u64 > *max => Err(Problem::TooLong {
                    detail: format!("at most {max} bytes, got {}", bytes.len()),
                }),
                _ => Ok(Value::Bytes(bytes)),
            }
        }
        Type::Json => json(value),
        Type::Enum(allowed) => match value {
            Value::String(ref s) if allowed.iter().any(|a| a == s) => Ok(value),
            other => Err(mismatch(format!("one of: {}", allowed.join(", ")), &other)),
        },
        Type::Set(allowed) => set(ty, allowed, value),
        Type::Unknown { .. } => match value {
            Value::List(_) => Err(mismatch(format!("{ty} (a single value)"), &value)),
            other => Ok(other),
        },
        // `Type` is non-exhaustive: a type added later passes through for
        // the server to judge, as unknown types do.
        #[allow(unreachable_patterns)]
        _ => Ok(value),
    }
}

/// Whether [`convert`] would give `value` back unchanged for `ty`, found
/// without moving it: NULL, and the common values of an attribute's own
/// kind. `false` says only that [`convert`] must decide.
pub(crate) fn fits_as_is(ty: &Type, value: &Value) -> bool {
    match (ty, value) {
        (_, Value::Null) | (Type::Bool, Value::Bool(_)) | (Type::Json, Value::Json(_)) => true,
        // Signed: in i64, without widening (the usual case: a key).
        (
            Type::Integer {
                bits,
                unsigned: false,
            },
            Value::Int(i),
        ) => {
            let bits = (*bits).clamp(1, 64);
            bits == 64 || {
                let half = 1_i64 << (bits - 1);
                (-half..half).contains(i)
            }
        }
        (
            Type::Integer {
                bits,
                unsigned: true,
            },
            Value::Int(i),
        ) => {
            let (min, max) = integer_range(*bits, true);
            (min..=max).contains(&i128::from(*i))
        }
        (Type::String { max_length }, Value::String(s)) => {
            // No more characters than bytes.
            max_length.is_none_or(|max| s.len() as u64 <= max)
        }
        _ => false,
    }
}

/// The smallest and largest values of an integer column.
fn integer_range(bits: u8, unsigned: bool) -> (i128, i128) {
    let bits = u32::from(bits.clamp(1, 64));
    if unsigned {
        (0, (1i128 << bits) - 1)
    } else {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    }
}

fn integer(ty: &Type, bits: u8, unsigned: bool, value: Value) -> Result<Value, Problem> {
    let (min, max) = integer_range(bits, unsigned);
    let n = match value {
        Value::Int(i) => i128::from(i),
        Value::UInt(u) => i128::from(u),
        Value::Bool(b) => i128::from(b),
        other => return Err(mismatch(ty.to_string(), &other)),
    };
    if n < min || n > max {
        return Err(mismatch(format!("{ty}, from {min} to {max}"), &value));
    }
    Ok(match i64::try_from(n) {
        Ok(i) => Value::Int(i),
        Err(_) => Value::UInt(u64::try_from(n).unwrap_or(u64::MAX)),
    })
}

/// Whether decimal text fits `decimal(precision, scale)`: `Some(true)` when
/// it does, `Some(false)` when it has too many digits, `None` when it is not
/// a plain decimal (a sign, digits, an optional point; no exponent).
pub(crate) fn decimal_fits(text: &str, precision: u32, scale: u32) -> Option<bool> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let int_digits = int.trim_start_matches('0').len();
    let frac_digits = frac.trim_end_matches('0').len();
    let max_int = usize::try_from(precision.saturating_sub(scale)).unwrap_or(usize::MAX);
    let max_frac = usize::try_from(scale).unwrap_or(usize::MAX);
    Some(int_digits <= max_int && frac_digits <= max_frac)
}

fn json(value: Value) -> Result<Value, Problem> {
    match value {
        Value::Json(_) => Ok(value),
        Value::String(ref s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(j) => Ok(Value::Json(j)),
            Err(e) => Err(Problem::Mismatch {
                expected: "json (a map, a list, a scalar, or valid JSON text)".into(),
                got: format!("{}, which is not valid JSON ({e})", describe(&value)),
            }),
        },
        Value::Decimal(ref d) => serde_json::from_str::<serde_json::Number>(d)
            .map(|n| Value::Json(serde_json::Value::Number(n)))
            .map_err(|_| mismatch("json", &value)),
        Value::Bytes(_) => Err(mismatch(
            "json (a map, a list, a scalar, or valid JSON text)",
            &value,
        )),
        Value::Float(f) if !f.is_finite() => Err(mismatch("json (finite numbers only)", &value)),
        other => Ok(Value::Json(other.to_json())),
    }
}

fn set(ty: &Type, allowed: &[String], value: Value) -> Result<Value, Problem> {
    let items: Vec<String> = match &value {
        Value::List(items) => {
            let mut names = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => names.push(s.clone()),
                    _ => return Err(mismatch(format!("{ty} (a list of strings)"), &value)),
                }
            }
            names
        }
        Value::Json(serde_json::Value::Array(items)) => {
            let mut names = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(s) => names.push(s.to_string()),
                    None => return Err(mismatch(format!("{ty} (a list of strings)"), &value)),
                }
            }
            names
        }
        Value::String(s) if s.is_empty() => Vec::new(),
        Value::String(s) => s.split(',').map(str::to_string).collect(),
        _ => return Err(mismatch(format!("{ty} (a list of strings)"), &value)),
    };
    if let Some(bad) = items.iter().find(|i| !allowed.contains(i)) {
        return Err(Problem::Mismatch {
            expected: format!("a subset of: {}", allowed.join(", ")),
            got: format!("{} (`{bad}` is not allowed)", describe(&value)),
        });
    }
    Ok(Value::String(items.join(",")))
}

/// Microseconds per unit of the last fractional digit a column keeps.
fn fraction_unit(precision: u8) -> i64 {
    10i64.pow(6 - u32::from(precision.min(6)))
}

/// `dt` with its fractional seconds cut to `precision` digits (what the
/// column stores; MariaDB truncates, MySQL would round, so ferrom truncates
/// first and both store the same).
pub(crate) fn truncate_datetime(dt: NaiveDateTime, precision: u8) -> NaiveDateTime {
    let micros = i64::from(dt.nanosecond() / 1_000);
    let keep = micros - micros % fraction_unit(precision);
    // `keep` is below 1_000_000 (a leap second's 1_xxx_xxx is clipped too).
    let nanos = u32::try_from(keep.min(999_999) * 1_000).unwrap_or(0);
    dt.with_nanosecond(nanos).unwrap_or(dt)
}

/// An ISO 8601 date, `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let s = text.trim();
    if s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// An ISO 8601 date and time, in UTC: `YYYY-MM-DD HH:MM[:SS[.f]]`, with a
/// space or `T` between date and time, and an optional offset (`Z`,
/// `+HH:MM`, `+HHMM`, `+HH`) converted to UTC. A date alone is midnight.
pub(crate) fn parse_datetime(text: &str) -> Option<NaiveDateTime> {
    let s = text.trim();
    if let Some(date) = parse_date(s) {
        return Some(date.and_time(chrono::NaiveTime::MIN));
    }
    let separator = s.as_bytes().get(10)?;
    if !matches!(separator, b'T' | b't' | b' ') {
        return None;
    }
    let date = s.get(..10)?;
    let (time, offset) = split_offset(s.get(11..)?)?;
    let body = format!("{date} {time}");
    let naive = NaiveDateTime::parse_from_str(&body, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(&body, "%Y-%m-%d %H:%M"))
        .ok()?;
    naive.checked_sub_signed(TimeDelta::try_seconds(offset)?)
}

/// Splits a time of day from its UTC offset in seconds (0 when there is
/// none).
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(body) = time.strip_suffix(['Z', 'z']) {
        return Some((body.trim_end(), 0));
    }
    let Some(at) = time.rfind(['+', '-']) else {
        return Some((time, 0));
    };
    let (body, offset) = time.split_at(at);
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let digits: String = offset[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        2 => (digits.parse::<i64>().ok()?, 0),
        4 => (
            digits.get(..2)?.parse::<i64>().ok()?,
            digits.get(2..)?.parse::<i64>().ok()?,
        ),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((body.trim_end(), sign * (hours * 3600 + minutes * 60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    fn int(bits: u8, unsigned: bool) -> Type {
        Type::Integer { bits, unsigned }
    }

    #[test]
    fn what_fits_as_is_converts_to_itself() {
        let types = [
            Type::Integer {
                bits: 8,
                unsigned: true,
            },
            Type::Integer {
                bits: 8,
                unsigned: false,
            },
            Type::Integer {
                bits: 64,
                unsigned: false,
            },
            Type::Integer {
                bits: 64,
                unsigned: true,
            },
            Type::Bool,
            Type::String {
                max_length: Some(3),
            },
            Type::String { max_length: None },
            Type::Json,
            Type::DateTime {
                precision: 0,
                timestamp: false,
            },
            Type::Decimal {
                precision: 4,
                scale: 2,
            },
            Type::Float { double: true },
        ];
        let values = [
            Value::Null,
            Value::Int(0),
            Value::Int(1),
            Value::Int(-1),
            Value::Int(255),
            Value::Int(256),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::UInt(u64::MAX),
            Value::Bool(true),
            Value::String("abc".into()),
            Value::String("abcd".into()),
            Value::String("ééé".into()),
            Value::String("{}".into()),
            Value::Json(serde_json::json!({"a": 1})),
            Value::Float(1.5),
            Value::Decimal("1.5".into()),
        ];
        let mut as_is = 0;
        for ty in &types {
            for value in &values {
                if fits_as_is(ty, value) {
                    as_is += 1;
                    assert_eq!(
                        convert(ty, value.clone()).as_ref(),
                        Ok(value),
                        "{ty} {value:?}"
                    );
                }
            }
        }
        // The common cases do fit; the rest go through `convert`.
        assert!(as_is > 20, "{as_is}");
        assert!(!fits_as_is(
            &Type::String {
                max_length: Some(3)
            },
            &"ééé".into()
        ));
        assert!(!fits_as_is(
            &Type::Integer {
                bits: 8,
                unsigned: true
            },
            &Value::Int(-1)
        ));
    }

    #[test]
    fn iso_datetimes_in_every_accepted_spelling() {
        let cases = [
            ("2019-03-09 14:24:23", "2019-03-09 14:24:23"),
            ("2019-03-09T14:24:23", "2019-03-09 14:24:23"),
            ("2019-03-09t14:24:23.5", "2019-03-09 14:24:23.5"),
            ("2019-03-09 14:24:23.123456", "2019-03-09 14:24:23.123456"),
            ("2019-03-09T14:24:23Z", "2019-03-09 14:24:23"),
            ("2019-03-09T14:24:23+00:00", "2019-03-09 14:24:23"),
            ("2019-03-09T14:24:23+01:00", "2019-03-09 13:24:23"),
            ("2019-03-09T14:24:23-0230", "2019-03-09 16:54:23"),
            ("2019-03-09 00:30:00 +02", "2019-03-08 22:30:00"),
            ("2019-03-09 14:24", "2019-03-09 14:24:00"),
            ("2019-03-09", "2019-03-09 00:00:00"),
            ("  2019-03-09T14:24:23Z ", "2019-03-09 14:24:23"),
        ];
        for (text, want) in cases {
            assert_eq!(parse_datetime(text), Some(dt(want)), "{text}");
        }
        for bad in [
            "",
            "yesterday",
            "2019-03-09X14:24:23",
            "2019-13-09 14:24:23",
            "2019-03-09 25:00:00",
            "2019-03-09 14:24:23+25:00",
            "2019-03-09 14:24:23+1",
            "2019-03-09 14:24:23 +ab:cd",
            "2019-03-09é14:24:23",
            "2019-03-0é",
            "14:24:23",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn datetimes_are_truncated_to_the_column_precision() {
        let ty = |precision| Type::DateTime {
            precision,
            timestamp: false,
        };
        let v = Value::String("2019-03-09 14:24:23.987654".into());
        assert_eq!(
            convert(&ty(0), v.clone()),
            Ok(Value::DateTime(dt("2019-03-09 14:24:23")))
        );
        assert_eq!(
            convert(&ty(3), v.clone()),
            Ok(Value::DateTime(dt("2019-03-09 14:24:23.987")))
        );
        assert_eq!(
            convert(&ty(6), v),
            Ok(Value::DateTime(dt("2019-03-09 14:24:23.987654")))
        );
        let date = NaiveDate::from_ymd_opt(2019, 3, 9).unwrap();
        assert_eq!(
            convert(&ty(0), Value::Date(date)),
            Ok(Value::DateTime(dt("2019-03-09 00:00:00")))
        );
        assert!(matches!(
            convert(&ty(0), Value::Int(1)),
            Err(Problem::Mismatch { .. })
        ));
    }

    #[test]
    fn integers_keep_to_their_range_and_sign() {
        assert_eq!(
            convert(&int(8, false), Value::Int(127)),
            Ok(Value::Int(127))
        );
        assert!(convert(&int(8, false), Value::Int(128)).is_err());
        assert!(convert(&int(8, false), Value::Int(-129)).is_err());
        assert_eq!(convert(&int(8, true), Value::Int(255)), Ok(Value::Int(255)));
        assert!(convert(&int(8, true), Value::Int(-1)).is_err());
        assert!(convert(&int(32, false), Value::Int(i64::from(i32::MAX) + 1)).is_err());
        assert_eq!(
            convert(&int(64, true), Value::UInt(u64::MAX)),
            Ok(Value::UInt(u64::MAX))
        );
        assert!(convert(&int(64, false), Value::UInt(u64::MAX)).is_err());
        assert_eq!(
            convert(&int(32, false), Value::Bool(true)),
            Ok(Value::Int(1))
        );
        let Err(Problem::Mismatch { expected, got }) =
            convert(&int(32, false), Value::String("12".into()))
        else {
            panic!("a string is not an integer")
        };
        assert_eq!(expected, "integer(32)");
        assert_eq!(got, "string \"12\"");
        let Err(Problem::Mismatch { expected, .. }) = convert(&int(16, true), Value::Int(70_000))
        else {
            panic!("out of range")
        };
        assert_eq!(expected, "integer(16, unsigned), from 0 to 65535");
    }

    #[test]
    fn booleans_take_zero_and_one_only() {
        assert_eq!(convert(&Type::Bool, Value::Int(0)), Ok(Value::Bool(false)));
        assert_eq!(convert(&Type::Bool, Value::UInt(1)), Ok(Value::Bool(true)));
        assert!(convert(&Type::Bool, Value::Int(2)).is_err());
        assert!(convert(&Type::Bool, Value::String("true".into())).is_err());
    }

    #[test]
    fn strings_are_checked_against_their_length_in_characters() {
        let ty = Type::String {
            max_length: Some(3),
        };
        assert_eq!(
            convert(&ty, Value::String("äöü".into())),
            Ok(Value::String("äöü".into()))
        );
        assert_eq!(
            convert(&ty, Value::String("abcd".into())),
            Err(Problem::TooLong {
                detail: "at most 3 characters, got 4".into()
            })
        );
        assert!(matches!(
            convert(&ty, Value::Int(1)),
            Err(Problem::Mismatch { .. })
        ));
    }

    #[test]
    fn decimals_must_fit_precision_and_scale() {
        let ty = Type::Decimal {
            precision: 5,
            scale: 2,
        };
        assert_eq!(
            convert(&ty, Value::Int(123)),
            Ok(Value::Decimal("123".into()))
        );
        assert_eq!(
            convert(&ty, Value::String("-123.40".into())),
            Ok(Value::Decimal("-123.40".into()))
        );
        assert_eq!(
            convert(&ty, Value::Decimal(".5".into())),
            Ok(Value::Decimal(".5".into()))
        );
        assert!(convert(&ty, Value::Int(1234)).is_err());
        assert!(convert(&ty, Value::Decimal("1.234".into())).is_err());
        assert!(convert(&ty, Value::String("1e3".into())).is_err());
        assert!(convert(&ty, Value::String(".".into())).is_err());
        assert!(convert(&ty, Value::Float(1.5)).is_err());
        assert_eq!(decimal_fits("00012.500", 5, 2), Some(true));
    }

    #[test]
    fn json_takes_documents_scalars_and_valid_text_only() {
        assert_eq!(
            convert(&Type::Json, Value::String(r#"{"views": 1}"#.into())),
            Ok(Value::Json(serde_json::json!({"views": 1})))
        );
        let Err(Problem::Mismatch { got, .. }) =
            convert(&Type::Json, Value::String("{views".into()))
        else {
            panic!("invalid JSON text is refused")
        };
        assert!(got.contains("not valid JSON"), "{got}");
        assert_eq!(
            convert(&Type::Json, Value::Int(3)),
            Ok(Value::Json(serde_json::json!(3)))
        );
        assert_eq!(
            convert(
                &Type::Json,
                Value::List(vec![Value::Int(1), Value::String("a".into())])
            ),
            Ok(Value::Json(serde_json::json!([1, "a"])))
        );
        assert!(convert(&Type::Json, Value::Bytes(vec![1])).is_err());
        assert_eq!(convert(&Type::Json, Value::Null), Ok(Value::Null));
    }

    #[test]
    fn enums_and_sets_take_allowed_values() {
        let e = Type::Enum(vec!["running".into(), "stopped".into()]);
        assert!(convert(&e, Value::String("running".into())).is_ok());
        let Err(Problem::Mismatch { expected, .. }) = convert(&e, Value::String("paused".into()))
        else {
            panic!("not allowed")
        };
        assert_eq!(expected, "one of: running, stopped");
        let s = Type::Set(vec!["a".into(), "b".into()]);
        assert_eq!(
            convert(&s, Value::List(vec!["a".into(), "b".into()])),
            Ok(Value::String("a,b".into()))
        );
        assert_eq!(
            convert(&s, Value::String(String::new())),
            Ok(Value::String(String::new()))
        );
        assert!(convert(&s, Value::String("a,c".into())).is_err());
    }

    #[test]
    fn floats_bytes_and_times() {
        let f = Type::Float { double: true };
        assert_eq!(convert(&f, Value::Int(3)), Ok(Value::Float(3.0)));
        assert!(convert(&f, Value::Int(i64::MAX)).is_err());
        assert!(convert(&f, Value::Float(f64::NAN)).is_err());
        let b = Type::Bytes {
            max_length: Some(2),
        };
        assert_eq!(
            convert(&b, Value::String("ab".into())),
            Ok(Value::Bytes(b"ab".to_vec()))
        );
        assert!(matches!(
            convert(&b, Value::Bytes(vec![1, 2, 3])),
            Err(Problem::TooLong { .. })
        ));
        let t = Type::Time { precision: 0 };
        assert_eq!(
            convert(&t, Value::Time(1_500_000)),
            Ok(Value::Time(1_000_000))
        );
        assert!(convert(&Type::Date, Value::String("2019-03-09 10:00:00".into())).is_err());
    }

    #[test]
    fn descriptions_are_short() {
        assert_eq!(describe(&Value::Int(5)), "integer 5");
        assert_eq!(
            describe(&Value::String("x".repeat(100))),
            "a string of 102 characters"
        );
    }
}
