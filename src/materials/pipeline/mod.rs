//! The ingestion pipeline, without I/O: a source's bytes in, chunks and their analysis
//! out. Extract blocks (headings, paragraphs, lists, code, tables) -> normalise ->
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
