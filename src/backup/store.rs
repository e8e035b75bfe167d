//! Backup's SQL: the catalog it reads, the snapshot a dump is taken in, scratch
//! databases. The statements that name a table or a database are assembled at run time
//! from the catalog's names or the code's own (PostgreSQL takes no parameter for an
//! identifier); the others are checked at compile time.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::error::Result;

/// Every table of the public and archive schemas (partitioned ones whole), quoted.
pub async fn tables(conn: &mut PgConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT format('%I.%I', n.nspname, c.relname) AS "table!"
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN ('public', 'archive') AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            ORDER BY 1"#
    )
    .fetch_all(conn)
    .await?)
}

/// `table`'s rows and the sum of their hashes (as text: it outgrows a bigint). Assembled
/// at run time, from a name [`tables`] read.
pub async fn fingerprint(conn: &mut PgConnection, table: &str) -> Result<(i64, String)> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text
           FROM {table} t"
    )))
    .fetch_one(conn)
    .await?)
}

/// Makes `tx` a read-only snapshot other sessions can share (pg_dump's): its name, and
/// when it was taken.
pub async fn export_snapshot(tx: &mut PgConnection) -> Result<(String, DateTime<Utc>)> {
    sqlx::query!("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    let row = sqlx::query!(r#"SELECT pg_export_snapshot() AS "snapshot!", now() AS "now!""#).fetch_one(tx).await?;
    Ok((row.snapshot, row.now))
}

/// The WAL file being written now (a base backup's first).
pub async fn wal_file(pool: &PgPool) -> Result<String> {
    Ok(sqlx::query_scalar!(r#"SELECT pg_walfile_name(pg_current_wal_lsn()) AS "file!""#).fetch_one(pool).await?)
}

/// How many tables the public schema holds.
pub async fn public_tables(pool: &PgPool) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "tables!" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"#
    )
    .fetch_one(pool)
    .await?)
}

/// The name of the database `pool` connects to.
pub async fn current_database(pool: &PgPool) -> Result<String> {
    Ok(sqlx::query_scalar!(r#"SELECT current_database() AS "name!""#).fetch_one(pool).await?)
}

/// Creates the request role dumps grant to, unless the server has it (roles belong to
/// the server, not to dumps).
pub async fn ensure_request_role(pool: &PgPool) -> Result<()> {
    sqlx::query!(
        "DO $$ BEGIN
             IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'studyhall_app') THEN
                 CREATE ROLE studyhall_app NOLOGIN;
             END IF;
         END $$"
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Creates the scratch database `name` (the code's own). Assembled at run time.
pub async fn create_database(pool: &PgPool, name: &str) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(pool).await?;
    Ok(())
}

/// Drops the scratch database `name`, if it is there. Assembled at run time.
pub async fn drop_database(pool: &PgPool, name: &str) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(pool).await?;
    Ok(())
}
