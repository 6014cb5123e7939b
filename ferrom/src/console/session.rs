//! A console session: the evaluator, the console commands (`help`,
//! `relations`, `commands`, `schema`, `sql on|off`, `reload!`, `exit`),
//! and how results are rendered as text or JSON.
//!
//! The interactive loop ([`super::repl`]) and scripts ([`super::script`])
//! both run statements through [`Session::statement`] and print what it
//! returns with [`Session::render_text`] or [`Session::render_json`].

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::container::{Configuration, Container};

use super::ast::{Command, Expr, Statement};
use super::eval::{
    Catalog, ConfigureFn, EvalError, Evaluator, RELATION_METHODS, Shown, suggestion,
};
use super::print::{Printer, rows_to_json};

/// The default number of rows a relation prints (`--limit`).
pub const DEFAULT_ROW_LIMIT: usize = 20;

/// What running a statement gives.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Something to print.
    Show(Shown),
    /// `exit`: leave the console.
    Exit,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// Ruby-like text (`=> {:id=>1, ...}`), tables for rows.
    #[default]
    Text,
    /// One JSON value per statement, on its own line.
    Json,
}

/// A console session over one environment's container.
pub struct Session {
    app: String,
    evaluator: Evaluator,
    configure: Option<ConfigureFn>,
    printer: Printer,
    format: Format,
    row_limit: Option<usize>,
    explicit_limit: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("app", &self.app)
            .field("evaluator", &self.evaluator)
            .field("format", &self.format)
            .finish()
    }
}

impl Session {
    /// A session: `app` names the application in the prompt and banner,
    /// `configure` rebuilds the configuration for `reload!`, `row_limit`
    /// caps how many rows a relation prints (`None`: all).
    pub fn new(
        app: &str,
        evaluator: Evaluator,
        configure: Option<ConfigureFn>,
        format: Format,
        row_limit: Option<usize>,
        color: bool,
    ) -> Session {
        let printer = Printer::default()
            .with_color(color)
            .with_row_limit(row_limit)
            .with_limit_hint("read more with .to_a or .limit(n), or start with --limit N");
        Session {
            app: app.to_string(),
            evaluator,
            configure,
            printer,
            format,
            row_limit,
            explicit_limit: false,
        }
    }

    /// The evaluator.
    pub fn evaluator(&self) -> &Evaluator {
        &self.evaluator
    }

    /// The evaluator, mutably.
    pub fn evaluator_mut(&mut self) -> &mut Evaluator {
        &mut self.evaluator
    }

    /// The output format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether results are coloured.
    pub fn color(&self) -> bool {
        self.printer.color
    }

    /// The prompt: `post-analytics(development)> `, with `sandbox` in a
    /// sandbox.
    pub fn prompt(&self) -> String {
        let env = &self.evaluator.settings().env;
        if self.evaluator.sandbox().is_some() {
            format!("{}({env}, sandbox)> ", self.app)
        } else {
            format!("{}({env})> ", self.app)
        }
    }

    /// The one-line banner: application, database, server, environment.
    pub fn banner(&self) -> String {
        let container = self.evaluator.container();
        let settings = self.evaluator.settings();
        let server = container
            .gateway(crate::container::DEFAULT_GATEWAY)
            .map(|g| g.server().to_string())
            .unwrap_or_else(|_| "?".into());
        let mut line = format!(
            "{} console: database {} on {server} at {}:{} ({})",
            self.app, settings.db.name, settings.db.host, settings.db.port, settings.env
        );
        if self.evaluator.sandbox().is_some() {
            line.push_str("; sandbox: every change is rolled back on exit");
        }
        line
    }

    /// What completion and help know.
    pub fn catalog(&self) -> Catalog {
        self.evaluator.catalog()
    }

    /// Runs one statement.
    ///
    /// # Errors
    ///
    /// Any error, as one line with its kind; the session keeps its state.
    pub async fn statement(&mut self, statement: &Statement) -> Result<Step, EvalError> {
        match statement {
            Statement::Command(command) => self.command(command).await,
            Statement::Expr(expr) => {
                let value = self.evaluator.eval(expr).await?;
                if matches!(expr, Expr::Assign { .. }) {
                    // An assignment shows what was assigned without reading it.
                    return Ok(Step::Show(Shown::Value(value.to_console())));
                }
                let limit = match self.format {
                    Format::Text => self.row_limit,
                    Format::Json => self.row_limit.filter(|_| self.explicit_limit),
                };
                Ok(Step::Show(self.evaluator.present(&value, limit).await?))
            }
        }
    }

