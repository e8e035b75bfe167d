//! FSRS scheduling: a learner's memory of one item, moved forward by one answer with the
//! `fsrs` crate's model, in constant time (no history replay). The model has the
//! learner's own parameters once the optimiser has fitted them (`learner_parameters`,
//! see [`super::optimise`]), the defaults until then.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use fsrs::{FSRS, FSRS6_DEFAULT_DECAY, MemoryState};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};

/// The model with its default parameters (fit to the average learner).
static DEFAULT_MODEL: LazyLock<Model> =
    LazyLock::new(|| Model { fsrs: FSRS::default(), decay: FSRS6_DEFAULT_DECAY as f64 });

/// The forgetting curve's decay under the default parameters (a learner's own is the
/// last of their parameters); SQL that predicts recall reads the learner's or this one
/// ([`predicted_recall_sql`]), so both agree.
pub const DECAY: f64 = FSRS6_DEFAULT_DECAY as f64;

/// A learner's memory model: FSRS with their parameters. Building one costs about 0.1 µs
/// (the crate copies and clamps 21 numbers), so each answer builds its own.
#[derive(Debug, Clone)]
pub struct Model {
    fsrs: FSRS,
    decay: f64,
}

impl Default for Model {
    fn default() -> Self {
        DEFAULT_MODEL.clone()
    }
}

impl Model {
    /// The model with `parameters` (21 numbers, as the optimiser stores them; the crate
    /// clamps each to its range, the decay to 0.1-0.8); the default model for none, or
    /// for a set the crate refuses.
    pub fn of(parameters: Option<&[f32]>) -> Model {
        match parameters {
            Some(parameters) if parameters.len() == fsrs::DEFAULT_PARAMETERS.len() => FSRS::new(parameters)
                .map(|fsrs| Model { fsrs, decay: f64::from(parameters[20].clamp(0.1, 0.8)) })
                .unwrap_or_default(),
            _ => Model::default(),
        }
    }

    /// The forgetting curve's decay.
    pub fn decay(&self) -> f64 {
        self.decay
    }

    /// The predicted chance of recalling an item `days` after its last review.
    pub fn retrievability(&self, stability: f64, days: f64) -> f64 {
        let factor = 0.9f64.powf(1.0 / -self.decay) - 1.0;
        (days.max(0.0) / stability * factor + 1.0).powf(-self.decay)
    }
}

/// Desired retention when the learner has not chosen one (`preferences.desired_retention`).
pub const DEFAULT_RETENTION: f64 = 0.9;
/// The desired retentions a learner may choose.
pub const RETENTION_RANGE: std::ops::RangeInclusive<f64> = 0.7..=0.99;
/// The longest interval, in days (a hundred years, as Anki's and the reference
/// scheduler's default): at low retentions FSRS would otherwise schedule centuries ahead.
pub const MAXIMUM_INTERVAL_DAYS: f64 = 36_500.0;

/// A learner's memory of an item, as `review_states` holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    pub stability: f64,
    pub difficulty: f64,
    pub last_review: DateTime<Utc>,
    pub reps: i32,
    pub lapses: i32,
}

/// A `review_states` row read beside other columns: all null for an item never answered.
#[derive(Debug, sqlx::FromRow)]
pub struct Stored {
    stability: Option<f64>,
    difficulty: Option<f64>,
    reps: Option<i32>,
    lapses: Option<i32>,
    last_review: Option<DateTime<Utc>>,
}

impl Stored {
    /// The memory it holds; None for an item never answered.
    pub fn memory(&self) -> Option<Memory> {
        self.last_review.map(|last_review| Memory {
            stability: self.stability.unwrap_or_default(),
            difficulty: self.difficulty.unwrap_or_default(),
            last_review,
            reps: self.reps.unwrap_or_default(),
            lapses: self.lapses.unwrap_or_default(),
        })
    }
}

/// The desired retention to schedule with: the learner's preference when it is in
/// [`RETENTION_RANGE`], the default otherwise.
pub fn retention(preferred: Option<f64>) -> f64 {
    preferred.filter(|r| RETENTION_RANGE.contains(r)).unwrap_or(DEFAULT_RETENTION)
}

/// The memory after an answer, and when to review next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scheduled {
    pub stability: f64,
    pub difficulty: f64,
    pub reps: i32,
    pub lapses: i32,
    pub due: DateTime<Utc>,
    pub interval_days: f64,
}

