//! Session screens in a real browser, used the way a learner does: on a phone by touch
//! alone, on a desktop by mouse alone, and by keys (the keyboard journey in browser.rs).
//! Each way goes through a review, a quiz and a study session to their results, checking
//! what the learner sees: the answer buttons with their intervals, the quiz feedback
//! beside its question, short summaries, the results with the missed items, and a layout
//! without horizontal scrolling whose targets are 44 px at least. Then a second tab,
//! and a session ended elsewhere or abandoned.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::assets::generate;
use crate::browser::{Screen, Session, available, run};
use crate::harness::{self, TestApp};
use crate::materials::{ARTICLE, create, settled};

/// How the learner acts.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum How {
    /// Taps only: no mouse and no key event.
    Touch,
    /// Mouse clicks only.
    Mouse,
    /// Keys inside sessions (Space, Enter, 1-4, Tab).
    Keys,
}

const ENTER: &str = "\u{E007}";
const TAB: &str = "\u{E004}";

/// Does what the button or link labelled `label` does: taps it, clicks it, or (keys)
/// presses `key`; a `key` of None moves the focus to it and presses Enter.
async fn act(b: &Session, how: How, label: &str, key: Option<&str>) {
    match (how, key) {
        (How::Touch, _) => b.tap_element(&b.find_text(label).await).await,
        (How::Mouse, _) => b.click_element(&b.find_text(label).await).await,
        (How::Keys, Some(key)) => b.press(key).await,
        (How::Keys, None) => {
            b.focus(&b.find_text(label).await).await;
            b.press(ENTER).await;
        }
    }
}

/// Tabs to the control labelled `label` and presses Enter on it.
async fn tab_to(b: &Session, label: &str) {
    for _ in 0..8 {
        b.press(TAB).await;
        let focused = b.script("return document.activeElement.textContent.trim()", json!([])).await;
        if focused == label {
            b.press(ENTER).await;
            return;
        }
    }
    panic!("Tab reaches {label}");
}

/// A review, a quiz and a study session of the material whose page is shown, each to
/// its results and back to the material.
pub async fn sessions(b: &Session, how: How) {
    b.wait_for_text("Chunks").await;
    b.fits("the material's page").await;
    act(b, how, "Review flashcards", None).await;
    review(b, how).await;
    act(b, how, "Back to The Cell", None).await;
    b.wait_for_text("Chunks").await;
    act(b, how, "Take a quiz", None).await;
    quiz(b, how).await;
    act(b, how, "Back to The Cell", None).await;
    b.wait_for_text("Chunks").await;
    act(b, how, "Study", None).await;
    study(b, how).await;
}

/// The figures of a results page: items, and (when something was graded) accuracy and
/// the right answers.
async fn figures(b: &Session) -> Vec<String> {
    let values =
        b.script("return [...document.querySelectorAll('.figure .value')].map((e) => e.textContent)", json!([]));
    values.await.as_array().expect("figures").iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}

