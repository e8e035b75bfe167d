//! GET /api/v1/sessions/{id}/next: the next item a session serves, its answer withheld.
//!
//! The candidates of every session type come from one SQL function,
//! `studyhall_session_candidates` (migration 0022): the next item is picked from them in
//! the same statement as the session is read (sql/next.sql), and a new session counts
//! its items from them.
//!
//! Quiz sessions adapt: from the learner's last 50 quiz answers (k correct of n,
//! at a mean difficulty level L, 5.5 without any), the level they would answer correctly
//! four times in five is L + 1.5 ln((k+1) / (4 (n-k+1))): a Rasch model with one level
//! worth 1/1.5 logits, its ability estimate smoothed (Laplace). Items nearest that level
//! come first. (Quiz answers are told apart by their `choice_index`, so that the newest
//! 50 come straight off the (user_id, created_at) index, however long the history.)

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::preferences::Preferences;
use super::{Configuration, Item, schedule, sessions, store};
use crate::app::AppState;
use crate::audit::Actor;
use crate::db::tenant;
use crate::error::{Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::Client;
use crate::states::AssetType;

/// What `next` answers: the item, its place in the session, and how many are left
/// (this one included: the session has `position + remaining - 1` items in all, so
/// far). Both count answers: a card in a learning step, served again, is one more.
#[derive(Serialize, ToSchema)]
pub struct Next {
    asset: Item,
    position: i64,
    remaining: i64,
    /// For a flashcard: the interval in days that each rating (`again`, `hard`, `good`,
    /// `easy`) would schedule if the card were answered now, computed as the answer will
    /// be: a learning step's minutes / 1440, or whole days.
    #[serde(skip_serializing_if = "Option::is_none")]
    intervals: Option<schedule::Intervals>,
    /// Served again: answered in this session already, and due again in a learning step.
    again: bool,
}

/// The next item to present, its answer withheld; 204 when the session has served all it
/// will (its items, its `max_items`, or its time limit).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/next", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses(
        (status = 200, body = Next), (status = 204, description = "Nothing is left to serve"),
        (status = 404, body = Problem), (status = 409, description = "The session has ended", body = Problem),
    ))]
pub async fn next(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Response> {
    let mut tx = tenant::begin_as(&state.db, Some(auth.user_id)).await?;
    let row = store::next_item(&mut tx, auth.user_id, id, state.learning.session_idle().as_secs_f64()).await?;
    let row = row.ok_or(crate::error::Error::NotFound)?;
    let active = sessions::ensure_active(&mut tx, Actor::of(&auth, &client), id, row.status, row.idle).await;
    tx.commit().await?; // an idle session stays abandoned, though the request fails
    active?;

    let config = Configuration::stored(row.configuration.as_ref());
    let count = |key: &str| row.session_data.as_ref().and_then(|d| d[key].as_i64()).unwrap_or(0);
    let (done, repeated) = (count("done"), count("repeats"));
    let timed_out =
        config.time_limit_secs.is_some_and(|limit| (Utc::now() - row.started_at).num_seconds() >= i64::from(limit));
    let memory = row.stored().memory();
    let (Some(asset_id), Some(material), Some(asset_type), Some(content)) =
        (row.id, row.study_material_id, row.asset_type, row.content)
    else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    if timed_out {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let intervals = if asset_type == AssetType::Flashcard {
        let prefs = Preferences::of(row.preferences.as_ref());
        let model = schedule::Model::of(row.parameters.as_deref());
        Some(schedule::intervals(memory.as_ref(), row.now, &prefs, &model)?)
    } else {
        None
    };
    let asset = Item {
        id: asset_id,
        study_material_id: material,
        content_chunk_id: row.content_chunk_id,
        content: super::withhold(asset_type, &content),
        asset_type,
        difficulty_level: row.difficulty_level,
        passage: row.passage,
    };
    let remaining = row.fresh.unwrap_or(0).min(config.max_items() - done).max(0) + row.repeats.unwrap_or(0);
    let again = row.seen.unwrap_or(false);
    Ok(Json(Next { asset, position: done + repeated + 1, remaining, intervals, again }).into_response())
}
