//! The settings page: the study settings as a form (over HTTP: saving merges, bad input
//! is refused in words beside its field), and in a phone's browser with "Optimise".

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use serde_json::{Value, json};

use crate::browser::{Screen, available, run};
use crate::harness::{PASSWORD, Session, TestApp};
use crate::optimiser::history;

fn no_redirects() -> reqwest::Client {
    studyhall::tls::install_provider();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client")
}

/// The settings page as `who` sees it: status and HTML.
async fn page(app: &TestApp, who: &Session, path: &str) -> (StatusCode, String) {
    let response = no_redirects()
        .get(app.url(path))
        .header(COOKIE, format!("studyhall_session={}", who.token))
        .send()
        .await
        .expect("the page");
    (response.status(), response.text().await.expect("html"))
}

/// Posts the settings form with `fields` (the others as the page shows them).
async fn save(app: &TestApp, who: &Session, fields: &[(&str, &str)]) -> reqwest::Response {
    let (_, html) = page(app, who, "/settings").await;
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    let csrf = html[start..].split('"').next().expect("a token").to_owned();
    let mut form: Vec<(String, String)> = [
        ("desired_retention", "0.9"),
        ("learning_steps_minutes", "1 10"),
        ("relearning_steps_minutes", "10"),
        ("new_cards_per_day", "20"),
        ("reviews_per_day", "200"),
        ("day_starts_at_hour", "4"),
        ("time_zone", "UTC"),
        ("maximum_interval_days", "36500"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), fields.iter().find(|(f, _)| f == k).map_or(*v, |(_, v)| v).to_owned()))
    .collect();
    form.push(("csrf".to_owned(), fields.iter().find(|(f, _)| *f == "csrf").map_or(csrf, |(_, v)| v.to_string())));
    no_redirects()
        .post(app.url("/settings"))
        .header(COOKIE, format!("studyhall_session={}", who.token))
        .form(&form)
        .send()
        .await
        .expect("a response")
}

async fn preferences(app: &TestApp, who: &Session) -> Value {
    app.call(reqwest::Method::GET, "/api/v1/me", Some(&who.token), None).await.1["preferences"].clone()
}

