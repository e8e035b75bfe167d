//! The administrator's status (GET /api/v1/admin/status and the admin page's Status
//! section): the runs a node schedules (maintenance, housekeeping, a backup with
//! STUDYHALL_BACKUP_HOURS) and those run from the command line (`studyhall maintain`,
//! `studyhall backup create`, one that fails) each named with its outcome, summary and
//! next run; sizes; old and failed backups called out in words; and `studyhall serve`
//! with STUDYHALL_BACKUP_HOURS taking a backup of its embedded cluster. Screenshots of the
//! section are saved to target/screenshots/status/{desktop,phone}/.

use std::path::Path;
use std::process::{Command, Output};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::accessibility::{axe_source, violations};
use crate::admin_page::sign_in;
use crate::browser::{Screen, Session, available, run, target};
use crate::embedded::Serve;
use crate::harness::{TestApp, TestDb, http_config, scratch_dir, settings, studyhall_bin};

/// An app whose node runs maintenance daily and takes a backup whenever the newest in
/// `backups` is a day old, as `serve` with those settings does.
async fn app_with_upkeep(backups: &Path) -> TestApp {
    let mut settings = settings();
    settings.maintain.interval_hours = 24;
    settings.backups.backup_dir = Some(backups.to_path_buf());
    settings.backups.backup_hours = 24;
    TestApp::spawn_configured(TestDb::migrated().await, http_config(), settings).await
}

