//! One audited unit of work: the one way a request changes state.
//!
//! ```ignore
//! let work = Work::new(&state.db, &client, "material.delete", "material").by(&auth);
//! work.entity(id);
//! work.change(async |tx| {
//!     let title = delete(tx, id).await?;
//!     Ok((StatusCode::NO_CONTENT, Change::new(Some(json!({"title": title})), Some(json!({"deleted": true})))))
//! })
//! .await
//! ```
//!
//! [`Work::run`] begins a transaction acting for the work's user (row-level security
//! sees the caller), runs the change in it, writes the change's audit row in the same
//! transaction and commits: the change and its row together, or neither. Whatever fails,
//! whether reading the input, the change or the commit, is recorded in a transaction of
//! its own, with what the client is told (never a secret: values are redacted).

use std::sync::Mutex;

use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{Actor, Row, changed_fields};
use crate::db::tenant;
use crate::error::{Error, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::Client;

/// One request's change in the making. The handler names the user and entity as it
/// learns them, and runs the change through [`Work::run`] or [`Work::change`].
pub struct Work<'a> {
    db: &'a PgPool,
    client: &'a Client,
    action: &'static str,
    entity_type: &'static str,
    /// Filled in as the handler learns it; a Mutex (never contended) keeps the handler's
    /// future Send.
    learned: Mutex<Learned>,
}

#[derive(Default, Clone, Copy)]
struct Learned {
    user: Option<Uuid>,
    /// Whom the change's transaction acts for, if not `user`.
    acting: Option<Uuid>,
    entity: Option<Uuid>,
    token: Option<Uuid>,
    /// Commit what the change wrote even though it then failed.
    keep: bool,
}

/// What a change did, for its audit row.
pub struct Change(Kind);

enum Kind {
    Values {
        old: Option<Value>,
        new: Option<Value>,
    },
    /// The change's own statement wrote the row ([`Work::own_row`]).
    Written,
    /// Nothing changed (a replayed answer): no row.
    Nothing,
}

impl Change {
    /// The changed fields before and after (either may be None).
    pub fn new(old: Option<Value>, new: Option<Value>) -> Self {
        Change(Kind::Values { old, new })
    }

    /// Something made: what it holds.
    pub fn created(new: Value) -> Self {
        Change::new(None, Some(new))
    }

    /// The fields that differ between two versions of an object (`updated_at` aside).
    pub fn diff<T: serde::Serialize>(before: &T, after: &T) -> Self {
        let (old, new) = changed_fields(before, after);
        Change::new(Some(Value::Object(old)), Some(Value::Object(new)))
    }

    /// The request changed nothing after all (a replayed answer): no row.
    pub fn nothing() -> Self {
        Change(Kind::Nothing)
    }
}

impl<'a> Work<'a> {
    /// `action` is `<entity>.<verb>` (`user.update`, `auth.login`); `entity_type` names
    /// the table's entity (`user`, `material`). `db` is the pool the change runs on.
    pub fn new(db: &'a PgPool, client: &'a Client, action: &'static str, entity_type: &'static str) -> Self {
        Work { db, client, action, entity_type, learned: Mutex::default() }
    }

    /// A request of the signed-in caller: its user, and the sign-in token it came with.
    pub fn by(self, auth: &AuthUser) -> Self {
        self.user(auth.user_id);
        self.learn(|l| l.token = Some(auth.token_id));
        self
    }

    fn learned(&self) -> Learned {
        *self.learned.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn learn(&self, change: impl FnOnce(&mut Learned)) -> &Self {
        change(&mut self.learned.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        self
    }

    /// The user acting (or, for a sign-in, the account signed in to): the transaction
    /// acts for them, and the rows name them.
    pub fn user(&self, user_id: Uuid) -> &Self {
        self.learn(|l| l.user = Some(user_id))
    }

    /// The change's transaction acts for `user` before the rows may name them: a
    /// registration's account exists only once the change has made it.
    pub fn acting_for(&self, user: Uuid) -> &Self {
        self.learn(|l| l.acting = Some(user))
    }

    pub fn entity(&self, entity_id: Uuid) -> &Self {
        self.learn(|l| l.entity = Some(entity_id))
    }

    /// The sign-in token the request came with (its id is recorded, never the token).
    pub fn session(&self, token_id: Uuid) -> &Self {
        self.learn(|l| l.token = Some(token_id))
    }

    /// Who acts, for rows a change writes beside its own (an idle session it abandons).
    pub fn actor(&self) -> Actor<'a> {
        let learned = self.learned();
        Actor { user: learned.user, token: learned.token, client: Some(self.client) }
    }

    /// Passes `result` on; should it be a failure, what the change wrote so far is
    /// committed all the same (an idle session abandoned, and so audited, before the
    /// request is refused 409).
    pub fn keeping<T>(&self, result: Result<T>) -> Result<T> {
        if result.is_err() {
            self.learn(|l| l.keep = true);
        }
        result
    }

    /// The success row, for a change whose own statement must write it (the answer
    /// path: one statement writes everything): the row to bind, and the Change to return
    /// once the statement has written it.
    pub fn own_row(&self, new: Value) -> (Row, Change) {
        (self.row().values(None, Some(new)), Change(Kind::Written))
    }

    fn row(&self) -> Row {
        self.actor().row(self.action, self.entity_type).entity(self.learned().entity)
    }

    /// Runs `change` on `input`, in a transaction acting for the work's user, and
    /// commits it with its audit row. A failure, of `input` or of the change, is
    /// recorded in a transaction of its own.
    pub async fn run<I, T>(
        &self,
        input: Result<I>,
        change: impl AsyncFnOnce(&mut PgConnection, I) -> Result<(T, Change)>,
    ) -> Result<T> {
        let result = async {
            let input = input?;
            let learned = self.learned();
            let mut tx = tenant::begin_as(self.db, learned.acting.or(learned.user)).await?;
            match change(&mut tx, input).await {
                Ok((value, Change(kind))) => {
                    match kind {
                        Kind::Values { old, new } => self.row().values(old, new).insert(&mut tx).await?,
                        Kind::Written | Kind::Nothing => {}
                    }
                    tx.commit().await?;
                    Ok(value)
                }
                Err(error) => {
                    if self.learned().keep {
                        tx.commit().await?;
                    }
                    Err(error)
                }
            }
        }
        .await;
        if let Err(error) = &result {
            self.record_failure(error).await;
        }
        result
    }

    /// [`Work::run`] for a change that needs no input read first.
    pub async fn change<T>(&self, change: impl AsyncFnOnce(&mut PgConnection) -> Result<(T, Change)>) -> Result<T> {
        self.run(Ok(()), async |tx, ()| change(tx).await).await
    }

    /// Records a failed request, with what its client is told, in a transaction of its
    /// own (whatever the change did was rolled back with its transaction).
    async fn record_failure(&self, error: &Error) {
        // A client error's message, else the status's reason ("Not Found", "Internal
        // Server Error"): what the client was told.
        let status = error.status();
        let message = error.client_message().unwrap_or_else(|| status.canonical_reason().unwrap_or("Error").to_owned());
        let recorded = async {
            let mut tx = tenant::begin_as(self.db, self.learned().user).await?;
            self.row().failed(message).insert(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, Error>(())
        };
        if let Err(audit_error) = recorded.await {
            tracing::error!(error = %audit_error, action = self.action, "recording a failed request in the audit trail failed");
        }
    }
}
