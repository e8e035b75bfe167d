//! Where a learner's reads run: on the read replica (STUDYHALL_READ_DATABASE_URL) once it
//! shows the learner's own changes, else on the primary.
//!
//! Read-your-writes across nodes: every change committed for a learner bumps their write
//! mark on the primary, in the change's own transaction (migration 0023). Resolving the
//! request's sign-in token, on the primary as every request does, returns the mark in the
//! same statement. A read on the replica first reads the replica's copy of the mark, in the
//! transaction the read then runs in: once it has reached the primary's, the replica shows
//! every change of theirs that committed before the request began, whichever node made it.
//! If it has not within STUDYHALL_READ_WAIT_MS, the read runs on the primary; so does every
//! read for a few seconds after the replica failed.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::tenant;
use crate::error::{Error, Result};

/// How often a read waiting for the replica looks at the mark again.
const POLL: Duration = Duration::from_millis(5);

/// How long reads leave a failed replica alone before trying it again.
const REST: Duration = Duration::from_secs(5);

/// Whose read it is, and the write mark the primary had for them when the request began.
#[derive(Debug, Clone, Copy)]
pub struct Reader {
    pub user: Uuid,
    pub mark: i64,
}

/// The pools reads run on: the request pool, and the replica's when there is one.
pub struct Reads {
    primary: PgPool,
    replica: Option<Replica>,
}

struct Replica {
    pool: PgPool,
    wait: Duration,
    /// Until when reads leave the replica alone, after it failed.
    resting_until: Mutex<Option<Instant>>,
}

impl Reads {
    /// Reads on `replica` when it has caught up within `wait`, else on `primary`.
    pub fn new(primary: PgPool, replica: Option<PgPool>, wait: Duration) -> Self {
        let replica = replica.map(|pool| Replica { pool, wait, resting_until: Mutex::default() });
        Reads { primary, replica }
    }

    /// The replica's pool, if there is one.
    pub fn replica(&self) -> Option<&PgPool> {
        self.replica.as_ref().map(|replica| &replica.pool)
    }

    /// Runs `read` in a transaction acting for `reader`: on the replica when it shows their
    /// changes, else on the primary. A replica that fails (cannot be reached, or cancels a
    /// query that conflicts with its recovery) costs the read nothing but time: it runs on
    /// the primary, and the replica is left alone for a few seconds.
    pub async fn run<T>(
        &self,
        reader: Reader,
        read: impl AsyncFnOnce(&mut PgConnection) -> Result<T> + Clone,
    ) -> Result<T> {
        let reason = match &self.replica {
            None => "no_replica",
            Some(replica) if replica.resting() => "replica_resting",
            Some(replica) => match replica.run(reader, read.clone()).await? {
                Attempt::Read(value, waited) => {
                    count("replica", if waited { "waited" } else { "caught_up" });
                    return Ok(value);
                }
                Attempt::Behind => "replica_behind",
                Attempt::Failed(error) => {
                    replica.rest(&error);
                    "replica_failed"
                }
            },
        };
        count("primary", reason);
        let mut tx = tenant::begin_as(&self.primary, Some(reader.user)).await?;
        let value = read(&mut tx).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// Closes the replica's connections (the request pool is closed by its owner).
    pub async fn close(&self) {
        if let Some(replica) = &self.replica {
            replica.pool.close().await;
        }
    }
}

/// How a read on the replica went.
enum Attempt<T> {
    /// Read (and whether the replica had to be waited for).
    Read(T, bool),
    /// The replica did not show the reader's changes within the wait.
    Behind,
    /// The replica failed: it could not begin, check the mark (not there, not migrated),
    /// or finish the read for a reason of its own.
    Failed(Error),
}

impl Replica {
    /// `read` on the replica once its copy of the reader's mark has caught up. An error
    /// is the read's own (the same on the primary); the replica's are [`Attempt::Failed`].
    async fn run<T>(
        &self,
        reader: Reader,
        read: impl AsyncFnOnce(&mut PgConnection) -> Result<T>,
    ) -> Result<Attempt<T>> {
        let (mut tx, waited) = match self.caught_up(reader).await {
            Ok(Some(caught_up)) => caught_up,
            Ok(None) => return Ok(Attempt::Behind),
            Err(error) => return Ok(Attempt::Failed(error)),
        };
        let read = async {
            let value = read(&mut tx).await?;
            tx.commit().await?;
            Ok(value)
        };
        match read.await {
            Ok(value) => Ok(Attempt::Read(value, waited)),
            Err(error) if failed(&error) => Ok(Attempt::Failed(error)),
            Err(error) => Err(error),
        }
    }

    /// A transaction on the replica acting for `reader`, once the replica shows their mark
    /// (and whether that took a wait); None when it did not within the wait.
    async fn caught_up(&self, reader: Reader) -> Result<Option<(Transaction<'static, Postgres>, bool)>> {
        let mut tx = tenant::begin_as(&self.pool, Some(reader.user)).await?;
        let started = Instant::now();
        let mut looks = 0;
        let caught_up = loop {
            looks += 1;
            let caught_up: bool =
                sqlx::query_scalar("SELECT coalesce((SELECT mark FROM user_write_marks WHERE user_id = $1), 0) >= $2")
                    .bind(reader.user)
                    .bind(reader.mark)
                    .fetch_one(&mut *tx)
                    .await?;
            if caught_up || started.elapsed() >= self.wait {
                break caught_up;
            }
            tokio::time::sleep(POLL).await;
        };
        metrics::histogram!("studyhall_read_replica_wait_seconds").record(started.elapsed().as_secs_f64());
        if !caught_up {
            tx.rollback().await?;
            return Ok(None);
        }
        Ok(Some((tx, looks > 1)))
    }

    /// Whether reads leave the replica alone now, after it failed.
    fn resting(&self) -> bool {
        let mut until = self.resting_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match *until {
            Some(at) if Instant::now() < at => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    /// Leaves the replica alone for a while, saying why once.
    fn rest(&self, error: &Error) {
        let mut until = self.resting_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if until.is_none_or(|at| Instant::now() >= at) {
            tracing::warn!(error = %error, retry_in_secs = REST.as_secs(), "the read replica failed; reading from the primary");
        }
        *until = Some(Instant::now() + REST);
    }
}

/// Whether the read's `error` is the replica's failure rather than the read's own: it
/// cannot be reached, is shutting down or out of resources, or cancelled the query for its
/// recovery (40001).
fn failed(error: &Error) -> bool {
    match error {
        Error::Database(sqlx::Error::Database(db)) => db
            .code()
            .is_some_and(|code| ["08", "53", "57"].iter().any(|class| code.starts_with(class)) || code == "40001"),
        Error::Database(
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed,
        ) => true,
        _ => false,
    }
}

/// `studyhall_reads_total`: reads by the database they ran on and why.
fn count(database: &'static str, reason: &'static str) {
    metrics::counter!("studyhall_reads_total", "database" => database, "reason" => reason).increment(1);
}
