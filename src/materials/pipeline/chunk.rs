//! Chunking by structure. The document is cut into sections at its headings. A section
//! of at least [`SMALL_WORDS`] starts a chunk of its own (unless it is the first
//! subsection of a small section, which then introduces it); smaller ones merge with
//! their neighbours (siblings, their parent's opening text), never across a heading of
//! a higher level than their own. Within a section, paragraphs and lists gather until a
//! chunk holds about [`TARGET_WORDS`]; code, output and tables stand alone, and nothing
//! exceeds [`MAX_WORDS`] (a long paragraph is split between sentences). A chunk that
//! holds several sections is placed under the headings they share.

use std::borrow::Cow;

use super::extract::{Block, BlockKind};
use super::text;

/// Sections and chunks of fewer words are small: they merge with their neighbours.
pub const SMALL_WORDS: usize = 75;
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
    /// The headings above the chunk, outermost first: for a chunk of several sections,
    /// the headings they share.
    pub heading_path: Vec<String>,
    /// The pages the chunk's text came from (PDF), in order.
    pub pages: Vec<u32>,
}

/// The blocks from one heading (or a run of headings with nothing between them) to the
/// next, or those before the first heading.
struct Section<'a> {
    /// The headings above its content, outermost first, with their levels.
    levels: Vec<(u8, &'a str)>,
    /// The same headings' names: the heading path of its content.
    path: Vec<String>,
    /// Its blocks (headings first) with their words.
    blocks: Vec<(&'a Block, usize)>,
    words: usize,
}

/// The document's sections, in order. Blocks without words are left out.
fn sections(blocks: &[Block]) -> Vec<Section<'_>> {
    let mut sections = vec![Section { levels: Vec::new(), path: Vec::new(), blocks: Vec::new(), words: 0 }];
    for block in blocks {
        let words = text::word_count(&block.text);
        if words == 0 {
            continue;
        }
        let section = sections.last_mut().expect("a section");
        match block.kind {
            BlockKind::Heading(level) => {
                let mut levels = section.levels.clone();
                levels.retain(|(outer, _)| *outer < level);
                levels.push((level, &block.text));
                let path = levels.iter().map(|(_, name)| (*name).to_owned()).collect();
                if section.words == 0 {
                    // Headings in a row open one section.
                    section.blocks.push((block, 0));
                    (section.levels, section.path) = (levels, path);
                } else {
                    sections.push(Section { levels, path, blocks: vec![(block, 0)], words: 0 });
                }
            }
            _ => {
                section.blocks.push((block, words));
                section.words += words;
            }
        }
    }
    sections
}

/// Whether going from a section at `from` to one at `to` crosses a heading of a higher
/// level than `from`'s own: leaves a section that encloses `from`.
fn crosses(from: &[(u8, &str)], to: &[(u8, &str)]) -> bool {
    let shared = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    shared + 1 < from.len()
}

/// Whether a section at `inner` is a subsection of one at `outer`.
fn encloses(outer: &[(u8, &str)], inner: &[(u8, &str)]) -> bool {
    inner.len() > outer.len() && inner.starts_with(outer)
}

/// A block going into a chunk, with the headings above it.
struct Part<'a> {
    kind: BlockKind,
    text: Cow<'a, str>,
    words: usize,
    page: Option<u32>,
    path: &'a [String],
}

/// The chunk being built. Headings join it (their text opens the section) but count no
/// words.
#[derive(Default)]
struct Builder<'a> {
    parts: Vec<Part<'a>>,
    words: usize,
}

impl<'a> Builder<'a> {
    fn push(&mut self, part: Part<'a>) {
        self.words += part.words;
        self.parts.push(part);
    }

    /// Whether its last part is a lead-in: a short paragraph ending in ':'.
    fn ends_with_lead_in(&self) -> bool {
        self.parts.last().is_some_and(|part| is_lead_in(part.kind, &part.text))
    }

    /// Emits the chunk like [`Builder::finish`], but a lead-in at its end stays (with
    /// the headings just before it) to open the next chunk, with the block it introduces.
    fn finish_before(&mut self, out: &mut Vec<Chunk>) {
        if !self.ends_with_lead_in() {
            return self.finish(out);
        }
        let mut at = self.parts.len() - 1;
        while at > 0 && matches!(self.parts[at - 1].kind, BlockKind::Heading(_)) {
            at -= 1;
        }
        let kept = self.parts.split_off(at);
        self.words -= kept.iter().map(|part| part.words).sum::<usize>();
        self.finish(out);
        for part in kept {
            self.push(part);
        }
    }

