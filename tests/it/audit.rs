//! The audit trail as docs/security.md promises it: the answer path records its success
//! and its refusals, abandoning an idle session is recorded, and no secret reaches a row.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{PASSWORD, TestApp};
use crate::learning::{id, interact, learner_with_assets, next, start};

/// One audit row, as the tests read it.
#[derive(Debug, sqlx::FromRow)]
struct Row {
    user_id: Option<Uuid>,
    entity_id: Option<Uuid>,
    old_values: Option<Value>,
    new_values: Option<Value>,
    ip: Option<String>,
    session_id: Option<String>,
    is_success: bool,
    error_message: Option<String>,
}

/// The rows of `action`, oldest first.
async fn rows_of(app: &TestApp, action: &str) -> Vec<Row> {
    sqlx::query_as(
        "SELECT user_id, entity_id, old_values, new_values, host(ip_address) AS ip, session_id, is_success,
                error_message
           FROM audit_logs WHERE action = $1 ORDER BY created_at, id",
    )
    .bind(action)
    .fetch_all(&app.db.pool)
    .await
    .expect("the audit rows")
}

async fn age(app: &TestApp, session: &str) {
    sqlx::query(
        "UPDATE learning_sessions
            SET session_data = session_data || jsonb_build_object('last_activity_at', now() - interval '2 hours')
          WHERE id = $1::uuid",
    )
    .bind(session)
    .execute(&app.db.pool)
    .await
    .expect("age the session");
}

#[tokio::test]
async fn the_answer_path_records_its_success_a_422_and_a_409() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    let session = id(&start(&app, &ada, material, "quiz", json!({})).await);
    let asset = id(&next(&app, &ada, &session).await.expect("a quiz item")["asset"]);
    let choosing = |index: usize| json!({"generated_asset_id": asset, "interaction_type": "answer", "interaction_data": {"choice_index": index}});

    let (status, _) = interact(&app, &ada, &session, choosing(99), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, recorded) = interact(&app, &ada, &session, choosing(0), Some("k1")).await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    // A replay changes nothing, and records nothing more.
    let (status, _) = interact(&app, &ada, &session, choosing(0), Some("k1")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = interact(&app, &ada, &session, choosing(1), None).await;
    assert_eq!(status, StatusCode::CONFLICT);

    let rows = rows_of(&app, "interaction.create").await;
    let outcomes: Vec<(bool, Option<&str>)> = rows.iter().map(|r| (r.is_success, r.error_message.as_deref())).collect();
    assert_eq!(
        outcomes,
        [
            (false, Some("Invalid interaction_data.choice_index.")),
            (true, None),
            (false, Some("generated_asset_id was answered or skipped in this session already")),
        ]
    );
    let success = &rows[1];
    assert_eq!(success.entity_id.map(|id| id.to_string()), recorded["interaction"]["id"].as_str().map(str::to_owned));
    let new = success.new_values.as_ref().expect("what was recorded");
    assert_eq!((&new["learning_session_id"], &new["is_correct"]), (&json!(session), &recorded["is_correct"]));
    for row in &rows {
        assert_eq!(row.user_id, Some(ada.user_id));
        assert_eq!(row.ip.as_deref(), Some("127.0.0.1"));
        assert!(row.session_id.is_some(), "the sign-in token's id");
    }

    // Another learner's session is missing, and that is recorded as theirs.
    let bob = app.register("bob").await;
    let (status, _) = interact(&app, &bob, &session, choosing(2), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let last = rows_of(&app, "interaction.create").await.pop().expect("a row");
    assert_eq!(
        (last.user_id, last.is_success, last.error_message.as_deref()),
        (Some(bob.user_id), false, Some("Not Found"))
    );
}

#[tokio::test]
async fn abandoning_an_idle_session_is_audited() {
    let app = TestApp::spawn().await;
    let (ada, material) = learner_with_assets(&app, "ada").await;
    let listed = id(&start(&app, &ada, material, "study", json!({})).await);
    age(&app, &listed).await;

    let (status, page) = app.call(Method::GET, "/api/v1/sessions", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"][0]["status"], "abandoned");
    let (status, _) = app.call(Method::GET, "/api/v1/sessions", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK);
    let abandoned = rows_of(&app, "session.abandon").await;
    assert_eq!(abandoned.len(), 1, "once, when it was abandoned: {abandoned:?}");
    let row = &abandoned[0];
    assert_eq!((row.user_id, row.entity_id.map(|id| id.to_string())), (Some(ada.user_id), Some(listed)));
    assert_eq!(
        (&row.old_values, &row.new_values),
        (&Some(json!({"status": "active"})), &Some(json!({"status": "abandoned"})))
    );
    assert!(row.is_success && row.ip.is_some() && row.session_id.is_some());

    // An answer to an idle session abandons it (audited) and is refused (audited too).
    let answered = id(&start(&app, &ada, material, "study", json!({})).await);
    let item = next(&app, &ada, &answered).await.expect("an item");
    age(&app, &answered).await;
    let body = json!({"generated_asset_id": id(&item["asset"]), "interaction_type": "view"});
    let (status, _) = interact(&app, &ada, &answered, body, None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let abandoned = rows_of(&app, "session.abandon").await;
    assert_eq!(abandoned.last().and_then(|r| r.entity_id).map(|id| id.to_string()), Some(answered));
    let refused = rows_of(&app, "interaction.create").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].error_message.as_deref(), Some("status is abandoned: the session has ended"));
}

#[tokio::test]
async fn no_password_or_token_reaches_an_audit_row() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (wrong, new) = ("not the password at all", "a brand new passphrase");
    let taken = json!({"email": "ada@example.org", "username": "ada2", "password": "another fine passphrase"});
    let (status, _) = app.call(Method::POST, "/api/v1/auth/register", None, Some(taken)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) =
        app.call(Method::POST, "/api/v1/auth/login", None, Some(json!({"login": "ada", "password": wrong}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, signed_in) =
        app.call(Method::POST, "/api/v1/auth/login", None, Some(json!({"login": "ada", "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::OK);
    let token = signed_in["token"].as_str().expect("a token").to_owned();
    let change = |current: &str| json!({"current_password": current, "new_password": new});
    let (status, _) = app.call(Method::PATCH, "/api/v1/me", Some(&token), Some(change(wrong))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.call(Method::PATCH, "/api/v1/me", Some(&token), Some(change(PASSWORD))).await;
    assert_eq!(status, StatusCode::OK);

    let failed: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE NOT is_success")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!(failed, 3, "the 409, the 401 and the 422 are recorded");
    let trail: String = sqlx::query_scalar("SELECT string_agg(audit_logs::text, '\n') FROM audit_logs")
        .fetch_one(&app.db.pool)
        .await
        .expect("the audit trail");
    for secret in [PASSWORD, wrong, new, "another fine passphrase", &ada.token, &token] {
        assert!(!trail.contains(secret), "{secret:?} in the audit trail:\n{trail}");
    }
    assert!(trail.contains("[redacted]"), "the password change shows, redacted");
}
