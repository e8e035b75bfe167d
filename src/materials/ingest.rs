//! The ingestion job: read a material's source, run the pipeline, and replace its chunks.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::fetch::{self, FetchError};
use super::pipeline::{Ingested, extract};
use super::sandbox;
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

/// Stores (or replaces) a material's source.
pub async fn store_source(
    conn: &mut PgConnection,
    user: Uuid,
    material: Uuid,
    media_type: &str,
    file_name: Option<&str>,
    bytes: &[u8],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO material_sources (study_material_id, user_id, media_type, file_name, content)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (study_material_id) DO UPDATE
            SET media_type = EXCLUDED.media_type, file_name = EXCLUDED.file_name, content = EXCLUDED.content",
    )
    .bind(material)
    .bind(user)
    .bind(media_type)
    .bind(file_name.map(|name| name.chars().take(255).collect::<String>()))
    .bind(bytes)
    .execute(conn)
    .await?;
    Ok(())
}

/// What ingestion starts from: a page to fetch, or a stored source.
#[derive(sqlx::FromRow)]
struct Origin {
    source_url: Option<String>,
    media_type: Option<String>,
    content: Option<Vec<u8>>,
}

async fn run(state: &AppState, job: &Job, material: Uuid) -> Result<()> {
    let mut tx = tenant::begin_as(&state.db, Some(job.user_id)).await?;
    let found: Option<Origin> = sqlx::query_as(
        "SELECT m.source_url, s.media_type, s.content
           FROM live_study_materials m LEFT JOIN material_sources s ON s.study_material_id = m.id
          WHERE m.id = $1 AND m.user_id = $2",
    )
    .bind(material)
    .bind(job.user_id)
    .fetch_optional(&mut *tx)
    .await?;
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
        Ok(rows) => store(state, job.user_id, material, rows).await,
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
    store_source(&mut tx, user, material, media_type, Some(fetched.final_url.as_str()), &fetched.bytes).await?;
    tx.commit().await?;
    Ok(Ok((media_type.to_owned(), fetched.bytes)))
}

async fn mark_failed(state: &AppState, user: Uuid, material: Uuid, reason: &str) -> Result<()> {
    let mut tx = tenant::begin_as(&state.db, Some(user)).await?;
    sqlx::query(
        "UPDATE study_materials SET status = 'failed', metadata = coalesce(metadata, '{}') || jsonb_build_object('error', $3::text)
          WHERE id = $1 AND user_id = $2",
    )
    .bind(material)
    .bind(user)
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(%material, reason, "material failed");
    Ok(())
}

/// What ingestion stores: the chunks as columns (bound as arrays, so that one statement
/// inserts them all), and what it learnt about the material. Made by the document
/// reader's process, so it crosses a pipe as JSON.
#[derive(Debug, Serialize, Deserialize)]
pub struct Rows {
    orders: Vec<i32>,
    contents: Vec<String>,
    kinds: Vec<String>,
    metadata: Vec<Value>,
    words: Vec<i32>,
    languages: Vec<Option<String>>,
    /// None for chunks with no summary (code, output, tables).
    summaries: Vec<Option<String>>,
    relevance: Vec<f64>,
    content_length: i32,
    difficulty: String,
    key_terms: Vec<String>,
    material_metadata: Value,
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
async fn store(state: &AppState, user: Uuid, material: Uuid, rows: Rows) -> Result<()> {
    let count = rows.orders.len();
    let mut tx = tenant::begin_as(&state.db, Some(user)).await?;
    let live: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM live_study_materials WHERE id = $1 AND user_id = $2 FOR UPDATE")
            .bind(material)
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?;
    if live.is_none() {
        return Ok(()); // deleted while it was being processed
    }
    // Assets made from the old text are archived (and let go of the old chunks): their
    // questions may no longer match it, and learners' history still points at them.
    sqlx::query(
        "UPDATE generated_assets SET status = 'archived', content_chunk_id = NULL,
                metadata = coalesce(metadata, '{}') || jsonb_build_object('archived_by', 'reprocessing')
          WHERE study_material_id = $1 AND status <> 'archived'",
    )
    .bind(material)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM content_chunks WHERE study_material_id = $1").bind(material).execute(&mut *tx).await?;
    // All chunks in one statement, however many there are.
    sqlx::query(
        "INSERT INTO content_chunks (study_material_id, chunk_order, content, chunk_type, metadata, word_count,
                                     language, summary, relevance_score)
         SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::jsonb[], $6::int[], $7::text[], $8::text[],
                                  $9::float8[])",
    )
    .bind(material)
    .bind(&rows.orders)
    .bind(&rows.contents)
    .bind(&rows.kinds)
    .bind(&rows.metadata)
    .bind(&rows.words)
    .bind(&rows.languages)
    .bind(&rows.summaries)
    .bind(&rows.relevance)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE study_materials
            SET status = 'ready', content_length = $2,
                difficulty_level = coalesce(difficulty_level, $3),
                tags = CASE WHEN coalesce(cardinality(tags), 0) = 0 THEN $4 ELSE tags END,
                metadata = (coalesce(metadata, '{}') - 'error') || $5
          WHERE id = $1",
    )
    .bind(material)
    .bind(rows.content_length)
    .bind(&rows.difficulty)
    .bind(&rows.key_terms)
    .bind(&rows.material_metadata)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(%material, chunks = count, "material ready");
    Ok(())
}
