//! GET /api/v1/sessions/{id}/next: the next item a session serves, its answer withheld.
//!
//! The candidates of every session type come from one SQL text that reads the session
//! from a CTE named `s`: the next item is picked from it in the same statement as the
//! session is read, and a new session counts its items from it with a made-up `s`.
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
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::preferences::Preferences;
use super::{Configuration, Item, schedule, sessions};
use crate::app::AppState;
use crate::audit::Actor;
use crate::db::tenant;
use crate::elapsed_days_sql;
use crate::error::{Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::Client;
use crate::states::{AssetType, SessionStatus};

/// The candidates of the session in CTE `s` (columns `id`, `user_id`,
/// `study_material_id`, `session_type`, `configuration`), each with its place `pos`, its
/// `fact` (items made from one fact are siblings: `next` never serves one right after
/// another, when anything else is left) and `seen` (answered in this session already:
/// an item in a learning step, served again).
///
/// Study and review sessions serve from `studyhall_study_queue` (migration 0016: the
/// learner's day, daily limits, buried siblings), first the items in a step that are due
/// now, then their own order, and last the items in a step due later today (served
/// early, so that the session can finish). An item answered in the session comes back
/// only while in a step; one skipped does not.
macro_rules! candidates {
    () => {
        "handled AS (SELECT i.generated_asset_id, bool_or(i.interaction_type = 'answer') AS seen,
                      bool_or(i.interaction_type = 'skip') AS skipped
                 FROM s JOIN interactions i ON i.learning_session_id = s.id
                WHERE i.interaction_type <> 'view'
                GROUP BY i.generated_asset_id),
         queued AS (SELECT q.*, CASE WHEN q.queue <> 'learning' THEN 1 WHEN q.due <= now() THEN 0 ELSE 3 END AS band,
                      coalesce(h.seen, false) AS seen
                 FROM s, studyhall_study_queue(
                          s.user_id,
                          CASE WHEN s.session_type = 'review'
                                    AND coalesce((s.configuration->>'all_materials')::boolean, false)
                               THEN NULL ELSE s.study_material_id END,
                          CASE WHEN s.session_type = 'study' THEN ARRAY['flashcard']
                               ELSE ARRAY(SELECT jsonb_array_elements_text(s.configuration->'asset_types')) END) q
                 LEFT JOIN handled h ON h.generated_asset_id = q.generated_asset_id
                WHERE s.session_type IN ('study', 'review')
                  AND (s.session_type = 'review' OR q.queue <> 'review'
                       AND s.configuration->'asset_types' ? 'flashcard')
                  AND NOT coalesce(h.skipped, false) AND (q.queue = 'learning' OR NOT coalesce(h.seen, false))),
         c AS (
            SELECT a.id, a.study_material_id, a.content_chunk_id, a.asset_type, a.content, a.difficulty_level,
                   a.generation_params->>'fact' AS fact,
                   row_number() OVER (ORDER BY x.band, coalesce(ch.chunk_order, -1), a.asset_type <> 'summary',
                                               x.due, a.id) AS pos,
                   x.seen
              FROM s
              CROSS JOIN LATERAL (
                   SELECT q.generated_asset_id AS id, q.band, q.due, q.seen FROM queued q
                   UNION ALL
                   SELECT a.id, 1, NULL::timestamptz, false FROM generated_assets a
                    WHERE a.study_material_id = s.study_material_id AND a.asset_type = 'summary'
                      AND a.status = 'ready' AND s.configuration->'asset_types' ? 'summary'
                      AND NOT EXISTS (SELECT 1 FROM interactions i
                                       WHERE i.learning_session_id = s.id AND i.generated_asset_id = a.id)) x
              JOIN generated_assets a ON a.id = x.id
              LEFT JOIN content_chunks ch ON ch.id = a.content_chunk_id
             WHERE s.session_type = 'study'
            UNION ALL
            SELECT a.id, a.study_material_id, a.content_chunk_id, a.asset_type, a.content, a.difficulty_level,
                   a.generation_params->>'fact' AS fact,
                   row_number() OVER (ORDER BY q.band, q.queue = 'new', q.due, coalesce(ch.chunk_order, -1), a.id),
                   q.seen
              FROM s
              JOIN queued q ON true
              JOIN generated_assets a ON a.id = q.generated_asset_id
              LEFT JOIN content_chunks ch ON ch.id = a.content_chunk_id
             WHERE s.session_type = 'review'
            UNION ALL
            SELECT a.id, a.study_material_id, a.content_chunk_id, a.asset_type, a.content, a.difficulty_level,
                   a.generation_params->>'fact' AS fact,
                   row_number() OVER (ORDER BY abs(coalesce(a.difficulty_level, 5) - t.target), a.id),
                   false
              FROM s
              CROSS JOIN LATERAL (
                   SELECT coalesce(avg(h.level), 5.5)
                          + 1.5 * ln((count(*) FILTER (WHERE h.is_correct) + 1.0)
                                     / (4.0 * (count(*) FILTER (WHERE NOT h.is_correct) + 1.0))) AS target
                     FROM (SELECT i.is_correct, coalesce(q.difficulty_level, 5) AS level
                             FROM (SELECT is_correct, generated_asset_id FROM interactions
                                    WHERE user_id = s.user_id AND is_correct IS NOT NULL
                                      AND interaction_data ? 'choice_index'
                                    ORDER BY created_at DESC LIMIT 50) i
                             JOIN generated_assets q ON q.id = i.generated_asset_id) h) t
              JOIN generated_assets a ON a.study_material_id = s.study_material_id
             WHERE s.session_type = 'quiz' AND a.status = 'ready' AND a.asset_type = 'quiz'
               AND NOT EXISTS (SELECT 1 FROM interactions i
                                WHERE i.learning_session_id = s.id AND i.generated_asset_id = a.id
                                  AND i.interaction_type <> 'view')
        )"
    };
}
pub(crate) use candidates;

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

