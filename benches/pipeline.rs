//! Throughput of the pure ingestion pipeline (extract, chunk, analyse), with no database:
//! `cargo bench --bench pipeline`. The corpus is 5 MiB of real prose, built by cycling
//! the repository's own prose (the test article, the docs, the README, the spec), as
//! Markdown and as an HTML page.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use studyhall::generate::builtin;
use studyhall::generate::{MaterialInput, Options};
use studyhall::materials::pipeline;

const SOURCES: [&str; 7] = [
    include_str!("../tests/data/cells.md"),
    include_str!("../README.md"),
    include_str!("../docs/architecture.md"),
    include_str!("../docs/operations.md"),
    include_str!("../docs/schema.md"),
    include_str!("../docs/security.md"),
    include_str!("../docs/spec/database-schema.md"),
];

const CORPUS_BYTES: usize = 5 * 1024 * 1024;

fn markdown_corpus() -> String {
    let mut corpus = String::with_capacity(CORPUS_BYTES + 100_000);
    for source in SOURCES.iter().cycle() {
        if corpus.len() >= CORPUS_BYTES {
            break;
        }
        corpus.push_str(source);
        corpus.push_str("\n\n");
    }
    corpus
}

/// The Markdown corpus as an HTML page, its text escaped (the docs mention tags such as
/// `<script>`, which must stay text).
fn html_corpus(markdown: &str) -> String {
    let escaped = markdown.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let body: String = escaped
        .split("\n\n")
        .map(|block| match block.strip_prefix("## ").or_else(|| block.strip_prefix("# ")) {
            Some(heading) => format!("<h2>{heading}</h2>"),
            None => format!("<p>{block}</p>"),
        })
        .collect();
    format!(
        "<!DOCTYPE html><html><head><title>Corpus</title></head><body><nav><a href='/'>Home</a></nav><article>{body}</article><footer>Footer</footer></body></html>"
    )
}

fn ingestion(c: &mut Criterion) {
    let markdown = markdown_corpus();
    let html = html_corpus(&markdown);
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(markdown.len() as u64));
    group.bench_function("markdown 5 MiB", |b| {
        b.iter(|| pipeline::ingest("text/markdown", markdown.as_bytes()).expect("ingested"))
    });
    group.throughput(Throughput::Bytes(html.len() as u64));
    group
        .bench_function("html 5 MiB", |b| b.iter(|| pipeline::ingest("text/html", html.as_bytes()).expect("ingested")));
    group.finish();
}

/// The builtin generator on the ingested corpus: assets made per second.
fn generation(c: &mut Criterion) {
    let markdown = markdown_corpus();
    let ingested = pipeline::ingest("text/markdown", markdown.as_bytes()).expect("ingested");
    let material = MaterialInput::of_ingested(&ingested);
    let options = Options { flashcards: true, quizzes: true, summaries: true, max_per_chunk: 3 };
    let made = builtin::generate(&material, &options).len();
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(made as u64));
    group.bench_function(format!("builtin, {} chunks, {made} assets", material.chunks.len()), |b| {
        b.iter(|| builtin::generate(&material, &options))
    });
    group.finish();
}

criterion_group!(benches, ingestion, generation);
criterion_main!(benches);
