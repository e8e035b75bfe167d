//! The audit trail's reads.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::Result;
use crate::http::page::Newest;

/// One audit row.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditLog {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<Uuid>,
    pub old_values: Option<Value>,
    pub new_values: Option<Value>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The id of the sign-in token used (never the token).
    pub session_id: Option<String>,
    pub is_success: bool,
    pub error_message: Option<String>,
}

/// The caller's own audit rows, newest first, after `cursor`, at most `limit`.
#[tracing::instrument(skip(conn))]
pub async fn own(conn: &mut PgConnection, user: Uuid, cursor: Option<Newest>, limit: i64) -> Result<Vec<AuditLog>> {
    Ok(sqlx::query_as(
        "SELECT id, user_id, action, entity_type, entity_id, old_values, new_values, host(ip_address) AS ip_address,
                user_agent, created_at, session_id, is_success, error_message
           FROM audit_logs
          WHERE user_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3))
          ORDER BY created_at DESC, id DESC LIMIT $4",
    )
    .bind(user)
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}
