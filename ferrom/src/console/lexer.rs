//! The console's lexer: source text to [`Token`]s, each with its byte span.
//!
//! | source | token |
//! |---|---|
//! | `companies`, `exist?`, `reload!`, `_x1` | [`TokenKind::Ident`] (a `?` or `!` suffix belongs to the name) |
//! | `MAIN_CONTAINER`, `Time` | [`TokenKind::Const`] |
//! | `name:` (no space before the colon, not `::`), `"name":`, `'name':` | [`TokenKind::Label`] |
//! | `1`, `-42`, `1_000` | [`TokenKind::Int`] (`i64`; a leading `-` directly before a digit is part of the number) |
//! | `1.5`, `-0.25`, `1e9`, `2.5E-3` | [`TokenKind::Float`] (finite only) |
//! | `'it\'s'`, `"a\tb"` | [`TokenKind::Str`] |
//! | `:posts`, `:exist?`, `:"two words"`, `:'x'` | [`TokenKind::Symbol`] |
//! | `nil`, `true`, `false` | [`TokenKind::Nil`], [`TokenKind::True`], [`TokenKind::False`] |
//! | `. , ( ) [ ] { } = => ;` | punctuation |
//! | a line break | [`TokenKind::Newline`] (a statement separator outside brackets) |
//!
//! Spaces, tabs, `# comments` and a backslash before a line break are
//! skipped.
//!
//! Escapes, as in Ruby: in double quotes `\n \t \r \s \e \a \b \f \v \\ \"
//! \' \#`, `\uXXXX` and `\u{X...}`, and a backslash before a line break
//! joins the lines; any other escape is an error. String interpolation
//! (`#{...}`) is not supported and is an error rather than literal text.
//! In single quotes only `\\` and `\'` are escapes; any other backslash is
//! itself.
//!
//! Integers have no leading zeros (Ruby reads `010` as octal, so it is
//! refused rather than misread); `_` may separate digits.

use super::parser::{ParseError, ParseErrorKind};

/// A token and where it is in the source.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offset of the token's first character.
    pub start: usize,
    /// Byte offset just past the token's last character.
    pub end: usize,
}

/// The kinds of token.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TokenKind {
    /// A lower-case name: a local variable, a relation name or a method
    /// name, with its `?` or `!` suffix if it has one.
    Ident(String),
    /// A capitalised name (`MAIN_CONTAINER`, `Time`).
    Const(String),
    /// A hash key or keyword argument written `name:`; holds the name.
    Label(String),
    /// An integer literal.
    Int(i64),
    /// A float literal (always finite).
    Float(f64),
    /// A string literal, escapes resolved.
    Str(String),
    /// A symbol literal, without its colon.
    Symbol(String),
    /// `nil`.
    Nil,
    /// `true`.
    True,
    /// `false`.
    False,
    /// `.`
    Dot,
    /// `,`
    Comma,
    /// `=`
    Assign,
    /// `=>`
    Arrow,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `;`
    Semi,
    /// A line break.
    Newline,
    /// The end of the input.
    Eof,
}

impl TokenKind {
    /// How the token is named in error messages (``"`)`"``, `"identifier
    /// `posts`"`, `"end of input"`).
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(n) => format!("identifier `{n}`"),
            TokenKind::Const(n) => format!("constant `{n}`"),
            TokenKind::Label(n) => format!("keyword `{n}:`"),
            TokenKind::Int(i) => format!("number `{i}`"),
            TokenKind::Float(x) => format!("number `{x:?}`"),
            TokenKind::Str(_) => "a string".to_string(),
            TokenKind::Symbol(s) => format!("symbol `:{s}`"),
            TokenKind::Nil => "`nil`".to_string(),
            TokenKind::True => "`true`".to_string(),
            TokenKind::False => "`false`".to_string(),
            TokenKind::Dot => "`.`".to_string(),
            TokenKind::Comma => "`,`".to_string(),
            TokenKind::Assign => "`=`".to_string(),
            TokenKind::Arrow => "`=>`".to_string(),
            TokenKind::LParen => "`(`".to_string(),
            TokenKind::RParen => "`)`".to_string(),
            TokenKind::LBracket => "`[`".to_string(),
            TokenKind::RBracket => "`]`".to_string(),
            TokenKind::LBrace => "`{`".to_string(),
            TokenKind::RBrace => "`}`".to_string(),
            TokenKind::Semi => "`;`".to_string(),
            TokenKind::Newline => "a line break".to_string(),
            TokenKind::Eof => "end of input".to_string(),
        }
    }
}

