//! `studyhall maintain`: partition upkeep and the spec's retention policy.
//!
//! A run first works out a [`Plan`] (reading only), then, unless it is a dry run, carries
//! out each action in a transaction of its own, logged and audited with its row counts:
//!
//! 1. monthly partitions for the current month and `months_ahead` after it, and for every
//!    month that has rows in a DEFAULT partition (which moves them into it);
//! 2. `interactions`: whole months older than a year are rolled up into
//!    `progress_metrics` and dropped; for inactive learners (no sign-in for six months)
//!    the answers older than six months are rolled up and deleted in batches;
//! 3. `learning_sessions.session_data` older than six months: a session's accuracy is
//!    kept as a metric, then the data is cleared;
//! 4. `audit_logs` months older than two years are detached into the read-only `archive`
//!    schema and, with an archive directory, exported (CSV, zstd, SHA-256 manifest);
//! 5. `progress_metrics` months older than five years are dropped;
//! 6. spent rows are purged: idempotency keys after a week, finished jobs after 30 days,
//!    sign-in throttling records a day after they last mattered, the record of upkeep
//!    runs after 90 days (housekeeping rounds after 7).
//!
//! Only whole months are detached or dropped; per-learner rules delete in batches. A run
//! takes an advisory lock, so two never overlap; a second run right after a first finds
//! nothing to do.

pub mod archive;
mod store;

use std::fmt;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::audit::{Change, Work};
use crate::config::MaintainConfig;
use crate::db;
use crate::error::{Error, Result};
use crate::http::extract::Client;
use crate::progress::{self, rollup};

/// The time-partitioned tables and their partition keys.
pub const PARTITIONED: [(&str, &str); 3] =
    [("audit_logs", "created_at"), ("interactions", "created_at"), ("progress_metrics", "recorded_at")];

const AUDIT_MONTHS: u32 = 24;
const INTERACTION_MONTHS: u32 = 12;
const INACTIVE_INTERACTION_MONTHS: u32 = 6;
/// A learner is inactive after this long without signing in.
const INACTIVE_AFTER_MONTHS: u32 = 6;
const SESSION_DATA_MONTHS: u32 = 6;
const PROGRESS_MONTHS: u32 = 60;
/// The advisory lock a run holds.
const LOCK: &str = "studyhall.maintain";
/// Rows a per-learner delete removes per statement.
const BATCH: i64 = 5000;

/// One thing a run does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create `table`'s partition of `month`, moving its `strays` out of DEFAULT.
    CreatePartition { table: &'static str, month: NaiveDate, strays: i64 },
    /// Roll up and drop a month of interactions.
    DropInteractions { month: NaiveDate, rows: i64, learners: i64 },
    /// Roll up and delete inactive learners' answers older than the cutoff.
    DeleteInactiveInteractions { learners: Vec<Uuid>, rows: i64 },
    /// Keep old sessions' accuracy as metrics, then clear their session_data.
    ClearSessionData { sessions: i64 },
    /// Detach a month of audit_logs into the archive schema.
    ArchiveAudit { month: NaiveDate, rows: i64 },
    /// Export an archived month to the archive directory.
    ExportArchive { table: String },
    /// Drop a month of progress_metrics.
    DropProgress { month: NaiveDate, rows: i64 },
    /// Delete spent rows of a housekeeping table.
    Purge { table: &'static str, rows: i64 },
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let month = |m: &NaiveDate| m.format("%Y-%m").to_string();
        match self {
            Action::CreatePartition { table, month: m, strays } => {
                write!(f, "create partition {table} {} (moving {strays} row(s) out of DEFAULT)", month(m))
            }
            Action::DropInteractions { month: m, rows, learners } => {
                write!(f, "roll up and drop interactions {}: {rows} row(s) of {learners} learner(s)", month(m))
            }
            Action::DeleteInactiveInteractions { learners, rows } => write!(
                f,
                "roll up and delete {rows} interaction(s) older than {INACTIVE_INTERACTION_MONTHS} months of {} inactive learner(s)",
                learners.len()
            ),
            Action::ClearSessionData { sessions } => {
                write!(
                    f,
                    "keep accuracy and clear session_data of {sessions} session(s) older than {SESSION_DATA_MONTHS} months"
                )
            }
            Action::ArchiveAudit { month: m, rows } => {
                write!(f, "archive audit_logs {} ({rows} row(s)) into archive.audit_logs_{}", month(m), suffix(m))
            }
            Action::ExportArchive { table } => write!(f, "export archive.{table}"),
            Action::DropProgress { month: m, rows } => write!(f, "drop progress_metrics {} ({rows} row(s))", month(m)),
            Action::Purge { table, rows } => write!(f, "purge {rows} spent row(s) of {table}"),
        }
    }
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::CreatePartition { .. } => "maintain.create_partition",
            Action::DropInteractions { .. } => "maintain.drop_interactions",
            Action::DeleteInactiveInteractions { .. } => "maintain.delete_inactive_interactions",
            Action::ClearSessionData { .. } => "maintain.clear_session_data",
            Action::ArchiveAudit { .. } => "maintain.archive_audit_logs",
            Action::ExportArchive { .. } => "maintain.export_archive",
            Action::DropProgress { .. } => "maintain.drop_progress_metrics",
            Action::Purge { .. } => "maintain.purge",
        }
    }
}

