//! The embedded PostgreSQL cluster: studyhall's zero-setup default, and the throwaway
//! cluster of the test suite.
//!
//! The cluster lives in `<data_dir>/pgdata` and listens only on a Unix socket in
//! `<data_dir>/run` (mode 0700, so only its owner can connect; authentication is `trust`
//! behind that). It runs from the machine's own PostgreSQL server binaries. When
//! studyhall runs as root, the cluster runs as the `postgres` system user, since
//! PostgreSQL refuses to run as root.
//!
//! The postmaster is a child process that is told to shut down fast (SIGINT) when its
//! parent dies, whatever the way: a studyhall killed with SIGKILL leaves no server behind.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, chown, geteuid};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::error::{Error, Result};

/// The database studyhall keeps its data in, as the spec's creation script names it.
pub const DATABASE: &str = "learning_platform";

/// The cluster's superuser, who owns `learning_platform` as the spec's script says.
pub const SUPERUSER: &str = "postgres";

/// The oldest PostgreSQL major version studyhall supports.
const MIN_MAJOR_VERSION: u32 = 15;

/// Linux caps a Unix socket path at 108 bytes, including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

const SOCKET_FILE: &str = ".s.PGSQL.5432";

const INSTALL_HINT: &str = "install PostgreSQL's server package (Debian/Ubuntu: \
    `apt-get install postgresql`; Fedora/RHEL: `dnf install postgresql-server`; macOS: \
    `brew install postgresql@15`), point STUDYHALL_PG_BIN at its bin directory, or set \
    DATABASE_URL to use an existing server";

/// Where the PostgreSQL server binaries are.
#[derive(Debug, Clone)]
pub struct PgBinaries {
    dir: PathBuf,
}

impl PgBinaries {
    /// Finds `initdb` and `postgres`: in `explicit` if given; otherwise on PATH, then in
    /// the newest `/usr/lib/postgresql/*/bin` (where Debian installs them off PATH).
    pub fn locate(explicit: Option<&Path>) -> Result<Self> {
        let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
        let found = match explicit {
            Some(dir) => has_server(dir).then(|| dir.to_path_buf()),
            None => std::env::var_os("PATH")
                .into_iter()
                .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
                .find(|dir| has_server(dir))
                .or_else(|| newest_debian_bin_dir().filter(|dir| has_server(dir))),
        };
        let Some(dir) = found else {
            let searched = match explicit {
                Some(dir) => format!("STUDYHALL_PG_BIN ({})", dir.display()),
                None => "PATH and /usr/lib/postgresql/*/bin".to_owned(),
            };
            return Err(Error::Embedded(format!(
                "PostgreSQL server binaries (initdb, postgres) not found in {searched}: {INSTALL_HINT}"
            )));
        };
        // Follow a symlinked `postgres` (as in /usr/local/bin) to the real bin directory,
        // where its sibling tools (pg_dump, pg_basebackup, ...) are too.
        let dir = fs::canonicalize(dir.join("postgres"))
            .ok()
            .and_then(|real| real.parent().map(Path::to_path_buf))
            .unwrap_or(dir);
        let binaries = PgBinaries { dir };
        let major = binaries.major_version()?;
        if major < MIN_MAJOR_VERSION {
            return Err(Error::Embedded(format!(
                "PostgreSQL {major} found in {}, but studyhall needs {MIN_MAJOR_VERSION} or newer: {INSTALL_HINT}",
                binaries.dir.display()
            )));
        }
        Ok(binaries)
    }

    /// The path of one of the binaries (`pg_dump`, `psql`, ...).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn major_version(&self) -> Result<u32> {
        let output = Command::new(self.path("postgres"))
            .arg("--version")
            .output()
            .map_err(Error::io(format!("running {} --version", self.path("postgres").display())))?;
        // "postgres (PostgreSQL) 15.19 (Debian 15.19-0+deb12u1)"
        let text = String::from_utf8_lossy(&output.stdout);
        text.split_whitespace()
            .nth(2)
            .and_then(|version| version.split('.').next())
            .and_then(|major| major.parse().ok())
            .ok_or_else(|| Error::Embedded(format!("cannot read the PostgreSQL version from {text:?}")))
    }
}

fn newest_debian_bin_dir() -> Option<PathBuf> {
    fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, dir)| dir)
}

