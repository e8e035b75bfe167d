//! What the upkeep did and will do, and how large things are: the record of every upkeep
//! run (`upkeep_runs`: scheduled housekeeping and maintenance, `studyhall maintain`,
//! backups by hand, cron or `serve`), and the status administrators read at GET
//! /api/v1/admin/status and on the admin page: each kind's last and next run, the
//! database's and its largest tables' sizes, the backups this node can see, and what
//! needs attention, in words.

pub mod http;
mod store;
pub mod words;

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::{Error, Result};
use crate::states::{UpkeepKind, UpkeepOutcome};
use words::{ago, size};

/// One upkeep run, as recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Run {
    pub kind: UpkeepKind,
    /// The process that ran it: `host-pid` of a node, or `host (command line)`.
    pub node: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub outcome: UpkeepOutcome,
    /// What it did, why it was skipped, or what failed, in words.
    pub summary: String,
    /// When its node runs it next (None: nothing schedules it there).
    pub next_at: Option<DateTime<Utc>>,
}

impl Run {
    /// A run of `kind` by `node` since `started_at`, finished now: done with what `result`
    /// says it did, skipped when another was at it (Unavailable), or failed with the
    /// error; the node runs it again after `every` (if anything schedules it).
    pub fn ended(
        kind: UpkeepKind,
        node: String,
        started_at: DateTime<Utc>,
        result: std::result::Result<String, &Error>,
        every: Option<std::time::Duration>,
    ) -> Run {
        let (outcome, summary) = match result {
            Ok(summary) => (UpkeepOutcome::Done, summary),
            Err(Error::Unavailable(why)) => (UpkeepOutcome::Skipped, why.clone()),
            Err(error) => (UpkeepOutcome::Failed, error.to_string()),
        };
        let finished_at = Utc::now();
        let next_at = every.and_then(|every| Duration::from_std(every).ok()).map(|every| finished_at + every);
        Run { kind, node, started_at, finished_at, outcome, summary, next_at }
    }
}

/// Records `run`; a failure to record is logged, never the run's failure.
pub async fn record(pool: &PgPool, run: &Run) {
    let recorded = async { store::record(&mut *pool.acquire().await?, run).await }.await;
    if let Err(error) = recorded {
        tracing::warn!(%error, kind = %run.kind, "the upkeep run could not be recorded");
    }
}

fn host() -> String {
    nix::unistd::gethostname().ok().and_then(|name| name.into_string().ok()).unwrap_or_else(|| "node".to_owned())
}

/// This process as a node that runs upkeep: `host-pid`.
pub fn node() -> String {
    format!("{}-{}", host(), std::process::id())
}

/// This process as a one-off command: `host (command line)`.
pub fn command_line() -> String {
    format!("{} (command line)", host())
}

/// What `backup create` made, in words: "studyhall-20261207T031500Z: 4.20 MB, 27 tables,
/// with a base backup; rotated away 1 older backup".
pub fn backup_summary(manifest: &crate::backup::Manifest, rotated: &[String]) -> String {
    let base = if manifest.base.is_some() { ", with a base backup" } else { "" };
    let kept = match (&manifest.label, manifest.keep) {
        (Some(label), _) => format!(", kept by hand, labelled {label:?}"),
        (None, true) => ", kept by hand".to_owned(),
        (None, false) => String::new(),
    };
    let rotated = match rotated.len() {
        0 => String::new(),
        1 => "; rotated away 1 older backup".to_owned(),
        n => format!("; rotated away {n} older backups"),
    };
    format!("{}: {}, {} tables{base}{kept}{rotated}", manifest.name, size(manifest.bytes), manifest.tables.len())
}

/// Upkeep of one kind: its last run and the next.
#[derive(Serialize, ToSchema)]
pub struct Upkeep {
    /// The last run that was not skipped (else the last), if any.
    pub last: Option<Run>,
    /// The soonest next run any node announced at its last run.
    pub next_at: Option<DateTime<Utc>>,
    /// Seconds between runs on the node answering (0: it does not run them).
    pub every_secs: u64,
}

