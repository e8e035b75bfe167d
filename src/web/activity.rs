//! The account page's recent activity: the learner's audit trail in words ("Answered 20
//! cards in Photosynthesis", "Signed in", "Changed the password"), grouped by day (UTC),
//! answers in one session run together as one line. Pure: the rows and the names of the
//! sessions and materials they mention come in, the days go out.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::audit::store::AuditLog;
use crate::states::SessionType;

/// What the rows' ids stand for: a session's type and its material's title (None for a
/// review across all materials), a material's title.
#[derive(Default)]
pub struct Names {
    pub sessions: HashMap<Uuid, (SessionType, Option<String>)>,
    pub materials: HashMap<Uuid, String>,
}

/// One day of activity, newest first.
#[derive(Debug, PartialEq)]
pub struct Day {
    /// "Today", "Yesterday" or "Monday 7 December 2026".
    pub label: String,
    pub lines: Vec<Line>,
}

/// One thing the learner did (or tried to do).
#[derive(Debug, PartialEq)]
pub struct Line {
    /// "14:05", UTC.
    pub time: String,
    pub text: String,
    /// Refused: the learner tried, and it was not done.
    pub refused: bool,
}

/// The session an answer's row belongs to.
pub fn answer_session(row: &AuditLog) -> Option<Uuid> {
    if row.action != "interaction.create" {
        return None;
    }
    row.new_values.as_ref()?.get("learning_session_id")?.as_str()?.parse().ok()
}

/// `rows` (newest first) in words, by day.
pub fn describe(rows: &[AuditLog], names: &Names, now: DateTime<Utc>) -> Vec<Day> {
    let mut days: Vec<Day> = Vec::new();
    let mut at = 0;
    while at < rows.len() {
        let row = &rows[at];
        let day = row.created_at.date_naive();
        // Answers in one session, one after another on one day, are one line.
        let run = match answer_session(row) {
            Some(session) => rows[at..]
                .iter()
                .take_while(|r| answer_session(r) == Some(session) && r.created_at.date_naive() == day)
                .count(),
            None => 1,
        };
        let line = match answer_session(row) {
            Some(session) => answers(&rows[at..at + run], names.sessions.get(&session)),
            None => one(row, names),
        };
        at += run;
        let Some((text, refused)) = line else { continue };
        let line = Line { time: row.created_at.format("%H:%M").to_string(), text, refused };
        let label = day_label(day, now.date_naive());
        match days.last_mut() {
            Some(last) if last.label == label => last.lines.push(line),
            _ => days.push(Day { label, lines: vec![line] }),
        }
    }
    days
}

fn day_label(day: NaiveDate, today: NaiveDate) -> String {
    if day == today {
        "Today".to_owned()
    } else if today.pred_opt() == Some(day) {
        "Yesterday".to_owned()
    } else {
        format!("{} {} {}", day.format("%A"), day.day(), day.format("%B %Y"))
    }
}

/// "Answered 20 cards in Photosynthesis": the answers given (refused ones, such as an
/// item answered in another tab, are left out).
fn answers(rows: &[AuditLog], session: Option<&(SessionType, Option<String>)>) -> Option<(String, bool)> {
    let given = rows.iter().filter(|r| r.is_success).count();
    if given == 0 {
        return None;
    }
    let kind = match session.map(|s| s.0) {
        Some(SessionType::Review) => ("card", "cards"),
        Some(SessionType::Quiz) => ("question", "questions"),
        Some(SessionType::Study) | None => ("item", "items"),
    };
    let noun = if given == 1 { kind.0 } else { kind.1 };
    let place = match session {
        Some((_, Some(title))) => format!(" in {title}"),
        Some((_, None)) => " across all your materials".to_owned(),
        None => String::new(),
    };
    Some((format!("Answered {given} {noun}{place}"), false))
}

/// A value of the row's new (or else old) values, as text.
fn value<'a>(row: &'a AuditLog, key: &str) -> Option<&'a Value> {
    row.new_values.as_ref().and_then(|v| v.get(key)).or_else(|| row.old_values.as_ref().and_then(|v| v.get(key)))
}