    /// Marks the row limit as asked for explicitly (`--limit N`): JSON
    /// output honours it too (otherwise a relation prints every row in
    /// JSON).
    #[must_use]
    pub fn with_explicit_limit(mut self) -> Session {
        self.explicit_limit = true;
        self
    }

    async fn command(&mut self, command: &Command) -> Result<Step, EvalError> {
        let text = match command {
            Command::Exit => return Ok(Step::Exit),
            Command::Help(topic) => self.help(topic.as_deref())?,
            Command::Relations => self.relations_text(),
            Command::Commands => self.commands_text(),
            Command::Schema(name) => self.schema_text(name).await?,
            Command::Sql(on) => {
                set_sql_log(*on);
                if *on {
                    "SQL logging on: each statement prints (to stderr) with its duration".into()
                } else {
                    "SQL logging off".into()
                }
            }
            Command::Reload => self.reload().await?,
        };
        Ok(Step::Show(Shown::Text(text)))
    }

    /// Re-finalizes the configuration (schemas inferred again, after a
    /// migration); variables and the sandbox stay.
    async fn reload(&mut self) -> Result<String, EvalError> {
        let settings = self.evaluator.settings().clone();
        let config = match self.configure {
            Some(configure) => configure(&settings),
            None => Configuration::new(&settings),
        };
        let container: Container = config.finalize().await?;
        let names: Vec<String> = container.relations().keys().cloned().collect();
        self.evaluator.replace_container(container);
        Ok(format!(
            "reloaded: {} relation{} ({})",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ))
    }

