//! /api/v1/materials/{id}/generate and /api/v1/materials/{id}/assets.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::check_shape;
use super::job::{self, Provider, Request};
use super::store;
use crate::app::AppState;
use crate::audit::{Change, Work};
use crate::error::{Error, OnConstraint, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::{Client, Input};
use crate::http::page::{self, Newest, Page};
use crate::materials::{live, live_status};
use crate::states::{self, AssetStatus, AssetType, MaterialStatus};
use crate::validate::Validator;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(generate))
        .routes(routes!(list))
        .routes(routes!(accept))
        .routes(routes!(get, update, delete))
}

const DEFAULT_PER_CHUNK: usize = 3;

/// What to generate. Everything, by the builtin generator, unless told otherwise.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// Any of `flashcard`, `quiz`, `summary` (default: all three).
    #[serde(default, deserialize_with = "states::some_of")]
    asset_types: Option<Vec<AssetType>>,
    /// `builtin` (offline, deterministic; the default) or `openai` (the OpenAI-compatible
    /// model this server is configured with, if any).
    provider: Option<String>,
    /// Flashcards, and quiz items, per chunk: 1 to 10 (default 3).
    max_per_chunk: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    /// The job making the assets; they appear under the material's assets as it runs.
    job_id: Uuid,
}

/// Generates learning assets from a ready material, as a background job. Generating
/// again adds only assets the material does not have yet.
#[utoipa::path(post, path = "/api/v1/materials/{id}/generate", tag = "assets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The material")), request_body = GenerateRequest,
    responses(
        (status = 202, body = Accepted), (status = 404, body = Problem),
        (status = 409, description = "The material is not ready", body = Problem), (status = 422, body = Problem),
    ))]
pub async fn generate(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
    Input(body): Input<GenerateRequest>,
) -> Result<(StatusCode, Json<Accepted>)> {
    let work = Work::new(&state.db, &client, "material.generate", "material").by(&auth);
    work.entity(id);
    let checked = body.and_then(|body| {
        let asset_types = body.asset_types.unwrap_or_else(|| AssetType::ALL.to_vec());
        let max_per_chunk = body.max_per_chunk.unwrap_or(DEFAULT_PER_CHUNK);
        let mut v = Validator::default();
        v.check(!asset_types.is_empty(), "asset_types", "must list some of flashcard, quiz and summary");
        v.check((1..=10).contains(&max_per_chunk), "max_per_chunk", "must be between 1 and 10");
        let provider = match body.provider.as_deref() {
            None | Some("builtin") => Provider::Builtin,
            Some("openai") => {
                if state.llm.is_none() {
                    v.fail("provider", "openai is not configured on this server (STUDYHALL_LLM_BASE_URL); use builtin");
                }
                Provider::Openai
            }
            Some(_) => {
                v.fail("provider", "must be builtin or openai");
                Provider::Builtin
            }
        };
        v.finish()?;
        Ok(Request { material_id: id, asset_types, max_per_chunk, provider })
    });
    work.run(checked, async |tx, request| {
        let status = live_status(tx, auth.user_id, id).await?;
        if status != MaterialStatus::Ready {
            return Err(Error::conflict("status", format!("is {status}: assets are made from a ready material")));
        }
        let job_id = job::enqueue(tx, &state, auth.user_id, &request).await?;
        let details = json!({"job_id": job_id, "asset_types": request.asset_types, "provider": request.provider});
        Ok(((StatusCode::ACCEPTED, Json(Accepted { job_id })), Change::created(details)))
    })
    .await
}

/// A generated learning asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct Asset {
    pub(super) id: Uuid,
    pub(super) study_material_id: Uuid,
    /// None for the material's own summary (and for assets whose chunk was replaced).
    pub(super) content_chunk_id: Option<Uuid>,
    /// `flashcard`, `quiz` or `summary`.
    pub(super) asset_type: AssetType,
    /// The asset, in its type's shape (API.md).
    pub(super) content: Value,
    pub(super) metadata: Option<Value>,
    pub(super) generation_model: String,
    pub(super) created_at: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    /// `ready` (the only one served), `draft` (made with flaws), `flagged` (reported),
    /// `suspended` (set aside by its owner) or `archived` (deleted).
    pub(super) status: AssetStatus,
    pub(super) quality_score: Option<f64>,
    pub(super) difficulty_level: Option<i32>,
    pub(super) generation_params: Option<Value>,
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    #[param(value_type = Option<AssetType>)]
    asset_type: Option<String>,
    /// `ready`, `draft`, `flagged`, `suspended` or `archived`; without it, all but drafts
    /// and archived ones.
    #[param(value_type = Option<AssetStatus>)]
    status: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// A material's assets, newest first (drafts and archived ones only when asked for).
