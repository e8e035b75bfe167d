//! studyhall's integration tests: one binary, one PostgreSQL, one database per test.

mod embedded;
mod harness;
mod http;
mod migrations;
mod partitions;
mod schema;
