//! The web app over real HTTP (the browser tests drive the same pages): sign up, the
//! dashboard, sign out; cookies, CSRF, same-origin posts, security headers, redirects
//! and error pages.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, REFERER, SET_COOKIE};

use crate::fixtures::learner;
use crate::harness::{PASSWORD, TestApp, http_config, settings};
use crate::materials::{ARTICLE, settled};

pub fn browser() -> reqwest::Client {
    studyhall::tls::install_provider();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("a client")
}

/// The CSRF token a page's forms carry.
pub fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..].split('"').next().expect("a value").to_owned()
}

/// `name`'s value among a response's Set-Cookie headers, with the whole header.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
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
    // The dashboard's recent materials lead to their pages.
    let made: serde_json::Value = made.json().await.expect("the material");
    let id = made["id"].as_str().expect("an id");
    let dashboard = web.get(app.url("/")).header(COOKIE, &cookie).send().await.expect("the dashboard");
    let html = dashboard.text().await.expect("html");
    assert!(html.contains(&format!("href=\"/materials/{id}\">Mine</a>")), "{html}");
}

#[tokio::test]
async fn a_material_that_lost_text_says_so_on_its_page() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let cookie = format!("studyhall_session={}", ada.token);
    // Notes pasted with a raw HTML table, which reading Markdown leaves out: 12 rows of 8 words.
    let rows: String =
        (1..=12).map(|n| format!("<tr><td>Organelle {n} makes proteins for the cell membrane</td></tr>\n")).collect();
    let lossy = format!("{ARTICLE}\n\n<table>\n{rows}</table>\n");
    let lost = crate::materials::create(&app, &ada, "Lossy notes", &lossy, serde_json::json!({})).await;
    let whole = crate::materials::create(&app, &ada, "Whole notes", ARTICLE, serde_json::json!({})).await;
    let material = settled(&app, &ada, lost).await;
    assert_eq!(material["status"], "ready", "{material}");
    let ratio = material["metadata"]["kept_words_ratio"].as_f64().expect("a ratio");
    assert!((0.85..0.95).contains(&ratio), "{ratio}: the table holds 96 of about 1,150 words");
    assert_eq!(settled(&app, &ada, whole).await["metadata"]["kept_words_ratio"], 1.0);

    let web = browser();
    let page = |id: uuid::Uuid| {
        let request = web.get(app.url(&format!("/materials/{id}"))).header(COOKIE, &cookie);
        async move { request.send().await.expect("a page").text().await.expect("html") }
    };
    let html = page(lost).await;
    let percent = (ratio * 100.0).floor();
    let notice = format!("Part of this document could not be read: studyhall kept about {percent}% of its words.");
    assert!(html.contains(&notice), "{notice} in {html}");
    assert!(!page(whole).await.contains("could not be read"), "nothing lost, nothing said");
}

