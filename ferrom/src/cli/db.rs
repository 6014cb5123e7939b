//! `ferrom db ...`: create, drop, new, migrate, status, schema, reset.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use sqlx::MySqlConnection;

use super::args::DbCommand;
use crate::error::{Error, Result};
use crate::gateway::{ServerInfo, introspect, open_connection, render_schema};
use crate::migrate::{MigrationEvent, Migrations, Migrator, new_migration_file, render_table};
use crate::settings::Settings;

/// Tables ferrom keeps for itself, left out of `db schema` unless named.
const INTERNAL_TABLES: &[&str] = &["refinery_schema_history", "ferrom_migration_failures"];

pub(super) async fn run(
    command: DbCommand,
    settings: &Settings,
    migrations_dir: &Path,
    out: &mut (dyn Write + Send),
) -> Result<ExitCode> {
    match command {
        DbCommand::Create => create(settings, out).await,
        DbCommand::Drop { yes } => {
            confirm_destructive(settings, yes, "drop")?;
            drop_database(settings, out).await
        }
        DbCommand::New { name } => {
            let path = new_migration_file(migrations_dir, &name, chrono::Utc::now())?;
            writeln!(out, "{}", path.display()).map_err(|e| io_error(migrations_dir, e))?;
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Migrate { target, check } => {
            let migrations = Migrations::from_dir(migrations_dir)?;
            let (mut conn, server) = open_connection(&settings.db, true).await?;
            if check {
                pending_check(migrations, &mut conn, settings, &server, out).await
            } else {
                migrate(migrations, target, &mut conn, settings, &server, out).await
            }
        }
        DbCommand::Status => {
            let migrations = Migrations::from_dir(migrations_dir)?;
            let (mut conn, server) = open_connection(&settings.db, true).await?;
            let statuses = Migrator::new(migrations).status(&mut conn).await?;
            let out_err = |e| io_error(migrations_dir, e);
            writeln!(out, "{}", banner(settings, &server)).map_err(out_err)?;
            write!(out, "{}", render_table(&statuses)).map_err(out_err)?;
            Ok(ExitCode::SUCCESS)
        }
        DbCommand::Schema { table } => schema(settings, table.as_deref(), out).await,
        DbCommand::Reset { yes } => {
            if settings.is_production() {
                return Err(Error::Refused(
                    "`db reset` is refused in the production environment: it would drop the database"
                        .into(),
                ));
            }
            if settings.env != "development" {
                confirm_destructive(settings, yes, "reset")?;
            }
            let migrations = Migrations::from_dir(migrations_dir)?;
            drop_database(settings, out).await?;
            create(settings, out).await?;
            let (mut conn, server) = open_connection(&settings.db, true).await?;
            migrate(migrations, None, &mut conn, settings, &server, out).await
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write_line(out: &mut (dyn Write + Send), line: impl std::fmt::Display) -> Result<()> {
    writeln!(out, "{line}").map_err(|e| io_error(Path::new("<stdout>"), e))
}

fn banner(settings: &Settings, server: &ServerInfo) -> String {
    format!(
        "database {} on {} at {}:{} ({})",
        settings.db.name, server, settings.db.host, settings.db.port, settings.env
    )
}

/// Outside the test environment a destructive command needs `--yes`, or a
/// `y` typed at a terminal.
fn confirm_destructive(settings: &Settings, yes: bool, what: &str) -> Result<()> {
    if yes || settings.env == "test" {
        return Ok(());
    }
    let question = format!(
        "{what} database {} in the {} environment? [y/N] ",
        settings.db.name, settings.env
    );
    if std::io::stdin().is_terminal() {
        eprint!("{question}");
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_ok()
            && matches!(answer.trim(), "y" | "Y" | "yes")
        {
            return Ok(());
        }
    }
    Err(Error::Refused(format!(
        "not confirmed: `db {what}` on database {} in the {} environment needs --yes",
        settings.db.name, settings.env
    )))
}

async fn create(settings: &Settings, out: &mut (dyn Write + Send)) -> Result<ExitCode> {
    let (mut conn, _) = open_connection(&settings.db, false).await?;
    let name = &settings.db.name;
    if database_exists(&mut conn, name).await? {
        write_line(out, format!("database {name} already exists"))?;
        return Ok(ExitCode::SUCCESS);
    }
    // The name and collation are checked identifiers (DbSettings::validate).
    let sql = format!(
        "CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE {}",
        settings.db.collation
    );
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .map_err(|e| Error::database(format!("creating database {name}"), e))?;
    write_line(
        out,
        format!(
            "created database {name} (utf8mb4, {})",
            settings.db.collation
        ),
    )?;
    Ok(ExitCode::SUCCESS)
}

async fn drop_database(settings: &Settings, out: &mut (dyn Write + Send)) -> Result<ExitCode> {
    let (mut conn, _) = open_connection(&settings.db, false).await?;
    let name = &settings.db.name;
    if !database_exists(&mut conn, name).await? {
        write_line(out, format!("database {name} does not exist"))?;
        return Ok(ExitCode::SUCCESS);
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS `{name}`"
    )))
    .execute(&mut conn)
    .await
    .map_err(|e| Error::database(format!("dropping database {name}"), e))?;
    write_line(out, format!("dropped database {name}"))?;
    Ok(ExitCode::SUCCESS)
}

async fn database_exists(conn: &mut MySqlConnection, name: &str) -> Result<bool> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    )
    .bind(name)
    .fetch_optional(conn)
    .await
    .map_err(|e| Error::database(format!("looking up database {name}"), e))?;
    Ok(found.is_some())
}

