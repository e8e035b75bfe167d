//! PDF: the text of every page, line by line with its font size and columns, without
//! page furniture (running headers and footers, page numbers, digitised-book page
//! markers), with its headings (from the outline when the PDF has one, else numbered,
//! all-caps and larger lines) and its tables (lines whose columns stand apart).

use std::collections::{HashMap, HashSet};

use pdf_extract::{Dictionary, MediaBox, Object, ObjectId, OutputDev, OutputError, Transform};

use super::PipelineError;
use super::extract::{Block, BlockKind, Document, kept_share};
use super::text;

/// PDFs with more pages than this are refused: no study material is that long, and
/// extraction time grows with pages.
pub const MAX_PDF_PAGES: usize = 2_000;
/// Outline entries read at most (a book's outline has a few hundred).
const MAX_OUTLINE_ENTRIES: usize = 4_096;
/// Lines at the top and at the bottom of a page that may be furniture.
const EDGE_LINES: usize = 3;
/// A gap wider than this many font sizes between two pieces of text on a line parts
/// table columns (a word space is about a third of one).
const COLUMN_GAP: f64 = 1.5;
/// Consecutive lines with columns that make a table.
const TABLE_ROWS: usize = 3;
/// A line this much larger than the body text is a heading.
const HEADING_SIZE: f64 = 1.15;
/// Headings are short.
const HEADING_WORDS: usize = 12;

/// A PDF's object tree, decrypted if it has an empty user password, with at most
/// [`MAX_PDF_PAGES`] pages.
pub fn document(bytes: &[u8]) -> Result<pdf_extract::Document, PipelineError> {
    // lopdf and pdf-extract panic on some malformed files; a panic is one more unreadable file.
    let mut document = std::panic::catch_unwind(|| pdf_extract::Document::load_mem(bytes))
        .map_err(|_| PipelineError::Unreadable("the PDF is malformed".to_owned()))?
        .map_err(|err| PipelineError::Unreadable(format!("the PDF cannot be read ({err})")))?;
    if document.is_encrypted() && document.decrypt("").is_err() {
        return Err(PipelineError::Unreadable("the PDF is encrypted with a password".to_owned()));
    }
    let pages = document.get_pages().len();
    if pages == 0 {
        return Err(PipelineError::Unreadable("the PDF has no pages".to_owned()));
    }
    if pages > MAX_PDF_PAGES {
        return Err(PipelineError::Unreadable(format!("the PDF has {pages} pages; at most {MAX_PDF_PAGES} are read")));
    }
    Ok(document)
}

/// The document's headings, paragraphs and tables, each remembering its page. A page
/// whose text cannot be read is skipped, not the rest of the document.
pub fn read(bytes: &[u8]) -> Result<Document, PipelineError> {
    let document = document(bytes)?;
    let numbers: Vec<u32> = document.get_pages().into_keys().collect();
    let mut pages = Vec::with_capacity(numbers.len());
    for &number in &numbers {
        let mut output = LineOutput::default();
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pdf_extract::output_doc_page(&document, &mut output, number)
        }));
        if matches!(read, Ok(Ok(()))) {
            pages.push(Page { number, lines: output.finish() });
        }
    }
    // Furniture is dropped by design and every other line is kept: what a PDF can lose
    // is a page whose text cannot be read. Taking such a page to hold as many words as
    // the average page read, the share of words kept is the share of pages read.
    let kept_ratio = kept_share(pages.len(), numbers.len());
    remove_furniture(&mut pages);
    let roles = roles(&pages, &outline(&document));
    Ok(Document {
        blocks: blocks(&pages, &roles),
        extractor: "pdf",
        pages: Some(u32::try_from(numbers.len()).unwrap_or(u32::MAX)),
        kept_ratio,
    })
}

/// One line of a page: its pieces of text (more than one when it has columns), the
/// largest font size in it, and whether a blank line's height stands above it.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    cells: Vec<String>,
    size: f64,
    gap_before: bool,
}

impl Line {
    fn text(&self) -> String {
        self.cells.join(" ")
    }
}

struct Page {
    number: u32,
    lines: Vec<Line>,
}

/// Collects a page's characters into lines, as pdf-extract's PlainTextOutput places its
/// spaces and line breaks, but keeping font sizes and column gaps.
#[derive(Default)]
struct LineOutput {
    lines: Vec<Line>,
    word_start: bool,
    last_end: f64,
    last_y: f64,
    /// Space characters in a row at the end of the current cell.
    spaces: usize,
}

impl LineOutput {
    fn new_line(&mut self, gap_before: bool) {
        self.lines.push(Line { cells: vec![String::new()], size: 0.0, gap_before });
        self.spaces = 0;
    }

