//! POST /api/v1/sessions/{id}/interactions: record an answer, a view or a skip; the
//! server grades it, schedules the item's next review (FSRS), and moves the session on.
//!
//! The hot path of the product, so it costs one statement to read (the session, locked;
//! the asset; the learner's memory of it; a replayed Idempotency-Key) and one to write
//! (the interaction, the memory, the session's counters, the key and the audit row, in
//! data-modifying CTEs), between BEGIN and COMMIT. It runs as an audited unit of work
//! ([`Work`]) whose success row the write statement takes; a refused answer (404, 409,
//! 422) is recorded by the Work in a transaction of its own.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use utoipa::ToSchema;
use uuid::Uuid;

use super::preferences::Preferences;
use super::schedule::{self, Memory, Scheduled};
use super::{Configuration, Session, sessions};
use crate::app::AppState;
use crate::audit::{Change, Row, Work};
use crate::elapsed_days_sql;
use crate::error::{Error, Problem, Result};
use crate::generate::{Flashcard, Quiz};
use crate::http::auth::AuthUser;
use crate::http::extract::{Client, Input};
use crate::states::{AssetStatus, AssetType, InteractionType, ReviewState, SessionStatus, SessionType};
use crate::validate::Validator;

const MAX_RESPONSE_MS: i64 = 3_600_000;
/// Characters of the source chunk given back with an answer.
const EXCERPT_CHARS: i32 = 280;

macro_rules! interaction_columns {
    () => {
        "id, learning_session_id, generated_asset_id, interaction_type, interaction_data, created_at, is_correct,
         response_time_ms, confidence_level, feedback_data"
    };
}

/// What recording an interaction answers.
#[derive(Serialize, ToSchema)]
pub struct Recorded {
    interaction: Interaction,
    /// The server's grade: null for views, skips and summaries.
    is_correct: Option<bool>,
    /// The correct answer, the explanation, the source chunk and, for graded items, when
    /// the item is due again.
    feedback_data: Option<Value>,
    session: Session,
}

#[derive(sqlx::FromRow)]
struct Context {
    now: DateTime<Utc>,
    status: SessionStatus,
    idle: bool,
    session_material: Uuid,
    configuration: Option<Value>,
    asset_material: Option<Uuid>,
    asset_type: Option<AssetType>,
    content: Option<Value>,
    asset_status: Option<AssetStatus>,
    content_chunk_id: Option<Uuid>,
    excerpt: Option<String>,
    #[sqlx(flatten)]
    stored: schedule::Stored,
    preferences: Option<Value>,
    /// The learner's FSRS parameters; None until the optimiser has fitted them.
    parameters: Option<Vec<f32>>,
    /// Answered (or skipped) in this session already.
    done: bool,
    /// Served again in this session: an item in a learning step, in a review or study
    /// session.
    again: bool,
    key_hash: Option<Vec<u8>>,
    key_interaction: Option<Uuid>,
    key_created_at: Option<DateTime<Utc>>,
}

/// Records one interaction with an item of the session and grades it. With an
/// `Idempotency-Key` header, a retried request records nothing more and gets the first
/// answer again.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/interactions", tag = "sessions", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request count once")),
    request_body = NewInteraction,
    responses(
        (status = 201, body = Recorded), (status = 404, body = Problem),
        (status = 409, description = "The session has ended, or the item was answered in it already", body = Problem),
        (status = 422, body = Problem),
    ))]
pub async fn record(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Input(body): Input<NewInteraction>,
) -> Result<(StatusCode, Json<Recorded>)> {
    let work = Work::new(&state.db, &client, "interaction.create", "interaction").by(&auth);
    work.change(async |tx| {
        let body = match body {
            Ok(body) => body,
            Err(error) => {
                // Another user's session is missing, whatever the body.
                sessions::fetch(tx, auth.user_id, id).await?;
                return Err(error);
            }
        };
        let (recorded, change) = answer(tx, &work, &state, auth.user_id, id, &headers, body).await?;
        Ok(((StatusCode::CREATED, Json(recorded)), change))
    })
    .await
}

