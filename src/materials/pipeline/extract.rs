//! Extraction: a source's bytes to a sequence of structural blocks.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use unicode_normalization::UnicodeNormalization;

use super::PipelineError;
use super::{docx, epub, html, pdf, text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Heading(u8),
    Paragraph,
    List,
    Code,
    /// What a program, a compiler or a shell printed (see [`code_kind`]).
    Output,
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
    /// The share of the source's visible words that the blocks keep (what each format
    /// counts as visible: docs/ingestion.md): recorded in the material's metadata.
    pub kept_ratio: Option<f64>,
}

/// The words of `blocks`.
pub fn block_words(blocks: &[Block]) -> usize {
    blocks.iter().map(|block| text::word_count(&block.text)).sum()
}

/// `kept` words as a share of `visible` ones, at most 1; None when nothing was visible.
pub fn kept_share(kept: usize, visible: usize) -> Option<f64> {
    (visible > 0).then(|| (kept as f64 / visible as f64).min(1.0))
}

pub const PDF: &str = "application/pdf";
pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const HTML: &str = "text/html";
pub const MARKDOWN: &str = "text/markdown";
pub const TEXT: &str = "text/plain";
pub const EPUB: &str = "application/epub+zip";

/// The media type of an uploaded file, told from its content (the name only tells
/// Markdown from plain text): PDF and DOCX by their signatures, HTML by its markup,
/// other UTF-8 as text. None for anything else.
pub fn detect(bytes: &[u8], file_name: Option<&str>) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        return Some(PDF);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // A zip archive: an EPUB starts with its `mimetype` entry, stored as is.
        let head = bytes.get(..256).unwrap_or(bytes);
        if head.windows(8).any(|w| w == b"mimetype") && head.windows(20).any(|w| w == EPUB.as_bytes()) {
            return Some(EPUB);
        }
        // A DOCX has a word/document.xml entry, whose name stands in the
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

