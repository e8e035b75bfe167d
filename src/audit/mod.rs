//! The audit trail: one `audit_logs` row for every state-changing request and every
//! sign-in attempt, successful or not.
//!
//! A change and its row commit together ([`Audit::commit`] inserts the row in the
//! change's transaction) or not at all; a failed request gets its row in a transaction
//! of its own ([`Audit::finish`]). Values pass through [`redact`] first, so no password,
//! hash, token or secret is ever written.

pub mod http;

use std::sync::Mutex;

use serde_json::{Map, Value};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::db::tenant;
use crate::error::Result;
use crate::http::extract::Client;

/// What replaces a secret in an audit row.
pub const REDACTED: &str = "[redacted]";

/// One request's audit record in the making. Handlers create it first, name the user
/// and entity as they learn them, and end with [`Audit::finish`].
pub struct Audit<'a> {
    db: &'a PgPool,
    client: &'a Client,
    action: &'static str,
    entity_type: &'static str,
    /// Filled in as the handler learns it; a Mutex (never contended) keeps the
    /// handler's future Send.
    subject: Mutex<Subject>,
}

#[derive(Default, Clone, Copy)]
struct Subject {
    user_id: Option<Uuid>,
    entity_id: Option<Uuid>,
    session_id: Option<Uuid>,
}

impl<'a> Audit<'a> {
    /// `action` is `<entity>.<verb>` (`user.update`, `auth.login`); `entity_type` names
    /// the table's entity (`user`, `material`).
    pub fn new(db: &'a PgPool, client: &'a Client, action: &'static str, entity_type: &'static str) -> Self {
        Audit { db, client, action, entity_type, subject: Mutex::default() }
    }

    fn subject(&self) -> Subject {
        *self.subject.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn update(&self, change: impl FnOnce(&mut Subject)) -> &Self {
        change(&mut self.subject.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        self
    }

    /// The user acting (or, for a sign-in, the account signed in to).
    pub fn user(&self, user_id: Uuid) -> &Self {
        self.update(|s| s.user_id = Some(user_id))
    }

    pub fn entity(&self, entity_id: Uuid) -> &Self {
        self.update(|s| s.entity_id = Some(entity_id))
    }

    /// The sign-in token the request came with (its id, never the token).
    pub fn session(&self, token_id: Uuid) -> &Self {
        self.update(|s| s.session_id = Some(token_id))
    }

    /// Records success in `tx` and commits it: the change and its audit row together.
    pub async fn commit(
        &self,
        mut tx: Transaction<'static, Postgres>,
        old: Option<Value>,
        new: Option<Value>,
    ) -> Result<()> {
        self.insert(&mut tx, old, new, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Passes `result` through; a failure is recorded in a transaction of its own
    /// (whatever the request did was rolled back with its own transaction).
    pub async fn finish<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(error) = &result {
            let message = error.client_message().unwrap_or_else(|| "internal error".to_owned());
            let recorded = async {
                let mut tx = tenant::begin_as(self.db, self.subject().user_id).await?;
                self.insert(&mut tx, None, None, Some(message)).await?;
                tx.commit().await?;
                Ok::<_, crate::error::Error>(())
            };
            if let Err(audit_error) = recorded.await {
                tracing::error!(error = %audit_error, action = self.action, "recording a failed request in the audit trail failed");
            }
        }
        result
    }

    async fn insert(
        &self,
        conn: &mut PgConnection,
        old: Option<Value>,
        new: Option<Value>,
        error: Option<String>,
    ) -> Result<()> {
        let subject = self.subject();
        sqlx::query(
            "INSERT INTO audit_logs (user_id, action, entity_type, entity_id, old_values, new_values,
                                     ip_address, user_agent, session_id, is_success, error_message)
             VALUES ($1, $2, $3, $4, $5, $6, $7::inet, $8, $9, $10, $11)",
        )
        .bind(subject.user_id)
        .bind(self.action)
        .bind(self.entity_type)
        .bind(subject.entity_id)
        .bind(old.map(redact))
        .bind(new.map(redact))
        .bind(self.client.ip.map(|ip| ip.to_string()))
        .bind(self.client.user_agent.as_deref())
        .bind(subject.session_id.map(|id| id.to_string()))
        .bind(error.is_none())
        .bind(error)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// The fields that differ between two versions of an object, as (old, new) objects;
/// `updated_at` is left out.
pub fn changed_fields<T: serde::Serialize>(before: &T, after: &T) -> (Map<String, Value>, Map<String, Value>) {
    let (Value::Object(before), Value::Object(after)) = (serde_json::json!(before), serde_json::json!(after)) else {
        return (Map::new(), Map::new());
    };
    before
        .into_iter()
        .filter(|(key, value)| key != "updated_at" && after.get(key) != Some(value))
        .map(|(key, value)| {
            let new = after.get(&key).cloned().unwrap_or(Value::Null);
            ((key.clone(), value), (key, new))
        })
        .unzip()
}

/// Replaces the value of every key that names a secret (password, hash, token, secret,
/// key), at any depth.
pub fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, value)| {
                    let value = if is_secret(&key) { Value::String(REDACTED.to_owned()) } else { redact(value) };
                    (key, value)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["password", "hash", "token", "secret", "api_key", "apikey"].iter().any(|word| key.contains(word))
        && key != "token_id"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let value = json!({
            "email": "a@example.org",
            "password": "hunter2hunter2",
            "nested": {"password_hash": "$2b$...", "api_key": "sk-1", "items": [{"access_token": "t"}]},
            "token_id": "kept: an id, not a secret",
        });
        assert_eq!(
            redact(value),
            json!({
                "email": "a@example.org",
                "password": REDACTED,
                "nested": {"password_hash": REDACTED, "api_key": REDACTED, "items": [{"access_token": REDACTED}]},
                "token_id": "kept: an id, not a secret",
            })
        );
    }
}
