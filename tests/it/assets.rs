//! Generated assets over HTTP: the builtin generator on a real article, no duplicates
//! on a second run, archiving on reprocessing, and refusals.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use studyhall::generate::{check_shape, grounded};
use uuid::Uuid;

use crate::harness::{Session, TestApp};
use crate::materials::{ARTICLE, create, settled};

/// Starts generation as `body` asks and waits for its job to end; returns the job as
/// `GET /api/v1/jobs/{id}` shows it.
pub async fn generate(app: &TestApp, session: &Session, material: Uuid, body: Value) -> Value {
    let path = format!("/api/v1/materials/{material}/generate");
    let (status, accepted) = app.call(Method::POST, &path, Some(&session.token), Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{accepted}");
    app.job_ended(session, accepted["job_id"].as_str().expect("a job id")).await
}

/// Generates everything with the builtin generator; returns the job's final status.
async fn generated(app: &TestApp, session: &Session, material: Uuid) -> String {
    generate(app, session, material, json!({})).await["status"].as_str().expect("a status").to_owned()
}

pub async fn assets(app: &TestApp, session: &Session, material: Uuid, query: &str) -> Vec<Value> {
    let path = format!("/api/v1/materials/{material}/assets?limit=200{query}");
    let (status, page) = app.call(Method::GET, &path, Some(&session.token), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().cloned().expect("items")
}

#[tokio::test]
async fn an_article_gets_grounded_cards_quizzes_and_summaries_once() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(&app, &ada, material).await;
    assert_eq!(generated(&app, &ada, material).await, "done");

    let (_, page) =
        app.call(Method::GET, &format!("/api/v1/materials/{material}/chunks?limit=200"), Some(&ada.token), None).await;
    let chunks = page["items"].as_array().cloned().expect("chunks");
    let all = assets(&app, &ada, material, "").await;
    let prose = |c: &&Value| c["chunk_type"] != "table" && c["chunk_type"] != "code";
    for chunk in chunks.iter().filter(prose).filter(|c| c["word_count"].as_i64().is_some_and(|w| w >= 40)) {
        let summaries = all.iter().filter(|a| a["content_chunk_id"] == chunk["id"] && a["asset_type"] == "summary");
        assert_eq!(summaries.count(), 1, "chunk {} has one summary", chunk["chunk_order"]);
    }
    // Fewer, better items: at most 10 per 1,000 words, each section of the article asked about.
    let items: Vec<&Value> = all.iter().filter(|a| a["asset_type"] != "summary").collect();
    let words: i64 = chunks.iter().filter(prose).filter_map(|c| c["word_count"].as_i64()).sum();
    // (The generator counts the headings' words too: a tenth more, at most.)
    assert!(items.len() as i64 <= words * 11 / 1000 + 1, "{} items for {words} words", items.len());
    let section = |chunk: &Value| chunk["metadata"]["heading_path"][1].as_str().map(str::to_owned);
    let sections: HashSet<String> = chunks.iter().filter(prose).filter_map(section).collect();
    let asked: HashSet<String> = items
        .iter()
        .filter_map(|a| chunks.iter().find(|c| c["id"] == a["content_chunk_id"]).and_then(section))
        .collect();
    assert_eq!(asked, sections, "every section has an item");
    for kind in ["flashcard", "quiz"] {
        assert!(items.iter().any(|a| a["asset_type"] == kind), "{kind}s are made");
    }
    let material_summaries: Vec<&Value> = all.iter().filter(|a| a["content_chunk_id"].is_null()).collect();
    assert_eq!(material_summaries.len(), 1);
    assert_eq!(material_summaries[0]["asset_type"], "summary");

    for asset in &all {
        let kind = asset["asset_type"].as_str().expect("a type");
        check_shape(kind.parse().expect("an asset type"), &asset["content"]).unwrap_or_else(|e| panic!("{e}: {asset}"));
        assert_eq!(asset["generation_model"], "builtin-v2");
        assert_eq!(asset["status"], "ready");
        assert!(asset["quality_score"].as_f64().is_some_and(|q| (0.0..=1.0).contains(&q)));
        assert!(asset["difficulty_level"].as_i64().is_some_and(|d| (1..=10).contains(&d)));
        let Some(chunk) = chunks.iter().find(|c| c["id"] == asset["content_chunk_id"]) else { continue };
        let source = chunk["content"].as_str().expect("content");
        let content = &asset["content"];
        match kind {
            "flashcard" => assert!(grounded(content["back"].as_str().expect("back"), source), "{asset}"),
            "quiz" if content["kind"] == "multiple_choice" => {
                let index = content["answer_index"].as_u64().expect("an index") as usize;
                let choices = content["choices"].as_array().expect("choices");
                assert!(grounded(choices[index].as_str().expect("a choice"), source), "{asset}");
            }
            _ => {}
        }
    }

    let again = generate(&app, &ada, material, json!({})).await;
    assert_eq!((again["status"].as_str(), again["result"]["added"].as_u64()), (Some("done"), Some(0)), "{again}");
    assert_eq!(assets(&app, &ada, material, "").await.len(), all.len(), "generating again adds nothing");
    let cards = assets(&app, &ada, material, "&asset_type=flashcard").await;
    assert!(!cards.is_empty() && cards.iter().all(|a| a["asset_type"] == "flashcard"));
}

#[tokio::test]
async fn reprocessing_archives_old_assets_and_generation_starts_afresh() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(&app, &ada, material).await;
    generated(&app, &ada, material).await;
    let first = assets(&app, &ada, material, "&status=ready").await.len();

    let (status, _) =
        app.call(Method::POST, &format!("/api/v1/materials/{material}/reprocess"), Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(settled(&app, &ada, material).await["status"], "ready");
    let archived = assets(&app, &ada, material, "&status=archived").await;
    assert_eq!(archived.len(), first, "every asset made from the old text is archived");
    assert!(assets(&app, &ada, material, "&status=ready").await.is_empty());
    assert!(archived.iter().all(|a| a["content_chunk_id"].is_null()));

    generated(&app, &ada, material).await;
    assert_eq!(assets(&app, &ada, material, "&status=ready").await.len(), first, "made again for the new chunks");
}

#[tokio::test]
async fn generation_is_refused_for_materials_not_ready_and_bad_requests() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let material: Uuid = sqlx::query_scalar(
        "INSERT INTO study_materials (user_id, title, source_type) VALUES ($1, 'Pending', 'text') RETURNING id",
    )
    .bind(ada.user_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("a material");
    let path = format!("/api/v1/materials/{material}/generate");
    let (status, problem) = app.call(Method::POST, &path, Some(&ada.token), Some(json!({}))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::CONFLICT, Some("status")));

    for (body, field) in [
        (json!({"asset_types": ["poem"]}), "asset_types"),
        (json!({"asset_types": []}), "asset_types"),
        (json!({"max_per_chunk": 0}), "max_per_chunk"),
        (json!({"provider": "openai"}), "provider"), // no LLM endpoint is configured here
        (json!({"provider": "gpt"}), "provider"),
    ] {
        let (status, problem) = app.call(Method::POST, &path, Some(&ada.token), Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn owners_edit_flag_and_archive_assets() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(&app, &ada, material).await;
    generated(&app, &ada, material).await;
    let all = assets(&app, &ada, material, "").await;
    let card = all.iter().find(|a| a["asset_type"] == "flashcard").expect("a flashcard");
    let quiz = all.iter().find(|a| a["asset_type"] == "quiz").expect("a quiz");
    let card_path = format!("/api/v1/assets/{}", card["id"].as_str().expect("an id"));
    let quiz_path = format!("/api/v1/assets/{}", quiz["id"].as_str().expect("an id"));

    let (status, fetched) = app.call(Method::GET, &card_path, Some(&ada.token), None).await;
    assert_eq!((status, &fetched["content"]), (StatusCode::OK, &card["content"]));

    let edit = json!({"content": {"front": "What is the basic unit of life?", "back": "The cell."}});
    let (status, edited) = app.call(Method::PATCH, &card_path, Some(&ada.token), Some(edit)).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["content"]["back"], "The cell.");
    assert_eq!(edited["metadata"]["edited_by_owner"], true);

    let mut broken = quiz["content"].clone();
    broken["choices"] = json!(["only", "three", "choices"]);
    for (body, field) in [(json!({"content": broken}), "content.choices"), (json!({"status": "deleted"}), "status")] {
        let (status, problem) = app.call(Method::PATCH, &quiz_path, Some(&ada.token), Some(body.clone())).await;
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{body}"
        );
    }
    let (_, flagged) = app.call(Method::PATCH, &quiz_path, Some(&ada.token), Some(json!({"status": "flagged"}))).await;
    assert_eq!(flagged["status"], "flagged");

    let (status, _) = app.call(Method::DELETE, &card_path, Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, archived) = app.call(Method::GET, &card_path, Some(&ada.token), None).await;
    assert_eq!(archived["status"], "archived", "kept for learners' history");
    let listed = assets(&app, &ada, material, "").await;
    assert!(listed.iter().all(|a| a["id"] != card["id"]), "archived assets leave the default list");
    assert_eq!(assets(&app, &ada, material, "&status=archived").await.len(), 1);
    let updates: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs WHERE action IN ('asset.update', 'asset.delete') AND is_success",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("count");
    assert_eq!(updates, 3, "every change is audited");
}

