//! Scheduling over HTTP with time travel: learning steps within a session, lapses, the
//! maximum interval, daily limits, the learner's day in their time zone, and due counts
//! equal to what a session serves.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use studyhall::learn::preferences::Preferences;
use studyhall::learn::schedule;
use uuid::Uuid;

use crate::assets::generate;
use crate::harness::{Session, TestApp};
use crate::learning::{a_day_passes, answer, id, learner_with_assets, memory_of, next, start};
use crate::materials::{ARTICLE, create, settled};

/// Makes every card of the learner's materials stand alone (no siblings to bury), so that
/// counts do not depend on which facts the generator found.
async fn without_siblings(app: &TestApp, user: Uuid) {
    sqlx::query(
        "UPDATE generated_assets a SET generation_params = a.generation_params - 'fact'
           FROM study_materials m WHERE m.id = a.study_material_id AND m.user_id = $1",
    )
    .bind(user)
    .execute(&app.db.pool)
    .await
    .expect("no siblings");
}

async fn preferences(app: &TestApp, who: &Session, preferences: Value) {
    let (status, me) =
        app.call(Method::PATCH, "/api/v1/me", Some(&who.token), Some(json!({"preferences": preferences}))).await;
    assert_eq!(status, StatusCode::OK, "{me}");
}

/// Adds `materials` copies of `material`, each with `times` copies of its flashcards
/// (without chunks): many cards, quickly. Returns the copies' ids.
async fn copies(app: &TestApp, material: Uuid, materials: i32, times: i32) -> Vec<Uuid> {
    let copied: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO study_materials SELECT (jsonb_populate_record(m, jsonb_build_object('id', gen_random_uuid(),
                'title', 'Copy ' || n))).* FROM study_materials m, generate_series(1, $2) n WHERE m.id = $1
         RETURNING id",
    )
    .bind(material)
    .bind(materials)
    .fetch_all(&app.db.pool)
    .await
    .expect("materials");
    sqlx::query(
        "INSERT INTO generated_assets SELECT (jsonb_populate_record(a, jsonb_build_object('id', gen_random_uuid(),
                'study_material_id', m.id, 'content_chunk_id', NULL,
                'generation_params', a.generation_params || jsonb_build_object('fingerprint', gen_random_uuid())))).*
           FROM generated_assets a, study_materials m, generate_series(1, $3) n
          WHERE a.study_material_id = $1 AND a.asset_type = 'flashcard' AND m.id = ANY ($2)",
    )
    .bind(material)
    .bind(&copied)
    .bind(times)
    .execute(&app.db.pool)
    .await
    .expect("cards");
    copied
}

/// Sets when an item is due (a SQL expression), as if time had passed.
async fn due_at(app: &TestApp, asset: &str, when: &str) {
    let statement = format!("UPDATE review_states SET due = {when} WHERE generated_asset_id = $1::uuid");
    sqlx::query(sqlx::AssertSqlSafe(statement)).bind(asset).execute(&app.db.pool).await.expect("time travel");
}

/// The next item's id, answered with `rating`; the answer's schedule.
async fn rate(app: &TestApp, who: &Session, session: &str, item: &Value, rating: u8) -> Value {
    let recorded = answer(app, who, session, &id(&item["asset"]), json!({"rating": rating})).await;
    recorded["feedback_data"]["schedule"].clone()
}

fn minutes(days: &Value) -> f64 {
    (days.as_f64().expect("days") * 1440.0 * 1e6).round() / 1e6
}

async fn due(app: &TestApp, who: &Session) -> Value {
    let (status, due) = app.call(Method::GET, "/api/v1/reviews/due?limit=200", Some(&who.token), None).await;
    assert_eq!(status, StatusCode::OK, "{due}");
    due
}

