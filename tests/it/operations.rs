//! An operator's commands as docs/operations.md gives them: beside a running embedded
//! `serve` (user, password resets and invitations, backup with a base backup, maintain,
//! migrate; restore refused), a point-in-time recovery from a backup taken there, a busy
//! port refused before anything is created, and backups kept by rule, by hand and by label
//! through create, list and prune.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use nix::sys::signal::Signal;
use reqwest::StatusCode;
use sqlx::postgres::PgPoolOptions;

use crate::backups::archive_current_segment;
use crate::embedded::{Serve, learning_platform};
use crate::harness::{PASSWORD, TestDb, scratch_dir, studyhall_bin};

/// Runs `studyhall <args>` with `env`, `stdin` as its input; its output.
fn studyhall(args: &[&str], env: &[(&str, &Path)], stdin: &str) -> Output {
    let mut child = Command::new(studyhall_bin())
        .args(args)
        .env_remove("DATABASE_URL")
        .env("STUDYHALL_BCRYPT_COST", "4")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run studyhall");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait for studyhall")
}

/// Its stdout, having checked that it succeeded.
fn succeeded(output: Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Its one error line, having checked that it failed and said so once.
fn failed_once(output: Output) -> String {
    assert!(!output.status.success(), "succeeded: {}", String::from_utf8_lossy(&output.stdout));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|line| line.starts_with("studyhall: ")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    let message = errors[0].trim_start_matches("studyhall: ");
    assert_eq!(stderr.matches(message).count(), 1, "the error is printed once: {stderr}");
    message.to_owned()
}

#[tokio::test]
async fn admin_commands_work_beside_a_running_serve_and_its_backup_recovers_to_a_time() {
    let scratch = scratch_dir();
    let data_dir = scratch.path().join("studyhall-data");
    let env = [("STUDYHALL_DATA", data_dir.as_path())];
    let run = |args: &[&str]| studyhall(args, &env, &format!("{PASSWORD}\n"));
    let serve = Serve::start_with(&data_dir, &[("STUDYHALL_BCRYPT_COST", "4")]);

    let created =
        succeeded(run(&["user", "create", "--email", "ada@example.org", "--username", "ada", "--password-stdin"]));
    assert!(created.starts_with("created user "), "{created}");
    assert_eq!(serve.sign_in("ada").await, StatusCode::OK, "the running server sees the new account");
    // A password reset: a link the running server opens, and a password from stdin.
    let reset = succeeded(run(&["user", "reset-password", "ada"]));
    let link = reset.lines().next().and_then(|l| l.find("/reset?").map(|at| l[at..].to_owned())).expect("a link");
    assert_eq!(serve.get(&link).await, StatusCode::OK, "{reset}");
    assert!(succeeded(run(&["user", "reset-password", "ada", "--password-stdin"])).contains("has a new password"));
    assert_eq!(serve.sign_in("ada").await, StatusCode::OK, "with the password read from stdin");
    assert!(succeeded(run(&["user", "invite"])).contains("/signup?invite=sh_"), "an invitation");

    let backup = succeeded(run(&["backup", "create"]));
    assert!(backup.contains("with a base backup"), "{backup}");
    let name = backup.split(".dump").next().expect("the backup's name").to_owned();
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data_dir.join("backups").join(format!("{name}.json"))).expect("the manifest"),
    )
    .expect("a manifest");
    let base = manifest["base"].as_str().expect("a base backup, for point-in-time recovery");
    assert!(data_dir.join("backups").join(base).join("base.tar.gz").is_file());
    assert!(succeeded(run(&["backup", "list"])).contains(&name));

    succeeded(run(&["maintain", "--dry-run"]));
    let status = succeeded(run(&["migrate", "status"]));
    assert!(status.lines().count() >= 17 && status.lines().all(|l| l.contains("applied")), "{status}");

    let pid = format!("stop studyhall first (pid {})", serve.pid());
    for restore in [&["backup", "restore", &name][..], &["backup", "restore", "--to-time", "2030-01-01T00:00:00Z"]] {
        let refused = failed_once(run(restore));
        assert!(refused.contains(&pid), "{restore:?}: {refused}");
    }
    assert_eq!(serve.sign_in("ada").await, StatusCode::OK, "nothing was restored over the running server");

    // A row after the backup, a moment, a row after that moment.
    assert_eq!(serve.register("kept").await, StatusCode::CREATED);
    let pool = PgPoolOptions::new().connect_with(learning_platform(&data_dir)).await.expect("the socket");
    let between: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT clock_timestamp()").fetch_one(&pool).await.expect("a time");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(serve.register("lost").await, StatusCode::CREATED);
    archive_current_segment(&pool, &data_dir.join("wal-archive")).await;
    pool.close().await;
    serve.signal(Signal::SIGTERM);
    assert!(serve.wait(), "serve stops cleanly");

    let recovered = succeeded(run(&["backup", "restore", "--to-time", &between.to_rfc3339()]));
    assert!(recovered.starts_with("recovered to "), "{recovered}");
    let serve = Serve::start_with(&data_dir, &[("STUDYHALL_BCRYPT_COST", "4")]);
    assert_eq!(serve.sign_in("ada").await, StatusCode::OK, "from the base backup");
    assert_eq!(serve.sign_in("kept").await, StatusCode::OK, "replayed from the WAL up to the time");
    assert_eq!(serve.sign_in("lost").await, StatusCode::UNAUTHORIZED, "written after the time");
}