/// Every new card: the first rated Again, the others Good, until the session ends.
async fn review(b: &Session, how: How) {
    let mut n = 0;
    let mut clozes = 0;
    // Cards in a learning step come back: items count cards, answers count each time.
    let mut cards = std::collections::HashSet::new();
    while b.wait_for_any(&[&format!("Item {} of", n + 1), "Session complete"]).await == 0 {
        n += 1;
        b.wait_for_text("Show answer").await;
        let front = b.script("return document.querySelector('[data-card] .front').textContent", json!([])).await;
        if !cards.insert(front.to_string()) {
            let line = b.script("return document.querySelector('[data-position]').textContent", json!([])).await;
            assert!(line.as_str().is_some_and(|l| l.ends_with("again, in a learning step")), "{line}");
        }
        b.fits("a card's front").await;
        b.shot(&format!("review-{n}-front")).await;
        // The first card turns over by a tap (or click) on the card itself.
        match (how, n) {
            (How::Touch, 1) => b.tap_element(&b.find("[data-card] .front").await).await,
            (How::Mouse, 1) => b.click("[data-card] .front").await,
            _ => act(b, how, "Show answer", Some(" ")).await,
        }
        b.find(".rate .when").await;
        let back = b
            .script(
                "const card = document.querySelector('[data-card]');
                 return {text: card.innerText, mark: card.querySelector('mark')?.textContent ?? null,
                         when: [...document.querySelectorAll('.rate .when')].map((e) => e.textContent)}",
                json!([]),
            )
            .await;
        let when = back["when"].as_array().expect("intervals");
        assert_eq!(when.len(), 4, "each rating shows its interval: {back}");
        assert!(
            when.iter().all(|w| w.as_str().is_some_and(|w| {
                let unit = w.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
                unit.len() < w.len() && ["m", "h", "d", "mo", "y"].contains(&unit)
            })),
            "{back}"
        );
        if let Some(answer) = back["mark"].as_str() {
            // A cloze's back: the whole sentence, the answer marked where the blank was.
            clozes += 1;
            let text = back["text"].as_str().unwrap_or_default();
            assert!(!text.contains("_____") && text.contains(answer), "{back}");
            let sentence = front.as_str().unwrap_or_default().replace("_____", answer);
            assert!(text.contains(sentence.trim()), "{sentence:?} in {back}");
        } else {
            assert!(back["text"].as_str().is_some_and(|t| t.contains(front.as_str().unwrap_or_default())), "{back}");
        }
        b.fits("a card's back").await;
        b.shot(&format!("review-{n}-back")).await;
        let (label, key) = if n == 1 { ("Again", "1") } else { ("Good", "3") };
        act(b, how, label, Some(key)).await;
        b.wait_for_any(&["next review in", "Session complete"]).await;
    }
    assert!(n >= 3 && clozes >= 1, "{n} cards, {clozes} cloze");
    b.wait_for_text("Missed (1)").await;
    let accuracy = format!("{:.0}%", 100.0 * (n - 1) as f64 / n as f64);
    assert!(cards.len() < n, "cards in a step came back: {} cards, {n} answers", cards.len());
    assert_eq!(figures(b).await, [cards.len().to_string(), accuracy, format!("{} of {n}", n - 1)]);
    b.fits("the review's results").await;
    b.shot("review-results").await;
}

/// Two quiz items, then End session.
async fn quiz(b: &Session, how: How) {
    for n in 1..=2 {
        b.wait_for_text(&format!("Item {n} of")).await;
        let first = b.find(".choices li:first-child button").await;
        let question = b.script("return document.querySelector('[data-card] .front').textContent", json!([])).await;
        b.fits("a quiz question").await;
        b.shot(&format!("quiz-{n}")).await;
        match how {
            How::Touch => b.tap_element(&first).await,
            How::Mouse => b.click_element(&first).await,
            How::Keys => b.press("1").await,
        }
        b.wait_for_text("Your answer").await;
        // The question stays, the choice and the right answer are marked, with the
        // explanation and the passage of the material it comes from.
        let text = b.text().await;
        assert!(text.contains(question.as_str().unwrap_or("?")), "the question stays: {text}");
        assert!(text.contains("Right answer"), "{text}");
        assert!(text.contains("Correct.") || text.contains("Not quite: the answer is"), "{text}");
        assert!(text.contains("From the material"), "{text}");
        let marked =
            b.script("return document.querySelectorAll('.choices .chosen, .choices .right').length", json!([]));
        assert!(marked.await.as_u64().is_some_and(|m| m >= 1));
        b.fits("a quiz item's feedback").await;
        b.shot(&format!("quiz-{n}-feedback")).await;
        if n == 1 {
            act(b, how, "Next", Some(ENTER)).await;
        }
    }
    match how {
        How::Keys => tab_to(b, "End session").await,
        _ => act(b, how, "End session", None).await,
    }
    b.wait_for_text("Session complete").await;
    assert_eq!(figures(b).await.first().map(String::as_str), Some("2"), "two items");
    b.fits("the quiz's results").await;
    b.shot("quiz-results").await;
}

/// Summaries (and any new card) until the session ends; the first passage is read.
async fn study(b: &Session, how: How) {
    let mut n = 0;
    let mut passages = 0;
    while b.wait_for_any(&[&format!("Item {} of", n + 1), "Session complete"]).await == 0 {
        n += 1;
        if b.wait_for_any(&["Continue", "Show answer"]).await == 1 {
            act(b, how, "Show answer", Some(" ")).await;
            act(b, how, "Good", Some("3")).await;
            continue;
        }
        let words = b.script("return document.querySelector('[data-card]').innerText.split(/\\s+/).length", json!([]));
        let words = words.await.as_u64().unwrap_or_default();
        assert!(words <= 150, "a summary opens short: {words} words: {}", b.text().await);
        b.fits("a summary").await;
        b.shot(&format!("study-{n}")).await;
        let text = b.text().await;
        // By keys, Space reads the passage; by hand, the first one is read.
        if text.contains("Read the passage") && (how == How::Keys || passages == 0) {
            act(b, how, "Read the passage", Some(" ")).await;
            b.wait_for_text("The passage").await;
            b.fits("a passage").await;
            b.shot(&format!("study-{n}-passage")).await;
            passages += 1;
        }
        act(b, how, "Continue", Some(" ")).await;
    }
    assert!(n >= 2 && passages >= 1, "{n} items, {passages} passages");
    assert_eq!(figures(b).await, [n.to_string()], "summaries are read, not graded");
    b.fits("the study session's results").await;
    b.shot("study-results").await;
}