/// Checks, grades and records an interaction with `session`'s item, in `tx`.
async fn answer(
    tx: &mut PgConnection,
    work: &Work<'_>,
    state: &AppState,
    user: Uuid,
    session: Uuid,
    headers: &HeaderMap,
    body: NewInteraction,
) -> Result<(Recorded, Change)> {
    let key = idempotency_key(headers)?;
    let data = body.interaction_data.clone().unwrap_or_else(|| json!({}));
    let mut v = Validator::default();
    v.check(data.is_object(), "interaction_data", "must be an object");
    v.check(
        body.response_time_ms.is_none_or(|ms| (0..=MAX_RESPONSE_MS).contains(&ms)),
        "response_time_ms",
        "must be between 0 and 3600000 (an hour)",
    );
    v.check(
        body.confidence_level.is_none_or(|c| (0.0..=1.0).contains(&c)),
        "confidence_level",
        "must be between 0 and 1",
    );
    v.finish()?;
    let request_hash = Sha256::digest(format!("{session}|{}", json!(body)).as_bytes()).to_vec();

    let context: Context = sqlx::query_as(READ)
        .bind(session)
        .bind(user)
        .bind(body.generated_asset_id)
        .bind(key.as_deref())
        .bind(state.learning.session_idle().as_secs_f64())
        .bind(EXCERPT_CHARS)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound)?;

    if let (Some(hash), Some(interaction), Some(created_at)) =
        (&context.key_hash, context.key_interaction, context.key_created_at)
    {
        if *hash != request_hash {
            return Err(Error::invalid("Idempotency-Key", "was used already for another request"));
        }
        // The first request's answer; it was recorded then.
        return Ok((replay(tx, user, interaction, created_at).await?, Change::nothing()));
    }
    work.keeping(sessions::ensure_active(tx, work.actor(), session, context.status, context.idle).await)?;
    let config = Configuration::stored(context.configuration.as_ref());
    let (Some(asset_material), Some(asset_type), Some(content), Some(asset_status)) =
        (context.asset_material, context.asset_type, context.content.as_ref(), context.asset_status)
    else {
        return Err(Error::invalid("generated_asset_id", "is not an item of this session"));
    };
    if asset_material != context.session_material && config.all_materials != Some(true) {
        return Err(Error::invalid("generated_asset_id", "belongs to another material than the session's"));
    }
    if !config.asset_types().contains(&asset_type) {
        return Err(Error::invalid(
            "generated_asset_id",
            format!("is a {asset_type}, which this session does not serve"),
        ));
    }
    if asset_status != AssetStatus::Ready {
        return Err(Error::invalid(
            "generated_asset_id",
            format!("is {asset_status}: it is out of study until reviewed"),
        ));
    }
    if context.done && !context.again && body.interaction_type != InteractionType::View {
        return Err(Error::conflict("generated_asset_id", "was answered or skipped in this session already"));
    }

    let graded = grade(asset_type, content, body.interaction_type, &data)?;
    let memory = context.stored.memory();
    let prefs = Preferences::of(context.preferences.as_ref());
    let model = schedule::Model::of(context.parameters.as_deref());
    let scheduled = match graded.rating {
        Some(rating) => Some(schedule::review(memory.as_ref(), rating, context.now, &prefs, &model)?),
        None => None,
    };
    let feedback = feedback_data(&graded, &context, memory.as_ref(), scheduled.as_ref(), &model);
    // The success row, written by the one write statement.
    let (audit, written) = work.own_row(json!({
        "learning_session_id": session, "generated_asset_id": body.generated_asset_id,
        "interaction_type": body.interaction_type, "is_correct": graded.is_correct,
    }));

    let row: Option<(Interaction, Session)> = write(
        tx,
        &Write {
            session,
            user,
            asset: body.generated_asset_id,
            asset_material,
            body: &body,
            data: &data,
            graded: &graded,
            feedback: &feedback,
            scheduled: scheduled.as_ref(),
            now: context.now,
            key: key.as_deref(),
            request_hash: &request_hash,
            interaction_id: Uuid::new_v4(),
            // A repeat (an item in a step, served again) is an answer, not another item.
            counted: i32::from(graded.counts && !context.done),
            repeated: i32::from(graded.counts && context.done),
            audit: &audit,
        },
    )
    .await?;
    let Some((interaction, session)) = row else {
        // A retry with the same key committed first, while this one waited for the lock:
        // its answer (this statement sees what committed since this one's began).
        let (interaction, created_at): (Uuid, DateTime<Utc>) = sqlx::query_as(
            "SELECT interaction_id, interaction_created_at FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user)
        .bind(key.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        return Ok((replay(tx, user, interaction, created_at).await?, Change::nothing()));
    };
    let recorded = Recorded {
        is_correct: interaction.is_correct,
        feedback_data: interaction.feedback_data.clone(),
        interaction,
        session,
    };
    Ok((recorded, written))
}

/// The `Idempotency-Key` header: 1 to 200 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    match value.to_str() {
        Ok(key) if (1..=200).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(key.to_owned()))
        }
        _ => Err(Error::invalid("Idempotency-Key", "must be 1 to 200 visible ASCII characters")),
    }
}

