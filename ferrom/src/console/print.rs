//! How console results print: Ruby's `inspect` for values and rows (as the
//! ROM article shows them), tables or vertical rows for lists of rows, and
//! JSON for scripts.
//!
//! | value | inspect | in a table or vertical row |
//! |---|---|---|
//! | NULL | `nil` | `nil` |
//! | boolean, integer, decimal | `true`, `42`, `12.50` | the same |
//! | float | Ruby's: `1.5`, `1.0e+20` | the same |
//! | string | `"a \"b\"\n"` (escaped) | `a "b"\n` (control characters escaped) |
//! | bytes | `"\x00\x01"` | the same |
//! | date, datetime | `2019-03-09`, `2019-03-09 14:24:23 +0000` (fraction only when nonzero) | the same |
//! | time | `14:24:23` | the same |
//! | JSON | `{"views"=>10}`, `[1, 2]` | the same |
//! | list | `[1, 2]` | the same |
//! | row | `{:id=>1, :name=>"My 1st Company"}`, nested associations after the attributes (`:posts=>[{...}]`) | one line or block per row |
//!
//! Without [`Printer::color`] the output has no escape codes; with it,
//! strings are green, numbers blue, `nil` and booleans magenta, keys and
//! symbols cyan.

use std::fmt::Write as _;

use chrono::{NaiveDateTime, Timelike as _};

use crate::row::{Nested, Row};
use crate::value::{Value, format_time};

use super::lexer::is_symbol_name;

/// What a console expression evaluates to, for printing.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConsoleValue {
    /// A single value (`count`, `pluck` items, `Time.now`).
    Value(Value),
    /// One row (`one`, a create command's result).
    Row(Row),
    /// Rows (`to_a`, a relation printed as its rows).
    Rows(Vec<Row>),
    /// Plain text printed as is (help, schema listings).
    Text(String),
    /// A symbol, printed `:name`.
    Symbol(String),
    /// A list of console values.
    List(Vec<ConsoleValue>),
    /// A hash of console values, in order.
    Hash(Vec<(ConsoleValue, ConsoleValue)>),
    /// An opaque object (a relation, a command), printed as the text it
    /// holds: see [`ConsoleValue::object`].
    Other(String),
}

impl ConsoleValue {
    /// An opaque object printed like Ruby's default inspect:
    /// `ConsoleValue::object("ferrom::Relation", "posts")` prints
    /// `#<ferrom::Relation posts>`.
    pub fn object(class: &str, detail: &str) -> ConsoleValue {
        if detail.is_empty() {
            ConsoleValue::Other(format!("#<{class}>"))
        } else {
            ConsoleValue::Other(format!("#<{class} {detail}>"))
        }
    }

    /// Ruby's `inspect`, on one line, without colour.
    pub fn inspect(&self) -> String {
        let mut out = String::new();
        Inspector { color: false }.console(&mut out, self);
        out
    }

    /// The value as JSON: rows as objects keyed by attribute (nested
    /// associations under their names), lists of rows as arrays, times as
    /// ISO 8601 in UTC, JSON columns as JSON, nil as null, symbols and
    /// text as strings; a hash as an object whose keys are the key's text
    /// (a symbol's or string's own text, any other key's inspect).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            ConsoleValue::Value(v) => v.to_json(),
            ConsoleValue::Row(r) => r.to_json(),
            ConsoleValue::Rows(rows) => rows_to_json(rows),
            ConsoleValue::Text(s) | ConsoleValue::Symbol(s) | ConsoleValue::Other(s) => {
                J::String(s.clone())
            }
            ConsoleValue::List(items) => {
                J::Array(items.iter().map(ConsoleValue::to_json).collect())
            }
            ConsoleValue::Hash(pairs) => J::Object(
                pairs
                    .iter()
                    .map(|(k, v)| {
                        let key = match k {
                            ConsoleValue::Symbol(s)
                            | ConsoleValue::Text(s)
                            | ConsoleValue::Value(Value::String(s)) => s.clone(),
                            other => other.inspect(),
                        };
                        (key, v.to_json())
                    })
                    .collect(),
            ),
        }
    }
}

impl From<Value> for ConsoleValue {
    fn from(v: Value) -> Self {
        ConsoleValue::Value(v)
    }
}

impl From<Row> for ConsoleValue {
    fn from(r: Row) -> Self {
        ConsoleValue::Row(r)
    }
}

impl From<Vec<Row>> for ConsoleValue {
    fn from(rows: Vec<Row>) -> Self {
        ConsoleValue::Rows(rows)
    }
}

