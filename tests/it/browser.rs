//! The web app in a real browser: headless Chromium driven by ChromeDriver (the W3C
//! WebDriver protocol, spoken over HTTP here) against a real server. This module is the
//! driver and the keyboard journey: a learner signs up, adds a text material, waits for
//! it, generates, goes through a review, a quiz and a study session by keys, sees their
//! progress and exports. The touch, mouse and second-tab journeys are in
//! `study_screens.rs`. On failure a screenshot is saved to `target/browser-screenshots/`.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestApp};
use crate::materials::ARTICLE;
use crate::study_screens::{self, How};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// The W3C name of an element reference in WebDriver's JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Whether the browser tests can run: without Chromium they say so and stop, unless
/// STUDYHALL_BROWSER_TESTS=required (as .ci/run sets, having installed it).
pub fn available() -> bool {
    if std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists() {
        return true;
    }
    let required = std::env::var("STUDYHALL_BROWSER_TESTS").is_ok_and(|v| v == "required");
    assert!(!required, "{CHROMEDRIVER} or {CHROMIUM} is missing: apt-get install chromium chromium-driver");
    eprintln!("skipped: no Chromium/ChromeDriver (apt-get install chromium chromium-driver)");
    false
}

/// The screen a browser emulates.
#[derive(Clone, Copy)]
pub enum Screen {
    /// A desktop window, mouse and keyboard.
    Desktop,
    /// A 390 x 844 phone with a touch screen (mobile layout, no mouse hover).
    Phone,
}

/// A ChromeDriver process (and the browser profile), ended when dropped.
pub struct Driver {
    process: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    /// Ends ChromeDriver and the Chromium it started: they share a process group of their
    /// own. (Killing ChromeDriver alone left its Chromium running: each browser test
    /// leaked one, and a few runs of the suite filled the machine's memory.)
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, killpg};
        let group = nix::unistd::Pid::from_raw(i32::try_from(self.process.id()).unwrap_or(i32::MAX));
        if killpg(group, Signal::SIGKILL).is_err() {
            let _ = self.process.kill();
        }
        let _ = self.process.wait();
    }
}

/// A browser session: WebDriver commands over HTTP.
#[derive(Clone)]
pub struct Session {
    http: reqwest::Client,
    base: String,
    /// Where [`Session::shot`] saves screenshots, when asked for (the `screenshots` test).
    pub shots: Option<PathBuf>,
    phone: bool,
}

