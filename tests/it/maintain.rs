//! `studyhall maintain` with time travel: rows dated across six years, for an active and
//! an inactive learner; exactly what is kept, archived, aggregated and dropped, a dry
//! run that changes nothing, and a second run that finds nothing to do.

use std::io::Read;

use sqlx::PgPool;
use studyhall::config::MaintainConfig;
use studyhall::maintain::{self, Action, archive};
use uuid::Uuid;

use crate::fixtures::learner;
use crate::harness::{TestDb, scratch_dir};

async fn scalar(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(pool).await.expect(sql)
}

/// The learner's answers, as ages ("30 months").
async fn answers_left(pool: &PgPool, user: Uuid) -> Vec<String> {
    sqlx::query_scalar("SELECT interaction_data->>'age' FROM interactions WHERE user_id = $1 ORDER BY created_at")
        .bind(user)
        .fetch_all(pool)
        .await
        .expect("answers")
}

#[tokio::test]
async fn retention_keeps_archives_aggregates_and_drops_exactly_what_the_policy_says() {
    let db = TestDb::migrated().await;
    let pool = &db.pool;
    let active = learner(pool, "active").await;
    let idle = learner(pool, "idle").await;
    sqlx::query("DELETE FROM user_feedback").execute(pool).await.expect("clear");
    sqlx::query("DELETE FROM interactions").execute(pool).await.expect("clear");
    sqlx::query("DELETE FROM progress_metrics").execute(pool).await.expect("clear");
    sqlx::query("UPDATE users SET last_login_at = now() - interval '1 day' WHERE id = $1")
        .bind(active.user_id)
        .execute(pool)
        .await
        .expect("active");
    sqlx::query("UPDATE users SET last_login_at = now() - interval '8 months' WHERE id = $1")
        .bind(idle.user_id)
        .execute(pool)
        .await
        .expect("inactive");
    for who in [&active, &idle] {
        for age in ["30 months", "13 months", "9 months", "3 months", "1 day"] {
            sqlx::query(
                "INSERT INTO interactions (learning_session_id, generated_asset_id, user_id, interaction_type,
                                           interaction_data, created_at, is_correct, response_time_ms)
                 VALUES ($1, $2, $3, 'answer', jsonb_build_object('age', $4::text), now() - $4::interval, true, 1000)",
            )
            .bind(who.session_id)
            .bind(who.asset_id)
            .bind(who.user_id)
            .bind(age)
            .execute(pool)
            .await
            .expect("an answer");
        }
    }
    // Feedback on an answer that will go keeps its rating.
    sqlx::query(
        "INSERT INTO user_feedback (user_id, generated_asset_id, interaction_id, interaction_created_at, feedback_type,
                                    rating)
         SELECT user_id, generated_asset_id, id, created_at, 'rating', 5 FROM interactions
          WHERE user_id = $1 AND interaction_data->>'age' = '30 months'",
    )
    .bind(active.user_id)
    .execute(pool)
    .await
    .expect("feedback");
    for age in ["30 months", "20 months"] {
        sqlx::query(
            "INSERT INTO audit_logs (action, entity_type, new_values, created_at)
             VALUES ('test.old', 'test', jsonb_build_object('age', $1::text), now() - $1::interval)",
        )
        .bind(age)
        .execute(pool)
        .await
        .expect("an audit row");
    }
    for age in ["6 years", "4 years"] {
        sqlx::query(
            "INSERT INTO progress_metrics (user_id, metric_type, metric_value, metric_data, recorded_at)
             VALUES ($1, 'accuracy', 0.5, jsonb_build_object('age', $2::text), now() - $2::interval)",
        )
        .bind(active.user_id)
        .bind(age)
        .execute(pool)
        .await
        .expect("a metric");
    }
    let old_session: Uuid = sqlx::query_scalar(
        "INSERT INTO learning_sessions (user_id, study_material_id, session_type, started_at, session_data)
         VALUES ($1, $2, 'quiz', now() - interval '7 months', '{\"graded\": 4, \"correct\": 3, \"done\": 4}')
         RETURNING id",
    )
    .bind(active.user_id)
    .bind(active.material_id)
    .fetch_one(pool)
    .await
    .expect("an old session");
    sqlx::query(
        "INSERT INTO idempotency_keys (user_id, key, request_hash, interaction_id, interaction_created_at, created_at)
         VALUES ($1, 'old', '\\x00', gen_random_uuid(), now(), now() - interval '10 days')",
    )
    .bind(active.user_id)
    .execute(pool)
    .await
    .expect("an old key");

    let archive_dir = scratch_dir();
    let config =
        MaintainConfig { months_ahead: 3, archive_dir: Some(archive_dir.path().to_path_buf()), interval_hours: 0 };

    // A dry run plans, and changes nothing.
    let tables = "SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'p')";
    let (tables_before, rows_before) =
        (scalar(pool, tables).await, scalar(pool, "SELECT count(*) FROM interactions").await);
    let audit_before = scalar(pool, "SELECT count(*) FROM audit_logs").await;
    let (plan, report) = maintain::run(pool, &config, true).await.expect("a dry run");
    assert!(report.done.is_empty());
    let kinds = |actions: &[Action]| {
        actions
            .iter()
            .map(|a| format!("{a:?}").split([' ', '{']).next().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    for kind in [
        "CreatePartition",
        "DropInteractions",
        "DeleteInactiveInteractions",
        "ClearSessionData",
        "ArchiveAudit",
        "ExportArchive",
        "DropProgress",
        "Purge",
    ] {
        assert!(kinds(&plan.actions).iter().any(|k| k == kind), "{kind} planned: {:#?}", plan.actions);
    }
    assert_eq!(scalar(pool, tables).await, tables_before, "no table made or dropped");
    assert_eq!(scalar(pool, "SELECT count(*) FROM interactions").await, rows_before);
    assert_eq!(scalar(pool, "SELECT count(*) FROM audit_logs").await, audit_before);

    // The run.
    let (_, report) = maintain::run(pool, &config, false).await.expect("a run");
    assert_eq!(report.done.len(), plan.actions.len());
    assert_eq!(
        answers_left(pool, active.user_id).await,
        ["9 months", "3 months", "1 day"],
        "an active learner keeps a year"
    );
    assert_eq!(answers_left(pool, idle.user_id).await, ["3 months", "1 day"], "an inactive one six months");
    // What went was rolled up first: monthly accuracy for each month that went.
    for (who, age) in [(&active, "30 months"), (&active, "13 months"), (&idle, "30 months"), (&idle, "9 months")] {
        let kept: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM progress_metrics
              WHERE user_id = $1 AND time_period = 'monthly' AND metric_type = 'accuracy' AND subject_area IS NULL
                AND recorded_at = date_trunc('month', now() - $2::interval, 'UTC')",
        )
        .bind(who.user_id)
        .bind(age)
        .fetch_one(pool)
        .await
        .expect("rollups");
        assert_eq!(kept, 1, "{age} of a learner aggregated");
    }
    assert_eq!(scalar(pool, "SELECT count(*) FROM user_feedback WHERE rating = 5 AND interaction_id IS NULL").await, 1);

    let archived: String =
        sqlx::query_scalar("SELECT 'audit_logs_' || to_char(now() - interval '30 months', '\"y\"YYYY\"m\"MM')")
            .fetch_one(pool)
            .await
            .expect("a name");
    assert_eq!(scalar(pool, "SELECT count(*) FROM audit_logs WHERE action = 'test.old'").await, 1, "20 months kept");
    assert_eq!(scalar(pool, &format!("SELECT count(*) FROM archive.{archived} WHERE action = 'test.old'")).await, 1);
    let writable = scalar(
        pool,
        &format!(
            "SELECT count(*) FROM aclexplode((SELECT relacl FROM pg_class WHERE oid = 'archive.{archived}'::regclass))
              WHERE privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')"
        ),
    )
    .await;
    assert_eq!(writable, 0, "read-only");
    let request_role_reads: bool =
        sqlx::query_scalar("SELECT has_schema_privilege('studyhall_app', 'archive', 'USAGE')")
            .fetch_one(pool)
            .await
            .expect("privilege");
    assert!(!request_role_reads);

    // The export: the manifest's checksum matches, and the CSV holds the month's rows.
    let manifest = std::fs::read_to_string(archive_dir.path().join(archive::MANIFEST)).expect("a manifest");
    let entry: serde_json::Value = serde_json::from_str(manifest.lines().next().expect("an entry")).expect("JSON");
    let file = archive_dir.path().join(entry["file"].as_str().expect("a file"));
    assert_eq!(studyhall::digest::digest(&file).expect("a digest").1, entry["sha256"].as_str().expect("a checksum"));
    let mut csv = String::new();
    zstd::Decoder::new(std::fs::File::open(&file).expect("the file"))
        .expect("zstd")
        .read_to_string(&mut csv)
        .expect("decompressed");
    assert_eq!(csv.lines().count() as i64, 1 + entry["rows"].as_i64().expect("rows"), "a header and the rows");
    assert!(csv.contains("test.old"));

    let ages: Vec<String> =
        sqlx::query_scalar("SELECT metric_data->>'age' FROM progress_metrics WHERE metric_data ? 'age'")
            .fetch_all(pool)
            .await
            .expect("metrics");
    assert_eq!(ages, ["4 years"], "five years kept");
    let session: (Option<serde_json::Value>, f64) = sqlx::query_as(
        "SELECT s.session_data, p.metric_value FROM learning_sessions s
           JOIN progress_metrics p ON p.learning_session_id = s.id AND p.metric_type = 'accuracy'
          WHERE s.id = $1",
    )
    .bind(old_session)
    .fetch_one(pool)
    .await
    .expect("the old session");
    assert_eq!(session, (None, 0.75), "its accuracy kept, its data cleared");
    assert_eq!(scalar(pool, "SELECT count(*) FROM idempotency_keys WHERE key = 'old'").await, 0, "spent keys purged");
    for (table, _) in maintain::PARTITIONED {
        assert_eq!(scalar(pool, &format!("SELECT count(*) FROM {table}_default")).await, 0, "{table}: DEFAULT emptied");
        let ahead: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM generate_series(0, 3) n
              WHERE to_regclass($1 || '_' || to_char(now() + make_interval(months => n), '\"y\"YYYY\"m\"MM')) IS NOT NULL",
        )
        .bind(table)
        .fetch_one(pool)
        .await
        .expect("partitions");
        assert_eq!(ahead, 4, "{table}: this month and three ahead");
    }
    let audited: i64 = scalar(pool, "SELECT count(*) FROM audit_logs WHERE action LIKE 'maintain.%'").await;
    assert_eq!(audited as usize, plan.actions.len(), "every action audited");

    // Right after, nothing is left to do.
    let (again, report) = maintain::run(pool, &config, false).await.expect("a second run");
    assert!(again.actions.is_empty(), "{:#?}", again.actions);
    assert!(report.done.is_empty());
    assert_eq!(scalar(pool, "SELECT count(*) FROM audit_logs WHERE action LIKE 'maintain.%'").await, audited);
}
