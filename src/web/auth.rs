//! Sign in, sign up and sign out, as pages and form posts.

use axum::Form;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{WebUser, forbidden, html_error, render};
use crate::accounts::session::{LoginRequest, RegisterRequest, sign_in, sign_out, sign_up};
use crate::app::AppState;
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
}

#[derive(askama::Template)]
#[template(path = "signup.html")]
struct SignUpPage {
    csrf: String,
    email: String,
    username: String,
    error: Option<String>,
    errors: Vec<FieldError>,
}

impl SignUpPage {
    fn field_error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// A fresh double-submit token, signed by the server, set as a cookie and put in the
/// form; an error page when the key cannot be read.
async fn form_token(state: &AppState) -> Result<(String, HeaderValue), Response> {
    let token = new_form_token(state).await.map_err(|error| html_error(&error))?;
    let cookie = set_cookie(state, FORM_CSRF, &token, Some(FORM_TOKEN_SECS));
    Ok((token, cookie))
}

/// A sign-in or sign-up post must carry the token its form was given: the same in the
/// cookie and the form, and one the server signed. 403 otherwise.
async fn form_checks(state: &AppState, headers: &HeaderMap, posted: &str) -> Result<(), Response> {
    let matches = cookie(headers, FORM_CSRF).is_some_and(|expected| !posted.is_empty() && expected == posted);
    if matches && form_token_valid(state, posted).await.map_err(|error| html_error(&error))? {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// Signed in: the session cookie, the form cookie ended, and on to the dashboard.
fn signed_in(state: &AppState, token: &str) -> Response {
    let age = i64::from(state.auth.token_ttl_days) * 86_400;
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(SET_COOKIE, set_cookie(state, SESSION, token, Some(age)));
    response.headers_mut().append(SET_COOKIE, set_cookie(state, FORM_CSRF, "", None));
    response
}

pub async fn signin_page(State(state): State<AppState>) -> Response {
    let (csrf, cookie) = match form_token(&state).await {
        Ok(token) => token,
        Err(page) => return page,
    };
    let mut page = render(StatusCode::OK, &SignInPage { csrf, login: String::new(), error: None });
    page.headers_mut().append(SET_COOKIE, cookie);
    page
}

#[derive(Deserialize)]
pub struct SignInForm {
    login: String,
    password: String,
    #[serde(default)]
    csrf: String,
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
        Ok(session) => signed_in(&state, &session.token),
        Err(error @ (Error::Unauthorized(_) | Error::TooManyRequests { .. } | Error::Validation(_))) => {
            let page = SignInPage { csrf: form.csrf, login: form.login, error: error.client_message() };
            render(error.status(), &page)
        }
        Err(error) => html_error(&error),
    }
}

pub async fn signup_page(State(state): State<AppState>) -> Response {
    let (csrf, cookie) = match form_token(&state).await {
        Ok(token) => token,
        Err(page) => return page,
    };
    let page = SignUpPage { csrf, email: String::new(), username: String::new(), error: None, errors: Vec::new() };
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
    let request = RegisterRequest {
        email: form.email.clone(),
        username: form.username.clone(),
        password: form.password,
        first_name: None,
        last_name: None,
    };
    match sign_up(&state, &client, Ok(request)).await {
        Ok(session) => signed_in(&state, &session.token),
        Err(error @ (Error::Validation(_) | Error::Conflict(_))) => {
            let status = error.status();
            let page = SignUpPage {
                csrf: form.csrf,
                email: form.email,
                username: form.username,
                error: Some("Please correct the fields below.".to_owned()),
                errors: error.into_fields(),
            };
            render(status, &page)
        }
        Err(error) => html_error(&error),
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