/// Ruby's `inspect` of a value, without colour: `"text"`, `nil`,
/// `2019-03-09 14:24:23 +0000`, `{"views"=>10}`.
pub fn inspect(value: &Value) -> String {
    let mut out = String::new();
    Inspector { color: false }.value(&mut out, value);
    out
}

/// Ruby's `inspect` of a row as a hash, without colour:
/// `{:id=>1, :name=>"My 1st Company", ...}`.
pub fn inspect_row(row: &Row) -> String {
    let mut out = String::new();
    Inspector { color: false }.row(&mut out, row);
    out
}

/// A console value as JSON (see [`ConsoleValue::to_json`]).
pub fn to_json(value: &ConsoleValue) -> serde_json::Value {
    value.to_json()
}

/// Rows as a JSON array of objects keyed by attribute.
pub fn rows_to_json(rows: &[Row]) -> serde_json::Value {
    serde_json::Value::Array(rows.iter().map(Row::to_json).collect())
}

/// How results print at the console: colour, the terminal width that
/// decides between a table and vertical rows, truncation of long values
/// and the row limit.
///
/// ```
/// use ferrom::console::{ConsoleValue, Printer};
/// use ferrom::Value;
///
/// let printer = Printer::default().with_width(100);
/// assert_eq!(printer.render(&ConsoleValue::Value(Value::Int(0))), "0");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Printer {
    /// ANSI colours (default off).
    pub color: bool,
    /// The terminal width in characters (default 80): a list of rows is a
    /// table when the table fits, vertical rows otherwise; a row or hash
    /// longer than the width (less 3 for the REPL's `=> `) prints one entry
    /// per line.
    pub width: usize,
    /// The most characters a value shows in a table or vertical row before
    /// it is cut with `…` (default 50); `None` shows values whole.
    pub truncate: Option<usize>,
    /// The most rows a list of rows shows (default 20); `None` shows all.
    pub row_limit: Option<usize>,
    /// Appended to the notice when rows are cut, to say how to see more
    /// (`"set with --limit N"`); default none.
    pub limit_hint: Option<String>,
}

impl Default for Printer {
    fn default() -> Self {
        Printer {
            color: false,
            width: 80,
            truncate: Some(50),
            row_limit: Some(20),
            limit_hint: None,
        }
    }
}

/// The width the REPL's `=> ` prompt takes before a result.
const RESULT_PREFIX: usize = 3;

impl Printer {
    /// With or without colour.
    #[must_use]
    pub fn with_color(mut self, color: bool) -> Printer {
        self.color = color;
        self
    }

    /// With this terminal width.
    #[must_use]
    pub fn with_width(mut self, width: usize) -> Printer {
        self.width = width;
        self
    }

    /// With values cut at this many characters (`None`: never).
    #[must_use]
    pub fn with_truncate(mut self, at: Option<usize>) -> Printer {
        self.truncate = at;
        self
    }

    /// Showing at most this many rows (`None`: all).
    #[must_use]
    pub fn with_row_limit(mut self, limit: Option<usize>) -> Printer {
        self.row_limit = limit;
        self
    }

    /// With this hint in the notice when rows are cut.
    #[must_use]
    pub fn with_limit_hint(mut self, hint: impl Into<String>) -> Printer {
        self.limit_hint = Some(hint.into());
        self
    }

    /// A result as the REPL shows it after `=> `: text as is, rows with
    /// [`Printer::render_rows`], a row, hash or list on one line when it
    /// fits and one entry per line otherwise (as Ruby's `pp`), anything
    /// else as its inspect.
    pub fn render(&self, value: &ConsoleValue) -> String {
        match value {
            ConsoleValue::Text(s) => s.clone(),
            ConsoleValue::Rows(rows) => self.render_rows(rows, rows.len()),
            ConsoleValue::Row(_) | ConsoleValue::Hash(_) | ConsoleValue::List(_) => {
                self.wrapped(value)
            }
            _ => self.inspect(value),
        }
    }

    /// Ruby's `inspect` on one line, in colour if the printer has it.
    pub fn inspect(&self, value: &ConsoleValue) -> String {
        let mut out = String::new();
        self.inspector().console(&mut out, value);
        out
    }