#[tokio::test]
async fn the_materials_page_searches_titles_and_text_with_snippets() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let bob = app.register("bob").await;
    let notes = "Memory is split between two regions. Local variables live on the stack, which grows and \
        shrinks with each call. Objects that outlive a call are allocated on the heap, and a garbage collector \
        or the programmer frees them later. Allocating on the heap costs more than pushing on the stack.";
    let memory = crate::materials::create(&app, &ada, "How programs use memory", notes, serde_json::json!({})).await;
    let cells = crate::materials::create(&app, &ada, "Cells", ARTICLE, serde_json::json!({})).await;
    settled(&app, &ada, memory).await;
    settled(&app, &ada, cells).await;

    let web = browser();
    let search = |token: &str, q: &str| {
        let request =
            web.get(app.url(&format!("/materials?q={q}"))).header(COOKIE, format!("studyhall_session={token}"));
        async move {
            let response = request.send().await.expect("a page");
            assert_eq!(response.status(), StatusCode::OK);
            response.text().await.expect("html")
        }
    };
    let html = search(&ada.token, "heap").await;
    assert!(html.contains(&format!("href=\"/materials/{memory}\"")), "found by its text: {html}");
    assert!(!html.contains(&format!("href=\"/materials/{cells}\"")), "only what matches: {html}");
    assert!(html.contains("data-snippet") && html.contains("<mark>heap</mark>"), "with its snippet: {html}");
    assert!(html.contains("value=\"heap\""), "the search box keeps the words");

    // A passage found opens with every match of the search marked, and links on.
    let link = html
        .split("data-passage-link")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .and_then(|tail| tail.split('"').next())
        .expect("a link to the passage")
        .replace("&amp;", "&");
    assert!(link.starts_with(&format!("/materials/{memory}/chunks/")) && link.ends_with("?q=heap"), "{link}");
    let open = |token: &str| web.get(app.url(&link)).header(COOKIE, format!("studyhall_session={token}")).send();
    let passage = open(&ada.token).await.expect("the passage");
    assert_eq!(passage.status(), StatusCode::OK);
    let passage = passage.text().await.expect("html");
    assert_eq!(passage.matches("<mark>heap</mark>").count(), 2, "both places: {passage}");
    assert!(passage.contains("Objects that outlive a call") && passage.contains("Back to the results"), "{passage}");
    assert!(passage.contains(&format!("href=\"/materials/{memory}\"")), "its material: {passage}");
    let theirs = open(&bob.token).await.expect("a page");
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND, "another learner's passage");

    let none = search(&bob.token, "heap").await;
    assert!(none.contains("No matches for “heap”") && !none.contains("Nothing here yet"), "{none}");
    assert!(none.contains(r#"<a href="/materials">Clear the search</a>"#), "{none}");
    assert!(!none.contains(&memory.to_string()), "another learner's materials are not searched");
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A response's header, as text ("" when absent).
fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).map_or("", |value| value.to_str().expect("a text header"))
}

#[tokio::test]
async fn every_page_and_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let ada = learner(&app.db.pool, "ada").await; // the fixture's token is its name
    let cookie = "studyhall_session=ada";
    let web = browser();
    let material = format!("/materials/{}", ada.material_id);
    let study = format!("/study/{}", ada.session_id);
    let missing = format!("/materials/{}", uuid::Uuid::new_v4());
    for (path, status) in [
        ("/signin", StatusCode::OK),
        ("/signup", StatusCode::OK),
        ("/", StatusCode::OK),
        ("/materials", StatusCode::OK),
        (material.as_str(), StatusCode::OK),
        (study.as_str(), StatusCode::OK),
        ("/progress", StatusCode::OK),
        ("/account", StatusCode::OK),
        ("/settings", StatusCode::OK),
        (missing.as_str(), StatusCode::NOT_FOUND),
        ("/no-such-page", StatusCode::NOT_FOUND),
        ("/materials/not-a-uuid", StatusCode::BAD_REQUEST),
    ] {
        let page = web.get(app.url(path)).header(COOKIE, cookie).send().await.expect("a page");
        assert_eq!(page.status(), status, "{path}");
        assert_eq!(header(&page, "content-security-policy"), CSP, "{path}");
        assert_eq!(header(&page, "x-frame-options"), "DENY", "{path}");
        assert_eq!(header(&page, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&page, "referrer-policy"), "same-origin", "{path}");
        assert_eq!(header(&page, "cache-control"), "no-store", "{path}: Back after sign-out shows nothing");
        assert_eq!(header(&page, "strict-transport-security"), "", "{path}: no HSTS over plain HTTP");
        let html = page.text().await.expect("a body");
        // What the policy would block: inline styles, scripts and event handlers.
        for inline in [" style=", "<script>", " onclick=", " onsubmit=", " onload="] {
            assert!(!html.contains(inline), "{path} has {inline}");
        }
    }
    let forged = web.post(app.url("/signout")).header(COOKIE, cookie).form(&[("csrf", "x")]).send().await.expect("403");
    assert_eq!((forged.status(), header(&forged, "cache-control")), (StatusCode::FORBIDDEN, "no-store"));
    assert_eq!(header(&forged, "x-frame-options"), "DENY", "an error page too");

    let me = web.get(app.url("/api/v1/me")).header(COOKIE, cookie).send().await.expect("an answer");
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(header(&me, "x-content-type-options"), "nosniff");
    assert_eq!(header(&me, "cache-control"), "no-store", "personal data is not cached");
    for api in ["/api/v1/me/audit-logs", "/api/v1/materials", "/api/v1/progress/summary"] {
        let answer = web.get(app.url(api)).header(COOKIE, cookie).send().await.expect("an answer");
        assert_eq!((answer.status(), header(&answer, "cache-control")), (StatusCode::OK, "no-store"), "{api}");
    }
    for icon in ["/favicon.svg", "/favicon.ico"] {
        let favicon = web.get(app.url(icon)).send().await.expect("the icon");
        assert_eq!(favicon.status(), StatusCode::OK, "{icon}");
        assert_eq!(header(&favicon, "content-type"), "image/svg+xml");
        assert_eq!(header(&favicon, "cache-control"), "public, max-age=3600", "{icon}");
    }
    let css = web.get(app.url("/static/app.css")).send().await.expect("the stylesheet");
    assert_eq!(header(&css, "x-content-type-options"), "nosniff");
    assert_eq!(header(&css, "cache-control"), "public, max-age=3600", "static assets keep their own");
}

