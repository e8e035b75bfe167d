//! The learn area's SQL: sessions, the items they serve, answers, what is due, and the
//! learner's FSRS parameters and time zones. Each function takes the caller's tenant
//! transaction (row-level security) or, for upkeep, the privileged connection.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::answer::Interaction;
use super::due::{Counts, Each};
use super::schedule::Stored;
use super::{Item, Session};
use crate::error::{Error, Result};
use crate::http::page::Newest;
use crate::states::{AssetStatus, AssetType, InteractionType, JobState, ReviewState, SessionStatus, SessionType};

/// `sqlx::query_as!` of [`Session`]s: `$head`, the session's columns, then `$tail`.
macro_rules! query_sessions {
    ($head:literal, $tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Session,
            $head
                + r#"id, study_material_id, session_type AS "session_type: SessionType",
                     status AS "status: SessionStatus", started_at, ended_at, total_interactions,
                     completion_percentage, configuration, session_data"#
                + $tail
            $(, $arg)*
        )
    };
}

/// Declares a struct of a statement's row that ends with the learner's review state of
/// an item (`stability` ... `elapsed_days`, all None for an item never answered), and its
/// `stored()`: that state as a [`Stored`].
macro_rules! with_review_state {
    ($(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($fields)*
            stability: Option<f64>,
            difficulty: Option<f64>,
            reps: Option<i32>,
            lapses: Option<i32>,
            last_review: Option<DateTime<Utc>>,
            state: Option<ReviewState>,
            step: Option<i16>,
            elapsed_days: Option<i32>,
        }

        impl $name {
            /// The learner's memory of the item.
            pub fn stored(&self) -> Stored {
                Stored {
                    stability: self.stability,
                    difficulty: self.difficulty,
                    reps: self.reps,
                    lapses: self.lapses,
                    last_review: self.last_review,
                    state: self.state,
                    step: self.step,
                    elapsed_days: self.elapsed_days,
                }
            }
        }
    };
}

/// Starts a session of `session_type` on `material` with `configuration` (complete),
/// planning the items it can serve now, up to `max_items`.
#[tracing::instrument(skip(conn, configuration))]
pub async fn create_session(
    conn: &mut PgConnection,
    user: Uuid,
    material: Uuid,
    session_type: SessionType,
    configuration: &Value,
    max_items: i64,
) -> Result<Session> {
    Ok(query_sessions!(
        "INSERT INTO learning_sessions (user_id, study_material_id, session_type, configuration, session_data)
         SELECT $1, $2, $3::text, $4,
                jsonb_build_object('planned', least($5, (SELECT count(*)
                                                           FROM studyhall_session_candidates(NULL, $1, $2, $3, $4))),
                                   'done', 0, 'graded', 0, 'correct', 0, 'last_activity_at', now())
         RETURNING ",
        "",
        user,
        material,
        session_type.as_str(),
        configuration,
        max_items,
    )
    .fetch_one(conn)
    .await?)
}

