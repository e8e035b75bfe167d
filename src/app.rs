//! The application state shared by every request, and the server's life cycle:
//! open the database, migrate, serve until a signal, drain, stop the database.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::config::{AuthConfig, LearningConfig, MaintainConfig, MaterialsConfig, ServeConfig, Settings, WorkerConfig};
use crate::db::Database;
use crate::error::{Error, Result};
use crate::generate::openai::chat::Chat;
use crate::http;
use crate::jobs::worker::Workers;

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
    /// Background job settings (attempts for new jobs; the workers' own settings).
    pub jobs: WorkerConfig,
    /// Material size and URL fetching.
    pub materials: MaterialsConfig,
    /// The `openai` generator's endpoint, when one is configured.
    pub llm: Option<Chat>,
    /// Study sessions.
    pub learning: LearningConfig,
    /// Data upkeep, run on a schedule by the nodes that run workers.
    pub maintain: MaintainConfig,
    /// Whether the web app's cookies are marked Secure.
    pub web_secure_cookies: bool,
    /// The key signing the web app's sign-in and sign-up form tokens.
    pub form_key: crate::web::FormKey,
}

impl AppState {
    /// The state `settings` describe; an error when a setting is wrong (an LLM endpoint
    /// without a model).
    pub fn new(db: PgPool, privileged: PgPool, settings: &Settings) -> Result<Self> {
        Ok(AppState(Arc::new(App {
            db,
            privileged,
            auth: settings.auth.clone(),
            jobs: settings.workers.clone(),
            materials: settings.materials.clone(),
            llm: Chat::new(&settings.llm)?,
            learning: settings.learning.clone(),
            maintain: settings.maintain.clone(),
            web_secure_cookies: settings.secure_cookies,
            form_key: Default::default(),
        })))
    }
}

impl Deref for AppState {
    type Target = App;

    fn deref(&self) -> &App {
        &self.0
    }
}

/// Opens the database (migrating the embedded cluster, or any with `auto_migrate`), the
/// request pool, and the state handlers and jobs share.
async fn open(settings: &Settings, auto_migrate: bool) -> Result<(Database, AppState)> {
    let db = Database::open(&settings.database).await?;
    let state = async {
        db.migrate_on_start(auto_migrate).await?;
        let requests = db.connect_requests(&settings.database).await?;
        AppState::new(requests, db.pool.clone(), settings)
    }
    .await;
    match state {
        Ok(state) => Ok((db, state)),
        Err(error) => {
            let _ = db.close().await;
            Err(error)
        }
    }
}

/// `studyhall serve`: serves HTTP (and runs job workers, unless STUDYHALL_WORKERS=0)
/// until SIGINT or SIGTERM, then stops accepting connections, lets requests in flight
/// finish, stops the workers, closes the pools and stops the embedded cluster.
pub async fn serve(settings: &Settings, config: &ServeConfig) -> Result<()> {
    let (db, state) = open(settings, config.auto_migrate).await?;
    let result = async {
        let listener =
            TcpListener::bind(config.http.bind).await.map_err(Error::io(format!("binding {}", config.http.bind)))?;
        let workers = Workers::start(state.clone(), &settings.workers);
        let served = run(listener, http::router(state.clone(), &config.http), shutdown_signal()).await;
        workers.stop(settings.workers.shutdown_grace()).await;
        served
    }
    .await;
    state.db.close().await;
    // The database is closed whatever happened, so no PostgreSQL outlives studyhall.
    result.and(db.close().await)
}

/// `studyhall worker`: runs job workers, without HTTP, until SIGINT or SIGTERM.
pub async fn work(settings: &Settings) -> Result<()> {
    let (db, state) = open(settings, false).await?;
    let workers = Workers::start(state.clone(), &settings.workers);
    shutdown_signal().await;
    workers.stop(settings.workers.shutdown_grace()).await;
    state.db.close().await;
    db.close().await
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