#[tokio::test]
async fn with_secure_cookies_pages_ask_for_https_and_refuse_plain_http_origins() {
    let config = settings();
    let app = TestApp::spawn_configured(
        crate::harness::TestDb::migrated().await,
        http_config(),
        studyhall::config::Settings { secure_cookies: true, ..config },
    )
    .await;
    let web = browser();
    let form = web.get(app.url("/signin")).send().await.expect("the form");
    assert_eq!(header(&form, "strict-transport-security"), "max-age=31536000");
    let (token, cookie) = set_cookie(&form, "studyhall_csrf").expect("a CSRF cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    let health = web.get(app.url("/healthz")).send().await.expect("an answer");
    assert_eq!(header(&health, "strict-transport-security"), "max-age=31536000", "every response");

    // Served over TLS, a page of this host over plain http is another origin.
    let post = web
        .post(app.url("/signin"))
        .header(COOKIE, format!("studyhall_csrf={token}"))
        .header(ORIGIN, app.url(""))
        .form(&[("login", "ada"), ("password", PASSWORD), ("csrf", token.as_str())])
        .send()
        .await
        .expect("a response");
    assert_eq!(post.status(), StatusCode::FORBIDDEN);
}

/// Signs in `login` through the form with this CSRF cookie and field, and `origin` if any.
async fn sign_in(
    app: &TestApp,
    web: &reqwest::Client,
    cookie: &str,
    field: &str,
    origin: Option<(reqwest::header::HeaderName, String)>,
) -> reqwest::Response {
    let mut post = web.post(app.url("/signin")).header(COOKIE, format!("studyhall_csrf={cookie}")).form(&[
        ("login", "ada"),
        ("password", PASSWORD),
        ("csrf", field),
    ]);
    if let Some((name, value)) = origin {
        post = post.header(name, value);
    }
    post.send().await.expect("a response")
}

#[tokio::test]
async fn sign_in_takes_only_a_token_the_server_issued() {
    let app = TestApp::spawn().await;
    app.register("ada").await;
    let web = browser();

    // An attacker's own value in the cookie and the field (planted by a sibling site, say).
    let forged = sign_in(&app, &web, "attacker-chosen", "attacker-chosen", None).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&forged, "studyhall_session").is_none(), "not signed in");
    assert!(forged.text().await.expect("html").contains("reload the page"), "a page in words");
    let made_up = "1800000000.AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(
        sign_in(&app, &web, made_up, made_up, None).await.status(),
        StatusCode::FORBIDDEN,
        "well-formed, unsigned"
    );

    let form = web.get(app.url("/signin")).send().await.expect("the form");
    let token = csrf(&form.text().await.expect("html"));
    let (body, _) = token.rsplit_once('.').expect("a signed token");
    let resigned = format!("{body}.{}", "A".repeat(43));
    assert_eq!(
        sign_in(&app, &web, &resigned, &resigned, None).await.status(),
        StatusCode::FORBIDDEN,
        "signature altered"
    );
    let other = csrf(&web.get(app.url("/signin")).send().await.expect("a form").text().await.expect("html"));
    assert_eq!(
        sign_in(&app, &web, &token, &other, None).await.status(),
        StatusCode::FORBIDDEN,
        "cookie and field differ"
    );

    let signed_in = sign_in(&app, &web, &token, &token, None).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "the server's own token");
    assert!(set_cookie(&signed_in, "studyhall_session").is_some());
}