/// What recording an interaction reads, in one statement: the session (locked), the
/// asset (if it is the learner's), its chunk, the learner's memory of it, their
/// preferences and FSRS parameters, whether the session counted the item already, and a
/// replayed key.
/// Parameters: $1 session, $2 user, $3 asset, $4 Idempotency-Key, $5 idle seconds,
/// $6 excerpt length. Public for the load harness's pgbench script.
pub const READ: &str = concat!(
    "SELECT now() AS now, s.status, s.study_material_id AS session_material, s.configuration,
                studyhall_session_idle(s.session_data, s.started_at, $5) AS idle,
                a.study_material_id AS asset_material, a.asset_type, a.content, a.status AS asset_status,
                a.content_chunk_id, left(ch.content, $6) AS excerpt,
                r.stability, r.difficulty, r.reps, r.lapses, r.last_review, r.state, r.step, u.preferences,
                lp.parameters, ",
    elapsed_days_sql!("u.preferences"),
    ",
                EXISTS (SELECT 1 FROM interactions i
                         WHERE i.learning_session_id = s.id AND i.generated_asset_id = $3
                           AND (i.interaction_type <> 'view' OR a.asset_type = 'summary')) AS done,
                s.session_type <> 'quiz' AND coalesce(r.state <> 'review', false) AS again,
                k.request_hash AS key_hash, k.interaction_id AS key_interaction,
                k.interaction_created_at AS key_created_at
           FROM learning_sessions s
           JOIN users u ON u.id = s.user_id
           LEFT JOIN (generated_assets a JOIN live_study_materials m ON m.id = a.study_material_id
                                                                  AND m.user_id = $2)
                  ON a.id = $3
           LEFT JOIN content_chunks ch ON ch.id = a.content_chunk_id
           LEFT JOIN review_states r ON r.user_id = $2 AND r.generated_asset_id = $3
           LEFT JOIN idempotency_keys k ON k.user_id = $2 AND k.key = $4
           LEFT JOIN learner_parameters lp ON lp.user_id = $2
          WHERE s.id = $1 AND s.user_id = $2
          FOR UPDATE OF s"
);

/// What recording an interaction writes, in one statement (see [`write`] for the
/// parameters). Public for the load harness's pgbench script.
pub const WRITE: &str = concat!(
    "WITH k AS (INSERT INTO idempotency_keys (user_id, key, request_hash, interaction_id, interaction_created_at)
                    SELECT $2, $14, $15, $16, $13 WHERE $14::text IS NOT NULL
                    ON CONFLICT DO NOTHING RETURNING 1),
              go AS (SELECT 1 WHERE $14::text IS NULL UNION ALL SELECT 1 FROM k),
              i AS (INSERT INTO interactions (id, learning_session_id, generated_asset_id, user_id, interaction_type,
                                              interaction_data, created_at, is_correct, response_time_ms,
                                              confidence_level, feedback_data)
                    SELECT $16, $1, $3, $2, $5, $6, $13, $7, $8, $9, $10 FROM go
                    RETURNING ",
    interaction_columns!(),
    "),
              r AS (INSERT INTO review_states (user_id, generated_asset_id, study_material_id, stability, difficulty,
                                               due, reps, lapses, last_rating, last_review, state, step)
                    SELECT $2, $3, $4, $17, $18, $19, $20, $21, $22, $13, $28, $29 FROM i
                     WHERE $17::float8 IS NOT NULL
                    ON CONFLICT (user_id, generated_asset_id) DO UPDATE
                       SET stability = EXCLUDED.stability, difficulty = EXCLUDED.difficulty, due = EXCLUDED.due,
                           reps = EXCLUDED.reps, lapses = EXCLUDED.lapses, last_rating = EXCLUDED.last_rating,
                           last_review = EXCLUDED.last_review, state = EXCLUDED.state, step = EXCLUDED.step),
              s AS (UPDATE learning_sessions ls
                       SET total_interactions = coalesce(ls.total_interactions, 0) + 1,
                           completion_percentage = least(100, 100.0
                               * (coalesce((ls.session_data->>'done')::int, 0) + $11)
                               / greatest(coalesce((ls.session_data->>'planned')::int, 0), 1)),
                           session_data = coalesce(ls.session_data, '{}') || jsonb_build_object(
                               'done', coalesce((ls.session_data->>'done')::int, 0) + $11,
                               'graded', coalesce((ls.session_data->>'graded')::int, 0) + $12,
                               'correct', coalesce((ls.session_data->>'correct')::int, 0) + $23,
                               'repeats', coalesce((ls.session_data->>'repeats')::int, 0) + $30,
                               'last_activity_at', $13::timestamptz)
                      FROM i WHERE ls.id = $1
                    RETURNING ls.id, ls.study_material_id, ls.session_type, ls.status, ls.started_at, ls.ended_at,
                              ls.total_interactions, ls.completion_percentage, ls.configuration, ls.session_data),
              l AS (INSERT INTO audit_logs (user_id, action, entity_type, entity_id, new_values, ip_address,
                                            user_agent, session_id, is_success)
                    SELECT $2, 'interaction.create', 'interaction', i.id, $24, $25::inet, $26, $27, true FROM i)
         SELECT i.id, i.learning_session_id, i.generated_asset_id, i.interaction_type, i.interaction_data, i.created_at,
                i.is_correct, i.response_time_ms, i.confidence_level, i.feedback_data,
                s.id AS s_id, s.study_material_id AS s_study_material_id, s.session_type AS s_session_type,
                s.status AS s_status, s.started_at AS s_started_at, s.ended_at AS s_ended_at,
                s.total_interactions AS s_total_interactions, s.completion_percentage AS s_completion_percentage,
                s.configuration AS s_configuration, s.session_data AS s_session_data
           FROM i, s"
);