/// A learner with the article added and generated, through the API.
pub async fn learner(app: &TestApp) -> (harness::Session, Uuid) {
    let ada = app.register("ada").await;
    let material = create(app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(app, &ada, material).await;
    assert_eq!(generate(app, &ada, material, json!({})).await["status"], "done");
    (ada, material)
}

/// Signs the browser in with `token`, as the sign-in form would.
pub async fn sign_in(b: &Session, app: &TestApp, token: &str) {
    b.go(&app.url("/signin")).await;
    let cookie = json!({"cookie": {"name": "studyhall_session", "value": token, "path": "/", "httpOnly": true}});
    b.command(Method::POST, "/cookie", Some(cookie)).await;
    b.go(&app.url("/")).await;
    b.wait_for_text("Hello, ada").await;
}

/// From the dashboard to the material, then its sessions, by hand.
async fn by_hand(app: &TestApp, b: Session, how: How) {
    let (ada, _) = learner(app).await;
    sign_in(&b, app, &ada.token).await;
    b.fits("the dashboard").await;
    act(&b, how, "Materials", None).await;
    b.wait_for_text("Add a material").await;
    act(&b, how, "The Cell", None).await;
    sessions(&b, how).await;
    let uncaught: Vec<_> = b.log().await.into_iter().filter(|(_, m)| m.contains("Uncaught")).collect();
    assert!(uncaught.is_empty(), "{uncaught:?}");
}

pub async fn on_a_phone(app: &TestApp, b: Session) {
    by_hand(app, b, How::Touch).await;
}

#[tokio::test]
async fn a_learner_studies_on_a_phone_by_touch() {
    if !available() {
        return;
    }
    let app = TestApp::spawn().await;
    run("a_learner_studies_on_a_phone_by_touch", Screen::Phone, move |b| async move { on_a_phone(&app, b).await })
        .await;
}

#[tokio::test]
async fn a_learner_studies_with_a_mouse() {
    if !available() {
        return;
    }
    let app = TestApp::spawn().await;
    run("a_learner_studies_with_a_mouse", Screen::Desktop, move |b| async move { by_hand(&app, b, How::Mouse).await })
        .await;
}

async fn switch_to(b: &Session, handle: &Value) {
    b.command(Method::POST, "/window", Some(json!({"handle": handle}))).await;
}

/// Answers the card shown Good, by mouse.
async fn answer_good(b: &Session) {
    act(b, How::Mouse, "Show answer", None).await;
    act(b, How::Mouse, "Good", None).await;
}

#[tokio::test]
async fn a_stale_tab_moves_on_and_an_ended_session_says_so() {
    if !available() {
        return;
    }
    let app = TestApp::spawn().await;
    run("a_stale_tab_moves_on_and_an_ended_session_says_so", Screen::Desktop, move |b| async move {
        let (ada, material) = learner(&app).await;
        // Without learning steps a card answered Good is done with in the session.
        let steps = json!({"preferences": {"learning_steps_minutes": []}});
        assert_eq!(
            app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(steps)).await.0,
            reqwest::StatusCode::OK
        );
        let start = || async {
            let body = json!({"study_material_id": material, "session_type": "review",
                              "configuration": {"max_items": 3}});
            let (_, session) = app.call(Method::POST, "/api/v1/sessions", Some(&ada.token), Some(body)).await;
            session["id"].as_str().expect("a session").to_owned()
        };
        let moved_on = "That item was answered in another tab, so here is the next one.";
        sign_in(&b, &app, &ada.token).await;
        let session = start().await;
        let page = app.url(&format!("/study/{session}"));
        b.go(&page).await;
        b.wait_for_text("Item 1 of 3").await;
        let first = b.command(Method::GET, "/window", None).await;

        // A second tab answers the card the first one shows; back in the first (the
        // window gets the focus again, as when the learner returns to it), it moves on.
        let second = b.command(Method::POST, "/window/new", Some(json!({"type": "tab"}))).await["handle"].clone();
        switch_to(&b, &second).await;
        b.go(&page).await;
        b.wait_for_text("Item 1 of 3").await;
        answer_good(&b).await;
        b.wait_for_text("Item 2 of 3").await;
        switch_to(&b, &first).await;
        b.script("window.dispatchEvent(new Event('focus'))", json!([])).await;
        b.wait_for_text(moved_on).await;
        b.wait_for_text("Item 2 of 3").await;
        b.fits("a tab moved on").await;

        // Another device answers the next card through the API while this tab shows
        // it; the learner answers it here too: that is refused, and the tab moves on.
        let path = format!("/api/v1/sessions/{session}/next");
        let (_, shown) = app.call(Method::GET, &path, Some(&ada.token), None).await;
        let answer = json!({"generated_asset_id": shown["asset"]["id"], "interaction_type": "answer",
                            "interaction_data": {"rating": 3}});
        let path = format!("/api/v1/sessions/{session}/interactions");
        assert_eq!(app.call(Method::POST, &path, Some(&ada.token), Some(answer)).await.0, reqwest::StatusCode::CREATED);
        answer_good(&b).await;
        b.wait_for_text(moved_on).await;
        b.wait_for_text("Item 3 of 3").await;

        // The second tab ends the session; back in the first, it says so, with where
        // to go.
        switch_to(&b, &second).await;
        act(&b, How::Mouse, "End session", None).await;
        b.wait_for_text("Session complete").await;
        switch_to(&b, &first).await;
        b.script("window.dispatchEvent(new Event('focus'))", json!([])).await;
        b.wait_for_text("This session has ended").await;
        assert!(!b.text().await.contains(moved_on), "the notice is of the past item");
        b.fits("an ended session").await;
        let results = b.find_text("See the results").await;
        assert_eq!(b.attribute(&results, "href").await, json!(format!("/study/{session}")));
        let back = b.find_text("Back to the material").await;
        assert_eq!(b.attribute(&back, "href").await, json!(format!("/materials/{material}")));
        b.click_element(&results).await;
        b.wait_for_text("Session complete").await;
        assert_eq!(figures(&b).await, ["2", "100%", "2 of 2"], "the second tab's answer and the other device's");

        // A session left idle past the limit is abandoned: the same, and its results
        // say why.
        let idle = start().await;
        b.go(&app.url(&format!("/study/{idle}"))).await;
        b.wait_for_text("Show answer").await;
        sqlx::query(
            "UPDATE learning_sessions
                SET session_data = session_data || jsonb_build_object('last_activity_at', now() - interval '2 hours')
              WHERE id = $1::uuid",
        )
        .bind(&idle)
        .execute(&app.db.pool)
        .await
        .expect("age the session");
        answer_good(&b).await;
        b.wait_for_text("This session has ended").await;
        act(&b, How::Mouse, "See the results", None).await;
        b.wait_for_text("It was left idle for more than 30 minutes").await;
        b.wait_for_text("The session ended before any item was answered.").await;
        b.fits("an abandoned session's results").await;

        let uncaught: Vec<_> = b.log().await.into_iter().filter(|(_, m)| m.contains("Uncaught")).collect();
        assert!(uncaught.is_empty(), "no uncaught error: {uncaught:?}");
    })
    .await;
}

#[tokio::test]
async fn study_now_on_the_dashboard_reviews_across_materials() {
    if !available() {
        return;
    }
    let app = TestApp::spawn().await;
    run("study_now_on_the_dashboard_reviews_across_materials", Screen::Desktop, move |b| async move {
        let (ada, _) = learner(&app).await;
        sign_in(&b, &app, &ada.token).await;
        b.wait_for_text("new, across your materials").await;
        b.click_element(&b.find_text("Study now").await).await;
        b.wait_for_text("Item 1 of").await;
        b.click_element(&b.find_text("End session").await).await;
        b.wait_for_text("Review · All your materials").await;
        b.find_text("Back to the dashboard").await;
        let (_, sessions) = app.call(Method::GET, "/api/v1/sessions", Some(&ada.token), None).await;
        let started = &sessions["items"][0];
        assert_eq!(
            (&started["session_type"], &started["configuration"]["all_materials"]),
            (&json!("review"), &json!(true))
        );
    })
    .await;
}