#[tokio::test]
async fn posts_from_another_site_are_refused() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let web = browser();
    let form = web.get(app.url("/signin")).send().await.expect("the form");
    let token = csrf(&form.text().await.expect("html"));
    let evil = "http://evil.example".to_owned();

    for origin in [(ORIGIN, evil.clone()), (REFERER, format!("{evil}/trap.html")), (ORIGIN, "null".to_owned())] {
        let refused = sign_in(&app, &web, &token, &token, Some(origin.clone())).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{origin:?}");
        assert!(set_cookie(&refused, "studyhall_session").is_none());
        assert_eq!(header(&refused, "content-type"), "text/html; charset=utf-8");
        assert!(refused.text().await.expect("html").contains("from another site"), "a page in words");
    }
    let own = sign_in(&app, &web, &token, &token, Some((ORIGIN, app.url("")))).await;
    assert_eq!(own.status(), StatusCode::SEE_OTHER, "its own origin");
    let (session, _) = set_cookie(&own, "studyhall_session").expect("signed in");
    let referred = sign_in(&app, &web, &token, &token, Some((REFERER, app.url("/signin")))).await;
    assert_eq!(referred.status(), StatusCode::SEE_OTHER, "its own page as Referer");

    // The API with the session cookie: another site's script is refused, even with the
    // page's CSRF token; the pages' own calls and bearer-token clients are not.
    let cookie = format!("studyhall_session={session}");
    let page_token =
        csrf(&web.get(app.url("/")).header(COOKIE, &cookie).send().await.expect("a page").text().await.expect("html"));
    let body = serde_json::json!({"title": "Mine", "source_type": "text", "text": "Cells are the units of life."});
    let write = |origin: &str| {
        web.post(app.url("/api/v1/materials"))
            .header(COOKIE, &cookie)
            .header("X-CSRF-Token", &page_token)
            .header(ORIGIN, origin)
            .json(&body)
            .send()
    };
    let refused = write(&evil).await.expect("a response");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(&refused, "content-type"), "application/problem+json");
    let problem: serde_json::Value = refused.json().await.expect("a problem");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("another site")), "{problem}");
    assert_eq!(write(&app.url("")).await.expect("a response").status(), StatusCode::ACCEPTED);
    let bearer = web
        .post(app.url("/api/v1/materials"))
        .bearer_auth(&ada.token)
        .header(ORIGIN, &evil)
        // Another material: the same add again would give back the first (200).
        .json(&serde_json::json!({"title": "Also mine", "source_type": "text", "text": "Cells divide."}))
        .send()
        .await
        .expect("a response");
    assert_eq!(bearer.status(), StatusCode::ACCEPTED, "a bearer token is no browser's ambient credential");

    let signout = web
        .post(app.url("/signout"))
        .header(COOKIE, &cookie)
        .header(ORIGIN, &evil)
        .form(&[("csrf", page_token.as_str())])
        .send()
        .await
        .expect("a response");
    assert_eq!(signout.status(), StatusCode::FORBIDDEN);
    let still = web.get(app.url("/")).header(COOKIE, &cookie).send().await.expect("a page");
    assert_eq!(still.status(), StatusCode::OK, "still signed in");
}

