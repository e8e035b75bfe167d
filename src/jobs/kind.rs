//! Job kinds. Each area's job is a type: its payload, serialized into `jobs.payload`,
//! with the kind's name and what running it (and giving it up) does. The composition
//! root registers every kind (`root/jobs.rs`); the workers run a claimed job through
//! the registry by its name.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Job;
use crate::app::AppState;
use crate::config::WorkerConfig;
use crate::error::{Error, Result};

/// A kind of job; the type is its payload.
pub trait JobKind: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The name in `jobs.kind`.
    const NAME: &'static str;

    /// How long one attempt may run.
    fn time_limit(config: &WorkerConfig) -> Duration;

    /// Does the job; what it returns is reported to its owner.
    fn run(self, state: &AppState, job: &Job) -> impl Future<Output = Result<Option<Value>>> + Send;

    /// After the last attempt failed, with why (safe to show): what that means for the
    /// rows the job works on.
    fn give_up(self, state: &AppState, job: &Job, reason: &str) -> impl Future<Output = Result<()>> + Send {
        let _ = (state, job, reason);
        async { Ok(()) }
    }
}

/// A registered kind, its payload type erased.
struct Entry {
    time_limit: fn(&WorkerConfig) -> Duration,
    run: fn(AppState, Job) -> BoxFuture<'static, Result<Option<Value>>>,
    give_up: for<'a> fn(&'a AppState, &'a Job, &'a str) -> BoxFuture<'a, Result<()>>,
}

/// The job kinds workers run, by name.
#[derive(Default)]
pub struct Registry(HashMap<&'static str, Entry>);

impl Registry {
    pub fn register<K: JobKind>(mut self) -> Self {
        let entry = Entry { time_limit: K::time_limit, run: run::<K>, give_up: give_up::<K> };
        assert!(self.0.insert(K::NAME, entry).is_none(), "job kind {} registered twice", K::NAME);
        self
    }

    /// How long an attempt of `job` may run: unlimited for a kind this registry does not
    /// know, which fails at once.
    pub fn time_limit(&self, job: &Job, config: &WorkerConfig) -> Duration {
        self.0.get(job.kind.as_str()).map_or(Duration::MAX, |kind| (kind.time_limit)(config))
    }

    /// Runs `job` as its kind says.
    pub fn run(&self, state: AppState, job: Job) -> BoxFuture<'static, Result<Option<Value>>> {
        match self.0.get(job.kind.as_str()) {
            Some(kind) => (kind.run)(state, job),
            None => Box::pin(async move { Err(Error::Internal(format!("no such job kind: {}", job.kind))) }),
        }
    }

    /// What `job`'s kind does when it is given up.
    pub async fn give_up(&self, state: &AppState, job: &Job, reason: &str) -> Result<()> {
        match self.0.get(job.kind.as_str()) {
            Some(kind) => (kind.give_up)(state, job, reason).await,
            None => Ok(()),
        }
    }
}

fn payload<K: JobKind>(job: &Job) -> Result<K> {
    serde_json::from_value(job.payload.clone()).map_err(Error::failed(format!("job {} has a bad payload", job.id)))
}

fn run<K: JobKind>(state: AppState, job: Job) -> BoxFuture<'static, Result<Option<Value>>> {
    Box::pin(async move { payload::<K>(&job)?.run(&state, &job).await })
}

fn give_up<'a, K: JobKind>(state: &'a AppState, job: &'a Job, reason: &'a str) -> BoxFuture<'a, Result<()>> {
    Box::pin(async move { payload::<K>(job)?.give_up(state, job, reason).await })
}
