//! Input PostgreSQL cannot store: a NUL character in any text field, query parameter or
//! form part is a 422 naming it, never a 500; values the database refuses anyway are a
//! client error. And a deleted account's anonymous login is an ordinary 401.

use reqwest::multipart::Form;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use studyhall::error::Error;

use crate::assets::generate;
use crate::harness::{PASSWORD, TestApp, TestDb};
use crate::materials::{ARTICLE, create, settled};

const NUL: &str = "a\u{0}b";

/// The fields a problem names.
fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .map_or(Vec::new(), |errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
}

#[tokio::test]
async fn a_nul_anywhere_in_a_request_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let register = json!({"email": "bob@example.org", "username": "bob", "password": PASSWORD, "last_name": NUL});
    let (status, problem) = app.call(Method::POST, "/api/v1/auth/register", None, Some(register)).await;
    assert_eq!((status, fields(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["last_name"]), "{problem}");

    let ada = app.register("ada").await;
    let material = create(&app, &ada, "The Cell", ARTICLE, json!({})).await;
    settled(&app, &ada, material).await;
    assert_eq!(generate(&app, &ada, material, json!({})).await["status"], "done");
    let (_, assets) =
        app.call(Method::GET, &format!("/api/v1/materials/{material}/assets"), Some(&ada.token), None).await;
    let card = assets["items"].as_array().and_then(|items| items.iter().find(|a| a["asset_type"] == "flashcard"));
    let card = card.expect("a flashcard")["id"].as_str().expect("an id").to_owned();
    let body = json!({"study_material_id": material, "session_type": "study"});
    let (_, session) = app.call(Method::POST, "/api/v1/sessions", Some(&ada.token), Some(body)).await;
    let session = session["id"].as_str().expect("a session").to_owned();

    let new_material = |extra: Value| {
        let mut body = json!({"title": "Notes", "source_type": "text", "text": "Some notes on cells."});
        body.as_object_mut().expect("an object").extend(extra.as_object().cloned().expect("an object"));
        body
    };
    let view = |data: Value| json!({"generated_asset_id": card, "interaction_type": "view", "interaction_data": data});
    let cases = [
        (Method::PATCH, "/api/v1/me".to_owned(), json!({"first_name": NUL}), "first_name"),
        (Method::PATCH, "/api/v1/me".to_owned(), json!({"preferences": {"theme": NUL}}), "preferences.theme"),
        (Method::PATCH, "/api/v1/me".to_owned(), json!({"preferences": {NUL: 1}}), "preferences"),
        (Method::POST, "/api/v1/materials".to_owned(), new_material(json!({"title": NUL})), "title"),
        (Method::POST, "/api/v1/materials".to_owned(), new_material(json!({"description": NUL})), "description"),
        (Method::POST, "/api/v1/materials".to_owned(), new_material(json!({"subject_area": NUL})), "subject_area"),
        (Method::POST, "/api/v1/materials".to_owned(), new_material(json!({"tags": ["ok", NUL]})), "tags[1]"),
        (Method::POST, "/api/v1/materials".to_owned(), new_material(json!({"text": NUL})), "text"),
        (Method::PATCH, format!("/api/v1/materials/{material}"), json!({"title": NUL}), "title"),
        (Method::PATCH, format!("/api/v1/materials/{material}"), json!({"description": NUL}), "description"),
        (Method::PATCH, format!("/api/v1/materials/{material}"), json!({"subject_area": NUL}), "subject_area"),
        (Method::PATCH, format!("/api/v1/materials/{material}"), json!({"tags": [NUL]}), "tags[0]"),
        (
            Method::POST,
            format!("/api/v1/sessions/{session}/interactions"),
            view(json!({"note": NUL})),
            "interaction_data.note",
        ),
        (Method::POST, format!("/api/v1/sessions/{session}/interactions"), view(json!({NUL: 1})), "interaction_data"),
        (
            Method::POST,
            format!("/api/v1/assets/{card}/feedback"),
            json!({"feedback_type": "comment", "comment": NUL}),
            "comment",
        ),
        (
            Method::PATCH,
            format!("/api/v1/assets/{card}"),
            json!({"content": {"front": NUL, "back": "The cell."}}),
            "content.front",
        ),
    ];
    for (method, path, body, field) in cases {
        let (status, problem) = app.call(method.clone(), &path, Some(&ada.token), Some(body.clone())).await;
        assert_eq!(
            (status, fields(&problem)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec![field]),
            "{method} {path} {body}"
        );
    }

    // Form parts of an upload. (A file name cannot hold a NUL: the part's headers are
    // refused, 400.)
    for (form, field) in [
        (Form::new().text("title", NUL).part("file", part("notes.md")), "title"),
        (Form::new().text("tags", NUL).part("file", part("notes.md")), "tags"),
    ] {
        let response = app
            .client
            .post(app.url("/api/v1/materials"))
            .bearer_auth(&ada.token)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let status = response.status();
        let problem: Value = response.json().await.expect("a problem");
        assert_eq!((status, fields(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec![field]), "{problem}");
    }

    let named_with_nul = Form::new().part("file", part("no\u{0}tes.md"));
    let response =
        app.client.post(app.url("/api/v1/materials")).bearer_auth(&ada.token).multipart(named_with_nul).send().await;
    assert_eq!(response.expect("upload").status(), StatusCode::BAD_REQUEST);

    for (query, field) in [
        ("/api/v1/materials?q=a%00b", "q"),
        ("/api/v1/materials?search=a%00b", "search"),
        ("/api/v1/materials?tag=%00", "tag"),
        ("/api/v1/materials?subject_area=x&status=%00", "status"),
        ("/api/v1/search?q=a%00b", "q"),
    ] {
        let (status, problem) = app.call(Method::GET, query, Some(&ada.token), None).await;
        assert_eq!((status, fields(&problem)), (StatusCode::UNPROCESSABLE_ENTITY, vec![field]), "{query}");
    }

    // Nothing was stored, and the same requests without the NUL go through.
    let (_, me) = app.call(Method::GET, "/api/v1/me", Some(&ada.token), None).await;
    assert!(me["first_name"].is_null() && me["preferences"].is_null(), "{me}");
    let (status, _) = app.call(Method::GET, "/api/v1/search?q=cell", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK);
    let written_out = new_material(json!({"title": "a\\u0000b"}));
    let (status, _) = app.call(Method::POST, "/api/v1/materials", Some(&ada.token), Some(written_out)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "the six characters \\u0000 are fine");
}

fn part(name: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(b"# Notes\n\nCells are small.".to_vec()).file_name(name.to_owned())
}

#[tokio::test]
async fn values_the_database_refuses_are_a_client_error_not_a_500() {
    let db = TestDb::migrated().await;
    let refusals = [
        sqlx::query("SELECT $1::text").bind(NUL).execute(&db.pool).await,
        sqlx::query("SELECT $1::jsonb").bind(json!({"a": NUL})).execute(&db.pool).await,
        sqlx::query("SELECT $1::text::integer").bind("twelve").execute(&db.pool).await,
        sqlx::query("SELECT $1::text::smallint").bind("99999").execute(&db.pool).await,
        sqlx::query("SELECT $1::text::date").bind("2026-02-30").execute(&db.pool).await,
    ];
    for refusal in refusals {
        let error = Error::from(refusal.expect_err("refused"));
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        let message = error.client_message().expect("a message for the client");
        assert!(!message.contains("SELECT") && !message.contains("22"), "no internals: {message}");
    }
}

#[tokio::test]
async fn a_deleted_accounts_anonymous_login_is_an_ordinary_401() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (status, _) = app.call(Method::DELETE, "/api/v1/me", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let id = ada.user_id;
    let simple = id.simple().to_string();
    for login in [format!("deleted-{simple}"), format!("deleted-{id}@deleted.invalid"), format!("deleted-{id}")] {
        for password in [PASSWORD, "!"] {
            let body = json!({"login": login, "password": password});
            let (status, problem) = app.call(Method::POST, "/api/v1/auth/login", None, Some(body)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{login}: {problem}");
            assert_eq!(problem["detail"], "The login or password is wrong.");
        }
    }
}
