//! The load harness: `cargo bench --bench load [-- --learners N --seconds S]`.
//!
//! Starts a PostgreSQL server of its own (in the temp directory) and `studyhall serve`
//! on it, creates N learners, each with the test article ingested and its assets
//! generated, then runs N concurrent study loops for S seconds: a quiz session, `next`
//! then an answer until the session has nothing left, end it, read the progress summary
//! (a read right after the learner's writes), start another. It reports answers per
//! second and the p50/p95/p99 latency of `next`, of answering and of the summary.
//!
//! The server commits asynchronously (`synchronous_commit=off`, as the embedded test
//! cluster does) unless `--durable`. With `--replica`, a streaming replica of it
//! (`pg_basebackup -R`) serves the reads (STUDYHALL_READ_DATABASE_URL), and the harness
//! reports where they ran (`studyhall_reads_total`: on the replica at once, after a wait,
//! or on the primary). Give both: a replica receives only WAL the primary has flushed,
//! which asynchronous commits leave to the WAL writer (every 200 ms), so without
//! `--durable` a read after a write mostly waits for the replica in vain.
//!
//! In the same sitting, on the same cluster, it runs pgbench with the SQL transaction
//! the answer endpoint performs (generated from the endpoint's own statements,
//! `studyhall::learn::answer::{READ, WRITE}`, so it cannot drift from them; written to
//! `<temp>/studyhall-load-*/answer.pgbench`), with as many clients, as the request role:
//! the floor under what the endpoint can cost.

mod common;
#[path = "../tests/it/postgres.rs"]
mod postgres;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use studyhall::db::embedded::PgBinaries;
use studyhall::learn::answer::{READ, WRITE};
use tokio::sync::Mutex;

const ARTICLE: &str = include_str!("../tests/data/cells.md");
const PASSWORD: &str = "glacier violet lamp orbit";

struct Args {
    learners: usize,
    seconds: u64,
    replica: bool,
    durable: bool,
}

fn args() -> Args {
    let mut parsed = Args { learners: 16, seconds: 20, replica: false, durable: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse().ok()).expect("a number after the flag");
        match arg.as_str() {
            "--learners" => parsed.learners = value() as usize,
            "--seconds" => parsed.seconds = value(),
            "--replica" => parsed.replica = true,
            "--durable" => parsed.durable = true,
            _ => {} // cargo bench passes --bench
        }
    }
    parsed
}

/// Latencies of one kind of request, in microseconds.
#[derive(Default)]
struct Latencies(Vec<u64>);

impl Latencies {
    fn percentile(&mut self, p: f64) -> f64 {
        self.0.sort_unstable();
        let index = ((self.0.len() as f64 - 1.0) * p).round() as usize;
        self.0.get(index).map_or(0.0, |us| *us as f64 / 1000.0)
    }

    fn line(&mut self, name: &str, seconds: f64) -> String {
        format!(
            "{name:<22} {:>8} {:>10.0}/s   p50 {:>6.2} ms   p95 {:>6.2} ms   p99 {:>6.2} ms",
            self.0.len(),
            self.0.len() as f64 / seconds,
            self.percentile(0.50),
            self.percentile(0.95),
            self.percentile(0.99)
        )
    }
}

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("a response");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A learner with the article ready and generated: (token, material id).
    async fn learner(&self, n: usize) -> (String, String) {
        let body =
            json!({"email": format!("load{n}@example.org"), "username": format!("load{n}"), "password": PASSWORD});
        let (_, session) = self.send(reqwest::Method::POST, "/auth/register", None, Some(body)).await;
        let token = session["token"].as_str().expect("a token").to_owned();
        let body = json!({"title": "The Cell", "source_type": "text", "text": ARTICLE, "subject_area": "biology"});
        let (_, material) = self.send(reqwest::Method::POST, "/materials", Some(&token), Some(body)).await;
        let id = material["id"].as_str().expect("a material").to_owned();
        while self.send(reqwest::Method::GET, &format!("/materials/{id}"), Some(&token), None).await.1["status"]
            == "processing"
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (_, job) =
            self.send(reqwest::Method::POST, &format!("/materials/{id}/generate"), Some(&token), Some(json!({}))).await;
        let job = job["job_id"].as_str().expect("a job").to_owned();
        while self.send(reqwest::Method::GET, &format!("/jobs/{job}"), Some(&token), None).await.1["status"] != "done" {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (token, id)
    }

    async fn quiz(&self, token: &str, material: &str) -> String {
        let body = json!({"study_material_id": material, "session_type": "quiz", "configuration": {"max_items": 20}});
        let (status, session) = self.send(reqwest::Method::POST, "/sessions", Some(token), Some(body)).await;
        assert_eq!(status, 201, "{session}");
        session["id"].as_str().expect("a session").to_owned()
    }
}

