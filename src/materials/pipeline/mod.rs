//! The ingestion pipeline, without I/O: a source's bytes in, chunks and their analysis
//! out. Extract blocks (headings, paragraphs, lists, code, output, tables) -> normalise ->
//! chunk by structure -> analyse (language, words, summaries, relevance, difficulty,
//! key terms). Pure, so that it is tested and benchmarked on its own.

pub mod analyse;
pub mod chunk;
pub mod docx;
pub mod epub;
pub mod extract;
pub mod html;
pub mod pdf;
pub mod text;

use serde_json::{Value, json};

pub use chunk::Chunk;
pub use extract::{Block, BlockKind};

/// Why a source cannot be ingested; shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    #[error("the material has no readable text")]
    Empty,
    #[error("{0}")]
    Unreadable(String),
}

/// One analysed chunk, ready to store.
#[derive(Debug, Clone)]
pub struct AnalysedChunk {
    pub chunk: Chunk,
    pub language: Option<String>,
    /// Another language a clearly mixed chunk is partly written in.
    pub secondary_language: Option<String>,
    /// Empty for code, output and tables.
    pub summary: String,
    /// How central the chunk is to the whole material, in [0, 1].
    pub relevance: f64,
}

/// Everything ingestion learns about a material.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub chunks: Vec<AnalysedChunk>,
    /// Characters of normalised text.
    pub content_length: usize,
    pub language: Option<String>,
    pub difficulty: &'static str,
    pub key_terms: Vec<String>,
    /// extractor, language, word count, reading time, chunk count (and pages, for PDF).
    pub metadata: Value,
}

/// Runs the whole pipeline on a source of `media_type`.
pub fn ingest(media_type: &str, bytes: &[u8]) -> Result<Ingested, PipelineError> {
    let document = extract::extract(media_type, bytes)?;
    let chunks = chunk::chunk(&document.blocks);
    if chunks.is_empty() {
        return Err(PipelineError::Empty);
    }
    let full_text: String = chunks.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join("\n\n");
    let language = analyse::language(&full_text);
    let stop_words = analyse::stop_words(language.as_deref());
    let kinds: Vec<&str> = chunks.iter().map(|c| c.kind).collect();
    let chunk_terms: Vec<_> = chunks.iter().map(|c| analyse::terms(&c.text, &stop_words)).collect();
    let relevance = analyse::relevance(&kinds, &chunk_terms);
    let chunks: Vec<AnalysedChunk> = chunks
        .into_iter()
        .zip(relevance)
        .map(|(chunk, relevance)| {
            let (chunk_language, secondary_language) =
                analyse::chunk_language(&chunk.text, language.as_deref(), &stop_words);
            AnalysedChunk {
                language: chunk_language,
                secondary_language,
                summary: analyse::summary(chunk.kind, &chunk.text, &stop_words),
                relevance,
                chunk,
            }
        })
        .collect();
    let words: usize = chunks.iter().map(|c| c.chunk.words).sum();
    let reading_minutes = words.div_ceil(analyse::READING_WORDS_PER_MINUTE).max(1);
    let metadata = json!({
        "extractor": document.extractor,
        "language": language,
        "word_count": words,
        "reading_time_minutes": reading_minutes,
        "chunk_count": chunks.len(),
        "pages": document.pages,
        "kept_words_ratio": document.kept_ratio.map(|ratio| (ratio * 1000.0).round() / 1000.0),
    });
    Ok(Ingested {
        content_length: full_text.chars().count(),
        difficulty: analyse::difficulty(&full_text),
        key_terms: analyse::key_terms(&full_text, &stop_words),
        language,
        chunks,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ingesting a document again ranks its chunks exactly as before, to the last bit: the
    /// generator picks among chunks by rank, so any difference changes the items made.
    #[test]
    fn a_document_ranks_the_same_on_every_run() {
        let article = include_bytes!("../../../tests/data/cells.md");
        let ranks = || -> Vec<u64> {
            let ingested = ingest("text/markdown", article).expect("ingested");
            ingested.chunks.iter().map(|c| c.relevance.to_bits()).collect()
        };
        let first = ranks();
        // Each run builds its maps with new hash keys, so an order-dependent sum shows.
        for _ in 0..20 {
            assert_eq!(ranks(), first);
        }
    }

    /// A page modelled on the Rust book's (mdBook's markup): prose, a listing, the
    /// compiler's error (tagged `console`), a note on it (tagged `text`), and an untagged
    /// traceback.
    #[test]
    fn program_and_compiler_output_are_output_chunks_without_summaries() {
        let prose = "A box lets you store data on the heap rather than the stack, so a recursive type \
                     such as a cons list gets a known size. The pointer to the heap data stays on the stack. ";
        let page = format!(
            "<!DOCTYPE html><html><body><nav class='sidebar'><a href='/'>Book</a></nav><main>\
             <h1>Using Box to Point to Data on the Heap</h1><p>{}</p>\
             <pre class='playground'><code class='language-rust ignore does_not_compile'>enum List {{\n    \
             Cons(i32, List),\n    Nil,\n}}\n\nfn main() {{\n    let list = Cons(1, Cons(2, Cons(3, Nil)));\n}}</code></pre>\
             <p>If we try to compile the code in Listing 15-3, we get the error shown here:</p>\
             <pre><code class='language-console'>$ cargo run\n   Compiling cons-list v0.1.0 (file:///projects/cons-list)\n\
             error[E0072]: recursive type `List` has infinite size\n --&gt; src/main.rs:1:1\n  |\n1 | enum List {{\n  \
             | ^^^^^^^^^\n2 |     Cons(i32, List),\n  |               ---- recursive without indirection</code></pre>\
             <p>{}</p><pre><code class='language-text'>help: insert some indirection (e.g., a `Box`, `Rc`, or `&amp;`) \
             to break the cycle\n  |\n2 |     Cons(i32, Box&lt;List&gt;),</code></pre><p>{}</p>\
             <pre>Traceback (most recent call last):\n  File \"cons.py\", line 3, in &lt;module&gt;\n    \
             print(head(empty))\nIndexError: list index out of range</pre><p>{}</p></main></body></html>",
            prose.repeat(3),
            prose.repeat(2),
            prose.repeat(2),
            prose.repeat(2)
        );
        let ingested = ingest(extract::HTML, page.as_bytes()).expect("ingested");
        let kinds: Vec<&str> = ingested.chunks.iter().map(|c| c.chunk.kind).collect();
        assert_eq!(kinds.iter().filter(|kind| **kind == "code").count(), 1, "{kinds:?}");
        let outputs: Vec<&AnalysedChunk> = ingested.chunks.iter().filter(|c| c.chunk.kind == "output").collect();
        assert_eq!(outputs.len(), 3, "{kinds:?}");
        assert!(outputs[0].chunk.text.starts_with("If we try to compile the code in Listing 15-3"), "with its lead-in");
        assert!(outputs[0].chunk.text.contains("error[E0072]: recursive type `List` has infinite size"));
        assert!(outputs[2].chunk.text.starts_with("Traceback (most recent call last):"));
        let top_prose = ingested.chunks.iter().filter(|c| c.chunk.kind != "output").map(|c| c.relevance);
        let top_prose = top_prose.fold(0.0, f64::max);
        for output in &outputs {
            assert_eq!(output.summary, "", "output is no prose to summarise");
            assert!(output.relevance < top_prose, "{} ranks below the prose", output.chunk.text);
        }
    }
}