#[test]
fn a_busy_port_fails_before_the_database_is_created() {
    let scratch = scratch_dir();
    let data_dir = scratch.path().join("studyhall-data");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("its address").to_string();
    let output = Command::new(studyhall_bin())
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("STUDYHALL_DATA", &data_dir)
        .env("STUDYHALL_BIND", &address)
        .output()
        .expect("run studyhall serve");
    let error = failed_once(output);
    assert!(error.contains(&format!("cannot listen on {address}: the address is in use")), "{error}");
    assert!(error.contains("STUDYHALL_BIND"), "says what to do: {error}");
    assert!(!data_dir.exists(), "nothing created: no cluster, no initdb");
}

/// Moves a backup back in time, as if it had been taken then (its manifest's time).
fn backdate(dir: &Path, name: &str, days: i64, hour: u32) {
    let path = dir.join(format!("{name}.json"));
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    let day = chrono::Utc::now().date_naive() - chrono::Duration::days(days);
    let at = day.and_hms_opt(hour, 0, 0).expect("a time").and_utc();
    manifest["created_at"] = serde_json::json!(at);
    std::fs::write(&path, serde_json::to_vec(&manifest).expect("json")).expect("write");
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the backups")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn rotation_keeps_same_day_and_marked_backups_and_prune_dry_run_deletes_nothing() {
    let db = TestDb::migrated().await;
    let scratch = scratch_dir();
    let dir = scratch.path().join("backups");
    let url = std::path::PathBuf::from(db.url());
    let env = [("DATABASE_URL", url.as_path()), ("STUDYHALL_BACKUP_DIR", dir.as_path())];
    let backup = |args: &[&str]| -> String { succeeded(studyhall(&[&["backup"], args].concat(), &env, "")) };
    let name = |output: &str| output.split(".dump").next().expect("a name").to_owned();

    // Taken by hand before a risky change, then the nightly one the same day.
    let by_hand = name(&backup(&["create"]));
    let nightly = backup(&["create"]);
    assert!(!nightly.contains("rotated away"), "the backup taken by hand is kept: {nightly}");
    let nightly = name(&nightly);
    let listed = backup(&["list"]);
    assert!(listed.lines().any(|l| l.starts_with(&format!("{by_hand}  ")) && l.contains("taken today")), "{listed}");
    let kept = name(&backup(&["create", "--keep"]));
    let labelled = name(&backup(&["create", "--label", "before the upgrade"]));

    // Days later: the earlier of that day's two is no longer kept; the marked ones are,
    // even past every rotation span.
    backdate(&dir, &by_hand, 3, 10);
    backdate(&dir, &nightly, 3, 11);
    backdate(&dir, &kept, 400, 9);
    backdate(&dir, &labelled, 3, 9);
    let listed = backup(&["list"]);
    let rule = |name: &str| listed.lines().find(|l| l.starts_with(&format!("{name}  "))).expect("listed").to_owned();
    assert!(rule(&by_hand).contains("not kept"), "{listed}");
    assert!(rule(&nightly).contains("the newest"), "{listed}");
    assert!(rule(&kept).ends_with("kept by hand"), "{listed}");
    assert!(rule(&labelled).contains("kept by hand, labelled \"before the upgrade\""), "{listed}");

    let before = files(&dir);
    let dry = backup(&["prune", "--dry-run"]);
    assert_eq!(dry.trim(), format!("would delete {by_hand}"));
    assert_eq!(files(&dir), before, "a dry run deletes nothing");

    assert_eq!(backup(&["prune"]).trim(), format!("deleted {by_hand}"));
    let after = files(&dir);
    assert!(after.iter().all(|f| !f.starts_with(&format!("{by_hand}."))), "{after:?}");
    for survivor in [&nightly, &kept, &labelled] {
        assert!(after.contains(&format!("{survivor}.dump")), "{survivor} kept: {after:?}");
    }
    assert_eq!(backup(&["prune"]).trim(), "nothing to prune: rotation keeps every backup");

    // Deleted by hand, a kept backup goes.
    assert_eq!(backup(&["delete", &kept]).trim(), format!("deleted {kept}"));
    assert!(!backup(&["list"]).contains(&format!("{kept}  ")));
}

