//! The administrator page, /admin: the status (maintenance, housekeeping and backups:
//! the last run and the next, sizes, what needs attention), accounts (search, deactivate,
//! reactivate, make or remove an administrator, a password-reset link), invitations, the
//! audit log by its filters, and the background jobs. Administrators only: anyone else gets the 404
//! page. It reads through the same functions as the admin API, and its buttons call
//! that API (app.js), so every change is audited the same way.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{Csrf, WebUser, html_error, not_found, render};
use crate::accounts::invitations;
use crate::accounts::store::{self as accounts, Account, Invitation};
use crate::app::AppState;
use crate::audit::store::{AuditLog, Filter};
use crate::error::{Error, Result};
use crate::http::extract::Client;
use crate::jobs::admin::AdminJob;
use crate::states::UpkeepOutcome;
use crate::upkeep::words::{ago, size, until};
use crate::upkeep::{Run, Status, Upkeep};

/// Rows each list shows at a time.
const PER_PAGE: u32 = 25;

/// The page's query: each section's filters and where its list is. Everything is text,
/// as a form sends it; what cannot be read is said on the page, in words.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct PageQuery {
    /// Accounts whose email or username contains this.
    q: String,
    users: String,
    /// The audit log's filters (the API's), and where it is.
    action: String,
    user: String,
    entity_type: String,
    outcome: String,
    from: String,
    to: String,
    audit: String,
    /// Jobs of this status, and where the list is.
    job_status: String,
    jobs: String,
}

impl PageQuery {
    /// This page with `key` set to `value` (a list's next page), the rest kept.
    fn with(&self, key: &str, value: &str) -> String {
        let mut query = self.clone();
        match key {
            "users" => query.users = value.to_owned(),
            "audit" => query.audit = value.to_owned(),
            _ => query.jobs = value.to_owned(),
        }
        let pairs = [
            ("q", &query.q),
            ("users", &query.users),
            ("action", &query.action),
            ("user", &query.user),
            ("entity_type", &query.entity_type),
            ("outcome", &query.outcome),
            ("from", &query.from),
            ("to", &query.to),
            ("audit", &query.audit),
            ("job_status", &query.job_status),
            ("jobs", &query.jobs),
        ];
        let mut text = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs.into_iter().filter(|(_, value)| !value.is_empty()) {
            text.append_pair(name, value);
        }
        format!("/admin?{}#{key}-title", text.finish())
    }

    fn outcome_is(&self, value: &str) -> bool {
        self.outcome == value
    }

    fn job_status_is(&self, value: &str) -> bool {
        self.job_status == value
    }
}

/// A section's list as the page shows it: its rows and next page, or why it has none.
struct Listed<T> {
    rows: Vec<T>,
    next: Option<String>,
    /// What was wrong with the section's filters, in words.
    error: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "admin.html")]
struct AdminPage {
    csrf: Csrf,
    me: Uuid,
    status: Status,
    /// Maintenance, housekeeping and backups, as the status section says them.
    upkeep: Vec<UpkeepLine>,
    query: PageQuery,
    users: Listed<Account>,
    invitations: Vec<Invitation>,
    audit: Listed<AuditLog>,
    jobs: Listed<AdminJob>,
}

pub async fn page(
    State(state): State<AppState>,
    client: Client,
    user: WebUser,
    query: std::result::Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if !user.auth.is_admin {
        return not_found();
    }
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let loaded = async {
        let status = crate::upkeep::status(&state).await?;
        let upkeep = upkeep_lines(&status);
        let users =
            crate::accounts::admin::accounts(&state, Some(&query.q), Some(PER_PAGE), cursor(&query.users)).await;
        let users = listed(users, &query, "users")?;
        let mut conn = state.privileged.acquire().await?;
        let invitations = accounts::invitations(&mut conn, None, i64::from(PER_PAGE)).await?;
        drop(conn);
        let audit = match audit_filter(&query) {
            Ok(filter) => {
                let read = crate::audit::http::everyone(
                    &state,
                    &client,
                    &user.auth,
                    &filter,
                    Some(PER_PAGE),
                    cursor(&query.audit),
                );
                listed(read.await, &query, "audit")?
            }
            Err(error) => Listed { rows: Vec::new(), next: None, error: Some(error) },
        };
        let job_status = Some(query.job_status.as_str());
        let jobs = crate::jobs::admin::jobs(&state, job_status, Some(PER_PAGE), cursor(&query.jobs)).await;
        let jobs = listed(jobs, &query, "jobs")?;
        Ok::<_, Error>(AdminPage {
            csrf: user.csrf,
            me: user.auth.user_id,
            status,
            upkeep,
            query: query.clone(),
            users,
            invitations,
            audit,
            jobs,
        })
    };
    match loaded.await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(error) => html_error(&error),
    }
}

fn cursor(text: &str) -> Option<&str> {
    Some(text).filter(|t| !t.is_empty())
}

/// A section's page, or what the client got wrong in words (its filters, a made-up
/// cursor); a server's failure fails the page.
fn listed<T>(result: Result<crate::http::page::Page<T>>, query: &PageQuery, key: &str) -> Result<Listed<T>> {
    match result {
        Ok(page) => Ok(Listed { next: page.next_cursor.map(|c| query.with(key, &c)), rows: page.items, error: None }),
        Err(error) if error.status().is_client_error() => {
            Ok(Listed { rows: Vec::new(), next: None, error: error.client_message() })
        }
        Err(error) => Err(error),
    }
}

