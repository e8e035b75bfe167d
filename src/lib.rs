//! studyhall: a self-hostable learning platform on PostgreSQL.
//!
//! The binary (`src/main.rs`) is a thin command line over this library; the
//! integration tests drive the same library and the same binary.

pub mod accounts;
pub mod app;
pub mod audit;
pub mod backup;
pub mod cli;
pub mod config;
pub mod db;
pub mod digest;
pub mod error;
pub mod feedback;
pub mod generate;
pub mod http;
pub mod jobs;
pub mod learn;
pub mod llm;
pub mod mail;
pub mod maintain;
pub mod materials;
pub mod metrics;
pub mod progress;
pub mod root;
pub mod search;
pub mod states;
pub mod telemetry;
pub mod tls;
pub mod upkeep;
pub mod validate;
pub mod web;