/// All the tokens of `source`, ending with [`TokenKind::Eof`].
///
/// # Errors
///
/// The first lexical error: [`ParseErrorKind::Incomplete`] for an
/// unterminated string or quoted symbol (more input could finish it),
/// [`ParseErrorKind::Syntax`] otherwise.
pub fn tokenize(source: &str) -> Result<Vec<Token>, ParseError> {
    let mut lexer = Lexer::new(source);
    let mut out = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let eof = token.kind == TokenKind::Eof;
        out.push(token);
        if eof {
            return Ok(out);
        }
    }
}

/// The tokens of `source` up to its first lexical error, and that error:
/// what a highlighter or completer wants from a half-typed line. The
/// tokens end with [`TokenKind::Eof`] only when there was no error.
pub fn tokenize_partial(source: &str) -> (Vec<Token>, Option<ParseError>) {
    let mut lexer = Lexer::new(source);
    let mut out = Vec::new();
    loop {
        match lexer.next_token() {
            Ok(token) => {
                let eof = token.kind == TokenKind::Eof;
                out.push(token);
                if eof {
                    return (out, None);
                }
            }
            Err(e) => return (out, Some(e)),
        }
    }
}

/// A name that lexes as one identifier or constant, optionally with a `?`
/// or `!` suffix: what may follow `:` in a bare symbol.
pub(crate) fn is_symbol_name(s: &str) -> bool {
    let base = s.strip_suffix(['?', '!']).unwrap_or(s);
    is_label_name(base)
}

/// A name that may be written as a label (`name:`): letters, digits and
/// `_`, not starting with a digit.
pub(crate) fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(is_ident_char)
}

