//! The progress area's reads of recorded figures (`progress_metrics`).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::Metric;
use crate::error::Result;
use crate::http::page::Newest;

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
