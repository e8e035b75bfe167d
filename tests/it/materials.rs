//! Materials over HTTP: ingestion from pasted text by the job workers, the chunks it
//! makes, editing, deletion, reprocessing, and list filters.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Session, TestApp};

pub const ARTICLE: &str = include_str!("../data/cells.md");

/// Creates a material from `text`; returns its id.
pub async fn create(app: &TestApp, session: &Session, title: &str, text: &str, extra: Value) -> Uuid {
    let mut body = json!({"title": title, "source_type": "text", "text": text});
    body.as_object_mut().expect("an object").extend(extra.as_object().cloned().unwrap_or_default());
    let (status, material) = app.call(Method::POST, "/api/v1/materials", Some(&session.token), Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{material}");
    assert_eq!(material["status"], "processing");
    material["id"].as_str().and_then(|id| id.parse().ok()).expect("an id")
}

/// The material once it has left `processing`: after running the queued jobs (an app
/// without workers), or as the app's own workers leave it (polled); returns it.
pub async fn settled(app: &TestApp, session: &Session, id: Uuid) -> Value {
    let read = async || {
        let (status, material) =
            app.call(Method::GET, &format!("/api/v1/materials/{id}"), Some(&session.token), None).await;
        assert_eq!(status, StatusCode::OK);
        material
    };
    if app.runs_jobs_on_call() {
        app.run_jobs().await;
        let material = read().await;
        assert_ne!(material["status"], "processing", "its ingestion ran: {material}");
        return material;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let material = read().await;
        if material["status"] != "processing" {
            return material;
        }
        assert!(Instant::now() < deadline, "still processing after 60 s: {material}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn chunks(app: &TestApp, session: &Session, id: Uuid) -> Vec<Value> {
    let (status, page) =
        app.call(Method::GET, &format!("/api/v1/materials/{id}/chunks?limit=200"), Some(&session.token), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().cloned().expect("items")
}

#[tokio::test]
async fn an_article_becomes_ordered_typed_summarised_chunks() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let id = create(&app, &ada, "The Cell", ARTICLE, json!({"subject_area": "biology"})).await;
    let material = settled(&app, &ada, id).await;
    assert_eq!(material["status"], "ready", "{material}");
    assert_eq!(material["metadata"]["extractor"], "markdown");
    assert_eq!(material["metadata"]["language"], "en");
    assert!(material["metadata"]["reading_time_minutes"].as_u64().is_some_and(|m| (4..=7).contains(&m)));
    assert!(material["content_length"].as_i64().is_some_and(|n| n > 6000), "{}", material["content_length"]);
    assert!(["beginner", "intermediate", "advanced"].contains(&material["difficulty_level"].as_str().expect("set")));
    let tags: Vec<&str> = material["tags"].as_array().expect("tags").iter().filter_map(Value::as_str).collect();
    assert!(tags.iter().any(|t| t.contains("cell")), "key terms become tags: {tags:?}");

    let chunks = chunks(&app, &ada, id).await;
    assert!(chunks.len() >= 4, "{} chunks", chunks.len());
    for (n, chunk) in chunks.iter().enumerate() {
        assert_eq!(chunk["chunk_order"], n, "orders 0..n-1 with no gaps");
        let content = chunk["content"].as_str().expect("content");
        let words = chunk["word_count"].as_i64().expect("words");
        assert!((1..=400).contains(&words), "chunk {n}: {words} words");
        assert_eq!(chunk["language"], "en");
        // Code, output and tables are not prose: they get no summary (docs/analysis.md).
        if ["code", "output", "table"].contains(&chunk["chunk_type"].as_str().unwrap_or_default()) {
            assert!(chunk["summary"].is_null(), "chunk {n} is {} and has no summary", chunk["chunk_type"]);
        } else {
            let summary = chunk["summary"].as_str().expect("a summary");
            let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            assert!(!summary.is_empty(), "chunk {n} has a summary");
            for sentence in flat(summary).split(". ") {
                assert!(
                    flat(content).contains(sentence.trim_end_matches('.')),
                    "extractive: {sentence:?} of chunk {n}"
                );
            }
        }
        let relevance = chunk["relevance_score"].as_f64().expect("relevance");
        assert!((0.0..=1.0).contains(&relevance));
        assert!(
            ["section", "paragraph", "list", "code", "output", "table"]
                .contains(&chunk["chunk_type"].as_str().expect("a type"))
        );
        assert_eq!(chunk["metadata"]["heading_path"][0], "The Cell", "chunk {n}: {}", chunk["metadata"]);
    }
    let kinds: Vec<&str> = chunks.iter().filter_map(|c| c["chunk_type"].as_str()).collect();
    assert!(kinds.contains(&"table"), "the table stands alone: {kinds:?}");
    let organelles = chunks
        .iter()
        .find(|c| c["content"].as_str().is_some_and(|t| t.contains("Golgi apparatus modifies")))
        .expect("the organelle list");
    assert_eq!(organelles["metadata"]["heading_path"], json!(["The Cell", "Organelles and their functions"]));
    let total: i64 = chunks.iter().filter_map(|c| c["word_count"].as_i64()).sum();
    assert!(total >= 1000, "nothing is lost: {total} words");
}

#[tokio::test]
async fn pasted_text_is_read_as_written_unless_it_is_clearly_markdown() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let id = create(&app, &ada, "Licence", &crate::uploads::licence(), json!({})).await;
    let material = settled(&app, &ada, id).await;
    assert_eq!(
        (material["status"].as_str(), material["metadata"]["extractor"].as_str()),
        (Some("ready"), Some("text"))
    );
    let written = chunks(&app, &ada, id).await;
    let text: Vec<&str> = written.iter().filter_map(|c| c["content"].as_str()).collect();
    let text = text.join("\n");
    assert!(text.contains("Copyright (C) <year> <name of author>"), "placeholders kept: {text}");
    assert!(text.lines().any(|line| line == "0. Definitions."), "numbers kept: {text}");
    assert!(text.contains("run `make install` to build it."), "backticks kept: {text}");
    assert!(
        written.iter().any(|c| c["metadata"]["heading_path"] == json!(["SAMPLE PUBLIC LICENSE", "1. Source Code."]))
    );

    let note = "# Ownership\n\nEach value in Rust has an **owner**, and there can only be one owner at a time. \
                When the owner goes out of scope, the value is dropped and its memory is returned.\n\n\
                ## Moves\n\nAssigning a `String` to another variable moves it, so the first one is no longer valid:\n\n\
                ```console\n$ cargo run\n   Compiling ownership v0.1.0 (file:///projects/ownership)\n\
                error[E0382]: borrow of moved value: `s1`\n --> src/main.rs:5:15\n```\n";
    let id = create(&app, &ada, "Ownership notes", note, json!({})).await;
    let material = settled(&app, &ada, id).await;
    assert_eq!(
        (material["status"].as_str(), material["metadata"]["extractor"].as_str()),
        (Some("ready"), Some("markdown"))
    );
    let chunks = chunks(&app, &ada, id).await;
    assert!(chunks.iter().all(|c| c["metadata"]["heading_path"][0] == "Ownership"), "{chunks:?}");
    let prose = chunks[0]["content"].as_str().expect("content");
    assert!(prose.starts_with("Ownership\n\nEach value in Rust has an owner,"), "Markdown is read: {prose}");
    let output = chunks.iter().find(|c| c["chunk_type"] == "output").expect("the compiler's output");
    assert!(output["content"].as_str().is_some_and(|t| t.contains("error[E0382]: borrow of moved value")));
    assert!(output["summary"].is_null(), "output is no prose: {output}");
}

#[tokio::test]
async fn invalid_materials_are_refused_with_the_field() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    for (body, field) in [
        (json!({"title": "Empty", "source_type": "text", "text": "   \n "}), "text"),
        (json!({"title": "", "source_type": "text", "text": "Words."}), "title"),
        (json!({"title": "T", "source_type": "scroll", "text": "Words."}), "source_type"),
        (
            json!({"title": "T", "source_type": "text", "text": "Words.", "difficulty_level": "expert"}),
            "difficulty_level",
        ),
        (json!({"title": "T", "source_type": "text", "text": "Words.", "tags": ["x".repeat(51)]}), "tags"),
    ] {
        let (status, problem) = app.call(Method::POST, "/api/v1/materials", Some(&ada.token), Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    let (_, page) = app.call(Method::GET, "/api/v1/materials", Some(&ada.token), None).await;
    assert_eq!(page["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn lists_filter_by_status_subject_tag_and_fuzzy_title() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bio =
        create(&app, &ada, "Biology basics", ARTICLE, json!({"subject_area": "biology", "tags": ["cells"]})).await;
    let chem = create(
        &app,
        &ada,
        "Chemistry of water",
        "Water is a polar molecule. It dissolves salts.",
        json!({"subject_area": "chemistry", "tags": ["water"]}),
    )
    .await;
    settled(&app, &ada, bio).await;
    settled(&app, &ada, chem).await;
    let bob = app.register("bob").await;
    create(&app, &bob, "Biology basics", "Bob's own notes on cells.", json!({"subject_area": "biology"})).await;

    let ids = |page: &Value| -> Vec<String> {
        page["items"].as_array().expect("items").iter().filter_map(|m| m["id"].as_str().map(str::to_owned)).collect()
    };
    for (query, expected) in [
        ("", vec![chem, bio]),
        ("?subject_area=biology", vec![bio]),
        ("?tag=water", vec![chem]),
        ("?status=ready", vec![chem, bio]),
        ("?status=failed", vec![]),
        ("?q=biolgy", vec![bio]),
        ("?q=WATER", vec![chem]),
    ] {
        let (status, page) = app.call(Method::GET, &format!("/api/v1/materials{query}"), Some(&ada.token), None).await;
        assert_eq!(status, StatusCode::OK);
        let expected: Vec<String> = expected.iter().map(Uuid::to_string).collect();
        assert_eq!(ids(&page), expected, "{query}");
    }
    let (_, first) = app.call(Method::GET, "/api/v1/materials?limit=1", Some(&ada.token), None).await;
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let (_, second) =
        app.call(Method::GET, &format!("/api/v1/materials?limit=1&cursor={cursor}"), Some(&ada.token), None).await;
    assert_eq!(ids(&second), [bio.to_string()]);
}

#[tokio::test]
async fn editing_deleting_and_reprocessing() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let id = create(&app, &ada, "Cells", ARTICLE, json!({})).await;
    settled(&app, &ada, id).await;
    let path = format!("/api/v1/materials/{id}");

    let patch = json!({"title": "The cell", "tags": ["biology", "cells"], "description": "Chapter 1", "difficulty_level": "beginner"});
    let (status, material) = app.call(Method::PATCH, &path, Some(&ada.token), Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{material}");
    assert_eq!(
        (material["title"].as_str(), material["difficulty_level"].as_str()),
        (Some("The cell"), Some("beginner"))
    );
    let (_, material) = app.call(Method::PATCH, &path, Some(&ada.token), Some(json!({"description": null}))).await;
    assert!(material["description"].is_null() && material["title"] == "The cell", "null clears, absent keeps");
    let audit: Value = sqlx::query_scalar(
        "SELECT new_values FROM audit_logs WHERE action = 'material.update' AND entity_id = $1 ORDER BY created_at LIMIT 1",
    )
    .bind(id)
    .fetch_one(&app.db.pool)
    .await
    .expect("the edit is audited");
    assert_eq!(audit["title"], "The cell");

    let before: Vec<String> =
        chunks(&app, &ada, id).await.iter().filter_map(|c| c["id"].as_str().map(str::to_owned)).collect();
    let (status, material) = app.call(Method::POST, &format!("{path}/reprocess"), Some(&ada.token), None).await;
    assert_eq!((status, material["status"].as_str()), (StatusCode::ACCEPTED, Some("processing")));
    let material = settled(&app, &ada, id).await;
    assert_eq!(material["status"], "ready");
    assert_eq!(material["tags"], json!(["biology", "cells"]), "the user's tags are kept");
    let after: Vec<String> =
        chunks(&app, &ada, id).await.iter().filter_map(|c| c["id"].as_str().map(str::to_owned)).collect();
    assert_eq!(after.len(), before.len(), "the same chunks, made again");
    assert!(after.iter().all(|id| !before.contains(id)), "all replaced");

    let (status, _) = app.call(Method::DELETE, &path, Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for (method, suffix) in
        [(Method::GET, ""), (Method::GET, "/chunks"), (Method::DELETE, ""), (Method::POST, "/reprocess")]
    {
        let (status, _) = app.call(method.clone(), &format!("{path}{suffix}"), Some(&ada.token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {suffix} after deletion");
    }
    let (_, page) = app.call(Method::GET, "/api/v1/materials", Some(&ada.token), None).await;
    assert_eq!(page["items"], json!([]), "gone from the list");
}

#[tokio::test]
async fn an_unreadable_source_fails_with_its_reason_and_is_not_retried() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    // Bytes that are not UTF-8, as a broken upload would bring.
    let id: Uuid = sqlx::query_scalar(
        "WITH m AS (INSERT INTO study_materials (user_id, title, source_type) VALUES ($1, 'Broken', 'text') RETURNING id),
              s AS (INSERT INTO material_sources (study_material_id, user_id, media_type, content)
                    SELECT id, $1, 'text/plain', '\\xfffe00'::bytea FROM m),
              j AS (INSERT INTO jobs (kind, user_id, payload, max_attempts)
                    SELECT 'ingest_material', $1, jsonb_build_object('material_id', id), 3 FROM m)
         SELECT id FROM m",
    )
    .bind(ada.user_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("a broken material");
    let material = settled(&app, &ada, id).await;
    assert_eq!(material["status"], "failed");
    assert_eq!(material["metadata"]["error"], "the text is not valid UTF-8");
    let (attempts, status): (i32, String) =
        sqlx::query_as("SELECT attempts, status FROM jobs WHERE payload->>'material_id' = $1::text")
            .bind(id)
            .fetch_one(&app.db.pool)
            .await
            .expect("the job");
    assert_eq!((attempts, status.as_str()), (1, "done"), "an unreadable source is not tried again");
}

/// A double click, or a retry after a lost answer: the same add twice at once makes one
/// material, and both get it; an add that differs in anything makes another.
#[tokio::test]
async fn the_same_add_twice_makes_one_material() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let body = json!({"title": "Notes", "source_type": "text", "text": "Mitochondria make ATP.", "tags": ["bio"]});
    let add = |body: Value| {
        let (app, token) = (&app, ada.token.clone());
        async move { app.call(Method::POST, "/api/v1/materials", Some(&token), Some(body)).await }
    };
    let ((first, a), (second, b)) = tokio::join!(add(body.clone()), add(body.clone()));
    let mut statuses = [first, second];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::ACCEPTED], "{a} {b}");
    assert_eq!(a["id"], b["id"]);
    let (_, again) = add(body.clone()).await;
    assert_eq!(again["id"], a["id"], "still within 30 seconds");
    let (_, listed) = app.call(Method::GET, "/api/v1/materials", Some(&ada.token), None).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1), "{listed}");

    // Another text, title or tag is another material; so is the same add by someone else.
    for (key, value) in
        [("text", json!("Chloroplasts make sugar.")), ("title", json!("More notes")), ("tags", json!([]))]
    {
        let mut other = body.clone();
        other[key] = value;
        let (status, made) = add(other).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{key}: {made}");
        assert_ne!(made["id"], a["id"]);
    }
    let bob = app.register("bob").await;
    let (status, theirs) = app.call(Method::POST, "/api/v1/materials", Some(&bob.token), Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_ne!(theirs["id"], a["id"]);
    // One audit row for the one material the two requests made.
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = 'material.create' AND entity_id = $1::uuid")
            .bind(a["id"].as_str())
            .fetch_one(&app.db.pool)
            .await
            .expect("audit rows");
    assert_eq!(rows, 1);
}
