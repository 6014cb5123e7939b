//! Splitting a migration file into the statements it contains.
//!
//! ferrom sends a migration to the server one statement at a time, so that a
//! failure can be reported as "statement 2 of 3" with its text and line. The
//! splitter is a small lexer, not a parser: it knows just enough MySQL to find
//! the `;` that end statements.
//!
//! * `;` inside `'single'` or `"double"` quoted strings (with backslash escapes
//!   and doubled quotes), `` `backtick` `` identifiers, `-- ` and `#` line
//!   comments and `/* */` block comments does not end a statement.
//! * `/*! ... */` (MySQL's executable comments, as written by `mysqldump`) is
//!   treated as code: a statement made only of one is kept.
//! * Compound statements (`CREATE PROCEDURE|FUNCTION|TRIGGER|EVENT ... BEGIN
//!   ... END`, MariaDB's `BEGIN NOT ATOMIC ... END`) are kept whole: `BEGIN`
//!   (unless followed by `;` or `WORK`, which start a transaction) and `CASE`
//!   open a block, `END` closes one unless it is `END IF`, `END LOOP`,
//!   `END WHILE`, `END REPEAT` or `END FOR` (`END CASE` closes the `CASE`).
//!   No `DELIMITER` is needed (or allowed: it is a command of the `mysql`
//!   client, not SQL).
//!
//! Statements that are empty or only comments are dropped.
//!
//! Known limits: a stored-program body of more than one statement must be
//! wrapped in `BEGIN ... END` (a trigger written `FOR EACH ROW IF ...; END
//! IF` is cut apart; the loader refuses such files with
//! `MigrationError::BodyWithoutBegin`); a column literally named `end`
//! inside a stored-program body must be written `` `end` ``;
//! `NO_BACKSLASH_ESCAPES` mode is not honoured.

/// One statement of a migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Statement<'a> {
    /// The statement text, from its first token up to (not including) the
    /// `;` that ends it, without leading or trailing comments and whitespace.
    pub(crate) text: &'a str,
    /// The 1-based line of the file on which the statement starts.
    pub(crate) line: usize,
}

/// The longest statement excerpt [`Statement::summary`] returns, in characters.
pub(crate) const SUMMARY_CHARS: usize = 200;

impl Statement<'_> {
    /// The statement on one line (runs of whitespace collapsed to a space),
    /// cut to about [`SUMMARY_CHARS`] characters with `…` when longer.
    pub(crate) fn summary(&self) -> String {
        summarize(self.text)
    }

    /// Whether the server commits the open transaction when it runs this
    /// statement (MySQL "Statements That Cause an Implicit Commit": DDL,
    /// account management, `LOCK TABLES`, `START TRANSACTION`, table
    /// maintenance...). `CREATE`/`DROP TEMPORARY TABLE` do not.
    ///
    /// This looks at the leading keywords only, so it is a good guess, not a
    /// guarantee; it is used to word error messages.
    pub(crate) fn commits_implicitly(&self) -> bool {
        let words = leading_words(self.text, 4);
        let first = words.first().map(String::as_str).unwrap_or_default();
        let rest = words.get(1..).unwrap_or_default();
        let temporary = || {
            rest.iter()
                .take_while(|w| *w != "TABLE")
                .any(|w| w == "TEMPORARY")
        };
        match first {
            "CREATE" | "DROP" => !temporary(),
            "ALTER" | "RENAME" | "TRUNCATE" | "GRANT" | "REVOKE" | "LOCK" | "UNLOCK" | "START"
            | "BEGIN" | "COMMIT" | "ANALYZE" | "OPTIMIZE" | "REPAIR" | "CHECK" | "FLUSH"
            | "RESET" | "INSTALL" | "UNINSTALL" | "CACHE" => true,
            "LOAD" => rest.first().is_some_and(|w| w == "INDEX"),
            _ => false,
        }
    }

    /// The first keyword of the statement, upper-cased (`None` when the
    /// statement starts with something else, such as `/*! ... */`).
    pub(crate) fn first_keyword(&self) -> Option<String> {
        leading_words(self.text, 1).into_iter().next()
    }
}

