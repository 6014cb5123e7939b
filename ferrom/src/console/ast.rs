//! The console's syntax tree: [`Statement`]s, each a console [`Command`] or
//! an [`Expr`].
//!
//! `Display` prints source text that parses back to the same tree
//! (`parse(print(tree)) == tree`): strings in double quotes with escapes,
//! a trailing hash argument as keywords (`f(1, name: "x")`), an assignment
//! used as a receiver or hash key in parentheses. Parentheses, quote style,
//! `f(a: 1)` versus `f({a: 1})` and `:a => 1` versus `a: 1` are not kept:
//! they mean the same thing.

use std::fmt;

use super::lexer::{is_label_name, is_local_name, is_symbol_name};

/// One statement: a whole line (or `;`-separated part of one).
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// A console command (`help`, `schema posts`, `sql on`, ...).
    Command(Command),
    /// An expression to evaluate and print.
    Expr(Expr),
}

/// A console command. A statement is a command only when it is exactly one
/// of these forms; `relations[:posts]` or `relations.count` are
/// expressions on a name `relations`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// `help` or `help <topic>` (`help relations`, `help posts`, `help where`).
    Help(Option<String>),
    /// `relations`: list the relations.
    Relations,
    /// `commands`: list the registered commands.
    Commands,
    /// `schema <relation>`: the relation's attributes.
    Schema(String),
    /// `sql on` / `sql off`: print each statement with its duration.
    Sql(bool),
    /// `reload!`: re-infer the schemas (after migrating).
    Reload,
    /// `exit` or `quit`.
    Exit,
}

impl Command {
    /// The word that starts the command (`help`, `schema`, `reload!`).
    pub fn word(&self) -> &'static str {
        match self {
            Command::Help(_) => "help",
            Command::Relations => "relations",
            Command::Commands => "commands",
            Command::Schema(_) => "schema",
            Command::Sql(_) => "sql",
            Command::Reload => "reload!",
            Command::Exit => "exit",
        }
    }
}

/// Every console command word, for completion and help.
pub const COMMAND_WORDS: &[&str] = &[
    "help",
    "relations",
    "commands",
    "schema",
    "sql",
    "reload!",
    "exit",
    "quit",
];

/// An expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `nil`
    Nil,
    /// `true` / `false`
    Bool(bool),
    /// `42`, `-1`, `1_000`
    Int(i64),
    /// `1.5`, `2e9` (finite)
    Float(f64),
    /// `'text'` or `"text"`
    Str(String),
    /// `:name`, `:"two words"` (without the colon)
    Symbol(String),
    /// `[a, b]`
    Array(Vec<Expr>),
    /// `{a: 1, 'b' => 2}` as `(key, value)` pairs in order; `a:` is the
    /// key `Symbol("a")`.
    Hash(Vec<(Expr, Expr)>),
    /// A bare lower-case name: a local variable, or (when no variable has
    /// that name) a name the console knows (`companies`, `container`,
    /// `rom`, `factories`) or a method without receiver or arguments.
    Ident(String),
    /// A capitalised name: `MAIN_CONTAINER`, `Time`.
    Const(String),
    /// A method call `receiver.method(args)`; `receiver` is `None` for
    /// `method(args)` written with parentheses. A trailing keyword list is
    /// one [`Expr::Hash`] argument, as in Ruby: `call(name: 'x')` has
    /// `args == [Hash([(Symbol("name"), Str("x"))])]`.
    Call {
        /// What the method is called on.
        receiver: Option<Box<Expr>>,
        /// The method name, with its `?`/`!` suffix.
        method: String,
        /// The arguments; trailing keywords as one hash.
        args: Vec<Expr>,
    },
    /// Indexing `receiver[args]`, as in `relations[:posts]` or
    /// `factories[:company, name: 'Acme']` (keywords as one trailing hash).
    Index {
        /// What is indexed.
        receiver: Box<Expr>,
        /// The index arguments; trailing keywords as one hash.
        args: Vec<Expr>,
    },
    /// `name = value`, a local variable assignment (its value is the
    /// assigned value).
    Assign {
        /// The variable.
        name: String,
        /// The assigned expression.
        value: Box<Expr>,
    },
}