#[utoipa::path(get, path = "/api/v1/materials/{id}/assets", tag = "assets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The material"), ListQuery),
    responses((status = 200, body = Page<Asset>), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<Uuid>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Asset>>> {
    let (limit, cursor) = page::params::<Newest>(query.limit, query.cursor.as_deref())?;
    let user = auth.user_id;
    let rows = state
        .reads
        .run(auth.reader(), async |tx| {
            live(tx, user, id).await?;
            store::assets(tx, id, query.asset_type.as_deref(), query.status.as_deref(), cursor, i64::from(limit) + 1)
                .await
        })
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |a| (a.created_at, a.id))))
}

/// One asset.
#[utoipa::path(get, path = "/api/v1/assets/{id}", tag = "assets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The asset")),
    responses((status = 200, body = Asset), (status = 404, body = Problem)))]
pub async fn get(State(state): State<AppState>, auth: AuthUser, Path(id): Path<Uuid>) -> Result<Json<Asset>> {
    let user = auth.user_id;
    Ok(Json(state.reads.run(auth.reader(), async |tx| store::asset(tx, user, id).await).await?))
}

/// An edit of an asset: its content (in its type's shape) or its status.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAsset {
    #[schema(value_type = Option<Object>)]
    content: Option<Value>,
    /// `ready`, `draft`, `flagged`, `suspended` (out of every session, its review state
    /// kept) or `archived`.
    status: Option<AssetStatus>,
}

/// Edits an asset's content or status.
#[utoipa::path(patch, path = "/api/v1/assets/{id}", tag = "assets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The asset")), request_body = UpdateAsset,
    responses((status = 200, body = Asset), (status = 404, body = Problem),
        (status = 409, description = "A deleted item's copy was made since: it cannot be restored", body = Problem),
        (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
    Input(body): Input<UpdateAsset>,
) -> Result<Json<Asset>> {
    let work = Work::new(&state.db, &client, "asset.update", "asset").by(&auth);
    work.entity(id);
    work.run(body, async |tx, body| {
        let before = store::asset(tx, auth.user_id, id).await?;
        let mut v = Validator::default();
        if let Some(content) = &body.content
            && let Err(misfit) = check_shape(before.asset_type, content)
        {
            // The part at fault by name (`content.front`), for an edit form to say it there.
            match misfit.field {
                Some(part) => v.fail(&format!("content.{part}"), misfit.reason),
                None => v.fail("content", format!("does not fit a {}: {}", before.asset_type, misfit.reason)),
            };
        }
        v.finish()?;
        let after = store::update(tx, id, body.content.as_ref(), body.status)
            .await
            // A deleted item restored after generation made it again: the copy stands.
            .on_constraint(&["idx_generated_assets_fingerprint"], || {
                Error::conflict(
                    "status",
                    "cannot be restored: the material has this item again, made since it was deleted",
                )
            })?;
        let change = Change::diff(&before, &after);
        Ok((Json(after), change))
    })
    .await
}

/// Deletes an asset: it is archived, so that it leaves lists and study sessions while
/// learners' history of it is kept.
#[utoipa::path(delete, path = "/api/v1/assets/{id}", tag = "assets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The asset")),
    responses((status = 204, description = "Archived"), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    let work = Work::new(&state.db, &client, "asset.delete", "asset").by(&auth);
    work.entity(id);
    work.change(async |tx| {
        let before = store::asset(tx, auth.user_id, id).await?;
        store::archive(tx, id).await?;
        let change =
            Change::new(Some(json!({"status": before.status})), Some(json!({"status": AssetStatus::Archived})));
        Ok((StatusCode::NO_CONTENT, change))
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedItems {
    /// How many items were accepted.
    accepted: u64,
}

/// Accepts every new item of a material waiting for its owner's review (drafts "to
/// review", made while the `review_new_items` preference is on): they become `ready`.
/// Drafts for flaws are left as they are.
#[utoipa::path(post, path = "/api/v1/materials/{id}/assets/accept", tag = "assets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The material")),
    responses((status = 200, body = AcceptedItems), (status = 404, body = Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<AcceptedItems>> {
    let work = Work::new(&state.db, &client, "material.accept_assets", "material").by(&auth);
    work.entity(id);
    work.change(async |tx| {
        live_status(tx, auth.user_id, id).await?;
        let accepted = store::accept_to_review(tx, id).await?;
        Ok((Json(AcceptedItems { accepted }), Change::new(None, Some(json!({"accepted": accepted})))))
    })
    .await
}