    fn cell(&mut self) -> &mut String {
        self.lines.last_mut().and_then(|line| line.cells.last_mut()).expect("a line is open")
    }

    /// Lines of normalised text without page markers; empty cells and lines dropped.
    fn finish(self) -> Vec<Line> {
        let mut lines: Vec<Line> = Vec::with_capacity(self.lines.len());
        let mut gap = false;
        for mut line in self.lines {
            line.cells = line.cells.iter().map(|cell| text::normalise(cell)).filter(|cell| !cell.is_empty()).collect();
            gap |= line.gap_before;
            if !line.cells.is_empty() {
                line.gap_before = std::mem::take(&mut gap);
                lines.push(line);
            }
        }
        lines
    }
}

impl OutputDev for LineOutput {
    fn begin_page(&mut self, _: u32, _: &MediaBox, _: Option<(f64, f64, f64, f64)>) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        // The font size as drawn: the side of the square with the area of the transformed em.
        let size = (font_size * (trm.m11 + trm.m21) * font_size * (trm.m12 + trm.m22)).abs().sqrt();
        let (x, y) = (trm.m31, trm.m32);
        if self.lines.is_empty() {
            self.new_line(false);
        } else if self.word_start {
            let rise = (y - self.last_y).abs();
            if rise > size * 1.5 {
                self.new_line(true);
            } else if x < self.last_end && rise > size * 0.5 {
                self.new_line(false);
            } else if x > self.last_end + size * COLUMN_GAP {
                self.lines.last_mut().expect("a line").cells.push(String::new());
                self.spaces = 0;
            } else if x > self.last_end + size * 0.1 {
                self.cell().push(' ');
            }
        }
        if char.trim().is_empty() {
            self.spaces += 1;
            match self.spaces {
                1 => self.cell().push(' '),
                // Two spaces or more in a row part columns too.
                2 => {
                    let line = self.lines.last_mut().expect("a line");
                    line.cells.push(String::new());
                }
                _ => {}
            }
        } else {
            self.spaces = 0;
            self.cell().push_str(char);
            let line = self.lines.last_mut().expect("a line");
            line.size = line.size.max(size);
        }
        self.word_start = false;
        self.last_y = y;
        self.last_end = x + width * size;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.word_start = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// Drops the lines at the top and bottom of pages that are running headers or footers
/// (the same, numbers aside, on at least half of the pages) or bare page numbers.
fn remove_furniture(pages: &mut [Page]) {
    let is_edge = |i: usize, len: usize| i < EDGE_LINES || i + EDGE_LINES >= len;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for page in pages.iter() {
        let len = page.lines.len();
        let keys: HashSet<String> = page
            .lines
            .iter()
            .enumerate()
            .filter(|(i, _)| is_edge(*i, len))
            .map(|(_, l)| furniture_key(&l.text()))
            .collect();
        for key in keys {
            *seen.entry(key).or_default() += 1;
        }
    }
    let total = pages.len();
    let running = |key: &str| seen.get(key).is_some_and(|&n| n >= 2 && n * 2 >= total);
    for page in pages.iter_mut() {
        let len = page.lines.len();
        let mut i = 0;
        page.lines.retain(|line| {
            let text = line.text();
            let furniture = is_edge(i, len) && (is_page_number(&text) || running(&furniture_key(&text)));
            i += 1;
            !furniture
        });
    }
}

/// A line with its numbers (arabic or roman) made alike, lower case: a running header
/// keeps its key from page to page while its page number changes.
fn furniture_key(line: &str) -> String {
    let mut key = String::with_capacity(line.len());
    for piece in line.to_lowercase().split_inclusive(|c: char| !c.is_alphanumeric()) {
        let (word, separator) = match piece.char_indices().last() {
            Some((at, c)) if !c.is_alphanumeric() => piece.split_at(at),
            _ => (piece, ""),
        };
        if !word.is_empty() && (word.bytes().all(|b| b.is_ascii_digit()) || is_roman(word)) {
            key.push('#');
        } else {
            key.push_str(word);
        }
        key.push_str(separator);
    }
    key
}

/// "3", "- 3 -", "iv", "Page 3", "Page 3 of 17", "3 / 17".
pub fn is_page_number(line: &str) -> bool {
    let lower = line.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let number = |w: &str| (w.len() <= 5 && w.bytes().all(|b| b.is_ascii_digit())) || is_roman(w);
    match words.as_slice() {
        [n] | ["page" | "p" | "pg", n] => number(n),
        [n, "of", m] | ["page" | "p" | "pg", n, "of", m] => number(n) && number(m),
        [n, m] => lower.contains('/') && number(n) && number(m),
        _ => false,
    }
}

/// A lower-case roman numeral up to 100, as front matter is numbered.
fn is_roman(word: &str) -> bool {
    const TENS: [&str; 11] = ["", "x", "xx", "xxx", "xl", "l", "lx", "lxx", "lxxx", "xc", "c"];
    const UNITS: [&str; 10] = ["", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"];
    !word.is_empty()
        && TENS.iter().enumerate().any(|(t, tens)| {
            word.strip_prefix(tens).is_some_and(|units| (t < 10 || units.is_empty()) && UNITS.contains(&units))
        })
}

/// The level of a numbered title standing alone on a line: "1. Introduction" and
/// "Chapter 4" (2), "2.3 Data model" and "A.1 Tables" (3), "Part II" (1). Short, without
/// a final period, its words after the number starting with a capital.
pub fn numbered_heading(line: &str) -> Option<u8> {
    if !title_like(line) {
        return None;
    }
    let (first, rest) = line.split_once(' ').map_or((line, ""), |(first, rest)| (first, rest.trim_start()));
    let starts_title = |rest: &str| rest.chars().next().is_some_and(|c| c.is_alphabetic() && !c.is_lowercase());
    let keyword_level = match first.to_lowercase().as_str() {
        "part" => Some(1),
        "chapter" | "appendix" | "annex" => Some(2),
        _ => None,
    };
    if let Some(level) = keyword_level {
        let (label, title) = rest.split_once(' ').map_or((rest, ""), |(label, title)| (label, title.trim_start()));
        let separated = label.ends_with(['.', ':']) || title.starts_with(['—', '–', '-', ':']);
        let label = label.trim_end_matches(['.', ':']);
        let is_label = label.bytes().all(|b| b.is_ascii_digit())
            || is_roman(&label.to_lowercase())
            || (label.len() == 1 && label.bytes().all(|b| b.is_ascii_uppercase()));
        return (!label.is_empty() && is_label && (title.is_empty() || separated || starts_title(title)))
            .then_some(level);
    }
    let number = first.strip_suffix('.').unwrap_or(first);
    let parts: Vec<&str> = number.split('.').collect();
    let is_part = |(i, part): (usize, &&str)| {
        ((1..=3).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
            || (i == 0 && parts.len() > 1 && part.len() == 1 && part.bytes().all(|b| b.is_ascii_uppercase()))
    };
    let numbered = parts.iter().enumerate().all(is_part) && starts_title(rest);
    numbered.then(|| u8::try_from(parts.len() + 1).unwrap_or(6).min(6))
}

/// A short line in capitals: "DEFINITIONS", "TERMS AND CONDITIONS".
pub fn is_caps_heading(line: &str) -> bool {
    let letters = line.chars().filter(|c| c.is_alphabetic()).count();
    letters >= 4 && line.chars().all(|c| !c.is_lowercase()) && title_like(line)
}

/// Short, without a sentence's final punctuation or a table of contents' dot leaders.
fn title_like(line: &str) -> bool {
    let words = line.split_whitespace().count();
    (1..=HEADING_WORDS).contains(&words)
        && line.chars().count() <= 100
        && !line.ends_with(['.', ',', ';', ':'])
        && !line.contains("..")
        && !line.contains('…')
}

/// Whether a line ends a sentence, so that what follows may be a heading (a wrapped line
/// of prose that starts with a number is none).
fn ends_sentence(line: &str) -> bool {
    line.trim_end_matches([')', '"', '\'', '”', '’', ']']).ends_with(['.', '!', '?'])
}

/// An outline (bookmark) entry: its title, its depth (1 at the top) and the page it
/// points at, when it points at one directly.
struct Entry {
    title: String,
    depth: usize,
    page: Option<u32>,
}

/// The PDF's outline in document order. Walked here with a visited set and a bound
/// rather than by lopdf's `get_toc`, which follows a cyclic outline without end.
fn outline(document: &pdf_extract::Document) -> Vec<Entry> {
    let pages: HashMap<ObjectId, u32> = document.get_pages().into_iter().map(|(n, id)| (id, n)).collect();
    let Ok(root) = document.catalog().and_then(|catalog| document.get_dict_in_dict(catalog, b"Outlines")) else {
        return Vec::new();
    };
    let (mut entries, mut visited) = (Vec::new(), HashSet::new());
    let mut stack: Vec<(ObjectId, usize)> =
        root.get(b"First").and_then(Object::as_reference).map(|id| (id, 1)).into_iter().collect();
    while let Some((id, depth)) = stack.pop() {
        if entries.len() >= MAX_OUTLINE_ENTRIES || !visited.insert(id) {
            continue;
        }
        let Ok(node) = document.get_dictionary(id) else { continue };
        // Depth first: the children before the next sibling.
        if let Ok(next) = node.get(b"Next").and_then(Object::as_reference) {
            stack.push((next, depth));
        }
        if let Ok(first) = node.get(b"First").and_then(Object::as_reference) {
            stack.push((first, depth + 1));
        }
        let title = node.get(b"Title").and_then(|title| document.dereference(title));
        if let Ok(title) = title.and_then(|(_, title)| pdf_extract::decode_text_string(title)) {
            entries.push(Entry { title, depth, page: destination_page(document, node, &pages) });
        }
    }
    entries
}

/// The page an outline entry's destination (or GoTo action) names, if it names one
/// directly rather than through a named destination.
fn destination_page(
    document: &pdf_extract::Document,
    node: &Dictionary,
    pages: &HashMap<ObjectId, u32>,
) -> Option<u32> {
    let action = || {
        let (_, action) = document.dereference(node.get(b"A").ok()?).ok()?;
        action.as_dict().ok()?.get(b"D").ok()
    };
    let (_, destination) = document.dereference(node.get(b"Dest").ok().or_else(action)?).ok()?;
    let target = match destination {
        Object::Array(array) => array.first()?,
        Object::Dictionary(dictionary) => dictionary.get(b"D").ok()?.as_array().ok()?.first()?,
        _ => return None,
    };
    pages.get(&target.as_reference().ok()?).copied()
}

/// Lower-case words: how an outline title and a line are compared.
fn match_key(text: &str) -> String {
    text.to_lowercase().split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The lines (page index, line index) the outline's titles stand on, with their level:
/// a title on its page, or (when its page is unknown) on the first later page having it.
fn outline_headings(pages: &[Page], outline: &[Entry]) -> HashMap<(usize, usize), u8> {
    let mut found = HashMap::new();
    if outline.is_empty() {
        return found;
    }
    let index: HashMap<u32, usize> = pages.iter().enumerate().map(|(i, page)| (page.number, i)).collect();
    let keys: Vec<Vec<String>> =
        pages.iter().map(|page| page.lines.iter().map(|l| match_key(&l.text())).collect()).collect();
    let mut from = 0;
    for entry in outline {
        let wanted = match_key(&entry.title);
        if wanted.is_empty() {
            continue;
        }
        // The line may carry a section number the outline leaves out.
        let same = |key: &str| {
            key == wanted
                || key.strip_suffix(wanted.as_str()).is_some_and(|number| {
                    number.ends_with(' ') && number.split_whitespace().all(|w| w.bytes().all(|b| b.is_ascii_digit()))
                })
        };
        let range = match entry.page.and_then(|number| index.get(&number)) {
            Some(&p) => p..p + 1,
            None => from..pages.len(),
        };
        let hit = range
            .flat_map(|p| keys[p].iter().enumerate().map(move |(i, key)| (p, i, key)))
            .find(|&(p, i, key)| !found.contains_key(&(p, i)) && same(key));
        if let Some((p, i, _)) = hit {
            found.insert((p, i), u8::try_from(entry.depth + 1).unwrap_or(6).min(6));
            from = p;
        }
    }
    found
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    /// A heading of this level; `joins` when a heading set over two lines is one
    /// (unnumbered headings found by their look).
    Heading {
        level: u8,
        joins: bool,
    },
    Row,
    Prose,
}

/// What each line of each page is. With an outline, its titles and numbered titles are
/// the headings; without, also larger lines and capitals.
fn roles(pages: &[Page], outline: &[Entry]) -> Vec<Vec<Role>> {
    let marked = outline_headings(pages, outline);
    let sizes = SizeLevels::new(pages);
    let mut after_sentence = true;
    let mut roles = Vec::with_capacity(pages.len());
    for (p, page) in pages.iter().enumerate() {
        let rows = table_rows(&page.lines);
        let numbered: Vec<Option<u8>> = page
            .lines
            .iter()
            .map(|line| match line.cells.as_slice() {
                [text] => numbered_heading(text),
                _ => None,
            })
            .collect();
        let mut page_roles = Vec::with_capacity(page.lines.len());
        for (i, line) in page.lines.iter().enumerate() {
            let starts = after_sentence || line.gap_before;
            // Numbered lines in a row of one depth are a list (or a table of contents).
            let in_list = |level: u8| {
                (i > 0 && numbered[i - 1] == Some(level)) || numbered.get(i + 1).copied().flatten() == Some(level)
            };
            let role = if rows[i] {
                Role::Row
            } else if let Some(&level) = marked.get(&(p, i)) {
                Role::Heading { level, joins: false }
            } else if let Some(level) = numbered[i].filter(|&level| starts && !in_list(level)) {
                Role::Heading { level, joins: false }
            } else if !marked.is_empty() || line.cells.len() > 1 {
                Role::Prose
            } else if let Some(level) = sizes.level(line) {
                Role::Heading { level, joins: true }
            } else if starts && is_caps_heading(&line.cells[0]) {
                Role::Heading { level: 2, joins: true }
            } else {
                Role::Prose
            };
            after_sentence = role != Role::Prose || ends_sentence(&line.text());
            page_roles.push(role);
        }
        roles.push(page_roles);
    }
    roles
}

/// Which lines are rows of a table: runs of [`TABLE_ROWS`] or more lines with columns.
fn table_rows(lines: &[Line]) -> Vec<bool> {
    let mut rows = vec![false; lines.len()];
    let mut start = 0;
    for end in 0..=lines.len() {
        if lines.get(end).is_some_and(|line| line.cells.len() > 1) {
            continue;
        }
        if end - start >= TABLE_ROWS {
            rows[start..end].fill(true);
        }
        start = end + 1;
    }
    rows
}

/// The body's font size (the one most text is set in) and the larger sizes, largest first.
struct SizeLevels {
    body: f64,
    larger: Vec<i64>,
}

impl SizeLevels {
    /// Sizes are compared in half points.
    fn new(pages: &[Page]) -> Self {
        let half_points = |size: f64| (size * 2.0).round() as i64;
        let mut chars: HashMap<i64, usize> = HashMap::new();
        for line in pages.iter().flat_map(|page| &page.lines) {
            *chars.entry(half_points(line.size)).or_default() += line.cells.iter().map(String::len).sum::<usize>();
        }
        let body = chars.iter().max_by_key(|&(size, count)| (count, -size)).map_or(0, |(&size, _)| size) as f64 / 2.0;
        let mut larger: Vec<i64> = chars.into_keys().filter(|&size| size as f64 / 2.0 >= body * HEADING_SIZE).collect();
        larger.sort_unstable_by(|a, b| b.cmp(a));
        SizeLevels { body, larger }
    }

    /// Level 1 for the largest size, 2 for the next...
    fn level(&self, line: &Line) -> Option<u8> {
        let text = line.text();
        if self.body <= 0.0 || line.size < self.body * HEADING_SIZE || !title_like(&text) {
            return None;
        }
        let rank = self.larger.iter().position(|&size| size == (line.size * 2.0).round() as i64)?;
        Some(u8::try_from(rank + 1).unwrap_or(6).min(6))
    }
}

/// Blocks from the lines by their roles: a heading each, a table of each run of rows,
/// prose lines joined into paragraphs (parted by blank space, headings and tables;
/// a word hyphenated at a line's end joined again).
fn blocks(pages: &[Page], roles: &[Vec<Role>]) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for (page, roles) in pages.iter().zip(roles) {
        let (mut paragraph, mut rows, mut last) = (String::new(), Vec::new(), Role::Prose);
        let push = |blocks: &mut Vec<Block>, kind, text: String| {
            if !text.is_empty() {
                blocks.push(Block { kind, text, page: Some(page.number) });
            }
        };
        for (line, &role) in page.lines.iter().zip(roles) {
            if role != Role::Row {
                push(&mut blocks, BlockKind::Table, std::mem::take(&mut rows).join("\n"));
            }
            if role != Role::Prose || line.gap_before {
                push(&mut blocks, BlockKind::Paragraph, std::mem::take(&mut paragraph));
            }
            match role {
                Role::Heading { joins: true, .. } if last == role && !line.gap_before => {
                    let heading = blocks.last_mut().expect("the heading before");
                    heading.text.push(' ');
                    heading.text.push_str(&line.text());
                }
                Role::Heading { level, .. } => push(&mut blocks, BlockKind::Heading(level), line.text()),
                Role::Row => rows.push(line.cells.join(" | ")),
                Role::Prose => {
                    let text = line.text();
                    let hyphenated = paragraph.strip_suffix('-').is_some_and(|p| p.ends_with(char::is_alphabetic))
                        && text.starts_with(char::is_lowercase);
                    if hyphenated {
                        paragraph.pop();
                    } else if !paragraph.is_empty() {
                        paragraph.push(' ');
                    }
                    paragraph.push_str(&text);
                }
            }
            last = role;
        }
        push(&mut blocks, BlockKind::Table, rows.join("\n"));
        push(&mut blocks, BlockKind::Paragraph, paragraph);
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::materials::pipeline::{extract::PDF, ingest};

    /// A piece of text: x and y in points from the page's bottom left, font size, text.
    type Placed = (f64, f64, f64, String);

    /// A PDF of pages of placed text in Helvetica, with an outline of (title, page index)
    /// entries, the last pointing back at the first when `cyclic`.
    fn pdf(pages: &[Vec<Placed>], outline: &[(&str, usize)], cyclic: bool) -> Vec<u8> {
        let escape = |text: &str| text.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
        let page_id = |index: usize| 5 + 2 * index;
        let root = 4 + 2 * pages.len();
        let mut objects = vec![
            if outline.is_empty() {
                "<< /Type /Catalog /Pages 2 0 R >>".to_owned()
            } else {
                format!("<< /Type /Catalog /Pages 2 0 R /Outlines {root} 0 R >>")
            },
            format!(
                "<< /Type /Pages /Kids [{}] /Count {} >>",
                (0..pages.len()).map(|i| format!("{} 0 R", page_id(i))).collect::<Vec<_>>().join(" "),
                pages.len()
            ),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        ];
        for (i, page) in pages.iter().enumerate() {
            let stream: String = page
                .iter()
                .map(|(x, y, size, text)| format!("BT /F1 {size} Tf 1 0 0 1 {x} {y} Tm ({}) Tj ET\n", escape(text)))
                .collect();
            objects.push(format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()));
            objects.push(format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
                page_id(i) - 1
            ));
        }
        if !outline.is_empty() {
            let item = |k: usize| root + 1 + k;
            objects.push(format!(
                "<< /Type /Outlines /First {} 0 R /Last {} 0 R /Count {} >>",
                item(0),
                item(outline.len() - 1),
                outline.len()
            ));
            for (k, (title, page)) in outline.iter().enumerate() {
                let next = match k + 1 < outline.len() {
                    true => format!("/Next {} 0 R ", item(k + 1)),
                    false if cyclic => format!("/Next {} 0 R ", item(0)),
                    false => String::new(),
                };
                objects.push(format!(
                    "<< /Title ({}) /Parent {root} 0 R {next}/Dest [{} 0 R /XYZ 0 792 0] >>",
                    escape(title),
                    page_id(*page)
                ));
            }
        }
        let mut bytes = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (n, object) in objects.iter().enumerate() {
            offsets.push(bytes.len());
            bytes.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", n + 1).as_bytes());
        }
        let xref = bytes.len();
        bytes.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
        for offset in &offsets {
            bytes.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        bytes.extend_from_slice(
            format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1).as_bytes(),
        );
        bytes
    }

    /// `words` words of prose made from `seed` ("seedaa seedab ..."), in sentences of
    /// ten; letters, not digits, tell them apart, so that no two lines look alike.
    fn prose(seed: &str, words: usize) -> Vec<String> {
        (0..words)
            .map(|n| {
                let word = format!("{seed}{}{}", char::from(b'a' + (n / 26) as u8), char::from(b'a' + (n % 26) as u8));
                if n % 10 == 9 || n + 1 == words { word + "." } else { word }
            })
            .collect()
    }

    /// A section's heading path and its body's words.
    type Section = (Vec<&'static str>, Vec<String>);

    /// A four-page specification: a running header with the page number in it, a
    /// different page-number footer on each page, a title, numbered sections and
    /// subsections (one across a page break), a wrapped line starting with a number,
    /// a word hyphenated at a line's end and a table.
    fn specification() -> (Vec<Vec<Placed>>, Vec<Section>) {
        let title = "Widget Protocol Specification";
        let sections: Vec<(Vec<&str>, &str, Vec<String>)> = vec![
            (vec![title, "1. Introduction"], "1. Introduction", prose("intro", 200)),
            (vec![title, "1. Introduction", "1.1 Scope"], "1.1 Scope", prose("scope", 90)),
            (vec![title, "2. Data model"], "2. Data model", prose("model", 90)),
            (vec![title, "2. Data model", "2.1 Records"], "2.1 Records", prose("record", 90)),
            (vec![title, "Appendix A. Examples"], "Appendix A. Examples", prose("example", 90)),
        ];
        // Lines: (font size, text).
        let mut lines: Vec<(f64, String)> = vec![(20.0, title.to_owned())];
        let mut expected = Vec::new();
        for (path, heading, words) in sections {
            lines.push((12.0, heading.to_owned()));
            let mut body = words.clone();
            if heading == "1.1 Scope" {
                // A line of prose that starts with a number, after a line that does not end a sentence.
                body.splice(3..3, ["and".to_owned()]);
                body.splice(4..4, ["250 Units".to_owned(), "are".to_owned(), "counted".to_owned()]);
            }
            for line in body.chunks(if heading == "1.1 Scope" { 4 } else { 10 }) {
                lines.push((12.0, line.join(" ")));
            }
            if heading == "2.1 Records" {
                lines.push((12.0, "Records carry infor-".to_owned()));
                lines.push((12.0, "mation in three fields.".to_owned()));
            }
            expected.push((path, body.iter().flat_map(|w| w.split(' ')).map(str::to_owned).collect()));
        }
        let footers = ["1", "- 2 -", "Page 3 of 4", "4"];
        let mut pages: Vec<Vec<Placed>> = Vec::new();
        for (n, page_lines) in lines.chunks(lines.len().div_ceil(4)).enumerate() {
            let mut page = vec![(72.0, 760.0, 9.0, format!("Spec v1.2 - page {}", n + 1))];
            let mut y = 720.0;
            for (size, text) in page_lines {
                page.push((72.0, y, *size, text.clone()));
                y -= 16.0;
            }
            if n == 2 {
                for row in [["Field", "Type", "Size"], ["id", "u32", "four bytes"], ["name", "utf8", "any length"]] {
                    for (column, cell) in row.iter().enumerate() {
                        page.push((72.0 + 150.0 * column as f64, y, 12.0, (*cell).to_owned()));
                    }
                    y -= 16.0;
                }
            }
            page.push((300.0, 40.0, 9.0, footers[n].to_owned()));
            pages.push(page);
        }
        (pages, expected)
    }

    fn words(text: &str) -> HashSet<&str> {
        text.split(|c: char| c.is_whitespace() || c == '|').filter(|w| !w.is_empty()).collect()
    }

    #[test]
    fn a_paged_pdf_loses_its_furniture_and_keeps_its_sections() {
        let (pages, sections) = specification();
        let ingested = ingest(PDF, &pdf(&pages, &[], false)).expect("ingested");
        let chunks: Vec<_> = ingested.chunks.iter().map(|c| &c.chunk).collect();
        let all = chunks.iter().map(|c| c.text.as_str()).collect::<Vec<_>>().join("\n");
        assert!(!all.contains("Spec v1.2") && !all.to_lowercase().contains("page"), "{all}");
        let numbers: Vec<&str> = words(&all).into_iter().filter(|w| w.bytes().all(|b| b.is_ascii_digit())).collect();
        assert_eq!(numbers, ["250"], "no page number is left");
        let all_words = words(&all);
        for (path, body) in &sections {
            for word in body {
                assert!(all_words.contains(word.as_str()), "{word} kept");
            }
            // Every chunk holding the section's words sits under its headings.
            let seed = &body[0];
            let holding: Vec<_> = chunks.iter().filter(|c| words(&c.text).contains(seed.as_str())).collect();
            assert!(!holding.is_empty(), "{seed}");
            for chunk in holding {
                assert_eq!(chunk.heading_path, *path, "{}", chunk.text);
            }
        }
        assert!(all_words.contains("information"), "the hyphenated word joined");
        assert_eq!(ingested.metadata["kept_words_ratio"], 1.0, "furniture is not counted as lost");
        let pages_of = |seed: &str| chunks.iter().find(|c| words(&c.text).contains(seed)).map(|c| c.pages.clone());
        assert_eq!(pages_of("introaa"), Some(vec![1, 2]), "a section across a page break");
        assert!(chunks.iter().all(|c| !c.pages.is_empty()));
        let seen: HashSet<u32> = chunks.iter().flat_map(|c| c.pages.clone()).collect();
        assert_eq!(seen, HashSet::from([1, 2, 3, 4]));

        let document = read(&pdf(&pages, &[], false)).expect("read");
        let tables: Vec<&str> =
            document.blocks.iter().filter(|b| b.kind == BlockKind::Table).map(|b| b.text.as_str()).collect();
        assert_eq!(tables, ["Field | Type | Size\nid | u32 | four bytes\nname | utf8 | any length"]);
        let heading = |text: &str| document.blocks.iter().find(|b| b.text == text).map(|b| b.kind);
        assert_eq!(heading("Widget Protocol Specification"), Some(BlockKind::Heading(1)), "the largest line");
        assert_eq!(heading("2.1 Records"), Some(BlockKind::Heading(3)));
    }

    #[test]
    fn a_page_that_cannot_be_read_counts_as_lost() {
        let page = |seed: &str| vec![(72.0, 700.0, 12.0, prose(seed, 10).join(" "))];
        let mut bytes = pdf(&[page("one"), page("two"), page("three"), page("four")], &[], false);
        // The second page draws its text in a font its resources do not name (same length,
        // so the file's offsets hold).
        let at = bytes.windows(5).position(|w| w == b"(twoa").expect("the second page");
        let font = bytes[..at].windows(3).rposition(|w| w == b"/F1").expect("its font");
        bytes[font + 2] = b'9';
        let document = read(&bytes).expect("read");
        let text: String = document.blocks.iter().map(|b| b.text.as_str()).collect();
        assert!(text.contains("oneaa") && text.contains("fouraa") && !text.contains("twoaa"), "{text}");
        assert_eq!(document.kept_ratio, Some(0.75), "three pages of four read");
    }

    #[test]
    fn the_outline_names_the_headings() {
        let line = |y: f64, text: &str| (72.0, y, 12.0, text.to_owned());
        let pages = vec![
            vec![line(720.0, "Background"), line(704.0, "Widgets came first."), line(688.0, "Gadgets came after.")],
            vec![line(720.0, "2 Design"), line(704.0, "The design is plain."), line(688.0, "Nothing more to say.")],
        ];
        let outline = [("Background", 0), ("Design", 1)];
        let document = read(&pdf(&pages, &outline, false)).expect("read");
        let headings: Vec<(&str, Option<u32>)> = document
            .blocks
            .iter()
            .filter(|b| b.kind == BlockKind::Heading(2))
            .map(|b| (b.text.as_str(), b.page))
            .collect();
        assert_eq!(headings, [("Background", Some(1)), ("2 Design", Some(2))]);
        // An outline whose last entry points back at its first is read once.
        let document = pdf_extract::Document::load_mem(&pdf(&pages, &outline, true)).expect("a PDF");
        assert_eq!(outline_titles(&document), ["Background", "Design"]);
    }

    fn outline_titles(document: &pdf_extract::Document) -> Vec<String> {
        outline(document).into_iter().map(|entry| entry.title).collect()
    }

    #[test]
    fn furniture_is_told_by_repetition_and_place() {
        let line = |text: &str| Line { cells: vec![text.to_owned()], size: 12.0, gap_before: false };
        let mut pages: Vec<Page> = (1..=4)
            .map(|n| Page {
                number: n,
                lines: vec![
                    line(&format!("Spec v1.2 — page {n}")),
                    line(&format!("Body line {n}a of the page.")),
                    line(&format!("Body line {n}b of the page.")),
                    line("A line every page has in its middle."),
                    line(&format!("Body line {n}c of the page.")),
                    line(&format!("Body line {n}d of the page.")),
                    line(if n % 2 == 0 { "Only on even pages" } else { "Chapter one" }),
                    line(["i", "- 2 -", "Page 3 of 17", "4"][n as usize - 1]),
                ],
            })
            .collect();
        pages[0].lines.insert(1, line("A heading on the first page only"));
        remove_furniture(&mut pages);
        let first: Vec<String> = pages[0].lines.iter().map(Line::text).collect();
        assert_eq!(
            first,
            [
                "A heading on the first page only",
                "Body line 1a of the page.",
                "Body line 1b of the page.",
                "A line every page has in its middle.",
                "Body line 1c of the page.",
                "Body line 1d of the page.",
            ]
        );
        assert_eq!(pages[1].lines.len(), 5, "a line on half of the pages' edges runs");

        for number in ["3", "- 3 -", "Page 3 of 17", "page 12", "iv", "xii", "3 / 17"] {
            assert!(is_page_number(number), "{number}");
        }
        for not in ["3 apples", "Chapter 3", "Figure 2", "mix", "Page three", "3 4"] {
            assert!(!is_page_number(not), "{not}");
        }
    }

    #[test]
    fn headings_are_told_from_their_numbering_and_capitals() {
        let cases = [
            ("1. Introduction", Some(2)),
            ("0. Definitions", Some(2)),
            ("2.3 Data model", Some(3)),
            ("A.1 Tables", Some(3)),
            ("Appendix A. Tables", Some(2)),
            ("Chapter 4", Some(2)),
            ("CHAPTER IV: The Sea", Some(2)),
            ("Part II", Some(1)),
            ("1. The system starts.", None),
            ("250 units are counted here", None),
            ("2019 Annual Report", None),
            ("Chapter 4 shows how", None),
            ("1. Introduction ........ 3", None),
            ("1. Install the package, then run the command it gives you from a shell", None),
        ];
        for (line, level) in cases {
            assert_eq!(numbered_heading(line), level, "{line}");
        }
        assert!(is_caps_heading("DEFINITIONS") && is_caps_heading("TERMS AND CONDITIONS"));
        assert!(!is_caps_heading("NOTE.") && !is_caps_heading("OK") && !is_caps_heading("Mixed Case"));
    }
}