/// Collapses whitespace and cuts `text` to about [`SUMMARY_CHARS`] characters.
pub(crate) fn summarize(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(SUMMARY_CHARS + 4));
    let mut chars = 0usize;
    for word in text.split_whitespace() {
        if chars > 0 {
            out.push(' ');
            chars += 1;
        }
        for c in word.chars() {
            if chars >= SUMMARY_CHARS {
                out.push('…');
                return out;
            }
            out.push(c);
            chars += 1;
        }
    }
    out
}

/// Splits `sql` into its statements, in order. See the module docs for the
/// rules.
pub(crate) fn split_statements(sql: &str) -> Vec<Statement<'_>> {
    let tokens = tokenize(sql);
    let mut statements = Vec::new();
    let mut state = StatementState::default();
    // Index of the first and last token of the statement being read.
    let mut span: Option<(usize, usize)> = None;

    for (i, token) in tokens.iter().enumerate() {
        if token.kind == Kind::Semicolon && state.depth == 0 {
            if let Some((first, last)) = span.take() {
                statements.push(statement_of(sql, &tokens[first], &tokens[last]));
            }
            state = StatementState::default();
            continue;
        }
        match &mut span {
            None => span = Some((i, i)),
            Some((_, last)) => *last = i,
        }
        if token.kind == Kind::Word {
            state.word(sql, &tokens, i);
        }
    }
    if let Some((first, last)) = span {
        statements.push(statement_of(sql, &tokens[first], &tokens[last]));
    }
    statements
}

fn statement_of<'a>(sql: &'a str, first: &Token, last: &Token) -> Statement<'a> {
    Statement {
        text: sql[first.start..last.end].trim(),
        line: first.line,
    }
}

/// What the splitter tracks while reading one statement.
#[derive(Default)]
struct StatementState {
    /// How many compound blocks (`BEGIN`, `CASE`) are open.
    depth: usize,
    /// How many words the statement has had so far.
    words: usize,
    /// The first word, upper-cased.
    first: String,
    /// For `CREATE`/`ALTER`: the kind of object (`TABLE`, `PROCEDURE`...),
    /// once seen.
    object: Option<String>,
}

/// Words that name the kind of object after `CREATE`/`ALTER`.
const OBJECT_KINDS: &[&str] = &[
    "TABLE",
    "VIEW",
    "INDEX",
    "DATABASE",
    "SCHEMA",
    "USER",
    "ROLE",
    "SERVER",
    "TABLESPACE",
    "SEQUENCE",
    "LOGFILE",
    "INSTANCE",
    "RESOURCE",
    "SPATIAL",
    "PROCEDURE",
    "FUNCTION",
    "TRIGGER",
    "EVENT",
    "PACKAGE",
];

/// Object kinds whose definition may hold a `BEGIN ... END` body.
const COMPOUND_OBJECTS: &[&str] = &["PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"];

impl StatementState {
    fn word(&mut self, sql: &str, tokens: &[Token], i: usize) {
        let word = tokens[i].text(sql).to_ascii_uppercase();
        let index = self.words;
        self.words += 1;
        if index == 0 {
            self.first.clone_from(&word);
        }
        // `t.end`, `t.begin`: a qualified name, not a keyword.
        if i > 0 && tokens[i - 1].kind == Kind::Dot {
            return;
        }
        if (self.first == "CREATE" || self.first == "ALTER")
            && self.object.is_none()
            && OBJECT_KINDS.contains(&word.as_str())
        {
            self.object = Some(word.clone());
        }
        let next = tokens.get(i + 1);
        let next_word = next
            .filter(|t| t.kind == Kind::Word)
            .map(|t| t.text(sql).to_ascii_uppercase());
        match word.as_str() {
            "BEGIN" => {
                let starts_transaction = match next {
                    None => true,
                    Some(t) => t.kind == Kind::Semicolon || next_word.as_deref() == Some("WORK"),
                };
                let compound = self
                    .object
                    .as_deref()
                    .is_some_and(|o| COMPOUND_OBJECTS.contains(&o));
                // `BEGIN` opening the statement, or after a label (`l: BEGIN`).
                let leading =
                    index == 0 || (index == 1 && i > 0 && tokens[i - 1].kind == Kind::Other(b':'));
                if !starts_transaction && (self.depth > 0 || compound || leading) {
                    self.depth += 1;
                }
            }
            // `END CASE` closes (see `END`), it does not open.
            "CASE" if !(i > 0 && tokens[i - 1].text(sql).eq_ignore_ascii_case("END")) => {
                self.depth += 1;
            }
            "END" => {
                let closes_loop = match next_word.as_deref() {
                    Some("IF" | "LOOP" | "WHILE" | "REPEAT") => true,
                    // `END FOR` closes a MariaDB FOR loop; `END FOR UPDATE`
                    // is a CASE expression followed by a locking clause.
                    Some("FOR") => !tokens
                        .get(i + 2)
                        .is_some_and(|t| t.text(sql).eq_ignore_ascii_case("UPDATE")),
                    _ => false,
                };
                if !closes_loop {
                    self.depth = self.depth.saturating_sub(1);
                }
            }
            _ => {}
        }
    }
}