/// One row in words: what was done, or (refused) what was tried.
fn one(row: &AuditLog, names: &Names) -> Option<(String, bool)> {
    let material = || {
        row.entity_id
            .and_then(|id| names.materials.get(&id).cloned())
            .or_else(|| value(row, "title").and_then(Value::as_str).map(str::to_owned))
            .map_or_else(|| "a material".to_owned(), |title| format!("“{title}”"))
    };
    let session = || {
        let described = row.entity_id.and_then(|id| names.sessions.get(&id));
        let kind = described.map_or("session", |(kind, _)| match kind {
            SessionType::Review => "review",
            SessionType::Quiz => "quiz",
            SessionType::Study => "study session",
        });
        match described {
            Some((_, Some(title))) => format!("{kind} of {title}"),
            Some((_, None)) => format!("{kind} across all your materials"),
            None => kind.to_owned(),
        }
    };
    let by_operator = || value(row, "via").and_then(Value::as_str) == Some("cli");
    let (done, tried) = match row.action.as_str() {
        "auth.login" => ("Signed in".to_owned(), "Sign-in refused: wrong login or password".to_owned()),
        "auth.logout" => ("Signed out".to_owned(), "Signing out failed".to_owned()),
        "user.register" | "user.create" => ("Created the account".to_owned(), "Creating the account failed".to_owned()),
        "user.update"
            if value(row, "password").is_some()
                || row.error_message.as_deref().is_some_and(|m| m.contains("password")) =>
        {
            ("Changed the password".to_owned(), "Tried to change the password: not changed".to_owned())
        }
        "user.update" if value(row, "preferences").is_some() => {
            ("Changed the study settings".to_owned(), "Tried to change the study settings: not changed".to_owned())
        }
        "user.update" => ("Changed the profile".to_owned(), "Tried to change the profile: not changed".to_owned()),
        "user.export" => ("Exported your data".to_owned(), "Exporting your data failed".to_owned()),
        "user.password_reset" if by_operator() => {
            ("The administrator set a new password".to_owned(), "Setting a new password failed".to_owned())
        }
        "user.password_reset" => {
            ("Set a new password with a reset link".to_owned(), "Tried to reset the password: not changed".to_owned())
        }
        "password_reset.request" if by_operator() => {
            ("The administrator made a password-reset link".to_owned(), "Making a reset link failed".to_owned())
        }
        "password_reset.request" => {
            ("Asked for a password-reset link".to_owned(), "Asking for a password-reset link failed".to_owned())
        }
        "invitation.use" => {
            ("Signed up with an invitation".to_owned(), "Signing up with an invitation failed".to_owned())
        }
        "fsrs.optimise" => ("Optimised your memory model".to_owned(), "Optimising your memory model failed".to_owned()),
        "material.create" => (format!("Added {}", material()), "Tried to add a material: not added".to_owned()),
        "material.update" => (format!("Edited {}", material()), format!("Tried to edit {}: not changed", material())),
        "material.delete" => {
            (format!("Deleted {}", material()), format!("Tried to delete {}: not deleted", material()))
        }
        "material.generate" => {
            (format!("Generated cards for {}", material()), format!("Generating cards for {} failed", material()))
        }
        "material.reprocess" => (format!("Read {} again", material()), format!("Reading {} again failed", material())),
        // Starting is told by the answers that follow; the end is a line of its own.
        "session.create" if row.is_success => return None,
        "session.create" => ("".to_owned(), "Starting a session failed".to_owned()),
        "session.end" => (format!("Finished a {}", session()), format!("Finishing a {} failed", session())),
        "session.abandon" => (format!("Closed a {} left idle", session()), format!("Closing a {} failed", session())),
        "asset.update" => ("Edited an item".to_owned(), "Tried to edit an item: not changed".to_owned()),
        "asset.delete" => ("Removed an item".to_owned(), "Tried to remove an item: not removed".to_owned()),
        "feedback.create" if value(row, "feedback_type").and_then(Value::as_str) == Some("report") => {
            ("Reported an item".to_owned(), "Tried to report an item: not sent".to_owned())
        }
        "feedback.create" => ("Rated an item".to_owned(), "Tried to rate an item: not sent".to_owned()),
        // Answers that were not one of a session's (none today) and anything new.
        "interaction.create" => ("Answered an item".to_owned(), "An answer was not recorded".to_owned()),
        _ => ("Changed your account".to_owned(), "A change was refused".to_owned()),
    };
    Some(if row.is_success { (done, false) } else { (tried, true) })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn row(action: &str, at: (u32, u32, u32), ok: bool, entity: Option<Uuid>, new: Option<Value>) -> AuditLog {
        AuditLog {
            id: Uuid::new_v4(),
            user_id: None,
            action: action.to_owned(),
            entity_type: String::new(),
            entity_id: entity,
            old_values: None,
            new_values: new,
            ip_address: None,
            user_agent: None,
            created_at: Utc.with_ymd_and_hms(2026, 12, at.0, at.1, at.2, 0).single().expect("a time"),
            session_id: None,
            is_success: ok,
            error_message: None,
        }
    }

    fn answer(session: Uuid, at: (u32, u32, u32), ok: bool) -> AuditLog {
        row("interaction.create", at, ok, None, Some(json!({"learning_session_id": session})))
    }

    fn texts(days: &[Day]) -> Vec<(String, Vec<String>)> {
        days.iter().map(|d| (d.label.clone(), d.lines.iter().map(|l| l.text.clone()).collect())).collect()
    }

    #[test]
    fn answers_in_one_session_are_one_line_and_days_are_named() {
        let (review, quiz, material) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut names = Names::default();
        names.sessions.insert(review, (SessionType::Review, Some("Photosynthesis".to_owned())));
        names.sessions.insert(quiz, (SessionType::Quiz, None));
        names.materials.insert(material, "Photosynthesis".to_owned());
        let mut rows = vec![row("session.end", (7, 14, 30), true, Some(review), None)];
        rows.extend((0..20).map(|m| answer(review, (7, 14, 29 - m), true)));
        rows.push(answer(review, (7, 14, 5), false)); // answered in another tab: refused
        rows.push(row("session.create", (7, 14, 4), true, Some(review), None));
        rows.push(answer(quiz, (7, 9, 1), true));
        rows.push(row("auth.login", (7, 9, 0), true, None, None));
        rows.push(row("material.create", (6, 20, 0), true, Some(material), Some(json!({"title": "Photosynthesis"}))));
        rows.push(row("user.update", (1, 8, 0), true, None, Some(json!({"password": "[redacted]"}))));
        rows.push(row("auth.login", (1, 7, 59), false, None, None));
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 18, 0, 0).single().expect("a time");
        let days = describe(&rows, &names, now);
        assert_eq!(
            texts(&days),
            vec![
                (
                    "Today".to_owned(),
                    vec![
                        "Finished a review of Photosynthesis".to_owned(),
                        "Answered 20 cards in Photosynthesis".to_owned(),
                        "Answered 1 question across all your materials".to_owned(),
                        "Signed in".to_owned(),
                    ]
                ),
                ("Yesterday".to_owned(), vec!["Added “Photosynthesis”".to_owned()]),
                (
                    "Tuesday 1 December 2026".to_owned(),
                    vec!["Changed the password".to_owned(), "Sign-in refused: wrong login or password".to_owned()]
                ),
            ]
        );
        assert_eq!(days[0].lines[1].time, "14:29", "the group's latest answer");
        assert!(days[2].lines[1].refused && !days[2].lines[0].refused);
    }

    #[test]
    fn a_session_interrupted_by_something_else_is_two_lines() {
        let session = Uuid::new_v4();
        let mut names = Names::default();
        names.sessions.insert(session, (SessionType::Study, Some("Cells".to_owned())));
        let rows = vec![
            answer(session, (7, 10, 3), true),
            answer(session, (7, 10, 2), true),
            row("user.update", (7, 10, 1), false, None, Some(json!({"preferences": {}}))),
            answer(session, (7, 10, 0), true),
        ];
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 18, 0, 0).single().expect("a time");
        assert_eq!(
            texts(&describe(&rows, &names, now))[0].1,
            [
                "Answered 2 items in Cells",
                "Tried to change the study settings: not changed",
                "Answered 1 item in Cells"
            ]
        );
    }

    #[test]
    fn materials_feedback_and_sessions_are_named_and_refusals_say_what_was_tried() {
        let (material, gone, session) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut names = Names::default();
        names.materials.insert(material, "Cells".to_owned());
        names.sessions.insert(session, (SessionType::Review, None));
        let rows = vec![
            row("session.abandon", (7, 12, 0), true, Some(session), None),
            row("feedback.create", (7, 11, 0), true, None, Some(json!({"feedback_type": "report"}))),
            row("feedback.create", (7, 10, 59), true, None, Some(json!({"feedback_type": "rating"}))),
            row("material.generate", (7, 10, 0), true, Some(material), None),
            row("material.delete", (7, 9, 0), false, Some(material), None),
            row("material.delete", (7, 8, 0), true, Some(gone), Some(json!({"title": "Old notes"}))),
            row("session.create", (7, 7, 0), true, Some(session), None),
            row("user.update", (7, 6, 0), true, None, Some(json!({"first_name": "Ada"}))),
            row("user.export", (7, 5, 0), true, None, None),
            row("something.new", (7, 4, 0), true, None, None),
        ];
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 18, 0, 0).single().expect("a time");
        assert_eq!(
            texts(&describe(&rows, &names, now))[0].1,
            [
                "Closed a review across all your materials left idle",
                "Reported an item",
                "Rated an item",
                "Generated cards for “Cells”",
                "Tried to delete “Cells”: not deleted",
                "Deleted “Old notes”",
                "Changed the profile",
                "Exported your data",
                "Changed your account",
            ]
        );
    }
}
