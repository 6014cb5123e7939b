//! The rustyline helper: tab completion, hints, highlighting, and the
//! validator that keeps reading lines while a bracket or string is open.
//!
//! Completion knows what it completes from the [`Catalog`] of the
//! container and the session's variables, and from the text before the
//! cursor:
//!
//! | before the cursor | offers |
//! |---|---|
//! | the start of a statement (`compan`) | console commands, variables, relation names, `MAIN_CONTAINER`, ... |
//! | `schema `, `help ` | relation names (and help topics) |
//! | `receiver.` (`posts.wh`, `companies.by_pk(1).`) | the receiver's methods (relation methods and views, command methods, ...) |
//! | `relations[:`, `commands[:`, `commands[:posts][:`, `gateways[:`, `factories[:` | relation, command, gateway, factory names |
//! | `posts.where(` or `call(` and a word | attribute names as keywords (`url: `) |
//! | `posts.order(:`, `pluck(:`, `select(:` | attribute names as symbols |
//! | `combine(:`, `join(:`, `wrap(:` | association names |
//! | `command(:` | the relation's command names |
//!
//! The hint shows the rest of the only completion, dimmed; the highlighter
//! colours strings, numbers, symbols and keywords as the lexer sees them.

use std::borrow::Cow;
use std::sync::{Arc, PoisonError, RwLock};

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::ast::COMMAND_WORDS;
use super::eval::{Catalog, Kind, RELATION_METHODS};
use super::lexer::{Token, TokenKind, tokenize_partial};
use super::parser::{is_incomplete, parse_expr};

/// The console's rustyline helper.
#[derive(Debug)]
pub struct ConsoleHelper {
    catalog: Arc<RwLock<Catalog>>,
    color: bool,
}

impl ConsoleHelper {
    /// A helper completing from `catalog` (the REPL refreshes it after
    /// every statement), highlighting when `color`.
    pub fn new(catalog: Arc<RwLock<Catalog>>, color: bool) -> ConsoleHelper {
        ConsoleHelper { catalog, color }
    }

    fn with_catalog<T>(&self, f: impl FnOnce(&Catalog) -> T) -> T {
        let guard = self.catalog.read().unwrap_or_else(PoisonError::into_inner);
        f(&guard)
    }
}

impl Helper for ConsoleHelper {}

impl Completer for ConsoleHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let (start, candidates) = self.with_catalog(|c| complete(c, before));
        Ok((
            start,
            candidates
                .into_iter()
                .map(|c| Pair {
                    display: c.trim_end_matches([':', ' ']).to_string(),
                    replacement: c,
                })
                .collect(),
        ))
    }
}

impl Hinter for ConsoleHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if pos < line.len() || line.trim().is_empty() {
            return None;
        }
        let (start, candidates) = self.with_catalog(|c| complete(c, line));
        let typed = &line[start..];
        match candidates.as_slice() {
            [only] if !typed.is_empty() && only.len() > typed.len() && only.starts_with(typed) => {
                Some(only[typed.len()..].to_string())
            }
            _ => None,
        }
    }
}

impl Highlighter for ConsoleHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color || line.is_empty() {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight(line))
    }

    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        default: bool,
    ) -> Cow<'b, str> {
        if self.color && default {
            Cow::Owned(format!("\x1b[1;32m{prompt}\x1b[0m"))
        } else {
            Cow::Borrowed(prompt)
        }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[90m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

impl Validator for ConsoleHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        if is_incomplete(ctx.input()) {
            Ok(ValidationResult::Incomplete)
        } else {
            Ok(ValidationResult::Valid(None))
        }
    }
}

