//! Every setting studyhall reads. Each one is an environment variable (documented in
//! `.env.example`) and also a command-line flag; `studyhall <command> --help` lists those
//! the command uses: [`Settings`] for `serve` and `worker`, the groups a one-off command
//! needs for it (`user`: [`DatabaseConfig`], [`AccountConfig`]). Flags are `global` so
//! that they may follow the subcommand they belong to (`studyhall backup create
//! --backup-dir ...`); they reach only the commands below the one that takes them.
//!
//! None of these types derive `Debug`: `DATABASE_URL` may carry a password, and a
//! settings struct that cannot be printed cannot leak it into a log.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};

/// The settings of `serve` and `worker`.
#[derive(Args, Clone)]
pub struct Settings {
    #[command(flatten, next_help_heading = "Database")]
    pub database: DatabaseConfig,
    #[command(flatten, next_help_heading = "Accounts")]
    pub auth: AuthConfig,
    #[command(flatten, next_help_heading = "Mail")]
    pub mail: MailConfig,
    #[command(flatten, next_help_heading = "Jobs")]
    pub workers: WorkerConfig,
    #[command(flatten, next_help_heading = "Materials")]
    pub materials: MaterialsConfig,
    #[command(flatten, next_help_heading = "Language model")]
    pub llm: LlmConfig,
    #[command(flatten, next_help_heading = "Learning")]
    pub learning: LearningConfig,
    #[command(flatten, next_help_heading = "Maintenance")]
    pub maintain: MaintainConfig,
    #[command(flatten, next_help_heading = "Backups")]
    pub backups: BackupConfig,
    /// Mark the web app's cookies Secure (set it when studyhall is served over TLS).
    #[arg(long, env = "STUDYHALL_SECURE_COOKIES", default_value_t = false, global = true)]
    pub secure_cookies: bool,
}

/// How to reach PostgreSQL: a server given by URL, or the embedded cluster.
#[derive(Args, Clone)]
pub struct DatabaseConfig {
    /// PostgreSQL server to use. Unset: studyhall runs its own embedded cluster in
    /// STUDYHALL_DATA.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// A login for request handling that owns nothing and cannot bypass row-level
    /// security (a member of `studyhall_app`). Unset: requests run as `studyhall_app`
    /// over DATABASE_URL's (or the embedded cluster's) connection.
    #[arg(long, env = "STUDYHALL_APP_DATABASE_URL", hide_env_values = true, global = true)]
    pub app_database_url: Option<String>,

    /// A streaming replica of DATABASE_URL's server for read-only requests (progress,
    /// search, material and item lists, a material's pages, exports), as `studyhall_app`.
    /// A learner's read waits for it to show their own last change, else runs on the
    /// primary; so does every read while it cannot be reached. Unset: DATABASE_URL only.
    #[arg(long, env = "STUDYHALL_READ_DATABASE_URL", hide_env_values = true, global = true)]
    pub read_database_url: Option<String>,

    /// Milliseconds a read waits for the replica to show the learner's last change before
    /// it reads from the primary instead.
    #[arg(long = "read-wait-ms", env = "STUDYHALL_READ_WAIT_MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=10_000), global = true)]
    pub read_wait_ms: u64,

    /// Directory of the embedded cluster, created on first run.
    #[arg(long, env = "STUDYHALL_DATA", default_value = "studyhall-data", global = true)]
    pub data_dir: PathBuf,

    /// Directory holding the PostgreSQL server binaries (initdb, postgres). Unset: PATH,
    /// then the newest /usr/lib/postgresql/*/bin.
    #[arg(long, env = "STUDYHALL_PG_BIN", global = true)]
    pub pg_bin: Option<PathBuf>,

    #[command(flatten)]
    pub pool: PoolConfig,
}

/// Connection pool settings; the defaults are the spec's recommended settings.
#[derive(Args, Clone)]
pub struct PoolConfig {
    /// Most connections one studyhall process holds.
    #[arg(long = "db-max-connections", env = "STUDYHALL_DB_MAX_CONNECTIONS", default_value_t = 20, global = true)]
    pub max_connections: u32,

