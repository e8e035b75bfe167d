//! The materials pages: the list (with search and the add form) and one material (its
//! assets and chunks, generation, sessions, reports).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::{WebUser, html_error, render};
use crate::app::AppState;
use crate::db::tenant;
use crate::error::{Error, Result};
use crate::learn::due::{self, Counts};
use crate::study_counts_sql;

#[derive(sqlx::FromRow)]
struct Listed {
    id: Uuid,
    title: String,
    status: String,
    #[sqlx(flatten)]
    counts: Counts,
}

#[derive(askama::Template)]
#[template(path = "materials.html")]
struct MaterialsPage {
    csrf: String,
    q: String,
    materials: Vec<Listed>,
}

#[derive(Deserialize)]
pub struct Search {
    q: Option<String>,
}

pub async fn list(State(state): State<AppState>, user: WebUser, Query(search): Query<Search>) -> Response {
    let q = search.q.unwrap_or_default().trim().to_owned();
    let loaded = async {
        let mut tx = tenant::begin_as(&state.db, Some(user.auth.user_id)).await?;
        let materials: Vec<Listed> = sqlx::query_as(concat!(
            "SELECT m.id, m.title, m.status, c.new, c.learning, c.review
               FROM study_materials m
               CROSS JOIN LATERAL ",
            study_counts_sql!("$1", "m.id"),
            " c
              WHERE m.user_id = $1 AND m.deleted_at IS NULL
                AND ($2 = '' OR m.title ILIKE '%' || $2 || '%' OR m.search_vector @@ websearch_to_tsquery('simple', $2))
              ORDER BY m.created_at DESC LIMIT 200"
        ))
        .bind(user.auth.user_id)
        .bind(&q)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok::<_, Error>(materials)
    };
    match loaded.await {
        Ok(materials) => render(StatusCode::OK, &MaterialsPage { csrf: user.csrf, q, materials }),
        Err(error) => html_error(&error),
    }
}

struct AssetLine {
    id: Uuid,
    asset_type: String,
    front: String,
    status: String,
}

#[derive(sqlx::FromRow)]
struct ChunkLine {
    summary: Option<String>,
    content: String,
}

/// Below this share of its words kept, a material's page says that text was lost.
const KEPT_WORDS_NOTICE_BELOW: f64 = 0.98;

#[derive(askama::Template)]
#[template(path = "material.html")]
struct MaterialPage {
    csrf: String,
    id: Uuid,
    title: String,
    status: String,
    /// The percentage of its words kept, when ingestion lost a noticeable part.
    kept_percent: Option<u32>,
    assets: Vec<AssetLine>,
    chunks: Vec<ChunkLine>,
    /// Its flashcards new, in a step and due, as a review of it would serve them today.
    counts: Counts,
}

pub async fn page(State(state): State<AppState>, user: WebUser, Path(id): Path<Uuid>) -> Response {
    match load(&state, user.auth.user_id, id).await {
        Ok(Loaded { title, status, kept_ratio, assets, chunks, counts }) => {
            // Rounded down, so that a page that lost text never says it kept 100%.
            let kept_percent = kept_ratio
                .filter(|ratio| *ratio < KEPT_WORDS_NOTICE_BELOW)
                .map(|ratio| (ratio.clamp(0.0, 1.0) * 100.0).floor() as u32);
            let page = MaterialPage { csrf: user.csrf, id, title, status, kept_percent, assets, chunks, counts };
            render(StatusCode::OK, &page)
        }
        Err(error) => html_error(&error),
    }
}

struct Loaded {
    title: String,
    status: String,
    /// `metadata.kept_words_ratio`, set by ingestion.
    kept_ratio: Option<f64>,
    assets: Vec<AssetLine>,
    chunks: Vec<ChunkLine>,
    counts: Counts,
}

async fn load(state: &AppState, user: Uuid, id: Uuid) -> Result<Loaded> {
    let mut tx = tenant::begin_as(&state.db, Some(user)).await?;
    let (title, status, kept_ratio): (String, String, Option<f64>) = sqlx::query_as(
        "SELECT title, status, (metadata->>'kept_words_ratio')::float8 FROM study_materials
          WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound)?;
    let assets: Vec<(Uuid, String, serde_json::Value, String)> = sqlx::query_as(
        "SELECT a.id, a.asset_type, a.content, a.status FROM generated_assets a
           LEFT JOIN content_chunks c ON c.id = a.content_chunk_id
          WHERE a.study_material_id = $1 AND a.status NOT IN ('archived', 'draft')
          ORDER BY coalesce(c.chunk_order, -1), a.asset_type, a.id",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let chunks: Vec<ChunkLine> =
        sqlx::query_as("SELECT summary, content FROM content_chunks WHERE study_material_id = $1 ORDER BY chunk_order")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
    let counts = due::counts(&mut tx, user, Some(id)).await?;
    tx.commit().await?;
    let assets = assets
        .into_iter()
        .map(|(id, asset_type, content, status)| {
            let front = ["front", "question", "text"]
                .iter()
                .find_map(|key| content[*key].as_str())
                .unwrap_or_default()
                .to_owned();
            AssetLine { id, asset_type, front, status }
        })
        .collect();
    Ok(Loaded { title, status, kept_ratio, assets, chunks, counts })
}
