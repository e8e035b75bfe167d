//! A learner's study settings, kept in `users.preferences` (a JSON object the learner
//! replaces with PATCH /me): what scheduling, the daily limits and the learner's day read.
//!
//! Every key is optional and has Anki's default. PATCH /me refuses a value out of range
//! with 422 naming `preferences.<key>`; a stored value that is not valid (one written
//! before a rule existed) reads as the default, never as an error.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::schedule;
use crate::validate::Validator;

/// The settings, every default filled in.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Preferences {
    /// The chance of recall a review aims at, 0.70 to 0.99 (0.9).
    pub desired_retention: f64,
    /// The steps, in minutes, a new card goes through before FSRS schedules it in days
    /// (`[1, 10]`; `[]` for none): each under a day, at most 10.
    pub learning_steps_minutes: Vec<f64>,
    /// The steps, in minutes, a forgotten card goes through (`[10]`).
    pub relearning_steps_minutes: Vec<f64>,
    /// New cards introduced per day, 0 to 9,999 (20).
    pub new_cards_per_day: i64,
    /// Reviews served per day, 0 to 99,999 (200).
    pub reviews_per_day: i64,
    /// The hour, 0 to 23, at which the learner's day starts (4).
    pub day_starts_at_hour: i64,
    /// The learner's time zone, an IANA name PostgreSQL knows (`UTC`).
    pub time_zone: String,
    /// The longest interval, 1 to 36,500 days (36,500).
    pub maximum_interval_days: f64,
    /// Whether newly generated items wait for the learner's review (drafts "to review",
    /// served once accepted) rather than being ready at once (false).
    pub review_new_items: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            desired_retention: schedule::DEFAULT_RETENTION,
            learning_steps_minutes: vec![1.0, 10.0],
            relearning_steps_minutes: vec![10.0],
            new_cards_per_day: 20,
            reviews_per_day: 200,
            day_starts_at_hour: 4,
            time_zone: "UTC".to_owned(),
            maximum_interval_days: schedule::MAXIMUM_INTERVAL_DAYS,
            review_new_items: crate::generate::review_new_items(None),
        }
    }
}

impl Preferences {
    /// The settings a stored `preferences` value holds, defaults where it holds none or
    /// an invalid one.
    pub fn of(stored: Option<&Value>) -> Self {
        let defaults = Self::default();
        let Some(stored) = stored else { return defaults };
        let read = |key: &str| stored.get(key);
        Self {
            desired_retention: read("desired_retention").and_then(retention).unwrap_or(defaults.desired_retention),
            learning_steps_minutes: read("learning_steps_minutes")
                .and_then(steps)
                .unwrap_or(defaults.learning_steps_minutes),
            relearning_steps_minutes: read("relearning_steps_minutes")
                .and_then(steps)
                .unwrap_or(defaults.relearning_steps_minutes),
            new_cards_per_day: read("new_cards_per_day")
                .and_then(whole(NEW_PER_DAY))
                .unwrap_or(defaults.new_cards_per_day),
            reviews_per_day: read("reviews_per_day")
                .and_then(whole(REVIEWS_PER_DAY))
                .unwrap_or(defaults.reviews_per_day),
            day_starts_at_hour: read("day_starts_at_hour")
                .and_then(whole(HOURS))
                .unwrap_or(defaults.day_starts_at_hour),
            time_zone: read("time_zone").and_then(time_zone).map_or(defaults.time_zone, str::to_owned),
            maximum_interval_days: read("maximum_interval_days")
                .and_then(whole(INTERVAL_DAYS))
                .map_or(defaults.maximum_interval_days, |days| days as f64),
            review_new_items: crate::generate::review_new_items(Some(stored)),
        }
    }
}

const MAX_STEPS: usize = 10;
const MAX_TIME_ZONE: usize = 64;
const NEW_PER_DAY: (i64, i64) = (0, 9_999);
const REVIEWS_PER_DAY: (i64, i64) = (0, 99_999);
const HOURS: (i64, i64) = (0, 23);
const INTERVAL_DAYS: (i64, i64) = (1, schedule::MAXIMUM_INTERVAL_DAYS as i64);

