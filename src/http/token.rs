//! Sign-in tokens: 256 random bits from the operating system, given to the client once;
//! the database keeps only their SHA-256, so a copy of it signs no one in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Tokens start with this, so they are recognisable in a leaked file or a secret scanner.
const PREFIX: &str = "sh_";

/// A new token: the secret for the client, the hash for the database.
pub struct NewToken {
    pub secret: String,
    pub hash: Vec<u8>,
}

pub fn generate() -> Result<NewToken> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(Error::failed("no randomness"))?;
    let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&secret);
    Ok(NewToken { secret, hash })
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_stored_only_as_their_hash() {
        let a = generate().expect("a token");
        let b = generate().expect("a token");
        assert_ne!(a.secret, b.secret);
        assert_eq!(a.secret.len(), PREFIX.len() + 43, "256 bits in base64url");
        assert_eq!(a.hash, hash(&a.secret));
        assert_eq!(a.hash.len(), 32);
    }
}