/// An interaction to record.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInteraction {
    generated_asset_id: Uuid,
    /// `answer`, `view` or `skip`.
    interaction_type: InteractionType,
    /// The answer: `{"rating": 1..4}` for a flashcard (again, hard, good, easy),
    /// `{"choice_index": n}` for a quiz item. Anything (an object) for views and skips.
    #[schema(value_type = Option<Object>)]
    interaction_data: Option<Value>,
    /// 0 to 3,600,000.
    response_time_ms: Option<i64>,
    /// 0 to 1.
    confidence_level: Option<f64>,
    /// Ignored: the server grades every answer itself.
    #[schema(value_type = Option<bool>)]
    #[serde(default, rename = "is_correct", skip_serializing)]
    _is_correct: Option<Value>,
}

/// A recorded interaction.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Interaction {
    id: Uuid,
    learning_session_id: Uuid,
    generated_asset_id: Option<Uuid>,
    interaction_type: InteractionType,
    interaction_data: Value,
    created_at: DateTime<Utc>,
    is_correct: Option<bool>,
    response_time_ms: Option<i32>,
    confidence_level: Option<f64>,
    feedback_data: Option<Value>,
}

/// The server's grade of an interaction.
#[derive(Debug, PartialEq)]
struct Graded {
    is_correct: Option<bool>,
    /// The FSRS rating it gives the item; None when it does not review it.
    rating: Option<u8>,
    /// Whether it moves the session on (answers, skips, and views of summaries).
    counts: bool,
    /// What the learner is told: the correct answer and the explanation.
    answer: Value,
}

/// Grades an interaction with an asset of `asset_type` and `content`.
fn grade(asset_type: AssetType, content: &Value, interaction_type: InteractionType, data: &Value) -> Result<Graded> {
    let reveal = || -> Value {
        match asset_type {
            AssetType::Flashcard => serde_json::from_value::<Flashcard>(content.clone())
                .map(|card| json!({"correct_answer": card.back}))
                .unwrap_or_default(),
            AssetType::Quiz => serde_json::from_value::<Quiz>(content.clone())
                .map(|quiz| {
                    json!({"correct_answer": quiz.choices.get(quiz.answer_index), "answer_index": quiz.answer_index,
                           "explanation": quiz.explanation})
                })
                .unwrap_or_default(),
            AssetType::Summary => json!({}),
        }
    };
    match interaction_type {
        InteractionType::Answer => {}
        InteractionType::View => {
            let counts = asset_type == AssetType::Summary;
            return Ok(Graded { is_correct: None, rating: None, counts, answer: json!({}) });
        }
        InteractionType::Skip => return Ok(Graded { is_correct: None, rating: None, counts: true, answer: reveal() }),
    }
    match asset_type {
        AssetType::Flashcard => {
            let rating = data.get("rating").and_then(Value::as_u64).filter(|r| (1..=4).contains(r));
            let rating = rating.ok_or_else(|| {
                Error::invalid("interaction_data.rating", "must be 1 (again), 2 (hard), 3 (good) or 4 (easy)")
            })? as u8;
            Ok(Graded { is_correct: Some(rating >= 2), rating: Some(rating), counts: true, answer: reveal() })
        }
        AssetType::Quiz => {
            let quiz: Quiz = serde_json::from_value(content.clone())
                .map_err(Error::failed("a stored quiz does not fit its shape"))?;
            let choice =
                data.get("choice_index").and_then(Value::as_u64).filter(|c| (*c as usize) < quiz.choices.len());
            let choice = choice.ok_or_else(|| {
                Error::invalid("interaction_data.choice_index", format!("must be 0 to {}", quiz.choices.len() - 1))
            })? as usize;
            let correct = choice == quiz.answer_index;
            Ok(Graded {
                is_correct: Some(correct),
                rating: Some(if correct { 3 } else { 1 }),
                counts: true,
                answer: reveal(),
            })
        }
        AssetType::Summary => Err(Error::invalid("interaction_type", "a summary is viewed, not answered")),
    }
}

