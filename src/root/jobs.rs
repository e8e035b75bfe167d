//! The job kinds the workers run.

use std::time::Duration;

use serde_json::Value;

use crate::app::AppState;
use crate::config::WorkerConfig;
use crate::error::Result;
use crate::generate;
use crate::jobs::Job;
use crate::jobs::kind::{JobKind, Registry};
use crate::materials::ingest::IngestMaterial;

pub fn kinds() -> Registry {
    Registry::default().register::<IngestMaterial>().register::<generate::job::Request>()
}

// The generation job. Its place is generate/job.rs, beside the ingestion job's in
// materials/ingest.rs; it is here until the generator work under way there lands.
impl JobKind for generate::job::Request {
    const NAME: &'static str = generate::job::JOB;

    fn time_limit(config: &WorkerConfig) -> Duration {
        Duration::from_secs(config.generate_timeout_secs)
    }

    async fn run(self, state: &AppState, job: &Job) -> Result<Option<Value>> {
        generate::job::run(state, job).await
    }
}
