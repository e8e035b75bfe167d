//! GET /api/v1/search: ranked full-text search over the caller's materials (title,
//! tags, description) and chunks (content), with highlighted snippets.

use axum::Json;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::accounts::AuthUser;
use crate::app::AppState;
use crate::db::tenant;
use crate::error::{Error, FieldError, Problem, Result};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// The search: $1 the user, $2 the query text, $3 the limit. Materials are matched
/// through the user's rows, by their words or by a title like the query (pg_trgm, so a
/// typo still finds them); chunks through `studyhall_search_chunks` and its GIN index
/// (see migration 0009 for why chunks need it). Snippets, which read the whole text, are
/// made only for the page of results.
pub const SEARCH_SQL: &str = "\
    WITH mine AS (
        SELECT id, title, metadata->>'language' AS language, description, tags, search_vector
          FROM study_materials WHERE user_id = $1 AND deleted_at IS NULL
    ),
    hits AS (
        (SELECT 'material' AS kind, m.id AS study_material_id, NULL::uuid AS content_chunk_id,
                greatest(ts_rank_cd(m.search_vector, studyhall_search_query($2), 32) * 2,
                         similarity(m.title, $2)) AS rank
           FROM mine m
          WHERE m.search_vector @@ studyhall_search_query($2)
             OR m.title % $2)
        UNION ALL
        (SELECT 'chunk', s.study_material_id, s.content_chunk_id, s.rank
           FROM studyhall_search_chunks($2, $3::integer) s)
        ORDER BY rank DESC, content_chunk_id NULLS FIRST
        LIMIT $3
    )
    SELECT h.kind, h.study_material_id, h.content_chunk_id, m.title, h.rank::real AS rank,
           ts_headline(studyhall_text_config(coalesce(c.language, m.language)),
                       CASE WHEN h.kind = 'chunk' THEN c.content
                            ELSE concat_ws(' · ', m.title, array_to_string(m.tags, ', '), m.description) END,
                       studyhall_search_query($2),
                       'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15, MaxFragments=2') AS snippet
      FROM hits h
      JOIN mine m ON m.id = h.study_material_id
      LEFT JOIN content_chunks c ON c.id = h.content_chunk_id
     ORDER BY h.rank DESC, h.content_chunk_id NULLS FIRST";

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Words to find; "quoted phrases", `or` and `-excluded` words work as in web search.
    q: String,
    /// Results, 1 to 100 (default 20).
    limit: Option<i64>,
}

/// One search result.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct Hit {
    /// `material` (its title, tags or description matched) or `chunk` (its content did).
    kind: String,
    study_material_id: Uuid,
    /// The chunk, for chunk results.
    content_chunk_id: Option<Uuid>,
    /// The material's title.
    title: String,
    /// The matching text, with matches wrapped in `<mark>`...`</mark>`.
    snippet: String,
    /// Higher is better.
    rank: f32,
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
    let mut problems = Vec::new();
    if q.is_empty() || q.chars().count() > 500 {
        problems.push(FieldError { field: "q".to_owned(), message: "must be 1 to 500 characters".to_owned() });
    }
    if !(1..=MAX_LIMIT).contains(&limit) {
        problems.push(FieldError { field: "limit".to_owned(), message: format!("must be between 1 and {MAX_LIMIT}") });
    }
    if !problems.is_empty() {
        return Err(Error::Validation(problems));
    }

    let mut tx = tenant::begin_as(&state.db, Some(auth.user_id)).await?;
    let items: Vec<Hit> = sqlx::query_as(SEARCH_SQL).bind(auth.user_id).bind(q).bind(limit).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(Json(SearchResults { items }))
}
