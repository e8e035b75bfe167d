//! The database: the connection pool, the embedded cluster behind it when no
//! DATABASE_URL is given, and the migrations.

pub mod embedded;
pub mod migrate;

use std::str::FromStr;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::{DatabaseConfig, PoolConfig};
use crate::error::{Error, Result};
use embedded::{ClusterOptions, EmbeddedCluster, PgBinaries};

/// An open database: its pool and, for the embedded default, the cluster it runs on.
pub struct Database {
    pub pool: PgPool,
    cluster: Option<EmbeddedCluster>,
}

impl Database {
    /// Connects to DATABASE_URL, or starts (creating on first use) the embedded cluster
    /// and its `learning_platform` database.
    pub async fn open(config: &DatabaseConfig) -> Result<Self> {
        match &config.database_url {
            Some(url) => {
                let options = PgConnectOptions::from_str(url)?;
                let pool = connect(options, &config.pool).await?;
                Ok(Database {
                    pool,
                    cluster: None,
                })
            }
            None => {
                let data_dir = config.data_dir.clone();
                let pg_bin = config.pg_bin.clone();
                tracing::info!(data_dir = %data_dir.display(), "starting the embedded PostgreSQL");
                let cluster = tokio::task::spawn_blocking(move || {
                    let binaries = PgBinaries::locate(pg_bin.as_deref())?;
                    EmbeddedCluster::start(&data_dir, binaries, ClusterOptions::default())
                })
                .await
                .map_err(|err| Error::Embedded(format!("starting PostgreSQL panicked: {err}")))??;
                cluster.ensure_database().await?;
                let pool =
                    connect(cluster.connect_options(embedded::DATABASE), &config.pool).await?;
                tracing::info!(socket_dir = %cluster.socket_dir().display(), "embedded PostgreSQL is ready");
                Ok(Database {
                    pool,
                    cluster: Some(cluster),
                })
            }
        }
    }

    /// The embedded cluster, when this database runs on one.
    pub fn cluster(&self) -> Option<&EmbeddedCluster> {
        self.cluster.as_ref()
    }

    /// Closes every connection, then stops the embedded cluster if there is one.
    pub async fn close(self) -> Result<()> {
        self.pool.close().await;
        if let Some(cluster) = self.cluster {
            tokio::task::spawn_blocking(move || cluster.stop())
                .await
                .map_err(|err| Error::Embedded(format!("stopping PostgreSQL panicked: {err}")))??;
            tracing::info!("embedded PostgreSQL stopped");
        }
        Ok(())
    }
}

/// Opens a pool with studyhall's session settings (UTC, an application name) and the
/// configured limits, checking one connection before it returns.
pub async fn connect(options: PgConnectOptions, config: &PoolConfig) -> Result<PgPool> {
    let options = options
        .application_name("studyhall")
        .options([("timezone", "UTC")]);
    Ok(pool_options(config).connect_with(options).await?)
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
