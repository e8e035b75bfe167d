//! The upkeep record's SQL and the sizes the status reports, on the privileged pool.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::Run;
use crate::error::Result;
use crate::states::{UpkeepKind, UpkeepOutcome};

/// Records a finished run.
pub async fn record(conn: &mut PgConnection, run: &Run) -> Result<()> {
    sqlx::query!(
        "INSERT INTO upkeep_runs (kind, node, started_at, finished_at, outcome, summary, next_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        run.kind.as_str(),
        run.node,
        run.started_at,
        run.finished_at,
        run.outcome.as_str(),
        run.summary,
        run.next_at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Each kind's last run: the last that was not skipped, else the last.
pub async fn last_runs(conn: &mut PgConnection) -> Result<Vec<Run>> {
    Ok(sqlx::query_as!(
        Run,
        r#"SELECT DISTINCT ON (kind) kind AS "kind: UpkeepKind", node, started_at, finished_at,
                  outcome AS "outcome: UpkeepOutcome", summary, next_at
             FROM upkeep_runs ORDER BY kind, outcome = 'skipped', finished_at DESC"#
    )
    .fetch_all(conn)
    .await?)
}

/// Each kind's next run: the soonest that a node announced at its last run. A node runs
/// it before the time it announced (from when its last run started, not finished), so
/// one whose time passed more than ten minutes ago is taken as gone.
pub async fn next_runs(conn: &mut PgConnection) -> Result<Vec<(UpkeepKind, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        r#"SELECT kind AS "kind!: UpkeepKind", min(next_at) AS "next_at!"
             FROM (SELECT DISTINCT ON (kind, node) kind, next_at FROM upkeep_runs
                    ORDER BY kind, node, finished_at DESC) last
            WHERE next_at > now() - interval '10 minutes'
            GROUP BY kind"#
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|row| (row.kind, row.next_at)).collect())
}

/// The database's size in bytes.
pub async fn database_bytes(conn: &mut PgConnection) -> Result<i64> {
    Ok(sqlx::query_scalar!(r#"SELECT pg_database_size(current_database()) AS "bytes!""#).fetch_one(conn).await?)
}

/// The `limit` largest tables of the public and archive schemas with their indexes and
/// TOAST, a partitioned table's partitions summed under its name; largest first.
pub async fn largest_tables(conn: &mut PgConnection, limit: i64) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT CASE WHEN rn.nspname = 'public' THEN r.relname::text ELSE rn.nspname || '.' || r.relname END
                      AS "name!",
                  sum(pg_total_relation_size(c.oid))::bigint AS "bytes!"
             FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_class r ON r.oid = coalesce(pg_partition_root(c.oid), c.oid)
             JOIN pg_namespace rn ON rn.oid = r.relnamespace
            WHERE c.relkind = 'r' AND n.nspname IN ('public', 'archive')
            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $1"#,
        limit
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|row| (row.name, row.bytes)).collect())
}
