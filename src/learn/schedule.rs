//! FSRS scheduling: a learner's memory of one item, moved forward by one answer with the
//! `fsrs` crate's model and default parameters, in constant time (no history replay).

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use fsrs::{FSRS, FSRS6_DEFAULT_DECAY, MemoryState};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};

/// The model with its default parameters (fit to the average learner).
static MODEL: LazyLock<FSRS> = LazyLock::new(FSRS::default);

/// The forgetting curve's decay under the default parameters; SQL that predicts recall
/// (the retention figure) is given this value so both agree.
pub const DECAY: f64 = FSRS6_DEFAULT_DECAY as f64;

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
/// (1 again, 2 hard, 3 good, 4 easy) at `now`, aiming at `retention`.
pub fn review(memory: Option<&Memory>, rating: u8, now: DateTime<Utc>, retention: f64) -> Result<Scheduled> {
    let elapsed_days = memory.map_or(0, |m| ((now - m.last_review).num_seconds().max(0) / 86_400) as u32);
    let state = memory.map(|m| MemoryState { stability: m.stability as f32, difficulty: m.difficulty as f32 });
    let next =
        MODEL.next_states(state, retention as f32, elapsed_days).map_err(Error::failed("FSRS could not schedule"))?;
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

pub fn intervals(memory: Option<&Memory>, now: DateTime<Utc>, retention: f64) -> Result<Intervals> {
    let days = |rating| review(memory, rating, now, retention).map(|s| s.interval_days);
    Ok(Intervals { again: days(1)?, hard: days(2)?, good: days(3)?, easy: days(4)? })
}

/// The forgetting curve's factor under [`DECAY`]: recall after t days at stability S is
/// (1 + FACTOR t / S)^-DECAY, as `fsrs` computes it.
pub fn curve_factor() -> f64 {
    0.9f64.powf(1.0 / -DECAY) - 1.0
}

/// The predicted chance of recalling an item `days` after its last review.
pub fn retrievability(stability: f64, days: f64) -> f64 {
    (days.max(0.0) / stability * curve_factor() + 1.0).powf(-DECAY)
}

/// [`retrievability`] now, in SQL, of the `review_states` row aliased `r`, with
/// [`curve_factor`] and [`DECAY`] bound to the given placeholders.
#[macro_export]
macro_rules! predicted_recall_sql {
    ($factor:literal, $decay:literal) => {
        concat!(
            "power(1 + ",
            $factor,
            " * extract(epoch FROM now() - r.last_review) / 86400.0 / r.stability, -",
            $decay,
            ")"
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
        let again = review(None, 1, now(), DEFAULT_RETENTION).expect("scheduled");
        let good = review(None, 3, now(), DEFAULT_RETENTION).expect("scheduled");
        let easy = review(None, 4, now(), DEFAULT_RETENTION).expect("scheduled");
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
        let later = review(Some(&memory), 3, good.due, DEFAULT_RETENTION).expect("scheduled");
        assert!(later.interval_days > good.interval_days, "{later:?}");
        let forgot = review(Some(&memory), 1, good.due, DEFAULT_RETENTION).expect("scheduled");
        assert_eq!((forgot.reps, forgot.lapses), (2, 1));
        assert!(forgot.due < later.due);
    }

    #[test]
    fn intervals_are_what_each_answer_gives() {
        let memory = Memory { stability: 4.0, difficulty: 5.0, last_review: now(), reps: 2, lapses: 0 };
        let at = now() + Duration::days(4);
        for memory in [None, Some(&memory)] {
            let shown = intervals(memory, at, 0.85).expect("intervals");
            let given = |rating| review(memory, rating, at, 0.85).expect("scheduled").interval_days;
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
            let next = review(memory.as_ref(), 4, at, 0.7).expect("scheduled");
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
        assert_eq!(review(memory.as_ref(), 4, at, 0.7).expect("scheduled").interval_days, MAXIMUM_INTERVAL_DAYS);
    }

    #[test]
    fn higher_retention_means_shorter_intervals_and_recall_fades() {
        let relaxed = review(None, 3, now(), 0.8).expect("scheduled");
        let strict = review(None, 3, now(), 0.97).expect("scheduled");
        assert!(strict.interval_days < relaxed.interval_days);
        assert!((retrievability(5.0, 0.0) - 1.0).abs() < 1e-9);
        assert!((retrievability(5.0, 5.0) - 0.9).abs() < 1e-3, "stability is the 90% interval");
        assert!(retrievability(5.0, 30.0) < retrievability(5.0, 10.0));
    }
}