#[derive(Default)]
struct Results {
    next: Latencies,
    answer: Latencies,
    progress: Latencies,
}

/// One learner's study loop until `deadline`.
async fn study(api: Arc<Api>, token: String, material: String, deadline: Instant, results: Arc<Mutex<Results>>) {
    let mut mine = Results::default();
    let mut turn = 0u64;
    'sessions: while Instant::now() < deadline {
        let session = api.quiz(&token, &material).await;
        loop {
            if Instant::now() >= deadline {
                break 'sessions;
            }
            let started = Instant::now();
            let (status, next) =
                api.send(reqwest::Method::GET, &format!("/sessions/{session}/next"), Some(&token), None).await;
            mine.next.0.push(started.elapsed().as_micros() as u64);
            if status == 204 {
                break;
            }
            turn += 1;
            let body = json!({"generated_asset_id": next["asset"]["id"], "interaction_type": "answer",
                              "interaction_data": {"choice_index": turn % 2}, "response_time_ms": 1500 + turn % 1000});
            let started = Instant::now();
            let (status, recorded) = api
                .send(reqwest::Method::POST, &format!("/sessions/{session}/interactions"), Some(&token), Some(body))
                .await;
            mine.answer.0.push(started.elapsed().as_micros() as u64);
            assert_eq!(status, 201, "{recorded}");
        }
        api.send(reqwest::Method::POST, &format!("/sessions/{session}/end"), Some(&token), None).await;
        let started = Instant::now();
        let (status, summary) = api.send(reqwest::Method::GET, "/progress/summary", Some(&token), None).await;
        mine.progress.0.push(started.elapsed().as_micros() as u64);
        assert_eq!(status, 200, "{summary}");
    }
    let mut all = results.lock().await;
    all.next.0.extend(mine.next.0);
    all.answer.0.extend(mine.answer.0);
    all.progress.0.extend(mine.progress.0);
}

/// The answer endpoint's transaction as a pgbench script: its own statements, their
/// parameters bound to one learner's session and quiz item per client (`targets`: user,
/// session, asset, material), the rest to typical values.
fn pgbench_script(targets: &[(String, String, String, String)]) -> String {
    let values: Vec<String> = targets
        .iter()
        .enumerate()
        .map(|(n, (user, session, asset, material))| format!("({n}, '{user}', '{session}', '{asset}', '{material}')"))
        .collect();
    let bind = |sql: &str, params: &[&str]| {
        // Highest first, so that $1 does not eat the front of $12.
        (1..=params.len()).rev().fold(sql.to_owned(), |sql, n| sql.replace(&format!("${n}"), params[n - 1]))
    };
    let read = bind(
        READ,
        &["CAST(:session AS uuid)", "CAST(:uid AS uuid)", "CAST(:asset AS uuid)", "NULL::text", "1800", "280"],
    );
    let write = bind(
        WRITE,
        &[
            "CAST(:session AS uuid)",
            "CAST(:uid AS uuid)",
            "CAST(:asset AS uuid)",
            "CAST(:material AS uuid)",
            // the interaction
            "uuid_generate_v4()",
            "now()",
            "'answer'::text",
            "'{\"choice_index\": 0}'::jsonb",
            "true",
            "2500",
            "0.5::float8",
            "'{\"correct_answer\": \"the cell\", \"explanation\": \"The material says so.\"}'::jsonb",
            // the session's counters
            "1",
            "1",
            "1",
            "0",
            // no Idempotency-Key
            "NULL::text",
            "'\\x00'::bytea",
            // the item's memory
            "2.3::float8",
            "5.0::float8",
            "now() + interval '1 day'",
            "1",
            "0",
            "3::smallint",
            "'review'::text",
            "NULL::smallint",
            // the audit row
            "'{}'::jsonb",
            "NULL::text",
            "'pgbench'::text",
            "'pgbench'::text",
        ],
    );
    // Whole-line comments dropped: on one line, a comment would run to the end.
    let oneline = |sql: &str| {
        sql.lines()
            .filter(|line| !line.trim_start().starts_with("--"))
            .flat_map(str::split_whitespace)
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "BEGIN;\nSELECT set_config('app.user_id', u, true), u AS uid, s AS session, a AS asset, m AS material \
         FROM (VALUES {}) AS t(n, u, s, a, m) WHERE n = :client_id \\gset\n{};\n{};\nCOMMIT;\n",
        values.join(", "),
        oneline(&read),
        oneline(&write)
    )
}

