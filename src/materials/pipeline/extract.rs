//! Extraction: a source's bytes to a sequence of structural blocks.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::PipelineError;
use super::{pdf, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Heading(u8),
    Paragraph,
    List,
    Code,
    Table,
    Quote,
}

/// One structural block of a document, its text normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub kind: BlockKind,
    pub text: String,
    /// The page it is on, for paged formats (PDF).
    pub page: Option<u32>,
}

#[derive(Debug)]
pub struct Document {
    pub blocks: Vec<Block>,
    /// Which extractor read it: recorded in the material's metadata.
    pub extractor: &'static str,
    pub pages: Option<u32>,
}

pub const PDF: &str = "application/pdf";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const HTML: &str = "text/html";
pub const MARKDOWN: &str = "text/markdown";
pub const TEXT: &str = "text/plain";

/// The media type of an uploaded file, told from its content (the name only tells
/// Markdown from plain text): PDF and DOCX by their signatures, HTML by its markup,
/// other UTF-8 as text. None for anything else.
pub fn detect(bytes: &[u8], file_name: Option<&str>) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        return Some(PDF);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // A zip archive: a DOCX has a word/document.xml entry, whose name stands in the
        // archive's headers uncompressed.
        let has_document = bytes.windows(17).any(|w| w == b"word/document.xml");
        return has_document.then_some(DOCX);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if text.contains('\0') {
        return None;
    }
    let head = text.trim_start_matches('\u{feff}').trim_start().get(..text.len().min(1024))?.to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<body") {
        return Some(HTML);
    }
    let markdown_name = file_name.is_some_and(|name| {
        let name = name.to_ascii_lowercase();
        name.ends_with(".md") || name.ends_with(".markdown")
    });
    Some(if markdown_name { MARKDOWN } else { TEXT })
}

/// A DOCX whose entries expand to more than this (in all) is refused before any is
/// read: a zip bomb is caught by its declared sizes or, if those lie, while inflating.
pub const MAX_DOCX_EXPANDED_BYTES: u64 = 128 * 1024 * 1024;

/// A quick look at whether a PDF or DOCX can be opened at all (its structure and size,
/// not its text), so that an upload can be refused at once. Other kinds always open.
pub fn check(media_type: &str, bytes: &[u8]) -> Result<(), PipelineError> {
    match media_type {
        PDF => pdf::document(bytes).map(drop),
        DOCX => docx_document(bytes).map(drop),
        _ => Ok(()),
    }
}

pub fn extract(media_type: &str, bytes: &[u8]) -> Result<Document, PipelineError> {
    let document = match media_type {
        TEXT | MARKDOWN => {
            let source = std::str::from_utf8(bytes)
                .map_err(|_| PipelineError::Unreadable("the text is not valid UTF-8".to_owned()))?;
            Document { blocks: markdown_blocks(&text::normalise(source)), extractor: "markdown", pages: None }
        }
        HTML => html(bytes)?,
        PDF => pdf::read(bytes)?,
        DOCX => docx(bytes)?,
        other => return Err(PipelineError::Unreadable(format!("{other} is not a supported format"))),
    };
    if document.blocks.is_empty() {
        return Err(PipelineError::Empty);
    }
    Ok(document)
}

/// The page's main content (readability: no navigation, sidebars, footers or ads),
/// through Markdown, so that its headings, lists, tables and code keep their structure.
fn html(bytes: &[u8]) -> Result<Document, PipelineError> {
    let page = String::from_utf8_lossy(bytes);
    // An HTML parser checks scopes by walking the open elements: nesting a hundred
    // thousand deep makes that quadratic (and the readability walk recursive).
    if html_depth(&page) > MAX_HTML_DEPTH {
        return Err(PipelineError::Unreadable(format!("the page nests its elements more than {MAX_HTML_DEPTH} deep")));
    }
    let config = dom_smoothie::Config { text_mode: dom_smoothie::TextMode::Markdown, ..Default::default() };
    let article = dom_smoothie::Readability::new(page.as_ref(), None, Some(config))
        .and_then(|mut readability| readability.parse())
        .map_err(|err| PipelineError::Unreadable(format!("no readable content in the page ({err})")))?;
    Ok(Document { blocks: markdown_blocks(&text::normalise(&article.text_content)), extractor: "html", pages: None })
}

