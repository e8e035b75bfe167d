//! The progress area's reads of recorded figures (`progress_metrics`).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{AnswerRow, DueRow, Metric};
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
