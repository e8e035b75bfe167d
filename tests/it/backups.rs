//! Backups: create, list, verify and restore round trips with identical row counts and
//! checksums; a damaged dump is caught; a database with tables is not restored over.

use studyhall::backup::{self, Keep, Server};

use crate::fixtures::learner;
use crate::harness::{TestDb, pg_binaries, scratch_dir};

fn server(db: &TestDb) -> Server {
    Server { pool: db.pool.clone(), url: db.url(), binaries: pg_binaries().clone(), wal_archive: None }
}

#[tokio::test]
async fn a_backup_verifies_and_restores_with_identical_counts_and_checksums() {
    let db = TestDb::migrated().await;
    learner(&db.pool, "ada").await;
    learner(&db.pool, "bob").await;
    let dir = scratch_dir();
    let (manifest, rotated) = backup::create(&server(&db), dir.path(), Keep::ByRotation).await.expect("a backup");
    assert!(rotated.is_empty());
    assert_eq!(manifest.tables["public.users"].0, 2);
    assert_eq!(manifest.tables["public.interactions"].0, 2);
    assert!(manifest.tables.len() >= 15, "every table: {:?}", manifest.tables.keys());
    let listed = backup::list(dir.path()).expect("a list");
    assert_eq!(listed, [manifest]);
    let manifest = backup::find(dir.path(), "latest").expect("the latest");

    let differences = backup::verify(&server(&db), dir.path(), &manifest).await.expect("verified");
    assert!(differences.is_empty(), "{differences:?}");

    let fresh = TestDb::empty().await;
    let differences = backup::restore(&server(&fresh), dir.path(), &manifest).await.expect("restored");
    assert!(differences.is_empty(), "{differences:?}");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&fresh.pool).await.expect("users");
    assert_eq!(users, 2);
    let mut conn = fresh.pool.acquire().await.expect("a connection");
    assert_eq!(backup::fingerprints(&mut conn).await.expect("fingerprints"), manifest.tables);

    let refused = backup::restore(&server(&db), dir.path(), &manifest).await;
    assert!(refused.is_err(), "a database with tables is not restored over");

    // A damaged dump is caught.
    let path = dir.path().join(&manifest.file);
    let mut bytes = std::fs::read(&path).expect("the dump");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&path, bytes).expect("damage");
    let differences = backup::verify(&server(&db), dir.path(), &manifest).await.expect("checked");
    assert!(differences.iter().any(|d| d.contains("checksum")), "{differences:?}");
}

/// Switches to a new WAL segment and waits until the archiver has copied the one before.
pub async fn archive_current_segment(pool: &sqlx::PgPool, archive: &std::path::Path) {
    let segment: String =
        sqlx::query_scalar("SELECT pg_walfile_name(pg_switch_wal())").fetch_one(pool).await.expect("a switch");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !archive.join(&segment).exists() {
        assert!(std::time::Instant::now() < deadline, "segment {segment} archived");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The embedded cluster, as `studyhall` runs it, in `dir`.
fn embedded(dir: &std::path::Path) -> studyhall::config::DatabaseConfig {
    studyhall::config::DatabaseConfig {
        database_url: None,
        app_database_url: None,
        read_database_url: None,
        read_wait_ms: 100,
        data_dir: dir.to_path_buf(),
        pg_bin: None,
        pool: crate::harness::pool_config(),
    }
}

#[tokio::test]
async fn point_in_time_recovery_restores_to_a_moment_between_two_writes() {
    // Under the temp directory itself: the cluster runs as `postgres` when tests run as root.
    let dir = std::env::temp_dir().join(format!("studyhall_pitr_{}", std::process::id()));
    let backups = dir.join("backups");
    let config = embedded(&dir);
    let db = studyhall::db::Database::open(&config).await.expect("the embedded cluster");
    sqlx::query("CREATE TABLE notes (n integer)").execute(&db.pool).await.expect("a table");
    let server = Server::of(&db, &config).expect("a server");
    let archive = studyhall::db::embedded::wal_archive(&dir);
    let segments = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&archive)
            .expect("the archive")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.len() == 24 && n.chars().all(|c| c.is_ascii_hexdigit()))
            .collect();
        names.sort();
        names
    };
    // A first backup, WAL archived after it, a second backup the same day: rotation keeps
    // both (the first until a later day's backup); deleting the first deletes the WAL
    // before the second's base backup too.
    let (first, _) = backup::create(&server, &backups, Keep::ByRotation).await.expect("a first backup");
    for _ in 0..2 {
        sqlx::query("INSERT INTO notes VALUES (0)").execute(&db.pool).await.expect("a write");
        archive_current_segment(&db.pool, &archive).await;
    }
    let archived_before = segments();
    sqlx::query("DELETE FROM notes").execute(&db.pool).await.expect("clean");
    let (second, rotated) = backup::create(&server, &backups, Keep::ByRotation).await.expect("a second backup");
    assert!(rotated.is_empty(), "the first backup of the day is kept: {rotated:?}");
    let start = second.wal_start.clone().expect("a base backup's start");
    assert!(second.base.is_some(), "a base backup with the dump");
    let older: Vec<&String> = archived_before.iter().filter(|s| **s < start).collect();
    assert!(!older.is_empty(), "there was WAL to prune: {archived_before:?} / {start}");
    assert!(older.iter().all(|s| segments().contains(s)), "the first backup's WAL is kept with it");
    backup::delete(&server, &backups, &first.name).await.expect("the first deleted");
    assert!(segments().iter().all(|s| *s >= start), "WAL before the kept base backup pruned: {:?}", segments());

    sqlx::query("INSERT INTO notes VALUES (1)").execute(&db.pool).await.expect("the first write");
    let between: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT clock_timestamp()").fetch_one(&db.pool).await.expect("a time");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqlx::query("INSERT INTO notes VALUES (2)").execute(&db.pool).await.expect("the second write");
    // The segment holding both writes.
    archive_current_segment(&db.pool, &archive).await;
    db.close().await.expect("stop");

    backup::pitr::prepare(&dir, &backups, between).expect("recovery prepared");
    let db = studyhall::db::Database::open(&config).await.expect("recovered");
    let notes: Vec<i32> =
        sqlx::query_scalar("SELECT n FROM notes ORDER BY n").fetch_all(&db.pool).await.expect("notes");
    assert_eq!(notes, [1], "only the write before the target time");
    sqlx::query("INSERT INTO notes VALUES (3)").execute(&db.pool).await.expect("writable after recovery");
    db.close().await.expect("stop");
    let _ = std::fs::remove_dir_all(&dir);
}