impl Session {
    /// Starts ChromeDriver and a headless Chromium on `screen`.
    pub async fn start(screen: Screen) -> (Driver, Session) {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("an address").port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian's chromium-driver) runs");
        let http = crate::harness::client();
        let root = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{root}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver listens");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("a profile directory");
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let mut options = json!({"binary": CHROMIUM, "args": args});
        if let Screen::Phone = screen {
            options["mobileEmulation"] = json!({"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0, "touch": true, "mobile": true}});
        }
        let capabilities = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": options, "goog:loggingPrefs": {"browser": "ALL"}}}});
        let session: Value = http
            .post(format!("{root}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("a session")
            .json()
            .await
            .expect("JSON");
        let id = session["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("a session: {session}")).to_owned();
        (
            Driver { process: driver, _profile: profile },
            Session { http, base: format!("{root}/session/{id}"), shots: None, phone: matches!(screen, Screen::Phone) },
        )
    }

    pub async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply: Value = request.send().await.expect("chromedriver answers").json().await.expect("JSON");
        reply["value"].clone()
    }

    pub async fn go(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    /// Runs `script` in the page with `args` (element ids are passed as elements).
    pub async fn script(&self, script: &str, args: Value) -> Value {
        self.command(reqwest::Method::POST, "/execute/sync", Some(json!({"script": script, "args": args}))).await
    }

    /// The first element `using` (`css selector` or `xpath`) finds, waiting for it.
    async fn locate(&self, using: &str, value: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found =
                self.command(reqwest::Method::POST, "/element", Some(json!({"using": using, "value": value}))).await;
            if let Some(id) = found.get(ELEMENT).and_then(Value::as_str) {
                return id.to_owned();
            }
            assert!(Instant::now() < deadline, "{value} appears: {}", self.text().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first element matching `css`, waiting for it.
    pub async fn find(&self, css: &str) -> String {
        self.locate("css selector", css).await
    }

    /// The first visible button or link whose text contains `text`, waiting for it.
    pub async fn find_text(&self, text: &str) -> String {
        let xpath = format!("//*[self::button or self::a][contains(normalize-space(.), '{text}')][not(@hidden)]");
        self.locate("xpath", &xpath).await
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(reqwest::Method::POST, &format!("/element/{element}/value"), Some(json!({"text": text}))).await;
    }

    /// Clicks `element` with the mouse (WebDriver's element click: scrolled into view,
    /// then a mouse press in its middle).
    pub async fn click_element(&self, element: &str) {
        let clicked = self.command(reqwest::Method::POST, &format!("/element/{element}/click"), Some(json!({}))).await;
        assert!(clicked.is_null(), "the click lands: {clicked}");
    }

    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.click_element(&element).await;
    }

    /// An attribute of `element`.
    pub async fn attribute(&self, element: &str, name: &str) -> Value {
        self.script("return arguments[0].getAttribute(arguments[1])", json!([reference(element), name])).await
    }

    /// Moves the keyboard focus to `element`.
    pub async fn focus(&self, element: &str) {
        self.script("arguments[0].focus()", json!([reference(element)])).await;
    }

    /// Taps `element` with a finger: scrolled to the middle of the screen (a swipe),
    /// then a touch pointer down and up on it. No mouse or key event is sent.
    pub async fn tap_element(&self, element: &str) {
        let reference = reference(element);
        self.script("arguments[0].scrollIntoView({block: 'center'})", json!([reference])).await;
        let actions = json!({"actions": [{"type": "pointer", "id": "finger", "parameters": {"pointerType": "touch"},
            "actions": [{"type": "pointerMove", "duration": 0, "origin": reference, "x": 0, "y": 0},
                        {"type": "pointerDown", "button": 0}, {"type": "pause", "duration": 50},
                        {"type": "pointerUp", "button": 0}]}]});
        let tapped = self.command(reqwest::Method::POST, "/actions", Some(actions)).await;
        assert!(tapped.is_null(), "the tap lands: {tapped}");
        self.command(reqwest::Method::DELETE, "/actions", None).await;
    }

    /// The page's visible text (document.body.innerText).
    pub async fn text(&self) -> String {
        self.script("return document.body.innerText", json!([])).await.as_str().unwrap_or_default().to_owned()
    }

    /// Waits until the page's text contains `expected`.
    pub async fn wait_for_text(&self, expected: &str) {
        self.wait_for_any(&[expected]).await;
    }

    /// Waits until the page's text contains one of `expected`; returns which.
    pub async fn wait_for_any(&self, expected: &[&str]) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = self.text().await;
            if let Some(found) = expected.iter().position(|e| text.contains(e)) {
                return found;
            }
            assert!(Instant::now() < deadline, "the page shows one of {expected:?}: {text}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Presses a key (as the WebDriver key string: " ", "1", "\u{E007}" for Enter,
    /// "\u{E004}" for Tab).
    pub async fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]});
        self.command(reqwest::Method::POST, "/actions", Some(actions)).await;
    }

    /// What the browser logged since the last call: (level, message).
    pub async fn log(&self) -> Vec<(String, String)> {
        let log = self.command(reqwest::Method::POST, "/se/log", Some(json!({"type": "browser"}))).await;
        let entries = log.as_array().unwrap_or_else(|| panic!("the browser's console log: {log}"));
        entries
            .iter()
            .map(|e| {
                (
                    e["level"].as_str().unwrap_or_default().to_owned(),
                    e["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// Asserts the page fits its screen, as a learner on a phone needs: no horizontal
    /// scrolling (on a phone, content too wide also widens the layout past the screen),
    /// and every button and link of the controls at least 44 px each way. A phone's
    /// page is measured on a 360 px wide screen too.
    pub async fn fits(&self, what: &str) {
        if self.phone {
            self.measure(what, Some(390)).await;
            self.phone_width(360, 740).await;
            self.measure(&format!("{what}, 360 px wide"), Some(360)).await;
            self.phone_width(390, 844).await;
        } else {
            self.measure(what, None).await;
        }
    }

    /// Emulates a phone screen `width` x `height` (as the session's mobile emulation).
    pub async fn phone_width(&self, width: u32, height: u32) {
        let params = json!({"width": width, "height": height, "deviceScaleFactor": 3, "mobile": true});
        let command = json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": params});
        self.command(reqwest::Method::POST, "/goog/cdp/execute", Some(command)).await;
    }

    /// Measures the page on a screen `screen` px wide (None: the window's width).
    async fn measure(&self, what: &str, screen: Option<u32>) {
        let measured = self
            .script(
                "const width = arguments[0] ?? innerWidth;
                 const small = [...document.querySelectorAll('button, a.button, header a, .links a, summary')]
                   .filter((e) => e.getClientRects().length && !e.closest('[hidden]'))
                   .map((e) => [e.textContent.trim(), e.getBoundingClientRect()])
                   .filter(([, r]) => r.height < 43.5 || r.width < 43.5)
                   .map(([t, r]) => `${t} (${Math.round(r.width)} x ${Math.round(r.height)})`);
                 const wide = [...document.body.querySelectorAll('*')]
                   .filter((e) => e.getBoundingClientRect().right > width + 0.5 || e.scrollWidth > e.clientWidth + 1)
                   .map((e) => `${e.tagName}.${e.className} ${e.getBoundingClientRect().right} ${e.scrollWidth}/${e.clientWidth} ${e.textContent.trim().slice(0, 30)}`);
                 return {scroll: document.scrollingElement.scrollWidth, layout: innerWidth, width, small, wide};",
                json!([screen]),
            )
            .await;
        let width = measured["width"].as_i64();
        assert!(
            measured["scroll"].as_i64() <= width && measured["layout"].as_i64() == width,
            "{what}: no horizontal scrolling ({measured})"
        );
        assert_eq!(measured["small"], json!([]), "{what}: touch targets of 44 px at least");
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.command(reqwest::Method::POST, "/window/rect", Some(json!({"width": width, "height": height}))).await;
    }

    /// The viewport as a PNG.
    async fn png(&self) -> Option<Vec<u8>> {
        use base64::Engine;
        let png = self.command(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD.decode(png.as_str()?).ok()
    }

    /// Saves the viewport as `dir/name.png`, as best it can.
    pub async fn save(&self, dir: &std::path::Path, name: &str) {
        if let Some(bytes) = self.png().await {
            let _ = std::fs::create_dir_all(dir);
            let _ = std::fs::write(dir.join(format!("{name}.png")), bytes);
        }
    }

    /// A screenshot for people to look at, when this session takes them.
    pub async fn shot(&self, name: &str) {
        if let Some(dir) = &self.shots {
            self.save(dir, name).await;
        }
    }
}

/// An element as a script argument or an action's origin.
fn reference(element: &str) -> Value {
    json!({ELEMENT: element})
}

pub fn target(dir: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join(dir)
}

/// Runs `journey` in a browser on `screen`; if it fails, saves what the browser showed
/// to `target/browser-screenshots/<name>.png` (a directory CI can keep) and fails.
pub async fn run<F, Fut>(name: &str, screen: Screen, journey: F)
where
    F: FnOnce(Session) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (_driver, browser) = Session::start(screen).await;
    let outcome = tokio::spawn(journey(browser.clone())).await;
    if outcome.is_err() {
        browser.save(&target("browser-screenshots"), name).await;
    }
    outcome.unwrap_or_else(|_| panic!("{name} succeeds (see target/browser-screenshots/{name}.png)"));
}

#[tokio::test]
async fn a_learner_studies_by_keyboard() {
    if !available() {
        return;
    }
    let app = TestApp::with_workers().await;
    let site = app.url("");
    run("a_learner_studies_by_keyboard", Screen::Desktop, |b| journey(site, b)).await;
}

/// Sign up, add the article, generate; a review, a quiz and a study session by keys;
/// the progress chart and the export; all by what a learner sees, types and presses.
async fn journey(site: String, b: Session) {
    b.go(&format!("{site}/signup")).await;
    b.type_into("#email", "ada@example.org").await;
    b.type_into("#username", "ada").await;
    b.type_into("#password", PASSWORD).await;
    b.click("button[type=submit]").await;
    b.wait_for_text("Hello, ada").await;

    b.click("a[href='/materials']").await;
    b.type_into("#title", "The Cell").await;
    b.type_into("#text", ARTICLE).await;
    b.click("#add-material button[type=submit]").await;
    b.wait_for_text("Generate flashcards").await;
    b.wait_for_text("ready").await;

    b.click("[data-generate]").await;
    b.wait_for_text("FLASHCARD").await;
    study_screens::sessions(&b, How::Keys).await;

    b.go(&format!("{site}/progress")).await;
    b.wait_for_text("The last 30 days").await;
    let points = b.script("return document.querySelector('polyline.accuracy').getAttribute('points')", json!([])).await;
    assert!(points.as_str().is_some_and(|p| !p.is_empty()), "today's accuracy is drawn: {points}");

    b.go(&format!("{site}/api/v1/me/export")).await;
    b.wait_for_text("ada@example.org").await;
    // Every page above worked under the policy, and the browser blocked nothing on any.
    let log = b.log().await;
    let blocked: Vec<_> = log.iter().filter(|(_, m)| m.contains("Content Security Policy")).collect();
    assert_eq!(blocked, Vec::<&(String, String)>::new());
}

/// Screenshots of every page at 1280 and 390 px wide, and of every session screen on a
/// phone and a desktop, for people to look at:
/// `cargo test --test it -- --ignored screenshots` writes `target/screenshots/*.png`.
#[tokio::test]
#[ignore = "writes screenshots: cargo test --test it -- --ignored screenshots"]
async fn screenshots() {
    let app = TestApp::with_workers().await;
    let (_driver, b) = Session::start(Screen::Desktop).await;
    let site = app.url("");
    let dir = target("screenshots");
    std::fs::create_dir_all(&dir).expect("a directory");
    let shoot = |name: &'static str| {
        let (b, dir) = (b.clone(), dir.clone());
        async move {
            for width in [1280, 390] {
                b.resize(width, if width == 390 { 844 } else { 900 }).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                b.save(&dir, &format!("{name}-{width}")).await;
                // And the whole page, as tall as it is (up to 5,000 px).
                let tall = b.script("return document.documentElement.scrollHeight", json!([])).await;
                b.resize(width, tall.as_u64().map_or(900, |h| h.clamp(900, 5000) as u32)).await;
                tokio::time::sleep(Duration::from_millis(300)).await;
                b.save(&dir, &format!("{name}-{width}-full")).await;
            }
            b.resize(1280, 900).await;
        }
    };
    // Error pages, refusals and the account's activity (pages.rs), on a desktop and a phone.
    for (screen, name) in [(Screen::Desktop, "desktop"), (Screen::Phone, "phone")] {
        let pages_app = TestApp::with_workers().await;
        pages_app.register("ada").await;
        let (_pages_driver, mut pages) = Session::start(screen).await;
        pages.shots = Some(dir.join("pages").join(name));
        crate::pages::error_pages(pages_app.url(""), pages.clone()).await;
        pages.command(reqwest::Method::DELETE, "/cookie", None).await;
        crate::pages::refusals(pages_app.url(""), pages).await;
    }
    for page in ["signin", "signup"] {
        b.go(&format!("{site}/{page}")).await;
        b.find("form").await;
        shoot(page).await;
    }
    let mut keys = b.clone();
    keys.shots = Some(dir.join("desktop"));
    journey(site.clone(), keys).await;
    for (name, path, ready) in [
        ("dashboard", "/", "Hello, ada"),
        ("materials", "/materials", "Add a material"),
        ("progress", "/progress", "The last 30 days"),
        ("account", "/account", "Recent activity"),
        ("settings", "/settings", "Your memory model"),
    ] {
        b.go(&format!("{site}{path}")).await;
        b.wait_for_text(ready).await;
        shoot(name).await;
    }
    b.go(&format!("{site}/materials")).await;
    b.click("[data-materials] a").await;
    b.wait_for_text("Chunks").await;
    shoot("material").await;

    let (_phone_driver, mut phone) = Session::start(Screen::Phone).await;
    phone.shots = Some(dir.join("phone"));
    study_screens::on_a_phone(&TestApp::spawn().await, phone).await;
}
