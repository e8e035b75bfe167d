//! Tenant isolation by row-level security, at the database: what the request role sees
//! and may write with no user set, and with one user set.

use sqlx::{PgPool, Postgres, Transaction};
use studyhall::config::{DatabaseConfig, PoolConfig};
use studyhall::db::{self, Database};
use uuid::Uuid;

use crate::fixtures::{Learner, learner};
use crate::harness::{TestDb, pool_config, sqlstate};

/// Every table of the public schema that holds users' rows: `users` itself and every
/// table with a `user_id` column or under a material (partitions aside). With
/// `readable`, only those the request role may read; without, only those it may not.
async fn user_owned_tables(pool: &PgPool, readable: bool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            AND (c.relname = 'users' OR EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid
                   AND a.attname IN ('user_id', 'study_material_id') AND NOT a.attisdropped))
            AND has_table_privilege('studyhall_app', c.oid, 'SELECT') = $1
          ORDER BY 1",
    )
    .bind(readable)
    .fetch_all(pool)
    .await
    .expect("list tables")
}

async fn count(tx: &mut Transaction<'static, Postgres>, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&mut **tx)
        .await
        .unwrap_or_else(|err| panic!("count {table}: {err}"))
}

#[tokio::test]
async fn the_request_role_owns_nothing_bypasses_nothing_and_rls_is_forced_everywhere() {
    let db = TestDb::migrated().await;
    let (superuser, bypass, owns): (bool, bool, bool) = sqlx::query_as(
        "SELECT rolsuper, rolbypassrls, EXISTS (SELECT FROM pg_class WHERE relowner = r.oid)
           FROM pg_roles r WHERE rolname = 'studyhall_app'",
    )
    .fetch_one(&db.pool)
    .await
    .expect("the request role exists");
    assert!(!superuser && !bypass && !owns, "studyhall_app: superuser {superuser}, bypassrls {bypass}, owns {owns}");

    let tables = user_owned_tables(&db.pool, true).await;
    assert!(tables.len() >= 10, "all the user-owned tables: {tables:?}");
    for table in &tables {
        let (enabled, forced): (bool, bool) =
            sqlx::query_as("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = $1::regclass")
                .bind(table)
                .fetch_one(&db.pool)
                .await
                .expect("read the table");
        assert!(enabled && forced, "{table}: row-level security enabled ({enabled}) and forced ({forced})");
    }

    // The rest (search indexes) the request role cannot touch at all; only definer
    // functions scoped to the current user read them.
    let requests = db.requests().await;
    for table in user_owned_tables(&db.pool, false).await {
        for statement in [format!("SELECT count(*) FROM {table}"), format!("DELETE FROM {table}")] {
            let result = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone())).execute(&requests).await;
            assert_eq!(sqlstate(result), "42501", "refused: {statement}");
        }
    }
}

#[tokio::test]
async fn with_no_user_set_every_table_reads_empty() {
    let db = TestDb::migrated().await;
    learner(&db.pool, "ann").await;
    learner(&db.pool, "bob").await;
    let requests = db.requests().await;
    let mut tx = requests.begin().await.expect("begin");
    for table in user_owned_tables(&db.pool, true).await {
        assert_eq!(count(&mut tx, &table).await, 0, "{table} as nobody");
    }
}

#[tokio::test]
async fn with_a_user_set_only_their_rows_are_visible_or_writable() {
    let db = TestDb::migrated().await;
    let ann = learner(&db.pool, "ann").await;
    let bob = learner(&db.pool, "bob").await;
    let requests = db.requests().await;
    let tables = user_owned_tables(&db.pool, true).await;

    let mut tx = db::tenant::begin_as(&requests, Some(ann.user_id)).await.expect("begin as ann");
    for table in &tables {
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
            .fetch_one(&db.pool)
            .await
            .expect("count everyone's rows");
        assert!(total >= 2, "{table} holds rows of both users");
        assert_eq!(count(&mut tx, table).await * 2, total, "{table}: ann sees her half");
    }

    // Queries that forgot their WHERE clause reach only ann's rows.
    let titles: Vec<String> = sqlx::query_scalar("UPDATE study_materials SET title = 'mine' RETURNING user_id::text")
        .fetch_all(&mut *tx)
        .await
        .expect("update everything");
    assert_eq!(titles, [ann.user_id.to_string()]);
    let deleted = sqlx::query("DELETE FROM user_feedback").execute(&mut *tx).await.expect("delete everything");
    assert_eq!(deleted.rows_affected(), 1);
    tx.commit().await.expect("commit");
    let bobs_title: String = sqlx::query_scalar("SELECT title FROM study_materials WHERE user_id = $1")
        .bind(bob.user_id)
        .fetch_one(&db.pool)
        .await
        .expect("bob's material");
    assert_eq!(bobs_title, "bob's notes", "bob's rows are untouched");

    // Writing into bob's space is refused outright.
    for (what, statement) in [
        ("a material of bob's", "INSERT INTO study_materials (user_id, title, source_type) VALUES ($1, 'x', 'text')"),
        (
            "a session of bob's",
            "INSERT INTO learning_sessions (user_id, study_material_id, session_type)
                                 SELECT $1, id, 'quiz' FROM study_materials LIMIT 1",
        ),
    ] {
        let mut tx = db::tenant::begin_as(&requests, Some(ann.user_id)).await.expect("begin as ann");
        let result = sqlx::query(statement).bind(bob.user_id).execute(&mut *tx).await;
        assert_eq!(sqlstate(result), "42501", "ann cannot write {what}");
    }
    let mut tx = db::tenant::begin_as(&requests, Some(ann.user_id)).await.expect("begin as ann");
    let chunk_in_bobs_material = sqlx::query(
        "INSERT INTO content_chunks (study_material_id, chunk_order, content, chunk_type) VALUES ($1, 1, 'x', 'paragraph')",
    )
    .bind(bob.material_id)
    .execute(&mut *tx)
    .await;
    assert_eq!(sqlstate(chunk_in_bobs_material), "42501", "ann cannot add to bob's material");
}