#[tokio::test]
async fn the_settings_page_shows_the_settings_and_saving_keeps_other_preferences() {
    let app = TestApp::with_workers().await;
    let ada = app.register("ada").await;
    let (status, _) = app
        .call(
            reqwest::Method::PATCH,
            "/api/v1/me",
            Some(&ada.token),
            Some(json!({"preferences": {"theme": "dark", "desired_retention": 0.8}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, html) = page(&app, &ada, "/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"desired_retention\" value=\"0.8\""), "the current value");
    assert!(html.contains("default 0.9") && html.contains("default 1 10") && html.contains("default 36500"));
    assert!(html.contains("<option value=\"Europe/Paris\">"), "time zones PostgreSQL knows");
    assert!(html.contains("does not move the cards already scheduled"), "what a retention change does");
    assert!(html.contains("href=\"/settings\""), "in the navigation");

    let saved = save(
        &app,
        &ada,
        &[
            ("desired_retention", "0,85"),
            ("learning_steps_minutes", "1m 5m"),
            ("relearning_steps_minutes", ""),
            ("new_cards_per_day", "15"),
            ("day_starts_at_hour", "3"),
            ("time_zone", "Europe/Paris"),
            ("maximum_interval_days", "3650"),
        ],
    )
    .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(saved.headers()[LOCATION], "/settings?saved=1");
    assert_eq!(
        preferences(&app, &ada).await,
        json!({"theme": "dark", "desired_retention": 0.85, "learning_steps_minutes": [1.0, 5.0],
               "relearning_steps_minutes": [], "new_cards_per_day": 15, "reviews_per_day": 200,
               "day_starts_at_hour": 3, "time_zone": "Europe/Paris", "maximum_interval_days": 3650,
               "review_new_items": false}),
        "merged: the theme is kept"
    );
    let (_, html) = page(&app, &ada, "/settings?saved=1").await;
    assert!(html.contains("Saved."));
    assert!(html.contains("value=\"0.85\"") && html.contains("<option value=\"3\" selected>03:00</option>"));
    assert!(html.contains("name=\"relearning_steps_minutes\" value=\"\""), "no relearning steps");
}

#[tokio::test]
async fn bad_settings_are_refused_in_words_beside_their_fields() {
    let app = TestApp::with_workers().await;
    let ada = app.register("ada").await;
    let before = preferences(&app, &ada).await;
    let refused = save(
        &app,
        &ada,
        &[
            ("desired_retention", "0.5"),
            ("learning_steps_minutes", "1 soon"),
            ("new_cards_per_day", "2.5"),
            ("reviews_per_day", "-1"),
            ("maximum_interval_days", "40000"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.expect("html");
    for (field, words) in [
        ("desired_retention", "Must be a number from 0.70 to 0.99."),
        ("learning_steps_minutes", "Must be a list of at most 10 numbers of minutes"),
        ("new_cards_per_day", "Must be a whole number from 0 to 9999."),
        ("reviews_per_day", "Must be a whole number from 0 to 99999."),
        ("maximum_interval_days", "Must be a whole number from 1 to 36500."),
    ] {
        let error = format!("<p id=\"{field}-error\" class=\"field-error\">{words}");
        assert!(html.contains(&error), "{field}: {words} in {html}");
        assert!(html.contains(&format!("{field}-error")) && html.contains("aria-invalid=\"true\""));
    }
    assert!(!html.contains("preferences."), "no API field names");
    assert!(html.contains("value=\"0.5\"") && html.contains("value=\"1 soon\""), "what was typed is kept");
    assert!(!html.contains("time_zone-error"), "the time zone was fine");

    let unknown = save(&app, &ada, &[("time_zone", "Mars/Olympus_Mons")]).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = unknown.text().await.expect("html");
    assert!(html.contains("<p id=\"time_zone-error\" class=\"field-error\">Is not a time zone PostgreSQL knows"));

    let forged = save(&app, &ada, &[("csrf", "forged")]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(preferences(&app, &ada).await, before, "nothing was saved");
}

#[tokio::test]
async fn optimise_works_without_javascript() {
    let app = TestApp::with_workers().await;
    let ada = app.register("ada").await;
    let (_, html) = page(&app, &ada, "/settings").await;
    assert!(html.contains("Not optimised yet.") && html.contains("action=\"/settings/optimise\""));
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    let csrf = html[start..].split('"').next().expect("a token").to_owned();
    let post = |token: String| {
        no_redirects()
            .post(app.url("/settings/optimise"))
            .header(COOKIE, format!("studyhall_session={}", ada.token))
            .form(&[("csrf", token)])
            .send()
    };
    assert_eq!(post("forged".to_owned()).await.expect("a response").status(), StatusCode::FORBIDDEN);
    let queued = post(csrf).await.expect("a response");
    assert_eq!(queued.status(), StatusCode::SEE_OTHER);
    assert_eq!(queued.headers()[LOCATION], "/settings#fsrs-title");
    // The page says it is under way, then (reloaded) what it found.
    let mut seen = Vec::new();
    for _ in 0..100 {
        let (_, html) = page(&app, &ada, "/settings").await;
        if html.contains("Too few reviews to fit: 0 of the 64 needed") {
            assert!(!html.contains("Optimising: reload"), "done");
            return;
        }
        seen.push(html.contains("Optimising: reload the page in a moment."));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the outcome appears: {seen:?}");
}

#[tokio::test]
async fn a_learner_sets_and_optimises_on_a_phone() {
    if !available() {
        return;
    }
    let app = TestApp::with_workers().await;
    let site = app.url("");
    let pool = app.db.pool.clone();
    run("a_learner_sets_and_optimises_on_a_phone", Screen::Phone, |b| async move {
        b.go(&format!("{site}/signup")).await;
        b.type_into("#email", "ada@example.org").await;
        b.type_into("#username", "ada").await;
        b.type_into("#password", PASSWORD).await;
        b.tap_element(&b.find("button[type=submit]").await).await;
        b.wait_for_text("Hello, ada").await;
        b.tap_element(&b.find("nav a[href='/settings']").await).await;
        b.wait_for_text("Your memory model").await;
        b.fits("the settings page").await;

        // A retention out of range: the page says why beside the field.
        b.script("document.querySelector('#desired_retention').value = ''", json!([])).await;
        b.type_into("#desired_retention", "0.5").await;
        b.tap_element(&b.find_text("Save settings").await).await;
        b.wait_for_text("Must be a number from 0.70 to 0.99.").await;
        b.fits("the settings page with an error").await;
        b.script("document.querySelector('#desired_retention').value = ''", json!([])).await;
        b.type_into("#desired_retention", "0.85").await;
        b.script("document.querySelector('#time_zone').value = ''", json!([])).await;
        b.type_into("#time_zone", "Europe/Paris").await;
        b.tap_element(&b.find_text("Save settings").await).await;
        b.wait_for_text("Saved.").await;
        let retention = b.script("return document.querySelector('#desired_retention').value", json!([])).await;
        assert_eq!(retention, "0.85");

        // Too few answers: the defaults stay, and the page says why.
        b.tap_element(&b.find_text("Optimise").await).await;
        b.wait_for_text("Done: your parameters did not change.").await;
        assert!(b.text().await.contains("Too few reviews to fit: 0 of the 64 needed"));

        // With a history of answers, the fit is kept and the log losses shown.
        let user: uuid::Uuid =
            sqlx::query_scalar("SELECT id FROM users WHERE username = 'ada'").fetch_one(&pool).await.expect("ada");
        history(&pool, user, 150, 150, 9).await;
        b.tap_element(&b.find_text("Optimise").await).await;
        b.wait_for_text("Done: your parameters were updated.").await;
        let text = b.text().await;
        assert!(text.contains("scheduled with parameters fitted to your own answers"), "{text}");
        let losses = b
            .script(
                "return [...document.querySelectorAll('[data-fsrs-default], [data-fsrs-fitted]')]
                   .map((e) => parseFloat(e.textContent))",
                json!([]),
            )
            .await;
        let (default, own) = (losses[0].as_f64().expect("a loss"), losses[1].as_f64().expect("a loss"));
        assert!(own < default, "{own} < {default}");
        b.fits("the settings page after optimising").await;
    })
    .await;
}
