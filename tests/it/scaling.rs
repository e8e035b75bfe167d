//! More machines, as docs/scaling.md describes them: a PostgreSQL primary and a streaming
//! replica made from it with `pg_basebackup -R`, two `serve` nodes that write to the
//! primary and read from the replica, and a `worker` node that runs the jobs. A learner's
//! journey goes through a round-robin balancer in front of the two nodes, over real HTTP:
//! every read follows a write made on the other node, the replica is paused to show that a
//! read which cannot see the learner's change there is served by the primary, a worker is
//! killed mid-job, a serve node is killed mid-session, and at last the replica is stopped.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::{Child, Command};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::embedded::Serve;
use crate::harness::{PASSWORD, pg_binaries, scratch_dir, studyhall_bin};
use crate::materials::ARTICLE;
use crate::postgres::Postgres;

/// `studyhall worker` on the primary, killed when dropped.
struct Worker(Child);

impl Worker {
    fn start(primary: &Postgres) -> Worker {
        Worker(crate::jobs::worker(&primary.url()))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill(); // SIGKILL: a worker that dies mid-job
        let _ = self.0.wait();
    }
}

/// What a load balancer does in front of the serve nodes: each request to the next node
/// in turn, and a node that refuses connections taken out of the rotation (the request
/// goes to the next one; a refused connection never reached a node, so nothing ran twice).
struct Balancer {
    client: reqwest::Client,
    nodes: Vec<SocketAddr>,
    state: Mutex<(usize, HashSet<usize>)>,
}

impl Balancer {
    fn new(nodes: Vec<SocketAddr>) -> Balancer {
        // A connection per request, as a balancer's health check would see it: a kept-alive
        // connection to a node killed since fails as a sent request, not a refused one.
        studyhall::tls::install_provider();
        let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("a client");
        Balancer { client, nodes, state: Mutex::new((0, HashSet::new())) }
    }

    /// The next node in turn that is not out of the rotation.
    fn next(&self) -> usize {
        let mut state = self.state.lock().expect("the balancer");
        let (turn, down) = &mut *state;
        let node = (0..self.nodes.len()).map(|n| (*turn + n) % self.nodes.len()).find(|n| !down.contains(n));
        let node = node.expect("a node in the rotation");
        *turn = node + 1;
        node
    }

