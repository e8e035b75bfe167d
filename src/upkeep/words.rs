//! Times and sizes in words, as the admin page and the status's attention say them.

use chrono::{DateTime, Duration, Utc};

/// A span in its largest whole unit: "3 minutes", "2 hours", "5 days".
pub fn span(duration: Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    let (n, unit) = match seconds {
        0..60 => return "less than a minute".to_owned(),
        60..3600 => (seconds / 60, "minute"),
        3600..86_400 => (seconds / 3600, "hour"),
        _ => (seconds / 86_400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// How long before `now` `at` was: "2 hours ago", "just now".
pub fn ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    if now - at < Duration::minutes(1) { "just now".to_owned() } else { format!("{} ago", span(now - at)) }
}

/// How long after `now` `at` is: "in 22 hours", "now" when it is due.
pub fn until(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    if at - now < Duration::minutes(1) { "now".to_owned() } else { format!("in {}", span(at - now)) }
}

/// A size in bytes, to three figures: "812 bytes", "4.2 MB", "1.25 GB" (powers of 1000).
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} byte{}", if bytes == 1 { "" } else { "s" });
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.5 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let digits = if value < 9.995 {
        2
    } else if value < 99.95 {
        1
    } else {
        0
    };
    format!("{value:.digits$} {}", UNITS[unit])
}

/// What a run did, from its counts: (n, verb, noun for one, noun for more), those with
/// none left out: "created 3 partitions, purged 1 spent row", or "nothing to do".
pub fn did(counts: &[(u64, &str, &str, &str)]) -> String {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, verb, one, many)| format!("{verb} {n} {}", if *n == 1 { one } else { many }))
        .collect();
    if parts.is_empty() { "nothing to do".to_owned() } else { parts.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_sizes_read_as_words() {
        let now: DateTime<Utc> = "2026-12-07T12:00:00Z".parse().expect("a time");
        assert_eq!(ago(now, now - Duration::seconds(20)), "just now");
        assert_eq!(ago(now, now - Duration::minutes(1)), "1 minute ago");
        assert_eq!(ago(now, now - Duration::minutes(150)), "2 hours ago");
        assert_eq!(ago(now, now - Duration::days(3)), "3 days ago");
        assert_eq!(until(now, now + Duration::hours(22)), "in 22 hours");
        assert_eq!(until(now, now - Duration::hours(1)), "now");
        assert_eq!(size(1), "1 byte");
        assert_eq!(size(812), "812 bytes");
        assert_eq!(size(4_200_000), "4.20 MB");
        assert_eq!(size(42_000), "42.0 kB");
        assert_eq!(size(999_999), "1.00 MB");
        assert_eq!(size(1_250_000_000), "1.25 GB");
        assert_eq!(did(&[(0, "made", "cake", "cakes")]), "nothing to do");
        assert_eq!(
            did(&[(3, "made", "cake", "cakes"), (0, "ate", "pie", "pies"), (1, "ate", "pie", "pies")]),
            "made 3 cakes, ate 1 pie"
        );
    }
}
