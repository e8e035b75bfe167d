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
use crate::error::{Problem, Result};
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
    auth.admin()?;
    let filter = store::Filter {
        user: query.user_id,
        action: query.action.as_deref(),
        entity_type: query.entity_type.as_deref(),
        entity: query.entity_id,
        is_success: query.is_success,
        from: query.from,
        to: query.to,
    };
    Ok(Json(everyone(&state, &client, &auth, &filter, query.limit, query.cursor.as_deref()).await?))
}

/// Everyone's audit rows by `filter`, newest first, for administrator `auth` (the API
/// and the admin page); the query itself is audited, with its filters.
pub async fn everyone(
    state: &AppState,
    client: &Client,
    auth: &AuthUser,
    filter: &store::Filter<'_>,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<AuditLog>> {
    let work = Work::new(&state.db, client, "admin.audit_logs.read", "audit_log").by(auth);
    let read = async {
        let (limit, cursor) = page::params::<Newest>(limit, cursor)?;
        Validator::default().instant("from", filter.from.as_ref()).instant("to", filter.to.as_ref()).finish()?;
        // The privileged connection: an admin reads across users.
        let mut conn = state.privileged.acquire().await?;
        let rows = store::any(&mut conn, filter, cursor, i64::from(limit) + 1).await?;
        Ok(Page::from_rows(rows, limit, position))
    };
    // The change is the audit row alone: the query and its filters.
    work.run(read.await, async |_, page| {
        let filters = json!({"user_id": filter.user, "action": filter.action, "entity_type": filter.entity_type,
            "entity_id": filter.entity, "is_success": filter.is_success, "from": filter.from, "to": filter.to});
        Ok((page, Change::created(filters)))
    })
    .await
}