    /// Connections kept open even when idle.
    #[arg(long = "db-min-connections", env = "STUDYHALL_DB_MIN_CONNECTIONS", default_value_t = 0, global = true)]
    pub min_connections: u32,

    /// Seconds an idle connection is kept before it is closed.
    #[arg(long = "db-idle-timeout", env = "STUDYHALL_DB_IDLE_TIMEOUT_SECS", default_value_t = 300, global = true)]
    pub idle_timeout_secs: u64,

    /// Seconds after which a connection is closed and replaced, however busy.
    #[arg(long = "db-max-lifetime", env = "STUDYHALL_DB_MAX_LIFETIME_SECS", default_value_t = 3600, global = true)]
    pub max_lifetime_secs: u64,

    /// Seconds a request waits for a free connection before it is answered 503.
    #[arg(long = "db-acquire-timeout", env = "STUDYHALL_DB_ACQUIRE_TIMEOUT_SECS", default_value_t = 5, global = true)]
    pub acquire_timeout_secs: u64,
}

impl DatabaseConfig {
    pub fn read_wait(&self) -> Duration {
        Duration::from_millis(self.read_wait_ms)
    }
}

impl PoolConfig {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn max_lifetime(&self) -> Duration {
        Duration::from_secs(self.max_lifetime_secs)
    }

    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_secs(self.acquire_timeout_secs)
    }
}

/// Where `serve` listens unless STUDYHALL_BIND says otherwise.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The HTTP server.
#[derive(Args, Clone)]
pub struct HttpConfig {
    /// Address and port to listen on.
    #[arg(long, env = "STUDYHALL_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,

    /// Seconds a request may take before it is answered 503.
    #[arg(long, env = "STUDYHALL_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Largest request body accepted, in bytes; larger ones are answered 413 (new
    /// materials may be larger: STUDYHALL_MAX_UPLOAD_BYTES).
    #[arg(long, env = "STUDYHALL_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
}

/// Materials: how large they may be, and how they are fetched from URLs.
#[derive(Args, Clone)]
pub struct MaterialsConfig {
    /// Largest material accepted (an uploaded file, pasted text, a fetched page), in
    /// bytes; larger uploads are answered 413.
    #[arg(long, env = "STUDYHALL_MAX_UPLOAD_BYTES", default_value_t = 25 * 1024 * 1024, global = true)]
    pub max_upload_bytes: usize,

    /// Fetch URLs whose host resolves to loopback, private or link-local addresses
    /// (refused by default: server-side request forgery).
    #[arg(long, env = "STUDYHALL_URL_ALLOW_PRIVATE", default_value_t = false, global = true)]
    pub url_allow_private: bool,

    /// Seconds a URL fetch may take.
    #[arg(long, env = "STUDYHALL_URL_TIMEOUT_SECS", default_value_t = 30, global = true)]
    pub url_timeout_secs: u64,

    /// Redirects followed when fetching a URL.
    #[arg(long, env = "STUDYHALL_URL_MAX_REDIRECTS", default_value_t = 5, global = true)]
    pub url_max_redirects: u32,

    /// Memory (address space) one document reader may use, in MiB: documents are read
    /// in a child process held to this, so that no file can exhaust the server's memory.
    #[arg(long, env = "STUDYHALL_EXTRACT_MEMORY_MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(64..), global = true)]
    pub extract_memory_mib: u64,

    /// Seconds of CPU time one document reader may use.
    #[arg(long, env = "STUDYHALL_EXTRACT_CPU_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub extract_cpu_secs: u64,

    /// Seconds one document reader may take in all (it is killed then).
    #[arg(long, env = "STUDYHALL_EXTRACT_WALL_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub extract_wall_secs: u64,

    /// Seconds the structure check of an upload (does the PDF, DOCX or EPUB open?) may
    /// take, at most: the uploader waits for it.
    #[arg(long, env = "STUDYHALL_EXTRACT_CHECK_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub extract_check_secs: u64,

