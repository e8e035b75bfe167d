//! POST /api/v1/assets/{id}/feedback: ratings, comments and reports on an asset. A
//! report flags the asset, which takes it out of every session until its owner sets it
//! back to `ready` (PATCH /api/v1/assets/{id}); ratings feed its quality score.

pub mod quality;
mod store;

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
#[derive(Serialize, ToSchema)]
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
        if !store::lock_asset(tx, auth.user_id, id).await? {
            return Err(Error::NotFound);
        }
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
        let interaction = match body.interaction_id {
            None => None,
            Some(interaction) => {
                let found = store::interaction_time(tx, auth.user_id, interaction, id).await?;
                Some((
                    interaction,
                    found.ok_or_else(|| {
                        Error::invalid("interaction_id", "is not one of your interactions with this asset")
                    })?,
                ))
            }
        };
        let new = store::New { asset: id, interaction, feedback_type: kind, rating: body.rating, comment };
        let feedback = store::insert(tx, auth.user_id, &new).await?;
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
