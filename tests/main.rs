//! The integration suite: one binary, one module per capability, every test
//! against the real MySQL server in a database of its own (see `support`).

mod support;

mod associations;
mod bad_input;
mod commands;
mod console;
mod db_cli;
mod factories;
mod faults;
mod gateway;
mod load;
mod migrate;
mod relation;
mod roundtrip;
mod schema;
mod secrets;
mod settings;
mod transactions;
