//! `studyhall user create | promote | deactivate | invite | reset-password`: account
//! administration for operators, on the privileged connection, each change audited
//! (with `"via": "cli"`).

use std::io::BufRead;
use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::{Args, Subcommand};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::admin::{self, Flag, Target, no_account};
use super::invitations::{self, NewInvitation};
use super::{password, reset, store, taken, validate};
use crate::audit::{Change, Work};
use crate::config::{AccountConfig, DEFAULT_BIND};
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
    /// Make a one-time sign-up link and print it (for STUDYHALL_SIGNUP=invite).
    Invite {
        /// The address the new account must have (any address when not given).
        #[arg(long)]
        email: Option<String>,
        /// How long the link works: hours (`12h`) or days (`7d`), up to 90 days.
        #[arg(long, value_name = "LIFETIME", default_value = "7d", value_parser = invitations::parse_lifetime)]
        expires_in: u32,
        #[command(flatten)]
        served: Served,
    },
    /// Reset an account's password (by email or username): print a one-time link that
    /// works for an hour, or with --password-stdin set the password read from standard
    /// input. Setting it ends every sign-in of the account.
    ResetPassword {
        /// The account's email address or username.
        login: String,
        /// Set the password read from the first line of standard input, rather than
        /// printing a link.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        served: Served,
    },
}

/// Where `serve` listens, for the links the commands print.
#[derive(Args)]
pub struct Served {
    /// The address `serve` listens on: the links name it when STUDYHALL_PUBLIC_URL is unset.
    #[arg(long, env = "STUDYHALL_BIND", default_value = DEFAULT_BIND)]
    bind: SocketAddr,
}

/// The first line of standard input, without its line ending.
fn password_from_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(Error::io("reading the password"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub async fn run(pool: &PgPool, account: &AccountConfig, action: UserAction) -> Result<()> {
    let client = Client::default();
    match action {
        UserAction::Create { email, username, password_stdin, admin } => {
            let (password, generated) = if password_stdin {
                (password_from_stdin()?, false)
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
            let hash = password::hash(password.clone(), account.bcrypt_cost).await?;

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
            let id = change(pool, &client, &login, Flag::Promote).await?;
            println!("user {id} is now an administrator");
        }
        UserAction::Deactivate { login } => {
            let id = change(pool, &client, &login, Flag::Deactivate).await?;
            println!("user {id} is deactivated");
        }
        UserAction::Invite { email, expires_in, served } => {
            let work = Work::new(pool, &client, "invitation.create", "invitation");
            let body = NewInvitation { email, expires_in_hours: Some(expires_in) };
            let created = invitations::create(&work, None, Ok(body), &account.links(served.bind)).await?;
            let invitation = created.invitation;
            let whom = invitation.email.map_or_else(|| "anyone".to_owned(), |email| format!("{email} only"));
            println!("{}", created.link);
            println!("one sign-up, for {whom}, until {}", invitation.expires_at.to_rfc3339());
        }
        UserAction::ResetPassword { login, password_stdin, served } => {
            let (id, email, username) = active_account(pool, &login).await?;
            if password_stdin {
                let password = password_from_stdin()?;
                let mut v = validate::Validator::default();
                validate::new_password(&mut v, "password", &password, &[&email, &username]);
                v.finish()?;
                let hash = password::hash(password, account.bcrypt_cost).await?;
                let work = Work::new(pool, &client, "user.password_reset", "user");
                work.user(id).entity(id);
                work.change(async |tx| reset::set(tx, id, &hash, "cli").await).await?;
                println!("user {id} ({username}) has a new password; every sign-in of theirs has ended");
            } else {
                let work = Work::new(pool, &client, "password_reset.request", "password_reset");
                work.user(id);
                let links = account.links(served.bind);
                let (link, expires_at) = reset::operator_link(&work, Ok(id), &links, "cli").await?;
                println!("{link}");
                println!("for {username}, once, until {}", expires_at.to_rfc3339());
            }
        }
    }
    Ok(())
}

/// The active account `login` (email or username) names: its id, email and username.
async fn active_account(pool: &PgPool, login: &str) -> Result<(Uuid, String, String)> {
    let mut conn = pool.acquire().await?;
    let account = store::login_account(&mut conn, login).await?;
    let id = match account.map(|a| (a.user_id, a.is_active, a.is_deleted)) {
        Some((id, true, false)) => id,
        Some((_, false, false)) => {
            return Err(Error::Config(format!("the account {login:?} is deactivated: it cannot sign in")));
        }
        _ => return Err(no_account(login)),
    };
    let user = store::user(&mut conn, id).await?;
    Ok((id, user.email, user.username))
}

/// Sets `flag` on the account `login` names (shared with the admin API); its id.
async fn change(pool: &PgPool, client: &Client, login: &str, flag: Flag) -> Result<Uuid> {
    let work = Work::new(pool, client, flag.action(), "user");
    Ok(admin::set(&work, Target::Login(login), flag, None).await?.id)
}
