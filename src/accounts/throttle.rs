//! Sign-in throttling, per account and per client address, shared by every node through
//! the `auth_throttle` table.
//!
//! Every attempt is counted before its password is checked, by one statement per counter
//! that also decides whether the attempt may go on; so concurrent attempts get no more
//! password checks than attempts one after another would. An account (or a login naming
//! none) has [`ACCOUNT_LIMIT`] attempts within [`WINDOW`]; the next one is refused and
//! blocks it for 15 minutes, doubling with each further block up to an hour: at most 30
//! passwords checked in the first hour and 10 an hour after. A client address has
//! [`ADDRESS_LIMIT`] per window (many accounts), blocked alike. Attempts refused during a
//! block are not counted. A successful sign-in clears its account's count and takes
//! itself off the address's, so only failures add up. Blocks always end, so the real
//! owner is never locked out for good; a day without a block resets the doubling.
//!
//! Requests for a password-reset mail are counted alike, on counters of their own: an
//! email address has [`RESET_ADDRESS_LIMIT`] within the window (whether or not an account
//! has it, so the answer tells nothing), a client address [`RESET_CLIENT_LIMIT`].

use std::net::IpAddr;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Error, Result};

pub const ACCOUNT_LIMIT: i32 = 10;
pub const ADDRESS_LIMIT: i32 = 50;
pub const RESET_ADDRESS_LIMIT: i32 = 3;
pub const RESET_CLIENT_LIMIT: i32 = 10;
const WINDOW: &str = "15 minutes";
const FIRST_BLOCK_SECS: f64 = 15.0 * 60.0;
const LONGEST_BLOCK_SECS: f64 = 60.0 * 60.0;

/// The counters one attempt is held to, and their limits.
pub struct Keys {
    account: String,
    address: Option<String>,
    limits: (i32, i32),
}

impl Keys {
    /// A sign-in's: `account` when the login names one; otherwise the login as typed
    /// (lower-cased), so guessing at accounts that do not exist is throttled just the same.
    pub fn new(account: Option<Uuid>, login: &str, ip: Option<IpAddr>) -> Keys {
        Keys {
            account: match account {
                Some(id) => format!("account:{id}"),
                None => format!("login:{}", login.trim().to_lowercase()),
            },
            address: ip.map(|ip| format!("ip:{ip}")),
            limits: (ACCOUNT_LIMIT, ADDRESS_LIMIT),
        }
    }

    /// A request for a password-reset mail to `email`, from `ip`.
    pub fn password_reset(email: &str, ip: Option<IpAddr>) -> Keys {
        Keys {
            account: format!("reset:{}", email.trim().to_lowercase()),
            address: ip.map(|ip| format!("reset-ip:{ip}")),
            limits: (RESET_ADDRESS_LIMIT, RESET_CLIENT_LIMIT),
        }
    }
}

/// Counts an attempt against the address, then the account; 429 if either is blocked
/// (or this attempt is one too many and blocks it). The address comes first, so that
/// attempts from a blocked address never count against an account.
pub async fn attempt(conn: &mut PgConnection, keys: &Keys) -> Result<()> {
    if let Some(address) = &keys.address {
        count(&mut *conn, address, keys.limits.1).await?;
    }
    count(conn, &keys.account, keys.limits.0).await
}

/// One attempt on counter `key`, atomically: counted unless the key is blocked; the one
/// past `limit` in the window blocks it.
async fn count(conn: &mut PgConnection, key: &str, limit: i32) -> Result<()> {
    let blocked_for = sqlx::query_scalar!(
        "INSERT INTO auth_throttle AS t (key, failures, window_started_at) VALUES ($1, 1, now())
         ON CONFLICT (key) DO UPDATE SET (failures, window_started_at, lockouts, blocked_until) = (
             SELECT CASE WHEN blocked THEN t.failures WHEN over THEN 0 ELSE n END,
                    CASE WHEN blocked OR NOT (over OR expired) THEN t.window_started_at ELSE now() END,
                    CASE WHEN over THEN lockouts + 1 ELSE lockouts END,
                    CASE WHEN over THEN now() + make_interval(secs => least($3 * 2 ^ lockouts, $4))
                         ELSE t.blocked_until END
               FROM (SELECT *, NOT blocked AND n > $5 AS over
                       FROM (SELECT coalesce(t.blocked_until > now(), false) AS blocked,
                                    t.window_started_at < now() - $2::text::interval AS expired,
                                    CASE WHEN t.window_started_at < now() - $2::text::interval THEN 1
                                         ELSE t.failures + 1 END AS n,
                                    CASE WHEN t.blocked_until < now() - interval '1 day' THEN 0
                                         ELSE t.lockouts END AS lockouts) s) s)
         RETURNING extract(epoch FROM blocked_until - clock_timestamp())::float8",
        key,
        WINDOW,
        FIRST_BLOCK_SECS,
        LONGEST_BLOCK_SECS,
        limit,
    )
    .fetch_one(conn)
    .await?;
    match blocked_for {
        Some(secs) if secs > 0.0 => Err(Error::TooManyRequests { retry_after_secs: secs.ceil() as u64 }),
        _ => Ok(()),
    }
}

/// A successful sign-in: the account's count is cleared; the address's loses this
/// attempt (its failures still count).
pub async fn succeeded(conn: &mut PgConnection, keys: &Keys) -> Result<()> {
    sqlx::query!(
        "WITH cleared AS (DELETE FROM auth_throttle WHERE key = $1)
         UPDATE auth_throttle SET failures = greatest(failures - 1, 0) WHERE key = $2",
        keys.account,
        keys.address,
    )
    .execute(conn)
    .await?;
    Ok(())
}
