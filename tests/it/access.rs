//! Who may sign up (STUDYHALL_SIGNUP open, invite or closed; in every mode the first
//! account, which becomes the administrator), invitations (from the command line and the
//! admin API: once, until they expire, unless revoked), and password resets (an
//! operator's link or password, and "Forgot password?" by mail through a test SMTP
//! server): over real HTTP, through the API and the pages, with their audit rows.

use reqwest::header::{COOKIE, LOCATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use studyhall::config::Signup;

use crate::accessibility::{axe_source, violations};
use crate::admin::user_command;
use crate::browser::{Screen, Session, available, run, target};
use crate::harness::{PASSWORD, TestApp, TestDb, http_config, settings};
use crate::smtp::SmtpSink;
use crate::web::{browser, set_cookie};

const REGISTER: &str = "/api/v1/auth/register";
const LOGIN: &str = "/api/v1/auth/login";
const RESET: &str = "/api/v1/auth/password-reset";
const CONFIRM: &str = "/api/v1/auth/password-reset/confirm";
const INVITATIONS: &str = "/api/v1/admin/invitations";
const NEW_PASSWORD: &str = "harbour quill meadow lantern";

/// A server with sign-up `signup` (None: the default) and mail through `smtp_url`.
pub async fn app_with(signup: Option<Signup>, smtp_url: Option<String>) -> TestApp {
    let mut settings = settings();
    settings.auth.signup = signup;
    if smtp_url.is_some() {
        settings.mail.smtp_url = smtp_url;
        settings.mail.mail_from = Some("studyhall <noreply@example.org>".to_owned());
    }
    TestApp::spawn_configured(TestDb::migrated().await, http_config(), settings).await
}

/// Registers `name` over the API, with an invitation's token if given.
async fn register(app: &TestApp, name: &str, invitation: Option<&str>) -> (StatusCode, Value) {
    let body = json!({"email": format!("{name}@example.org"), "username": name, "password": PASSWORD, "invitation": invitation});
    app.call(Method::POST, REGISTER, None, Some(body)).await
}

async fn sign_in(app: &TestApp, login: &str, password: &str) -> (StatusCode, Value) {
    app.call(Method::POST, LOGIN, None, Some(json!({"login": login, "password": password}))).await
}

/// A page's status and text, redirects not followed, with the session `cookie` if given.
async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut request = browser().get(app.url(path));
    if let Some(token) = cookie {
        request = request.header(COOKIE, format!("studyhall_session={token}"));
    }
    let response = request.send().await.expect("a page");
    (response.status(), response.text().await.expect("html"))
}

/// Posts `fields` to `action` as a browser would from the form on `form_page`: with the
/// form token that page set, in its cookie and in the form.
async fn post_form(app: &TestApp, form_page: &str, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let web = browser();
    let shown = web.get(app.url(form_page)).send().await.expect("the form");
    let (token, _) = set_cookie(&shown, "studyhall_csrf").expect("a form token");
    let mut form = fields.to_vec();
    form.push(("csrf", &token));
    let cookie = format!("studyhall_csrf={token}");
    web.post(app.url(action)).header(COOKIE, cookie).form(&form).send().await.expect("a response")
}

/// Signs in through the sign-in form: the session cookie's token.
async fn web_sign_in(app: &TestApp, login: &str) -> String {
    let signed_in = post_form(app, "/signin", "/signin", &[("login", login), ("password", PASSWORD)]).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    set_cookie(&signed_in, "studyhall_session").expect("a session cookie").0
}

/// The secret of a link (`...?invite=` or `...?token=`).
fn secret(link: &str) -> String {
    link.rsplit_once('=').expect("a link with its token").1.to_owned()
}

/// Every audit row, as text, to search for secrets.
async fn audit_text(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT string_agg(audit_logs::text, '\n') FROM audit_logs")
        .fetch_one(&app.db.pool)
        .await
        .expect("the audit trail")
}

/// The successful audit rows of `action` and their new values, oldest first.
async fn rows(app: &TestApp, action: &str) -> Vec<Value> {
    sqlx::query_scalar("SELECT new_values FROM audit_logs WHERE action = $1 AND is_success ORDER BY created_at")
        .bind(action)
        .fetch_all(&app.db.pool)
        .await
        .expect("audit rows")
}