/// A DOCX's document, read only after its archive is known to expand to at most
/// [`MAX_DOCX_EXPANDED_BYTES`] (docx-rs trusts the declared sizes and allocates them).
fn docx_document(bytes: &[u8]) -> Result<docx_rs::Docx, PipelineError> {
    let unreadable =
        |err: &dyn std::fmt::Display| PipelineError::Unreadable(format!("the DOCX cannot be read ({err})"));
    let too_big = || {
        PipelineError::Unreadable(format!(
            "the DOCX expands to more than {} MiB",
            MAX_DOCX_EXPANDED_BYTES / (1024 * 1024)
        ))
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|err| unreadable(&err))?;
    let declared = (0..archive.len())
        .map(|i| archive.by_index_raw(i).map(|entry| entry.size()))
        .try_fold(0u64, |sum, size| size.map(|size| sum.saturating_add(size)))
        .map_err(|err| unreadable(&err))?;
    if declared > MAX_DOCX_EXPANDED_BYTES {
        return Err(too_big());
    }
    // Declared sizes may lie: inflate every entry, counting, up to what is left.
    let mut left = MAX_DOCX_EXPANDED_BYTES;
    for i in 0..archive.len() {
        let entry = archive.by_index(i).map_err(|err| unreadable(&err))?;
        let inflated = std::io::copy(&mut std::io::Read::take(entry, left + 1), &mut std::io::sink())
            .map_err(|err| unreadable(&err))?;
        left = left.checked_sub(inflated).ok_or_else(too_big)?;
    }
    std::panic::catch_unwind(|| docx_rs::read_docx(bytes))
        .map_err(|_| PipelineError::Unreadable("the DOCX is malformed".to_owned()))?
        .map_err(|err| unreadable(&err))
}

/// Pages nesting elements deeper than this are refused (browsers flatten the DOM at 512).
pub const MAX_HTML_DEPTH: usize = 1_000;