/// Transactions per second and per-transaction latencies (µs) from pgbench's logs.
fn pgbench(
    binaries: &PgBinaries,
    url: &str,
    script: &Path,
    clients: usize,
    seconds: u64,
    dir: &Path,
) -> (f64, Latencies) {
    let output = Command::new(binaries.path("pgbench"))
        .args(["-n", "-M", "prepared", "-c", &clients.to_string(), "-j", "2", "-T", &seconds.to_string(), "-l"])
        .arg("--log-prefix")
        .arg(dir.join("pgbench_log"))
        .arg("-f")
        .arg(script)
        .arg(url)
        .env("PGOPTIONS", "-c role=studyhall_app")
        .output()
        .expect("run pgbench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "pgbench failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    let tps = stdout
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a tps line");
    let mut latencies = Latencies::default();
    for entry in std::fs::read_dir(dir).expect("the scratch directory").flatten() {
        if entry.file_name().to_string_lossy().starts_with("pgbench_log") {
            let log = std::fs::read_to_string(entry.path()).expect("a pgbench log");
            latencies.0.extend(log.lines().filter_map(|line| line.split(' ').nth(2)?.parse::<u64>().ok()));
        }
    }
    (tps, latencies)
}

#[tokio::main]
async fn main() {
    let args = args();
    let scratch = std::env::temp_dir().join(format!("studyhall-load-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let binaries = PgBinaries::locate(None).expect("PostgreSQL's server binaries");
    // Durability traded for speed unless --durable, as in the embedded test cluster.
    let commit = if args.durable { "synchronous_commit=on" } else { "synchronous_commit=off" };
    let primary = postgres::Postgres::primary(&binaries, &scratch, &[commit, "full_page_writes=off"]).await;
    println!("{commit}{}", if args.replica { ", reads on a streaming replica" } else { "" });
    let replica = if args.replica { Some(primary.replica(&scratch).await) } else { None };
    let url = primary.url();
    let mut env = vec![
        ("DATABASE_URL", url.clone()),
        ("STUDYHALL_AUTO_MIGRATE", "true".to_owned()),
        ("STUDYHALL_DB_MAX_CONNECTIONS", (args.learners + 4).to_string()),
    ];
    env.extend(replica.as_ref().map(|replica| ("STUDYHALL_READ_DATABASE_URL", replica.url())));
    let server = common::Server::start(&env);
    studyhall::tls::install_provider();
    let api = Arc::new(Api { client: reqwest::Client::new(), base: format!("http://{}/api/v1", server.address) });

    let setup = Instant::now();
    let mut learners = Vec::new();
    for n in 0..args.learners {
        learners.push(api.learner(n).await);
    }
    println!(
        "{} learners with the article ingested and generated in {:.1} s",
        args.learners,
        setup.elapsed().as_secs_f64()
    );

    let results = Arc::new(Mutex::new(Results::default()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let loops: Vec<_> = learners
        .iter()
        .map(|(token, material)| {
            tokio::spawn(study(api.clone(), token.clone(), material.clone(), deadline, results.clone()))
        })
        .collect();
    for study in loops {
        study.await.expect("a study loop");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut results = results.lock().await;
    println!("\nHTTP: {} concurrent study loops for {elapsed:.1} s", args.learners);
    println!("{}", results.next.line("GET next", elapsed));
    println!("{}", results.answer.line("POST interactions", elapsed));
    println!("{}", results.progress.line("GET progress/summary", elapsed));
    let metrics = api.client.get(format!("http://{}/metrics", server.address)).send().await.expect("metrics");
    let metrics = metrics.text().await.expect("metrics text");
    for line in metrics.lines().filter(|line| line.starts_with("studyhall_reads_total")) {
        println!("{line}");
    }

    // One active quiz session and one of its items per learner, for pgbench.
    let mut targets = Vec::new();
    for (token, material) in &learners {
        let session = api.quiz(token, material).await;
        let (_, next) = api.send(reqwest::Method::GET, &format!("/sessions/{session}/next"), Some(token), None).await;
        let (_, me) = api.send(reqwest::Method::GET, "/me", Some(token), None).await;
        targets.push((
            me["id"].as_str().expect("a user").to_owned(),
            session,
            next["asset"]["id"].as_str().expect("an item").to_owned(),
            material.clone(),
        ));
    }
    let script = scratch.join("answer.pgbench");
    std::fs::write(&script, pgbench_script(&targets)).expect("write the pgbench script");
    let (tps, mut latencies) = pgbench(&binaries, &url, &script, args.learners, args.seconds, &scratch);
    println!(
        "\npgbench: the answer transaction, {} clients for {} s ({})",
        args.learners,
        args.seconds,
        script.display()
    );
    println!("{}   (tps {tps:.0})", latencies.line("answer transaction", args.seconds as f64));

    drop(server);
    drop(replica);
    drop(primary);
    let _ = std::fs::remove_dir_all(&scratch);
}
