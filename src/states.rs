//! The statuses and kinds the database keeps as text, as enums: each value is named once
//! here, mapped to its column (sqlx), its JSON (serde) and the OpenAPI schema (utoipa),
//! so code matches on them and the compiler sees every case.
//!
//! The allowed values are the migrations' CHECK constraints (0021 for most); SQL
//! text may still name them. A request naming another value is a 422 naming the field,
//! "must be a, b or c".

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

/// Defines an enum of text values: `Name { Variant = "text", ... }`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        // (Each `$text` is its variant's name in snake_case: the tests hold serde and
        // utoipa, which take the names from `rename_all`, to `as_str`.)
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in the order the migrations list them.
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// The text the database and the API use.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = Unknown;

            fn from_str(text: &str) -> Result<Self, Unknown> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Unknown { allowed: $name::ALL.iter().map(|v| v.as_str()).collect() }),
                }
            }
        }

        impl From<$name> for &'static str {
            fn from(value: $name) -> &'static str {
                value.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl Type<Postgres> for $name {
            fn type_info() -> PgTypeInfo {
                <str as Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <str as Type<Postgres>>::compatible(ty)
            }
        }

        impl PgHasArrayType for $name {
            fn array_type_info() -> PgTypeInfo {
                <&str as PgHasArrayType>::array_type_info()
            }

            fn array_compatible(ty: &PgTypeInfo) -> bool {
                <&str as PgHasArrayType>::array_compatible(ty)
            }
        }

        impl Encode<'_, Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Postgres>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $name {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                Ok(<&str as Decode<Postgres>>::decode(value)?.parse()?)
            }
        }
    };
}

/// A value not among an enum's: "must be a, b or c" (the API's 422 message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    allowed: Vec<&'static str>,
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "must be {}", listed(&self.allowed, "or"))
    }
}

impl std::error::Error for Unknown {}

