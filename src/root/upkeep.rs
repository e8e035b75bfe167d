//! Upkeep run by the nodes that run workers. Housekeeping every
//! `STUDYHALL_HOUSEKEEPING_SECS`, one node at a time (a session-level advisory lock; the
//! others skip the round): idle sessions are abandoned, the progress rollups of the
//! last two days are recomputed for every learner who answered anything in them, and
//! those of them with enough graded answers since their last fit get their FSRS
//! parameters fitted again (a job). And
//! `studyhall maintain` every `STUDYHALL_MAINTAIN_HOURS`.

use chrono::{Duration, Utc};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::app::AppState;
use crate::audit::Actor;
use crate::db;
use crate::error::Result;
use crate::learn::{parameters, sessions};
use crate::progress::{self, rollup};

/// The advisory lock a round holds.
const LOCK: &str = "studyhall.housekeeping";

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
struct Report {
    abandoned: u64,
    learners_rolled_up: usize,
    rollup_rows: u64,
    refits_queued: usize,
}

/// Runs a housekeeping round now and then every interval, until `stopping` turns true.
pub async fn housekeeping(state: AppState, stopping: watch::Receiver<bool>) {
    periodically(state.learning.housekeeping_interval(), stopping, || async {
        match once(&state).await {
            Ok(Some(report)) => tracing::info!(
                abandoned_sessions = report.abandoned,
                learners_rolled_up = report.learners_rolled_up,
                rollup_rows = report.rollup_rows,
                refits_queued = report.refits_queued,
                "housekeeping done"
            ),
            Ok(None) => tracing::debug!("housekeeping skipped: another node is at it"),
            Err(error) => tracing::warn!(%error, "housekeeping failed"),
        }
    })
    .await;
}

/// Runs `studyhall maintain` every STUDYHALL_MAINTAIN_HOURS (from start), until
/// `stopping` turns true; never when that is 0.
pub async fn maintain(state: AppState, stopping: watch::Receiver<bool>) {
    if state.maintain.interval_hours == 0 {
        return;
    }
    let interval = std::time::Duration::from_secs(state.maintain.interval_hours * 3600);
    periodically(interval, stopping, || async {
        match crate::maintain::run(&state.privileged, &state.maintain, false).await {
            Ok((_, report)) => tracing::info!(actions = report.done.len(), "scheduled maintenance done"),
            Err(crate::error::Error::Unavailable(why)) => tracing::info!(why, "scheduled maintenance skipped"),
            Err(error) => tracing::warn!(%error, "scheduled maintenance failed"),
        }
    })
    .await;
}

async fn periodically<F: Future<Output = ()>>(
    interval: std::time::Duration,
    mut stopping: watch::Receiver<bool>,
    round: impl Fn() -> F,
) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    while !*stopping.borrow() {
        tokio::select! {
            _ = ticks.tick() => round().await,
            _ = stopping.changed() => {}
        }
    }
}

/// One round, unless another node holds the lock (then None).
async fn once(state: &AppState) -> Result<Option<Report>> {
    let mut conn = state.privileged.acquire().await?;
    if !db::try_advisory_lock(&mut conn, LOCK).await? {
        return Ok(None);
    }
    let round = async {
        let abandoned = sessions::abandon_idle(&mut conn, Actor::default(), state.learning.session_idle()).await?;
        let now = Utc::now();
        let from = now - Duration::days(2);
        let learners = progress::store::learners(&mut conn, from, None).await?;
        let mut rollup_rows = 0;
        for learner in &learners {
            let mut tx = state.privileged.begin().await?;
            rollup_rows += rollup::rollup(&mut tx, *learner, from, now).await?;
            tx.commit().await?;
        }
        let refits_queued = parameters::queue_refits(&mut conn, state, &learners).await?;
        Ok(Report { abandoned, learners_rolled_up: learners.len(), rollup_rows, refits_queued })
    }
    .await;
    db::advisory_unlock(&mut conn, LOCK).await?;
    round.map(Some)
}
