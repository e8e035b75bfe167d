//! The job queue: claims, leases, retries with backoff, giving up, and a worker killed
//! with SIGKILL in the middle of a job.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;
use studyhall::jobs::{self, Job};
use uuid::Uuid;

use crate::fixtures::learner;
use crate::harness::{TestDb, studyhall_bin};
use crate::materials::ARTICLE;

const LEASE: Duration = Duration::from_secs(60);

async fn enqueue(db: &TestDb, user: Uuid, max_attempts: u32) -> Uuid {
    let mut conn = db.pool.acquire().await.expect("a connection");
    jobs::enqueue(&mut conn, "test_job", user, json!({}), max_attempts).await.expect("enqueue")
}

async fn state_of(pool: &PgPool, job: Uuid) -> (String, i32) {
    sqlx::query_as("SELECT status, attempts FROM jobs WHERE id = $1").bind(job).fetch_one(pool).await.expect("the job")
}

/// Makes every queued job due now, as if its backoff had passed.
async fn time_passes(pool: &PgPool) {
    sqlx::query("UPDATE jobs SET run_at = now() WHERE status = 'queued'").execute(pool).await.expect("time travel");
}

#[tokio::test]
async fn failed_attempts_back_off_and_the_last_one_fails_the_job() {
    let db = TestDb::migrated().await;
    let ann = learner(&db.pool, "ann").await;
    let id = enqueue(&db, ann.user_id, 2).await;

    let job: Job = jobs::claim(&db.pool, "w1", LEASE, 10).await.expect("claim").expect("a job");
    assert_eq!((job.id, job.attempts), (id, 1));
    assert!(
        jobs::claim(&db.pool, "w2", LEASE, 10).await.expect("claim").is_none(),
        "a claimed job is not handed out twice"
    );

    jobs::record_failure(&db.pool, &job, "boom", "It broke.", Duration::from_secs(30)).await.expect("record");
    assert_eq!(state_of(&db.pool, id).await, ("queued".to_owned(), 1));
    let delay: f64 = sqlx::query_scalar("SELECT extract(epoch FROM run_at - now())::float8 FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .expect("run_at");
    assert!((25.0..=30.0).contains(&delay), "retried after the backoff: {delay}");
    assert!(jobs::claim(&db.pool, "w1", LEASE, 10).await.expect("claim").is_none(), "not before its time");

    time_passes(&db.pool).await;
    let again = jobs::claim(&db.pool, "w1", LEASE, 10).await.expect("claim").expect("the retry");
    assert!(again.is_last_attempt());
    jobs::record_failure(&db.pool, &again, "boom again", "It broke again.", Duration::from_secs(30))
        .await
        .expect("record");
    assert_eq!(state_of(&db.pool, id).await, ("failed".to_owned(), 2));
    time_passes(&db.pool).await;
    assert!(jobs::claim(&db.pool, "w1", LEASE, 10).await.expect("claim").is_none(), "a failed job stays failed");
}

#[tokio::test]
async fn a_job_whose_lease_ran_out_is_claimed_again_or_given_up_when_spent() {
    let db = TestDb::migrated().await;
    let ann = learner(&db.pool, "ann").await;
    let retried = enqueue(&db, ann.user_id, 3).await;
    let spent = enqueue(&db, ann.user_id, 1).await;
    // Both are claimed by a worker that then vanishes.
    jobs::claim(&db.pool, "dead", LEASE, 10).await.expect("claim").expect("a job");
    jobs::claim(&db.pool, "dead", LEASE, 10).await.expect("claim").expect("a job");
    assert!(jobs::claim(&db.pool, "alive", LEASE, 10).await.expect("claim").is_none(), "leased jobs are left alone");

    sqlx::query("UPDATE jobs SET locked_until = now() - interval '1 second'").execute(&db.pool).await.expect("expire");
    let abandoned = jobs::abandon_exhausted(&db.pool).await.expect("abandon");
    assert_eq!(abandoned.iter().map(|j| j.id).collect::<Vec<_>>(), [spent], "the one with no attempts left");
    assert_eq!(state_of(&db.pool, spent).await, ("failed".to_owned(), 1));

    let reclaimed = jobs::claim(&db.pool, "alive", LEASE, 10).await.expect("claim").expect("the other");
    assert_eq!((reclaimed.id, reclaimed.attempts), (retried, 2));
    assert!(jobs::extend_lease(&db.pool, retried, "alive", LEASE).await.expect("extend"));
    assert!(!jobs::extend_lease(&db.pool, retried, "dead", LEASE).await.expect("extend"), "the old holder lost it");
    jobs::complete(&db.pool, retried, None).await.expect("complete");
    assert_eq!(state_of(&db.pool, retried).await, ("done".to_owned(), 2));
}

#[tokio::test]
async fn a_learner_with_a_job_running_waits_while_others_are_served() {
    let db = TestDb::migrated().await;
    let (ann, bob) = (learner(&db.pool, "ann").await, learner(&db.pool, "bob").await);
    let first = enqueue(&db, ann.user_id, 3).await;
    let second = enqueue(&db, ann.user_id, 3).await;
    let bobs = enqueue(&db, bob.user_id, 3).await;
    let claimed = |worker: &'static str| {
        let pool = db.pool.clone();
        async move { jobs::claim(&pool, worker, LEASE, 1).await.expect("claim").map(|job| job.id) }
    };
    assert_eq!(claimed("w1").await, Some(first), "the oldest first");
    assert_eq!(claimed("w2").await, Some(bobs), "then another learner's, though ann's second is older");
    assert_eq!(claimed("w3").await, None, "ann's second waits for her first");
    jobs::complete(&db.pool, first, None).await.expect("complete");
    assert_eq!(claimed("w3").await, Some(second));
}

