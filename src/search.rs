//! GET /api/v1/search: ranked full-text search over the caller's materials (title,
//! tags, description) and chunks (content), with highlighted snippets: the materials
//! store's [`store::search`], which the web app's search box uses too.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::error::{Problem, Result};
use crate::http::auth::AuthUser;
use crate::materials::store::{self, Hit};
use crate::validate::Validator;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Words to find; "quoted phrases", `or` and `-excluded` words work as in web search.
    q: String,
    /// Results, 1 to 100 (default 20).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    items: Vec<Hit>,
}

/// Searches the caller's materials and their chunks, best match first.
#[utoipa::path(get, path = "/api/v1/search", tag = "materials", params(SearchQuery), security(("bearer" = [])),
    responses((status = 200, body = SearchResults), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn search(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<SearchQuery>,
) -> Result<Json<SearchResults>> {
    let q = query.q.trim();
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    Validator::default()
        .check(!q.is_empty() && q.chars().count() <= 500, "q", "must be 1 to 500 characters")
        .check((1..=MAX_LIMIT).contains(&limit), "limit", format!("must be between 1 and {MAX_LIMIT}"))
        .finish()?;

    let user = auth.user_id;
    let items = state.reads.run(auth.reader(), async |tx| store::search(tx, user, q, limit).await).await?;
    Ok(Json(SearchResults { items }))
}