/// Moves `memory` (None for an item never answered) forward by an answer rated `rating`
/// (1 again, 2 hard, 3 good, 4 easy) at `now`, aiming at `retention`, with the learner's
/// `model`.
pub fn review(
    memory: Option<&Memory>,
    rating: u8,
    now: DateTime<Utc>,
    retention: f64,
    model: &Model,
) -> Result<Scheduled> {
    let elapsed_days = memory.map_or(0, |m| ((now - m.last_review).num_seconds().max(0) / 86_400) as u32);
    let state = memory.map(|m| MemoryState { stability: m.stability as f32, difficulty: m.difficulty as f32 });
    let next = model
        .fsrs
        .next_states(state, retention as f32, elapsed_days)
        .map_err(Error::failed("FSRS could not schedule"))?;
    let chosen = match rating {
        1 => next.again,
        2 => next.hard,
        3 => next.good,
        _ => next.easy,
    };
    // Intervals of a day or more are whole days (so a card is due at the time of day it
    // was learned); shorter ones (a forgotten card) stay as they are.
    let interval = f64::from(chosen.interval);
    let interval_days = if interval >= 1.0 { interval.round().min(MAXIMUM_INTERVAL_DAYS) } else { interval };
    let reps = memory.map_or(0, |m| m.reps) + 1;
    let lapses = memory.map_or(0, |m| m.lapses) + i32::from(memory.is_some() && rating == 1);
    Ok(Scheduled {
        stability: f64::from(chosen.memory.stability),
        difficulty: f64::from(chosen.memory.difficulty).clamp(1.0, 10.0),
        reps,
        lapses,
        due: now + Duration::milliseconds((interval_days * 86_400_000.0) as i64),
        interval_days,
    })
}

/// The interval in days each rating would give an item answered at `now`: what the
/// rating buttons show, computed by [`review`] as the answer itself will be.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Intervals {
    pub again: f64,
    pub hard: f64,
    pub good: f64,
    pub easy: f64,
}

pub fn intervals(memory: Option<&Memory>, now: DateTime<Utc>, retention: f64, model: &Model) -> Result<Intervals> {
    let days = |rating| review(memory, rating, now, retention, model).map(|s| s.interval_days);
    Ok(Intervals { again: days(1)?, hard: days(2)?, good: days(3)?, easy: days(4)? })
}