impl Expr {
    /// A call `receiver.method(args)`.
    pub fn call(receiver: Expr, method: &str, args: Vec<Expr>) -> Expr {
        Expr::Call {
            receiver: Some(Box::new(receiver)),
            method: method.to_string(),
            args,
        }
    }

    /// An index `receiver[args]`.
    pub fn index(receiver: Expr, args: Vec<Expr>) -> Expr {
        Expr::Index {
            receiver: Box::new(receiver),
            args,
        }
    }

    /// A symbol literal.
    pub fn sym(name: &str) -> Expr {
        Expr::Symbol(name.to_string())
    }

    /// A string literal.
    pub fn str(text: &str) -> Expr {
        Expr::Str(text.to_string())
    }

    /// A bare name.
    pub fn ident(name: &str) -> Expr {
        Expr::Ident(name.to_string())
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Command(c) => write!(f, "{c}"),
            // A lone command word would read back as the command.
            Statement::Expr(Expr::Ident(name)) if COMMAND_WORDS.contains(&name.as_str()) => {
                write!(f, "({name})")
            }
            Statement::Expr(e) => write!(f, "{e}"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())?;
        match self {
            Command::Help(Some(topic)) | Command::Schema(topic) => {
                f.write_str(" ")?;
                // Bare when it reads back as one name token, quoted otherwise.
                let bare = if topic.starts_with(|c: char| c.is_ascii_uppercase()) {
                    is_label_name(topic)
                } else {
                    is_symbol_name(topic) && !matches!(topic.as_str(), "nil" | "true" | "false")
                };
                if bare {
                    f.write_str(topic)
                } else {
                    write_quoted(f, topic)
                }
            }
            Command::Sql(on) => f.write_str(if *on { " on" } else { " off" }),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Nil => f.write_str("nil"),
            Expr::Bool(b) => write!(f, "{b}"),
            Expr::Int(i) => write!(f, "{i}"),
            // `{:?}` is the shortest text that reads back as the same f64
            // (`1.0`, `1e100`, `5e-324`), all of which the lexer reads.
            Expr::Float(x) => write!(f, "{x:?}"),
            Expr::Str(s) => write_quoted(f, s),
            Expr::Symbol(s) => write_symbol(f, s),
            Expr::Array(items) => {
                f.write_str("[")?;
                write_list(f, items)?;
                f.write_str("]")
            }
            Expr::Hash(pairs) => {
                f.write_str("{")?;
                write_pairs(f, pairs)?;
                f.write_str("}")
            }
            Expr::Ident(name) | Expr::Const(name) => f.write_str(name),
            Expr::Call {
                receiver,
                method,
                args,
            } => match receiver {
                Some(r) => {
                    write_receiver(f, r)?;
                    write!(f, ".{method}")?;
                    if args.is_empty() {
                        Ok(())
                    } else {
                        f.write_str("(")?;
                        write_args(f, args)?;
                        f.write_str(")")
                    }
                }
                None => {
                    write!(f, "{method}(")?;
                    write_args(f, args)?;
                    f.write_str(")")
                }
            },
            Expr::Index { receiver, args } => {
                write_receiver(f, receiver)?;
                f.write_str("[")?;
                write_args(f, args)?;
                f.write_str("]")
            }
            Expr::Assign { name, value } => write!(f, "{name} = {value}"),
        }
    }
}

fn write_receiver(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
    match e {
        Expr::Assign { .. } => write!(f, "({e})"),
        _ => write!(f, "{e}"),
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, items: &[Expr]) -> fmt::Result {
    for (i, e) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{e}")?;
    }
    Ok(())
}

/// Arguments, a trailing non-empty hash written as keywords.
fn write_args(f: &mut fmt::Formatter<'_>, args: &[Expr]) -> fmt::Result {
    match args.split_last() {
        Some((Expr::Hash(pairs), positional)) if !pairs.is_empty() => {
            write_list(f, positional)?;
            if !positional.is_empty() {
                f.write_str(", ")?;
            }
            write_pairs(f, pairs)
        }
        _ => write_list(f, args),
    }
}

fn write_pairs(f: &mut fmt::Formatter<'_>, pairs: &[(Expr, Expr)]) -> fmt::Result {
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        match k {
            Expr::Symbol(name) if is_label_name(name) => write!(f, "{name}: {v}")?,
            Expr::Assign { .. } => write!(f, "({k}) => {v}")?,
            _ => write!(f, "{k} => {v}")?,
        }
    }
    Ok(())
}