    /// The program that reads documents: a studyhall binary, run as `studyhall extract`.
    /// Unset, this very binary.
    #[arg(long, env = "STUDYHALL_EXTRACTOR", global = true)]
    pub extractor: Option<std::path::PathBuf>,
}

impl MaterialsConfig {
    pub fn url_timeout(&self) -> Duration {
        Duration::from_secs(self.url_timeout_secs)
    }

    pub fn extract_wall(&self) -> Duration {
        Duration::from_secs(self.extract_wall_secs)
    }

    /// The upload check's wall time: its own limit, or the reader's if less.
    pub fn extract_check_wall(&self) -> Duration {
        Duration::from_secs(self.extract_check_secs.min(self.extract_wall_secs))
    }
}

impl HttpConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }
}

/// `studyhall backup`.
#[derive(Args, Clone)]
pub struct BackupConfig {
    /// Where backups are kept (default: `backups/` in STUDYHALL_DATA).
    #[arg(long, env = "STUDYHALL_BACKUP_DIR", global = true)]
    pub backup_dir: Option<PathBuf>,

    /// `serve` takes a backup (as `backup create` does) whenever the newest is older than
    /// this many hours; 0 leaves backups to `backup create` run by hand or cron.
    #[arg(long, env = "STUDYHALL_BACKUP_HOURS", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=8760), global = true)]
    pub backup_hours: u64,
}

impl BackupConfig {
    /// Where backups go: STUDYHALL_BACKUP_DIR, or `backups/` in the data directory.
    pub fn dir(&self, data_dir: &Path) -> PathBuf {
        self.backup_dir.clone().unwrap_or_else(|| data_dir.join("backups"))
    }
}

/// What `serve` and the `user` commands share: passwords, and the address links name.
#[derive(Args, Clone)]
pub struct AccountConfig {
    /// bcrypt cost of new password hashes (4 to 31; each step doubles the work).
    #[arg(long, env = "STUDYHALL_BCRYPT_COST", default_value_t = 12, value_parser = clap::value_parser!(u32).range(4..=31), global = true)]
    pub bcrypt_cost: u32,

    /// The address people open studyhall at (`https://learn.example.org`), for the
    /// invitation and password-reset links. Unset: http:// and the address `serve` listens
    /// on (STUDYHALL_BIND).
    #[arg(long, env = "STUDYHALL_PUBLIC_URL", value_parser = parse_public_url, global = true)]
    pub public_url: Option<url::Url>,
}

impl AccountConfig {
    /// The links of a server listening on `bind`: its public URL, or the address itself.
    pub fn links(&self, bind: SocketAddr) -> Links {
        let base = self.public_url.as_ref().map_or_else(|| url_of(bind), url::Url::to_string);
        Links(base.trim_end_matches('/').to_owned())
    }
}

/// Accounts and sign-in.
#[derive(Args, Clone)]
pub struct AuthConfig {
    #[command(flatten)]
    pub account: AccountConfig,

    /// Days a sign-in token stays valid.
    #[arg(long, env = "STUDYHALL_TOKEN_TTL_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650), global = true)]
    pub token_ttl_days: u32,

    /// Proxies whose X-Forwarded-For is believed, as comma-separated addresses or
    /// networks (`10.0.0.0/8,127.0.0.1`). Unset: the peer address is the client's.
    #[arg(long, env = "STUDYHALL_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network, global = true)]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Who may create an account: `open` (anyone who reaches the server), `invite` (only
    /// with an invitation link) or `closed` (only operators and administrators make
    /// accounts). Unset: open when the server listens on a loopback address, invite
    /// otherwise. In every mode, while there is no account, the first to sign up may, and
    /// becomes the administrator.
    #[arg(long, env = "STUDYHALL_SIGNUP", value_enum, global = true)]
    pub signup: Option<Signup>,
}

/// Who may create an account (STUDYHALL_SIGNUP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Signup {
    /// Anyone who reaches the server.
    Open,
    /// Only with an invitation link (`studyhall user invite`, or an administrator's).
    Invite,
    /// No one: operators and administrators make accounts.
    Closed,
}

