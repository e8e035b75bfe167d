//! Passwords: the policy new passwords must meet, and bcrypt hashing.
//!
//! bcrypt reads only the first 72 bytes of its input, and a 128-character password can
//! be 512 bytes of UTF-8. So studyhall never hands bcrypt the password itself: it hands
//! it `base64(SHA-256("studyhall.password.v1" || 0x00 || password))`, 44 bytes, which
//! depends on every byte of the password. The domain prefix keeps plain SHA-256 hashes
//! leaked elsewhere from being tried against ours. The stored hash is an ordinary
//! `$2b$` bcrypt hash of that string.
//!
//! Hashing is deliberately slow, so it runs on the blocking thread pool, never on the
//! async workers.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

const DOMAIN: &[u8] = b"studyhall.password.v1\0";

/// Why `password` is refused as a new password, if it is. Length is counted in
/// characters; there are no composition rules; passwords that are common or easy to
/// guess (zxcvbn's score below 2: found within about a million guesses, which covers the
/// common-password lists and simple patterns) are refused, as are those built from the
/// account's own email or username.
pub fn policy_violation(password: &str, user_inputs: &[&str]) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Some(format!("must be at least {MIN_CHARS} characters"));
    }
    if chars > MAX_CHARS {
        return Some(format!("must be at most {MAX_CHARS} characters"));
    }
    // zxcvbn matches whole words, so offer the email's local part on its own too.
    let inputs: Vec<&str> =
        user_inputs.iter().flat_map(|input| std::iter::once(*input).chain(input.split('@'))).collect();
    if (zxcvbn::zxcvbn(password, &inputs).score() as u8) < 2 {
        return Some("is too common or too easy to guess; try a longer phrase".to_owned());
    }
    None
}

fn bcrypt_input(password: &str) -> String {
    let digest = Sha256::new().chain_update(DOMAIN).chain_update(password.as_bytes()).finalize();
    STANDARD.encode(digest)
}

/// The bcrypt hash to store for `password`.
pub async fn hash(password: String, cost: u32) -> Result<String> {
    blocking(move || bcrypt::non_truncating_hash(bcrypt_input(&password), cost)).await
}

/// Whether `password` matches `stored`. With no stored hash (no such account), checks
/// against a dummy hash of the same cost, so that the answer takes as long either way.
pub async fn verify(password: String, stored: Option<String>, cost: u32) -> Result<bool> {
    blocking(move || {
        let input = bcrypt_input(&password);
        match stored {
            Some(stored) => bcrypt::non_truncating_verify(input, &stored),
            None => {
                bcrypt::non_truncating_verify(input, dummy_hash(cost)?)?;
                Ok(false)
            }
        }
    })
    .await
}

fn dummy_hash(cost: u32) -> bcrypt::BcryptResult<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let hash = bcrypt::non_truncating_hash(bcrypt_input("no such account"), cost)?;
    Ok(DUMMY.get_or_init(|| hash))
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> bcrypt::BcryptResult<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(Error::failed("password hashing panicked"))?
        .map_err(Error::failed("bcrypt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_byte_of_a_long_password_counts() {
        let long = "ä".repeat(100); // 200 bytes of UTF-8, far past bcrypt's 72
        let stored = hash(long.clone(), 4).await.expect("hash");
        assert!(stored.starts_with("$2b$04$"), "a standard bcrypt hash: {stored}");
        assert!(verify(long.clone(), Some(stored.clone()), 4).await.expect("verify"));
        let last_char_differs = format!("{}ö", "ä".repeat(99));
        assert!(!verify(last_char_differs, Some(stored), 4).await.expect("verify"));
    }

    #[tokio::test]
    async fn a_missing_account_never_verifies() {
        assert!(!verify("anything at all here".to_owned(), None, 4).await.expect("verify"));
    }

    #[test]
    fn the_policy_counts_characters_and_refuses_common_passwords() {
        assert!(policy_violation("short", &[]).is_some());
        assert!(policy_violation(&"x".repeat(129), &[]).is_some());
        for common in ["password1234", "123456789012", "qwertyuiopasdf", "aaaaaaaaaaaa"] {
            assert!(policy_violation(common, &[]).is_some(), "{common} is refused");
        }
        assert!(policy_violation("ada.lovelace1815", &["ada.lovelace1815@example.org"]).is_some());
        assert_eq!(policy_violation("glacier violet lamp orbit", &[]), None);
        assert_eq!(policy_violation("ÿüéñ-ſtraße-ωμέγα", &[]), None, "any characters count");
    }
}