/// `studyhall <args>` on `app`'s database with `backups` as STUDYHALL_BACKUP_DIR, and
/// `env` besides.
fn studyhall(app: &TestApp, backups: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(studyhall_bin())
        .args(args)
        .env("DATABASE_URL", app.db.url())
        .env("STUDYHALL_BACKUP_DIR", backups)
        .env("STUDYHALL_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("run studyhall")
}

fn succeeded(output: Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The status, once `done` says it shows what is awaited (the node's first runs are
/// under way when the app starts).
async fn status_when(app: &TestApp, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (status, body) = app.call(Method::GET, "/api/v1/admin/status", Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if done(&body) {
            return body;
        }
        assert!(std::time::Instant::now() < deadline, "the status never showed it: {body:#}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Drops the latest month partition of audit_logs, for maintenance to make again.
async fn drop_a_partition(app: &TestApp) {
    let newest: String = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'audit_logs'::regclass AND c.relname <> 'audit_logs_default'
          ORDER BY c.relname DESC LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .expect("a partition");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE {newest}"))).execute(&app.db.pool).await.expect("drop it");
}

/// Moves every backup in `dir` back by `days`, as if taken then.
fn backdate(dir: &Path, days: i64) {
    for entry in std::fs::read_dir(dir).expect("the backups").flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "json") {
            let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
            let at: chrono::DateTime<chrono::Utc> =
                manifest["created_at"].as_str().expect("a time").parse().expect("rfc3339");
            manifest["created_at"] = json!(at - chrono::Duration::days(days));
            std::fs::write(&path, serde_json::to_vec(&manifest).expect("json")).expect("write");
        }
    }
}

fn node_of(run: &Value) -> &str {
    run["node"].as_str().expect("a node")
}

#[tokio::test]
async fn the_status_names_each_run_its_outcome_the_next_and_the_sizes_and_says_what_needs_attention() {
    let scratch = scratch_dir();
    let backups = scratch.path().join("backups");
    let app = app_with_upkeep(&backups).await;
    let root = app.register("root").await; // the first account administers
    let ann = app.register("ann").await;

    let (status, _) = app.call(Method::GET, "/api/v1/admin/status", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app.call(Method::GET, "/api/v1/admin/status", Some(&ann.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a learner is told nothing: {body}");
    let (_, openapi) = app.call(Method::GET, "/api/v1/openapi.json", None, None).await;
    let operation = &openapi["paths"]["/api/v1/admin/status"]["get"];
    assert_eq!(
        operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Status"
    );
    for schema in ["Status", "Upkeep", "Run", "Backups", "BackupSummary", "DatabaseSize", "TableSize"] {
        assert!(openapi["components"]["schemas"][schema].is_object(), "{schema} in the OpenAPI document");
    }

    // The node's own first runs: maintenance and housekeeping at start, and a backup, as
    // there is none yet.
    let body = status_when(&app, &root.token, |s| {
        ["maintenance", "housekeeping", "backups"].iter().all(|kind| s[kind]["last"].is_object())
    })
    .await;
    let now: chrono::DateTime<chrono::Utc> = body["now"].as_str().expect("now").parse().expect("a time");
    let at =
        |value: &Value| -> chrono::DateTime<chrono::Utc> { value.as_str().expect("a time").parse().expect("a time") };
    let maintenance = &body["maintenance"];
    assert_eq!(maintenance["last"]["outcome"], "done", "{body:#}");
    assert!(!node_of(&maintenance["last"]).contains("command line"), "the node's own run: {body:#}");
    assert!(at(&maintenance["next_at"]) - now > chrono::Duration::hours(23), "next in a day: {body:#}");
    assert_eq!(maintenance["every_secs"], 86_400);
    assert_eq!(body["housekeeping"]["last"]["outcome"], "done");
    assert!(body["housekeeping"]["next_at"].is_string());
    let backup = &body["backups"];
    assert_eq!(backup["visible"], true);
    assert_eq!(backup["directory"], backups.display().to_string());
    assert_eq!(backup["last"]["outcome"], "done", "{body:#}");
    let newest = backup["newest"]["name"].as_str().expect("the newest backup");
    assert!(backup["last"]["summary"].as_str().expect("words").starts_with(&format!("{newest}: ")), "{body:#}");
    assert_eq!(backup["newest"]["kept"], "the newest");
    let dump = backup["newest"]["bytes"].as_u64().expect("its size");
    assert!(dump > 0 && backup["total_bytes"].as_u64() > Some(dump), "the dump and its manifest: {body:#}");
    assert!(backup["free_bytes"].as_u64() > Some(0));
    assert_eq!(backup["every_hours"], 24);
    assert!(at(&backup["next_at"]) - now > chrono::Duration::hours(23), "the next in a day: {body:#}");
    assert!(body["database"]["bytes"].as_i64() > Some(1_000_000), "{body:#}");
    let tables = body["database"]["largest_tables"].as_array().expect("tables");
    assert_eq!(tables.len(), 10);
    let names: Vec<&str> = tables.iter().map(|t| t["name"].as_str().expect("a name")).collect();
    assert!(
        names.iter().all(|n| !n.contains("_y20") && !n.ends_with("_default")),
        "partitions under their table: {names:?}"
    );
    let sizes: Vec<i64> = tables.iter().map(|t| t["bytes"].as_i64().expect("bytes")).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "largest first: {sizes:?}");
    assert_eq!(body["attention"], json!([]), "all on time");

    // `studyhall maintain` by hand (from cron) is named, with what it did; the next run is
    // still the node's.
    drop_a_partition(&app).await;
    let did = succeeded(studyhall(&app, &backups, &["maintain"], &[]));
    assert!(did.contains("did create partition audit_logs"), "{did}");
    let body = status_when(&app, &root.token, |s| node_of(&s["maintenance"]["last"]).ends_with("(command line)")).await;
    assert_eq!(body["maintenance"]["last"]["outcome"], "done");
    assert_eq!(body["maintenance"]["last"]["summary"], "created 1 partition", "{body:#}");
    assert_eq!(body["maintenance"]["last"]["next_at"], Value::Null, "cron's next run is not known");
    assert!(body["maintenance"]["next_at"].is_string(), "the node's next run");

    // A backup from cron, then one that fails: named, and the failure called out.
    succeeded(studyhall(&app, &backups, &["backup", "create"], &[]));
    let body = status_when(&app, &root.token, |s| node_of(&s["backups"]["last"]).ends_with("(command line)")).await;
    assert_eq!(body["backups"]["count"], 2);
    assert!(node_of(&body["backups"]["last"]).ends_with("(command line)"), "{body:#}");
    assert_eq!(body["backups"]["last"]["outcome"], "done");
    let failed = studyhall(&app, &backups, &["backup", "create"], &[("STUDYHALL_PG_BIN", "/nonexistent")]);
    assert!(!failed.status.success());
    let body = status_when(&app, &root.token, |s| s["backups"]["last"]["outcome"] == "failed").await;
    let summary = body["backups"]["last"]["summary"].as_str().expect("why");
    assert!(summary.contains("not found in STUDYHALL_PG_BIN (/nonexistent)"), "{summary}");
    let attention = body["attention"].to_string();
    assert!(attention.contains("The last backup failed just now"), "{attention}");
    assert!(attention.contains("Run `studyhall backup create` to see what is wrong"), "{attention}");

    // Backups that stopped three days ago.
    succeeded(studyhall(&app, &backups, &["backup", "create"], &[]));
    backdate(&backups, 3);
    let body = status_when(&app, &root.token, |s| s["backups"]["last"]["outcome"] == "done").await;
    let attention = body["attention"].to_string();
    assert!(attention.contains("was taken 3 days ago: backups have stopped"), "{attention}");
    assert!(!attention.contains("The last backup failed"), "{attention}");
}

async fn journey(app: TestApp, backups: std::path::PathBuf, b: Session, shots: std::path::PathBuf) {
    let root = app.register("root").await;
    status_when(&app, &root.token, |s| {
        ["maintenance", "housekeeping", "backups"].iter().all(|kind| s[kind]["last"].is_object())
    })
    .await;
    // A failed backup from cron.
    let failed = studyhall(&app, &backups, &["backup", "create"], &[("STUDYHALL_PG_BIN", "/nonexistent")]);
    assert!(!failed.status.success());
    let axe = axe_source();

    sign_in(&b, &app, &root.token).await;
    b.go(&app.url("/admin")).await;
    b.wait_for_text("Needs attention").await;
    let section = b.script("return document.querySelector('[data-status-section]').innerText", json!([])).await;
    let section = section.as_str().expect("the section's text").to_owned();
    for words in [
        "Last maintenance ",
        " — done: nothing to do (on ",
        "Next in 23 hours",
        "Last housekeeping ",
        "Last backup just now — failed: PostgreSQL server binaries",
        "The last backup failed just now",
        "Database",
        "the newest",
        "Free disk space there",
    ] {
        assert!(section.contains(words), "the section says {words:?}:\n{section}");
    }
    b.fits("admin status").await;
    b.save(&shots, "1-status").await;
    b.script("document.querySelector('[data-backups]').scrollIntoView()", json!([])).await;
    b.save(&shots, "2-sizes").await;
    let mut found = Vec::new();
    if let Some(axe) = &axe {
        found.extend(violations(&b, axe).await);
    }
    assert!(found.is_empty(), "axe-core's serious and critical violations:\n{}", found.join("\n"));
}

#[tokio::test]
async fn the_admin_page_shows_the_status_in_words_with_a_failed_backup_called_out() {
    if !available() {
        return;
    }
    for (screen, name) in [(Screen::Desktop, "desktop"), (Screen::Phone, "phone")] {
        let scratch = scratch_dir();
        let backups = scratch.path().join("backups");
        let app = app_with_upkeep(&backups).await;
        let shots = target("screenshots").join("status").join(name);
        run(&format!("status_{name}"), screen, move |b| journey(app, backups, b, shots)).await;
        drop(scratch);
    }
}

#[tokio::test]
async fn serve_with_backup_hours_takes_a_backup_when_the_newest_is_older_and_the_status_names_it() {
    let scratch = scratch_dir();
    let data_dir = scratch.path().join("studyhall-data");
    let serve = Serve::start_with(&data_dir, &[("STUDYHALL_BCRYPT_COST", "4"), ("STUDYHALL_BACKUP_HOURS", "24")]);
    assert_eq!(serve.register("root").await, StatusCode::CREATED, "the first account administers");
    let client = crate::harness::client();
    let login = json!({"login": "root", "password": crate::harness::PASSWORD});
    let url = |path: &str| format!("http://{}{path}", serve.address);
    let session: Value =
        client.post(url("/api/v1/auth/login")).json(&login).send().await.expect("sign in").json().await.expect("json");
    let token = session["token"].as_str().expect("a token").to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let body = loop {
        let response = client.get(url("/api/v1/admin/status")).bearer_auth(&token).send().await.expect("status");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        if body["backups"]["last"].is_object() {
            break body;
        }
        assert!(std::time::Instant::now() < deadline, "serve took no backup: {body:#}");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    let backups = &body["backups"];
    assert_eq!(backups["last"]["outcome"], "done", "{body:#}");
    assert!(!node_of(&backups["last"]).contains("command line"), "serve's own: {body:#}");
    assert!(backups["last"]["summary"].as_str().expect("words").contains("with a base backup"), "{body:#}");
    assert_eq!(backups["directory"], data_dir.join("backups").display().to_string());
    assert_eq!(backups["count"], 1);
    assert!(backups["wal_archive_bytes"].as_u64().is_some(), "the embedded cluster's WAL archive: {body:#}");
    assert!(backups["next_at"].is_string());
    let name = backups["newest"]["name"].as_str().expect("the newest");
    assert!(data_dir.join("backups").join(format!("{name}.json")).is_file());
    serve.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(serve.wait(), "serve stops cleanly");
}