/// A table's size with its indexes and TOAST (a partitioned one's partitions summed).
#[derive(Serialize, ToSchema)]
pub struct TableSize {
    pub name: String,
    pub bytes: i64,
}

/// The database's size.
#[derive(Serialize, ToSchema)]
pub struct DatabaseSize {
    pub bytes: i64,
    /// The ten largest tables, largest first.
    pub largest_tables: Vec<TableSize>,
}

/// A backup as the status shows it.
#[derive(Serialize, ToSchema)]
pub struct BackupSummary {
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// The dump's size (its base backup not counted).
    pub bytes: u64,
    /// Why it is kept, as `studyhall backup list` says.
    pub kept: String,
}

/// The backups the node answering can see.
#[derive(Serialize, ToSchema)]
pub struct Backups {
    /// Where this node looks: STUDYHALL_BACKUP_DIR, or `backups/` in STUDYHALL_DATA.
    pub directory: String,
    /// Whether that directory is there on this node (false: backups are taken elsewhere,
    /// or none yet); the figures below are then empty.
    pub visible: bool,
    pub count: usize,
    /// Everything in the directory: dumps, manifests, base backups.
    pub total_bytes: u64,
    pub newest: Option<BackupSummary>,
    /// The embedded cluster's WAL archive (point-in-time recovery), when this node sees it.
    pub wal_archive_bytes: Option<u64>,
    /// Free space on the directory's filesystem, for studyhall's user.
    pub free_bytes: Option<u64>,
    /// Hours between the backups `serve` takes (STUDYHALL_BACKUP_HOURS; 0: none, they are
    /// taken by `studyhall backup create`, from cron).
    pub every_hours: u64,
    /// When `serve` takes the next (when it takes them).
    pub next_at: Option<DateTime<Utc>>,
    /// The last recorded `backup create` (by hand, cron or serve).
    pub last: Option<Run>,
}

/// Upkeep and sizes, for administrators.
#[derive(Serialize, ToSchema)]
pub struct Status {
    pub now: DateTime<Utc>,
    pub maintenance: Upkeep,
    pub housekeeping: Upkeep,
    pub backups: Backups,
    pub database: DatabaseSize,
    /// What needs an administrator: a failed or stale run, old or missing backups, a
    /// filling disk, each in words with what to do. Empty when all is well.
    pub attention: Vec<String>,
}

/// Backups older than this need attention.
const STALE_BACKUP: Duration = Duration::days(2);

/// The status as of now.
pub async fn status(state: &AppState) -> Result<Status> {
    let mut conn = state.privileged.acquire().await?;
    let last = store::last_runs(&mut conn).await?;
    let next = store::next_runs(&mut conn).await?;
    let database = DatabaseSize {
        bytes: store::database_bytes(&mut conn).await?,
        largest_tables: store::largest_tables(&mut conn, 10)
            .await?
            .into_iter()
            .map(|(name, bytes)| TableSize { name, bytes })
            .collect(),
    };
    drop(conn);
    let now = Utc::now();
    let upkeep = |kind: UpkeepKind, every_secs: u64| Upkeep {
        last: last.iter().find(|run| run.kind == kind).cloned(),
        next_at: next.iter().find(|(k, _)| *k == kind).map(|(_, at)| *at),
        every_secs,
    };
    // Only nodes that run job workers run these (a `serve` with STUDYHALL_WORKERS=0 does not).
    let runs = state.jobs.workers > 0;
    let maintenance = upkeep(UpkeepKind::Maintenance, if runs { state.maintain.interval_hours * 3600 } else { 0 });
    let housekeeping = upkeep(UpkeepKind::Housekeeping, if runs { state.learning.housekeeping_secs } else { 0 });
    let backups = backups(state, now, last.iter().find(|run| run.kind == UpkeepKind::Backup).cloned())?;
    let attention = attention(now, &maintenance, &housekeeping, &backups);
    Ok(Status { now, maintenance, housekeeping, backups, database, attention })
}

