//! GET /api/v1/admin/status: the upkeep's last and next runs and the sizes, for
//! administrators (others get 404). The admin page shows the same.

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Status;
use crate::app::AppState;
use crate::error::{Problem, Result};
use crate::http::auth::AuthUser;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_status))
}

/// Maintenance, housekeeping and backups (each one's last run, its outcome and summary,
/// and the next), the database's size and its largest tables, the backups this node
/// sees (count, newest, total, WAL archive, free disk), and what needs attention, in
/// words. Administrators only (others get 404).
#[utoipa::path(get, path = "/api/v1/admin/status", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Status), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_status(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Status>> {
    auth.admin()?;
    Ok(Json(super::status(&state).await?))
}
