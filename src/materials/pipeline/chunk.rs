//! Chunking by structure: headings open sections, paragraphs and lists gather until a
//! chunk holds about [`TARGET_WORDS`], code, output and tables stand alone, and nothing exceeds
//! [`MAX_WORDS`] (a long paragraph is split between sentences).

use super::extract::{Block, BlockKind};
use super::text;

pub const MIN_WORDS: usize = 150;
pub const TARGET_WORDS: usize = 250;
pub const MAX_WORDS: usize = 400;
/// Code, output and tables shorter than this go with the prose around them.
const STANDALONE_WORDS: usize = 12;
/// A paragraph ending in ':' of at most this many words introduces the block after it
/// ("You'll get an error like this:") and goes with that block.
const LEAD_IN_WORDS: usize = 40;

#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// `chunk_type`: section, paragraph, list, code, output or table.
    pub kind: &'static str,
    pub text: String,
    pub words: usize,
    /// The headings above the chunk, outermost first.
    pub heading_path: Vec<String>,
    /// The pages the chunk's text came from (PDF), in order.
    pub pages: Vec<u32>,
}

/// The chunk being built. Headings join it (their text opens the section) but count no
/// words; its heading path is fixed when its first content arrives.
#[derive(Default)]
struct Builder {
    parts: Vec<(BlockKind, String)>,
    words: usize,
    heading_path: Vec<String>,
    pages: Vec<u32>,
}

impl Builder {
    fn push(&mut self, kind: BlockKind, text: String, words: usize, page: Option<u32>, path: &[String]) {
        if words > 0 && self.words == 0 {
            self.heading_path = path.to_vec();
        }
        self.parts.push((kind, text));
        self.words += words;
        if let Some(page) = page
            && self.pages.last() != Some(&page)
        {
            self.pages.push(page);
        }
    }

    /// Whether its last part is a lead-in: a short paragraph ending in ':'.
    fn ends_with_lead_in(&self) -> bool {
        self.parts.last().is_some_and(|(kind, text)| is_lead_in(*kind, text))
    }

    /// Emits the chunk like [`Builder::finish`], but a lead-in at its end stays to open
    /// the next chunk, with the block it introduces.
    fn finish_before(&mut self, out: &mut Vec<Chunk>, path: &[String]) {
        if !self.ends_with_lead_in() {
            return self.finish(out);
        }
        let (_, lead_in) = self.parts.pop().expect("a lead-in");
        let words = text::word_count(&lead_in);
        self.words -= words;
        self.finish(out);
        self.push(BlockKind::Paragraph, lead_in, words, None, path);
    }

    /// Emits the chunk, unless it has no content yet (its headings wait for some).
    fn finish(&mut self, out: &mut Vec<Chunk>) {
        if self.words == 0 {
            return;
        }
        let parts = std::mem::take(&mut self.parts);
        let content: Vec<&(BlockKind, String)> =
            parts.iter().filter(|(kind, _)| !matches!(kind, BlockKind::Heading(_))).collect();
        // A lead-in does not make the code, output, table or list it introduces prose.
        let introduced = match content.as_slice() {
            [(kind, first), rest @ ..] if !rest.is_empty() && is_lead_in(*kind, first) => rest,
            all => all,
        };
        let kinds: Vec<BlockKind> = introduced.iter().map(|(kind, _)| *kind).collect();
        let kind = match kinds.as_slice() {
            [BlockKind::Code] => "code",
            [BlockKind::Output] => "output",
            [BlockKind::Table] => "table",
            _ if content.len() < parts.len() => "section",
            all if all.iter().all(|k| *k == BlockKind::List) => "list",
            _ => "paragraph",
        };
        out.push(Chunk {
            kind,
            text: parts.into_iter().map(|(_, text)| text).collect::<Vec<_>>().join("\n\n"),
            words: std::mem::take(&mut self.words),
            heading_path: std::mem::take(&mut self.heading_path),
            pages: std::mem::take(&mut self.pages),
        });
    }
}

/// A short paragraph ending in ':' ("For example:"), which introduces the block after it.
fn is_lead_in(kind: BlockKind, text: &str) -> bool {
    kind == BlockKind::Paragraph && text.ends_with(':') && text::word_count(text) <= LEAD_IN_WORDS
}

/// Groups `blocks` into chunks, in order.
pub fn chunk(blocks: &[Block]) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut path: Vec<(u8, String)> = Vec::new();
    let mut current = Builder::default();
    let names = |path: &[(u8, String)]| path.iter().map(|(_, name)| name.clone()).collect::<Vec<_>>();

    for block in blocks {
        let words = text::word_count(&block.text);
        if words == 0 {
            continue;
        }
        match block.kind {
            BlockKind::Heading(level) => {
                // A new section ends the chunk before it, unless that one is still small.
                if current.words >= MIN_WORDS / 2 {
                    current.finish(&mut out);
                }
                path.retain(|(outer, _)| *outer < level);
                path.push((level, block.text.clone()));
                current.push(block.kind, block.text.clone(), 0, block.page, &names(&path));
            }
            BlockKind::Code | BlockKind::Output | BlockKind::Table if words >= STANDALONE_WORDS => {
                current.finish_before(&mut out, &names(&path));
                current.push(block.kind, block.text.clone(), words, block.page, &names(&path));
                current.finish(&mut out);
            }
            _ if words > MAX_WORDS => {
                current.finish_before(&mut out, &names(&path));
                for piece in split_sentences(&block.text) {
                    let piece_words = text::word_count(&piece);
                    current.push(block.kind, piece, piece_words, block.page, &names(&path));
                    current.finish(&mut out);
                }
            }
            _ => {
                if current.words + words > MAX_WORDS {
                    current.finish_before(&mut out, &names(&path));
                }
                current.push(block.kind, block.text.clone(), words, block.page, &names(&path));
                if current.words >= TARGET_WORDS && !current.ends_with_lead_in() {
                    current.finish(&mut out);
                }
            }
        }
    }
    current.finish(&mut out);
    merge_short_tail(&mut out);
    out
}