/// The predicted chance of recall now of the `review_states` row aliased `r`, in SQL,
/// under the forgetting curve of the learner whose id is the placeholder `$user`: their
/// own decay (the last of their parameters) or, without any, [`DECAY`] bound to
/// `$default_decay`. (The decay's subquery is uncorrelated: PostgreSQL runs it once.)
#[macro_export]
macro_rules! predicted_recall_sql {
    ($user:literal, $default_decay:literal) => {
        concat!(
            "power(1 + (power(0.9, -1.0 / coalesce((SELECT p.parameters[21] FROM learner_parameters p
                                                     WHERE p.user_id = ",
            $user,
            "), ",
            $default_decay,
            ")::float8) - 1) * extract(epoch FROM now() - r.last_review) / 86400.0 / r.stability,
                   -coalesce((SELECT p.parameters[21] FROM learner_parameters p WHERE p.user_id = ",
            $user,
            "), ",
            $default_decay,
            ")::float8)"
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-03-02T09:00:00Z".parse().expect("a time")
    }

    #[test]
    fn again_comes_back_soon_and_easy_much_later() {
        let again = review(None, 1, now(), DEFAULT_RETENTION, &Model::default()).expect("scheduled");
        let good = review(None, 3, now(), DEFAULT_RETENTION, &Model::default()).expect("scheduled");
        let easy = review(None, 4, now(), DEFAULT_RETENTION, &Model::default()).expect("scheduled");
        assert!(again.interval_days < 1.0, "{again:?}");
        assert!(good.interval_days >= 1.0 && easy.interval_days > good.interval_days * 2.0, "{good:?} {easy:?}");
        assert_eq!((again.reps, again.lapses), (1, 0), "a first answer is no lapse");

        // Reviewed when due: good again grows the interval; again is a lapse.
        let memory = Memory {
            stability: good.stability,
            difficulty: good.difficulty,
            last_review: now(),
            reps: good.reps,
            lapses: 0,
        };
        let later = review(Some(&memory), 3, good.due, DEFAULT_RETENTION, &Model::default()).expect("scheduled");
        assert!(later.interval_days > good.interval_days, "{later:?}");
        let forgot = review(Some(&memory), 1, good.due, DEFAULT_RETENTION, &Model::default()).expect("scheduled");
        assert_eq!((forgot.reps, forgot.lapses), (2, 1));
        assert!(forgot.due < later.due);
    }

    #[test]
    fn intervals_are_what_each_answer_gives() {
        let memory = Memory { stability: 4.0, difficulty: 5.0, last_review: now(), reps: 2, lapses: 0 };
        let at = now() + Duration::days(4);
        for memory in [None, Some(&memory)] {
            let shown = intervals(memory, at, 0.85, &Model::default()).expect("intervals");
            let given = |rating| review(memory, rating, at, 0.85, &Model::default()).expect("scheduled").interval_days;
            assert_eq!(shown, Intervals { again: given(1), hard: given(2), good: given(3), easy: given(4) });
            assert!(shown.again < shown.good && shown.good < shown.easy, "{shown:?}");
        }
        assert_eq!((retention(Some(0.8)), retention(Some(1.5)), retention(None)), (0.8, 0.9, 0.9));
    }

    #[test]
    fn no_interval_passes_the_maximum() {
        let mut at = Utc::now();
        let mut memory: Option<Memory> = None;
        for _ in 0..30 {
            let next = review(memory.as_ref(), 4, at, 0.7, &Model::default()).expect("scheduled");
            assert!(next.interval_days <= MAXIMUM_INTERVAL_DAYS, "{next:?}");
            memory = Some(Memory {
                stability: next.stability,
                difficulty: next.difficulty,
                last_review: at,
                reps: next.reps,
                lapses: next.lapses,
            });
            at = next.due;
        }
        assert_eq!(
            review(memory.as_ref(), 4, at, 0.7, &Model::default()).expect("scheduled").interval_days,
            MAXIMUM_INTERVAL_DAYS
        );
    }

    #[test]
    fn higher_retention_means_shorter_intervals_and_recall_fades() {
        let relaxed = review(None, 3, now(), 0.8, &Model::default()).expect("scheduled");
        let strict = review(None, 3, now(), 0.97, &Model::default()).expect("scheduled");
        assert!(strict.interval_days < relaxed.interval_days);
        let model = Model::default();
        assert!((model.retrievability(5.0, 0.0) - 1.0).abs() < 1e-9);
        assert!((model.retrievability(5.0, 5.0) - 0.9).abs() < 1e-3, "stability is the 90% interval");
        assert!(model.retrievability(5.0, 30.0) < model.retrievability(5.0, 10.0));
    }

    #[test]
    fn a_learners_parameters_change_the_schedule() {
        // A learner who forgets faster: lower initial stabilities, a steeper curve.
        let mut parameters = fsrs::DEFAULT_PARAMETERS;
        parameters[..4].copy_from_slice(&[0.1, 0.4, 0.9, 3.0]);
        parameters[20] = 0.5;
        let own = Model::of(Some(&parameters));
        let default = Model::default();
        let good = |model: &Model| review(None, 3, now(), 0.9, model).expect("scheduled").interval_days;
        assert!(good(&own) < good(&default), "{} < {}", good(&own), good(&default));
        assert_eq!(own.decay(), 0.5);
        assert!((own.retrievability(5.0, 5.0) - 0.9).abs() < 1e-3, "stability stays the 90% interval");
        assert!(own.retrievability(5.0, 30.0) < default.retrievability(5.0, 30.0), "a steeper curve");
        // A set of the wrong length, or that the crate refuses, is the defaults.
        for bad in [&parameters[..5], &[f32::NAN; 21][..]] {
            assert_eq!(good(&Model::of(Some(bad))), good(&default));
        }
        // Building a model is cheap enough to do for each answer.
        let started = std::time::Instant::now();
        for _ in 0..1000 {
            std::hint::black_box(Model::of(Some(std::hint::black_box(&parameters))));
        }
        assert!(started.elapsed() < std::time::Duration::from_millis(100), "{:?} per 1000", started.elapsed());
    }
}
