//! A mail server for the tests (SMTP is outside the project): it listens on 127.0.0.1,
//! speaks just enough SMTP for a client to deliver (EHLO, AUTH PLAIN without TLS, MAIL,
//! RCPT, DATA, QUIT), and hands each message it is given to the test.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The RCPT TO addresses.
    pub to: Vec<String>,
    /// The user name and password the client authenticated with, if it did.
    pub login: Option<(String, String)>,
    /// The message as sent (headers and body), its transfer encoding undone.
    pub text: String,
}

impl Mail {
    /// The first `http` link in the message.
    pub fn link(&self) -> String {
        let start = self.text.find("http").unwrap_or_else(|| panic!("a link in the mail: {}", self.text));
        self.text[start..].split_whitespace().next().expect("a link").to_owned()
    }
}

/// The server, stopped when dropped.
pub struct SmtpSink {
    pub address: SocketAddr,
    received: mpsc::UnboundedReceiver<Mail>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
        let address = listener.local_addr().expect("the address");
        let (sender, received) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, sender.clone()));
            }
        });
        SmtpSink { address, received, task }
    }

    /// STUDYHALL_SMTP_URL for this server, unencrypted (with `user:password@` if given).
    pub fn url(&self, login: Option<(&str, &str)>) -> String {
        let login = login.map(|(user, password)| format!("{user}:{password}@")).unwrap_or_default();
        format!("smtp://{login}{}?tls=none", self.address)
    }

    /// The next message delivered (failing after a minute without one).
    pub async fn next(&mut self) -> Mail {
        tokio::time::timeout(Duration::from_secs(60), self.received.recv())
            .await
            .expect("a mail arrives")
            .expect("the server runs")
    }

    /// Messages delivered and not yet taken.
    pub fn waiting(&mut self) -> usize {
        let mut count = 0;
        while self.received.try_recv().is_ok() {
            count += 1;
        }
        count
    }
}

async fn session(stream: TcpStream, delivered: mpsc::UnboundedSender<Mail>) {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    let mut reply = async move |text: &str| writer.write_all(format!("{text}\r\n").as_bytes()).await.is_ok();
    if !reply("220 sink ESMTP").await {
        return;
    }
    let (mut to, mut login) = (Vec::new(), None);
    while let Ok(Some(line)) = lines.next_line().await {
        let command = line.to_ascii_uppercase();
        let answer = if command.starts_with("EHLO") || command.starts_with("HELO") {
            "250-sink\r\n250 AUTH PLAIN"
        } else if let Some(plain) = line.strip_prefix("AUTH PLAIN ") {
            let decoded = STANDARD.decode(plain.trim()).unwrap_or_default();
            let parts: Vec<String> = decoded.split(|b| *b == 0).map(|p| String::from_utf8_lossy(p).into()).collect();
            login = parts.get(1).zip(parts.get(2)).map(|(user, password)| (user.clone(), password.clone()));
            "235 2.7.0 authenticated"
        } else if command.starts_with("MAIL FROM") {
            to.clear();
            "250 OK"
        } else if command.starts_with("RCPT TO") {
            to.push(line[8..].trim().trim_start_matches('<').trim_end_matches('>').to_owned());
            "250 OK"
        } else if command == "DATA" {
            if !reply("354 end with a dot").await {
                return;
            }
            let mut text = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line == "." {
                    break;
                }
                text.push_str(line.strip_prefix('.').unwrap_or(&line));
                text.push('\n');
            }
            let _ = delivered.send(Mail { to: to.clone(), login: login.clone(), text: quoted_printable(&text) });
            "250 OK queued"
        } else if command == "QUIT" {
            let _ = reply("221 bye").await;
            return;
        } else if command == "RSET" || command == "NOOP" {
            "250 OK"
        } else {
            "502 not here"
        };
        if !reply(answer).await {
            return;
        }
    }
}

/// `text` with quoted-printable undone (soft line breaks joined, `=XX` decoded): how a
/// mail reader shows a message whose long lines were encoded so.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let mut bytes = Vec::with_capacity(joined.len());
    let mut rest = joined.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        let hex = tail.get(..2).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (byte, hex) {
            (b'=', Some(decoded)) => {
                bytes.push(decoded);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(byte);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