/// Settings of a cluster beyond where it lives.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClusterOptions {
    /// Trade durability for speed (fsync off): only for throwaway test clusters.
    pub ephemeral: bool,
    /// Archive every WAL segment to `<data_dir>/wal-archive`, for point-in-time recovery
    /// (on for studyhall's own cluster).
    pub archive_wal: bool,
}

/// Where a cluster in `data_dir` archives its WAL.
pub fn wal_archive(data_dir: &Path) -> PathBuf {
    data_dir.join("wal-archive")
}

/// A running embedded cluster. Stop it with [`EmbeddedCluster::stop`]; dropping it
/// stops it too.
pub struct EmbeddedCluster {
    data_dir: PathBuf,
    pgdata: PathBuf,
    socket_dir: PathBuf,
    postmaster: Pid,
    /// Receives the postmaster's exit status from its supervisor thread. (A Mutex
    /// only so that the cluster can be shared between threads.)
    exited: Mutex<Receiver<io::Result<ExitStatus>>>,
    stopped: bool,
}

impl EmbeddedCluster {
    /// Starts the cluster in `data_dir`, creating it on first use. Blocking: call it
    /// from a blocking thread in async code.
    pub fn start(data_dir: &Path, binaries: PgBinaries, options: ClusterOptions) -> Result<Self> {
        let owner = if geteuid().is_root() {
            let user = User::from_name(SUPERUSER).ok().flatten().ok_or_else(|| {
                Error::Embedded(format!(
                    "running as root, the embedded PostgreSQL runs as the `{SUPERUSER}` system user, \
                     and there is none: {INSTALL_HINT}"
                ))
            })?;
            Some(user)
        } else {
            None
        };

        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(Error::io(format!("creating {}", data_dir.display())))?;
        let data_dir = data_dir.canonicalize().map_err(Error::io(format!("resolving {}", data_dir.display())))?;
        let pgdata = data_dir.join("pgdata");
        let socket_dir = data_dir.join("run");
        let socket_len = socket_dir.join(SOCKET_FILE).as_os_str().len();
        if socket_len > MAX_SOCKET_PATH {
            return Err(Error::Embedded(format!(
                "the data directory {} is too deep for a Unix socket ({socket_len} bytes, at most \
                 {MAX_SOCKET_PATH}): choose a shorter STUDYHALL_DATA",
                data_dir.display()
            )));
        }
        let archive = wal_archive(&data_dir);
        for dir in [&socket_dir, &archive] {
            fs::DirBuilder::new()
                .mode(0o700)
                .create(dir)
                .or_else(|err| if dir.is_dir() { Ok(()) } else { Err(err) })
                .map_err(Error::io(format!("creating {}", dir.display())))?;
        }
        if let Some(user) = &owner {
            ensure_reachable(&data_dir, user)?;
            for dir in [&data_dir, &socket_dir, &archive] {
                chown(dir, Some(user.uid), Some(user.gid))
                    .map_err(|err| Error::io(format!("handing {} to {SUPERUSER}", dir.display()))(err.into()))?;
            }
        }

        if !pgdata.join("PG_VERSION").is_file() {
            init_cluster(&binaries, &pgdata, owner.as_ref())?;
        }

        let log_path = data_dir.join("postgresql.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(Error::io(format!("opening {}", log_path.display())))?;
        let log_start = log.metadata().map(|meta| meta.len()).unwrap_or(0);

        let mut command = Command::new(binaries.path("postgres"));
        command
            .arg("-D")
            .arg(&pgdata)
            .args(["-c", "listen_addresses="])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", socket_dir.display()))
            .args(["-c", "unix_socket_permissions=0700"])
            .args(["-c", "max_connections=100"])
            .args(["-c", "timezone=UTC", "-c", "log_timezone=UTC"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(Error::io("duplicating the log file handle"))?)
            .stderr(log);
        if options.ephemeral {
            command.args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }
        if options.archive_wal {
            // A segment is archived when full, and at least every five minutes when written to.
            let target = archive.display().to_string().replace('\'', "'\\''");
            command.args(["-c", "wal_level=replica", "-c", "archive_mode=on", "-c", "archive_timeout=300"]);
            command.arg("-c").arg(format!("archive_command=test ! -f '{target}/%f' && cp '%p' '{target}/%f'"));
        }
        if let Some(user) = &owner {
            command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
        }
        // SAFETY: the closure only makes the prctl system call, which is async-signal-safe.
        unsafe {
            command.pre_exec(|| nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(io::Error::from));
        }
        let (postmaster, exited) = spawn_supervised(command)?;

        let cluster =
            EmbeddedCluster { data_dir, pgdata, socket_dir, postmaster, exited: Mutex::new(exited), stopped: false };
        cluster.wait_until_ready(&log_path, log_start)?;
        Ok(cluster)
    }

    /// The cluster's data directory (`pgdata`'s parent).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The directory of the cluster's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> u32 {
        self.postmaster.as_raw().unsigned_abs()
    }

    /// How to connect to `database` as the superuser.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .host(&self.socket_dir.to_string_lossy())
            .port(5432)
            .username(SUPERUSER)
            .database(database)
    }

