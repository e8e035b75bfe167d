//! `studyhall serve` with no DATABASE_URL, as a user first runs it: the binary creates
//! its own cluster, serves, stops cleanly on a signal, and starts again on the same data.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, geteuid};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

use crate::harness::{PASSWORD, process_alive, scratch_dir, studyhall_bin};

/// A running `studyhall serve`, killed if a test fails before stopping it.
pub struct Serve {
    child: Child,
    pub address: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Serve {
    pub fn start(data_dir: &Path) -> Serve {
        Self::start_with(data_dir, &[])
    }

    /// Starts `studyhall serve` on the embedded cluster in `data_dir`, with `env` besides.
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Serve {
        let mut child = Command::new(studyhall_bin())
            .arg("serve")
            .env_remove("DATABASE_URL")
            .env("STUDYHALL_DATA", data_dir)
            .env("STUDYHALL_BIND", "127.0.0.1:0")
            .env("STUDYHALL_LOG_FORMAT", "json")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start studyhall serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let address = listening_address(stderr, log.clone());
        Serve { child, address, log }
    }

    pub async fn get(&self, path: &str) -> reqwest::StatusCode {
        crate::harness::client().get(format!("http://{}{path}", self.address)).send().await.expect("request").status()
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::StatusCode {
        let url = format!("http://{}{path}", self.address);
        crate::harness::client().post(url).json(&body).send().await.expect("request").status()
    }

    pub async fn register(&self, name: &str) -> reqwest::StatusCode {
        let body = json!({"email": format!("{name}@example.org"), "username": name, "password": PASSWORD});
        self.post("/api/v1/auth/register", body).await
    }

    pub async fn sign_in(&self, name: &str) -> reqwest::StatusCode {
        self.post("/api/v1/auth/login", json!({"login": name, "password": PASSWORD})).await
    }

    /// Every line the server has logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("the log").clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).expect("signal studyhall");
    }

    /// Kills the process (SIGKILL) and waits until it is gone, its socket closed with it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit; returns whether it exited successfully.
    pub fn wait(mut self) -> bool {
        self.child.wait().expect("wait for studyhall").success()
    }

    /// Waits for the process to exit and for its log to be read to the end.
    pub fn wait_for_log(mut self) -> Vec<String> {
        self.child.wait().expect("wait for studyhall");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Arc::strong_count(&self.log) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.log()
    }
}

impl Drop for Serve {
    /// Kills the server; when a test failed, first prints what it logged above info, so the
    /// failure says why the server answered as it did.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            let worth =
                log.iter().filter(|line| !line.contains(r#""level":"INFO""#) && !line.contains(r#""level":"DEBUG""#));
            for line in worth {
                eprintln!("studyhall serve {}: {line}", self.address);
            }
        }
        self.kill();
    }
}

/// Reads the JSON log into `log` until the "listening" event, which names the bound
/// address; the rest is read on a thread so the server never blocks on a full pipe.
fn listening_address(stderr: ChildStderr, log: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    let mut lines = BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        let line = line.expect("read the log");
        log.lock().expect("the log").push(line.clone());
        if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
            && event["message"] == "listening"
        {
            let address = event["address"].as_str().expect("an address").parse().expect("a socket address");
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    log.lock().expect("the log").push(line);
                }
            });
            return address;
        }
    }
    panic!("studyhall exited before listening:\n{}", log.lock().expect("the log").join("\n"));
}

fn postmaster_pid(data_dir: &Path) -> i32 {
    let pid_file = std::fs::read_to_string(data_dir.join("pgdata/postmaster.pid")).expect("postmaster.pid");
    pid_file.lines().next().and_then(|pid| pid.trim().parse().ok()).expect("a pid")
}

