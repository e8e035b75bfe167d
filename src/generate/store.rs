//! The generate area's SQL: assets (listed, read, edited, archived, accepted), what a
//! material's page shows of them, and what the generation job reads and stores.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::Draft;
use super::flaws;
use super::http::Asset;
use crate::error::{Error, Result};
use crate::http::page::Newest;
use crate::states::{AssetStatus, AssetType};

/// `sqlx::query_as!` of [`Asset`]s: `$head`, the columns of assets aliased `a`, `$tail`.
macro_rules! query_assets {
    ($head:literal, $tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Asset,
            $head
                + r#"a.id, a.study_material_id, a.content_chunk_id, a.asset_type AS "asset_type: AssetType", a.content,
                     a.metadata, a.generation_model, a.created_at, a.updated_at, a.status AS "status: AssetStatus",
                     a.quality_score, a.difficulty_level, a.generation_params"#
                + $tail
            $(, $arg)*
        )
    };
}

/// Material `material`'s assets of `asset_type` and `status` (without: every type, and
/// every status but archived and draft), newest first, after `cursor`, at most `limit`.
#[tracing::instrument(skip(conn))]
pub async fn assets(
    conn: &mut PgConnection,
    material: Uuid,
    asset_type: Option<&str>,
    status: Option<&str>,
    cursor: Option<Newest>,
    limit: i64,
) -> Result<Vec<Asset>> {
    Ok(query_assets!(
        "SELECT ",
        " FROM generated_assets a
          WHERE a.study_material_id = $1
            AND ($2::text IS NULL OR a.asset_type = $2)
            AND (a.status = $3 OR ($3::text IS NULL AND a.status NOT IN ('archived', 'draft')))
            AND studyhall_older_than(a.created_at, a.id, $4, $5)
          ORDER BY a.created_at DESC, a.id DESC LIMIT $6",
        material,
        asset_type,
        status,
        cursor.map(|c| c.0),
        cursor.map(|c| c.1),
        limit,
    )
    .fetch_all(conn)
    .await?)
}

/// The caller's asset `id`, of a live material, or 404.
#[tracing::instrument(skip(conn))]
pub async fn asset(conn: &mut PgConnection, user: Uuid, id: Uuid) -> Result<Asset> {
    query_assets!(
        "SELECT ",
        " FROM generated_assets a JOIN live_study_materials m ON m.id = a.study_material_id
          WHERE a.id = $1 AND m.user_id = $2",
        id,
        user,
    )
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound)
}

/// Sets asset `id`'s content (marked edited by its owner) and status, each if given.
#[tracing::instrument(skip(conn, content))]
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    content: Option<&Value>,
    status: Option<AssetStatus>,
) -> Result<Asset> {
    Ok(query_assets!(
        "UPDATE generated_assets a SET
             content = coalesce($2, a.content),
             status = coalesce($3, a.status),
             metadata = CASE WHEN $2 IS NULL THEN a.metadata
                             ELSE coalesce(a.metadata, '{}') || '{\"edited_by_owner\": true}' END
          WHERE a.id = $1 RETURNING ",
        "",
        id,
        content,
        status.map(AssetStatus::as_str),
    )
    .fetch_one(conn)
    .await?)
}

/// Archives asset `id`: out of lists and sessions, kept for learners' history.
#[tracing::instrument(skip(conn))]
pub async fn archive(conn: &mut PgConnection, id: Uuid) -> Result<()> {
    sqlx::query!("UPDATE generated_assets SET status = 'archived' WHERE id = $1", id).execute(conn).await?;
    Ok(())
}

/// A material's asset as its page lists it, with the chunk it comes from.
pub struct Shown {
    pub id: Uuid,
    pub asset_type: AssetType,
    pub content: Value,
    pub status: AssetStatus,
    /// None for the material's own summary (or an asset whose chunk was replaced).
    pub chunk_order: Option<i32>,
    /// The chunk's `metadata.heading_path`: its headings, outermost first.
    pub heading_path: Option<Value>,
    /// A draft made while its owner reviews new items, waiting to be accepted.
    pub to_review: bool,
}

/// Which of a material's assets a page lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    pub kind: Option<AssetType>,
    /// None: every status but archived.
    pub status: Option<AssetStatus>,
}

/// A page of a material's assets, and how many pages the filter makes.
pub struct Shelf {
    pub assets: Vec<Shown>,
    pub pages: i64,
}

/// Page `page` (from 1) of material `material`'s assets that `filter` lets through, in
/// the order of their chunks (the material's own first), then by type. A chunk's assets
/// stay on one page: a chunk goes on the page where its first asset falls when pages
/// hold `per_page` each, so that a page has `per_page` assets plus at most one chunk's.
#[tracing::instrument(skip(conn))]
pub async fn page(conn: &mut PgConnection, material: Uuid, filter: Filter, page: i64, per_page: i64) -> Result<Shelf> {
    let rows = sqlx::query_file!(
        "src/generate/sql/page.sql",
        material,
        filter.kind.map(AssetType::as_str),
        filter.status.map(AssetStatus::as_str),
        per_page,
        page,
    )
    .fetch_all(conn)
    .await?;
    // Every row tells how many pages there are, also past the last (for the links).
    let pages = rows.first().map_or(0, |row| row.pages);
    let assets = rows
        .into_iter()
        .filter_map(|row| {
            Some(Shown {
                id: row.id?,
                asset_type: row.asset_type?,
                content: row.content?,
                status: row.status?,
                chunk_order: row.chunk_order,
                heading_path: row.heading_path,
                to_review: row.to_review?,
            })
        })
        .collect();
    Ok(Shelf { assets, pages })
}

