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
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('studyhall.rollup'), hashtext($1::text))", user.to_string())
        .execute(&mut *conn)
        .await?;
    let mut written = 0;
    for (period, unit) in PERIODS {
        let done =
            sqlx::query_file!("src/progress/sql/rollup.sql", user, period, unit, from, to).execute(&mut *conn).await?;
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
