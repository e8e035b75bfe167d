//! A material's items in a real browser, as their owner manages them: each item's answer
//! behind "Show answer", an edit (and its refusal said under the field), suspend and
//! unsuspend (the day's counts follow), the report dialog (Cancel and Escape report
//! nothing), restore and delete; on a phone without horizontal scrolling; and a
//! material of 2,000 chunks and 8,000 items a page at a time.

use reqwest::header::COOKIE;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::assets::generate;
use crate::browser::{Screen, Session, available, run, target};
use crate::harness::{self, TestApp};
use crate::materials::{ARTICLE, create, settled};
use crate::study_screens::{learner, sign_in};

/// An asset as the API shows it.
async fn asset(app: &TestApp, ada: &harness::Session, id: &str) -> Value {
    let (status, asset) = app.call(Method::GET, &format!("/api/v1/assets/{id}"), Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK, "{asset}");
    asset
}

/// The id of the first item on the page of `kind` with `status`.
async fn first(b: &Session, kind: &str, status: &str) -> String {
    let css = format!("[data-item][data-kind='{kind}'][data-item-status='{status}']");
    b.find(&css).await;
    let id = b.script("return document.querySelector(arguments[0]).dataset.item", json!([css])).await;
    id.as_str().expect("an item").to_owned()
}

/// Clicks `css` inside item `id`.
async fn click_in(b: &Session, id: &str, css: &str) {
    b.click(&format!("[data-item='{id}'] {css}")).await;
}

/// What item `id` shows (its rendered text: folded parts not).
async fn item_text(b: &Session, id: &str) -> String {
    let text =
        b.script("return document.querySelector(`[data-item='${arguments[0]}']`)?.innerText ?? ''", json!([id])).await;
    text.as_str().unwrap_or_default().to_owned()
}

/// Replaces what field `name` of item `id`'s open edit form holds with `text`.
async fn retype(b: &Session, id: &str, name: &str, text: &str) {
    let css = format!("[data-item='{id}'] form [name='{name}']");
    let field = b.find(&css).await;
    b.command(Method::POST, &format!("/element/{field}/clear"), Some(json!({}))).await;
    if !text.is_empty() {
        b.type_into(&css, text).await;
    }
}

/// The day's new cards, as the page's counts say them ("Today: 12 new · ...").
async fn new_today(b: &Session) -> i64 {
    let text = b.script("return document.querySelector('[data-counts]').innerText", json!([])).await;
    let text = text.as_str().expect("the counts");
    text.trim_start_matches("Today: ").split(' ').next().and_then(|n| n.parse().ok()).expect("a count")
}

/// The reports of asset `id`: their comments.
async fn reports(app: &TestApp, id: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT coalesce(comment, '') FROM user_feedback WHERE generated_asset_id = $1::uuid AND feedback_type = 'report'",
    )
    .bind(id)
    .fetch_all(&app.db.pool)
    .await
    .expect("reports")
}

/// Whether the report dialog is open.
async fn dialog_open(b: &Session) -> bool {
    b.script("return document.getElementById('report-dialog').open", json!([])).await == json!(true)
}

