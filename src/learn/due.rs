//! GET /api/v1/reviews/due: the caller's flashcards due for review now, by FSRS.

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Item, withhold};
use crate::app::AppState;
use crate::db::tenant;
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;

#[derive(Deserialize, IntoParams)]
pub struct DueQuery {
    /// Only this material's flashcards.
    study_material_id: Option<Uuid>,
    /// Items listed at most: 1 to 200 (default 50); `due_count` counts them all.
    limit: Option<u32>,
}

/// The flashcards due now, most overdue first.
#[derive(Serialize, ToSchema)]
pub struct Due {
    due_count: i64,
    items: Vec<DueItem>,
}

#[derive(Serialize, ToSchema)]
pub struct DueItem {
    #[serde(flatten)]
    asset: Item,
    due: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    study_material_id: Uuid,
    content_chunk_id: Option<Uuid>,
    asset_type: String,
    content: Value,
    difficulty_level: Option<i32>,
    due: DateTime<Utc>,
    due_count: i64,
}

/// Flashcards due for review now (answers withheld), most overdue first.
#[utoipa::path(get, path = "/api/v1/reviews/due", tag = "sessions", security(("bearer" = [])), params(DueQuery),
    responses((status = 200, body = Due), (status = 422, body = Problem)))]
pub async fn due(State(state): State<AppState>, auth: AuthUser, Query(query): Query<DueQuery>) -> Result<Json<Due>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::invalid("limit", "must be between 1 and 200"));
    }
    let mut tx = tenant::begin_as(&state.db, Some(auth.user_id)).await?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.id, a.study_material_id, a.content_chunk_id, a.asset_type, a.content, a.difficulty_level, r.due,
                count(*) OVER () AS due_count
           FROM review_states r
           JOIN generated_assets a ON a.id = r.generated_asset_id
           JOIN study_materials m ON m.id = r.study_material_id AND m.deleted_at IS NULL
          WHERE r.user_id = $1 AND r.due <= now() AND a.asset_type = 'flashcard' AND a.status = 'ready'
            AND ($2::uuid IS NULL OR r.study_material_id = $2)
          ORDER BY r.due, a.id
          LIMIT $3",
    )
    .bind(auth.user_id)
    .bind(query.study_material_id)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let due_count = rows.first().map_or(0, |r| r.due_count);
    let items = rows
        .into_iter()
        .map(|r| DueItem {
            asset: Item {
                id: r.id,
                study_material_id: r.study_material_id,
                content_chunk_id: r.content_chunk_id,
                content: withhold(&r.asset_type, &r.content),
                asset_type: r.asset_type,
                difficulty_level: r.difficulty_level,
                passage: None,
            },
            due: r.due,
        })
        .collect();
    Ok(Json(Due { due_count, items }))
}