/// An http or https URL with a host, and nothing after its path.
fn parse_public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|err| format!("{text:?} is not a URL: {err}"))?;
    let web = matches!(url.scheme(), "http" | "https") && url.has_host();
    if !web || url.query().is_some() || url.fragment().is_some() {
        return Err(format!("{text:?} is not an http(s) address such as https://learn.example.org"));
    }
    Ok(url)
}

/// A link to `address` that a browser can open (the name `localhost` when it is every
/// interface's).
pub fn url_of(address: SocketAddr) -> String {
    match address.ip() {
        ip if ip.is_unspecified() => format!("http://localhost:{}/", address.port()),
        std::net::IpAddr::V6(ip) => format!("http://[{ip}]:{}/", address.port()),
        ip => format!("http://{ip}:{}/", address.port()),
    }
}

/// What sign-up and the links studyhall sends resolve to on a server listening on a
/// given address.
#[derive(Clone)]
pub struct Site {
    pub signup: Signup,
    pub links: Links,
}

/// Links to pages of studyhall at its public address (without a trailing slash).
#[derive(Clone)]
pub struct Links(String);

impl Links {
    /// A link to `path_and_query` (starting with '/').
    pub fn to(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.0)
    }
}

/// An address (`10.1.2.3`) or a network (`10.0.0.0/8`).
fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{text:?} is neither an IP address nor a network such as 10.0.0.0/8"))
}

impl AuthConfig {
    pub fn token_ttl(&self) -> chrono::Duration {
        chrono::Duration::days(self.token_ttl_days.into())
    }

    /// The sign-up policy and the public address of a server listening on `bind`: the
    /// settings, or their defaults (open on a loopback address, invite otherwise; the
    /// address itself).
    pub fn site(&self, bind: SocketAddr) -> Site {
        let signup = self.signup.unwrap_or(if bind.ip().is_loopback() { Signup::Open } else { Signup::Invite });
        Site { signup, links: self.account.links(bind) }
    }
}

/// Mail, for password-reset links. Unset, "Forgot password?" tells learners to ask the
/// administrator.
#[derive(Args, Clone)]
pub struct MailConfig {
    /// The SMTP server mail is sent through: `smtp://user:pass@host:587` (STARTTLS,
    /// required), `smtps://user:pass@host:465` (TLS from the start), or
    /// `smtp://127.0.0.1:25?tls=none` (unencrypted: a relay on the same machine only).
    /// Never logged, never shown.
    #[arg(long, env = "STUDYHALL_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,

    /// The sender of studyhall's mail: `studyhall <noreply@learn.example.org>` or an
    /// address alone; required with STUDYHALL_SMTP_URL.
    #[arg(long, env = "STUDYHALL_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
}

/// Background job workers.
#[derive(Args, Clone)]
pub struct WorkerConfig {
    /// Jobs one process runs at once. For `serve`, 0 runs none in-process (leave them to
    /// `studyhall worker` processes).
    #[arg(long, env = "STUDYHALL_WORKERS", default_value_t = 2, global = true)]
    pub workers: usize,

    /// Seconds a worker holds a job before another may claim it (kept alive while the
    /// job runs; runs out only when its worker is gone).
    #[arg(long, env = "STUDYHALL_JOB_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub lease_secs: u64,

    /// Attempts before a job is given up.
    #[arg(long, env = "STUDYHALL_JOB_ATTEMPTS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100), global = true)]
    pub max_attempts: u32,

    /// Seconds before the first retry; each further retry waits twice as long.
    #[arg(long, env = "STUDYHALL_JOB_BACKOFF_SECS", default_value_t = 5, global = true)]
    pub backoff_secs: u64,

    /// Seconds between looks for due jobs when no notification comes.
    #[arg(long, env = "STUDYHALL_JOB_POLL_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub poll_secs: u64,