/// Moves a link's expiry into the past (time travel: the link was made over an hour ago).
async fn expire(app: &TestApp, table: &str, secret: &str) {
    let statement = format!(
        "UPDATE {table} SET expires_at = now() - interval '1 minute' WHERE token_hash = sha256(convert_to($1, 'UTF8'))"
    );
    let moved = sqlx::query(sqlx::AssertSqlSafe(statement)).bind(secret).execute(&app.db.pool).await.expect("expire");
    assert_eq!(moved.rows_affected(), 1, "the link's row");
}

fn stdout(output: &std::process::Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn each_sign_up_policy_holds_over_the_api_and_the_pages_and_the_first_account_administers() {
    for signup in [Signup::Open, Signup::Invite, Signup::Closed] {
        let app = app_with(Some(signup), None).await;
        // An empty server: whatever the policy, the first account may sign up.
        let (_, signin) = page(&app, "/signin", None).await;
        assert!(signin.contains("href=\"/signup\"") && signin.contains("Create the first one"), "{signup:?}: {signin}");
        let (status, form) = page(&app, "/signup", None).await;
        assert_eq!(status, StatusCode::OK, "{signup:?}");
        assert!(form.contains("yours will be the first, and its administrator"), "{signup:?}: {form}");
        let (status, first) = register(&app, "root", None).await;
        assert_eq!(status, StatusCode::CREATED, "{signup:?}: {first}");
        assert_eq!(first["user"]["is_admin"], true, "{signup:?}: the first account administers");
        let (_, me) = app.call(Method::GET, "/api/v1/me", first["token"].as_str(), None).await;
        assert_eq!(me["is_admin"], true, "{signup:?}: and is stored so");

        let (status, second) = register(&app, "bea", None).await;
        let (offered, refused_with) = match signup {
            Signup::Open => {
                assert_eq!((status, second["user"]["is_admin"].clone()), (StatusCode::CREATED, json!(false)));
                (true, None)
            }
            Signup::Invite => (false, Some(("Sign-up is by invitation", "open the invitation link you were sent"))),
            Signup::Closed => (false, Some(("Sign-up is closed", "ask its administrator for an account"))),
        };
        let (_, signin) = page(&app, "/signin", None).await;
        assert_eq!(signin.contains("href=\"/signup\""), offered, "{signup:?}: the sign-in page's link: {signin}");
        assert!(signin.contains("href=\"/forgot\">Forgot password?"), "{signup:?}");
        let posted = post_form(
            &app,
            "/signin",
            "/signup",
            &[("email", "cyd@example.org"), ("username", "cyd"), ("password", PASSWORD)],
        )
        .await;
        let (status_of_page, html) = page(&app, "/signup", None).await;
        match refused_with {
            None => {
                assert_eq!(posted.status(), StatusCode::SEE_OTHER, "the form signs up");
                assert_eq!(status_of_page, StatusCode::OK);
            }
            Some((heading, advice)) => {
                assert_eq!(status, StatusCode::FORBIDDEN, "{signup:?}: {second}");
                let detail = second["detail"].as_str().expect("a detail");
                assert!(detail.contains(advice), "{signup:?}: {detail}");
                assert_eq!(status_of_page, StatusCode::FORBIDDEN);
                assert!(html.contains(heading) && html.contains(advice), "{signup:?}: {html}");
                assert!(!html.contains("<form"), "{signup:?}: no form to fill in");
                assert_eq!(posted.status(), StatusCode::FORBIDDEN, "{signup:?}: the form's post is refused too");
                assert!(posted.text().await.expect("html").contains(advice));
                let refusals: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM audit_logs WHERE action = 'user.register' AND NOT is_success
                       AND error_message = $1",
                )
                .bind(detail)
                .fetch_one(&app.db.pool)
                .await
                .expect("audit");
                assert_eq!(refusals, 2, "{signup:?}: each refusal audited");
            }
        }
        let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.db.pool).await.expect("n");
        assert_eq!(accounts, if offered { 3 } else { 1 }, "{signup:?}");
    }
}