#[tokio::test]
async fn an_owner_sees_edits_suspends_reports_restores_and_deletes_items() {
    if !available() {
        return;
    }
    let app = TestApp::spawn().await;
    run("an_owner_sees_edits_suspends_reports_restores_and_deletes_items", Screen::Desktop, move |b| async move {
        let (ada, material) = learner(&app).await;
        // Every new card counts today, so that one suspended shows in the count.
        let roomy = json!({"preferences": {"new_cards_per_day": 9999}});
        assert_eq!(app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(roomy)).await.0, StatusCode::OK);
        sign_in(&b, &app, &ada.token).await;
        let page = app.url(&format!("/materials/{material}"));
        b.go(&page).await;
        b.wait_for_text("Flashcards, quizzes and summaries").await;

        // A card's answer is folded until asked for.
        let card = first(&b, "flashcard", "ready").await;
        let back = asset(&app, &ada, &card).await["content"]["back"].as_str().expect("a back").to_owned();
        let shown = "return document.querySelector(`[data-item='${arguments[0]}'] .back`).innerText";
        assert_eq!(b.script(shown, json!([card])).await, "", "folded");
        click_in(&b, &card, "details.reveal summary").await;
        assert!(b.script(shown, json!([card])).await.as_str().is_some_and(|t| t.contains(&back)), "shown");

        // An edit is saved and shown; an empty front is refused under the field, in words.
        click_in(&b, &card, "details.edit summary").await;
        let dir = target("screenshots").join("cards");
        b.save(&dir, "material-1280").await;
        retype(&b, &card, "back", "The smallest unit of life, edited").await;
        click_in(&b, &card, "form button[type=submit]").await;
        b.wait_for_text("Saved.").await;
        assert_eq!(asset(&app, &ada, &card).await["content"]["back"], "The smallest unit of life, edited");
        click_in(&b, &card, "details.reveal summary").await;
        assert!(item_text(&b, &card).await.contains("The smallest unit of life, edited"));
        let front = asset(&app, &ada, &card).await["content"]["front"].clone();
        click_in(&b, &card, "details.edit summary").await;
        retype(&b, &card, "front", "").await;
        click_in(&b, &card, "form button[type=submit]").await;
        b.wait_for_text("Must be 1 to 2000 characters.").await;
        let error =
            b.script(&format!("return document.getElementById('front-{card}-error').innerText"), json!([])).await;
        assert_eq!(error, "Must be 1 to 2000 characters.", "said under the front");
        assert_eq!(asset(&app, &ada, &card).await["content"]["front"], front, "nothing saved");
        b.fits("an edit refused").await;
        b.save(&dir, "refused-1280").await;

        // Suspended, the card leaves today's count and every session; unsuspended, back.
        b.go(&page).await;
        let new = new_today(&b).await;
        click_in(&b, &card, "[data-item-action='suspended']").await;
        b.wait_for_text("Suspended: it is out of your sessions").await;
        assert_eq!(new_today(&b).await, new - 1);
        assert_eq!(asset(&app, &ada, &card).await["status"], "suspended");
        assert!(item_text(&b, &card).await.contains("suspended"));
        click_in(&b, &card, "[data-item-action='ready']").await;
        b.wait_for_text("Back in your sessions.").await;
        assert_eq!(new_today(&b).await, new);
        assert_eq!(asset(&app, &ada, &card).await["status"], "ready");

        // The report dialog: Cancel and Escape close it having done nothing; a report
        // says why, and the item shows "reported" with Restore.
        let quiz = first(&b, "quiz", "ready").await;
        click_in(&b, &quiz, "[data-report]").await;
        assert!(dialog_open(&b).await, "the dialog opens");
        b.fits("the report dialog").await;
        b.click_element(&b.find_text("Cancel").await).await;
        assert!(!dialog_open(&b).await, "Cancel closes it");
        click_in(&b, &quiz, "[data-report]").await;
        assert!(dialog_open(&b).await);
        b.press("\u{E00C}").await; // Escape
        assert!(!dialog_open(&b).await, "Escape closes it");
        click_in(&b, &quiz, "[data-report]").await;
        b.click("#report-dialog input[value='Unclear']").await;
        b.type_into("#report-comment", "Two choices say the same").await;
        b.click("#report-dialog button[value='report']").await;
        b.wait_for_text("Reported: it is out of your sessions until you restore it.").await;
        assert_eq!(
            reports(&app, &quiz).await,
            ["Unclear: Two choices say the same"],
            "one report: Cancel and Escape sent none"
        );
        assert_eq!(asset(&app, &ada, &quiz).await["status"], "flagged");
        assert!(item_text(&b, &quiz).await.contains("reported"));
        b.save(&dir, "reported-1280").await;
        click_in(&b, &quiz, "[data-item-action='ready']").await;
        b.wait_for_text("Back in your sessions.").await;
        assert_eq!(asset(&app, &ada, &quiz).await["status"], "ready");

        // Deleted (once confirmed), it leaves the page; the API keeps it archived.
        click_in(&b, &card, "[data-item-action='delete']").await;
        b.command(Method::POST, "/alert/accept", Some(json!({}))).await;
        b.wait_for_text("Deleted.").await;
        assert_eq!(asset(&app, &ada, &card).await["status"], "archived");
        assert_eq!(item_text(&b, &card).await, "", "gone from the page");
        b.fits("the material page").await;
        let uncaught: Vec<_> = b.log().await.into_iter().filter(|(_, m)| m.contains("Uncaught")).collect();
        assert!(uncaught.is_empty(), "{uncaught:?}");
    })
    .await;
}

