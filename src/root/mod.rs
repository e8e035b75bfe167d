//! The composition root: the one place that knows every area. It wires the router
//! (router.rs), the job kinds (jobs.rs) and the background work (background.rs: the job
//! workers and the upkeep, upkeep.rs), and runs serve's and the worker's life cycle: open the database,
//! migrate, serve until a signal, drain, stop the database. No area imports it.

mod background;
mod jobs;
mod router;
mod upkeep;

use std::future::Future;
use std::net::SocketAddr;

use clap::ValueEnum;

use tokio::net::TcpListener;

pub use background::Background;
pub use router::router;

use crate::app::AppState;
use crate::config::{ServeConfig, Settings};
use crate::db::Database;
use crate::error::{Error, Result};

/// Opens the database (migrating the embedded cluster, or any with `auto_migrate`), the
/// request pool, and the state handlers and jobs share (of a server listening on `bind`).
async fn open(settings: &Settings, auto_migrate: bool, bind: Option<SocketAddr>) -> Result<(Database, AppState)> {
    let db = Database::open(&settings.database).await?;
    let state = async {
        db.migrate_on_start(auto_migrate).await?;
        let requests = db.connect_requests(&settings.database).await?;
        let replica = Database::connect_reads(&settings.database).await?;
        AppState::new(requests, db.pool.clone(), replica, settings, bind)
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
    // Bound first: a busy port fails at once, before a cluster is created or started.
    let listener = bind(config.http.bind).await?;
    let address = listener.local_addr().map_err(Error::io("reading the bound address"))?;
    let (db, state) = open(settings, config.auto_migrate, Some(address)).await?;
    let result = async {
        let signup = state.site.signup.to_possible_value().expect("every policy has a name");
        tracing::info!(signup = %signup.get_name(), mail = state.mail.is_some(), "accounts");
        if !crate::accounts::store::any_account(&state.privileged).await? {
            tracing::info!(
                "no account yet: the first account to sign up at {} becomes the administrator \
                 (or create one with `studyhall user create --admin`)",
                state.site.links.to("/signup")
            );
        }
        let mut workers = Background::start(state.clone(), &settings.workers);
        workers.take_backups(state.clone(), crate::backup::Server::of(&db, &settings.database));
        let served = run(listener, router(state.clone(), &config.http), shutdown_signal()).await;
        workers.stop(settings.workers.shutdown_grace()).await;
        served
    }
    .await;
    state.db.close().await;
    state.reads.close().await;
    // The database is closed whatever happened, so no PostgreSQL outlives studyhall.
    result.and(db.close().await)
}

/// Listens on `address`, saying what to do when it cannot.
async fn bind(address: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(address).await.map_err(|err| match err.kind() {
        std::io::ErrorKind::AddrInUse => Error::Config(format!(
            "cannot listen on {address}: the address is in use (another studyhall or program listens there); \
             stop it or choose another STUDYHALL_BIND"
        )),
        std::io::ErrorKind::PermissionDenied => Error::Config(format!(
            "cannot listen on {address}: permission denied (ports below 1024 need privileges); choose another STUDYHALL_BIND"
        )),
        _ => Error::io(format!("listening on {address}"))(err),
    })
}

/// `studyhall worker`: runs job workers, without HTTP, until SIGINT or SIGTERM.
pub async fn work(settings: &Settings) -> Result<()> {
    let (db, state) = open(settings, false, None).await?;
    let workers = Background::start(state.clone(), &settings.workers);
    shutdown_signal().await;
    workers.stop(settings.workers.shutdown_grace()).await;
    state.db.close().await;
    state.reads.close().await;
    db.close().await
}

/// Serves `router` on `listener` until `shutdown` completes, then drains.
pub async fn run(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let address = listener.local_addr().map_err(Error::io("reading the bound address"))?;
    // The address to open, as a link a terminal makes clickable.
    let url = crate::config::url_of(address);
    tracing::info!(%address, %url, "listening");
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