    fn relations_text(&self) -> String {
        let catalog = self.catalog();
        if catalog.relations.is_empty() {
            return "no relations are registered".into();
        }
        let mut out = String::new();
        for (name, info) in &catalog.relations {
            let _ = writeln!(out, "{name}");
            let _ = writeln!(out, "  attributes:   {}", info.attributes.join(", "));
            if !info.associations.is_empty() {
                let assocs: Vec<String> = self
                    .evaluator
                    .container()
                    .relation(name)
                    .map(|r| {
                        r.schema()
                            .associations()
                            .iter()
                            .map(|a| format!("{} ({})", a.name, assoc_kind(a.kind)))
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = writeln!(out, "  associations: {}", assocs.join(", "));
            }
            if !info.views.is_empty() {
                let _ = writeln!(out, "  views:        {}", info.views.join(", "));
            }
            if !info.commands.is_empty() {
                let _ = writeln!(out, "  commands:     {}", info.commands.join(", "));
            }
        }
        out.trim_end().to_string()
    }

    fn commands_text(&self) -> String {
        let container = self.evaluator.container();
        let mut out = String::new();
        for (name, relation) in container.relations() {
            let commands = relation.commands();
            if commands.is_empty() {
                continue;
            }
            let list: Vec<String> = commands
                .iter()
                .map(|(n, c)| {
                    let plugins: Vec<&str> =
                        c.definition().plugins().iter().map(|p| p.name()).collect();
                    if plugins.is_empty() {
                        format!("{n} ({})", c.kind())
                    } else {
                        format!("{n} ({}, {})", c.kind(), plugins.join(", "))
                    }
                })
                .collect();
            let _ = writeln!(out, "{name}: {}", list.join(", "));
        }
        if out.is_empty() {
            return "no commands are registered".into();
        }
        out.push_str("call one with commands[:posts][:delete].call() or posts.command(:create).call(url: ...)");
        out
    }

    async fn schema_text(&self, name: &str) -> Result<String, EvalError> {
        let container = self.evaluator.container();
        let (gateway, table, relation) = match container.relation(name) {
            Ok(r) => {
                let gateway = container
                    .gateways()
                    .iter()
                    .find(|(_, g)| g.url() == r.gateway().url())
                    .map_or(crate::container::DEFAULT_GATEWAY.to_string(), |(n, _)| {
                        n.clone()
                    });
                (gateway, r.schema().table().to_string(), Some(r))
            }
            Err(_) => (
                crate::container::DEFAULT_GATEWAY.to_string(),
                name.to_string(),
                None,
            ),
        };
        let tables = self.evaluator.introspect(&gateway).await?;
        let Some(info) = tables.get(&table) else {
            let mut known: Vec<String> = container.relations().keys().cloned().collect();
            known.extend(tables.keys().cloned());
            return Err(EvalError::new(
                "unknown_relation",
                format!("no relation or table `{name}`{}", suggestion(name, &known)),
            ));
        };
        let mut out = crate::gateway::render_schema(&[info]);
        if let Some(r) = relation {
            let assocs: Vec<String> = r
                .schema()
                .associations()
                .iter()
                .map(|a| format!("{} ({} {})", a.name, assoc_kind(a.kind), a.target))
                .collect();
            if !assocs.is_empty() {
                let _ = writeln!(out, "  associations: {}", assocs.join(", "));
            }
            let views = r.view_names();
            if !views.is_empty() {
                let _ = writeln!(out, "  views: {}", views.join(", "));
            }
            let commands = r.command_names();
            if !commands.is_empty() {
                let _ = writeln!(out, "  commands: {}", commands.join(", "));
            }
        }
        Ok(out.trim_end().to_string())
    }

    fn help(&self, topic: Option<&str>) -> Result<String, EvalError> {
        let catalog = self.catalog();
        let Some(topic) = topic else {
            return Ok(help_text(&catalog));
        };
        let topic = topic.trim_start_matches(':');
        if topic == "relations" {
            return Ok(self.relations_text());
        }
        if topic == "commands" {
            return Ok(self.commands_text());
        }
        if topic == "methods" {
            return Ok(methods_text());
        }
        if topic == "factories" {
            return Ok(match self.evaluator.factories() {
                Some(f) => {
                    let mut out = String::from(
                        "factories (create with factories[:name, :trait, attr: value], build in memory with factories.structs[:name]):\n",
                    );
                    for name in f.names() {
                        let traits = f.traits(name).unwrap_or_default();
                        let relation = f.relation_of(name).unwrap_or("?");
                        let _ = write!(out, "  {name} ({relation})");
                        if !traits.is_empty() {
                            let _ = write!(out, " traits: {}", traits.join(", "));
                        }
                        out.push('\n');
                    }
                    out.trim_end().to_string()
                }
                None => format!(
                    "factories are not available: {}",
                    self.evaluator.factories_error().unwrap_or("not defined")
                ),
            });
        }
        if let Some(info) = catalog.relations.get(topic) {
            let mut out = format!("relation {topic}\n");
            let relation = self.evaluator.container().relation(topic).ok();
            if let Some(r) = &relation {
                for a in r.schema().attributes() {
                    let mut flags = Vec::new();
                    if a.primary_key {
                        flags.push("primary key");
                    }
                    if !a.nullable {
                        flags.push("not null");
                    }
                    let _ = writeln!(
                        out,
                        "  {:<14} {}{}",
                        a.name,
                        a.ty.name(),
                        if flags.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", flags.join(", "))
                        }
                    );
                }
            }
            if !info.associations.is_empty() {
                let list: Vec<String> = info
                    .associations
                    .iter()
                    .map(|(n, t)| format!("{n} -> {t}"))
                    .collect();
                let _ = writeln!(out, "associations: {}", list.join(", "));
            }
            if !info.views.is_empty() {
                let _ = writeln!(out, "views: {}", info.views.join(", "));
            }
            if !info.commands.is_empty() {
                let _ = writeln!(out, "commands: {}", info.commands.join(", "));
            }
            let example_attr = info.attributes.get(1).or(info.attributes.first());
            let _ = writeln!(out, "try:");
            let _ = writeln!(out, "  {topic}.count");
            if let Some(a) = example_attr {
                let _ = writeln!(out, "  {topic}.where({a}: ...).order(:{a}).limit(5).to_a");
                let _ = writeln!(out, "  {topic}.pluck(:{a})");
            }
            let _ = writeln!(out, "  {topic}.by_pk(1).one");
            if let Some(c) = info.commands.first() {
                let _ = writeln!(out, "  {topic}.command(:{c}).call(...)");
            }
            return Ok(out.trim_end().to_string());
        }
        if let Some(m) = RELATION_METHODS.iter().find(|m| m.name == topic) {
            return Ok(format!(
                "{}{}  (ferrom: Relation::{})\n  {}",
                m.name, m.args, m.rust, m.doc
            ));
        }
        let mut known: Vec<String> = vec![
            "relations".into(),
            "commands".into(),
            "methods".into(),
            "factories".into(),
        ];
        known.extend(catalog.relations.keys().cloned());
        known.extend(RELATION_METHODS.iter().map(|m| m.name.to_string()));
        Err(EvalError::new(
            "unknown_topic",
            format!("no help on `{topic}`{}", suggestion(topic, &known)),
        ))
    }

    /// A result as text. With `prefix`, values start with `=> ` as at the
    /// REPL; rows print as a table (or vertically when the table is wider
    /// than `width`) with a footer.
    pub fn render_text(&self, shown: &Shown, prefix: bool, width: usize) -> String {
        let printer = self.printer.clone().with_width(width);
        match shown {
            Shown::Text(t) => t.clone(),
            Shown::Rows { total: 0, .. } if prefix => "=> []".to_string(),
            Shown::Rows { rows, total } => printer.render_rows(rows, *total),
            Shown::Value(v) => {
                let text = printer.render(v);
                if prefix { format!("=> {text}") } else { text }
            }
        }
    }

    /// A result as one line of JSON.
    pub fn render_json(&self, shown: &Shown) -> String {
        let value = match shown {
            Shown::Text(t) => serde_json::Value::String(t.clone()),
            Shown::Rows { rows, .. } => rows_to_json(rows),
            Shown::Value(v) => v.to_json(),
        };
        value.to_string()
    }

    /// An error as one line of JSON: `{"error": {"kind": ..., "message": ...}}`.
    pub fn error_json(error: &EvalError) -> String {
        serde_json::json!({"error": {"kind": error.kind, "message": error.message}}).to_string()
    }

    /// Ends the session: a sandbox is rolled back, the pools closed.
    ///
    /// # Errors
    ///
    /// The rollback's error.
    pub async fn finish(mut self) -> Result<(), EvalError> {
        let result = match self.evaluator.take_sandbox() {
            Some(tx) => tx.rollback().await.map_err(EvalError::from),
            None => Ok(()),
        };
        self.evaluator.container().disconnect().await;
        result
    }
}

fn assoc_kind(kind: crate::schema::AssociationKind) -> &'static str {
    use crate::schema::AssociationKind as K;
    match kind {
        K::HasMany => "has_many",
        K::HasOne => "has_one",
        K::BelongsTo => "belongs_to",
        K::ManyToMany => "many_to_many",
    }
}

