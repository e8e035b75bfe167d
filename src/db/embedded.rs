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
//! A supervisor thread restarts a postmaster that dies while studyhall runs (with
//! backoff), and a start waits for the postmaster of a killed predecessor to finish
//! shutting down instead of failing on its lock file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
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

/// Names the studyhall process that started the running postmaster, and that postmaster:
/// "<studyhall pid> <postmaster pid>".
const OWNER_FILE: &str = "postmaster.owner";

/// How long a start lets a killed predecessor's postmaster finish its own shutdown before
/// stopping it.
const ORPHAN_PATIENCE: Duration = Duration::from_secs(10);

/// The first wait before restarting a postmaster that died; it doubles per failed restart.
const FIRST_RESTART_DELAY: Duration = Duration::from_secs(1);
const MAX_RESTART_DELAY: Duration = Duration::from_secs(30);
/// A postmaster that ran this long was healthy: its death starts the backoff afresh.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

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

/// The least free space a data directory needs to start the cluster in (a new cluster
/// takes about 40 MiB, and WAL grows in 16 MiB segments).
const MIN_FREE_BYTES: u64 = 256 * 1024 * 1024;

/// Fails with what to do when `data_dir` (or, before it exists, the directory it would be
/// created in) is not writable or has too little free space: checked before anything is
/// created, so a bad STUDYHALL_DATA costs nothing.
pub fn check_data_dir(data_dir: &Path) -> Result<()> {
    let Some(existing) = data_dir.ancestors().find(|dir| dir.as_os_str().is_empty() || dir.is_dir()) else {
        return Ok(());
    };
    let existing = if existing.as_os_str().is_empty() { Path::new(".") } else { existing };
    if let Err(errno) = nix::unistd::access(existing, nix::unistd::AccessFlags::W_OK) {
        return Err(Error::Config(format!(
            "cannot write to {} ({errno}): choose a STUDYHALL_DATA this account can write to",
            existing.display()
        )));
    }
    let free = nix::sys::statvfs::statvfs(existing)
        .map(|stat| stat.blocks_available().saturating_mul(stat.fragment_size()))
        .map_err(|errno| Error::io(format!("reading the free space of {}", existing.display()))(errno.into()))?;
    if free < MIN_FREE_BYTES {
        return Err(Error::Config(format!(
            "only {} MiB free on {}: the database needs at least {} MiB; free some space or choose another STUDYHALL_DATA",
            free / (1024 * 1024),
            existing.display(),
            MIN_FREE_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

/// Where a cluster in `data_dir` archives its WAL.
pub fn wal_archive(data_dir: &Path) -> PathBuf {
    data_dir.join("wal-archive")
}

/// A running embedded cluster, its postmaster watched by a supervisor thread that
/// restarts it if it dies. Stop it with [`EmbeddedCluster::stop`]; dropping it stops it too.
pub struct EmbeddedCluster {
    data_dir: PathBuf,
    socket_dir: PathBuf,
    supervisor: Arc<Supervisor>,
    stopped: bool,
}

/// What the cluster shares with its supervisor thread.
#[derive(Default)]
struct Supervisor {
    state: Mutex<Supervised>,
    /// Signalled when `stopping` is set and when the thread ends.
    changed: Condvar,
}

#[derive(Default)]
struct Supervised {
    /// The postmaster running now (none while a restart waits out its backoff).
    postmaster: Option<Pid>,
    /// Set by [`EmbeddedCluster::stop`]: a postmaster that exits is not restarted.
    stopping: bool,
    /// The supervisor thread has ended: no postmaster of it runs.
    ended: bool,
}

impl Supervisor {
    fn lock(&self) -> MutexGuard<'_, Supervised> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
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
        wait_for_orphan(&data_dir, &pgdata)?;
        if let Some(pid) = running_postmaster(&pgdata) {
            let by = match owner_of(&data_dir, pid) {
                Some(owner) => format!("another studyhall (pid {owner})"),
                None => format!("a PostgreSQL started outside studyhall (pid {pid})"),
            };
            return Err(Error::Embedded(format!(
                "the database in {} is in use by {by}: wait for it to finish, or stop it",
                data_dir.display()
            )));
        }

        let log_path = data_dir.join("postgresql.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(Error::io(format!("opening {}", log_path.display())))?;

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
        let log_start = log_len(&log_path);
        let supervisor = Arc::<Supervisor>::default();
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = Supervision { command, data_dir: data_dir.clone(), supervisor: supervisor.clone() };
        thread::Builder::new()
            .name("postgres-supervisor".to_owned())
            .spawn(move || thread.run(ready_tx))
            .map_err(Error::io("starting the PostgreSQL supervisor thread"))?;
        // Dropped on failure, which stops whatever was started.
        let cluster = EmbeddedCluster { data_dir, socket_dir, supervisor, stopped: false };
        match ready_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(())) => Ok(cluster),
            Ok(Err(reason)) => Err(Error::Embedded(format!(
                "PostgreSQL exited on start ({reason}): {}",
                log_since(&log_path, log_start)
            ))),
            Err(RecvTimeoutError::Timeout) => Err(Error::Embedded(format!(
                "PostgreSQL did not become ready within 60 s: {}",
                log_since(&log_path, log_start)
            ))),
            Err(RecvTimeoutError::Disconnected) => {
                Err(Error::Embedded("PostgreSQL's supervisor thread ended".to_owned()))
            }
        }
    }

    /// The cluster's data directory (`pgdata`'s parent).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The directory of the cluster's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
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
        socket_url(&self.socket_dir, 5432, database)
    }

    /// Creates the `learning_platform` database, as the spec's creation script does,
    /// unless it exists. Prefers the script's en_US.UTF-8 locale and falls back to
    /// C.UTF-8 where the operating system lacks it.
    pub async fn ensure_database(&self) -> Result<()> {
        let mut conn = self.connect_options("postgres").connect().await?;
        let exists =
            sqlx::query_scalar!(r#"SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1) AS "exists!""#, DATABASE)
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

    /// Stops the supervisor first (so that nothing restarts the cluster being stopped),
    /// then the postmaster: fast, then immediate if it takes too long.
    fn shutdown(&mut self) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let supervisor = &self.supervisor;
        let mut state = supervisor.lock();
        state.stopping = true;
        supervisor.changed.notify_all(); // ends a restart's backoff wait
        for (signal, patience) in
            [(Signal::SIGINT, Duration::from_secs(60)), (Signal::SIGQUIT, Duration::from_secs(10))]
        {
            if let Some(pid) = state.postmaster {
                let _ = kill(pid, signal); // fails only when it is already gone
            }
            state = supervisor
                .changed
                .wait_timeout_while(state, patience, |state| !state.ended)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            if state.ended {
                return Ok(());
            }
            tracing::warn!(pid = ?state.postmaster.map(Pid::as_raw), ?signal, "PostgreSQL did not stop in time");
        }
        Err(Error::Embedded(format!("PostgreSQL did not stop; see {}", self.data_dir.join("postgresql.log").display())))
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        if let Err(err) = self.shutdown() {
            tracing::error!(error = %err, "stopping the embedded PostgreSQL failed");
        }
    }
}

/// A libpq URI for `database` as the superuser, over the socket in `socket_dir`.
fn socket_url(socket_dir: &Path, port: u16, database: &str) -> String {
    let mut url = url::Url::parse("postgresql://localhost").expect("a valid base URL");
    url.set_username(SUPERUSER).expect("a URL with a host takes a user name");
    url.set_path(database);
    url.query_pairs_mut().append_pair("host", &socket_dir.to_string_lossy());
    if port != 5432 {
        url.query_pairs_mut().append_pair("port", &port.to_string());
    }
    url.into()
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

/// The supervisor thread: it spawns every postmaster of the cluster and outlives them all,
/// since the parent death signal is tied to the spawning thread, not to the process.
struct Supervision {
    command: Command,
    data_dir: PathBuf,
    supervisor: Arc<Supervisor>,
}

impl Supervision {
    /// Runs the postmaster, reporting on `ready` whether the first one became ready, and
    /// restarts it whenever it exits unasked, backing off from 1 s to 30 s between tries.
    fn run(mut self, ready: Sender<std::result::Result<(), String>>) {
        let mut ready = Some(ready);
        let mut delay = FIRST_RESTART_DELAY;
        loop {
            let started = Instant::now();
            let reason = self.run_once(&mut ready);
            let mut state = self.supervisor.lock();
            state.postmaster = None;
            if state.stopping {
                break;
            }
            if let Some(ready) = ready.take() {
                let _ = ready.send(Err(reason)); // the first start failed: no restarts
                break;
            }
            if started.elapsed() >= HEALTHY_RUN {
                delay = FIRST_RESTART_DELAY;
            }
            tracing::error!(
                reason,
                retry_in_secs = delay.as_secs(),
                log = %self.data_dir.join("postgresql.log").display(),
                "the embedded PostgreSQL exited unexpectedly; restarting it"
            );
            let (state, _) = self
                .supervisor
                .changed
                .wait_timeout_while(state, delay, |state| !state.stopping)
                .unwrap_or_else(PoisonError::into_inner);
            if state.stopping {
                break;
            }
            drop(state);
            delay = (delay * 2).min(MAX_RESTART_DELAY);
        }
        self.supervisor.lock().ended = true;
        self.supervisor.changed.notify_all();
    }

    /// Spawns one postmaster, reports on `ready` when it is, and waits until it exits;
    /// returns how it ended.
    fn run_once(&mut self, ready: &mut Option<Sender<std::result::Result<(), String>>>) -> String {
        let spawned = {
            let mut state = self.supervisor.lock();
            if state.stopping {
                return "stopped".to_owned();
            }
            // Spawned under the lock, so that a stop either prevents it or sees its pid.
            self.command.spawn().inspect(|child| state.postmaster = Some(pid_of(child)))
        };
        let mut child = match spawned {
            Ok(child) => child,
            Err(err) => return format!("cannot run postgres: {err}"),
        };
        let pid = pid_of(&child);
        if let Err(reason) = self.wait_until_ready(&mut child) {
            return reason;
        }
        // Recorded once it holds the lock file, so a postmaster refused beside another
        // one never overwrites that one's record.
        let owner = format!("{} {pid}\n", std::process::id());
        if let Err(err) = fs::write(self.data_dir.join(OWNER_FILE), owner) {
            tracing::warn!(error = %err, "cannot record the postmaster's owner");
        }
        match ready.take() {
            Some(ready) => {
                let _ = ready.send(Ok(()));
            }
            None => tracing::info!(%pid, "the embedded PostgreSQL is back after a restart"),
        }
        match child.wait() {
            Ok(status) => {
                tracing::info!(%status, %pid, "PostgreSQL exited");
                status.to_string()
            }
            Err(err) => format!("cannot wait for postgres: {err}"),
        }
    }

    /// Waits until `child` reports itself ready in postmaster.pid, or fails with how it exited.
    fn wait_until_ready(&self, child: &mut Child) -> std::result::Result<(), String> {
        let pid_file = self.data_dir.join("pgdata").join("postmaster.pid");
        let pid = child.id().to_string();
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Err(status.to_string()),
                Ok(None) => {}
                Err(err) => return Err(format!("cannot wait for postgres: {err}")),
            }
            // Line 1 of postmaster.pid is the postmaster's pid, line 8 its status.
            if let Ok(contents) = fs::read_to_string(&pid_file) {
                let lines: Vec<&str> = contents.lines().collect();
                if lines.first().map(|line| line.trim()) == Some(pid.as_str())
                    && lines.get(7).map(|status| status.trim()) == Some("ready")
                {
                    return Ok(());
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

fn pid_of(child: &Child) -> Pid {
    // Process ids fit an i32 on every Unix.
    Pid::from_raw(child.id() as i32)
}

/// Waits for the postmaster of an earlier studyhall that was killed outright: the kernel
/// told it to shut down, and it holds the data directory until it has. One still running
/// after [`ORPHAN_PATIENCE`] is stopped. A postmaster whose studyhall still runs (it is
/// still that process's child) is left alone; PostgreSQL refuses to start beside it.
fn wait_for_orphan(data_dir: &Path, pgdata: &Path) -> Result<()> {
    let Some(pid) = running_postmaster(pgdata) else { return Ok(()) };
    let Some((owner, postmaster)) = recorded_owner(data_dir) else { return Ok(()) };
    if postmaster != pid.as_raw() || parent_of(pid) == Some(owner) {
        return Ok(()); // not ours to stop, or its studyhall still runs
    }
    tracing::warn!(%pid, "the PostgreSQL of an earlier, killed studyhall is still shutting down; waiting for it");
    for (signal, patience) in [
        (None, ORPHAN_PATIENCE),
        (Some(Signal::SIGINT), Duration::from_secs(60)),
        (Some(Signal::SIGQUIT), ORPHAN_PATIENCE),
    ] {
        if let Some(signal) = signal {
            tracing::warn!(%pid, ?signal, "stopping the earlier PostgreSQL");
            let _ = kill(pid, signal);
        }
        let deadline = Instant::now() + patience;
        while running_postmaster(pgdata) == Some(pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(50));
        }
        if running_postmaster(pgdata) != Some(pid) {
            return Ok(());
        }
    }
    Err(Error::Embedded(format!(
        "the PostgreSQL of an earlier run (pid {pid}) does not stop; stop it, then start again"
    )))
}

/// A postmaster already running on a data directory, as its lock file describes it.
#[derive(Debug, Clone)]
pub struct Running {
    /// The process to name to the operator: the studyhall that started the postmaster
    /// while it runs (postmaster.owner), else the postmaster itself.
    pub pid: i32,
    pub socket_dir: PathBuf,
    pub port: u16,
}

impl Running {
    /// How to connect to `database` as the superuser, through the running server's socket.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .host(&self.socket_dir.to_string_lossy())
            .port(self.port)
            .username(SUPERUSER)
            .database(database)
    }

    /// A libpq connection URI for `database`, for PostgreSQL's own tools.
    pub fn url(&self, database: &str) -> String {
        socket_url(&self.socket_dir, self.port, database)
    }

    /// The refusal of work that needs the cluster stopped (`what`: "restore").
    pub fn stop_first(&self, data_dir: &Path, what: &str) -> Error {
        stop_first(data_dir, self.pid, what)
    }
}

/// The refusal of work that needs the cluster in `data_dir` stopped while process `pid` runs it.
pub fn stop_first(data_dir: &Path, pid: i32, what: &str) -> Error {
    Error::Config(format!(
        "studyhall is running on {}: stop studyhall first (pid {pid}), then {what}",
        data_dir.display()
    ))
}

/// The process running the cluster in `data_dir` now, if any (its studyhall, else its
/// postmaster), without waiting for it to be ready.
pub fn in_use(data_dir: &Path) -> Option<i32> {
    let pid = running_postmaster(&data_dir.join("pgdata"))?;
    Some(owner_of(data_dir, pid).unwrap_or(pid.as_raw()))
}

/// How long a command waits for a postmaster that is starting (or stopping) on the data
/// directory to become ready (or to go).
const SETTLE_PATIENCE: Duration = Duration::from_secs(60);

/// The postmaster serving `data_dir` now, if one runs and accepts connections: the one a
/// running `studyhall serve` owns, which commands connect to instead of starting their
/// own. One starting up is waited for; one shutting down, until it has gone. Blocking.
pub fn running(data_dir: &Path) -> Option<Running> {
    let pgdata = data_dir.join("pgdata");
    let deadline = Instant::now() + SETTLE_PATIENCE;
    loop {
        let pid = running_postmaster(&pgdata)?;
        // postmaster.pid: pid, data directory, start time, port, socket directory,
        // listen address, shared memory key, status.
        let contents = fs::read_to_string(pgdata.join("postmaster.pid")).unwrap_or_default();
        let lines: Vec<&str> = contents.lines().map(str::trim).collect();
        let port = lines.get(3).and_then(|port| port.parse().ok());
        let socket_dir = lines.get(4).filter(|dir| !dir.is_empty()).map(PathBuf::from);
        if let (Some("ready"), Some(port), Some(socket_dir)) = (lines.get(7).copied(), port, socket_dir) {
            return Some(Running { pid: owner_of(data_dir, pid).unwrap_or(pid.as_raw()), socket_dir, port });
        }
        if Instant::now() > deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The live studyhall that started postmaster `pid`, as postmaster.owner records it.
fn owner_of(data_dir: &Path, pid: Pid) -> Option<i32> {
    let (owner, postmaster) = recorded_owner(data_dir)?;
    (postmaster == pid.as_raw() && parent_of(pid) == Some(owner)).then_some(owner)
}

/// (studyhall pid, postmaster pid), as the supervisor that spawned the postmaster
/// recorded them in postmaster.owner.
fn recorded_owner(data_dir: &Path) -> Option<(i32, i32)> {
    let recorded = fs::read_to_string(data_dir.join(OWNER_FILE)).ok()?;
    let recorded: Vec<i32> = recorded.split_whitespace().filter_map(|n| n.parse().ok()).collect();
    let [owner, postmaster] = recorded[..] else { return None };
    Some((owner, postmaster))
}

/// The live postmaster that `pgdata`'s lock file names, if there is one.
fn running_postmaster(pgdata: &Path) -> Option<Pid> {
    let contents = fs::read_to_string(pgdata.join("postmaster.pid")).ok()?;
    let pid = Pid::from_raw(contents.lines().next()?.trim().parse().ok()?);
    parent_of(pid).map(|_| pid)
}

/// The parent of process `pid`, while it runs (a zombie has exited).
fn parent_of(pid: Pid) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...": the command name may hold anything but the last ')'.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    fields.next()?.parse().ok()
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

fn log_len(path: &Path) -> u64 {
    fs::metadata(path).map(|meta| meta.len()).unwrap_or(0)
}

/// What the server logged since `start` that says why it failed (its FATAL, PANIC and
/// HINT lines from the last 2 KiB), on one line for an error message.
fn log_since(path: &Path, start: u64) -> String {
    let read = || -> io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        file.seek(SeekFrom::Start(start.max(len.saturating_sub(2048))))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    let said: Vec<String> = read()
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let at = ["FATAL:", "PANIC:", "HINT:"].iter().filter_map(|level| line.find(level)).min()?;
            Some(line[at..].split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .collect();
    if said.is_empty() {
        format!("see {}", path.display())
    } else {
        format!("{} (see {})", said.join("; "), path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_start_is_told_in_one_line_from_the_log_s_fatal_and_hint() {
        let dir = tempfile::tempdir().expect("a directory");
        let log = dir.path().join("postgresql.log");
        fs::write(&log, "old\n").expect("write");
        let start = log_len(&log);
        let said = "2026-12-07 12:00:00.000 UTC [41] FATAL:  lock file \"postmaster.pid\" already exists\n\
                    2026-12-07 12:00:00.000 UTC [41] HINT:  Is another postmaster (PID 40) running?\n\
                    2026-12-07 12:00:00.001 UTC [41] LOG:  database system is shut down\n";
        fs::write(&log, format!("old\n{said}")).expect("write");
        let line = log_since(&log, start);
        assert_eq!(
            line,
            format!(
                "FATAL: lock file \"postmaster.pid\" already exists; HINT: Is another postmaster (PID 40) running? (see {})",
                log.display()
            )
        );
    }
}