/// What the node sees of the backups.
fn backups(state: &AppState, now: DateTime<Utc>, last: Option<Run>) -> Result<Backups> {
    let place = &state.backups;
    let visible = place.dir.is_dir();
    let kept = if visible { crate::backup::kept(&place.dir, now)? } else { Vec::new() };
    let newest = kept.last().map(|(manifest, kept)| BackupSummary {
        name: manifest.name.clone(),
        created_at: manifest.created_at,
        bytes: manifest.bytes,
        kept: kept.as_ref().map_or_else(|| "not kept: the next prune deletes it".to_owned(), ToString::to_string),
    });
    let every = Duration::hours(i64::try_from(place.every_hours).unwrap_or(i64::MAX / 3600 / 1000));
    let next_at = (place.every_hours > 0).then(|| newest.as_ref().map_or(now, |n| (n.created_at + every).max(now)));
    Ok(Backups {
        directory: place.dir.display().to_string(),
        visible,
        count: kept.len(),
        total_bytes: if visible { tree_bytes(&place.dir) } else { 0 },
        newest,
        wal_archive_bytes: place.wal_archive.as_deref().filter(|dir| dir.is_dir()).map(tree_bytes),
        free_bytes: if visible { free_bytes(&place.dir) } else { None },
        every_hours: place.every_hours,
        next_at,
        last,
    })
}

