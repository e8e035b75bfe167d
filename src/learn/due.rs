//! GET /api/v1/reviews/due: the caller's flashcards due today, and the new, learning and
//! due counts every page shows: both from `studyhall_study_queue` (migration 0016), what
//! review sessions serve.

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Item, store, withhold};
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

/// The flashcards due today (in a learning step, or in review and due before the
/// learner's next day starts, within the day's review limit), soonest first.
#[derive(Serialize, ToSchema)]
pub struct Due {
    due_count: i64,
    /// New cards a review session would introduce today (within the new-card limit).
    new_count: i64,
    items: Vec<DueItem>,
}

#[derive(Serialize, ToSchema)]
pub struct DueItem {
    #[serde(flatten)]
    asset: Item,
    due: DateTime<Utc>,
}

/// Flashcards due today (answers withheld), most overdue first: those a review session
/// serves, new cards aside.
#[utoipa::path(get, path = "/api/v1/reviews/due", tag = "sessions", security(("bearer" = [])), params(DueQuery),
    responses((status = 200, body = Due), (status = 422, body = Problem)))]
pub async fn due(State(state): State<AppState>, auth: AuthUser, Query(query): Query<DueQuery>) -> Result<Json<Due>> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::invalid("limit", "must be between 1 and 200"));
    }
    let mut tx = tenant::begin_as(&state.db, Some(auth.user_id)).await?;
    let rows = store::due_cards(&mut tx, auth.user_id, query.study_material_id, i64::from(limit)).await?;
    let counts = store::counts(&mut tx, auth.user_id, query.study_material_id).await?;
    tx.commit().await?;
    let items = rows
        .into_iter()
        .map(|(item, due)| DueItem { asset: Item { content: withhold(item.asset_type, &item.content), ..item }, due })
        .collect();
    Ok(Json(Due { due_count: counts.due(), new_count: counts.new, items }))
}

/// What the learner can study now in a material (or all of theirs): flashcards new
/// (within today's new-card limit), in a learning step today, and in review due today
/// (within today's review limit). A review session serves these.
#[derive(Debug, Default, Clone, Copy, Serialize, ToSchema)]
pub struct Counts {
    pub new: i64,
    pub learning: i64,
    pub review: i64,
}

impl Counts {
    /// The cards due today: in a step, and in review.
    pub fn due(&self) -> i64 {
        self.learning + self.review
    }
}

/// A material's [`Counts`].
pub struct Each {
    pub material: Uuid,
    pub counts: Counts,
}
