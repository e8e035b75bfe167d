//! The settings page: the study settings (`learn::preferences`) as a form that works
//! without JavaScript, saved through the code PATCH /me runs and merged into the stored
//! preferences (other keys are kept); refusals are shown in words beside their fields.
//! And the learner's FSRS parameters, with an "Optimise" button (app.js runs the job
//! through the API and shows its outcome).

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{WebUser, forbidden, html_error, render};
use crate::accounts;
use crate::accounts::me::{UpdateMe, update};
use crate::app::AppState;
use crate::db::tenant;
use crate::error::{Error, FieldError, Result};
use crate::http::extract::Client;
use crate::learn::parameters::{self, FsrsParameters};
use crate::learn::preferences::Preferences;
use crate::learn::store;

#[derive(askama::Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    csrf: super::Csrf,
    /// The fields as shown: the stored settings, or what was posted.
    values: Values,
    defaults: Values,
    /// Refusals, by form field.
    errors: Vec<FieldError>,
    saved: bool,
    time_zones: Vec<String>,
    fsrs: FsrsParameters,
}

impl SettingsPage {
    /// Why `field` was refused, as a sentence.
    fn field_error(&self, field: &str) -> Option<String> {
        let message = &self.errors.iter().find(|e| e.field == field)?.message;
        let mut chars = message.chars();
        let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
        Some(format!("{first}{}.", chars.as_str().trim_end_matches('.')))
    }

    /// Whether a fit is waiting or running.
    fn optimising(&self) -> bool {
        self.fsrs.optimising
    }

    fn hours(&self) -> Vec<(String, String)> {
        (0..24).map(|h| (h.to_string(), format!("{h:02}:00"))).collect()
    }

    fn loss(&self, value: &Option<f64>) -> String {
        value.map_or_else(|| "–".to_owned(), |loss| format!("{loss:.4}"))
    }
}

/// The study settings as form fields (text, as typed).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Values {
    desired_retention: String,
    learning_steps_minutes: String,
    relearning_steps_minutes: String,
    new_cards_per_day: String,
    reviews_per_day: String,
    day_starts_at_hour: String,
    time_zone: String,
    maximum_interval_days: String,
    /// A checkbox: "on" when ticked, absent (empty) otherwise.
    #[serde(default)]
    review_new_items: String,
}

impl Values {
    fn of(p: &Preferences) -> Values {
        let steps = |steps: &[f64]| steps.iter().map(f64::to_string).collect::<Vec<_>>().join(" ");
        Values {
            desired_retention: p.desired_retention.to_string(),
            learning_steps_minutes: steps(&p.learning_steps_minutes),
            relearning_steps_minutes: steps(&p.relearning_steps_minutes),
            new_cards_per_day: p.new_cards_per_day.to_string(),
            reviews_per_day: p.reviews_per_day.to_string(),
            day_starts_at_hour: p.day_starts_at_hour.to_string(),
            time_zone: p.time_zone.clone(),
            maximum_interval_days: p.maximum_interval_days.to_string(),
            review_new_items: if p.review_new_items { "on" } else { "" }.to_owned(),
        }
    }

    /// The preferences these fields set: each as a number (or a list of them) where it
    /// reads as one, the text as typed otherwise (which PATCH /me refuses with the rule
    /// it breaks); an empty field is the default.
    fn preferences(&self) -> Value {
        let defaults = Values::of(&Preferences::default());
        let or_default = |typed: &str, default: &str| {
            let typed = typed.trim();
            if typed.is_empty() { default.to_owned() } else { typed.to_owned() }
        };
        let number = |typed: &str, default: &str| {
            let typed = or_default(typed, default).replace(',', ".");
            typed.parse::<f64>().ok().filter(|n| n.is_finite()).map_or_else(|| json!(typed), |n| json!(n))
        };
        let whole = |typed: &str, default: &str| {
            let typed = or_default(typed, default);
            typed.parse::<i64>().map_or_else(|_| json!(typed), |n| json!(n))
        };
        // Steps are minutes apart by spaces or commas ("1 10", "1m, 10m"); none is no steps.
        let steps = |typed: &str| {
            let minutes: Option<Vec<f64>> = typed
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .map(|s| s.trim_end_matches('m').parse::<f64>().ok().filter(|n| n.is_finite()))
                .collect();
            minutes.map_or_else(|| json!(typed.trim()), |m| json!(m))
        };
        json!({
            "desired_retention": number(&self.desired_retention, &defaults.desired_retention),
            "learning_steps_minutes": steps(&self.learning_steps_minutes),
            "relearning_steps_minutes": steps(&self.relearning_steps_minutes),
            "new_cards_per_day": whole(&self.new_cards_per_day, &defaults.new_cards_per_day),
            "reviews_per_day": whole(&self.reviews_per_day, &defaults.reviews_per_day),
            "day_starts_at_hour": whole(&self.day_starts_at_hour, &defaults.day_starts_at_hour),
            "time_zone": or_default(&self.time_zone, &defaults.time_zone),
            "maximum_interval_days": whole(&self.maximum_interval_days, &defaults.maximum_interval_days),
            "review_new_items": !self.review_new_items.is_empty(),
        })
    }
}

