//! The web app's pages when something is off, in a real browser: error pages in words
//! with the navigation, Back after signing out, a deep link through sign-in (and a
//! hostile one), a password change, and form refusals naming the field as its label
//! does. The HTTP side (statuses, Cache-Control) is in `web.rs`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::browser::{Screen, Session, available, run};
use crate::harness::{PASSWORD, TestApp};

/// The address the browser shows.
async fn address(b: &Session) -> String {
    b.command(Method::GET, "/url", None).await.as_str().unwrap_or_default().to_owned()
}

/// Signs in through the form on the page the browser shows.
async fn sign_in_here(b: &Session, password: &str) {
    b.type_into("#login", "ada").await;
    b.type_into("#password", password).await;
    b.click("form[action='/signin'] button[type=submit]").await;
}

/// The status line of `form` once it says something: (text, class, role).
async fn status_of(b: &Session, form: &str) -> (String, String, String) {
    let script = "const line = document.querySelector(arguments[0] + ' [data-status]');
                  return [line.textContent, line.className, line.getAttribute('role')];";
    for _ in 0..300 {
        let found = b.script(script, json!([form])).await;
        let text = found[0].as_str().unwrap_or_default();
        if !text.is_empty() && !text.ends_with('…') {
            let part = |n: usize| found[n].as_str().unwrap_or_default().to_owned();
            return (part(0), part(1), part(2));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{form} says something: {}", b.text().await);
}

#[tokio::test]
async fn error_pages_explain_in_words_with_the_navigation() {
    if !available() {
        return;
    }
    let app = TestApp::with_workers().await;
    app.register("ada").await;
    let site = app.url("");
    run("error_pages_explain_in_words_with_the_navigation", Screen::Desktop, |b| error_pages(site, b)).await;
}

pub async fn error_pages(site: String, b: Session) {
    // Signed out, an unknown page says so and offers to sign in.
    b.go(&format!("{site}/nope")).await;
    b.wait_for_text("Page not found").await;
    b.find("a[href='/signin']").await;
    b.shot("not-found-signed-out").await;

    b.go(&format!("{site}/signin")).await;
    sign_in_here(&b, PASSWORD).await;
    b.wait_for_text("Hello, ada").await;
    for (path, heading) in [
        (format!("/materials/{}", uuid::Uuid::new_v4()), "Page not found"),
        ("/nope/at/all".to_owned(), "Page not found"),
        ("/materials/not-a-uuid".to_owned(), "This address is not right"),
        ("/study/42".to_owned(), "This address is not right"),
    ] {
        b.go(&format!("{site}{path}")).await;
        b.wait_for_text(heading).await;
        let text = b.text().await;
        assert!(!text.contains('{') && !text.contains("problem"), "{path}: words, not JSON: {text}");
        assert_eq!(b.script("return document.title", json!([])).await, json!(format!("{heading} · studyhall")));
        // The normal navigation: on to the learner's pages, or sign out.
        for link in ["Dashboard", "Materials", "Progress", "Settings", "Account", "Sign out"] {
            assert!(text.contains(link), "{path}: the navigation has {link}: {text}");
        }
        b.fits(&path).await;
    }
    b.shot("bad-address").await;
    b.go(&format!("{site}/nope")).await;
    b.wait_for_text("Page not found").await;
    b.shot("not-found").await;
    b.click_element(&b.find_text("Go to the dashboard").await).await;
    b.wait_for_text("Hello, ada").await;
    let icon = b.script("return document.querySelector('link[rel=icon]').href", json!([])).await;
    assert_eq!(icon, json!(format!("{site}/favicon.svg")));
}

#[tokio::test]
async fn signing_in_returns_to_the_link_and_back_after_signing_out_shows_sign_in() {
    if !available() {
        return;
    }
    let app = TestApp::with_workers().await;
    app.register("ada").await;
    let site = app.url("");
    run("signing_in_returns_to_the_link", Screen::Desktop, |b| async move {
        // A deep link, signed out: sign in, and there it is.
        b.go(&format!("{site}/progress")).await;
        b.wait_for_text("Sign in").await;
        assert_eq!(address(&b).await, format!("{site}/signin?next=%2Fprogress"));
        sign_in_here(&b, PASSWORD).await;
        b.wait_for_text("The last 30 days").await;
        assert_eq!(address(&b).await, format!("{site}/progress"));

        // Sign out; Back shows the sign-in page, not the learner's page from the cache.
        b.click_element(&b.find_text("Sign out").await).await;
        b.wait_for_text("Email or username").await;
        b.command(Method::POST, "/back", Some(json!({}))).await;
        b.wait_for_text("Email or username").await;
        let text = b.text().await;
        assert!(!text.contains("The last 30 days") && !text.contains("Hello, ada"), "{text}");
        assert!(address(&b).await.starts_with(&format!("{site}/signin")));

        // A hostile next= is not followed: the dashboard.
        for hostile in ["//example.org/", "/%5Cexample.org", "https://example.org/"] {
            b.command(Method::DELETE, "/cookie", None).await;
            b.go(&format!("{site}/signin?next={hostile}")).await;
            sign_in_here(&b, PASSWORD).await;
            b.wait_for_text("Hello, ada").await;
            assert_eq!(address(&b).await, format!("{site}/"), "{hostile}");
        }
    })
    .await;
}

#[tokio::test]
async fn refusals_name_the_field_and_a_password_change_signs_out_with_the_reason() {
    if !available() {
        return;
    }
    let app = TestApp::with_workers().await;
    app.register("ada").await;
    let site = app.url("");
    run("refusals_name_the_field", Screen::Phone, |b| refusals(site, b)).await;
}

pub async fn refusals(site: String, b: Session) {
    b.go(&format!("{site}/signin")).await;
    sign_in_here(&b, PASSWORD).await;
    b.wait_for_text("Hello, ada").await;

    // Adding a material: no file chosen, then no text.
    b.go(&format!("{site}/materials")).await;
    b.type_into("#title", "Notes").await;
    b.click("input[name=kind][value=file]").await;
    b.click("#add-material button[type=submit]").await;
    let (text, class, role) = status_of(&b, "#add-material").await;
    assert_eq!(text, "Not added. Choose a file to add.");
    assert!(class.contains("failed") && role == "alert", "styled as an error: {class} {role}");
    b.click("input[name=kind][value=text]").await;
    b.click("#add-material button[type=submit]").await;
    let (text, class, _) = status_of(&b, "#add-material").await;
    assert_eq!(text, "Not added. Text must not be empty.", "the field as its label says");
    assert!(class.contains("failed"));
    let invalid = b.script("return document.querySelector('#text').getAttribute('aria-invalid')", json!([])).await;
    assert_eq!(invalid, json!("true"), "the field is marked");
    b.shot("add-refused").await;

    // A wrong current password: the field by its label, as an error.
    b.go(&format!("{site}/account")).await;
    b.wait_for_text("Recent activity").await;
    b.type_into("#current_password", "not my password at all").await;
    b.type_into("#new_password", "a brand new passphrase here").await;
    b.click_element(&b.find_text("Change password").await).await;
    let form = "form[data-api][data-redirect^='/signin?done=password']";
    let (text, class, role) = status_of(&b, form).await;
    assert_eq!(text, "Not saved. Current password is wrong.");
    assert!(class.contains("failed") && role == "alert", "styled as an error: {class} {role}");
    let invalid: Value =
        b.script("return document.querySelector('#current_password').getAttribute('aria-invalid')", json!([])).await;
    assert_eq!(invalid, json!("true"));
    b.shot("password-refused").await;

    // The right one: signed out everywhere, on the sign-in page saying so.
    b.script("document.querySelector('#current_password').value = ''", json!([])).await;
    b.type_into("#current_password", PASSWORD).await;
    b.click_element(&b.find_text("Change password").await).await;
    b.wait_for_text("Your password was changed, and that signed you out everywhere").await;
    assert_eq!(address(&b).await, format!("{site}/signin?done=password"));
    b.fits("the sign-in page after a password change").await;
    b.shot("password-changed").await;
    sign_in_here(&b, "a brand new passphrase here").await;
    b.wait_for_text("Hello, ada").await;

    // The account's activity, in words.
    b.go(&format!("{site}/account")).await;
    b.wait_for_text("Recent activity").await;
    let text = b.text().await;
    for line in ["Today", "Signed in", "Changed the password", "Tried to change the password: not changed"] {
        assert!(text.contains(line), "{line} in {text}");
    }
    assert!(!text.contains("auth.login") && !text.contains("user.update"), "no internal names: {text}");
    b.script("document.querySelector('#activity-title').scrollIntoView()", json!([])).await;
    b.shot("account-activity").await;
}
