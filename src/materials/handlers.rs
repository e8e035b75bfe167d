//! /api/v1/materials: create, list, read, edit, delete, reprocess, chunks.

use axum::Json;
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pipeline::extract;
use super::store::{self, fetch};
use super::{ContentChunk, Material, ingest};
use super::{fetch, sandbox};
use crate::app::AppState;
use crate::audit::{Change, Work};
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::{Client, Input, present};
use crate::http::page::{self, Newest, Page};
use crate::validate::Validator;

const DIFFICULTIES: [&str; 3] = ["beginner", "intermediate", "advanced"];
const MAX_TAGS: usize = 20;

/// A new material from pasted text (JSON). Files come as `multipart/form-data` instead,
/// with the same fields and a `file`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMaterial {
    title: String,
    /// `text` (the `text` field holds the material: plain text, or Markdown when it clearly is).
    source_type: String,
    text: Option<String>,
    source_url: Option<String>,
    description: Option<String>,
    subject_area: Option<String>,
    /// `beginner`, `intermediate` or `advanced`; found from readability when absent.
    difficulty_level: Option<String>,
    /// Found from the key terms when absent.
    tags: Option<Vec<String>>,
}

/// A material to create, from JSON or from a multipart upload.
struct Draft {
    title: String,
    source_type: String,
    description: Option<String>,
    subject_area: Option<String>,
    difficulty_level: Option<String>,
    tags: Option<Vec<String>>,
    text: Option<String>,
    source_url: Option<String>,
    file: Option<(Vec<u8>, Option<String>)>,
}

/// The request body of `POST /materials`, or why it could not be read (kept, like
/// [`Input`], so that the failure is audited).
pub struct NewMaterial(Result<Draft>);

impl FromRequest<AppState> for NewMaterial {
    type Rejection = Error;

    async fn from_request(request: Request, state: &AppState) -> Result<Self> {
        let multipart = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        if !multipart {
            let Input(body) = Input::<CreateMaterial>::from_request(request, state).await?;
            return Ok(NewMaterial(body.map(|body| Draft {
                title: body.title,
                source_type: body.source_type,
                description: body.description,
                subject_area: body.subject_area,
                difficulty_level: body.difficulty_level,
                tags: body.tags,
                text: body.text,
                source_url: body.source_url,
                file: None,
            })));
        }
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(|rejection| Error::BadRequest(rejection.body_text()))?;
        Ok(NewMaterial(read_upload(multipart).await))
    }
}

/// The fields of a multipart upload: `file`, and optionally `title`, `description`,
/// `subject_area`, `difficulty_level`, `tags` (repeated, or separated by commas).
async fn read_upload(mut multipart: Multipart) -> Result<Draft> {
    let too_large = |err: MultipartError| match err.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
        _ => Error::BadRequest(err.body_text()),
    };
    let mut draft = Draft {
        title: String::new(),
        source_type: "upload".to_owned(),
        description: None,
        subject_area: None,
        difficulty_level: None,
        tags: None,
        text: None,
        source_url: None,
        file: None,
    };
    while let Some(field) = multipart.next_field().await.map_err(too_large)? {
        // Names come from the part's headers, which cannot hold a NUL; values can.
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().map(str::to_owned);
            let bytes = field.bytes().await.map_err(too_large)?;
            draft.file = Some((bytes.to_vec(), file_name));
            continue;
        }
        let value = field.text().await.map_err(too_large)?;
        Validator::default().text(&name, &value).finish()?;
        match name.as_str() {
            "title" => draft.title = value,
            "description" => draft.description = Some(value),
            "subject_area" => draft.subject_area = Some(value),
            "difficulty_level" => draft.difficulty_level = Some(value),
            "tags" => draft.tags.get_or_insert_with(Vec::new).extend(value.split(',').map(str::to_owned)),
            other => {
                return Err(Error::invalid(other, "is not a field of a material"));
            }
        }
    }
    // Without a title, the file's name (less its extension) serves.
    if draft.title.trim().is_empty()
        && let Some((_, Some(name))) = &draft.file
    {
        draft.title = name.rsplit_once('.').map_or(name.as_str(), |(stem, _)| stem).to_owned();
    }
    Ok(draft)
}

fn check_common(v: &mut Validator, description: Option<&str>, subject: Option<&str>, difficulty: Option<&str>) {
    v.check(description.is_none_or(|d| d.chars().count() <= 10_000), "description", "must be at most 10000 characters");
    v.check(subject.is_none_or(|s| s.chars().count() <= 100), "subject_area", "must be at most 100 characters");
    v.check(
        difficulty.is_none_or(|d| DIFFICULTIES.contains(&d)),
        "difficulty_level",
        "must be beginner, intermediate or advanced",
    );
}

