//! Durable background jobs in PostgreSQL (the `jobs` table).
//!
//! A job is enqueued in the same transaction as the row it works on, so both exist or
//! neither does, and `pg_notify` (delivered at commit) wakes a worker at once. Workers
//! claim jobs with `FOR UPDATE SKIP LOCKED` under a lease: a job whose worker died
//! (even by `kill -9`) is claimed again once its lease runs out. A failed attempt is
//! retried after an exponential backoff; after the last attempt the job is `failed`
//! and its kind's failure handler records why (see [`kind`] and [`worker`]).

pub mod admin;
pub mod http;
pub mod kind;
pub mod worker;

use std::time::Duration;

use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::Result;
use crate::states::JobState;

/// The channel workers listen on.
pub const CHANNEL: &str = "studyhall_jobs";

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub user_id: Uuid,
    pub payload: Value,
    /// This attempt's number, from 1.
    pub attempts: i32,
    pub max_attempts: i32,
    /// What the job has done so far: the worker writes it to `jobs.progress`.
    pub progress: Progress,
}

/// A claimed job's row.
struct Claimed {
    id: Uuid,
    kind: String,
    user_id: Uuid,
    payload: Value,
    attempts: i32,
    max_attempts: i32,
}

impl From<Claimed> for Job {
    fn from(row: Claimed) -> Job {
        let Claimed { id, kind, user_id, payload, attempts, max_attempts } = row;
        Job { id, kind, user_id, payload, attempts, max_attempts, progress: Progress::default() }
    }
}

/// A running job's latest progress report, shared between the job (which sets it) and
/// its worker (which writes each new one to `jobs.progress` every half second).
#[derive(Debug, Clone, Default)]
pub struct Progress(std::sync::Arc<std::sync::Mutex<(u64, Option<Value>)>>);

impl Progress {
    /// Reports where the job is (the newest report wins).
    pub fn set(&self, report: Value) {
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.0 += 1;
        slot.1 = Some(report);
    }

    /// The newest report when it is newer than `seen` (a count of reports), with its count.
    fn newer_than(&self, seen: u64) -> Option<(u64, Value)> {
        let slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (slot.0 > seen).then(|| (slot.0, slot.1.clone().unwrap_or(Value::Null)))
    }
}

/// Writes a running job's progress report.
async fn record_progress(privileged: &PgPool, job: Uuid, report: &Value) -> Result<()> {
    sqlx::query!("UPDATE jobs SET progress = $2 WHERE id = $1 AND status = 'running'", job, report)
        .execute(privileged)
        .await?;
    Ok(())
}

impl Job {
    pub fn is_last_attempt(&self) -> bool {
        self.attempts >= self.max_attempts
    }
}

/// Adds a job to the queue inside `conn`'s transaction (as the job's user: the jobs
/// table has row-level security like every user table).
pub async fn enqueue(
    conn: &mut PgConnection,
    kind: &str,
    user_id: Uuid,
    payload: Value,
    max_attempts: u32,
) -> Result<Uuid> {
    let id = sqlx::query_scalar!(
        r#"WITH job AS (INSERT INTO jobs (kind, user_id, payload, max_attempts) VALUES ($1, $2, $3, $4) RETURNING id)
           SELECT id AS "id!" FROM job, pg_notify($5, $1)"#,
        kind,
        user_id,
        payload,
        i32::try_from(max_attempts).unwrap_or(i32::MAX),
        CHANNEL,
    )
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// How deep the queue is.
pub struct Depth {
    pub queued: i64,
    pub running: i64,
    /// How long the oldest queued job whose time has come has waited.
    pub oldest_seconds: f64,
}

/// The queue's [`Depth`] now.
pub async fn depth(privileged: &PgPool) -> Result<Depth> {
    Ok(sqlx::query_as!(
        Depth,
        r#"SELECT count(*) FILTER (WHERE status = 'queued') AS "queued!",
                  count(*) FILTER (WHERE status = 'running') AS "running!",
                  coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE status = 'queued' AND run_at <= now())),
                           0)::float8 AS "oldest_seconds!"
             FROM jobs WHERE status IN ('queued', 'running')"#
    )
    .fetch_one(privileged)
    .await?)
}

/// The user's job `id`, as its owner sees it; None if there is none.
#[tracing::instrument(skip(conn))]
pub async fn status(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<Option<http::JobStatus>> {
    Ok(sqlx::query_as!(
        http::JobStatus,
        r#"SELECT id, kind, status AS "status: JobState", attempts, max_attempts, result, progress, reason, run_at,
                  created_at, updated_at, finished_at
             FROM jobs WHERE id = $1 AND user_id = $2"#,
        id,
        user,
    )
    .fetch_optional(conn)
    .await?)
}

/// The user's job of `kind` waiting or running, if any.
#[tracing::instrument(skip(conn))]
pub async fn pending(conn: &mut PgConnection, user: Uuid, kind: &str) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar!(
        "SELECT id FROM jobs WHERE user_id = $1 AND kind = $2 AND status IN ('queued', 'running') LIMIT 1",
        user,
        kind,
    )
    .fetch_optional(conn)
    .await?)
}

