//! Durable background jobs in PostgreSQL (the `jobs` table).
//!
//! A job is enqueued in the same transaction as the row it works on, so both exist or
//! neither does, and `pg_notify` (delivered at commit) wakes a worker at once. Workers
//! claim jobs with `FOR UPDATE SKIP LOCKED` under a lease: a job whose worker died
//! (even by `kill -9`) is claimed again once its lease runs out. A failed attempt is
//! retried after an exponential backoff; after the last attempt the job is `failed`
//! and its kind's failure handler records why (see [`kind`] and [`worker`]).

pub mod http;
pub mod kind;
pub mod worker;

use std::time::Duration;

use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::error::Result;

/// The channel workers listen on.
pub const CHANNEL: &str = "studyhall_jobs";

/// A claimed job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub user_id: Uuid,
    pub payload: Value,
    /// This attempt's number, from 1.
    pub attempts: i32,
    pub max_attempts: i32,
    /// What the job has done so far: the worker writes it to `jobs.progress`.
    #[sqlx(skip)]
    pub progress: Progress,
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
    sqlx::query("UPDATE jobs SET progress = $2 WHERE id = $1 AND status = 'running'")
        .bind(job)
        .bind(report)
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
    let id = sqlx::query_scalar(
        "WITH job AS (INSERT INTO jobs (kind, user_id, payload, max_attempts) VALUES ($1, $2, $3, $4) RETURNING id)
         SELECT id FROM job, pg_notify($5, $1)",
    )
    .bind(kind)
    .bind(user_id)
    .bind(payload)
    .bind(i32::try_from(max_attempts).unwrap_or(i32::MAX))
    .bind(CHANNEL)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// Claims the next due job for `worker`, leased for `lease`: a queued job whose time has
/// come, or a running one whose lease ran out (its worker is gone) with attempts left,
/// of a user with fewer than `per_user` jobs running (so that one learner's slow files
/// cannot hold every worker). The claim counts as an attempt.
pub async fn claim(privileged: &PgPool, worker: &str, lease: Duration, per_user: u32) -> Result<Option<Job>> {
    Ok(sqlx::query_as(
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
    )
    .bind(worker)
    .bind(lease.as_secs_f64())
    .bind(i64::from(per_user))
    .fetch_optional(privileged)
    .await?)
}

/// Frees at once the leases this host's dead processes held (a node killed and started
/// again), instead of waiting for them to run out: `is_alive` tells, from the pid in a
/// worker's name (`host-pid-n`), whether that process still runs. Returns how many.
pub async fn release_dead(privileged: &PgPool, host: &str, is_alive: impl Fn(i32) -> bool) -> Result<usize> {
    let holders: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT locked_by FROM jobs
          WHERE status = 'running' AND locked_until >= now() AND starts_with(locked_by, $1 || '-')",
    )
    .bind(host)
    .fetch_all(privileged)
    .await?;
    let dead: Vec<String> = holders
        .into_iter()
        .filter(|name| {
            let pid = name[host.len() + 1..].split('-').next().and_then(|pid| pid.parse::<i32>().ok());
            pid.is_some_and(|pid| !is_alive(pid))
        })
        .collect();
    let released = sqlx::query(
        "UPDATE jobs SET locked_until = now() - interval '1 second'
          WHERE status = 'running' AND locked_by = ANY($1)",
    )
    .bind(&dead)
    .execute(privileged)
    .await?;
    Ok(usize::try_from(released.rows_affected()).unwrap_or(usize::MAX))
}

/// Extends the lease of a job `worker` still holds; false if it holds it no more.
pub async fn extend_lease(privileged: &PgPool, job: Uuid, worker: &str, lease: Duration) -> Result<bool> {
    let extended = sqlx::query(
        "UPDATE jobs SET locked_until = now() + make_interval(secs => $3)
          WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(job)
    .bind(worker)
    .bind(lease.as_secs_f64())
    .execute(privileged)
    .await?;
    Ok(extended.rows_affected() == 1)
}

/// Marks a job done, with what it reports to its owner, and bumps the owner's write mark:
/// their next read waits for a replica to show what the job wrote (docs/scaling.md).
pub async fn complete(privileged: &PgPool, job: Uuid, result: Option<Value>) -> Result<()> {
    sqlx::query(
        "WITH done AS (
           UPDATE jobs SET status = 'done', finished_at = now(), locked_until = NULL, last_error = NULL, reason = NULL,
                           result = $2
            WHERE id = $1
           RETURNING user_id)
         SELECT studyhall_mark_write(user_id) FROM done WHERE user_id IS NOT NULL",
    )
    .bind(job)
    .bind(result)
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
    sqlx::query(
        "UPDATE jobs SET last_error = $2, reason = $4, locked_until = NULL,
                         status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
                         finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
                         run_at = now() + make_interval(secs => $3)
          WHERE id = $1",
    )
    .bind(job.id)
    .bind(error)
    .bind(delay)
    .bind(reason)
    .execute(privileged)
    .await?;
    Ok(())
}

/// Gives up jobs whose lease ran out on their last attempt (their worker died on it):
/// marks them failed and returns them, for their kinds' failure handlers.
pub async fn abandon_exhausted(privileged: &PgPool) -> Result<Vec<Job>> {
    Ok(sqlx::query_as(
        "UPDATE jobs SET status = 'failed', finished_at = now(), locked_until = NULL,
                         last_error = coalesce(last_error, 'the worker stopped during the last attempt'),
                         reason = coalesce(reason, 'The worker stopped during the last attempt.')
          WHERE status = 'running' AND locked_until < now() AND attempts >= max_attempts
          RETURNING id, kind, user_id, payload, attempts, max_attempts",
    )
    .fetch_all(privileged)
    .await?)
}
