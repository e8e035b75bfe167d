//! Progress rollups over answers dated across months: the right figures per day, week
//! and month, per subject and overall, and the same rows however often they run.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use studyhall::progress::rollup;

use crate::fixtures::learner;
use crate::harness::TestDb;

/// Answers of one learner: (when, correct, response ms, a review of an item learned before).
const ANSWERS: [(&str, bool, i32, bool); 7] = [
    ("2026-01-30T10:00:00Z", true, 1000, false),
    ("2026-01-30T18:00:00Z", false, 3000, true),
    ("2026-01-31T09:00:00Z", true, 2000, true),
    ("2026-02-02T09:00:00Z", true, 4000, true), // a Monday: a new ISO week
    ("2026-02-02T23:59:59Z", true, 6000, false),
    ("2026-02-03T00:00:00Z", false, 5000, true),
    ("2026-03-15T12:00:00Z", false, 7000, true),
];

type Row = (String, String, DateTime<Utc>, Option<String>, f64, i64);

/// Every rollup row: (metric, period, start, subject, value, count), in a stable order.
async fn rollups(pool: &PgPool) -> Vec<Row> {
    sqlx::query_as(
        "SELECT metric_type, time_period, recorded_at, subject_area, metric_value, (metric_data->>'count')::bigint
           FROM progress_metrics WHERE time_period IS NOT NULL
          ORDER BY 1, 2, 3, 4 NULLS FIRST",
    )
    .fetch_all(pool)
    .await
    .expect("rollups")
}

fn find<'a>(rows: &'a [Row], metric: &str, period: &str, start: &str, subject: Option<&str>) -> Option<&'a Row> {
    let start: DateTime<Utc> = start.parse().expect("a time");
    rows.iter().find(|r| r.0 == metric && r.1 == period && r.2 == start && r.3.as_deref() == subject)
}

#[tokio::test]
async fn rollups_give_the_right_figures_and_running_again_changes_nothing() {
    let db = TestDb::migrated().await;
    let ada = learner(&db.pool, "ada").await;
    sqlx::query("UPDATE study_materials SET subject_area = 'biology' WHERE id = $1")
        .bind(ada.material_id)
        .execute(&db.pool)
        .await
        .expect("subject");
    sqlx::query("DELETE FROM progress_metrics").execute(&db.pool).await.expect("clear");
    for (at, correct, ms, review) in ANSWERS {
        sqlx::query(
            "INSERT INTO interactions (learning_session_id, generated_asset_id, user_id, interaction_type,
                                       interaction_data, created_at, is_correct, response_time_ms, feedback_data)
             SELECT s.id, $2, $1, 'answer', '{}', $3::timestamptz, $4, $5,
                    jsonb_build_object('schedule', jsonb_build_object('first_review', NOT $6))
               FROM learning_sessions s WHERE s.user_id = $1",
        )
        .bind(ada.user_id)
        .bind(ada.asset_id)
        .bind(at)
        .bind(correct)
        .bind(ms)
        .bind(review)
        .execute(&db.pool)
        .await
        .expect("an answer");
    }
    // The fixture's own answer (2026-01-15, no grade) is not graded: it counts nowhere but speed.
    let from: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().expect("a time");
    let to: DateTime<Utc> = "2026-04-01T00:00:00Z".parse().expect("a time");
    let run = || async {
        let mut tx = db.pool.begin().await.expect("begin");
        let written = rollup::rollup(&mut tx, ada.user_id, from, to).await.expect("rollup");
        tx.commit().await.expect("commit");
        written
    };
    let first_written = run().await;
    let first = rollups(&db.pool).await;
    assert_eq!(first.len() as u64, first_written);

    let day = find(&first, "accuracy", "daily", "2026-01-30T00:00:00Z", None).expect("30 January");
    assert_eq!((day.4, day.5), (0.5, 2));
    let speed = find(&first, "speed", "daily", "2026-01-30T00:00:00Z", None).expect("speed");
    assert_eq!(speed.4, 2000.0, "the median of 1000 and 3000");
    let retention = find(&first, "retention", "daily", "2026-01-30T00:00:00Z", None).expect("retention");
    assert_eq!((retention.4, retention.5), (0.0, 1), "one review, forgotten");
    assert!(find(&first, "accuracy", "daily", "2026-02-02T00:00:00Z", None).is_some_and(|r| r.4 == 1.0 && r.5 == 2));
    assert!(find(&first, "accuracy", "daily", "2026-02-03T00:00:00Z", None).is_some_and(|r| r.4 == 0.0));

    let week = find(&first, "accuracy", "weekly", "2026-01-26T00:00:00Z", None).expect("the week of 26 January");
    assert_eq!((week.4, week.5), (2.0 / 3.0, 3));
    let week = find(&first, "accuracy", "weekly", "2026-02-02T00:00:00Z", None).expect("the week of 2 February");
    assert_eq!((week.4, week.5), (2.0 / 3.0, 3));
    let january = find(&first, "accuracy", "monthly", "2026-01-01T00:00:00Z", Some("biology")).expect("January");
    assert_eq!((january.4, january.5), (2.0 / 3.0, 3));
    let february = find(&first, "retention", "monthly", "2026-02-01T00:00:00Z", None).expect("February");
    assert_eq!((february.4, february.5), (0.5, 2));
    let march = find(&first, "speed", "monthly", "2026-03-01T00:00:00Z", Some("biology")).expect("March");
    assert_eq!(march.4, 7000.0);
    assert!(find(&first, "accuracy", "daily", "2026-01-15T00:00:00Z", None).is_none(), "no graded answers that day");

    assert_eq!(run().await, first_written);
    assert_eq!(rollups(&db.pool).await, first, "idempotent");
    // A narrower run recomputes whole periods: nothing doubles, nothing is lost.
    let mut tx = db.pool.begin().await.expect("begin");
    let feb: DateTime<Utc> = "2026-02-02T12:00:00Z".parse().expect("a time");
    rollup::rollup(&mut tx, ada.user_id, feb, feb).await.expect("rollup");
    tx.commit().await.expect("commit");
    assert_eq!(rollups(&db.pool).await, first, "the periods around one moment, recomputed");
}
