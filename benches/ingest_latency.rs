//! Time from `POST /api/v1/materials` to `ready` for a 1 MB document, through a real
//! `studyhall serve` on its embedded database: `cargo bench --bench ingest_latency`.
//! Starts the server in a scratch directory, registers, uploads the document five
//! times one after another, and prints each time and the median.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
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
    let mut server = Command::new(env!("CARGO_BIN_EXE_studyhall"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("STUDYHALL_DATA", scratch.join("data"))
        .env("STUDYHALL_BIND", "127.0.0.1:0")
        .env("STUDYHALL_LOG_FORMAT", "json")
        .env("STUDYHALL_BCRYPT_COST", "4")
        .stderr(Stdio::piped())
        .spawn()
        .expect("start studyhall serve");
    let mut log = BufReader::new(server.stderr.take().expect("stderr")).lines();
    let address = log
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let event: Value = serde_json::from_str(&line).ok()?;
            (event["message"] == "listening").then(|| event["address"].as_str().map(str::to_owned)).flatten()
        })
        .expect("the server listens");
    std::thread::spawn(move || log.for_each(drop));

    studyhall::materials::fetch::install_tls_provider();
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

    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(server.id() as i32), nix::sys::signal::Signal::SIGTERM);
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&scratch);
}
