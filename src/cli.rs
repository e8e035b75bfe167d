//! The command line: `studyhall serve | worker | migrate | maintain | backup | user`. The one-off
//! commands run beside a running `serve` (see [`Database::open_beside_server`]).

use clap::{Parser, Subcommand};

use crate::accounts::cli::UserAction;
use crate::backup::Keep;
use crate::config::{AccountConfig, BackupConfig, DatabaseConfig, LogConfig, MaintainConfig, ServeConfig, Settings};
use crate::db::Database;
use crate::db::migrate::{self, Down, MigrationState};
use crate::error::Result;
use crate::root;
use crate::states::UpkeepKind;
use crate::upkeep::{self, Run};

#[derive(Parser)]
#[command(name = "studyhall", version, about = "A self-hostable learning platform on PostgreSQL")]
pub struct Cli {
    #[command(flatten, next_help_heading = "Logging")]
    pub log: LogConfig,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the HTTP API and run job workers (with the embedded database unless
    /// DATABASE_URL is set).
    Serve {
        #[command(flatten)]
        serve: ServeConfig,
        #[command(flatten)]
        settings: Settings,
    },
    /// Run job workers only (ingestion, generation), for more throughput on more machines.
    Worker {
        #[command(flatten)]
        settings: Settings,
    },
    /// Apply, revert or list the database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
        #[command(flatten, next_help_heading = "Database")]
        database: DatabaseConfig,
    },
    /// Premake partitions and apply the retention policy: archive, aggregate, drop.
    Maintain {
        /// Print what would be done and change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten, next_help_heading = "Maintenance")]
        maintain: MaintainConfig,
        #[command(flatten, next_help_heading = "Database")]
        database: DatabaseConfig,
    },
    /// Create, list, verify or restore backups (in STUDYHALL_BACKUP_DIR).
    Backup {
        #[command(subcommand)]
        action: BackupAction,
        #[command(flatten, next_help_heading = "Backups")]
        backups: BackupConfig,
        #[command(flatten, next_help_heading = "Database")]
        database: DatabaseConfig,
    },
    /// Create, promote or deactivate accounts; invite people; reset passwords.
    User {
        #[command(subcommand)]
        action: UserAction,
        #[command(flatten, next_help_heading = "Accounts")]
        account: AccountConfig,
        #[command(flatten, next_help_heading = "Database")]
        database: DatabaseConfig,
    },
    /// Read one document from stdin under limits (run by studyhall itself).
    #[command(hide = true)]
    Extract(crate::materials::sandbox::ExtractArgs),
}