#[tokio::test]
async fn views_read_with_the_caller_s_rights_so_row_level_security_still_applies() {
    let db = TestDb::migrated().await;
    let ann = learner(&db.pool, "ann").await;
    let bob = learner(&db.pool, "bob").await;
    let definers: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'v'
            AND NOT coalesce('security_invoker=true' = ANY(c.reloptions), false)",
    )
    .fetch_all(&db.pool)
    .await
    .expect("list views");
    assert!(definers.is_empty(), "views reading with their owner's rights: {definers:?}");

    let requests = db.requests().await;
    let mut nobody = requests.begin().await.expect("begin");
    assert_eq!(count(&mut nobody, "live_study_materials").await, 0, "as nobody");
    let mut tx = db::tenant::begin_as(&requests, Some(ann.user_id)).await.expect("begin as ann");
    let seen: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM live_study_materials").fetch_all(&mut *tx).await.expect("read the view");
    assert_eq!(seen, [ann.material_id], "ann sees her live material, not bob's {}", bob.material_id);
    sqlx::query("UPDATE study_materials SET deleted_at = now()").execute(&mut *tx).await.expect("delete hers");
    assert_eq!(count(&mut tx, "live_study_materials").await, 0, "a deleted material is not live");
}

#[tokio::test]
async fn requests_can_neither_make_an_admin_nor_hard_delete_an_account() {
    let db = TestDb::migrated().await;
    let ann = learner(&db.pool, "ann").await;
    let requests = db.requests().await;
    for statement in [
        "UPDATE users SET is_admin = true",
        "INSERT INTO users (email, username, password_hash, is_admin) VALUES ('x@example.org', 'x', 'x', true)",
        "DELETE FROM users",
    ] {
        let mut tx = db::tenant::begin_as(&requests, Some(ann.user_id)).await.expect("begin as ann");
        let result = sqlx::query(statement).execute(&mut *tx).await;
        assert_eq!(sqlstate(result), "42501", "refused: {statement}");
    }
}

#[tokio::test]
async fn the_request_role_cannot_reach_around_the_policies() {
    let db = TestDb::migrated().await;
    let ann: Learner = learner(&db.pool, "ann").await;
    let requests = db.requests().await;
    let partition: String = sqlx::query_scalar("SELECT tableoid::regclass::text FROM interactions WHERE id = $1")
        .bind(ann.interaction_id)
        .fetch_one(&db.pool)
        .await
        .expect("find the partition");
    for statement in [
        format!("SELECT count(*) FROM {partition}"),
        "SELECT studyhall_create_month_partition('interactions', '2020-01-01')".to_owned(),
        "ALTER TABLE study_materials DISABLE ROW LEVEL SECURITY".to_owned(),
        "SET row_security = off; SELECT count(*) FROM users".to_owned(),
    ] {
        let mut tx = db::tenant::begin_as(&requests, Some(ann.user_id)).await.expect("begin");
        let result = sqlx::raw_sql(sqlx::AssertSqlSafe(statement.clone())).execute(&mut *tx).await;
        assert_eq!(sqlstate(result), "42501", "refused: {statement}");
    }
}

fn database_config(url: String, app_url: Option<String>) -> DatabaseConfig {
    DatabaseConfig {
        database_url: Some(url),
        app_database_url: app_url,
        read_database_url: None,
        read_wait_ms: 100,
        data_dir: "unused".into(),
        pg_bin: None,
        pool: PoolConfig { ..pool_config() },
    }
}

#[tokio::test]
async fn an_operator_s_login_serves_requests_and_a_privileged_one_is_refused() {
    let db = TestDb::migrated().await;
    let login = format!("web_{}", Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE ROLE {login} LOGIN IN ROLE studyhall_app")))
        .execute(&db.pool)
        .await
        .expect("create a login");
    let mut app_url: url::Url = db.url().parse().expect("a URL");
    app_url.set_username(&login).expect("a user name");

    let config = database_config(db.url(), Some(app_url.to_string()));
    let database = Database::open(&config).await.expect("open");
    let requests = database.connect_requests(&config).await.expect("a member of studyhall_app serves");
    let role: String = sqlx::query_scalar("SELECT current_user::text").fetch_one(&requests).await.expect("query");
    assert_eq!(role, login);

    // The owner's own URL given as the request login: refused, it could switch RLS off.
    let config = database_config(db.url(), Some(db.url()));
    let refused = database.connect_requests(&config).await.expect_err("a privileged login is refused");
    assert!(refused.to_string().contains("cannot bypass row-level security"), "{refused}");

    // Given only the owner's URL, requests run as studyhall_app.
    let config = database_config(db.url(), None);
    let requests = database.connect_requests(&config).await.expect("act as the request role");
    let role: String = sqlx::query_scalar("SELECT current_user::text").fetch_one(&requests).await.expect("query");
    assert_eq!(role, "studyhall_app");
}
