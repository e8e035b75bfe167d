//! Asset quality and difficulty, recalibrated from what learners did with the asset.
//!
//! `quality_score` starts as the generator's checks gave it (kept in
//! `metadata.quality.initial`) and is blended with:
//! - ratings: (mean rating - 1) / 4, weighing as much as the initial score from five
//!   ratings on;
//! - item statistics, once an item has `MIN_ANSWERS` graded answers: its facility (the
//!   share answered correctly; best near 0.75) and its discrimination (how well getting
//!   it right goes with doing well on the rest of the session: the correlation between
//!   the two over sessions; materials belong to one learner, so sessions stand in for
//!   learners), weighing as much as the initial score from 30 answers on.
//!
//! `difficulty_level` moves towards 1 + 9 (1 - facility) once there are enough answers.
//! Everything is recomputed from the rows (never incremented), so recalibrating twice
//! changes nothing.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;

/// Graded answers before an item's statistics count.
pub const MIN_ANSWERS: i64 = 8;

/// Recalibrates `assets`; returns their new quality scores.
#[tracing::instrument(skip_all, fields(assets = assets.len()))]
pub async fn recalibrate(conn: &mut PgConnection, assets: &[Uuid]) -> Result<Vec<(Uuid, f64)>> {
    let rows = sqlx::query_file!("src/feedback/sql/recalibrate.sql", assets, MIN_ANSWERS).fetch_all(conn).await?;
    Ok(rows.into_iter().map(|row| (row.id, row.quality_score)).collect())
}
