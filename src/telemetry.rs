//! Logging: tracing events to stderr, as text or as one JSON object per line.

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber; `server` says whether the command runs a server (which
/// logs at `info` by default; a one-off command logs only warnings and errors unless
/// asked). Tests do not call it, so they stay quiet.
pub fn init(config: &LogConfig, server: bool) {
    let default = if server || config.verbose { "info" } else { "warn" };
    let wanted = config.log.as_deref().unwrap_or(default);
    let filter = EnvFilter::try_new(wanted).unwrap_or_else(|err| {
        eprintln!("STUDYHALL_LOG {wanted:?} is not a valid filter ({err}); using \"{default}\"");
        EnvFilter::new(default)
    });
    // Colours only for a person at a terminal (and never with NO_COLOR set): a log
    // redirected to a file or a collector gets plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    match config.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).init(),
    }
}