/// The audit log's filters as the form gives them, or what is wrong with them.
fn audit_filter(query: &PageQuery) -> std::result::Result<Filter<'_>, String> {
    let user = match text(&query.user) {
        Some(id) => Some(id.parse::<Uuid>().map_err(|_| "User must be an account's id, as the lists show it.")?),
        None => None,
    };
    let day = |value: &str, label: &str| -> std::result::Result<Option<DateTime<Utc>>, String> {
        match text(value) {
            Some(day) => NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .map(|d| Some(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()))
                .map_err(|_| format!("{label} must be a date, such as 2026-12-07.")),
            None => Ok(None),
        }
    };
    let is_success = match query.outcome.as_str() {
        "success" => Some(true),
        "failure" => Some(false),
        _ => None,
    };
    Ok(Filter {
        user,
        action: text(&query.action),
        entity_type: text(&query.entity_type),
        entity: None,
        is_success,
        from: day(&query.from, "From")?,
        // Through the day given: before the next one begins.
        to: day(&query.to, "To")?.map(|t| t + chrono::Duration::days(1)),
    })
}

/// `value` trimmed, unless it is empty.
fn text(value: &str) -> Option<&str> {
    Some(value.trim()).filter(|v| !v.is_empty())
}

/// One kind of upkeep in words: "Last maintenance 2 hours ago — done: created 1
/// partition", "Next in 22 hours".
struct UpkeepLine {
    title: &'static str,
    last: String,
    next: String,
    /// `done`, `skipped`, `failed`, or `none` (never ran).
    outcome: &'static str,
}

fn upkeep_lines(status: &Status) -> Vec<UpkeepLine> {
    let now = status.now;
    let last = |what: &str, run: &Option<Run>| match run {
        Some(run) => {
            format!("Last {what} {} — {}: {} (on {})", ago(now, run.finished_at), run.outcome, run.summary, run.node)
        }
        None => format!("No {what} recorded yet."),
    };
    let outcome = |run: &Option<Run>| run.as_ref().map_or("none", |run| run.outcome.as_str());
    let next = |upkeep: &Upkeep, setting: &str| match upkeep.next_at {
        Some(at) => format!("Next {}.", until(now, at)),
        None if upkeep.every_secs == 0 => {
            format!("Not scheduled on this node ({setting} is 0, or it runs no job workers).")
        }
        None => "Next: when a node that runs workers starts.".to_owned(),
    };
    let backups = &status.backups;
    let backup_next = match backups.next_at {
        Some(at) => format!("Next {} (serve takes one every {} h).", until(now, at), backups.every_hours),
        None => match &backups.newest {
            Some(newest) => format!(
                "Not scheduled by studyhall: taken by `studyhall backup create` (cron). The newest is {} old.",
                crate::upkeep::words::span(now - newest.created_at)
            ),
            None => "Not scheduled by studyhall: taken by `studyhall backup create` (cron).".to_owned(),
        },
    };
    vec![
        UpkeepLine {
            title: "Maintenance",
            last: last("maintenance", &status.maintenance.last),
            next: next(&status.maintenance, "STUDYHALL_MAINTAIN_HOURS"),
            outcome: outcome(&status.maintenance.last),
        },
        UpkeepLine {
            title: "Housekeeping",
            last: last("housekeeping", &status.housekeeping.last),
            next: next(&status.housekeeping, "STUDYHALL_HOUSEKEEPING_SECS"),
            outcome: outcome(&status.housekeeping.last),
        },
        UpkeepLine {
            title: "Backups",
            last: last("backup", &backups.last),
            next: backup_next,
            outcome: outcome(&backups.last),
        },
    ]
}

/// What the page shows of an invitation's expiry choices (hours, words).
const LIFETIMES: [(u32, &str); 4] =
    [(24, "1 day"), (invitations::DEFAULT_HOURS, "7 days"), (30 * 24, "30 days"), (invitations::MAX_HOURS, "90 days")];

impl AdminPage {
    fn lifetimes(&self) -> &'static [(u32, &'static str)] {
        &LIFETIMES
    }

    fn is_default(&self, hours: &u32) -> bool {
        *hours == invitations::DEFAULT_HOURS
    }

    /// A size in words ("4.20 MB").
    fn size(&self, bytes: &u64) -> String {
        size(*bytes)
    }

    /// A table's size in words.
    fn table_size(&self, bytes: &i64) -> String {
        size(u64::try_from(*bytes).unwrap_or(0))
    }

    /// How long ago `at` was, from the status's now.
    fn ago(&self, at: &DateTime<Utc>) -> String {
        ago(self.status.now, *at)
    }

    /// Whether a run's outcome is a failure.
    fn failed(&self, outcome: &str) -> bool {
        outcome == UpkeepOutcome::Failed.as_str()
    }

    /// A moment as the page shows it (UTC).
    fn when(&self, at: &DateTime<Utc>) -> String {
        at.format("%Y-%m-%d %H:%M").to_string()
    }

    /// What an audit row's values say, as compact JSON.
    fn values(&self, value: &Option<serde_json::Value>) -> String {
        value.as_ref().map(serde_json::Value::to_string).unwrap_or_default()
    }
}
