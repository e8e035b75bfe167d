//! `studyhall user create | promote | deactivate`: account administration for operators,
//! on the privileged connection, each change audited (with `"via": "cli"`).

use std::io::BufRead;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Subcommand;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::{password, store, taken, validate};
use crate::audit::{Change, Work};
use crate::config::AuthConfig;
use crate::error::{Error, Result};
use crate::http::extract::Client;

#[derive(Subcommand)]
pub enum UserAction {
    /// Create an account. The password is read from standard input with
    /// --password-stdin; otherwise a random one is generated and printed once.
    Create {
        /// The account's email address (a login).
        #[arg(long)]
        email: String,
        /// The account's username (a login): 3 to 50 letters, digits, '.', '_' or '-'.
        #[arg(long)]
        username: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Make an account (by email or username) an administrator.
    Promote {
        /// The account's email address or username.
        login: String,
    },
    /// Deactivate an account (by email or username): it can no longer sign in, and its
    /// sessions end.
    Deactivate {
        /// The account's email address or username.
        login: String,
    },
}

pub async fn run(pool: &PgPool, auth: &AuthConfig, action: UserAction) -> Result<()> {
    let client = Client::default();
    match action {
        UserAction::Create { email, username, password_stdin, admin } => {
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).map_err(Error::io("reading the password"))?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                let mut bytes = [0u8; 18];
                getrandom::fill(&mut bytes).map_err(Error::failed("no randomness"))?;
                (URL_SAFE_NO_PAD.encode(bytes), true)
            };
            let mut v = validate::Validator::default();
            validate::email(&mut v, "email", &email);
            validate::username(&mut v, "username", &username);
            validate::new_password(&mut v, "password", &password, &[&email, &username]);
            v.finish()?;
            let hash = password::hash(password.clone(), auth.bcrypt_cost).await?;

            let work = Work::new(pool, &client, "user.create", "user");
            let id = work
                .change(async |tx| {
                    let id = taken(store::create(tx, &email, &username, &hash, admin).await)?;
                    work.user(id).entity(id);
                    let new = json!({"email": email, "username": username, "is_admin": admin, "via": "cli"});
                    Ok((id, Change::created(new)))
                })
                .await?;
            println!("created user {id} ({username})");
            if generated {
                println!("password: {password}");
            }
        }
        UserAction::Promote { login } => {
            let id = change(pool, &client, &login, Flag::Admin).await?;
            println!("user {id} is now an administrator");
        }
        UserAction::Deactivate { login } => {
            let id = change(pool, &client, &login, Flag::Inactive).await?;
            println!("user {id} is deactivated");
        }
    }
    Ok(())
}

/// What `studyhall user` sets on an account.
#[derive(Clone, Copy)]
enum Flag {
    /// `is_admin` true (promote).
    Admin,
    /// `is_active` false, its tokens revoked (deactivate).
    Inactive,
}

impl Flag {
    /// The audit action, the column and the value it sets.
    fn sets(self) -> (&'static str, &'static str, bool) {
        match self {
            Flag::Admin => ("user.promote", "is_admin", true),
            Flag::Inactive => ("user.deactivate", "is_active", false),
        }
    }
}

/// Sets `flag` on the account `login` names; audited with the flag's old and new value.
async fn change(pool: &PgPool, client: &Client, login: &str, flag: Flag) -> Result<Uuid> {
    let (action, column, value) = flag.sets();
    let work = Work::new(pool, client, action, "user");
    work.change(async |tx| {
        let (id, old) = store::flag(tx, login, column)
            .await?
            .ok_or_else(|| Error::Config(format!("no account has the email or username {login:?}")))?;
        work.user(id).entity(id);
        match flag {
            Flag::Admin => store::promote(tx, id).await?,
            Flag::Inactive => store::deactivate(tx, id).await?,
        }
        Ok((id, Change::new(Some(json!({column: old})), Some(json!({column: value, "via": "cli"})))))
    })
    .await
}