fn wait_until_gone(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while process_alive(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

pub fn learning_platform(data_dir: &Path) -> PgConnectOptions {
    PgConnectOptions::new()
        .host(&data_dir.join("run").to_string_lossy())
        .username("postgres")
        .database("learning_platform")
}

#[tokio::test]
async fn serve_creates_its_database_stops_cleanly_and_restarts_on_the_same_data() {
    let scratch = scratch_dir();
    let data_dir = scratch.path().join("studyhall-data");

    let first = Serve::start(&data_dir);
    assert_eq!(first.get("/healthz").await, reqwest::StatusCode::OK);
    assert_eq!(first.get("/readyz").await, reqwest::StatusCode::OK, "migrated on start");
    let postgres = postmaster_pid(&data_dir);
    if geteuid().is_root() {
        let owner = User::from_name("postgres").expect("look up postgres").expect("a postgres user");
        let meta = std::fs::metadata(data_dir.join("pgdata")).expect("pgdata");
        assert_eq!(meta.uid(), owner.uid.as_raw(), "as root, the cluster belongs to postgres");
    }
    let mut conn = learning_platform(&data_dir).connect().await.expect("connect over the socket");
    let encoding: String = sqlx::query_scalar(
        "SELECT pg_encoding_to_char(encoding)::text FROM pg_database WHERE datname = 'learning_platform'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("query");
    assert_eq!(encoding, "UTF8");
    sqlx::query("INSERT INTO users (email, username, password_hash) VALUES ('kept@example.org', 'kept', 'x')")
        .execute(&mut conn)
        .await
        .expect("write a row");
    drop(conn);

    first.signal(Signal::SIGTERM);
    assert!(first.wait(), "studyhall exits successfully on SIGTERM");
    assert!(!process_alive(postgres), "PostgreSQL stopped with studyhall");
    assert!(!data_dir.join("pgdata/postmaster.pid").exists(), "PostgreSQL shut down cleanly");

    let second = Serve::start(&data_dir);
    assert_eq!(second.get("/readyz").await, reqwest::StatusCode::OK);
    let mut conn = learning_platform(&data_dir).connect().await.expect("connect over the socket");
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE username = 'kept'")
        .fetch_one(&mut conn)
        .await
        .expect("query");
    assert_eq!(kept, 1, "the second run reuses the first run's data");
    drop(conn);
    let postgres = postmaster_pid(&data_dir);
    second.signal(Signal::SIGINT);
    assert!(second.wait(), "studyhall exits successfully on SIGINT");
    assert!(!process_alive(postgres));
}

#[tokio::test]
async fn a_killed_studyhall_leaves_no_postgres_behind() {
    let scratch = scratch_dir();
    let data_dir = scratch.path().join("studyhall-data");
    let serve = Serve::start(&data_dir);
    let postgres = postmaster_pid(&data_dir);
    serve.signal(Signal::SIGKILL);
    assert!(!serve.wait());
    assert!(wait_until_gone(postgres), "PostgreSQL {postgres} still runs after studyhall was killed");
}

#[tokio::test]
async fn a_killed_postgres_is_restarted_and_serves_again() {
    let scratch = scratch_dir();
    let data_dir = scratch.path().join("studyhall-data");
    let serve = Serve::start_with(&data_dir, &[("STUDYHALL_BCRYPT_COST", "4")]);
    assert_eq!(serve.register("before").await, StatusCode::CREATED);
    let postgres = postmaster_pid(&data_dir);
    kill(Pid::from_raw(postgres), Signal::SIGKILL).expect("kill PostgreSQL");
    assert!(wait_until_gone(postgres), "PostgreSQL {postgres} survived SIGKILL");

    // Until the supervisor has PostgreSQL back, requests are refused with 503, never more.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let status = serve.register(&format!("after{attempt}")).await;
        if status == StatusCode::CREATED {
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "while PostgreSQL is down");
        assert!(Instant::now() < deadline, "PostgreSQL was not restarted:\n{}", serve.log().join("\n"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_ne!(postmaster_pid(&data_dir), postgres, "a new postmaster");
    assert_eq!(serve.sign_in("before").await, StatusCode::OK, "the data from before the crash is there");
    let log = serve.log();
    assert!(
        log.iter().any(|line| line.contains("exited unexpectedly; restarting it") && line.contains("SIGKILL")),
        "the log says why PostgreSQL was restarted:\n{}",
        log.join("\n")
    );
}

#[tokio::test]
async fn a_studyhall_killed_outright_starts_again_at_once_on_the_same_data() {
    let scratch = scratch_dir();
    let data_dir = scratch.path().join("studyhall-data");
    let env = [("STUDYHALL_BCRYPT_COST", "4")];
    let first = Serve::start_with(&data_dir, &env);
    assert_eq!(first.register("kept").await, StatusCode::CREATED);
    first.signal(Signal::SIGKILL);
    assert!(!first.wait());

    // Its PostgreSQL may still be shutting down: the new run waits for it instead of failing.
    let second = Serve::start_with(&data_dir, &env);
    assert_eq!(second.get("/readyz").await, StatusCode::OK);
    assert_eq!(second.sign_in("kept").await, StatusCode::OK);
}

#[test]
fn without_postgresql_binaries_the_error_names_the_package() {
    let scratch = scratch_dir();
    let output = Command::new(studyhall_bin())
        .args(["migrate", "status"])
        .env_remove("DATABASE_URL")
        .env("STUDYHALL_DATA", scratch.path().join("data"))
        .env("STUDYHALL_PG_BIN", scratch.path().join("no-such-dir"))
        .output()
        .expect("run studyhall");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message: Vec<&str> = stderr.lines().filter(|line| line.starts_with("studyhall: ")).collect();
    assert_eq!(message.len(), 1, "one clear error: {stderr}");
    assert!(message[0].contains("PostgreSQL server binaries (initdb, postgres) not found"), "{stderr}");
    assert!(message[0].contains("apt-get install postgresql"), "names the package: {stderr}");
}

/// The text log redirected to a file (a pipe here) is plain text, says where to open
/// studyhall, and has a line for each request, a refused one too.
#[test]
fn a_redirected_text_log_has_no_colour_codes_names_the_url_and_logs_requests() {
    let dir = scratch_dir();
    let mut child = Command::new(studyhall_bin())
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("NO_COLOR")
        .env("STUDYHALL_DATA", dir.path())
        .env("STUDYHALL_BIND", "127.0.0.1:0")
        .env("STUDYHALL_LOG_FORMAT", "text")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start studyhall serve");
    let mut read = Vec::new();
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines().map_while(Result::ok);
    for line in lines.by_ref() {
        let listening = line.contains("listening");
        read.push(line);
        if listening {
            break;
        }
    }
    let listening = read.last().cloned().unwrap_or_default();
    let begin = read.iter().find(|line| line.contains("no account yet")).expect("how to begin");
    assert!(
        begin.contains("the first account to sign up at http://127.0.0.1:")
            && begin.contains("/signup becomes the administrator"),
        "{begin}"
    );
    assert!(
        read.iter().any(|line| line.contains("signup=open") && line.contains("mail=false")),
        "the policy: {}",
        read.join("\n")
    );
    assert!(listening.contains("listening") && listening.contains("url=http://127.0.0.1:"), "{}", read.join("\n"));
    // A request refused (401): its line has the method, path, matched route, status and latency.
    let address = listening.split("url=http://").nth(1).and_then(|rest| rest.split('/').next()).expect("an address");
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    std::io::Write::write_all(
        &mut stream,
        b"GET /api/v1/materials/00000000-0000-0000-0000-000000000001 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .expect("a request");
    std::io::Read::read_to_end(&mut stream, &mut Vec::new()).expect("an answer");
    for line in lines.by_ref() {
        let answered = line.contains("status=401");
        read.push(line);
        if answered {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = read.join("\n");
    assert!(!log.contains('\u{1b}'), "no ANSI escape codes:\n{log}");
    let request = read.last().expect("a line");
    let path = "path=/api/v1/materials/00000000-0000-0000-0000-000000000001";
    for part in ["method=GET", path, "route=/api/v1/materials/{id}", "request_id=", "status=401", "latency="] {
        assert!(request.contains(part), "{part} in {request}\n{log}");
    }
}