/// The feedback an interaction gets: the answer, the source chunk, and the schedule.
fn feedback_data(
    graded: &Graded,
    context: &Context,
    memory: Option<&Memory>,
    scheduled: Option<&Scheduled>,
    model: &schedule::Model,
) -> Value {
    let mut feedback = graded.answer.clone();
    if let Some(chunk) = context.content_chunk_id {
        feedback["source_chunk"] = json!({"id": chunk, "excerpt": context.excerpt});
    }
    if let Some(next) = scheduled {
        let days = memory.map(|m| (context.now - m.last_review).num_seconds() as f64 / 86_400.0);
        // The queue the item was in before this answer: what the daily limits count.
        let queue = match memory.map(|m| m.state) {
            None => "new",
            Some(ReviewState::Review) => "review",
            Some(ReviewState::Learning | ReviewState::Relearning) => "learning",
        };
        feedback["schedule"] = json!({
            "due": next.due,
            "interval_days": next.interval_days,
            "queue": queue,
            "state": next.state,
            "step": next.step,
            "first_review": memory.is_none(),
            // What FSRS expected before this answer: the chance of recall.
            "recall_predicted": memory.zip(days).map(|(m, d)| model.retrievability(m.stability, d)),
        });
    }
    feedback
}

struct Write<'a> {
    session: Uuid,
    user: Uuid,
    asset: Uuid,
    asset_material: Uuid,
    body: &'a NewInteraction,
    data: &'a Value,
    graded: &'a Graded,
    feedback: &'a Value,
    scheduled: Option<&'a Scheduled>,
    now: DateTime<Utc>,
    key: Option<&'a str>,
    request_hash: &'a [u8],
    interaction_id: Uuid,
    /// 1 when it moves the session on to another item, 0 otherwise.
    counted: i32,
    /// 1 when it answers an item served again (in a step), 0 otherwise.
    repeated: i32,
    /// The request's audit row, which the statement writes.
    audit: &'a Row,
}

/// Writes everything in one statement; None when the Idempotency-Key was taken by a
/// concurrent retry (then nothing was written).
async fn write(tx: &mut PgConnection, w: &Write<'_>) -> Result<Option<(Interaction, Session)>> {
    let row: Option<InteractionAndSession> = sqlx::query_as(WRITE)
        .bind(w.session) // $1
        .bind(w.user)
        .bind(w.asset)
        .bind(w.asset_material)
        .bind(w.body.interaction_type) // $5
        .bind(w.data)
        .bind(w.graded.is_correct)
        .bind(w.body.response_time_ms.map(|ms| ms as i32))
        .bind(w.body.confidence_level)
        .bind(w.feedback) // $10
        .bind(w.counted)
        .bind(i32::from(w.graded.is_correct.is_some()))
        .bind(w.now)
        .bind(w.key)
        .bind(w.request_hash) // $15
        .bind(w.interaction_id)
        .bind(w.scheduled.map(|s| s.stability))
        .bind(w.scheduled.map(|s| s.difficulty))
        .bind(w.scheduled.map(|s| s.due))
        .bind(w.scheduled.map(|s| s.reps)) // $20
        .bind(w.scheduled.map(|s| s.lapses))
        .bind(w.graded.rating.map(i16::from))
        .bind(i32::from(w.graded.is_correct == Some(true)))
        .bind(w.audit.new_values())
        .bind(w.audit.ip_address()) // $25
        .bind(w.audit.user_agent())
        .bind(w.audit.session_id())
        .bind(w.scheduled.map(|s| s.state))
        .bind(w.scheduled.and_then(|s| s.step).map(|step| step as i16))
        .bind(w.repeated) // $30
        .fetch_optional(tx)
        .await?;
    Ok(row.map(InteractionAndSession::split))
}

