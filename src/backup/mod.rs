//! Logical backups: `studyhall backup create | list | verify | restore`.
//!
//! `create` runs `pg_dump` (custom format, compressed) on a snapshot exported by a
//! repeatable-read transaction, and in that same transaction fingerprints every table
//! (row count, and an order-independent sum of the rows' MD5s), so the manifest written
//! next to the dump (`<name>.json`) describes exactly what the dump holds. Then old
//! backups are rotated away (see [`rotation`]), except those marked to keep (`--keep`,
//! `--label`), which stay until deleted by hand. `verify` restores a dump into a scratch
//! database and compares the fingerprints; `restore` loads one into an empty database and
//! checks it the same way. Credentials reach the PostgreSQL tools through the
//! environment (PGPASSWORD...), never their command line.

pub mod pitr;
pub mod rotation;
mod store;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::process::Command;

use crate::config::DatabaseConfig;
use crate::db::Database;
use crate::db::embedded::PgBinaries;
use crate::digest::digest;
use crate::error::{Error, Result};

/// A database server and how its tools reach it.
pub struct Server {
    /// A pool on the database, as its owner (or a superuser).
    pub pool: PgPool,
    /// The database's URL (as DATABASE_URL or the embedded cluster gives it).
    pub url: String,
    pub binaries: PgBinaries,
    /// Where the server archives its WAL, when it does (the embedded cluster): then each
    /// backup also takes a base backup, for point-in-time recovery, and rotation prunes
    /// the WAL no kept base backup needs.
    pub wal_archive: Option<PathBuf>,
}

impl Server {
    /// `db`, and PostgreSQL's tools from `config`.
    pub fn of(db: &Database, config: &DatabaseConfig) -> Result<Server> {
        Ok(Server {
            pool: db.pool.clone(),
            url: db.url().to_owned(),
            binaries: PgBinaries::locate(config.pg_bin.as_deref())?,
            wal_archive: db.wal_archive(),
        })
    }
}

/// Every table's fingerprint: (rows, sum of the rows' MD5s), by qualified name.
pub type Fingerprints = BTreeMap<String, (i64, String)>;

/// What a backup holds, written next to it as `<name>.json`.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub name: String,
    pub file: String,
    pub created_at: DateTime<Utc>,
    pub bytes: u64,
    pub sha256: String,
    pub tables: Fingerprints,
    /// The base backup taken with it (a directory holding `base.tar.gz`), if any.
    #[serde(default)]
    pub base: Option<String>,
    /// The WAL segment its base backup starts from: recovery needs it and what follows.
    #[serde(default)]
    pub wal_start: Option<String>,
    /// Marked to keep until deleted by hand: rotation leaves it alone.
    #[serde(default)]
    pub keep: bool,
    /// The operator's name for it (a label marks it to keep too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// How a new backup is kept: by rotation, or until deleted by hand (with a label or not).
#[derive(Debug, Clone, Default)]
pub enum Keep {
    #[default]
    ByRotation,
    ByHand {
        label: Option<String>,
    },
}

impl Keep {
    /// How `backup create --keep --label NAME` keeps a backup (neither: by rotation);
    /// refuses a label that is empty, longer than 100 characters or not on one line.
    pub fn from_flags(keep: bool, label: Option<String>) -> Result<Keep> {
        let label = label.map(|label| label.trim().to_owned());
        match label {
            Some(label) if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) => {
                Err(Error::Config(format!("the label {label:?} must be 1 to 100 characters on one line")))
            }
            Some(label) => Ok(Keep::ByHand { label: Some(label) }),
            None if keep => Ok(Keep::ByHand { label: None }),
            None => Ok(Keep::ByRotation),
        }
    }
}