#[tokio::test]
async fn workers_claiming_at_once_give_a_learner_one_job_at_a_time() {
    let db = TestDb::migrated().await;
    let ann = learner(&db.pool, "ann").await;
    for _ in 0..8 {
        enqueue(&db, ann.user_id, 3).await;
    }
    // Eight idle workers ask at the same moment, each on its own connection.
    let claims = (0..8).map(|n| {
        let pool = db.pool.clone();
        async move { jobs::claim(&pool, &format!("w{n}"), LEASE, 1).await.expect("claim") }
    });
    let claimed = futures_util::future::join_all(claims).await.into_iter().flatten().count();
    assert_eq!(claimed, 1, "one of ann's jobs runs; the others wait for it");
}

#[tokio::test]
async fn a_restarted_node_resumes_the_jobs_its_dead_process_held_at_once() {
    let db = TestDb::migrated().await;
    let ann = learner(&db.pool, "ann").await;
    let orphaned = enqueue(&db, ann.user_id, 3).await;
    let alive = enqueue(&db, ann.user_id, 3).await;
    let elsewhere = enqueue(&db, ann.user_id, 3).await;
    for (job, holder) in [(orphaned, "node-a-41-0"), (alive, "node-a-42-1"), (elsewhere, "node-b-41-0")] {
        sqlx::query(
            "UPDATE jobs SET status = 'running', attempts = 1, locked_by = $2, locked_until = now() + interval '1 hour'
              WHERE id = $1",
        )
        .bind(job)
        .bind(holder)
        .execute(&db.pool)
        .await
        .expect("a held job");
    }
    // On node-a, process 41 is gone and 42 runs; node-b's jobs are none of node-a's business.
    let released = jobs::release_dead(&db.pool, "node-a", |pid| pid == 42).await.expect("release");
    assert_eq!(released, 1);
    let job = jobs::claim(&db.pool, "node-a-43-0", LEASE, 10).await.expect("claim").expect("the orphan");
    assert_eq!((job.id, job.attempts), (orphaned, 2), "resumed without waiting for its lease");
    assert!(jobs::claim(&db.pool, "node-a-43-1", LEASE, 10).await.expect("claim").is_none(), "the rest stay held");
}

/// `studyhall worker` on the database at `url`, with a short lease.
pub fn worker(url: &str) -> Child {
    Command::new(studyhall_bin())
        .arg("worker")
        .env("DATABASE_URL", url)
        .env("STUDYHALL_WORKERS", "1")
        .env("STUDYHALL_JOB_LEASE_SECS", "2")
        .env("STUDYHALL_JOB_POLL_SECS", "1")
        .env("STUDYHALL_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a worker")
}

async fn wait_for(pool: &PgPool, what: &str, query: &'static str, id: Uuid) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !sqlx::query_scalar::<_, bool>(query).bind(id).fetch_one(pool).await.expect("poll") {
        assert!(Instant::now() < deadline, "waited too long for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_worker_killed_mid_job_leaves_it_to_the_next_and_the_material_ends_ready() {
    let db = TestDb::migrated().await;
    let ann = learner(&db.pool, "ann").await;
    // A material large enough that ingestion takes a while.
    let text = ARTICLE.repeat(400);
    let material: Uuid = sqlx::query_scalar(
        "WITH m AS (INSERT INTO study_materials (user_id, title, source_type) VALUES ($1, 'Big', 'text') RETURNING id),
              s AS (INSERT INTO material_sources (study_material_id, user_id, media_type, content)
                    SELECT id, $1, 'text/markdown', convert_to($2, 'UTF8') FROM m),
              j AS (INSERT INTO jobs (kind, user_id, payload, max_attempts)
                    SELECT 'ingest_material', $1, jsonb_build_object('material_id', id), 3 FROM m)
         SELECT id FROM m",
    )
    .bind(ann.user_id)
    .bind(&text)
    .fetch_one(&db.pool)
    .await
    .expect("a big material");
    let running = "SELECT EXISTS (SELECT FROM jobs WHERE payload->>'material_id' = $1::text AND status = 'running')";

    let mut first = worker(&db.url());
    wait_for(&db.pool, "the first worker to claim the job", running, material).await;
    first.kill().expect("SIGKILL the worker"); // Child::kill sends SIGKILL
    first.wait().expect("reap the worker");
    let status: String = sqlx::query_scalar("SELECT status FROM study_materials WHERE id = $1")
        .bind(material)
        .fetch_one(&db.pool)
        .await
        .expect("the material");
    assert_eq!(status, "processing", "killed mid-job");

    let mut second = worker(&db.url());
    let ready = "SELECT EXISTS (SELECT FROM study_materials WHERE id = $1 AND status = 'ready')";
    wait_for(&db.pool, "the material to be ready", ready, material).await;
    let _ = second.kill();
    let _ = second.wait();
    let (status, attempts): (String, i32) =
        sqlx::query_as("SELECT status, attempts FROM jobs WHERE payload->>'material_id' = $1::text")
            .bind(material)
            .fetch_one(&db.pool)
            .await
            .expect("the job");
    assert_eq!(attempts, 2, "claimed again after the lease ran out");
    assert!(status == "done" || status == "running", "{status}");
    let chunks: i64 = sqlx::query_scalar("SELECT count(*) FROM content_chunks WHERE study_material_id = $1")
        .bind(material)
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert!(chunks > 100, "{chunks} chunks");
}
