//! The `ferrom` command line.
//!
//! An application's binary is one line: it describes its [`Project`] (where
//! the settings file and the migrations are) and hands it to [`run`]:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     ferrom::cli::run(ferrom::cli::Project::new("post-analytics"))
//! }
//! ```
//!
//! Exit status: 0 on success, 1 on failure (and for `db migrate --check`
//! when migrations are pending), 2 on a usage error. A failure prints one
//! line, `error: ...`, plus its causes; never a panic or a backtrace.

mod args;
mod db;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::console::eval::{ConfigureFn, DefineFactoriesFn};
use crate::error::{Error, Result};
use crate::settings::Settings;
use args::{Cli, Command, OutputFormat};

/// Where a ferrom project keeps its files, relative to the directory the
/// command runs in unless absolute, and (for the console) how it builds
/// its configuration and factories.
#[derive(Clone, Debug)]
pub struct Project {
    /// The application's name, shown in banners and the console prompt.
    pub name: String,
    /// The settings file (default `settings.yml`).
    pub settings_path: PathBuf,
    /// The migrations directory (default `migrations`).
    pub migrations_dir: PathBuf,
    /// Builds the application's configuration (relations, commands) from
    /// the settings, for `ferrom console`; without it the console has the
    /// gateways and no relation.
    pub configuration: Option<ConfigureFn>,
    /// Defines the application's factories, for `factories[...]` at the
    /// console.
    pub factories: Option<DefineFactoriesFn>,
}

impl Project {
    /// A project with the default layout: `settings.yml` and `migrations/`.
    pub fn new(name: impl Into<String>) -> Self {
        Project {
            name: name.into(),
            settings_path: PathBuf::from("settings.yml"),
            migrations_dir: PathBuf::from("migrations"),
            configuration: None,
            factories: None,
        }
    }

    /// Builds the configuration with `configure` (the reference
    /// application's `post_analytics::configuration`).
    #[must_use]
    pub fn with_configuration(mut self, configure: ConfigureFn) -> Self {
        self.configuration = Some(configure);
        self
    }

    /// Defines the factories with `define` (the reference application's
    /// `post_analytics::factories::define`).
    #[must_use]
    pub fn with_factories(mut self, define: DefineFactoriesFn) -> Self {
        self.factories = Some(define);
        self
    }

    /// Uses another settings file.
    #[must_use]
    pub fn with_settings_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings_path = path.into();
        self
    }

    /// Uses another migrations directory.
    #[must_use]
    pub fn with_migrations_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.migrations_dir = dir.into();
        self
    }
}

/// Parses the process's arguments, runs the command and returns the exit
/// status. Errors are printed to stderr.
pub fn run(project: Project) -> ExitCode {
    run_from(project, std::env::args_os())
}

/// As [`run`], with the arguments given (the first is the program name).
pub fn run_from<I, T>(project: Project, args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help and version to stdout with status 0, and
            // usage errors to stderr with status 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    match runtime.block_on(execute(project, cli, &mut stdout)) {
        Ok(code) => code,
        Err(e) => {
            let _ = stdout.flush();
            eprintln!("{}", render_error(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and the causes its message does not already say, one per line.
pub fn render_error(e: &Error) -> String {
    let top = e.to_string();
    let mut out = format!("error: {top}");
    let mut seen = top.clone();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !seen.contains(&text) {
            out.push_str(&format!("\n  caused by: {text}"));
            seen.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Logs to stderr at the level `FERROM_LOG` names (default `warn`), and
/// prints SQL statements while the console's `sql on` is set.
fn init_tracing() {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_env("FERROM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_filter(filter),
        )
        .with(crate::console::sql_log_layer())
        .try_init();
}

async fn execute(project: Project, cli: Cli, out: &mut (dyn Write + Send)) -> Result<ExitCode> {
    let settings_path = cli
        .global
        .settings
        .clone()
        .unwrap_or_else(|| project.settings_path.clone());
    let migrations_dir = cli
        .global
        .migrations
        .clone()
        .unwrap_or_else(|| project.migrations_dir.clone());
    let settings = Settings::load_from_env(&settings_path, cli.global.env.as_deref())?;
    match cli.command {
        Command::Db(command) => db::run(command, &settings, &migrations_dir, out).await,
        Command::Console(args) => {
            let options = crate::console::Options {
                eval: args.eval,
                format: match args.format {
                    OutputFormat::Text => crate::console::Format::Text,
                    OutputFormat::Json => crate::console::Format::Json,
                },
                strict: args.strict,
                sandbox: args.sandbox,
                color: if args.no_color { Some(false) } else { None },
                limit: args.limit,
            };
            crate::console::run(&project, &settings, &migrations_dir, options).await
        }
    }
}
