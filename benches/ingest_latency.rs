//! Time from `POST /api/v1/materials` to `ready` for a 1 MB document, through a real
//! `studyhall serve` on its embedded database: `cargo bench --bench ingest_latency`.
//! Starts the server in a scratch directory, registers, uploads the document five
//! times one after another, and prints each time and the median.

mod common;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

const DOCUMENT_BYTES: usize = 1024 * 1024;
const RUNS: usize = 5;

fn document() -> String {
    let article = include_str!("../tests/data/cells.md");
    let mut text = String::with_capacity(DOCUMENT_BYTES + article.len());
    let mut part = 0;
    while text.len() < DOCUMENT_BYTES {
        part += 1;
        text.push_str(&format!("\n\n# Part {part}\n\n"));
        text.push_str(article);
    }
    text
}

#[tokio::main]
async fn main() {
    let scratch = std::env::temp_dir().join(format!("studyhall-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let server = common::Server::start(&[("STUDYHALL_DATA", scratch.join("data").display().to_string())]);
    let address = server.address.clone();

    studyhall::tls::install_provider();
    let client = reqwest::Client::new();
    let base = format!("http://{address}/api/v1");
    let session: Value = client
        .post(format!("{base}/auth/register"))
        .json(&json!({"email": "bench@example.org", "username": "bench", "password": "glacier violet lamp orbit"}))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("JSON");
    let token = session["token"].as_str().expect("a token").to_owned();
    let text = document();

    let mut times = Vec::new();
    for run in 1..=RUNS {
        let started = Instant::now();
        let material: Value = client
            .post(format!("{base}/materials"))
            .bearer_auth(&token)
            .json(&json!({"title": format!("Run {run}"), "source_type": "text", "text": text}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("JSON");
        let id = material["id"].as_str().expect("an id").to_owned();
        let status = loop {
            let material: Value = client
                .get(format!("{base}/materials/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("poll")
                .json()
                .await
                .expect("JSON");
            if material["status"] != "processing" {
                break material["status"].as_str().unwrap_or_default().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let elapsed = started.elapsed();
        assert_eq!(status, "ready");
        println!("run {run}: {} KiB to ready in {:.2} s", text.len() / 1024, elapsed.as_secs_f64());
        times.push(elapsed);
    }
    times.sort();
    println!("median POST to ready for {} KiB: {:.2} s", text.len() / 1024, times[RUNS / 2].as_secs_f64());

    drop(server);
    let _ = std::fs::remove_dir_all(&scratch);
}
