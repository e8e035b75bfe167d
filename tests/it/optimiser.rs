//! Per-learner FSRS parameters: the optimiser fits a learner's history, on request and
//! in the background; scheduling then uses them; nobody else sees or triggers them.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use studyhall::learn::optimise::simulate;
use studyhall::learn::preferences::Preferences;
use studyhall::learn::schedule::{self, Model};
use uuid::Uuid;

use crate::fixtures::learner;
use crate::harness::{Session, TestApp, TestDb, http_config, settings};

/// A learner unlike the average: forgets new items faster, along a steeper curve.
fn unusual() -> Vec<f32> {
    let mut parameters = fsrs::DEFAULT_PARAMETERS.to_vec();
    parameters[..4].copy_from_slice(&[0.08, 0.35, 0.9, 2.5]);
    parameters[20] = 0.45;
    parameters
}

/// Gives `user` a material of `items` flashcards answered over the last `days` days as
/// a learner with [`unusual`] memory would have (the last answers within the day), one
/// interaction per answer; returns how many answers.
pub async fn history(pool: &PgPool, user: Uuid, items: usize, days: u32, seed: u64) -> usize {
    let answers = simulate(&unusual(), items, days, seed);
    let horizon = answers.iter().map(|a| a.2).max().unwrap_or(0);
    let (item, rating, ago): (Vec<i32>, Vec<i32>, Vec<f64>) = answers
        .iter()
        .map(|&(item, rating, at)| (item as i32, rating as i32, (horizon - at) as f64 + 60.0))
        .fold((vec![], vec![], vec![]), |(mut i, mut r, mut a), (x, y, z)| {
            i.push(x);
            r.push(y);
            a.push(z);
            (i, r, a)
        });
    sqlx::query(
        "WITH m AS (INSERT INTO study_materials (user_id, title, source_type, status)
                    VALUES ($1, 'Remembered', 'text', 'ready') RETURNING id),
              a AS (INSERT INTO generated_assets (study_material_id, asset_type, content, generation_model)
                    SELECT m.id, 'flashcard', jsonb_build_object('front', 'Q' || n, 'back', 'A' || n), 'test'
                      FROM m, generate_series(0, $2 - 1) n
                    RETURNING id, (content->>'front') AS front),
              s AS (INSERT INTO learning_sessions (user_id, study_material_id, session_type, status)
                    SELECT $1, id, 'review', 'completed' FROM m RETURNING id)
         INSERT INTO interactions (learning_session_id, generated_asset_id, user_id, interaction_type,
                                   interaction_data, created_at, is_correct)
         SELECT s.id, a.id, $1, 'answer', jsonb_build_object('rating', h.rating),
                now() - make_interval(secs => h.ago), h.rating >= 2
           FROM s, unnest($3::int[], $4::int[], $5::float8[]) AS h(item, rating, ago)
           JOIN a ON a.front = 'Q' || h.item",
    )
    .bind(user)
    .bind(items as i32)
    .bind(&item)
    .bind(&rating)
    .bind(&ago)
    .execute(pool)
    .await
    .expect("write the history");
    answers.len()
}

/// A new material of `user`'s with one flashcard: their ids.
async fn new_card(pool: &PgPool, user: Uuid) -> (Uuid, Uuid) {
    sqlx::query_as(
        "WITH m AS (INSERT INTO study_materials (user_id, title, source_type, status)
                    VALUES ($1, 'New', 'text', 'ready') RETURNING id),
              a AS (INSERT INTO generated_assets (study_material_id, asset_type, content, generation_model)
                    SELECT id, 'flashcard', '{\"front\": \"New?\", \"back\": \"Yes.\"}', 'test' FROM m
                    RETURNING id)
         SELECT m.id, a.id FROM m, a",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .expect("a new card")
}