    /// Seconds an ingestion attempt may take (fetching and reading a document) before it
    /// is stopped and counted as a failed attempt.
    #[arg(long, env = "STUDYHALL_INGEST_TIMEOUT_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub ingest_timeout_secs: u64,

    /// Seconds a generation attempt may take (with a language model, a long material
    /// takes long) before it is stopped and counted as a failed attempt.
    #[arg(long, env = "STUDYHALL_GENERATE_TIMEOUT_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub generate_timeout_secs: u64,

    /// Jobs of one learner that run at once, across every worker: one learner's slow
    /// files wait for each other, not other learners' work.
    #[arg(long, env = "STUDYHALL_JOBS_PER_USER", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub jobs_per_user: u32,

    /// Seconds running jobs get to finish when studyhall stops; then they are stopped
    /// (their document readers killed) and resumed by the next worker to start.
    #[arg(long, env = "STUDYHALL_SHUTDOWN_GRACE_SECS", default_value_t = 30, global = true)]
    pub shutdown_grace_secs: u64,
}

impl WorkerConfig {
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }

    pub fn backoff(&self) -> Duration {
        Duration::from_secs(self.backoff_secs)
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_secs(self.poll_secs)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// The `openai` generator: any OpenAI-compatible chat-completions endpoint (OpenAI,
/// Ollama, vLLM, llama.cpp). Unset, only the builtin generator is offered.
#[derive(Args, Clone)]
pub struct LlmConfig {
    /// The endpoint's base URL, as OpenAI clients take it: `https://api.openai.com/v1`,
    /// `http://127.0.0.1:11434/v1` (Ollama). Requests go to `<base>/chat/completions`;
    /// `/v1` is added when the URL has no path.
    #[arg(long = "llm-base-url", env = "STUDYHALL_LLM_BASE_URL", global = true)]
    pub base_url: Option<url::Url>,

    /// The model to ask (`gpt-4o-mini`, `llama3.1:8b`, ...); required with a base URL.
    #[arg(long = "llm-model", env = "STUDYHALL_LLM_MODEL", global = true)]
    pub model: Option<String>,

    /// Sent as `Authorization: Bearer ...`; local servers usually need none. Never
    /// logged, never shown.
    #[arg(long = "llm-api-key", env = "STUDYHALL_LLM_API_KEY", hide_env_values = true, global = true)]
    pub api_key: Option<String>,

    /// Seconds one request may take (connecting, thinking, answering).
    #[arg(long = "llm-timeout", env = "STUDYHALL_LLM_TIMEOUT_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub timeout_secs: u64,

    /// Tries per request when the endpoint fails, is too slow or answers malformed output.
    #[arg(long = "llm-attempts", env = "STUDYHALL_LLM_ATTEMPTS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=10), global = true)]
    pub attempts: u32,

    /// Milliseconds before the first retry; each further retry waits twice as long.
    #[arg(long = "llm-backoff", env = "STUDYHALL_LLM_BACKOFF_MS", default_value_t = 1000, global = true)]
    pub backoff_ms: u64,

    /// Requests one generation job has in flight at once.
    #[arg(long = "llm-concurrency", env = "STUDYHALL_LLM_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64), global = true)]
    pub concurrency: u32,
}

impl LlmConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    pub fn backoff(&self) -> Duration {
        Duration::from_millis(self.backoff_ms)
    }
}

/// Study sessions.
#[derive(Args, Clone)]
pub struct LearningConfig {
    /// Minutes without an interaction after which an active session is `abandoned`.
    #[arg(long, env = "STUDYHALL_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=10_080), global = true)]
    pub session_idle_minutes: u64,

    /// Seconds between housekeeping runs in `serve` and `worker`: idle sessions are
    /// abandoned and recent progress rolled up (one node at a time).
    #[arg(long, env = "STUDYHALL_HOUSEKEEPING_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub housekeeping_secs: u64,
}

impl LearningConfig {
    pub fn session_idle(&self) -> Duration {
        Duration::from_secs(self.session_idle_minutes * 60)
    }