#[tokio::test]
async fn a_materials_items_fit_a_phone() {
    if !available() {
        return;
    }
    let app = TestApp::spawn().await;
    run("a_materials_items_fit_a_phone", Screen::Phone, move |b| async move {
        let (ada, material) = learner(&app).await;
        sign_in(&b, &app, &ada.token).await;
        b.go(&app.url(&format!("/materials/{material}"))).await;
        b.wait_for_text("Flashcards, quizzes and summaries").await;
        let dir = target("screenshots").join("cards");
        b.save(&dir, "material-390").await;
        let quiz = first(&b, "quiz", "ready").await;
        b.tap_element(&b.find(&format!("[data-item='{quiz}'] details.reveal summary")).await).await;
        b.tap_element(&b.find(&format!("[data-item='{quiz}'] details.edit summary")).await).await;
        b.find(&format!("[data-item='{quiz}'] form [name='question']")).await;
        b.fits("a quiz's answer and edit form").await;
        b.save(&dir, "quiz-edit-390").await;
        b.tap_element(&b.find(&format!("[data-item='{quiz}'] [data-report]")).await).await;
        assert!(dialog_open(&b).await);
        b.fits("the report dialog").await;
        b.save(&dir, "report-390").await;
    })
    .await;
}

/// A material of `chunks` chunks under chapters and sections, with two flashcards, a
/// quiz item and a summary each, written straight to the database.
async fn book(app: &TestApp, user: Uuid, chunks: i32) -> Uuid {
    sqlx::query_scalar(
        "WITH m AS (INSERT INTO study_materials (user_id, title, source_type, status)
                    VALUES ($1, 'A whole book', 'text', 'ready') RETURNING id),
              c AS (INSERT INTO content_chunks (study_material_id, chunk_order, content, chunk_type, metadata, word_count,
                                                summary)
                    SELECT m.id, n, repeat('Paragraph ' || n || ' of the book says something. ', 12), 'paragraph',
                           jsonb_build_object('heading_path',
                                              jsonb_build_array('Chapter ' || (n / 100 + 1), 'Section ' || (n / 10 + 1))),
                           72, 'Paragraph ' || n
                      FROM m, generate_series(0, $2 - 1) n RETURNING id, study_material_id, chunk_order),
              a AS (INSERT INTO generated_assets (study_material_id, content_chunk_id, asset_type, content,
                                                  generation_model)
                    SELECT c.study_material_id, c.id, k.kind,
                           CASE k.kind
                             WHEN 'flashcard' THEN jsonb_build_object('front', 'Card ' || k.i || ' of paragraph '
                                                                      || c.chunk_order || '?', 'back', 'An answer')
                             WHEN 'quiz' THEN jsonb_build_object('kind', 'true_false', 'question', 'Paragraph '
                                                   || c.chunk_order || ' is true.', 'choices', jsonb_build_array('True', 'False'),
                                                   'answer_index', 0, 'explanation', 'It says so.')
                             ELSE jsonb_build_object('text', 'What paragraph ' || c.chunk_order || ' says.',
                                                     'key_points', jsonb_build_array('It says something.'))
                           END, 'builtin-v1'
                      FROM c, (VALUES ('flashcard', 1), ('flashcard', 2), ('quiz', 3), ('summary', 4)) k (kind, i)
                    RETURNING 1)
         SELECT id FROM m WHERE (SELECT count(*) FROM a) > 0",
    )
    .bind(user)
    .bind(chunks)
    .fetch_one(&app.db.pool)
    .await
    .expect("a book")
}