async fn optimise(app: &TestApp, who: &Session) -> Value {
    let (status, body) = app.call(Method::POST, "/api/v1/me/fsrs/optimise", Some(&who.token), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let job = body["job_id"].as_str().expect("a job").to_owned();
    let job = app.job_ended(who, &job).await;
    assert_eq!(job["status"], "done", "{job}");
    job
}

async fn parameters(app: &TestApp, who: &Session) -> Value {
    let (status, body) = app.call(Method::GET, "/api/v1/me/fsrs", Some(&who.token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn floats(value: &Value) -> Vec<f32> {
    value.as_array().expect("numbers").iter().map(|v| v.as_f64().expect("a number") as f32).collect()
}

#[tokio::test]
async fn the_optimiser_fits_a_learners_memory_better_than_the_defaults_and_scheduling_uses_it() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let before = parameters(&app, &ada).await;
    assert_eq!((before["fitted"].as_bool(), before["outcome"].clone()), (Some(false), Value::Null));
    assert_eq!(floats(&before["parameters"]), fsrs::DEFAULT_PARAMETERS, "the defaults until a fit");
    let answers = history(&app.db.pool, ada.user_id, 200, 200, 11).await;

    let job = optimise(&app, &ada).await;
    assert_eq!(job["kind"], "optimise_fsrs");
    assert_eq!(job["result"]["improved"], true, "{job}");
    let fitted = parameters(&app, &ada).await;
    assert_eq!(fitted["fitted"], true, "{fitted}");
    assert_eq!(fitted["reviews"], answers);
    assert_eq!(fitted["minimum_reviews"], 64);
    let (default, own) =
        (fitted["log_loss_default"].as_f64().expect("a loss"), fitted["log_loss_fitted"].as_f64().expect("a loss"));
    assert!(own < default, "the fit predicts ada's answers better: {own} < {default}");
    assert!(fitted["outcome"].as_str().expect("said").starts_with("Fitted to"), "{fitted}");
    let own_parameters = floats(&fitted["parameters"]);
    assert_ne!(own_parameters, fsrs::DEFAULT_PARAMETERS);

    // Her predicted recall follows her own forgetting curve: a card last seen 30 days ago
    // at a stability of 5 days.
    for (who, parameters) in [(&ada, Some(&own_parameters[..])), (&bob, None)] {
        let (material, card) = new_card(&app.db.pool, who.user_id).await;
        sqlx::query(
            "INSERT INTO review_states (user_id, generated_asset_id, study_material_id, stability, difficulty, due,
                                        reps, last_rating, last_review)
             VALUES ($1, $2, $3, 5, 5, now() + interval '1 day', 1, 3, now() - interval '30 days')",
        )
        .bind(who.user_id)
        .bind(card)
        .bind(material)
        .execute(&app.db.pool)
        .await
        .expect("a card seen 30 days ago");
        let (_, summary) = app.call(Method::GET, "/api/v1/progress/summary", Some(&who.token), None).await;
        let expected = Model::of(parameters).retrievability(5.0, 30.0);
        let shown = summary["retention"].as_f64().expect("a retention");
        assert!((shown - expected).abs() < 1e-4, "{shown} = {expected}");
    }
    assert!(Model::of(Some(&own_parameters)).retrievability(5.0, 30.0) != Model::default().retrievability(5.0, 30.0));

    // Ada's next new card is scheduled with her parameters, bob's with the defaults.
    let expected = |parameters: Option<&[f32]>| {
        schedule::intervals(None, chrono::Utc::now(), &Preferences::default(), &Model::of(parameters))
            .expect("intervals")
    };
    for (who, parameters) in [(&ada, Some(&own_parameters[..])), (&bob, None)] {
        let (material, _) = new_card(&app.db.pool, who.user_id).await;
        let body = json!({"study_material_id": material, "session_type": "review"});
        let (status, session) = app.call(Method::POST, "/api/v1/sessions", Some(&who.token), Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{session}");
        let id = session["id"].as_str().expect("an id");
        let (_, next) = app.call(Method::GET, &format!("/api/v1/sessions/{id}/next"), Some(&who.token), None).await;
        assert_eq!(next["intervals"]["easy"].as_f64(), Some(expected(parameters).easy), "{next}");
        let card = next["asset"]["id"].clone();
        let answer =
            json!({"generated_asset_id": card, "interaction_type": "answer", "interaction_data": {"rating": 4}});
        let path = format!("/api/v1/sessions/{id}/interactions");
        let (status, recorded) = app.call(Method::POST, &path, Some(&who.token), Some(answer)).await;
        assert_eq!(status, StatusCode::CREATED, "{recorded}");
        assert_eq!(recorded["feedback_data"]["schedule"]["interval_days"].as_f64(), Some(expected(parameters).easy));
    }
    assert_ne!(expected(Some(&own_parameters)).easy, expected(None).easy, "the two schedules differ");

    // Bob neither sees nor moves ada's: his own fit (too few reviews) leaves hers alone.
    let (status, _) = app
        .call(Method::GET, &format!("/api/v1/jobs/{}", job["id"].as_str().expect("id")), Some(&bob.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let his = optimise(&app, &bob).await;
    assert_eq!(his["result"]["improved"], false);
    let bobs = parameters(&app, &bob).await;
    assert_eq!(bobs["fitted"], false);
    assert_eq!(parameters(&app, &ada).await["parameters"], fitted["parameters"]);

    // The export holds her parameters and her review states.
    let (status, export) = app.call(Method::GET, "/api/v1/me/export", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(export["learner_parameters"][0]["parameters"], fitted["parameters"]);
    assert_eq!(export["learner_parameters"][0]["log_loss_fitted"], fitted["log_loss_fitted"]);
    let states = export["review_states"].as_array().expect("review states");
    assert_eq!(states.len(), 2, "the card seen 30 days ago and the one she answered: {states:?}");
    assert!(!export.to_string().contains(&bob.user_id.to_string()), "nothing of bob's");
}

#[tokio::test]
async fn too_few_reviews_keep_the_defaults_and_say_so() {
    let app = TestApp::spawn().await;
    let cy = app.register("cyd").await;
    let mut answers = history(&app.db.pool, cy.user_id, 10, 20, 5).await;
    // One item's first answers were dropped by the retention policy: its review state
    // counts more answers than are left. It is left out, as Anki leaves out such cards.
    let truncated: i64 = sqlx::query_scalar(
        "WITH a AS (SELECT generated_asset_id AS id, count(*) AS n FROM interactions
                     WHERE user_id = $1 GROUP BY 1 ORDER BY 1 LIMIT 1),
              r AS (INSERT INTO review_states (user_id, generated_asset_id, study_material_id, stability, difficulty,
                                               due, reps, last_rating, last_review)
                    SELECT $1, a.id, g.study_material_id, 5, 5, now(), a.n + 3, 3, now()
                      FROM a JOIN generated_assets g ON g.id = a.id)
         SELECT n FROM a",
    )
    .bind(cy.user_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("a truncated history");
    answers -= truncated as usize;
    let job = optimise(&app, &cy).await;
    let outcome = job["result"]["outcome"].as_str().expect("an outcome");
    assert!(outcome.starts_with("Too few reviews to fit:") && outcome.contains("of the 64 needed"), "{outcome}");
    assert!(outcome.ends_with("Kept the default parameters."), "{outcome}");
    let now = parameters(&app, &cy).await;
    assert_eq!((now["fitted"].as_bool(), now["reviews"].as_u64()), (Some(false), Some(answers as u64)));
    assert_eq!(floats(&now["parameters"]), fsrs::DEFAULT_PARAMETERS);
    assert_eq!(now["outcome"], outcome);
    let training = now["training_reviews"].as_u64().expect("counted");
    assert!(training < 64);

    // Days are the learner's: in Tokyo with days starting at 4 am (19:00 UTC), a card
    // answered at 18:00 and 20:00 UTC was answered on two days, 2 hours apart.
    let (status, _) = app
        .call(
            Method::PATCH,
            "/api/v1/me",
            Some(&cy.token),
            Some(json!({"preferences": {"time_zone": "Asia/Tokyo", "day_starts_at_hour": 4}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, card) = new_card(&app.db.pool, cy.user_id).await;
    sqlx::query(
        "INSERT INTO interactions (learning_session_id, generated_asset_id, user_id, interaction_type,
                                   interaction_data, created_at, is_correct)
         SELECT s.id, $2, $1, 'answer', '{\"rating\": 3}', date_trunc('day', now()) - interval '1 day' + t.at, true
           FROM (SELECT id FROM learning_sessions WHERE user_id = $1 LIMIT 1) s,
                (VALUES (interval '18 hours'), (interval '20 hours')) AS t(at)",
    )
    .bind(cy.user_id)
    .bind(card)
    .execute(&app.db.pool)
    .await
    .expect("two answers across the learner's day start");
    optimise(&app, &cy).await;
    let after = parameters(&app, &cy).await;
    assert_eq!(after["reviews"].as_u64(), Some(answers as u64 + 2));
    assert_eq!(after["training_reviews"].as_u64(), Some(training + 1), "the second answer was a day later");

    let (_, document) = app.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    for (path, verb) in [("/api/v1/me/fsrs", "get"), ("/api/v1/me/fsrs/optimise", "post")] {
        assert!(document["paths"][path][verb]["responses"].is_object(), "{verb} {path} is described");
    }
    assert!(document["components"]["schemas"]["FsrsParameters"]["properties"]["log_loss_fitted"].is_object());
}

#[tokio::test]
async fn housekeeping_fits_learners_with_enough_new_reviews() {
    let db = TestDb::migrated().await;
    let dee = learner(&db.pool, "dee").await;
    let eve = learner(&db.pool, "eve").await;
    history(&db.pool, dee.user_id, 150, 150, 3).await;
    history(&db.pool, eve.user_id, 5, 10, 4).await; // too few new answers to try
    // Both were last fitted a year ago; housekeeping runs as the app starts.
    sqlx::query("UPDATE learner_parameters SET fitted_at = now() - interval '1 year'")
        .execute(&db.pool)
        .await
        .expect("backdate");
    // Housekeeping is the app's upkeep, which runs beside its job workers.
    let app = TestApp::spawn_configured(db, http_config(), settings()).await;
    let db = &app.db;
    let mut fitted = None;
    for _ in 0..300 {
        fitted = sqlx::query_scalar(
            "SELECT log_loss_fitted FROM learner_parameters WHERE user_id = $1 AND parameters IS NOT NULL",
        )
        .bind(dee.user_id)
        .fetch_optional(&db.pool)
        .await
        .expect("read");
        if fitted.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let fitted: Option<f64> = fitted.expect("dee's parameters were fitted in the background");
    assert!(fitted.is_some());
    let eves: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE user_id = $1 AND kind = 'optimise_fsrs'")
        .bind(eve.user_id)
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(eves, 0, "eve has fewer than 200 new answers");
}