/// The line with ANSI colours: strings green, numbers blue, symbols and
/// keywords cyan, `nil`/`true`/`false` magenta, constants yellow,
/// console commands bold.
pub fn highlight(line: &str) -> String {
    let (tokens, error) = tokenize_partial(line);
    let mut out = String::with_capacity(line.len() * 2);
    let mut at = 0;
    let mut first = true;
    for t in &tokens {
        if t.kind == TokenKind::Eof {
            break;
        }
        let (Some(gap), Some(text)) = (line.get(at..t.start), line.get(t.start..t.end)) else {
            break;
        };
        out.push_str(gap);
        let code = match &t.kind {
            TokenKind::Str(_) => Some("32"),
            TokenKind::Int(_) | TokenKind::Float(_) => Some("34"),
            TokenKind::Symbol(_) | TokenKind::Label(_) => Some("36"),
            TokenKind::Nil | TokenKind::True | TokenKind::False => Some("35"),
            TokenKind::Const(_) => Some("33"),
            TokenKind::Ident(name) if first && COMMAND_WORDS.contains(&name.as_str()) => Some("1"),
            _ => None,
        };
        match code {
            Some(code) => {
                out.push_str("\x1b[");
                out.push_str(code);
                out.push('m');
                out.push_str(text);
                out.push_str("\x1b[0m");
            }
            None => out.push_str(text),
        }
        first = matches!(t.kind, TokenKind::Semi | TokenKind::Newline);
        at = t.end;
    }
    if let Some(rest) = line.get(at..) {
        let open_string = error.is_some() && rest.trim_start().starts_with(['\'', '"', ':']);
        if open_string {
            out.push_str("\x1b[32m");
            out.push_str(rest);
            out.push_str("\x1b[0m");
        } else {
            out.push_str(rest);
        }
    }
    out
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '?' || c == '!'
}

/// Completions for the text before the cursor: where the completed word
/// starts, and the candidates (each replacing the text from there).
pub fn complete(catalog: &Catalog, before: &str) -> (usize, Vec<String>) {
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word_char(*c))
        .last()
        .map_or(before.len(), |(i, _)| i);
    let word = &before[start..];
    let prev = before[..start].chars().next_back();
    let filter = |names: Vec<String>, suffix: &str| -> Vec<String> {
        let mut out: Vec<String> = names
            .into_iter()
            .filter(|n| n.starts_with(word))
            .map(|n| format!("{n}{suffix}"))
            .collect();
        out.sort();
        out.dedup();
        out
    };

    // A method after `receiver.`
    if prev == Some('.') {
        let receiver = &before[..start - 1];
        let kind = chain_kind(catalog, receiver);
        let methods = match kind {
            Kind::Unknown => RELATION_METHODS
                .iter()
                .map(|m| m.name.to_string())
                .collect(),
            k => catalog.methods(&k),
        };
        return (start, filter(methods, ""));
    }

    // A symbol: `relations[:co`, `order(:cr`.
    if prev == Some(':') && !before[..start - 1].ends_with(':') {
        let colon = start - 1;
        let names = match enclosing(before, colon) {
            Some(Enclosing {
                bracket: '[',
                receiver,
            }) => {
                let kind = chain_kind(catalog, &before[..receiver]);
                index_names(catalog, &kind)
            }
            Some(Enclosing {
                bracket: '(',
                receiver,
            }) => symbol_args(catalog, &before[..receiver]),
            _ => Vec::new(),
        };
        return (start, filter(names, ""));
    }

    // `schema po`, `help wh`: a relation (or topic).
    let head = before[..start].trim_start();
    if head == "schema " || head == "help " {
        let mut names: Vec<String> = catalog.relations.keys().cloned().collect();
        if head == "help " {
            names.extend(
                ["relations", "commands", "methods", "factories"]
                    .iter()
                    .map(|s| s.to_string()),
            );
            names.extend(RELATION_METHODS.iter().map(|m| m.name.to_string()));
        }
        return (start, filter(names, ""));
    }

    // Keyword arguments: `where(url`, `call(name: 'x', dom`.
    if let Some(Enclosing { bracket, receiver }) = enclosing(before, start)
        && matches!(bracket, '(' | '{')
    {
        let labels = keyword_args(catalog, before, bracket, receiver);
        if !labels.is_empty() && keyword_position(before, start) {
            let mut names = filter(labels, ": ");
            names.extend(filter(value_names(catalog), ""));
            return (start, names);
        }
        return (start, filter(value_names(catalog), ""));
    }

    // The start of a statement, or a value.
    let statement_start = before[..start]
        .trim_end()
        .chars()
        .next_back()
        .is_none_or(|c| c == ';' || c == '\n');
    let mut names = value_names(catalog);
    if statement_start {
        names.extend(COMMAND_WORDS.iter().map(|s| s.to_string()));
    }
    (start, filter(names, ""))
}

