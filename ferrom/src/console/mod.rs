//! The console's language and its output.
//!
//! The console speaks a small Ruby-like expression language shaped after
//! ROM's calls, so what the ROM docs and the article show can be typed as
//! is: `MAIN_CONTAINER.relations[:companies].count`,
//! `companies = MAIN_CONTAINER.relations[:companies]`,
//! `companies.command(:create).call(name: 'My 1st Company', domain: 'http://example.com')`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`lexer`] | source text to tokens (with byte spans, for highlighting and completion) |
//! | [`ast`] | [`Statement`], [`Command`], [`Expr`]; `Display` prints source that parses back to the same tree |
//! | [`parser`] | [`parse`], [`parse_expr`], [`is_incomplete`], [`ParseError`] with [`ParseError::render`] (a caret under the position) |
//! | [`print`](mod@print) | [`ConsoleValue`] and how results print: Ruby `inspect`, tables, vertical rows, JSON |
//! | [`eval`] | the evaluator: names, the ROM-to-ferrom method table ([`eval::RELATION_METHODS`]), commands, factories, sandbox binding, production confirmations |
//! | [`session`] | a session: console commands (`help`, `schema`, `sql on`, `reload!`), rendering as text or JSON, the SQL log layer |
//! | [`helper`] | the rustyline helper: completion, hints, highlighting, multi-line validation |
//! | [`repl`] | the interactive loop: history, Ctrl-C, Ctrl-D |
//! | [`script`] | `-e` and stdin scripts, one result (or JSON line) per statement |
//! | [`run()`] | the entry point `ferrom console` calls, with [`Options`] |
//!
//! A line is parsed with [`parse`] into statements; each is a console
//! [`Command`] (only when the whole statement is exactly `help`,
//! `help <topic>`, `relations`, `commands`, `schema <relation>`,
//! `sql on|off`, `reload!`, `exit` or `quit`) or an [`Expr`] to evaluate.
//! The evaluator turns an expression into a [`ConsoleValue`], and a
//! [`Printer`] prints it (the REPL adds the `=> `). An application's
//! binary reaches it through `ferrom console` ([`crate::cli`]), with its
//! configuration and factories given by its
//! [`Project`](crate::cli::Project).

pub mod ast;
pub mod eval;
pub mod helper;
pub mod lexer;
pub mod parser;
pub mod print;
pub mod repl;
mod run;
pub mod script;
pub mod session;

pub use ast::{Command, Expr, Statement};
pub use parser::{MAX_DEPTH, ParseError, ParseErrorKind, is_incomplete, parse, parse_expr};
pub use print::{ConsoleValue, Printer};
pub use run::{Options, run};
pub use session::{Format, Session, sql_log_layer};
