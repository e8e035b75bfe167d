//! Point-in-time recovery of the embedded cluster: `studyhall backup restore --to-time T`.
//!
//! The embedded cluster archives every WAL segment to `<STUDYHALL_DATA>/wal-archive`, and
//! `backup create` takes a base backup with each dump. Recovery moves the current data
//! aside (`pgdata.before-<time>`, never deleted), unpacks the newest base backup taken
//! before T, and starts PostgreSQL with a `recovery.signal`: it replays the archived WAL
//! up to T and then opens for writes on a new timeline.

use std::path::Path;
use std::process::Command;

use chrono::{DateTime, Utc};
use nix::unistd::{User, chown, geteuid};

use super::{Manifest, list};
use crate::db::embedded::{SUPERUSER, in_use, stop_first, wal_archive};
use crate::error::{Error, Result};

/// Prepares the embedded cluster in `data_dir` (which must be stopped) to recover to
/// `target` from the backups in `backups` on its next start; returns the base backup used.
pub fn prepare(data_dir: &Path, backups: &Path, target: DateTime<Utc>) -> Result<Manifest> {
    let pgdata = data_dir.join("pgdata");
    if let Some(pid) = in_use(data_dir) {
        return Err(stop_first(data_dir, pid, "recover to a time"));
    }
    let base = list(backups)?
        .into_iter()
        .rfind(|m| m.base.is_some() && m.created_at <= target)
        .ok_or_else(|| Error::Config(format!("no base backup in {} older than {target}", backups.display())))?;
    let archive = base.base.as_deref().map(|b| backups.join(b).join("base.tar.gz")).expect("filtered on base");

    let aside = data_dir.join(format!("pgdata.before-{}", Utc::now().format("%Y%m%dT%H%M%SZ")));
    if pgdata.exists() {
        std::fs::rename(&pgdata, &aside).map_err(Error::io(format!("moving {} aside", pgdata.display())))?;
    }
    std::fs::create_dir(&pgdata).map_err(Error::io(format!("creating {}", pgdata.display())))?;
    std::fs::set_permissions(&pgdata, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .map_err(Error::io("setting the data directory's mode"))?;
    let unpacked = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&pgdata)
        .status()
        .map_err(Error::io("running tar"))?;
    if !unpacked.success() {
        return Err(Error::Embedded(format!("unpacking {} failed", archive.display())));
    }
    std::fs::write(pgdata.join("recovery.signal"), "").map_err(Error::io("writing recovery.signal"))?;
    let wal = wal_archive(data_dir).display().to_string().replace('\'', "'\\''");
    let settings = format!(
        "\n# studyhall backup restore --to-time\nrestore_command = 'cp ''{wal}/%f'' ''%p'''\n\
         recovery_target_time = '{}'\nrecovery_target_action = 'promote'\n",
        target.to_rfc3339()
    );
    let auto_conf = pgdata.join("postgresql.auto.conf");
    let mut conf = std::fs::read_to_string(&auto_conf).unwrap_or_default();
    conf.push_str(&settings);
    std::fs::write(&auto_conf, conf).map_err(Error::io("writing postgresql.auto.conf"))?;
    if geteuid().is_root() {
        let user =
            User::from_name(SUPERUSER).ok().flatten().ok_or_else(|| Error::Embedded(format!("no {SUPERUSER} user")))?;
        for entry in walk(&pgdata)? {
            chown(&entry, Some(user.uid), Some(user.gid))
                .map_err(|err| Error::io(format!("handing {} to {SUPERUSER}", entry.display()))(err.into()))?;
        }
    }
    tracing::info!(base = %base.name, aside = %aside.display(), %target, "prepared point-in-time recovery");
    Ok(base)
}

/// `dir` and everything below it.
fn walk(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut out = vec![dir.to_path_buf()];
    let mut index = 0;
    while index < out.len() {
        let path = out[index].clone();
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).map_err(Error::io(format!("reading {}", path.display())))? {
                out.push(entry.map_err(Error::io("reading a directory entry"))?.path());
            }
        }
        index += 1;
    }
    Ok(out)
}
