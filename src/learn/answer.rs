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
use super::{Configuration, Session, sessions, store};
use crate::app::AppState;
use crate::audit::{Change, Work};
use crate::error::{Error, Problem, Result};
use crate::generate::{Flashcard, Quiz};
use crate::http::auth::AuthUser;
use crate::http::extract::{Client, Input};
use crate::states::{AssetStatus, AssetType, InteractionType, ReviewState};
use crate::validate::Validator;

const MAX_RESPONSE_MS: i64 = 3_600_000;
/// Characters of the source chunk given back with an answer.
const EXCERPT_CHARS: i32 = 280;

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
                store::session(tx, auth.user_id, id).await?;
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

    let idle_secs = state.learning.session_idle().as_secs_f64();
    let context =
        store::answer_context(tx, user, session, body.generated_asset_id, key.as_deref(), idle_secs, EXCERPT_CHARS)
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
    let memory = context.stored().memory();
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

    let write = store::AnswerWrite {
        session,
        learner: user,
        asset: body.generated_asset_id,
        asset_material,
        interaction: Uuid::new_v4(),
        at: context.now,
        interaction_type: body.interaction_type,
        interaction_data: &data,
        is_correct: graded.is_correct,
        response_time_ms: body.response_time_ms.map(|ms| ms as i32),
        confidence_level: body.confidence_level,
        feedback_data: &feedback,
        // A repeat (an item in a step, served again) is an answer, not another item.
        done: i32::from(graded.counts && !context.done),
        graded: i32::from(graded.is_correct.is_some()),
        correct: i32::from(graded.is_correct == Some(true)),
        repeats: i32::from(graded.counts && context.done),
        key: key.as_deref(),
        request_hash: &request_hash,
        memory: scheduled.as_ref().zip(graded.rating).map(|(next, rating)| store::AnswerMemory {
            stability: next.stability,
            difficulty: next.difficulty,
            due: next.due,
            reps: next.reps,
            lapses: next.lapses,
            rating: i16::from(rating),
            state: next.state,
            step: next.step.map(|step| step as i16),
        }),
        audit_values: audit.new_values(),
        ip_address: audit.ip_address(),
        user_agent: audit.user_agent(),
        token_id: audit.session_id(),
    };
    let row = store::write_answer(tx, &write).await?;
    let Some((interaction, session)) = row else {
        // A retry with the same key committed first, while this one waited for the lock:
        // its answer (this statement sees what committed since this one's began).
        let (interaction, created_at) = store::keyed_interaction(tx, user, key.as_deref()).await?;
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

/// What recording an interaction reads (sql/answer_read.sql; public for the load
/// harness's pgbench script, as WRITE).
pub const READ: &str = include_str!("sql/answer_read.sql");

/// What recording an interaction writes (sql/answer_write.sql).
pub const WRITE: &str = include_str!("sql/answer_write.sql");

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
#[derive(Debug, Serialize, ToSchema)]
pub struct Interaction {
    pub(super) id: Uuid,
    pub(super) learning_session_id: Uuid,
    pub(super) generated_asset_id: Option<Uuid>,
    pub(super) interaction_type: InteractionType,
    pub(super) interaction_data: Value,
    pub(super) created_at: DateTime<Utc>,
    pub(super) is_correct: Option<bool>,
    pub(super) response_time_ms: Option<i32>,
    pub(super) confidence_level: Option<f64>,
    pub(super) feedback_data: Option<Value>,
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
    context: &store::AnswerContext,
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

/// The answer a request with this Idempotency-Key got the first time (the session as it
/// is now).
async fn replay(conn: &mut PgConnection, user: Uuid, id: Uuid, created_at: DateTime<Utc>) -> Result<Recorded> {
    let interaction = store::interaction(conn, user, id, created_at).await?;
    let session = store::session(conn, user, interaction.learning_session_id).await?;
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
