//! Accounts over HTTP: registration, sign-in, tokens, the profile, deletion, export and
//! throttling, as a client sees them.

use reqwest::Method;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fixtures::learner;
use crate::harness::{PASSWORD, TestApp};

const REGISTER: &str = "/api/v1/auth/register";
const LOGIN: &str = "/api/v1/auth/login";

fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"].as_array().expect("errors").iter().map(|e| e["field"].as_str().expect("a field")).collect()
}

#[tokio::test]
async fn register_sign_in_by_email_or_username_and_sign_out() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (status, me) = app.call(Method::GET, "/api/v1/me", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((me["username"].as_str(), me["email"].as_str()), (Some("ada"), Some("ada@example.org")));
    assert!(me.get("password_hash").is_none(), "the hash is never sent");
    assert!(me["last_login_at"].is_null());

    for login in ["ADA@Example.org", "Ada"] {
        let (status, body) =
            app.call(Method::POST, LOGIN, None, Some(json!({"login": login, "password": PASSWORD}))).await;
        assert_eq!(status, StatusCode::OK, "sign in as {login}: {body}");
        assert!(body["user"]["last_login_at"].is_string(), "last_login_at is kept");
        assert!(body["expires_at"].is_string());
        let token = body["token"].as_str().expect("a token");
        assert_ne!(token, ada.token, "every sign-in gets its own token");
    }

    let (status, body) = app.call(Method::POST, "/api/v1/auth/logout", Some(&ada.token), None).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, problem) = app.call(Method::GET, "/api/v1/me", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked token signs no one in: {problem}");
    let (status, _) = app.call(Method::GET, "/api/v1/me", Some("sh_made-up"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.call(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn invalid_fields_are_named_and_malformed_bodies_refused() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"email": "not-an-email", "username": "ok_name", "password": PASSWORD}), vec!["email"]),
        (json!({"email": "a@example.org", "username": "ab", "password": PASSWORD}), vec!["username"]),
        (json!({"email": "a@example.org", "username": "no spaces!", "password": PASSWORD}), vec!["username"]),
        (json!({"email": "a@example.org", "username": "x".repeat(51), "password": PASSWORD}), vec!["username"]),
        (json!({"email": "a@example.org", "username": "fine", "password": "short"}), vec!["password"]),
        (json!({"email": "a@example.org", "username": "fine", "password": "password1234"}), vec!["password"]),
        (json!({"email": "a@example.org", "username": "fine", "password": "é".repeat(129)}), vec!["password"]),
        (
            json!({"email": "a@example.org", "username": "fine", "password": PASSWORD, "first_name": "n".repeat(101)}),
            vec!["first_name"],
        ),
        (json!({"email": "bad", "username": "b", "password": "p"}), vec!["email", "username", "password"]),
        (json!({"email": "a@example.org", "username": "fine"}), vec!["password"]),
        (json!({"email": 5, "username": "fine", "password": PASSWORD}), vec!["email"]),
    ];
    for (body, expected) in cases {
        let (status, problem) = app.call(Method::POST, REGISTER, None, Some(body.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {problem}");
        assert_eq!(fields(&problem), expected, "{body}");
    }

    let malformed = app
        .client
        .post(app.url(REGISTER))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let not_json = app.client.post(app.url(REGISTER)).body("email=a").send().await.expect("send");
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // 128 characters, well over bcrypt's 72 bytes.
    let phrase = "Über den Wolken muß die Freiheit wohl grenzenlos sein; alle Ängste, alle Sorgen, sagt man, \
                  blieben darunter verborgen, und dann würde, was uns groß und wichtig erscheint";
    let long_password: String = phrase.chars().take(128).collect();
    assert!(long_password.len() > 128, "multibyte: {} bytes", long_password.len());
    let body = json!({"email": "long@example.org", "username": "long", "password": long_password});
    let (status, problem) = app.call(Method::POST, REGISTER, None, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "128 characters of any kind are accepted: {problem}");
    let last_differs: String = long_password.chars().take(127).chain(['!']).collect();
    let (status, _) =
        app.call(Method::POST, LOGIN, None, Some(json!({"login": "long", "password": last_differs}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the 128th character counts");
}

#[tokio::test]
async fn a_taken_email_or_username_is_a_conflict_naming_the_field() {
    let app = TestApp::spawn().await;
    app.register("grace").await;
    for (body, field) in [
        (json!({"email": "GRACE@example.org", "username": "other", "password": PASSWORD}), "email"),
        (json!({"email": "other@example.org", "username": "Grace", "password": PASSWORD}), "username"),
    ] {
        let (status, problem) = app.call(Method::POST, REGISTER, None, Some(body)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{problem}");
        assert_eq!(fields(&problem), [field]);
    }
}

#[tokio::test]
async fn a_wrong_password_is_401_and_audited_as_a_failure() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (status, problem) =
        app.call(Method::POST, LOGIN, None, Some(json!({"login": "ada", "password": "not the password"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, unknown) =
        app.call(Method::POST, LOGIN, None, Some(json!({"login": "nobody", "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["detail"], unknown["detail"], "a missing account reads like a wrong password");

    #[derive(sqlx::FromRow)]
    struct Attempt {
        user_id: Option<uuid::Uuid>,
        is_success: bool,
        error_message: Option<String>,
        ip: Option<String>,
    }
    let rows: Vec<Attempt> = sqlx::query_as(
        "SELECT user_id, is_success, error_message, host(ip_address) AS ip FROM audit_logs WHERE action = 'auth.login' ORDER BY created_at",
    )
    .fetch_all(&app.db.pool)
    .await
    .expect("read the audit trail");
    assert_eq!(rows.len(), 2, "one row per attempt");
    assert_eq!(rows[0].user_id, Some(ada.user_id), "the failure is on ada's record");
    assert!(!rows[0].is_success);
    assert_eq!(rows[0].error_message.as_deref(), Some("The login or password is wrong."));
    assert_eq!(rows[0].ip.as_deref(), Some("127.0.0.1"));
    assert_eq!((rows[1].user_id, rows[1].is_success), (None, false), "an unknown login is recorded without a user");
}

#[tokio::test]
async fn repeated_failures_are_throttled_without_locking_the_owner_out_for_good() {
    let app = TestApp::spawn().await;
    app.register("ada").await;
    let wrong = json!({"login": "ada", "password": "not the password"});
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..30 {
        let response = app.client.post(app.url(LOGIN)).json(&wrong).send().await.expect("send");
        statuses.push(response.status().as_u16());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after =
                response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        }
    }
    assert_eq!(&statuses[..10], &[401; 10], "ten tries");
    assert_eq!(&statuses[10..], &[429; 20], "then 429");
    let retry_after = retry_after.expect("429 says when to retry");
    assert!((1..=900).contains(&retry_after), "blocked for at most 15 minutes at first: {retry_after}");

    let right = json!({"login": "ada", "password": PASSWORD});
    let (status, _) = app.call(Method::POST, LOGIN, None, Some(right.clone())).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "no guessing during the block, not even right");

    // Time passes: the block ends, and the owner signs in.
    sqlx::query("UPDATE auth_throttle SET blocked_until = now() - interval '1 second'")
        .execute(&app.db.pool)
        .await
        .expect("time travel");
    let (status, _) = app.call(Method::POST, LOGIN, None, Some(right)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_burst_of_concurrent_guesses_gets_no_more_checks_than_the_limit() {
    let app = TestApp::spawn().await;
    app.register("ada").await;
    let wrong = json!({"login": "ada", "password": "not the password"});
    let guesses = (0..60).map(|_| async {
        let response = app.client.post(app.url(LOGIN)).json(&wrong).send().await.expect("send");
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        (response.status(), retry_after)
    });
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers.iter().filter(|(status, _)| *status == StatusCode::UNAUTHORIZED).count();
    assert_eq!(checked, 10, "ten passwords checked, however many arrive at once: {answers:?}");
    for (status, retry_after) in &answers {
        if *status != StatusCode::UNAUTHORIZED {
            assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS);
            assert!(retry_after.is_some_and(|secs| (1..=900).contains(&secs)), "Retry-After: {retry_after:?}");
        }
    }
    let right = json!({"login": "ada", "password": PASSWORD});
    let (status, _) = app.call(Method::POST, LOGIN, None, Some(right)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the block holds for the right password too");
}

#[tokio::test]
async fn signing_in_clears_the_accounts_count_and_counts_against_no_address() {
    let app = TestApp::spawn().await;
    app.register("ada").await;
    let wrong = json!({"login": "ada", "password": "not the password"});
    let right = json!({"login": "ada", "password": PASSWORD});
    for _ in 0..9 {
        assert_eq!(app.call(Method::POST, LOGIN, None, Some(wrong.clone())).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.call(Method::POST, LOGIN, None, Some(right.clone())).await.0, StatusCode::OK);
    for n in 0..10 {
        let (status, _) = app.call(Method::POST, LOGIN, None, Some(wrong.clone())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "failure {n} after the sign-in: the count started afresh");
    }
    assert_eq!(app.call(Method::POST, LOGIN, None, Some(wrong)).await.0, StatusCode::TOO_MANY_REQUESTS);

    // Sign-ins that succeed never add up to the address's limit (50), so many people
    // behind one address can all sign in.
    app.register("bob").await;
    let bob = json!({"login": "bob", "password": PASSWORD});
    for n in 0..60 {
        let (status, _) = app.call(Method::POST, LOGIN, None, Some(bob.clone())).await;
        assert_eq!(status, StatusCode::OK, "sign-in {n} from one address");
    }
}

#[tokio::test]
async fn one_address_guessing_at_many_accounts_is_throttled() {
    let app = TestApp::spawn().await;
    let mut statuses = Vec::new();
    for n in 0..51 {
        let guess = json!({"login": format!("user{n}"), "password": "guess guess guess"});
        statuses.push(app.call(Method::POST, LOGIN, None, Some(guess)).await.0.as_u16());
    }
    assert_eq!(&statuses[..50], &[401; 50]);
    assert_eq!(statuses[50], 429, "the 51st failure from one address in 15 minutes");
}

#[tokio::test]
async fn the_profile_is_updated_field_by_field() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let patch = json!({"first_name": "Ada", "last_name": "Lovelace", "profile_picture_url": "https://example.org/ada.png",
                       "preferences": {"desired_retention": 0.85}});
    let (status, me) = app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["last_name"], "Lovelace");
    assert_eq!(me["preferences"]["desired_retention"], 0.85);
    let settings = json!({"preferences": {"time_zone": "Pacific/Auckland", "day_starts_at_hour": 5, "theme": "dark"}});
    let (status, me) = app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(settings.clone())).await;
    assert_eq!(
        (status, &me["preferences"]),
        (StatusCode::OK, &settings["preferences"]),
        "a time zone PostgreSQL knows"
    );

    let (_, me) = app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(json!({"last_name": null}))).await;
    assert_eq!(
        (me["first_name"].as_str(), me["last_name"].is_null()),
        (Some("Ada"), true),
        "null clears, absent keeps"
    );

    for (patch, field) in [
        (json!({"profile_picture_url": "javascript:alert(1)"}), "profile_picture_url"),
        (json!({"profile_picture_url": format!("https://example.org/{}", "a".repeat(500))}), "profile_picture_url"),
        (json!({"preferences": [1, 2]}), "preferences"),
        (json!({"preferences": {"desired_retention": 0.5}}), "preferences.desired_retention"),
        (json!({"preferences": {"desired_retention": 1.5}}), "preferences.desired_retention"),
        (json!({"preferences": {"desired_retention": "0.8"}}), "preferences.desired_retention"),
        (json!({"preferences": {"new_cards_per_day": -1}}), "preferences.new_cards_per_day"),
        (json!({"preferences": {"learning_steps_minutes": [1, 2000]}}), "preferences.learning_steps_minutes"),
        (json!({"preferences": {"time_zone": "Mars/Olympus_Mons"}}), "preferences.time_zone"),
        (json!({"preferences": {"time_zone": "'; DROP TABLE users"}}), "preferences.time_zone"),
        (json!({"first_name": "x".repeat(101)}), "first_name"),
        (json!({"is_admin": true}), "is_admin"),
        (json!({"new_password": "a brand new passphrase"}), "current_password"),
    ] {
        let (status, problem) = app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(patch.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{patch}: {problem}");
        assert_eq!(fields(&problem), [field], "{patch}");
    }
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (_, second) = app.call(Method::POST, LOGIN, None, Some(json!({"login": "ada", "password": PASSWORD}))).await;
    let second = second["token"].as_str().expect("a token").to_owned();
    let new_password = "orbit lamp violet glacier";

    let wrong = json!({"current_password": "not my password", "new_password": new_password});
    let (status, problem) = app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(wrong)).await;
    assert_eq!((status, fields(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["current_password"]));

    let change = json!({"current_password": PASSWORD, "new_password": new_password});
    let (status, _) = app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(change)).await;
    assert_eq!(status, StatusCode::OK);
    for token in [&ada.token, &second] {
        let (status, _) = app.call(Method::GET, "/api/v1/me", Some(token), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "every token is revoked");
    }
    let (status, _) = app.call(Method::POST, LOGIN, None, Some(json!({"login": "ada", "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old password is gone");
    let (status, _) =
        app.call(Method::POST, LOGIN, None, Some(json!({"login": "ada", "password": new_password}))).await;
    assert_eq!(status, StatusCode::OK);

    let audit: Value = sqlx::query_scalar(
        "SELECT jsonb_build_array(old_values, new_values) FROM audit_logs WHERE action = 'user.update' AND is_success",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("the change is audited");
    assert_eq!(audit, json!([{"password": "[redacted]"}, {"password": "[redacted]"}]));
}

#[tokio::test]
async fn deleting_the_account_anonymises_it_and_keeps_learning_data() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    sqlx::query("INSERT INTO study_materials (user_id, title, source_type) VALUES ($1, 'Notes', 'text')")
        .bind(ada.user_id)
        .execute(&app.db.pool)
        .await
        .expect("a material");

    let (status, _) = app.call(Method::DELETE, "/api/v1/me", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.call(Method::GET, "/api/v1/me", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.call(Method::POST, LOGIN, None, Some(json!({"login": "ada", "password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let row: (String, String, Option<String>, bool, bool, i64) = sqlx::query_as(
        "SELECT email, username, first_name, is_active, deleted_at IS NOT NULL,
                (SELECT count(*) FROM study_materials WHERE user_id = users.id)
           FROM users WHERE id = $1",
    )
    .bind(ada.user_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("the account row stays");
    // (Not "contains ada": the replacement is made of a random id, whose hex may hold "ada".)
    assert!(row.0.starts_with("deleted-") && row.1.starts_with("deleted-"), "email and username replaced: {row:?}");
    assert_eq!((row.2, row.3, row.4, row.5), (None, false, true, 1));

    let again = app.register("ada").await;
    assert_ne!(again.user_id, ada.user_id, "the email and username are free again");
}

#[tokio::test]
async fn the_export_holds_every_row_about_the_caller_and_nothing_else() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let other = learner(&app.db.pool, "bob").await;
    // Give ada a row in every table, by the same fixture bob has.
    let fixture = learner(&app.db.pool, "ada_twin").await;
    for table in [
        "study_materials",
        "material_sources",
        "jobs",
        "learning_sessions",
        "interactions",
        "user_feedback",
        "progress_metrics",
        "review_states",
        "learner_parameters",
        "password_resets",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table} SET user_id = $1 WHERE user_id = $2")))
            .bind(ada.user_id)
            .bind(fixture.user_id)
            .execute(&app.db.pool)
            .await
            .expect("move the rows");
    }

    let (status, export) = app.call(Method::GET, "/api/v1/me/export", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(export["user"]["id"], ada.user_id.to_string());
    for table in [
        "auth_tokens",
        "study_materials",
        "content_chunks",
        "generated_assets",
        "learning_sessions",
        "interactions",
        "user_feedback",
        "progress_metrics",
        "audit_logs",
        "material_sources",
        "jobs",
        "review_states",
        "learner_parameters",
        "password_resets",
    ] {
        let rows = export[table].as_array().unwrap_or_else(|| panic!("{table} is exported"));
        assert!(!rows.is_empty(), "{table}: ada's rows are there");
    }
    let text = export.to_string();
    assert!(!text.contains(&other.user_id.to_string()), "nothing of bob's");
    assert!(!text.contains(&other.material_id.to_string()), "nothing of bob's");
    assert!(!text.contains("password_hash") && !text.contains("token_hash"), "no secrets");
    assert!(!text.contains(&ada.token), "no token");
}

#[tokio::test]
async fn the_own_audit_trail_is_paged_and_private() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    for name in ["One", "Two", "Three"] {
        app.call(Method::PATCH, "/api/v1/me", Some(&ada.token), Some(json!({"first_name": name}))).await;
    }
    let (status, first) = app.call(Method::GET, "/api/v1/me/audit-logs?limit=2", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK);
    let items = first["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["new_values"], json!({"first_name": "Three"}), "newest first");
    let session = items[0]["session_id"].as_str().expect("the session is recorded");
    assert!(session.parse::<uuid::Uuid>().is_ok() && session != ada.token, "the token's id, never the token");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, second) =
        app.call(Method::GET, &format!("/api/v1/me/audit-logs?limit=2&cursor={cursor}"), Some(&ada.token), None).await;
    let actions: Vec<&str> =
        second["items"].as_array().expect("items").iter().map(|i| i["action"].as_str().expect("an action")).collect();
    assert_eq!(actions, ["user.update", "user.register"]);
    assert!(second["next_cursor"].is_null());
    let all = [first["items"].clone(), second["items"].clone()]
        .iter()
        .flat_map(|v| v.as_array().cloned().unwrap_or_default())
        .collect::<Vec<_>>();
    assert!(all.iter().all(|row| row["user_id"] == ada.user_id.to_string()), "only ada's rows");
    assert!(all.iter().all(|row| row["user_id"] != bob.user_id.to_string()));

    let (status, problem) = app.call(Method::GET, "/api/v1/me/audit-logs?limit=500", Some(&ada.token), None).await;
    assert_eq!((status, fields(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["limit"]));
}

/// A real server logging at debug level, sending mail through an SMTP server that asks
/// for a password: after registering, signing in, changing the password and resetting it
/// by mail, no log line, audit row or response holds a password (the SMTP server's too),
/// hash or token.
#[tokio::test]
async fn no_password_hash_or_token_reaches_the_logs_or_the_audit_trail() {
    use crate::embedded::Serve;
    use crate::harness::scratch_dir;

    let scratch = scratch_dir();
    let data_dir = scratch.path().join("data");
    let mut sink = crate::smtp::SmtpSink::start().await;
    let smtp_password = "smtp-secret-4711";
    let smtp_url = sink.url(Some(("studyhall", smtp_password)));
    let serve = Serve::start_with(
        &data_dir,
        &[
            ("STUDYHALL_BCRYPT_COST", "4"),
            ("STUDYHALL_LOG", "debug"),
            ("STUDYHALL_SMTP_URL", &smtp_url),
            ("STUDYHALL_MAIL_FROM", "noreply@example.org"),
        ],
    );
    let client = crate::harness::client();
    let url = |path: &str| format!("http://{}{path}", serve.address);
    let new_password = "orbit lamp violet glacier";

    let registered: Value = client
        .post(url(REGISTER))
        .json(&json!({"email": "ada@example.org", "username": "ada", "password": PASSWORD}))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("JSON");
    let first_token = registered["token"].as_str().expect("a token").to_owned();
    let signed_in: Value = client
        .post(url(LOGIN))
        .json(&json!({"login": "ada", "password": PASSWORD}))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("JSON");
    let second_token = signed_in["token"].as_str().expect("a token").to_owned();
    let wrong = client
        .post(url(LOGIN))
        .json(&json!({"login": "ada", "password": "a wrong guess here"}))
        .send()
        .await
        .expect("sign in wrongly");
    let wrong_body = wrong.text().await.expect("body");
    let changed = client
        .patch(url("/api/v1/me"))
        .bearer_auth(&second_token)
        .json(&json!({"current_password": PASSWORD, "new_password": new_password}))
        .send()
        .await
        .expect("change the password");
    assert_eq!(changed.status(), StatusCode::OK);
    let asked = client.post(url("/api/v1/auth/password-reset")).json(&json!({"email": "ada@example.org"})).send();
    assert_eq!(asked.await.expect("ask for a reset link").status(), StatusCode::ACCEPTED);
    let mail = sink.next().await;
    assert_eq!(mail.login, Some(("studyhall".to_owned(), smtp_password.to_owned())), "the SMTP login is used");
    let reset_token = mail.link().rsplit_once('=').expect("a token").1.to_owned();
    let page = client.get(url(&format!("/reset?token={reset_token}"))).send().await.expect("the link's page");
    assert_eq!(page.status(), StatusCode::OK, "the link opens its page");
    let reset_password = "quill meadow harbour lantern";
    let reset = client
        .post(url("/api/v1/auth/password-reset/confirm"))
        .json(&json!({"token": reset_token, "new_password": reset_password}))
        .send()
        .await
        .expect("reset the password");
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);

    let options = sqlx::postgres::PgConnectOptions::new()
        .host(&data_dir.join("run").to_string_lossy())
        .username("postgres")
        .database("learning_platform");
    let pool = sqlx::PgPool::connect_with(options).await.expect("connect");
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users").fetch_one(&pool).await.expect("the hash");
    assert!(hash.starts_with("$2b$04$"), "stored as bcrypt");
    let token_hashes: Vec<String> = sqlx::query_scalar(
        "SELECT encode(token_hash, 'hex') FROM auth_tokens UNION ALL SELECT encode(token_hash, 'hex') FROM password_resets",
    )
    .fetch_all(&pool)
    .await
    .expect("hashes");
    let audit: String = sqlx::query_scalar("SELECT string_agg(audit_logs::text, '\n') FROM audit_logs")
        .fetch_one(&pool)
        .await
        .expect("the audit trail");
    pool.close().await;

    serve.signal(nix::sys::signal::Signal::SIGTERM);
    let log = serve.wait_for_log().join("\n");
    assert!(log.contains("\"user_id\""), "the log names users by id (debug level was on): {log}");
    assert!(log.contains("password-reset mail sent"), "the mail went out: {log}");
    let mut secrets = vec![
        PASSWORD.to_owned(),
        new_password.to_owned(),
        first_token,
        second_token,
        hash,
        smtp_password.to_owned(),
        reset_token,
        reset_password.to_owned(),
    ];
    secrets.extend(token_hashes);
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret in the log");
        assert!(!audit.contains(secret.as_str()), "a secret in the audit trail");
        assert!(!wrong_body.contains(secret.as_str()), "a secret in an error");
    }
}
