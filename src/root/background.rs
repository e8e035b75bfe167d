//! The background work of `serve` and `worker`: the job workers and the upkeep, started
//! together and stopped together.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{jobs, upkeep};
use crate::app::AppState;
use crate::config::WorkerConfig;
use crate::jobs::worker;

/// Running background tasks; [`Background::stop`] ends them.
pub struct Background {
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Background {
    /// Starts `config.workers` job workers, housekeeping and scheduled maintenance (none
    /// of them when it is 0).
    pub fn start(state: AppState, config: &WorkerConfig) -> Background {
        let (shutdown, stopping) = watch::channel(false);
        let mut tasks = JoinSet::new();
        if config.workers > 0 {
            worker::spawn(&mut tasks, &state, config, Arc::new(jobs::kinds()), &stopping);
            tasks.spawn(upkeep::housekeeping(state.clone(), stopping.clone()));
            tasks.spawn(upkeep::maintain(state, stopping));
        }
        Background { shutdown, tasks }
    }

    /// Also takes a backup whenever the newest is older than STUDYHALL_BACKUP_HOURS
    /// (`serve` only: it knows the database's tools), if that is set.
    pub fn take_backups(&mut self, state: AppState, server: crate::error::Result<crate::backup::Server>) {
        if state.backups.every_hours > 0 {
            self.tasks.spawn(upkeep::backups(state, server, self.shutdown.subscribe()));
        }
    }

    /// Runs the due jobs on the calling task until none is due, as a worker would
    /// (`jobs::worker::run_due`, with every registered kind); returns how many ran.
    pub async fn run_due(state: &AppState, config: &WorkerConfig) -> crate::error::Result<usize> {
        worker::run_due(state, config, Arc::new(jobs::kinds())).await
    }

    /// Asks every task to stop (a worker after its current job) and waits up to `grace`
    /// for them; a job still running then is claimed again once its lease runs out.
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.shutdown.send(true);
        if tokio::time::timeout(grace, async { while self.tasks.join_next().await.is_some() {} }).await.is_err() {
            tracing::warn!("job workers did not stop in time; their jobs will be retried after their lease");
            self.tasks.abort_all();
        }
    }
}
