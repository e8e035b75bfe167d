use std::process::ExitCode;

use clap::Parser;
use studyhall::cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    studyhall::telemetry::init(&cli.log);
    match cli.run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "studyhall failed");
            eprintln!("studyhall: {err}");
            ExitCode::FAILURE
        }
    }
}