/// The learner's sessions with `status` (any without), newest first, after `cursor`, at
/// most `limit`.
#[tracing::instrument(skip(conn))]
pub async fn sessions(
    conn: &mut PgConnection,
    user: Uuid,
    status: Option<&str>,
    cursor: Option<Newest>,
    limit: i64,
) -> Result<Vec<Session>> {
    Ok(query_sessions!(
        "SELECT ",
        " FROM learning_sessions
          WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
            AND studyhall_older_than(started_at, id, $3, $4)
          ORDER BY started_at DESC, id DESC LIMIT $5",
        user,
        status,
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// The learner's session `id`, or 404.
#[tracing::instrument(skip(conn))]
pub async fn session(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<Session> {
    query_sessions!("SELECT ", " FROM learning_sessions WHERE id = $1 AND user_id = $2", id, user)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// The learner's sessions among `ids`: each one's type, and the title of its material
/// (deleted or not), or None for a review across all materials.
#[tracing::instrument(skip_all, fields(%user, ids = ids.len()))]
pub async fn described(
    conn: &mut PgConnection,
    user: Uuid,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, SessionType, Option<String>)>> {
    let rows = sqlx::query!(
        r#"SELECT s.id, s.session_type AS "session_type: SessionType",
                  CASE WHEN coalesce((s.configuration->>'all_materials')::boolean, false) THEN NULL ELSE m.title END
                      AS title
             FROM learning_sessions s JOIN study_materials m ON m.id = s.study_material_id
            WHERE s.user_id = $1 AND s.id = ANY($2)"#,
        user,
        ids,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|row| (row.id, row.session_type, row.title)).collect())
}

/// The status of the learner's session `id`, locked until the transaction ends, and
/// whether it has been idle for longer than `idle_secs`; None if there is none.
#[tracing::instrument(skip(conn))]
pub async fn lock_session(
    conn: &mut PgConnection,
    user: Uuid,
    id: Uuid,
    idle_secs: f64,
) -> Result<Option<(SessionStatus, bool)>> {
    let row = sqlx::query!(
        r#"SELECT status AS "status: SessionStatus", studyhall_session_idle(session_data, started_at, $3) AS "idle!"
             FROM learning_sessions WHERE id = $1 AND user_id = $2 FOR UPDATE"#,
        id,
        user,
        idle_secs,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| (row.status, row.idle)))
}

/// Marks the learner's session `id` completed, now.
#[tracing::instrument(skip(conn))]
pub async fn complete(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<()> {
    sqlx::query!(
        "UPDATE learning_sessions SET status = 'completed', ended_at = now() WHERE id = $1 AND user_id = $2",
        id,
        user
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The items graded in session `id`.
#[tracing::instrument(skip(conn))]
pub async fn graded_items(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT DISTINCT generated_asset_id AS "generated_asset_id!" FROM interactions
            WHERE learning_session_id = $1 AND is_correct IS NOT NULL"#,
        id
    )
    .fetch_all(conn)
    .await?)
}

/// Abandons the active session `id` (any without), of `user` (anyone's without), idle
/// for longer than `idle_secs` (however long without): each one's id and owner.
#[tracing::instrument(skip(conn))]
pub async fn abandon(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    user: Option<Uuid>,
    idle_secs: Option<f64>,
) -> Result<Vec<(Uuid, Uuid)>> {
    let rows = sqlx::query!(
        "UPDATE learning_sessions
            SET status = 'abandoned', ended_at = studyhall_session_last_activity(session_data, started_at)
          WHERE status = 'active' AND ($1::uuid IS NULL OR id = $1) AND ($2::uuid IS NULL OR user_id = $2)
            AND ($3::float8 IS NULL OR studyhall_session_idle(session_data, started_at, $3))
          RETURNING id, user_id",
        id,
        user,
        idle_secs,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|row| (row.id, row.user_id)).collect())
}

/// An item the learner got wrong in a session, with their answer.
pub struct Missed {
    pub asset_type: AssetType,
    pub content: Value,
    pub interaction_data: Value,
}

/// The items missed in session `id`, each once (a card in a learning step may be missed
/// again), in the order first missed.
#[tracing::instrument(skip(conn))]
pub async fn missed(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Missed>> {
    Ok(sqlx::query_as!(
        Missed,
        r#"SELECT asset_type AS "asset_type!: AssetType", content AS "content!", interaction_data AS "interaction_data!"
             FROM (SELECT DISTINCT ON (a.id) a.asset_type, a.content, i.interaction_data, i.created_at
                     FROM interactions i JOIN generated_assets a ON a.id = i.generated_asset_id
                    WHERE i.learning_session_id = $1 AND i.is_correct = false
                    ORDER BY a.id, i.created_at) m
            ORDER BY created_at"#,
        id
    )
    .fetch_all(conn)
    .await?)
}

with_review_state! {
/// A session with its next item (`id` ... `passage`: all None when nothing is left) and
/// what answering it needs (the learner's preferences and FSRS parameters, and their
/// memory of a flashcard).
pub struct NextItem {
    pub now: DateTime<Utc>,
    pub status: SessionStatus,
    pub started_at: DateTime<Utc>,
    pub configuration: Option<Value>,
    pub session_data: Option<Value>,
    pub idle: bool,
    pub id: Option<Uuid>,
    pub study_material_id: Option<Uuid>,
    pub content_chunk_id: Option<Uuid>,
    pub asset_type: Option<AssetType>,
    pub content: Option<Value>,
    pub difficulty_level: Option<i32>,
    pub seen: Option<bool>,
    /// Candidates not yet served in the session (this one included, if so).
    pub fresh: Option<i64>,
    /// Candidates served again (this one included, if so).
    pub repeats: Option<i64>,
    pub passage: Option<String>,
    pub preferences: Option<Value>,
    pub parameters: Option<Vec<f32>>,
}
}

/// The learner's session `id` with its next item (next.sql), idle after `idle_secs`; None
/// if the session is not theirs.
#[tracing::instrument(skip(conn))]
pub async fn next_item(conn: &mut PgConnection, user: Uuid, id: Uuid, idle_secs: f64) -> Result<Option<NextItem>> {
    Ok(sqlx::query_file_as!(NextItem, "src/learn/sql/next.sql", id, user, idle_secs).fetch_optional(conn).await?)
}

with_review_state! {
/// What recording an answer reads (answer_read.sql).
pub struct AnswerContext {
    pub now: DateTime<Utc>,
    pub status: SessionStatus,
    pub idle: bool,
    pub session_material: Uuid,
    pub configuration: Option<Value>,
    pub asset_material: Option<Uuid>,
    pub asset_type: Option<AssetType>,
    pub content: Option<Value>,
    pub asset_status: Option<AssetStatus>,
    pub content_chunk_id: Option<Uuid>,
    pub excerpt: Option<String>,
    pub preferences: Option<Value>,
    /// The learner's FSRS parameters; None until the optimiser has fitted them.
    pub parameters: Option<Vec<f32>>,
    /// Answered (or skipped) in this session already.
    pub done: bool,
    /// Served again in this session: an item in a learning step, in a review or study
    /// session.
    pub again: bool,
    pub key_hash: Option<Vec<u8>>,
    pub key_interaction: Option<Uuid>,
    pub key_created_at: Option<DateTime<Utc>>,
}
}

/// What recording an answer to `asset` in the learner's session `session` reads, the
/// session locked (idle after `idle_secs`), with `excerpt_chars` of the item's chunk and
/// the use of Idempotency-Key `key`; None if the session is not theirs.
#[tracing::instrument(skip(conn, key))]
pub async fn answer_context(
    conn: &mut PgConnection,
    user: Uuid,
    session: Uuid,
    asset: Uuid,
    key: Option<&str>,
    idle_secs: f64,
    excerpt_chars: i32,
) -> Result<Option<AnswerContext>> {
    Ok(sqlx::query_file_as!(
        AnswerContext,
        "src/learn/sql/answer_read.sql",
        session,
        user,
        asset,
        key,
        idle_secs,
        excerpt_chars,
    )
    .fetch_optional(conn)
    .await?)
}

/// What recording an answer writes, named as answer_write.sql names its parameters.
pub struct AnswerWrite<'a> {
    pub session: Uuid,
    pub learner: Uuid,
    pub asset: Uuid,
    pub asset_material: Uuid,
    pub interaction: Uuid,
    pub at: DateTime<Utc>,
    pub interaction_type: InteractionType,
    pub interaction_data: &'a Value,
    pub is_correct: Option<bool>,
    pub response_time_ms: Option<i32>,
    pub confidence_level: Option<f64>,
    pub feedback_data: &'a Value,
    /// What the answer adds to the session's counters, 0 or 1 each.
    pub done: i32,
    pub graded: i32,
    pub correct: i32,
    pub repeats: i32,
    pub key: Option<&'a str>,
    pub request_hash: &'a [u8],
    /// The item's memory after the answer: None when it does not review the item.
    pub memory: Option<AnswerMemory>,
    pub audit_values: Option<&'a Value>,
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub token_id: Option<&'a str>,
}

/// The learner's memory of an item after an answer.
pub struct AnswerMemory {
    pub stability: f64,
    pub difficulty: f64,
    pub due: DateTime<Utc>,
    pub reps: i32,
    pub lapses: i32,
    pub rating: i16,
    pub state: ReviewState,
    pub step: Option<i16>,
}

/// One row of the write: the interaction's columns, and the session's prefixed `s_`.
struct Written {
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

/// Writes an answer in one statement (answer_write.sql): the interaction and the session
/// as they are after it; None when its Idempotency-Key was taken by a concurrent retry
/// (then nothing was written).
#[tracing::instrument(skip_all, fields(session = %w.session))]
pub async fn write_answer(conn: &mut PgConnection, w: &AnswerWrite<'_>) -> Result<Option<(Interaction, Session)>> {
    let m = w.memory.as_ref();
    let row = sqlx::query_file_as!(
        Written,
        "src/learn/sql/answer_write.sql",
        w.session,
        w.learner,
        w.asset,
        w.asset_material,
        // the interaction
        w.interaction,
        w.at,
        w.interaction_type.as_str(),
        w.interaction_data,
        w.is_correct,
        w.response_time_ms,
        w.confidence_level,
        w.feedback_data,
        // what it adds to the session's counters
        w.done,
        w.graded,
        w.correct,
        w.repeats,
        // the Idempotency-Key and the request's hash
        w.key,
        w.request_hash,
        // the item's memory after it
        m.map(|m| m.stability),
        m.map(|m| m.difficulty),
        m.map(|m| m.due),
        m.map(|m| m.reps),
        m.map(|m| m.lapses),
        m.map(|m| m.rating),
        m.map(|m| m.state.as_str()),
        m.and_then(|m| m.step),
        // the audit row
        w.audit_values,
        w.ip_address,
        w.user_agent,
        w.token_id,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| {
        let interaction = Interaction {
            id: row.id,
            learning_session_id: row.learning_session_id,
            generated_asset_id: row.generated_asset_id,
            interaction_type: row.interaction_type,
            interaction_data: row.interaction_data,
            created_at: row.created_at,
            is_correct: row.is_correct,
            response_time_ms: row.response_time_ms,
            confidence_level: row.confidence_level,
            feedback_data: row.feedback_data,
        };
        let session = Session {
            id: row.s_id,
            study_material_id: row.s_study_material_id,
            session_type: row.s_session_type,
            status: row.s_status,
            started_at: row.s_started_at,
            ended_at: row.s_ended_at,
            total_interactions: row.s_total_interactions,
            completion_percentage: row.s_completion_percentage,
            configuration: row.s_configuration,
            session_data: row.s_session_data,
        };
        (interaction, session)
    }))
}

/// The interaction the learner's Idempotency-Key `key` recorded, and when.
#[tracing::instrument(skip(conn, key))]
pub async fn keyed_interaction(
    conn: &mut PgConnection,
    user: Uuid,
    key: Option<&str>,
) -> Result<(Uuid, DateTime<Utc>)> {
    let row = sqlx::query!(
        "SELECT interaction_id, interaction_created_at FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        user,
        key,
    )
    .fetch_one(conn)
    .await?;
    Ok((row.interaction_id, row.interaction_created_at))
}

/// The learner's interaction `id`, made at `created_at` (its partition).
#[tracing::instrument(skip(conn))]
pub async fn interaction(
    conn: &mut PgConnection,
    user: Uuid,
    id: Uuid,
    created_at: DateTime<Utc>,
) -> Result<Interaction> {
    Ok(sqlx::query_as!(
        Interaction,
        r#"SELECT id, learning_session_id, generated_asset_id, interaction_type AS "interaction_type: InteractionType",
                  interaction_data, created_at, is_correct, response_time_ms, confidence_level, feedback_data
             FROM interactions WHERE id = $1 AND created_at = $2 AND user_id = $3"#,
        id,
        created_at,
        user,
    )
    .fetch_one(conn)
    .await?)
}

/// The learner's flashcards due today in `material` (all of theirs without), soonest
/// first, at most `limit`: each with its due time (its content whole).
#[tracing::instrument(skip(conn))]
pub async fn due_cards(
    conn: &mut PgConnection,
    user: Uuid,
    material: Option<Uuid>,
    limit: i64,
) -> Result<Vec<(Item, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        r#"SELECT a.id, a.study_material_id, a.content_chunk_id, a.asset_type AS "asset_type: AssetType", a.content,
                  a.difficulty_level, q.due AS "due!"
             FROM studyhall_study_queue($1, $2, ARRAY['flashcard']) q
             JOIN generated_assets a ON a.id = q.generated_asset_id
            WHERE q.queue <> 'new'
            ORDER BY q.due, a.id
            LIMIT $3"#,
        user,
        material,
        limit,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let item = Item {
                id: row.id,
                study_material_id: row.study_material_id,
                content_chunk_id: row.content_chunk_id,
                asset_type: row.asset_type,
                content: row.content,
                difficulty_level: row.difficulty_level,
                passage: None,
            };
            (item, row.due)
        })
        .collect())
}