#[tokio::test]
async fn a_failed_card_comes_back_in_the_session_then_graduates_and_a_lapse_relearns() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    without_siblings(&app, ada.user_id).await;
    let session = id(&start(&app, &ada, material, "review", json!({"max_items": 3})).await);

    // A new card's buttons show the steps: 1m, 5.5m, 10m, and Easy's days.
    let a = next(&app, &ada, &session).await.expect("a card");
    let shown = &a["intervals"];
    assert_eq!([minutes(&shown["again"]), minutes(&shown["hard"]), minutes(&shown["good"])], [1.0, 5.5, 10.0]);
    assert!(shown["easy"].as_f64() >= Some(1.0), "{a}");
    let schedule = rate(&app, &ada, &session, &a, 1).await;
    assert_eq!(
        (&schedule["state"], &schedule["step"], minutes(&schedule["interval_days"])),
        (&json!("learning"), &json!(0), 1.0)
    );

    // Before its minute is up another card comes; once it is up, the failed card comes
    // back, before the new ones.
    let b = next(&app, &ada, &session).await.expect("another card");
    assert_ne!(b["asset"]["id"], a["asset"]["id"]);
    assert_eq!(rate(&app, &ada, &session, &b, 4).await["state"], "review", "Easy graduates at once");
    due_at(&app, &id(&a["asset"]), "now() - interval '1 second'").await;
    let again = next(&app, &ada, &session).await.expect("the failed card");
    assert_eq!(again["asset"]["id"], a["asset"]["id"]);
    assert_eq!(
        (again["again"].as_bool(), again["position"].as_i64(), again["remaining"].as_i64()),
        (Some(true), Some(3), Some(2))
    );
    let schedule = rate(&app, &ada, &session, &again, 3).await;
    assert_eq!((&schedule["step"], minutes(&schedule["interval_days"])), (&json!(1), 10.0), "Good: the next step");

    // The third card; then the card in its step is served early, as nothing else is left,
    // and Good after the last step graduates it: FSRS schedules it in days.
    let c = next(&app, &ada, &session).await.expect("a third card");
    assert_eq!(c["again"], false);
    rate(&app, &ada, &session, &c, 4).await;
    let last = next(&app, &ada, &session).await.expect("the card in its step, early");
    assert_eq!(last["asset"]["id"], a["asset"]["id"]);
    let graduated = rate(&app, &ada, &session, &last, 3).await;
    assert_eq!(graduated["state"], "review");
    let days = graduated["interval_days"].as_f64().expect("days");
    assert!(days >= 1.0 && days.fract() == 0.0, "{graduated}");
    assert!(next(&app, &ada, &session).await.is_none(), "every card graduated");
    let (_, ended) = app.call(Method::POST, &format!("/api/v1/sessions/{session}/end"), Some(&ada.token), None).await;
    assert_eq!((ended["session_data"]["done"].as_i64(), ended["total_interactions"].as_i64()), (Some(3), Some(5)));

    // Days later the card is due; rated Again it lapses into relearning (10 minutes)
    // and comes back in the session until it graduates again.
    sqlx::query("UPDATE review_states SET last_review = last_review - make_interval(days => $2::int) WHERE generated_asset_id = $1::uuid")
        .bind(id(&a["asset"]))
        .bind(days as i32 + 1)
        .execute(&app.db.pool)
        .await
        .expect("time travel");
    due_at(&app, &id(&a["asset"]), "now() - interval '1 hour'").await;
    let session = id(&start(&app, &ada, material, "review", json!({"max_items": 1})).await);
    let due_card = next(&app, &ada, &session).await.expect("the due card");
    assert_eq!(due_card["asset"]["id"], a["asset"]["id"], "due cards before new ones");
    let lapse = rate(&app, &ada, &session, &due_card, 1).await;
    assert_eq!(
        (&lapse["state"], &lapse["queue"], minutes(&lapse["interval_days"])),
        (&json!("relearning"), &json!("review"), 10.0)
    );
    let lapses: i32 = sqlx::query_scalar("SELECT lapses FROM review_states WHERE generated_asset_id = $1::uuid")
        .bind(id(&a["asset"]))
        .fetch_one(&app.db.pool)
        .await
        .expect("lapses");
    assert_eq!(lapses, 1, "a lapse; the Again of a new card was none");
    let relearn = next(&app, &ada, &session).await.expect("the lapsed card again");
    assert_eq!((relearn["asset"]["id"] == a["asset"]["id"], relearn["again"].as_bool()), (true, Some(true)));
    assert_eq!(rate(&app, &ada, &session, &relearn, 3).await["state"], "review");
    assert!(next(&app, &ada, &session).await.is_none());

    // The learner's maximum interval caps FSRS's.
    preferences(&app, &ada, json!({"maximum_interval_days": 2})).await;
    let session = id(&start(&app, &ada, material, "review", json!({"max_items": 1})).await);
    let card = next(&app, &ada, &session).await.expect("a new card");
    assert_eq!(card["intervals"]["easy"], 2.0, "{card}");
    assert_eq!(rate(&app, &ada, &session, &card, 4).await["interval_days"], 2.0);
}

