//! Reading the audit trail: the caller's own, and everyone's for admins.

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::store::{self, AuditLog};
use super::{Change, Work};
use crate::app::AppState;
use crate::db::tenant;
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::Client;
use crate::http::page::{self, Newest, Page};
use crate::validate::Validator;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(own_audit_logs)).routes(routes!(admin_audit_logs))
}

fn position(row: &AuditLog) -> Newest {
    (row.created_at, row.id)
}

#[derive(Deserialize, IntoParams)]
pub struct PageQuery {
    /// Rows per page, 1 to 200 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The caller's own audit trail, newest first.
#[utoipa::path(get, path = "/api/v1/me/audit-logs", tag = "accounts", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<AuditLog>), (status = 401, body = Problem)))]
pub async fn own_audit_logs(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<PageQuery>,
) -> Result<Json<Page<AuditLog>>> {
    let (limit, cursor) = page::params::<Newest>(query.limit, query.cursor.as_deref())?;
    let mut tx = tenant::begin_as(&state.db, Some(auth.user_id)).await?;
    let rows = store::own(&mut tx, auth.user_id, cursor, i64::from(limit) + 1).await?;
    tx.commit().await?;
    Ok(Json(Page::from_rows(rows, limit, position)))
}

#[derive(Deserialize, IntoParams)]
pub struct AdminQuery {
    user_id: Option<Uuid>,
    action: Option<String>,
    entity_type: Option<String>,
    entity_id: Option<Uuid>,
    is_success: Option<bool>,
    /// Rows at or after this time (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Rows before this time (RFC 3339).
    to: Option<DateTime<Utc>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// Every audit row, filtered: admins only (others get 404). The query itself is audited.
#[utoipa::path(get, path = "/api/v1/admin/audit-logs", tag = "admin", params(AdminQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<AuditLog>), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn admin_audit_logs(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Query(query): Query<AdminQuery>,
) -> Result<Json<Page<AuditLog>>> {
    if !auth.is_admin {
        return Err(Error::NotFound);
    }
    let work = Work::new(&state.db, &client, "admin.audit_logs.read", "audit_log").by(&auth);
    let read = async {
        let (limit, cursor) = page::params::<Newest>(query.limit, query.cursor.as_deref())?;
        Validator::default().instant("from", query.from.as_ref()).instant("to", query.to.as_ref()).finish()?;
        // The privileged connection: an admin reads across users.
        let rows: Vec<AuditLog> = sqlx::query_as(
            "SELECT id, user_id, action, entity_type, entity_id, old_values, new_values,
                    host(ip_address) AS ip_address, user_agent, created_at, session_id, is_success, error_message
               FROM audit_logs
              WHERE ($1::uuid IS NULL OR user_id = $1)
                AND ($2::text IS NULL OR action = $2)
                AND ($3::text IS NULL OR entity_type = $3)
                AND ($4::uuid IS NULL OR entity_id = $4)
                AND ($5::boolean IS NULL OR is_success = $5)
                AND ($6::timestamptz IS NULL OR created_at >= $6)
                AND ($7::timestamptz IS NULL OR created_at < $7)
                AND ($8::timestamptz IS NULL OR (created_at, id) < ($8, $9))
              ORDER BY created_at DESC, id DESC LIMIT $10",
        )
        .bind(query.user_id)
        .bind(&query.action)
        .bind(&query.entity_type)
        .bind(query.entity_id)
        .bind(query.is_success)
        .bind(query.from)
        .bind(query.to)
        .bind(cursor.map(|c| c.0))
        .bind(cursor.map(|c| c.1))
        .bind(i64::from(limit) + 1)
        .fetch_all(&state.privileged)
        .await?;
        Ok(Page::from_rows(rows, limit, position))
    };
    // The change is the audit row alone: the query and its filters.
    work.run(read.await, async |_, page| {
        let filters = json!({"user_id": query.user_id, "action": query.action, "entity_type": query.entity_type,
            "entity_id": query.entity_id, "is_success": query.is_success, "from": query.from, "to": query.to});
        Ok((Json(page), Change::created(filters)))
    })
    .await
}