/// Records, under `field.<key>`, every study setting in `preferences` that is out of
/// range. A time zone is only checked for its shape here: whether PostgreSQL knows it
/// is [`known_time_zone`]'s question.
pub fn validate(v: &mut Validator, field: &str, preferences: &Value) {
    let range = schedule::RETENTION_RANGE;
    let whole_reason = |(min, max): (i64, i64)| format!("must be a whole number from {min} to {max}");
    let rules: [Rule; 9] = [
        (
            "desired_retention",
            |v| retention(v).is_some(),
            format!("must be a number from {:.2} to {:.2}", range.start(), range.end()),
        ),
        ("learning_steps_minutes", |v| steps(v).is_some(), STEPS_REASON.to_owned()),
        ("relearning_steps_minutes", |v| steps(v).is_some(), STEPS_REASON.to_owned()),
        ("new_cards_per_day", |v| whole(NEW_PER_DAY)(v).is_some(), whole_reason(NEW_PER_DAY)),
        ("reviews_per_day", |v| whole(REVIEWS_PER_DAY)(v).is_some(), whole_reason(REVIEWS_PER_DAY)),
        ("day_starts_at_hour", |v| whole(HOURS)(v).is_some(), whole_reason(HOURS)),
        ("time_zone", |v| time_zone(v).is_some(), "must be a time zone name, such as Europe/Paris or UTC".to_owned()),
        ("maximum_interval_days", |v| whole(INTERVAL_DAYS)(v).is_some(), whole_reason(INTERVAL_DAYS)),
        ("review_new_items", Value::is_boolean, "must be true or false".to_owned()),
    ];
    for (key, valid, reason) in rules {
        if let Some(value) = preferences.get(key) {
            v.check(valid(value), &format!("{field}.{key}"), reason);
        }
    }
}

/// A setting's key, whether a value of it is valid, and why it is refused otherwise.
type Rule = (&'static str, fn(&Value) -> bool, String);

const STEPS_REASON: &str = "must be a list of at most 10 numbers of minutes, each above 0 and under 1440 (a day)";

fn retention(value: &Value) -> Option<f64> {
    value.as_f64().filter(|r| schedule::RETENTION_RANGE.contains(r))
}

fn steps(value: &Value) -> Option<Vec<f64>> {
    let steps = value.as_array().filter(|steps| steps.len() <= MAX_STEPS)?;
    steps.iter().map(|s| s.as_f64().filter(|m| *m > 0.0 && *m < schedule::MINUTES_PER_DAY)).collect()
}

fn whole((min, max): (i64, i64)) -> impl Fn(&Value) -> Option<i64> {
    move |value| value.as_i64().filter(|n| (min..=max).contains(n))
}

fn time_zone(value: &Value) -> Option<&str> {
    value.as_str().filter(|tz| {
        !tz.is_empty()
            && tz.len() <= MAX_TIME_ZONE
            && tz.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn errors(prefs: Value) -> Vec<String> {
        let mut v = Validator::default();
        validate(&mut v, "preferences", &prefs);
        match v.finish() {
            Err(crate::error::Error::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn defaults_fill_what_is_missing_or_invalid() {
        assert_eq!(Preferences::of(None), Preferences::default());
        let stored = json!({"desired_retention": 1.5, "new_cards_per_day": 5, "time_zone": "Europe/Paris",
                            "learning_steps_minutes": [], "relearning_steps_minutes": "10m"});
        let prefs = Preferences::of(Some(&stored));
        assert_eq!(prefs.desired_retention, 0.9, "out of range reads as the default");
        assert_eq!(prefs.new_cards_per_day, 5);
        assert_eq!(prefs.time_zone, "Europe/Paris");
        assert!(prefs.learning_steps_minutes.is_empty(), "no steps is a choice");
        assert_eq!(prefs.relearning_steps_minutes, vec![10.0]);
        assert_eq!((prefs.reviews_per_day, prefs.day_starts_at_hour), (200, 4));
    }

    #[test]
    fn each_bad_value_is_named() {
        assert!(
            errors(json!({"desired_retention": 0.85, "learning_steps_minutes": [1, 10],
                              "new_cards_per_day": 0, "day_starts_at_hour": 23, "time_zone": "America/New_York",
                              "maximum_interval_days": 365, "theme": "dark"}))
            .is_empty()
        );
        assert_eq!(
            errors(json!({"desired_retention": "0.8", "learning_steps_minutes": [1, 1440],
                          "relearning_steps_minutes": [-1], "new_cards_per_day": 2.5, "reviews_per_day": -1,
                          "day_starts_at_hour": 24, "time_zone": "Paris; DROP", "maximum_interval_days": 0})),
            [
                "preferences.desired_retention",
                "preferences.learning_steps_minutes",
                "preferences.relearning_steps_minutes",
                "preferences.new_cards_per_day",
                "preferences.reviews_per_day",
                "preferences.day_starts_at_hour",
                "preferences.time_zone",
                "preferences.maximum_interval_days",
            ]
        );
    }
}
