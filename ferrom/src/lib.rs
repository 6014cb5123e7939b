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
//! | [`command`] | commands: create, update, delete, upsert; input checks, plugins, timestamps |
//! | [`container`] | the configuration, finalized into the container |
//! | [`factory`] | factories: test data built in memory or created through the commands, sequences, fake data, traits, associations |
//! | [`testing`] | the test harness: a migrated database of its own per test, factories, the seed printed on failure |
//! | [`transaction`] | transactions (savepoints, isolation), sessions, the retry helper |
//! | [`migrate`] | refinery's async traits over one sqlx connection, the migration runner and status |
//! | [`cli`] | the `ferrom` command line (`ferrom db ...`) |
//! | [`error`] | [`Error`], the one error type, and [`Result`] |

// Command futures nest deeply (call, the unit of work, the statement):
// computing their layout needs more than the default 128 levels.
#![recursion_limit = "256"]

pub(crate) mod bind;
pub mod cli;
pub mod command;
pub mod console;
pub mod container;
pub mod error;
mod exec;
pub mod factory;
pub mod gateway;
mod json;
pub mod migrate;
pub mod relation;
pub mod row;
pub mod schema;
pub mod settings;
pub mod testing;
pub mod transaction;
pub mod value;

pub use command::{
    Command, CommandDefinition, CommandKind, CommandOutput, Input, Plugin, ResultKind, Timestamps,
    Tuple,
};
pub use container::{Configuration, Container, RelationDefinition};
pub use error::{Error, Result};
pub use factory::Factories;
pub use gateway::{Capabilities, Flavour, Gateway, ServerInfo};
pub use json::Json;
pub use relation::{Condition, Relation, attr};
pub use row::Row;
pub use schema::{Association, Attribute, Schema, Type};
pub use settings::{DbSettings, RedactedUrl, Secret, Settings};
pub use transaction::{Isolation, Session, Transaction, retry};
pub use value::Value;
