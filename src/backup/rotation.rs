//! Which backups to keep, as the spec says: the newest of each day for 30 days, of each
//! ISO week for 12 weeks, of each month for 12 months (and always the newest of all).
//! Besides, every backup taken today (UTC) is kept, all that is younger than the newest
//! daily one of an earlier day: a backup taken by hand before a risky change outlives the
//! next backup of the same day, and goes (unless it is that day's newest) once the day is over. Backups marked to keep are not rotation's
//! business (see `super::prune`).

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use chrono::{DateTime, Datelike, Duration, Utc};

/// A backup's day, ISO week or month, as (year, number).
type Period = fn(&DateTime<Utc>) -> (i32, u32);

/// Why rotation keeps a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Newest,
    Daily,
    Weekly,
    Monthly,
    /// Taken today, before the newest.
    Today,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rule::Newest => "the newest",
            Rule::Daily => "daily (newest of its day, 30 days)",
            Rule::Weekly => "weekly (newest of its week, 12 weeks)",
            Rule::Monthly => "monthly (newest of its month, 12 months)",
            Rule::Today => "taken today (UTC; kept until the day is over)",
        })
    }
}

/// The backups (by time) to keep among `times`, as of `now`, each with the first rule
/// that keeps it.
pub fn keep(times: &[DateTime<Utc>], now: DateTime<Utc>) -> BTreeMap<DateTime<Utc>, Rule> {
    let mut sorted: Vec<DateTime<Utc>> = times.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a)); // newest first
    let mut kept: BTreeMap<DateTime<Utc>, Rule> = sorted.first().map(|t| (*t, Rule::Newest)).into_iter().collect();
    let rules: [(Rule, Duration, Period); 3] = [
        (Rule::Daily, Duration::days(30), |t| (t.year(), t.ordinal())),
        (Rule::Weekly, Duration::weeks(12), |t| (t.iso_week().year(), t.iso_week().week())),
        (Rule::Monthly, Duration::days(366), |t| (t.year(), t.month())),
    ];
    for (rule, span, period) in rules {
        let mut seen = HashSet::new();
        for time in sorted.iter().filter(|t| now - **t < span) {
            if seen.insert(period(time)) {
                kept.entry(*time).or_insert(rule);
            }
        }
    }
    for time in sorted.iter().filter(|t| t.date_naive() == now.date_naive()) {
        kept.entry(*time).or_insert(Rule::Today);
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
        let within = |days: i64| kept.keys().filter(|t| now - **t < Duration::days(days)).count();
        assert!((30..=31).contains(&within(30)), "one a day for 30 days (a partial day at each end)");
        assert!(kept.contains_key(&times[0]), "the newest");
        assert!(kept.contains_key(&times[1]) && !kept.contains_key(&times[2]), "the newest of a day, not two");
        let older_weekly =
            kept.keys().filter(|t| (Duration::days(30)..Duration::weeks(12)).contains(&(now - **t))).count();
        assert!((7..=8).contains(&older_weekly), "weekly ones after the dailies: {older_weekly}");
        assert!(kept.keys().all(|t| now - *t < Duration::days(366)), "nothing past a year");
        assert!((40..=52).contains(&kept.len()), "{}", kept.len());
        assert_eq!(kept[&times[0]], Rule::Newest);
        assert_eq!(kept[&times[1]], Rule::Daily);
    }

    #[test]
    fn every_backup_of_today_is_kept_until_the_day_is_over() {
        let at = |s: &str| -> DateTime<Utc> { s.parse().expect("a time") };
        let cron = at("2026-11-24T03:00:00Z");
        let manual = at("2026-11-24T14:00:00Z");
        let again = at("2026-11-24T14:00:13Z");
        let kept = keep(&[cron, manual, again], again);
        assert_eq!(kept.get(&manual), Some(&Rule::Today), "the one taken 13 s before");
        assert_eq!(kept.get(&cron), Some(&Rule::Today));
        // The next night: the newest of the 24th stays (daily), the earlier ones go.
        let next = at("2026-11-25T03:00:00Z");
        let kept = keep(&[cron, manual, again, next], next);
        assert_eq!(kept.get(&again), Some(&Rule::Daily));
        assert!(!kept.contains_key(&manual) && !kept.contains_key(&cron));
    }
}
