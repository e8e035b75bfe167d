//! FSRS scheduling: a learner's memory of one item, moved forward by one answer with the
//! `fsrs` crate's model, in constant time (no history replay). The model has the
//! learner's own parameters once the optimiser has fitted them (`learner_parameters`,
//! see [`super::optimise`]), the defaults until then.

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use fsrs::{FSRS, FSRS6_DEFAULT_DECAY, MemoryState};
use serde::Serialize;
use utoipa::ToSchema;

use super::preferences::Preferences;
use crate::error::{Error, Result};

/// The model with its default parameters (fit to the average learner).
static DEFAULT_MODEL: LazyLock<Model> =
    LazyLock::new(|| Model { fsrs: FSRS::default(), decay: FSRS6_DEFAULT_DECAY as f64 });

/// The forgetting curve's decay under the default parameters (a learner's own is the
/// last of their parameters); SQL that predicts recall reads the learner's or this one
/// (`studyhall_predicted_recall`, migration 0022, given this decay), so both agree.
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
/// The longest interval, in days, a learner may choose and the default (a hundred years,
/// as Anki's and the reference scheduler's): at low retentions FSRS would otherwise
/// schedule centuries ahead. `preferences.maximum_interval_days` sets a learner's.
pub const MAXIMUM_INTERVAL_DAYS: f64 = 36_500.0;

pub use crate::states::ReviewState as State;

/// A learner's memory of an item, as `review_states` holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Memory {
    pub stability: f64,
    pub difficulty: f64,
    pub last_review: DateTime<Utc>,
    pub reps: i32,
    pub lapses: i32,
    pub state: State,
    /// The step it is in (learning and relearning only).
    pub step: Option<usize>,
    /// Days elapsed since the last review counted in the learner's days (how many day
    /// starts passed, as Anki counts them, matching due dates that fall due by day); None
    /// counts whole 24 hours.
    pub elapsed_days: Option<u32>,
}

/// A `review_states` row read beside other columns: all null for an item never answered.
#[derive(Debug)]
pub struct Stored {
    pub(super) stability: Option<f64>,
    pub(super) difficulty: Option<f64>,
    pub(super) reps: Option<i32>,
    pub(super) lapses: Option<i32>,
    pub(super) last_review: Option<DateTime<Utc>>,
    pub(super) state: Option<State>,
    pub(super) step: Option<i16>,
    /// [`Memory::elapsed_days`], as `studyhall_elapsed_days` (migration 0022) counts them.
    pub(super) elapsed_days: Option<i32>,
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
            // NOT NULL where there is a row (and last_review is).
            state: self.state.unwrap_or(State::Review),
            step: self.step.map(|s| s.max(0) as usize),
            elapsed_days: self.elapsed_days.map(|d| d.max(0) as u32),
        })
    }
}

/// The memory after an answer, and when to review next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scheduled {
    pub stability: f64,
    pub difficulty: f64,
    pub reps: i32,
    pub lapses: i32,
    pub state: State,
    pub step: Option<usize>,
    pub due: DateTime<Utc>,
    /// Whole days in review; a step's minutes / 1440 in a step.
    pub interval_days: f64,
}

/// Moves `memory` (None for an item never answered) forward by an answer rated `rating`
/// (1 again, 2 hard, 3 good, 4 easy) at `now`, under the learner's settings: FSRS moves
/// stability and difficulty on every answer (the `fsrs` crate's short-term formula for
/// answers less than a day apart), and the learning steps decide when the item comes
/// back until it graduates to review, as py-fsrs's `Scheduler.review_card` does; with the
/// learner's `model`.
pub fn review(
    memory: Option<&Memory>,
    rating: u8,
    now: DateTime<Utc>,
    prefs: &Preferences,
    model: &Model,
) -> Result<Scheduled> {
    let elapsed_days =
        memory.map_or(0, |m| m.elapsed_days.unwrap_or(((now - m.last_review).num_seconds().max(0) / 86_400) as u32));
    let state = memory.map(|m| MemoryState { stability: m.stability as f32, difficulty: m.difficulty as f32 });
    let next = model
        .fsrs
        .next_states(state, prefs.desired_retention as f32, elapsed_days)
        .map_err(Error::failed("FSRS could not schedule"))?;
    let chosen = match rating {
        1 => next.again,
        2 => next.hard,
        3 => next.good,
        _ => next.easy,
    };
    let (state, step) = memory.map_or((State::Learning, Some(0)), |m| (m.state, m.step));
    let (state, step, minutes) = steps(state, step, rating, prefs);
    let interval_days = match minutes {
        Some(minutes) => minutes / MINUTES_PER_DAY,
        // FSRS's interval in whole days, at least one (py-fsrs's `_next_interval`).
        None => f64::from(chosen.interval).round().clamp(1.0, prefs.maximum_interval_days),
    };
    Ok(Scheduled {
        stability: f64::from(chosen.memory.stability),
        difficulty: f64::from(chosen.memory.difficulty).clamp(1.0, 10.0),
        reps: memory.map_or(0, |m| m.reps) + 1,
        lapses: memory.map_or(0, |m| m.lapses)
            + i32::from(memory.is_some_and(|m| m.state == State::Review) && rating == 1),
        state,
        step,
        due: now + Duration::milliseconds((interval_days * 86_400_000.0) as i64),
        interval_days,
    })
}

