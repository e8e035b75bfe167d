//! The ingestion job: read a material's source, run the pipeline, and replace its chunks.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::fetch::{self, FetchError};
use super::pipeline::{Ingested, extract};
use super::sandbox;
use super::store::{self, Origin};
use crate::app::AppState;
use crate::config::WorkerConfig;
use crate::db::tenant;
use crate::error::{Error, Result};
use crate::jobs::kind::JobKind;
use crate::jobs::{self, Job};

/// The ingestion job: its payload.
#[derive(Serialize, Deserialize)]
pub struct IngestMaterial {
    pub material_id: Uuid,
}

impl JobKind for IngestMaterial {
    const NAME: &'static str = "ingest_material";

    fn time_limit(config: &WorkerConfig) -> Duration {
        Duration::from_secs(config.ingest_timeout_secs)
    }

    async fn run(self, state: &AppState, job: &Job) -> Result<Option<Value>> {
        run(state, job, self.material_id).await.map(|()| None)
    }

    /// The material is `failed`, with the reason (safe to show: internals stay in
    /// `jobs.last_error` and the log).
    async fn give_up(self, state: &AppState, job: &Job, reason: &str) -> Result<()> {
        let reason = format!("processing failed after {} attempt(s): {reason}", job.attempts);
        mark_failed(state, job.user_id, self.material_id, &reason).await
    }
}

/// Queues ingestion of `material` in the caller's transaction.
pub async fn enqueue(conn: &mut PgConnection, state: &AppState, user: Uuid, material: Uuid) -> Result<()> {
    let payload = json!(IngestMaterial { material_id: material });
    jobs::enqueue(conn, IngestMaterial::NAME, user, payload, state.jobs.max_attempts).await?;
    Ok(())
}

async fn run(state: &AppState, job: &Job, material: Uuid) -> Result<()> {
    let mut tx = tenant::begin_as(&state.db, Some(job.user_id)).await?;
    let found = store::origin(&mut tx, job.user_id, material).await?;
    tx.commit().await?;
    let (media_type, bytes) = match found {
        None => return Ok(()), // deleted meanwhile: nothing to do
        // A page: fetched each time it is processed, so reprocessing sees its changes.
        Some(Origin { source_url: Some(url), .. }) => match fetch_source(state, job.user_id, material, &url).await? {
            Ok(source) => source,
            Err(reason) => return mark_failed(state, job.user_id, material, &reason).await,
        },
        Some(Origin { source_url: None, media_type: Some(media_type), content: Some(bytes) }) => (media_type, bytes),
        Some(_) => return mark_failed(state, job.user_id, material, "the material has no source").await,
    };

    match sandbox::ingest(&state.materials, &media_type, &bytes).await? {
        Ok(rows) => save(state, job.user_id, material, rows).await,
        // The source itself cannot be read (or its reader hit a limit): retrying would not help.
        Err(reason) => mark_failed(state, job.user_id, material, &reason).await,
    }
}

/// Fetches a URL material's page and stores it as the material's source. The outer
/// error is worth a retry (the network); the inner one is final (refused, 404, unknown kind).
async fn fetch_source(
    state: &AppState,
    user: Uuid,
    material: Uuid,
    url: &str,
) -> Result<std::result::Result<(String, Vec<u8>), String>> {
    let fetched = match fetch::fetch(url, &state.materials).await {
        Ok(fetched) => fetched,
        Err(FetchError::Refused(reason)) => return Ok(Err(reason)),
        Err(FetchError::Transient(reason)) => return Err(Error::Unavailable(reason)),
    };
    let name = fetched.final_url.path_segments().and_then(|mut segments| segments.next_back()).map(str::to_owned);
    let Some(media_type) = extract::detect(&fetched.bytes, name.as_deref()) else {
        return Ok(Err(format!("{} is not a PDF, DOCX, EPUB, HTML, Markdown or text document", fetched.final_url)));
    };
    let mut tx = tenant::begin_as(&state.db, Some(user)).await?;
    store::save_source(&mut tx, user, material, media_type, Some(fetched.final_url.as_str()), &fetched.bytes).await?;
    tx.commit().await?;
    Ok(Ok((media_type.to_owned(), fetched.bytes)))
}

async fn mark_failed(state: &AppState, user: Uuid, material: Uuid, reason: &str) -> Result<()> {
    let mut tx = tenant::begin_as(&state.db, Some(user)).await?;
    store::fail(&mut tx, user, material, reason).await?;
    tx.commit().await?;
    tracing::info!(%material, reason, "material failed");
    Ok(())
}

/// What ingestion stores: the chunks as columns (bound as arrays, so that one statement
/// inserts them all), and what it learnt about the material. Made by the document
/// reader's process, so it crosses a pipe as JSON.
#[derive(Debug, Serialize, Deserialize)]
pub struct Rows {
    pub(super) orders: Vec<i32>,
    pub(super) contents: Vec<String>,
    pub(super) kinds: Vec<String>,
    pub(super) metadata: Vec<Value>,
    pub(super) words: Vec<i32>,
    pub(super) languages: Vec<Option<String>>,
    /// None for chunks with no summary (code, output, tables).
    pub(super) summaries: Vec<Option<String>>,
    pub(super) relevance: Vec<f64>,
    pub(super) content_length: i32,
    pub(super) difficulty: String,
    pub(super) key_terms: Vec<String>,
    pub(super) material_metadata: Value,
}

impl From<Ingested> for Rows {
    fn from(ingested: Ingested) -> Rows {
        let count = ingested.chunks.len();
        let mut rows = Rows {
            orders: Vec::with_capacity(count),
            contents: Vec::with_capacity(count),
            kinds: Vec::with_capacity(count),
            metadata: Vec::with_capacity(count),
            words: Vec::with_capacity(count),
            languages: Vec::with_capacity(count),
            summaries: Vec::with_capacity(count),
            relevance: Vec::with_capacity(count),
            content_length: i32::try_from(ingested.content_length).unwrap_or(i32::MAX),
            difficulty: ingested.difficulty.to_owned(),
            key_terms: ingested.key_terms,
            material_metadata: ingested.metadata,
        };
        for (order, analysed) in ingested.chunks.into_iter().enumerate() {
            let chunk = analysed.chunk;
            rows.orders.push(i32::try_from(order).unwrap_or(i32::MAX));
            rows.kinds.push(chunk.kind.to_owned());
            let mut meta = json!({ "heading_path": chunk.heading_path });
            if !chunk.pages.is_empty() {
                meta["pages"] = json!(chunk.pages);
            }
            if let Some(secondary) = &analysed.secondary_language {
                meta["secondary_language"] = json!(secondary);
            }
            rows.metadata.push(meta);
            rows.words.push(i32::try_from(chunk.words).unwrap_or(i32::MAX));
            rows.contents.push(chunk.text);
            rows.languages.push(analysed.language);
            rows.summaries.push(Some(analysed.summary).filter(|s| !s.is_empty()));
            rows.relevance.push(analysed.relevance);
        }
        rows
    }
}

/// Replaces the material's chunks and records what ingestion found, in one transaction:
/// a reader sees the old chunks or the new ones, never a mix.
async fn save(state: &AppState, user: Uuid, material: Uuid, rows: Rows) -> Result<()> {
    let count = rows.orders.len();
    let mut tx = tenant::begin_as(&state.db, Some(user)).await?;
    if !store::lock_live(&mut tx, user, material).await? {
        return Ok(()); // deleted while it was being processed
    }
    store::replace_text(&mut tx, material, &rows).await?;
    tx.commit().await?;
    tracing::info!(%material, chunks = count, "material ready");
    Ok(())
}
