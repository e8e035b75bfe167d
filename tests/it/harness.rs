//! The test harness. One PostgreSQL serves the whole test run: a throwaway embedded
//! cluster in the temp directory (started by the same code as `studyhall serve`), or the
//! server named by TEST_DATABASE_URL. A migrated template database is built once; each
//! test gets its own database cloned from it, so tests run in parallel and share nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use nix::sys::signal::kill;
use nix::unistd::Pid;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, PgPool};
use studyhall::app::AppState;
use studyhall::config::{
    AccountConfig, AuthConfig, BackupConfig, DatabaseConfig, HttpConfig, LearningConfig, LlmConfig, MailConfig,
    MaintainConfig, MaterialsConfig, PoolConfig, Settings, WorkerConfig,
};
use studyhall::db::embedded::{self, ClusterOptions, EmbeddedCluster, PgBinaries};
use studyhall::db::{self, migrate};
use studyhall::root::Background;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Database names of this run start with this; stale ones are recognised by the pid.
const PREFIX: &str = "studyhall_it";

struct Server {
    /// A URL of the `postgres` database, whose path is swapped for each test database.
    base_url: url::Url,
    binaries: PgBinaries,
    template: String,
    /// Kept for the whole run; the cluster stops when the test process exits.
    _cluster: Option<EmbeddedCluster>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

fn server() -> &'static Server {
    // Started on a thread of its own: it runs a small runtime of its own, which cannot
    // be nested in a test's runtime.
    SERVER.get_or_init(|| std::thread::spawn(start_server).join().expect("the test database server starts"))
}

fn start_server() -> Server {
    let binaries = PgBinaries::locate(std::env::var_os("STUDYHALL_PG_BIN").as_deref().map(Path::new))
        .expect("PostgreSQL server binaries");
    let (base_url, cluster) = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => (url.parse().expect("TEST_DATABASE_URL is a URL"), None),
        Err(_) => {
            remove_stale_clusters();
            let dir = std::env::temp_dir().join(format!("{PREFIX}_{}", std::process::id()));
            let cluster =
                EmbeddedCluster::start(&dir, binaries.clone(), ClusterOptions { ephemeral: true, archive_wal: false })
                    .expect("the embedded test cluster starts");
            (cluster.url("postgres").parse().expect("a valid URL"), Some(cluster))
        }
    };
    let template = format!("{PREFIX}_{}_template", std::process::id());
    let server = Server { base_url, binaries, template, _cluster: cluster };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let mut admin = server.admin().await;
        drop_stale_databases(&mut admin).await;
        embedded::create_database(&mut admin, &server.template).await.expect("create the template");
        let pool =
            db::connect(server.options(&server.template), &pool_config()).await.expect("connect to the template");
        migrate::up(&pool).await.expect("migrate the template");
        pool.close().await;
    });
    server
}

impl Server {
    fn url(&self, database: &str) -> String {
        let mut url = self.base_url.clone();
        url.set_path(database);
        url.into()
    }

    fn options(&self, database: &str) -> PgConnectOptions {
        self.url(database).parse().expect("a valid connection URL")
    }

    async fn admin(&self) -> PgConnection {
        self.options("postgres").connect().await.expect("connect to the postgres database")
    }
}

/// Test clusters of earlier runs whose process is gone.
fn remove_stale_clusters() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix(&format!("{PREFIX}_")).and_then(|pid| pid.parse().ok())
            && !process_alive(pid)
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// On a shared TEST_DATABASE_URL server, the databases of earlier runs whose process is gone.
async fn drop_stale_databases(admin: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
        .bind(format!("{PREFIX}_%"))
        .fetch_all(&mut *admin)
        .await
        .expect("list databases");
    for name in names {
        let pid = name.split('_').nth(2).and_then(|pid| pid.parse().ok());
        if pid.is_some_and(|pid| !process_alive(pid)) {
            let statement = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut *admin).await;
        }
    }
}

pub fn process_alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
}

pub fn pool_config() -> PoolConfig {
    PoolConfig {
        max_connections: 5,
        min_connections: 0,
        idle_timeout_secs: 300,
        max_lifetime_secs: 3600,
        acquire_timeout_secs: 10,
    }
}

/// The PostgreSQL binaries of the test server (for pg_dump).
pub fn pg_binaries() -> &'static PgBinaries {
    &server().binaries
}

/// A database of one test's own.
pub struct TestDb {
    pub pool: PgPool,
    pub name: String,
}

impl TestDb {
    /// A fresh copy of the migrated schema.
    pub async fn migrated() -> TestDb {
        let server = server();
        Self::create(&format!("TEMPLATE \"{}\"", server.template)).await
    }

    /// An empty database, as an operator's new one would be.
    pub async fn empty() -> TestDb {
        let name = Self::next_name();
        let mut admin = server().admin().await;
        embedded::create_database(&mut admin, &name).await.expect("create a database");
        Self::open(name).await
    }

