//! The generate area's reads that more than one caller shares.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;

/// A material's asset as its page lists it.
#[derive(sqlx::FromRow)]
pub struct Shown {
    pub id: Uuid,
    pub asset_type: String,
    pub content: Value,
    pub status: String,
}

/// Material `material`'s assets a learner sees (neither drafts nor archived), in the
/// order of their chunks (the material's own first), then by type.
#[tracing::instrument(skip(conn))]
pub async fn shown(conn: &mut PgConnection, material: Uuid) -> Result<Vec<Shown>> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.asset_type, a.content, a.status FROM generated_assets a
           LEFT JOIN content_chunks c ON c.id = a.content_chunk_id
          WHERE a.study_material_id = $1 AND a.status NOT IN ('archived', 'draft')
          ORDER BY coalesce(c.chunk_order, -1), a.asset_type, a.id",
    )
    .bind(material)
    .fetch_all(conn)
    .await?)
}
