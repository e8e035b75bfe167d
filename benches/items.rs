//! What the builtin generator makes, measured: `cargo bench --bench items`. For each
//! document of the corpus, and overall: words of prose, items made (and per 1,000
//! words), the flaws the checker found in the items it proposed (those are dropped),
//! the share of proposals with no flaw, the main sections covered, and assets per
//! second. The corpus is the test documents (English, French, German) and, where the
//! Rust toolchain's book is installed, some of its chapters as HTML.
//! `ITEMS_EXTRA=dir` adds the documents of `dir` (`.html`, `.md`, `.txt`: for example
//! French and German manual pages, `man -l -Tutf8 page.gz | col -bx > page.txt`), and
//! `ITEMS_DUMP=dir` writes each document's assets there as JSON, for reading.

use std::path::{Path, PathBuf};
use std::time::Instant;

use studyhall::generate::builtin;
use studyhall::generate::{MaterialInput, Options};
use studyhall::materials::pipeline;
use studyhall::states::AssetType;

/// Chapters of the Rust book, when installed: tutorial prose with code and output.
const BOOK_CHAPTERS: [&str; 6] = [
    "ch04-01-what-is-ownership.html",
    "ch08-01-vectors.html",
    "ch09-02-recoverable-errors-with-result.html",
    "ch10-02-traits.html",
    "ch15-01-box.html",
    "ch16-01-threads.html",
];

fn book() -> Option<PathBuf> {
    let sysroot = std::process::Command::new("rustc").args(["--print", "sysroot"]).output().ok()?;
    let root = PathBuf::from(String::from_utf8(sysroot.stdout).ok()?.trim());
    let book = root.join("share/doc/rust/html/book");
    book.is_dir().then_some(book)
}

fn corpus() -> Vec<(String, &'static str, Vec<u8>)> {
    let mut documents = vec![
        ("cells.md".to_owned(), "text/markdown", include_bytes!("../tests/data/cells.md").to_vec()),
        ("cellule.md".to_owned(), "text/markdown", include_bytes!("../tests/data/cellule.md").to_vec()),
        ("zelle.md".to_owned(), "text/markdown", include_bytes!("../tests/data/zelle.md").to_vec()),
    ];
    match book() {
        Some(book) => {
            for chapter in BOOK_CHAPTERS {
                if let Ok(bytes) = std::fs::read(book.join(chapter)) {
                    documents.push((chapter.to_owned(), "text/html", bytes));
                }
            }
        }
        None => eprintln!("the Rust book is not installed: its chapters are left out"),
    }
    if let Some(extra) = std::env::var_os("ITEMS_EXTRA") {
        let mut paths: Vec<PathBuf> =
            std::fs::read_dir(extra).expect("ITEMS_EXTRA is a directory").flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let media_type = match path.extension().and_then(|e| e.to_str()) {
                Some("html" | "htm") => "text/html",
                Some("md") => "text/markdown",
                Some("txt") => "text/plain",
                _ => continue,
            };
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            documents.push((name, media_type, std::fs::read(&path).expect("readable")));
        }
    }
    documents
}

fn main() {
    let dump = std::env::var_os("ITEMS_DUMP").map(PathBuf::from);
    let options = Options { flashcards: true, quizzes: true, summaries: true, max_per_chunk: 3 };
    println!(
        "{:<44} {:>6} {:>6} {:>8} {:>9} {:>9} {:>9}  flaws found in proposals",
        "document", "words", "items", "per 1k", "no flaw", "sections", "assets/s"
    );
    let (mut all_words, mut all_items, mut all_checked, mut all_clean, mut all_sections, mut all_covered) =
        (0, 0, 0, 0, 0, 0);
    let (mut all_assets, mut all_seconds) = (0, 0.0);
    let mut all_flaws = std::collections::BTreeMap::new();
    for (name, media_type, bytes) in corpus() {
        let ingested = pipeline::ingest(media_type, &bytes).expect("ingested");
        let material = MaterialInput::of_ingested(&ingested);
        let started = Instant::now();
        let rounds = 5;
        for _ in 0..rounds - 1 {
            builtin::generate(&material, &options);
        }
        let (drafts, report) = builtin::generate_reporting(&material, &options);
        let seconds = started.elapsed().as_secs_f64() / f64::from(rounds);
        let words: usize = material
            .chunks
            .iter()
            .filter(|c| !studyhall::generate::flaws::NON_PROSE_KINDS.contains(&c.kind))
            .map(|c| pipeline::text::word_count(c.text))
            .sum();
        let items = drafts.iter().filter(|d| d.asset_type != AssetType::Summary).count();
        let flawed = report.checked - items.min(report.checked);
        let clean = report.checked - flawed;
        println!(
            "{name:<44} {words:>6} {items:>6} {:>8.1} {:>8.0}% {:>4}/{:<4} {:>9.0}  {:?}",
            items as f64 * 1000.0 / words.max(1) as f64,
            100.0 * clean as f64 / report.checked.max(1) as f64,
            report.covered,
            report.sections,
            drafts.len() as f64 / seconds,
            report.flaws
        );
        for (flaw, n) in &report.flaws {
            *all_flaws.entry(*flaw).or_insert(0) += n;
        }
        (all_words, all_items, all_checked, all_clean) =
            (all_words + words, all_items + items, all_checked + report.checked, all_clean + clean);
        (all_sections, all_covered) = (all_sections + report.sections, all_covered + report.covered);
        (all_assets, all_seconds) = (all_assets + drafts.len(), all_seconds + seconds);
        if let Some(dir) = &dump {
            write_dump(dir, &name, &drafts);
        }
    }
    println!(
        "{:<44} {all_words:>6} {all_items:>6} {:>8.1} {:>8.0}% {:>4}/{:<4} {:>9.0}  {all_flaws:?}",
        "overall",
        all_items as f64 * 1000.0 / all_words.max(1) as f64,
        100.0 * all_clean as f64 / all_checked.max(1) as f64,
        all_covered,
        all_sections,
        all_assets as f64 / all_seconds
    );
}

fn write_dump(dir: &Path, name: &str, drafts: &[studyhall::generate::Draft]) {
    std::fs::create_dir_all(dir).expect("the dump directory");
    let assets: Vec<serde_json::Value> = drafts
        .iter()
        .map(|d| {
            serde_json::json!({
                "asset_type": d.asset_type,
                "kind": d.generation_params["kind"],
                "quality_score": d.quality_score,
                "content": d.content,
                "source": d.generation_params["sentence"],
            })
        })
        .collect();
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(&assets).expect("JSON")).expect("written");
}