    /// A libpq connection URI for `database`, for `psql`, `pg_dump` and DATABASE_URL.
    pub fn url(&self, database: &str) -> String {
        let mut url = url::Url::parse("postgresql://localhost").expect("a valid base URL");
        url.set_username(SUPERUSER).expect("a URL with a host takes a user name");
        url.set_path(database);
        url.query_pairs_mut().append_pair("host", &self.socket_dir.to_string_lossy());
        url.into()
    }

    /// Creates the `learning_platform` database, as the spec's creation script does,
    /// unless it exists. Prefers the script's en_US.UTF-8 locale and falls back to
    /// C.UTF-8 where the operating system lacks it.
    pub async fn ensure_database(&self) -> Result<()> {
        let mut conn = self.connect_options("postgres").connect().await?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)")
            .bind(DATABASE)
            .fetch_one(&mut conn)
            .await?;
        if !exists {
            create_database(&mut conn, DATABASE).await?;
        }
        Ok(())
    }

    /// Shuts the cluster down (fast: open sessions are ended, everything committed is
    /// kept) and waits until the postmaster has exited.
    pub fn stop(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let pid = self.pid();
        let exited = self.exited.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (signal, patience) in
            [(Signal::SIGINT, Duration::from_secs(60)), (Signal::SIGQUIT, Duration::from_secs(10))]
        {
            if kill(self.postmaster, signal).is_err() {
                break; // already gone
            }
            match exited.recv_timeout(patience) {
                Ok(_) | Err(RecvTimeoutError::Disconnected) => return Ok(()),
                Err(RecvTimeoutError::Timeout) => {
                    tracing::warn!(pid, ?signal, "PostgreSQL did not stop in time");
                }
            }
        }
        match exited.try_recv() {
            Err(TryRecvError::Empty) => Err(Error::Embedded(format!(
                "PostgreSQL (pid {pid}) did not stop; see {}",
                self.data_dir.join("postgresql.log").display()
            ))),
            _ => Ok(()),
        }
    }

    fn wait_until_ready(&self, log_path: &Path, log_start: u64) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let pid_file = self.pgdata.join("postmaster.pid");
        let exited = self.exited.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            match exited.try_recv() {
                Ok(status) => {
                    let status = status.map(|s| s.to_string()).unwrap_or_else(|err| err.to_string());
                    return Err(Error::Embedded(format!(
                        "PostgreSQL exited on start ({status}): {}",
                        log_since(log_path, log_start)
                    )));
                }
                Err(TryRecvError::Disconnected) => {
                    return Err(Error::Embedded("PostgreSQL's supervisor thread ended".to_owned()));
                }
                Err(TryRecvError::Empty) => {}
            }
            // Line 1 of postmaster.pid is the postmaster's pid, line 8 its status.
            if let Ok(contents) = fs::read_to_string(&pid_file) {
                let lines: Vec<&str> = contents.lines().collect();
                if lines.first().map(|pid| pid.trim()) == Some(&self.postmaster.to_string())
                    && lines.get(7).map(|status| status.trim()) == Some("ready")
                {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(Error::Embedded(format!(
                    "PostgreSQL did not become ready within 60 s: {}",
                    log_since(log_path, log_start)
                )));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        if let Err(err) = self.shutdown() {
            tracing::error!(error = %err, "stopping the embedded PostgreSQL failed");
        }
    }
}