/// `a, b or c` (with `conjunction`).
pub fn listed(values: &[&str], conjunction: &str) -> String {
    match values {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [rest @ .., last] => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

/// For `#[serde(default, deserialize_with = "some_of")]` on an `Option<Vec<T>>` field: a
/// list of values, an unknown one refused as "must list some of a, b and c" for the
/// field as a whole (as the other checks of such a list name it).
pub fn some_of<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr<Err = Unknown>,
{
    let Some(texts) = Option::<Vec<String>>::deserialize(deserializer)? else { return Ok(None) };
    let parsed: Result<Vec<T>, Unknown> = texts.iter().map(|text| text.parse()).collect();
    parsed
        .map(Some)
        .map_err(|unknown| serde::de::Error::custom(format!("must list some of {}", listed(&unknown.allowed, "and"))))
}

text_enum! {
    /// A study material's status (`study_materials.status`): ingestion moves it from
    /// `processing` to `ready` or `failed`.
    MaterialStatus {
        Processing = "processing",
        Ready = "ready",
        /// Its reason in `metadata.error`.
        Failed = "failed",
    }
}

text_enum! {
    /// A generated asset's kind (`generated_assets.asset_type`).
    AssetType {
        Flashcard = "flashcard",
        Quiz = "quiz",
        Summary = "summary",
    }
}

text_enum! {
    /// A generated asset's status (`generated_assets.status`): only `ready` ones are served.
    AssetStatus {
        Ready = "ready",
        /// Made with flaws: kept for its owner, not served.
        Draft = "draft",
        /// Reported by a learner: out of study until its owner sets it back to ready.
        Flagged = "flagged",
        /// Deleted by its owner, kept for learners' history.
        Archived = "archived",
        /// Set aside by its owner: out of every session and due count, its review state
        /// kept, until they set it back to ready.
        Suspended = "suspended",
    }
}

text_enum! {
    /// A learning session's kind (`learning_sessions.session_type`).
    SessionType {
        Study = "study",
        Review = "review",
        Quiz = "quiz",
    }
}

text_enum! {
    /// A learning session's status (`learning_sessions.status`).
    SessionStatus {
        Active = "active",
        Completed = "completed",
        /// Idle past STUDYHALL_SESSION_IDLE_MINUTES.
        Abandoned = "abandoned",
    }
}

text_enum! {
    /// An interaction's kind (`interactions.interaction_type`).
    InteractionType {
        Answer = "answer",
        View = "view",
        Skip = "skip",
    }
}

text_enum! {
    /// Feedback's kind (`user_feedback.feedback_type`).
    FeedbackType {
        Rating = "rating",
        Comment = "comment",
        /// A bad item: flags the asset.
        Report = "report",
    }
}

text_enum! {
    /// A background job's status (`jobs.status`, a CHECK constraint of 0007_jobs).
    JobState {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
    }
}

text_enum! {
    /// Where an item is in its schedule, as the reference FSRS scheduler (py-fsrs) keeps
    /// it (`review_states.state`, a CHECK constraint of 0016_learning_steps_and_days).
    ReviewState {
        /// A new item going through the learning steps.
        Learning = "learning",
        /// Scheduled by FSRS, in whole days.
        Review = "review",
        /// A lapse (a review item rated Again) going through the relearning steps.
        Relearning = "relearning",
    }
}

text_enum! {
    /// Where an invitation stands, read from its columns (`invitations`: used_at,
    /// revoked_at, expires_at), the first that applies in this order.
    InvitationStatus {
        /// Its link made an account.
        Used = "used",
        /// Withdrawn by an administrator.
        Revoked = "revoked",
        Expired = "expired",
        /// Its link works.
        Pending = "pending",
    }
}

text_enum! {
    /// What an upkeep run was (`upkeep_runs.kind`, a CHECK constraint of 0025_upkeep_runs).
    UpkeepKind {
        /// `studyhall maintain`: partitions and retention.
        Maintenance = "maintenance",
        /// Idle sessions, recent rollups, FSRS refits.
        Housekeeping = "housekeeping",
        /// `studyhall backup create`, by hand, cron or serve's STUDYHALL_BACKUP_HOURS.
        Backup = "backup",
    }
}

text_enum! {
    /// How an upkeep run ended (`upkeep_runs.outcome`).
    UpkeepOutcome {
        Done = "done",
        /// Another node or run was at it.
        Skipped = "skipped",
        /// Its summary says what went wrong.
        Failed = "failed",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_round_trip_and_unknown_ones_say_what_is_allowed() {
        fn round_trip<T>(all: &[T])
        where
            T: Copy + PartialEq + fmt::Debug + FromStr<Err = Unknown> + serde::Serialize + utoipa::PartialSchema,
            T: Into<&'static str>,
        {
            let schema = serde_json::to_value(T::schema()).expect("a schema");
            for value in all {
                let text: &str = (*value).into();
                assert_eq!(text.parse::<T>(), Ok(*value));
                assert_eq!(json!(value), json!(text), "serde names it as the database does");
                assert!(schema["enum"].as_array().expect("an enum").contains(&json!(text)), "{schema}");
            }
        }
        round_trip(MaterialStatus::ALL);
        round_trip(AssetType::ALL);
        round_trip(AssetStatus::ALL);
        round_trip(SessionType::ALL);
        round_trip(SessionStatus::ALL);
        round_trip(InteractionType::ALL);
        round_trip(FeedbackType::ALL);
        round_trip(JobState::ALL);
        round_trip(ReviewState::ALL);
        round_trip(InvitationStatus::ALL);
        round_trip(UpkeepKind::ALL);
        round_trip(UpkeepOutcome::ALL);
        let refused = serde_json::from_value::<SessionType>(json!("nap")).expect_err("unknown");
        assert_eq!(refused.to_string(), "must be study, review or quiz");
        let refused = some_of::<_, AssetType>(json!(["quiz", "poem"])).expect_err("unknown");
        assert_eq!(refused.to_string(), "must list some of flashcard, quiz and summary");
        assert_eq!(some_of::<_, AssetType>(json!(null)).expect("none"), None);
    }
}
