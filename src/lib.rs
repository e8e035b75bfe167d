//! studyhall: a self-hostable learning platform on PostgreSQL.
//!
//! The binary (`src/main.rs`) is a thin command line over this library; the
//! integration tests drive the same library and the same binary.

pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod telemetry;