/// Names that start a value: variables, relations, the container.
fn value_names(catalog: &Catalog) -> Vec<String> {
    let mut names = catalog.top_level_names();
    names.extend(
        ["MAIN_CONTAINER", "Time", "Sequel", "nil", "true", "false"]
            .iter()
            .map(|s| s.to_string()),
    );
    names
}

/// Whether the word at `start` stands where a keyword may: right after
/// `(`, `{` or `,`.
fn keyword_position(before: &str, start: usize) -> bool {
    before[..start]
        .trim_end()
        .chars()
        .next_back()
        .is_some_and(|c| matches!(c, '(' | '{' | ','))
}

/// The innermost bracket still open at `at`, and where its receiver text
/// ends (just before the bracket).
struct Enclosing {
    bracket: char,
    receiver: usize,
}

fn enclosing(before: &str, at: usize) -> Option<Enclosing> {
    let (tokens, _) = tokenize_partial(&before[..at]);
    let mut stack: Vec<&Token> = Vec::new();
    for t in &tokens {
        match t.kind {
            TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => stack.push(t),
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                stack.pop();
            }
            _ => {}
        }
    }
    let open = stack.last()?;
    let bracket = match open.kind {
        TokenKind::LParen => '(',
        TokenKind::LBracket => '[',
        _ => '{',
    };
    Some(Enclosing {
        bracket,
        receiver: open.start,
    })
}