/// Cards studied in a review session across all materials, every one rated Easy (so
/// that none comes back in a step): their ids and the queues they came from.
async fn review_everything(app: &TestApp, who: &Session, material: Uuid) -> Vec<(String, String)> {
    let session = id(&start(app, who, material, "review", json!({"max_items": 200, "all_materials": true})).await);
    let mut served = Vec::new();
    while let Some(item) = next(app, who, &session).await {
        let schedule = rate(app, who, &session, &item, 4).await;
        served.push((id(&item["asset"]), schedule["queue"].as_str().expect("a queue").to_owned()));
    }
    served
}

#[tokio::test]
async fn daily_limits_hold_and_due_counts_are_what_a_session_serves() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    let second = copies(&app, material, 1, 3).await[0];
    without_siblings(&app, ada.user_id).await;
    let cards: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM generated_assets a JOIN study_materials m ON m.id = a.study_material_id
          WHERE m.user_id = $1 AND a.asset_type = 'flashcard' AND a.status = 'ready'",
    )
    .bind(ada.user_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("cards");
    assert!(cards > 21, "{cards} cards");

    // Day one: 20 new cards (the default limit), then nothing; the 21st waits.
    let counts = due(&app, &ada).await;
    assert_eq!((counts["due_count"].as_i64(), counts["new_count"].as_i64()), (Some(0), Some(20)));
    let served = review_everything(&app, &ada, material).await;
    assert_eq!(served.len(), 20);
    assert!(served.iter().all(|(_, queue)| queue == "new"));
    let counts = due(&app, &ada).await;
    assert_eq!((counts["due_count"].as_i64(), counts["new_count"].as_i64()), (Some(0), Some(0)));
    let session = id(&start(&app, &ada, second, "study", json!({"asset_types": ["flashcard"]})).await);
    assert!(next(&app, &ada, &session).await.is_none(), "study sessions keep the new-card limit too");

    // Day two, with 5 reviews a day: every card reviewed yesterday is due, 5 are served,
    // and new cards again. The counts said so beforehand, and the summary too.
    a_day_passes(&app, ada.user_id).await;
    preferences(&app, &ada, json!({"reviews_per_day": 5})).await;
    sqlx::query("UPDATE review_states SET due = now() - interval '1 hour' WHERE user_id = $1")
        .bind(ada.user_id)
        .execute(&app.db.pool)
        .await
        .expect("all due");
    let counts = due(&app, &ada).await;
    let new = (cards - 20).min(20);
    assert_eq!((counts["due_count"].as_i64(), counts["new_count"].as_i64()), (Some(5), Some(new)));
    assert_eq!(counts["items"].as_array().map(Vec::len), Some(5));
    let (_, summary) = app.call(Method::GET, "/api/v1/progress/summary", Some(&ada.token), None).await;
    assert_eq!(summary["due_today"], 5, "{summary}");
    let served = review_everything(&app, &ada, material).await;
    let reviews: HashSet<&str> =
        served.iter().filter(|(_, queue)| queue == "review").map(|(id, _)| id.as_str()).collect();
    let listed: HashSet<&str> =
        counts["items"].as_array().expect("items").iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(reviews, listed, "the due cards listed are those served");
    assert_eq!(served.len() as i64, 5 + new, "due and new, as counted: {served:?}");
    let counts = due(&app, &ada).await;
    assert_eq!((counts["due_count"].as_i64(), counts["new_count"].as_i64()), (Some(0), Some(0)));
}