/// The fixture learner ada's page of session `id`.
async fn session_page(app: &TestApp, id: &str) -> String {
    let page = browser().get(app.url(&format!("/study/{id}"))).header(COOKIE, "studyhall_session=ada").send().await;
    let page = page.expect("a page");
    assert_eq!(page.status(), StatusCode::OK);
    page.text().await.expect("html")
}

/// ada's call to the API (the fixture's token is its name).
async fn as_ada(app: &TestApp, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
    let (status, answer) = app.call(reqwest::Method::POST, path, Some("ada"), body).await;
    assert!(status.is_success(), "{path}: {status} {answer}");
    answer
}

#[tokio::test]
async fn an_ended_session_shows_its_results_in_plain_words() {
    let app = TestApp::spawn().await;
    let ada = learner(&app.db.pool, "ada").await;
    let start = |kind: &str| serde_json::json!({"study_material_id": ada.material_id, "session_type": kind});

    // A quiz of a material without quiz items: what to do, not "well done".
    let quiz = as_ada(&app, "/api/v1/sessions", Some(start("quiz"))).await["id"].as_str().expect("an id").to_owned();
    assert!(session_page(&app, &quiz).await.contains("data-session"), "an active session is the study loop");
    as_ada(&app, &format!("/api/v1/sessions/{quiz}/end"), None).await;
    let page = session_page(&app, &quiz).await;
    assert!(page.contains("Session complete") && page.contains("This material has no quiz items yet"), "{page}");
    assert!(!page.to_lowercase().contains("well done"));

    // A card rated Again: one item, 0%, and the card among the missed with its answer.
    let review =
        as_ada(&app, "/api/v1/sessions", Some(start("review"))).await["id"].as_str().expect("an id").to_owned();
    let again = serde_json::json!({"generated_asset_id": ada.asset_id, "interaction_type": "answer",
                                   "interaction_data": {"rating": 1}});
    as_ada(&app, &format!("/api/v1/sessions/{review}/interactions"), Some(again)).await;
    as_ada(&app, &format!("/api/v1/sessions/{review}/end"), None).await;
    let page = session_page(&app, &review).await;
    let material = format!("href=\"/materials/{}\"", ada.material_id);
    for shown in [
        "<span class=\"value\">1</span>",
        "<span class=\"value\">0%</span>",
        "Missed (1)",
        "Answer: <strong>cells</strong>",
        &material,
    ] {
        assert!(page.contains(shown), "{shown} in {page}");
    }

    // The account's activity tells it in words, the answers of a session as one line.
    let (status, _, account) = page_of(&app, "/account", Some("studyhall_session=ada")).await;
    assert_eq!(status, StatusCode::OK);
    for line in ["Finished a review of ada&#39;s notes", "Answered 1 card in ada&#39;s notes", "Finished a quiz of"] {
        assert!(account.contains(line), "{line} in {account}");
    }
    assert!(!account.contains("interaction.create") && !account.contains("session.end"), "{account}");
}

/// A page's status, content type and HTML.
async fn page_of(app: &TestApp, path: &str, cookie: Option<&str>) -> (StatusCode, String, String) {
    let mut request = browser().get(app.url(path));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    let response = request.send().await.expect("a response");
    let kind = header(&response, "content-type").to_owned();
    (response.status(), kind, response.text().await.expect("a body"))
}

