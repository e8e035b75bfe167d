//! The generation job: read a ready material's chunks, run the generator, and store the
//! assets it makes, skipping any the material already has.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::builtin;
use super::openai;
use super::store;
use super::{ChunkInput, Draft, MaterialInput, Options};
use crate::app::AppState;
use crate::config::WorkerConfig;
use crate::db::tenant;
use crate::error::{Error, Result};
use crate::jobs::kind::JobKind;
use crate::jobs::{self, Job};
use crate::states::AssetType;

/// What a generation job makes, and with which generator: the job's payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub material_id: Uuid,
    pub asset_types: Vec<AssetType>,
    pub max_per_chunk: usize,
    #[serde(default)]
    pub provider: Provider,
}

/// The generators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Offline and deterministic (`builtin`).
    #[default]
    Builtin,
    /// The OpenAI-compatible endpoint the server is configured with (`openai`).
    Openai,
}

impl JobKind for Request {
    const NAME: &'static str = "generate_assets";

    fn time_limit(config: &WorkerConfig) -> Duration {
        Duration::from_secs(config.generate_timeout_secs)
    }

    async fn run(self, state: &AppState, job: &Job) -> Result<Option<Value>> {
        run(state, job, self).await
    }
}

/// Queues generation in the caller's transaction.
pub async fn enqueue(conn: &mut PgConnection, state: &AppState, user: Uuid, request: &Request) -> Result<Uuid> {
    jobs::enqueue(conn, Request::NAME, user, json!(request), state.jobs.max_attempts).await
}

/// Generates, then stores every asset in one statement: a job that fails stores nothing.
/// Reports how many assets were made and how many of them were new.
async fn run(state: &AppState, job: &Job, request: Request) -> Result<Option<Value>> {
    let mut tx = tenant::begin_as(&state.db, Some(job.user_id)).await?;
    let material = store::to_generate(&mut tx, job.user_id, request.material_id).await?;
    let Some(store::ToGenerate { difficulty_level: difficulty, metadata, preferences }) = material else {
        return Ok(None); // deleted, or being processed again, meanwhile: nothing to do
    };
    let to_review = super::review_new_items(preferences.as_ref());
    let chunks = store::chunks(&mut tx, request.material_id).await?;
    tx.commit().await?;

    let language = metadata.as_ref().and_then(|m| m["language"].as_str()).map(str::to_owned);
    let wants = |t| request.asset_types.contains(&t);
    let options = Options {
        flashcards: wants(AssetType::Flashcard),
        quizzes: wants(AssetType::Quiz),
        summaries: wants(AssetType::Summary),
        max_per_chunk: request.max_per_chunk,
    };
    let drafts: Vec<Draft> = match request.provider {
        Provider::Builtin => tokio::task::spawn_blocking({
            let progress = job.progress.clone();
            move || {
                let watch = |done, total| progress.set(json!({"stage": "reading", "done": done, "total": total}));
                builtin::generate_watched(&input(&chunks, language.as_deref(), difficulty.as_deref()), &options, &watch)
            }
        })
        .await
        .map_err(Error::failed("the generator panicked"))?,
        Provider::Openai => {
            let chat = state.llm.as_ref().ok_or_else(|| {
                Error::Upstream("The openai generator is no longer configured on this server.".to_owned())
            })?;
            let watch = |done, total| job.progress.set(json!({"stage": "asking", "done": done, "total": total}));
            openai::generate(chat, &input(&chunks, language.as_deref(), difficulty.as_deref()), &options, &watch)
                .await?
        }
    };
    job.progress.set(json!({"stage": "saving", "done": 0, "total": drafts.len()}));

    // All assets in one statement; those the material has already are skipped. Items
    // the checker scored under flaws::READY are drafts: no session serves them. A learner
    // who reviews new items gets the others as drafts "to review" too, until accepted.
    let mut tx = tenant::begin_as(&state.db, Some(job.user_id)).await?;
    let added = store::insert(&mut tx, request.material_id, job.id, &drafts, to_review).await?;
    tx.commit().await?;
    tracing::info!(material = %request.material_id, made = drafts.len(), added, "assets generated");
    Ok(Some(json!({"material_id": request.material_id, "made": drafts.len(), "added": added})))
}

fn input<'a>(chunks: &'a [store::Chunk], language: Option<&'a str>, difficulty: Option<&'a str>) -> MaterialInput<'a> {
    MaterialInput {
        language,
        difficulty,
        chunks: chunks
            .iter()
            .map(|c| ChunkInput {
                id: c.id,
                order: c.chunk_order,
                kind: &c.chunk_type,
                text: &c.content,
                summary: c.summary.as_deref().unwrap_or_default(),
                relevance: c.relevance_score.unwrap_or_default(),
                language: c.language.as_deref(),
                heading_path: &c.heading_path,
            })
            .collect(),
    }
}
