//! The accounts area's reads.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{User, user_columns};
use crate::error::{Error, Result};

/// The account `user_id` (the caller's, under row-level security), or 404.
#[tracing::instrument(skip(conn))]
pub async fn user(conn: &mut PgConnection, user_id: Uuid) -> Result<User> {
    sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1 AND deleted_at IS NULL"))
        .bind(user_id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Whether any account exists, on the privileged pool (row-level security would hide
/// every account from a request's connection).
#[tracing::instrument(skip_all)]
pub async fn any_account(privileged: &sqlx::PgPool) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)").fetch_one(privileged).await?)
}