fn check_title(v: &mut Validator, title: &str) {
    v.check(!title.trim().is_empty(), "title", "must not be empty");
    v.check(title.chars().count() <= 255, "title", "must be at most 255 characters");
}

/// Trimmed, without duplicates or empties; each at most 50 characters, at most 20.
fn clean_tags(v: &mut Validator, tags: Option<Vec<String>>) -> Option<Vec<String>> {
    let mut clean: Vec<String> = Vec::new();
    for tag in tags? {
        let tag = tag.trim().to_owned();
        if !clean.contains(&tag) {
            clean.push(tag);
        }
    }
    v.check(clean.len() <= MAX_TAGS, "tags", format!("must be at most {MAX_TAGS}"));
    v.check(clean.iter().all(|t| (1..=50).contains(&t.chars().count())), "tags", "must each be 1 to 50 characters");
    Some(clean)
}

/// Where a new material's content comes from.
enum Origin {
    /// Sent with the request: stored in `material_sources` now.
    Sent { media_type: &'static str, file_name: Option<String>, bytes: Vec<u8> },
    /// A page to fetch: the ingestion job fetches it.
    Url(url::Url),
}

/// How long an add identical to an earlier one returns the material the first made
/// instead of adding another: a double click, or a client retrying after a lost answer.
const SAME_ADD_WITHIN_SECS: f64 = 30.0;

/// What makes two adds the same (SHA-256, hex): the title, the details, and the text or
/// file sent or the page to fetch.
fn add_digest(draft: &Draft, tags: &Option<Vec<String>>, origin: &Origin) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let details = json!([
        draft.title.trim(),
        draft.source_type,
        draft.description,
        draft.subject_area,
        draft.difficulty_level,
        tags,
    ]);
    hasher.update(details.to_string());
    match origin {
        Origin::Sent { media_type, file_name, bytes } => {
            hasher.update(json!([media_type, file_name, bytes.len()]).to_string());
            hasher.update(bytes);
        }
        Origin::Url(url) => hasher.update(url.as_str()),
    }
    crate::digest::hex(&hasher.finalize())
}

/// The material's origin, or None with the reasons recorded in `v`.
async fn origin_of(v: &mut Validator, draft: &mut Draft, state: &AppState) -> Result<Option<Origin>> {
    match draft.source_type.as_str() {
        "text" => {
            let text = draft.text.take().unwrap_or_default();
            v.check(!text.trim().is_empty(), "text", "must not be empty");
            v.check(draft.source_url.is_none(), "source_url", "is only for source_type url");
            // Read as written unless it is clearly Markdown (docs/ingestion.md).
            let media_type = if extract::looks_like_markdown(&text) { extract::MARKDOWN } else { extract::TEXT };
            Ok(Some(Origin::Sent { media_type, file_name: None, bytes: text.into_bytes() }))
        }
        "upload" => {
            let Some((bytes, name)) = draft.file.take() else {
                v.fail("file", "is required");
                return Ok(None);
            };
            if bytes.is_empty() {
                v.fail("file", "is empty");
                return Ok(None);
            }
            let media_type = extract::detect(&bytes, name.as_deref()).ok_or_else(|| {
                Error::UnsupportedMediaType(
                    "The file is not a PDF, DOCX, EPUB, HTML, Markdown or text file.".to_owned(),
                )
            })?;
            // A PDF, DOCX or EPUB that cannot even be opened is refused now, not after a job.
            // (In a reader process of its own: a hostile file cannot harm the server.)
            if let Err(why) = sandbox::check(&state.materials, media_type, &bytes).await? {
                v.fail("file", why);
                return Ok(None);
            }
            Ok(Some(Origin::Sent { media_type, file_name: name, bytes }))
        }
        "url" => {
            v.check(draft.text.is_none(), "text", "is only for source_type text");
            let Some(url) = draft.source_url.as_deref() else {
                v.fail("source_url", "is required");
                return Ok(None);
            };
            let url = match fetch::parse(url) {
                Ok(url) => url,
                Err(why) => {
                    v.fail("source_url", why);
                    return Ok(None);
                }
            };
            // Refused now rather than after a failed job (and checked again when fetched).
            if let Err(error) = fetch::resolve(&url, &state.materials).await {
                v.fail("source_url", error.to_string());
                return Ok(None);
            }
            Ok(Some(Origin::Url(url)))
        }
        _ => {
            v.fail("source_type", "must be text, url or upload");
            Ok(None)
        }
    }
}