/// The first `n` words of `text`, upper-cased, skipping comments and
/// stopping at the first token that is not a word.
fn leading_words(text: &str, n: usize) -> Vec<String> {
    tokenize(text)
        .iter()
        .take(n)
        .take_while(|t| t.kind == Kind::Word)
        .map(|t| t.text(text).to_ascii_uppercase())
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An unquoted word: keyword, identifier or number.
    Word,
    /// `;`
    Semicolon,
    /// `.`
    Dot,
    /// A string, a quoted identifier or an executable comment.
    Literal,
    /// Any other character.
    Other(u8),
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    /// Byte offsets into the text; both lie on ASCII characters, so slicing
    /// there is always on a char boundary.
    start: usize,
    end: usize,
    line: usize,
}

impl Token {
    fn text<'a>(&self, sql: &'a str) -> &'a str {
        &sql[self.start..self.end]
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Cuts `sql` into tokens, skipping whitespace and comments.
fn tokenize(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let len = bytes.len();
    let mut tokens = Vec::new();
    let mut line = 1usize;
    let mut i = 0usize;

    // Moves `i` forward to `end`, counting newlines.
    let advance_to = |i: &mut usize, line: &mut usize, end: usize| {
        let end = end.min(len);
        *line += bytes[*i..end].iter().filter(|&&b| b == b'\n').count();
        *i = end;
    };

    while i < len {
        let b = bytes[i];
        let start = i;
        let start_line = line;
        let next = bytes.get(i + 1).copied();
        match b {
            b'\n' => {
                line += 1;
                i += 1;
            }
            _ if b.is_ascii_whitespace() => i += 1,
            // `-- ` comment: MySQL wants whitespace (or the end) after `--`.
            b'-' if next == Some(b'-') && bytes.get(i + 2).is_none_or(|&c| c <= b' ') => {
                i = line_end(bytes, i);
            }
            b'#' => i = line_end(bytes, i),
            b'/' if next == Some(b'*') => {
                let executable = bytes.get(i + 2) == Some(&b'!');
                let close = find(bytes, i + 2, b"*/").map_or(len, |p| p + 2);
                advance_to(&mut i, &mut line, close);
                if executable {
                    tokens.push(Token {
                        kind: Kind::Literal,
                        start,
                        end: i,
                        line: start_line,
                    });
                }
            }
            b'\'' | b'"' | b'`' => {
                let end = quoted_end(bytes, i, b);
                advance_to(&mut i, &mut line, end);
                tokens.push(Token {
                    kind: Kind::Literal,
                    start,
                    end: i,
                    line: start_line,
                });
            }
            _ if is_word_byte(b) => {
                while i < len && is_word_byte(bytes[i]) {
                    i += 1;
                }
                tokens.push(Token {
                    kind: Kind::Word,
                    start,
                    end: i,
                    line: start_line,
                });
            }
            _ => {
                i += 1;
                let kind = match b {
                    b';' => Kind::Semicolon,
                    b'.' => Kind::Dot,
                    other => Kind::Other(other),
                };
                tokens.push(Token {
                    kind,
                    start,
                    end: i,
                    line: start_line,
                });
            }
        }
    }
    tokens
}

/// The offset of the `\n` ending the line that contains `from` (or the end).
fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