    /// Rows as a table when it fits [`Printer::width`] and all rows have
    /// the same columns, as vertical rows otherwise (`*** 1. row ***` and
    /// `name: value` lines, like mysql's `\G`), at most
    /// [`Printer::row_limit`] of them, then a footer: `(3 rows)`, or
    /// `(showing 20 of 134 rows; <hint>)` when `total` (the number of rows
    /// there are, which may exceed `rows.len()` when the caller fetched
    /// fewer) is more than are shown. No rows at all print `[]`.
    pub fn render_rows(&self, rows: &[Row], total: usize) -> String {
        let total = total.max(rows.len());
        let shown = &rows[..self.row_limit.map_or(rows.len(), |l| l.min(rows.len()))];
        if total == 0 {
            return "[]".to_string();
        }
        let mut out = match self.table(shown) {
            Some(table) => table,
            None => self.vertical(shown),
        };
        if shown.len() < total {
            let _ = write!(out, "(showing {} of {total} rows", shown.len());
            if let Some(hint) = &self.limit_hint {
                let _ = write!(out, "; {hint}");
            }
            out.push(')');
        } else if total == 1 {
            out.push_str("(1 row)");
        } else {
            let _ = write!(out, "({total} rows)");
        }
        out
    }

    fn inspector(&self) -> Inspector {
        Inspector { color: self.color }
    }

    /// One line if it fits, else one entry per line.
    fn wrapped(&self, value: &ConsoleValue) -> String {
        let plain = value.inspect();
        if plain.chars().count() + RESULT_PREFIX <= self.width {
            return self.inspect(value);
        }
        let ins = self.inspector();
        let mut entries = Vec::new();
        let (open, close) = match value {
            ConsoleValue::Row(row) => {
                for (name, v) in row.iter() {
                    let mut s = String::new();
                    ins.symbol_key(&mut s, name);
                    ins.value(&mut s, v);
                    entries.push(s);
                }
                for (name, nested) in row.nested_iter() {
                    let mut s = String::new();
                    ins.symbol_key(&mut s, name);
                    ins.nested(&mut s, nested);
                    entries.push(s);
                }
                ('{', '}')
            }
            ConsoleValue::Hash(pairs) => {
                for (k, v) in pairs {
                    let mut s = String::new();
                    ins.console_key(&mut s, k);
                    ins.console(&mut s, v);
                    entries.push(s);
                }
                ('{', '}')
            }
            ConsoleValue::List(items) => {
                for item in items {
                    let mut s = String::new();
                    ins.console(&mut s, item);
                    entries.push(s);
                }
                ('[', ']')
            }
            other => return self.inspect(other),
        };
        format!("{open}{}{close}", entries.join(",\n "))
    }

    /// The cells of a row: attributes, then nested associations.
    fn cells(&self, row: &Row) -> Vec<Cell> {
        let ins = Inspector { color: false };
        let mut cells: Vec<Cell> = row.values().iter().map(|v| self.cell(v)).collect();
        for (_, nested) in row.nested_iter() {
            let mut text = String::new();
            ins.nested(&mut text, nested);
            cells.push(Cell {
                text: self.cut(&text),
                paint: None,
                right: false,
            });
        }
        cells
    }

    fn cell(&self, v: &Value) -> Cell {
        let text = match v {
            Value::String(s) => escape_controls(s),
            other => inspect(other),
        };
        Cell {
            text: self.cut(&text),
            paint: paint_for(v),
            right: matches!(
                v,
                Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Decimal(_)
            ),
        }
    }

    fn cut(&self, text: &str) -> String {
        match self.truncate {
            Some(n) if text.chars().count() > n.max(1) => {
                let mut s: String = text.chars().take(n.max(1) - 1).collect();
                s.push('…');
                s
            }
            _ => text.to_string(),
        }
    }

    fn paint(&self, out: &mut String, code: Option<&str>, text: &str) {
        match code {
            Some(code) if self.color => {
                let _ = write!(out, "\x1b[{code}m{text}\x1b[0m");
            }
            _ => out.push_str(text),
        }
    }

    /// The table, if every row has the first row's columns and it fits.
    fn table(&self, rows: &[Row]) -> Option<String> {
        let first = rows.first()?;
        let same_shape = |r: &Row| {
            r.names() == first.names()
                && r.nested_iter()
                    .map(|(n, _)| n)
                    .eq(first.nested_iter().map(|(n, _)| n))
        };
        if !rows.iter().all(same_shape) {
            return None;
        }
        let headers: Vec<String> = first
            .names()
            .iter()
            .map(String::as_str)
            .chain(first.nested_iter().map(|(n, _)| n))
            .map(|n| self.cut(&escape_controls(n)))
            .collect();
        let body: Vec<Vec<Cell>> = rows.iter().map(|r| self.cells(r)).collect();
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for cells in &body {
            for (w, c) in widths.iter_mut().zip(cells) {
                *w = (*w).max(c.text.chars().count());
            }
        }
        let total: usize = 1 + widths.iter().map(|w| w + 3).sum::<usize>();
        if total > self.width {
            return None;
        }
        let mut rule = String::from("+");
        for w in &widths {
            rule.push_str(&"-".repeat(w + 2));
            rule.push('+');
        }
        rule.push('\n');
        let mut out = rule.clone();
        out.push('|');
        for (h, w) in headers.iter().zip(&widths) {
            out.push(' ');
            self.paint(&mut out, Some(CYAN), h);
            out.push_str(&" ".repeat(w - h.chars().count() + 1));
            out.push('|');
        }
        out.push('\n');
        out.push_str(&rule);
        for cells in &body {
            out.push('|');
            for (c, w) in cells.iter().zip(&widths) {
                let pad = " ".repeat(w - c.text.chars().count());
                out.push(' ');
                if c.right {
                    out.push_str(&pad);
                }
                self.paint(&mut out, c.paint, &c.text);
                if !c.right {
                    out.push_str(&pad);
                }
                out.push_str(" |");
            }
            out.push('\n');
        }
        out.push_str(&rule);
        Some(out)
    }