/// How many of material `material`'s assets have each status, and (`true`) how many of
/// its drafts wait for review.
#[tracing::instrument(skip(conn))]
pub async fn status_counts(conn: &mut PgConnection, material: Uuid) -> Result<Vec<(AssetStatus, bool, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT status AS "status: AssetStatus",
                  status = 'draft' AND coalesce((metadata ->> 'to_review')::boolean, false) AS "to_review!",
                  count(*) AS "count!"
             FROM generated_assets WHERE study_material_id = $1 GROUP BY 1, 2 ORDER BY 1, 2"#,
        material
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|row| (row.status, row.to_review, row.count)).collect())
}

/// Sets material `material`'s drafts waiting for review `ready`; how many.
#[tracing::instrument(skip(conn))]
pub async fn accept_to_review(conn: &mut PgConnection, material: Uuid) -> Result<u64> {
    let done = sqlx::query!(
        "UPDATE generated_assets SET status = 'ready', metadata = metadata - 'to_review'
          WHERE study_material_id = $1 AND status = 'draft' AND (metadata ->> 'to_review')::boolean",
        material
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// What generation needs of a material besides its chunks.
pub struct ToGenerate {
    pub difficulty_level: Option<String>,
    pub metadata: Option<Value>,
    /// The learner's.
    pub preferences: Option<Value>,
}

/// What generation needs of the learner's live, ready material `material`; None if it is
/// deleted or being processed.
#[tracing::instrument(skip(conn))]
pub async fn to_generate(conn: &mut PgConnection, user: Uuid, material: Uuid) -> Result<Option<ToGenerate>> {
    Ok(sqlx::query_as!(
        ToGenerate,
        "SELECT m.difficulty_level, m.metadata, u.preferences
           FROM live_study_materials m JOIN users u ON u.id = m.user_id
          WHERE m.id = $1 AND m.user_id = $2 AND m.status = 'ready'",
        material,
        user,
    )
    .fetch_optional(conn)
    .await?)
}

/// A chunk generation reads.
pub struct Chunk {
    pub id: Uuid,
    pub chunk_order: i32,
    pub chunk_type: String,
    pub content: String,
    pub summary: Option<String>,
    pub relevance_score: Option<f64>,
    pub language: Option<String>,
    pub heading_path: Vec<String>,
}

/// Material `material`'s chunks, in order.
#[tracing::instrument(skip(conn))]
pub async fn chunks(conn: &mut PgConnection, material: Uuid) -> Result<Vec<Chunk>> {
    Ok(sqlx::query_as!(
        Chunk,
        r#"SELECT id, chunk_order, chunk_type, content, summary, relevance_score, language,
                  ARRAY(SELECT jsonb_array_elements_text(coalesce(metadata->'heading_path', '[]'))) AS "heading_path!"
             FROM content_chunks
            WHERE study_material_id = $1 ORDER BY chunk_order"#,
        material
    )
    .fetch_all(conn)
    .await?)
}

/// Stores what job `job` made for material `material`, in one statement, skipping those
/// the material has already (their fingerprint); items the checker scored under
/// flaws::READY are drafts, and with `to_review` every item is a draft, the others "to
/// review". How many were stored.
#[tracing::instrument(skip(conn, drafts), fields(drafts = drafts.len()))]
pub async fn insert(
    conn: &mut PgConnection,
    material: Uuid,
    job: Uuid,
    drafts: &[Draft],
    to_review: bool,
) -> Result<u64> {
    let stored = sqlx::query!(
        r#"INSERT INTO generated_assets (study_material_id, content_chunk_id, asset_type, content, metadata,
                                         generation_model, quality_score, difficulty_level, generation_params, status)
           SELECT $1, chunk, kind, content,
                  meta || jsonb_build_object('job_id', $2::uuid)
                       || CASE WHEN $12 AND status = 'ready' THEN '{"to_review": true}'::jsonb ELSE '{}' END,
                  model, quality, level, params, CASE WHEN $12 THEN 'draft' ELSE status END
             FROM unnest($3::uuid[], $4::text[], $5::jsonb[], $6::float8[], $7::int[], $8::jsonb[], $9::text[],
                         $10::jsonb[], $11::text[])
                  AS a(chunk, kind, content, quality, level, params, model, meta, status)
           ON CONFLICT (study_material_id, (generation_params->>'fingerprint'))
              WHERE generation_params ? 'fingerprint' AND status <> 'archived'
           DO NOTHING"#,
        material,
        job,
        &drafts.iter().map(|d| d.content_chunk_id).collect::<Vec<_>>() as &[Option<Uuid>],
        &drafts.iter().map(|d| d.asset_type.as_str()).collect::<Vec<_>>() as &[&str],
        &drafts.iter().map(|d| d.content.clone()).collect::<Vec<_>>(),
        &drafts.iter().map(|d| d.quality_score).collect::<Vec<_>>(),
        &drafts.iter().map(|d| d.difficulty_level).collect::<Vec<_>>(),
        &drafts.iter().map(|d| d.generation_params.clone()).collect::<Vec<_>>(),
        &drafts.iter().map(|d| d.generation_model.as_str()).collect::<Vec<_>>() as &[&str],
        &drafts.iter().map(|d| d.metadata.clone()).collect::<Vec<_>>(),
        &drafts.iter().map(|d| flaws::status(d.quality_score).as_str()).collect::<Vec<_>>() as &[&str],
        to_review,
    )
    .execute(conn)
    .await?;
    Ok(stored.rows_affected())
}
