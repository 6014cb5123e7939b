//! The console's entry point: connect, finalize, warn, print the banner,
//! then the interactive loop or a script.

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::ExitCode;

use crate::cli::Project;
use crate::container::Configuration;
use crate::error::{Error, Result};
use crate::migrate::{Migrations, Migrator};
use crate::settings::Settings;

use super::eval::{Confirm, Evaluator};
use super::repl;
use super::script::{self, Outcome, Source};
use super::session::{DEFAULT_ROW_LIMIT, Format, Session, set_sql_log_color};

/// How the console runs (from `ferrom console`'s flags).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Expressions to evaluate instead of the interactive loop (`-e`).
    pub eval: Vec<String>,
    /// Output format (`--format text|json`).
    pub format: Format,
    /// Stop at the first error with exit status 1 (`--strict`).
    pub strict: bool,
    /// Run the whole session in a transaction rolled back on exit
    /// (`--sandbox`).
    pub sandbox: bool,
    /// Colour: `Some(false)` for `--no-color`; `None` for colour when
    /// stdout is a terminal and `NO_COLOR` is not set.
    pub color: Option<bool>,
    /// The most rows a relation prints (`--limit N`; 0 for all). `None`
    /// for the default ([`DEFAULT_ROW_LIMIT`] in text, all rows in JSON).
    pub limit: Option<usize>,
}

/// Runs the console for `settings`' environment.
///
/// # Errors
///
/// When the container cannot be finalized (the database is unreachable,
/// a table is missing: run `ferrom db migrate`), or the sandbox cannot
/// start or be rolled back. Errors of single statements are reported and
/// the console goes on (a script with `--strict` exits with status 1).
pub async fn run(
    project: &Project,
    settings: &Settings,
    migrations_dir: &Path,
    options: Options,
) -> Result<ExitCode> {
    let stdin_terminal = std::io::stdin().is_terminal();
    let interactive = options.eval.is_empty() && stdin_terminal;
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = options
        .color
        .unwrap_or_else(|| std::io::stdout().is_terminal() && !no_color_env);
    set_sql_log_color(
        options.color != Some(false) && !no_color_env && std::io::stderr().is_terminal(),
    );

    let config = match project.configuration {
        Some(configure) => configure(settings),
        None => Configuration::new(settings),
    };
    let container = config.finalize().await?;
    for warning in container.warnings() {
        eprintln!("warning: {warning}");
    }
    if let Some(warning) = pending_migrations(&container, settings, migrations_dir).await {
        eprintln!("{warning}");
    }
    let sandbox = if options.sandbox {
        Some(container.begin().await?)
    } else {
        None
    };
    let confirm = if interactive {
        Confirm::Ask
    } else {
        Confirm::Refuse
    };
    let evaluator = Evaluator::new(
        settings.clone(),
        container,
        sandbox,
        project.factories,
        confirm,
    );
    if project.factories.is_some()
        && let Some(why) = evaluator.factories_error()
    {
        eprintln!("warning: factories are not available: {why}");
    }
    let row_limit = match options.limit {
        Some(0) => None,
        Some(n) => Some(n),
        None => Some(DEFAULT_ROW_LIMIT),
    };
    let mut session = Session::new(
        &project.name,
        evaluator,
        project.configuration,
        options.format,
        row_limit,
        color,
    );
    if options.limit.is_some() {
        session = session.with_explicit_limit();
    }
    eprintln!("{}", session.banner());

    if interactive {
        if options.format == Format::Text {
            eprintln!("type `help` for help, `exit` or Ctrl-D to leave");
        }
        repl::run(session, repl::history_path())
            .await
            .map_err(|e| Error::Refused(e.message))?;
        return Ok(ExitCode::SUCCESS);
    }
    let source = if options.eval.is_empty() {
        Source::Stdin
    } else {
        Source::Args(options.eval.clone())
    };
    let outcome = script::run(&mut session, source, options.strict).await;
    session
        .finish()
        .await
        .map_err(|e| Error::Refused(e.message))?;
    Ok(match outcome {
        Outcome::Failed => ExitCode::FAILURE,
        Outcome::Done | Outcome::Exited => ExitCode::SUCCESS,
    })
}

/// A warning naming the migrations not applied yet and the command that
/// applies them, if there are any.
async fn pending_migrations(
    container: &crate::Container,
    settings: &Settings,
    dir: &Path,
) -> Option<String> {
    if !dir.is_dir() {
        return None;
    }
    let migrations = Migrations::from_dir(dir).ok()?;
    let gateway = container.gateway(crate::container::DEFAULT_GATEWAY).ok()?;
    let mut conn = gateway.pool().acquire().await.ok()?;
    match Migrator::new(migrations).pending(&mut conn).await {
        Ok(pending) if pending.is_empty() => None,
        Ok(pending) => {
            let names: Vec<String> = pending
                .iter()
                .map(|m| format!("{}_{}", m.version, m.name))
                .collect();
            let env = if settings.env == "development" {
                String::new()
            } else {
                format!(" --env {}", settings.env)
            };
            Some(format!(
                "warning: {} pending migration{} ({}); apply with `ferrom{env} db migrate`, then `reload!`",
                pending.len(),
                if pending.len() == 1 { "" } else { "s" },
                names.join(", ")
            ))
        }
        Err(e) => Some(format!("warning: cannot check for pending migrations: {e}")),
    }
}