fn write_symbol(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    f.write_str(":")?;
    if is_symbol_name(name) {
        f.write_str(name)
    } else {
        write_quoted(f, name)
    }
}

/// A double-quoted string literal the lexer reads back as `s`.
pub(crate) fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            '\u{1b}' => f.write_str("\\e")?,
            '#' if chars.peek() == Some(&'{') => f.write_str("\\#")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// Whether `name` can be assigned with `name = ...`.
pub fn is_assignable(name: &str) -> bool {
    is_local_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_literals() {
        let cases = [
            (Expr::Nil, "nil"),
            (Expr::Bool(true), "true"),
            (Expr::Int(-5), "-5"),
            (Expr::Float(1.0), "1.0"),
            (Expr::Float(1e100), "1e100"),
            (
                Expr::str("a\"b\\c\n\t#{x}\u{1}é"),
                r#""a\"b\\c\n\t\#{x}\u{1}é""#,
            ),
            (Expr::sym("posts"), ":posts"),
            (Expr::sym("exist?"), ":exist?"),
            (Expr::sym("two words"), r#":"two words""#),
            (Expr::sym(""), r#":"""#),
            (Expr::Array(vec![Expr::Int(1), Expr::Nil]), "[1, nil]"),
            (Expr::Hash(vec![]), "{}"),
            (
                Expr::Hash(vec![
                    (Expr::sym("a"), Expr::Int(1)),
                    (Expr::str("b"), Expr::Int(2)),
                    (Expr::sym("c d"), Expr::Int(3)),
                ]),
                r#"{a: 1, "b" => 2, :"c d" => 3}"#,
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
        }
    }

    #[test]
    fn prints_calls_indexes_and_assignments() {
        let companies = Expr::index(
            Expr::call(Expr::Const("MAIN_CONTAINER".into()), "relations", vec![]),
            vec![Expr::sym("companies")],
        );
        assert_eq!(
            companies.to_string(),
            "MAIN_CONTAINER.relations[:companies]"
        );
        let create = Expr::call(
            Expr::call(
                Expr::ident("companies"),
                "command",
                vec![Expr::sym("create")],
            ),
            "call",
            vec![Expr::Hash(vec![
                (Expr::sym("name"), Expr::str("My 1st Company")),
                (Expr::sym("domain"), Expr::str("http://example.com")),
            ])],
        );
        assert_eq!(
            create.to_string(),
            r#"companies.command(:create).call(name: "My 1st Company", domain: "http://example.com")"#
        );
        let receiverless = Expr::Call {
            receiver: None,
            method: "foo".into(),
            args: vec![],
        };
        assert_eq!(receiverless.to_string(), "foo()");
        let assign = Expr::Assign {
            name: "x".into(),
            value: Box::new(Expr::Int(1)),
        };
        assert_eq!(
            Expr::call(assign.clone(), "y", vec![]).to_string(),
            "(x = 1).y"
        );
        assert_eq!(
            Expr::Hash(vec![(assign.clone(), Expr::Nil)]).to_string(),
            "{(x = 1) => nil}"
        );
        assert_eq!(
            Expr::index(Expr::ident("f"), vec![Expr::Int(1), Expr::Hash(vec![]),]).to_string(),
            "f[1, {}]"
        );
    }

    #[test]
    fn prints_commands() {
        let cases = [
            (Command::Help(None), "help"),
            (Command::Help(Some("posts".into())), "help posts"),
            (Command::Help(Some("a b".into())), r#"help "a b""#),
            (Command::Help(Some("Time".into())), "help Time"),
            (Command::Help(Some("Foo?".into())), r#"help "Foo?""#),
            (Command::Help(Some("exist?".into())), "help exist?"),
            (Command::Help(Some("nil".into())), r#"help "nil""#),
            (Command::Schema("posts".into()), "schema posts"),
            (Command::Sql(true), "sql on"),
            (Command::Sql(false), "sql off"),
            (Command::Reload, "reload!"),
            (Command::Exit, "exit"),
        ];
        for (c, text) in cases {
            assert_eq!(Statement::Command(c).to_string(), text);
        }
        assert_eq!(
            Statement::Expr(Expr::ident("relations")).to_string(),
            "(relations)"
        );
    }
}
