//! Sign in, sign up (as the sign-up policy allows) and sign out, as pages and form posts.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{WebUser, forbidden, html_error, render};
use crate::accounts::session::{Admission, LoginRequest, RegisterRequest, admit, sign_in, sign_out, sign_up};
use crate::accounts::store::any_account;
use crate::app::AppState;
use crate::config::Signup;
use crate::error::{Error, FieldError};
use crate::http::cookie::{FORM_CSRF, SESSION, cookie, set_cookie};
use crate::http::csrf::{FORM_TOKEN_SECS, form_token_valid, new_form_token};
use crate::http::extract::Client;

#[derive(askama::Template)]
#[template(path = "signin.html")]
struct SignInPage {
    csrf: String,
    login: String,
    error: Option<String>,
    /// Why the learner is here (signed out by a password change, deleted).
    notice: Option<&'static str>,
    /// The local page to return to once signed in ("" for the dashboard).
    next: String,
    /// What the page says to someone without an account, and the sign-up link's words
    /// if sign-up is offered.
    offer: (&'static str, Option<&'static str>),
}

/// What the sign-in page offers someone without an account: sign-up while it is open or
/// there is no account yet, otherwise who to ask.
async fn offer(state: &AppState) -> crate::error::Result<(&'static str, Option<&'static str>)> {
    if !any_account(&state.privileged).await? {
        return Ok(("No account yet?", Some("Create the first one: it will be the administrator's")));
    }
    Ok(match state.site.signup {
        Signup::Open => ("New here?", Some("Create an account")),
        Signup::Invite => ("New here? Sign-up is by invitation: open the link you were sent.", None),
        Signup::Closed => ("New here? Ask the administrator for an account.", None),
    })
}

/// Where a sign-in returns to: `next` if it is a path on this site (one leading "/",
/// not "//" or "/\\", which browsers read as another host; printable ASCII only, so
/// no scheme, no whitespace a browser would strip, and a valid Location), else None.
pub fn safe_next(next: &str) -> Option<&str> {
    let bytes = next.as_bytes();
    let local = bytes.first() == Some(&b'/') && !matches!(bytes.get(1), Some(b'/' | b'\\'));
    (local && next.len() <= 2000 && bytes.iter().all(|b| b.is_ascii_graphic())).then_some(next)
}

/// What the sign-in page is asked for: `next`, and `done` (why the learner was signed out).
#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    done: Option<String>,
}

/// The notice for `done`.
fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "password" => Some(
            "Your password was changed, and that signed you out everywhere: here and on your other devices. \
             Sign in with the new password.",
        ),
        "deleted" => Some("Your account was deleted. Your sign-ins have ended and your personal details are erased."),
        "reset" => {
            Some("Your new password is set, and every sign-in of yours has ended. Sign in with the new password.")
        }
        _ => None,
    }
}

#[derive(askama::Template)]
#[template(path = "signup.html")]
struct SignUpPage {
    csrf: String,
    email: String,
    username: String,
    error: Option<String>,
    errors: Vec<FieldError>,
    /// The invitation's token ("" without one).
    invite: String,
    /// The email is the invitation's, and cannot be changed.
    locked: bool,
    /// No account exists: this one will be the administrator.
    first: bool,
}

impl SignUpPage {
    fn field_error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }

    /// The ids of what describes the email field: the invitation's hint, its error.
    fn email_described_by(&self) -> String {
        let hint = self.locked.then_some("email-hint");
        let error = self.field_error("email").map(|_| "email-error");
        [hint, error].into_iter().flatten().collect::<Vec<_>>().join(" ")
    }
}

/// A page that says something and offers one way on: `action`, to `href`.
#[derive(askama::Template)]
#[template(path = "notice.html")]
pub(super) struct NoticePage {
    pub heading: &'static str,
    pub message: String,
    pub href: &'static str,
    pub action: &'static str,
}