/// `studyhall <args> --help`, having checked that every option it lists is described (the
/// line after an option's own says something).
fn help(args: &[&str]) -> String {
    let output = Command::new(studyhall_bin()).args(args).arg("--help").output().expect("run studyhall");
    let text = succeeded(output);
    let lines: Vec<&str> = text.lines().collect();
    for (at, line) in lines.iter().enumerate() {
        // `--name` or `-n, --name`; not a value's line ("- json: ...").
        let option = line.trim_start().strip_prefix('-').is_some_and(|rest| rest.starts_with(|c: char| c != ' '));
        if option {
            let said = lines.get(at + 1).map(|next| next.trim()).unwrap_or_default();
            assert!(!said.is_empty() && !said.starts_with('['), "{args:?}: {line} has no description");
        }
    }
    text
}

#[test]
fn each_command_s_help_lists_only_its_own_options_each_described() {
    // Whether `text` lists `option` (on an option's line, not in a description).
    let lists = |text: &str, option: &str| {
        text.lines()
            .filter(|line| line.trim_start().starts_with('-'))
            .any(|line| line.split([' ', ',']).any(|word| word == option))
    };
    let has = |text: &str, options: &[&str], wanted: bool, what: &str| {
        for option in options {
            assert_eq!(lists(text, option), wanted, "{what}: {option}\n{text}");
        }
    };
    let server =
        ["--bind", "--llm-base-url", "--lease-secs", "--workers", "--max-upload-bytes", "--signup", "--smtp-url"];
    let create = help(&["user", "create"]);
    has(
        &create,
        &["--email", "--username", "--password-stdin", "--admin", "--bcrypt-cost", "--data-dir"],
        true,
        "create",
    );
    has(&create, &["--database-url", "--log", "--verbose"], true, "create");
    has(&create, &server, false, "user create lists no server option");
    has(&create, &["--months-ahead", "--backup-dir"], false, "nor another command's");
    assert!(create.contains("[env: STUDYHALL_BCRYPT_COST=]") && create.contains("[env: DATABASE_URL]"), "{create}");
    has(&help(&["user", "invite"]), &["--email", "--expires-in", "--bind", "--public-url"], true, "invite");
    has(&help(&["serve"]), &server, true, "serve");
    has(&help(&["worker"]), &["--workers", "--lease-secs", "--llm-base-url"], true, "worker");
    let backup = help(&["backup", "create"]);
    has(&backup, &["--keep", "--label", "--backup-dir", "--data-dir"], true, "backup create");
    has(&backup, &["--bcrypt-cost", "--llm-base-url", "--months-ahead"], false, "backup create");
    let maintain = help(&["maintain"]);
    has(&maintain, &["--dry-run", "--months-ahead", "--archive-dir", "--data-dir"], true, "maintain");
    has(&maintain, &["--workers", "--bcrypt-cost", "--backup-dir"], false, "maintain");
    let migrate = help(&["migrate", "down"]);
    has(&migrate, &["--steps", "--all", "--database-url"], true, "migrate down");
    has(&migrate, &["--bcrypt-cost", "--backup-dir", "--months-ahead"], false, "migrate down");
    help(&[]);
}
