//! The application state every request and job shares: the pools and the settings.
//! A leaf: it imports no area, so that every area can import it (serve's life cycle
//! is in [`crate::root`]).

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::OnceCell;

use crate::config::{
    AuthConfig, DEFAULT_BIND, LearningConfig, MaintainConfig, MaterialsConfig, Settings, Site, WorkerConfig,
};
use crate::db::reads::Reads;
use crate::error::Result;
use crate::llm::Chat;
use crate::mail::Mailer;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<App>);

pub struct App {
    /// The pool request handling runs on, as a role that row-level security binds:
    /// every query on it runs in a transaction from `db::tenant::begin_as`.
    pub db: PgPool,
    /// The privileged pool: readiness and audited admin paths only.
    pub privileged: PgPool,
    /// Where read-only requests run: the read replica when it shows the learner's own
    /// changes, else `db` (`Reads::run`).
    pub reads: Reads,
    /// Sign-in settings.
    pub auth: AuthConfig,
    /// Who may sign up, and the address links name.
    pub site: Site,
    /// The SMTP server password-reset links are sent through, when one is configured.
    pub mail: Option<Mailer>,
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
    /// Where this node looks for backups (STUDYHALL_BACKUP_DIR or the data directory's),
    /// and the hours between the backups `serve` takes (0: none; cron's).
    pub backups: BackupPlace,
    /// Whether the web app's cookies are marked Secure.
    pub web_secure_cookies: bool,
    /// The key signing the web app's sign-in and sign-up form tokens, read on first use
    /// (`http::csrf`).
    pub form_key: OnceCell<Vec<u8>>,
}

/// Where this node's backups are, as far as it can see them.
pub struct BackupPlace {
    pub dir: PathBuf,
    pub every_hours: u64,
    /// The embedded cluster's WAL archive (none on a server of the operator's own).
    pub wal_archive: Option<PathBuf>,
}

impl AppState {
    /// The state `settings` describe for a server listening on `bind` (None for a worker,
    /// which serves nothing: the default address); an error when a setting is wrong (an
    /// LLM endpoint without a model, an SMTP server without a sender). `replica` is the
    /// read replica's pool, if there is one.
    pub fn new(
        db: PgPool,
        privileged: PgPool,
        replica: Option<PgPool>,
        settings: &Settings,
        bind: Option<SocketAddr>,
    ) -> Result<Self> {
        let bind = bind.unwrap_or_else(|| DEFAULT_BIND.parse().expect("the default address parses"));
        Ok(AppState(Arc::new(App {
            reads: Reads::new(db.clone(), replica, settings.database.read_wait()),
            db,
            privileged,
            auth: settings.auth.clone(),
            site: settings.auth.site(bind),
            mail: Mailer::new(&settings.mail)?,
            jobs: settings.workers.clone(),
            materials: settings.materials.clone(),
            llm: Chat::new(&settings.llm)?,
            learning: settings.learning.clone(),
            maintain: settings.maintain.clone(),
            backups: BackupPlace {
                dir: settings.backups.dir(&settings.database.data_dir),
                every_hours: settings.backups.backup_hours,
                wal_archive: settings
                    .database
                    .database_url
                    .is_none()
                    .then(|| crate::db::embedded::wal_archive(&settings.database.data_dir)),
            },
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