/// `help`: the language, the commands and where to look next.
fn help_text(catalog: &Catalog) -> String {
    let relations: Vec<&str> = catalog.relations.keys().map(String::as_str).collect();
    let example = relations.first().copied().unwrap_or("posts");
    format!(
        "\
The ferrom console speaks a small Ruby-like language shaped after ROM's calls.

  MAIN_CONTAINER.relations[:{example}].count     (also container, rom, or just {example})
  {example} = MAIN_CONTAINER.relations[:{example}]  local variables
  {example}.where(id: [1, 2]).exclude(id: 3).order(id: :desc).limit(5).to_a
  {example}.by_pk(1).one    {example}.pluck(:id)    {example}.to_sql
  {example}.command(:create).call(attr: 'value', ...)
  MAIN_CONTAINER.commands[:{example}][:delete].call()
  MAIN_CONTAINER.gateways[:default].connection.schema(:{example})
  factories[:name, :trait, attr: 'x']    factories.structs[:name]    Time.now

A relation printed as a result shows its rows (a table, or one row per block
when too wide). Literals: 'str', \"str\", :sym, 1, 1.5, nil, true, false,
[1, 2], {{a: 1}}, {{'a' => 1}}. Lines continue while a bracket or string is open.

Commands:
  help [topic]      topics: relations, commands, methods, factories, a relation, a method
  relations         the relations with their attributes, associations, views, commands
  commands          the registered commands
  schema <name>     a relation's table: columns, indexes, foreign keys
  sql on|off        print each SQL statement with its duration
  reload!           infer the schemas again (after migrating)
  exit              leave (also Ctrl-D); Ctrl-C cancels the line or a running query

Relations: {}",
        if relations.is_empty() {
            "none".to_string()
        } else {
            relations.join(", ")
        }
    )
}

