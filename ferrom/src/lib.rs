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
//! | [`schema`] | attributes and their types, inference from the database, associations |
//! | [`value`], [`row`] | dynamic values and rows (for the console and factories) |
//! | [`relation`] | relations: immutable query values, reading, typed mapping |
//! | [`container`] | the configuration, finalized into the container |
//! | [`migrate`] | refinery's async traits over one sqlx connection, the migration runner and status |
//! | [`cli`] | the `ferrom` command line (`ferrom db ...`) |
//! | [`error`] | [`Error`], the one error type, and [`Result`] |

pub(crate) mod bind;
pub mod cli;
pub mod container;
pub mod error;
pub mod gateway;
mod json;
pub mod migrate;
pub mod relation;
pub mod row;
pub mod schema;
pub mod settings;
pub mod value;

pub use container::{Configuration, Container, RelationDefinition};
pub use error::{Error, Result};
pub use gateway::{Capabilities, Flavour, Gateway, ServerInfo};
pub use json::Json;
pub use relation::{Condition, Relation, attr};
pub use row::Row;
pub use schema::{Association, Attribute, Schema, Type};
pub use settings::{DbSettings, RedactedUrl, Secret, Settings};
pub use value::Value;