    /// Rows as `*** n. row ***` blocks of right-aligned `name: value`
    /// lines.
    fn vertical(&self, rows: &[Row]) -> String {
        let stars = "*".repeat(27);
        let mut out = String::new();
        for (i, row) in rows.iter().enumerate() {
            let _ = writeln!(out, "{stars} {}. row {stars}", i + 1);
            let names: Vec<String> = row
                .names()
                .iter()
                .map(String::as_str)
                .chain(row.nested_iter().map(|(n, _)| n))
                .map(escape_controls)
                .collect();
            let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
            for (name, cell) in names.iter().zip(self.cells(row)) {
                out.push_str(&" ".repeat(width - name.chars().count()));
                self.paint(&mut out, Some(CYAN), name);
                out.push_str(": ");
                self.paint(&mut out, cell.paint, &cell.text);
                out.push('\n');
            }
        }
        out
    }
}

/// One table cell: its text (cut), colour and alignment.
struct Cell {
    text: String,
    paint: Option<&'static str>,
    right: bool,
}

const GREEN: &str = "32";
const BLUE: &str = "34";
const MAGENTA: &str = "35";
const CYAN: &str = "36";

fn paint_for(v: &Value) -> Option<&'static str> {
    match v {
        Value::Null | Value::Bool(_) => Some(MAGENTA),
        Value::Int(_) | Value::UInt(_) | Value::Float(_) | Value::Decimal(_) => Some(BLUE),
        Value::String(_) | Value::Bytes(_) => Some(GREEN),
        _ => None,
    }
}

/// Writes Ruby-inspect text, with or without colour.
#[derive(Clone, Copy)]
struct Inspector {
    color: bool,
}

impl Inspector {
    fn paint(self, out: &mut String, code: &str, text: &str) {
        if self.color {
            let _ = write!(out, "\x1b[{code}m{text}\x1b[0m");
        } else {
            out.push_str(text);
        }
    }