#[tokio::test]
async fn first_sign_ups_at_once_make_one_administrator() {
    let app = app_with(Some(Signup::Closed), None).await;
    let app = &app;
    let attempts =
        futures_util::future::join_all((0..6).map(|n| async move { register(app, &format!("racer{n}"), None).await }))
            .await;
    let created: Vec<&Value> = attempts.iter().filter(|(s, _)| *s == StatusCode::CREATED).map(|(_, b)| b).collect();
    assert_eq!(created.len(), 1, "one first account: {attempts:?}");
    assert_eq!(created[0]["user"]["is_admin"], true);
    assert!(attempts.iter().all(|(s, _)| matches!(*s, StatusCode::CREATED | StatusCode::FORBIDDEN)), "{attempts:?}");
    let (accounts, admins): (i64, i64) = sqlx::query_as("SELECT count(*), count(*) FILTER (WHERE is_admin) FROM users")
        .fetch_one(&app.db.pool)
        .await
        .expect("count");
    assert_eq!((accounts, admins), (1, 1));
}

#[tokio::test]
async fn invitation_links_work_once_expire_and_can_be_revoked() {
    let app = app_with(Some(Signup::Invite), None).await;
    let (_, root) = register(&app, "root", None).await;
    let admin = root["token"].as_str().expect("the administrator's token").to_owned();

    // An operator's invitation for one address, a link to where serve listens.
    let printed = stdout(&user_command(&app, &["invite", "--email", "ivy@example.org"], None));
    let mut lines = printed.lines();
    let link = lines.next().expect("the link").to_owned();
    assert!(link.starts_with(&app.url("/signup?invite=sh_")), "{link}");
    assert!(lines.next().is_some_and(|l| l.starts_with("one sign-up, for ivy@example.org only, until ")), "{printed}");
    let ivy = secret(&link);
    let week: f64 = sqlx::query_scalar("SELECT extract(epoch FROM expires_at - created_at)::float8 FROM invitations")
        .fetch_one(&app.db.pool)
        .await
        .expect("the lifetime");
    assert!((week - 7.0 * 86_400.0).abs() < 60.0, "a week by default: {week} s");

    let invited = format!("/signup?invite={ivy}");
    let (status, form) = page(&app, &invited, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("value=\"ivy@example.org\"") && form.contains("readonly"), "the address, locked: {form}");
    assert!(form.contains(&format!("name=\"invite\" value=\"{ivy}\"")));
    let other = json!({"email": "mallory@example.org", "username": "mallory", "password": PASSWORD, "invitation": ivy});
    let (status, problem) = app.call(Method::POST, REGISTER, None, Some(other)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "email");
    assert_eq!(problem["errors"][0]["message"], "must be the invited address, ivy@example.org");

    let fields = [("email", "ivy@example.org"), ("username", "ivy"), ("password", PASSWORD), ("invite", ivy.as_str())];
    let signed_up = post_form(&app, &invited, "/signup", &fields).await;
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER, "the invitee signs up through the form");
    assert_eq!(signed_up.headers()[LOCATION], "/");
    let (status, problem) = register(&app, "ivy2", Some(&ivy)).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invitation"))
    );
    assert!(problem["errors"][0]["message"].as_str().expect("why").starts_with("was used already"), "{problem}");
    let (status, html) = page(&app, &invited, None).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("This invitation was used already"), "{html}");

    // A link past its time.
    let printed = stdout(&user_command(&app, &["invite", "--expires-in", "2h"], None));
    assert!(printed.contains("one sign-up, for anyone, until "), "{printed}");
    let late = secret(printed.lines().next().expect("the link"));
    expire(&app, "invitations", &late).await;
    let (status, html) = page(&app, &format!("/signup?invite={late}"), None).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("This invitation has expired: ask the administrator for a new one."), "{html}");
    let (status, problem) = register(&app, "late", Some(&late)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"][0]["message"].as_str().expect("why").starts_with("has expired"), "{problem}");

    // An administrator's invitation, withdrawn.
    let (status, created) =
        app.call(Method::POST, INVITATIONS, Some(&admin), Some(json!({"expires_in_hours": 24}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (created["invitation"]["status"].as_str(), &created["invitation"]["email"]),
        (Some("pending"), &Value::Null)
    );
    let withdrawn = secret(created["link"].as_str().expect("a link"));
    let id = created["invitation"]["id"].as_str().expect("an id").to_owned();
    let (status, _) = app.call(Method::DELETE, &format!("{INVITATIONS}/{id}"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, problem) = register(&app, "wendy", Some(&withdrawn)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"][0]["message"].as_str().expect("why").starts_with("was withdrawn"), "{problem}");
    let (_, html) = page(&app, &format!("/signup?invite={withdrawn}"), None).await;
    assert!(html.contains("This invitation was withdrawn by the administrator"), "{html}");
    let (status, _) = page(&app, "/signup?invite=sh_made-up", None).await;
    assert_eq!(status, StatusCode::GONE, "a made-up link");

    let (_, list) = app.call(Method::GET, INVITATIONS, Some(&admin), None).await;
    let statuses: Vec<&str> =
        list["items"].as_array().expect("items").iter().filter_map(|i| i["status"].as_str()).collect();
    assert_eq!(statuses, ["revoked", "expired", "used"], "newest first, each where it stands");
    let used = list["items"][2]["id"].as_str().expect("an id");
    let (status, _) = app.call(Method::DELETE, &format!("{INVITATIONS}/{used}"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "a used invitation stays used");
    for (body, field) in [(json!({"expires_in_hours": 0}), "expires_in_hours"), (json!({"email": "nope"}), "email")] {
        let (status, problem) = app.call(Method::POST, INVITATIONS, Some(&admin), Some(body)).await;
        assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)));
    }

    // Not for anyone else: the invitee is no administrator.
    let (_, ivy_session) = sign_in(&app, "ivy", PASSWORD).await;
    let ivy_token = ivy_session["token"].as_str();
    for (method, path) in [
        (Method::GET, INVITATIONS.to_owned()),
        (Method::POST, INVITATIONS.to_owned()),
        (Method::DELETE, format!("{INVITATIONS}/{id}")),
    ] {
        let (status, _) = app.call(method.clone(), &path, ivy_token, Some(json!({}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path} as a learner");
    }

    let made = rows(&app, "invitation.create").await;
    assert_eq!(made.len(), 3);
    assert_eq!((made[0]["via"].as_str(), made[0]["email"].as_str()), (Some("cli"), Some("ivy@example.org")));
    assert_eq!(rows(&app, "invitation.use").await.len(), 1, "its use");
    assert_eq!(rows(&app, "invitation.revoke").await.len(), 1, "its withdrawal");
    let registered = rows(&app, "user.register").await;
    assert_eq!(registered.last().expect("ivy's")["invitation_id"], list["items"][2]["id"]);
    let audit = audit_text(&app).await;
    for secret in [&ivy, &late, &withdrawn] {
        assert!(!audit.contains(secret.as_str()), "no invitation's token in the audit trail");
    }
}

#[tokio::test]
async fn an_operator_resets_a_password_by_link_or_from_stdin_and_every_sign_in_ends() {
    let app = app_with(None, None).await;
    let ada = app.register("ada").await;
    let cookie = web_sign_in(&app, "ada").await;

    // A server that sends no mail says to ask the administrator.
    let (status, html) = page(&app, "/forgot", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("ask its administrator to reset your password") && !html.contains("<form"), "{html}");
    let (status, problem) = app.call(Method::POST, RESET, None, Some(json!({"email": "ada@example.org"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(problem["detail"].as_str().expect("a detail").contains("ask its administrator"), "{problem}");

    // The operator's link, for an hour.
    let printed = stdout(&user_command(&app, &["reset-password", "ADA@example.org"], None));
    let link = printed.lines().next().expect("the link").to_owned();
    assert!(link.starts_with(&app.url("/reset?token=sh_")), "{link}");
    assert!(printed.contains("for ada, once, until "), "{printed}");
    let token = secret(&link);
    let path = format!("/reset?token={token}");
    let (status, html) = page(&app, &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Choose a new password"), "{html}");
    let weak = post_form(&app, &path, "/reset", &[("token", &token), ("password", "password1234")]).await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.text().await.expect("html").contains("Password is too common"), "the rule, in words");
    let done = post_form(&app, &path, "/reset", &[("token", &token), ("password", NEW_PASSWORD)]).await;
    assert_eq!(
        (done.status(), done.headers()[LOCATION].to_str().ok()),
        (StatusCode::SEE_OTHER, Some("/signin?done=reset"))
    );
    assert_eq!(set_cookie(&done, "studyhall_session").expect("the cookie ended").0, "");

    // Every sign-in of ada's ended: the API's token and the web app's cookie.
    let (status, _) = app.call(Method::GET, "/api/v1/me", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old token");
    let (status, _) = page(&app, "/", Some(&cookie)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the old cookie is signed out");
    let (_, html) = page(&app, "/signin?done=reset", None).await;
    assert!(html.contains("Your new password is set, and every sign-in of yours has ended"), "{html}");
    assert_eq!(sign_in(&app, "ada", PASSWORD).await.0, StatusCode::UNAUTHORIZED);
    let (status, session) = sign_in(&app, "ada", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (status, html) = page(&app, &path, None).await;
    assert_eq!(status, StatusCode::GONE, "the link works once");
    assert!(html.contains("This password-reset link was used already"), "{html}");

    // From standard input: the same rules, and the sign-ins end.
    let weak = user_command(&app, &["reset-password", "ada", "--password-stdin"], Some("password1234\n"));
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password is too common"), "says why");
    let set =
        stdout(&user_command(&app, &["reset-password", "ada", "--password-stdin"], Some(&format!("{PASSWORD}\n"))));
    assert!(set.contains("has a new password; every sign-in of theirs has ended"), "{set}");
    let (status, _) = app.call(Method::GET, "/api/v1/me", session["token"].as_str(), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(sign_in(&app, "ada", PASSWORD).await.0, StatusCode::OK);
    let missing = user_command(&app, &["reset-password", "nobody"], None);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no account has the email or username \"nobody\""));
    let elsewhere =
        stdout(&user_command(&app, &["reset-password", "ada", "--public-url", "https://learn.example.org/"], None));
    assert!(elsewhere.starts_with("https://learn.example.org/reset?token=sh_"), "STUDYHALL_PUBLIC_URL: {elsewhere}");

    let requested = rows(&app, "password_reset.request").await;
    assert_eq!(requested.len(), 2);
    assert!(requested.iter().all(|r| r["via"] == "cli"));
    let reset = rows(&app, "user.password_reset").await;
    let via: Vec<&str> = reset.iter().filter_map(|r| r["via"].as_str()).collect();
    assert_eq!(via, ["link", "cli"]);
    let audit = audit_text(&app).await;
    for secret in [token.as_str(), NEW_PASSWORD, &secret(elsewhere.lines().next().expect("a link"))] {
        assert!(!audit.contains(secret), "no token or password in the audit trail");
    }
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_mail_once_within_the_hour() {
    let mut sink = SmtpSink::start().await;
    let app = app_with(None, Some(sink.url(None))).await;
    let ada = app.register("ada").await;
    let cookie = web_sign_in(&app, "ada").await;
    let ask = |email: &str| app.call(Method::POST, RESET, None, Some(json!({"email": email})));

    // The same answer for an address no account has: only ada's gets a mail.
    let (status, unknown) = ask("nobody@example.org").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, known) = ask("Ada@Example.org").await;
    assert_eq!((status, &known), (StatusCode::ACCEPTED, &unknown), "no telling which addresses have accounts");
    let mail = sink.next().await;
    assert_eq!(mail.to, ["ada@example.org"]);
    assert!(mail.text.contains("Subject: Choose a new studyhall password"), "{}", mail.text);
    assert!(mail.text.contains("From: studyhall <noreply@example.org>"), "{}", mail.text);
    let link = mail.link();
    assert!(link.starts_with(&app.url("/reset?token=sh_")), "{link}");
    let (_, form) = page(&app, "/forgot", None).await;
    assert!(form.contains("action=\"/forgot\""), "the form");
    let answered = post_form(&app, "/forgot", "/forgot", &[("email", "nobody@example.org")]).await;
    assert_eq!(answered.status(), StatusCode::OK);
    assert!(answered.text().await.expect("html").contains("a link to choose a new password is on its way"));
    assert_eq!(sink.waiting(), 0, "no mail for addresses without an account");

    // The new password, through the API: the rules, then once.
    let token = secret(&link);
    let confirm = |password: &str| json!({"token": token, "new_password": password});
    let (status, problem) = app.call(Method::POST, CONFIRM, None, Some(confirm("short"))).await;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("new_password"))
    );
    let (status, _) = app.call(Method::POST, CONFIRM, None, Some(confirm(NEW_PASSWORD))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.call(Method::GET, "/api/v1/me", Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old token");
    let (status, _) = page(&app, "/", Some(&cookie)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the old cookie is signed out");
    let (status, problem) = app.call(Method::POST, CONFIRM, None, Some(confirm("another long new phrase"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"][0]["message"].as_str().expect("why").starts_with("was used already"), "{problem}");
    assert_eq!(sign_in(&app, "ada", NEW_PASSWORD).await.0, StatusCode::OK);

    // A link past its hour.
    assert_eq!(ask("ada@example.org").await.0, StatusCode::ACCEPTED);
    let late = secret(&sink.next().await.link());
    expire(&app, "password_resets", &late).await;
    let (status, html) = page(&app, &format!("/reset?token={late}"), None).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("This password-reset link has expired: links work for an hour"), "{html}");
    let (status, problem) =
        app.call(Method::POST, CONFIRM, None, Some(json!({"token": late, "new_password": PASSWORD}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(problem["errors"][0]["message"].as_str().expect("why").starts_with("has expired"), "{problem}");

    let requests: Vec<(Option<uuid::Uuid>, Value)> = sqlx::query_as(
        "SELECT user_id, new_values FROM audit_logs WHERE action = 'password_reset.request' ORDER BY created_at",
    )
    .fetch_all(&app.db.pool)
    .await
    .expect("audit");
    let sent: Vec<(bool, bool)> = requests.iter().map(|(user, new)| (user.is_some(), new["sent"] == true)).collect();
    assert_eq!(sent, [(false, false), (true, true), (false, false), (true, true)], "each request, ada's by her id");
    assert_eq!(rows(&app, "user.password_reset").await.len(), 1);
    let audit = audit_text(&app).await;
    for secret in [token.as_str(), &late, NEW_PASSWORD] {
        assert!(!audit.contains(secret), "no token or password in the audit trail");
    }
}

#[tokio::test]
async fn asking_for_reset_mail_is_throttled_per_address_and_per_client() {
    let sink = SmtpSink::start().await;
    let app = app_with(None, Some(sink.url(None))).await;
    let ask = async |email: &str| {
        let response = app.client.post(app.url(RESET)).json(&json!({"email": email})).send().await.expect("asked");
        (response.status(), response.headers().get(RETRY_AFTER).is_some())
    };
    for _ in 0..3 {
        assert_eq!(ask("eve@example.org").await.0, StatusCode::ACCEPTED);
    }
    assert_eq!(ask("eve@example.org").await, (StatusCode::TOO_MANY_REQUESTS, true), "three a quarter-hour per address");
    // Other addresses get answers until this client has asked ten times.
    for n in 0..6 {
        assert_eq!(ask(&format!("guess{n}@example.org")).await.0, StatusCode::ACCEPTED, "request {}", n + 5);
    }
    assert_eq!(ask("guess6@example.org").await, (StatusCode::TOO_MANY_REQUESTS, true), "ten per client");
    let refused = post_form(&app, "/forgot", "/forgot", &[("email", "guess7@example.org")]).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.text().await.expect("html").contains("Too many attempts; try again in"), "the page says so");
}

/// The pages of sign-up and resets, each on a server in the state it needs: a name, the
/// address, and words the page shows once it is there.
struct Tour {
    pages: Vec<(&'static str, String, &'static str)>,
    _servers: (Vec<TestApp>, SmtpSink),
}

async fn tour() -> Tour {
    let empty = app_with(Some(Signup::Closed), None).await;
    let open = app_with(Some(Signup::Open), None).await;
    let invite = app_with(Some(Signup::Invite), None).await;
    let closed = app_with(Some(Signup::Closed), None).await;
    let sink = SmtpSink::start().await;
    let mail = app_with(None, Some(sink.url(None))).await;
    for app in [&open, &invite, &closed, &mail] {
        app.register("root").await;
    }
    let invited = stdout(&user_command(&invite, &["invite", "--email", "ivy@example.org"], None));
    let link = |app: &TestApp| stdout(&user_command(app, &["reset-password", "root"], None));
    let (reset, expired) = (link(&mail), link(&mail));
    let first_line = |printed: &str| printed.lines().next().expect("a link").to_owned();
    expire(&mail, "password_resets", &secret(&first_line(&expired))).await;
    let pages = vec![
        ("signin", open.url("/signin"), "Forgot password?"),
        ("signup-first-account", empty.url("/signup"), "yours will be the first"),
        ("signup-open", open.url("/signup"), "Create account"),
        ("signup-invited", first_line(&invited), "Your invitation is for this address"),
        ("signup-invite-only", invite.url("/signup"), "Sign-up is by invitation"),
        ("signup-closed", closed.url("/signup"), "Sign-up is closed"),
        ("forgot-no-mail", open.url("/forgot"), "ask its administrator"),
        ("reset", first_line(&reset), "Choose a new password"),
        ("reset-expired", first_line(&expired), "has expired"),
        ("forgot", mail.url("/forgot"), "Send me a link"),
    ];
    Tour { pages, _servers: (vec![empty, open, invite, closed, mail], sink) }
}

/// Each page of the tour: it fits the screen (no horizontal scrolling, 44 px targets;
/// on a phone at 390 and 360 px), axe-core finds nothing serious (when it is installed),
/// and a screenshot when the session takes them (at 360 px too on a phone). Last, the
/// forgot-password form is sent.
async fn visit(pages: Vec<(&'static str, String, &'static str)>, b: Session, phone: bool, axe: Option<String>) {
    let mut found = Vec::new();
    for (name, url, ready) in pages {
        b.go(&url).await;
        b.wait_for_text(ready).await;
        b.fits(name).await;
        if let Some(axe) = &axe {
            found.extend(violations(&b, axe).await.into_iter().map(|v| format!("{name}: {v}")));
        }
        b.shot(name).await;
        if phone {
            b.phone_width(360, 740).await;
            b.shot(&format!("{name}-360")).await;
            b.phone_width(390, 844).await;
        }
    }
    // The tour ends on the forgot-password form.
    b.type_into("#email", "root@example.org").await;
    b.click("button[type=submit]").await;
    b.wait_for_text("Check your mail").await;
    b.fits("forgot-sent").await;
    b.shot("forgot-sent").await;
    assert!(found.is_empty(), "axe-core's serious and critical violations:\n{}", found.join("\n"));
}

#[tokio::test]
async fn the_sign_up_and_reset_pages_fit_phones_and_desktops_and_pass_axe() {
    if !available() {
        return;
    }
    let tour = tour().await;
    let axe = axe_source();
    for (screen, phone) in [(Screen::Desktop, false), (Screen::Phone, true)] {
        let pages = tour.pages.clone();
        let axe = axe.clone();
        run("sign_up_and_reset_pages", screen, move |b| visit(pages, b, phone, axe)).await;
    }
}

/// `cargo test --test it -- --ignored screenshots_of_sign_up` writes
/// `target/screenshots/access/{desktop,phone}/*.png`.
#[tokio::test]
#[ignore = "writes screenshots: cargo test --test it -- --ignored screenshots_of_sign_up"]
async fn screenshots_of_sign_up_and_resets() {
    let tour = tour().await;
    for (screen, name, phone) in [(Screen::Desktop, "desktop", false), (Screen::Phone, "phone", true)] {
        let (_driver, mut b) = Session::start(screen).await;
        b.shots = Some(target("screenshots").join("access").join(name));
        visit(tour.pages.clone(), b, phone, None).await;
    }
}
