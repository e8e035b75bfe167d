//! Learning over HTTP: sessions on a real article, answers graded by the server, FSRS due
//! dates, idempotency, refusals, abandonment, feedback and the progress summary.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use studyhall::learn::preferences::Preferences;
use studyhall::learn::schedule;
use uuid::Uuid;

use crate::assets::generate;
use crate::harness::{Session, TestApp};
use crate::materials::{ARTICLE, create, settled};

/// A learner with the article ingested and its assets generated.
pub async fn learner_with_assets(app: &TestApp, name: &str) -> (Session, Uuid) {
    let learner = app.register(name).await;
    let material = create(app, &learner, "The Cell", ARTICLE, json!({"subject_area": "biology"})).await;
    settled(app, &learner, material).await;
    assert_eq!(generate(app, &learner, material, json!({})).await["status"], "done");
    (learner, material)
}

pub async fn start(app: &TestApp, who: &Session, material: Uuid, kind: &str, configuration: Value) -> Value {
    let body = json!({"study_material_id": material, "session_type": kind, "configuration": configuration});
    let (status, session) = app.call(Method::POST, "/api/v1/sessions", Some(&who.token), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session
}

pub fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

/// The next item, or None on 204.
pub async fn next(app: &TestApp, who: &Session, session: &str) -> Option<Value> {
    let (status, body) =
        app.call(Method::GET, &format!("/api/v1/sessions/{session}/next"), Some(&who.token), None).await;
    match status {
        StatusCode::OK => Some(body),
        StatusCode::NO_CONTENT => None,
        other => panic!("next: {other} {body}"),
    }
}

pub async fn interact(
    app: &TestApp,
    who: &Session,
    session: &str,
    body: Value,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(app.url(&format!("/api/v1/sessions/{session}/interactions")))
        .bearer_auth(&who.token)
        .json(&body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.expect("send");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn answer(app: &TestApp, who: &Session, session: &str, asset: &str, data: Value) -> Value {
    let body = json!({"generated_asset_id": asset, "interaction_type": "answer", "interaction_data": data,
                      "response_time_ms": 2500, "confidence_level": 0.5});
    let (status, recorded) = interact(app, who, session, body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    recorded
}

/// The full asset (answer included), as its owner reads it.
async fn asset(app: &TestApp, who: &Session, asset: &str) -> Value {
    let (status, body) = app.call(Method::GET, &format!("/api/v1/assets/{asset}"), Some(&who.token), None).await;
    assert_eq!(status, StatusCode::OK);
    body
}

#[tokio::test]
async fn a_learner_reviews_takes_a_quiz_and_sees_their_progress() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;

    // Review: new cards, rated again, hard, good, easy in turn: the learning steps set
    // the first three due dates (1, 5.5 and 10 minutes), FSRS the fourth's.
    let review = start(&app, &ada, material, "review", json!({"max_items": 4})).await;
    let review_id = id(&review);
    assert_eq!(review["session_data"]["planned"], 4);
    let (mut graded, mut correct) = (0, 0);
    let mut intervals = [0.0f64; 5];
    for n in 0..4 {
        let item = next(&app, &ada, &review_id).await.expect("a card");
        assert_eq!(item["position"], n + 1);
        assert_eq!(item["asset"]["asset_type"], "flashcard");
        assert!(item["asset"]["content"].get("back").is_none(), "the answer is withheld: {item}");
        let rating = [1, 2, 3, 4][n as usize % 4];
        let recorded = answer(&app, &ada, &review_id, &id(&item["asset"]), json!({"rating": rating})).await;
        assert_eq!(recorded["is_correct"], rating >= 2);
        let full = asset(&app, &ada, &id(&item["asset"])).await;
        assert_eq!(recorded["feedback_data"]["correct_answer"], full["content"]["back"]);
        let schedule = &recorded["feedback_data"]["schedule"];
        let now = recorded["interaction"]["created_at"].as_str().expect("a time").parse().expect("a time");
        let expected = schedule::review(None, rating, now, &Preferences::default(), &schedule::Model::default())
            .expect("scheduled");
        let days = schedule["interval_days"].as_f64().expect("days");
        assert!((days - expected.interval_days).abs() < 1e-12, "the fsrs crate's schedule: {schedule}");
        let shown = &item["intervals"][["again", "hard", "good", "easy"][rating as usize - 1]];
        assert!((shown.as_f64().expect("days") - expected.interval_days).abs() < 1e-12, "the button said so: {item}");
        assert_eq!(schedule["first_review"], true);
        intervals[rating as usize] = expected.interval_days;
        graded += 1;
        correct += i32::from(rating >= 2);
        assert_eq!(recorded["session"]["total_interactions"], n + 1);
    }
    let minutes: Vec<f64> = intervals[1..4].iter().map(|days| (days * 1440.0 * 1e6).round() / 1e6).collect();
    assert_eq!(minutes, [1.0, 5.5, 10.0], "the learning steps: {intervals:?}");
    assert!(intervals[4] >= 1.0, "easy graduates at once: {intervals:?}");
    // max_items reached: the three cards in a step come back (early, as nothing else is
    // left), the Again card first; Easy graduates them.
    for n in 5..8 {
        let item = next(&app, &ada, &review_id).await.expect("a card in a step");
        assert_eq!((item["position"].as_i64(), item["remaining"].as_i64()), (Some(n), Some(8 - n)), "{item}");
        assert_eq!(item["again"], true);
        let recorded = answer(&app, &ada, &review_id, &id(&item["asset"]), json!({"rating": 4})).await;
        assert!(recorded["feedback_data"]["schedule"]["interval_days"].as_f64() >= Some(1.0), "{recorded}");
        assert_eq!(recorded["session"]["session_data"]["done"], 4, "repeats are not more items");
        graded += 1;
        correct += 1;
    }
    assert!(next(&app, &ada, &review_id).await.is_none(), "max_items reached and every card graduated");
    let (status, due) = app.call(Method::GET, "/api/v1/reviews/due", Some(&ada.token), None).await;
    assert_eq!((status, &due["due_count"]), (StatusCode::OK, &json!(0)), "nothing is due right after a review");
    let (status, ended) =
        app.call(Method::POST, &format!("/api/v1/sessions/{review_id}/end"), Some(&ada.token), None).await;
    assert_eq!((status, ended["status"].as_str()), (StatusCode::OK, Some("completed")), "{ended}");
    assert_eq!(ended["completion_percentage"], 100.0);
    assert_eq!(ended["total_interactions"], 7);

    // Quiz: two items, none repeated; a client's own is_correct is ignored.
    let quiz = start(&app, &ada, material, "quiz", json!({"max_items": 2})).await;
    let quiz_id = id(&quiz);
    let mut seen = HashSet::new();
    while let Some(item) = next(&app, &ada, &quiz_id).await {
        let asset_id = id(&item["asset"]);
        assert!(seen.insert(asset_id.clone()), "never repeated");
        assert!(item["asset"]["content"].get("answer_index").is_none());
        let truth = asset(&app, &ada, &asset_id).await["content"]["answer_index"].as_u64().expect("an index");
        let body = json!({"generated_asset_id": asset_id, "interaction_type": "answer",
                          "interaction_data": {"choice_index": 0}, "is_correct": true, "response_time_ms": 4000});
        let (status, recorded) = interact(&app, &ada, &quiz_id, body, None).await;
        assert_eq!(status, StatusCode::CREATED, "{recorded}");
        assert_eq!(recorded["is_correct"], truth == 0, "graded by the server");
        graded += 1;
        correct += i32::from(truth == 0);
    }
    assert_eq!(seen.len(), 2);
    let (status, _) = app.call(Method::POST, &format!("/api/v1/sessions/{quiz_id}/end"), Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK);

    let (status, summary) = app.call(Method::GET, "/api/v1/progress/summary", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["answers"], graded);
    let accuracy = summary["accuracy"].as_f64().expect("an accuracy");
    assert!((accuracy - f64::from(correct) / f64::from(graded)).abs() < 1e-9, "{summary}");
    assert_eq!(summary["streak_days"], 1);
    assert_eq!(summary["items_learned"], 6, "4 cards and 2 quiz items have a memory state");
    assert!(summary["retention"].as_f64().is_some_and(|r| r > 0.99), "just reviewed: {summary}");
    assert_eq!(summary["subjects"][0]["subject_area"], "biology");
    assert_eq!(summary["subjects"][0]["answers"], graded);

    let (_, metrics) =
        app.call(Method::GET, "/api/v1/progress/metrics?time_period=session", Some(&ada.token), None).await;
    let kinds: HashSet<&str> =
        metrics["items"].as_array().expect("items").iter().filter_map(|m| m["metric_type"].as_str()).collect();
    assert_eq!(kinds, HashSet::from(["accuracy", "speed", "retention"]), "{metrics}");
    let (_, daily) = app
        .call(Method::GET, "/api/v1/progress/metrics?time_period=daily&metric_type=accuracy", Some(&ada.token), None)
        .await;
    let overall: Vec<&Value> =
        daily["items"].as_array().expect("items").iter().filter(|m| m["subject_area"].is_null()).collect();
    assert_eq!(overall.len(), 1, "today's rollup: {daily}");
    assert!((overall[0]["metric_value"].as_f64().expect("a value") - accuracy).abs() < 1e-9);
}

#[tokio::test]
async fn a_retried_answer_counts_once() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    let session = id(&start(&app, &ada, material, "review", json!({})).await);
    let item = next(&app, &ada, &session).await.expect("a card");
    let body = json!({"generated_asset_id": id(&item["asset"]), "interaction_type": "answer",
                      "interaction_data": {"rating": 3}});
    let (first, a) = interact(&app, &ada, &session, body.clone(), Some("answer-1")).await;
    let (again, b) = interact(&app, &ada, &session, body.clone(), Some("answer-1")).await;
    assert_eq!((first, again), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(a["interaction"]["id"], b["interaction"]["id"], "the same interaction");
    assert_eq!(b["session"]["total_interactions"], 1);

    // Two retries racing each other: one interaction.
    let item = next(&app, &ada, &session).await.expect("another card");
    let body = json!({"generated_asset_id": id(&item["asset"]), "interaction_type": "answer",
                      "interaction_data": {"rating": 4}});
    let (x, y) = tokio::join!(
        interact(&app, &ada, &session, body.clone(), Some("answer-2")),
        interact(&app, &ada, &session, body.clone(), Some("answer-2"))
    );
    assert_eq!((x.0, y.0), (StatusCode::CREATED, StatusCode::CREATED), "{} {}", x.1, y.1);
    assert_eq!(x.1["interaction"]["id"], y.1["interaction"]["id"]);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM interactions WHERE learning_session_id = $1::uuid")
        .bind(&session)
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(count, 2);

    let mut other = body.clone();
    other["interaction_data"] = json!({"rating": 1});
    let (status, problem) = interact(&app, &ada, &session, other, Some("answer-2")).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("Idempotency-Key"))
    );
}

#[tokio::test]
async fn bad_answers_are_refused_with_the_field_and_the_reason() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    let second = create(&app, &ada, "More cells", ARTICLE, json!({})).await;
    settled(&app, &ada, second).await;
    generate(&app, &ada, second, json!({})).await;
    let (_, others) = app
        .call(Method::GET, &format!("/api/v1/materials/{second}/assets?asset_type=flashcard"), Some(&ada.token), None)
        .await;
    let foreign = id(&others["items"][0]);

    let session = id(&start(&app, &ada, material, "review", json!({})).await);
    let card = id(&next(&app, &ada, &session).await.expect("a card")["asset"]);
    let with = |data: Value, extra: Value| {
        let mut body = json!({"generated_asset_id": card, "interaction_type": "answer", "interaction_data": data});
        body.as_object_mut().expect("an object").extend(extra.as_object().cloned().unwrap_or_default());
        body
    };
    for (body, field) in [
        (with(json!({"rating": 5}), json!({})), "interaction_data.rating"),
        (with(json!({}), json!({})), "interaction_data.rating"),
        (with(json!({"rating": 3}), json!({"response_time_ms": -1})), "response_time_ms"),
        (with(json!({"rating": 3}), json!({"response_time_ms": 3_600_001})), "response_time_ms"),
        (with(json!({"rating": 3}), json!({"confidence_level": 1.5})), "confidence_level"),
        (with(json!({"rating": 3}), json!({"interaction_type": "guess"})), "interaction_type"),
        (with(json!({"rating": 3}), json!({"generated_asset_id": foreign})), "generated_asset_id"),
    ] {
        let (status, problem) = interact(&app, &ada, &session, body.clone(), None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    // Easy graduates the card at once: no step brings it back in this session.
    let (status, _) = interact(&app, &ada, &session, with(json!({"rating": 4}), json!({})), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, problem) = interact(&app, &ada, &session, with(json!({"rating": 3}), json!({})), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "answered already: {problem}");

    // Bob cannot see Ada's session, nor answer in it.
    let bob = app.register("bob").await;
    let (status, _) = app.call(Method::GET, &format!("/api/v1/sessions/{session}"), Some(&bob.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = interact(&app, &bob, &session, with(json!({"rating": 3}), json!({})), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An ended session takes nothing more.
    app.call(Method::POST, &format!("/api/v1/sessions/{session}/end"), Some(&ada.token), None).await;
    let (status, _) = app.call(Method::GET, &format!("/api/v1/sessions/{session}/next"), Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app.call(Method::POST, &format!("/api/v1/sessions/{session}/end"), Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn study_walks_the_material_and_idle_sessions_are_abandoned() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    let session = id(&start(&app, &ada, material, "study", json!({"max_items": 6})).await);
    let first = next(&app, &ada, &session).await.expect("an item");
    assert_eq!(first["asset"]["asset_type"], "summary");
    assert!(first["asset"]["content_chunk_id"].is_null(), "the material's summary comes first");
    assert_eq!(
        next(&app, &ada, &session).await.expect("the same item")["asset"]["id"],
        first["asset"]["id"],
        "next is stable"
    );
    let body = json!({"generated_asset_id": id(&first["asset"]), "interaction_type": "view"});
    let (status, viewed) = interact(&app, &ada, &session, body, None).await;
    assert_eq!(status, StatusCode::CREATED, "{viewed}");
    assert_eq!(viewed["is_correct"], Value::Null);
    let second = next(&app, &ada, &session).await.expect("an item");
    assert_eq!(second["position"], 2);
    assert_eq!(second["asset"]["asset_type"], "summary", "then the first chunk's summary");
    assert!(!second["asset"]["content_chunk_id"].is_null());
    assert!(second["asset"]["passage"].as_str().is_some_and(|p| p.len() > 100), "with the chunk to read after it");
    assert!(first["asset"].get("passage").is_none(), "the material's summary has no one passage");

    sqlx::query(
        "UPDATE learning_sessions SET session_data = session_data || jsonb_build_object('last_activity_at', now() - interval '2 hours')
          WHERE id = $1::uuid",
    )
    .bind(&session)
    .execute(&app.db.pool)
    .await
    .expect("age the session");
    let (status, problem) =
        app.call(Method::GET, &format!("/api/v1/sessions/{session}/next"), Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (_, fetched) = app.call(Method::GET, &format!("/api/v1/sessions/{session}"), Some(&ada.token), None).await;
    assert_eq!(fetched["status"], "abandoned");
    let (_, listed) = app.call(Method::GET, "/api/v1/sessions?status=abandoned", Some(&ada.token), None).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_reported_item_leaves_sessions_and_ratings_move_quality() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    let session = id(&start(&app, &ada, material, "quiz", json!({})).await);
    let item = next(&app, &ada, &session).await.expect("a quiz item");
    let reported = id(&item["asset"]);
    let path = format!("/api/v1/assets/{reported}/feedback");
    let report = json!({"feedback_type": "report", "comment": "Two answers are right."});
    let (status, feedback) = app.call(Method::POST, &path, Some(&ada.token), Some(report)).await;
    assert_eq!((status, feedback["asset_status"].as_str()), (StatusCode::CREATED, Some("flagged")), "{feedback}");
    let replacement = next(&app, &ada, &session).await.expect("another item");
    assert_ne!(id(&replacement["asset"]), reported, "a flagged item is served no more");
    let body =
        json!({"generated_asset_id": reported, "interaction_type": "answer", "interaction_data": {"choice_index": 0}});
    let (status, _) = interact(&app, &ada, &session, body, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let rated = id(&replacement["asset"]);
    let before = asset(&app, &ada, &rated).await["quality_score"].as_f64().expect("a score");
    for _ in 0..5 {
        let (status, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/assets/{rated}/feedback"),
                Some(&ada.token),
                Some(json!({"feedback_type": "rating", "rating": 1})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let after = asset(&app, &ada, &rated).await;
    assert!(after["quality_score"].as_f64().expect("a score") < before, "five 1-star ratings lower it: {after}");
    assert_eq!(after["metadata"]["quality"]["ratings"], 5);

    for (body, field) in [
        (json!({"feedback_type": "rating"}), "rating"),
        (json!({"feedback_type": "rating", "rating": 6}), "rating"),
        (json!({"feedback_type": "comment"}), "comment"),
        (json!({"feedback_type": "praise"}), "feedback_type"),
        (json!({"feedback_type": "comment", "comment": "x", "interaction_id": Uuid::new_v4()}), "interaction_id"),
    ] {
        let (status, problem) = app.call(Method::POST, &path, Some(&ada.token), Some(body.clone())).await;
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_sibling_waits_for_the_next_day_and_drafts_are_never_served() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    let ada_id = ada.user_id;
    // The first three cards a study session would serve: make the first two siblings
    // (one fact), and the third a draft.
    let items: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT a.id FROM generated_assets a JOIN content_chunks c ON c.id = a.content_chunk_id
          WHERE a.study_material_id = $1 AND a.asset_type = 'flashcard'
          ORDER BY c.chunk_order, a.id LIMIT 3",
    )
    .bind(material)
    .fetch_all(&app.db.pool)
    .await
    .expect("items");
    assert_eq!(items.len(), 3, "the article has items");
    let (first, sibling, draft) = (items[0].0, items[1].0, items[2].0);
    sqlx::query(
        "UPDATE generated_assets SET generation_params = generation_params || '{\"fact\": \"one fact\"}'
          WHERE id = ANY($1)",
    )
    .bind(vec![first, sibling])
    .execute(&app.db.pool)
    .await
    .expect("siblings");
    sqlx::query("UPDATE generated_assets SET status = 'draft' WHERE id = $1")
        .bind(draft)
        .execute(&app.db.pool)
        .await
        .expect("a draft");

    let config = json!({"asset_types": ["flashcard"], "max_items": 200});
    let session = id(&start(&app, &ada, material, "study", config).await);
    let mut served: Vec<Uuid> = Vec::new();
    while let Some(item) = next(&app, &ada, &session).await {
        let asset = Uuid::parse_str(&id(&item["asset"])).expect("a uuid");
        answer(&app, &ada, &session, &asset.to_string(), json!({"rating": 4})).await;
        served.push(asset);
    }
    let at = |asset: Uuid| served.iter().position(|s| *s == asset);
    assert_eq!(at(first), Some(0), "{served:?}");
    assert_eq!(at(sibling), None, "its sibling is buried once one is answered");
    assert_eq!(at(draft), None, "a draft is never served");
    let counts = |app: &TestApp| {
        let pool = app.db.pool.clone();
        async move {
            let queued: Vec<(Uuid,)> =
                sqlx::query_as("SELECT generated_asset_id FROM studyhall_study_queue($1, NULL, ARRAY['flashcard'])")
                    .bind(ada_id)
                    .fetch_all(&pool)
                    .await
                    .expect("the queue");
            queued.into_iter().map(|(id,)| id).collect::<Vec<_>>()
        }
    };
    assert!(!counts(&app).await.contains(&sibling), "nor counted");
    a_day_passes(&app, ada.user_id).await;
    assert!(counts(&app).await.contains(&sibling), "the next day it is new again");
    let session = id(&start(&app, &ada, material, "study", json!({"asset_types": ["flashcard"]})).await);
    assert_eq!(next(&app, &ada, &session).await.expect("a card")["asset"]["id"], sibling.to_string());
    let (_, listed) =
        app.call(Method::GET, &format!("/api/v1/materials/{material}/assets"), Some(&ada.token), None).await;
    let listed: Vec<&str> =
        listed["items"].as_array().expect("items").iter().filter_map(|a| a["id"].as_str()).collect();
    assert!(!listed.contains(&draft.to_string().as_str()), "drafts are not listed unless asked for");
    let path = format!("/api/v1/materials/{material}/assets?status=draft");
    let (_, drafts) = app.call(Method::GET, &path, Some(&ada.token), None).await;
    assert_eq!(drafts["items"][0]["id"], draft.to_string());
}

#[tokio::test]
async fn rating_buttons_show_the_intervals_a_reviewed_card_gets() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    let first = id(&start(&app, &ada, material, "review", json!({"max_items": 1})).await);
    let card = next(&app, &ada, &first).await.expect("a card");
    answer(&app, &ada, &first, &id(&card["asset"]), json!({"rating": 4})).await;

    // Ten days later (the review moved back in time), the card is due; its buttons show
    // what FSRS gives each rating from the stored memory, at the learner's retention.
    sqlx::query(
        "UPDATE review_states SET last_review = last_review - interval '10 days', due = due - interval '10 days'
          WHERE user_id = $1",
    )
    .bind(ada.user_id)
    .execute(&app.db.pool)
    .await
    .expect("time travel");
    let patch = json!({"preferences": {"desired_retention": 0.8}});
    assert_eq!(app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(patch)).await.0, StatusCode::OK);
    let second = id(&start(&app, &ada, material, "review", json!({"max_items": 1})).await);
    let due = next(&app, &ada, &second).await.expect("the due card");
    assert_eq!(due["asset"]["id"], card["asset"]["id"], "the due card comes first");
    let memory = memory_of(&app, &id(&card["asset"]), None).await;
    let prefs = Preferences { desired_retention: 0.8, ..Preferences::default() };
    let expected =
        schedule::intervals(Some(&memory), chrono::Utc::now(), &prefs, &schedule::Model::default()).expect("intervals");
    assert_eq!(due["intervals"], json!(expected), "{due}");
    assert!(expected.again * 1440.0 == 10.0 && expected.hard >= 1.0 && expected.good > 6.0, "{expected:?}");

    let recorded = answer(&app, &ada, &second, &id(&due["asset"]), json!({"rating": 4})).await;
    assert_eq!(recorded["feedback_data"]["schedule"]["interval_days"].as_f64(), Some(expected.easy));

    let quiz = id(&start(&app, &ada, material, "quiz", json!({})).await);
    let item = next(&app, &ada, &quiz).await.expect("a quiz item");
    assert!(item.get("intervals").is_none(), "quiz items have no rating buttons: {item}");
}

/// Moves the learner's answers, schedules and sessions a day back: a day passes.
pub async fn a_day_passes(app: &TestApp, user: Uuid) {
    sqlx::query(
        "WITH i AS (UPDATE interactions SET created_at = created_at - interval '1 day' WHERE user_id = $1),
              s AS (UPDATE learning_sessions SET started_at = started_at - interval '1 day' WHERE user_id = $1)
         UPDATE review_states SET due = due - interval '1 day', last_review = last_review - interval '1 day'
          WHERE user_id = $1",
    )
    .bind(user)
    .execute(&app.db.pool)
    .await
    .expect("time travel");
}

/// The stored memory of a card in review, with `elapsed_days` as given.
pub async fn memory_of(app: &TestApp, asset: &str, elapsed_days: Option<u32>) -> schedule::Memory {
    let (stability, difficulty, last_review, reps, lapses): (f64, f64, chrono::DateTime<chrono::Utc>, i32, i32) =
        sqlx::query_as(
            "SELECT stability, difficulty, last_review, reps, lapses FROM review_states
              WHERE generated_asset_id = $1::uuid AND state = 'review'",
        )
        .bind(asset)
        .fetch_one(&app.db.pool)
        .await
        .expect("the memory");
    let (state, step) = (schedule::State::Review, None);
    schedule::Memory { stability, difficulty, last_review, reps, lapses, state, step, elapsed_days }
}
