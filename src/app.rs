//! The application state shared by every request, and the server's life cycle:
//! open the database, migrate, serve until a signal, drain, stop the database.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::config::{AuthConfig, DatabaseConfig, ServeConfig};
use crate::db::Database;
use crate::error::{Error, Result};
use crate::http;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    /// The pool request handling runs on, as a role that row-level security binds:
    /// every query on it runs in a transaction from `db::tenant::begin_as`.
    pub db: PgPool,
    /// The privileged pool: readiness and audited admin paths only.
    pub privileged: PgPool,
    /// Sign-in settings.
    pub auth: AuthConfig,
}

impl AppState {
    pub fn new(db: PgPool, privileged: PgPool, auth: AuthConfig) -> Self {
        AppState(Arc::new(App { db, privileged, auth }))
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

/// `studyhall serve`: runs until SIGINT or SIGTERM, then stops accepting connections,
/// lets requests in flight finish, closes the pool and stops the embedded cluster.
pub async fn serve(database: &DatabaseConfig, auth: &AuthConfig, config: &ServeConfig) -> Result<()> {
    let db = Database::open(database).await?;
    let result = serve_on(&db, database, auth, config).await;
    // The database is closed whatever happened, so no PostgreSQL outlives studyhall.
    let closed = db.close().await;
    result.and(closed)
}

async fn serve_on(db: &Database, database: &DatabaseConfig, auth: &AuthConfig, config: &ServeConfig) -> Result<()> {
    db.migrate_on_start(config.auto_migrate).await?;
    let listener =
        TcpListener::bind(config.http.bind).await.map_err(Error::io(format!("binding {}", config.http.bind)))?;
    let requests = db.connect_requests(database).await?;
    let state = AppState::new(requests.clone(), db.pool.clone(), auth.clone());
    let result = run(listener, http::router(state, &config.http), shutdown_signal()).await;
    requests.close().await;
    result
}

/// Serves `router` on `listener` until `shutdown` completes, then drains.
pub async fn run(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let address = listener.local_addr().map_err(Error::io("reading the bound address"))?;
    tracing::info!(%address, "listening");
    // Peer addresses reach the handlers (the client address of sign-in throttling and audit rows).
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(Error::io("serving HTTP"))?;
    tracing::info!("HTTP server stopped");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}