/// Why this sign-up cannot be, as a page: closed or by invitation only (403), or an
/// invitation whose link no longer works (410); None for other errors.
fn refused_signup(state: &AppState, error: &Error) -> Option<Response> {
    let Error::Forbidden(why) = error else {
        return gone(error, "invitation", "This invitation", ("/signin", "Sign in"));
    };
    let heading = match state.site.signup {
        Signup::Closed => "Sign-up is closed",
        Signup::Open | Signup::Invite => "Sign-up is by invitation",
    };
    let page = NoticePage { heading, message: (*why).to_owned(), href: "/signin", action: "Sign in" };
    Some(render(StatusCode::FORBIDDEN, &page))
}

/// The 410 page of a link whose token (the request's `field`) was refused: `what` it is,
/// why it no longer works, and one way on (`href`, `action`); None for other errors.
pub(super) fn gone(
    error: &Error,
    field: &str,
    what: &'static str,
    (href, action): (&'static str, &'static str),
) -> Option<Response> {
    let Error::Validation(fields) = error else { return None };
    let why = fields.iter().find(|f| f.field == field)?;
    let message = format!("{what} {}.", why.message);
    Some(render(StatusCode::GONE, &NoticePage { heading: "This link no longer works", message, href, action }))
}

/// A fresh double-submit token, signed by the server, set as a cookie and put in the
/// form; an error page when the key cannot be read.
pub(super) async fn form_token(state: &AppState) -> Result<(String, HeaderValue), Response> {
    let token = new_form_token(state).await.map_err(|error| html_error(&error))?;
    let cookie = set_cookie(state, FORM_CSRF, &token, Some(FORM_TOKEN_SECS));
    Ok((token, cookie))
}

