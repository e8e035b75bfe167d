//! The progress area's reads of recorded figures (`progress_metrics`).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{AnswerRow, CardCounts, DueRow, MaterialProgress, Metric};
use crate::error::Result;
use crate::http::page::Newest;
use crate::learn::schedule::DECAY;
use crate::predicted_recall_sql;

/// Which figures GET /api/v1/progress/metrics returns.
pub struct MetricFilter<'a> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub metric_type: Option<&'a str>,
    /// A rollup's period, or `session` for what sessions recorded.
    pub time_period: Option<&'a str>,
    pub subject_area: Option<&'a str>,
}

/// The learner's figures matching `filter`, oldest first, after `cursor`, at most `limit`.
#[tracing::instrument(skip_all, fields(%user))]
pub async fn metrics(
    conn: &mut PgConnection,
    user: Uuid,
    filter: &MetricFilter<'_>,
    cursor: Option<Newest>,
    limit: i64,
) -> Result<Vec<Metric>> {
    Ok(sqlx::query_as(
        "SELECT id, metric_type, metric_value, metric_data, recorded_at, time_period, subject_area, aggregation_type,
                learning_session_id
           FROM progress_metrics
          WHERE user_id = $1 AND recorded_at >= $2 AND recorded_at < $3
            AND ($4::text IS NULL OR metric_type = $4)
            AND ($5::text IS NULL OR ($5 = 'session' AND learning_session_id IS NOT NULL) OR time_period = $5)
            AND ($6::text IS NULL OR subject_area = $6)
            AND ($7::timestamptz IS NULL OR (recorded_at, id) > ($7, $8))
          ORDER BY recorded_at, id LIMIT $9",
    )
    .bind(user)
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.metric_type)
    .bind(filter.time_period)
    .bind(filter.subject_area)
    .bind(cursor.map(|c| c.0))
    .bind(cursor.map(|c| c.1))
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// One day's figure of a learner, across all subjects.
#[derive(sqlx::FromRow)]
pub struct Daily {
    /// The day's start (UTC).
    pub recorded_at: DateTime<Utc>,
    /// `accuracy`, `retention` or `speed` (ms).
    pub metric_type: String,
    pub metric_value: f64,
}

/// The learner's daily rollups across all subjects since `since` (the progress chart's).
#[tracing::instrument(skip(conn))]
pub async fn daily(conn: &mut PgConnection, user: Uuid, since: DateTime<Utc>) -> Result<Vec<Daily>> {
    Ok(sqlx::query_as(
        "SELECT recorded_at, metric_type, metric_value FROM progress_metrics
          WHERE user_id = $1 AND time_period = 'daily' AND subject_area IS NULL AND recorded_at >= $2",
    )
    .bind(user)
    .bind(since)
    .fetch_all(conn)
    .await?)
}

/// The learner's answers of the last `window_days`: accuracy, count and median speed,
/// overall and per subject area.
#[tracing::instrument(skip(conn))]
pub(super) async fn answers(conn: &mut PgConnection, user: Uuid, window_days: i32) -> Result<Vec<AnswerRow>> {
    Ok(sqlx::query_as(
        "SELECT GROUPING(m.subject_area) = 1 AS overall, m.subject_area,
                avg(i.is_correct::int)::float8 AS accuracy, count(*) AS answers,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY i.response_time_ms) AS speed_ms
           FROM interactions i
           JOIN generated_assets a ON a.id = i.generated_asset_id
           JOIN study_materials m ON m.id = a.study_material_id
          WHERE i.user_id = $1 AND i.interaction_type = 'answer' AND i.is_correct IS NOT NULL
            AND i.created_at >= now() - make_interval(days => $2)
          GROUP BY GROUPING SETS ((m.subject_area), ())",
    )
    .bind(user)
    .bind(window_days)
    .fetch_all(conn)
    .await?)
}

/// The learner's learned items: due today and this week, how many, and their mean
/// predicted recall now, overall and per subject area.
#[tracing::instrument(skip(conn))]
pub(super) async fn due(conn: &mut PgConnection, user: Uuid) -> Result<Vec<DueRow>> {
    Ok(sqlx::query_as(concat!(
        "WITH t AS (SELECT d.next_day_start FROM users u, studyhall_learner_today(u.preferences, now()) d
                     WHERE u.id = $1),
              q AS (SELECT generated_asset_id FROM studyhall_study_queue($1, NULL, ARRAY['flashcard'])
                     WHERE queue <> 'new')
         SELECT GROUPING(m.subject_area) = 1 AS overall, m.subject_area,
                count(q.generated_asset_id) AS due_today,
                count(*) FILTER (WHERE q.generated_asset_id IS NOT NULL
                                    OR a.asset_type = 'flashcard' AND r.due >= t.next_day_start
                                       AND r.due < t.next_day_start + interval '6 days') AS due_this_week,
                count(*) AS items,
                avg(",
        predicted_recall_sql!("$1", "$2"),
        ") AS retention
           FROM review_states r
           JOIN generated_assets a ON a.id = r.generated_asset_id AND a.status = 'ready'
           JOIN live_study_materials m ON m.id = r.study_material_id
           CROSS JOIN t
           LEFT JOIN q ON q.generated_asset_id = r.generated_asset_id
          WHERE r.user_id = $1
          GROUP BY GROUPING SETS ((m.subject_area), ())"
    ))
    .bind(user)
    .bind(DECAY)
    .fetch_all(conn)
    .await?)
}

