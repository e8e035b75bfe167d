//! The database: the connection pool, the embedded cluster behind it when no
//! DATABASE_URL is given, and the migrations.

pub mod embedded;
pub mod migrate;
pub mod reads;
pub mod tenant;

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool};

use crate::config::{DatabaseConfig, PoolConfig};
use crate::error::{Error, Result};
use embedded::{ClusterOptions, EmbeddedCluster, PgBinaries, Running};

/// The role request handling runs as: it owns nothing and cannot bypass row-level
/// security (created by migration 0006).
pub const APP_ROLE: &str = "studyhall_app";

/// Connections of the privileged pool (migrations, readiness, maintenance, audited
/// admin paths); requests use the request pool, sized by STUDYHALL_DB_MAX_CONNECTIONS.
const PRIVILEGED_POOL_SIZE: u32 = 4;

/// An open database: the privileged pool and, for the embedded default, the cluster it
/// runs on. [`Database::connect_requests`] opens the pool requests run on.
pub struct Database {
    /// Connected as the schema owner (or a superuser): bypasses row-level security
    /// through the policies' explicit privileged clause.
    pub pool: PgPool,
    options: PgConnectOptions,
    /// The database's URL, for PostgreSQL's own tools.
    url: String,
    /// The embedded cluster, when there is no DATABASE_URL.
    embedded: Option<Embedded>,
}

/// The embedded cluster as this process reaches it.
enum Embedded {
    /// Started by this process, which stops it on close.
    Owned(EmbeddedCluster),
    /// Run by another studyhall (a `serve`): reached through its socket, left running.
    Attached { server: Running, data_dir: PathBuf, archives_wal: bool },
}

impl Database {
    /// Connects to DATABASE_URL, or starts (creating on first use) the embedded cluster
    /// and its `learning_platform` database.
    pub async fn open(config: &DatabaseConfig) -> Result<Self> {
        match &config.database_url {
            Some(url) => {
                let options = PgConnectOptions::from_str(url)?;
                reachable(&options).await?;
                let pool = connect(options.clone(), &privileged(&config.pool)).await?;
                Ok(Database { pool, options, url: url.clone(), embedded: None })
            }
            None => {
                let data_dir = config.data_dir.clone();
                let pg_bin = config.pg_bin.clone();
                tracing::info!(data_dir = %data_dir.display(), "starting the embedded PostgreSQL");
                let cluster = tokio::task::spawn_blocking(move || {
                    embedded::check_data_dir(&data_dir)?;
                    let binaries = PgBinaries::locate(pg_bin.as_deref())?;
                    EmbeddedCluster::start(&data_dir, binaries, ClusterOptions { ephemeral: false, archive_wal: true })
                })
                .await
                .map_err(Error::failed("starting PostgreSQL panicked"))??;
                cluster.ensure_database().await?;
                let options = cluster.connect_options(embedded::DATABASE);
                let pool = connect(options.clone(), &privileged(&config.pool)).await?;
                finish_recovery(&pool).await?;
                tracing::info!(socket_dir = %cluster.socket_dir().display(), "embedded PostgreSQL is ready");
                let url = cluster.url(embedded::DATABASE);
                Ok(Database { pool, options, url, embedded: Some(Embedded::Owned(cluster)) })
            }
        }
    }

