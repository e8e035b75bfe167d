//! The feedback area's SQL (quality.rs holds the recalibration's).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::Feedback;
use crate::error::Result;
use crate::states::{AssetStatus, FeedbackType};

/// Locks the caller's asset `id` (of a live material) until the transaction ends; false
/// if there is none.
#[tracing::instrument(skip(conn))]
pub async fn lock_asset(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<bool> {
    let found = sqlx::query_scalar!(
        "SELECT a.id FROM generated_assets a JOIN live_study_materials m ON m.id = a.study_material_id
          WHERE a.id = $1 AND m.user_id = $2 FOR UPDATE OF a",
        id,
        user,
    )
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// When the caller's interaction `interaction` with asset `asset` was made; None if
/// there is no such interaction.
#[tracing::instrument(skip(conn))]
pub async fn interaction_time(
    conn: &mut PgConnection,
    user: Uuid,
    interaction: Uuid,
    asset: Uuid,
) -> Result<Option<DateTime<Utc>>> {
    Ok(sqlx::query_scalar!(
        "SELECT created_at FROM interactions WHERE id = $1 AND user_id = $2 AND generated_asset_id = $3",
        interaction,
        user,
        asset,
    )
    .fetch_optional(conn)
    .await?)
}

/// Feedback to record.
pub struct New<'a> {
    pub asset: Uuid,
    /// The interaction it is about, and when that was made.
    pub interaction: Option<(Uuid, DateTime<Utc>)>,
    pub feedback_type: FeedbackType,
    pub rating: Option<i32>,
    pub comment: Option<&'a str>,
}

/// Records the caller's feedback; a report flags a ready asset.
#[tracing::instrument(skip_all, fields(%user, asset = %new.asset))]
pub async fn insert(conn: &mut PgConnection, user: Uuid, new: &New<'_>) -> Result<Feedback> {
    Ok(sqlx::query_as!(
        Feedback,
        r#"WITH f AS (INSERT INTO user_feedback (user_id, generated_asset_id, interaction_id, interaction_created_at,
                                                feedback_type, rating, comment)
                      VALUES ($1, $2, $3, $4, $5, $6, $7)
                      RETURNING id, generated_asset_id, interaction_id, feedback_type, rating, comment, status,
                                created_at),
                a AS (UPDATE generated_assets SET status = 'flagged'
                       WHERE id = $2 AND $5 = 'report' AND status = 'ready' RETURNING status)
           SELECT f.id AS "id!", f.generated_asset_id, f.interaction_id,
                  f.feedback_type AS "feedback_type!: FeedbackType", f.rating, f.comment, f.status AS "status!",
                  f.created_at AS "created_at!",
                  coalesce((SELECT status FROM a), g.status) AS "asset_status!: AssetStatus",
                  g.quality_score AS asset_quality_score
             FROM f, generated_assets g WHERE g.id = $2"#,
        user,
        new.asset,
        new.interaction.map(|(id, _)| id),
        new.interaction.map(|(_, at)| at),
        new.feedback_type.as_str(),
        new.rating,
        new.comment,
    )
    .fetch_one(conn)
    .await?)
}
