//! Materials from URLs, against a small site served for real on 127.0.0.1, and the
//! refusals that protect the server from request forgery.

use axum::Router;
use axum::http::{StatusCode as AxumStatus, header};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::get;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, TestDb, http_config, settings};
use crate::materials::{ARTICLE, settled};

/// A site with an article, a Markdown file, a redirect, a redirect loop, a missing page,
/// an oversized file and a binary file. Returns its base URL.
async fn site() -> String {
    let page = format!(
        "<!DOCTYPE html><html><head><title>Cells</title></head><body><nav><a href='/'>Home</a></nav>\
         <article><h1>The Cell</h1>{}</article><footer>Subscribe to our newsletter</footer></body></html>",
        ARTICLE
            .split("\n\n")
            .filter(|b| !b.starts_with(['#', '|', '-']))
            .map(|b| format!("<p>{b}</p>"))
            .collect::<String>()
    );
    let router = Router::new()
        .route("/article", get(move || async move { Html(page) }))
        .route("/notes.md", get(|| async { ARTICLE }))
        .route("/moved", get(|| async { Redirect::permanent("/article") }))
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route("/missing", get(|| async { AxumStatus::NOT_FOUND }))
        .route("/huge", get(|| async { "a ".repeat(1_200_000) }))
        .route(
            "/binary",
            get(|| async {
                ([(header::CONTENT_TYPE, "application/octet-stream")], vec![0u8, 255, 1, 254]).into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

async fn from_url(app: &TestApp, session: &Session, url: &str) -> (StatusCode, Value) {
    let body = json!({"title": "From the web", "source_type": "url", "source_url": url});
    app.call(Method::POST, "/api/v1/materials", Some(&session.token), Some(body)).await
}

async fn ingested(app: &TestApp, session: &Session, url: &str) -> Value {
    let (status, material) = from_url(app, session, url).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{url}: {material}");
    settled(app, session, material["id"].as_str().and_then(|id| id.parse().ok()).expect("an id")).await
}

#[tokio::test]
async fn pages_and_files_are_fetched_and_ingested() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let base = site().await;

    let article = ingested(&app, &ada, &format!("{base}/moved")).await;
    assert_eq!(article["status"], "ready", "{article}");
    assert_eq!(article["metadata"]["extractor"], "html", "followed the redirect to the page");
    assert_eq!(article["source_url"], format!("{base}/moved"));
    let id = article["id"].as_str().expect("an id");
    let (_, chunks) = app.call(Method::GET, &format!("/api/v1/materials/{id}/chunks"), Some(&ada.token), None).await;
    let text = chunks["items"].to_string();
    assert!(
        text.contains("Robert Hooke") && !text.contains("Subscribe to our newsletter"),
        "the article, not the chrome"
    );

    let notes = ingested(&app, &ada, &format!("{base}/notes.md")).await;
    assert_eq!((notes["status"].as_str(), notes["metadata"]["extractor"].as_str()), (Some("ready"), Some("markdown")));
}

#[tokio::test]
async fn pages_that_cannot_be_had_fail_with_the_reason() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let base = site().await;
    for (path, reason) in [
        ("/missing", "404"),
        ("/loop", "redirects"),
        ("/huge", "larger than"),
        ("/binary", "not a PDF, DOCX, EPUB, HTML, Markdown or text document"),
    ] {
        let material = ingested(&app, &ada, &format!("{base}{path}")).await;
        assert_eq!(material["status"], "failed", "{path}");
        let error = material["metadata"]["error"].as_str().expect("a reason");
        assert!(error.contains(reason), "{path}: {error}");
    }
}

#[tokio::test]
async fn private_and_non_web_targets_are_refused() {
    let mut strict = settings();
    strict.materials.url_allow_private = false;
    let app = TestApp::spawn_configured(TestDb::migrated().await, http_config(), strict).await;
    let ada = app.register("ada").await;
    let base = site().await;
    for url in [
        format!("{base}/article"),
        "http://localhost/".to_owned(),
        "http://[::1]/".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
        "http://192.168.1.1/admin".to_owned(),
        "http://192.0.0.8/".to_owned(),
        "ftp://example.org/file".to_owned(),
        "file:///etc/passwd".to_owned(),
    ]
    .into_iter()
    .chain(
        // IPv6 spellings of loopback and other special addresses, IPv4 embedded or not
        [
            "::127.0.0.1",
            "::7f00:1",
            "::ffff:127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::7f00:1",
            "2002:7f00:1::1",
            "2001::7f00:1",
            "2001:0:5db8:d822::80ff:fffe",
            "fec0::1",
            "fd00::1",
        ]
        .map(|ip| format!("http://[{ip}]/")),
    ) {
        let (status, problem) = from_url(&app, &ada, &url).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "source_url", "{url}");
    }
    let (_, problem) = from_url(&app, &ada, "http://localhost:8080/").await;
    let reason = problem["errors"][0]["message"].as_str().expect("a reason");
    assert!(reason.contains("localhost is on a private network"), "{reason}");
    assert!(
        !reason.contains("127.0.0.1") && !reason.contains("::1"),
        "what localhost resolves to is not told: {reason}"
    );
    let (_, page) = app.call(Method::GET, "/api/v1/materials", Some(&ada.token), None).await;
    assert_eq!(page["items"], json!([]), "nothing was fetched or created");
}