/// The days (UTC) the learner answered on, newest first, in the last 400.
#[tracing::instrument(skip(conn))]
pub(super) async fn answer_days(conn: &mut PgConnection, user: Uuid) -> Result<Vec<NaiveDate>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date AS day FROM interactions
          WHERE user_id = $1 AND interaction_type = 'answer' AND created_at >= now() - interval '400 days'
          ORDER BY day DESC",
    )
    .bind(user)
    .fetch_all(conn)
    .await?)
}

/// The learner's (`$1`) ready flashcards in live materials counted by stage: `new`
/// (never answered), `learning` (in a learning or relearning step), `young` (in review
/// with an interval under 21 days) and `mature` (21 days or more, as Anki counts them).
macro_rules! card_stages_sql {
    () => {
        "count(*) FILTER (WHERE r.state IS NULL) AS new,
         count(*) FILTER (WHERE r.state IN ('learning', 'relearning')) AS learning,
         count(*) FILTER (WHERE r.state = 'review' AND r.due - r.last_review < interval '21 days') AS young,
         count(*) FILTER (WHERE r.state = 'review' AND r.due - r.last_review >= interval '21 days') AS mature
           FROM generated_assets a
           JOIN live_study_materials m ON m.id = a.study_material_id AND m.user_id = $1
           LEFT JOIN review_states r ON r.user_id = $1 AND r.generated_asset_id = a.id
          WHERE a.status = 'ready' AND a.asset_type = 'flashcard'"
    };
}

/// The learner's flashcards in each live material by stage (`card_stages_sql`), with the
/// material's answers and accuracy in the last `window_days`. Materials with cards or
/// answers, the most answered first, at most `limit`.
#[tracing::instrument(skip(conn))]
pub(super) async fn materials(
    conn: &mut PgConnection,
    user: Uuid,
    window_days: i32,
    limit: i64,
) -> Result<Vec<MaterialProgress>> {
    Ok(sqlx::query_as(concat!(
        "WITH cards AS (
             SELECT a.study_material_id AS id,
                    ",
        card_stages_sql!(),
        "
              GROUP BY 1),
         answers AS (
             SELECT a.study_material_id AS id, count(*) AS answers, avg(i.is_correct::int)::float8 AS accuracy
               FROM interactions i JOIN generated_assets a ON a.id = i.generated_asset_id
              WHERE i.user_id = $1 AND i.interaction_type = 'answer' AND i.is_correct IS NOT NULL
                AND i.created_at >= now() - make_interval(days => $2)
              GROUP BY 1)
         SELECT m.id, m.title, m.subject_area,
                coalesce(c.new, 0) AS new, coalesce(c.learning, 0) AS learning,
                coalesce(c.young, 0) AS young, coalesce(c.mature, 0) AS mature,
                coalesce(x.answers, 0) AS answers, x.accuracy
           FROM live_study_materials m
           LEFT JOIN cards c ON c.id = m.id
           LEFT JOIN answers x ON x.id = m.id
          WHERE m.user_id = $1 AND (c.id IS NOT NULL OR x.id IS NOT NULL)
          ORDER BY coalesce(x.answers, 0) DESC, m.title, m.id
          LIMIT $3"
    ))
    .bind(user)
    .bind(window_days)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// The learner's flashcards by stage across all their live materials (as
/// [`materials`] counts them per material).
#[tracing::instrument(skip(conn))]
pub(super) async fn cards(conn: &mut PgConnection, user: Uuid) -> Result<CardCounts> {
    Ok(sqlx::query_as(concat!("SELECT ", card_stages_sql!())).bind(user).fetch_one(conn).await?)
}

/// How many of the learner's flashcards fall due on each of their next `days` days (in
/// their time zone, from the hour their day starts): today first, with everything
/// overdue and every card in a step; daily limits aside.
#[tracing::instrument(skip(conn))]
pub(super) async fn forecast(conn: &mut PgConnection, user: Uuid, days: i32) -> Result<Vec<i64>> {
    let rows: Vec<(i32, i64)> = sqlx::query_as(
        // width_bucket: 0 before today's end, n in the nth day after, `days` past the last.
        "WITH ends AS (SELECT array_agg(d.next_day_start ORDER BY n) AS ends
                         FROM users u, generate_series(0, $2 - 1) n,
                              studyhall_learner_today(u.preferences, now() + make_interval(days => n)) d
                        WHERE u.id = $1)
         SELECT width_bucket(r.due, ends.ends) AS day, count(*)
           FROM ends, review_states r
           JOIN generated_assets a ON a.id = r.generated_asset_id AND a.status = 'ready' AND a.asset_type = 'flashcard'
           JOIN live_study_materials m ON m.id = r.study_material_id
          WHERE r.user_id = $1 AND r.due < ends.ends[$2]
          GROUP BY 1",
    )
    .bind(user)
    .bind(days)
    .fetch_all(conn)
    .await?;
    let mut forecast = vec![0; usize::try_from(days).unwrap_or_default()];
    for (day, count) in rows {
        if let Some(slot) = usize::try_from(day).ok().and_then(|d| forecast.get_mut(d)) {
            *slot = count;
        }
    }
    Ok(forecast)
}
