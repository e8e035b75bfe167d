//! `studyhall migrate` against a real, empty database, through the binary an operator runs.

use std::process::{Command, Output};

use studyhall::db::migrate::MIGRATOR;

use crate::harness::{TestDb, pg_binaries, studyhall_bin};

/// The versions of the migrations the binary carries, oldest first, as `migrate` prints them.
fn versions() -> Vec<String> {
    MIGRATOR.iter().filter(|m| m.migration_type.is_up_migration()).map(|m| format!("{:04}", m.version)).collect()
}

fn studyhall(db: &TestDb, args: &[&str]) -> Output {
    let output = Command::new(studyhall_bin())
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("STUDYHALL_LOG", "warn")
        .output()
        .expect("run studyhall");
    assert!(output.status.success(), "studyhall {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn schema_dump(db: &TestDb) -> String {
    let output = Command::new(pg_binaries().path("pg_dump"))
        .args(["--schema-only", "--dbname", &db.url()])
        .output()
        .expect("run pg_dump");
    assert!(output.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&output.stderr));
    // Recent pg_dump releases wrap the dump in \restrict KEY ... \unrestrict KEY with a
    // random key per run: not part of the schema.
    stdout(&output)
        .lines()
        .filter(|line| !line.starts_with("\\restrict ") && !line.starts_with("\\unrestrict "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Everything in the database that a migration could have left: tables, views,
/// sequences, types, functions and extensions, outside the system schemas and other
/// than the migration ledger.
async fn leftovers(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT 'relation ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
            AND c.relname NOT LIKE '\\_sqlx\\_migrations%'
         UNION ALL
         SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
            AND t.typname NOT LIKE '%\\_sqlx\\_migrations'
         UNION ALL
         SELECT 'function ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
         UNION ALL
         SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'",
    )
    .fetch_all(&db.pool)
    .await
    .expect("list schema objects")
}

#[tokio::test]
async fn up_down_all_up_gives_an_identical_schema() {
    let db = TestDb::empty().await;
    assert!(stdout(&studyhall(&db, &["migrate", "status"])).lines().all(|line| line.ends_with("pending")));

    let applied = stdout(&studyhall(&db, &["migrate", "up"]));
    let all = versions();
    assert_eq!(applied.trim(), format!("applied {} migration(s): {}", all.len(), all.join(", ")));
    let first = schema_dump(&db);
    assert!(first.contains("CREATE TABLE public.users"), "the dump holds the schema");

    let reverted = stdout(&studyhall(&db, &["migrate", "down", "--all"]));
    let newest_first: Vec<String> = all.iter().rev().cloned().collect();
    assert_eq!(reverted.trim(), format!("reverted {} migration(s): {}", all.len(), newest_first.join(", ")));
    assert_eq!(leftovers(&db).await, Vec::<String>::new(), "down --all leaves nothing of the project");

    studyhall(&db, &["migrate", "up"]);
    let second = schema_dump(&db);
    assert!(first == second, "the schema after up, down --all, up differs from the first");
}

#[tokio::test]
async fn down_steps_reverts_the_newest_and_up_reapplies_them() {
    let db = TestDb::empty().await;
    let all = versions();
    let (kept, undone) = all.split_at(all.len() - 2);
    studyhall(&db, &["migrate", "up"]);
    let reverted = stdout(&studyhall(&db, &["migrate", "down", "--steps", "2"]));
    assert_eq!(reverted.trim(), format!("reverted 2 migration(s): {}, {}", undone[1], undone[0]));

    let status = stdout(&studyhall(&db, &["migrate", "status"]));
    let states: Vec<(String, bool)> = status
        .lines()
        .map(|line| (line.split_whitespace().next().unwrap_or_default().to_owned(), line.ends_with("pending")))
        .collect();
    let expected: Vec<(String, bool)> =
        kept.iter().map(|v| (v.clone(), false)).chain(undone.iter().map(|v| (v.clone(), true))).collect();
    assert_eq!(states, expected, "{status}");

    let again = stdout(&studyhall(&db, &["migrate", "up"]));
    assert_eq!(again.trim(), format!("applied 2 migration(s): {}", undone.join(", ")));
    let down_one = stdout(&studyhall(&db, &["migrate", "down"]));
    assert_eq!(down_one.trim(), format!("reverted 1 migration(s): {}", undone[1]), "down reverts one by default");
    let audit_logs_kept: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('audit_logs')::text").fetch_one(&db.pool).await.expect("query");
    assert_eq!(audit_logs_kept.as_deref(), Some("audit_logs"), "only the newest migration is undone");
}

#[tokio::test]
async fn up_twice_applies_nothing_the_second_time() {
    let db = TestDb::empty().await;
    studyhall(&db, &["migrate", "up"]);
    assert_eq!(stdout(&studyhall(&db, &["migrate", "up"])).trim(), "applied 0 migration(s)");
}

/// A one-off command says nothing on stderr unless something is wrong, or it is asked
/// to (`-v`); its answer is on stdout either way.
#[test]
fn one_off_commands_are_quiet_unless_asked() {
    let dir = crate::harness::scratch_dir();
    let run = |args: &[&str]| {
        let output = Command::new(studyhall_bin())
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("STUDYHALL_LOG")
            .env("STUDYHALL_DATA", dir.path().join("data"))
            .output()
            .expect("run studyhall");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        (stdout(&output), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    // The embedded cluster created, started and stopped: not a word of it.
    let (listed, said) = run(&["migrate", "status"]);
    assert_eq!(said, "", "nothing but warnings and errors");
    assert!(listed.contains(versions().last().expect("a migration")), "{listed}");
    let (_, said) = run(&["-v", "migrate", "status"]);
    assert!(said.contains("INFO") && said.contains("embedded PostgreSQL"), "{said}");
}
