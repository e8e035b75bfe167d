//! The isolation matrix, walked from the OpenAPI document so that it grows with every
//! endpoint: each authenticated operation refuses a missing token (401), each admin
//! operation hides itself from a non-admin (404), and each operation on an object by id
//! answers 404 for another user's object, exactly as for a missing one.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::learner;
use crate::harness::TestApp;

/// For each path with an id, the id of an object of another user (or, for an admin
/// path, any object) that the path can name. A new `{id}` endpoint fails the matrix
/// until it is added here.
fn others_objects(other: &crate::fixtures::Learner, invitation: Uuid) -> HashMap<&'static str, Uuid> {
    HashMap::from([
        ("/api/v1/admin/invitations/{id}", invitation),
        ("/api/v1/admin/users/{id}/deactivate", other.user_id),
        ("/api/v1/admin/users/{id}/reactivate", other.user_id),
        ("/api/v1/admin/users/{id}/promote", other.user_id),
        ("/api/v1/admin/users/{id}/demote", other.user_id),
        ("/api/v1/admin/users/{id}/password-reset", other.user_id),
        ("/api/v1/admin/jobs/{id}/retry", other.job_id),
        ("/api/v1/materials/{id}", other.material_id),
        ("/api/v1/materials/{id}/reprocess", other.material_id),
        ("/api/v1/materials/{id}/chunks", other.material_id),
        ("/api/v1/materials/{id}/generate", other.material_id),
        ("/api/v1/materials/{id}/assets", other.material_id),
        ("/api/v1/materials/{id}/assets/accept", other.material_id),
        ("/api/v1/assets/{id}", other.asset_id),
        ("/api/v1/jobs/{id}", other.job_id),
        ("/api/v1/assets/{id}/feedback", other.asset_id),
        ("/api/v1/sessions/{id}", other.session_id),
        ("/api/v1/sessions/{id}/next", other.session_id),
        ("/api/v1/sessions/{id}/interactions", other.session_id),
        ("/api/v1/sessions/{id}/end", other.session_id),
    ])
}

#[tokio::test]
async fn every_endpoint_keeps_other_users_out() {
    let app = TestApp::spawn().await;
    app.register("root").await; // the first account: the administrator, so ann is not
    let ann = app.register("ann").await;
    let bob = learner(&app.db.pool, "bob").await;
    let invitation: Uuid = sqlx::query_scalar("INSERT INTO invitations (token_hash) VALUES ('\\x00') RETURNING id")
        .fetch_one(&app.db.pool)
        .await
        .expect("an invitation");
    let objects = others_objects(&bob, invitation);
    let (_, document) = app.call(Method::GET, "/api/v1/openapi.json", None, None).await;

    let mut checked = HashMap::<&str, usize>::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for (verb, operation) in operations.as_object().expect("operations") {
            let method: Method = verb.to_uppercase().parse().expect("an HTTP method");
            let body = matches!(method, Method::POST | Method::PATCH | Method::PUT).then(|| json!({}));
            let concrete = match path.contains('{') {
                false => path.clone(),
                true => {
                    let id = objects.get(path.as_str()).unwrap_or_else(|| panic!("add a fixture for {path}"));
                    let (head, rest) = path.split_once('{').expect("a parameter");
                    let tail = rest.split_once('}').map(|(_, tail)| tail).unwrap_or_default();
                    format!("{head}{id}{tail}")
                }
            };
            let secured = operation.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty());

            if secured {
                let (status, _) = app.call(method.clone(), &concrete, None, body.clone()).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{verb} {path} without a token");
                *checked.entry("401 without a token").or_default() += 1;
            }
            if path.starts_with("/api/v1/admin/") {
                let (status, _) = app.call(method.clone(), &concrete, Some(&ann.token), body.clone()).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{verb} {path} as a non-admin");
                *checked.entry("404 for a non-admin").or_default() += 1;
            }
            if path.contains('{') {
                let (status, problem) = app.call(method, &concrete, Some(&ann.token), body).await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{verb} {path} with bob's object: {problem}");
                *checked.entry("404 for another user's object").or_default() += 1;
            }
        }
    }
    assert!(checked.get("401 without a token").is_some_and(|n| *n >= 6), "walked the API: {checked:?}");
    assert!(checked.contains_key("404 for a non-admin"), "walked the API: {checked:?}");
}
