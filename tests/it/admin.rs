//! Operators' account commands (`studyhall user ...`) and the admin audit-log query.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestApp, studyhall_bin};

/// `studyhall user <args>` on `app`'s database, as its operator runs it (with the
/// address it serves at); `stdin` its input.
pub fn user_command(app: &TestApp, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(studyhall_bin())
        .arg("user")
        .args(args)
        .env("DATABASE_URL", app.db.url())
        .env("STUDYHALL_BIND", app.address.to_string())
        .env_remove("STUDYHALL_PUBLIC_URL")
        .env("STUDYHALL_BCRYPT_COST", "4")
        .env("STUDYHALL_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run studyhall user");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("wait")
}

#[tokio::test]
async fn operators_create_promote_and_deactivate_accounts() {
    let app = TestApp::spawn().await;
    let created = user_command(
        &app,
        &["create", "--email", "root@example.org", "--username", "root", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).starts_with("created user "));
    let login = json!({"login": "root", "password": PASSWORD});
    let (status, session) = app.call(Method::POST, "/api/v1/auth/login", None, Some(login.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["user"]["is_admin"], false);

    let generated = user_command(&app, &["create", "--email", "gen@example.org", "--username", "gen"], None);
    let stdout = String::from_utf8_lossy(&generated.stdout);
    let password = stdout.lines().find_map(|l| l.strip_prefix("password: ")).expect("a generated password");
    let (status, _) =
        app.call(Method::POST, "/api/v1/auth/login", None, Some(json!({"login": "gen", "password": password}))).await;
    assert_eq!(status, StatusCode::OK, "the printed password signs in");

    let refused = user_command(
        &app,
        &["create", "--email", "ROOT@example.org", "--username", "xx2", "--password-stdin"],
        Some(PASSWORD),
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("email is already registered"),
        "says which field is taken"
    );

    assert!(user_command(&app, &["promote", "ROOT"], None).status.success());
    let (status, session) = app.call(Method::POST, "/api/v1/auth/login", None, Some(login.clone())).await;
    assert_eq!((status, session["user"]["is_admin"].clone()), (StatusCode::OK, Value::Bool(true)));
    let token = session["token"].as_str().expect("a token").to_owned();

    let missing = user_command(&app, &["promote", "nobody"], None);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no account"));

    assert!(user_command(&app, &["deactivate", "root@example.org"], None).status.success());
    let (status, _) = app.call(Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a deactivated account's sessions end");
    let (status, _) = app.call(Method::POST, "/api/v1/auth/login", None, Some(login)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "and it cannot sign in");

    let actions: Vec<(String, Value)> = sqlx::query_as(
        "SELECT action, new_values FROM audit_logs WHERE action IN ('user.create', 'user.promote', 'user.deactivate')
          AND is_success ORDER BY created_at",
    )
    .fetch_all(&app.db.pool)
    .await
    .expect("read the audit trail");
    let names: Vec<&str> = actions.iter().map(|(action, _)| action.as_str()).collect();
    assert_eq!(names, ["user.create", "user.create", "user.promote", "user.deactivate"]);
    assert!(actions.iter().all(|(_, new)| new["via"] == "cli"));
}

#[tokio::test]
async fn admins_query_everyone_s_audit_rows_by_filter_and_the_query_is_audited() {
    let app = TestApp::spawn().await;
    let admin = app.register("admin").await;
    sqlx::query("UPDATE users SET is_admin = true WHERE id = $1")
        .bind(admin.user_id)
        .execute(&app.db.pool)
        .await
        .expect("promote");
    let ann = app.register("ann").await;
    app.call(Method::POST, "/api/v1/auth/login", None, Some(json!({"login": "ann", "password": "wrong wrong wrong"})))
        .await;

    let base = "/api/v1/admin/audit-logs";
    let (status, page) =
        app.call(Method::GET, &format!("{base}?action=auth.login&is_success=false"), Some(&admin.token), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["user_id"], ann.user_id.to_string());

    let (_, page) = app.call(Method::GET, &format!("{base}?user_id={}", ann.user_id), Some(&admin.token), None).await;
    let actions: Vec<&str> =
        page["items"].as_array().expect("items").iter().map(|i| i["action"].as_str().expect("action")).collect();
    assert_eq!(actions, ["auth.login", "user.register"], "ann's rows, newest first");

    let (_, page) = app.call(Method::GET, &format!("{base}?to=2000-01-01T00:00:00Z"), Some(&admin.token), None).await;
    assert_eq!(page["items"], json!([]), "nothing before 2000");

    let (status, _) = app.call(Method::GET, &format!("{base}?is_success=maybe"), Some(&admin.token), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let reads: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_logs WHERE action = 'admin.audit_logs.read' AND user_id = $1")
            .bind(admin.user_id)
            .fetch_one(&app.db.pool)
            .await
            .expect("count");
    assert_eq!(reads, 3, "each successful admin query is audited");
    let (status, _) = app.call(Method::GET, base, Some(&ann.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "hidden from non-admins");
}

const USERS: &str = "/api/v1/admin/users";

/// The successful audit rows of `action`: who acted, on what, and the values after.
async fn audited(app: &TestApp, action: &str) -> Vec<(Option<uuid::Uuid>, Option<uuid::Uuid>, Value)> {
    sqlx::query_as(
        "SELECT user_id, entity_id, new_values FROM audit_logs WHERE action = $1 AND is_success ORDER BY created_at",
    )
    .bind(action)
    .fetch_all(&app.db.pool)
    .await
    .expect("audit rows")
}

/// /admin as the web app shows it to the session `token`: its status and HTML.
async fn admin_page(app: &TestApp, token: &str) -> (StatusCode, String) {
    let response = app
        .client
        .get(app.url("/admin"))
        .header(reqwest::header::COOKIE, format!("studyhall_session={token}"))
        .send()
        .await
        .expect("the page");
    (response.status(), response.text().await.expect("HTML"))
}

async fn sign_in(app: &TestApp, login: &str, password: &str) -> (StatusCode, Value) {
    app.call(Method::POST, "/api/v1/auth/login", None, Some(json!({"login": login, "password": password}))).await
}

#[tokio::test]
async fn the_admin_api_is_for_administrators_only_and_every_action_is_audited() {
    let app = TestApp::spawn().await;
    let root = app.register("root").await; // the first account administers
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let (ann_id, bob_id) = (ann.user_id, bob.user_id);

    // Not there for anyone else: 404 to a learner, 401 to no one signed in.
    let endpoints = [
        (Method::GET, USERS.to_owned()),
        (Method::POST, format!("{USERS}/{bob_id}/deactivate")),
        (Method::POST, format!("{USERS}/{bob_id}/reactivate")),
        (Method::POST, format!("{USERS}/{bob_id}/promote")),
        (Method::POST, format!("{USERS}/{bob_id}/demote")),
        (Method::POST, format!("{USERS}/{bob_id}/password-reset")),
        (Method::GET, "/api/v1/admin/jobs".to_owned()),
        (Method::POST, format!("/api/v1/admin/jobs/{bob_id}/retry")),
        (Method::GET, "/api/v1/admin/status".to_owned()),
    ];
    for (method, path) in &endpoints {
        let (status, problem) = app.call(method.clone(), path, Some(&ann.token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path} as a learner: {problem}");
        let (status, _) = app.call(method.clone(), path, None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} signed out");
    }
    let (_, me) = app.call(Method::GET, "/api/v1/me", Some(&bob.token), None).await;
    assert_eq!(me["is_admin"], false, "nothing a learner asked changed anything");

    // Search by part of the email or username, whatever its case; paged newest first.
    let (status, page) = app.call(Method::GET, &format!("{USERS}?q=AnN"), Some(&root.token), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(
        (page["items"][0]["username"].as_str(), page["items"][0]["is_active"].as_bool()),
        (Some("ann"), Some(true))
    );
    let (_, first) = app.call(Method::GET, &format!("{USERS}?limit=2"), Some(&root.token), None).await;
    let names = |page: &Value| {
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|u| u["username"].as_str().expect("a name").to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&first), ["bob", "ann"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, rest) = app.call(Method::GET, &format!("{USERS}?limit=2&cursor={cursor}"), Some(&root.token), None).await;
    assert_eq!((names(&rest), rest["next_cursor"].clone()), (vec!["root".to_owned()], Value::Null));
    let (status, problem) = app.call(Method::GET, &format!("{USERS}?limit=0"), Some(&root.token), None).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("limit")));

    // Deactivated: bob's sessions end and he cannot sign in; reactivated, he can.
    let (status, bob_row) =
        app.call(Method::POST, &format!("{USERS}/{bob_id}/deactivate"), Some(&root.token), None).await;
    assert_eq!((status, bob_row["is_active"].clone()), (StatusCode::OK, json!(false)), "{bob_row}");
    let (status, _) = app.call(Method::GET, "/api/v1/me", Some(&bob.token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "his sessions ended");
    assert_eq!(sign_in(&app, "bob", PASSWORD).await.0, StatusCode::UNAUTHORIZED, "he cannot sign in");
    let (status, problem) =
        app.call(Method::POST, &format!("{USERS}/{bob_id}/password-reset"), Some(&root.token), None).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::CONFLICT, Some("id")), "{problem}");
    let (status, _) = app.call(Method::POST, &format!("{USERS}/{bob_id}/reactivate"), Some(&root.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sign_in(&app, "bob", PASSWORD).await.0, StatusCode::OK, "reactivated, he signs in");

    // Promoted: ann administers; demoted, she does not.
    let (status, ann_row) = app.call(Method::POST, &format!("{USERS}/{ann_id}/promote"), Some(&root.token), None).await;
    assert_eq!((status, ann_row["is_admin"].clone()), (StatusCode::OK, json!(true)));
    assert_eq!(app.call(Method::GET, USERS, Some(&ann.token), None).await.0, StatusCode::OK);
    let (status, html) = admin_page(&app, &ann.token).await;
    assert_eq!(status, StatusCode::OK, "she sees the admin page");
    assert!(html.contains("<h1>Administration</h1>") && html.contains(r#"<a href="/admin">Admin</a>"#), "{html}");
    let (status, _) = app.call(Method::POST, &format!("{USERS}/{ann_id}/demote"), Some(&root.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.call(Method::GET, USERS, Some(&ann.token), None).await.0, StatusCode::NOT_FOUND);
    let (status, html) = admin_page(&app, &ann.token).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nor the page");
    assert!(html.contains("Page not found") && !html.contains(r#"href="/admin""#), "{html}");

    // Never yourself, never the last administrator.
    let root_id = root.user_id;
    for action in ["demote", "deactivate"] {
        let (status, problem) =
            app.call(Method::POST, &format!("{USERS}/{root_id}/{action}"), Some(&root.token), None).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::CONFLICT, Some("id")), "{action}");
        assert!(problem["errors"][0]["message"].as_str().expect("why").contains("your own account"), "{problem}");
    }
    app.call(Method::POST, &format!("{USERS}/{ann_id}/promote"), Some(&root.token), None).await;
    let (status, _) = app.call(Method::POST, &format!("{USERS}/{root_id}/demote"), Some(&ann.token), None).await;
    assert_eq!(status, StatusCode::OK, "another administrator may");
    let (status, problem) = app.call(Method::POST, &format!("{USERS}/{ann_id}/demote"), Some(&ann.token), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (status, _) =
        app.call(Method::POST, &format!("{USERS}/{}/promote", uuid::Uuid::nil()), Some(&ann.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no such account");

    // A reset link: it sets bob's password once, and his sign-ins end.
    let (_, bob_session) = sign_in(&app, "bob", PASSWORD).await;
    let bob_token = bob_session["token"].as_str().expect("a token").to_owned();
    let (status, reset) =
        app.call(Method::POST, &format!("{USERS}/{bob_id}/password-reset"), Some(&ann.token), None).await;
    assert_eq!(status, StatusCode::OK, "{reset}");
    let link = reset["link"].as_str().expect("a link").to_owned();
    assert!(link.starts_with(&app.url("/reset?token=")), "{link}");
    let secret = link.rsplit_once('=').expect("a token").1.to_owned();
    let confirm = json!({"token": secret, "new_password": "harbour quill meadow lantern"});
    let (status, _) = app.call(Method::POST, "/api/v1/auth/password-reset/confirm", None, Some(confirm.clone())).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.call(Method::GET, "/api/v1/me", Some(&bob_token), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "bob", "harbour quill meadow lantern").await.0, StatusCode::OK);
    let (status, _) = app.call(Method::POST, "/api/v1/auth/password-reset/confirm", None, Some(confirm)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "once");

    // Each action audited: who, on whom, the value after; no secret anywhere.
    let root_id = Some(root.user_id);
    let ann_id = Some(ann.user_id);
    let expect = [
        ("user.deactivate", root_id, Some(bob_id), json!({"is_active": false, "via": "admin"})),
        ("user.reactivate", root_id, Some(bob_id), json!({"is_active": true, "via": "admin"})),
        ("user.demote", ann_id, Some(root.user_id), json!({"is_admin": false, "via": "admin"})),
    ];
    for (action, actor, target, new) in expect {
        let rows = audited(&app, action).await;
        let last = rows.last().expect("a row").clone();
        assert_eq!((last.0, last.1, last.2), (actor, target, new), "{action}");
    }
    assert_eq!(audited(&app, "user.demote").await.len(), 2, "ann, then root");
    assert_eq!(audited(&app, "user.promote").await.len(), 2);
    let requested = audited(&app, "password_reset.request").await;
    assert_eq!((requested[0].0, requested[0].2["user_id"].as_str()), (ann_id, Some(bob_id.to_string().as_str())));
    let refused: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs WHERE action = 'user.demote' AND NOT is_success AND user_id = $1",
    )
    .bind(root.user_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("count");
    assert_eq!(refused, 1, "refusals are audited too");
    let trail: String = sqlx::query_scalar("SELECT string_agg(audit_logs::text, '\n') FROM audit_logs")
        .fetch_one(&app.db.pool)
        .await
        .expect("the trail");
    assert!(!trail.contains(&secret) && !trail.contains("harbour quill"), "no link or password in the audit trail");
}

#[tokio::test]
async fn an_administrator_sees_failed_jobs_with_their_reason_and_a_retried_one_runs() {
    let app = TestApp::spawn().await;
    let root = app.register("root").await;
    let ann = app.register("ann").await;
    let material = crate::materials::create(&app, &ann, "Cells", crate::materials::ARTICLE, json!({})).await;
    assert_eq!(crate::materials::settled(&app, &ann, material).await["status"], "ready");
    // The job failed (as after its last attempt), and its material with it.
    let job: uuid::Uuid = sqlx::query_scalar(
        "UPDATE jobs SET status = 'failed', attempts = max_attempts, reason = 'The file could not be read.',
                         last_error = 'parse error at byte 7', finished_at = now()
          WHERE user_id = $1 RETURNING id",
    )
    .bind(ann.user_id)
    .fetch_one(&app.db.pool)
    .await
    .expect("fail the job");
    sqlx::query("UPDATE study_materials SET status = 'failed' WHERE id = $1")
        .bind(material)
        .execute(&app.db.pool)
        .await
        .expect("fail the material");

    let (status, page) = app.call(Method::GET, "/api/v1/admin/jobs?status=failed", Some(&root.token), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["id"].as_str(), items[0]["reason"].as_str()),
        (Some(job.to_string().as_str()), Some("The file could not be read."))
    );
    assert_eq!(items[0]["error"], "parse error at byte 7");
    let (_, queued) = app.call(Method::GET, "/api/v1/admin/jobs?status=queued", Some(&root.token), None).await;
    assert_eq!(queued["items"], json!([]));
    let (status, problem) = app.call(Method::GET, "/api/v1/admin/jobs?status=stuck", Some(&root.token), None).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("status")));

    let (status, retried) =
        app.call(Method::POST, &format!("/api/v1/admin/jobs/{job}/retry"), Some(&root.token), None).await;
    assert_eq!((status, retried["status"].as_str()), (StatusCode::OK, Some("queued")), "{retried}");
    let ran = app.job_ended(&ann, &job.to_string()).await;
    assert_eq!(ran["status"], "done", "the retried job ran: {ran}");
    assert_eq!(crate::materials::settled(&app, &ann, material).await["status"], "ready", "its material is ready again");

    let (status, problem) =
        app.call(Method::POST, &format!("/api/v1/admin/jobs/{job}/retry"), Some(&root.token), None).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::CONFLICT, Some("status")), "{problem}");
    assert!(problem["errors"][0]["message"].as_str().expect("why").starts_with("is done"), "{problem}");
    let rows = audited(&app, "job.retry").await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].0, rows[0].1), (Some(root.user_id), Some(job)));
}