/// How deep a page nests its elements, from its tags alone (linear, without a parser):
/// elements whose end tag may be left out (p, li, td...) and void ones do not count, so
/// sloppy but real pages are not over-counted; script, style and comments are skipped.
fn html_depth(page: &str) -> usize {
    const UNCOUNTED: &[&str] = &[
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
        "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rb", "rt", "rp", "rtc", "tbody", "thead",
        "tfoot", "colgroup", "caption", "html", "head", "body",
    ];
    let (mut depth, mut deepest, mut rest) = (0usize, 0usize, page);
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if let Some(comment) = rest.strip_prefix("!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let closing = rest.starts_with('/');
        let name_start = usize::from(closing);
        let name: String = rest[name_start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        // The tag's end, outside quoted attribute values.
        let mut quote = None;
        let end = rest.char_indices().find_map(|(i, c)| match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                None
            }
            (Some(q), c) if c == q => {
                quote = None;
                None
            }
            (None, '>') => Some(i),
            _ => None,
        });
        let Some(end) = end else { break };
        let self_closing = rest[..end].ends_with('/');
        rest = &rest[end + 1..];
        if name.is_empty() || UNCOUNTED.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else if matches!(name.as_str(), "script" | "style" | "textarea" | "title") {
            let closes = |at: usize| rest[at + 2..].get(..name.len()).is_some_and(|n| n.eq_ignore_ascii_case(&name));
            rest = rest.match_indices("</").find(|&(at, _)| closes(at)).map_or("", |(at, _)| &rest[at..]);
        } else if !self_closing {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

/// Paragraphs (headings by their Heading/Title style, list items by their numbering)
/// and tables, in document order.
fn docx(bytes: &[u8]) -> Result<Document, PipelineError> {
    let document = docx_document(bytes)?;
    let mut blocks: Vec<Block> = Vec::new();
    for child in &document.document.children {
        match child {
            docx_rs::DocumentChild::Paragraph(paragraph) => {
                let text = text::normalise(&paragraph.raw_text());
                if text.is_empty() {
                    continue;
                }
                let style = paragraph.property.style.as_ref().map(|s| s.val.to_ascii_lowercase()).unwrap_or_default();
                // Word's Title stands above its Heading 1: the title is level 1, and
                // Heading N is level N + 1.
                let kind = if style == "title" {
                    BlockKind::Heading(1)
                } else if let Some(level) = style.strip_prefix("heading").and_then(|l| l.trim().parse::<u8>().ok()) {
                    BlockKind::Heading(level.saturating_add(1).clamp(2, 6))
                } else if paragraph.property.numbering_property.is_some() {
                    BlockKind::List
                } else {
                    BlockKind::Paragraph
                };
                match blocks.last_mut() {
                    // Consecutive list items make one list.
                    Some(last) if kind == BlockKind::List && last.kind == BlockKind::List => {
                        last.text.push_str(&format!("\n- {text}"));
                    }
                    _ if kind == BlockKind::List => blocks.push(Block { kind, text: format!("- {text}"), page: None }),
                    _ => blocks.push(Block { kind, text, page: None }),
                }
            }
            docx_rs::DocumentChild::Table(table) => {
                let rows: Vec<String> = table
                    .rows
                    .iter()
                    .map(|docx_rs::TableChild::TableRow(row)| {
                        row.cells
                            .iter()
                            .map(|docx_rs::TableRowChild::TableCell(cell)| {
                                cell.children
                                    .iter()
                                    .filter_map(|content| match content {
                                        docx_rs::TableCellContent::Paragraph(p) => Some(text::normalise(&p.raw_text())),
                                        _ => None,
                                    })
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            })
                            .collect::<Vec<_>>()
                            .join(" | ")
                    })
                    .collect();
                let text = rows.join("\n");
                if !text.trim().is_empty() {
                    blocks.push(Block { kind: BlockKind::Table, text, page: None });
                }
            }
            _ => {}
        }
    }
    Ok(Document { blocks, extractor: "docx", pages: None })
}

/// Blocks of CommonMark (with tables). Plain prose reads as paragraphs. Nested
/// structure (a list in a quote, paragraphs in a list item) stays inside its outermost
/// block; raw HTML is dropped.
pub fn markdown_blocks(source: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Vec<BlockKind> = Vec::new(); // the containers around the current position
    let mut buffer = String::new();
    let mut list_depth = 0usize;
    let mut first_cell = false;

    for event in Parser::new_ext(source, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(tag) => {
                let kind = match tag {
                    Tag::Heading { level, .. } => Some(BlockKind::Heading(level as u8)),
                    Tag::Paragraph => Some(BlockKind::Paragraph),
                    Tag::List(_) => {
                        list_depth += 1;
                        Some(BlockKind::List)
                    }
                    Tag::CodeBlock(_) => Some(BlockKind::Code),
                    Tag::Table(_) => Some(BlockKind::Table),
                    Tag::BlockQuote(_) => Some(BlockKind::Quote),
                    Tag::Item => {
                        new_line(&mut buffer);
                        buffer.push_str(&"  ".repeat(list_depth.saturating_sub(1)));
                        buffer.push_str("- ");
                        None
                    }
                    Tag::TableHead | Tag::TableRow => {
                        new_line(&mut buffer);
                        first_cell = true;
                        None
                    }
                    Tag::TableCell => {
                        if !std::mem::take(&mut first_cell) {
                            buffer.push_str(" | ");
                        }
                        None
                    }
                    _ => None,
                };
                if let Some(kind) = kind {
                    if !open.is_empty() && kind == BlockKind::Paragraph && !buffer.ends_with("- ") {
                        new_line(&mut buffer);
                    }
                    open.push(kind);
                }
            }
            Event::End(end) => {
                let closes = matches!(
                    end,
                    TagEnd::Heading(_)
                        | TagEnd::Paragraph
                        | TagEnd::List(_)
                        | TagEnd::CodeBlock
                        | TagEnd::Table
                        | TagEnd::BlockQuote(_)
                );
                if matches!(end, TagEnd::List(_)) {
                    list_depth -= 1;
                }
                if closes
                    && let Some(kind) = open.pop()
                    && open.is_empty()
                {
                    let text = std::mem::take(&mut buffer).trim().to_owned();
                    if !text.is_empty() {
                        blocks.push(Block { kind, text, page: None });
                    }
                }
            }
            Event::Text(text) | Event::Code(text) => buffer.push_str(&text),
            Event::SoftBreak => buffer.push(' '),
            Event::HardBreak => buffer.push('\n'),
            _ => {}
        }
    }
    blocks
}

fn new_line(buffer: &mut String) {
    if !buffer.is_empty() && !buffer.ends_with('\n') {
        buffer.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_typed_blocks() {
        let source = "# Cells\n\nCells are *small*.\nVery small.\n\n- one\n- two\n  - nested\n\n\
                      ```\nfn main() {}\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n> quoted <b>bold</b>\n";
        let blocks: Vec<(BlockKind, String)> = markdown_blocks(source).into_iter().map(|b| (b.kind, b.text)).collect();
        assert_eq!(
            blocks,
            [
                (BlockKind::Heading(1), "Cells".to_owned()),
                (BlockKind::Paragraph, "Cells are small. Very small.".to_owned()),
                (BlockKind::List, "- one\n- two\n  - nested".to_owned()),
                (BlockKind::Code, "fn main() {}".to_owned()),
                (BlockKind::Table, "a | b\n1 | 2".to_owned()),
                (BlockKind::Quote, "quoted bold".to_owned()),
            ]
        );
    }

    #[test]
    fn the_type_is_told_from_the_content() {
        assert_eq!(detect(b"%PDF-1.7 ...", Some("notes.txt")), Some(PDF));
        assert_eq!(detect(b"<!DOCTYPE html><html><body><p>Hi</p></body></html>", Some("a.pdf")), Some(HTML));
        assert_eq!(detect(b"# Title\n\nText", Some("notes.md")), Some(MARKDOWN));
        assert_eq!(detect(b"Just words.", None), Some(TEXT));
        assert_eq!(detect(b"PK\x03\x04 not a document", Some("a.docx")), None, "a zip that is no DOCX");
        assert_eq!(detect(&[0xde, 0xad, 0xbe, 0xef, 0xff], Some("a.pdf")), None, "binary junk");
    }

    #[test]
    fn a_corrupt_pdf_is_unreadable_not_a_crash() {
        let error = extract(PDF, b"%PDF-1.4\n garbage garbage").expect_err("refused");
        assert!(matches!(error, PipelineError::Unreadable(_)), "{error:?}");
        assert!(check(PDF, b"%PDF-1.4\n garbage garbage").is_err());
        assert!(check(DOCX, b"PK\x03\x04word/document.xml and junk").is_err());
        assert!(check(TEXT, b"anything").is_ok());
    }

    #[test]
    fn html_depth_counts_what_nests() {
        assert_eq!(html_depth("<div><section><span>a</span></section></div>"), 3);
        // Optional end tags, void and self-closed elements, comments and scripts do not nest.
        let sloppy = "<!-- <div><div> --><p>one<p>two<br><img src='a>b'><ul><li>x<li>y</ul><x-icon/>\
                      <script>if (a < b) { '<div><div><div>' }</SCRIPT><div>z</div>";
        assert_eq!(html_depth(sloppy), 1);
        let deep = format!("{}x{}", "<div>".repeat(5000), "</div>".repeat(5000));
        assert_eq!(html_depth(&deep), 5000);
        let tables = "<table><tr><td>".repeat(3000);
        let error = extract(HTML, format!("<html><body>{tables}x</body></html>").as_bytes()).expect_err("refused");
        assert_eq!(
            error,
            PipelineError::Unreadable(format!("the page nests its elements more than {MAX_HTML_DEPTH} deep"))
        );
    }

    #[test]
    fn text_that_is_not_utf8_or_empty_is_refused() {
        assert!(matches!(extract("text/plain", &[0xff, 0xfe, 0x00]), Err(PipelineError::Unreadable(_))));
        assert!(matches!(extract("text/plain", b"  \n\n "), Err(PipelineError::Empty)));
    }
}