/// What a run will do, in order, as of `now`.
#[derive(Debug)]
pub struct Plan {
    pub now: DateTime<Utc>,
    pub actions: Vec<Action>,
}

/// `yYYYYmMM`, the suffix of a month's partition.
fn suffix(month: &NaiveDate) -> String {
    format!("y{:04}m{:02}", month.year(), month.month())
}

fn month_start(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive().with_day(1).expect("the first of a month exists")
}

fn months_before(now: DateTime<Utc>, months: u32) -> NaiveDate {
    month_start(now).checked_sub_months(Months::new(months)).expect("a date in range")
}

fn at(month: NaiveDate) -> DateTime<Utc> {
    month.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The months `table` has a partition for.
async fn partition_months(conn: &mut PgConnection, table: &str) -> Result<Vec<NaiveDate>> {
    let names = store::partitions(conn, table).await?;
    let prefix = format!("{table}_y");
    Ok(names
        .iter()
        .filter_map(|name| {
            let rest = name.strip_prefix(&prefix)?;
            let (year, month) = rest.split_once('m')?;
            NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)
        })
        .collect())
}

/// Works out what a run would do now; changes nothing.
pub async fn plan(conn: &mut PgConnection, config: &MaintainConfig) -> Result<Plan> {
    let now = store::now(conn).await?;
    let mut actions = Vec::new();
    // Month partitions each table has or will have after step 1.
    let mut months: Vec<(&'static str, Vec<NaiveDate>)> = Vec::new();
    for (table, key) in PARTITIONED {
        let mut existing = partition_months(conn, table).await?;
        let strays = store::strays(conn, table, key).await?;
        let ahead = (0..=config.months_ahead).map(|n| month_start(now) + Months::new(n));
        let mut wanted: Vec<(NaiveDate, i64)> = strays;
        wanted.extend(ahead.map(|m| (m, 0)));
        wanted.sort();
        wanted.dedup_by_key(|(m, _)| *m);
        for (month, strays) in wanted {
            if !existing.contains(&month) {
                actions.push(Action::CreatePartition { table, month, strays });
                existing.push(month);
            }
        }
        existing.sort();
        months.push((table, existing));
    }
    let of = |table: &str| months.iter().find(|(t, _)| *t == table).map(|(_, m)| m.clone()).unwrap_or_default();
    let bounds = |month: NaiveDate| (at(month), at(month + Months::new(1)));

    // 2. Interactions: whole months past a year, then inactive learners' older answers;
    // both are rolled up first, so progress_metrics needs those months' partitions (and
    // the month before each, where a week starting in it is filed).
    let interaction_cutoff = months_before(now, INTERACTION_MONTHS);
    let mut aggregated: Vec<NaiveDate> = Vec::new();
    let mut step = Vec::new();
    for month in of("interactions").into_iter().filter(|m| *m + Months::new(1) <= interaction_cutoff) {
        let (lo, hi) = bounds(month);
        let (rows, learners) = store::interactions_between(conn, lo, hi).await?;
        step.push(Action::DropInteractions { month, rows, learners });
        aggregated.push(month);
    }
    let (inactive_cutoff, older_than) = inactive_bounds(now);
    let inactive = store::inactive_learners(conn, inactive_cutoff, older_than, at(interaction_cutoff)).await?;
    if !inactive.is_empty() {
        step.push(Action::DeleteInactiveInteractions {
            rows: inactive.iter().map(|(_, n)| n).sum(),
            learners: inactive.into_iter().map(|(u, _)| u).collect(),
        });
        let mut month = interaction_cutoff;
        while at(month) < older_than {
            aggregated.push(month);
            month = month + Months::new(1);
        }
    }
    let mut progress = of("progress_metrics");
    let mut needed: Vec<NaiveDate> =
        aggregated.iter().flat_map(|m| [*m - Months::new(1), *m]).filter(|m| !progress.contains(m)).collect();
    needed.sort();
    needed.dedup();
    for month in needed {
        actions.push(Action::CreatePartition { table: "progress_metrics", month, strays: 0 });
        progress.push(month);
    }
    actions.extend(step);

    // 3. Old session data.
    let sessions = store::sessions_with_data(conn, at(months_before(now, SESSION_DATA_MONTHS))).await?;
    if sessions > 0 {
        actions.push(Action::ClearSessionData { sessions });
    }

    // 4. The audit trail's old months, into the archive.
    let audit_cutoff = months_before(now, AUDIT_MONTHS);
    for month in of("audit_logs").into_iter().filter(|m| *m + Months::new(1) <= audit_cutoff) {
        let (lo, hi) = bounds(month);
        let rows = store::audit_rows_between(conn, lo, hi).await?;
        actions.push(Action::ArchiveAudit { month, rows });
    }
    if let Some(dir) = &config.archive_dir {
        let archived = store::archived_tables(conn).await?;
        let exported = archive::exported(dir)?;
        let planned = actions.iter().filter_map(|a| match a {
            Action::ArchiveAudit { month, .. } => Some(format!("audit_logs_{}", suffix(month))),
            _ => None,
        });
        let mut tables: Vec<String> = archived.into_iter().chain(planned).collect();
        tables.sort();
        tables.dedup();
        actions
            .extend(tables.into_iter().filter(|t| !exported.contains(t)).map(|table| Action::ExportArchive { table }));
    }

    // 5. Progress metrics past five years.
    let progress_cutoff = months_before(now, PROGRESS_MONTHS);
    progress.sort();
    for month in progress.into_iter().filter(|m| *m + Months::new(1) <= progress_cutoff) {
        let (lo, hi) = bounds(month);
        let rows = store::progress_rows_between(conn, lo, hi).await?;
        actions.push(Action::DropProgress { month, rows });
    }

    // 6. Spent rows.
    for (table, condition) in PURGES {
        let rows = store::count_where(conn, table, condition).await?;
        if rows > 0 {
            actions.push(Action::Purge { table, rows });
        }
    }
    Ok(Plan { now, actions })
}

/// (signed in last before this: inactive; answers older than this go), for inactive learners.
fn inactive_bounds(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let months = |n: u32| now.checked_sub_months(Months::new(n)).expect("a date in range");
    (months(INACTIVE_AFTER_MONTHS), months(INACTIVE_INTERACTION_MONTHS))
}

/// Housekeeping tables and when their rows are spent.
const PURGES: [(&str, &str); 4] = [
    ("idempotency_keys", "created_at < now() - interval '7 days'"),
    (
        "upkeep_runs",
        "finished_at < now() - CASE WHEN kind = 'housekeeping' THEN interval '7 days' ELSE interval '90 days' END",
    ),
    ("jobs", "status IN ('done', 'failed') AND finished_at < now() - interval '30 days'"),
    (
        "auth_throttle",
        "window_started_at < now() - interval '1 day' AND coalesce(blocked_until, '-infinity') < now() - interval '1 day'",
    ),
];

/// What a run did: each action with the rows it touched.
#[derive(Debug, Default)]
pub struct Report {
    pub done: Vec<(Action, u64)>,
}

impl Report {
    /// What the run did, in a few words: "created 3 partitions, purged 12 spent rows", or
    /// "nothing to do".
    pub fn summary(&self) -> String {
        let actions = |name: &str| self.done.iter().filter(|(a, _)| a.name() == name).count() as u64;
        let rows = |name: &str| self.done.iter().filter(|(a, _)| a.name() == name).map(|(_, rows)| rows).sum::<u64>();
        crate::upkeep::words::did(&[
            (actions("maintain.create_partition"), "created", "partition", "partitions"),
            (actions("maintain.drop_interactions"), "rolled up and dropped", "month of answers", "months of answers"),
            (
                rows("maintain.delete_inactive_interactions"),
                "deleted",
                "old answer of inactive learners",
                "old answers of inactive learners",
            ),
            (rows("maintain.clear_session_data"), "cleared the data of", "old session", "old sessions"),
            (actions("maintain.archive_audit_logs"), "archived", "audit month", "audit months"),
            (actions("maintain.export_archive"), "exported", "archive", "archives"),
            (
                actions("maintain.drop_progress_metrics"),
                "dropped",
                "month of progress figures",
                "months of progress figures",
            ),
            (rows("maintain.purge"), "purged", "spent row", "spent rows"),
        ])
    }
}

/// Plans and (unless `dry_run`) carries out a run, under the maintenance lock. Prints
/// nothing; the caller shows the plan or the report.
pub async fn run(pool: &PgPool, config: &MaintainConfig, dry_run: bool) -> Result<(Plan, Report)> {
    let mut conn = pool.acquire().await?;
    if !db::try_advisory_lock(&mut conn, LOCK).await? {
        return Err(Error::Unavailable("another maintenance run is under way".to_owned()));
    }
    let result = async {
        let plan = plan(&mut conn, config).await?;
        let mut report = Report::default();
        if !dry_run {
            for action in &plan.actions {
                let rows = apply(pool, config, &plan, action).await?;
                tracing::info!(action = %action, rows, "maintenance action done");
                metrics::counter!("studyhall_maintain_actions_total", "action" => action.name()).increment(1);
                metrics::counter!("studyhall_maintain_rows_total", "action" => action.name()).increment(rows);
                report.done.push((action.clone(), rows));
            }
        }
        Ok((plan, report))
    }
    .await;
    db::advisory_unlock(&mut conn, LOCK).await?;
    if !dry_run {
        let outcome = if result.is_ok() { "ok" } else { "failed" };
        metrics::counter!("studyhall_maintain_runs_total", "result" => outcome).increment(1);
        if result.is_ok() {
            metrics::gauge!("studyhall_maintain_last_success_timestamp_seconds")
                .set(chrono::Utc::now().timestamp() as f64);
        }
    }
    result
}

/// Carries out one action as an audited unit of work (its own transaction, with its
/// audit row; a failure recorded too); returns the rows it touched.
async fn apply(pool: &PgPool, config: &MaintainConfig, plan: &Plan, action: &Action) -> Result<u64> {
    let nobody = Client::default();
    let work = Work::new(pool, &nobody, action.name(), "table");
    work.change(async |tx| {
        let rows = perform(tx, config, plan, action).await?;
        Ok((rows, Change::created(json!({"action": action.to_string(), "rows": rows}))))
    })
    .await
}

/// What an action does, in `tx`; returns the rows it touched.
async fn perform(tx: &mut PgConnection, config: &MaintainConfig, plan: &Plan, action: &Action) -> Result<u64> {
    Ok(match action {
        Action::CreatePartition { table, month, .. } => {
            store::create_partition(tx, table, *month).await?;
            let moved = store::count(tx, &format!("{table}_{}", suffix(month))).await?;
            moved as u64
        }
        Action::DropInteractions { month, .. } => {
            let (lo, hi) = (at(*month), at(*month + Months::new(1)));
            let learners = progress::store::learners(tx, lo, Some(hi)).await?;
            for learner in &learners {
                rollup::rollup(tx, *learner, lo, hi).await?;
            }
            store::unlink_feedback(tx, lo, hi).await?;
            let partition = format!("interactions_{}", suffix(month));
            let rows = store::count(tx, &partition).await?;
            store::drop_partition(tx, "interactions", &partition).await?;
            rows as u64
        }
        Action::DeleteInactiveInteractions { learners, .. } => {
            let (_, older_than) = inactive_bounds(plan.now);
            let from = at(months_before(plan.now, INTERACTION_MONTHS));
            for learner in learners {
                rollup::rollup(tx, *learner, from, older_than).await?;
            }
            store::unlink_feedback_of(tx, learners, older_than).await?;
            let mut deleted = 0;
            loop {
                let batch = store::delete_interactions(tx, learners, older_than, BATCH).await?;
                deleted += batch;
                if batch == 0 {
                    break;
                }
            }
            deleted
        }
        Action::ClearSessionData { .. } => {
            store::clear_session_data(tx, at(months_before(plan.now, SESSION_DATA_MONTHS))).await?
        }
        Action::ArchiveAudit { month, .. } => {
            let partition = format!("audit_logs_{}", suffix(month));
            let rows = store::count(tx, &partition).await?;
            store::archive_audit_partition(tx, &partition).await?;
            rows as u64
        }
        Action::ExportArchive { table } => {
            let dir =
                config.archive_dir.as_deref().ok_or_else(|| Error::Internal("no archive directory".to_owned()))?;
            archive::export(tx, table, dir).await?
        }
        Action::DropProgress { month, .. } => {
            let partition = format!("progress_metrics_{}", suffix(month));
            let rows = store::count(tx, &partition).await?;
            store::drop_partition(tx, "progress_metrics", &partition).await?;
            rows as u64
        }
        Action::Purge { table, .. } => {
            let condition = PURGES.iter().find(|(t, _)| t == table).map_or("false", |(_, c)| *c);
            store::delete_where(tx, table, condition).await?
        }
    })
}
