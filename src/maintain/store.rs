//! The maintenance run's SQL, on the privileged connection. The statements that name a
//! table or a month's partition are assembled at run time, from the code's own table
//! names and month suffixes (never from input): PostgreSQL takes no parameter for an
//! identifier. The others are checked at compile time.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::Result;

/// The database's clock.
pub async fn now(conn: &mut PgConnection) -> Result<DateTime<Utc>> {
    Ok(sqlx::query_scalar!(r#"SELECT now() AS "now!""#).fetch_one(conn).await?)
}

/// The names of `table`'s partitions.
pub async fn partitions(conn: &mut PgConnection, table: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT c.relname::text AS "name!" FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = $1::text::regclass"#,
        table
    )
    .fetch_all(conn)
    .await?)
}

/// Creates `table`'s partition of `month`, moving its rows out of DEFAULT.
pub async fn create_partition(conn: &mut PgConnection, table: &str, month: NaiveDate) -> Result<()> {
    sqlx::query!("SELECT studyhall_create_month_partition($1::text::regclass, $2)", table, month)
        .fetch_one(conn)
        .await?;
    Ok(())
}

/// How many rows `relation` (a table of the code's, or a month's partition) has.
/// Assembled at run time.
pub async fn count(conn: &mut PgConnection, relation: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {relation}"))).fetch_one(conn).await?)
}

/// The months of the rows in `table`'s DEFAULT partition (by `key`), with how many.
/// Assembled at run time.
pub async fn strays(conn: &mut PgConnection, table: &str, key: &str) -> Result<Vec<(NaiveDate, i64)>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT (date_trunc('month', {key}, 'UTC') AT TIME ZONE 'UTC')::date AS month, count(*)
           FROM {table}_default GROUP BY 1 ORDER BY 1"
    )))
    .fetch_all(conn)
    .await?)
}

/// Detaches `partition` from `table` and drops it. Assembled at run time.
pub async fn drop_partition(conn: &mut PgConnection, table: &str, partition: &str) -> Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE {table} DETACH PARTITION {partition}")))
        .execute(&mut *conn)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {partition}"))).execute(conn).await?;
    Ok(())
}

/// Detaches `partition` from `audit_logs` into the `archive` schema, where nobody may
/// change it. Assembled at run time.
pub async fn archive_audit_partition(conn: &mut PgConnection, partition: &str) -> Result<()> {
    for statement in [
        format!("ALTER TABLE audit_logs DETACH PARTITION {partition}"),
        format!("ALTER TABLE {partition} SET SCHEMA archive"),
        format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON archive.{partition} FROM PUBLIC, CURRENT_USER"),
        format!("REVOKE ALL ON archive.{partition} FROM studyhall_app"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The tables of the `archive` schema.
pub async fn archived_tables(conn: &mut PgConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar!(
        r#"SELECT relname::text AS "name!" FROM pg_class
            WHERE relnamespace = 'archive'::regnamespace AND relkind = 'r' ORDER BY 1"#
    )
    .fetch_all(conn)
    .await?)
}

/// The interactions made from `lo` to before `hi`, and of how many learners.
pub async fn interactions_between(conn: &mut PgConnection, lo: DateTime<Utc>, hi: DateTime<Utc>) -> Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "rows!", count(DISTINCT user_id) AS "learners!" FROM interactions
            WHERE created_at >= $1 AND created_at < $2"#,
        lo,
        hi,
    )
    .fetch_one(conn)
    .await?;
    Ok((row.rows, row.learners))
}

/// The audit rows written from `lo` to before `hi`.
pub async fn audit_rows_between(conn: &mut PgConnection, lo: DateTime<Utc>, hi: DateTime<Utc>) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "rows!" FROM audit_logs WHERE created_at >= $1 AND created_at < $2"#,
        lo,
        hi
    )
    .fetch_one(conn)
    .await?)
}

/// The progress figures recorded from `lo` to before `hi`.
pub async fn progress_rows_between(conn: &mut PgConnection, lo: DateTime<Utc>, hi: DateTime<Utc>) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "rows!" FROM progress_metrics WHERE recorded_at >= $1 AND recorded_at < $2"#,
        lo,
        hi
    )
    .fetch_one(conn)
    .await?)
}

