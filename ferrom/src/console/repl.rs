//! The interactive loop: rustyline reads a line (multi-line while a
//! bracket or string is open), the session runs its statements, the
//! results print.
//!
//! Ctrl-C abandons the line being typed, or interrupts the statement
//! running (the evaluation is raced against the signal); Ctrl-D or `exit`
//! leaves. History is kept across sessions in a file
//! ([`history_path`]); lines that look like they carry a password are
//! never written to it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, EditMode, Editor};

use super::eval::EvalError;
use super::helper::ConsoleHelper;
use super::parser::parse;
use super::session::{Format, Session, Step};

/// Where history is kept: `$FERROM_HISTORY` (empty: nowhere), else
/// `~/.ferrom_history`.
pub fn history_path() -> Option<PathBuf> {
    match std::env::var_os("FERROM_HISTORY") {
        Some(p) if p.is_empty() => None,
        Some(p) => Some(PathBuf::from(p)),
        None => std::env::var_os("HOME").map(|h| Path::new(&h).join(".ferrom_history")),
    }
}

/// Whether a line may go to the history file: not when it mentions a
/// password or holds a URL with credentials (`mysql://user:secret@host`).
pub fn keep_in_history(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    if lower.contains("password") || lower.contains("passwd") || lower.contains("secret") {
        return false;
    }
    let mut rest = line;
    while let Some(i) = rest.find("://") {
        rest = &rest[i + 3..];
        let authority: &str = rest
            .split(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .next()
            .unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && userinfo.contains(':')
        {
            return false;
        }
    }
    true
}

fn editor(
    color: bool,
    catalog: Arc<RwLock<super::eval::Catalog>>,
) -> Result<Editor<ConsoleHelper, FileHistory>, ReadlineError> {
    let config = Config::builder()
        .auto_add_history(false)
        .history_ignore_dups(true)?
        .history_ignore_space(true)
        .max_history_size(5000)?
        .completion_type(CompletionType::List)
        .edit_mode(EditMode::Emacs)
        .bracketed_paste(true)
        .build();
    let mut editor = Editor::with_config(config)?;
    editor.set_helper(Some(ConsoleHelper::new(catalog, color)));
    Ok(editor)
}

/// Reads one line, off the async worker so the runtime keeps running.
fn read_line(
    editor: &mut Editor<ConsoleHelper, FileHistory>,
    prompt: &str,
) -> Result<String, ReadlineError> {
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_thread {
        tokio::task::block_in_place(|| editor.readline(prompt))
    } else {
        editor.readline(prompt)
    }
}

fn save_history(editor: &mut Editor<ConsoleHelper, FileHistory>, path: &Path) {
    if editor.save_history(path).is_ok() {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
    }
}

fn print_error(session: &Session, error: &EvalError) {
    if session.format() == Format::Json {
        println!("{}", Session::error_json(error));
        return;
    }
    let _ = std::io::stdout().flush();
    if session.color() {
        eprintln!("\x1b[31merror:\x1b[0m {}", error.message);
    } else {
        eprintln!("error: {}", error.message);
    }
}

/// Runs the interactive console until `exit`, Ctrl-D or an unusable
/// terminal, then ends the session (rolling a sandbox back).
///
/// # Errors
///
/// When the terminal cannot be set up, or the sandbox cannot be rolled
/// back.
pub async fn run(mut session: Session, history: Option<PathBuf>) -> Result<(), EvalError> {
    let catalog = Arc::new(RwLock::new(session.catalog()));
    let mut editor = editor(session.color(), catalog.clone())
        .map_err(|e| EvalError::new("terminal", format!("cannot set up the terminal: {e}")))?;
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    loop {
        let prompt = session.prompt();
        let line = match read_line(&mut editor, &prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                print_error(&session, &EvalError::new("terminal", e.to_string()));
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        if keep_in_history(&line) {
            let _ = editor.add_history_entry(line.as_str());
            if let Some(path) = &history {
                save_history(&mut editor, path);
            }
        }
        let statements = match parse(&line) {
            Ok(s) => s,
            Err(e) => {
                print_error(
                    &session,
                    &EvalError::new(e.kind().as_str(), e.render(&line)),
                );
                continue;
            }
        };
        let mut leave = false;
        for statement in &statements {
            let width = editor
                .dimensions()
                .map_or(80, |(w, _)| usize::from(w))
                .max(20);
            let outcome = tokio::select! {
                r = session.statement(statement) => Some(r),
                _ = tokio::signal::ctrl_c() => None,
            };
            match outcome {
                None => {
                    eprintln!();
                    print_error(
                        &session,
                        &EvalError::new(
                            "interrupted",
                            "interrupted (Ctrl-C); the console keeps its state",
                        ),
                    );
                    break;
                }
                Some(Ok(Step::Exit)) => {
                    leave = true;
                    break;
                }
                Some(Ok(Step::Show(shown))) => {
                    let text = match session.format() {
                        Format::Json => session.render_json(&shown),
                        Format::Text => session.render_text(&shown, true, width),
                    };
                    println!("{text}");
                }
                Some(Err(e)) => print_error(&session, &e),
            }
        }
        *catalog.write().unwrap_or_else(PoisonError::into_inner) = session.catalog();
        if leave {
            break;
        }
    }
    session.finish().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_history() {
        assert!(keep_in_history(
            "posts.where(url: 'http://example.com/a').count"
        ));
        assert!(keep_in_history("x = 'https://user@host/path'"));
        assert!(!keep_in_history("x = 'mysql://root:hunter2@db/prod'"));
        assert!(!keep_in_history(
            "users.command(:update).call(password: 'x')"
        ));
        assert!(!keep_in_history("SECRET = 1"));
    }
}
