//! Which backups to keep, as the spec says: the newest of each day for 30 days, of each
//! ISO week for 12 weeks, of each month for 12 months (and always the newest of all).

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, Utc};

/// A backup's day, ISO week or month, as (year, number).
type Period = fn(&DateTime<Utc>) -> (i32, u32);

/// The backups (by time) to keep among `times`, as of `now`.
pub fn keep(times: &[DateTime<Utc>], now: DateTime<Utc>) -> HashSet<DateTime<Utc>> {
    let mut sorted: Vec<DateTime<Utc>> = times.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a)); // newest first
    let mut kept: HashSet<DateTime<Utc>> = sorted.first().copied().into_iter().collect();
    let rules: [(Duration, Period); 3] = [
        (Duration::days(30), |t| (t.year(), t.ordinal())),
        (Duration::weeks(12), |t| (t.iso_week().year(), t.iso_week().week())),
        (Duration::days(366), |t| (t.year(), t.month())),
    ];
    for (span, period) in rules {
        let mut seen = HashSet::new();
        for time in sorted.iter().filter(|t| now - **t < span) {
            if seen.insert(period(time)) {
                kept.insert(*time);
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_weekly_and_monthly_backups_are_kept_for_their_spans() {
        let now: DateTime<Utc> = "2026-11-24T03:00:00Z".parse().expect("a time");
        // Two backups a day for 800 days.
        let times: Vec<DateTime<Utc>> =
            (0..1600).map(|n| now - Duration::hours(12 * n) - Duration::minutes(1)).collect();
        let kept = keep(&times, now);
        let within = |days: i64| kept.iter().filter(|t| now - **t < Duration::days(days)).count();
        assert!((30..=31).contains(&within(30)), "one a day for 30 days (a partial day at each end)");
        assert!(kept.contains(&times[0]), "the newest");
        assert!(kept.contains(&times[1]) && !kept.contains(&times[2]), "the newest of a day, not two");
        let older_weekly =
            kept.iter().filter(|t| (Duration::days(30)..Duration::weeks(12)).contains(&(now - **t))).count();
        assert!((7..=8).contains(&older_weekly), "weekly ones after the dailies: {older_weekly}");
        assert!(kept.iter().all(|t| now - *t < Duration::days(366)), "nothing past a year");
        assert!((40..=52).contains(&kept.len()), "{}", kept.len());
    }
}