/// Runs `initdb` for a new cluster: UTF8, superuser `postgres`, trust authentication on
/// the owner-only socket. The cluster's own locale is C; `learning_platform` gets its
/// locale when it is created.
fn init_cluster(binaries: &PgBinaries, pgdata: &Path, owner: Option<&User>) -> Result<()> {
    tracing::info!(pgdata = %pgdata.display(), "initialising a new PostgreSQL cluster");
    let mut command = Command::new(binaries.path("initdb"));
    command
        .arg("-D")
        .arg(pgdata)
        .args(["--username", SUPERUSER, "--encoding", "UTF8", "--locale", "C"])
        .args(["--auth", "trust", "--no-instructions"])
        .stdin(Stdio::null());
    if let Some(user) = owner {
        command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    let output = command.output().map_err(Error::io(format!("running {}", binaries.path("initdb").display())))?;
    if !output.status.success() {
        return Err(Error::Embedded(format!(
            "initdb failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// Creates `database` the way the spec's creation script does, choosing the first
/// locale of en_US.UTF-8, C.UTF-8 and C that the operating system has. Exposed so the
/// test harness creates its databases the same way.
pub async fn create_database(conn: &mut PgConnection, database: &str) -> Result<()> {
    let mut last_error = None;
    for locale in ["en_US.UTF-8", "C.UTF-8", "C"] {
        let statement = format!(
            "CREATE DATABASE \"{database}\" WITH OWNER = {SUPERUSER} ENCODING = 'UTF8' \
             LC_COLLATE = '{locale}' LC_CTYPE = '{locale}' TABLESPACE = pg_default \
             CONNECTION LIMIT = -1 TEMPLATE = template0"
        );
        match sqlx::raw_sql(sqlx::AssertSqlSafe(statement)).execute(&mut *conn).await {
            Ok(_) => {
                let timezone = format!("ALTER DATABASE \"{database}\" SET timezone TO 'UTC'");
                sqlx::raw_sql(sqlx::AssertSqlSafe(timezone)).execute(&mut *conn).await?;
                tracing::info!(database, locale, "created database");
                return Ok(());
            }
            // 42809 wrong_object_type, "invalid locale name": the OS lacks this locale.
            Err(sqlx::Error::Database(err)) if err.code().as_deref() == Some("42809") => {
                last_error = Some(sqlx::Error::Database(err));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(last_error.expect("at least one locale was tried").into())
}

/// Spawns `command` from a thread that lives exactly as long as the child: the parent
/// death signal is tied to the spawning thread, not to the process.
fn spawn_supervised(mut command: Command) -> Result<(Pid, Receiver<io::Result<ExitStatus>>)> {
    let (started_tx, started_rx) = mpsc::channel();
    let (exited_tx, exited_rx) = mpsc::channel();
    thread::Builder::new()
        .name("postgres-supervisor".to_owned())
        .spawn(move || match command.spawn() {
            Ok(mut child) => {
                let _ = started_tx.send(Ok(child.id()));
                let status = child.wait();
                if let Ok(status) = &status {
                    tracing::info!(%status, "PostgreSQL exited");
                }
                let _ = exited_tx.send(status);
            }
            Err(err) => {
                let _ = started_tx.send(Err(err));
            }
        })
        .map_err(Error::io("starting the PostgreSQL supervisor thread"))?;
    let pid = started_rx
        .recv()
        .map_err(|_| Error::Embedded("PostgreSQL's supervisor thread ended".to_owned()))?
        .map_err(Error::io("starting postgres"))?;
    let pid = i32::try_from(pid).map_err(|_| Error::Embedded(format!("unexpected process id {pid}")))?;
    Ok((Pid::from_raw(pid), exited_rx))
}

/// Fails with a clear message when `user` cannot reach `dir` (say, a STUDYHALL_DATA
/// under /root while the cluster runs as `postgres`).
fn ensure_reachable(dir: &Path, user: &User) -> Result<()> {
    for ancestor in dir.ancestors().skip(1) {
        let meta = fs::metadata(ancestor).map_err(Error::io(format!("inspecting {}", ancestor.display())))?;
        let search_bit = if meta.uid() == user.uid.as_raw() {
            0o100
        } else if meta.gid() == user.gid.as_raw() {
            0o010
        } else {
            0o001
        };
        if meta.mode() & search_bit == 0 {
            return Err(Error::Embedded(format!(
                "the embedded PostgreSQL runs as `{}`, which cannot enter {}: choose a STUDYHALL_DATA \
                 it can reach (such as /var/lib/studyhall) or set DATABASE_URL",
                user.name,
                ancestor.display()
            )));
        }
    }
    Ok(())
}

/// What the server logged since `start`, for error messages (the last 2 KiB of it).
fn log_since(path: &Path, start: u64) -> String {
    let read = || -> io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(start.max(len.saturating_sub(2048))))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) if !text.trim().is_empty() => text.trim().to_owned(),
        _ => format!("see {}", path.display()),
    }
}