    pub fn housekeeping_interval(&self) -> Duration {
        Duration::from_secs(self.housekeeping_secs)
    }
}

/// Data upkeep (`studyhall maintain`, also run on a schedule by the nodes that run workers).
#[derive(Args, Clone)]
pub struct MaintainConfig {
    /// Monthly partitions made ahead of the current month.
    #[arg(long, env = "STUDYHALL_PARTITION_MONTHS_AHEAD", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=60), global = true)]
    pub months_ahead: u32,

    /// Where archived audit months are exported (CSV compressed with zstd, and a
    /// checksum manifest). Unset: archives stay in the database only.
    #[arg(long, env = "STUDYHALL_ARCHIVE_DIR", global = true)]
    pub archive_dir: Option<PathBuf>,

    /// Hours between scheduled maintenance runs; 0 runs it only by hand.
    #[arg(long, env = "STUDYHALL_MAINTAIN_HOURS", default_value_t = 24, global = true)]
    pub interval_hours: u64,
}

/// `studyhall serve`.
#[derive(Args, Clone)]
pub struct ServeConfig {
    #[command(flatten)]
    pub http: HttpConfig,

    /// Apply pending migrations on start. The embedded cluster is always migrated; a
    /// server given by DATABASE_URL only with this set (otherwise run `studyhall migrate
    /// up`, and /readyz reports pending migrations).
    #[arg(long, env = "STUDYHALL_AUTO_MIGRATE", default_value_t = false)]
    pub auto_migrate: bool,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Logging, shared by every subcommand.
#[derive(Args, Clone)]
pub struct LogConfig {
    /// Log format.
    #[arg(long, env = "STUDYHALL_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,

    /// Which events to log, as a tracing filter (e.g. `info`, `studyhall=debug`). Unset:
    /// `info` for `serve` and `worker`, warnings and errors only for one-off commands.
    #[arg(long, env = "STUDYHALL_LOG", global = true)]
    pub log: Option<String>,

    /// Log what a one-off command does (`info`), not only warnings and errors.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(signup: Option<Signup>, public_url: Option<&str>) -> AuthConfig {
        let public_url = public_url.map(|url| parse_public_url(url).expect("a public URL"));
        AuthConfig {
            account: AccountConfig { bcrypt_cost: 4, public_url },
            token_ttl_days: 1,
            trusted_proxies: Vec::new(),
            signup,
        }
    }

    #[test]
    fn sign_up_is_open_on_loopback_and_by_invitation_elsewhere_unless_set() {
        let site = |bind: &str, signup| auth(signup, None).site(bind.parse().expect("an address"));
        for loopback in ["127.0.0.1:8080", "[::1]:8080"] {
            assert_eq!(site(loopback, None).signup, Signup::Open, "{loopback}");
        }
        for reachable in ["0.0.0.0:8080", "[::]:8080", "192.168.1.5:80"] {
            assert_eq!(site(reachable, None).signup, Signup::Invite, "{reachable}");
        }
        assert_eq!(site("0.0.0.0:8080", Some(Signup::Open)).signup, Signup::Open);
        assert_eq!(site("127.0.0.1:8080", Some(Signup::Closed)).signup, Signup::Closed);
    }

    #[test]
    fn links_name_the_public_url_or_the_address_served() {
        let link =
            |bind: &str, url| auth(None, url).site(bind.parse().expect("an address")).links.to("/signup?invite=x");
        assert_eq!(link("127.0.0.1:8080", None), "http://127.0.0.1:8080/signup?invite=x");
        assert_eq!(link("0.0.0.0:80", None), "http://localhost:80/signup?invite=x");
        assert_eq!(link("[::1]:8080", None), "http://[::1]:8080/signup?invite=x");
        let public = Some("https://learn.example.org/");
        assert_eq!(link("0.0.0.0:80", public), "https://learn.example.org/signup?invite=x");
        for wrong in ["learn.example.org", "ftp://learn.example.org", "https://learn.example.org/?a=b", "https://"] {
            assert!(parse_public_url(wrong).is_err(), "{wrong}");
        }
    }
}
