//! Rollups: daily, weekly and monthly accuracy, speed and retention per learner, per
//! subject area and overall, computed from interactions. A run replaces the rollups of
//! every period it covers, so running it again changes nothing.
//!
//! Periods are UTC days, ISO weeks (from Monday) and calendar months; a rollup row's
//! `recorded_at` is its period's start, `time_period` its length, `aggregation_type` how
//! it was aggregated (`mean`, `median`), and `metric_data` holds how many answers it
//! stands on and its scope (`overall`, or `subject` with `subject_area` set).
//! Retention here is measured, not predicted: the share of reviews of items learned
//! before that were recalled.

use chrono::{DateTime, Datelike, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;

/// (time_period, date_trunc unit)
const PERIODS: [(&str, &str); 3] = [("daily", "day"), ("weekly", "week"), ("monthly", "month")];

/// Recomputes one learner's rollups of every period that overlaps `from..to`; returns
/// how many rows it wrote. Runs under a per-learner lock, so concurrent runs (a session
/// ending during housekeeping) never double a row.
pub async fn rollup(conn: &mut PgConnection, user: Uuid, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<u64> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('studyhall.rollup'), hashtext($1::text))")
        .bind(user)
        .execute(&mut *conn)
        .await?;
    let mut written = 0;
    for (period, unit) in PERIODS {
        let done = sqlx::query(
            "WITH bounds AS (SELECT date_trunc($3, $4::timestamptz, 'UTC') AS lo,
                                    date_trunc($3, $5::timestamptz - interval '1 microsecond', 'UTC')
                                        + ('1 ' || $3)::interval AS hi),
                  gone AS (DELETE FROM progress_metrics p USING bounds
                            WHERE p.user_id = $1 AND p.time_period = $2 AND p.learning_session_id IS NULL
                              AND p.recorded_at >= bounds.lo AND p.recorded_at < bounds.hi),
                  src AS (SELECT date_trunc($3, i.created_at, 'UTC') AS start, m.subject_area, i.is_correct,
                                 i.response_time_ms, (i.feedback_data->'schedule'->>'first_review')::boolean AS first
                            FROM bounds, interactions i
                            JOIN generated_assets a ON a.id = i.generated_asset_id
                            JOIN study_materials m ON m.id = a.study_material_id
                           WHERE i.user_id = $1 AND i.interaction_type = 'answer'
                             AND i.created_at >= bounds.lo AND i.created_at < bounds.hi),
                  agg AS (SELECT start, subject_area, GROUPING(subject_area) = 1 AS overall,
                                 avg(is_correct::int) FILTER (WHERE is_correct IS NOT NULL) AS accuracy,
                                 count(is_correct) AS graded,
                                 percentile_cont(0.5) WITHIN GROUP (ORDER BY response_time_ms) AS speed,
                                 count(response_time_ms) AS timed,
                                 avg(is_correct::int) FILTER (WHERE NOT first) AS retention,
                                 count(*) FILTER (WHERE NOT first) AS reviews
                            FROM src GROUP BY GROUPING SETS ((start, subject_area), (start)))
             INSERT INTO progress_metrics (user_id, metric_type, metric_value, metric_data, recorded_at, time_period,
                                           subject_area, aggregation_type)
             SELECT $1, t.metric_type, t.value,
                    jsonb_build_object('count', t.n, 'scope', CASE WHEN agg.overall THEN 'overall' ELSE 'subject' END),
                    agg.start, $2, CASE WHEN agg.overall THEN NULL ELSE agg.subject_area END, t.aggregation
               FROM agg
              CROSS JOIN LATERAL (VALUES ('accuracy', agg.accuracy, agg.graded, 'mean'),
                                         ('speed', agg.speed, agg.timed, 'median'),
                                         ('retention', agg.retention, agg.reviews, 'mean'))
                         AS t(metric_type, value, n, aggregation)
              WHERE t.value IS NOT NULL AND (agg.overall OR agg.subject_area IS NOT NULL)",
        )
        .bind(user)
        .bind(period)
        .bind(unit)
        .bind(from)
        .bind(to)
        .execute(&mut *conn)
        .await?;
        written += done.rows_affected();
    }
    Ok(written)
}

/// One learner's rollups of the current day, week and month.
pub async fn recent(conn: &mut PgConnection, user: Uuid) -> Result<u64> {
    let now = Utc::now();
    let today = now.date_naive();
    let week = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
    let month = today.with_day(1).unwrap_or(today);
    let from = week.min(month).and_time(chrono::NaiveTime::MIN).and_utc();
    rollup(conn, user, from, now).await
}