    /// Emits the chunk, unless it has no content yet (its headings wait for some).
    fn finish(&mut self, out: &mut Vec<Chunk>) {
        if self.words == 0 {
            return;
        }
        let parts = std::mem::take(&mut self.parts);
        let content: Vec<&Part> = parts.iter().filter(|part| !matches!(part.kind, BlockKind::Heading(_))).collect();
        // A lead-in does not make the code, output, table or list it introduces prose.
        let introduced = match content.as_slice() {
            [first, rest @ ..] if !rest.is_empty() && is_lead_in(first.kind, &first.text) => rest,
            all => all,
        };
        let kinds: Vec<BlockKind> = introduced.iter().map(|part| part.kind).collect();
        let kind = match kinds.as_slice() {
            [BlockKind::Code] => "code",
            [BlockKind::Output] => "output",
            [BlockKind::Table] => "table",
            _ if content.len() < parts.len() => "section",
            all if all.iter().all(|k| *k == BlockKind::List) => "list",
            _ => "paragraph",
        };
        let mut heading_path: Option<&[String]> = None;
        let mut pages = Vec::new();
        for part in &content {
            heading_path = Some(match heading_path {
                None => part.path,
                Some(path) => &path[..shared(path, part.path)],
            });
            if let Some(page) = part.page
                && pages.last() != Some(&page)
            {
                pages.push(page);
            }
        }
        out.push(Chunk {
            kind,
            heading_path: heading_path.unwrap_or_default().to_vec(),
            text: parts.iter().map(|part| part.text.as_ref()).collect::<Vec<_>>().join("\n\n"),
            words: std::mem::take(&mut self.words),
            pages,
        });
    }
}

/// How many headings two paths share, from the outermost.
fn shared(a: &[String], b: &[String]) -> usize {
    a.iter().zip(b).take_while(|(a, b)| a == b).count()
}

/// A short paragraph ending in ':' ("For example:"), which introduces the block after it.
fn is_lead_in(kind: BlockKind, text: &str) -> bool {
    kind == BlockKind::Paragraph && text.ends_with(':') && text::word_count(text) <= LEAD_IN_WORDS
}

/// Groups `blocks` into chunks, in order.
pub fn chunk(blocks: &[Block]) -> Vec<Chunk> {
    let sections = sections(blocks);
    let mut out = Vec::new();
    let mut current = Builder::default();
    // The first chunk of the sections that may share chunks, and of the last section.
    let (mut run_start, mut section_start) = (0, 0);
    for (at, section) in sections.iter().enumerate() {
        if let Some(before) = at.checked_sub(1).map(|before| &sections[before]) {
            // The chunk in progress holds small, whole sections: it may take more.
            let open = current.words < SMALL_WORDS && out.len() == section_start;
            // Never across a higher heading; a big section starts a chunk of its own,
            // unless it opens inside a small section (which is then its introduction).
            let apart = crosses(&before.levels, &section.levels)
                || section.words >= SMALL_WORDS && !(open && encloses(&before.levels, &section.levels));
            // Headings with nothing after them end the document's last chunk.
            if section.words > 0 && (apart || !open) {
                current.finish(&mut out);
                merge_short_tail(&mut out, run_start);
                if apart {
                    run_start = out.len();
                }
            }
        }
        section_start = out.len();
        for &(block, words) in &section.blocks {
            add(&mut current, &mut out, block, words, &section.path);
        }
    }
    current.finish(&mut out);
    merge_short_tail(&mut out, run_start);
    out
}

/// Adds a block of `words` under the headings `path` to the chunk being built; emits
/// the chunks it fills.
fn add<'a>(current: &mut Builder<'a>, out: &mut Vec<Chunk>, block: &'a Block, words: usize, path: &'a [String]) {
    let part = |text, words| Part { kind: block.kind, text, words, page: block.page, path };
    match block.kind {
        BlockKind::Heading(_) => current.push(part(Cow::Borrowed(&block.text), 0)),
        BlockKind::Code | BlockKind::Output | BlockKind::Table if words >= STANDALONE_WORDS => {
            current.finish_before(out);
            current.push(part(Cow::Borrowed(&block.text), words));
            current.finish(out);
        }
        _ if words > MAX_WORDS => {
            current.finish_before(out);
            for piece in split_sentences(&block.text) {
                let piece_words = text::word_count(&piece);
                current.push(part(Cow::Owned(piece), piece_words));
                current.finish(out);
            }
        }
        _ => {
            if current.words + words > MAX_WORDS {
                current.finish_before(out);
            }
            current.push(part(Cow::Borrowed(&block.text), words));
            if current.words >= TARGET_WORDS && !current.ends_with_lead_in() {
                current.finish(out);
            }
        }
    }
}

