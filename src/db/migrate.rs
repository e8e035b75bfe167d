//! Schema migrations: the reversible pairs in `migrations/`, embedded in the binary.
//!
//! sqlx applies them, each in its own transaction, under an advisory lock so that
//! several nodes starting at once never race, and records them in `_sqlx_migrations`
//! with a checksum (an edited, already-applied migration is refused).

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::error::Result;

pub static MIGRATOR: Migrator = sqlx::migrate!();

/// How far `down` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Down {
    /// Revert this many of the newest applied migrations.
    Steps(usize),
    /// Revert every applied migration.
    All,
}

/// One migration and whether it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    pub state: MigrationState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    Pending,
    Applied {
        on: DateTime<Utc>,
    },
    /// Applied, but the file changed since: the database may not match it.
    Modified {
        on: DateTime<Utc>,
    },
    /// Started and failed: the database needs an operator's attention.
    Failed,
}

/// Applies every pending migration; returns the versions applied.
pub async fn up(pool: &PgPool) -> Result<Vec<i64>> {
    let pending: Vec<i64> =
        status(pool).await?.into_iter().filter(|m| m.state == MigrationState::Pending).map(|m| m.version).collect();
    MIGRATOR.run(pool).await?;
    Ok(pending)
}

/// Reverts applied migrations, newest first; returns the versions reverted.
pub async fn down(pool: &PgPool, how_far: Down) -> Result<Vec<i64>> {
    let mut applied: Vec<i64> =
        status(pool).await?.into_iter().filter(|m| m.state != MigrationState::Pending).map(|m| m.version).collect();
    applied.reverse();
    let count = match how_far {
        Down::All => applied.len(),
        Down::Steps(steps) => steps.min(applied.len()),
    };
    let target = applied.get(count).copied().unwrap_or(0);
    MIGRATOR.undo(pool, target).await?;
    Ok(applied[..count].to_vec())
}

/// Every migration the binary knows, oldest first, with its state in the database.
pub async fn status(pool: &PgPool) -> Result<Vec<MigrationStatus>> {
    let ledger_exists = sqlx::query_scalar!(r#"SELECT to_regclass('_sqlx_migrations') IS NOT NULL AS "exists!""#)
        .fetch_one(pool)
        .await?;
    let applied: Vec<(i64, bool, Vec<u8>, DateTime<Utc>)> = if ledger_exists {
        let rows = sqlx::query!("SELECT version, success, checksum, installed_on FROM _sqlx_migrations")
            .fetch_all(pool)
            .await?;
        rows.into_iter().map(|row| (row.version, row.success, row.checksum, row.installed_on)).collect()
    } else {
        Vec::new()
    };
    Ok(MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| {
            let state = match applied.iter().find(|(version, ..)| *version == m.version) {
                None => MigrationState::Pending,
                Some((_, false, ..)) => MigrationState::Failed,
                Some((_, true, checksum, on)) if *checksum == *m.checksum => MigrationState::Applied { on: *on },
                Some((_, true, _, on)) => MigrationState::Modified { on: *on },
            };
            MigrationStatus { version: m.version, description: m.description.to_string(), state }
        })
        .collect())
}

/// How many migrations are not applied (or not cleanly): zero means the schema is current.
pub async fn pending(pool: &PgPool) -> Result<usize> {
    Ok(status(pool).await?.iter().filter(|m| !matches!(m.state, MigrationState::Applied { .. })).count())
}
