use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use studyhall::cli::{Cli, Command};

/// After the command ends, blocking work still running (a generator on a large
/// material) gets this long before the process exits regardless.
const BLOCKING_GRACE: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A document reader: no runtime, no logging, its own limits (materials::sandbox).
    if let Command::Extract(args) = &cli.command {
        return studyhall::materials::sandbox::child(args);
    }
    studyhall::telemetry::init(&cli.log, matches!(cli.command, Command::Serve { .. } | Command::Worker { .. }));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("studyhall: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(cli.run());
    runtime.shutdown_timeout(BLOCKING_GRACE);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Once, on stderr, where the log goes too: not also as a log event.
            eprintln!("studyhall: {err}");
            ExitCode::FAILURE
        }
    }
}