#[tokio::test]
async fn failures_are_pages_in_words_and_the_api_keeps_problems() {
    let app = TestApp::spawn().await;
    let ada = learner(&app.db.pool, "ada").await;
    let signed_in = Some("studyhall_session=ada");
    let nav = "<nav aria-label=\"Main\">\n  <a href=\"/\">Dashboard</a>";
    for (path, status, heading) in [
        (format!("/materials/{}", uuid::Uuid::new_v4()), StatusCode::NOT_FOUND, "Page not found"),
        ("/nope".to_owned(), StatusCode::NOT_FOUND, "Page not found"),
        ("/materials/not-a-uuid".to_owned(), StatusCode::BAD_REQUEST, "This address is not right"),
        ("/study/not-a-uuid".to_owned(), StatusCode::BAD_REQUEST, "This address is not right"),
        (format!("/study/{}", ada.material_id), StatusCode::NOT_FOUND, "Page not found"),
    ] {
        let (got, kind, html) = page_of(&app, &path, signed_in).await;
        assert_eq!((got, kind.as_str()), (status, "text/html; charset=utf-8"), "{path}");
        assert!(html.contains(&format!("<title>{heading} · studyhall</title>")), "{path}: {html}");
        assert!(html.contains(nav), "{path}: the navigation: {html}");
        assert!(html.contains("role=\"alert\"") && !html.contains("Error 4"), "{path}: {html}");
    }
    // Signed out (or with a session that has ended): the page offers to sign in.
    for cookie in [None, Some("studyhall_session=revoked-or-made-up")] {
        let (got, _, html) = page_of(&app, "/nope", cookie).await;
        assert_eq!(got, StatusCode::NOT_FOUND);
        assert!(html.contains("href=\"/signin\"") && !html.contains("Sign out"), "{html}");
    }
    // The API's unknown addresses stay problem+json.
    for path in ["/api/v1/nope", "/api/nope", "/api"] {
        let (got, kind, body) = page_of(&app, path, signed_in).await;
        assert_eq!((got, kind.as_str()), (StatusCode::NOT_FOUND, "application/problem+json"), "{path}");
        assert!(body.starts_with('{'), "{body}");
    }
    let (got, kind, _) = page_of(&app, &format!("/api/v1/materials/{}", uuid::Uuid::new_v4()), signed_in).await;
    assert_eq!((got, kind.as_str()), (StatusCode::NOT_FOUND, "application/problem+json"));
}

#[tokio::test]
async fn sign_in_returns_to_the_page_asked_for_and_only_to_a_local_one() {
    let app = TestApp::spawn().await;
    app.register("ada").await;
    let web = browser();
    let asked = web.get(app.url("/materials?q=heap")).send().await.expect("a redirect");
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    assert_eq!(asked.headers()[LOCATION], "/signin?next=%2Fmaterials%3Fq%3Dheap");
    let home = web.get(app.url("/")).send().await.expect("a redirect");
    assert_eq!(home.headers()[LOCATION], "/signin", "the dashboard is where sign-in goes anyway");

    let form = web.get(app.url("/signin?next=%2Fmaterials%3Fq%3Dheap")).send().await.expect("the form");
    let html = form.text().await.expect("html");
    assert!(html.contains("name=\"next\" value=\"/materials?q=heap\""), "{html}");
    let token = csrf(&html);
    for (next, lands) in [
        ("/materials?q=heap", "/materials?q=heap"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
        ("/\t/evil.example", "/"),
        ("", "/"),
    ] {
        let signed_in = web
            .post(app.url("/signin"))
            .header(COOKIE, format!("studyhall_csrf={token}"))
            .form(&[("login", "ada"), ("password", PASSWORD), ("csrf", token.as_str()), ("next", next)])
            .send()
            .await
            .expect("a response");
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(signed_in.headers()[LOCATION], lands, "{next:?}");
    }
    let hostile = web.get(app.url("/signin?next=%2F%2Fevil.example")).send().await.expect("the form");
    assert!(!hostile.text().await.expect("html").contains("evil.example"), "a hostile next is dropped");
}
