//! The audit trail: one `audit_logs` row for every state-changing request and every
//! sign-in attempt, successful or not.
//!
//! Requests change state through a [`Work`] (work.rs): it begins the transaction acting
//! for the caller, runs the change, and commits it together with its row; a failure gets
//! its row in a transaction of its own. A [`Row`] is the one way a row is written (the
//! answer path, whose one statement writes its own row, binds a Row's values). Values
//! pass through [`redact`] as they are set, so no password, hash, token or secret is
//! ever written.

pub mod http;
pub mod store;
mod work;

use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

pub use work::{Change, Work};

use crate::error::Result;
use crate::http::auth::AuthUser;
use crate::http::extract::Client;

/// What replaces a secret in an audit row.
pub const REDACTED: &str = "[redacted]";

/// Who acts, as the rows a request writes name them: the user, the id of their sign-in
/// token, and the client. The default is nobody: studyhall's own upkeep.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actor<'a> {
    pub user: Option<Uuid>,
    pub token: Option<Uuid>,
    pub client: Option<&'a Client>,
}

impl<'a> Actor<'a> {
    /// The signed-in caller of a request.
    pub fn of(auth: &AuthUser, client: &'a Client) -> Self {
        Actor { user: Some(auth.user_id), token: Some(auth.token_id), client: Some(client) }
    }

    /// A row of this actor's: `action` is `<entity>.<verb>` (`user.update`,
    /// `auth.login`), `entity_type` the table's entity (`user`, `material`).
    pub fn row(&self, action: &'static str, entity_type: &'static str) -> Row {
        Row {
            user_id: self.user,
            action,
            entity_type,
            entity_id: None,
            old_values: None,
            new_values: None,
            ip_address: self.client.and_then(|c| c.ip).map(|ip| ip.to_string()),
            user_agent: self.client.and_then(|c| c.user_agent.clone()),
            session_id: self.token.map(|id| id.to_string()),
            error_message: None,
        }
    }
}

/// One `audit_logs` row, its values redacted as they are set.
#[derive(Debug, Clone)]
pub struct Row {
    user_id: Option<Uuid>,
    action: &'static str,
    entity_type: &'static str,
    entity_id: Option<Uuid>,
    old_values: Option<Value>,
    new_values: Option<Value>,
    ip_address: Option<String>,
    user_agent: Option<String>,
    /// The id of the sign-in token the request came with (never the token).
    session_id: Option<String>,
    /// What the client was told, for a failed request.
    error_message: Option<String>,
}

impl Row {
    /// The user the row is about, when it is not the actor (a sign-in's account).
    pub fn user(mut self, user: Option<Uuid>) -> Self {
        self.user_id = user;
        self
    }

    pub fn entity(mut self, entity: Option<Uuid>) -> Self {
        self.entity_id = entity;
        self
    }

    /// The changed fields before and after.
    pub fn values(mut self, old: Option<Value>, new: Option<Value>) -> Self {
        self.old_values = old.map(redact);
        self.new_values = new.map(redact);
        self
    }

    /// Marks the request failed, with what its client was told.
    pub fn failed(mut self, message: String) -> Self {
        self.error_message = Some(message);
        self
    }

    pub async fn insert(&self, conn: &mut PgConnection) -> Result<()> {
        sqlx::query!(
            "INSERT INTO audit_logs (user_id, action, entity_type, entity_id, old_values, new_values,
                                     ip_address, user_agent, session_id, is_success, error_message)
             VALUES ($1, $2, $3, $4, $5, $6, $7::text::inet, $8, $9, $10, $11)",
            self.user_id,
            self.action,
            self.entity_type,
            self.entity_id,
            self.old_values,
            self.new_values,
            self.ip_address,
            self.user_agent,
            self.session_id,
            self.error_message.is_none(),
            self.error_message,
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    // What a statement that writes the row itself binds.

    pub fn new_values(&self) -> Option<&Value> {
        self.new_values.as_ref()
    }

    pub fn ip_address(&self) -> Option<&str> {
        self.ip_address.as_deref()
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.user_agent.as_deref()
    }

    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
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
