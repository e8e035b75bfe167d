//! DOCX: paragraphs (headings by their Title/Heading style, list items by their
//! numbering) and tables, in document order, content controls' included; a table of
//! contents (paragraphs in Word's TOC styles) is navigation and left out. The words kept
//! are measured against the body's text read from `word/document.xml` apart from
//! docx-rs, so that what docx-rs does not read is seen as lost.

use docx_rs::{DocumentChild, ParagraphChild, StructuredDataTagChild, TableCellContent};

use super::PipelineError;
use super::extract::{Archive, Block, BlockKind, Document, block_words, kept_share, zip_entry, zip_within};
use super::text;

/// A DOCX's document and archive, read only after the archive is known to expand to at
/// most [`super::extract::MAX_DOCX_EXPANDED_BYTES`] (docx-rs trusts the declared sizes
/// and allocates them).
pub fn document(bytes: &[u8]) -> Result<(docx_rs::Docx, Archive<'_>), PipelineError> {
    let archive = zip_within(bytes, "DOCX")?;
    let document = std::panic::catch_unwind(|| docx_rs::read_docx(bytes))
        .map_err(|_| PipelineError::Unreadable("the DOCX is malformed".to_owned()))?
        .map_err(|err| unreadable(&err))?;
    Ok((document, archive))
}

fn unreadable(err: &dyn std::fmt::Display) -> PipelineError {
    PipelineError::Unreadable(format!("the DOCX cannot be read ({err})"))
}

/// The document's blocks, and the share of its body's words they keep.
pub fn read(bytes: &[u8]) -> Result<Document, PipelineError> {
    let (document, mut archive) = document(bytes)?;
    let mut blocks: Vec<Block> = Vec::new();
    for child in &document.document.children {
        match child {
            DocumentChild::Paragraph(paragraph) => push_paragraph(paragraph, &mut blocks),
            DocumentChild::Table(table) => push_table(table, &mut blocks),
            DocumentChild::StructuredDataTag(control) => push_control(control, &mut blocks),
            _ => {}
        }
    }
    let body_words = words(&zip_entry(&mut archive, "word/document.xml", "DOCX")?)?;
    let kept_ratio = kept_share(block_words(&blocks), body_words);
    Ok(Document { blocks, extractor: "docx", pages: None, kept_ratio })
}

/// Whether a paragraph style is one of a table of contents' ("TOC1", "TOCHeading").
fn is_contents_style(style: &str) -> bool {
    style.get(..3).is_some_and(|prefix| prefix.eq_ignore_ascii_case("toc"))
}