/// The bytes of the files in `path` and below.
fn tree_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else { return 0 };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => tree_bytes(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

/// The space left for an unprivileged user on `path`'s filesystem.
#[allow(clippy::useless_conversion)] // u64 on Linux, narrower elsewhere
fn free_bytes(path: &Path) -> Option<u64> {
    let stats = nix::sys::statvfs::statvfs(path).ok()?;
    Some(u64::from(stats.blocks_available()).saturating_mul(u64::from(stats.fragment_size())))
}

/// What needs an administrator, in words.
fn attention(now: DateTime<Utc>, maintenance: &Upkeep, housekeeping: &Upkeep, backups: &Backups) -> Vec<String> {
    let mut out = Vec::new();
    let failed = |upkeep: &Upkeep| upkeep.last.as_ref().filter(|run| run.outcome == UpkeepOutcome::Failed).cloned();
    if let Some(run) = failed(maintenance) {
        out.push(format!(
            "The last maintenance failed {} on {}: {}. Run `studyhall maintain` to see what is wrong, fix it and run \
             it again: until then no partitions are made ahead and old data is kept.",
            ago(now, run.finished_at),
            run.node,
            run.summary
        ));
    } else if let Some(run) = maintenance.last.as_ref().filter(|run| {
        let every = Duration::seconds(i64::try_from(maintenance.every_secs).unwrap_or(i64::MAX / 2000));
        now - run.finished_at > Duration::days(2).max(every * 2)
    }) {
        out.push(format!(
            "Maintenance last ran {}: check that a node runs it (STUDYHALL_MAINTAIN_HOURS) or run `studyhall maintain` \
             daily from cron.",
            ago(now, run.finished_at)
        ));
    } else if maintenance.last.is_none() && maintenance.every_secs == 0 {
        out.push(
            "Maintenance has never run, and this node does not run it (STUDYHALL_MAINTAIN_HOURS is 0, or it runs no \
             job workers): run `studyhall maintain` daily from cron, or let a node run it."
                .to_owned(),
        );
    }
    if let Some(run) = failed(housekeeping) {
        out.push(format!(
            "The last housekeeping round failed {} on {}: {}. That node's log has the details.",
            ago(now, run.finished_at),
            run.node,
            run.summary
        ));
    }
    if let Some(run) = backups.last.as_ref().filter(|run| run.outcome == UpkeepOutcome::Failed) {
        out.push(format!(
            "The last backup failed {} on {}: {}. Run `studyhall backup create` to see what is wrong, fix it and run \
             it again.",
            ago(now, run.finished_at),
            run.node,
            run.summary
        ));
    }
    if backups.visible {
        match &backups.newest {
            None => out.push(
                "There is no backup yet: run `studyhall backup create`, and daily from cron (or set \
                 STUDYHALL_BACKUP_HOURS)."
                    .to_owned(),
            ),
            Some(newest) if now - newest.created_at > STALE_BACKUP => out.push(format!(
                "The newest backup, {}, was taken {}: backups have stopped. Check the cron job (or \
                 STUDYHALL_BACKUP_HOURS) and run `studyhall backup create`.",
                newest.name,
                ago(now, newest.created_at)
            )),
            Some(newest) => {
                if let Some(free) = backups.free_bytes.filter(|free| *free < newest.bytes.saturating_mul(2)) {
                    out.push(format!(
                        "The backup disk has {} free, less than two backups need ({} each): free space or move \
                         STUDYHALL_BACKUP_DIR.",
                        size(free),
                        size(newest.bytes)
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: UpkeepKind, outcome: UpkeepOutcome, finished_at: DateTime<Utc>, summary: &str) -> Run {
        let node = "web-1-42".to_owned();
        Run { kind, node, started_at: finished_at, finished_at, outcome, summary: summary.to_owned(), next_at: None }
    }

    fn backups(newest: Option<(DateTime<Utc>, u64)>, free: Option<u64>) -> Backups {
        Backups {
            directory: "/backups".to_owned(),
            visible: true,
            count: usize::from(newest.is_some()),
            total_bytes: 0,
            newest: newest.map(|(created_at, bytes)| BackupSummary {
                name: "studyhall-20261201T031500Z".to_owned(),
                created_at,
                bytes,
                kept: "the newest".to_owned(),
            }),
            wal_archive_bytes: None,
            free_bytes: free,
            every_hours: 0,
            next_at: None,
            last: None,
        }
    }

    #[test]
    fn failed_stale_and_missing_upkeep_is_called_out_in_words() {
        let now: DateTime<Utc> = "2026-12-07T12:00:00Z".parse().expect("a time");
        let upkeep = |last: Option<Run>, every_secs| Upkeep { last, next_at: None, every_secs };
        let fresh = backups(Some((now - Duration::hours(5), 1_000)), Some(1_000_000));
        let done = run(UpkeepKind::Maintenance, UpkeepOutcome::Done, now - Duration::hours(2), "nothing to do");
        let quiet = upkeep(None, 300);
        assert!(attention(now, &upkeep(Some(done.clone()), 86_400), &quiet, &fresh).is_empty());

        let failed = run(UpkeepKind::Maintenance, UpkeepOutcome::Failed, now - Duration::hours(3), "database: gone");
        let said = attention(now, &upkeep(Some(failed), 86_400), &quiet, &fresh);
        assert_eq!(said.len(), 1);
        assert!(
            said[0].starts_with("The last maintenance failed 3 hours ago on web-1-42: database: gone."),
            "{said:?}"
        );

        // Stale after two days, or two intervals when those are longer.
        let old = Run { finished_at: now - Duration::days(3), ..done };
        assert!(attention(now, &upkeep(Some(old.clone()), 86_400), &quiet, &fresh)[0].contains("last ran 3 days ago"));
        assert!(attention(now, &upkeep(Some(old), 72 * 3600), &quiet, &fresh).is_empty());
        assert!(attention(now, &upkeep(None, 0), &quiet, &fresh)[0].starts_with("Maintenance has never run"));

        let running = upkeep(Some(run(UpkeepKind::Maintenance, UpkeepOutcome::Done, now, "nothing to do")), 86_400);
        let said = attention(now, &running, &quiet, &backups(None, None));
        assert!(said[0].starts_with("There is no backup yet"), "{said:?}");
        let said = attention(now, &running, &quiet, &backups(Some((now - Duration::days(3), 1_000)), None));
        assert!(said[0].contains("was taken 3 days ago: backups have stopped"), "{said:?}");
        let said = attention(now, &running, &quiet, &backups(Some((now, 4_000_000)), Some(5_000_000)));
        assert!(said[0].starts_with("The backup disk has 5.00 MB free, less than two backups need (4.00 MB each)"));
    }
}