/// A name that may be assigned to: a lower-case identifier without a
/// suffix that is not a keyword.
pub(crate) fn is_local_name(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars().all(is_ident_char)
        && !matches!(s, "nil" | "true" | "false")
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The lexer: [`Lexer::next_token`] until [`TokenKind::Eof`].
#[derive(Debug)]
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `source`.
    pub fn new(source: &'a str) -> Lexer<'a> {
        Lexer {
            src: source,
            pos: 0,
        }
    }

    /// The next token ([`TokenKind::Eof`] at the end, again and again).
    ///
    /// # Errors
    ///
    /// As [`tokenize`].
    pub fn next_token(&mut self) -> Result<Token, ParseError> {
        self.skip_blanks();
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(self.token(TokenKind::Eof, start));
        };
        let kind = match c {
            '\n' => {
                self.bump();
                TokenKind::Newline
            }
            ';' => self.punct(TokenKind::Semi),
            ',' => self.punct(TokenKind::Comma),
            '(' => self.punct(TokenKind::LParen),
            ')' => self.punct(TokenKind::RParen),
            '[' => self.punct(TokenKind::LBracket),
            ']' => self.punct(TokenKind::RBracket),
            '{' => self.punct(TokenKind::LBrace),
            '}' => self.punct(TokenKind::RBrace),
            '.' => {
                if self.peek_at(1) == Some('.') {
                    return Err(self.error(start, "ranges (`..`) are not supported"));
                }
                self.punct(TokenKind::Dot)
            }
            '=' => match self.peek_at(1) {
                Some('>') => {
                    self.pos += 2;
                    TokenKind::Arrow
                }
                Some('=' | '~') => {
                    return Err(self.error(start, "operators are not supported"));
                }
                _ => self.punct(TokenKind::Assign),
            },
            '"' | '\'' => {
                let text = self.string(c)?;
                if self.label_colon_follows() {
                    self.bump();
                    TokenKind::Label(text)
                } else {
                    TokenKind::Str(text)
                }
            }
            ':' => self.symbol()?,
            '-' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => self.number()?,
            '0'..='9' => self.number()?,
            c if c.is_ascii_alphabetic() || c == '_' => self.name(),
            '&' if self.peek_at(1) == Some('.') => {
                return Err(self.error(start, "safe navigation (`&.`) is not supported"));
            }
            '@' | '$' => {
                return Err(self.error(
                    start,
                    &format!(
                        "unexpected `{c}`: instance and global variables are not supported; \
                         use a local variable (`name = ...`)"
                    ),
                ));
            }
            c => {
                let shown = if c.is_control() {
                    format!("{:?}", c)
                } else {
                    format!("`{c}`")
                };
                return Err(self.error(start, &format!("unexpected character {shown}")));
            }
        };
        Ok(self.token(kind, start))
    }

    fn token(&self, kind: TokenKind, start: usize) -> Token {
        Token {
            kind,
            start,
            end: self.pos,
        }
    }

    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..)?.chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.src.get(self.pos..)?.chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn punct(&mut self, kind: TokenKind) -> TokenKind {
        self.bump();
        kind
    }

    fn error(&self, pos: usize, message: &str) -> ParseError {
        ParseError::new(ParseErrorKind::Syntax, self.src, pos, message)
    }

    fn incomplete(&self, pos: usize, message: &str) -> ParseError {
        ParseError::new(ParseErrorKind::Incomplete, self.src, pos, message)
    }

    /// Spaces, tabs, carriage returns, comments and escaped line breaks.
    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' => {
                    self.bump();
                }
                '\\' if self.peek_at(1) == Some('\n') => self.pos += 2,
                '\\' if self.peek_at(1) == Some('\r') && self.peek_at(2) == Some('\n') => {
                    self.pos += 3;
                }
                '#' => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                _ => break,
            }
        }
    }

    /// A single `:` after a name or string makes it a label (`name: 1`);
    /// `::` does not.
    fn label_colon_follows(&self) -> bool {
        self.peek() == Some(':') && self.peek_at(1) != Some(':')
    }

    fn name(&mut self) -> TokenKind {
        let start = self.pos;
        while self.peek().is_some_and(is_ident_char) {
            self.bump();
        }
        let base = &self.src[start..self.pos];
        if self.label_colon_follows() {
            self.bump();
            return TokenKind::Label(base.to_string());
        }
        let constant = base.starts_with(|c: char| c.is_ascii_uppercase());
        if constant {
            return TokenKind::Const(base.to_string());
        }
        if let Some(suffix @ ('?' | '!')) = self.peek() {
            self.bump();
            return TokenKind::Ident(format!("{base}{suffix}"));
        }
        match base {
            "nil" => TokenKind::Nil,
            "true" => TokenKind::True,
            "false" => TokenKind::False,
            _ => TokenKind::Ident(base.to_string()),
        }
    }

    /// Digits with `_` allowed between two digits; at least one digit.
    fn digits(&mut self, out: &mut String) -> Result<(), ParseError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() {
                out.push(c);
                self.bump();
            } else if c == '_' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
                self.bump();
            } else {
                break;
            }
        }
        if self.pos == start {
            return Err(self.error(start, "expected a digit"));
        }
        if self.peek() == Some('_') {
            return Err(self.error(self.pos, "`_` in a number must stand between two digits"));
        }
        Ok(())
    }

    fn number(&mut self) -> Result<TokenKind, ParseError> {
        let start = self.pos;
        let mut text = String::new();
        if self.peek() == Some('-') {
            self.bump();
            text.push('-');
        }
        let int_start = self.pos;
        self.digits(&mut text)?;
        let int_len = text.trim_start_matches('-').len();
        if int_len > 1 && text.trim_start_matches('-').starts_with('0') {
            return Err(self.error(
                int_start,
                "a number cannot start with 0 (Ruby reads `010` as octal); write it without the leading zeros",
            ));
        }
        let mut float = false;
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) {
            self.bump();
            text.push('.');
            self.digits(&mut text)?;
            float = true;
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let signed = matches!(self.peek_at(1), Some('+' | '-'));
            let digit_at = if signed { 2 } else { 1 };
            if self.peek_at(digit_at).is_some_and(|d| d.is_ascii_digit()) {
                self.bump();
                text.push('e');
                if signed {
                    text.extend(self.bump());
                }
                self.digits(&mut text)?;
                float = true;
            }
        }
        if self.peek().is_some_and(is_ident_char) {
            return Err(self.error(start, "invalid number"));
        }
        if float {
            match text.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(TokenKind::Float(x)),
                _ => Err(self.error(start, "float literal out of range")),
            }
        } else {
            text.parse::<i64>().map(TokenKind::Int).map_err(|_| {
                self.error(
                    start,
                    "integer literal out of range (-9223372036854775808 to 9223372036854775807)",
                )
            })
        }
    }

    fn symbol(&mut self) -> Result<TokenKind, ParseError> {
        let start = self.pos;
        self.bump();
        match self.peek() {
            Some(q @ ('"' | '\'')) => Ok(TokenKind::Symbol(self.string(q)?)),
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let name_start = self.pos;
                while self.peek().is_some_and(is_ident_char) {
                    self.bump();
                }
                if matches!(self.peek(), Some('?' | '!')) {
                    self.bump();
                }
                Ok(TokenKind::Symbol(
                    self.src[name_start..self.pos].to_string(),
                ))
            }
            Some(':') => Err(self.error(start, "`::` (constant scope) is not supported")),
            None => Err(self.incomplete(start, "expected a symbol name after `:`")),
            Some(_) => Err(self.error(
                start,
                "expected a symbol name after `:` (write `:name` or `:\"any text\"`)",
            )),
        }
    }

    /// A quoted string starting at the current quote character.
    fn string(&mut self, quote: char) -> Result<String, ParseError> {
        let start = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            let at = self.pos;
            let Some(c) = self.bump() else {
                return Err(self.incomplete(start, "unterminated string"));
            };
            match c {
                c if c == quote => return Ok(out),
                '\\' if quote == '\'' => match self.peek() {
                    Some(e @ ('\\' | '\'')) => {
                        self.bump();
                        out.push(e);
                    }
                    _ => out.push('\\'),
                },
                '\\' => self.escape(at, start, &mut out)?,
                '#' if quote == '"' && self.peek() == Some('{') => {
                    return Err(self.error(
                        at,
                        "string interpolation (`#{...}`) is not supported; \
                         write `\\#{` for the literal text or use single quotes",
                    ));
                }
                c => out.push(c),
            }
        }
    }

    /// The escape after a backslash at `at` in a double-quoted string.
    fn escape(&mut self, at: usize, start: usize, out: &mut String) -> Result<(), ParseError> {
        let Some(e) = self.bump() else {
            return Err(self.incomplete(start, "unterminated string"));
        };
        let c = match e {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            's' => ' ',
            'e' => '\u{1b}',
            'a' => '\u{7}',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'v' => '\u{b}',
            '\\' | '"' | '\'' | '#' => e,
            '\n' => return Ok(()),
            'u' => return self.unicode_escape(at, out),
            other => {
                let shown = if other.is_control() {
                    format!("{other:?}")
                } else {
                    format!("`\\{other}`")
                };
                return Err(self.error(
                    at,
                    &format!(
                        "unknown escape {shown} in a double-quoted string (known: \
                         \\n \\t \\r \\s \\e \\a \\b \\f \\v \\\\ \\\" \\' \\# \\uXXXX \\u{{...}})"
                    ),
                ));
            }
        };
        out.push(c);
        Ok(())
    }

    fn unicode_escape(&mut self, at: usize, out: &mut String) -> Result<(), ParseError> {
        let bad = |lexer: &Lexer<'_>| {
            lexer.error(
                at,
                "invalid unicode escape: write `\\uXXXX` (4 hex digits) or `\\u{X...}` (1 to 6)",
            )
        };
        let mut hex = String::new();
        if self.peek() == Some('{') {
            self.bump();
            while let Some(c) = self.peek().filter(char::is_ascii_hexdigit) {
                hex.push(c);
                self.bump();
            }
            if self.peek() != Some('}') || hex.is_empty() || hex.len() > 6 {
                return Err(bad(self));
            }
            self.bump();
        } else {
            for _ in 0..4 {
                match self.peek().filter(char::is_ascii_hexdigit) {
                    Some(c) => {
                        hex.push(c);
                        self.bump();
                    }
                    None => return Err(bad(self)),
                }
            }
        }
        let c = u32::from_str_radix(&hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| self.error(at, &format!("`\\u{{{hex}}}` is not a unicode character")))?;
        out.push(c);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::TokenKind as T;
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        tokenize(src)
            .unwrap_or_else(|e| panic!("{src:?}: {e}"))
            .into_iter()
            .map(|t| t.kind)
            .filter(|k| *k != T::Eof)
            .collect()
    }

    fn err(src: &str) -> ParseError {
        tokenize(src).expect_err(src)
    }

    fn ident(s: &str) -> T {
        T::Ident(s.into())
    }

    #[test]
    fn names_constants_and_suffixes() {
        assert_eq!(
            kinds("companies MAIN_CONTAINER exist? one! reload! _x1 Time"),
            [
                ident("companies"),
                T::Const("MAIN_CONTAINER".into()),
                ident("exist?"),
                ident("one!"),
                ident("reload!"),
                ident("_x1"),
                T::Const("Time".into()),
            ]
        );
        assert_eq!(kinds("nil true false"), [T::Nil, T::True, T::False]);
        assert_eq!(kinds("nil? nils"), [ident("nil?"), ident("nils")]);
    }

    #[test]
    fn labels() {
        assert_eq!(
            kinds("name: 'x' nil: Foo: \"a b\": 'c':"),
            [
                T::Label("name".into()),
                T::Str("x".into()),
                T::Label("nil".into()),
                T::Label("Foo".into()),
                T::Label("a b".into()),
                T::Label("c".into()),
            ]
        );
        // A label needs the colon right after the name, and not `::`.
        assert_eq!(kinds("a :b"), [ident("a"), T::Symbol("b".into())]);
        assert_eq!(
            err("a::b").message(),
            "`::` (constant scope) is not supported"
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(
            kinds("0 1 -42 1_000_000 9223372036854775807 -9223372036854775808"),
            [
                T::Int(0),
                T::Int(1),
                T::Int(-42),
                T::Int(1_000_000),
                T::Int(i64::MAX),
                T::Int(i64::MIN)
            ]
        );
        assert_eq!(
            kinds("1.5 -0.25 1e9 2.5E-3 1_0.0_1 0.0 5e-324"),
            [
                T::Float(1.5),
                T::Float(-0.25),
                T::Float(1e9),
                T::Float(2.5e-3),
                T::Float(10.01),
                T::Float(0.0),
                T::Float(5e-324)
            ]
        );
        // A dot not followed by a digit is a method call on the integer.
        assert_eq!(kinds("1.abs"), [T::Int(1), T::Dot, ident("abs")]);
        assert_eq!(kinds("1e3.to_s"), [T::Float(1000.0), T::Dot, ident("to_s")]);
        assert!(
            err("9223372036854775808")
                .message()
                .contains("out of range")
        );
        assert!(err("1e400").message().contains("out of range"));
        assert!(err("010").message().contains("octal"));
        assert!(err("1__0").message().contains("between two digits"));
        assert!(err("1_").message().contains("between two digits"));
        assert_eq!(err("12abc").message(), "invalid number");
        assert_eq!(err("0x1f").message(), "invalid number");
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            kinds(r#""a\n\t\\\"\'\#\s\e" 'x\'y\\z\n'"#),
            [
                T::Str("a\n\t\\\"'# \u{1b}".into()),
                T::Str("x'y\\z\\n".into())
            ]
        );
        assert_eq!(
            kinds(r#""\u00e9\u{1F600}" "é ü""#),
            [T::Str("é😀".into()), T::Str("é ü".into())]
        );
        assert_eq!(kinds("\"a\\\nb\""), [T::Str("ab".into())]);
        assert_eq!(kinds("'#{x}'"), [T::Str("#{x}".into())]);
        assert_eq!(kinds(r#""\#{x}""#), [T::Str("#{x}".into())]);
        assert!(err(r##""#{x}""##).message().contains("interpolation"));
        assert!(err(r#""\q""#).message().contains("unknown escape `\\q`"));
        assert!(err(r#""\u{110000}""#).message().contains("not a unicode"));
        assert!(err(r#""\u12""#).message().contains("invalid unicode"));
    }

    #[test]
    fn symbols() {
        assert_eq!(
            kinds(r#":posts :exist? :one! :Foo :"two words" :'x' :nil"#),
            [
                T::Symbol("posts".into()),
                T::Symbol("exist?".into()),
                T::Symbol("one!".into()),
                T::Symbol("Foo".into()),
                T::Symbol("two words".into()),
                T::Symbol("x".into()),
                T::Symbol("nil".into()),
            ]
        );
        assert!(err(": x").message().contains("symbol name"));
        assert_eq!(err(":").kind(), ParseErrorKind::Incomplete);
    }

    #[test]
    fn punctuation_newlines_and_comments() {
        assert_eq!(
            kinds("a.b(1, x => y)[2] {} = ; # comment\n\\\nz"),
            [
                ident("a"),
                T::Dot,
                ident("b"),
                T::LParen,
                T::Int(1),
                T::Comma,
                ident("x"),
                T::Arrow,
                ident("y"),
                T::RParen,
                T::LBracket,
                T::Int(2),
                T::RBracket,
                T::LBrace,
                T::RBrace,
                T::Assign,
                T::Semi,
                T::Newline,
                ident("z"),
            ]
        );
    }

    #[test]
    fn spans_are_byte_offsets() {
        let tokens = tokenize("é = 'ü'").map(|_| ()).unwrap_err();
        assert_eq!(tokens.position(), 0);
        let tokens = tokenize("x = 'ü' .y").unwrap();
        let spans: Vec<_> = tokens.iter().map(|t| (t.start, t.end)).collect();
        assert_eq!(spans, [(0, 1), (2, 3), (4, 8), (9, 10), (10, 11), (11, 11)]);
    }

    #[test]
    fn unterminated_strings_are_incomplete() {
        for src in ["'abc", "\"abc", "\"abc\\", ":\"x", "f('a\nb"] {
            let e = err(src);
            assert_eq!(e.kind(), ParseErrorKind::Incomplete, "{src}");
            assert_eq!(e.message(), "unterminated string");
        }
    }

    #[test]
    fn unsupported_characters() {
        assert!(err("@x").message().contains("instance and global"));
        assert!(err("a &. b").message().contains("safe navigation"));
        assert!(err("1..2").message().contains("ranges"));
        assert!(err("a == b").message().contains("operators"));
        assert_eq!(err("a ^ b").message(), "unexpected character `^`");
        assert_eq!(err("\u{7}").message(), "unexpected character '\\u{7}'");
    }

    #[test]
    fn partial_tokens_stop_at_the_error() {
        let (tokens, error) = tokenize_partial("posts.where(name: 'x");
        assert_eq!(tokens.len(), 5);
        assert_eq!(error.map(|e| e.kind()), Some(ParseErrorKind::Incomplete));
        let (tokens, error) = tokenize_partial("posts.wh");
        assert!(error.is_none());
        assert_eq!(tokens.last().map(|t| &t.kind), Some(&T::Eof));
    }
}