pub(crate) const MINUTES_PER_DAY: f64 = 1440.0;

/// The state and step after an answer rated `rating` to an item in `state` at `step`,
/// and the step's minutes (None: FSRS's interval), as py-fsrs moves them: Again goes
/// back to the first step; Hard stays (on the first step: the mean of the first two, or
/// 1.5 times a single step); Good goes to the next step, or graduates to review after
/// the last; Easy graduates at once. A review item rated Again lapses into the first
/// relearning step (unless there are none).
fn steps(state: State, step: Option<usize>, rating: u8, prefs: &Preferences) -> (State, Option<usize>, Option<f64>) {
    let steps = match state {
        State::Learning => &prefs.learning_steps_minutes,
        State::Relearning => &prefs.relearning_steps_minutes,
        State::Review => {
            return match prefs.relearning_steps_minutes.first() {
                Some(first) if rating == 1 => (State::Relearning, Some(0), Some(*first)),
                _ => (State::Review, None, None),
            };
        }
    };
    let step = step.unwrap_or(0);
    let graduate = (State::Review, None, None);
    // The step may be past the end when the learner has fewer steps than before.
    if steps.is_empty() || (step >= steps.len() && rating > 1) {
        return graduate;
    }
    match rating {
        1 => (state, Some(0), Some(steps[0])),
        2 => {
            let minutes = match (step, steps.get(1)) {
                (0, Some(second)) => (steps[0] + second) / 2.0,
                (0, None) => steps[0] * 1.5,
                _ => steps[step],
            };
            (state, Some(step), Some(minutes))
        }
        3 if step + 1 < steps.len() => (state, Some(step + 1), Some(steps[step + 1])),
        _ => graduate,
    }
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

pub fn intervals(memory: Option<&Memory>, now: DateTime<Utc>, prefs: &Preferences, model: &Model) -> Result<Intervals> {
    let days = |rating| review(memory, rating, now, prefs, model).map(|s| s.interval_days);
    Ok(Intervals { again: days(1)?, hard: days(2)?, good: days(3)?, easy: days(4)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-03-02T09:00:00Z".parse().expect("a time")
    }

    fn prefs(retention: f64) -> Preferences {
        Preferences { desired_retention: retention, ..Preferences::default() }
    }

    fn remember(next: &Scheduled, at: DateTime<Utc>) -> Memory {
        Memory {
            stability: next.stability,
            difficulty: next.difficulty,
            last_review: at,
            reps: next.reps,
            lapses: next.lapses,
            state: next.state,
            step: next.step,
            elapsed_days: None,
        }
    }

    #[test]
    fn a_new_card_goes_through_the_steps_then_fsrs_takes_over() {
        let p = Preferences::default();
        let minutes = |s: &Scheduled| (s.interval_days * MINUTES_PER_DAY * 1e6).round() / 1e6;
        let shown = intervals(None, now(), &p, &Model::default()).expect("intervals");
        assert_eq!((shown.again * 1440.0, shown.hard * 1440.0, shown.good * 1440.0), (1.0, 5.5, 10.0));
        assert!(shown.easy >= 1.0 && shown.easy.fract() == 0.0, "easy graduates at once: {shown:?}");

        let again = review(None, 1, now(), &p, &Model::default()).expect("scheduled");
        assert_eq!((again.state, again.step, minutes(&again), again.lapses), (State::Learning, Some(0), 1.0, 0));
        let good = review(Some(&remember(&again, now())), 3, again.due, &p, &Model::default()).expect("scheduled");
        assert_eq!((good.state, good.step, minutes(&good)), (State::Learning, Some(1), 10.0));
        let hard = review(Some(&remember(&good, again.due)), 2, good.due, &p, &Model::default()).expect("scheduled");
        assert_eq!((hard.state, hard.step, minutes(&hard)), (State::Learning, Some(1), 10.0), "hard stays");
        let graduated =
            review(Some(&remember(&hard, good.due)), 3, hard.due, &p, &Model::default()).expect("scheduled");
        assert_eq!((graduated.state, graduated.step), (State::Review, None));
        assert!(graduated.interval_days >= 1.0 && graduated.interval_days.fract() == 0.0, "{graduated:?}");
        assert_ne!(graduated.stability, again.stability, "FSRS moved the memory on every answer");

        // A review rated Again lapses into relearning, then graduates again.
        let memory = remember(&graduated, hard.due);
        let lapse = review(Some(&memory), 1, graduated.due, &p, &Model::default()).expect("scheduled");
        assert_eq!((lapse.state, lapse.step, minutes(&lapse), lapse.lapses), (State::Relearning, Some(0), 10.0, 1));
        let back =
            review(Some(&remember(&lapse, graduated.due)), 3, lapse.due, &p, &Model::default()).expect("scheduled");
        assert_eq!((back.state, back.lapses), (State::Review, 1));

        // Without steps, FSRS schedules every answer; a single step's Hard is 1.5 times it.
        let none = Preferences { learning_steps_minutes: vec![], relearning_steps_minutes: vec![], ..p.clone() };
        let direct = review(None, 1, now(), &none, &Model::default()).expect("scheduled");
        assert_eq!((direct.state, direct.interval_days), (State::Review, 1.0));
        assert_eq!(
            review(Some(&memory), 1, graduated.due, &none, &Model::default()).expect("scheduled").state,
            State::Review
        );
        let one = Preferences { learning_steps_minutes: vec![4.0], ..p };
        assert_eq!(minutes(&review(None, 2, now(), &one, &Model::default()).expect("scheduled")), 6.0);
        assert_eq!(
            review(None, 3, now(), &one, &Model::default()).expect("scheduled").state,
            State::Review,
            "good after the last"
        );
    }

    #[test]
    fn intervals_are_what_each_answer_gives() {
        let memory = Memory {
            stability: 4.0,
            difficulty: 5.0,
            last_review: now(),
            reps: 2,
            lapses: 0,
            state: State::Review,
            step: None,
            elapsed_days: None,
        };
        let at = now() + Duration::days(4);
        for memory in [None, Some(&memory)] {
            let shown = intervals(memory, at, &prefs(0.85), &Model::default()).expect("intervals");
            let given =
                |rating| review(memory, rating, at, &prefs(0.85), &Model::default()).expect("scheduled").interval_days;
            assert_eq!(shown, Intervals { again: given(1), hard: given(2), good: given(3), easy: given(4) });
            assert!(shown.again < shown.good && shown.good < shown.easy, "{shown:?}");
        }
    }

    #[test]
    fn no_interval_passes_the_maximum() {
        let mut at = Utc::now();
        let mut memory: Option<Memory> = None;
        let p = Preferences { maximum_interval_days: 365.0, ..prefs(0.7) };
        for _ in 0..30 {
            let next = review(memory.as_ref(), 4, at, &p, &Model::default()).expect("scheduled");
            assert!(next.interval_days <= 365.0, "{next:?}");
            memory = Some(remember(&next, at));
            at = next.due;
        }
        assert_eq!(review(memory.as_ref(), 4, at, &p, &Model::default()).expect("scheduled").interval_days, 365.0);
    }

    #[test]
    fn higher_retention_means_shorter_intervals_and_recall_fades() {
        let relaxed = review(None, 4, now(), &prefs(0.8), &Model::default()).expect("scheduled");
        let strict = review(None, 4, now(), &prefs(0.97), &Model::default()).expect("scheduled");
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
        let easy = |model: &Model| review(None, 4, now(), &prefs(0.9), model).expect("scheduled").interval_days;
        assert!(easy(&own) < easy(&default), "{} < {}", easy(&own), easy(&default));
        assert_eq!(own.decay(), 0.5);
        assert!((own.retrievability(5.0, 5.0) - 0.9).abs() < 1e-3, "stability stays the 90% interval");
        assert!(own.retrievability(5.0, 30.0) < default.retrievability(5.0, 30.0), "a steeper curve");
        // A set of the wrong length, or that the crate refuses, is the defaults.
        for bad in [&parameters[..5], &[f32::NAN; 21][..]] {
            assert_eq!(easy(&Model::of(Some(bad))), easy(&default));
        }
        // Building a model is cheap enough to do for each answer.
        let started = std::time::Instant::now();
        for _ in 0..1000 {
            std::hint::black_box(Model::of(Some(std::hint::black_box(&parameters))));
        }
        assert!(started.elapsed() < std::time::Duration::from_millis(100), "{:?} per 1000", started.elapsed());
    }
}