#[tokio::test]
async fn a_suspended_item_leaves_sessions_and_due_counts_and_keeps_its_schedule() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(&app, &ada, material).await;
    generated(&app, &ada, material).await;
    let cards: Vec<String> = assets(&app, &ada, material, "&asset_type=flashcard")
        .await
        .iter()
        .map(|a| a["id"].as_str().expect("an id").to_owned())
        .collect();
    let card = cards[0].clone();
    // A card learned earlier, due since yesterday.
    sqlx::query(
        "INSERT INTO review_states (user_id, generated_asset_id, study_material_id, stability, difficulty, due, reps,
                                    last_rating, last_review)
         VALUES ($1, $2::uuid, $3, 3.5, 5, now() - interval '1 day', 2, 3, now() - interval '4 days')",
    )
    .bind(ada.user_id)
    .bind(&card)
    .bind(material)
    .execute(&app.db.pool)
    .await
    .expect("a review state");
    let due = || async {
        let path = format!("/api/v1/reviews/due?study_material_id={material}");
        let (status, due) = app.call(Method::GET, &path, Some(&ada.token), None).await;
        assert_eq!(status, StatusCode::OK, "{due}");
        due
    };
    let before = due().await;
    assert_eq!(before["due_count"], 1, "{before}");
    assert_eq!(before["items"][0]["id"], card.as_str());
    let new_before = before["new_count"].as_i64().expect("a count");

    let path = format!("/api/v1/assets/{card}");
    let (status, suspended) =
        app.call(Method::PATCH, &path, Some(&ada.token), Some(json!({"status": "suspended"}))).await;
    assert_eq!((status, suspended["status"].as_str()), (StatusCode::OK, Some("suspended")), "{suspended}");
    let after = due().await;
    assert_eq!((after["due_count"].as_i64(), after["items"].as_array().map(Vec::len)), (Some(0), Some(0)), "{after}");
    assert_eq!(after["new_count"].as_i64(), Some(new_before), "the other cards are still new");
    let listed = assets(&app, &ada, material, "&status=suspended").await;
    assert_eq!(listed.len(), 1, "listed by its status");

    // A suspended card is never served: with every card suspended a review has nothing,
    // and an answer to it is refused.
    for other in &cards[1..] {
        let path = format!("/api/v1/assets/{other}");
        let (status, _) = app.call(Method::PATCH, &path, Some(&ada.token), Some(json!({"status": "suspended"}))).await;
        assert_eq!(status, StatusCode::OK);
    }
    let body = json!({"study_material_id": material, "session_type": "review"});
    let (status, session) = app.call(Method::POST, "/api/v1/sessions", Some(&ada.token), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let session = session["id"].as_str().expect("a session").to_owned();
    let (status, next) =
        app.call(Method::GET, &format!("/api/v1/sessions/{session}/next"), Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "nothing to serve: {next}");
    let answer = json!({"generated_asset_id": card, "interaction_type": "answer", "interaction_data": {"rating": 3}});
    let (status, refused) = app
        .call(Method::POST, &format!("/api/v1/sessions/{session}/interactions"), Some(&ada.token), Some(answer))
        .await;
    assert_eq!(
        (status, refused["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("generated_asset_id"))
    );

    // Back to ready, it is due again as it was: its review state was kept.
    let (status, ready) = app.call(Method::PATCH, &path, Some(&ada.token), Some(json!({"status": "ready"}))).await;
    assert_eq!((status, ready["status"].as_str()), (StatusCode::OK, Some("ready")));
    let again = due().await;
    assert_eq!(again["items"][0]["id"], card.as_str(), "{again}");
    assert_eq!(again["items"][0]["due"], before["items"][0]["due"], "the same due date");
}

#[tokio::test]
async fn new_items_wait_for_review_when_the_learner_asks() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let review = json!({"preferences": {"review_new_items": true}});
    assert_eq!(app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(review)).await.0, StatusCode::OK);
    let (status, refused) = app
        .call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(json!({"preferences": {"review_new_items": 1}})))
        .await;
    assert_eq!(
        (status, refused["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("preferences.review_new_items"))
    );
    let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(&app, &ada, material).await;
    generated(&app, &ada, material).await;
    assert!(assets(&app, &ada, material, "").await.is_empty(), "nothing is ready");
    let waiting = assets(&app, &ada, material, "&status=draft").await;
    assert!(
        waiting.iter().all(|a| a["metadata"]["to_review"] == true),
        "all to review (the builtin makes no flawed drafts)"
    );

    // Sessions serve none of them.
    let body = json!({"study_material_id": material, "session_type": "study"});
    let (_, session) = app.call(Method::POST, "/api/v1/sessions", Some(&ada.token), Some(body)).await;
    let next = format!("/api/v1/sessions/{}/next", session["id"].as_str().expect("a session"));
    assert_eq!(app.call(Method::GET, &next, Some(&ada.token), None).await.0, StatusCode::NO_CONTENT);

    // Accepting all makes them ready; a second time there is nothing left to accept.
    let accept = format!("/api/v1/materials/{material}/assets/accept");
    let (status, accepted) = app.call(Method::POST, &accept, Some(&ada.token), None).await;
    assert_eq!((status, accepted["accepted"].as_u64()), (StatusCode::OK, Some(waiting.len() as u64)), "{accepted}");
    assert_eq!(assets(&app, &ada, material, "").await.len(), waiting.len());
    assert_eq!(app.call(Method::POST, &accept, Some(&ada.token), None).await.1["accepted"], 0);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = 'material.accept_assets'")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(audited, 2);
}

/// A generation job says where it is (GET /jobs/{id}'s `progress`): its last report, once
/// done, is the items it saved.
#[tokio::test]
async fn a_generation_job_reports_its_progress() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(&app, &ada, material).await;
    let job = generate(&app, &ada, material, json!({})).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["progress"], json!({"stage": "saving", "done": 0, "total": job["result"]["made"]}), "{job}");
}

