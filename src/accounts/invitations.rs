//! Invitations: one-time sign-up links that expire, for servers whose sign-up is by
//! invitation. Made by operators (`studyhall user invite`) and administrators (the API
//! here; the admin page calls the same functions); each made, used (at sign-up, in
//! `session.rs`) and revoked is audited, never with its token.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::store::{self, Invitation};
use super::validate;
use crate::app::AppState;
use crate::audit::{Change, Work};
use crate::config::Links;
use crate::error::{Error, Problem, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::{Client, Input};
use crate::http::page::{self, Newest, Page};

/// How long an invitation's link works unless told otherwise: a week.
pub const DEFAULT_HOURS: u32 = 7 * 24;
/// The longest an invitation's link may work: 90 days.
pub const MAX_HOURS: u32 = 90 * 24;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create_invitation)).routes(routes!(revoke))
}

/// A new invitation.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct NewInvitation {
    /// The address the new account must have; any address when absent.
    pub email: Option<String>,
    /// Hours the link works, 1 to 2160 (default 168: a week).
    pub expires_in_hours: Option<u32>,
}

/// A new invitation, with its link: the only time the link is shown.
#[derive(Serialize, ToSchema)]
pub struct CreatedInvitation {
    pub invitation: Invitation,
    /// The one-time sign-up link to send to the invitee (`<public URL>/signup?invite=...`).
    pub link: String,
}

/// Makes an invitation (the API, the admin page and `studyhall user invite`): `by` the
/// administrator, or an operator (None). Audited through `work`, on the privileged pool.
pub async fn create(
    work: &Work<'_>,
    by: Option<Uuid>,
    body: Result<NewInvitation>,
    links: &Links,
) -> Result<CreatedInvitation> {
    let checked = body.and_then(|body| {
        let email = body.email.map(|email| email.trim().to_owned());
        let hours = body.expires_in_hours.unwrap_or(DEFAULT_HOURS);
        let mut v = validate::Validator::default();
        if let Some(email) = &email {
            validate::email(&mut v, "email", email);
        }
        v.check((1..=MAX_HOURS).contains(&hours), "expires_in_hours", format!("must be 1 to {MAX_HOURS}"));
        v.finish()?;
        Ok((email, hours))
    });
    work.run(checked, async |tx, (email, hours)| {
        let expires_at = Utc::now() + chrono::Duration::hours(hours.into());
        let (invitation, secret) = store::create_invitation(tx, by, email.as_deref(), expires_at).await?;
        work.entity(invitation.id);
        let mut new = json!({"email": email, "expires_at": expires_at});
        if by.is_none() {
            new["via"] = json!("cli");
        }
        let link = links.to(&format!("/signup?invite={secret}"));
        Ok((CreatedInvitation { invitation, link }, Change::created(new)))
    })
    .await
}

/// An invitation's lifetime as `studyhall user invite --expires-in` takes it: hours
/// (`12h`) or days (`7d`), 1 hour to 90 days.
pub fn parse_lifetime(text: &str) -> std::result::Result<u32, String> {
    let text = text.trim();
    let (number, hours_each) = match text.strip_suffix('d') {
        Some(days) => (days, 24),
        None => (text.strip_suffix('h').unwrap_or(text), 1),
    };
    let hours = number.trim().parse::<u32>().ok().and_then(|n| n.checked_mul(hours_each));
    hours
        .filter(|hours| (1..=MAX_HOURS).contains(hours))
        .ok_or_else(|| format!("{text:?} is not a lifetime from 1h to 90d, such as 12h or 7d"))
}

/// Makes an invitation: administrators only (others get 404). Audited (never the link).
#[utoipa::path(post, path = "/api/v1/admin/invitations", tag = "admin", request_body = NewInvitation,
    security(("bearer" = [])),
    responses((status = 201, body = CreatedInvitation), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn create_invitation(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Input(body): Input<NewInvitation>,
) -> Result<(StatusCode, Json<CreatedInvitation>)> {
    if !auth.is_admin {
        return Err(Error::NotFound);
    }
    let work = Work::new(&state.privileged, &client, "invitation.create", "invitation").by(&auth);
    let created = create(&work, Some(auth.user_id), body, &state.site.links).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Rows per page, 1 to 200 (default 50).
    limit: Option<u32>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// Every invitation, newest first, with where it stands: administrators only (others
/// get 404).
#[utoipa::path(get, path = "/api/v1/admin/invitations", tag = "admin", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Invitation>), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Page<Invitation>>> {
    if !auth.is_admin {
        return Err(Error::NotFound);
    }
    let (limit, cursor) = page::params::<Newest>(query.limit, query.cursor.as_deref())?;
    let rows = store::invitations(&mut *state.privileged.acquire().await?, cursor, i64::from(limit) + 1).await?;
    Ok(Json(Page::from_rows(rows, limit, |row| (row.created_at, row.id))))
}

/// Withdraws an invitation: its link stops working. Administrators only (others get
/// 404); 409 if its link was used already. Audited.
#[utoipa::path(delete, path = "/api/v1/admin/invitations/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The invitation's id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = Problem), (status = 404, body = Problem),
              (status = 409, description = "Its link was used already", body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    client: Client,
    auth: AuthUser,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    if !auth.is_admin {
        return Err(Error::NotFound);
    }
    revoke_by(&state, &client, &auth, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Withdraws invitation `id` for administrator `auth` (the API and the admin page); audited.
pub async fn revoke_by(state: &AppState, client: &Client, auth: &AuthUser, id: Uuid) -> Result<Invitation> {
    let work = Work::new(&state.privileged, client, "invitation.revoke", "invitation").by(auth);
    work.entity(id);
    work.change(async |tx| {
        let invitation = store::revoke_invitation(tx, id).await?;
        Ok((invitation, Change::created(json!({"revoked": true}))))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_hours_or_days_up_to_ninety_days() {
        assert_eq!(parse_lifetime("7d"), Ok(168));
        assert_eq!(parse_lifetime("12h"), Ok(12));
        assert_eq!(parse_lifetime("36"), Ok(36), "hours when no unit is given");
        assert_eq!(parse_lifetime("90d"), Ok(MAX_HOURS));
        for wrong in ["0h", "91d", "-1d", "a week", "", "7 days", "99999999999d"] {
            assert!(parse_lifetime(wrong).is_err(), "{wrong}");
        }
    }
}
