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
