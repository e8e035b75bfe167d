//! Exporting archived tables: CSV with a header, compressed with zstd, written to the
//! archive directory next to `MANIFEST.jsonl`, one line per file with its table, rows,
//! bytes and SHA-256, so that a copy can be checked without the database.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use futures_util::TryStreamExt;
use serde_json::{Value, json};
use sqlx::PgConnection;

use crate::digest::digest;
use crate::error::{Error, Result};

pub const MANIFEST: &str = "MANIFEST.jsonl";
/// zstd's level: a good ratio at a modest cost.
const LEVEL: i32 = 9;

/// The tables the manifest lists whose file is present.
pub fn exported(dir: &Path) -> Result<HashSet<String>> {
    let manifest = dir.join(MANIFEST);
    if !manifest.exists() {
        return Ok(HashSet::new());
    }
    let text = std::fs::read_to_string(&manifest).map_err(Error::io(format!("reading {}", manifest.display())))?;
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|entry| entry["file"].as_str().is_some_and(|file| dir.join(file).exists()))
        .filter_map(|entry| entry["table"].as_str().map(str::to_owned))
        .collect())
}

/// Writes `archive.<table>` to `<dir>/<table>.csv.zst` and adds it to the manifest;
/// returns the rows written.
pub async fn export(conn: &mut PgConnection, table: &str, dir: &Path) -> Result<u64> {
    std::fs::create_dir_all(dir).map_err(Error::io(format!("creating {}", dir.display())))?;
    let file_name = format!("{table}.csv.zst");
    let partial = dir.join(format!("{file_name}.partial"));
    let rows = super::store::count(conn, &format!("archive.{table}")).await?;
    let file = std::fs::File::create(&partial).map_err(Error::io(format!("creating {}", partial.display())))?;
    let mut encoder = zstd::Encoder::new(file, LEVEL).map_err(Error::io("starting zstd"))?;
    {
        let mut copy = conn.copy_out_raw(&format!("COPY archive.{table} TO STDOUT WITH (FORMAT csv, HEADER)")).await?;
        while let Some(chunk) = copy.try_next().await? {
            encoder.write_all(&chunk).map_err(Error::io(format!("writing {}", partial.display())))?;
        }
    }
    encoder.finish().and_then(|file| file.sync_all()).map_err(Error::io(format!("writing {}", partial.display())))?;
    let (bytes, sha256) = digest(&partial)?;
    let target = dir.join(&file_name);
    std::fs::rename(&partial, &target).map_err(Error::io(format!("renaming to {}", target.display())))?;
    let entry = json!({"table": table, "file": file_name, "rows": rows, "bytes": bytes, "sha256": sha256,
                       "format": "csv+zstd", "exported_at": chrono::Utc::now()});
    let manifest = dir.join(MANIFEST);
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&manifest)
        .map_err(Error::io(format!("opening {}", manifest.display())))?;
    writeln!(out, "{entry}")
        .and_then(|()| out.sync_all())
        .map_err(Error::io(format!("writing {}", manifest.display())))?;
    Ok(rows as u64)
}
