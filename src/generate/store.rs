//! The generate area's reads that more than one caller shares.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;
use crate::states::{AssetStatus, AssetType};

/// A material's asset as its page lists it, with the chunk it comes from.
#[derive(sqlx::FromRow)]
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

/// The assets `filter` lets through (`items`), and the page each falls on (`paged`), for
/// [`page`]: $1 the material, $2 the kind, $3 the status, $4 assets a page.
macro_rules! paged_sql {
    () => {
        "WITH items AS (
             SELECT a.id, a.asset_type, a.content, a.status, c.chunk_order, c.metadata -> 'heading_path' AS heading_path,
                    a.status = 'draft' AND coalesce((a.metadata ->> 'to_review')::boolean, false) AS to_review,
                    coalesce(c.chunk_order, -1) AS ord
               FROM generated_assets a LEFT JOIN content_chunks c ON c.id = a.content_chunk_id
              WHERE a.study_material_id = $1 AND ($2::text IS NULL OR a.asset_type = $2)
                AND (a.status = $3 OR ($3::text IS NULL AND a.status <> 'archived'))),
         chunks AS (SELECT ord, coalesce(sum(count(*)) OVER (ORDER BY ord ROWS BETWEEN UNBOUNDED PRECEDING
                                                                            AND 1 PRECEDING), 0)::bigint / $4 AS slot
                      FROM items GROUP BY ord),
         -- Numbered without gaps: a chunk of more than a page's assets leaves no empty page.
         paged AS (SELECT ord, dense_rank() OVER (ORDER BY slot) AS page FROM chunks) "
    };
}

/// Page `page` (from 1) of material `material`'s assets that `filter` lets through, in
/// the order of their chunks (the material's own first), then by type. A chunk's assets
/// stay on one page: a chunk goes on the page where its first asset falls when pages
/// hold `per_page` each, so that a page has `per_page` assets plus at most one chunk's.
#[tracing::instrument(skip(conn))]
pub async fn page(conn: &mut PgConnection, material: Uuid, filter: Filter, page: i64, per_page: i64) -> Result<Shelf> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        shown: Shown,
        pages: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(concat!(
        paged_sql!(),
        "SELECT i.id, i.asset_type, i.content, i.status, i.chunk_order, i.heading_path, i.to_review,
                (SELECT max(page) FROM paged) AS pages
           FROM items i JOIN paged p ON p.ord = i.ord
          WHERE p.page = $5
          ORDER BY i.ord, i.asset_type, i.id"
    ))
    .bind(material)
    .bind(filter.kind)
    .bind(filter.status)
    .bind(per_page)
    .bind(page)
    .fetch_all(&mut *conn)
    .await?;
    let pages = match rows.first() {
        Some(row) => row.pages,
        // Past the last page, or nothing to list: how many pages there are, for the links.
        None => {
            sqlx::query_scalar(concat!(paged_sql!(), "SELECT coalesce(max(page), 0) FROM paged"))
                .bind(material)
                .bind(filter.kind)
                .bind(filter.status)
                .bind(per_page)
                .fetch_one(&mut *conn)
                .await?
        }
    };
    Ok(Shelf { assets: rows.into_iter().map(|r| r.shown).collect(), pages })
}

/// How many of material `material`'s assets have each status, and (`true`) how many of
/// its drafts wait for review.
#[tracing::instrument(skip(conn))]
pub async fn status_counts(conn: &mut PgConnection, material: Uuid) -> Result<Vec<(AssetStatus, bool, i64)>> {
    Ok(sqlx::query_as(
        "SELECT status, status = 'draft' AND coalesce((metadata ->> 'to_review')::boolean, false), count(*)
           FROM generated_assets WHERE study_material_id = $1 GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(material)
    .fetch_all(conn)
    .await?)
}

/// Sets material `material`'s drafts waiting for review `ready`; how many.
#[tracing::instrument(skip(conn))]
pub async fn accept_to_review(conn: &mut PgConnection, material: Uuid) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE generated_assets SET status = 'ready', metadata = metadata - 'to_review'
          WHERE study_material_id = $1 AND status = 'draft' AND (metadata ->> 'to_review')::boolean",
    )
    .bind(material)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}
