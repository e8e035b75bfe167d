//! Rows of the partitioned tables land whatever their date, are found again, and move
//! to their month's partition when it is created later.

use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::{TestDb, sqlstate};

/// A user with a material and a learning session, the parents every partitioned row needs.
async fn learner(pool: &PgPool) -> (Uuid, Uuid) {
    sqlx::query_as(
        "WITH u AS (INSERT INTO users (email, username, password_hash)
                    VALUES ('p@example.org', 'partition', 'x') RETURNING id),
              m AS (INSERT INTO study_materials (user_id, title, source_type)
                    SELECT id, 'Cells', 'text' FROM u RETURNING id, user_id),
              s AS (INSERT INTO learning_sessions (user_id, study_material_id, session_type)
                    SELECT user_id, id, 'quiz' FROM m RETURNING id, user_id)
         SELECT user_id, id FROM s",
    )
    .fetch_one(pool)
    .await
    .expect("create a learner")
}

/// Where the row with this id landed, if anywhere.
async fn partition_of(pool: &PgPool, table: &str, id: Uuid) -> Option<String> {
    let query = format!("SELECT tableoid::regclass::text FROM {table} WHERE id = $1");
    sqlx::query_scalar(sqlx::AssertSqlSafe(query)).bind(id).fetch_optional(pool).await.expect("query")
}

#[tokio::test]
async fn rows_from_years_back_now_and_years_ahead_land_and_are_found() {
    let db = TestDb::migrated().await;
    let (user, session) = learner(&db.pool).await;
    let month_now: String = sqlx::query_scalar("SELECT to_char(now() AT TIME ZONE 'UTC', '\"y\"YYYY\"m\"MM')")
        .fetch_one(&db.pool)
        .await
        .expect("query");

    for (offset, expected) in
        [("-3 years", "default".to_owned()), ("0 days", month_now), ("+2 years", "default".to_owned())]
    {
        let interaction: Uuid = sqlx::query_scalar(
            "INSERT INTO interactions (learning_session_id, user_id, interaction_type, interaction_data, created_at)
             VALUES ($1, $2, 'answer', '{}', now() + $3::interval) RETURNING id",
        )
        .bind(session)
        .bind(user)
        .bind(offset)
        .fetch_one(&db.pool)
        .await
        .expect("insert an interaction");
        let metric: Uuid = sqlx::query_scalar(
            "INSERT INTO progress_metrics (user_id, metric_type, metric_value, recorded_at)
             VALUES ($1, 'accuracy', 0.8, now() + $2::interval) RETURNING id",
        )
        .bind(user)
        .bind(offset)
        .fetch_one(&db.pool)
        .await
        .expect("insert a metric");
        let audit: Uuid = sqlx::query_scalar(
            "INSERT INTO audit_logs (user_id, action, entity_type, created_at)
             VALUES ($1, 'user.register', 'user', now() + $2::interval) RETURNING id",
        )
        .bind(user)
        .bind(offset)
        .fetch_one(&db.pool)
        .await
        .expect("insert an audit row");

        for (table, id) in [("interactions", interaction), ("progress_metrics", metric), ("audit_logs", audit)] {
            assert_eq!(
                partition_of(&db.pool, table, id).await,
                Some(format!("{table}_{expected}")),
                "a {table} row dated now {offset}"
            );
        }
    }
}

#[tokio::test]
async fn a_new_month_takes_over_its_rows_from_the_default_partition() {
    let db = TestDb::migrated().await;
    let (user, session) = learner(&db.pool).await;
    let (interaction, created_at): (Uuid, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "INSERT INTO interactions (learning_session_id, user_id, interaction_type, interaction_data, created_at)
         VALUES ($1, $2, 'answer', '{}', '2023-05-17T10:00:00Z') RETURNING id, created_at",
    )
    .bind(session)
    .bind(user)
    .fetch_one(&db.pool)
    .await
    .expect("insert an old interaction");
    // Feedback pointing at the row, so the move must keep the foreign key whole.
    sqlx::query(
        "INSERT INTO user_feedback (user_id, interaction_id, interaction_created_at, feedback_type, rating)
         VALUES ($1, $2, $3, 'rating', 4)",
    )
    .bind(user)
    .bind(interaction)
    .bind(created_at)
    .execute(&db.pool)
    .await
    .expect("insert feedback");
    assert_eq!(partition_of(&db.pool, "interactions", interaction).await.as_deref(), Some("interactions_default"));

    let created: bool = sqlx::query_scalar("SELECT studyhall_create_month_partition('interactions', '2023-05-01')")
        .fetch_one(&db.pool)
        .await
        .expect("create the month");
    assert!(created);
    assert_eq!(partition_of(&db.pool, "interactions", interaction).await.as_deref(), Some("interactions_y2023m05"));
    let feedback: i64 = sqlx::query_scalar("SELECT count(*) FROM user_feedback WHERE interaction_id = $1")
        .bind(interaction)
        .fetch_one(&db.pool)
        .await
        .expect("count feedback");
    assert_eq!(feedback, 1, "the feedback is kept");

    let dangling = sqlx::query(
        "INSERT INTO user_feedback (user_id, interaction_id, interaction_created_at, feedback_type)
         VALUES ($1, $2, '2023-05-18T10:00:00Z', 'rating')",
    )
    .bind(user)
    .bind(interaction)
    .execute(&db.pool)
    .await;
    assert_eq!(sqlstate(dangling), "23503", "the foreign key is still enforced");

    let again: bool = sqlx::query_scalar("SELECT studyhall_create_month_partition('interactions', '2023-05-20')")
        .fetch_one(&db.pool)
        .await
        .expect("create the month again");
    assert!(!again, "an existing month is left alone");
}

#[tokio::test]
async fn ensuring_partitions_twice_creates_nothing_the_second_time() {
    let db = TestDb::migrated().await;
    let created: i32 = sqlx::query_scalar("SELECT studyhall_ensure_month_partitions('audit_logs', 6)")
        .fetch_one(&db.pool)
        .await
        .expect("ensure partitions");
    assert_eq!(created, 3, "months 4 to 6 ahead are new; the migration made 0 to 3");
    let again: i32 = sqlx::query_scalar("SELECT studyhall_ensure_month_partitions('audit_logs', 6)")
        .fetch_one(&db.pool)
        .await
        .expect("ensure partitions");
    assert_eq!(again, 0);
}

#[tokio::test]
async fn half_a_reference_to_an_interaction_is_refused() {
    let db = TestDb::migrated().await;
    let (user, _) = learner(&db.pool).await;
    let result = sqlx::query(
        "INSERT INTO user_feedback (user_id, interaction_id, feedback_type) VALUES ($1, uuid_generate_v4(), 'rating')",
    )
    .bind(user)
    .execute(&db.pool)
    .await;
    assert_eq!(sqlstate(result), "23503", "MATCH FULL refuses it");
}
