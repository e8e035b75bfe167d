//! The generation job: read a ready material's chunks, run the generator, and store the
//! assets it makes, skipping any the material already has.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::builtin::{self, ChunkInput, MaterialInput, Options};
use crate::app::AppState;
use crate::db::tenant;
use crate::error::{Error, Result};
use crate::jobs::{self, Job};

pub const JOB: &str = "generate_assets";

/// What a generation job makes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub material_id: Uuid,
    pub asset_types: Vec<String>,
    pub max_per_chunk: usize,
}

pub async fn enqueue(conn: &mut PgConnection, state: &AppState, user: Uuid, request: &Request) -> Result<Uuid> {
    jobs::enqueue(conn, JOB, user, json!(request), state.jobs.max_attempts).await
}

#[derive(sqlx::FromRow)]
struct ChunkRow {
    id: Uuid,
    chunk_order: i32,
    content: String,
    summary: Option<String>,
    relevance_score: Option<f64>,
}

pub async fn run(state: &AppState, job: &Job) -> Result<()> {
    let request: Request = serde_json::from_value(job.payload.clone())
        .map_err(|err| Error::Internal(format!("job {} has a bad payload: {err}", job.id)))?;
    let mut tx = tenant::begin_as(&state.db, Some(job.user_id)).await?;
    let material: Option<(Option<String>, Option<Value>)> = sqlx::query_as(
        "SELECT difficulty_level, metadata FROM study_materials
          WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL AND status = 'ready'",
    )
    .bind(request.material_id)
    .bind(job.user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((difficulty, metadata)) = material else {
        return Ok(()); // deleted, or being processed again, meanwhile: nothing to do
    };
    let chunks: Vec<ChunkRow> = sqlx::query_as(
        "SELECT id, chunk_order, content, summary, relevance_score FROM content_chunks
          WHERE study_material_id = $1 ORDER BY chunk_order",
    )
    .bind(request.material_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;

    let language = metadata.as_ref().and_then(|m| m["language"].as_str()).map(str::to_owned);
    let wants = |t: &str| request.asset_types.iter().any(|a| a == t);
    let options = Options {
        flashcards: wants("flashcard"),
        quizzes: wants("quiz"),
        summaries: wants("summary"),
        max_per_chunk: request.max_per_chunk,
    };
    let drafts = tokio::task::spawn_blocking(move || {
        let input = MaterialInput {
            language: language.as_deref(),
            difficulty: difficulty.as_deref(),
            chunks: chunks
                .iter()
                .map(|c| ChunkInput {
                    id: c.id,
                    order: c.chunk_order,
                    text: &c.content,
                    summary: c.summary.as_deref().unwrap_or_default(),
                    relevance: c.relevance_score.unwrap_or_default(),
                })
                .collect(),
        };
        builtin::generate(&input, &options)
    })
    .await
    .map_err(|panic| Error::Internal(format!("the generator panicked: {panic}")))?;

    // All assets in one statement; those the material has already are skipped.
    let mut tx = tenant::begin_as(&state.db, Some(job.user_id)).await?;
    let stored = sqlx::query(
        "INSERT INTO generated_assets (study_material_id, content_chunk_id, asset_type, content, metadata,
                                       generation_model, quality_score, difficulty_level, generation_params)
         SELECT $1, chunk, kind, content, jsonb_build_object('job_id', $2::uuid), $3, quality, level, params
           FROM unnest($4::uuid[], $5::text[], $6::jsonb[], $7::float8[], $8::int[], $9::jsonb[])
                AS a(chunk, kind, content, quality, level, params)
         ON CONFLICT (study_material_id, (generation_params->>'fingerprint'))
            WHERE generation_params ? 'fingerprint' AND status <> 'archived'
         DO NOTHING",
    )
    .bind(request.material_id)
    .bind(job.id)
    .bind(builtin::MODEL)
    .bind(drafts.iter().map(|d| d.content_chunk_id).collect::<Vec<_>>())
    .bind(drafts.iter().map(|d| d.asset_type).collect::<Vec<_>>())
    .bind(drafts.iter().map(|d| d.content.clone()).collect::<Vec<_>>())
    .bind(drafts.iter().map(|d| d.quality_score).collect::<Vec<_>>())
    .bind(drafts.iter().map(|d| d.difficulty_level).collect::<Vec<_>>())
    .bind(drafts.iter().map(|d| d.generation_params.clone()).collect::<Vec<_>>())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(material = %request.material_id, made = drafts.len(), new = stored.rows_affected(), "assets generated");
    Ok(())
}