/// The last of the chunks from `start` on joins the one before it when it is too short
/// to stand alone and both fit (neither code, output nor a table); the two are placed
/// under the headings they share.
fn merge_short_tail(chunks: &mut Vec<Chunk>, start: usize) {
    let [.., before, last] = &chunks[start..] else { return };
    let prose = |chunk: &Chunk| !matches!(chunk.kind, "code" | "output" | "table");
    if last.words < SMALL_WORDS && before.words + last.words <= MAX_WORDS && prose(before) && prose(last) {
        let last = chunks.pop().expect("a last chunk");
        let before = chunks.last_mut().expect("a chunk before");
        before.text = format!("{}\n\n{}", before.text, last.text);
        before.words += last.words;
        before.kind = match (before.kind, last.kind) {
            (a, b) if a == b => a,
            ("section", _) | (_, "section") => "section",
            _ => "paragraph",
        };
        before.heading_path.truncate(shared(&before.heading_path, &last.heading_path));
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

    fn path(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    /// Headings (level, title), each followed by paragraphs of so many words; the
    /// paragraphs' words are seeded "a", "b"... in order.
    fn outline(sections: &[(u8, &str, &[usize])]) -> Vec<Block> {
        let mut seeds = ('a'..='z').map(String::from);
        let mut blocks = Vec::new();
        for (level, title, paragraphs) in sections {
            blocks.push(block(BlockKind::Heading(*level), title));
            for words in *paragraphs {
                blocks.push(block(BlockKind::Paragraph, &prose(*words, &seeds.next().expect("a seed"))));
            }
        }
        blocks
    }

    #[test]
    fn small_sections_merge_under_their_common_parent_never_across_a_higher_heading() {
        let blocks = outline(&[
            (1, "Chapter 1", &[100]),
            (2, "1.1 Intro", &[30]),
            (2, "1.2 Setup", &[30]),
            (2, "1.3 Usage", &[200]),
            (2, "1.4 Notes", &[20]),
            (1, "Chapter 2", &[20]),
            (2, "2.1 Start", &[150]),
        ]);
        let chunks = chunk(&blocks);
        let summary: Vec<(usize, Vec<String>)> = chunks.iter().map(|c| (c.words, c.heading_path.clone())).collect();
        assert_eq!(
            summary,
            [(160, path(&["Chapter 1"])), (220, path(&["Chapter 1"])), (170, path(&["Chapter 2"]))],
            "small sections join a sibling (or their parent's opening) and take the path they share"
        );
        assert!(chunks[0].text.contains("1.1 Intro\n\nb0") && chunks[0].text.contains("1.2 Setup\n\nc0"));
        assert!(
            chunks[1].text.starts_with("1.3 Usage\n\nd0")
                && chunks[1]
                    .text
                    .ends_with("1.4 Notes\n\ne0 e1 e2 e3 e4 e5 e6 e7 e8 e9 e10 e11 e12 e13 e14 e15 e16 e17 e18 e19.")
        );
        assert!(chunks[2].text.starts_with("Chapter 2\n\nf0"), "the next chapter starts a chunk: {}", chunks[2].text);
    }

    #[test]
    fn a_small_section_that_cannot_join_a_sibling_stands_alone_under_its_own_headings() {
        let code = "fn main() {\n    let numbers = vec![1, 2, 3];\n    for n in &numbers {\n        println!(\"{n}\");\n    }\n}";
        let blocks = vec![
            block(BlockKind::Heading(1), "Loops"),
            block(BlockKind::Heading(2), "Iterating"),
            block(BlockKind::Paragraph, &prose(120, "a")),
            block(BlockKind::Code, code),
            block(BlockKind::Heading(3), "Caveats"),
            block(BlockKind::Paragraph, &prose(20, "b")),
            block(BlockKind::Heading(2), "Ranges"),
            block(BlockKind::Paragraph, &prose(20, "c")),
        ];
        let chunks = chunk(&blocks);
        let summary: Vec<(&str, usize, Vec<String>)> =
            chunks.iter().map(|c| (c.kind, c.words, c.heading_path.clone())).collect();
        assert_eq!(
            summary,
            [
                ("section", 120, path(&["Loops", "Iterating"])),
                ("code", text::word_count(code), path(&["Loops", "Iterating"])),
                ("section", 20, path(&["Loops", "Iterating", "Caveats"])),
                ("section", 20, path(&["Loops", "Ranges"])),
            ],
            "code takes no prose, and \"Ranges\" closes \"Iterating\""
        );
    }

    #[test]
    fn big_sections_start_their_own_chunks_and_keep_their_remainders() {
        let blocks = outline(&[
            (1, "Licence", &[10]),
            (2, "0. Definitions", &[25]),
            (2, "1. Source", &[100, 100]),
            (2, "2. Terms", &[260, 50]),
            (2, "3. Notes", &[200]),
        ]);
        let chunks = chunk(&blocks);
        let summary: Vec<(usize, Vec<String>)> = chunks.iter().map(|c| (c.words, c.heading_path.clone())).collect();
        assert_eq!(
            summary,
            [
                (35, path(&["Licence"])),
                (200, path(&["Licence", "1. Source"])),
                (310, path(&["Licence", "2. Terms"])),
                (200, path(&["Licence", "3. Notes"])),
            ]
        );
        for (chunk, start) in
            chunks.iter().zip(["Licence\n\na0", "1. Source\n\nc0", "2. Terms\n\ne0", "3. Notes\n\ng0"])
        {
            assert!(chunk.text.starts_with(start), "{start}: {}", chunk.text);
        }
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