/// The offset of the first `needle` at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The offset just past the closing quote of the string or identifier that
/// opens at `open` (or the end of the text when it is never closed).
fn quoted_end(bytes: &[u8], open: usize, quote: u8) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' && quote != b'`' {
            i += 2;
        } else if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split_statements(sql).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn splits_simple_statements() {
        assert_eq!(
            texts("CREATE TABLE a (id INT);\nINSERT INTO a VALUES (1);"),
            ["CREATE TABLE a (id INT)", "INSERT INTO a VALUES (1)"]
        );
    }

    #[test]
    fn last_statement_needs_no_semicolon() {
        assert_eq!(texts("SELECT 1;\nSELECT 2\n"), ["SELECT 1", "SELECT 2"]);
    }

    #[test]
    fn drops_empty_and_comment_only_statements() {
        assert_eq!(texts(""), Vec::<&str>::new());
        assert_eq!(texts("  \n\t"), Vec::<&str>::new());
        assert_eq!(texts(";;\n;"), Vec::<&str>::new());
        assert_eq!(
            texts("-- nothing here\n# nor here\n/* nor ; here */"),
            Vec::<&str>::new()
        );
        assert_eq!(texts("SELECT 1;;\n-- trailing\n;"), ["SELECT 1"]);
    }

    #[test]
    fn reports_start_lines() {
        let sql =
            "-- header\n\nCREATE TABLE a (\n  id INT\n);\n\n  INSERT INTO a VALUES (1); SELECT 2;";
        let got: Vec<(usize, &str)> = split_statements(sql)
            .into_iter()
            .map(|s| (s.line, s.text))
            .collect();
        assert_eq!(
            got,
            [
                (3, "CREATE TABLE a (\n  id INT\n)"),
                (7, "INSERT INTO a VALUES (1)"),
                (7, "SELECT 2"),
            ]
        );
    }

    #[test]
    fn lines_count_newlines_inside_strings_and_comments() {
        let sql = "INSERT INTO t VALUES ('a\nb;c');\n/* x\ny; */\nSELECT 1;";
        let got: Vec<usize> = split_statements(sql).into_iter().map(|s| s.line).collect();
        assert_eq!(got, [1, 5]);
    }

    #[test]
    fn semicolons_in_strings_do_not_split() {
        assert_eq!(
            texts("INSERT INTO t VALUES ('a;b', \"c;d\");SELECT 1"),
            ["INSERT INTO t VALUES ('a;b', \"c;d\")", "SELECT 1"]
        );
    }

    #[test]
    fn escaped_and_doubled_quotes() {
        assert_eq!(
            texts(r"INSERT INTO t VALUES ('it\'s; ok'); SELECT 'a''; b'; SELECT 2"),
            [
                r"INSERT INTO t VALUES ('it\'s; ok')",
                "SELECT 'a''; b'",
                "SELECT 2"
            ]
        );
        assert_eq!(
            texts(r#"SELECT "say \"hi;\"", "x"";y"; SELECT 3"#),
            [r#"SELECT "say \"hi;\"", "x"";y""#, "SELECT 3"]
        );
        // A backslash before the closing quote escapes it only once.
        assert_eq!(
            texts(r"SELECT 'a\\'; SELECT 4"),
            [r"SELECT 'a\\'", "SELECT 4"]
        );
    }

    #[test]
    fn backtick_identifiers() {
        assert_eq!(
            texts("CREATE TABLE `we;ird` (`a``;b` INT); SELECT 1"),
            ["CREATE TABLE `we;ird` (`a``;b` INT)", "SELECT 1"]
        );
        // Backslash is not an escape inside backticks.
        assert_eq!(
            texts(r"SELECT `a\`; SELECT 2"),
            [r"SELECT `a\`", "SELECT 2"]
        );
    }

    #[test]
    fn comments() {
        assert_eq!(
            texts("SELECT 1 -- one; two\n; # three; four\nSELECT /* five; */ 2;"),
            ["SELECT 1", "SELECT /* five; */ 2"]
        );
        // `--` not followed by whitespace is two minus signs.
        assert_eq!(texts("SELECT 5--3; SELECT 1"), ["SELECT 5--3", "SELECT 1"]);
        assert_eq!(texts("SELECT 1 --"), ["SELECT 1"]);
        assert_eq!(
            texts("SELECT 1 --\tx;\n;SELECT 2"),
            ["SELECT 1", "SELECT 2"]
        );
        // Leading comments are not part of the statement; a trailing
        // comment before the `;` is not either.
        assert_eq!(texts("/* a */ -- b\nSELECT 1 /* c */;"), ["SELECT 1"]);
    }

    #[test]
    fn executable_comments_are_code() {
        assert_eq!(
            texts("/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\nSELECT 1;"),
            [
                "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */",
                "SELECT 1"
            ]
        );
    }

    #[test]
    fn unterminated_string_runs_to_the_end() {
        assert_eq!(
            texts("SELECT 1; SELECT 'oops; SELECT 2"),
            ["SELECT 1", "SELECT 'oops; SELECT 2"]
        );
        assert_eq!(texts("SELECT 1; /* open"), ["SELECT 1"]);
    }

    #[test]
    fn procedure_body_is_one_statement() {
        let sql = "CREATE PROCEDURE p(IN n INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  WHILE i < n DO\n    INSERT INTO t VALUES (i);\n    SET i = i + 1;\n  END WHILE;\nEND;\nCALL p(3);";
        let got = split_statements(sql);
        assert_eq!(got.len(), 2);
        assert!(got[0].text.starts_with("CREATE PROCEDURE"));
        assert!(got[0].text.ends_with("END WHILE;\nEND"));
        assert_eq!((got[1].line, got[1].text), (9, "CALL p(3)"));
    }

    #[test]
    fn nested_blocks_if_loop_repeat_case() {
        let sql = "CREATE DEFINER=`root`@`%` PROCEDURE p()\nBEGIN\n  IF 1 THEN SELECT 1; ELSE SELECT 2; END IF;\n  l: LOOP LEAVE l; END LOOP l;\n  REPEAT SET @x = 1; UNTIL 1 END REPEAT;\n  CASE @x WHEN 1 THEN SELECT 'a;'; ELSE BEGIN SELECT 3; END; END CASE;\n  SET @y = CASE WHEN @x THEN 1 ELSE 2 END;\n  inner_block: BEGIN SELECT 4; END inner_block;\nEND;\nSELECT 'after';";
        assert_eq!(
            split_statements(sql).len(),
            2,
            "{:#?}",
            split_statements(sql)
        );
        assert_eq!(split_statements(sql)[1].text, "SELECT 'after'");
    }

    #[test]
    fn function_trigger_event() {
        let sql = "CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC\nBEGIN\n  RETURN x + 1;\nEND;\n\
CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  SET NEW.a = 1;\n  SET NEW.b = 2;\nEND;\n\
CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM t; DELETE FROM u; END;\n\
CREATE TRIGGER simple BEFORE UPDATE ON t FOR EACH ROW SET NEW.c = 3;\n\
CREATE OR REPLACE FUNCTION g() RETURNS INT RETURN 1;";
        let got = split_statements(sql);
        assert_eq!(got.len(), 5, "{got:#?}");
        assert_eq!(got[1].line, 5);
        assert!(got[2].text.starts_with("CREATE EVENT"));
        assert!(got[3].text.starts_with("CREATE TRIGGER simple"));
    }

    #[test]
    fn begin_transaction_is_not_a_block() {
        assert_eq!(
            texts("BEGIN; INSERT INTO t VALUES (1); COMMIT;"),
            ["BEGIN", "INSERT INTO t VALUES (1)", "COMMIT"]
        );
        assert_eq!(
            texts("BEGIN WORK; INSERT INTO t VALUES (1); COMMIT"),
            ["BEGIN WORK", "INSERT INTO t VALUES (1)", "COMMIT"]
        );
        assert_eq!(texts("begin"), ["begin"]);
    }

    #[test]
    fn mariadb_anonymous_block() {
        assert_eq!(
            texts("BEGIN NOT ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\nSELECT 3;"),
            [
                "BEGIN NOT ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND",
                "SELECT 3"
            ]
        );
        assert_eq!(
            texts("lbl: BEGIN NOT ATOMIC SELECT 1; END lbl; SELECT 2"),
            ["lbl: BEGIN NOT ATOMIC SELECT 1; END lbl", "SELECT 2"]
        );
    }

    #[test]
    fn case_expressions_outside_blocks() {
        assert_eq!(
            texts("SELECT CASE WHEN a THEN 1 ELSE 2 END FROM t; SELECT 2"),
            ["SELECT CASE WHEN a THEN 1 ELSE 2 END FROM t", "SELECT 2"]
        );
        assert_eq!(
            texts("SELECT * FROM t WHERE CASE WHEN a THEN 1 END FOR UPDATE; SELECT 2"),
            [
                "SELECT * FROM t WHERE CASE WHEN a THEN 1 END FOR UPDATE",
                "SELECT 2"
            ]
        );
    }

    #[test]
    fn begin_and_end_as_column_names() {
        assert_eq!(
            texts(
                "CREATE TABLE periods (begin DATE, end DATE); SELECT begin, end FROM periods; SELECT p.begin FROM periods p; SELECT 1"
            ),
            [
                "CREATE TABLE periods (begin DATE, end DATE)",
                "SELECT begin, end FROM periods",
                "SELECT p.begin FROM periods p",
                "SELECT 1"
            ]
        );
    }

    #[test]
    fn keywords_are_case_insensitive() {
        let sql = "create procedure p() begin select 1; select 2; end; select 3";
        assert_eq!(
            texts(sql),
            [
                "create procedure p() begin select 1; select 2; end",
                "select 3"
            ]
        );
    }

    #[test]
    fn keywords_inside_words_and_strings_do_not_count() {
        assert_eq!(
            texts("SELECT 'BEGIN', `case`, begin_at, legend FROM t; SELECT 2"),
            [
                "SELECT 'BEGIN', `case`, begin_at, legend FROM t",
                "SELECT 2"
            ]
        );
    }

    #[test]
    fn non_ascii_text() {
        assert_eq!(
            texts("INSERT INTO t VALUES ('héllo; wörld'); SELECT 'ü' -- ß;\n;SELECT 1"),
            [
                "INSERT INTO t VALUES ('héllo; wörld')",
                "SELECT 'ü'",
                "SELECT 1"
            ]
        );
    }

    #[test]
    fn crlf_line_endings() {
        let got = split_statements("SELECT 1;\r\n\r\nSELECT 2;\r\n");
        assert_eq!(got[1].line, 3);
        assert_eq!(got[1].text, "SELECT 2");
    }

    #[test]
    fn implicit_commit_guess() {
        let is = |sql: &str| split_statements(sql)[0].commits_implicitly();
        assert!(is("CREATE TABLE t (id INT)"));
        assert!(is("alter table t add column x int"));
        assert!(is("DROP INDEX i ON t"));
        assert!(is("RENAME TABLE a TO b"));
        assert!(is("TRUNCATE TABLE t"));
        assert!(is("CREATE PROCEDURE p() BEGIN SELECT 1; END"));
        assert!(is("LOAD INDEX INTO CACHE t"));
        assert!(!is("CREATE TEMPORARY TABLE t (id INT)"));
        assert!(!is("DROP TEMPORARY TABLE IF EXISTS t"));
        assert!(!is("INSERT INTO t VALUES (1)"));
        assert!(!is("UPDATE t SET a = 1"));
        assert!(!is("DELETE FROM t"));
        assert!(!is("LOAD DATA INFILE 'x' INTO TABLE t"));
        assert!(!is("/*!40101 SET NAMES utf8 */"));
        assert!(!is("-- c\nSET @a = 1"));
    }

    #[test]
    fn first_keyword() {
        assert_eq!(
            split_statements("delimiter //")[0]
                .first_keyword()
                .as_deref(),
            Some("DELIMITER")
        );
        assert_eq!(split_statements("/*!1 x */")[0].first_keyword(), None);
    }

    #[test]
    fn summary_collapses_and_cuts() {
        let st = split_statements("SELECT\n   1,\n\t2")[0];
        assert_eq!(st.summary(), "SELECT 1, 2");
        let long = format!("SELECT '{}'", "é".repeat(500));
        let s = summarize(&long);
        assert_eq!(s.chars().count(), SUMMARY_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(
            summarize(&"x".repeat(SUMMARY_CHARS)),
            "x".repeat(SUMMARY_CHARS)
        );
    }
}