    async fn create(how: &str) -> TestDb {
        let name = Self::next_name();
        let statement = format!("CREATE DATABASE \"{name}\" {how}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut server().admin().await)
            .await
            .expect("create a test database");
        Self::open(name).await
    }

    fn next_name() -> String {
        format!("{PREFIX}_{}_{}", std::process::id(), NEXT_DB.fetch_add(1, Ordering::Relaxed))
    }

    async fn open(name: String) -> TestDb {
        let pool = db::connect(server().options(&name), &pool_config()).await.expect("connect to the test database");
        TestDb { pool, name }
    }

    /// A pool acting as the request role, `studyhall_app`, as `serve` does.
    pub async fn requests(&self) -> PgPool {
        let options = server().options(&self.name).options([("role", db::APP_ROLE)]);
        db::connect(options, &pool_config()).await.expect("connect as the request role")
    }

    /// A libpq URL of this database, for the `studyhall` binary and `pg_dump`.
    pub fn url(&self) -> String {
        server().url(&self.name)
    }
}

/// Settings for tests: the cheapest bcrypt cost, quick job retries and short leases,
/// 2 MiB materials read in 512 MiB, and URLs on 127.0.0.1 allowed (tests serve pages
/// there).
pub fn settings() -> Settings {
    Settings {
        database: DatabaseConfig {
            database_url: None,
            app_database_url: None,
            read_database_url: None,
            read_wait_ms: 100,
            data_dir: "unused".into(),
            pg_bin: None,
            pool: pool_config(),
        },
        auth: AuthConfig {
            account: AccountConfig { bcrypt_cost: 4, public_url: None },
            token_ttl_days: 30,
            trusted_proxies: Vec::new(),
            signup: None,
        },
        mail: MailConfig { smtp_url: None, mail_from: None },
        workers: WorkerConfig {
            workers: 2,
            lease_secs: 5,
            max_attempts: 3,
            backoff_secs: 1,
            poll_secs: 1,
            ingest_timeout_secs: 120,
            generate_timeout_secs: 600,
            jobs_per_user: 1,
            shutdown_grace_secs: 5,
        },
        materials: MaterialsConfig {
            max_upload_bytes: 2 * 1024 * 1024,
            url_allow_private: true,
            url_timeout_secs: 5,
            url_max_redirects: 3,
            extract_memory_mib: 512,
            extract_cpu_secs: 30,
            extract_wall_secs: 60,
            // A loaded test machine reads a 20,000-page PDF's structure slowly.
            extract_check_secs: 60,
            // The tests' binary is not studyhall: documents are read by the real one.
            extractor: Some(studyhall_bin()),
        },
        llm: LlmConfig {
            base_url: None,
            model: None,
            api_key: None,
            timeout_secs: 5,
            attempts: 2,
            backoff_ms: 50,
            concurrency: 4,
        },
        learning: LearningConfig { session_idle_minutes: 30, housekeeping_secs: 3600 },
        maintain: MaintainConfig { months_ahead: 3, archive_dir: None, interval_hours: 0 },
        backups: BackupConfig { backup_dir: None, backup_hours: 0 },
        secure_cookies: false,
    }
}

pub fn http_config() -> HttpConfig {
    HttpConfig { bind: "127.0.0.1:0".parse().expect("an address"), request_timeout_secs: 30, max_body_bytes: 64 * 1024 }
}

/// studyhall's router served for real on 127.0.0.1, on a database of its own.
///
/// An app made by `spawn` or `spawn_with` runs no job workers: a test runs the jobs it
/// queued with [`TestApp::run_jobs`], the workers' own code on the test's task, and reads
/// their outcome at once. One made by `with_workers` or `spawn_configured` runs the job
/// workers and the upkeep as `serve` does (the tests of the workers, and pages whose
/// clicks queue jobs).
pub struct TestApp {
    pub address: SocketAddr,
    pub db: TestDb,
    pub client: reqwest::Client,
    state: AppState,
    jobs: WorkerConfig,
    _shutdown: oneshot::Sender<()>,
    /// Job workers and upkeep, as `serve` runs them; aborted when the app is dropped.
    workers: Option<Background>,
}

impl TestApp {
    /// An app whose jobs run when the test calls [`TestApp::run_jobs`].
    pub async fn spawn() -> TestApp {
        Self::spawn_with(TestDb::migrated().await, http_config()).await
    }

    pub async fn spawn_with(db: TestDb, config: HttpConfig) -> TestApp {
        Self::start(db, config, settings(), false).await
    }

    /// An app with job workers and upkeep running in the background, as `serve` has.
    pub async fn with_workers() -> TestApp {
        Self::spawn_configured(TestDb::migrated().await, http_config(), settings()).await
    }

    /// An app with `settings`' job workers and upkeep running in the background.
    pub async fn spawn_configured(db: TestDb, config: HttpConfig, settings: Settings) -> TestApp {
        Self::start(db, config, settings, true).await
    }

