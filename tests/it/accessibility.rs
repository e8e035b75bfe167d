//! Every page of the web app checked by axe-core (Deque's accessibility engine, the npm
//! package `.ci/run` installs) in real Chromium, at desktop and phone sizes: no serious
//! or critical violation. Without axe-core the check says so and stops, unless
//! STUDYHALL_BROWSER_TESTS=required.

use std::path::PathBuf;

use reqwest::Method;
use serde_json::{Value, json};

use crate::browser::{Screen, Session, available};
use crate::harness::TestApp;
use crate::learning::{id, learner_with_assets, start};

/// Where axe-core's browser bundle is: STUDYHALL_AXE, or where `.ci/run` installs it.
pub fn axe_source() -> Option<String> {
    let path = std::env::var_os("STUDYHALL_AXE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/axe/node_modules/axe-core/axe.min.js")
    });
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            let required = std::env::var("STUDYHALL_BROWSER_TESTS").is_ok_and(|v| v == "required");
            let install = "npm install --prefix target/axe axe-core@4.14.1";
            assert!(!required, "{} is missing: {install}", path.display());
            eprintln!("skipped: no axe-core ({install})");
            None
        }
    }
}

/// axe-core's serious and critical violations on the page the browser shows, each as
/// "rule: what (where)".
pub async fn violations(b: &Session, axe: &str) -> Vec<String> {
    b.script(&format!("{axe}\nreturn true;"), json!([])).await;
    let found = b
        .script(
            "return axe.run(document, {resultTypes: ['violations']}).then(r => r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ': ' + v.help + ' (' + v.nodes.map(n => n.target.join(' ')).join(', ') + ')'))",
            json!([]),
        )
        .await;
    found.as_array().expect("a list of violations").iter().filter_map(Value::as_str).map(str::to_owned).collect()
}

#[tokio::test]
async fn every_page_passes_axe_at_desktop_and_phone_sizes() {
    if !available() {
        return;
    }
    let Some(axe) = axe_source() else { return };
    let app = TestApp::with_workers().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    let session = id(&start(&app, &ada, material, "review", json!({})).await);
    let (_, chunks) =
        app.call(Method::GET, &format!("/api/v1/materials/{material}/chunks"), Some(&ada.token), None).await;
    let chunk = chunks["items"][0]["id"].as_str().expect("a chunk").to_owned();

    let signed_out = ["/signin", "/signup"];
    let signed_in = [
        "/".to_owned(),
        "/materials".to_owned(),
        "/materials?q=membrane".to_owned(),
        format!("/materials/{material}"),
        format!("/materials/{material}/chunks/{chunk}?q=membrane"),
        format!("/study/{session}"),
        "/progress".to_owned(),
        "/settings".to_owned(),
        "/account".to_owned(),
        "/admin".to_owned(),
        "/materials/not-a-uuid".to_owned(),
        format!("/materials/{}", uuid::Uuid::new_v4()),
        "/no/such/page".to_owned(),
    ];
    let mut found = Vec::new();
    for screen in [Screen::Desktop, Screen::Phone] {
        let (_driver, b) = Session::start(screen).await;
        // The check can fail: an image without a text alternative is a critical violation.
        b.go(&app.url("/signin")).await;
        b.script("document.querySelector('main').append(document.createElement('img'))", json!([])).await;
        let seeded = violations(&b, &axe).await;
        assert!(seeded.iter().any(|v| v.starts_with("image-alt")), "axe runs and finds: {seeded:?}");
        for path in signed_out {
            b.go(&app.url(path)).await;
            b.find("main").await;
            found.extend(violations(&b, &axe).await.into_iter().map(|v| format!("{path}: {v}")));
        }
        b.go(&app.url("/signin")).await;
        let cookie =
            json!({"cookie": {"name": "studyhall_session", "value": ada.token, "path": "/", "httpOnly": true}});
        b.command(Method::POST, "/cookie", Some(cookie)).await;
        for path in &signed_in {
            b.go(&app.url(path)).await;
            b.find("main h1, main [data-card], main h2").await;
            found.extend(violations(&b, &axe).await.into_iter().map(|v| format!("{path}: {v}")));
        }
    }
    assert!(found.is_empty(), "axe-core's serious and critical violations:\n{}", found.join("\n"));
}