/// The learner's [`Counts`] in `material`, or across all their materials.
#[tracing::instrument(skip(conn))]
pub async fn counts(conn: &mut PgConnection, user: Uuid, material: Option<Uuid>) -> Result<Counts> {
    Ok(sqlx::query_as!(
        Counts,
        r#"SELECT new AS "new!", learning AS "learning!", review AS "review!" FROM studyhall_study_counts($1, $2)"#,
        user,
        material,
    )
    .fetch_one(conn)
    .await?)
}

/// The learner's [`Counts`] in each of `materials` (one statement; lists of materials).
#[tracing::instrument(skip_all, fields(%user))]
pub async fn counts_each(conn: &mut PgConnection, user: Uuid, materials: &[Uuid]) -> Result<Vec<Each>> {
    let rows = sqlx::query!(
        r#"SELECT m.id AS "material!", c.new AS "new!", c.learning AS "learning!", c.review AS "review!"
             FROM unnest($2::uuid[]) m(id) CROSS JOIN LATERAL studyhall_study_counts($1, m.id) c"#,
        user,
        materials,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Each {
            material: row.material,
            counts: Counts { new: row.new, learning: row.learning, review: row.review },
        })
        .collect())
}

/// The learner's FSRS parameters and the last fit's figures (all None before any), with
/// the newest job of `kind` (the fitting job's).
pub struct Parameters {
    pub parameters: Option<Vec<f32>>,
    pub log_loss_default: Option<f64>,
    pub log_loss_fitted: Option<f64>,
    pub reviews: Option<i32>,
    pub training_reviews: Option<i32>,
    pub outcome: Option<String>,
    pub fitted_at: Option<DateTime<Utc>>,
    pub job_id: Option<Uuid>,
    pub job_status: Option<JobState>,
    /// The job is queued or running and has not written its outcome yet.
    pub optimising: bool,
}

