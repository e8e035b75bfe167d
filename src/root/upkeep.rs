//! Upkeep run by the nodes that run workers. Housekeeping every
//! `STUDYHALL_HOUSEKEEPING_SECS`, one node at a time (a session-level advisory lock; the
//! others skip the round): idle sessions are abandoned, the progress rollups of the
//! last two days are recomputed for every learner who answered anything in them, and
//! those of them with enough graded answers since their last fit get their FSRS
//! parameters fitted again (a job). And `studyhall maintain` every
//! `STUDYHALL_MAINTAIN_HOURS`; and, on `serve` with `STUDYHALL_BACKUP_HOURS`, a backup
//! whenever the newest is older than that (one node at a time). Every run is recorded
//! (`upkeep_runs`), with when this node runs it next.

use chrono::{Duration, Utc};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::app::AppState;
use crate::audit::Actor;
use crate::backup::{self, Keep};
use crate::db;
use crate::error::{Error, Result};
use crate::learn::{parameters, sessions};
use crate::progress::{self, rollup};
use crate::states::UpkeepKind;
use crate::upkeep::{self, Run};

/// The advisory lock a round holds.
const LOCK: &str = "studyhall.housekeeping";
/// The advisory lock a scheduled backup holds.
const BACKUP_LOCK: &str = "studyhall.backup";
/// How often a node with STUDYHALL_BACKUP_HOURS looks whether a backup is due.
const BACKUP_CHECK: std::time::Duration = std::time::Duration::from_secs(600);

/// What one round did.
#[derive(Debug, Default, PartialEq, Eq)]
struct Report {
    abandoned: u64,
    learners_rolled_up: usize,
    rollup_rows: u64,
    refits_queued: usize,
}

impl Report {
    /// What the round did, in words.
    fn summary(&self) -> String {
        upkeep::words::did(&[
            (self.abandoned, "abandoned", "idle session", "idle sessions"),
            (self.learners_rolled_up as u64, "rolled up the progress of", "learner", "learners"),
            (self.refits_queued as u64, "queued", "FSRS refit", "FSRS refits"),
        ])
    }
}

/// Runs a housekeeping round now and then every interval, until `stopping` turns true.
pub async fn housekeeping(state: AppState, stopping: watch::Receiver<bool>) {
    let every = state.learning.housekeeping_interval();
    let node = upkeep::node();
    periodically(every, stopping, || async {
        let started = Utc::now();
        let result = match once(&state).await {
            Ok(Some(report)) => {
                tracing::info!(
                    abandoned_sessions = report.abandoned,
                    learners_rolled_up = report.learners_rolled_up,
                    rollup_rows = report.rollup_rows,
                    refits_queued = report.refits_queued,
                    "housekeeping done"
                );
                Ok(report.summary())
            }
            Ok(None) => {
                tracing::debug!("housekeeping skipped: another node is at it");
                Err(Error::Unavailable("another node was at it".to_owned()))
            }
            Err(error) => {
                tracing::warn!(%error, "housekeeping failed");
                Err(error)
            }
        };
        let run = Run::ended(UpkeepKind::Housekeeping, node.clone(), started, result.as_ref().cloned(), Some(every));
        upkeep::record(&state.privileged, &run).await;
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
    let node = upkeep::node();
    periodically(interval, stopping, || async {
        let started = Utc::now();
        let result = crate::maintain::run(&state.privileged, &state.maintain, false).await;
        match &result {
            Ok((_, report)) => tracing::info!(actions = report.done.len(), "scheduled maintenance done"),
            Err(Error::Unavailable(why)) => tracing::info!(why, "scheduled maintenance skipped"),
            Err(error) => tracing::warn!(%error, "scheduled maintenance failed"),
        }
        let result = result.map(|(_, report)| report.summary());
        let run = Run::ended(UpkeepKind::Maintenance, node.clone(), started, result.as_ref().cloned(), Some(interval));
        upkeep::record(&state.privileged, &run).await;
    })
    .await;
}

/// Takes a backup, as `studyhall backup create` does, whenever the newest in this node's
/// backup directory is older than STUDYHALL_BACKUP_HOURS (looking every ten minutes), until
/// `stopping` turns true; never when that is 0. `server` is how to reach the database's
/// tools; when they cannot be found, that is recorded as a failed backup.
pub async fn backups(state: AppState, server: Result<backup::Server>, stopping: watch::Receiver<bool>) {
    if state.backups.every_hours == 0 {
        return;
    }
    let every = std::time::Duration::from_secs(state.backups.every_hours * 3600);
    let node = upkeep::node();
    let server = match server {
        Ok(server) => server,
        Err(error) => {
            tracing::warn!(%error, "scheduled backups cannot run");
            let error = Error::Config(format!("scheduled backups cannot run: {error}"));
            upkeep::record(&state.privileged, &Run::ended(UpkeepKind::Backup, node, Utc::now(), Err(&error), None))
                .await;
            return;
        }
    };
    periodically(BACKUP_CHECK.min(every), stopping, || async {
        match backup_if_due(&state, &server, every).await {
            Ok(None) => {}
            Ok(Some((started, result))) => {
                match &result {
                    Ok(summary) => tracing::info!(summary, "scheduled backup done"),
                    Err(error) => tracing::warn!(%error, "scheduled backup failed"),
                }
                let run = Run::ended(UpkeepKind::Backup, node.clone(), started, result.as_ref().cloned(), Some(every));
                upkeep::record(&state.privileged, &run).await;
            }
            Err(error) => tracing::warn!(%error, "cannot tell whether a backup is due"),
        }
    })
    .await;
}

/// A backup, when the newest is older than `every` and no other node is taking one:
/// when it started and how it went. None when none was due.
async fn backup_if_due(
    state: &AppState,
    server: &backup::Server,
    every: std::time::Duration,
) -> Result<Option<(chrono::DateTime<Utc>, Result<String>)>> {
    let mut conn = state.privileged.acquire().await?;
    if !db::try_advisory_lock(&mut conn, BACKUP_LOCK).await? {
        return Ok(None);
    }
    let dir = &state.backups.dir;
    let due = backup::list(dir).map(|all| {
        all.last().is_none_or(|newest| (Utc::now() - newest.created_at).to_std().is_ok_and(|age| age >= every))
    });
    let taken = match due {
        Ok(true) => {
            let started = Utc::now();
            let result = backup::create(server, dir, Keep::ByRotation).await;
            Some((started, result.map(|(manifest, rotated)| upkeep::backup_summary(&manifest, &rotated))))
        }
        Ok(false) => None,
        Err(error) => Some((Utc::now(), Err(error))),
    };
    db::advisory_unlock(&mut conn, BACKUP_LOCK).await?;
    Ok(taken)
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
