//! Extraction: a source's bytes to a sequence of structural blocks.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::PipelineError;
use super::text;

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

/// A quick look at whether a PDF or DOCX can be opened at all (its structure, not its
/// text), so that an upload can be refused at once. Other kinds always open.
pub fn check(media_type: &str, bytes: &[u8]) -> Result<(), PipelineError> {
    match media_type {
        PDF => {
            let pages =
                std::panic::catch_unwind(|| pdf_extract::Document::load_mem(bytes).map(|d| d.get_pages().len()))
                    .map_err(|_| PipelineError::Unreadable("the PDF is malformed".to_owned()))?
                    .map_err(|err| PipelineError::Unreadable(format!("the PDF cannot be read ({err})")))?;
            if pages == 0 {
                return Err(PipelineError::Unreadable("the PDF has no pages".to_owned()));
            }
            Ok(())
        }
        DOCX => docx_rs::read_docx(bytes)
            .map(drop)
            .map_err(|err| PipelineError::Unreadable(format!("the DOCX cannot be read ({err})"))),
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
        PDF => pdf(bytes)?,
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
    let config = dom_smoothie::Config { text_mode: dom_smoothie::TextMode::Markdown, ..Default::default() };
    let article = dom_smoothie::Readability::new(page.as_ref(), None, Some(config))
        .and_then(|mut readability| readability.parse())
        .map_err(|err| PipelineError::Unreadable(format!("no readable content in the page ({err})")))?;
    Ok(Document { blocks: markdown_blocks(&text::normalise(&article.text_content)), extractor: "html", pages: None })
}

/// The text of every page, as paragraphs that remember their page.
fn pdf(bytes: &[u8]) -> Result<Document, PipelineError> {
    // pdf-extract panics on some malformed files; a panic is one more unreadable file.
    let pages = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes))
        .map_err(|_| PipelineError::Unreadable("the PDF is malformed".to_owned()))?
        .map_err(|err| PipelineError::Unreadable(format!("the PDF cannot be read ({err})")))?;
    let mut blocks = Vec::new();
    for (index, page) in pages.iter().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        for paragraph in text::normalise(page).split("\n\n") {
            // Lines within a paragraph are the PDF's line breaks, not the author's.
            let paragraph = paragraph.replace('\n', " ");
            if !paragraph.trim().is_empty() {
                blocks.push(Block { kind: BlockKind::Paragraph, text: paragraph, page: Some(number) });
            }
        }
    }
    Ok(Document { blocks, extractor: "pdf", pages: Some(u32::try_from(pages.len()).unwrap_or(u32::MAX)) })
}

/// Paragraphs (headings by their Heading/Title style, list items by their numbering)
/// and tables, in document order.
fn docx(bytes: &[u8]) -> Result<Document, PipelineError> {
    let document = docx_rs::read_docx(bytes)
        .map_err(|err| PipelineError::Unreadable(format!("the DOCX cannot be read ({err})")))?;
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
    fn text_that_is_not_utf8_or_empty_is_refused() {
        assert!(matches!(extract("text/plain", &[0xff, 0xfe, 0x00]), Err(PipelineError::Unreadable(_))));
        assert!(matches!(extract("text/plain", b"  \n\n "), Err(PipelineError::Empty)));
    }
}
