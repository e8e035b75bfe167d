//! Running jobs: the workers of `studyhall worker`, and those `serve` runs in-process.
//!
//! One task listens for notifications and wakes the workers; each worker claims a job,
//! keeps its lease alive while it runs, and records the outcome. Workers also poll, so
//! that jobs whose backoff or lease ran out are found without a notification.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::kind::Registry;
use super::{CHANNEL, Job};
use crate::app::AppState;
use crate::config::WorkerConfig;
use crate::error::Result;

/// Spawns onto `tasks` `config.workers` workers running the job kinds of `kinds`, the
/// task that wakes them and the one that frees the jobs of this host's dead processes
/// (none of them when it is 0); they stop, each after its current job, once `stopping`
/// turns true.
pub fn spawn(
    tasks: &mut JoinSet<()>,
    state: &AppState,
    config: &WorkerConfig,
    kinds: Arc<Registry>,
    stopping: &watch::Receiver<bool>,
) {
    if config.workers == 0 {
        return;
    }
    tasks.spawn(release_dead(state.clone()));
    let wake = Arc::new(Notify::new());
    tasks.spawn(listen(state.clone(), wake.clone(), stopping.clone()));
    for n in 0..config.workers {
        let name = format!("{}-{}-{n}", hostname(), std::process::id());
        let worker = Worker { state: state.clone(), config: config.clone(), kinds: kinds.clone(), name };
        tasks.spawn(worker.work(wake.clone(), stopping.clone()));
    }
    tracing::info!(workers = config.workers, "job workers started");
}

/// Runs the due jobs one after another on the calling task, with the workers' own code
/// (claim, lease, time limit, outcome), until none is due; returns how many ran. The
/// tests run the jobs they queued this way instead of waiting for workers; a job retried
/// after a failed attempt is due only after its backoff.
pub async fn run_due(state: &AppState, config: &WorkerConfig, kinds: Arc<Registry>) -> Result<usize> {
    let name = format!("{}-{}-inline", hostname(), std::process::id());
    let worker = Worker { state: state.clone(), config: config.clone(), kinds, name };
    let mut ran = 0;
    while worker.next().await? {
        ran += 1;
    }
    Ok(ran)
}

/// Frees the jobs an earlier process on this host held when it died (kill -9, a crash),
/// so that they resume now rather than when their leases run out.
async fn release_dead(state: AppState) {
    let me = std::process::id();
    let is_alive = |pid: i32| {
        // Our own pid held nothing yet: a holder with it was an earlier process (pids are
        // reused, in containers almost always).
        u32::try_from(pid).is_ok_and(|pid| pid != me)
            && !matches!(nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None), Err(nix::errno::Errno::ESRCH))
    };
    match super::release_dead(&state.privileged, &hostname(), is_alive).await {
        Ok(0) => {}
        Ok(released) => tracing::info!(released, "resuming the jobs of a process of this host that died"),
        Err(error) => tracing::warn!(%error, "freeing the jobs of dead processes failed"),
    }
}

fn hostname() -> String {
    nix::unistd::gethostname().ok().and_then(|name| name.into_string().ok()).unwrap_or_else(|| "worker".to_owned())
}