/// Claims the next due job for `worker`, leased for `lease`: a queued job whose time has
/// come, or a running one whose lease ran out (its worker is gone) with attempts left,
/// of a user with fewer than `per_user` jobs running (so that one learner's slow files
/// cannot hold every worker). The claim counts as an attempt.
pub async fn claim(privileged: &PgPool, worker: &str, lease: Duration, per_user: u32) -> Result<Option<Job>> {
    let mut tx = privileged.begin().await?;
    // Claims take turns, so that the count of a user's running jobs sees the ones other
    // workers have just claimed: a concurrent claim is invisible until it commits, and
    // two idle workers took one learner's two slow pages at once (caught by
    // hostile::one_learners_slow_materials_do_not_hold_every_worker). A claim holds the
    // lock for one UPDATE.
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtextextended('studyhall.jobs.claim', 0))").execute(&mut *tx).await?;
    let claimed = sqlx::query_as!(
        Claimed,
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1,
                         locked_until = now() + make_interval(secs => $2)
          WHERE id = (SELECT j.id FROM jobs j
                       WHERE ((j.status = 'queued' AND j.run_at <= now())
                          OR (j.status = 'running' AND j.locked_until < now() AND j.attempts < j.max_attempts))
                         AND (SELECT count(*) FROM jobs r
                               WHERE r.user_id = j.user_id AND r.status = 'running' AND r.locked_until >= now()) < $3
                       ORDER BY j.run_at
                       LIMIT 1
                         FOR UPDATE SKIP LOCKED)
          RETURNING id, kind, user_id, payload, attempts, max_attempts",
        worker,
        lease.as_secs_f64(),
        i64::from(per_user),
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(claimed.map(Job::from))
}

/// Frees at once the leases this host's dead processes held (a node killed and started
/// again), instead of waiting for them to run out: `is_alive` tells, from the pid in a
/// worker's name (`host-pid-n`), whether that process still runs. Returns how many.
pub async fn release_dead(privileged: &PgPool, host: &str, is_alive: impl Fn(i32) -> bool) -> Result<usize> {
    let holders = sqlx::query_scalar!(
        r#"SELECT DISTINCT locked_by AS "locked_by!" FROM jobs
            WHERE status = 'running' AND locked_until >= now() AND starts_with(locked_by, $1 || '-')"#,
        host
    )
    .fetch_all(privileged)
    .await?;
    let dead: Vec<String> = holders
        .into_iter()
        .filter(|name| {
            let pid = name[host.len() + 1..].split('-').next().and_then(|pid| pid.parse::<i32>().ok());
            pid.is_some_and(|pid| !is_alive(pid))
        })
        .collect();
    let released = sqlx::query!(
        "UPDATE jobs SET locked_until = now() - interval '1 second'
          WHERE status = 'running' AND locked_by = ANY($1)",
        &dead
    )
    .execute(privileged)
    .await?;
    Ok(usize::try_from(released.rows_affected()).unwrap_or(usize::MAX))
}

/// Extends the lease of a job `worker` still holds; false if it holds it no more.
pub async fn extend_lease(privileged: &PgPool, job: Uuid, worker: &str, lease: Duration) -> Result<bool> {
    let extended = sqlx::query!(
        "UPDATE jobs SET locked_until = now() + make_interval(secs => $3)
          WHERE id = $1 AND locked_by = $2 AND status = 'running'",
        job,
        worker,
        lease.as_secs_f64(),
    )
    .execute(privileged)
    .await?;
    Ok(extended.rows_affected() == 1)
}

/// Marks a job done, with what it reports to its owner, and bumps the owner's write mark:
/// their next read waits for a replica to show what the job wrote (docs/scaling.md).
pub async fn complete(privileged: &PgPool, job: Uuid, result: Option<Value>) -> Result<()> {
    sqlx::query!(
        "WITH done AS (
           UPDATE jobs SET status = 'done', finished_at = now(), locked_until = NULL, last_error = NULL, reason = NULL,
                           result = $2
            WHERE id = $1
           RETURNING user_id)
         SELECT studyhall_mark_write(user_id) FROM done WHERE user_id IS NOT NULL",
        job,
        result,
    )
    .execute(privileged)
    .await?;
    Ok(())
}

/// Records a failed attempt: `error` in full for operators, `reason` for the job's owner.
/// The job is queued again after `backoff` times 2^(attempts-1), or, after its last
/// attempt, marked failed.
pub async fn record_failure(
    privileged: &PgPool,
    job: &Job,
    error: &str,
    reason: &str,
    backoff: Duration,
) -> Result<()> {
    let delay = backoff.as_secs_f64() * 2f64.powi(job.attempts.saturating_sub(1).min(16));
    sqlx::query!(
        "UPDATE jobs SET last_error = $2, reason = $4, locked_until = NULL,
                         status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                         finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
                         run_at = now() + make_interval(secs => $3)
          WHERE id = $1",
        job.id,
        error,
        delay,
        reason,
    )
    .execute(privileged)
    .await?;
    Ok(())
}

/// Gives up jobs whose lease ran out on their last attempt (their worker died on it):
/// marks them failed and returns them, for their kinds' failure handlers.
pub async fn abandon_exhausted(privileged: &PgPool) -> Result<Vec<Job>> {
    let given_up = sqlx::query_as!(
        Claimed,
        "UPDATE jobs SET status = 'failed', finished_at = now(), locked_until = NULL,
                         last_error = coalesce(last_error, 'the worker stopped during the last attempt'),
                         reason = coalesce(reason, 'The worker stopped during the last attempt.')
          WHERE status = 'running' AND locked_until < now() AND attempts >= max_attempts
          RETURNING id, kind, user_id, payload, attempts, max_attempts"
    )
    .fetch_all(privileged)
    .await?;
    Ok(given_up.into_iter().map(Job::from).collect())
}