#[tokio::test]
async fn the_day_starts_at_the_learners_hour_in_their_time_zone() {
    let app = TestApp::spawn().await;
    // Auckland in March is UTC+13. With the day starting at 4, 2026-03-02 03:30 there
    // (14:30 UTC on the 1st) still belongs to the 1st; 04:30 belongs to the 2nd.
    let prefs = json!({"time_zone": "Pacific/Auckland", "day_starts_at_hour": 4});
    for (at, start, next_start) in [
        ("2026-03-01T14:30:00Z", "2026-02-28T15:00:00Z", "2026-03-01T15:00:00Z"),
        ("2026-03-01T15:30:00Z", "2026-03-01T15:00:00Z", "2026-03-02T15:00:00Z"),
    ] {
        let (day_start, next_day_start): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
            sqlx::query_as("SELECT day_start, next_day_start FROM studyhall_learner_today($1, $2::timestamptz)")
                .bind(&prefs)
                .bind(at)
                .fetch_one(&app.db.pool)
                .await
                .expect("the day");
        assert_eq!(
            (day_start.to_rfc3339(), next_day_start.to_rfc3339()),
            (start.replace('Z', "+00:00"), next_start.replace('Z', "+00:00")),
            "at {at}"
        );
    }
    let defaults: (i32, i32, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "SELECT new_cards_per_day, reviews_per_day, day_start FROM studyhall_learner_today('{\"time_zone\": \"Nowhere/Else\"}', '2026-03-01T03:00:00Z')",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("the defaults");
    let stored = studyhall::learn::preferences::Preferences::default();
    assert_eq!((i64::from(defaults.0), i64::from(defaults.1)), (stored.new_cards_per_day, stored.reviews_per_day));
    assert_eq!(defaults.2.to_rfc3339(), "2026-02-28T04:00:00+00:00", "an unknown zone reads as UTC, 4 am");

    // A review card due a minute before the learner's next day starts (03:59 in
    // Auckland) is due today; a minute after, it is tomorrow's.
    let (ada, material) = learner_with_assets(&app, "ada").await;
    without_siblings(&app, ada.user_id).await;
    preferences(&app, &ada, prefs).await;
    let session = id(&start(&app, &ada, material, "review", json!({"max_items": 1})).await);
    let card = next(&app, &ada, &session).await.expect("a card");
    rate(&app, &ada, &session, &card, 4).await;
    let local: String = sqlx::query_scalar(
        "SELECT to_char(d.next_day_start AT TIME ZONE 'Pacific/Auckland', 'HH24:MI')
           FROM users u, studyhall_learner_today(u.preferences, now()) d WHERE u.id = $1",
    )
    .bind(ada.user_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("the next day");
    assert_eq!(local, "04:00");
    let next_day = "(SELECT d.next_day_start FROM users u, studyhall_learner_today(u.preferences, now()) d
                      WHERE u.username = 'ada')";
    due_at(&app, &id(&card["asset"]), &format!("{next_day} - interval '1 minute'")).await;
    assert_eq!(due(&app, &ada).await["due_count"], 1);
    let session = id(&start(&app, &ada, material, "review", json!({"max_items": 1})).await);
    assert_eq!(next(&app, &ada, &session).await.expect("the card")["asset"]["id"], card["asset"]["id"]);
    due_at(&app, &id(&card["asset"]), &format!("{next_day} + interval '1 minute'")).await;
    assert_eq!(due(&app, &ada).await["due_count"], 0);
    let (_, summary) = app.call(Method::GET, "/api/v1/progress/summary", Some(&ada.token), None).await;
    assert_eq!((summary["due_today"].as_i64(), summary["due_this_week"].as_i64()), (Some(0), Some(1)), "{summary}");

    // Reviewed a minute before the learner's day started, the card has one day elapsed
    // for FSRS today, though fewer than 24 hours passed (Anki counts days so too).
    let this_day = "(SELECT d.day_start FROM users u, studyhall_learner_today(u.preferences, now()) d
                      WHERE u.username = 'ada')";
    let statement = format!(
        "UPDATE review_states SET last_review = {this_day} - interval '1 minute', due = now() - interval '1 minute'
          WHERE generated_asset_id = $1::uuid"
    );
    sqlx::query(sqlx::AssertSqlSafe(statement)).bind(id(&card["asset"])).execute(&app.db.pool).await.expect("travel");
    let session = id(&start(&app, &ada, material, "review", json!({"max_items": 1})).await);
    let shown = next(&app, &ada, &session).await.expect("the card");
    assert_eq!(shown["asset"]["id"], card["asset"]["id"]);
    let now = chrono::Utc::now();
    let card = id(&card["asset"]);
    let (a_day, same_day) = (memory_of(&app, &card, Some(1)).await, memory_of(&app, &card, Some(0)).await);
    assert!(now - a_day.last_review < chrono::Duration::hours(24));
    let a_day = schedule::intervals(Some(&a_day), now, &Preferences::default(), &schedule::Model::default())
        .expect("intervals");
    let same_day = schedule::intervals(Some(&same_day), now, &Preferences::default(), &schedule::Model::default())
        .expect("intervals");
    assert_eq!(shown["intervals"], json!(a_day), "one learner day elapsed");
    assert_ne!(a_day, same_day);
}

