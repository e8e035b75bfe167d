//! Reading untrusted documents in a child process held to limits.
//!
//! A hostile file (nested a hundred thousand deep, a zip or deflate bomb, a PDF that
//! draws itself) can make a parser recurse, allocate or loop without end, and a parser
//! in the server's process would take every learner's requests down with it. So the
//! pipeline runs in `studyhall extract` (a hidden subcommand of the same binary): it
//! sets its own limits before it reads a byte (address space, CPU time, no core dumps,
//! no files), reads the document on stdin and writes its outcome as JSON on stdout.
//! The parent feeds it, reads at most [`MAX_OUTPUT_BYTES`] back, kills it after the
//! wall-time limit (or when the job is dropped) and turns a crash into a reason the
//! learner can read.

use std::io::{Read, Write};
use std::process::{ExitCode, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

use super::ingest::Rows;
use super::pipeline::{self, PipelineError, extract};
use crate::config::MaterialsConfig;
use crate::error::{Error, Result};

/// The most JSON a reader may write back (a document's chunks and their analysis).
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024 * 1024;
/// The reader's stack: deep enough for any real document's nesting; deeper input
/// overflows it and fails that document only.
const STACK_BYTES: usize = 64 * 1024 * 1024;
/// The most of a reader's stderr kept, to tell why it stopped.
const MAX_STDERR_BYTES: u64 = 16 * 1024;

/// `studyhall extract`: what the parent asks of the child.
#[derive(clap::Args, Debug)]
pub struct ExtractArgs {
    /// The document's media type.
    #[arg(long)]
    media_type: String,
    /// Only check that the document opens (PDF, DOCX), do not read its text.
    #[arg(long)]
    check_only: bool,
    /// Address space limit, MiB.
    #[arg(long)]
    memory_mib: u64,
    /// CPU time limit, seconds.
    #[arg(long)]
    cpu_secs: u64,
}

/// What a reader reports.
#[derive(Debug, Serialize, Deserialize)]
enum Outcome {
    /// The document opens (`--check-only`).
    Opens,
    /// The document's chunks, ready to store.
    Read(Box<Rows>),
    /// The document cannot be ingested, and why (for the learner).
    Refused(String),
}

/// Checks that an uploaded PDF, DOCX or EPUB opens (other kinds always do): Ok(Err(reason))
/// when it does not.
pub async fn check(config: &MaterialsConfig, media_type: &str, bytes: &[u8]) -> Result<Result<(), String>> {
    if !matches!(media_type, extract::PDF | extract::DOCX | extract::EPUB) {
        return Ok(Ok(()));
    }
    Ok(match run(config, media_type, bytes, true, config.extract_check_wall()).await? {
        Ok(Outcome::Opens) => Ok(()),
        Ok(Outcome::Refused(reason)) | Err(reason) => Err(reason),
        Ok(Outcome::Read(_)) => return Err(Error::Internal("the reader read a document it was to check".to_owned())),
    })
}

/// Runs the whole pipeline on a document: its rows, or why it cannot be ingested. The
/// outer error is ours (the reader could not be started), worth another attempt.
pub async fn ingest(config: &MaterialsConfig, media_type: &str, bytes: &[u8]) -> Result<Result<Rows, String>> {
    Ok(match run(config, media_type, bytes, false, config.extract_wall()).await? {
        Ok(Outcome::Read(rows)) => Ok(*rows),
        Ok(Outcome::Refused(reason)) | Err(reason) => Err(reason),
        Ok(Outcome::Opens) => return Err(Error::Internal("the reader only checked a document".to_owned())),
    })
}

/// Readers running at once in this process, whatever asks (uploads, jobs): each may
/// use its whole memory limit.
fn readers() -> &'static Semaphore {
    static READERS: OnceLock<Semaphore> = OnceLock::new();
    READERS.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()).max(2)))
}

