//! The console's parser: tokens to [`Statement`]s.
//!
//! ```text
//! input     := sep* (statement (sep+ statement)*)? sep*       sep: line break or `;`
//! statement := command | expr
//! command   := help [topic] | relations | commands | schema topic
//!            | sql (on|off) | reload! | exit | quit           (the whole statement)
//! expr      := postfix ['=' expr]                             (assignment: a local name only)
//! postfix   := primary ('.' name ['(' args ')'] | '[' args ']')*
//! primary   := literal | '[' args ']' | '{' pairs '}' | '(' expr ')'
//!            | name ['(' args ')'] | Const ['(' args ')']
//! args      := (arg (',' arg)*)? [',']        positional args, then `key: v` / `k => v` pairs
//! pairs     := (pair (',' pair)*)? [',']
//! ```
//!
//! Inside brackets line breaks are insignificant. Outside, a line break
//! ends the statement unless the line ends where more must follow (after
//! `.`, `=`) or the next line starts with `.` (a continued chain):
//!
//! ```text
//! MAIN_CONTAINER.
//!   gateways[:default].connection.schema(:companies)
//! ```
//!
//! Nesting is limited to [`MAX_DEPTH`] levels (brackets, assignments and
//! chained calls each count), so no input can overflow the stack.

use std::fmt;

use super::ast::{Command, Expr, Statement};
use super::lexer::{Token, TokenKind, is_local_name, tokenize};

/// How deeply expressions may nest before the parser refuses the input:
/// brackets, assignments and each call or index of a chain count one
/// level. Far beyond what anyone types, and low enough that parsing (about
/// 4.5 KiB of stack per level in a debug build, 1.2 KiB in release) and
/// walking the tree, which is at most twice as deep, fit a 2 MiB thread.
pub const MAX_DEPTH: usize = 128;

/// Why an input did not parse, and where.
///
/// Its `Display` is one line (`syntax error at line 1, column 5: ...`);
/// [`ParseError::render`] adds the source line and a caret.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} at line {}, column {}: {}", .0.kind, .0.line, .0.column, .0.message)]
pub struct ParseError(Box<ErrorInner>);

/// Boxed so that results in the recursive parser stay small.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ErrorInner {
    kind: ParseErrorKind,
    position: usize,
    line: usize,
    column: usize,
    message: String,
}

/// The kinds of [`ParseError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input is wrong where it stands.
    Syntax,
    /// The input ended too soon (an open bracket or string, a trailing `.`
    /// or `=`): a REPL should read another line and try again.
    Incomplete,
    /// The input nests more than [`MAX_DEPTH`] levels.
    TooDeep,
}

impl ParseErrorKind {
    /// A short name for the kind (`syntax`, `incomplete`, `too_deep`), for
    /// machine-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            ParseErrorKind::Syntax => "syntax",
            ParseErrorKind::Incomplete => "incomplete",
            ParseErrorKind::TooDeep => "too_deep",
        }
    }
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseErrorKind::Syntax => "syntax error",
            ParseErrorKind::Incomplete => "incomplete input",
            ParseErrorKind::TooDeep => "nesting too deep",
        })
    }
}

impl ParseError {
    /// An error at byte `position` of `source` (clamped to the source and
    /// to a character boundary).
    pub(crate) fn new(
        kind: ParseErrorKind,
        source: &str,
        position: usize,
        message: &str,
    ) -> ParseError {
        let position = floor_char_boundary(source, position);
        let (line, column, _, _) = locate(source, position);
        ParseError(Box::new(ErrorInner {
            kind,
            position,
            line,
            column,
            message: message.to_string(),
        }))
    }

    /// What went wrong.
    pub fn kind(&self) -> ParseErrorKind {
        self.0.kind
    }

    /// Whether more input could complete the source
    /// ([`ParseErrorKind::Incomplete`]).
    pub fn is_incomplete(&self) -> bool {
        self.0.kind == ParseErrorKind::Incomplete
    }

    /// The byte offset in the source where the error is.
    pub fn position(&self) -> usize {
        self.0.position
    }

    /// The line of the error, from 1.
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// The column of the error in characters (not bytes), from 1.
    pub fn column(&self) -> usize {
        self.0.column
    }

    /// The message, without position.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The error with the offending line of `source` and a caret under the
    /// position:
    ///
    /// ```text
    /// syntax error: expected `,` or `)`, found identifier `b`
    ///   f(a b)
    ///       ^
    /// ```
    ///
    /// The line number is added when the source has more than one line.
    /// The caret column counts characters, and a tab in the line is
    /// matched by a tab, so the caret stays under the character; other
    /// control characters show as `?`.
    pub fn render(&self, source: &str) -> String {
        let position = floor_char_boundary(source, self.0.position);
        let (line, _, start, end) = locate(source, position);
        let text: String = source[start..end]
            .trim_end_matches('\r')
            .chars()
            .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
            .collect();
        let padding: String = source[start..position]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let location = if source.contains('\n') {
            format!(" (line {line})")
        } else {
            String::new()
        };
        format!(
            "{}: {}{location}\n  {text}\n  {padding}^",
            self.0.kind, self.0.message
        )
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Line (from 1), column in chars (from 1), and the byte range of the line
/// holding byte `position`.
fn locate(source: &str, position: usize) -> (usize, usize, usize, usize) {
    let before = &source[..position];
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let end = source[position..]
        .find('\n')
        .map_or(source.len(), |i| position + i);
    let line = before.matches('\n').count() + 1;
    let column = source[start..position].chars().count() + 1;
    (line, column, start, end)
}

/// Parses a whole input: zero or more statements separated by line breaks
/// or `;`.
///
/// # Errors
///
/// The first [`ParseError`]; [`ParseErrorKind::Incomplete`] when the input
/// ended while more was expected (see [`is_incomplete`]).
pub fn parse(source: &str) -> Result<Vec<Statement>, ParseError> {
    let tokens = tokenize(source)?;
    Parser::new(source, tokens).program()
}

/// Parses exactly one expression (no console commands, no `;`).
///
/// # Errors
///
/// As [`parse`]; also when there is no expression or more than one.
pub fn parse_expr(source: &str) -> Result<Expr, ParseError> {
    let tokens = tokenize(source)?;
    let mut p = Parser::new(source, tokens);
    p.skip_newlines();
    let e = p.expr()?;
    p.skip_newlines();
    if p.peek_kind() != &TokenKind::Eof {
        return Err(p.unexpected("expected the end of the expression"));
    }
    Ok(e)
}

/// Whether `source` is unfinished: a string or bracket is still open, or
/// the input ends with `.`, `=`, `,` or `=>` inside a call. A REPL reads
/// another line and appends it while this holds.
pub fn is_incomplete(source: &str) -> bool {
    parse(source).is_err_and(|e| e.is_incomplete())
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// Current nesting depth, checked against [`MAX_DEPTH`].
    depth: usize,
    /// Open brackets: line breaks are insignificant while nonzero.
    brackets: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, tokens: Vec<Token>) -> Parser<'a> {
        Parser {
            src,
            tokens,
            pos: 0,
            depth: 0,
            brackets: 0,
        }
    }