/// A last chunk too short to stand alone joins the one before it, if both fit.
fn merge_short_tail(chunks: &mut Vec<Chunk>) {
    let [.., before, last] = chunks.as_slice() else { return };
    if last.words < MIN_WORDS / 2
        && before.words + last.words <= MAX_WORDS
        && before.heading_path == last.heading_path
        && !matches!(before.kind, "code" | "output" | "table")
        && !matches!(last.kind, "code" | "output" | "table")
    {
        let last = chunks.pop().expect("a last chunk");
        let before = chunks.last_mut().expect("a chunk before");
        before.text = format!("{}\n\n{}", before.text, last.text);
        before.words += last.words;
        for page in last.pages {
            if before.pages.last() != Some(&page) {
                before.pages.push(page);
            }
        }
    }
}

/// Splits a long block between sentences into pieces of about [`TARGET_WORDS`], none
/// over [`MAX_WORDS`] (a single longer sentence is cut between words).
fn split_sentences(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut piece: Vec<&str> = Vec::new();
    let mut words = 0;
    for sentence in text::sentences(text) {
        let sentence_words = text::word_count(sentence);
        if words + sentence_words > MAX_WORDS || words >= TARGET_WORDS {
            if !piece.is_empty() {
                pieces.push(piece.join(" "));
            }
            piece.clear();
            words = 0;
        }
        if sentence_words > MAX_WORDS {
            let all: Vec<&str> = sentence.split_whitespace().collect();
            pieces.extend(all.chunks(TARGET_WORDS).map(|part| part.join(" ")));
            continue;
        }
        piece.push(sentence);
        words += sentence_words;
    }
    if !piece.is_empty() {
        pieces.push(piece.join(" "));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(kind: BlockKind, text: &str) -> Block {
        Block { kind, text: text.to_owned(), page: None }
    }

    fn prose(words: usize, seed: &str) -> String {
        (0..words).map(|n| format!("{seed}{n}")).collect::<Vec<_>>().join(" ") + "."
    }

    #[test]
    fn sections_gather_paragraphs_and_keep_their_heading_path() {
        let blocks = vec![
            block(BlockKind::Heading(1), "Biology"),
            block(BlockKind::Heading(2), "Cells"),
            block(BlockKind::Paragraph, &prose(120, "a")),
            block(BlockKind::Paragraph, &prose(120, "b")),
            block(BlockKind::Heading(2), "Tissues"),
            block(BlockKind::List, &prose(200, "c")),
            block(BlockKind::Code, &prose(60, "d")),
            block(BlockKind::Paragraph, &prose(180, "e")),
        ];
        let chunks = chunk(&blocks);
        let summary: Vec<(&str, usize, Vec<String>)> =
            chunks.iter().map(|c| (c.kind, c.words, c.heading_path.clone())).collect();
        let path = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            summary,
            [
                ("section", 240, path(&["Biology", "Cells"])),
                ("section", 200, path(&["Biology", "Tissues"])),
                ("code", 60, path(&["Biology", "Tissues"])),
                ("paragraph", 180, path(&["Biology", "Tissues"])),
            ]
        );
        assert!(chunks[0].text.starts_with("Biology\n\nCells\n\na0"), "headings open their section");
    }

    #[test]
    fn lead_ins_stay_with_the_code_or_list_they_introduce() {
        let code = "fn main() {\n    let x: i32 = \"five\";\n    println!(\"{x}\");\n}\nerror[E0308]: mismatched types";
        let blocks = vec![
            block(BlockKind::Heading(1), "Errors"),
            block(BlockKind::Paragraph, &prose(240, "a")),
            block(BlockKind::Paragraph, "You'll get an error like this:"),
            block(BlockKind::Code, code),
            block(BlockKind::Paragraph, &prose(300, "b")),
            block(BlockKind::Paragraph, "For example:"),
            block(BlockKind::List, &prose(200, "c")),
        ];
        let chunks = chunk(&blocks);
        let kinds: Vec<(&str, usize)> = chunks.iter().map(|c| (c.kind, c.words)).collect();
        assert_eq!(kinds, [("section", 240), ("code", 6 + text::word_count(code)), ("paragraph", 300), ("list", 202)]);
        assert!(chunks[1].text.starts_with("You'll get an error like this:\n\nfn main() {"), "{}", chunks[1].text);
        assert!(chunks[3].text.starts_with("For example:\n\nc0"));
        assert!(chunks.iter().all(|c| c.heading_path == ["Errors"]));
    }

    #[test]
    fn no_chunk_exceeds_the_maximum_and_nothing_is_lost() {
        let long = prose(1000, "w").replace("w99 ", "w99. W").replace("w499 ", "w499. W");
        let blocks = vec![block(BlockKind::Paragraph, &long), block(BlockKind::Paragraph, &prose(30, "t"))];
        let chunks = chunk(&blocks);
        assert!(
            chunks.iter().all(|c| c.words <= MAX_WORDS),
            "{:?}",
            chunks.iter().map(|c| c.words).collect::<Vec<_>>()
        );
        assert_eq!(chunks.iter().map(|c| c.words).sum::<usize>(), 1030);
    }
}
