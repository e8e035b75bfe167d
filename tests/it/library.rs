//! A learner's materials in the web app, in real Chromium: added once however often Add
//! is pressed, generated with its progress shown and the study buttons waiting, renamed,
//! read again, and deleted.

use reqwest::Method;
use serde_json::{Value, json};

use crate::browser::{Screen, Session, available, run};
use crate::harness::{self, TestApp};
use crate::materials::ARTICLE;
use crate::study_screens::sign_in;

async fn materials(app: &TestApp, ada: &harness::Session) -> Vec<Value> {
    let (_, page) = app.call(Method::GET, "/api/v1/materials", Some(&ada.token), None).await;
    page["items"].as_array().cloned().unwrap_or_default()
}

async fn disabled(b: &Session, css: &str) -> bool {
    b.script("return document.querySelector(arguments[0]).disabled", json!([css])).await == json!(true)
}

/// Opens the manage section's `<details>` whose summary says `summary`.
async fn open(b: &Session, summary: &str) {
    b.script(
        "[...document.querySelectorAll('[data-manage] summary')].find(s => s.textContent === arguments[0]).click()",
        json!([summary]),
    )
    .await;
}

#[tokio::test]
async fn a_learner_adds_once_generates_renames_reads_again_and_deletes_a_material() {
    if !available() {
        return;
    }
    let app = TestApp::with_workers().await;
    let ada = app.register("ada").await;
    let (site, token) = (app.url(""), ada.token.clone());
    let app = std::sync::Arc::new(app);
    let journey_app = app.clone();
    run("library", Screen::Desktop, move |b| async move {
        let app = journey_app;
        sign_in(&b, &app, &token).await;
        b.go(&format!("{site}/materials")).await;
        b.type_into("#title", "The Cell").await;
        b.type_into("#text", ARTICLE).await;
        // Add pressed twice in a row: one material.
        b.script(
            "const add = document.querySelector('#add-material button[type=submit]'); add.click(); add.click();",
            json!([]),
        )
        .await;
        b.wait_for_text("This material").await;
        let ada = harness::Session { token: token.clone(), user_id: ada.user_id };
        let listed = materials(&app, &ada).await;
        assert_eq!(listed.len(), 1, "{listed:?}");
        let id = listed[0]["id"].as_str().expect("an id").to_owned();

        // Nothing to study before generating: the buttons wait and say why.
        assert!(disabled(&b, "[data-start='study']").await && disabled(&b, "[data-start='quiz']").await);
        b.wait_for_text("Nothing to study yet: generate flashcards and quizzes first.").await;
        b.click("[data-generate]").await;
        assert!(disabled(&b, "[data-start='review']").await, "the study buttons wait while it generates");
        b.wait_for_text("FLASHCARD").await;
        assert!(!disabled(&b, "[data-start='study']").await, "ready to study once generated");

        // An item deleted by mistake comes back from the deleted items.
        let item =
            b.script("return document.querySelector('[data-item-action=delete]').dataset.asset", json!([])).await;
        let item = item.as_str().expect("an item").to_owned();
        b.click(&format!("[data-item-action='delete'][data-asset='{item}']")).await;
        b.command(Method::POST, "/alert/accept", Some(json!({}))).await;
        b.wait_for_text("Deleted.").await;
        b.go(&format!("{site}/materials/{id}?status=archived")).await;
        b.click(&format!("[data-item-action='ready'][data-asset='{item}']")).await;
        b.wait_for_text("Back in your sessions.").await;
        let (_, restored) = app.call(Method::GET, &format!("/api/v1/assets/{item}"), Some(&ada.token), None).await;
        assert_eq!(restored["status"], "ready", "{restored}");
        b.go(&format!("{site}/materials/{id}")).await;

        // A word of its text searched for: the passage found opens with the word marked.
        b.go(&format!("{site}/materials?q=membrane")).await;
        b.click("[data-passage-link]").await;
        b.wait_for_text("Passage").await;
        let marked = b
            .script("return [...document.querySelectorAll('[data-passage] mark')].map(m => m.textContent)", json!([]))
            .await;
        assert!(
            marked.as_array().is_some_and(|m| !m.is_empty()
                && m.iter().all(|w| w.as_str().is_some_and(|w| w.to_lowercase().starts_with("membrane")))),
            "{marked}"
        );
        b.click("a[rel='prev'], a[rel='next']").await;
        b.wait_for_text("Passage").await;
        b.go(&format!("{site}/materials/{id}")).await;

        // Renamed, described and tagged; the description cleared again.
        open(&b, "Rename or describe it").await;
        let title = b.find("#m-title").await;
        b.command(Method::POST, &format!("/element/{title}/clear"), Some(json!({}))).await;
        b.type_into("#m-title", "Cell biology notes").await;
        b.type_into("#m-description", "From the article").await;
        // (Ingestion tagged it with its key terms: replaced here.)
        let tags = b.find("#m-tags").await;
        assert!(b.attribute(&tags, "value").await.as_str().is_some_and(|t| t.contains("cell")));
        b.command(Method::POST, &format!("/element/{tags}/clear"), Some(json!({}))).await;
        b.type_into("#m-tags", "biology, cells ,").await;
        b.click("[data-manage] form[data-api^='PATCH'] button[type=submit]").await;
        b.wait_for_text("Cell biology notes").await;
        let (_, material) = app.call(Method::GET, &format!("/api/v1/materials/{id}"), Some(&ada.token), None).await;
        assert_eq!(material["title"], "Cell biology notes");
        assert_eq!(material["tags"], json!(["biology", "cells"]));
        assert_eq!(material["description"], "From the article");
        open(&b, "Rename or describe it").await;
        let description = b.find("#m-description").await;
        b.command(Method::POST, &format!("/element/{description}/clear"), Some(json!({}))).await;
        b.click("[data-manage] form[data-api^='PATCH'] button[type=submit]").await;
        // The page looks the same once saved: the material says when it is.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (_, material) = app.call(Method::GET, &format!("/api/v1/materials/{id}"), Some(&ada.token), None).await;
            if material["description"] == Value::Null {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the description is cleared: {material}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        b.wait_for_text("Cell biology notes").await;

        // Read again, once confirmed: its items are set aside until generated again.
        open(&b, "Read it again").await;
        b.click("[data-manage] form[data-api$='reprocess'] button[type=submit]").await;
        b.command(Method::POST, "/alert/accept", Some(json!({}))).await;
        b.wait_for_text("Nothing to study yet").await;
        let (_, assets) =
            app.call(Method::GET, &format!("/api/v1/materials/{id}/assets?status=ready"), Some(&ada.token), None).await;
        assert_eq!(assets["items"], json!([]), "{assets}");

        // Deleted, once confirmed: gone from the list and the API.
        open(&b, "Delete it").await;
        b.click("[data-manage] form[data-api^='DELETE'] button[type=submit]").await;
        b.command(Method::POST, "/alert/accept", Some(json!({}))).await;
        b.wait_for_text("Nothing here yet.").await;
        assert!(materials(&app, &ada).await.is_empty());
        let (status, _) = app.call(Method::GET, &format!("/api/v1/materials/{id}"), Some(&ada.token), None).await;
        assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
    })
    .await;
}