    async fn start(db: TestDb, config: HttpConfig, settings: Settings, workers: bool) -> TestApp {
        let listener = TcpListener::bind(config.bind).await.expect("bind a port");
        let address = listener.local_addr().expect("the bound address");
        let state = AppState::new(db.requests().await, db.pool.clone(), None, &settings, Some(address))
            .expect("valid settings");
        let mut workers = workers.then(|| Background::start(state.clone(), &settings.workers));
        if let Some(workers) = workers.as_mut() {
            // As `serve` does (with STUDYHALL_BACKUP_HOURS set): the test server's tools.
            let tools = studyhall::backup::Server {
                pool: db.pool.clone(),
                url: db.url(),
                binaries: pg_binaries().clone(),
                wal_archive: None,
            };
            workers.take_backups(state.clone(), Ok(tools));
        }
        let router = studyhall::root::router(state.clone(), &config);
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(studyhall::root::run(listener, router, async {
            let _ = stopped.await;
        }));
        TestApp { address, db, client: client(), state, jobs: settings.workers, _shutdown: shutdown, workers }
    }

    /// Whether this app's jobs run only when the test calls [`TestApp::run_jobs`].
    pub fn runs_jobs_on_call(&self) -> bool {
        self.workers.is_none()
    }

    /// Runs every job queued so far to completion, one after another on this task, with
    /// the workers' own code (`Background::run_due`), and returns how many attempts ran.
    /// An attempt that failed is queued again after its backoff: it is made due at once
    /// and run, until each job is done or failed. Only for an app without workers.
    pub async fn run_jobs(&self) -> usize {
        assert!(self.runs_jobs_on_call(), "this app's own workers run its jobs");
        let mut ran = 0;
        loop {
            ran += Background::run_due(&self.state, &self.jobs).await.expect("the jobs run");
            let retried = sqlx::query("UPDATE jobs SET run_at = now() WHERE status = 'queued'")
                .execute(&self.db.pool)
                .await
                .expect("retried jobs made due");
            if retried.rows_affected() == 0 {
                return ran;
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

/// A directory in the temp dir that the `postgres` user can enter (clusters run as
/// `postgres` when the tests run as root), removed when dropped.
pub fn scratch_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .prefix("studyhall-it-")
        .permissions(std::fs::Permissions::from_mode(0o755))
        .tempdir()
        .expect("a scratch directory")
}

/// The `studyhall` binary built for these tests.
pub fn studyhall_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_studyhall"))
}

/// The SQLSTATE a statement failed with; panics if it succeeded.
pub fn sqlstate<T: std::fmt::Debug>(result: Result<T, sqlx::Error>) -> String {
    let error = result.expect_err("the statement is refused");
    error
        .as_database_error()
        .and_then(|e| e.code().map(|c| c.into_owned()))
        .unwrap_or_else(|| panic!("a database error, not {error}"))
}

/// An HTTP client for the tests.
pub fn client() -> reqwest::Client {
    studyhall::tls::install_provider();
    reqwest::Client::new()
}

/// A password every test account can use: long and not common.
pub const PASSWORD: &str = "glacier violet lamp orbit";

/// A signed-in test account.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub user_id: uuid::Uuid,
}

impl TestApp {
    /// Sends `body` (if any) as JSON with the token (if any); returns the status and the
    /// body parsed as JSON (null when empty).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send the request");
        let status = response.status();
        let bytes = response.bytes().await.expect("read the body");
        let body = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).expect("a JSON body")
        };
        (status, body)
    }

    /// The job `id` as `GET /api/v1/jobs/{id}` shows it once it is done or failed: after
    /// running the queued jobs (an app without workers), or as the app's own workers end
    /// it (polled, up to a minute).
    pub async fn job_ended(&self, session: &Session, id: &str) -> serde_json::Value {
        let read = async || {
            let (status, job) =
                self.call(reqwest::Method::GET, &format!("/api/v1/jobs/{id}"), Some(&session.token), None).await;
            assert_eq!(status, reqwest::StatusCode::OK, "{job}");
            job
        };
        let ended = |job: &serde_json::Value| job["status"] == "done" || job["status"] == "failed";
        if self.runs_jobs_on_call() {
            self.run_jobs().await;
            let job = read().await;
            assert!(ended(&job), "the job ran: {job}");
            return job;
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let job = read().await;
            if ended(&job) {
                return job;
            }
            assert!(std::time::Instant::now() < deadline, "the job is still running: {job}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Registers `name` (email `<name>@example.org`, password [`PASSWORD`]).
    pub async fn register(&self, name: &str) -> Session {
        let body = serde_json::json!({"email": format!("{name}@example.org"), "username": name, "password": PASSWORD});
        let (status, body) = self.call(reqwest::Method::POST, "/api/v1/auth/register", None, Some(body)).await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "register {name}: {body}");
        Session {
            token: body["token"].as_str().expect("a token").to_owned(),
            user_id: body["user"]["id"].as_str().and_then(|id| id.parse().ok()).expect("a user id"),
        }
    }
}
