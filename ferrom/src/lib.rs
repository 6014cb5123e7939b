//! # ferrom
//!
//! A data-mapper persistence toolkit for MySQL and MariaDB, after Ruby's ROM:
//! relations that read, commands that write, a container that wires them,
//! migrations run by refinery through sqlx, factories for tests and an
//! interactive console.
//!
//! ## Layout
//!
//! | module | what it holds |
//! |---|---|
//! | [`settings`] | `settings.yml` environments, `FERROM_DB__*` and `DATABASE_URL` overrides, secret redaction |
//! | [`gateway`] | the sqlx pool, server flavour and capabilities, introspection |
//! | [`migrate`] | refinery's async traits over one sqlx connection, the migration runner and status |
//! | [`cli`] | the `ferrom` command line (`ferrom db ...`) |
//! | [`error`] | [`Error`], the one error type, and [`Result`] |

pub mod cli;
pub mod error;
pub mod gateway;
pub mod migrate;
pub mod settings;

pub use error::{Error, Result};
pub use gateway::{Capabilities, Flavour, Gateway, ServerInfo};
pub use settings::{DbSettings, RedactedUrl, Secret, Settings};
