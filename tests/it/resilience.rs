//! PostgreSQL restarted under load: `studyhall serve` answers 503 while it is down (and
//! never hangs), recovers on its own, and loses no write it acknowledged.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use studyhall::db::embedded::{ClusterOptions, EmbeddedCluster};
use tokio::sync::Mutex;

use crate::embedded::Serve;
use crate::harness::{PASSWORD, client, pg_binaries};

const WRITERS: usize = 4;

#[tokio::test]
async fn a_database_restart_under_load_gives_503s_and_loses_no_acknowledged_write() {
    let dir = std::env::temp_dir().join(format!("studyhall_restart_{}", std::process::id()));
    let options = ClusterOptions { ephemeral: false, archive_wal: false };
    let start = |dir: std::path::PathBuf| {
        tokio::task::spawn_blocking(move || EmbeddedCluster::start(&dir, pg_binaries().clone(), options))
    };
    let cluster = start(dir.clone()).await.expect("a thread").expect("a cluster");
    cluster.ensure_database().await.expect("the database");
    let url = cluster.url("learning_platform");
    let serve = Serve::start_with(
        &dir,
        &[
            ("DATABASE_URL", url.as_str()),
            ("STUDYHALL_AUTO_MIGRATE", "true"),
            ("STUDYHALL_BCRYPT_COST", "4"),
            ("STUDYHALL_DB_ACQUIRE_TIMEOUT_SECS", "1"),
        ],
    );
    let base = format!("http://{}/api/v1", serve.address);
    // A hang would show as a request that never completes; the client gives up at 30 s.
    let http = client();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let statuses = Arc::new(Mutex::new(Vec::<(bool, StatusCode)>::new()));
    let phase = Arc::new(std::sync::atomic::AtomicU8::new(0)); // 0 before, 1 down, 2 back up
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (http, base, acknowledged, statuses, phase, stop) =
                (http.clone(), base.clone(), acknowledged.clone(), statuses.clone(), phase.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let name = format!("w{w}n{n}");
                    let body = json!({"email": format!("{name}@example.org"), "username": name, "password": PASSWORD});
                    let sent = http
                        .post(format!("{base}/auth/register"))
                        .json(&body)
                        .timeout(Duration::from_secs(30))
                        .send()
                        .await;
                    let status = sent.expect("an answer, never a hang").status();
                    let after = phase.load(std::sync::atomic::Ordering::Relaxed) == 2;
                    statuses.lock().await.push((after, status));
                    if status == StatusCode::CREATED {
                        acknowledged.lock().await.push(name);
                    } else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            })
        })
        .collect();

    // Each step waits for what it needs to see, not for a time.
    until("every writer's first write", async || acknowledged.lock().await.len() >= WRITERS).await;
    phase.store(1, std::sync::atomic::Ordering::Relaxed);
    tokio::task::spawn_blocking(move || cluster.stop()).await.expect("a thread").expect("stopped");
    until("a 503 while the database is down", async || {
        statuses.lock().await.iter().any(|(_, s)| *s == StatusCode::SERVICE_UNAVAILABLE)
    })
    .await;
    let ready = http.get(format!("http://{}/readyz", serve.address)).send().await.expect("an answer").status();
    assert_eq!(ready, StatusCode::SERVICE_UNAVAILABLE, "not ready while the database is down");
    let cluster = start(dir.clone()).await.expect("a thread").expect("restarted");
    phase.store(2, std::sync::atomic::Ordering::Relaxed);
    let readyz = format!("http://{}/readyz", serve.address);
    until("ready again", async || http.get(&readyz).send().await.is_ok_and(|answer| answer.status() == StatusCode::OK))
        .await;
    until("writes again after the restart", async || {
        statuses.lock().await.iter().filter(|(after, s)| *after && *s == StatusCode::CREATED).count() >= WRITERS
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("a writer");
    }

    let statuses = statuses.lock().await;
    let odd: Vec<_> =
        statuses.iter().filter(|(_, s)| *s != StatusCode::CREATED && *s != StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(odd.is_empty(), "only 201 and 503: {odd:?}");
    assert!(statuses.iter().any(|(_, s)| *s == StatusCode::SERVICE_UNAVAILABLE), "503 while down");
    assert!(statuses.iter().any(|(after, s)| *after && *s == StatusCode::CREATED), "writes again after the restart");

    let pool = studyhall::db::connect(cluster.connect_options("learning_platform"), &crate::harness::pool_config())
        .await
        .expect("connect");
    let stored: Vec<String> = sqlx::query_scalar("SELECT username FROM users").fetch_all(&pool).await.expect("users");
    let acknowledged = acknowledged.lock().await;
    let lost: Vec<&String> = acknowledged.iter().filter(|name| !stored.contains(name)).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(acknowledged.len() > WRITERS, "load went through");
    pool.close().await;
    drop(serve);
    tokio::task::spawn_blocking(move || cluster.stop()).await.expect("a thread").expect("stopped");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Returns once `holds` does, looking every 20 ms; fails after a minute (a hang, not a
/// slow machine).
async fn until(what: &str, holds: impl AsyncFn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !holds().await {
        assert!(std::time::Instant::now() < deadline, "waited a minute for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
