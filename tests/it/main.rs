//! studyhall's integration tests: one binary, one PostgreSQL, one database per test.

mod accounts;
mod admin;
mod assets;
mod backups;
mod embedded;
mod fixtures;
mod harness;
mod http;
mod isolation;
mod jobs;
mod learning;
mod llm;
mod maintain;
mod materials;
mod migrations;
mod observability;
mod partitions;
mod progress;
mod quality;
mod resilience;
mod schema;
mod search;
mod tenancy;
mod uploads;
mod urls;
mod web;
