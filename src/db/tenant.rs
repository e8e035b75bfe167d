//! Transactions that row-level security sees as one user's.
//!
//! Every policy compares rows with `app.user_id`, set for the transaction only
//! (`set_config(..., true)`), so it can never leak to the next user of a pooled
//! connection.

use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::error::Result;

/// Begins a transaction acting for `user` (or for nobody: then every user-owned table
/// reads empty), in one round trip.
pub async fn begin_as(pool: &PgPool, user: Option<Uuid>) -> Result<Transaction<'static, Postgres>> {
    Ok(match user {
        // A Uuid formats as hex digits and dashes only, so it is safe to splice in;
        // a simple-protocol statement cannot take parameters.
        Some(user) => {
            pool.begin_with(sqlx::AssertSqlSafe(format!("BEGIN; SELECT set_config('app.user_id', '{user}', true)")))
                .await?
        }
        None => pool.begin().await?,
    })
}
