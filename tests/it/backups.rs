//! Backups: create, list, verify and restore round trips with identical row counts and
//! checksums; a damaged dump is caught; a database with tables is not restored over.

use studyhall::backup::{self, Server};

use crate::fixtures::learner;
use crate::harness::{TestDb, pg_binaries, scratch_dir};

fn server(db: &TestDb) -> Server {
    Server { pool: db.pool.clone(), url: db.url(), binaries: pg_binaries().clone() }
}

#[tokio::test]
async fn a_backup_verifies_and_restores_with_identical_counts_and_checksums() {
    let db = TestDb::migrated().await;
    learner(&db.pool, "ada").await;
    learner(&db.pool, "bob").await;
    let dir = scratch_dir();
    let (manifest, rotated) = backup::create(&server(&db), dir.path()).await.expect("a backup");
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
