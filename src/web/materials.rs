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
use crate::generate::store as assets;
use crate::learn::due::{self, Counts};
use crate::materials::ContentChunk;
use crate::materials::store;
use crate::states::MaterialStatus;

#[derive(askama::Template)]
#[template(path = "materials.html")]
struct MaterialsPage {
    csrf: String,
    q: String,
    materials: Vec<Listed>,
}

impl MaterialsPage {
    /// `q` for a query string.
    fn q_encoded(&self) -> String {
        super::encoded(&self.q)
    }
}

#[derive(Deserialize)]
pub struct Search {
    q: Option<String>,
}

/// Most materials the page lists.
const LISTED: i64 = 200;

/// Most hits the search box reads: enough for a page of materials.
const SEARCH_HITS: i64 = 100;

/// Most hits a search lists under each material.
const HITS_PER_MATERIAL: usize = 3;

/// A material as the page lists it.
struct Listed {
    id: Uuid,
    title: String,
    status: MaterialStatus,
    /// What a review of it would serve today.
    counts: Counts,
    /// Its best hits, when the list answers a search.
    hits: Vec<Found>,
}

/// A search hit under its material.
struct Found {
    /// The text found: escaped HTML, `<mark>`s only.
    snippet: String,
    /// The passage found (none when the title, tags or description matched).
    chunk: Option<Uuid>,
}

/// The materials page: the newest 200, or those matching `q` as GET /api/v1/search finds
/// them (best first, each with its best hits' snippets, which lead to the passages).
pub async fn list(State(state): State<AppState>, user: WebUser, Query(search): Query<Search>) -> Response {
    // As the API takes it: at most 500 characters.
    let q: String = search.q.unwrap_or_default().trim().chars().take(500).collect();
    let loaded = async {
        let mut tx = tenant::begin_as(&state.db, Some(user.auth.user_id)).await?;
        let materials = listed(&mut tx, user.auth.user_id, &q).await?;
        tx.commit().await?;
        Ok::<_, Error>(materials)
    };
    match loaded.await {
        Ok(materials) => render(StatusCode::OK, &MaterialsPage { csrf: user.csrf, q, materials }),
        Err(error) => html_error(&error),
    }
}

/// The materials to list: all (newest first) without `q`; with it, those it finds, in
/// the order of their best hits, with those hits.
async fn listed(conn: &mut sqlx::PgConnection, user: Uuid, q: &str) -> Result<Vec<Listed>> {
    // With a search: the materials found, best first, each with its best hits.
    let mut found: Option<Vec<(Uuid, Vec<Found>)>> = None;
    if !q.is_empty() {
        let order = found.get_or_insert_default();
        for hit in store::search(conn, user, q, SEARCH_HITS).await? {
            let at = match order.iter().position(|(id, _)| *id == hit.study_material_id) {
                Some(at) => at,
                None => {
                    order.push((hit.study_material_id, Vec::new()));
                    order.len() - 1
                }
            };
            let under = &mut order[at].1;
            if under.len() < HITS_PER_MATERIAL {
                under.push(Found { snippet: hit.snippet, chunk: hit.content_chunk_id });
            }
        }
    }
    let ids: Option<Vec<Uuid>> = found.as_ref().map(|order| order.iter().map(|(id, _)| *id).collect());
    let filter = store::Filter { ids: ids.as_deref(), ..Default::default() };
    let materials = store::list(conn, user, &filter, None, LISTED).await?;
    let counts = due::counts_each(conn, user, &materials.iter().map(|m| m.id).collect::<Vec<_>>()).await?;
    let mut listed: Vec<Listed> = materials
        .into_iter()
        .map(|m| Listed {
            counts: counts.iter().find(|c| c.material == m.id).map(|c| c.counts).unwrap_or_default(),
            hits: Vec::new(),
            id: m.id,
            title: m.title,
            status: m.status,
        })
        .collect();
    if let Some(mut order) = found {
        listed.sort_by_key(|m| order.iter().position(|(id, _)| *id == m.id));
        for m in &mut listed {
            if let Some((_, hits)) = order.iter_mut().find(|(id, _)| *id == m.id) {
                m.hits = std::mem::take(hits);
            }
        }
    }
    Ok(listed)
}

struct AssetLine {
    id: Uuid,
    asset_type: String,
    front: String,
    status: String,
}

/// Below this share of its words kept, a material's page says that text was lost.
const KEPT_WORDS_NOTICE_BELOW: f64 = 0.98;

#[derive(askama::Template)]
#[template(path = "material.html")]
struct MaterialPage {
    csrf: String,
    id: Uuid,
    title: String,
    status: MaterialStatus,
    /// The percentage of its words kept, when ingestion lost a noticeable part.
    kept_percent: Option<u32>,
    assets: Vec<AssetLine>,
    chunks: Vec<ContentChunk>,
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
    status: MaterialStatus,
    /// `metadata.kept_words_ratio`, set by ingestion.
    kept_ratio: Option<f64>,
    assets: Vec<AssetLine>,
    chunks: Vec<ContentChunk>,
    counts: Counts,
}

async fn load(state: &AppState, user: Uuid, id: Uuid) -> Result<Loaded> {
    let mut tx = tenant::begin_as(&state.db, Some(user)).await?;
    let material = store::fetch(&mut tx, user, id).await?;
    let assets = assets::shown(&mut tx, id).await?;
    let chunks = store::chunks(&mut tx, id, -1, None).await?;
    let counts = due::counts(&mut tx, user, Some(id)).await?;
    tx.commit().await?;
    let assets = assets
        .into_iter()
        .map(|asset| {
            let front = ["front", "question", "text"]
                .iter()
                .find_map(|key| asset.content[*key].as_str())
                .unwrap_or_default()
                .to_owned();
            AssetLine { id: asset.id, asset_type: asset.asset_type, front, status: asset.status }
        })
        .collect();
    let kept_ratio = material.metadata.as_ref().and_then(|m| m["kept_words_ratio"].as_f64());
    Ok(Loaded { title: material.title, status: material.status, kept_ratio, assets, chunks, counts })
}