#[derive(sqlx::FromRow)]
struct Row {
    now: DateTime<Utc>,
    status: SessionStatus,
    started_at: DateTime<Utc>,
    configuration: Option<Value>,
    session_data: Option<Value>,
    idle: bool,
    id: Option<Uuid>,
    study_material_id: Option<Uuid>,
    content_chunk_id: Option<Uuid>,
    asset_type: Option<AssetType>,
    content: Option<Value>,
    difficulty_level: Option<i32>,
    seen: Option<bool>,
    /// Candidates not yet served in the session (this one included, if so).
    fresh: Option<i64>,
    /// Candidates served again (this one included, if so).
    repeats: Option<i64>,
    passage: Option<String>,
    /// The learner's memory of a flashcard, their preferences and FSRS parameters.
    #[sqlx(flatten)]
    stored: schedule::Stored,
    preferences: Option<Value>,
    parameters: Option<Vec<f32>>,
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
    let row: Option<Row> = sqlx::query_as(concat!(
        "WITH s AS (SELECT id, user_id, study_material_id, session_type, status, started_at, configuration,
                           session_data,
                           studyhall_session_idle(session_data, started_at, $3) AS idle
                      FROM learning_sessions WHERE id = $1 AND user_id = $2), ",
        candidates!(),
        ", last AS (SELECT g.id, g.generation_params->>'fact' AS fact
                      FROM interactions i JOIN generated_assets g ON g.id = i.generated_asset_id
                     WHERE i.learning_session_id = $1 ORDER BY i.created_at DESC LIMIT 1),
           -- Once max_items items were served, only those served again (in a step) are left.
           pick AS (SELECT c.*, count(*) FILTER (WHERE NOT c.seen) OVER () AS fresh,
                           count(*) FILTER (WHERE c.seen) OVER () AS repeats
                      FROM c, s
                     WHERE c.seen OR coalesce((s.session_data->>'done')::int, 0) < (s.configuration->>'max_items')::int
                     ORDER BY coalesce(c.id = (SELECT id FROM last) OR c.fact = (SELECT fact FROM last), false), pos
                     LIMIT 1)
         SELECT now() AS now, s.status, s.started_at, s.configuration, s.session_data, s.idle, pick.id, pick.study_material_id,
                pick.content_chunk_id, pick.asset_type, pick.content, pick.difficulty_level, pick.seen, pick.fresh,
                pick.repeats, passage.content AS passage, r.stability, r.difficulty, r.reps, r.lapses, r.last_review,
                r.state, r.step, (SELECT preferences FROM users WHERE id = $2) AS preferences,
                (SELECT parameters FROM learner_parameters WHERE user_id = $2) AS parameters, ",
        elapsed_days_sql!("(SELECT preferences FROM users WHERE id = $2)"),
        "
           FROM s LEFT JOIN pick ON true
           LEFT JOIN content_chunks passage ON passage.id = pick.content_chunk_id AND pick.asset_type = 'summary'
           LEFT JOIN review_states r ON r.user_id = $2 AND r.generated_asset_id = pick.id
                                    AND pick.asset_type = 'flashcard'"
    ))
    .bind(id)
    .bind(auth.user_id)
    .bind(state.learning.session_idle().as_secs_f64())
    .fetch_optional(&mut *tx)
    .await?;
    let row = row.ok_or(crate::error::Error::NotFound)?;
    let active = sessions::ensure_active(&mut tx, Actor::of(&auth, &client), id, row.status, row.idle).await;
    tx.commit().await?; // an idle session stays abandoned, though the request fails
    active?;

    let config = Configuration::stored(row.configuration.as_ref());
    let count = |key: &str| row.session_data.as_ref().and_then(|d| d[key].as_i64()).unwrap_or(0);
    let (done, repeated) = (count("done"), count("repeats"));
    let timed_out =
        config.time_limit_secs.is_some_and(|limit| (Utc::now() - row.started_at).num_seconds() >= i64::from(limit));
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
        Some(schedule::intervals(row.stored.memory().as_ref(), row.now, &prefs, &model)?)
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