    /// As [`Database::open`], but when a studyhall already runs the embedded cluster, connects
    /// to it through its socket and leaves it running: how one-off commands (`backup`,
    /// `user`, `migrate`, `maintain`) work beside `serve`.
    pub async fn open_beside_server(config: &DatabaseConfig) -> Result<Self> {
        if config.database_url.is_some() {
            return Self::open(config).await;
        }
        let data_dir = config.data_dir.clone();
        let running = tokio::task::spawn_blocking(move || embedded::running(&data_dir))
            .await
            .map_err(Error::failed("looking for a running PostgreSQL panicked"))?;
        let Some(server) = running else { return Self::open(config).await };
        tracing::info!(pid = server.pid, socket_dir = %server.socket_dir.display(), "using the running studyhall's PostgreSQL");
        let options = server.connect_options(embedded::DATABASE);
        let pool = connect(options.clone(), &privileged(&config.pool)).await.map_err(|err| {
            Error::Embedded(format!(
                "studyhall (pid {}) runs the database in {}, but connecting to it failed ({err}): \
                 try again once it is up, or stop it",
                server.pid,
                config.data_dir.display()
            ))
        })?;
        let archives_wal = sqlx::query_scalar!(r#"SELECT current_setting('archive_mode') <> 'off' AS "archives!""#)
            .fetch_one(&pool)
            .await?;
        let url = server.url(embedded::DATABASE);
        let data_dir = config.data_dir.clone();
        Ok(Database { pool, options, url, embedded: Some(Embedded::Attached { server, data_dir, archives_wal }) })
    }

    /// The studyhall whose embedded cluster this database is attached to, if it is.
    pub fn running_server(&self) -> Option<&Running> {
        match &self.embedded {
            Some(Embedded::Attached { server, .. }) => Some(server),
            _ => None,
        }
    }

    /// Opens the pool request handling runs on: STUDYHALL_APP_DATABASE_URL's login, or
    /// this database's connection acting as `studyhall_app`. Refuses a role that could
    /// see past row-level security.
    pub async fn connect_requests(&self, config: &DatabaseConfig) -> Result<PgPool> {
        let options = match &config.app_database_url {
            Some(url) => PgConnectOptions::from_str(url)?,
            None => self.options.clone().options([("role", APP_ROLE)]),
        };
        let pool = connect(options, &config.pool).await.map_err(|err| match err {
            Error::Database(sqlx::Error::Database(db)) if db.message().contains(APP_ROLE) => {
                Error::Config(format!("cannot act as {APP_ROLE} ({}): run `studyhall migrate up`", db.message()))
            }
            other => other,
        })?;
        ensure_restricted(&pool).await?;
        Ok(pool)
    }

    /// Opens the pool of STUDYHALL_READ_DATABASE_URL's replica, acting as `studyhall_app`
    /// like the request pool (and refused likewise if that role could see past row-level
    /// security). Its connections are made as reads need them: a replica that cannot be
    /// reached now is no error (reads use the primary until it answers).
    pub async fn connect_reads(config: &DatabaseConfig) -> Result<Option<PgPool>> {
        let Some(url) = &config.read_database_url else { return Ok(None) };
        let options = session(PgConnectOptions::from_str(url)?.options([("role", APP_ROLE)]));
        // A replica that does not answer soon is passed over: the read goes to the primary.
        let limits = PoolConfig { acquire_timeout_secs: 1, ..config.pool.clone() };
        let pool = pool_options(&limits).connect_lazy_with(options);
        let checked = async {
            ensure_restricted(&pool).await?;
            Ok::<bool, Error>(sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&pool).await?)
        };
        match checked.await {
            Ok(true) => tracing::info!("read-only requests use the read replica"),
            Ok(false) => tracing::warn!(
                "STUDYHALL_READ_DATABASE_URL names a server that is not a replica (not in recovery): \
                 read-only requests use it all the same"
            ),
            Err(error @ Error::Config(_)) => return Err(error),
            Err(error) => {
                tracing::warn!(%error, "the read replica cannot be reached now; reads use the primary until it answers")
            }
        }
        Ok(Some(pool))
    }

    /// Applies pending migrations when this is the embedded cluster (always kept
    /// current), or when `external_too` (STUDYHALL_AUTO_MIGRATE) for a DATABASE_URL server.
    pub async fn migrate_on_start(&self, external_too: bool) -> Result<()> {
        if self.embedded.is_some() || external_too {
            let applied = migrate::up(&self.pool).await?;
            if !applied.is_empty() {
                tracing::info!(?applied, "applied migrations");
            }
        }
        Ok(())
    }

    /// The database's URL, for PostgreSQL's own tools.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Where the embedded cluster archives its WAL; None for a DATABASE_URL server.
    pub fn wal_archive(&self) -> Option<PathBuf> {
        match &self.embedded {
            Some(Embedded::Owned(cluster)) => Some(embedded::wal_archive(cluster.data_dir())),
            Some(Embedded::Attached { data_dir, archives_wal: true, .. }) => Some(embedded::wal_archive(data_dir)),
            _ => None,
        }
    }

    /// Closes every connection, then stops the embedded cluster if this process started it.
    pub async fn close(self) -> Result<()> {
        self.pool.close().await;
        if let Some(Embedded::Owned(cluster)) = self.embedded {
            tokio::task::spawn_blocking(move || cluster.stop())
                .await
                .map_err(Error::failed("stopping PostgreSQL panicked"))??;
            tracing::info!("embedded PostgreSQL stopped");
        }
        Ok(())
    }
}