/// Why a backup is kept; a backup with none is what rotation deletes.
#[derive(Debug, Clone, PartialEq)]
pub enum Kept {
    ByHand { label: Option<String> },
    Rotation(rotation::Rule),
}

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kept::ByHand { label: Some(label) } => write!(f, "kept by hand, labelled {label:?}"),
            Kept::ByHand { label: None } => f.write_str("kept by hand"),
            Kept::Rotation(rule) => write!(f, "{rule}"),
        }
    }
}

const PREFIX: &str = "studyhall-";

fn dump_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}", at.format("%Y%m%dT%H%M%SZ"))
}

/// `url` without its password (for a tool's command line, which other users can read),
/// naming `database` if given, and the password (for the tool's environment).
fn target(url: &str, database: Option<&str>) -> Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).map_err(|_| Error::Config("the database URL is not a URL".to_owned()))?;
    let password = parsed.password().map(|p| {
        url::form_urlencoded::parse(format!("p={}", p.replace('+', "%2B")).as_bytes())
            .next()
            .map_or_else(|| p.to_owned(), |(_, v)| v.into_owned())
    });
    let _ = parsed.set_password(None);
    if let Some(database) = database {
        parsed.set_path(database);
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| k != "dbname")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    Ok((parsed.into(), password))
}

/// Runs a PostgreSQL tool on the server's database (or `database` there), passing the
/// connection as `--dbname`; its stderr becomes the error.
async fn tool(server: &Server, name: &str, args: &[String], database: Option<&str>) -> Result<()> {
    let (uri, password) = target(&server.url, database)?;
    let mut command = Command::new(server.binaries.path(name));
    command.args(args).arg(format!("--dbname={uri}")).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command.output().await.map_err(Error::io(format!("running {name}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::Internal(format!("{name} failed: {}", stderr.trim())));
    }
    Ok(())
}

/// The fingerprints of every table of the public and archive schemas.
pub async fn fingerprints(conn: &mut PgConnection) -> Result<Fingerprints> {
    let mut out = Fingerprints::new();
    for table in store::tables(conn).await? {
        let fingerprint = store::fingerprint(conn, &table).await?;
        out.insert(table, fingerprint);
    }
    Ok(out)
}

/// Dumps the database into `dir`, kept as `keep` says, and rotates old backups; returns
/// the new backup's manifest and the names rotated away.
pub async fn create(server: &Server, dir: &Path, keep: Keep) -> Result<(Manifest, Vec<String>)> {
    let (keep, label) = match keep {
        Keep::ByRotation => (false, None),
        Keep::ByHand { label } => (true, label),
    };
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let mut tx = server.pool.begin().await?;
    let (snapshot, created_at) = store::export_snapshot(&mut tx).await?;
    // Two backups in one second (a cron job beside one taken by hand) get distinct names.
    let first = dump_name(created_at);
    let name = (1..)
        .map(|n| if n == 1 { first.clone() } else { format!("{first}-{n}") })
        .find(|name| !dir.join(format!("{name}.json")).exists() && !dir.join(format!("{name}.dump.partial")).exists())
        .expect("a free name");
    let file = format!("{name}.dump");
    let partial = dir.join(format!("{file}.partial"));
    let args = vec![
        "--format=custom".to_owned(),
        "--compress=6".to_owned(),
        format!("--snapshot={snapshot}"),
        format!("--file={}", partial.display()),
    ];
    let (dumped, tables) = tokio::join!(tool(server, "pg_dump", &args, None), fingerprints(&mut tx));
    let (tables, ()) = (tables?, dumped?);
    tx.commit().await?;
    let (bytes, sha256) = digest(&partial)?;
    std::fs::rename(&partial, dir.join(&file)).map_err(Error::io(format!("renaming {}", partial.display())))?;
    let (base, wal_start) = if server.wal_archive.is_some() {
        let wal_start = store::wal_file(&server.pool).await?;
        let base = format!("{name}.base");
        let args = vec![
            format!("--pgdata={}", dir.join(&base).display()),
            "--format=tar".to_owned(),
            "--gzip".to_owned(),
            "--wal-method=none".to_owned(),
            "--checkpoint=fast".to_owned(),
        ];
        tool(server, "pg_basebackup", &args, None).await?;
        (Some(base), Some(wal_start))
    } else {
        (None, None)
    };
    let manifest =
        Manifest { name: name.clone(), file, created_at, bytes, sha256, tables, base, wal_start, keep, label };
    let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    std::fs::write(dir.join(format!("{name}.json")), json).map_err(Error::io("writing the backup manifest"))?;
    let rotated = prune(server, dir, created_at, false).await?;
    Ok((manifest, rotated.into_iter().map(|m| m.name).collect()))
}

/// The backups in `dir`, oldest first.
pub fn list(dir: &Path) -> Result<Vec<Manifest>> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(Vec::new()) };
    let mut manifests: Vec<Manifest> = entries
        .flatten()
        .filter(|e| {
            e.file_name().to_string_lossy().starts_with(PREFIX) && e.path().extension().is_some_and(|x| x == "json")
        })
        .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
        .collect();
    manifests.sort_by_key(|m| m.created_at);
    Ok(manifests)
}