/// Whether text (pasted, without a file name) is Markdown: it shows Markdown's structure
/// clearly, by an ATX heading (`# Title`), a fenced code block, an inline link
/// (`[text](target)`), a table's delimiter row (`|---|---|`), or list lines (`- `, `* `)
/// together with bold text. Anything else is plain text, read as written.
pub fn looks_like_markdown(text: &str) -> bool {
    let (mut fences, mut list_lines, mut bold) = (0, 0, false);
    for line in text.lines() {
        let hashes = line.len() - line.trim_start_matches('#').len();
        let heading = (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') && !line[hashes..].trim().is_empty();
        let link = line.find("](").is_some_and(|at| line[..at].contains('[') && line[at..].contains(')'));
        let trimmed = line.trim();
        let table_rule = trimmed.contains('|')
            && trimmed.contains("---")
            && trimmed.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '));
        fences += usize::from(trimmed.starts_with("```") || trimmed.starts_with("~~~"));
        if heading || link || table_rule || fences >= 2 {
            return true;
        }
        list_lines += usize::from(trimmed.starts_with("- ") || trimmed.starts_with("* "));
        bold |= line.matches("**").nth(1).is_some() || line.matches("__").nth(1).is_some();
    }
    list_lines >= 2 && bold
}

/// A DOCX or EPUB whose entries expand to more than this (in all) is refused before any
/// is read: a zip bomb is caught by its declared sizes or, if those lie, while inflating.
pub const MAX_DOCX_EXPANDED_BYTES: u64 = 128 * 1024 * 1024;

/// A quick look at whether a PDF, DOCX or EPUB can be opened at all (its structure and size,
/// not its text), so that an upload can be refused at once. Other kinds always open.
pub fn check(media_type: &str, bytes: &[u8]) -> Result<(), PipelineError> {
    match media_type {
        PDF => pdf::document(bytes).map(drop),
        DOCX => docx::document(bytes).map(drop),
        EPUB => epub::chapters(bytes).map(drop),
        _ => Ok(()),
    }
}

pub fn extract(media_type: &str, bytes: &[u8]) -> Result<Document, PipelineError> {
    let document = match media_type {
        TEXT => {
            let source = utf8(bytes)?;
            let blocks = plain_blocks(source);
            // Page markers are removed by design: they are not the text's words.
            let visible = text::word_count(&text::strip_page_markers(source));
            let kept_ratio = kept_share(block_words(&blocks), visible);
            Document { blocks, extractor: "text", pages: None, kept_ratio }
        }
        MARKDOWN => {
            let (blocks, raw_html_words) = markdown(utf8(bytes)?);
            // The blocks keep all the rendered text but raw HTML's (alt text is not
            // rendered): with no raw HTML, nothing was lost and nothing needs counting.
            let kept_ratio = if raw_html_words == 0 {
                Some(1.0)
            } else {
                let kept = block_words(&blocks);
                kept_share(kept, kept + raw_html_words)
            };
            Document { blocks, extractor: "markdown", pages: None, kept_ratio }
        }
        HTML => html(bytes)?,
        EPUB => epub::read(bytes)?,
        PDF => pdf::read(bytes)?,
        DOCX => docx::read(bytes)?,
        other => return Err(PipelineError::Unreadable(format!("{other} is not a supported format"))),
    };
    if document.blocks.is_empty() {
        return Err(PipelineError::Empty);
    }
    Ok(document)
}

fn utf8(bytes: &[u8]) -> Result<&str, PipelineError> {
    std::str::from_utf8(bytes).map_err(|_| PipelineError::Unreadable("the text is not valid UTF-8".to_owned()))
}

/// The page's main content, or all of its body if that would lose text (see [`html::read`]).
fn html(bytes: &[u8]) -> Result<Document, PipelineError> {
    let page = String::from_utf8_lossy(bytes);
    check_html_depth(&page)?;
    html::read(&page)
}

/// An HTML parser checks scopes by walking the open elements: nesting a hundred
/// thousand deep makes that quadratic (and a walk of the tree recursive).
pub fn check_html_depth(page: &str) -> Result<(), PipelineError> {
    if html_depth(page) > MAX_HTML_DEPTH {
        return Err(PipelineError::Unreadable(format!("the page nests its elements more than {MAX_HTML_DEPTH} deep")));
    }
    Ok(())
}

/// A zip archive read from memory (a DOCX, an EPUB).
pub type Archive<'a> = zip::ZipArchive<std::io::Cursor<&'a [u8]>>;

/// A zip archive (a DOCX or an EPUB, named `format` in errors) whose entries expand to
/// at most [`MAX_DOCX_EXPANDED_BYTES`] in all: a zip bomb is caught by its declared
/// sizes or, if those lie, while inflating, before any entry is read for its content.
pub fn zip_within<'a>(bytes: &'a [u8], format: &str) -> Result<Archive<'a>, PipelineError> {
    let unreadable =
        |err: &dyn std::fmt::Display| PipelineError::Unreadable(format!("the {format} cannot be read ({err})"));
    let too_big = || {
        PipelineError::Unreadable(format!(
            "the {format} expands to more than {} MiB",
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
    Ok(archive)
}

/// An archive's entry as text (its size checked by [`zip_within`]); errors name the
/// archive's `format`.
pub fn zip_entry(archive: &mut Archive<'_>, path: &str, format: &str) -> Result<String, PipelineError> {
    let unreadable = |why: String| PipelineError::Unreadable(format!("the {format} cannot be read ({why})"));
    let mut file = archive.by_name(path).map_err(|_| unreadable(format!("{path} is missing")))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(|err| unreadable(err.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
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

/// Blocks of CommonMark (with tables), and the words a reader would see in its raw
/// HTML blocks. Plain prose reads as paragraphs. Nested structure (a list in a quote,
/// paragraphs in a list item) stays inside its outermost block; raw HTML and images'
/// alt text are dropped. Each block is normalised on its own, code without folding its
/// spaces.
pub fn markdown(source: &str) -> (Vec<Block>, usize) {
    let mut blocks = Vec::new();
    let (mut raw_html, mut raw_html_words) = (String::new(), 0);
    let mut open: Vec<BlockKind> = Vec::new(); // the containers around the current position
    let mut buffer = String::new();
    let mut list_depth = 0usize;
    let mut first_cell = false;
    let mut in_image = 0usize;
    let mut fence_language: Option<String> = None;

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
                    Tag::CodeBlock(kind) => {
                        // "rust,ignore", "console", "python {.numberLines}": the first word.
                        fence_language = match kind {
                            CodeBlockKind::Fenced(info) => info.split([',', ' ', '{']).next().map(str::to_owned),
                            CodeBlockKind::Indented => None,
                        };
                        Some(BlockKind::Code)
                    }
                    Tag::Table(_) => Some(BlockKind::Table),
                    Tag::BlockQuote(_) => Some(BlockKind::Quote),
                    Tag::Item => {
                        new_line(&mut buffer);
                        buffer.push_str(&"  ".repeat(list_depth.saturating_sub(1)));
                        buffer.push_str("- ");
                        None
                    }
                    Tag::Image { .. } => {
                        in_image += 1;
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
                match end {
                    TagEnd::List(_) => list_depth -= 1,
                    TagEnd::Image => in_image -= 1,
                    TagEnd::HtmlBlock => raw_html_words += html::visible_words(&std::mem::take(&mut raw_html)),
                    _ => {}
                }
                if closes
                    && let Some(kind) = open.pop()
                    && open.is_empty()
                {
                    let text = tidy(kind, &std::mem::take(&mut buffer));
                    let kind = match kind {
                        BlockKind::Code => code_kind(fence_language.take().as_deref(), &text),
                        other => other,
                    };
                    if !text.is_empty() {
                        blocks.push(Block { kind, text, page: None });
                    }
                }
            }
            Event::Text(text) | Event::Code(text) if in_image == 0 => buffer.push_str(&text),
            Event::Html(html) => raw_html.push_str(&html),
            Event::SoftBreak => buffer.push(' '),
            Event::HardBreak => buffer.push('\n'),
            _ => {}
        }
    }
    (blocks, raw_html_words)
}

/// A block's text normalised for its kind: code keeps its spaces, a list its indentation.
fn tidy(kind: BlockKind, text: &str) -> String {
    match kind {
        BlockKind::Code => code_text(text),
        BlockKind::List => text
            .lines()
            .map(|line| {
                let item = line.trim_start();
                format!("{}{}", &line[..line.len() - item.len()], text::normalise(item))
            })
            .filter(|line| !line.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => text::normalise(text),
    }
}

/// Code as written: NFC, Unix line ends, no control characters but tabs, no trailing
/// spaces or blank lines around it; indentation kept.
pub fn code_text(code: &str) -> String {
    let code: String =
        code.replace("\r\n", "\n").nfc().filter(|c| matches!(c, '\n' | '\t') || !c.is_control()).collect();
    let lines: Vec<&str> = code.lines().map(str::trim_end).collect();
    let first = lines.iter().position(|line| !line.is_empty()).unwrap_or(lines.len());
    let last = lines.iter().rposition(|line| !line.is_empty()).map_or(first, |at| at + 1);
    lines[first..last].join("\n")
}

/// Languages a code block can be tagged with (a Markdown fence's, an HTML class
/// `language-X`) that mark it as output: mdBook tags program and compiler output
/// `console` or `text`.
const OUTPUT_LANGUAGES: &[&str] = &["console", "output", "shell-session", "shellsession", "terminal", "text"];

/// Whether a code block (`code`, as [`code_text`] gives it) is code or what a program, a
/// compiler or a shell printed: by the language its source tags it with, or, untagged,
/// by its lines. Every format's code blocks are told apart here.
pub fn code_kind(language: Option<&str>, code: &str) -> BlockKind {
    let output = match language.map(str::trim).filter(|language| !language.is_empty()) {
        Some(language) => OUTPUT_LANGUAGES.iter().any(|output| output.eq_ignore_ascii_case(language)),
        None => looks_like_output(code),
    };
    if output { BlockKind::Output } else { BlockKind::Code }
}

/// Whether untagged code reads as output: a shell prompt (`$ `) followed by what the
/// command printed, rustc's diagnostics (`error[E0382]:`, `--> src/main.rs:4:5`, an
/// `error:` or `warning:` with its `|` gutter), cargo's status lines (`   Compiling`,
/// `    Finished`, `     Running`), or a Python traceback.
fn looks_like_output(code: &str) -> bool {
    let location = |at: &str| {
        let mut parts = at.rsplitn(3, ':');
        parts.next().is_some_and(|n| n.parse::<u32>().is_ok()) && parts.next().is_some_and(|n| n.parse::<u32>().is_ok())
    };
    // "   Compiling app v0.1.0 (...)", "    Finished `dev` profile", "     Running `app`".
    let cargo = |line: &str| {
        let trimmed = line.trim_start();
        let Some((verb, rest)) = trimmed.split_once(' ') else { return false };
        line.len() - trimmed.len() >= 3
            && match verb {
                "Compiling" | "Checking" => rest.split(' ').nth(1).is_some_and(|version| version.starts_with('v')),
                "Finished" | "Running" => rest.starts_with('`'),
                _ => false,
            }
    };
    let (mut after_prompt, mut diagnostic) = (false, false);
    for line in code.lines() {
        let trimmed = line.trim_start();
        if line.starts_with("$ ") {
            after_prompt = true;
            continue;
        }
        let printed = after_prompt && !trimmed.is_empty()
            || trimmed.starts_with("error[E")
            || cargo(line)
            || trimmed.strip_prefix("--> ").is_some_and(location)
            || diagnostic && (trimmed == "|" || trimmed.starts_with("| "))
            || line.starts_with("Traceback (most recent call last):");
        if printed {
            return true;
        }
        diagnostic |= line.starts_with("error: ") || line.starts_with("warning: ");
    }
    false
}

/// Plain text as written: paragraphs between blank lines, only white space and Unicode
/// normalised (no markup is read: `<year>` and `backticks` stay). Lines underlined with
/// `===` or `---`, short numbered lines ("7. Termination") and all-capital lines that
/// open a paragraph are headings; lines from the first that looks like a list item
/// (`- `, `* `, `1. `, `a) `, `(i) `) are a list, numbers kept, continuation lines joined.
/// A definition list's term (a short line over more deeply indented ones: a manual
/// page's options and commands) is a heading one level under its section, so that its
/// description keeps what it describes.
pub fn plain_blocks(source: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut section_level = 1;
    for raw in raw_paragraphs(source) {
        let mut body = raw;
        // A section's title right over its first entry ("OPTIONS" over "-d"): the title first.
        if let Some((first, rest)) = raw.split_once('\n')
            && definition_term(rest).is_some()
            && let Some(level) = heading_level(first.trim(), rest.lines().next().map(str::trim))
        {
            push_block(&mut blocks, BlockKind::Heading(level), text::normalise(first));
            (section_level, body) = (level, rest);
        }
        let body = match definition_term(body) {
            Some((term, description)) => {
                push_block(&mut blocks, BlockKind::Heading((section_level + 1).min(6)), text::normalise(term));
                description
            }
            None => body,
        };
        plain_paragraphs(&text::normalise(body), &mut blocks, &mut section_level);
    }
    blocks
}

fn push_block(blocks: &mut Vec<Block>, kind: BlockKind, text: String) {
    if !text.is_empty() {
        blocks.push(Block { kind, text, page: None });
    }
}

/// The paragraphs of `source` as written (indentation kept), between lines with nothing
/// but white space.
fn raw_paragraphs(source: &str) -> impl Iterator<Item = &str> {
    let mut lines = source.split_inclusive('\n').peekable();
    let mut at = 0;
    std::iter::from_fn(move || {
        while lines.next_if(|line| line.trim().is_empty()).is_some_and(|line| {
            at += line.len();
            true
        }) {}
        let start = at;
        while let Some(line) = lines.next_if(|line| !line.trim().is_empty()) {
            at += line.len();
        }
        (at > start).then(|| &source[start..at])
    })
}

/// A definition list's entry: its first line a term (at most eight words, not ending a
/// sentence) and the lines after it indented further, as `man` lays out options. A
/// quoted term whose next line goes on in lower case is a sentence with a hanging indent
/// (a licence's `1.1. "Contributor"` over `means each individual ...`): no entry.
fn definition_term(paragraph: &str) -> Option<(&str, &str)> {
    let (term, description) = paragraph.split_once('\n')?;
    let indent = |line: &str| line.len() - line.trim_start().len();
    let first_description = description.lines().find(|l| !l.trim().is_empty())?;
    let term_words = term.split_whitespace().count();
    let goes_on = term.trim_end().ends_with(['"', '”', '’', '»'])
        && first_description.trim_start().starts_with(char::is_lowercase);
    let is_term = (1..=8).contains(&term_words)
        && term.trim().len() <= 80
        && !term.trim_end().ends_with(['.', ',', ';', ':', '!', '?'])
        && !goes_on
        && indent(first_description) >= indent(term) + 2;
    is_term.then_some((term, description))
}

/// The blocks of normalised plain text, after [`plain_blocks`]'s rules; `section_level`
/// follows the headings.
fn plain_paragraphs(normalised: &str, blocks: &mut Vec<Block>, section_level: &mut u8) {
    for paragraph in normalised.split("\n\n") {
        let lines: Vec<&str> = paragraph.lines().collect();
        let mut prose: Vec<&str> = Vec::new();
        let mut items: Vec<String> = Vec::new();
        let mut at = 0;
        while at < lines.len() {
            let line = lines[at];
            let next = lines.get(at + 1).copied();
            let level = match next.and_then(underline) {
                Some(level) => Some(level),
                None if at == 0 || (prose.is_empty() && items.is_empty()) => heading_level(line, next),
                None => None,
            };
            if let Some(level) = level {
                flush(blocks, &mut prose, &mut items);
                push_block(blocks, BlockKind::Heading(level), line.to_owned());
                *section_level = level;
                at += if next.and_then(underline).is_some() { 2 } else { 1 };
                continue;
            }
            if underline(line).is_some() && prose.is_empty() && items.is_empty() {
                // A rule on its own line: no words.
            } else if line.len() >= 3 && line.chars().all(|c| c == '_') {
                // A footnotes' rule under the text ("____" over "3 similar to TeX"): the
                // text ends there.
                flush(blocks, &mut prose, &mut items);
            } else if list_item(line) {
                if !prose.is_empty() {
                    push_block(blocks, BlockKind::Paragraph, std::mem::take(&mut prose).join(" "));
                }
                items.push(line.to_owned());
            } else if let Some(item) = items.last_mut() {
                item.push(' ');
                item.push_str(line);
            } else {
                prose.push(line);
            }
            at += 1;
        }
        flush(blocks, &mut prose, &mut items);
    }
}

/// Ends the paragraph and the list gathered so far, each a block if it has words.
fn flush(blocks: &mut Vec<Block>, prose: &mut Vec<&str>, items: &mut Vec<String>) {
    push_block(blocks, BlockKind::Paragraph, std::mem::take(prose).join(" "));
    push_block(blocks, BlockKind::List, std::mem::take(items).join("\n"));
}

/// The heading level a line of `=` (1) or `-` (2), three or more, gives the line above.
fn underline(line: &str) -> Option<u8> {
    let first = line.chars().next()?;
    (matches!(first, '=' | '-') && line.len() >= 3 && line.chars().all(|c| c == first)).then_some(if first == '=' {
        1
    } else {
        2
    })
}

/// A title line's level: all capitals (1) or numbered, "7. Termination" (2),
/// "7.1 Notices" (3). A line followed by others in its paragraph must look like a
/// title on its own: short, and (numbered) ending with a period.
fn heading_level(line: &str, next: Option<&str>) -> Option<u8> {
    let words = line.split_whitespace().count();
    if words > 12 || line.len() > 100 || line.ends_with([',', ';']) {
        return None;
    }
    if let Some((number, title)) = line.split_once(' ') {
        let number = number.strip_suffix('.').unwrap_or(number);
        let numbered = !number.is_empty()
            && number.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        let titled = title.chars().next().is_some_and(char::is_uppercase);
        let alone = next.is_none() || (line.ends_with('.') && words <= 7 && !next.is_some_and(list_item));
        if numbered && titled && alone {
            return Some(u8::try_from(number.split('.').count() + 1).unwrap_or(6).min(6));
        }
    }
    let capitals = |line: &str| {
        let letters = || line.chars().filter(|c| c.is_alphabetic());
        letters().nth(1).is_some() && letters().all(char::is_uppercase)
    };
    (capitals(line) && (next.is_none() || words <= 8 && !next.is_some_and(capitals))).then_some(1)
}

/// Whether a line opens a list item: a bullet, or a number or letter with `.` or `)`.
fn list_item(line: &str) -> bool {
    let Some((marker, rest)) = line.split_once(' ') else { return false };
    if rest.is_empty() {
        return false;
    }
    if matches!(marker, "-" | "*" | "+" | "•" | "–" | "·") {
        return true;
    }
    let label = marker
        .strip_prefix('(')
        .and_then(|m| m.strip_suffix(')'))
        .or_else(|| marker.strip_suffix('.').or_else(|| marker.strip_suffix(')')));
    label.is_some_and(|label| {
        (1..=4).contains(&label.len())
            && (label.bytes().all(|b| b.is_ascii_digit())
                || label.len() == 1 && label.bytes().all(|b| b.is_ascii_lowercase())
                || label.bytes().all(|b| b"ivx".contains(&b)))
    })
}

fn new_line(buffer: &mut String) {
    if !buffer.is_empty() && !buffer.ends_with('\n') {
        buffer.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markdown_blocks(source: &str) -> Vec<Block> {
        markdown(source).0
    }

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
    fn markdown_drops_alt_text_and_keeps_code_indentation() {
        let source =
            "Intro ![Three tables: s1 and s2](t.png) text.\n\n```\nfn main() {\n    if x {\n\t\ty();\n    }\n}\n```\n";
        let blocks: Vec<(BlockKind, String)> = markdown_blocks(source).into_iter().map(|b| (b.kind, b.text)).collect();
        assert_eq!(
            blocks,
            [
                (BlockKind::Paragraph, "Intro text.".to_owned()),
                (BlockKind::Code, "fn main() {\n    if x {\n\t\ty();\n    }\n}".to_owned()),
            ]
        );
    }

    #[test]
    fn program_and_compiler_output_is_told_from_code() {
        let source = "```console\n$ cargo run\n   Compiling guess v0.1.0\n```\n\n```text\nHello, world!\n```\n\n\
                      ```rust,ignore\nlet x = 5;\n```\n\n```\n$ python3 main.py\nTraceback (most recent call last):\n  \
                      File \"main.py\", line 1\n```\n\n    error[E0382]: borrow of moved value: `s`\n";
        let kinds: Vec<BlockKind> = markdown_blocks(source).into_iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            [BlockKind::Output, BlockKind::Output, BlockKind::Code, BlockKind::Output, BlockKind::Output]
        );
        // Untagged blocks, by their lines.
        for output in [
            "$ ls\nCargo.toml  src",
            "error: expected identifier, found keyword `match`\n --> src/main.rs:4:4\n  |",
            "warning: unused variable: `x`\n  |\n2 |     let x = 5;",
            "    Finished `dev` profile [unoptimized + debuginfo] target(s) in 0.73s\n     Running `target/debug/app`",
            "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\nZeroDivisionError: division by zero",
        ] {
            assert_eq!(code_kind(None, output), BlockKind::Output, "{output}");
        }
        for code in [
            "fn main() {\n    println!(\"error: {}\", 1);\n}",
            "$ cargo build\n$ cargo test",
            "error: true\nwarning: false",
            "<!-- a comment\n-->",
            "def run():\n    Running = True",
        ] {
            assert_eq!(code_kind(None, code), BlockKind::Code, "{code}");
        }
        assert_eq!(code_kind(Some("python"), "Traceback (most recent call last):"), BlockKind::Code, "tagged as code");
    }

    #[test]
    fn pasted_text_is_markdown_only_when_it_clearly_is() {
        for markdown in [
            "# Ownership\n\nEach value has an owner.",
            "Notes\n\n```\nlet x = 5;\n```",
            "See [the book](https://doc.rust-lang.org/book/) first.",
            "a | b\n---|---\n1 | 2",
            "Key points:\n\n- **ownership** moves values\n- borrowing lends them",
        ] {
            assert!(looks_like_markdown(markdown), "{markdown}");
        }
        for plain in [
            "SAMPLE PUBLIC LICENSE\n\nCopyright (C) <year> <name of author>\n\n0. Definitions.\n\n\
             \"The Program\" means the work; run `make install`, *not* _that_.\n\nYou may not:\n- copy it\n- sell it",
            "#1 priority: sleep.\nSee [1] and (2).",
            "Shopping:\n* eggs\n* milk",
        ] {
            assert!(!looks_like_markdown(plain), "{plain}");
        }
    }

    #[test]
    fn raw_html_that_markdown_leaves_out_counts_as_lost() {
        let source = "# Notes\n\nCells are small.\n\n<table>\n<tr><td>Mitochondria make energy</td></tr>\n</table>\n\n\
                      <div><script>var hidden = 1;</script></div>\n";
        let document = extract(MARKDOWN, source.as_bytes()).expect("read");
        let texts: Vec<&str> = document.blocks.iter().map(|block| block.text.as_str()).collect();
        assert_eq!(texts, ["Notes", "Cells are small."]);
        assert_eq!(document.kept_ratio, Some(4.0 / 7.0), "the table's three words lost; a script is no text");
        let pictured = extract(MARKDOWN, b"# Notes\n\nCells are *small* ![a cell](c.png).\n").expect("read");
        assert_eq!(pictured.kept_ratio, Some(1.0), "alt text is not shown, so not lost");
    }

    #[test]
    fn plain_text_is_read_as_written() {
        let source = "GNU GENERAL PUBLIC LICENSE\n\nCopyright (C) <year> <name of author>\n\n\
                      Preamble\n========\n\nUse `make` to build it, *not* _that_.\n\n\
                      0. Definitions.\n\n\"This License\" refers to version 3\nof the License.\n\n\
                      1. Redistributions of source code must retain the above copyright\n   notice.\n\
                      2. Redistributions in binary form must reproduce it.\n\n\
                      7. Termination\n\nYou may not:\n- copy it\n- sell it\n\n\
                      7.1 Notices.\nNotices are kept.\n";
        let blocks: Vec<(BlockKind, String)> = plain_blocks(source).into_iter().map(|b| (b.kind, b.text)).collect();
        assert_eq!(
            blocks,
            [
                (BlockKind::Heading(1), "GNU GENERAL PUBLIC LICENSE".to_owned()),
                (BlockKind::Paragraph, "Copyright (C) <year> <name of author>".to_owned()),
                (BlockKind::Heading(1), "Preamble".to_owned()),
                (BlockKind::Paragraph, "Use `make` to build it, *not* _that_.".to_owned()),
                (BlockKind::Heading(2), "0. Definitions.".to_owned()),
                (BlockKind::Paragraph, "\"This License\" refers to version 3 of the License.".to_owned()),
                (
                    BlockKind::List,
                    "1. Redistributions of source code must retain the above copyright notice.\n\
                     2. Redistributions in binary form must reproduce it."
                        .to_owned()
                ),
                (BlockKind::Heading(2), "7. Termination".to_owned()),
                (BlockKind::Paragraph, "You may not:".to_owned()),
                (BlockKind::List, "- copy it\n- sell it".to_owned()),
                (BlockKind::Heading(3), "7.1 Notices.".to_owned()),
                (BlockKind::Paragraph, "Notices are kept.".to_owned()),
            ]
        );
        let document = extract(TEXT, source.as_bytes()).expect("read");
        assert_eq!((document.extractor, document.kept_ratio), ("text", Some(1.0)));
    }

    #[test]
    fn a_manual_page_s_options_head_their_descriptions() {
        let source = "COMMANDES\n       install\n           La commande install est suivie par un ou plusieurs paquets.\n\
                      \n           On peut choisir une version particulière d'un paquet.\n\n\
                      \x20      -d, --download-only\n           Récupération des paquets seulement.\n\n\
                      \x20      Une phrase ordinaire qui tient sur deux lignes\n       sans retrait de plus.\n";
        let blocks: Vec<(BlockKind, String)> = plain_blocks(source).into_iter().map(|b| (b.kind, b.text)).collect();
        assert_eq!(
            blocks,
            [
                (BlockKind::Heading(1), "COMMANDES".to_owned()),
                (BlockKind::Heading(2), "install".to_owned()),
                (BlockKind::Paragraph, "La commande install est suivie par un ou plusieurs paquets.".to_owned()),
                (BlockKind::Paragraph, "On peut choisir une version particulière d'un paquet.".to_owned()),
                (BlockKind::Heading(2), "-d, --download-only".to_owned()),
                (BlockKind::Paragraph, "Récupération des paquets seulement.".to_owned()),
                (
                    BlockKind::Paragraph,
                    "Une phrase ordinaire qui tient sur deux lignes sans retrait de plus.".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_licence_s_quoted_term_over_its_meaning_is_one_sentence() {
        let source = "1. Definitions\n--------------\n\n1.1. \"Contributor\"\n    means each individual or legal entity that creates,\n    contributes to Covered Software.\n";
        let blocks: Vec<(BlockKind, String)> = plain_blocks(source).into_iter().map(|b| (b.kind, b.text)).collect();
        let definition =
            "1.1. \"Contributor\" means each individual or legal entity that creates, contributes to Covered Software.";
        assert_eq!(
            blocks,
            [(BlockKind::Heading(2), "1. Definitions".to_owned()), (BlockKind::Paragraph, definition.to_owned())]
        );
    }

    #[test]
    fn a_footnotes_rule_ends_the_text_above_it() {
        let source = "Use this option to change the owner.\n____________________\n3 similar in some aspects to TeX\n";
        let blocks: Vec<(BlockKind, String)> = plain_blocks(source).into_iter().map(|b| (b.kind, b.text)).collect();
        assert_eq!(
            blocks,
            [
                (BlockKind::Paragraph, "Use this option to change the owner.".to_owned()),
                (BlockKind::Paragraph, "3 similar in some aspects to TeX".to_owned()),
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