    // ----- token access -----

    /// The current token (line breaks skipped inside brackets). The token
    /// list always ends with `Eof`, which is never consumed.
    fn peek(&mut self) -> &Token {
        if self.brackets > 0 {
            self.skip_newlines();
        }
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.pos.min(last)]
    }

    fn peek_kind(&mut self) -> &TokenKind {
        &self.peek().kind
    }

    /// The kind of the token `n` after the current one (raw).
    fn peek_ahead(&self, n: usize) -> &TokenKind {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[(self.pos + n).min(last)].kind
    }

    /// Moves past the current token (never past `Eof`).
    fn bump(&mut self) {
        if self.peek().kind != TokenKind::Eof {
            self.pos += 1;
        }
    }

    fn skip_newlines(&mut self) {
        while self.tokens.get(self.pos).map(|t| &t.kind) == Some(&TokenKind::Newline) {
            self.pos += 1;
        }
    }

    /// Whether the next tokens are line breaks followed by `.` (a chain
    /// continued on the next line).
    fn newline_then_dot(&self) -> bool {
        let mut i = self.pos;
        while self.tokens.get(i).map(|t| &t.kind) == Some(&TokenKind::Newline) {
            i += 1;
        }
        i > self.pos && self.tokens.get(i).map(|t| &t.kind) == Some(&TokenKind::Dot)
    }

    /// At `;`, the end, or a line break that does not continue a chain.
    fn at_statement_end(&self) -> bool {
        match self.peek_ahead(0) {
            TokenKind::Semi | TokenKind::Eof => true,
            TokenKind::Newline => !self.newline_then_dot(),
            _ => false,
        }
    }

    // ----- errors -----

    fn error_at(&self, kind: ParseErrorKind, pos: usize, message: &str) -> ParseError {
        ParseError::new(kind, self.src, pos, message)
    }

    /// An error at the current token: incomplete at the end of input,
    /// syntax otherwise. `expected` says what should have been there.
    fn unexpected(&mut self, expected: &str) -> ParseError {
        let t = self.peek().clone();
        if t.kind == TokenKind::Eof {
            self.error_at(ParseErrorKind::Incomplete, t.start, expected)
        } else {
            let message = format!("{expected}, found {}", t.kind.describe());
            self.error_at(ParseErrorKind::Syntax, t.start, &message)
        }
    }

    /// One level deeper, or [`ParseErrorKind::TooDeep`].
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let pos = self.peek().start;
            return Err(self.error_at(
                ParseErrorKind::TooDeep,
                pos,
                &format!("the expression nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    // ----- statements -----

    fn program(&mut self) -> Result<Vec<Statement>, ParseError> {
        let mut out = Vec::new();
        loop {
            while matches!(self.peek_kind(), TokenKind::Newline | TokenKind::Semi) {
                self.bump();
            }
            if self.peek_kind() == &TokenKind::Eof {
                return Ok(out);
            }
            out.push(self.statement()?);
        }
    }

    fn statement(&mut self) -> Result<Statement, ParseError> {
        if let Some(command) = self.command() {
            return Ok(Statement::Command(command));
        }
        let e = self.expr()?;
        if self.at_statement_end() {
            return Ok(Statement::Expr(e));
        }
        // `sql maybe`, `schema a b`: a command word misused.
        if let Expr::Ident(word) = &e
            && let Some(usage) = usage(word)
        {
            return Err(self.hint(&format!("usage: {usage}")));
        }
        Err(self.after_expression(&e))
    }

    /// The error for a token after a complete expression, with a hint for
    /// what was probably meant.
    fn after_expression(&mut self, e: &Expr) -> ParseError {
        let next = self.peek().kind.clone();
        if next == TokenKind::Assign {
            let message = match e {
                Expr::Ident(name) => {
                    format!("cannot assign to `{name}`: a variable name has no `?` or `!`")
                }
                Expr::Const(name) => format!(
                    "cannot assign to the constant `{name}`; use a lower-case variable name"
                ),
                Expr::Call { .. } | Expr::Index { .. } => {
                    "cannot assign to a method call or an index; only local variables \
                     can be assigned (`name = ...`)"
                        .to_string()
                }
                _ => "cannot assign to this expression; only local variables can be \
                      assigned (`name = ...`)"
                    .to_string(),
            };
            let pos = self.peek().start;
            return self.error_at(ParseErrorKind::Syntax, pos, &message);
        }
        let t = self.peek().clone();
        if matches!(t.kind, TokenKind::Int(_) | TokenKind::Float(_))
            && self
                .src
                .get(t.start..)
                .is_some_and(|rest| rest.starts_with('-'))
        {
            return self.hint("operators such as `-` are not supported");
        }
        let starts_expression = matches!(
            next,
            TokenKind::Ident(_)
                | TokenKind::Const(_)
                | TokenKind::Label(_)
                | TokenKind::Int(_)
                | TokenKind::Float(_)
                | TokenKind::Str(_)
                | TokenKind::Symbol(_)
                | TokenKind::Nil
                | TokenKind::True
                | TokenKind::False
        );
        let method = match e {
            Expr::Call { method, args, .. } if args.is_empty() => Some(method.as_str()),
            Expr::Ident(name) => Some(name.as_str()),
            _ => None,
        };
        match method {
            Some(m) if starts_expression => {
                self.hint(&format!("arguments go in parentheses: `{m}(...)`"))
            }
            _ => self.unexpected("expected the end of the statement"),
        }
    }

    /// `unexpected <token>; <hint>` at the current token (not at the end).
    fn hint(&mut self, hint: &str) -> ParseError {
        let t = self.peek().clone();
        let message = format!("unexpected {}; {hint}", t.kind.describe());
        self.error_at(ParseErrorKind::Syntax, t.start, &message)
    }

    /// A console command if the whole statement is exactly one.
    fn command(&mut self) -> Option<Command> {
        let TokenKind::Ident(word) = self.peek_kind().clone() else {
            return None;
        };
        // Whether the statement ends right after the next `n` tokens.
        let ends_after = |p: &Parser<'_>, n: usize| {
            let mut i = p.pos + n;
            match p.tokens.get(i).map(|t| &t.kind) {
                None | Some(TokenKind::Semi | TokenKind::Eof) => true,
                Some(TokenKind::Newline) => {
                    while p.tokens.get(i).map(|t| &t.kind) == Some(&TokenKind::Newline) {
                        i += 1;
                    }
                    p.tokens.get(i).map(|t| &t.kind) != Some(&TokenKind::Dot)
                }
                Some(_) => false,
            }
        };
        let topic = match self.peek_ahead(1) {
            TokenKind::Ident(t)
            | TokenKind::Const(t)
            | TokenKind::Symbol(t)
            | TokenKind::Str(t) => Some(t.clone()),
            _ => None,
        };
        let (command, len) = match word.as_str() {
            "help" if ends_after(self, 1) => (Command::Help(None), 1),
            "help" if topic.is_some() && ends_after(self, 2) => (Command::Help(topic), 2),
            "relations" if ends_after(self, 1) => (Command::Relations, 1),
            "commands" if ends_after(self, 1) => (Command::Commands, 1),
            "reload!" if ends_after(self, 1) => (Command::Reload, 1),
            "exit" | "quit" if ends_after(self, 1) => (Command::Exit, 1),
            "schema" if ends_after(self, 2) => (Command::Schema(topic?), 2),
            "sql" if ends_after(self, 2) => match self.peek_ahead(1) {
                TokenKind::Ident(s) if s == "on" => (Command::Sql(true), 2),
                TokenKind::Ident(s) if s == "off" => (Command::Sql(false), 2),
                _ => return None,
            },
            _ => return None,
        };
        self.pos += len;
        Some(command)
    }

    // ----- expressions -----
    //
    // These functions recurse once per nesting level, so they keep their
    // frames small: no token clones, errors built in cold helpers.

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.enter()?;
        let lhs = self.postfix()?;
        let e = if matches!(self.peek_kind(), TokenKind::Assign) {
            self.assignment(lhs)?
        } else {
            lhs
        };
        self.depth -= 1;
        Ok(e)
    }

    /// `name = value`, the `=` current.
    fn assignment(&mut self, lhs: Expr) -> Result<Expr, ParseError> {
        match lhs {
            Expr::Ident(name) if is_local_name(&name) => {
                self.bump();
                self.skip_newlines();
                let value = self.expr()?;
                Ok(Expr::Assign {
                    name,
                    value: Box::new(value),
                })
            }
            other => Err(self.after_expression(&other)),
        }
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut e = self.primary()?;
        let base = self.depth;
        loop {
            if self.brackets == 0 && self.newline_then_dot() {
                self.skip_newlines();
            }
            e = match self.peek_kind() {
                TokenKind::Dot => self.method_call(e)?,
                TokenKind::LBracket => {
                    self.enter()?;
                    let args = self.args(Close::Bracket)?;
                    Expr::Index {
                        receiver: Box::new(e),
                        args,
                    }
                }
                _ => break,
            };
        }
        self.depth = base;
        Ok(e)
    }

    /// `.name` or `.name(args)` on `receiver`, the `.` current.
    fn method_call(&mut self, receiver: Expr) -> Result<Expr, ParseError> {
        self.enter()?;
        self.bump();
        self.skip_newlines();
        let method = match self.peek_kind() {
            TokenKind::Ident(n) | TokenKind::Const(n) => n.clone(),
            TokenKind::Nil => "nil".to_string(),
            TokenKind::True => "true".to_string(),
            TokenKind::False => "false".to_string(),
            _ => return Err(self.unexpected("expected a method name after `.`")),
        };
        self.bump();
        let args = if self.peek_ahead(0) == &TokenKind::LParen {
            self.args(Close::Paren)?
        } else {
            Vec::new()
        };
        Ok(Expr::Call {
            receiver: Some(Box::new(receiver)),
            method,
            args,
        })
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        let e = match self.peek_kind() {
            TokenKind::Nil => Expr::Nil,
            TokenKind::True => Expr::Bool(true),
            TokenKind::False => Expr::Bool(false),
            TokenKind::Int(i) => Expr::Int(*i),
            TokenKind::Float(x) => Expr::Float(*x),
            TokenKind::Str(s) => Expr::Str(s.clone()),
            TokenKind::Symbol(s) => Expr::Symbol(s.clone()),
            TokenKind::Ident(_) | TokenKind::Const(_) => return self.name(),
            TokenKind::LBracket => return self.args(Close::Bracket).map(Expr::Array),
            TokenKind::LBrace => return self.hash(),
            TokenKind::LParen => return self.group(),
            TokenKind::Label(_) => return Err(self.stray_label()),
            _ => return Err(self.unexpected("expected an expression")),
        };
        self.bump();
        Ok(e)
    }

    /// A bare name, or a call without receiver `name(args)`.
    fn name(&mut self) -> Result<Expr, ParseError> {
        let e = match self.peek_kind() {
            TokenKind::Const(n) => Expr::Const(n.clone()),
            TokenKind::Ident(n) => Expr::Ident(n.clone()),
            _ => return Err(self.unexpected("expected a name")),
        };
        self.bump();
        if self.peek_ahead(0) != &TokenKind::LParen {
            return Ok(e);
        }
        let args = self.args(Close::Paren)?;
        let (Expr::Const(method) | Expr::Ident(method)) = e else {
            return Err(self.unexpected("expected a name"));
        };
        Ok(Expr::Call {
            receiver: None,
            method,
            args,
        })
    }

    /// `( expr )`
    fn group(&mut self) -> Result<Expr, ParseError> {
        self.brackets += 1;
        self.bump();
        if self.peek_kind() == &TokenKind::RParen {
            return Err(self.empty_parentheses());
        }
        let e = self.expr()?;
        if self.peek_kind() != &TokenKind::RParen {
            return Err(self.unexpected("expected `)`"));
        }
        self.bump();
        self.brackets -= 1;
        Ok(e)
    }

    /// A bracketed argument list, the opening bracket current: positional
    /// arguments, then `key: value` / `key => value` pairs, which become
    /// one trailing hash.
    fn args(&mut self, close: Close) -> Result<Vec<Expr>, ParseError> {
        self.brackets += 1;
        self.bump();
        let mut positional = Vec::new();
        let mut pairs = Vec::new();
        loop {
            if close.is(self.peek_kind()) {
                break;
            }
            self.arg(&mut positional, &mut pairs)?;
            if self.peek_kind() == &TokenKind::Comma {
                self.bump();
            } else if close.is(self.peek_kind()) {
                break;
            } else {
                return Err(self.expected_separator(close));
            }
        }
        self.bump();
        self.brackets -= 1;
        if !pairs.is_empty() {
            positional.push(Expr::Hash(pairs));
        }
        Ok(positional)
    }

    /// One argument: a positional one, or a pair.
    fn arg(
        &mut self,
        positional: &mut Vec<Expr>,
        pairs: &mut Vec<(Expr, Expr)>,
    ) -> Result<(), ParseError> {
        if let TokenKind::Label(_) = self.peek_kind() {
            let pair = self.label_pair()?;
            pairs.push(pair);
            return Ok(());
        }
        let start = self.peek().start;
        let e = self.expr()?;
        if self.peek_kind() == &TokenKind::Arrow {
            self.bump();
            let value = self.expr()?;
            pairs.push((e, value));
        } else if pairs.is_empty() {
            positional.push(e);
        } else {
            return Err(self.positional_after_keywords(start));
        }
        Ok(())
    }

    /// `label: value`, the label current.
    fn label_pair(&mut self) -> Result<(Expr, Expr), ParseError> {
        let key = match self.peek_kind() {
            TokenKind::Label(name) => Expr::Symbol(name.clone()),
            _ => return Err(self.unexpected("expected a keyword")),
        };
        self.bump();
        if matches!(
            self.peek_kind(),
            TokenKind::Comma | TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace
        ) {
            return Err(self.missing_value(&key));
        }
        let value = self.expr()?;
        Ok((key, value))
    }

    /// `{ pairs }`
    fn hash(&mut self) -> Result<Expr, ParseError> {
        self.brackets += 1;
        self.bump();
        let mut pairs = Vec::new();
        loop {
            if self.peek_kind() == &TokenKind::RBrace {
                break;
            }
            let pair = self.hash_pair()?;
            pairs.push(pair);
            match self.peek_kind() {
                TokenKind::Comma => self.bump(),
                TokenKind::RBrace => break,
                _ => return Err(self.unexpected("expected `,` or `}`")),
            }
        }
        self.bump();
        self.brackets -= 1;
        Ok(Expr::Hash(pairs))
    }

    /// `label: value` or `key => value`.
    fn hash_pair(&mut self) -> Result<(Expr, Expr), ParseError> {
        if let TokenKind::Label(_) = self.peek_kind() {
            return self.label_pair();
        }
        let key = self.expr()?;
        if self.peek_kind() != &TokenKind::Arrow {
            return Err(self.unexpected("expected `=>` after a hash key (or write `key: value`)"));
        }
        self.bump();
        let value = self.expr()?;
        Ok((key, value))
    }

    // ----- cold error paths -----

    #[cold]
    #[inline(never)]
    fn stray_label(&mut self) -> ParseError {
        let t = self.peek().clone();
        let name = match &t.kind {
            TokenKind::Label(n) => n.as_str(),
            _ => "",
        };
        self.error_at(
            ParseErrorKind::Syntax,
            t.start,
            &format!(
                "unexpected keyword `{name}:`; keywords go inside a call's parentheses \
                 (`f({name}: ...)`) or a hash (`{{{name}: ...}}`)"
            ),
        )
    }

    #[cold]
    #[inline(never)]
    fn empty_parentheses(&mut self) -> ParseError {
        let pos = self.peek().start;
        self.error_at(
            ParseErrorKind::Syntax,
            pos,
            "expected an expression inside the parentheses",
        )
    }

    #[cold]
    #[inline(never)]
    fn expected_separator(&mut self, close: Close) -> ParseError {
        let text = match close {
            Close::Paren => "expected `,` or `)`",
            Close::Bracket => "expected `,` or `]`",
        };
        self.unexpected(text)
    }

    #[cold]
    #[inline(never)]
    fn positional_after_keywords(&self, start: usize) -> ParseError {
        self.error_at(
            ParseErrorKind::Syntax,
            start,
            "a positional argument cannot follow keyword arguments",
        )
    }

    #[cold]
    #[inline(never)]
    fn missing_value(&mut self, key: &Expr) -> ParseError {
        let name = match key {
            Expr::Symbol(n) => n.as_str(),
            _ => "",
        };
        self.unexpected(&format!("expected a value after `{name}:`"))
    }
}

