//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::db::migrate;
use crate::error::{Error, Problem, Result};

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`: the process is up and answering.
    pub status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`: the database answers and its schema is current.
    pub status: &'static str,
}

/// Liveness: the process answers HTTP. Touches nothing else.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the database is reachable and no migration is pending.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "Database unreachable or migrations pending", body = Problem,
         content_type = "application/problem+json"),
    ))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Readiness>> {
    let pending = migrate::pending(&state.privileged).await?;
    if pending > 0 {
        return Err(Error::Unavailable(format!("{pending} database migration(s) pending: run `studyhall migrate up`")));
    }
    Ok(Json(Readiness { status: "ready" }))
}