/// The kind of the postfix chain that ends `text` (`posts.where(id: 1)`,
/// `MAIN_CONTAINER.relations`), inferred without running it.
fn chain_kind(catalog: &Catalog, text: &str) -> Kind {
    let (tokens, _) = tokenize_partial(text);
    let tokens: Vec<&Token> = tokens.iter().filter(|t| t.kind != TokenKind::Eof).collect();
    // Walk back over `name`, `.name`, `(...)`, `[...]` to the chain's start.
    let mut i = tokens.len();
    let mut start = None;
    while i > 0 {
        let t = tokens[i - 1];
        match t.kind {
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                let mut depth = 0usize;
                let mut j = i;
                while j > 0 {
                    match tokens[j - 1].kind {
                        TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => depth += 1,
                        TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j -= 1;
                }
                if j == 0 {
                    return Kind::Unknown;
                }
                i = j - 1;
                start = Some(tokens[i].start);
                // An array or hash literal, or a parenthesised expression,
                // starts the chain; a call's or index's bracket follows a
                // receiver.
                let follows_receiver = i > 0
                    && matches!(
                        tokens[i - 1].kind,
                        TokenKind::Ident(_)
                            | TokenKind::Const(_)
                            | TokenKind::RParen
                            | TokenKind::RBracket
                    )
                    && tokens[i].kind != TokenKind::LBrace;
                if !follows_receiver {
                    break;
                }
            }
            TokenKind::Ident(_)
            | TokenKind::Const(_)
            | TokenKind::Symbol(_)
            | TokenKind::Str(_)
            | TokenKind::Int(_) => {
                start = Some(t.start);
                i -= 1;
                if i > 0 && tokens[i - 1].kind == TokenKind::Dot {
                    i -= 1;
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    let Some(start) = start else {
        return Kind::Unknown;
    };
    match parse_expr(&text[start..]) {
        Ok(expr) => catalog.infer(&expr),
        Err(_) => Kind::Unknown,
    }
}

/// The method name just before an open `(` at the end of `text`, and
/// the kind of its receiver.
fn call_before(catalog: &Catalog, text: &str) -> Option<(String, Kind)> {
    let trimmed = text.trim_end();
    let name_start = trimmed
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word_char(*c))
        .last()
        .map(|(i, _)| i)?;
    let method = trimmed[name_start..].to_string();
    let receiver = trimmed[..name_start].strip_suffix('.');
    let kind = match receiver {
        Some(r) => chain_kind(catalog, r),
        None => Kind::Container,
    };
    Some((method, kind))
}

/// Names offered for `receiver[:`.
fn index_names(catalog: &Catalog, kind: &Kind) -> Vec<String> {
    match kind {
        Kind::Relations | Kind::Commands => catalog.relations.keys().cloned().collect(),
        Kind::CommandsOf(r) => catalog
            .relations
            .get(r)
            .map(|i| i.commands.clone())
            .unwrap_or_default(),
        Kind::Gateways => catalog.gateways.clone(),
        Kind::Factories | Kind::FactoryStructs => catalog.factories.clone(),
        Kind::Row(r) => catalog
            .relations
            .get(r)
            .map(|i| i.attributes.clone())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Symbols offered inside `method(` : attributes, associations, commands.
fn symbol_args(catalog: &Catalog, text: &str) -> Vec<String> {
    let Some((method, kind)) = call_before(catalog, text) else {
        return Vec::new();
    };
    match kind {
        Kind::Relation(r) => {
            let Some(info) = catalog.relations.get(&r) else {
                return Vec::new();
            };
            match method.as_str() {
                "combine" | "join" | "inner_join" | "left_join" | "wrap" | "assoc" => {
                    info.associations.iter().map(|(a, _)| a.clone()).collect()
                }
                "command" => info.commands.clone(),
                _ => info.attributes.clone(),
            }
        }
        Kind::Container if matches!(method.as_str(), "relation" | "command") => {
            catalog.relations.keys().cloned().collect()
        }
        Kind::Connection if method == "schema" => catalog.relations.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Attribute names offered as keywords inside `where(`, `exclude(`,
/// `call(`, a factory call, or a hash passed to them.
fn keyword_args(catalog: &Catalog, before: &str, bracket: char, open: usize) -> Vec<String> {
    let (text, bracket_is_index) = if bracket == '{' {
        // A hash inside a call: `call({na` or `where({ur`.
        match enclosing(before, open) {
            Some(Enclosing {
                bracket: '(',
                receiver,
            }) => (&before[..receiver], false),
            Some(Enclosing {
                bracket: '[',
                receiver,
            }) => (&before[..receiver], true),
            _ => return Vec::new(),
        }
    } else {
        (&before[..open], false)
    };
    if bracket_is_index {
        return Vec::new();
    }
    let Some((method, kind)) = call_before(catalog, text) else {
        return Vec::new();
    };
    let relation = match (&kind, method.as_str()) {
        (Kind::Relation(r), "where" | "filter" | "exclude") => r.clone(),
        (Kind::Command(r), "call") => r.clone(),
        _ => return Vec::new(),
    };
    catalog
        .relations
        .get(&relation)
        .map(|i| i.attributes.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::eval::RelationInfo;

    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        c.relations.insert(
            "companies".into(),
            RelationInfo {
                attributes: vec!["id".into(), "name".into(), "domain".into()],
                views: vec![],
                associations: vec![("posts".into(), "posts".into())],
                commands: vec!["create".into(), "delete".into()],
            },
        );
        c.relations.insert(
            "posts".into(),
            RelationInfo {
                attributes: vec!["id".into(), "url".into(), "company_id".into()],
                views: vec!["by_url".into()],
                associations: vec![("company".into(), "companies".into())],
                commands: vec!["create".into(), "update".into(), "delete".into()],
            },
        );
        c.factories = vec!["company".into(), "post".into(), "with_post".into()];
        c.gateways = vec!["default".into()];
        c.vars
            .insert("cs".into(), Kind::Relation("companies".into()));
        c
    }

    fn names(before: &str) -> Vec<String> {
        complete(&catalog(), before).1
    }

    #[test]
    fn relation_names_at_the_start() {
        assert_eq!(
            complete(&catalog(), "compan"),
            (0, vec!["companies".into()])
        );
        assert!(names("").contains(&"help".to_string()));
        assert!(names("x = ").contains(&"posts".to_string()));
        assert!(!names("x = ").contains(&"help".to_string()));
    }

    #[test]
    fn methods_and_views_after_a_dot() {
        assert_eq!(names("posts.by_"), vec!["by_pk", "by_url"]);
        assert_eq!(names("posts.wh"), vec!["where"]);
        assert_eq!(names("posts.where(id: 1).or"), vec!["order"]);
        assert_eq!(
            names("cs.co"),
            vec!["combine", "command", "commands", "count"]
        );
        assert_eq!(names("MAIN_CONTAINER.rel"), vec!["relation", "relations"]);
        assert_eq!(
            names("MAIN_CONTAINER.relations[:posts].by_"),
            vec!["by_pk", "by_url"]
        );
        assert_eq!(names("posts.command(:create).ca"), vec!["call"]);
        assert_eq!(
            names("MAIN_CONTAINER.gateways[:default].conn"),
            vec!["connection"]
        );
        assert_eq!(names("Time.no"), vec!["now"]);
        assert_eq!(names("posts.first.ur"), vec!["url"]);
    }

    #[test]
    fn names_inside_brackets() {
        assert_eq!(names("MAIN_CONTAINER.relations[:co"), vec!["companies"]);
        assert_eq!(names("rom.commands[:posts][:d"), vec!["delete"]);
        assert_eq!(names("factories[:w"), vec!["with_post"]);
        assert_eq!(names("factories.structs[:p"), vec!["post"]);
        assert_eq!(names("posts.order(:u"), vec!["url"]);
        assert_eq!(names("posts.pluck(:id, :c"), vec!["company_id"]);
        assert_eq!(names("companies.combine(:p"), vec!["posts"]);
        assert_eq!(names("companies.command(:cr"), vec!["create"]);
        assert_eq!(names("gateways[:d"), vec!["default"]);
    }

    #[test]
    fn attribute_keywords_in_where_and_call() {
        assert_eq!(names("posts.where(ur"), vec!["url: "]);
        assert_eq!(
            names("posts.where(url: 'x', comp"),
            vec!["company_id: ", "companies"]
        );
        assert_eq!(names("companies.command(:create).call(na"), vec!["name: "]);
        assert_eq!(
            names("companies.command(:create).call({do"),
            vec!["domain: "]
        );
    }

    #[test]
    fn commands_take_relation_names() {
        assert_eq!(names("schema po"), vec!["posts"]);
        assert!(names("help ").contains(&"methods".to_string()));
    }

    #[test]
    fn highlighting_keeps_the_text() {
        let line = "posts.where(url: 'x', id: [1, nil]).order(:id) # c";
        let out = highlight(line);
        let plain: String = strip_ansi(&out);
        assert_eq!(plain, line);
        assert!(out.contains("\x1b[32m'x'\x1b[0m"));
        let open = "posts.by_url('http://ex";
        assert_eq!(strip_ansi(&highlight(open)), open);
    }

    proptest::proptest! {
        #[test]
        fn completion_and_highlighting_never_panic(line in "\\PC{0,40}") {
            let c = catalog();
            let _ = complete(&c, &line);
            proptest::prop_assert_eq!(strip_ansi(&highlight(&line)), line);
        }
    }

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
