//! Scripts: expressions from `-e EXPR` (repeatable) or from stdin when it
//! is not a terminal, one result per statement.
//!
//! In text mode each result prints as the REPL prints it, without the
//! `=> `; errors go to stderr. With `--format json` each result is one JSON
//! value on its own line of stdout, and an error is one line
//! `{"error": {"kind": ..., "message": ...}}` in its place, so line N of
//! stdout answers statement N. `--strict` stops at the first error with
//! exit status 1. Lines read from stdin are joined while a bracket or
//! string is open, as at the REPL.

use std::io::Write as _;

use tokio::io::AsyncBufReadExt as _;

use super::eval::EvalError;
use super::parser::{is_incomplete, parse};
use super::session::{Format, Session, Step};

/// Where a script's statements come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `-e` arguments, each a chunk of one or more statements.
    Args(Vec<String>),
    /// Standard input, read line by line.
    Stdin,
}

/// How a script ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every chunk ran (errors were reported, but not in strict mode).
    Done,
    /// `exit` was reached.
    Exited,
    /// Strict mode stopped at an error.
    Failed,
}

/// The width results are laid out for: the terminal's when stdout is
/// one, `$COLUMNS` when set, else 80.
pub fn output_width() -> usize {
    if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size_of(std::io::stdout()) {
        return usize::from(w).max(20);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|w| *w >= 20)
        .unwrap_or(80)
}

/// Runs a script on the session.
pub async fn run(session: &mut Session, source: Source, strict: bool) -> Outcome {
    let width = output_width();
    match source {
        Source::Args(chunks) => {
            for chunk in chunks {
                match run_chunk(session, &chunk, strict, width).await {
                    Outcome::Done => {}
                    other => return other,
                }
            }
            Outcome::Done
        }
        Source::Stdin => {
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            let mut buffer = String::new();
            loop {
                let line = match lines.next_line().await {
                    Ok(Some(line)) => line,
                    Ok(None) => break,
                    Err(e) => {
                        report(
                            session,
                            &EvalError::new("io", format!("cannot read stdin: {e}")),
                        );
                        return Outcome::Failed;
                    }
                };
                if !buffer.is_empty() {
                    buffer.push('\n');
                }
                buffer.push_str(&line);
                if buffer.trim().is_empty() {
                    buffer.clear();
                    continue;
                }
                if is_incomplete(&buffer) {
                    continue;
                }
                let chunk = std::mem::take(&mut buffer);
                match run_chunk(session, &chunk, strict, width).await {
                    Outcome::Done => {}
                    other => return other,
                }
            }
            if buffer.trim().is_empty() {
                Outcome::Done
            } else {
                // The input ended inside a bracket or string: its error.
                run_chunk(session, &buffer, strict, width).await
            }
        }
    }
}

/// Runs one chunk of source: every statement in it, printing each result.
pub async fn run_chunk(session: &mut Session, source: &str, strict: bool, width: usize) -> Outcome {
    let statements = match parse(source) {
        Ok(s) => s,
        Err(e) => {
            let message = match session.format() {
                Format::Json => e.to_string(),
                Format::Text => e.render(source),
            };
            report(session, &EvalError::new(e.kind().as_str(), message));
            return if strict {
                Outcome::Failed
            } else {
                Outcome::Done
            };
        }
    };
    for statement in &statements {
        match session.statement(statement).await {
            Ok(Step::Exit) => return Outcome::Exited,
            Ok(Step::Show(shown)) => {
                let text = match session.format() {
                    Format::Json => {
                        if let super::eval::Shown::Rows { rows, total } = &shown
                            && rows.len() < *total
                        {
                            eprintln!("note: showing {} of {total} rows (--limit)", rows.len());
                        }
                        session.render_json(&shown)
                    }
                    Format::Text => session.render_text(&shown, false, width),
                };
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
            Err(e) => {
                report(session, &e);
                if strict {
                    return Outcome::Failed;
                }
            }
        }
    }
    Outcome::Done
}

/// Prints an error: a JSON line on stdout in JSON mode (in the result's
/// place), `error: ...` on stderr otherwise.
fn report(session: &Session, error: &EvalError) {
    match session.format() {
        Format::Json => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", Session::error_json(error));
            let _ = out.flush();
        }
        Format::Text => {
            let _ = std::io::stdout().flush();
            eprintln!("error: {}", error.message);
        }
    }
}
