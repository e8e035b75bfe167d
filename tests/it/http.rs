//! The HTTP basics a client and an operator rely on, over real HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, TestDb, http_config};

async fn problem(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/problem+json"));
    let body: Value = response.json().await.expect("a JSON problem");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["title"], status.canonical_reason().expect("a reason"));
    assert_eq!(body["type"], "about:blank");
    body
}

#[tokio::test]
async fn healthz_answers_ok_with_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/healthz")).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).expect("a request id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "a generated request id is a UUID: {id}");
    assert_eq!(response.json::<Value>().await.expect("JSON"), serde_json::json!({"status": "ok"}));

    let given =
        app.client.get(app.url("/healthz")).header("x-request-id", "trace-me-42").send().await.expect("request");
    assert_eq!(given.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some("trace-me-42"));
}

#[tokio::test]
async fn readyz_is_ready_on_a_current_schema() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/readyz")).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.expect("JSON")["status"], "ready");
}

#[tokio::test]
async fn readyz_is_unavailable_while_migrations_are_pending() {
    let app = TestApp::spawn_with(TestDb::empty().await, http_config()).await;
    let response = app.client.get(app.url("/readyz")).send().await.expect("request");
    assert!(response.headers().contains_key("retry-after"));
    let body = problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    let detail = body["detail"].as_str().expect("a detail");
    assert!(detail.ends_with("database migration(s) pending: run `studyhall migrate up`"), "{detail}");
}

#[tokio::test]
async fn readyz_is_unavailable_when_the_database_is_unreachable() {
    let app = TestApp::spawn().await;
    app.db.pool.close().await;
    let response = app.client.get(app.url("/readyz")).send().await.expect("request");
    let body = problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(body["detail"], "The database is unavailable; try again shortly.");
    let liveness = app.client.get(app.url("/healthz")).send().await.expect("request");
    assert_eq!(liveness.status(), StatusCode::OK, "liveness does not depend on the database");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = TestApp::spawn().await;
    let missing = app.client.get(app.url("/api/v1/nothing-here")).send().await.expect("request");
    problem(missing, StatusCode::NOT_FOUND).await;

    let wrong_method = app.client.delete(app.url("/healthz")).send().await.expect("request");
    assert_eq!(wrong_method.headers().get("allow").and_then(|v| v.to_str().ok()), Some("GET,HEAD"));
    problem(wrong_method, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let mut config = http_config();
    config.max_body_bytes = 1024;
    let app = TestApp::spawn_with(TestDb::migrated().await, config).await;
    let padding = "x".repeat(1100);
    let response = app
        .client
        .post(app.url("/api/v1/auth/register"))
        .header("content-type", "application/json")
        .body(format!(r#"{{"email": "a@example.org", "username": "a{padding}", "password": "p"}}"#))
        .send()
        .await
        .expect("request");
    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test]
async fn a_request_over_the_time_limit_is_answered_503() {
    let mut config = http_config();
    config.request_timeout_secs = 1;
    let db = TestDb::migrated().await;
    // /readyz reads the migrations table: while another session holds it locked, the
    // request waits past its time limit (whatever the machine's load).
    let mut lock = db.pool.begin().await.expect("a transaction");
    sqlx::query("LOCK TABLE _sqlx_migrations IN ACCESS EXCLUSIVE MODE").execute(&mut *lock).await.expect("locked");
    let app = TestApp::spawn_with(db, config).await;
    let request = app.client.get(app.url("/readyz")).timeout(std::time::Duration::from_secs(30));
    let response = request.send().await.expect("an answer within the time limit, not a hang");
    problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    lock.rollback().await.expect("unlocked");
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/api/v1/openapi.json")).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.expect("JSON");
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in ["/healthz", "/readyz", "/api/v1/openapi.json"] {
        assert!(document["paths"][path]["get"].is_object(), "{path} is described");
    }
    assert!(document["components"]["schemas"]["Problem"].is_object(), "errors are described");
    // Statuses and kinds list their values.
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["Session"]["properties"]["session_type"]["$ref"], "#/components/schemas/SessionType");
    assert_eq!(schemas["SessionType"]["enum"], json!(["study", "review", "quiz"]));
    assert_eq!(schemas["AssetStatus"]["enum"], json!(["ready", "draft", "flagged", "archived", "suspended"]));
    assert_eq!(schemas["JobState"]["enum"], json!(["queued", "running", "done", "failed"]));
}

#[tokio::test]
async fn the_api_explorer_is_served_from_the_binary() {
    let app = TestApp::spawn().await;
    // /api/docs leads to the page, which anyone may open.
    let page = app.client.get(app.url("/api/docs")).send().await.expect("request");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.url().path(), "/api/docs/");
    let header = |name: &str| page.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(header("content-type").starts_with("text/html"), "{}", header("content-type"));
    assert!(header("content-security-policy").contains("script-src 'self';"), "the app's own policy");
    assert_eq!(header("x-frame-options"), "DENY");
    let html = page.text().await.expect("the page");
    assert!(!html.contains("http://") && !html.contains("https://"), "nothing from another host: {html}");

    // Every file the page loads is here: relative addresses, answered from the binary.
    let mut loaded = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for part in html.split(attribute).skip(1) {
            loaded.push(part.split('"').next().expect("a quoted address").trim_start_matches("./").to_owned());
        }
    }
    for file in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-initializer.js"] {
        assert!(loaded.iter().any(|l| l == file), "the page loads {file}: {loaded:?}");
    }
    for file in &loaded {
        let response = app.client.get(app.url(&format!("/api/docs/{file}"))).send().await.expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        let cache = response.headers().get("cache-control").and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(cache.as_deref(), Some("public, max-age=3600"), "{file} may be cached");
        let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let expected = match file.rsplit('.').next() {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            Some("png") => "image/png",
            other => panic!("{file}: an unexpected kind of file {other:?}"),
        };
        assert!(kind.starts_with(expected), "{file}: {kind}");
        assert!(!response.bytes().await.expect("the file").is_empty(), "{file}");
    }

    // It renders this server's document and never sends it to swagger.io's validator.
    let initializer = app.client.get(app.url("/api/docs/swagger-initializer.js")).send().await.expect("request");
    let initializer = initializer.text().await.expect("the script");
    assert!(initializer.contains("\"url\": \"/api/v1/openapi.json\""), "{initializer}");
    assert!(initializer.contains("\"validatorUrl\": \"none\""), "{initializer}");
    assert!(!initializer.contains("http://") && !initializer.contains("https://"), "{initializer}");

    // A file it does not have is a problem, like any unknown address under /api/.
    let missing = app.client.get(app.url("/api/docs/nope.js")).send().await.expect("request");
    problem(missing, StatusCode::NOT_FOUND).await;
}