/// `help methods`: the mapping table from ROM's spellings to ferrom's.
fn methods_text() -> String {
    let mut out = String::from("relation methods (console/ROM name -> ferrom method):\n");
    let width = RELATION_METHODS
        .iter()
        .map(|m| m.name.len() + m.args.len())
        .max()
        .unwrap_or(0);
    for m in RELATION_METHODS {
        let call = format!("{}{}", m.name, m.args);
        let _ = writeln!(out, "  {call:<width$}  {:<26} {}", m.rust, m.doc);
    }
    out.push_str("  <view name>(args)  Relation::view  a view registered with the relation");
    out
}

/// Turns printing of SQL statements on or off (`sql on`).
pub fn set_sql_log(on: bool) {
    SQL_LOG.store(on, Ordering::Relaxed);
}

/// Whether SQL statements print.
pub fn sql_log() -> bool {
    SQL_LOG.load(Ordering::Relaxed)
}

static SQL_LOG: AtomicBool = AtomicBool::new(false);
static SQL_LOG_COLOR: AtomicBool = AtomicBool::new(false);

/// Colours the SQL log (when stderr is a terminal).
pub fn set_sql_log_color(on: bool) {
    SQL_LOG_COLOR.store(on, Ordering::Relaxed);
}

/// A tracing layer that prints each statement ferrom runs with its
/// duration to stderr while `sql on` is set. Install it next to the
/// application's own subscriber layers:
///
/// ```no_run
/// use tracing_subscriber::prelude::*;
/// tracing_subscriber::registry()
///     .with(ferrom::console::sql_log_layer())
///     .init();
/// ```
pub fn sql_log_layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    SqlLog.with_filter(SqlLogFilter)
}

const SQL_TARGET: &str = "ferrom::exec";

struct SqlLog;

struct SqlLogFilter;

impl<S> Filter<S> for SqlLogFilter {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        sql_log() && meta.target() == SQL_TARGET
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        if meta.target() == SQL_TARGET {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::DEBUG)
    }
}

/// The SQL of a `ferrom.sql` span.
struct SqlText {
    sql: String,
    relation: String,
}

#[derive(Default)]
struct SqlVisitor {
    sql: Option<String>,
    relation: Option<String>,
    elapsed_us: Option<u64>,
}

impl Visit for SqlVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "sql" => self.sql = Some(value.to_string()),
            "relation" => self.relation = Some(value.to_string()),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "elapsed_us" {
            self.elapsed_us = Some(value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == "elapsed_us" {
            self.elapsed_us = u64::try_from(value).ok();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "sql" => self.sql = Some(format!("{value:?}")),
            "relation" => self.relation = Some(format!("{value:?}")),
            _ => {}
        }
    }
}

impl<S> Layer<S> for SqlLog
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "ferrom.sql" {
            return;
        }
        let mut visitor = SqlVisitor::default();
        attrs.record(&mut visitor);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SqlText {
                sql: visitor.sql.unwrap_or_default(),
                relation: visitor.relation.unwrap_or_default(),
            });
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut visitor = SqlVisitor::default();
        event.record(&mut visitor);
        let Some(us) = visitor.elapsed_us else {
            return;
        };
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let extensions = span.extensions();
        let Some(text) = extensions.get::<SqlText>() else {
            return;
        };
        let ms = us as f64 / 1000.0;
        let label = if text.relation.is_empty() {
            "SQL".to_string()
        } else {
            text.relation.clone()
        };
        if SQL_LOG_COLOR.load(Ordering::Relaxed) {
            eprintln!(
                "  \x1b[36m{label} ({ms:.1}ms)\x1b[0m  \x1b[1m{}\x1b[0m",
                text.sql
            );
        } else {
            eprintln!("  {label} ({ms:.1}ms)  {}", text.sql);
        }
    }
}