#[derive(Deserialize)]
pub struct Shown {
    saved: Option<String>,
}

pub async fn page(State(state): State<AppState>, user: WebUser, Query(shown): Query<Shown>) -> Response {
    show(&state, user, None, Vec::new(), shown.saved.is_some()).await
}

#[derive(Deserialize)]
pub struct OptimiseForm {
    #[serde(default)]
    csrf: String,
}

/// "Optimise" without JavaScript: queues the fit as the API does, and back to the page,
/// which shows the job's status (with JavaScript, app.js calls the API and waits).
pub async fn optimise(
    State(state): State<AppState>,
    client: Client,
    user: WebUser,
    Form(form): Form<OptimiseForm>,
) -> Response {
    if !user.checks(&form.csrf) {
        return forbidden();
    }
    match parameters::request(&state, &client, &user.auth).await {
        Ok(_) => Redirect::to("/settings#fsrs-title").into_response(),
        Err(error) => html_error(&error),
    }
}

/// The page with `typed` in its fields (the stored settings for None) and `errors`
/// beside them: 422 with any, 200 without.
async fn show(
    state: &AppState,
    user: WebUser,
    typed: Option<Values>,
    errors: Vec<FieldError>,
    saved: bool,
) -> Response {
    match load(state, &user).await {
        Ok((stored, time_zones, fsrs)) => {
            let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            let page = SettingsPage {
                csrf: user.csrf,
                values: typed.unwrap_or_else(|| Values::of(&Preferences::of(stored.as_ref()))),
                defaults: Values::of(&Preferences::default()),
                errors,
                saved,
                time_zones,
                fsrs,
            };
            render(status, &page)
        }
        Err(error) => html_error(&error),
    }
}

/// The stored preferences, the time zones PostgreSQL knows, and the FSRS parameters.
async fn load(state: &AppState, user: &WebUser) -> Result<(Option<Value>, Vec<String>, FsrsParameters)> {
    let mut tx = tenant::begin_as(&state.db, Some(user.auth.user_id)).await?;
    let stored = accounts::store::user(&mut tx, user.auth.user_id).await?.preferences;
    let time_zones = store::time_zones(&mut tx).await?;
    let fsrs = parameters::current(&mut tx, user.auth.user_id).await?;
    tx.commit().await?;
    Ok((stored, time_zones, fsrs))
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    values: Values,
}

/// Saves the settings as PATCH /me would, merged into the stored preferences; on to
/// the page again ("Saved."), or the form with each refusal beside its field (422).
pub async fn save(
    State(state): State<AppState>,
    client: Client,
    user: WebUser,
    Form(form): Form<SettingsForm>,
) -> Response {
    if !user.checks(&form.csrf) {
        return forbidden();
    }
    let change = UpdateMe::preferences(form.values.preferences());
    match update(&state, &client, &user.auth, Ok(change), true).await {
        Ok(_) => Redirect::to("/settings?saved=1").into_response(),
        Err(error @ Error::Validation(_)) => {
            let errors = error
                .into_fields()
                .into_iter()
                .map(|e| FieldError::new(e.field.trim_start_matches("preferences."), e.message))
                .collect();
            show(&state, user, Some(form.values), errors, false).await
        }
        Err(error) => html_error(&error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_become_preferences_and_typos_stay_text() {
        let typed = Values {
            desired_retention: " 0,85 ".to_owned(),
            learning_steps_minutes: "1m, 5 20".to_owned(),
            relearning_steps_minutes: String::new(),
            new_cards_per_day: "2.5".to_owned(),
            reviews_per_day: String::new(),
            day_starts_at_hour: "3".to_owned(),
            time_zone: "Europe/Paris".to_owned(),
            maximum_interval_days: "ten".to_owned(),
            review_new_items: "on".to_owned(),
        };
        assert_eq!(
            typed.preferences(),
            json!({"desired_retention": 0.85, "learning_steps_minutes": [1.0, 5.0, 20.0],
                   "relearning_steps_minutes": [], "new_cards_per_day": "2.5", "reviews_per_day": 200,
                   "day_starts_at_hour": 3, "time_zone": "Europe/Paris", "maximum_interval_days": "ten",
                   "review_new_items": true})
        );
        let defaults = Values::of(&Preferences::default());
        assert_eq!((defaults.learning_steps_minutes.as_str(), defaults.desired_retention.as_str()), ("1 10", "0.9"));
        assert_eq!(Preferences::of(Some(&defaults.preferences())), Preferences::default(), "a round trip");
    }
}