#[derive(Subcommand)]
pub enum BackupAction {
    /// Dump the database (pg_dump, custom format) with a manifest of every table's rows
    /// and checksum, and a base backup for point-in-time recovery (embedded cluster); then
    /// drop backups the rotation no longer keeps. Works beside a running `serve`.
    Create {
        /// Keep this backup until `backup delete` removes it: rotation leaves it alone.
        #[arg(long)]
        keep: bool,
        /// Name the backup (say, "before the upgrade"); a labelled backup is kept as --keep is.
        #[arg(long, value_name = "NAME")]
        label: Option<String>,
    },
    /// List the backups, oldest first, with the rule that keeps each.
    List,
    /// Delete the backups rotation no longer keeps (with --dry-run, only name them).
    Prune {
        /// Name what would be deleted and delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete one backup, kept or not.
    Delete {
        /// The backup's name, as `backup list` shows it.
        name: String,
    },
    /// Restore a backup into a scratch database and compare every table with its manifest.
    Verify {
        /// A backup's name, or `latest`.
        #[arg(default_value = "latest")]
        name: String,
    },
    /// Restore a backup into the database, which must be empty, and check it; or, with
    /// --to-time, recover the embedded cluster to that moment (base backup + archived WAL).
    /// Both need studyhall stopped.
    Restore {
        /// A backup's name, or `latest`.
        #[arg(required_unless_present = "to_time")]
        name: Option<String>,
        /// Recover the embedded cluster (stopped) to this time (RFC 3339).
        #[arg(long, conflicts_with = "name")]
        to_time: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[derive(Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert the newest migration, or several.
    Down {
        /// How many migrations to revert, newest first.
        #[arg(long, default_value_t = 1, conflicts_with = "all")]
        steps: usize,
        /// Revert every migration.
        #[arg(long)]
        all: bool,
    },
    /// List every migration and whether it is applied.
    Status,
}

impl Cli {
    pub async fn run(self) -> Result<()> {
        match self.command {
            Command::Serve { serve, settings } => root::serve(&settings, &serve).await,
            Command::Worker { settings } => root::work(&settings).await,
            Command::Migrate { action, database } => {
                beside_server(&database, async |db| run_migrate(db, action).await).await
            }
            Command::Maintain { dry_run, maintain, database } => {
                beside_server(&database, async |db| {
                    db.migrate_on_start(false).await?;
                    let started = chrono::Utc::now();
                    let result = crate::maintain::run(&db.pool, &maintain, dry_run).await;
                    if !dry_run {
                        let summary = result.as_ref().map(|(_, report)| report.summary());
                        let run = Run::ended(UpkeepKind::Maintenance, upkeep::command_line(), started, summary, None);
                        upkeep::record(&db.pool, &run).await;
                    }
                    let (plan, report) = result?;
                    if plan.actions.is_empty() {
                        println!("nothing to do");
                    } else if dry_run {
                        plan.actions.iter().for_each(|action| println!("would {action}"));
                    } else {
                        report.done.iter().for_each(|(action, rows)| println!("did {action}: {rows} row(s)"));
                    }
                    Ok(())
                })
                .await
            }
            Command::Backup { action: BackupAction::Restore { to_time: Some(target), .. }, backups, database } => {
                if database.database_url.is_some() {
                    return Err(crate::error::Error::Config(
                        "--to-time recovers the embedded cluster; for a server of your own use its own PITR".to_owned(),
                    ));
                }
                let data_dir = &database.data_dir;
                let backups = backups.dir(data_dir);
                let base = crate::backup::pitr::prepare(data_dir, &backups, target)?;
                eprintln!("recovering from base backup {} to {} ...", base.name, target.to_rfc3339());
                let db = Database::open(&database).await?;
                println!("recovered to {}; the data before is kept in {}", target.to_rfc3339(), data_dir.display());
                db.close().await
            }
            Command::Backup { action, backups, database } => {
                beside_server(&database, async |db| run_backup(db, &database, &backups, action).await).await
            }
            // Run by `main` without a runtime; here only if called as a library.
            Command::Extract(args) => {
                crate::materials::sandbox::child(&args);
                Ok(())
            }
            Command::User { action, account, database } => {
                beside_server(&database, async |db| {
                    db.migrate_on_start(false).await?;
                    crate::accounts::cli::run(&db.pool, &account, action).await
                })
                .await
            }
        }
    }
}

/// Runs a one-off command on the database: the running `serve`'s embedded cluster if there
/// is one, else the one this opens (and closes after, whatever happened).
async fn beside_server(database: &DatabaseConfig, command: impl AsyncFnOnce(&Database) -> Result<()>) -> Result<()> {
    let db = Database::open_beside_server(database).await?;
    let result = command(&db).await;
    let closed = db.close().await;
    result.and(closed)
}

async fn run_backup(
    db: &Database,
    database: &DatabaseConfig,
    backups: &BackupConfig,
    action: BackupAction,
) -> Result<()> {
    // Found before every action but `create`'s, whose failure to find the tools is
    // recorded with the run (a cron backup's failure shows on the admin page).
    let server = || crate::backup::Server::of(db, database);
    let dir = backups.dir(&database.data_dir);
    let checked = |name: &str, differences: Vec<String>| {
        if differences.is_empty() {
            println!("{name}: every table identical (rows and checksums)");
            Ok(())
        } else {
            differences.iter().for_each(|d| println!("{name}: {d}"));
            Err(crate::error::Error::Internal(format!("{name} does not match its manifest")))
        }
    };
    match action {
        BackupAction::Create { keep, label } => {
            let keep = Keep::from_flags(keep, label)?;
            eprintln!("dumping to {} ...", dir.display());
            let started = chrono::Utc::now();
            let result = async { crate::backup::create(&server()?, &dir, keep).await }.await;
            let summary = result.as_ref().map(|(m, rotated)| upkeep::backup_summary(m, rotated));
            upkeep::record(&db.pool, &Run::ended(UpkeepKind::Backup, upkeep::command_line(), started, summary, None))
                .await;
            let (manifest, rotated) = result?;
            let base = if manifest.base.is_some() { ", with a base backup" } else { "" };
            println!("{}: {} bytes, {} tables{base}", manifest.file, manifest.bytes, manifest.tables.len());
            rotated.iter().for_each(|name| println!("rotated away {name}"));
        }
        BackupAction::List => {
            for (manifest, kept) in crate::backup::kept(&dir, chrono::Utc::now())? {
                let rows: i64 = manifest.tables.values().map(|(rows, _)| rows).sum();
                let kept = kept.map_or_else(|| "not kept: the next prune deletes it".to_owned(), |k| k.to_string());
                let base = if manifest.base.is_some() { "  +base" } else { "" };
                println!(
                    "{}  {}  {} bytes  {rows} rows{base}  {kept}",
                    manifest.name,
                    manifest.created_at.to_rfc3339(),
                    manifest.bytes
                );
            }
        }
        BackupAction::Prune { dry_run } => {
            let doomed = crate::backup::prune(&server()?, &dir, chrono::Utc::now(), dry_run).await?;
            let verb = if dry_run { "would delete" } else { "deleted" };
            doomed.iter().for_each(|m| println!("{verb} {}", m.name));
            if doomed.is_empty() {
                println!("nothing to prune: rotation keeps every backup");
            }
        }
        BackupAction::Delete { name } => {
            let manifest = crate::backup::delete(&server()?, &dir, &name).await?;
            println!("deleted {}", manifest.name);
        }
        BackupAction::Verify { name } => {
            let manifest = crate::backup::find(&dir, &name)?;
            eprintln!("restoring {} into a scratch database ...", manifest.name);
            checked(&manifest.name, crate::backup::verify(&server()?, &dir, &manifest).await?)?;
        }
        BackupAction::Restore { name, .. } => {
            if let Some(running) = db.running_server() {
                return Err(running.stop_first(&database.data_dir, "restore"));
            }
            let manifest = crate::backup::find(&dir, name.as_deref().unwrap_or("latest"))?;
            eprintln!("restoring {} ...", manifest.name);
            checked(&manifest.name, crate::backup::restore(&server()?, &dir, &manifest).await?)?;
        }
    }
    Ok(())
}

async fn run_migrate(db: &Database, action: MigrateAction) -> Result<()> {
    match action {
        MigrateAction::Up => {
            let applied = migrate::up(&db.pool).await?;
            println!("applied {} migration(s){}", applied.len(), list(&applied));
        }
        MigrateAction::Down { steps, all } => {
            let how_far = if all { Down::All } else { Down::Steps(steps) };
            let reverted = migrate::down(&db.pool, how_far).await?;
            println!("reverted {} migration(s){}", reverted.len(), list(&reverted));
        }
        MigrateAction::Status => {
            for migration in migrate::status(&db.pool).await? {
                let state = match migration.state {
                    MigrationState::Pending => "pending".to_owned(),
                    MigrationState::Applied { on } => format!("applied {}", on.to_rfc3339()),
                    MigrationState::Modified { on } => {
                        format!("applied {}, file changed since", on.to_rfc3339())
                    }
                    MigrationState::Failed => "FAILED: needs repair".to_owned(),
                };
                println!("{:04}  {:<28}  {state}", migration.version, migration.description);
            }
        }
    }
    Ok(())
}

fn list(versions: &[i64]) -> String {
    if versions.is_empty() {
        return String::new();
    }
    let names: Vec<String> = versions.iter().map(|v| format!("{v:04}")).collect();
    format!(": {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_server_defaults_are_the_spec_s() {
        let cli = Cli::try_parse_from(["studyhall", "serve"]).expect("parse");
        let Command::Serve { serve, settings } = cli.command else { panic!("serve") };
        let pool = &settings.database.pool;
        assert_eq!(pool.max_connections, 20);
        assert_eq!(pool.idle_timeout_secs, 300);
        assert_eq!(pool.max_lifetime_secs, 3600);
        assert_eq!(serve.http.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(settings.database.data_dir.to_str(), Some("studyhall-data"));
    }

    #[test]
    fn down_takes_steps_or_all_but_not_both() {
        assert!(Cli::try_parse_from(["studyhall", "migrate", "down", "--steps", "2", "--all"]).is_err());
        let cli = Cli::try_parse_from(["studyhall", "migrate", "down", "--steps", "2"]).expect("parse");
        assert!(matches!(cli.command, Command::Migrate { action: MigrateAction::Down { steps: 2, all: false }, .. }));
    }
}
