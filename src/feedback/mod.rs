//! POST /api/v1/assets/{id}/feedback: ratings, comments and reports on an asset. A
//! report flags the asset, which takes it out of every session until its owner sets it
//! back to `ready` (PATCH /api/v1/assets/{id}); ratings feed its quality score.

pub mod quality;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{Change, Work};
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::{Client, Input};
use crate::states::{AssetStatus, FeedbackType};
use crate::validate::Validator;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create))
}

const MAX_COMMENT_CHARS: usize = 2000;

/// Feedback on an asset.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeedback {
    /// `rating` (needs `rating`), `comment` (needs `comment`) or `report` (a bad item;
    /// `comment` may say why).
    feedback_type: FeedbackType,
    /// 1 to 5.
    rating: Option<i32>,
    /// Up to 2000 characters.
    comment: Option<String>,
    /// The caller's interaction with this asset the feedback is about.
    interaction_id: Option<Uuid>,
}

/// Recorded feedback.
#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct Feedback {
    id: Uuid,
    generated_asset_id: Option<Uuid>,
    interaction_id: Option<Uuid>,
    feedback_type: FeedbackType,
    rating: Option<i32>,
    comment: Option<String>,
    status: String,
    created_at: DateTime<Utc>,
    /// The asset's status now (`flagged` after a report).
    asset_status: AssetStatus,
    /// The asset's quality score now.
    asset_quality_score: Option<f64>,
}

/// Rates, comments on or reports an asset.
#[utoipa::path(post, path = "/api/v1/assets/{id}/feedback", tag = "assets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The asset")), request_body = NewFeedback,
    responses((status = 201, body = Feedback), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
    Input(body): Input<NewFeedback>,
) -> Result<(StatusCode, Json<Feedback>)> {
    let work = Work::new(&state.db, &client, "feedback.create", "user_feedback").by(&auth);
    // The asset is looked up first: another learner's is missing, whatever the body.
    work.change(async |tx| {
        let asset: Option<String> = sqlx::query_scalar(
            "SELECT a.status FROM generated_assets a JOIN live_study_materials m ON m.id = a.study_material_id
              WHERE a.id = $1 AND m.user_id = $2 FOR UPDATE OF a",
        )
        .bind(id)
        .bind(auth.user_id)
        .fetch_optional(&mut *tx)
        .await?;
        asset.ok_or(Error::NotFound)?;
        let body = body?;
        let kind = body.feedback_type;
        let comment = body.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
        let (is_rating, needs_comment) = match kind {
            FeedbackType::Rating => (true, false),
            FeedbackType::Comment => (false, true),
            FeedbackType::Report => (false, false),
        };
        let mut v = Validator::default();
        v.check(
            body.rating.is_none_or(|r| (1..=5).contains(&r)) && (!is_rating || body.rating.is_some()),
            "rating",
            "must be 1 to 5 (and is needed for a rating)",
        );
        v.check(is_rating || body.rating.is_none(), "rating", "belongs to a rating only");
        v.check(!needs_comment || comment.is_some(), "comment", "is needed for a comment");
        v.check(
            comment.is_none_or(|c| c.chars().count() <= MAX_COMMENT_CHARS),
            "comment",
            "must be at most 2000 characters",
        );
        v.finish()?;
        let interaction_created_at: Option<DateTime<Utc>> = match body.interaction_id {
            None => None,
            Some(interaction) => {
                let found = sqlx::query_scalar(
                    "SELECT created_at FROM interactions WHERE id = $1 AND user_id = $2 AND generated_asset_id = $3",
                )
                .bind(interaction)
                .bind(auth.user_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                Some(found.ok_or_else(|| {
                    Error::invalid("interaction_id", "is not one of your interactions with this asset")
                })?)
            }
        };
        let feedback: Feedback = sqlx::query_as(
            "WITH f AS (INSERT INTO user_feedback (user_id, generated_asset_id, interaction_id, interaction_created_at,
                                                  feedback_type, rating, comment)
                        VALUES ($1, $2, $3, $4, $5, $6, $7)
                        RETURNING id, generated_asset_id, interaction_id, feedback_type, rating, comment, status,
                                  created_at),
                  a AS (UPDATE generated_assets SET status = 'flagged'
                         WHERE id = $2 AND $5 = 'report' AND status = 'ready' RETURNING status)
             SELECT f.*, coalesce((SELECT status FROM a), g.status) AS asset_status,
                    g.quality_score AS asset_quality_score
               FROM f, generated_assets g WHERE g.id = $2",
        )
        .bind(auth.user_id)
        .bind(id)
        .bind(body.interaction_id)
        .bind(interaction_created_at)
        .bind(kind)
        .bind(body.rating)
        .bind(comment)
        .fetch_one(&mut *tx)
        .await?;
        let feedback = if is_rating {
            let scores = quality::recalibrate(tx, &[id]).await?;
            Feedback { asset_quality_score: scores.first().map(|s| s.1).or(feedback.asset_quality_score), ..feedback }
        } else {
            feedback
        };
        work.entity(feedback.id);
        let details = json!({"generated_asset_id": id, "feedback_type": kind, "rating": body.rating,
                             "asset_status": feedback.asset_status});
        Ok(((StatusCode::CREATED, Json(feedback)), Change::created(details)))
    })
    .await
}