async fn run(
    config: &MaterialsConfig,
    media_type: &str,
    bytes: &[u8],
    check_only: bool,
    wall: Duration,
) -> Result<std::result::Result<Outcome, String>> {
    let _permit = readers().acquire().await.map_err(|_| Error::Internal("the readers' semaphore closed".to_owned()))?;
    let program = match &config.extractor {
        Some(path) => path.clone(),
        None => std::env::current_exe().map_err(Error::io("finding studyhall's own binary"))?,
    };
    let mut command = tokio::process::Command::new(&program);
    command
        .arg("extract")
        .args(["--media-type", media_type])
        .args(["--memory-mib", &config.extract_memory_mib.to_string()])
        .args(["--cpu-secs", &config.extract_cpu_secs.to_string()])
        .args(check_only.then_some("--check-only"))
        // Nothing of the server's environment (secrets, database URLs) reaches a reader.
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child =
        command.spawn().map_err(Error::io(format!("starting the document reader {}", program.display())))?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Err(Error::Internal("the reader's pipes are missing".to_owned()));
    };
    let feed = async move {
        // A reader that stops early closes its end: that is its outcome to report, not ours.
        let _ = stdin.write_all(bytes).await;
    };
    let read = async {
        let limit = u64::try_from(MAX_OUTPUT_BYTES).unwrap_or(u64::MAX) + 1;
        let (mut output, mut diagnostics) = (Vec::new(), Vec::new());
        let (mut stdout, mut stderr) = (stdout.take(limit), stderr.take(MAX_STDERR_BYTES));
        let (out, err) = tokio::join!(stdout.read_to_end(&mut output), stderr.read_to_end(&mut diagnostics));
        out.and(err).map(|_| (output, diagnostics))
    };
    let finished = tokio::time::timeout(wall, async {
        let ((), read) = tokio::join!(feed, read);
        let (output, diagnostics) = read?;
        if output.len() > MAX_OUTPUT_BYTES {
            return Ok(None);
        }
        child.wait().await.map(|status| Some((status, output, diagnostics)))
    })
    .await;
    let (status, output, diagnostics) = match finished {
        Err(_) => {
            let _ = child.kill().await;
            return Ok(Err(format!("reading the document took longer than {} s", wall.as_secs())));
        }
        Ok(Ok(None)) => {
            let _ = child.kill().await;
            return Ok(Err(format!("the document's text is larger than {} MiB", MAX_OUTPUT_BYTES / (1024 * 1024))));
        }
        Ok(Err(error)) => return Err(Error::io("talking to the document reader")(error)),
        Ok(Ok(Some(finished))) => finished,
    };
    if status.success()
        && let Ok(outcome) = serde_json::from_slice::<Outcome>(&output)
    {
        return Ok(Ok(outcome));
    }
    let diagnostics = String::from_utf8_lossy(&diagnostics);
    tracing::warn!(%status, diagnostics = %diagnostics.trim(), media_type, "the document reader failed");
    Ok(Err(why_it_stopped(config, status, &diagnostics)))
}

/// A reader's crash, in the learner's words.
fn why_it_stopped(config: &MaterialsConfig, status: std::process::ExitStatus, diagnostics: &str) -> String {
    use std::os::unix::process::ExitStatusExt;
    let signal = status.signal();
    if diagnostics.contains("overflowed its stack") || diagnostics.contains("stack overflow") {
        "the document is nested too deeply to read".to_owned()
    } else if diagnostics.contains("memory allocation of") || diagnostics.contains("capacity overflow") {
        format!("reading the document needs more memory than the {} MiB allowed", config.extract_memory_mib)
    } else if signal == Some(nix::libc::SIGXCPU) || signal == Some(nix::libc::SIGKILL) {
        format!("reading the document needs more than {} s of processing", config.extract_cpu_secs)
    } else {
        "the document could not be read (its reader stopped on it)".to_owned()
    }
}

/// The child's side (`studyhall extract`): limits first, then read stdin, run the
/// pipeline on a thread with a known stack, and write the outcome.
pub fn child(args: &ExtractArgs) -> ExitCode {
    if let Err(error) = limit(args) {
        eprintln!("studyhall extract: cannot set limits: {error}");
        return ExitCode::FAILURE;
    }
    let mut bytes = Vec::new();
    if let Err(error) = std::io::stdin().lock().read_to_end(&mut bytes) {
        eprintln!("studyhall extract: reading stdin: {error}");
        return ExitCode::FAILURE;
    }
    let media_type = args.media_type.clone();
    let check_only = args.check_only;
    let reader = std::thread::Builder::new()
        .name("reader".to_owned())
        .stack_size(STACK_BYTES)
        .spawn(move || read(&media_type, &bytes, check_only));
    let outcome = match reader.map(|thread| thread.join()) {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) => Outcome::Refused("the document could not be read (its reader failed on it)".to_owned()),
        Err(error) => {
            eprintln!("studyhall extract: starting the reader: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    match serde_json::to_writer(&mut stdout, &outcome).map_err(std::io::Error::from).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("studyhall extract: writing the outcome: {error}");
            ExitCode::FAILURE
        }
    }
}

fn read(media_type: &str, bytes: &[u8], check_only: bool) -> Outcome {
    let refused = |error: PipelineError| Outcome::Refused(error.to_string());
    if check_only {
        return extract::check(media_type, bytes).map_or_else(refused, |()| Outcome::Opens);
    }
    pipeline::ingest(media_type, bytes).map_or_else(refused, |ingested| Outcome::Read(Box::new(ingested.into())))
}

/// Holds this process to its limits: address space and CPU time as asked, no core
/// dumps (a crash must not write gigabytes), no files written; and ends it with its
/// parent (a server killed with -9 leaves no reader behind).
fn limit(args: &ExtractArgs) -> nix::Result<()> {
    use nix::sys::resource::{Resource, setrlimit};
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
    let memory = args.memory_mib.saturating_mul(1024 * 1024);
    setrlimit(Resource::RLIMIT_AS, memory, memory)?;
    // SIGXCPU at the soft limit, SIGKILL a second later.
    setrlimit(Resource::RLIMIT_CPU, args.cpu_secs, args.cpu_secs + 1)?;
    setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
    setrlimit(Resource::RLIMIT_FSIZE, 0, 0)
}