/// The learner's [`Parameters`], with the newest job of `kind`.
#[tracing::instrument(skip(conn))]
pub async fn parameters(conn: &mut PgConnection, user: Uuid, kind: &str) -> Result<Parameters> {
    Ok(sqlx::query_as!(
        Parameters,
        r#"SELECT p.parameters AS "parameters?", p.log_loss_default AS "log_loss_default?",
                  p.log_loss_fitted AS "log_loss_fitted?", p.reviews AS "reviews?",
                  p.training_reviews AS "training_reviews?", p.outcome AS "outcome?", p.fitted_at AS "fitted_at?",
                  j.id AS "job_id?", j.status AS "job_status?: JobState",
                  coalesce(j.status IN ('queued', 'running') AND (p.fitted_at IS NULL OR p.fitted_at < j.created_at),
                           false) AS "optimising!"
             FROM (SELECT $1::uuid AS user_id) me
             LEFT JOIN learner_parameters p ON p.user_id = me.user_id
             LEFT JOIN LATERAL (SELECT id, status, created_at FROM jobs WHERE user_id = me.user_id AND kind = $2
                                 ORDER BY created_at DESC LIMIT 1) j ON true"#,
        user,
        kind,
    )
    .fetch_one(conn)
    .await?)
}

/// Of `learners`, those with `after` graded answers since their last fit (or ever) and
/// no job of `kind` waiting or running.
#[tracing::instrument(skip_all, fields(learners = learners.len()))]
pub async fn refits_due(conn: &mut PgConnection, learners: &[Uuid], kind: &str, after: i64) -> Result<Vec<Uuid>> {
    Ok(sqlx::query_scalar!(
        "SELECT u.id FROM users u
           LEFT JOIN learner_parameters p ON p.user_id = u.id
          WHERE u.id = ANY($1) AND u.deleted_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.user_id = u.id AND j.kind = $2
                                                   AND j.status IN ('queued', 'running'))
            AND (SELECT count(*) FROM (SELECT 1 FROM interactions i
                                        WHERE i.user_id = u.id AND i.is_correct IS NOT NULL
                                          AND i.created_at > coalesce(p.fitted_at, '-infinity')
                                        LIMIT $3) new) >= $3",
        learners,
        kind,
        after,
    )
    .fetch_all(conn)
    .await?)
}

