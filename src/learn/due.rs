//! GET /api/v1/reviews/due: the caller's flashcards due today, and the new, learning and
//! due counts every page shows: both from `studyhall_study_queue` (migration 0016), what
//! review sessions serve.

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
use crate::states::AssetType;

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

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    study_material_id: Uuid,
    content_chunk_id: Option<Uuid>,
    asset_type: AssetType,
    content: Value,
    difficulty_level: Option<i32>,
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
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.id, a.study_material_id, a.content_chunk_id, a.asset_type, a.content, a.difficulty_level, q.due
           FROM studyhall_study_queue($1, $2, ARRAY['flashcard']) q
           JOIN generated_assets a ON a.id = q.generated_asset_id
          WHERE q.queue <> 'new'
          ORDER BY q.due, a.id
          LIMIT $3",
    )
    .bind(auth.user_id)
    .bind(query.study_material_id)
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await?;
    let counts = counts(&mut tx, auth.user_id, query.study_material_id).await?;
    tx.commit().await?;
    let items = rows
        .into_iter()
        .map(|r| DueItem {
            asset: Item {
                id: r.id,
                study_material_id: r.study_material_id,
                content_chunk_id: r.content_chunk_id,
                content: withhold(r.asset_type, &r.content),
                asset_type: r.asset_type,
                difficulty_level: r.difficulty_level,
                passage: None,
            },
            due: r.due,
        })
        .collect();
    Ok(Json(Due { due_count: counts.due(), new_count: counts.new, items }))
}

/// What the learner can study now in a material (or all of theirs): flashcards new
/// (within today's new-card limit), in a learning step today, and in review due today
/// (within today's review limit). A review session serves these.
#[derive(Debug, Default, Clone, Copy, Serialize, ToSchema, sqlx::FromRow)]
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

/// A subquery giving [`Counts`]'s columns for the learner and material (NULL: all)
/// given as SQL expressions, for statements that list materials with their counts.
#[macro_export]
macro_rules! study_counts_sql {
    ($user:literal, $material:literal) => {
        concat!(
            "(SELECT count(*) FILTER (WHERE q.queue = 'new') AS new,
                     count(*) FILTER (WHERE q.queue = 'learning') AS learning,
                     count(*) FILTER (WHERE q.queue = 'review') AS review
                FROM studyhall_study_queue(",
            $user,
            ", ",
            $material,
            ", ARRAY['flashcard']) q)"
        )
    };
}

/// The learner's [`Counts`] in each of `materials` (one statement; lists of materials).
#[tracing::instrument(skip_all, fields(%user))]
pub async fn counts_each(conn: &mut sqlx::PgConnection, user: Uuid, materials: &[Uuid]) -> Result<Vec<Each>> {
    Ok(sqlx::query_as(concat!(
        "SELECT m.id AS material, c.* FROM unnest($2::uuid[]) m(id) CROSS JOIN LATERAL ",
        study_counts_sql!("$1", "m.id"),
        " c"
    ))
    .bind(user)
    .bind(materials)
    .fetch_all(conn)
    .await?)
}

/// A material's [`Counts`].
#[derive(sqlx::FromRow)]
pub struct Each {
    pub material: Uuid,
    #[sqlx(flatten)]
    pub counts: Counts,
}

/// The learner's [`Counts`] in `material`, or across all their materials.
pub async fn counts(conn: &mut sqlx::PgConnection, user: Uuid, material: Option<Uuid>) -> Result<Counts> {
    Ok(sqlx::query_as(concat!("SELECT * FROM ", study_counts_sql!("$1", "$2"), " c"))
        .bind(user)
        .bind(material)
        .fetch_one(conn)
        .await?)
}
