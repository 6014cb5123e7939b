//! What can be typed on the `ferrom` command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// ferrom: migrations, schema and console for a MySQL or MariaDB project.
#[derive(Debug, Parser)]
#[command(
    name = "ferrom",
    version,
    about = "Databases, migrations and the console of a ferrom project",
    long_about = "Databases, migrations and the console of a ferrom project.\n\n\
        Settings come from settings.yml (--settings) for the environment named by --env or \
        FERROM_ENV (default: development). FERROM_DB__<KEY> variables override single db keys \
        and DATABASE_URL the whole connection.",
    after_help = "Examples:\n  ferrom console\n  ferrom console --sandbox\n  ferrom console -e 'companies.count' --format json\n  ferrom db create\n  ferrom db migrate\n  ferrom --env test db reset\n  ferrom db status\n  ferrom db new add_index_to_posts\n  ferrom db migrate --check   # exit status 1 when migrations are pending"
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The environment in the settings file (development, test, production, ...).
    #[arg(long, global = true, env = "FERROM_ENV", value_name = "ENV")]
    pub(crate) env: Option<String>,

    /// The settings file.
    #[arg(long, global = true, env = "FERROM_SETTINGS", value_name = "PATH")]
    pub(crate) settings: Option<PathBuf>,

    /// The migrations directory.
    #[arg(long, global = true, env = "FERROM_MIGRATIONS", value_name = "DIR")]
    pub(crate) migrations: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create, drop, migrate and inspect the database.
    #[command(subcommand)]
    Db(DbCommand),

    /// Open the interactive console on the environment's database.
    Console(ConsoleArgs),
}

#[derive(Debug, Args)]
#[command(
    about = "Open the interactive console on the environment's database",
    long_about = "Open the interactive console on the environment's database: a small Ruby-like \
        language over the relations and commands, as ROM's docs show them \
        (`MAIN_CONTAINER.relations[:companies].count`, \
        `companies.command(:create).call(name: 'Acme', domain: 'https://acme.test')`). \
        Type `help` at the prompt.\n\n\
        With -e, or with statements on stdin when it is not a terminal, it runs them and exits, \
        printing one result per statement.",
    after_help = "Examples:\n  ferrom console\n  ferrom console --sandbox\n  ferrom console -e 'companies.count' -e 'posts.where(company_id: 1).to_a'\n  echo 'companies.to_a' | ferrom console --format json"
)]
pub(crate) struct ConsoleArgs {
    /// Evaluate this expression (repeatable) and exit instead of opening the prompt.
    #[arg(short = 'e', long = "eval", value_name = "EXPR")]
    pub(crate) eval: Vec<String>,

    /// Output format: text (Ruby-like, tables) or json (one JSON value per line).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text, value_name = "FORMAT")]
    pub(crate) format: OutputFormat,

    /// Stop at the first error with exit status 1 (scripts).
    #[arg(long)]
    pub(crate) strict: bool,

    /// Run the whole session in one transaction, rolled back on exit.
    #[arg(long, short = 's')]
    pub(crate) sandbox: bool,

    /// No colours (also when NO_COLOR is set, or stdout is not a terminal).
    #[arg(long)]
    pub(crate) no_color: bool,

    /// The most rows a relation prints (default 20 in text, all in JSON; 0 for all).
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
}

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// Ruby-like text and tables.
    Text,
    /// One JSON value per line.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Create the database (utf8mb4, explicit collation); does nothing when it exists.
    Create,

    /// Drop the database; outside the test environment it needs --yes.
    Drop {
        /// Confirm dropping a database outside the test environment.
        #[arg(long)]
        yes: bool,
    },

    /// Write a new, empty, timestamped migration file and print its path.
    New {
        /// The migration's name: lowercase letters, digits and underscores (e.g. add_index_to_posts).
        name: String,
    },

    /// Apply pending migrations, one line each with its duration.
    Migrate {
        /// Apply pending migrations up to and including this version only.
        #[arg(long, value_name = "VERSION")]
        target: Option<i64>,

        /// Apply nothing: list pending migrations and exit with status 1 if there are any.
        #[arg(long)]
        check: bool,
    },

    /// Show every migration: version, name, when it was applied, and its state.
    Status,

    /// Show the columns, indexes and foreign keys of one table or of all.
    Schema {
        /// The table; all tables when omitted.
        table: Option<String>,
    },

    /// Drop, create and migrate the database (refused in production).
    Reset {
        /// Confirm resetting a database outside the development and test environments.
        #[arg(long)]
        yes: bool,
    },
}
