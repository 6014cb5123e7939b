//! The integration suite: one binary, one module per capability, every test
//! against the real MySQL server in a database of its own (see `support`).

mod support;

mod associations;
mod commands;
mod console;
mod db_cli;
mod factories;
mod faults;
mod gateway;
mod migrate;
mod relation;
mod roundtrip;
mod schema;
mod settings;
mod transactions;
