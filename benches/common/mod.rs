//! What the benches share: a real `studyhall serve` in a child process.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// `studyhall serve` on 127.0.0.1 (a free port), stopped with SIGTERM when dropped.
pub struct Server {
    /// `host:port`.
    pub address: String,
    child: Child,
}

impl Server {
    /// Starts the server with `env` (on top of quiet JSON logs and a cheap bcrypt cost),
    /// and waits until it listens.
    pub fn start(env: &[(&str, String)]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_studyhall"));
        command
            .arg("serve")
            .env_remove("DATABASE_URL")
            .env("STUDYHALL_BIND", "127.0.0.1:0")
            .env("STUDYHALL_LOG_FORMAT", "json")
            .env("STUDYHALL_LOG", "warn,studyhall::root=info")
            .env("STUDYHALL_BCRYPT_COST", "4")
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start studyhall serve");
        let mut log = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let address = log
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                let event: Value = serde_json::from_str(&line).ok()?;
                (event["message"] == "listening").then(|| event["address"].as_str().map(str::to_owned)).flatten()
            })
            .expect("the server listens");
        std::thread::spawn(move || log.for_each(drop));
        Server { address, child }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}
