//! The administrator page in real Chromium, at desktop and phone sizes: an administrator
//! finds an account, deactivates it (confirming) and sees it so, makes an invitation
//! and sees its link; a learner opening /admin gets the 404 page. Screenshots are saved
//! to target/screenshots/admin/{desktop,phone}/.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::accessibility::{axe_source, violations};
use crate::browser::{Screen, Session, available, run, target};
use crate::harness::{PASSWORD, TestApp};

/// Signs the browser in with `token` as the session cookie.
pub async fn sign_in(b: &Session, app: &TestApp, token: &str) {
    b.go(&app.url("/signin")).await;
    b.command(Method::DELETE, "/cookie", None).await;
    let cookie = json!({"cookie": {"name": "studyhall_session", "value": token, "path": "/", "httpOnly": true}});
    b.command(Method::POST, "/cookie", Some(cookie)).await;
}

async fn journey(app: TestApp, b: Session, shots: std::path::PathBuf, phone: bool) {
    let root = app.register("root").await; // the first account administers
    let ann = app.register("ann").await;
    app.register("bob").await;
    let axe = axe_source();

    sign_in(&b, &app, &root.token).await;
    b.go(&app.url("/")).await;
    b.find("nav a[href='/admin']").await;
    b.go(&app.url("/admin")).await;
    b.wait_for_text("Audit log").await;
    b.fits("admin").await;
    let mut found = Vec::new();
    if let Some(axe) = &axe {
        found.extend(violations(&b, axe).await);
    }
    b.save(&shots, "1-accounts").await;

    // Find bob, deactivate him (the page asks first), and see it.
    b.type_into("#q", "BOB").await;
    b.click("form[role=search] button").await;
    // The results' page: its search box holds the words (typing sets no attribute), so
    // the unfiltered list, which names bob too, is not taken for it.
    b.find("#q[value='BOB']").await;
    b.find("tr[data-user=bob]").await;
    let listed = b.script("return document.querySelectorAll('[data-users] tbody tr').length", json!([])).await;
    assert_eq!(listed, json!(1), "only bob matches");
    b.click("tr[data-user=bob] button.danger").await;
    let asked = b.command(Method::GET, "/alert/text", None).await;
    assert!(asked.as_str().is_some_and(|text| text.starts_with("Deactivate bob?")), "{asked}");
    b.command(Method::POST, "/alert/accept", Some(json!({}))).await;
    b.wait_for_text("Deactivated").await;
    b.fits("admin, bob deactivated").await;
    b.save(&shots, "2-deactivated").await;
    let login = json!({"login": "bob", "password": PASSWORD});
    let (status, _) = app.call(Method::POST, "/api/v1/auth/login", None, Some(login)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "bob cannot sign in");

    // An invitation: its link, to copy.
    b.type_into("#invite-email", "ivy@example.org").await;
    b.click("#invite button[type=submit]").await;
    b.wait_for_text("Copy this link").await;
    let link = b.script("return document.querySelector('#invite [data-link]').value", json!([])).await;
    let link = link.as_str().expect("the link").to_owned();
    assert!(link.starts_with(&app.url("/signup?invite=")), "{link}");
    b.script("document.getElementById('invite-title').scrollIntoView()", json!([])).await;
    b.fits("admin, invitation made").await;
    b.save(&shots, "3-invitation").await;
    b.go(&app.url("/admin")).await;
    b.wait_for_text("ivy@example.org").await;
    b.script("document.getElementById('audit-title').scrollIntoView()", json!([])).await;
    b.save(&shots, "4-audit-log").await;
    let text = b.text().await;
    assert!(text.contains("user.deactivate") && text.contains("invitation.create"), "the audit log shows both");
    assert!(!text.contains(link.rsplit_once('=').expect("a token").1), "never the invitation's token");

    // A learner: no link, and the page is not there.
    sign_in(&b, &app, &ann.token).await;
    b.go(&app.url("/")).await;
    b.find("nav a[href='/account']").await;
    let links = b.script("return document.querySelectorAll(\"a[href='/admin']\").length", json!([])).await;
    assert_eq!(links, json!(0), "no Admin link for a learner");
    b.go(&app.url("/admin")).await;
    b.wait_for_text("Page not found").await;
    b.save(&shots, "5-learner-404").await;
    if phone {
        b.phone_width(390, 844).await;
    }
    assert!(found.is_empty(), "axe-core's serious and critical violations:\n{}", found.join("\n"));
}

#[tokio::test]
async fn an_administrator_deactivates_an_account_and_invites_someone_on_the_admin_page() {
    if !available() {
        return;
    }
    for (screen, name, phone) in [(Screen::Desktop, "desktop", false), (Screen::Phone, "phone", true)] {
        let app = TestApp::with_workers().await;
        let shots = target("screenshots").join("admin").join(name);
        run(&format!("admin_page_{name}"), screen, move |b| journey(app, b, shots, phone)).await;
    }
}