async fn migrate(
    migrations: Migrations,
    target: Option<i64>,
    conn: &mut MySqlConnection,
    settings: &Settings,
    server: &ServerInfo,
    out: &mut (dyn Write + Send),
) -> Result<ExitCode> {
    write_line(out, banner(settings, server))?;
    let migrator = Migrator::new(migrations).with_target(target);
    let mut write_error = None;
    let applied = migrator
        .migrate(conn, &settings.db.name, &mut |event| {
            let line = match event {
                MigrationEvent::Started { version, name } => {
                    let _ = write!(out, "applying {version} {name} ... ");
                    let _ = out.flush();
                    return;
                }
                MigrationEvent::Applied { duration, .. } => {
                    format!("done in {:.1} ms", duration.as_secs_f64() * 1000.0)
                }
                MigrationEvent::Failed { .. } => "FAILED".to_string(),
            };
            if let Err(e) = writeln!(out, "{line}") {
                write_error = Some(e);
            }
        })
        .await?;
    if let Some(e) = write_error {
        return Err(io_error(Path::new("<stdout>"), e));
    }
    if applied.is_empty() {
        write_line(out, "no pending migrations")?;
    } else {
        write_line(out, format!("applied {} migration(s)", applied.len()))?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn pending_check(
    migrations: Migrations,
    conn: &mut MySqlConnection,
    settings: &Settings,
    server: &ServerInfo,
    out: &mut (dyn Write + Send),
) -> Result<ExitCode> {
    // `pending` runs the same pre-flight checks as `migrate`, so a database
    // that `migrate` would refuse is never reported as up to date.
    let problems = Migrator::new(migrations).pending(conn).await?;
    if problems.is_empty() {
        write_line(
            out,
            format!("{}: all migrations are applied", banner(settings, server)),
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    write_line(
        out,
        format!(
            "{}: {} migration(s) need attention (run `ferrom db migrate`):",
            banner(settings, server),
            problems.len()
        ),
    )?;
    for s in &problems {
        write_line(out, format!("  {} {} {}", s.version, s.name, s.state))?;
    }
    Ok(ExitCode::FAILURE)
}

async fn schema(
    settings: &Settings,
    table: Option<&str>,
    out: &mut (dyn Write + Send),
) -> Result<ExitCode> {
    let (mut conn, server) = open_connection(&settings.db, true).await?;
    let tables = introspect(&mut conn, &server).await?;
    let chosen: Vec<_> = match table {
        Some(name) => match tables.get(name) {
            Some(t) => vec![t],
            None => {
                let known: Vec<_> = tables
                    .keys()
                    .filter(|k| !INTERNAL_TABLES.contains(&k.as_str()))
                    .cloned()
                    .collect();
                return Err(Error::Refused(format!(
                    "no table `{name}` in database {}; tables: {}",
                    settings.db.name,
                    if known.is_empty() {
                        "none (run `ferrom db migrate`)".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        },
        None => tables
            .values()
            .filter(|t| !INTERNAL_TABLES.contains(&t.name.as_str()))
            .collect(),
    };
    if chosen.is_empty() {
        write_line(
            out,
            format!(
                "database {} has no tables (run `ferrom db migrate`)",
                settings.db.name
            ),
        )?;
    } else {
        write!(out, "{}", render_schema(&chosen))
            .map_err(|e| io_error(Path::new("<stdout>"), e))?;
    }
    Ok(ExitCode::SUCCESS)
}
