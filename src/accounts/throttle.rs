//! Sign-in throttling, per account and per client address, shared by every node through
//! the `auth_throttle` table.
//!
//! After [`ACCOUNT_LIMIT`] failures within [`WINDOW`] an account is blocked for 15
//! minutes, doubling with each further block up to an hour: at most 30 failures in the
//! first hour and 10 an hour after. A client address gets [`ADDRESS_LIMIT`] failures per
//! window (many accounts). Blocks always end, so the real owner is never locked out for
//! good; a successful sign-in clears its account's count, and a day without a block
//! resets the doubling.

use std::net::IpAddr;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Error, Result};

pub const ACCOUNT_LIMIT: i32 = 10;
pub const ADDRESS_LIMIT: i32 = 50;
const WINDOW: &str = "15 minutes";
const FIRST_BLOCK_SECS: i64 = 15 * 60;
const LONGEST_BLOCK_SECS: i64 = 60 * 60;

/// The counters one sign-in attempt is held to.
pub struct Keys {
    account: String,
    address: Option<String>,
}

impl Keys {
    /// `account` when the login names one; otherwise the login as typed (lower-cased),
    /// so guessing at accounts that do not exist is throttled just the same.
    pub fn new(account: Option<Uuid>, login: &str, ip: Option<IpAddr>) -> Keys {
        Keys {
            account: match account {
                Some(id) => format!("account:{id}"),
                None => format!("login:{}", login.trim().to_lowercase()),
            },
            address: ip.map(|ip| format!("ip:{ip}")),
        }
    }

    fn all(&self) -> Vec<&str> {
        std::iter::once(self.account.as_str()).chain(self.address.as_deref()).collect()
    }
}

/// Fails with 429 while either counter is blocked.
pub async fn check(conn: &mut PgConnection, keys: &Keys) -> Result<()> {
    let remaining: Option<f64> = sqlx::query_scalar(
        "SELECT max(extract(epoch FROM blocked_until - now()))::float8
           FROM auth_throttle WHERE key = ANY($1) AND blocked_until > now()",
    )
    .bind(keys.all())
    .fetch_one(conn)
    .await?;
    match remaining {
        Some(secs) => Err(Error::TooManyRequests { retry_after_secs: secs.ceil().max(1.0) as u64 }),
        None => Ok(()),
    }
}

/// Counts a failed attempt against both counters, blocking those that reach their limit.
pub async fn record_failure(conn: &mut PgConnection, keys: &Keys) -> Result<()> {
    for (key, limit) in std::iter::once((keys.account.as_str(), ACCOUNT_LIMIT))
        .chain(keys.address.as_deref().map(|key| (key, ADDRESS_LIMIT)))
    {
        sqlx::query(
            "INSERT INTO auth_throttle AS t (key, failures, window_started_at) VALUES ($1, 1, now())
             ON CONFLICT (key) DO UPDATE SET
                 failures = CASE WHEN t.window_started_at < now() - $2::interval THEN 1 ELSE t.failures + 1 END,
                 window_started_at = CASE WHEN t.window_started_at < now() - $2::interval
                                          THEN now() ELSE t.window_started_at END,
                 lockouts = CASE WHEN t.blocked_until < now() - interval '1 day' THEN 0 ELSE t.lockouts END",
        )
        .bind(key)
        .bind(WINDOW)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE auth_throttle
                SET blocked_until = now() + make_interval(secs => least($3 * 2 ^ lockouts, $4)),
                    lockouts = lockouts + 1, failures = 0, window_started_at = now()
              WHERE key = $1 AND failures >= $2",
        )
        .bind(key)
        .bind(limit)
        .bind(FIRST_BLOCK_SECS as f64)
        .bind(LONGEST_BLOCK_SECS as f64)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A successful sign-in: the account's failures are forgiven (the address's are not).
pub async fn clear(conn: &mut PgConnection, keys: &Keys) -> Result<()> {
    sqlx::query("DELETE FROM auth_throttle WHERE key = $1").bind(&keys.account).execute(conn).await?;
    Ok(())
}
