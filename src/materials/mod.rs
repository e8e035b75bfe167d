//! Study materials: creation from pasted text, URLs and files, the ingestion job that
//! turns them into chunks, their HTTP endpoints (handlers.rs) and their reads (store.rs).

pub mod fetch;
mod handlers;
pub mod ingest;
pub mod pipeline;
pub mod sandbox;
pub mod store;

pub use store::{live, live_status};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::states::MaterialStatus;

/// The materials endpoints; creating one reads bodies up to `max_upload` bytes.
pub fn routes(max_upload: usize) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(handlers::create, handlers::list))
        .layer(axum::extract::DefaultBodyLimit::max(max_upload));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(handlers::get, handlers::update, handlers::delete))
        .routes(routes!(handlers::reprocess))
        .routes(routes!(handlers::chunks))
}

/// A study material.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Material {
    pub id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub source_url: Option<String>,
    /// `text`, `url` or `upload`.
    pub source_type: String,
    /// What ingestion found: extractor, language, word count, reading time, chunk count;
    /// `error` when it failed.
    pub metadata: Option<Value>,
    pub status: MaterialStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Characters of extracted text.
    pub content_length: Option<i32>,
    /// `beginner`, `intermediate` or `advanced`.
    pub difficulty_level: Option<String>,
    pub subject_area: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// One chunk of a material.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContentChunk {
    pub id: Uuid,
    pub study_material_id: Uuid,
    pub chunk_order: i32,
    pub content: String,
    /// `section`, `paragraph`, `list`, `code` or `table`.
    pub chunk_type: String,
    /// `heading_path`, and `pages` for paged formats.
    pub metadata: Option<Value>,
    pub word_count: Option<i32>,
    /// ISO 639-1.
    pub language: Option<String>,
    pub summary: Option<String>,
    /// How central the chunk is to the whole material, in [0, 1].
    pub relevance_score: Option<f64>,
    pub created_at: DateTime<Utc>,
}
