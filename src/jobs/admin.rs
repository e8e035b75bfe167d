//! /api/v1/admin/jobs: everyone's background jobs for administrators (others get 404),
//! by status, and a failed one queued again (audited). The admin page shows the same.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{Change, Work};
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::Client;
use crate::http::page::{self, Newest, Page};
use crate::states::JobState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_jobs)).routes(routes!(retry))
}

/// A background job as administrators see it.
#[derive(Serialize, ToSchema)]
pub struct AdminJob {
    pub id: Uuid,
    /// `ingest_material`, `generate_assets` or `optimise_fsrs`.
    pub kind: String,
    /// Whose work it is, and their username.
    pub user_id: Uuid,
    pub username: String,
    /// `queued` (waiting, or waiting to be retried), `running`, `done` or `failed`.
    pub status: JobState,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Why the last attempt failed, in words (for a `failed` job, why it was given up).
    pub reason: Option<String>,
    /// The last attempt's error in full, as the worker logged it.
    pub error: Option<String>,
    /// When a queued job runs (again).
    pub run_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// `sqlx::query_as!` of [`AdminJob`]s: `$head`, the columns, then `$tail`.
macro_rules! query_jobs {
    ($head:literal, $tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            AdminJob,
            $head
                + r#"id, kind, user_id, (SELECT username FROM users WHERE users.id = jobs.user_id) AS "username!",
                     status AS "status: JobState", attempts, max_attempts, reason,
                     last_error AS error, run_at, created_at, finished_at"#
                + $tail
            $(, $arg)*
        )
    };
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only jobs of this status: `queued`, `running`, `done` or `failed`.
    status: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Everyone's jobs, newest first, by status: administrators only (others get 404).
#[utoipa::path(get, path = "/api/v1/admin/jobs", tag = "admin", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<AdminJob>), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list_jobs(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<AdminJob>>> {
    auth.admin()?;
    Ok(Json(jobs(&state, query.status.as_deref(), query.limit, query.cursor.as_deref()).await?))
}

/// A page of jobs of `status` (any when None or empty): the API and the admin page. 422
/// naming `status` for one that is not a job's.
pub async fn jobs(
    state: &AppState,
    status: Option<&str>,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<Page<AdminJob>> {
    let (limit, cursor) = page::params::<Newest>(limit, cursor)?;
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => Some(text.parse::<JobState>().map_err(|unknown| Error::invalid("status", unknown.to_string()))?),
        None => None,
    };
    let rows = query_jobs!(
        "SELECT ",
        " FROM jobs WHERE ($1::text IS NULL OR status = $1)
            AND studyhall_older_than(created_at, id, $2, $3)
          ORDER BY created_at DESC, id DESC LIMIT $4",
        status.map(JobState::as_str),
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        i64::from(limit) + 1,
    )
    .fetch_all(&state.privileged)
    .await?;
    Ok(Page::from_rows(rows, limit, |row| (row.created_at, row.id)))
}

/// Queues a failed job again, with all its attempts: it runs as soon as a worker is
/// free. Administrators only (others get 404); 409 naming `status` when it is not
/// failed. Audited.
#[utoipa::path(post, path = "/api/v1/admin/jobs/{id}/retry", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The job")),
    responses((status = 200, body = AdminJob), (status = 401, body = Problem), (status = 404, body = Problem),
              (status = 409, description = "The job is not failed (`status`)", body = Problem)))]
pub async fn retry(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<AdminJob>> {
    auth.admin()?;
    Ok(Json(retry_by(&state, &client, &auth, id).await?))
}

/// Queues failed job `id` again for administrator `auth` (the API and the admin page).
pub async fn retry_by(state: &AppState, client: &Client, auth: &AuthUser, id: Uuid) -> Result<AdminJob> {
    let work = Work::new(&state.privileged, client, "job.retry", "job").by(auth);
    work.entity(id);
    work.change(async |tx| {
        let (attempts, job) = requeue(tx, id).await?;
        let change = Change::new(
            Some(json!({"status": JobState::Failed, "attempts": attempts})),
            Some(json!({"status": JobState::Queued, "attempts": 0, "kind": job.kind})),
        );
        Ok((job, change))
    })
    .await
}

/// Failed job `id` queued again (its attempts, error and lease cleared), and a worker
/// woken at commit. 404 if there is none; 409 if it is not failed. The attempts it had
/// made, and the job now.
async fn requeue(tx: &mut PgConnection, id: Uuid) -> Result<(i32, AdminJob)> {
    let before = query_jobs!("SELECT ", " FROM jobs WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound)?;
    if before.status != JobState::Failed {
        let status = before.status;
        return Err(Error::conflict("status", format!("is {status}: only a failed job can be retried")));
    }
    let after = query_jobs!(
        "UPDATE jobs SET status = 'queued', attempts = 0, run_at = now(), finished_at = NULL, locked_until = NULL,
                         locked_by = NULL, last_error = NULL, reason = NULL, result = NULL, progress = NULL
          WHERE id = $1 RETURNING ",
        "",
        id
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!("SELECT pg_notify($1, $2)", super::CHANNEL, after.kind).execute(&mut *tx).await?;
    Ok((before.attempts, after))
}
