//! Accounts: registration (as the sign-up policy allows, with invitations), sign-in and
//! sign-out, password resets, the caller's own profile, its export and deletion, and the
//! operators' `studyhall user` commands.

pub mod admin;
pub mod cli;
pub mod invitations;
pub mod me;
pub mod password;
pub mod reset;
pub mod session;
pub mod store;
pub mod throttle;
mod validate;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::{Error, OnConstraint, Result};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session::register))
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(reset::request))
        .routes(routes!(reset::confirm))
        .routes(routes!(me::get_me, me::update_me, me::delete_me))
        .routes(routes!(me::export))
        .merge(invitations::routes())
        .merge(admin::routes())
}

/// An account as its owner sees it (never its password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub profile_picture_url: Option<String>,
    /// The user's settings, a JSON object (e.g. `{"desired_retention": 0.9}`).
    pub preferences: Option<Value>,
    pub is_admin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// A taken email or username: 409 naming the field. Each is unique twice over, as
/// written and whatever its case.
fn taken<T>(result: Result<T>) -> Result<T> {
    const TAKEN: &str = "is already registered";
    result
        .on_constraint(&["users_email_key", "users_email_lower_key"], || Error::conflict("email", TAKEN))
        .on_constraint(&["users_username_key", "users_username_lower_key"], || Error::conflict("username", TAKEN))
}
