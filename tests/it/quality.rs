//! Item statistics move an asset's quality and difficulty: a hard item that separates
//! strong sessions from weak ones.

use serde_json::Value;
use studyhall::feedback::quality;
use uuid::Uuid;

use crate::fixtures::learner;
use crate::harness::TestDb;

#[tokio::test]
async fn facility_and_discrimination_recalibrate_an_item() {
    let db = TestDb::migrated().await;
    let ada = learner(&db.pool, "ada").await;
    let other: Uuid = sqlx::query_scalar(
        "INSERT INTO generated_assets (study_material_id, asset_type, content, generation_model)
         VALUES ($1, 'flashcard', '{\"front\": \"f\", \"back\": \"b\"}', 'builtin-v1') RETURNING id",
    )
    .bind(ada.material_id)
    .fetch_one(&db.pool)
    .await
    .expect("another asset");
    sqlx::query("UPDATE generated_assets SET quality_score = 0.5, difficulty_level = 5 WHERE id = $1")
        .bind(ada.asset_id)
        .execute(&db.pool)
        .await
        .expect("initial figures");
    // Ten sessions: in two, both items right; in eight, both wrong. The item is hard
    // (facility 0.2) and tells strong sessions from weak ones (discrimination 1).
    for n in 0..10 {
        let right = n < 2;
        sqlx::query(
            "WITH s AS (INSERT INTO learning_sessions (user_id, study_material_id, session_type)
                        VALUES ($1, $2, 'review') RETURNING id)
             INSERT INTO interactions (learning_session_id, generated_asset_id, user_id, interaction_type,
                                       interaction_data, is_correct)
             SELECT s.id, asset, $1, 'answer', '{}', $5 FROM s, unnest(ARRAY[$3, $4]::uuid[]) AS asset",
        )
        .bind(ada.user_id)
        .bind(ada.material_id)
        .bind(ada.asset_id)
        .bind(other)
        .bind(right)
        .execute(&db.pool)
        .await
        .expect("a session");
    }
    let recalibrate = || async {
        let mut conn = db.pool.acquire().await.expect("a connection");
        quality::recalibrate(&mut conn, &[ada.asset_id]).await.expect("recalibrate");
        let row: (f64, i32, Value) =
            sqlx::query_as("SELECT quality_score, difficulty_level, metadata FROM generated_assets WHERE id = $1")
                .bind(ada.asset_id)
                .fetch_one(&db.pool)
                .await
                .expect("the asset");
        row
    };
    let (score, level, metadata) = recalibrate().await;
    let figures = &metadata["quality"];
    assert_eq!(figures["answers"], 10);
    assert!((figures["facility"].as_f64().expect("facility") - 0.2).abs() < 1e-9, "{figures}");
    assert!((figures["discrimination"].as_f64().expect("discrimination") - 1.0).abs() < 1e-9, "{figures}");
    assert_eq!(level, 7, "0.3 x 5 + 0.7 x (1 + 9 x 0.8), rounded");
    assert!(score > 0.5, "a discriminating item gains: {score}");
    assert_eq!(figures["initial"], 0.5);
    assert_eq!(recalibrate().await, (score, level, metadata), "recalibrating again changes nothing");
}
