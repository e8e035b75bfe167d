//! /api/v1/jobs/{id}: how the caller's background job (ingestion, generation) is doing.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::tenant;
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::states::JobState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get))
}

/// A background job, as its owner sees it.
#[derive(Serialize, ToSchema)]
pub struct JobStatus {
    pub(super) id: Uuid,
    /// `ingest_material`, `generate_assets` or `optimise_fsrs`.
    pub(super) kind: String,
    /// `queued` (waiting, or waiting to be retried), `running`, `done` or `failed`.
    pub(super) status: JobState,
    /// Attempts made so far, and allowed.
    pub(super) attempts: i32,
    pub(super) max_attempts: i32,
    /// What a finished job reports (for generation: `made`, and `added`, the assets that
    /// were new).
    pub(super) result: Option<Value>,
    /// What a running job has done so far, as it reports it (generation: `stage`
    /// `reading` the passages, `asking` the model about them, or `saving` the items, with
    /// `done` of `total`); the last report once it has finished.
    pub(super) progress: Option<Value>,
    /// Why the last attempt failed: for a `failed` job, why it was given up.
    pub(super) reason: Option<String>,
    /// When a queued job runs (again).
    pub(super) run_at: DateTime<Utc>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) finished_at: Option<DateTime<Utc>>,
}

/// One of the caller's jobs: the `job_id` of a 202 answer.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The job")),
    responses((status = 200, body = JobStatus), (status = 404, body = Problem)))]
pub async fn get(State(state): State<AppState>, auth: AuthUser, Path(id): Path<Uuid>) -> Result<Json<JobStatus>> {
    let mut tx = tenant::begin_as(&state.db, Some(auth.user_id)).await?;
    let job = super::status(&mut tx, auth.user_id, id).await?;
    tx.commit().await?;
    job.map(Json).ok_or(Error::NotFound)
}