    fn console(self, out: &mut String, v: &ConsoleValue) {
        match v {
            ConsoleValue::Value(v) => self.value(out, v),
            ConsoleValue::Row(r) => self.row(out, r),
            ConsoleValue::Rows(rows) => self.rows(out, rows),
            ConsoleValue::Text(s) => self.paint(out, GREEN, &ruby_string(s)),
            ConsoleValue::Symbol(s) => self.paint(out, CYAN, &ruby_symbol(s)),
            ConsoleValue::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.console(out, item);
                }
                out.push(']');
            }
            ConsoleValue::Hash(pairs) => {
                out.push('{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.console_key(out, k);
                    self.console(out, v);
                }
                out.push('}');
            }
            ConsoleValue::Other(s) => out.push_str(s),
        }
    }

    /// A hash key and its `=>`, keys in cyan.
    fn console_key(self, out: &mut String, k: &ConsoleValue) {
        let mut plain = String::new();
        Inspector { color: false }.console(&mut plain, k);
        self.paint(out, CYAN, &plain);
        out.push_str("=>");
    }

    fn symbol_key(self, out: &mut String, name: &str) {
        self.paint(out, CYAN, &ruby_symbol(name));
        out.push_str("=>");
    }

    fn rows(self, out: &mut String, rows: &[Row]) {
        out.push('[');
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.row(out, r);
        }
        out.push(']');
    }

    fn row(self, out: &mut String, row: &Row) {
        out.push('{');
        let mut first = true;
        for (name, v) in row.iter() {
            if !first {
                out.push_str(", ");
            }
            first = false;
            self.symbol_key(out, name);
            self.value(out, v);
        }
        for (name, nested) in row.nested_iter() {
            if !first {
                out.push_str(", ");
            }
            first = false;
            self.symbol_key(out, name);
            self.nested(out, nested);
        }
        out.push('}');
    }

    fn nested(self, out: &mut String, nested: &Nested) {
        match nested {
            Nested::Many(rows) => self.rows(out, rows),
            Nested::One(Some(row)) => self.row(out, row),
            Nested::One(None) => self.paint(out, MAGENTA, "nil"),
        }
    }

    fn value(self, out: &mut String, v: &Value) {
        let text = match v {
            Value::Null => "nil".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::UInt(u) => u.to_string(),
            Value::Float(x) => ruby_float(*x),
            Value::Decimal(d) => d.clone(),
            Value::String(s) => ruby_string(s),
            Value::Bytes(b) => ruby_bytes(b),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::DateTime(t) => ruby_time(t),
            Value::Time(us) => format_time(*us),
            Value::Json(j) => return self.json(out, j),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.value(out, item);
                }
                out.push(']');
                return;
            }
            // Value is non_exhaustive only for other crates; a new variant
            // shows as its Display text until it has a case here.
            #[allow(unreachable_patterns)]
            other => other.to_string(),
        };
        match paint_for(v) {
            Some(code) => self.paint(out, code, &text),
            None => out.push_str(&text),
        }
    }

    /// JSON as Ruby would inspect the parsed document.
    fn json(self, out: &mut String, j: &serde_json::Value) {
        use serde_json::Value as J;
        match j {
            J::Null => self.paint(out, MAGENTA, "nil"),
            J::Bool(b) => self.paint(out, MAGENTA, if *b { "true" } else { "false" }),
            J::Number(n) => self.paint(out, BLUE, &n.to_string()),
            J::String(s) => self.paint(out, GREEN, &ruby_string(s)),
            J::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.json(out, item);
                }
                out.push(']');
            }
            J::Object(map) => {
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.paint(out, CYAN, &ruby_string(k));
                    out.push_str("=>");
                    self.json(out, v);
                }
                out.push('}');
            }
        }
    }
}

/// Ruby's `Symbol#inspect`: `:name`, or `:"any text"`.
fn ruby_symbol(name: &str) -> String {
    if is_symbol_name(name) {
        format!(":{name}")
    } else {
        format!(":{}", ruby_string(name))
    }
}

/// Ruby's `String#inspect` for UTF-8 text.
fn ruby_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '#' if matches!(chars.peek(), Some('{' | '$' | '@')) => out.push_str("\\#"),
            c => push_escaped_control(&mut out, c),
        }
    }
    out.push('"');
    out
}

/// A control character as Ruby escapes it; anything else as itself.
fn push_escaped_control(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        '\u{1b}' => out.push_str("\\e"),
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\u{b}' => out.push_str("\\v"),
        '\u{7f}' => out.push_str("\\x7F"),
        c if c.is_control() => {
            let _ = write!(out, "\\u{:04X}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// Text with its control characters escaped (so a table stays a table).
fn escape_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_escaped_control(&mut out, c);
    }
    out
}

/// Ruby's inspect of a binary string: printable ASCII as is, the rest
/// `\xNN`.
fn ruby_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'#' if matches!(bytes.get(i + 1), Some(b'{' | b'$' | b'@')) => out.push_str("\\#"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x1b => out.push_str("\\e"),
            0x20..=0x7e => out.push(char::from(b)),
            b => {
                let _ = write!(out, "\\x{b:02X}");
            }
        }
    }
    out.push('"');
    out
}