/// A page of the web app, as the learner signed in with `token` sees it.
async fn page(app: &TestApp, token: &str, path: &str) -> String {
    let response = app
        .client
        .get(app.url(path))
        .header(reqwest::header::COOKIE, format!("studyhall_session={token}"))
        .send()
        .await
        .expect("a page");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.expect("html")
}

/// The learner's flashcards, as GET /progress/summary counts them.
async fn summary(app: &TestApp, who: &Session) -> Value {
    let (status, summary) = app.call(Method::GET, "/api/v1/progress/summary", Some(&who.token), None).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    summary
}

#[tokio::test]
async fn cards_by_stage_the_review_forecast_and_each_materials_progress_count_what_the_learner_has() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    without_siblings(&app, ada.user_id).await;
    let before = summary(&app, &ada).await;
    let cards = before["cards"]["new"].as_i64().expect("new cards");
    assert!(cards >= 3, "{before}");
    assert_eq!(before["cards"], json!({"new": cards, "learning": 0, "young": 0, "mature": 0}));
    let forecast = before["forecast"].as_array().expect("a forecast");
    assert_eq!(forecast.len(), 30);
    assert!(forecast.iter().all(|n| n == 0), "{forecast:?}");

    // Three cards answered: one Again (in a step, due in minutes: today), one Easy due in
    // three of the learner's days, one Easy given 40 days (mature, beyond the forecast).
    let session = id(&start(&app, &ada, material, "review", json!({"max_items": 10})).await);
    let mut answered = Vec::new();
    for rating in [1, 4, 4] {
        let card = next(&app, &ada, &session).await.expect("a card");
        rate(&app, &ada, &session, &card, rating).await;
        answered.push(id(&card["asset"]));
    }
    let day_end = "(SELECT d.next_day_start FROM users u, studyhall_learner_today(u.preferences, now()) d
                     WHERE u.username = 'ada')";
    due_at(&app, &answered[1], &format!("{day_end} + interval '2 days 1 hour'")).await;
    due_at(&app, &answered[2], "now() + interval '40 days'").await;
    sqlx::query("UPDATE review_states SET last_review = now() WHERE user_id = $1")
        .bind(ada.user_id)
        .execute(&app.db.pool)
        .await
        .expect("reviewed now");

    let after = summary(&app, &ada).await;
    assert_eq!(after["cards"], json!({"new": cards - 3, "learning": 1, "young": 1, "mature": 1}));
    let forecast: Vec<i64> =
        after["forecast"].as_array().expect("a forecast").iter().filter_map(Value::as_i64).collect();
    let mut expected = vec![0; 30];
    expected[0] = 1;
    expected[3] = 1;
    assert_eq!(forecast, expected);

    let (status, materials) = app.call(Method::GET, "/api/v1/progress/materials", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK, "{materials}");
    let row = &materials[0];
    assert_eq!(materials.as_array().map(Vec::len), Some(1), "{materials}");
    assert_eq!(row["id"], material.to_string());
    assert_eq!(
        (row["new"].as_i64(), row["learning"].as_i64(), row["young"].as_i64()),
        (Some(cards - 3), Some(1), Some(1))
    );
    assert_eq!((row["mature"].as_i64(), row["answers"].as_i64()), (Some(1), Some(3)));
    assert!((row["accuracy"].as_f64().expect("accuracy") - 2.0 / 3.0).abs() < 1e-9, "{row}");

    // The page says the same, in words; another learner sees none of it.
    let html = page(&app, &ada.token, "/progress").await;
    for shown in [
        "2 of 3".to_owned(),
        format!("{} new · 1 learning · 1 young · 1 mature", cards - 3),
        "2 review(s): 1 today".to_owned(),
        "<td>in 3 days</td><td>1</td>".to_owned(),
    ] {
        assert!(html.contains(&shown), "{shown} in {html}");
    }
    let bob = app.register("bob").await;
    let (_, theirs) = app.call(Method::GET, "/api/v1/progress/materials", Some(&bob.token), None).await;
    assert_eq!(theirs, json!([]));
    assert_eq!(summary(&app, &bob).await["cards"], json!({"new": 0, "learning": 0, "young": 0, "mature": 0}));
}