fn push_paragraph(paragraph: &docx_rs::Paragraph, blocks: &mut Vec<Block>) {
    let style = paragraph.property.style.as_ref().map(|s| s.val.to_ascii_lowercase()).unwrap_or_default();
    let text = text::normalise(&paragraph_text(paragraph));
    if text.is_empty() || is_contents_style(&style) {
        return;
    }
    // Word's Title stands above its Heading 1: the title is level 1, and Heading N is
    // level N + 1.
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

/// A table's rows, one a line, cells separated by ` | ` (a table nested in a cell is not read).
fn push_table(table: &docx_rs::Table, blocks: &mut Vec<Block>) {
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
                            TableCellContent::Paragraph(p) => Some(text::normalise(&paragraph_text(p))),
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

/// The paragraphs and tables of a content control (Word's fill-in fields and cover pages).
fn push_control(control: &docx_rs::StructuredDataTag, blocks: &mut Vec<Block>) {
    for child in &control.children {
        match child {
            StructuredDataTagChild::Paragraph(paragraph) => push_paragraph(paragraph, blocks),
            StructuredDataTagChild::Table(table) => push_table(table, blocks),
            StructuredDataTagChild::StructuredDataTag(inner) => push_control(inner, blocks),
            _ => {}
        }
    }
}

/// A paragraph's text as docx-rs's `raw_text` reads it (runs, insertions, text moved
/// in; not what was deleted or moved away), with its hyperlinks' text, which `raw_text`
/// leaves out.
fn paragraph_text(paragraph: &docx_rs::Paragraph) -> String {
    fn run(run: &docx_rs::Run, out: &mut String) {
        for child in &run.children {
            match child {
                docx_rs::RunChild::Text(text) => out.push_str(&text.text),
                docx_rs::RunChild::Tab(_) | docx_rs::RunChild::PTab(_) => out.push('\t'),
                docx_rs::RunChild::Break(_) | docx_rs::RunChild::CarriageReturn(_) => out.push('\n'),
                _ => {}
            }
        }
    }
    fn children(list: &[ParagraphChild], out: &mut String) {
        for child in list {
            match child {
                ParagraphChild::Run(r) => run(r, out),
                ParagraphChild::Insert(insert) => {
                    for child in &insert.children {
                        if let docx_rs::InsertChild::Run(r) = child {
                            run(r, out);
                        }
                    }
                }
                ParagraphChild::MoveTo(moved) => {
                    for child in &moved.children {
                        if let docx_rs::MoveToChild::Run(r) = child {
                            run(r, out);
                        }
                    }
                }
                ParagraphChild::Hyperlink(link) => children(&link.children, out),
                _ => {}
            }
        }
    }
    let mut out = String::new();
    children(&paragraph.children, &mut out);
    out
}

/// The words of the body of a `word/document.xml`: the text of its runs (`w:t`),
/// paragraphs and cells apart, but not what was deleted or moved away, the fallback copy
/// of a drawing's text, or a table of contents. Headers, footers and footnotes are other
/// parts, not counted.
fn words(xml: &str) -> Result<usize, PipelineError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut text = String::new();
    // Inside a `w:t`; how deep inside elements whose text is not counted; inside a
    // paragraph in a table of contents' style.
    let (mut in_text, mut skipped, mut contents) = (false, 0usize, false);
    loop {
        match reader.read_event().map_err(|err| unreadable(&err))? {
            Event::Start(element) => match element.name().as_ref() {
                b"w:t" => in_text = true,
                b"w:del" | b"w:moveFrom" | b"mc:Fallback" => skipped += 1,
                _ => {}
            },
            Event::Empty(element) if element.name().as_ref() == b"w:pStyle" => {
                contents = element.attributes().flatten().any(|attribute| {
                    attribute.key.as_ref() == b"w:val"
                        && std::str::from_utf8(&attribute.value).is_ok_and(is_contents_style)
                });
            }
            Event::End(element) => match element.name().as_ref() {
                b"w:t" => in_text = false,
                b"w:p" | b"w:tc" => {
                    contents = false;
                    text.push('\n');
                }
                b"w:del" | b"w:moveFrom" | b"mc:Fallback" => skipped = skipped.saturating_sub(1),
                _ => {}
            },
            Event::Text(run) if in_text && skipped == 0 && !contents => {
                text.push_str(&run.decode().map_err(|err| unreadable(&err))?);
            }
            Event::GeneralRef(entity) if in_text && skipped == 0 && !contents => {
                let entity = format!("&{};", entity.decode().map_err(|err| unreadable(&err))?);
                text.push_str(&quick_xml::escape::unescape(&entity).map_err(|err| unreadable(&err))?);
            }
            Event::Eof => return Ok(text::word_count(&text)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use docx_rs::{Docx, Hyperlink, HyperlinkType, Paragraph, Run, StructuredDataTag, Table, TableCell, TableRow};

    use super::*;

    fn text(text: &str) -> Paragraph {
        Paragraph::new().add_run(Run::new().add_text(text))
    }

    fn packed(document: Docx) -> Vec<u8> {
        let mut bytes = std::io::Cursor::new(Vec::new());
        document.build().pack(&mut bytes).expect("write the DOCX");
        bytes.into_inner()
    }

    #[test]
    fn links_and_content_controls_are_read_and_the_contents_left_out() {
        let entry = Hyperlink::new("_Toc1", HyperlinkType::Anchor).add_run(Run::new().add_text("Introduction\t1"));
        let contents = StructuredDataTag::new()
            .add_paragraph(text("Contents").style("TOCHeading"))
            .add_paragraph(Paragraph::new().style("TOC1").add_hyperlink(entry));
        let link = Hyperlink::new("https://example.org/cells", HyperlinkType::External)
            .add_run(Run::new().add_text("cell biology guide"));
        let document = Docx::new()
            .add_paragraph(text("Cells").style("Title"))
            .add_structured_data_tag(contents)
            .add_paragraph(
                Paragraph::new()
                    .add_run(Run::new().add_text("Read the "))
                    .add_hyperlink(link)
                    .add_run(Run::new().add_text(" first.")),
            )
            .add_structured_data_tag(
                StructuredDataTag::new().add_paragraph(text("Written by the biology department.")),
            );
        let document = read(&packed(document)).expect("read");
        let blocks: Vec<(BlockKind, &str)> = document.blocks.iter().map(|b| (b.kind, b.text.as_str())).collect();
        assert_eq!(
            blocks,
            [
                (BlockKind::Heading(1), "Cells"),
                (BlockKind::Paragraph, "Read the cell biology guide first."),
                (BlockKind::Paragraph, "Written by the biology department."),
            ]
        );
        assert_eq!(document.kept_ratio, Some(1.0), "nothing lost; the contents are not counted");
    }

    #[test]
    fn words_that_are_not_read_count_as_lost() {
        // A table nested in a cell is not read.
        let cell = |paragraph: &str| TableCell::new().add_paragraph(text(paragraph));
        let inner = Table::new(vec![TableRow::new(vec![cell("six words nested inside this cell")])]);
        let outer = Table::new(vec![TableRow::new(vec![cell("Outer cell").add_table(inner)])]);
        let document = Docx::new().add_paragraph(text("Four words stand here.")).add_table(outer);
        let document = read(&packed(document)).expect("read");
        assert_eq!(document.kept_ratio, Some(0.5), "6 of 12 words kept");
    }
}