/// Fails with the reason and what to do when DATABASE_URL's server cannot be connected to
/// (a pool would only say that it timed out).
async fn reachable(options: &PgConnectOptions) -> Result<()> {
    use sqlx::{ConnectOptions, Connection};
    let connected = tokio::time::timeout(std::time::Duration::from_secs(10), options.connect()).await;
    let reason = match connected {
        Ok(Ok(conn)) => return Ok(conn.close().await?),
        Ok(Err(err)) => err.to_string(),
        Err(_) => "no answer within 10 s".to_owned(),
    };
    Err(Error::Config(format!(
        "cannot connect to the database {} on {}:{} ({reason}): check that PostgreSQL runs there and DATABASE_URL",
        options.get_database().unwrap_or("(default)"),
        options.get_host(),
        options.get_port()
    )))
}

/// Waits while the cluster is still recovering (after `backup restore --to-time`, it takes
/// connections read-only until it has replayed the WAL and opened for writes).
async fn finish_recovery(pool: &PgPool) -> Result<()> {
    let started = std::time::Instant::now();
    let mut report_at = 0;
    while sqlx::query_scalar!(r#"SELECT pg_is_in_recovery() AS "recovering!""#).fetch_one(pool).await? {
        if started.elapsed().as_secs() >= report_at {
            tracing::info!(seconds = report_at, "PostgreSQL is replaying WAL");
            report_at += 10;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}

/// Takes the session-level advisory lock `name` (for work that one node at a time
/// should do); false when another session holds it. Release it with [`advisory_unlock`]
/// on the same connection.
pub async fn try_advisory_lock(conn: &mut PgConnection, name: &str) -> Result<bool> {
    Ok(sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock(hashtext($1)) AS "locked!""#, name).fetch_one(conn).await?)
}

pub async fn advisory_unlock(conn: &mut PgConnection, name: &str) -> Result<()> {
    sqlx::query!("SELECT pg_advisory_unlock(hashtext($1))", name).fetch_one(conn).await?;
    Ok(())
}

/// Opens a pool with studyhall's session settings (UTC, an application name) and the
/// configured limits, checking one connection before it returns.
pub async fn connect(options: PgConnectOptions, config: &PoolConfig) -> Result<PgPool> {
    Ok(pool_options(config).connect_with(session(options)).await?)
}

/// `options` with studyhall's session settings: UTC, an application name.
fn session(options: PgConnectOptions) -> PgConnectOptions {
    options.application_name("studyhall").options([("timezone", "UTC")])
}

/// Fails unless the pool's role is unprivileged: not a superuser, no BYPASSRLS, owner of
/// no table (an owner could disable row-level security).
async fn ensure_restricted(pool: &PgPool) -> Result<()> {
    let row = sqlx::query!(
        r#"SELECT current_user::text AS "role!", r.rolsuper OR r.rolbypassrls AS "privileged!",
                  EXISTS (SELECT FROM pg_class c WHERE c.relowner = r.oid
                            AND c.relnamespace = 'public'::regnamespace) AS "owns!"
             FROM pg_roles r WHERE r.rolname = current_user"#
    )
    .fetch_one(pool)
    .await?;
    let (role, privileged, owns) = (row.role, row.privileged, row.owns);
    if privileged || owns {
        return Err(Error::Config(format!(
            "requests must run as a role that owns nothing and cannot bypass row-level security, \
             but {role} {}: give STUDYHALL_APP_DATABASE_URL a login that is only a member of {APP_ROLE}",
            if privileged { "is a superuser or has BYPASSRLS" } else { "owns tables" }
        )));
    }
    Ok(())
}

/// The privileged pool's limits: `config`'s, but fewer connections.
fn privileged(config: &PoolConfig) -> PoolConfig {
    PoolConfig { max_connections: PRIVILEGED_POOL_SIZE.min(config.max_connections), ..config.clone() }
}

/// The pool limits of `config`.
pub fn pool_options(config: &PoolConfig) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(config.max_connections)
        .min_connections(config.min_connections)
        .idle_timeout(config.idle_timeout())
        .max_lifetime(config.max_lifetime())
        .acquire_timeout(config.acquire_timeout())
}