    /// Sends the request to the next node; returns the node, the status and the JSON body.
    async fn call(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> (usize, StatusCode, Value) {
        loop {
            let node = self.next();
            let mut request = self.client.request(method.clone(), format!("http://{}{path}", self.nodes[node]));
            if !token.is_empty() {
                request = request.bearer_auth(token);
            }
            if let Some(body) = &body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    return (node, status, response.json().await.unwrap_or(Value::Null));
                }
                Err(error) if error.is_connect() => {
                    self.state.lock().expect("the balancer").1.insert(node);
                }
                Err(error) => panic!("{method} {path} on node {node}: {error}"),
            }
        }
    }

    /// As [`Balancer::call`], expecting `expected`; the body.
    async fn expect(
        &self,
        expected: StatusCode,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Value {
        let (node, status, body) = self.call(method.clone(), path, token, body).await;
        assert_eq!(status, expected, "{method} {path} on node {node}: {body}");
        body
    }

    /// A web app page, signed in by the session cookie: the node, the status and the HTML.
    async fn page(&self, path: &str, token: &str) -> (usize, StatusCode, String) {
        let node = self.next();
        let response = self
            .client
            .get(format!("http://{}{path}", self.nodes[node]))
            .header("cookie", format!("studyhall_session={token}"))
            .send()
            .await
            .expect("a page");
        (node, response.status(), response.text().await.expect("HTML"))
    }

    /// GETs `path` until `done` holds of its body; the body.
    async fn poll(&self, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let body = self.expect(StatusCode::OK, Method::GET, path, token, None).await;
            if done(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "waited too long on {path}: {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The sum of the samples of `studyhall_reads_total` a node counted with these labels.
async fn reads(node: SocketAddr, labels: &str) -> f64 {
    let text = crate::harness::client()
        .get(format!("http://{node}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .filter(|line| line.starts_with(&format!("studyhall_reads_total{{{labels}")))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The learner's answers as the progress summary counts them.
fn answers(summary: &Value) -> i64 {
    summary["answers"].as_i64().expect("a count of answers")
}

/// One of the session's items answered, then the progress read: (the node that wrote, the
/// node that read). The read, on the node after the writer's, must count the answer.
async fn answer_then_read(balancer: &Balancer, token: &str, session: &str, answered: &mut i64) -> (usize, usize) {
    let item =
        balancer.expect(StatusCode::OK, Method::GET, &format!("/api/v1/sessions/{session}/next"), token, None).await;
    let body = json!({"generated_asset_id": item["asset"]["id"], "interaction_type": "answer",
                      "interaction_data": {"rating": 3}, "response_time_ms": 2000});
    let path = format!("/api/v1/sessions/{session}/interactions");
    let (wrote_on, status, recorded) = balancer.call(Method::POST, &path, token, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    *answered += 1;
    let (read_on, status, summary) = balancer.call(Method::GET, "/api/v1/progress/summary", token, None).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(answers(&summary), *answered, "the answer written on node {wrote_on}, read on node {read_on}");
    (wrote_on, read_on)
}

async fn scalar(pool: &PgPool, sql: &'static str, user: &str) -> i64 {
    let user: uuid::Uuid = user.parse().expect("a user id");
    sqlx::query_scalar(sql).bind(user).fetch_one(pool).await.expect("a count")
}

const INTERACTIONS: &str = "SELECT count(*) FROM interactions WHERE user_id = $1";
const MARK: &str = "SELECT coalesce((SELECT mark FROM user_write_marks WHERE user_id = $1), 0)";

/// Waits until the replica shows the user's mark as the primary has it now; how long that took.
async fn caught_up(primary: &PgPool, replica: &PgPool, user: &str) -> Duration {
    let started = Instant::now();
    let mark = scalar(primary, MARK, user).await;
    while scalar(replica, MARK, user).await < mark {
        assert!(started.elapsed() < Duration::from_secs(60), "the replica did not catch up");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn a_learner_s_journey_across_two_serve_nodes_a_worker_and_a_read_replica() {
    let scratch = scratch_dir();
    let primary = Postgres::primary(pg_binaries(), scratch.path(), &[]).await;
    let mut replica = primary.replica(scratch.path()).await;
    let migrated = Command::new(studyhall_bin())
        .args(["migrate", "up"])
        .env("DATABASE_URL", primary.url())
        .output()
        .expect("studyhall migrate up");
    assert!(migrated.status.success(), "{}", String::from_utf8_lossy(&migrated.stderr));
    let pool = async |server: &Postgres| PgPool::connect(&server.url()).await.expect("connect");
    let (primary_db, replica_db) = (pool(&primary).await, pool(&replica).await);
    let in_recovery = "SELECT pg_is_in_recovery()";
    assert!(sqlx::query_scalar::<_, bool>(in_recovery).fetch_one(&replica_db).await.expect("read-only"));

    let (database, reads_from) = (primary.url(), replica.url());
    let env = [
        ("DATABASE_URL", database.as_str()),
        ("STUDYHALL_READ_DATABASE_URL", reads_from.as_str()),
        ("STUDYHALL_WORKERS", "0"),
        ("STUDYHALL_BCRYPT_COST", "4"),
    ];
    let mut nodes = [Serve::start_with(scratch.path(), &env), Serve::start_with(scratch.path(), &env)];
    for node in &nodes {
        assert!(node.log().iter().any(|line| line.contains("read-only requests use the read replica")));
    }
    let worker = Worker::start(&primary);
    let balancer = Balancer::new(nodes.iter().map(|node| node.address).collect());

    // Sign up and add the article; the worker node ingests it while the learner polls,
    // then generates its items.
    let body = json!({"email": "ada@example.org", "username": "ada", "password": PASSWORD});
    let signed_up = balancer.expect(StatusCode::CREATED, Method::POST, "/api/v1/auth/register", "", Some(body)).await;
    let token = signed_up["token"].as_str().expect("a token").to_owned();
    let user = signed_up["user"]["id"].as_str().expect("a user id").to_owned();
    let body = json!({"title": "The Cell", "source_type": "text", "text": ARTICLE, "subject_area": "biology"});
    let material = balancer.expect(StatusCode::ACCEPTED, Method::POST, "/api/v1/materials", &token, Some(body)).await;
    let material = material["id"].as_str().expect("a material").to_owned();
    let ready = balancer.poll(&format!("/api/v1/materials/{material}"), &token, |m| m["status"] != "processing").await;
    assert_eq!(ready["status"], "ready", "{ready}");
    let path = format!("/api/v1/materials/{material}/generate");
    let job = balancer.expect(StatusCode::ACCEPTED, Method::POST, &path, &token, Some(json!({}))).await;
    let job = job["job_id"].as_str().expect("a job").to_owned();
    let ended = |job: &Value| job["status"] == "done" || job["status"] == "failed";
    let generated = balancer.poll(&format!("/api/v1/jobs/{job}"), &token, ended).await;
    assert_eq!(generated["status"], "done", "{generated}");

    // The material listed, found, and its items, as the learner's reads see them.
    let listed = balancer.expect(StatusCode::OK, Method::GET, "/api/v1/materials", &token, None).await;
    assert_eq!(listed["items"][0]["id"], material.as_str(), "{listed}");
    let found = balancer.expect(StatusCode::OK, Method::GET, "/api/v1/search?q=mitochondria", &token, None).await;
    assert!(found["items"].as_array().is_some_and(|hits| !hits.is_empty()), "{found}");
    let path = format!("/api/v1/materials/{material}/assets");
    let items = balancer.expect(StatusCode::OK, Method::GET, &path, &token, None).await;
    assert!(items["items"].as_array().is_some_and(|items| !items.is_empty()), "{items}");

    // The web app's pages that show them, as the learner's reads too.
    let hits = found["items"].as_array().expect("hits");
    let chunk = hits.iter().find_map(|hit| hit["content_chunk_id"].as_str()).expect("a hit in a passage");
    for path in [
        "/".to_owned(),
        "/materials".to_owned(),
        "/materials?q=mitochondria".to_owned(),
        format!("/materials/{material}"),
        format!("/materials/{material}/chunks/{chunk}"),
        "/progress".to_owned(),
    ] {
        let (node, status, html) = balancer.page(&path, &token).await;
        assert_eq!(status, StatusCode::OK, "{path} on node {node}: {html}");
        assert!(html.contains("The Cell") || path == "/progress", "{path}: {html}");
    }

    // A large material, and the worker killed while it holds the material's job.
    let body = json!({"title": "The Cell, at length", "source_type": "text", "text": ARTICLE.repeat(400)});
    let large = balancer.expect(StatusCode::ACCEPTED, Method::POST, "/api/v1/materials", &token, Some(body)).await;
    let large = large["id"].as_str().expect("a material").to_owned();
    let running = "SELECT EXISTS (SELECT FROM jobs WHERE payload->>'material_id' = $1 AND status = 'running')";
    let deadline = Instant::now() + Duration::from_secs(120);
    while !sqlx::query_scalar::<_, bool>(running).bind(&large).fetch_one(&primary_db).await.expect("poll") {
        assert!(Instant::now() < deadline, "the worker did not claim the job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(worker); // SIGKILL, mid-job
    let _worker = Worker::start(&primary);

    // A review answered across the nodes: each answer is counted by the progress read
    // right after it on the other node.
    let body = json!({"study_material_id": material, "session_type": "review", "configuration": {"max_items": 10}});
    let session = balancer.expect(StatusCode::CREATED, Method::POST, "/api/v1/sessions", &token, Some(body)).await;
    let session = session["id"].as_str().expect("a session").to_owned();
    let mut answered = 0;
    for _ in 0..2 {
        let (wrote_on, read_on) = answer_then_read(&balancer, &token, &session, &mut answered).await;
        assert_ne!(wrote_on, read_on, "written on one node, read on the other");
    }

    // With the replica's replay paused, it cannot show the next answer: the read after it
    // waits for the replica, then is served by the primary, and still counts it.
    caught_up(&primary_db, &replica_db, &user).await;
    sqlx::query("SELECT pg_wal_replay_pause()").execute(&replica_db).await.expect("pause replay");
    let paused = "SELECT pg_get_wal_replay_pause_state() = 'paused'";
    while !sqlx::query_scalar::<_, bool>(paused).fetch_one(&replica_db).await.expect("pause state") {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let behind = r#"database="primary",reason="replica_behind""#;
    let before = [reads(nodes[0].address, behind).await, reads(nodes[1].address, behind).await];
    let (_, read_on) = answer_then_read(&balancer, &token, &session, &mut answered).await;
    assert_eq!(scalar(&replica_db, INTERACTIONS, &user).await, answered - 1, "the replica lacks the last answer");
    assert_eq!(reads(nodes[read_on].address, behind).await, before[read_on] + 1.0, "the primary served the read");
    sqlx::query("SELECT pg_wal_replay_resume()").execute(&replica_db).await.expect("resume replay");
    caught_up(&primary_db, &replica_db, &user).await;

    // Reads ran on the replica (the nodes' counts), writes on the primary (the replica is
    // read-only, and the primary has every answer).
    let on_replica = r#"database="replica""#;
    let replica_reads = reads(nodes[0].address, on_replica).await + reads(nodes[1].address, on_replica).await;
    assert!(replica_reads >= 5.0, "the learner's reads ran on the replica: {replica_reads}");
    assert_eq!(scalar(&primary_db, INTERACTIONS, &user).await, answered);

    // A serve node stops mid-session: the balancer takes it out, the other node serves
    // the rest of the session and nothing is lost.
    // (Gone before the next request: a node still dying accepts a connection and resets it.)
    nodes[0].kill();
    for _ in 0..2 {
        let (wrote_on, read_on) = answer_then_read(&balancer, &token, &session, &mut answered).await;
        assert_eq!((wrote_on, read_on), (1, 1), "the remaining node serves");
    }
    let path = format!("/api/v1/sessions/{session}/end");
    balancer.expect(StatusCode::OK, Method::POST, &path, &token, None).await;
    let summary = balancer.expect(StatusCode::OK, Method::GET, "/api/v1/progress/summary", &token, None).await;
    assert_eq!(answers(&summary), answered, "every answer kept: {summary}");
    assert_eq!(scalar(&primary_db, INTERACTIONS, &user).await, answered);

    // The job the killed worker held was claimed again, and its material is ready.
    let large = balancer.poll(&format!("/api/v1/materials/{large}"), &token, |m| m["status"] != "processing").await;
    assert_eq!(large["status"], "ready", "{large}");
    let attempts = "SELECT attempts FROM jobs WHERE payload->>'material_id' = $1";
    let large_id = large["id"].as_str().expect("an id");
    let attempts: i32 = sqlx::query_scalar(attempts).bind(large_id).fetch_one(&primary_db).await.expect("the job");
    assert_eq!(attempts, 2, "claimed again after the killed worker's lease ran out");

    // How far behind the replica was after a write: 20 profile changes, each timed from
    // its response until the replica showed it.
    let mut lags = Vec::new();
    for n in 0..20 {
        let body = json!({"first_name": format!("Ada {n}")});
        balancer.expect(StatusCode::OK, Method::PATCH, "/api/v1/me", &token, Some(body)).await;
        lags.push(caught_up(&primary_db, &replica_db, &user).await);
    }
    lags.sort();
    println!("replica lag after a write: median {:?}, max {:?} (20 writes)", lags[10], lags[19]);

    // The replica stops: reads go to the primary, with a warning, and answer as before.
    replica.stop();
    let failed = r#"database="primary",reason="replica_failed""#;
    let summary = balancer.expect(StatusCode::OK, Method::GET, "/api/v1/progress/summary", &token, None).await;
    assert_eq!(answers(&summary), answered, "{summary}");
    let listed = balancer.expect(StatusCode::OK, Method::GET, "/api/v1/materials", &token, None).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2), "{listed}");
    assert!(reads(nodes[1].address, failed).await >= 1.0);
    assert!(nodes[1].log().iter().any(|line| line.contains("the read replica failed; reading from the primary")));
}
