//! Sending mail through the SMTP server STUDYHALL_SMTP_URL names (lettre, over rustls).
//!
//! A leaf, as `llm.rs` is: it imports only the settings and the error type, so that the
//! state can hold a mailer. The URL may carry a password: it is never logged, and errors
//! name the server's host at most.

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailConfig;
use crate::error::{Error, Result};

/// An SMTP server and the sender of the mail sent through it.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// The mailer `config` describes; None when no SMTP server is set, an error when a
    /// setting is wrong (an unreadable URL, no sender).
    pub fn new(config: &MailConfig) -> Result<Option<Mailer>> {
        let Some(url) = &config.smtp_url else { return Ok(None) };
        let from = config.mail_from.as_deref().ok_or_else(|| {
            Error::Config(
                "STUDYHALL_SMTP_URL needs STUDYHALL_MAIL_FROM, the address studyhall's mail comes from".into(),
            )
        })?;
        let from: Mailbox = from.parse().map_err(|err| {
            Error::Config(format!(
                "STUDYHALL_MAIL_FROM {from:?} is not a mail address ({err}): say noreply@example.org"
            ))
        })?;
        crate::tls::install_provider();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&lettre_url(url)?)
            .map_err(|err| Error::Config(format!("STUDYHALL_SMTP_URL cannot be used: {err}")))?
            .build();
        Ok(Some(Mailer { transport, from }))
    }

    /// Sends a plain-text mail to `to`.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<()> {
        let to: Mailbox = to.parse().map_err(Error::failed("a recipient's address"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(Error::failed("building a mail"))?;
        self.transport.send(message).await.map_err(Error::failed("sending a mail"))?;
        Ok(())
    }
}

/// STUDYHALL_SMTP_URL as lettre's `from_url` takes it. studyhall's `smtp://` requires
/// STARTTLS unless it says `?tls=none` (lettre's bare `smtp://` would send the password
/// unencrypted); `smtps://` and `?tls=opportunistic` pass as they are.
fn lettre_url(text: &str) -> Result<String> {
    let unreadable = || {
        Error::Config(
            "STUDYHALL_SMTP_URL is not a URL such as smtp://user:password@mail.example.org:587 or smtps://...".into(),
        )
    };
    let mut url = url::Url::parse(text).map_err(|_| unreadable())?;
    if url.scheme() != "smtp" {
        return Ok(url.into());
    }
    let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    match pairs.iter().position(|(key, _)| key == "tls") {
        Some(at) if pairs[at].1 == "none" => {
            pairs.remove(at);
        }
        Some(_) => {}
        None => pairs.push(("tls".to_owned(), "required".to_owned())),
    }
    url.set_query(None);
    if !pairs.is_empty() {
        url.query_pairs_mut().extend_pairs(pairs);
    }
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(smtp_url: &str, from: Option<&str>) -> MailConfig {
        MailConfig { smtp_url: Some(smtp_url.to_owned()), mail_from: from.map(str::to_owned) }
    }

    #[test]
    fn plain_smtp_requires_starttls_unless_it_says_none() {
        let url = |text: &str| lettre_url(text).expect("a URL");
        assert_eq!(url("smtp://u:p@mail.example.org:587"), "smtp://u:p@mail.example.org:587?tls=required");
        assert_eq!(url("smtp://127.0.0.1:2525?tls=none"), "smtp://127.0.0.1:2525");
        assert_eq!(url("smtp://mail.example.org?tls=opportunistic"), "smtp://mail.example.org?tls=opportunistic");
        assert_eq!(url("smtps://u:p@mail.example.org"), "smtps://u:p@mail.example.org");
    }

    #[tokio::test]
    async fn wrong_settings_are_refused_without_showing_the_password() {
        let no_from = Mailer::new(&mail("smtp://u:hunter2@mail.example.org", None)).err().expect("refused");
        assert!(no_from.to_string().contains("STUDYHALL_MAIL_FROM"), "{no_from}");
        for wrong in ["not a url hunter2", "imap://u:hunter2@mail.example.org"] {
            let error = Mailer::new(&mail(wrong, Some("noreply@example.org"))).err().expect("refused");
            assert!(!error.to_string().contains("hunter2"), "{error}");
        }
        let bad_from = Mailer::new(&mail("smtp://127.0.0.1?tls=none", Some("not an address"))).err().expect("refused");
        assert!(bad_from.to_string().contains("not a mail address"), "{bad_from}");
        assert!(Mailer::new(&mail("smtps://u:p@mail.example.org", Some("studyhall <noreply@example.org>"))).is_ok());
        assert!(Mailer::new(&MailConfig { smtp_url: None, mail_from: None }).expect("no mail").is_none());
    }
}