/// The backup called `name`, or the newest for `latest`.
pub fn find(dir: &Path, name: &str) -> Result<Manifest> {
    let mut all = list(dir)?;
    let found = if name == "latest" { all.pop() } else { all.into_iter().find(|m| m.name == name) };
    found.ok_or_else(|| Error::Config(format!("no backup {name} in {}", dir.display())))
}

/// The backups in `dir`, oldest first, each with why it is kept as of `now` (None: rotation
/// deletes it). Marked ones are kept by hand and take no rotation slot.
pub fn kept(dir: &Path, now: DateTime<Utc>) -> Result<Vec<(Manifest, Option<Kept>)>> {
    let all = list(dir)?;
    let rotated: Vec<DateTime<Utc>> = all.iter().filter(|m| !m.keep).map(|m| m.created_at).collect();
    let rules = rotation::keep(&rotated, now);
    Ok(all
        .into_iter()
        .map(|m| {
            let kept = if m.keep {
                Some(Kept::ByHand { label: m.label.clone() })
            } else {
                rules.get(&m.created_at).map(|rule| Kept::Rotation(*rule))
            };
            (m, kept)
        })
        .collect())
}

/// Deletes the backups rotation no longer keeps as of `now` (with `dry_run`, only names
/// them), then the archived WAL no kept base backup needs; returns them, oldest first.
pub async fn prune(server: &Server, dir: &Path, now: DateTime<Utc>, dry_run: bool) -> Result<Vec<Manifest>> {
    let doomed: Vec<Manifest> = kept(dir, now)?.into_iter().filter(|(_, k)| k.is_none()).map(|(m, _)| m).collect();
    if dry_run {
        return Ok(doomed);
    }
    for manifest in &doomed {
        remove(dir, manifest)?;
    }
    if let Some(archive) = &server.wal_archive {
        prune_wal(server, archive, dir).await?;
    }
    Ok(doomed)
}

/// Deletes the backup called `name`, kept or not (`backup delete`), and the archived WAL
/// no remaining base backup needs.
pub async fn delete(server: &Server, dir: &Path, name: &str) -> Result<Manifest> {
    let manifest = list(dir)?.into_iter().find(|m| m.name == name).ok_or_else(|| {
        Error::Config(format!("no backup {name} in {}: `studyhall backup list` names them", dir.display()))
    })?;
    remove(dir, &manifest)?;
    if let Some(archive) = &server.wal_archive {
        prune_wal(server, archive, dir).await?;
    }
    Ok(manifest)
}

/// Removes a backup's dump, manifest and base backup.
fn remove(dir: &Path, manifest: &Manifest) -> Result<()> {
    for path in [dir.join(&manifest.file), dir.join(format!("{}.json", manifest.name))] {
        std::fs::remove_file(&path).map_err(Error::io(format!("removing {}", path.display())))?;
    }
    if let Some(base) = &manifest.base {
        let path = dir.join(base);
        std::fs::remove_dir_all(&path).map_err(Error::io(format!("removing {}", path.display())))?;
    }
    Ok(())
}