/// The bracket that closes an argument list.
#[derive(Clone, Copy)]
enum Close {
    Paren,
    Bracket,
}

impl Close {
    fn is(self, kind: &TokenKind) -> bool {
        matches!(
            (self, kind),
            (Close::Paren, TokenKind::RParen) | (Close::Bracket, TokenKind::RBracket)
        )
    }
}

/// How a command is written, for an error on a statement that starts
/// with its word but is not the command.
fn usage(word: &str) -> Option<&'static str> {
    match word {
        "help" => Some("`help` or `help <topic>`"),
        "schema" => Some("`schema <relation>`"),
        "sql" => Some("`sql on` or `sql off`"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn expr(src: &str) -> Expr {
        parse_expr(src).unwrap_or_else(|e| panic!("{src:?}:\n{}", e.render(src)))
    }

    fn statements(src: &str) -> Vec<Statement> {
        parse(src).unwrap_or_else(|e| panic!("{src:?}:\n{}", e.render(src)))
    }

    fn one(src: &str) -> Statement {
        let mut s = statements(src);
        assert_eq!(s.len(), 1, "{src:?}: {s:?}");
        s.remove(0)
    }

    fn err(src: &str) -> ParseError {
        parse(src).expect_err(src)
    }

    fn id(s: &str) -> Expr {
        Expr::ident(s)
    }

    fn c(name: &str) -> Expr {
        Expr::Const(name.into())
    }

    fn hash(pairs: Vec<(Expr, Expr)>) -> Expr {
        Expr::Hash(pairs)
    }

    fn kw(name: &str, value: Expr) -> (Expr, Expr) {
        (Expr::sym(name), value)
    }

    #[test]
    fn literals() {
        assert_eq!(expr("nil"), Expr::Nil);
        assert_eq!(expr("true"), Expr::Bool(true));
        assert_eq!(expr("false"), Expr::Bool(false));
        assert_eq!(expr("-1_000"), Expr::Int(-1000));
        assert_eq!(expr("2.5"), Expr::Float(2.5));
        assert_eq!(expr("'a\\'b'"), Expr::str("a'b"));
        assert_eq!(expr("\"a\\nb\""), Expr::str("a\nb"));
        assert_eq!(expr(":posts"), Expr::sym("posts"));
        assert_eq!(expr(":\"quoted sym\""), Expr::sym("quoted sym"));
        assert_eq!(expr("[]"), Expr::Array(vec![]));
        assert_eq!(
            expr("[1, 2, 3,]"),
            Expr::Array(vec![Expr::Int(1), Expr::Int(2), Expr::Int(3)])
        );
        assert_eq!(expr("{}"), hash(vec![]));
        assert_eq!(
            expr("{a: 1, 'b' => 2, :c => 3, \"d\": 4, nil: nil}"),
            hash(vec![
                kw("a", Expr::Int(1)),
                (Expr::str("b"), Expr::Int(2)),
                kw("c", Expr::Int(3)),
                kw("d", Expr::Int(4)),
                kw("nil", Expr::Nil),
            ])
        );
        assert_eq!(
            expr("[1, a: 2]"),
            Expr::Array(vec![Expr::Int(1), hash(vec![kw("a", Expr::Int(2))])])
        );
        assert_eq!(expr("( 1 )"), Expr::Int(1));
    }

    #[test]
    fn the_issues_expressions() {
        let relations = Expr::call(c("MAIN_CONTAINER"), "relations", vec![]);
        assert_eq!(
            expr("MAIN_CONTAINER.relations[:companies].count"),
            Expr::call(
                Expr::index(relations.clone(), vec![Expr::sym("companies")]),
                "count",
                vec![]
            )
        );
        assert_eq!(
            expr("companies = MAIN_CONTAINER.relations[:companies]"),
            Expr::Assign {
                name: "companies".into(),
                value: Box::new(Expr::index(relations, vec![Expr::sym("companies")])),
            }
        );
        assert_eq!(
            expr(
                "companies.command(:create).call(name: 'My 1st Company', domain: 'http://example.com')"
            ),
            Expr::call(
                Expr::call(id("companies"), "command", vec![Expr::sym("create")]),
                "call",
                vec![hash(vec![
                    kw("name", Expr::str("My 1st Company")),
                    kw("domain", Expr::str("http://example.com")),
                ])]
            )
        );
        assert_eq!(
            expr("MAIN_CONTAINER.commands[:posts][:delete].call()"),
            Expr::call(
                Expr::index(
                    Expr::index(
                        Expr::call(c("MAIN_CONTAINER"), "commands", vec![]),
                        vec![Expr::sym("posts")]
                    ),
                    vec![Expr::sym("delete")]
                ),
                "call",
                vec![]
            )
        );
        assert_eq!(
            expr("posts.by_pk(1).command(:update).call(error: 'timeout')"),
            Expr::call(
                Expr::call(
                    Expr::call(id("posts"), "by_pk", vec![Expr::Int(1)]),
                    "command",
                    vec![Expr::sym("update")]
                ),
                "call",
                vec![hash(vec![kw("error", Expr::str("timeout"))])]
            )
        );
        assert_eq!(
            expr("posts.where(company_id: [1, 2, 3]).count"),
            Expr::call(
                Expr::call(
                    id("posts"),
                    "where",
                    vec![hash(vec![kw(
                        "company_id",
                        Expr::Array(vec![Expr::Int(1), Expr::Int(2), Expr::Int(3)])
                    )])]
                ),
                "count",
                vec![]
            )
        );
        assert_eq!(
            expr("factories[:company, name: 'Acme']"),
            Expr::index(
                id("factories"),
                vec![
                    Expr::sym("company"),
                    hash(vec![kw("name", Expr::str("Acme"))])
                ]
            )
        );
        assert_eq!(
            expr("factories.structs[:post]"),
            Expr::index(
                Expr::call(id("factories"), "structs", vec![]),
                vec![Expr::sym("post")]
            )
        );
        assert_eq!(expr("Time.now"), Expr::call(c("Time"), "now", vec![]));
        assert_eq!(
            expr("companies.by_pk(1).exist?"),
            Expr::call(
                Expr::call(id("companies"), "by_pk", vec![Expr::Int(1)]),
                "exist?",
                vec![]
            )
        );
        assert_eq!(expr("posts.one!"), Expr::call(id("posts"), "one!", vec![]));
        // Every expression the issue lists parses.
        for src in [
            "container.relations[:companies].count",
            "rom.relations[:companies]",
            "MAIN_CONTAINER.gateways[:default].connection.schema(:companies)",
            "posts.where(company_id: 1).exclude(se_post: true).order(:id).limit(5).to_a",
            "posts.by_url('http://example.com/a').to_a",
            "companies.combine(:posts).to_a",
            "posts.pluck(:url)",
            "companies.by_pk(1).one",
            "posts.to_sql",
            "factories[:with_post]",
            "posts.where(published_at: Time.now)",
        ] {
            expr(src);
        }
    }

    #[test]
    fn calls_with_and_without_parentheses() {
        assert_eq!(expr("posts.count"), expr("posts.count()"));
        assert_eq!(
            expr("foo()"),
            Expr::Call {
                receiver: None,
                method: "foo".into(),
                args: vec![]
            }
        );
        assert_eq!(
            expr("Integer(1)"),
            Expr::Call {
                receiver: None,
                method: "Integer".into(),
                args: vec![Expr::Int(1)]
            }
        );
        assert_eq!(expr("foo"), id("foo"));
        // Keywords after positional arguments become one trailing hash;
        // `=>` pairs join them; a braced hash means the same.
        let expected = Expr::call(
            id("f"),
            "g",
            vec![
                Expr::Int(1),
                hash(vec![kw("a", Expr::Int(2)), (Expr::str("b"), Expr::Int(3))]),
            ],
        );
        assert_eq!(expr("f.g(1, a: 2, 'b' => 3)"), expected);
        assert_eq!(expr("f.g(1, {a: 2, 'b' => 3})"), expected);
        assert_eq!(expr("f.g(1, a: 2, 'b' => 3,)"), expected);
        assert_eq!(expr("x.nil?"), Expr::call(id("x"), "nil?", vec![]));
        assert_eq!(expr("x.nil"), Expr::call(id("x"), "nil", vec![]));
        assert_eq!(expr("x.Foo"), Expr::call(id("x"), "Foo", vec![]));
        assert_eq!(
            expr("1.5.round"),
            Expr::call(Expr::Float(1.5), "round", vec![])
        );
        assert_eq!(expr("-1.abs"), Expr::call(Expr::Int(-1), "abs", vec![]));
        assert_eq!(
            expr("(a = 1).b"),
            Expr::call(
                Expr::Assign {
                    name: "a".into(),
                    value: Box::new(Expr::Int(1))
                },
                "b",
                vec![]
            )
        );
        assert_eq!(expr("a[]"), Expr::index(id("a"), vec![]));
        assert_eq!(
            expr("a = b = 1"),
            Expr::Assign {
                name: "a".into(),
                value: Box::new(Expr::Assign {
                    name: "b".into(),
                    value: Box::new(Expr::Int(1))
                })
            }
        );
    }

    #[test]
    fn line_breaks() {
        // Insignificant inside brackets.
        assert_eq!(
            expr("companies.command(:create).call(\n  name: 'x',\n  domain: 'y'\n)"),
            expr("companies.command(:create).call(name: 'x', domain: 'y')")
        );
        // A chain continues after a trailing dot or before a leading one.
        assert_eq!(
            expr("MAIN_CONTAINER.\n  gateways[:default].connection.schema(:companies)"),
            expr("MAIN_CONTAINER.gateways[:default].connection.schema(:companies)")
        );
        assert_eq!(
            expr("posts\n  .where(id: 1)\n\n  .count"),
            expr("posts.where(id: 1).count")
        );
        assert_eq!(expr("a =\n 1"), expr("a = 1"));
        // Otherwise a line break separates statements, as `;` does.
        assert_eq!(
            statements("a = 1\nb # comment\n\n; c;"),
            vec![
                Statement::Expr(expr("a = 1")),
                Statement::Expr(id("b")),
                Statement::Expr(id("c")),
            ]
        );
        assert_eq!(statements(" \n ; # nothing\n"), vec![]);
    }

    #[test]
    fn commands() {
        let cases = [
            ("help", Command::Help(None)),
            ("help relations", Command::Help(Some("relations".into()))),
            ("help posts", Command::Help(Some("posts".into()))),
            ("help :where", Command::Help(Some("where".into()))),
            ("  help Time  # comment", Command::Help(Some("Time".into()))),
            ("relations", Command::Relations),
            ("commands", Command::Commands),
            ("schema posts", Command::Schema("posts".into())),
            ("schema 'posts'", Command::Schema("posts".into())),
            ("sql on", Command::Sql(true)),
            ("sql off", Command::Sql(false)),
            ("reload!", Command::Reload),
            ("exit", Command::Exit),
            ("quit", Command::Exit),
        ];
        for (src, command) in cases {
            assert_eq!(one(src), Statement::Command(command.clone()), "{src}");
            assert_eq!(one(&command.to_string()), Statement::Command(command));
        }
        assert_eq!(
            statements("sql on; relations\nexit"),
            vec![
                Statement::Command(Command::Sql(true)),
                Statement::Command(Command::Relations),
                Statement::Command(Command::Exit),
            ]
        );
    }

    #[test]
    fn command_words_in_expressions_are_names() {
        assert_eq!(
            one("relations[:x]"),
            Statement::Expr(Expr::index(id("relations"), vec![Expr::sym("x")]))
        );
        assert_eq!(
            one("relations.foo"),
            Statement::Expr(Expr::call(id("relations"), "foo", vec![]))
        );
        assert_eq!(
            one("container.relations"),
            Statement::Expr(Expr::call(id("container"), "relations", vec![]))
        );
        assert_eq!(
            one("relations\n  .count"),
            Statement::Expr(Expr::call(id("relations"), "count", vec![]))
        );
        assert_eq!(
            one("commands = 1"),
            Statement::Expr(Expr::Assign {
                name: "commands".into(),
                value: Box::new(Expr::Int(1))
            })
        );
        assert_eq!(
            one("schema(:posts)"),
            Statement::Expr(Expr::Call {
                receiver: None,
                method: "schema".into(),
                args: vec![Expr::sym("posts")]
            })
        );
        assert_eq!(one("(relations)"), Statement::Expr(id("relations")));
        assert_eq!(one("exit()").to_string(), "exit()");
        // A misused command word says how the command is written.
        for (src, usage) in [
            (
                "sql maybe",
                "unexpected identifier `maybe`; usage: `sql on` or `sql off`",
            ),
            ("schema a b", "usage: `schema <relation>`"),
            ("help a b", "usage: `help` or `help <topic>`"),
        ] {
            let e = err(src);
            assert_eq!(e.kind(), ParseErrorKind::Syntax);
            assert!(e.message().contains(usage), "{src}: {}", e.message());
        }
    }

    #[test]
    fn syntax_errors_point_at_the_problem() {
        let cases = [
            ("f(a b)", 4, "expected `,` or `)`, found identifier `b`"),
            (
                "posts.where company_id: 1",
                12,
                "unexpected keyword `company_id:`; arguments go in parentheses: `where(...)`",
            ),
            ("a.b = 1", 4, "cannot assign to a method call"),
            ("Foo = 1", 4, "cannot assign to the constant `Foo`"),
            ("exist? = 1", 7, "a variable name has no `?` or `!`"),
            ("1 = 2", 2, "cannot assign to this expression"),
            (
                "f(a: 1, 2)",
                8,
                "a positional argument cannot follow keyword arguments",
            ),
            ("{1}", 2, "expected `=>` after a hash key"),
            ("f(a:)", 4, "expected a value after `a:`"),
            ("name: 1", 0, "keywords go inside"),
            ("()", 1, "expected an expression inside the parentheses"),
            ("a.(1)", 2, "expected a method name after `.`"),
            (")", 0, "expected an expression, found `)`"),
            ("a)", 1, "expected the end of the statement, found `)`"),
            (
                "Time.now -3600",
                9,
                "operators such as `-` are not supported",
            ),
            ("x = 'ü' ^", 9, "unexpected character `^`"),
        ];
        for (src, position, message) in cases {
            let e = err(src);
            assert_eq!(e.kind(), ParseErrorKind::Syntax, "{src}: {e}");
            assert_eq!(e.position(), position, "{src}: {e}");
            assert!(e.message().contains(message), "{src}: {}", e.message());
        }
        assert!(parse_expr("a; b").is_err());
        assert!(parse_expr("").is_err());
        assert!(parse_expr("help").is_ok());
    }

    #[test]
    fn errors_render_with_a_caret() {
        let src = "f(a b)";
        assert_eq!(
            err(src).render(src),
            "syntax error: expected `,` or `)`, found identifier `b`\n  f(a b)\n      ^"
        );
        // The caret counts characters, not bytes.
        let src = "f('été' b)";
        let e = err(src);
        assert_eq!((e.line(), e.column()), (1, 9));
        assert_eq!(
            e.render(src),
            "syntax error: expected `,` or `)`, found identifier `b`\n  f('été' b)\n          ^"
        );
        // Multi-line input shows the line of the error and its number.
        let src = "posts.where(\n  id: 1,\n  \turl: 'é' y\n)";
        let e = err(src);
        assert_eq!((e.line(), e.column()), (3, 13));
        assert_eq!(
            e.render(src),
            "syntax error: expected `,` or `)`, found identifier `y` (line 3)\n    \turl: 'é' y\n    \t         ^"
        );
        assert_eq!(
            e.to_string(),
            "syntax error at line 3, column 13: expected `,` or `)`, found identifier `y`"
        );
        // At the end of the input the caret follows the last character.
        let src = "posts.where(";
        assert_eq!(
            err(src).render(src),
            "incomplete input: expected an expression\n  posts.where(\n              ^"
        );
        // Control characters in the line do not reach the terminal.
        let src = "a\u{1b} b";
        assert!(!err(src).render(src).contains('\u{1b}'));
    }

    #[test]
    fn incomplete_input() {
        for src in [
            "'abc",
            "\"abc",
            "posts.where(",
            "posts.where(id: 1,",
            "posts.where(id:",
            "[1, 2",
            "{a: 1",
            "{a =>",
            "MAIN_CONTAINER.",
            "MAIN_CONTAINER.\n  gateways[:default]\n  .connection.",
            "a =",
            "f(\n  name: 'x',\n",
            "(",
            "x = :",
            "companies.command(:create).call(\n       name: 'My 1st Company', domain: 'http://example.com'",
        ] {
            let e = parse(src).expect_err(src);
            assert_eq!(e.kind(), ParseErrorKind::Incomplete, "{src}: {e}");
            assert!(is_incomplete(src), "{src}");
        }
        for src in [
            "posts.count",
            "f(1 2",
            "f(1))",
            "",
            "help",
            "companies.command(:create).call(\n       name: 'My 1st Company', domain: 'http://example.com')",
        ] {
            assert!(!is_incomplete(src), "{src}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let ok = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(parse(&ok).is_ok());
        for src in [
            format!(
                "{}1{}",
                "[".repeat(MAX_DEPTH + 1),
                "]".repeat(MAX_DEPTH + 1)
            ),
            "[".repeat(100_000),
            "f(".repeat(100_000),
            "{a: ".repeat(100_000),
            "(".repeat(100_000),
            format!("a{}", ".b".repeat(100_000)),
            format!("a{}", "[1]".repeat(100_000)),
            "a = ".repeat(100_000) + "1",
        ] {
            let e = parse(&src).expect_err("too deep");
            assert_eq!(e.kind(), ParseErrorKind::TooDeep);
            assert_eq!(
                e.message(),
                format!("the expression nests more than {MAX_DEPTH} levels deep")
            );
        }
    }

    #[test]
    fn deep_nesting_fits_a_small_stack() {
        // A tokio worker or a rustyline helper thread may have a small stack.
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                let n = MAX_DEPTH - 1;
                for src in [
                    format!("{}1{}", "[".repeat(n), "]".repeat(n)),
                    format!("{}1{}", "{a: ".repeat(n), "}".repeat(n)),
                    format!("{}1{}", "f(".repeat(n), ")".repeat(n)),
                    format!("{}1", "a = ".repeat(n)),
                    format!("{}1{}", "{[".repeat(n / 2), "] => 1}".repeat(n / 2)),
                    format!("{}1{}", "(".repeat(n), ")".repeat(n)),
                    format!("{}a{}", "f(x.".repeat(n / 2), ")".repeat(n / 2)),
                ] {
                    let tree = parse(&src);
                    if let Ok(tree) = &tree {
                        let printed: Vec<String> = tree.iter().map(ToString::to_string).collect();
                        assert_eq!(&parse(&printed.join("\n")).unwrap(), tree);
                    }
                }
                let deepest = format!("{}a{}", "f(x.".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
                assert_eq!(parse(&deepest).unwrap_err().kind(), ParseErrorKind::TooDeep);
            })
            .unwrap()
            .join()
            .unwrap();
    }

    // ----- property tests -----

    fn name_strategy() -> impl Strategy<Value = String> {
        "[a-z_][a-z0-9_]{0,6}".prop_filter("not a keyword", |s| {
            !matches!(s.as_str(), "nil" | "true" | "false")
        })
    }

    fn method_strategy() -> impl Strategy<Value = String> {
        prop_oneof![
            (name_strategy(), prop_oneof![Just(""), Just("?"), Just("!")])
                .prop_map(|(n, s)| format!("{n}{s}")),
            "[A-Z][A-Za-z0-9_]{0,5}",
            Just("nil".to_string()),
            Just("true".to_string()),
        ]
    }

    fn leaf() -> impl Strategy<Value = Expr> {
        prop_oneof![
            Just(Expr::Nil),
            any::<bool>().prop_map(Expr::Bool),
            any::<i64>().prop_map(Expr::Int),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(Expr::Float),
            any::<String>().prop_map(Expr::Str),
            "[ -~]{0,8}".prop_map(Expr::Str),
            any::<String>().prop_map(Expr::Symbol),
            method_strategy().prop_map(Expr::Symbol),
            (name_strategy(), prop_oneof![Just(""), Just("?"), Just("!")])
                .prop_map(|(n, s)| Expr::Ident(format!("{n}{s}"))),
            "[A-Z][A-Z0-9_]{0,8}".prop_map(Expr::Const),
        ]
    }

    fn expr_strategy() -> impl Strategy<Value = Expr> {
        leaf().prop_recursive(6, 64, 4, |inner| {
            let args = prop::collection::vec(inner.clone(), 0..4);
            let pairs = prop::collection::vec((inner.clone(), inner.clone()), 0..3);
            prop_oneof![
                args.clone().prop_map(Expr::Array),
                pairs.clone().prop_map(Expr::Hash),
                (inner.clone(), method_strategy(), args.clone()).prop_map(|(r, m, a)| {
                    Expr::Call {
                        receiver: Some(Box::new(r)),
                        method: m,
                        args: a,
                    }
                }),
                (
                    method_strategy().prop_filter("not a keyword", |m| {
                        !matches!(m.as_str(), "nil" | "true" | "false")
                    }),
                    args.clone()
                )
                    .prop_map(|(m, a)| Expr::Call {
                        receiver: None,
                        method: m,
                        args: a,
                    }),
                (inner.clone(), args.clone()).prop_map(|(r, a)| Expr::Index {
                    receiver: Box::new(r),
                    args: a,
                }),
                (name_strategy(), inner.clone()).prop_map(|(n, v)| Expr::Assign {
                    name: n,
                    value: Box::new(v),
                }),
                // A trailing keyword hash, printed as keywords.
                (inner.clone(), method_strategy(), args, pairs).prop_map(|(r, m, mut a, p)| {
                    a.push(Expr::Hash(p));
                    Expr::call(r, &m, a)
                }),
            ]
        })
    }

    fn statement_strategy() -> impl Strategy<Value = Statement> {
        let topic = prop_oneof![name_strategy(), any::<String>()];
        prop_oneof![
            4 => expr_strategy().prop_map(Statement::Expr),
            1 => prop_oneof![
                Just(Command::Help(None)),
                topic.clone().prop_map(|t| Command::Help(Some(t))),
                Just(Command::Relations),
                Just(Command::Commands),
                topic.prop_map(Command::Schema),
                any::<bool>().prop_map(Command::Sql),
                Just(Command::Reload),
                Just(Command::Exit),
            ]
            .prop_map(Statement::Command),
            1 => prop::sample::select(crate::console::ast::COMMAND_WORDS)
                .prop_map(|w| Statement::Expr(Expr::ident(w))),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_input_never_panics(src in any::<String>()) {
            let _ = parse(&src);
            let _ = parse_expr(&src);
            let _ = is_incomplete(&src);
            let _ = super::super::lexer::tokenize_partial(&src);
            if let Err(e) = parse(&src) {
                let _ = e.render(&src);
                let _ = e.render("");
            }
        }

        #[test]
        fn ruby_like_input_never_panics(
            src in "[a-z:'\"(){}\\[\\],.=> 0-9_?!\\\\#\n;@-]{0,40}"
        ) {
            match parse(&src) {
                Ok(tree) => {
                    // Whatever parses prints back to the same tree.
                    let printed: Vec<String> = tree.iter().map(ToString::to_string).collect();
                    let reparsed = parse(&printed.join("\n"));
                    prop_assert_eq!(reparsed.as_ref(), Ok(&tree), "printed: {:?}", printed);
                }
                Err(e) => {
                    let _ = e.render(&src);
                }
            }
        }

        #[test]
        fn printed_expressions_parse_back_to_the_same_tree(e in expr_strategy()) {
            let printed = e.to_string();
            let reparsed = parse_expr(&printed);
            prop_assert_eq!(reparsed.as_ref(), Ok(&e), "printed: {}", printed);
        }

        #[test]
        fn printed_statements_parse_back_to_the_same_statements(
            s in prop::collection::vec(statement_strategy(), 0..4)
        ) {
            let printed = s.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
            let reparsed = parse(&printed);
            prop_assert_eq!(reparsed.as_ref(), Ok(&s), "printed: {}", printed);
        }
    }
}
