//! PostgreSQL servers of a test's (or the load harness's) own, run from the machine's
//! server binaries, as the `postgres` user when run as root (PostgreSQL refuses root), each
//! listening only on a socket in its directory: a primary made with initdb, ready to be
//! replicated, and streaming replicas of it made with `pg_basebackup -R`.
//!
//! The load harness includes this file too (`#[path]`), so it uses nothing of the test
//! binary's own.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, User, chown, geteuid};
use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;
use studyhall::db::embedded::{self, PgBinaries};

/// A running server, stopped (fast shutdown) when dropped, and when the thread that
/// started it ends, whatever way it ends.
pub struct Postgres {
    child: Child,
    dir: PathBuf,
    binaries: PgBinaries,
}

/// The system user PostgreSQL runs as: `postgres` when run as root, else our own.
fn server_user() -> Option<User> {
    geteuid().is_root().then(|| User::from_name("postgres").ok().flatten().expect("a postgres system user"))
}

/// `binary` of `binaries`, run as the server's user.
fn pg_command(binaries: &PgBinaries, binary: &str) -> Command {
    let mut command = Command::new(binaries.path(binary));
    if let Some(user) = server_user() {
        command.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
    command
}

/// Runs `command` to the end, panicking with its output if it fails.
fn run(mut command: Command) {
    let output = command.stdin(Stdio::null()).output().expect("run a PostgreSQL tool");
    assert!(output.status.success(), "{command:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A new directory for a server, owned by its user.
fn server_dir(parent: &Path, name: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir(&dir).expect("a server directory");
    if let Some(user) = server_user() {
        chown(&dir, Some(user.uid), Some(user.gid)).expect("hand the directory to postgres");
    }
    dir
}

impl Postgres {
    /// A new primary in `parent/primary`, with `settings` besides: initdb, WAL for replicas,
    /// the replication login `replicator` with its pg_hba.conf line, and the
    /// `learning_platform` database.
    pub async fn primary(binaries: &PgBinaries, parent: &Path, settings: &[&str]) -> Postgres {
        let dir = server_dir(parent, "primary");
        let mut initdb = pg_command(binaries, "initdb");
        initdb.arg("-D").arg(dir.join("pgdata")).args(["--username", "postgres", "--auth", "trust", "-E", "UTF8"]);
        run(initdb);
        let hba = dir.join("pgdata/pg_hba.conf");
        let mut lines = std::fs::read_to_string(&hba).expect("pg_hba.conf");
        lines.push_str("local replication replicator trust\n");
        std::fs::write(&hba, lines).expect("write pg_hba.conf");
        let settings = [&["wal_level=replica", "max_wal_senders=4"], settings].concat();
        let primary = Postgres::start(binaries.clone(), dir, &settings).await;
        let mut admin = primary.options("postgres").connect().await.expect("the primary");
        sqlx::query("CREATE ROLE replicator WITH REPLICATION LOGIN").execute(&mut admin).await.expect("a role");
        embedded::create_database(&mut admin, embedded::DATABASE).await.expect("learning_platform");
        primary
    }

    /// A streaming replica of this server in `parent/replica`: its base backup, with `-R`
    /// writing the standby settings (standby.signal, primary_conninfo), started as a hot
    /// standby.
    pub async fn replica(&self, parent: &Path) -> Postgres {
        let dir = server_dir(parent, "replica");
        let mut backup = pg_command(&self.binaries, "pg_basebackup");
        backup.arg("-D").arg(dir.join("pgdata")).arg("-h").arg(&self.dir);
        backup.args(["-U", "replicator", "-R", "-X", "stream", "--checkpoint=fast"]);
        run(backup);
        Postgres::start(self.binaries.clone(), dir, &["hot_standby=on"]).await
    }

    /// Starts the server in `dir/pgdata` with `settings` (fsync off: a throwaway server),
    /// and waits until it takes connections (a replica: read-only ones).
    async fn start(binaries: PgBinaries, dir: PathBuf, settings: &[&str]) -> Postgres {
        let mut command = pg_command(&binaries, "postgres");
        command.arg("-D").arg(dir.join("pgdata"));
        command.args(["-c", "listen_addresses=", "-c", "fsync=off", "-c", "timezone=UTC"]);
        command.arg("-c").arg(format!("unix_socket_directories={}", dir.display()));
        for setting in settings {
            command.args(["-c", setting]);
        }
        let log = std::fs::File::create(dir.join("postgresql.log")).expect("a log file");
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log);
        // SAFETY: the closure only makes the prctl system call, which is async-signal-safe.
        unsafe {
            command.pre_exec(|| nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(std::io::Error::from));
        }
        let child = command.spawn().expect("start postgres");
        let server = Postgres { child, dir, binaries };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.options("postgres").connect().await.is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL in {} did not start", server.dir.display());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    fn options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new().host(&self.dir.to_string_lossy()).username("postgres").database(database)
    }

    /// The `learning_platform` database's URL, as DATABASE_URL (and libpq) take it.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse("postgresql://postgres@localhost/learning_platform").expect("a URL");
        url.query_pairs_mut().append_pair("host", &self.dir.to_string_lossy());
        url.into()
    }

    /// Stops the server (fast shutdown) and waits for it.
    pub fn stop(&mut self) {
        let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGINT);
        let _ = self.child.wait();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