/// Wakes the workers on every notification; reconnects after a lost connection.
async fn listen(state: AppState, wake: Arc<Notify>, mut stopping: watch::Receiver<bool>) {
    while !*stopping.borrow() {
        let listening = async {
            let mut listener = PgListener::connect_with(&state.privileged).await?;
            listener.listen(CHANNEL).await?;
            loop {
                listener.recv().await?;
                wake.notify_waiters();
            }
        };
        tokio::select! {
            result = listening => {
                let error: sqlx::Error = match result { Err(error) => error, Ok::<(), _>(()) => continue };
                tracing::warn!(%error, "job notifications lost; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            _ = stopping.changed() => {}
        }
    }
}

/// One worker: it claims jobs as `name` and runs them through `kinds`.
struct Worker {
    state: AppState,
    config: WorkerConfig,
    kinds: Arc<Registry>,
    name: String,
}

impl Worker {
    async fn work(self, wake: Arc<Notify>, mut stopping: watch::Receiver<bool>) {
        while !*stopping.borrow() {
            // Registered before looking for work, so a notification in between is not lost.
            let woken = wake.notified();
            match self.next().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "looking for jobs failed"),
            }
            tokio::select! {
                () = woken => {}
                () = tokio::time::sleep(self.config.poll_interval()) => {}
                _ = stopping.changed() => {}
            }
        }
    }

    /// Runs one job if there is one due; false when there was none.
    async fn next(&self) -> Result<bool> {
        let (state, config) = (&self.state, &self.config);
        for job in super::abandon_exhausted(&state.privileged).await? {
            self.give_up(&job, "the worker stopped during the last attempt").await;
        }
        let Some(job) = super::claim(&state.privileged, &self.name, config.lease(), config.jobs_per_user).await? else {
            return Ok(false);
        };
        let span =
            tracing::info_span!("job", id = %job.id, kind = %job.kind, attempt = job.attempts, user_id = %job.user_id);
        let _entered = span.enter();
        let heartbeat =
            AbortOnDrop(tokio::spawn(keep_leased(state.clone(), job.id, self.name.clone(), config.lease())));
        let reports = AbortOnDrop(tokio::spawn(report_progress(state.clone(), job.id, job.progress.clone())));
        // Run on a task of its own, so that a panic is one failed attempt, not a dead worker;
        // aborted with this worker (a document reader it started is killed with it).
        let limit = self.kinds.time_limit(&job, config);
        let task = AbortOnDrop(tokio::spawn(self.kinds.run(state.clone(), job.clone())));
        let outcome = tokio::time::timeout(limit, task).await;
        drop(heartbeat);
        drop(reports);
        // The last report, which a quick job makes before the reporter's first write.
        if let Some((_, report)) = job.progress.newer_than(0)
            && let Err(error) = super::record_progress(&state.privileged, job.id, &report).await
        {
            tracing::warn!(%error, "recording a job's progress failed");
        }
        let Ok(outcome) = outcome else {
            let why = format!("the job took longer than {} s", limit.as_secs());
            self.failed(&job, &why, &why).await?;
            return Ok(true);
        };
        match outcome {
            Ok(Ok(result)) => {
                super::complete(&state.privileged, job.id, result).await?;
                metrics::counter!("studyhall_jobs_completed_total", "kind" => job.kind.clone()).increment(1);
                tracing::info!("job done");
            }
            Ok(Err(error)) => {
                let shown =
                    error.client_message().unwrap_or_else(|| "an internal error (see the server log)".to_owned());
                self.failed(&job, &error.to_string(), &shown).await?
            }
            Err(panic) => self.failed(&job, &format!("the job panicked: {panic}"), "an internal error").await?,
        }
        Ok(true)
    }

    /// Records a failed attempt: `error` in full for operators, `shown` (safe for users)
    /// for the job's owner and, after the last attempt, its kind's failure handler.
    async fn failed(&self, job: &Job, error: &str, shown: &str) -> Result<()> {
        tracing::warn!(error, last = job.is_last_attempt(), "job attempt failed");
        let last = if job.is_last_attempt() { "true" } else { "false" };
        metrics::counter!("studyhall_jobs_failed_attempts_total", "kind" => job.kind.clone(), "last" => last)
            .increment(1);
        super::record_failure(&self.state.privileged, job, error, shown, self.config.backoff()).await?;
        if job.is_last_attempt() {
            self.give_up(job, shown).await;
        }
        Ok(())
    }

    /// What the job's failure means for the rows it works on, as its kind says.
    async fn give_up(&self, job: &Job, reason: &str) {
        if let Err(error) = self.kinds.give_up(&self.state, job, reason).await {
            tracing::error!(%error, job = %job.id, "recording a job's failure failed");
        }
    }
}

/// A task that ends when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = std::result::Result<T, tokio::task::JoinError>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

/// Writes each new progress report of a running job, at most every half second.
async fn report_progress(state: AppState, job: uuid::Uuid, progress: super::Progress) {
    let mut ticks = tokio::time::interval(Duration::from_millis(500));
    let mut seen = 0;
    loop {
        ticks.tick().await;
        if let Some((count, report)) = progress.newer_than(seen) {
            seen = count;
            if let Err(error) = super::record_progress(&state.privileged, job, &report).await {
                tracing::warn!(%error, "recording a job's progress failed");
            }
        }
    }
}

async fn keep_leased(state: AppState, job: uuid::Uuid, worker: String, lease: Duration) {
    let mut ticks = tokio::time::interval(lease / 3);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        if let Err(error) = super::extend_lease(&state.privileged, job, &worker, lease).await {
            tracing::warn!(%error, "extending a job's lease failed");
        }
    }
}