/// A post of a form shown before sign-in must carry the token its form was given: the
/// same in the cookie and the form, and one the server signed. 403 otherwise.
pub(super) async fn form_checks(state: &AppState, headers: &HeaderMap, posted: &str) -> Result<(), Response> {
    let matches = cookie(headers, FORM_CSRF).is_some_and(|expected| !posted.is_empty() && expected == posted);
    if matches && form_token_valid(state, posted).await.map_err(|error| html_error(&error))? {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// Signed in: the session cookie, the form cookie ended, and on to `next` (a safe
/// local path) or the dashboard.
fn signed_in(state: &AppState, token: &str, next: &str) -> Response {
    let age = i64::from(state.auth.token_ttl_days) * 86_400;
    let mut response = Redirect::to(safe_next(next).unwrap_or("/")).into_response();
    response.headers_mut().append(SET_COOKIE, set_cookie(state, SESSION, token, Some(age)));
    response.headers_mut().append(SET_COOKIE, set_cookie(state, FORM_CSRF, "", None));
    response
}

pub async fn signin_page(State(state): State<AppState>, Query(query): Query<SignInQuery>) -> Response {
    let (csrf, cookie) = match form_token(&state).await {
        Ok(token) => token,
        Err(page) => return page,
    };
    let next = query.next.as_deref().and_then(safe_next).unwrap_or_default().to_owned();
    let offer = match offer(&state).await {
        Ok(offer) => offer,
        Err(error) => return html_error(&error),
    };
    let page =
        SignInPage { csrf, login: String::new(), error: None, notice: notice(query.done.as_deref()), next, offer };
    let mut page = render(StatusCode::OK, &page);
    page.headers_mut().append(SET_COOKIE, cookie);
    page
}

#[derive(Deserialize)]
pub struct SignInForm {
    login: String,
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

pub async fn signin(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if let Err(refusal) = form_checks(&state, &headers, &form.csrf).await {
        return refusal;
    }
    let request = LoginRequest { login: form.login.clone(), password: form.password };
    match sign_in(&state, &client, Ok(request)).await {
        Ok(session) => signed_in(&state, &session.token, &form.next),
        Err(error @ (Error::Unauthorized(_) | Error::TooManyRequests { .. } | Error::Validation(_))) => {
            let next = safe_next(&form.next).unwrap_or_default().to_owned();
            let offer = match offer(&state).await {
                Ok(offer) => offer,
                Err(error) => return html_error(&error),
            };
            let (csrf, login, error_message) = (form.csrf, form.login, error.client_message());
            let page = SignInPage { csrf, login, error: error_message, notice: None, next, offer };
            render(error.status(), &page)
        }
        Err(error) => html_error(&error),
    }
}

/// What the sign-up page is asked for: the invitation's token.
#[derive(Deserialize)]
pub struct SignUpQuery {
    invite: Option<String>,
}

/// The sign-up form, as the policy allows (with the invitation's address filled in and
/// locked), or the page that says why there is none.
pub async fn signup_page(State(state): State<AppState>, Query(query): Query<SignUpQuery>) -> Response {
    let Admission { first, invited } = match admit(&state, query.invite.as_deref()).await {
        Ok(admission) => admission,
        Err(error) => return refused_signup(&state, &error).unwrap_or_else(|| html_error(&error)),
    };
    let (csrf, cookie) = match form_token(&state).await {
        Ok(token) => token,
        Err(page) => return page,
    };
    let page = SignUpPage {
        csrf,
        locked: invited.is_some(),
        email: invited.unwrap_or_default(),
        username: String::new(),
        error: None,
        errors: Vec::new(),
        invite: query.invite.filter(|_| !first && state.site.signup == Signup::Invite).unwrap_or_default(),
        first,
    };
    let mut response = render(StatusCode::OK, &page);
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

#[derive(Deserialize)]
pub struct SignUpForm {
    email: String,
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    invite: String,
}

pub async fn signup(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<SignUpForm>,
) -> Response {
    if let Err(refusal) = form_checks(&state, &headers, &form.csrf).await {
        return refusal;
    }
    let invite = Some(form.invite.clone()).filter(|token| !token.is_empty());
    let request = RegisterRequest {
        email: form.email.clone(),
        username: form.username.clone(),
        password: form.password,
        first_name: None,
        last_name: None,
        invitation: invite.clone(),
    };
    match sign_up(&state, &client, Ok(request)).await {
        Ok(session) => signed_in(&state, &session.token, "/"),
        Err(error) => {
            if let Some(page) = refused_signup(&state, &error) {
                return page;
            }
            if !matches!(error, Error::Validation(_) | Error::Conflict(_)) {
                return html_error(&error);
            }
            // Shown again as it was: with the invitation's address locked.
            let admission = admit(&state, invite.as_deref()).await;
            let (first, locked) = admission.map_or((false, false), |a| (a.first, a.invited.is_some()));
            let status = error.status();
            let page = SignUpPage {
                csrf: form.csrf,
                email: form.email,
                username: form.username,
                error: Some("Please correct the fields below.".to_owned()),
                errors: error.into_fields(),
                invite: form.invite,
                locked,
                first,
            };
            render(status, &page)
        }
    }
}

#[derive(Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

pub async fn signout(
    State(state): State<AppState>,
    client: Client,
    user: WebUser,
    Form(form): Form<SignOutForm>,
) -> Response {
    if !user.checks(&form.csrf) {
        return forbidden();
    }
    if let Err(error) = sign_out(&state, &client, user.auth).await {
        return html_error(&error);
    }
    let mut response = Redirect::to("/signin").into_response();
    response.headers_mut().append(SET_COOKIE, set_cookie(&state, SESSION, "", None));
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_a_path_on_this_site_is_returned_to() {
        for local in ["/", "/materials/0b5e0000-0000-4000-8000-000000000000", "/materials?q=heap", "/study/x#top"] {
            assert_eq!(safe_next(local), Some(local));
        }
        for hostile in [
            "",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "http:/evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            " /materials",
            "/ma terials",
            "/é",
        ] {
            assert_eq!(safe_next(hostile), None, "{hostile:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(2000))), None, "too long");
    }
}
