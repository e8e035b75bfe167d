//! The migrated schema against the specification (docs/spec/database-schema.md), read
//! table by table from the spec itself: columns, types, nullability, defaults, unique
//! keys, primary keys, foreign keys, checks and indexes. The only differences allowed
//! are the deviations docs/schema.md documents, spelled out here.

use sqlx::PgPool;
use studyhall::states::{
    AssetStatus, AssetType, FeedbackType, InteractionType, JobState, MaterialStatus, ReviewState, SessionStatus,
    SessionType,
};

use crate::harness::TestDb;

const SPEC: &str = include_str!("../../docs/spec/database-schema.md");

/// Tables partitioned by month, with their partition key (docs/schema.md).
const PARTITIONED: [(&str, &str); 3] =
    [("audit_logs", "created_at"), ("interactions", "created_at"), ("progress_metrics", "recorded_at")];

/// Columns added to the spec's tables (docs/schema.md): table, column, type.
const ADDED_COLUMNS: [(&str, &str, &str); 3] = [
    ("user_feedback", "interaction_created_at", "timestamp with time zone"),
    ("users", "is_admin", "boolean"),
    ("study_materials", "search_vector", "tsvector"),
];

/// CHECK constraints of the text columns whose values only the code names (migrations
/// 0007 and 0016 for the two columns the schema added, 0021 for the spec's, docs/schema.md):
/// table, column, and the enum of src/states.rs it holds them to.
fn typed_states() -> [(&'static str, &'static str, Vec<&'static str>); 9] {
    fn values<T: Copy + Into<&'static str>>(all: &[T]) -> Vec<&'static str> {
        all.iter().map(|value| (*value).into()).collect()
    }
    [
        ("study_materials", "status", values(MaterialStatus::ALL)),
        ("generated_assets", "asset_type", values(AssetType::ALL)),
        ("generated_assets", "status", values(AssetStatus::ALL)),
        ("learning_sessions", "session_type", values(SessionType::ALL)),
        ("learning_sessions", "status", values(SessionStatus::ALL)),
        ("interactions", "interaction_type", values(InteractionType::ALL)),
        ("user_feedback", "feedback_type", values(FeedbackType::ALL)),
        ("jobs", "status", values(JobState::ALL)),
        ("review_states", "state", values(ReviewState::ALL)),
    ]
}

struct SpecTable {
    name: String,
    columns: Vec<SpecColumn>,
    indexes: Vec<SpecIndex>,
}

struct SpecColumn {
    name: String,
    sql_type: String,
    constraints: String,
}

struct SpecIndex {
    name: String,
    columns: Vec<String>,
    gin: bool,
}

/// The "Table Definitions" section of the spec: each `### table`, its column table and
/// its `**Indexes**` list.
fn spec_tables() -> Vec<SpecTable> {
    let definitions = SPEC
        .split("## Table Definitions")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the spec has a Table Definitions section");
    definitions
        .split("\n### ")
        .skip(1)
        .map(|section| {
            let name = section.lines().next().expect("a table name").trim().to_owned();
            let columns = section
                .lines()
                .filter(|line| line.starts_with('|'))
                .map(|line| line.split('|').map(str::trim).collect::<Vec<_>>())
                .filter(|cells| cells.len() >= 5 && cells[1] != "Column" && !cells[1].starts_with('-'))
                .map(|cells| SpecColumn {
                    name: cells[1].to_owned(),
                    sql_type: cells[2].to_owned(),
                    constraints: cells[3].to_owned(),
                })
                .collect();
            let indexes = section
                .lines()
                .filter_map(|line| line.trim().strip_prefix("- `"))
                .map(|item| {
                    let (name, rest) = item.split_once('`').expect("an index name in backquotes");
                    let columns = rest
                        .split_once('(')
                        .and_then(|(_, cols)| cols.split_once(')'))
                        .map(|(cols, _)| cols.split(',').map(|c| c.trim().to_owned()).collect())
                        .expect("index columns in parentheses");
                    SpecIndex { name: name.to_owned(), columns, gin: rest.contains("GIN") }
                })
                .collect();
            SpecTable { name, columns, indexes }
        })
        .collect()
}

/// The catalog's spelling (`format_type`) of a spec type; `timestamp` becomes
/// `timestamptz`, as docs/schema.md explains.
fn catalog_type(spec_type: &str) -> String {
    match spec_type {
        "timestamp" => "timestamp with time zone".to_owned(),
        "float" => "double precision".to_owned(),
        other => match other.strip_prefix("varchar") {
            Some(length) => format!("character varying{length}"),
            None => other.to_owned(),
        },
    }
}

/// The catalog's spelling (`pg_get_expr`) of a spec DEFAULT; primary keys default to
/// uuid_generate_v4() (docs/schema.md).
fn catalog_default(column: &SpecColumn) -> Option<String> {
    if column.constraints.contains("PRIMARY KEY") {
        return Some("uuid_generate_v4()".to_owned());
    }
    let value = column.constraints.split("DEFAULT ").nth(1)?.split_whitespace().next()?;
    Some(match value {
        "NOW()" => "now()".to_owned(),
        // The catalog casts a literal to the bare type: 'x'::character varying.
        quoted if quoted.starts_with('\'') => {
            let bare_type = catalog_type(&column.sql_type);
            format!("{quoted}::{}", bare_type.split('(').next().unwrap_or(&bare_type))
        }
        literal => literal.to_owned(),
    })
}

#[derive(sqlx::FromRow, Debug)]
struct CatalogColumn {
    name: String,
    sql_type: String,
    not_null: bool,
    default: Option<String>,
}

async fn catalog_columns(pool: &PgPool, table: &str) -> Vec<CatalogColumn> {
    sqlx::query_as(
        "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS sql_type,
                a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
           FROM pg_attribute a
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .expect("read the columns")
}

/// Constraints of `table` of one kind (`p`, `u`, `f`, `c`): their column lists, the
/// referenced table and columns for foreign keys, and their definition.
async fn constraints(
    pool: &PgPool,
    table: &str,
    kind: &str,
) -> Vec<(Vec<String>, Option<String>, Vec<String>, String)> {
    sqlx::query_as(
        "SELECT ARRAY(SELECT attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                        JOIN pg_attribute ON attrelid = c.conrelid AND attnum = k.n ORDER BY k.i),
                c.confrelid::regclass::text,
                ARRAY(SELECT attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                        JOIN pg_attribute ON attrelid = c.confrelid AND attnum = k.n ORDER BY k.i),
                pg_get_constraintdef(c.oid)
           FROM pg_constraint c
          WHERE c.conrelid = $1::regclass AND c.contype = $2::\"char\"
            -- only the table's own: not the copies PostgreSQL makes per partition
            AND c.conparentid = 0",
    )
    .bind(table)
    .bind(kind)
    .fetch_all(pool)
    .await
    .expect("read the constraints")
    .into_iter()
    .map(|(columns, referenced, referenced_columns, definition): (Vec<String>, Option<String>, Vec<String>, String)| {
        (columns, referenced.filter(|r| r != "-"), referenced_columns, definition)
    })
    .collect()
}

#[tokio::test]
async fn every_spec_table_matches_column_by_column() {
    let db = TestDb::migrated().await;
    let tables = spec_tables();
    assert_eq!(
        tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        [
            "users",
            "study_materials",
            "content_chunks",
            "generated_assets",
            "learning_sessions",
            "interactions",
            "user_feedback",
            "progress_metrics",
            "audit_logs"
        ],
        "the spec defines nine tables"
    );

    for table in &tables {
        let columns = catalog_columns(&db.pool, &table.name).await;
        let expected_names: Vec<&str> = table
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .chain(ADDED_COLUMNS.iter().filter(|(t, ..)| *t == table.name).map(|(_, c, _)| *c))
            .collect();
        let mut actual_names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let mut sorted_expected = expected_names.clone();
        actual_names.sort_unstable();
        sorted_expected.sort_unstable();
        assert_eq!(actual_names, sorted_expected, "{}: the spec's columns and no others", table.name);

        for spec in &table.columns {
            let actual = columns.iter().find(|c| c.name == spec.name).expect("the column exists");
            let what = format!("{}.{}", table.name, spec.name);
            assert_eq!(actual.sql_type, catalog_type(&spec.sql_type), "{what}: type");
            let not_null = spec.constraints.contains("NOT NULL") || spec.constraints.contains("PRIMARY KEY");
            assert_eq!(actual.not_null, not_null, "{what}: NOT NULL");
            assert_eq!(actual.default, catalog_default(spec), "{what}: DEFAULT");
        }
        for (table_name, column, sql_type) in ADDED_COLUMNS.iter().filter(|(t, ..)| *t == table.name) {
            let actual = columns.iter().find(|c| c.name == *column).expect("the added column exists");
            assert_eq!(actual.sql_type, *sql_type, "{table_name}.{column}: type");
        }
    }
}

#[tokio::test]
async fn keys_references_and_checks_match_the_spec() {
    let db = TestDb::migrated().await;
    for table in spec_tables() {
        let partition_key = PARTITIONED.iter().find(|(t, _)| *t == table.name).map(|(_, key)| *key);
        let primary = constraints(&db.pool, &table.name, "p").await;
        let unique = constraints(&db.pool, &table.name, "u").await;
        let foreign = constraints(&db.pool, &table.name, "f").await;
        let typed = typed_states();
        let checks: Vec<_> = constraints(&db.pool, &table.name, "c")
            .await
            .into_iter()
            .filter(|c| !typed.iter().any(|(t, column, _)| *t == table.name && c.0 == [*column]))
            .collect();

        let mut expected_unique = Vec::new();
        let mut expected_foreign = Vec::new();
        let mut expected_checks = Vec::new();
        for column in &table.columns {
            let what = format!("{}.{}", table.name, column.name);
            if column.constraints.contains("PRIMARY KEY") {
                // Partitioned tables: the key includes the partition key (docs/schema.md).
                let expected: Vec<String> =
                    std::iter::once(column.name.clone()).chain(partition_key.map(str::to_owned)).collect();
                assert_eq!(primary.len(), 1, "{what}: one primary key");
                assert_eq!(primary[0].0, expected, "{what}: primary key columns");
            }
            if column.constraints.contains("UNIQUE") {
                expected_unique.push(vec![column.name.clone()]);
            }
            if let Some(target) = column.constraints.split("REFERENCES ").nth(1) {
                let (referenced, referenced_column) =
                    target.trim().trim_end_matches(')').split_once('(').expect("table(column)");
                expected_foreign.push((column.name.clone(), referenced.to_owned(), referenced_column.to_owned()));
            }
            if let Some(check) = column.constraints.split("CHECK ").nth(1) {
                expected_checks.push(check.to_owned());
            }
        }

        assert_eq!(unique.iter().map(|u| u.0.clone()).collect::<Vec<_>>(), expected_unique, "{}: UNIQUE", table.name);

        assert_eq!(foreign.len(), expected_foreign.len(), "{}: one foreign key per REFERENCES", table.name);
        for (column, referenced, referenced_column) in expected_foreign {
            let fk = foreign
                .iter()
                .find(|fk| fk.0[0] == column)
                .unwrap_or_else(|| panic!("{}.{column}: a foreign key", table.name));
            assert_eq!(fk.1.as_deref(), Some(referenced.as_str()), "{}.{column}: referenced table", table.name);
            assert_eq!(fk.2[0], referenced_column, "{}.{column}: referenced column", table.name);
        }

        // Compare checks with parentheses and spaces folded: pg_get_constraintdef adds both.
        let fold = |s: &str| s.chars().filter(|c| !matches!(c, '(' | ')' | ' ')).collect::<String>();
        let mut actual_checks: Vec<String> = checks.iter().map(|c| fold(c.3.trim_start_matches("CHECK "))).collect();
        let mut expected_checks: Vec<String> = expected_checks.iter().map(|c| fold(c)).collect();
        actual_checks.sort();
        expected_checks.sort();
        assert_eq!(actual_checks, expected_checks, "{}: CHECK constraints", table.name);
    }
}

#[tokio::test]
async fn typed_states_are_held_to_their_values() {
    let db = TestDb::migrated().await;
    for (table, column, values) in typed_states() {
        let checks = constraints(&db.pool, table, "c").await;
        let check = checks.iter().find(|c| c.0 == [column]).unwrap_or_else(|| panic!("{table}.{column}: a CHECK"));
        // CHECK (((status)::text = ANY ((ARRAY['processing'::character varying, ...])::text[])))
        let allowed: Vec<&str> = check.3.split('\'').skip(1).step_by(2).collect();
        assert_eq!(allowed, values, "{table}.{column}: the values of its enum, in its order");
    }
}

/// The newest-first lists' page condition is one SQL function (0026), which the planner
/// must inline, so that it is the row comparison the lists' indexes serve.
#[tokio::test]
async fn the_keyset_page_condition_is_inlined() {
    let db = TestDb::migrated().await;
    let plan: Vec<String> = sqlx::query_scalar(
        "EXPLAIN SELECT id FROM learning_sessions
          WHERE studyhall_older_than(started_at, id, now(), gen_random_uuid())
          ORDER BY started_at DESC, id DESC LIMIT 20",
    )
    .fetch_all(&db.pool)
    .await
    .expect("a plan");
    let plan = plan.join("\n");
    assert!(!plan.contains("studyhall_older_than") && plan.contains("ROW(started_at, id) <"), "{plan}");
}

#[tokio::test]
async fn feedback_references_interactions_by_a_real_composite_key() {
    let db = TestDb::migrated().await;
    let foreign = constraints(&db.pool, "user_feedback", "f").await;
    let fk = foreign.iter().find(|fk| fk.0[0] == "interaction_id").expect("the interaction foreign key");
    assert_eq!(fk.0, ["interaction_id", "interaction_created_at"]);
    assert_eq!(fk.1.as_deref(), Some("interactions"));
    assert_eq!(fk.2, ["id", "created_at"]);
    assert!(fk.3.contains("MATCH FULL"), "half a reference is refused: {}", fk.3);
}

#[tokio::test]
async fn every_spec_index_exists_with_its_columns_and_method() {
    let db = TestDb::migrated().await;
    for table in spec_tables() {
        for index in &table.indexes {
            let found: Option<(String, String, Vec<String>)> = sqlx::query_as(
                "SELECT t.relname::text, am.amname::text,
                        ARRAY(SELECT attname::text FROM unnest(x.indkey) WITH ORDINALITY k(n, o)
                                JOIN pg_attribute ON attrelid = x.indrelid AND attnum = k.n ORDER BY k.o)
                   FROM pg_class i
                   JOIN pg_index x ON x.indexrelid = i.oid
                   JOIN pg_class t ON t.oid = x.indrelid
                   JOIN pg_am am ON am.oid = i.relam
                  WHERE i.relname = $1",
            )
            .bind(&index.name)
            .fetch_optional(&db.pool)
            .await
            .expect("read the index");
            let (on_table, method, columns) = found.unwrap_or_else(|| panic!("index {} exists", index.name));
            assert_eq!(on_table, table.name, "{}: table", index.name);
            assert_eq!(columns, index.columns, "{}: columns", index.name);
            assert_eq!(method, if index.gin { "gin" } else { "btree" }, "{}: method", index.name);
        }
    }
}

#[tokio::test]
async fn partitioned_by_month_with_the_current_month_and_three_ahead() {
    let db = TestDb::migrated().await;
    for (table, key) in PARTITIONED {
        let (strategy, column): (String, String) = sqlx::query_as(
            "SELECT p.partstrat::text, a.attname::text FROM pg_partitioned_table p
               JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
              WHERE p.partrelid = $1::regclass",
        )
        .bind(table)
        .fetch_one(&db.pool)
        .await
        .unwrap_or_else(|_| panic!("{table} is partitioned"));
        assert_eq!((strategy.as_str(), column.as_str()), ("r", key), "{table}: range partitioned on {key}");

        let partitions: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = $1::regclass ORDER BY 1",
        )
        .bind(table)
        .fetch_all(&db.pool)
        .await
        .expect("list partitions");
        let expected_months: Vec<String> = sqlx::query_scalar(
            "SELECT $1 || to_char(m, '\"_y\"YYYY\"m\"MM')
               FROM generate_series(date_trunc('month', now() AT TIME ZONE 'UTC'),
                                    date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months',
                                    interval '1 month') m",
        )
        .bind(table)
        .fetch_all(&db.pool)
        .await
        .expect("compute months");
        for month in &expected_months {
            assert!(partitions.contains(month), "{table}: partition {month} in {partitions:?}");
        }
        assert!(partitions.contains(&format!("{table}_default")), "{table}: a DEFAULT partition");
    }
}

#[tokio::test]
async fn extensions_encoding_and_time_zone_are_the_spec_s() {
    let db = TestDb::migrated().await;
    let extensions: Vec<String> = sqlx::query_scalar(
        "SELECT extname::text FROM pg_extension WHERE extname IN ('uuid-ossp', 'pg_trgm') ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .expect("list extensions");
    assert_eq!(extensions, ["pg_trgm", "uuid-ossp"]);
    let (encoding, timezone): (String, String) =
        sqlx::query_as("SELECT pg_encoding_to_char(encoding)::text, current_setting('TimeZone') FROM pg_database WHERE datname = current_database()")
            .fetch_one(&db.pool)
            .await
            .expect("read the database settings");
    assert_eq!((encoding.as_str(), timezone.as_str()), ("UTF8", "UTC"));
}

#[tokio::test]
async fn updated_at_follows_every_update() {
    let db = TestDb::migrated().await;
    let before: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
        "INSERT INTO users (email, username, password_hash, updated_at)
         VALUES ('t@example.org', 'touch', 'x', now() - interval '1 day') RETURNING updated_at",
    )
    .fetch_one(&db.pool)
    .await
    .expect("insert a user");
    let touched: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("UPDATE users SET first_name = 'Ada' WHERE username = 'touch' RETURNING updated_at")
            .fetch_one(&db.pool)
            .await
            .expect("update the user");
    assert!(touched > before, "updated_at moved forward from {before} to {touched}");
}