/// Adds a material and starts its ingestion: 202, `status: "processing"`; poll it until
/// `ready` (or `failed`, with `metadata.error`). Send JSON with `text`, or
/// `multipart/form-data` with a `file` (PDF, DOCX, EPUB, HTML, Markdown or text, told from its
/// content) and the other fields.
#[utoipa::path(post, path = "/api/v1/materials", tag = "materials", security(("bearer" = [])),
    request_body(content((CreateMaterial = "application/json"), (CreateMaterial = "multipart/form-data"))),
    responses(
        (status = 202, description = "Accepted; ingestion runs in the background", body = Material),
        (status = 200, description = "The same add (title, details and content) was made in the last 30 seconds: \
            the material it made, not another", body = Material),
        (status = 401, body = Problem), (status = 413, description = "Too large", body = Problem),
        (status = 415, description = "Not a supported file", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
    ))]
pub async fn create(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    NewMaterial(draft): NewMaterial,
) -> Result<(StatusCode, Json<Material>)> {
    let work = Work::new(&state.db, &client, "material.create", "material").by(&auth);
    // Checked before the transaction: an upload's check runs a reader process.
    let checked = async {
        let mut draft = draft?;
        let mut v = Validator::default();
        let origin = origin_of(&mut v, &mut draft, &state).await?;
        check_title(&mut v, &draft.title);
        check_common(
            &mut v,
            draft.description.as_deref(),
            draft.subject_area.as_deref(),
            draft.difficulty_level.as_deref(),
        );
        let tags = clean_tags(&mut v, draft.tags.take());
        v.finish()?;
        let origin = origin.ok_or_else(|| Error::Internal("a valid material without an origin".to_owned()))?;
        Ok((draft, tags, origin))
    };
    work.run(checked.await, async |tx, (draft, tags, origin)| {
        let digest = add_digest(&draft, &tags, &origin);
        if let Some(first) = store::same_add(tx, auth.user_id, &digest, SAME_ADD_WITHIN_SECS).await? {
            work.entity(first.id);
            return Ok(((StatusCode::OK, Json(first)), Change::nothing()));
        }
        let source_url = match &origin {
            Origin::Url(url) => Some(url.to_string()),
            Origin::Sent { .. } => None,
        };
        let added = store::Added {
            title: draft.title.trim(),
            description: draft.description.as_deref(),
            source_url: source_url.as_deref(),
            source_type: &draft.source_type,
            subject_area: draft.subject_area.as_deref(),
            difficulty_level: draft.difficulty_level.as_deref(),
            tags: tags.as_deref(),
            add_digest: &digest,
        };
        let material = store::insert(tx, auth.user_id, &added).await?;
        let mut new = json!({"title": material.title, "source_type": material.source_type, "source_url": source_url});
        if let Origin::Sent { media_type, file_name, bytes } = origin {
            store::save_source(tx, auth.user_id, material.id, media_type, file_name.as_deref(), &bytes).await?;
            new["media_type"] = json!(media_type);
            new["file_name"] = json!(file_name);
            new["bytes"] = json!(bytes.len());
        }
        ingest::enqueue(tx, &state, auth.user_id, material.id).await?;
        work.entity(material.id);
        Ok(((StatusCode::ACCEPTED, Json(material)), Change::created(new)))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// `processing`, `ready` or `failed`.
    status: Option<String>,
    subject_area: Option<String>,
    /// Materials carrying this tag.
    tag: Option<String>,
    /// Titles like this (fuzzy: a typo still matches) or containing it: a filter of this
    /// list, which stays newest first and paged by its position. To search titles, tags,
    /// descriptions and text, ranked, with snippets, use GET /api/v1/search.
    q: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The caller's materials, newest first.
#[utoipa::path(get, path = "/api/v1/materials", tag = "materials", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Material>), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Material>>> {
    let (limit, cursor) = page::params::<Newest>(query.limit, query.cursor.as_deref())?;
    let filter = store::Filter {
        status: query.status.as_deref(),
        subject_area: query.subject_area.as_deref(),
        tag: query.tag.as_deref(),
        title: query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()),
        ids: None,
    };
    let user = auth.user_id;
    let rows = state
        .reads
        .run(auth.reader(), async |tx| store::list(tx, user, &filter, cursor, i64::from(limit) + 1).await)
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |m| (m.created_at, m.id))))
}

