//! The API explorer at /api/docs in a real browser: it renders every operation under the
//! app's Content Security Policy, loads nothing from any other host, and tries an
//! operation against this server with a bearer token given to its Authorize button. The
//! HTTP side (the page, its files, their headers) is in `http.rs`. Swagger UI is a
//! third party's interface: it is not held to the accessibility checks of the app's own
//! pages (`accessibility.rs`).

use serde_json::{Value, json};

use crate::browser::{Screen, Session, available, run, target};
use crate::harness::{PASSWORD, TestApp};

#[tokio::test]
async fn the_api_explorer_renders_the_api_and_tries_it_with_a_token() {
    if !available() {
        return;
    }
    let app = TestApp::with_workers().await;
    let token = app.register("ada").await.token;
    let site = app.url("");
    run("the_api_explorer", Screen::Desktop, |b| explore(site, token, b)).await;
}

async fn explore(site: String, token: String, b: Session) {
    // A learner finds it on their account page.
    b.go(&format!("{site}/signin")).await;
    b.type_into("#login", "ada").await;
    b.type_into("#password", PASSWORD).await;
    b.click("form[action='/signin'] button[type=submit]").await;
    b.wait_for_text("Hello, ada").await;
    b.go(&format!("{site}/account")).await;
    let link = "document.querySelector('a[href=\"/api/docs\"]').scrollIntoView({block: 'center'})";
    b.script(link, json!([])).await;
    b.save(&target("screenshots"), "account-api").await;
    b.click_element(&b.find_text("API explorer").await).await;
    b.wait_for_text("/api/v1/materials").await;
    for heading in ["accounts", "materials", "sessions", "operations", "Authorize"] {
        b.wait_for_text(heading).await;
    }
    b.save(&target("screenshots"), "api-explorer").await;

    // Without the web app's session cookie, the token given to Authorize is the only
    // credential, as for a program using the API (after POST /api/v1/auth/login).
    b.command(reqwest::Method::DELETE, "/cookie", None).await;
    b.click(".auth-wrapper button.authorize").await;
    b.type_into("#auth-bearer-value", &token).await;
    b.click(".auth-btn-wrapper button.authorize").await;
    b.click(".auth-btn-wrapper button.btn-done").await;

    // GET /api/v1/me: open it, try it out, execute; the answer is ada's account.
    b.click("#operations-accounts-get_me .opblock-summary-control").await;
    b.click("#operations-accounts-get_me .try-out__btn").await;
    b.click("#operations-accounts-get_me .execute").await;
    b.wait_for_text("ada@example.org").await;
    let status = b
        .script("return document.querySelector('#operations-accounts-get_me .live-responses-table tr.response .response-col_status')?.textContent", json!([]))
        .await;
    assert_eq!(status, json!("200"), "the server answered 200");
    let answer = "document.querySelector('#operations-accounts-get_me .live-responses-table').scrollIntoView()";
    b.script(answer, json!([])).await;
    b.save(&target("screenshots"), "api-explorer-tried").await;

    // Everything came from this server, and the policy blocked nothing.
    let loaded = b.script("return performance.getEntriesByType('resource').map((e) => e.name)", json!([])).await;
    let loaded: Vec<&str> = loaded.as_array().expect("a list").iter().filter_map(Value::as_str).collect();
    assert!(loaded.iter().any(|l| l.ends_with("/api/v1/openapi.json")), "{loaded:?}");
    let elsewhere: Vec<_> = loaded.iter().filter(|l| !l.starts_with(&site)).collect();
    assert!(elsewhere.is_empty(), "nothing from another host: {elsewhere:?}");
    let log = b.log().await;
    let blocked: Vec<_> = log.iter().filter(|(_, m)| m.contains("Content Security Policy")).collect();
    assert_eq!(blocked, Vec::<&(String, String)>::new());
}