/// A deleted item can be restored, unless generating again made it anew meanwhile: then
/// the copy stands and restoring is refused (409), not a server error.
#[tokio::test]
async fn a_deleted_item_is_restored_unless_made_again_since() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(&app, &ada, material).await;
    generate(&app, &ada, material, json!({"asset_types": ["flashcard"]})).await;
    let (_, assets) =
        app.call(Method::GET, &format!("/api/v1/materials/{material}/assets"), Some(&ada.token), None).await;
    let item = assets["items"][0]["id"].as_str().expect("an item").to_owned();
    let path = format!("/api/v1/assets/{item}");
    let (status, _) = app.call(Method::DELETE, &path, Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let ready = Some(json!({"status": "ready"}));
    let (status, restored) = app.call(Method::PATCH, &path, Some(&ada.token), ready.clone()).await;
    assert_eq!((status, restored["status"].as_str()), (StatusCode::OK, Some("ready")), "{restored}");

    app.call(Method::DELETE, &path, Some(&ada.token), None).await;
    let job = generate(&app, &ada, material, json!({"asset_types": ["flashcard"]})).await;
    assert!(job["result"]["added"].as_u64().is_some_and(|n| n >= 1), "made again: {job}");
    let (status, refused) = app.call(Method::PATCH, &path, Some(&ada.token), ready).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "status", "{refused}");
}