/// Ruby's `Time#inspect` in UTC: `2019-03-09 14:24:23 +0000`, with the
/// fraction of a second (trailing zeros dropped) only when nonzero.
fn ruby_time(t: &NaiveDateTime) -> String {
    let mut out = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = t.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        let fraction = format!("{nanos:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push_str(" +0000");
    out
}

/// Ruby's `Float#inspect`: the shortest digits that read back as the same
/// float, in fixed notation for exponents -4 to 15 (`0.0001`,
/// `1000000000000000.0`) and as `1.0e+16`, `1.5e-05` outside.
fn ruby_float(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    // `{:e}` gives the shortest round-trip digits: `1.2345e-5`, `1e16`.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let decpt = exp + 1;
    let len = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    if !(-3..=16).contains(&decpt) {
        let (head, tail) = digits.split_at(1);
        let tail = if tail.is_empty() { "0" } else { tail };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{head}.{tail}e{esign}{:02}", exp.unsigned_abs())
    } else if decpt <= 0 {
        let zeros = "0".repeat(usize::try_from(-decpt).unwrap_or(0));
        format!("{sign}0.{zeros}{digits}")
    } else if decpt >= len {
        let zeros = "0".repeat(usize::try_from(decpt - len).unwrap_or(0));
        format!("{sign}{digits}{zeros}.0")
    } else {
        let (int, frac) = digits.split_at(usize::try_from(decpt).unwrap_or(0));
        format!("{sign}{int}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::NaiveDate;
    use serde_json::json;

    use super::*;
    use crate::row::Columns;

    fn row(names: &[&str], values: Vec<Value>) -> Row {
        let columns = Columns::new(
            "companies",
            names.iter().map(|n| (n.to_string(), None)).collect(),
        );
        Row::from_parts(columns, values)
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    fn company(id: i64, name: &str) -> Row {
        row(
            &["id", "name", "domain", "state", "created_at", "updated_at"],
            vec![
                Value::Int(id),
                Value::String(name.into()),
                Value::String("http://example.com".into()),
                Value::String("running".into()),
                Value::DateTime(at("2019-03-09 14:24:23")),
                Value::DateTime(at("2019-03-09 14:24:23")),
            ],
        )
    }

    #[test]
    fn the_articles_company_row() {
        assert_eq!(
            inspect_row(&company(1, "My 1st Company")),
            r#"{:id=>1, :name=>"My 1st Company", :domain=>"http://example.com", :state=>"running", :created_at=>2019-03-09 14:24:23 +0000, :updated_at=>2019-03-09 14:24:23 +0000}"#
        );
    }

    #[test]
    fn a_wide_row_prints_one_attribute_per_line_as_pry_does() {
        let printer = Printer::default().with_width(80);
        assert_eq!(
            printer.render(&ConsoleValue::Row(company(1, "My 1st Company"))),
            "{:id=>1,\n :name=>\"My 1st Company\",\n :domain=>\"http://example.com\",\n \
             :state=>\"running\",\n :created_at=>2019-03-09 14:24:23 +0000,\n \
             :updated_at=>2019-03-09 14:24:23 +0000}"
        );
        let wide = Printer::default().with_width(200);
        assert_eq!(
            wide.render(&ConsoleValue::Row(company(1, "My 1st Company"))),
            inspect_row(&company(1, "My 1st Company"))
        );
    }

    #[test]
    fn values_inspect_as_ruby() {
        let cases = [
            (Value::Null, "nil"),
            (Value::Bool(false), "false"),
            (Value::Int(-3), "-3"),
            (Value::UInt(u64::MAX), "18446744073709551615"),
            (Value::Float(1.5), "1.5"),
            (Value::Decimal("12.50".into()), "12.50"),
            (
                Value::String("a \"b\" \\ \n\t\u{1}#{x} é".into()),
                r#""a \"b\" \\ \n\t\u0001\#{x} é""#,
            ),
            (
                Value::Bytes(vec![0, 1, b'a', 0xff, b'"']),
                r#""\x00\x01a\xFF\"""#,
            ),
            (
                Value::Date(NaiveDate::from_ymd_opt(2019, 3, 9).unwrap()),
                "2019-03-09",
            ),
            (
                Value::DateTime(at("2019-03-09 14:24:23.5")),
                "2019-03-09 14:24:23.5 +0000",
            ),
            (
                Value::DateTime(at("2019-03-09 14:24:23.000123")),
                "2019-03-09 14:24:23.000123 +0000",
            ),
            (Value::Time(-(3600 + 1) * 1_000_000), "-01:00:01"),
            (
                // serde_json keeps object keys sorted.
                Value::Json(json!({"views": 10, "tags": ["a", null], "ok": true})),
                r#"{"ok"=>true, "tags"=>["a", nil], "views"=>10}"#,
            ),
            (Value::Json(json!({})), "{}"),
            (
                Value::List(vec![Value::Int(1), Value::String("x".into())]),
                r#"[1, "x"]"#,
            ),
        ];
        for (v, text) in cases {
            assert_eq!(inspect(&v), text, "{v:?}");
        }
    }

    #[test]
    fn floats_inspect_as_ruby() {
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (123.456, "123.456"),
            (0.0001, "0.0001"),
            (0.00001, "1.0e-05"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1.0e+16"),
            (1.25e20, "1.25e+20"),
            (1e100, "1.0e+100"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (x, text) in cases {
            assert_eq!(ruby_float(x), text, "{x:?}");
        }
    }

    #[test]
    fn console_values_inspect() {
        let v = ConsoleValue::Hash(vec![
            (
                ConsoleValue::Symbol("a".into()),
                ConsoleValue::List(vec![
                    ConsoleValue::Value(Value::Int(1)),
                    ConsoleValue::Symbol("two words".into()),
                    ConsoleValue::Text("t".into()),
                ]),
            ),
            (
                ConsoleValue::Value(Value::String("k".into())),
                ConsoleValue::object("ferrom::Relation", "posts"),
            ),
        ]);
        assert_eq!(
            v.inspect(),
            r#"{:a=>[1, :"two words", "t"], "k"=>#<ferrom::Relation posts>}"#
        );
        let p = Printer::default();
        assert_eq!(
            p.render(&ConsoleValue::Text("line 1\nline 2".into())),
            "line 1\nline 2"
        );
        assert_eq!(
            p.render(&ConsoleValue::object("ferrom::Command", "")),
            "#<ferrom::Command>"
        );
        assert_eq!(p.render(&ConsoleValue::Rows(vec![])), "[]");
        let long = ConsoleValue::List(
            (0..40)
                .map(|i| ConsoleValue::Value(Value::Int(i)))
                .collect(),
        );
        assert!(p.render(&long).starts_with("[0,\n 1,\n 2,"));
    }

    #[test]
    fn rows_print_as_a_table_when_they_fit() {
        let rows = vec![
            company(1, "Acme"),
            row(
                &["id", "name", "domain", "state", "created_at", "updated_at"],
                vec![
                    Value::Int(22),
                    Value::Null,
                    Value::String("x".into()),
                    Value::String("stopped".into()),
                    Value::Null,
                    Value::Null,
                ],
            ),
        ];
        let p = Printer::default().with_width(200);
        let expected = "\
+----+------+--------------------+---------+---------------------------+---------------------------+
| id | name | domain             | state   | created_at                | updated_at                |
+----+------+--------------------+---------+---------------------------+---------------------------+
|  1 | Acme | http://example.com | running | 2019-03-09 14:24:23 +0000 | 2019-03-09 14:24:23 +0000 |
| 22 | nil  | x                  | stopped | nil                       | nil                       |
+----+------+--------------------+---------+---------------------------+---------------------------+
(2 rows)";
        assert_eq!(p.render(&ConsoleValue::Rows(rows.clone())), expected);
        // The same rows at exactly the table's width still fit; one less does not.
        let width = expected.lines().next().unwrap().chars().count();
        assert!(
            p.clone()
                .with_width(width)
                .render_rows(&rows, 2)
                .starts_with('+')
        );
        assert!(
            p.with_width(width - 1)
                .render_rows(&rows, 2)
                .starts_with("***")
        );
    }

    #[test]
    fn rows_print_vertically_when_the_table_is_too_wide() {
        let rows = vec![company(1, "My 1st Company")];
        let p = Printer::default().with_width(60);
        assert_eq!(
            p.render_rows(&rows, 1),
            "\
*************************** 1. row ***************************
        id: 1
      name: My 1st Company
    domain: http://example.com
     state: running
created_at: 2019-03-09 14:24:23 +0000
updated_at: 2019-03-09 14:24:23 +0000
(1 row)"
        );
    }

    #[test]
    fn rows_with_different_columns_print_vertically() {
        let rows = vec![
            row(&["id"], vec![Value::Int(1)]),
            row(&["url"], vec![Value::String("u".into())]),
        ];
        assert_eq!(
            Printer::default().render_rows(&rows, 2),
            "\
*************************** 1. row ***************************
id: 1
*************************** 2. row ***************************
url: u
(2 rows)"
        );
    }

    #[test]
    fn long_values_are_truncated() {
        let long = "x".repeat(60);
        let rows = vec![row(&["error"], vec![Value::String(long.clone())])];
        let cut = format!("{}…", "x".repeat(49));
        let table = Printer::default().render_rows(&rows, 1);
        assert!(table.contains(&format!("| {cut} |")), "{table}");
        let vertical = Printer::default().with_width(10).render_rows(&rows, 1);
        assert!(vertical.contains(&format!("error: {cut}\n")), "{vertical}");
        let short = Printer::default()
            .with_truncate(Some(5))
            .render_rows(&rows, 1);
        assert!(short.contains("| xxxx… |"), "{short}");
        let whole = Printer::default()
            .with_width(200)
            .with_truncate(None)
            .render_rows(&rows, 1);
        assert!(whole.contains(&long));
        // Control characters do not break the layout.
        let rows = vec![row(&["s"], vec![Value::String("a\nb".into())])];
        assert!(
            Printer::default()
                .render_rows(&rows, 1)
                .contains("| a\\nb |")
        );
    }

    #[test]
    fn a_row_limit_prints_a_notice() {
        let rows: Vec<Row> = (1..=30)
            .map(|i| row(&["id"], vec![Value::Int(i)]))
            .collect();
        let p = Printer::default().with_row_limit(Some(20));
        let out = p.render_rows(&rows, 134);
        assert!(
            out.ends_with("| 20 |\n+----+\n(showing 20 of 134 rows)"),
            "{out}"
        );
        assert!(!out.contains("| 21 |"));
        let out = p
            .clone()
            .with_limit_hint("set with --limit N")
            .render_rows(&rows, 30);
        assert!(
            out.ends_with("(showing 20 of 30 rows; set with --limit N)"),
            "{out}"
        );
        let all = p.with_row_limit(None).render_rows(&rows, 30);
        assert!(all.ends_with("| 30 |\n+----+\n(30 rows)"), "{all}");
    }

    #[test]
    fn colour_only_when_asked() {
        let r = company(1, "Acme");
        let plain = Printer::default().with_width(300);
        for out in [
            plain.render(&ConsoleValue::Row(r.clone())),
            plain.render_rows(std::slice::from_ref(&r), 1),
            plain
                .clone()
                .with_width(20)
                .render_rows(std::slice::from_ref(&r), 1),
        ] {
            assert!(!out.contains('\x1b'), "{out}");
        }
        let colored = plain.with_color(true);
        let out = colored.inspect(&ConsoleValue::Hash(vec![(
            ConsoleValue::Symbol("a".into()),
            ConsoleValue::List(vec![
                ConsoleValue::Value(Value::String("s".into())),
                ConsoleValue::Value(Value::Int(1)),
                ConsoleValue::Value(Value::Null),
                ConsoleValue::Value(Value::Bool(true)),
            ]),
        )]));
        assert_eq!(
            out,
            "{\x1b[36m:a\x1b[0m=>[\x1b[32m\"s\"\x1b[0m, \x1b[34m1\x1b[0m, \
             \x1b[35mnil\x1b[0m, \x1b[35mtrue\x1b[0m]}"
        );
        let table = colored.render_rows(std::slice::from_ref(&r), 1);
        assert!(table.contains("\x1b[36mid\x1b[0m"), "{table}");
        assert!(table.contains("|  \x1b[34m1\x1b[0m |"), "{table}");
    }

    #[test]
    fn json_mode() {
        let r = row(
            &["id", "stats", "published_at", "error"],
            vec![
                Value::Int(1),
                Value::Json(json!({"views": 10})),
                Value::DateTime(at("2019-03-09 14:24:23")),
                Value::Null,
            ],
        );
        let expected = json!({
            "id": 1,
            "stats": {"views": 10},
            "published_at": "2019-03-09T14:24:23Z",
            "error": null,
        });
        assert_eq!(ConsoleValue::Row(r.clone()).to_json(), expected);
        assert_eq!(
            to_json(&ConsoleValue::Rows(vec![r.clone(), r.clone()])),
            json!([expected, expected])
        );
        assert_eq!(rows_to_json(&[]), json!([]));
        assert_eq!(ConsoleValue::Value(Value::Int(0)).to_json(), json!(0));
        assert_eq!(
            ConsoleValue::Hash(vec![
                (
                    ConsoleValue::Symbol("a".into()),
                    ConsoleValue::Value(Value::Null)
                ),
                (
                    ConsoleValue::Value(Value::Int(2)),
                    ConsoleValue::Symbol("b".into())
                ),
            ])
            .to_json(),
            json!({"a": null, "2": "b"})
        );
        assert_eq!(
            ConsoleValue::List(vec![ConsoleValue::Text("t".into())]).to_json(),
            json!(["t"])
        );
    }

    #[test]
    fn nested_associations_print_after_the_attributes() {
        let mut parent = row(&["id"], vec![Value::Int(1)]);
        let posts: Arc<str> = Arc::from("posts");
        let company: Arc<str> = Arc::from("company");
        parent.set_nested(
            &posts,
            Nested::Many(vec![row(&["id"], vec![Value::Int(7)])]),
        );
        parent.set_nested(&company, Nested::One(None));
        assert_eq!(
            inspect_row(&parent),
            "{:id=>1, :posts=>[{:id=>7}], :company=>nil}"
        );
        assert_eq!(
            ConsoleValue::Row(parent.clone()).to_json(),
            json!({"id": 1, "posts": [{"id": 7}], "company": null})
        );
        let table = Printer::default().render_rows(std::slice::from_ref(&parent), 1);
        assert_eq!(
            table,
            "\
+----+------------+---------+
| id | posts      | company |
+----+------------+---------+
|  1 | [{:id=>7}] | nil     |
+----+------------+---------+
(1 row)"
        );
    }
}
