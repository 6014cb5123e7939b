//! # post-analytics
//!
//! The reference application of ferrom: the article's "standalone project for
//! collecting post analytics". Companies have posts; each post has the stats
//! collected for it.
//!
//! It uses ferrom through its public API only, exactly as an outside crate
//! would.
//!
//! - [`configuration`] registers the relations and the commands;
//!   [`companies`] and [`posts`] define the relations, with the [`Company`]
//!   and [`Post`] structs, and [`commands`] the commands.
//! - [`project`] describes where the settings and migrations live, for the
//!   `ferrom` binary.
//! - [`factories()`] makes the test-data factories (`company`, `post`,
//!   `with_post`) over a container; their definitions live in
//!   `factories/mod.rs` ([`mod@factories`]), shared by the tests and the console.
//! - [`migrate`] applies the migrations embedded in this crate, so a
//!   collector can bring its database up to date at start-up.

pub mod commands;
pub mod companies;
#[path = "../factories/mod.rs"]
pub mod factories;
pub mod posts;

pub use companies::{Companies, Company};
pub use posts::{Post, Posts};

use ferrom::cli::Project;
use ferrom::factory::Factories;
use ferrom::migrate::{Migrations, Migrator};
use ferrom::{Configuration, Container, Gateway, Result, Settings};

/// The application's configuration: the `default` gateway from the
/// settings, the `companies` and `posts` relations and their commands
/// ([`commands::all`]). Finalize it to get
/// the container (the article's `MAIN_CONTAINER`):
///
/// ```no_run
/// # async fn demo(settings: ferrom::Settings) -> ferrom::Result<()> {
/// let container = post_analytics::configuration(&settings).finalize().await?;
/// let companies = container.relation("companies")?;
/// println!("{}", companies.count().await?);
/// # Ok(()) }
/// ```
pub fn configuration(settings: &Settings) -> Configuration {
    let mut config = Configuration::new(settings);
    config
        .register_relation(companies::relation())
        .register_relation(posts::relation());
    for command in commands::all() {
        config.register_command(command);
    }
    config
}

/// The reference factories (`company`, `post`, `with_post`) over
/// `container`, seeded from `FERROM_SEED` when it is set, else randomly:
///
/// ```no_run
/// # async fn demo(container: &ferrom::Container) -> ferrom::Result<()> {
/// let factories = post_analytics::factories(container)?;
/// let company = factories.create("with_post", ()).await?;
/// assert_eq!(company.children("posts")?.len(), 1);
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`FactoryError::InvalidSeed`](ferrom::factory::FactoryError::InvalidSeed)
/// for a `FERROM_SEED` that is not a number; the definitions' errors when
/// the container is not the application's.
pub fn factories(container: &Container) -> Result<Factories> {
    let mut registry = Factories::new(container)?;
    factories::define(&mut registry)?;
    Ok(registry)
}

mod embedded {
    //! `migrations/*.sql`, compiled in by refinery's macro.
    #![allow(missing_docs, unreachable_pub)]
    refinery::embed_migrations!("migrations");
}

/// The application's layout: `settings.yml` and `migrations/` in the
/// directory the command runs in; the console builds its container with
/// [`configuration`] and its factories with [`factories::define`].
pub fn project() -> Project {
    Project::new("post-analytics")
        .with_configuration(configuration)
        .with_factories(factories::define)
}

/// The migrations compiled into this crate (`migrations/*.sql`).
///
/// # Errors
///
/// When two embedded migrations share a version.
pub fn embedded_migrations() -> Result<Migrations> {
    Migrations::from_embedded(embedded::migrations::runner().get_migrations().clone())
}

/// Applies the embedded migrations that are pending on the gateway's
/// database, holding the migration lock. Returns how many were applied.
///
/// # Errors
///
/// As [`Migrator::migrate`]: a divergent or missing migration, a failing
/// statement, or a lock held too long by another migrating process.
pub async fn migrate(gateway: &Gateway) -> Result<usize> {
    let mut conn = gateway.dedicated_connection().await?;
    let applied = Migrator::new(embedded_migrations()?)
        .migrate(&mut conn, gateway.database(), &mut |_| {})
        .await?;
    Ok(applied.len())
}
