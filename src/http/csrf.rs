//! CSRF tokens: a signed-in session's (derived from its token, checked for the API in
//! [`AuthUser`](super::auth::AuthUser) and for the web app's forms), and the
//! server-signed double-submit tokens of the sign-in and sign-up forms.

use crate::app::AppState;
use crate::error::{Error, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// How long a sign-in or sign-up form's token is good for: its cookie's lifetime too.
pub const FORM_TOKEN_SECS: i64 = 3600;

/// The CSRF token of a signed-in session: derived from its token, so it needs no storage
/// and dies with the session.
pub fn session_csrf(token: &str) -> String {
    crate::digest::hex(&Sha256::digest(format!("studyhall-csrf|{token}").as_bytes())[..16])
}

/// A new token for a sign-in or sign-up form, signed by the server: a token a client
/// made up is refused.
pub async fn new_form_token(state: &AppState) -> Result<String> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).expect("the OS has randomness");
    Ok(sign(form_key(state).await?, chrono::Utc::now().timestamp(), &nonce))
}

/// Whether `token` is one this server issued less than [`FORM_TOKEN_SECS`] ago.
pub async fn form_token_valid(state: &AppState, token: &str) -> Result<bool> {
    Ok(verify(form_key(state).await?, token, chrono::Utc::now().timestamp()))
}

/// The key that signs form tokens (`web_secret`, made by the migrations and shared by
/// every node), read on first use and kept in the state.
async fn form_key(state: &AppState) -> Result<&[u8]> {
    let key = state
        .form_key
        .get_or_try_init(|| async {
            let key = sqlx::query_scalar!("SELECT form_key FROM web_secret").fetch_optional(&state.privileged).await?;
            key.ok_or_else(|| Error::Internal("web_secret holds no key: the migrations did not run".to_owned()))
        })
        .await?;
    Ok(key)
}

fn signature(key: &[u8], body: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(b"studyhall-form|");
    mac.update(body.as_bytes());
    mac
}

/// `<issued at>.<nonce>.<HMAC-SHA256 of both under key>`, base64url.
fn sign(key: &[u8], issued: i64, nonce: &[u8]) -> String {
    let body = format!("{issued}.{}", URL_SAFE_NO_PAD.encode(nonce));
    let mac = signature(key, &body).finalize().into_bytes();
    format!("{body}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// Whether `token` was signed with `key` less than [`FORM_TOKEN_SECS`] before `now` (a
/// minute ahead is allowed for the clocks of other nodes).
fn verify(key: &[u8], token: &str, now: i64) -> bool {
    let Some((body, mac)) = token.rsplit_once('.') else { return false };
    let issued = body.split_once('.').and_then(|(issued, _)| issued.parse::<i64>().ok());
    let fresh = issued.is_some_and(|issued| (-60..=FORM_TOKEN_SECS).contains(&(now - issued)));
    fresh && URL_SAFE_NO_PAD.decode(mac).is_ok_and(|mac| signature(key, body).verify_slice(&mac).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_tokens_verify_only_under_their_key_unaltered_and_within_the_hour() {
        let (key, now) = ([7u8; 32], 1_800_000_000);
        let token = sign(&key, now, &[1; 16]);
        assert!(verify(&key, &token, now));
        assert!(verify(&key, &token, now + FORM_TOKEN_SECS), "good for an hour");
        assert!(!verify(&key, &token, now + FORM_TOKEN_SECS + 1), "not longer");
        assert!(verify(&key, &token, now - 60) && !verify(&key, &token, now - 61), "a minute of clock skew");
        assert!(!verify(&[8u8; 32], &token, now), "another key");
        let later = sign(&key, now + 1, &[1; 16]);
        let (_, mac) = later.rsplit_once('.').expect("a signature");
        let (body, _) = token.rsplit_once('.').expect("a body");
        assert!(!verify(&key, &format!("{body}.{mac}"), now), "another token's signature");
        for forged in ["attacker-chosen", "", "1800000000.nonce.", "1800000000..", "x.y.z"] {
            assert!(!verify(&key, forged, now), "{forged}");
        }
    }
}
