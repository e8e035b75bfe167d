//! The web app over real HTTP (the browser tests drive the same pages): sign up, the
//! dashboard, sign out; cookies, CSRF, redirects and error pages.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::harness::{PASSWORD, TestApp};

fn browser() -> reqwest::Client {
    studyhall::materials::fetch::install_tls_provider();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client")
}

/// The CSRF token a page's forms carry.
fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..].split('"').next().expect("a value").to_owned()
}

/// `name`'s value among a response's Set-Cookie headers, with the whole header.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|header| {
        let value = header.strip_prefix(&format!("{name}="))?.split(';').next()?.to_owned();
        Some((value, header.to_owned()))
    })
}

#[tokio::test]
async fn a_learner_signs_up_sees_the_dashboard_and_signs_out() {
    let app = TestApp::spawn().await;
    let web = browser();

    let home = web.get(app.url("/")).send().await.expect("a response");
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()[LOCATION], "/signin");

    let form = web.get(app.url("/signup")).send().await.expect("the form");
    assert_eq!(form.status(), StatusCode::OK);
    let (form_cookie, header) = set_cookie(&form, "studyhall_csrf").expect("a CSRF cookie");
    assert!(header.contains("HttpOnly") && header.contains("SameSite=Lax"), "{header}");
    let html = form.text().await.expect("html");
    assert!(html.contains("<label for=\"email\">Email</label>"), "labelled fields");
    let token = csrf(&html);
    assert_eq!(token, form_cookie);

    let fields = |password: &str, token: &str| {
        vec![
            ("email", "ada@example.org".to_owned()),
            ("username", "ada".to_owned()),
            ("password", password.to_owned()),
            ("csrf", token.to_owned()),
        ]
    };
    let forged = web.post(app.url("/signup")).form(&fields(PASSWORD, &token)).send().await.expect("a response");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "no CSRF cookie: refused");
    let cookie = format!("studyhall_csrf={token}");
    let weak = web
        .post(app.url("/signup"))
        .header(COOKIE, &cookie)
        .form(&fields("short", &token))
        .send()
        .await
        .expect("a response");
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = weak.text().await.expect("html");
    assert!(html.contains("aria-invalid=\"true\"") && html.contains("id=\"password-error\""), "the field and why");
    assert!(html.contains("value=\"ada@example.org\""), "what was typed is kept");

    let created = web
        .post(app.url("/signup"))
        .header(COOKIE, &cookie)
        .form(&fields(PASSWORD, &token))
        .send()
        .await
        .expect("a response");
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(created.headers()[LOCATION], "/");
    let (session, header) = set_cookie(&created, "studyhall_session").expect("a session cookie");
    assert!(header.contains("HttpOnly") && header.contains("SameSite=Lax") && !header.contains("Secure"), "{header}");
    let cookie = format!("studyhall_session={session}");

    let dashboard = web.get(app.url("/")).header(COOKIE, &cookie).send().await.expect("the dashboard");
    assert_eq!(dashboard.status(), StatusCode::OK);
    let html = dashboard.text().await.expect("html");
    assert!(html.contains("Hello, ada") && html.contains("due today") && html.contains("No materials yet"), "{html}");
    let token = csrf(&html);
    let css = web.get(app.url("/static/app.css")).send().await.expect("css");
    assert!(css.headers()["content-type"].to_str().expect("a type").starts_with("text/css"));

    let forged = web
        .post(app.url("/signout"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", "nope")])
        .send()
        .await
        .expect("a response");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let out = web
        .post(app.url("/signout"))
        .header(COOKIE, &cookie)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .expect("a response");
    assert_eq!(
        (out.status(), out.headers()[LOCATION].to_str().expect("a location")),
        (StatusCode::SEE_OTHER, "/signin")
    );
    let after = web.get(app.url("/")).header(COOKIE, &cookie).send().await.expect("a response");
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "the token was revoked");

    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_logs WHERE action IN ('user.register', 'auth.logout') AND is_success",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("audit");
    assert_eq!(audited, 2, "the same audit trail as the API");
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_with_the_reason() {
    let app = TestApp::spawn().await;
    app.register("ada").await;
    let web = browser();
    let form = web.get(app.url("/signin")).send().await.expect("the form");
    let token = csrf(&form.text().await.expect("html"));
    let cookie = format!("studyhall_csrf={token}");
    let wrong = web
        .post(app.url("/signin"))
        .header(COOKIE, &cookie)
        .form(&[("login", "ada"), ("password", "not the password at all"), ("csrf", token.as_str())])
        .send()
        .await
        .expect("a response");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.headers()["content-type"], "text/html; charset=utf-8");
    let html = wrong.text().await.expect("html");
    assert!(html.contains("role=\"alert\"") && html.contains("wrong"), "{html}");
    let right = web
        .post(app.url("/signin"))
        .header(COOKIE, &cookie)
        .form(&[("login", "ADA"), ("password", PASSWORD), ("csrf", token.as_str())])
        .send()
        .await
        .expect("a response");
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&right, "studyhall_session").is_some());
}

#[tokio::test]
async fn pages_of_another_learner_are_not_found_and_the_api_takes_the_cookie_with_csrf() {
    let app = TestApp::spawn().await;
    let bob = app.register("bob").await;
    let material =
        crate::materials::create(&app, &bob, "Bob's", crate::materials::ARTICLE, serde_json::json!({})).await;
    let web = browser();
    let form = web.get(app.url("/signup")).send().await.expect("the form");
    let token = csrf(&form.text().await.expect("html"));
    let created = web
        .post(app.url("/signup"))
        .header(COOKIE, format!("studyhall_csrf={token}"))
        .form(&[("email", "ada@example.org"), ("username", "ada"), ("password", PASSWORD), ("csrf", token.as_str())])
        .send()
        .await
        .expect("a response");
    let (session, _) = set_cookie(&created, "studyhall_session").expect("a session");
    let cookie = format!("studyhall_session={session}");

    let page =
        web.get(app.url(&format!("/materials/{material}"))).header(COOKIE, &cookie).send().await.expect("a page");
    assert_eq!(page.status(), StatusCode::NOT_FOUND, "another learner's material");
    assert!(page.text().await.expect("html").contains("role=\"alert\""));
    let mine = web.get(app.url("/materials")).header(COOKIE, &cookie).send().await.expect("a page");
    assert!(!mine.text().await.expect("html").contains("Bob's"));

    // The API: GET with the cookie alone; a POST needs the page's CSRF token too.
    let me = web.get(app.url("/api/v1/me")).header(COOKIE, &cookie).send().await.expect("a response");
    assert_eq!(me.status(), StatusCode::OK);
    let body = serde_json::json!({"title": "Mine", "source_type": "text", "text": "Cells are the units of life."});
    let forged =
        web.post(app.url("/api/v1/materials")).header(COOKIE, &cookie).json(&body).send().await.expect("a response");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED, "no CSRF token: refused");
    let dashboard = web.get(app.url("/")).header(COOKIE, &cookie).send().await.expect("the dashboard");
    let page_token = csrf(&dashboard.text().await.expect("html"));
    let made = web
        .post(app.url("/api/v1/materials"))
        .header(COOKIE, &cookie)
        .header("X-CSRF-Token", &page_token)
        .json(&body)
        .send()
        .await
        .expect("a response");
    assert_eq!(made.status(), StatusCode::ACCEPTED);
}