/// The learner's FSRS parameters (None: the defaults) and their preferences.
#[tracing::instrument(skip(conn))]
pub async fn model(conn: &mut PgConnection, user: Uuid) -> Result<(Option<Vec<f32>>, Option<Value>)> {
    let row = sqlx::query!(
        "SELECT (SELECT parameters FROM learner_parameters WHERE user_id = $1) AS parameters,
                (SELECT preferences FROM users WHERE id = $1) AS preferences",
        user
    )
    .fetch_one(conn)
    .await?;
    Ok((row.parameters, row.preferences))
}

/// A fit of a learner's parameters, to keep.
pub struct Fit<'a> {
    pub parameters: Option<&'a [f32]>,
    pub log_loss_default: Option<f64>,
    pub log_loss_fitted: Option<f64>,
    pub reviews: i32,
    pub training_reviews: i32,
    pub outcome: &'a str,
}

/// Records the learner's fit (replacing the last one).
#[tracing::instrument(skip_all, fields(%user))]
pub async fn save_fit(conn: &mut PgConnection, user: Uuid, fit: &Fit<'_>) -> Result<()> {
    sqlx::query!(
        "INSERT INTO learner_parameters (user_id, parameters, log_loss_default, log_loss_fitted, reviews,
                                         training_reviews, outcome, fitted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now())
         ON CONFLICT (user_id) DO UPDATE
            SET parameters = EXCLUDED.parameters, log_loss_default = EXCLUDED.log_loss_default,
                log_loss_fitted = EXCLUDED.log_loss_fitted, reviews = EXCLUDED.reviews,
                training_reviews = EXCLUDED.training_reviews, outcome = EXCLUDED.outcome,
                fitted_at = EXCLUDED.fitted_at",
        user,
        fit.parameters,
        fit.log_loss_default,
        fit.log_loss_fitted,
        fit.reviews,
        fit.training_reviews,
        fit.outcome,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One graded answer of a learner's history: the item, the rating (1 to 4), when (Unix
/// seconds) and the learner's day it was given on (days since 2000-01-01).
pub struct Graded {
    pub item: Uuid,
    pub rating: i32,
    pub at: f64,
    pub day: i32,
}

/// The learner's graded answers to flashcards (their rating) and quiz items (right 3,
/// wrong 1), each with their day (starting at `day_starts_at_hour` in `time_zone`, UTC
/// for one PostgreSQL does not know); an item whose first answers are gone (fewer left
/// than its review state counts) is left out.
#[tracing::instrument(skip(conn))]
pub async fn history(
    conn: &mut PgConnection,
    user: Uuid,
    time_zone: &str,
    day_starts_at_hour: i32,
) -> Result<Vec<Graded>> {
    Ok(sqlx::query_as!(
        Graded,
        r#"WITH z AS (SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $2) THEN $2
                                  ELSE 'UTC' END AS zone),
                h AS (SELECT i.generated_asset_id AS item,
                             CASE WHEN a.asset_type = 'quiz' THEN CASE WHEN i.is_correct THEN 3 ELSE 1 END
                                  ELSE (i.interaction_data->>'rating')::numeric::int END AS rating,
                             extract(epoch FROM i.created_at)::float8 AS at,
                             ((i.created_at AT TIME ZONE z.zone) - make_interval(hours => $3))::date
                                 - DATE '2000-01-01' AS day,
                             count(*) OVER (PARTITION BY i.generated_asset_id) AS answers
                        FROM z, interactions i
                        JOIN generated_assets a ON a.id = i.generated_asset_id
                       WHERE i.user_id = $1 AND i.is_correct IS NOT NULL AND i.interaction_type = 'answer'
                         AND a.asset_type IN ('flashcard', 'quiz')
                         AND (a.asset_type = 'quiz' OR jsonb_typeof(i.interaction_data->'rating') = 'number'))
           SELECT h.item AS "item!", h.rating AS "rating!", h.at AS "at!", h.day AS "day!"
             FROM h LEFT JOIN review_states r ON r.user_id = $1 AND r.generated_asset_id = h.item
            WHERE r.reps IS NULL OR h.answers >= r.reps"#,
        user,
        time_zone,
        day_starts_at_hour,
    )
    .fetch_all(conn)
    .await?)
}

/// Whether PostgreSQL knows the time zone `name` (a name of `pg_timezone_names`, such as
/// `Europe/Paris`; not an abbreviation or a POSIX offset).
#[tracing::instrument(skip(conn))]
pub async fn known_time_zone(conn: &mut PgConnection, name: &str) -> Result<bool> {
    Ok(sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1) AS "known!""#, name)
        .fetch_one(conn)
        .await?)
}

/// The time zones PostgreSQL knows, by name (without the `posix/` copies), for the
/// settings page to offer.
#[tracing::instrument(skip_all)]
pub async fn time_zones(conn: &mut PgConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT name AS "name!" FROM pg_timezone_names WHERE name NOT LIKE 'posix/%' ORDER BY name"#
    )
    .fetch_all(conn)
    .await?)
}
