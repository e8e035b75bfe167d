//! The materials pages: the list (with search and the add form) and one material (its
//! assets and chunks, generation, sessions, reports).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

use super::{WebUser, cards, html_error, render};
use crate::app::AppState;
use crate::error::Result;
use crate::generate::store as assets;
use crate::learn;
use crate::learn::due::Counts;
use crate::materials::ContentChunk;
use crate::materials::store;
use crate::states::{AssetStatus, MaterialStatus};

#[derive(askama::Template)]
#[template(path = "materials.html")]
struct MaterialsPage {
    csrf: super::Csrf,
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
    let learner = user.auth.user_id;
    match state.reads.run(user.auth.reader(), async |tx| listed(tx, learner, &q).await).await {
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
    let counts = learn::store::counts_each(conn, user, &materials.iter().map(|m| m.id).collect::<Vec<_>>()).await?;
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

/// Below this share of its words kept, a material's page says that text was lost.
const KEPT_WORDS_NOTICE_BELOW: f64 = 0.98;

#[derive(askama::Template)]
#[template(path = "material.html")]
struct MaterialPage {
    csrf: super::Csrf,
    id: Uuid,
    title: String,
    status: MaterialStatus,
    /// The percentage of its words kept, when ingestion lost a noticeable part.
    kept_percent: Option<u32>,
    /// Its items (all but deleted ones); how many have each status (in words); how many
    /// new ones wait for review.
    items: i64,
    by_status: Vec<(&'static str, i64)>,
    to_review: i64,
    /// Whether a session has anything to serve: some item is ready.
    studyable: bool,
    /// Its details as the edit form shows them (tags joined by commas).
    description: String,
    subject: String,
    tags: String,
    /// The page it was fetched from, if any: reprocessing fetches it again.
    source_url: Option<String>,
    view: cards::View,
    sections: Vec<cards::Section>,
    pager: cards::Pager,
    chunks: Vec<ContentChunk>,
    chunk_count: i64,
    chunk_pager: cards::Pager,
    /// Its flashcards new, in a step and due, as a review of it would serve them today.
    counts: Counts,
}

impl MaterialPage {
    fn status_choices(&self) -> Vec<(&'static str, &'static str)> {
        cards::status_choices()
    }
}

/// A material's page: `?page=N` of its items (`kind`, `status` filter them), and
/// `?chunks=N` its chunks from the Nth.
pub async fn page(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<Uuid>,
    query: Result<Query<cards::Query>, QueryRejection>,
) -> Response {
    // A query string that does not parse (a key twice) is read as none: the first page.
    let view = query.map(|q| q.0).unwrap_or_default().view();
    let learner = user.auth.user_id;
    let loaded = state.reads.run(user.auth.reader(), async |tx| {
        let mut view = view;
        let material = store::fetch(tx, learner, id).await?;
        let mut shelf = assets::page(tx, id, view.filter, view.page, cards::PER_PAGE).await?;
        if shelf.assets.is_empty() && shelf.pages > 0 && view.page > shelf.pages {
            // Past the end (a link kept after items went): the last page.
            view.page = shelf.pages;
            shelf = assets::page(tx, id, view.filter, view.page, cards::PER_PAGE).await?;
        }
        let by_status = assets::status_counts(tx, id).await?;
        let chunk_count = store::chunk_count(tx, id).await?;
        view.chunks_from = view.chunks_from.min(cards::last_chunks_from(chunk_count));
        let after = i32::try_from(view.chunks_from).unwrap_or(i32::MAX) - 1;
        let chunks = store::chunks(tx, id, after, Some(cards::CHUNKS_PER_PAGE)).await?;
        let counts = learn::store::counts(tx, learner, Some(id)).await?;
        Ok((view, material, shelf, by_status, chunks, chunk_count, counts))
    });
    match loaded.await {
        Ok((view, material, shelf, by_status, chunks, chunk_count, counts)) => {
            // Rounded down, so that a page that lost text never says it kept 100%.
            let kept_percent = material
                .metadata
                .as_ref()
                .and_then(|m| m["kept_words_ratio"].as_f64())
                .filter(|ratio| *ratio < KEPT_WORDS_NOTICE_BELOW)
                .map(|ratio| (ratio.clamp(0.0, 1.0) * 100.0).floor() as u32);
            let items = by_status.iter().filter(|(s, ..)| *s != AssetStatus::Archived).map(|(.., n)| n).sum();
            let to_review = by_status.iter().filter(|(_, review, _)| *review).map(|(.., n)| n).sum();
            let studyable = by_status.iter().any(|(s, _, n)| *s == AssetStatus::Ready && *n > 0);
            let by_status = by_status
                .into_iter()
                .map(|(s, review, n)| (if review { cards::TO_REVIEW } else { cards::status_label(s) }, n))
                .collect();
            let page = MaterialPage {
                csrf: user.csrf,
                id,
                title: material.title,
                status: material.status,
                description: material.description.unwrap_or_default(),
                subject: material.subject_area.unwrap_or_default(),
                tags: material.tags.unwrap_or_default().join(", "),
                source_url: material.source_url,
                kept_percent,
                items,
                by_status,
                to_review,
                studyable,
                pager: view.item_pages(id, shelf.pages),
                chunk_pager: view.chunk_pages(id, chunk_count),
                view,
                sections: cards::sections(shelf.assets),
                chunks,
                chunk_count,
                counts,
            };
            render(StatusCode::OK, &page)
        }
        Err(error) => html_error(&error),
    }
}