/// The learners who last signed in (or signed up) before `inactive_before`, with how
/// many of their interactions were made from `from` to before `older_than`.
pub async fn inactive_learners(
    conn: &mut PgConnection,
    inactive_before: DateTime<Utc>,
    older_than: DateTime<Utc>,
    from: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT i.user_id, count(*) AS "rows!" FROM interactions i JOIN users u ON u.id = i.user_id
            WHERE coalesce(u.last_login_at, u.created_at) < $1 AND i.created_at < $2 AND i.created_at >= $3
            GROUP BY i.user_id ORDER BY i.user_id"#,
        inactive_before,
        older_than,
        from,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|row| (row.user_id, row.rows)).collect())
}

/// Feedback on the interactions made from `lo` to before `hi` keeps its rating, not its
/// link (they are about to go).
pub async fn unlink_feedback(conn: &mut PgConnection, lo: DateTime<Utc>, hi: DateTime<Utc>) -> Result<()> {
    sqlx::query!(
        "UPDATE user_feedback SET interaction_id = NULL, interaction_created_at = NULL
          WHERE interaction_created_at >= $1 AND interaction_created_at < $2",
        lo,
        hi,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// As [`unlink_feedback`], for `learners`' interactions made before `older_than`.
pub async fn unlink_feedback_of(conn: &mut PgConnection, learners: &[Uuid], older_than: DateTime<Utc>) -> Result<()> {
    sqlx::query!(
        "UPDATE user_feedback f SET interaction_id = NULL, interaction_created_at = NULL
          WHERE f.user_id = ANY($1) AND f.interaction_created_at < $2",
        learners,
        older_than,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes at most `batch` of `learners`' interactions made before `older_than`; how many.
pub async fn delete_interactions(
    conn: &mut PgConnection,
    learners: &[Uuid],
    older_than: DateTime<Utc>,
    batch: i64,
) -> Result<u64> {
    let deleted = sqlx::query!(
        "WITH doomed AS (SELECT id, created_at FROM interactions
                          WHERE user_id = ANY($1) AND created_at < $2 LIMIT $3)
         DELETE FROM interactions i USING doomed d WHERE i.id = d.id AND i.created_at = d.created_at",
        learners,
        older_than,
        batch,
    )
    .execute(conn)
    .await?;
    Ok(deleted.rows_affected())
}

/// How many sessions started before `before` still have their data.
pub async fn sessions_with_data(conn: &mut PgConnection, before: DateTime<Utc>) -> Result<i64> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "sessions!" FROM learning_sessions WHERE started_at < $1 AND session_data IS NOT NULL"#,
        before
    )
    .fetch_one(conn)
    .await?)
}

/// Clears the data of the sessions started before `before`, keeping each one's accuracy
/// as a metric; how many.
pub async fn clear_session_data(conn: &mut PgConnection, before: DateTime<Utc>) -> Result<u64> {
    let cleared = sqlx::query!(
        "WITH old AS (SELECT s.id, s.user_id, s.session_data, coalesce(s.ended_at, s.started_at) AS at,
                             m.subject_area
                        FROM learning_sessions s JOIN study_materials m ON m.id = s.study_material_id
                       WHERE s.started_at < $1 AND s.session_data IS NOT NULL),
              kept AS (INSERT INTO progress_metrics (user_id, learning_session_id, metric_type, metric_value,
                                                     metric_data, recorded_at, subject_area, aggregation_type)
                       SELECT o.user_id, o.id, 'accuracy',
                              (o.session_data->>'correct')::float8 / (o.session_data->>'graded')::float8,
                              jsonb_build_object('graded', o.session_data->'graded',
                                                 'correct', o.session_data->'correct'),
                              o.at, o.subject_area, 'session'
                         FROM old o
                        WHERE coalesce((o.session_data->>'graded')::int, 0) > 0
                          AND NOT EXISTS (SELECT 1 FROM progress_metrics p
                                           WHERE p.learning_session_id = o.id AND p.metric_type = 'accuracy'))
         UPDATE learning_sessions s SET session_data = NULL FROM old WHERE s.id = old.id",
        before
    )
    .execute(conn)
    .await?;
    Ok(cleared.rows_affected())
}

/// How many of `table`'s rows meet `condition`. Assembled at run time, from the code's
/// own table and condition.
pub async fn count_where(conn: &mut PgConnection, table: &str, condition: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table} WHERE {condition}")))
        .fetch_one(conn)
        .await?)
}

/// Deletes `table`'s rows that meet `condition`; how many. Assembled at run time, from
/// the code's own table and condition.
pub async fn delete_where(conn: &mut PgConnection, table: &str, condition: &str) -> Result<u64> {
    let deleted =
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE {condition}"))).execute(conn).await?;
    Ok(deleted.rows_affected())
}