#[tokio::test]
async fn a_material_of_two_thousand_chunks_is_shown_a_page_at_a_time() {
    if !available() {
        return;
    }
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let material = book(&app, ada.user_id, 2000).await;
    let page = app.url(&format!("/materials/{material}"));
    let get = |query: &'static str| {
        let request =
            app.client.get(format!("{page}{query}")).header(COOKIE, format!("studyhall_session={}", ada.token));
        async move {
            let response = request.send().await.expect("the page");
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            response.text().await.expect("html")
        }
    };
    // Past the end, the last page; what the page does not know, its default.
    assert!(get("?page=999&chunks=99999").await.contains("Page 200 of 200"));
    assert!(get("?page=999&chunks=99999").await.contains("Chunks, page 67 of 67"));
    assert!(get("?page=2&page=3").await.contains("Page 1 of 200"), "a query that does not parse");
    assert!(get("?kind=poem&status=lost&page=x").await.contains("Page 1 of 200"));
    let html = get("").await;
    eprintln!("the first page of 2,000 chunks and 8,000 items: {} bytes", html.len());
    assert!(html.len() < 200_000, "the page stays small: {} bytes", html.len());
    assert_eq!(html.matches("data-item=").count(), 40, "a page of items, whole chunks of 4");
    run("a_material_of_two_thousand_chunks_is_shown_a_page_at_a_time", Screen::Desktop, move |b| async move {
        sign_in(&b, &app, &ada.token).await;
        b.go(&page).await;
        b.wait_for_text("Flashcards, quizzes and summaries (8000)").await;
        b.wait_for_text("Page 1 of 200").await;
        b.wait_for_text("Chapter 1 › Section 1").await;
        b.wait_for_text("Chunks, page 1 of 67").await;
        b.click_element(&b.find_text("Next page").await).await;
        b.wait_for_text("Page 2 of 200").await;
        b.wait_for_text("Card 1 of paragraph 10?").await;
        assert!(!b.text().await.contains("Card 1 of paragraph 9?"), "the first page's items are not repeated");
        b.click_element(&b.find_text("Last page").await).await;
        b.wait_for_text("Page 200 of 200").await;
        b.wait_for_text("Chapter 20 › Section 200").await;
        b.click_element(&b.find_text("Next chunks").await).await;
        b.wait_for_text("Chunks, page 2 of 67").await;
        b.wait_for_text("Page 200 of 200").await;

        // Filtered: its quiz items only, the filter kept from page to page.
        b.script("document.querySelector('select[name=kind]').value = 'quiz'", json!([])).await;
        b.click_element(&b.find_text("Show").await).await;
        b.wait_for_text("Page 1 of 50").await;
        let kinds = b
            .script(
                "return [...new Set([...document.querySelectorAll('[data-item]')].map((i) => i.dataset.kind))]",
                json!([]),
            )
            .await;
        assert_eq!(kinds, json!(["quiz"]));
        b.click_element(&b.find_text("Next page").await).await;
        b.wait_for_text("Page 2 of 50").await;
        b.fits("a page of a large material").await;
        let dir = target("screenshots").join("cards");
        b.resize(390, 844).await;
        b.save(&dir, "book-page-390").await;
        b.script("document.querySelector('.pager').scrollIntoView()", json!([])).await;
        b.save(&dir, "book-pager-390").await;
    })
    .await;
}

#[tokio::test]
async fn a_learner_who_reviews_new_items_accepts_and_rejects_them() {
    if !available() {
        return;
    }
    let app = TestApp::spawn().await;
    run("a_learner_who_reviews_new_items_accepts_and_rejects_them", Screen::Desktop, move |b| async move {
        let ada = app.register("ada").await;
        let roomy = json!({"preferences": {"new_cards_per_day": 9999}});
        assert_eq!(app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(roomy)).await.0, StatusCode::OK);
        sign_in(&b, &app, &ada.token).await;
        b.go(&app.url("/settings")).await;
        b.click("#review_new_items").await;
        b.click_element(&b.find_text("Save settings").await).await;
        b.wait_for_text("Saved.").await;
        let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
        settled(&app, &ada, material).await;
        assert_eq!(generate(&app, &ada, material, json!({})).await["status"], "done");

        b.go(&app.url(&format!("/materials/{material}"))).await;
        b.wait_for_text("new, to review").await;
        assert_eq!(new_today(&b).await, 0, "nothing is served before it is accepted");
        let card = first(&b, "flashcard", "draft").await;
        click_in(&b, &card, "[data-item-action='accept']").await;
        b.wait_for_text("Accepted: it is in your sessions.").await;
        assert_eq!(new_today(&b).await, 1);
        assert_eq!(asset(&app, &ada, &card).await["status"], "ready");
        let other = first(&b, "flashcard", "draft").await;
        click_in(&b, &other, "[data-item-action='reject']").await;
        b.wait_for_text("Rejected.").await;
        assert_eq!(asset(&app, &ada, &other).await["status"], "archived");
        b.fits("items to review").await;
        b.click("[data-accept-all]").await;
        b.wait_for_text("new items: they are in your sessions.").await;
        // (Siblings, cards of the same fact, count once a day.)
        assert!(new_today(&b).await > 1, "the cards accepted are new today");
        assert!(!b.text().await.contains("new, to review"));
        let (_, drafts) = app
            .call(Method::GET, &format!("/api/v1/materials/{material}/assets?status=draft"), Some(&ada.token), None)
            .await;
        assert_eq!(drafts["items"], json!([]), "none left to review");
    })
    .await;
}