/// One row of the write: the interaction's columns, and the session's prefixed `s_`.
#[derive(sqlx::FromRow)]
struct InteractionAndSession {
    #[sqlx(flatten)]
    interaction: Interaction,
    s_id: Uuid,
    s_study_material_id: Uuid,
    s_session_type: SessionType,
    s_status: SessionStatus,
    s_started_at: DateTime<Utc>,
    s_ended_at: Option<DateTime<Utc>>,
    s_total_interactions: Option<i32>,
    s_completion_percentage: Option<f64>,
    s_configuration: Option<Value>,
    s_session_data: Option<Value>,
}

impl InteractionAndSession {
    fn split(self) -> (Interaction, Session) {
        let session = Session {
            id: self.s_id,
            study_material_id: self.s_study_material_id,
            session_type: self.s_session_type,
            status: self.s_status,
            started_at: self.s_started_at,
            ended_at: self.s_ended_at,
            total_interactions: self.s_total_interactions,
            completion_percentage: self.s_completion_percentage,
            configuration: self.s_configuration,
            session_data: self.s_session_data,
        };
        (self.interaction, session)
    }
}

/// The answer a request with this Idempotency-Key got the first time (the session as it
/// is now).
async fn replay(conn: &mut PgConnection, user: Uuid, id: Uuid, created_at: DateTime<Utc>) -> Result<Recorded> {
    let interaction: Interaction = sqlx::query_as(concat!(
        "SELECT ",
        interaction_columns!(),
        " FROM interactions WHERE id = $1 AND created_at = $2 AND user_id = $3"
    ))
    .bind(id)
    .bind(created_at)
    .bind(user)
    .fetch_one(&mut *conn)
    .await?;
    let session = sessions::fetch(conn, user, interaction.learning_session_id).await?;
    Ok(Recorded {
        is_correct: interaction.is_correct,
        feedback_data: interaction.feedback_data.clone(),
        interaction,
        session,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_graded_by_the_server() {
        let card = json!({"front": "What is a cell?", "back": "The unit of life."});
        let again = grade(AssetType::Flashcard, &card, InteractionType::Answer, &json!({"rating": 1})).expect("graded");
        assert_eq!((again.is_correct, again.rating, again.counts), (Some(false), Some(1), true));
        assert_eq!(again.answer["correct_answer"], "The unit of life.");
        assert_eq!(
            grade(AssetType::Flashcard, &card, InteractionType::Answer, &json!({"rating": 4}))
                .expect("graded")
                .is_correct,
            Some(true)
        );
        assert!(grade(AssetType::Flashcard, &card, InteractionType::Answer, &json!({"rating": 5})).is_err());
        assert!(grade(AssetType::Flashcard, &card, InteractionType::Answer, &json!({})).is_err());

        let quiz = json!({"kind": "multiple_choice", "question": "Q?", "choices": ["a", "b", "c", "d"],
                          "answer_index": 2, "explanation": "Because."});
        let right =
            grade(AssetType::Quiz, &quiz, InteractionType::Answer, &json!({"choice_index": 2})).expect("graded");
        assert_eq!((right.is_correct, right.rating), (Some(true), Some(3)));
        assert_eq!(right.answer["explanation"], "Because.");
        let wrong =
            grade(AssetType::Quiz, &quiz, InteractionType::Answer, &json!({"choice_index": 0})).expect("graded");
        assert_eq!((wrong.is_correct, wrong.rating), (Some(false), Some(1)));
        assert!(grade(AssetType::Quiz, &quiz, InteractionType::Answer, &json!({"choice_index": 4})).is_err());

        let viewed =
            grade(AssetType::Summary, &json!({"text": "T", "key_points": []}), InteractionType::View, &json!({}))
                .expect("graded");
        assert_eq!((viewed.is_correct, viewed.rating, viewed.counts), (None, None, true));
        let peeked = grade(AssetType::Flashcard, &card, InteractionType::View, &json!({})).expect("graded");
        assert!(!peeked.counts && peeked.answer == json!({}), "a view of a card reveals and counts nothing");
        assert!(grade(AssetType::Summary, &json!({}), InteractionType::Answer, &json!({})).is_err());
    }
}
