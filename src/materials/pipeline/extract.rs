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

/// The media types studyhall ingests; anything else is refused before a job is made.
pub const SUPPORTED: [&str; 2] = ["text/plain", "text/markdown"];

pub fn extract(media_type: &str, bytes: &[u8]) -> Result<Document, PipelineError> {
    match media_type {
        "text/plain" | "text/markdown" => {
            let source = std::str::from_utf8(bytes)
                .map_err(|_| PipelineError::Unreadable("the text is not valid UTF-8".to_owned()))?;
            let blocks = markdown_blocks(&text::normalise(source));
            if blocks.is_empty() {
                return Err(PipelineError::Empty);
            }
            Ok(Document { blocks, extractor: "markdown", pages: None })
        }
        other => Err(PipelineError::Unreadable(format!("{other} is not a supported format"))),
    }
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
    fn text_that_is_not_utf8_or_empty_is_refused() {
        assert!(matches!(extract("text/plain", &[0xff, 0xfe, 0x00]), Err(PipelineError::Unreadable(_))));
        assert!(matches!(extract("text/plain", b"  \n\n "), Err(PipelineError::Empty)));
    }
}
