//! "Forgot password?": asking for a reset link by mail (or, on a server that sends no
//! mail, being told to ask the administrator), and the page a link opens to choose a new
//! password. The forms carry the same signed double-submit token as sign-in's.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::auth::{NoticePage, form_checks, form_token, gone};
use super::{html_error, render};
use crate::accounts::reset::{self, NO_MAIL, REQUESTED, ResetConfirm, ResetRequest};
use crate::app::AppState;
use crate::error::Error;
use crate::http::cookie::{SESSION, set_cookie};
use crate::http::extract::Client;

#[derive(askama::Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    csrf: String,
    email: String,
    error: Option<String>,
    email_error: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "reset.html")]
struct ResetPage {
    csrf: String,
    token: String,
    error: Option<String>,
    password_error: Option<String>,
}

/// A page built with a fresh form token, its cookie set.
async fn with_form_token(state: &AppState, page: impl FnOnce(String) -> Response) -> Response {
    match form_token(state).await {
        Ok((csrf, cookie)) => {
            let mut response = page(csrf);
            response.headers_mut().append(SET_COOKIE, cookie);
            response
        }
        Err(page) => page,
    }
}

/// The page of a server that sends no mail: ask the administrator.
fn ask_the_administrator() -> Response {
    let page = NoticePage {
        heading: "Forgot your password?",
        message: NO_MAIL.to_owned(),
        href: "/signin",
        action: "Back to sign in",
    };
    render(StatusCode::OK, &page)
}

pub async fn forgot_page(State(state): State<AppState>) -> Response {
    if state.mail.is_none() {
        return ask_the_administrator();
    }
    with_form_token(&state, |csrf| {
        render(StatusCode::OK, &ForgotPage { csrf, email: String::new(), error: None, email_error: None })
    })
    .await
}

#[derive(Deserialize)]
pub struct ForgotForm {
    email: String,
    #[serde(default)]
    csrf: String,
}

pub async fn forgot(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    if let Err(refusal) = form_checks(&state, &headers, &form.csrf).await {
        return refusal;
    }
    match reset::ask(&state, &client, Ok(ResetRequest { email: form.email.clone() })).await {
        Ok(()) => {
            let page = NoticePage {
                heading: "Check your mail",
                message: REQUESTED.to_owned(),
                href: "/signin",
                action: "Back to sign in",
            };
            render(StatusCode::OK, &page)
        }
        Err(Error::Forbidden(_)) => ask_the_administrator(),
        Err(error @ (Error::Validation(_) | Error::TooManyRequests { .. })) => {
            let status = error.status();
            let error_message = error.client_message();
            let email_error = error.into_fields().into_iter().find(|f| f.field == "email").map(|f| f.message);
            let error =
                if email_error.is_some() { Some("Please correct the address.".to_owned()) } else { error_message };
            render(status, &ForgotPage { csrf: form.csrf, email: form.email, error, email_error })
        }
        Err(error) => html_error(&error),
    }
}

/// Why a reset link cannot be used, as a page offering to ask for a new one; None for
/// other errors.
fn refused_link(error: &Error) -> Option<Response> {
    gone(error, "token", "This password-reset link", ("/forgot", "Ask for a new link"))
}

#[derive(Deserialize)]
pub struct ResetQuery {
    #[serde(default)]
    token: String,
}

/// The form a reset link opens, while the link works.
pub async fn reset_page(State(state): State<AppState>, Query(query): Query<ResetQuery>) -> Response {
    if let Err(error) = reset::link_account(&state, &query.token).await {
        return refused_link(&error).unwrap_or_else(|| html_error(&error));
    }
    with_form_token(&state, |csrf| {
        render(StatusCode::OK, &ResetPage { csrf, token: query.token, error: None, password_error: None })
    })
    .await
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

/// Sets the new password, then on to sign in, this browser's session ended too.
pub async fn reset(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Response {
    if let Err(refusal) = form_checks(&state, &headers, &form.csrf).await {
        return refusal;
    }
    let confirm = ResetConfirm { token: form.token.clone(), new_password: form.password };
    match reset::reset(&state, &client, Ok(confirm)).await {
        Ok(_) => {
            let mut response = Redirect::to("/signin?done=reset").into_response();
            response.headers_mut().append(SET_COOKIE, set_cookie(&state, SESSION, "", None));
            response
        }
        Err(error) => {
            if let Some(page) = refused_link(&error) {
                return page;
            }
            let Error::Validation(_) = error else { return html_error(&error) };
            let password_error = error.into_fields().into_iter().find(|f| f.field == "new_password").map(|f| f.message);
            let page = ResetPage {
                csrf: form.csrf,
                token: form.token,
                error: Some("Please choose another password.".to_owned()),
                password_error,
            };
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
