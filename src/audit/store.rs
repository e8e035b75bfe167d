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
#[derive(Serialize, ToSchema)]
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

/// `sqlx::query_as!` of [`AuditLog`]s: their columns, then `$tail`.
macro_rules! query_audit_logs {
    ($tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            AuditLog,
            r#"SELECT id, user_id, action, entity_type, entity_id, old_values, new_values,
                      host(ip_address) AS ip_address, user_agent, created_at, session_id, is_success, error_message"#
                + $tail
            $(, $arg)*
        )
    };
}

/// The caller's own audit rows, newest first, after `cursor`, at most `limit`.
#[tracing::instrument(skip(conn))]
pub async fn own(conn: &mut PgConnection, user: Uuid, cursor: Option<Newest>, limit: i64) -> Result<Vec<AuditLog>> {
    Ok(query_audit_logs!(
        " FROM audit_logs
          WHERE user_id = $1 AND studyhall_older_than(created_at, id, $2, $3)
          ORDER BY created_at DESC, id DESC LIMIT $4",
        user,
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// Which rows an admin reads (each filter optional).
#[derive(Debug)]
pub struct Filter<'a> {
    pub user: Option<Uuid>,
    pub action: Option<&'a str>,
    pub entity_type: Option<&'a str>,
    pub entity: Option<Uuid>,
    pub is_success: Option<bool>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
}

/// Everyone's audit rows matching `filter`, newest first, after `cursor`, at most
/// `limit`: for admins, on the privileged connection (it reads across users).
#[tracing::instrument(skip(conn))]
pub async fn any(
    conn: &mut PgConnection,
    filter: &Filter<'_>,
    cursor: Option<Newest>,
    limit: i64,
) -> Result<Vec<AuditLog>> {
    Ok(query_audit_logs!(
        " FROM audit_logs
          WHERE ($1::uuid IS NULL OR user_id = $1)
            AND ($2::text IS NULL OR action = $2)
            AND ($3::text IS NULL OR entity_type = $3)
            AND ($4::uuid IS NULL OR entity_id = $4)
            AND ($5::boolean IS NULL OR is_success = $5)
            AND ($6::timestamptz IS NULL OR created_at >= $6)
            AND ($7::timestamptz IS NULL OR created_at < $7)
            AND studyhall_older_than(created_at, id, $8, $9)
          ORDER BY created_at DESC, id DESC LIMIT $10",
        filter.user,
        filter.action,
        filter.entity_type,
        filter.entity,
        filter.is_success,
        filter.from,
        filter.to,
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        limit,
    )
    .fetch_all(conn)
    .await?)
}
