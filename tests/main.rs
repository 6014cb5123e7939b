//! The integration suite: one binary, one module per capability, every test
//! against the real MySQL server in a database of its own (see `support`).

mod support;

mod db_cli;
mod gateway;
mod migrate;
mod relation;
mod roundtrip;
mod schema;
mod settings;