/// Removes the archived WAL that precedes the oldest kept base backup (no recovery can
/// use it), with PostgreSQL's pg_archivecleanup.
async fn prune_wal(server: &Server, archive: &Path, dir: &Path) -> Result<()> {
    let Some(oldest) = list(dir)?.into_iter().find_map(|m| m.wal_start) else { return Ok(()) };
    let output = Command::new(server.binaries.path("pg_archivecleanup"))
        .arg(archive)
        .arg(&oldest)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(Error::io("running pg_archivecleanup"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::Internal(format!("pg_archivecleanup failed: {}", stderr.trim())));
    }
    Ok(())
}

/// The ways a restored copy differs from its manifest; empty when it matches.
pub fn differences(expected: &Fingerprints, found: &Fingerprints) -> Vec<String> {
    let mut out = Vec::new();
    for (table, want) in expected {
        match found.get(table) {
            Some(got) if got == want => {}
            Some(got) => {
                out.push(format!("{table}: {} rows (checksum {}), expected {} ({})", got.0, got.1, want.0, want.1))
            }
            None => out.push(format!("{table}: missing")),
        }
    }
    out.extend(found.keys().filter(|t| !expected.contains_key(*t)).map(|t| format!("{t}: not in the backup")));
    out
}

/// Checks the dump's checksum, restores it into a scratch database on the same server,
/// and compares every table with the manifest; the differences (none when it is good).
pub async fn verify(server: &Server, dir: &Path, manifest: &Manifest) -> Result<Vec<String>> {
    let path = dir.join(&manifest.file);
    let (_, sha256) = digest(&path)?;
    if sha256 != manifest.sha256 {
        return Ok(vec![format!("{}: checksum {sha256}, expected {}", manifest.file, manifest.sha256)]);
    }
    let scratch = format!("studyhall_verify_{}", std::process::id());
    store::create_database(&server.pool, &scratch).await?;
    let checked = async {
        load(server, &path, &scratch).await?;
        let mut conn = PgConnection::connect_with(&scratch_options(server, &scratch)?).await?;
        let found = fingerprints(&mut conn).await?;
        conn.close().await?;
        Ok(differences(&manifest.tables, &found))
    }
    .await;
    store::drop_database(&server.pool, &scratch).await?;
    checked
}

fn scratch_options(server: &Server, database: &str) -> Result<sqlx::postgres::PgConnectOptions> {
    let options: sqlx::postgres::PgConnectOptions = server.url.parse()?;
    Ok(options.database(database).options([("timezone", "UTC")]))
}

/// Restores `manifest`'s dump into the server's database, which must hold no tables;
/// then compares it with the manifest (the differences; none when it is good).
pub async fn restore(server: &Server, dir: &Path, manifest: &Manifest) -> Result<Vec<String>> {
    if store::public_tables(&server.pool).await? > 0 {
        return Err(Error::Config(
            "the database is not empty: restore into an empty one (a new STUDYHALL_DATA, or DATABASE_URL naming a \
             new database)"
                .to_owned(),
        ));
    }
    let database = store::current_database(&server.pool).await?;
    load(server, &dir.join(&manifest.file), &database).await?;
    let mut conn = server.pool.acquire().await?;
    let found = fingerprints(&mut conn).await?;
    Ok(differences(&manifest.tables, &found))
}

/// Loads a dump into `database` with pg_restore, after making the request role it grants
/// to (roles belong to the server, not to dumps).
async fn load(server: &Server, path: &Path, database: &str) -> Result<()> {
    store::ensure_request_role(&server.pool).await?;
    let args = vec!["--exit-on-error".to_owned(), "--no-owner".to_owned(), path.display().to_string()];
    tool(server, "pg_restore", &args, Some(database)).await
}