/// One material.
#[utoipa::path(get, path = "/api/v1/materials/{id}", tag = "materials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The material")),
    responses((status = 200, body = Material), (status = 404, body = Problem)))]
pub async fn get(State(state): State<AppState>, auth: AuthUser, Path(id): Path<Uuid>) -> Result<Json<Material>> {
    let user = auth.user_id;
    Ok(Json(state.reads.run(auth.reader(), async |tx| fetch(tx, user, id).await).await?))
}

/// A change to a material: absent fields are left alone, `null` clears.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMaterial {
    title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    subject_area: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    difficulty_level: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<String>>)]
    tags: Option<Option<Vec<String>>>,
}

/// Edits title, description, subject area, difficulty or tags.
#[utoipa::path(patch, path = "/api/v1/materials/{id}", tag = "materials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The material")), request_body = UpdateMaterial,
    responses((status = 200, body = Material), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
    Input(body): Input<UpdateMaterial>,
) -> Result<Json<Material>> {
    let work = Work::new(&state.db, &client, "material.update", "material").by(&auth);
    work.entity(id);
    let checked = body.and_then(|body| {
        let mut v = Validator::default();
        if let Some(title) = &body.title {
            check_title(&mut v, title);
        }
        check_common(
            &mut v,
            body.description.clone().flatten().as_deref(),
            body.subject_area.clone().flatten().as_deref(),
            body.difficulty_level.clone().flatten().as_deref(),
        );
        let tags = body.tags.clone().map(|tags| clean_tags(&mut v, tags));
        v.finish()?;
        Ok((body, tags))
    });
    work.run(checked, async |tx, (body, tags)| {
        let before = fetch(tx, auth.user_id, id).await?;
        let edit = store::Edit {
            title: body.title.as_deref().map(str::trim),
            description: body.description.as_ref().map(Option::as_deref),
            subject_area: body.subject_area.as_ref().map(Option::as_deref),
            difficulty_level: body.difficulty_level.as_ref().map(Option::as_deref),
            tags: tags.as_ref().map(Option::as_deref),
        };
        let after = store::update(tx, auth.user_id, id, &edit).await?;
        let change = Change::diff(&before, &after);
        Ok((Json(after), change))
    })
    .await
}

/// Deletes a material: it and its chunks and assets leave every list and search.
#[utoipa::path(delete, path = "/api/v1/materials/{id}", tag = "materials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The material")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    let work = Work::new(&state.db, &client, "material.delete", "material").by(&auth);
    work.entity(id);
    work.change(async |tx| {
        let title = store::delete(tx, auth.user_id, id).await?.ok_or(Error::NotFound)?;
        Ok((StatusCode::NO_CONTENT, Change::new(Some(json!({"title": title})), Some(json!({"deleted": true})))))
    })
    .await
}

/// Runs ingestion again (its chunks are replaced all at once when it finishes).
#[utoipa::path(post, path = "/api/v1/materials/{id}/reprocess", tag = "materials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The material")),
    responses((status = 202, body = Material), (status = 404, body = Problem)))]
pub async fn reprocess(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, Json<Material>)> {
    let work = Work::new(&state.db, &client, "material.reprocess", "material").by(&auth);
    work.entity(id);
    work.change(async |tx| {
        let material = store::reprocess(tx, auth.user_id, id).await?.ok_or(Error::NotFound)?;
        ingest::enqueue(tx, &state, auth.user_id, id).await?;
        Ok(((StatusCode::ACCEPTED, Json(material)), Change::created(json!({"status": "processing"}))))
    })
    .await
}

#[derive(Deserialize, IntoParams)]
pub struct ChunkQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

/// A material's chunks, in `chunk_order`.
#[utoipa::path(get, path = "/api/v1/materials/{id}/chunks", tag = "materials", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The material"), ChunkQuery),
    responses((status = 200, body = Page<ContentChunk>), (status = 404, body = Problem)))]
pub async fn chunks(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<Uuid>,
    Query(query): Query<ChunkQuery>,
) -> Result<Json<Page<ContentChunk>>> {
    let (limit, after) = page::params::<i32>(query.limit, query.cursor.as_deref())?;
    let user = auth.user_id;
    let rows = state
        .reads
        .run(auth.reader(), async |tx| {
            fetch(tx, user, id).await?;
            store::chunks(tx, id, after.unwrap_or(-1), Some(i64::from(limit) + 1)).await
        })
        .await?;
    Ok(Json(Page::from_rows(rows, limit, |chunk| chunk.chunk_order)))
}
