//! `GET /metrics`: Prometheus text with requests by route and status, latency
//! histograms, the job queue and the pools.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::TestApp;
use crate::materials::{ARTICLE, create, settled};

/// The value of the first sample of `series` (a name with its labels, as rendered).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_describe_the_queue_and_pools() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(&app, &ada, material).await;
    let (status, _) =
        app.call(Method::GET, &format!("/api/v1/materials/{}", uuid::Uuid::new_v4()), Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let response = app.client.get(app.url("/metrics")).send().await.expect("a response");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().expect("text").to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.text().await.expect("a body");

    let registered = r#"studyhall_http_requests_total{method="POST",route="/api/v1/auth/register",status="201"}"#;
    assert!(sample(&text, registered).is_some_and(|n| n >= 1.0), "{text}");
    let missing = r#"studyhall_http_requests_total{method="GET",route="/api/v1/materials/{id}",status="404"}"#;
    assert!(sample(&text, missing).is_some_and(|n| n >= 1.0), "the route's pattern, not the path: {text}");
    assert!(text.contains(r#"studyhall_http_request_duration_seconds_bucket{method="POST",route="/api/v1/auth/register",status="201",le="0.1"}"#));
    assert!(text.contains(r#"studyhall_jobs_completed_total{kind="ingest_material"}"#));
    for gauge in ["studyhall_jobs_queued ", "studyhall_jobs_oldest_queued_seconds ", "studyhall_database_up 1"] {
        assert!(text.contains(gauge), "{gauge}: {text}");
    }
    assert!(text.contains(r#"studyhall_db_pool_connections{pool="requests",state="idle"}"#));
    assert!(!text.contains(&ada.token), "no secrets");
}