#[tokio::test]
async fn the_dashboard_and_materials_show_what_study_now_would_serve() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    assert!(page(&app, &ada.token, "/").await.contains("Nothing to study yet: add a material"));
    let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(&app, &ada, material).await;
    let before = page(&app, &ada.token, &format!("/materials/{material}")).await;
    assert!(before.contains("No cards yet: generate them first."), "{before}");
    generate(&app, &ada, material, json!({})).await;

    // One card in a step, one in review due today, the others new (within the limit).
    let session = id(&start(&app, &ada, material, "review", json!({"max_items": 2})).await);
    let first = next(&app, &ada, &session).await.expect("a card");
    rate(&app, &ada, &session, &first, 1).await;
    let second = next(&app, &ada, &session).await.expect("a card");
    rate(&app, &ada, &session, &second, 4).await;
    due_at(&app, &id(&second["asset"]), "now() - interval '1 minute'").await;
    let counts = due(&app, &ada).await;
    let new = counts["new_count"].as_i64().expect("a count");
    assert_eq!(counts["due_count"], 2);
    assert!(new > 0);

    let dashboard = page(&app, &ada.token, "/").await;
    assert!(dashboard.contains(&format!("<strong>2</strong> due and <strong>{new}</strong> new")), "{dashboard}");
    assert!(dashboard.contains(r#"data-start="review" data-all-materials"#), "Study now: {dashboard}");
    let shown = format!("{new} new · 1 learning · 1 due");
    assert!(page(&app, &ada.token, "/materials").await.contains(&shown));
    assert!(page(&app, &ada.token, &format!("/materials/{material}")).await.contains(&format!("Today: {shown}")));
}

#[tokio::test]
#[ignore = "a measurement: cargo test --test it scheduling::measure -- --ignored --nocapture"]
async fn measure() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    let pool = &app.db.pool;
    let run = |sql: &'static str| async move { sqlx::query(sql).execute(pool).await.expect(sql) };
    // 20 materials of about 250 cards each (5,000), 3,000 of them reviewed, siblings in pairs.
    copies(&app, material, 19, 28).await;
    run("UPDATE generated_assets a SET generation_params = a.generation_params || jsonb_build_object('fact', f.n / 2)
           FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM generated_assets) f WHERE f.id = a.id")
    .await;
    sqlx::query(
        "INSERT INTO review_states (user_id, generated_asset_id, study_material_id, stability, difficulty, due, reps,
                                    lapses, last_rating, last_review, state, step)
         SELECT $1, a.id, a.study_material_id, 5, 5, now() + (random() * 20 - 10) * interval '1 day', 1, 0, 3,
                now() - interval '5 days', 'review', NULL
           FROM generated_assets a JOIN study_materials m ON m.id = a.study_material_id
          WHERE m.user_id = $1 AND a.asset_type = 'flashcard' LIMIT 3000",
    )
    .bind(ada.user_id)
    .execute(pool)
    .await
    .expect("states");
    let session = id(&start(&app, &ada, material, "review", json!({"all_materials": true, "max_items": 200})).await);
    sqlx::query(
        "INSERT INTO interactions (learning_session_id, generated_asset_id, user_id, interaction_type, interaction_data,
                                   is_correct, feedback_data)
         SELECT $2::uuid, r.generated_asset_id, $1, 'answer', '{\"rating\": 3}', true,
                '{\"schedule\": {\"queue\": \"review\"}}'
           FROM review_states r WHERE r.user_id = $1 LIMIT 150",
    )
    .bind(ada.user_id)
    .bind(&session)
    .execute(pool)
    .await
    .expect("answers");
    run("ANALYZE").await;
    let cards: i64 = sqlx::query_scalar("SELECT count(*) FROM generated_assets WHERE asset_type = 'flashcard'")
        .fetch_one(pool)
        .await
        .expect("count");
    println!("{cards} cards");
    for path in [
        format!("/api/v1/sessions/{session}/next"),
        "/api/v1/reviews/due".to_owned(),
        "/api/v1/progress/summary".to_owned(),
    ] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = std::time::Instant::now();
            let (status, _) = app.call(Method::GET, &path, Some(&ada.token), None).await;
            assert!(status.is_success());
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!("{path}: median {:.1} ms", times[2]);
    }
    for path in ["/", "/materials"] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = std::time::Instant::now();
            page(&app, &ada.token, path).await;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!("{path}: median {:.1} ms", times[2]);
    }
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM studyhall_study_queue($1, NULL, ARRAY['flashcard'])",
    )
    .bind(ada.user_id)
    .fetch_all(pool)
    .await
    .expect("plan");
    println!("{}", plan.join("\n"));
}
