//! EPUB: a zip of XHTML chapters. META-INF/container.xml names the package (OPF), whose
//! spine orders the chapters; each is read like an HTML page's whole body (no
//! readability guess: a chapter is all content). The navigation document is skipped.
//! The archive is held to the same expansion limit as a DOCX.

use quick_xml::events::{BytesStart, Event};

use super::PipelineError;
use super::extract::{self, Archive, Document};
use super::html;

fn unreadable(why: impl std::fmt::Display) -> PipelineError {
    PipelineError::Unreadable(format!("the EPUB cannot be read ({why})"))
}

/// The archive and its chapters' paths in reading order: an error if the package or
/// any chapter it lists is missing, or if it lists none.
pub fn chapters(bytes: &[u8]) -> Result<(Archive<'_>, Vec<String>), PipelineError> {
    let mut archive = extract::zip_within(bytes, "EPUB")?;
    let container = extract::zip_entry(&mut archive, "META-INF/container.xml", "EPUB")?;
    let package_path = elements(&container, b"rootfile")?
        .into_iter()
        .find_map(|mut attributes| attributes.remove("full-path"))
        .ok_or_else(|| unreadable("its container names no package"))?;
    let package = extract::zip_entry(&mut archive, &package_path, "EPUB")?;
    let base = package_path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut items = std::collections::HashMap::new();
    for mut item in elements(&package, b"item")? {
        let is_nav = item.get("properties").is_some_and(|p| p.split_whitespace().any(|p| p == "nav"));
        let is_page = item.get("media-type").is_some_and(|t| t == "application/xhtml+xml" || t == "text/html");
        if let (Some(id), Some(href)) = (item.remove("id"), item.remove("href"))
            && is_page
            && !is_nav
        {
            items.insert(id, resolve(base, &href));
        }
    }
    let spine: Vec<String> = elements(&package, b"itemref")?
        .into_iter()
        .filter_map(|itemref| itemref.get("idref").and_then(|id| items.get(id)).cloned())
        .collect();
    if spine.is_empty() {
        return Err(unreadable("its spine lists no chapters"));
    }
    if let Some(missing) = spine.iter().find(|path| archive.index_for_name(path).is_none()) {
        return Err(unreadable(format!("the chapter {missing} is missing")));
    }
    Ok((archive, spine))
}

/// Every chapter's blocks, in spine order.
pub fn read(bytes: &[u8]) -> Result<Document, PipelineError> {
    let (mut archive, spine) = chapters(bytes)?;
    let mut blocks = Vec::new();
    for path in &spine {
        let page = extract::zip_entry(&mut archive, path, "EPUB")?;
        extract::check_html_depth(&page)?;
        let dom = dom_query::Document::from(page);
        if let Some(body) = dom.body() {
            blocks.extend(html::blocks_of(&body));
        }
    }
    // Each chapter is read whole (less only what html::blocks_of leaves out by design).
    Ok(Document { blocks, extractor: "epub", pages: None, kept_ratio: Some(1.0) })
}

/// The attributes (by local name) of every element named `name` (any namespace).
fn elements(xml: &str, name: &[u8]) -> Result<Vec<std::collections::HashMap<String, String>>, PipelineError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut found = Vec::new();
    loop {
        match reader.read_event().map_err(unreadable)? {
            Event::Start(element) | Event::Empty(element) if element.local_name().as_ref() == name => {
                found.push(attributes(&element));
            }
            Event::Eof => return Ok(found),
            _ => {}
        }
    }
}

fn attributes(element: &BytesStart) -> std::collections::HashMap<String, String> {
    element
        .attributes()
        .flatten()
        .map(|attribute| {
            let value = String::from_utf8_lossy(&attribute.value).into_owned();
            let value = quick_xml::escape::unescape(&value).map(|v| v.into_owned()).unwrap_or(value);
            (String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned(), value)
        })
        .collect()
}

/// A package-relative href as an archive path: `..` resolved, `%XX` decoded, no fragment.
fn resolve(base: &str, href: &str) -> String {
    let href = href.split('#').next().unwrap_or_default();
    let mut parts: Vec<&str> = base.split('/').filter(|part| !part.is_empty()).collect();
    for part in href.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    percent_decoded(&parts.join("/"))
}

fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes.get(at + 1..at + 3).and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::materials::pipeline::BlockKind;

    /// An EPUB of `chapters` (file name, XHTML body), with a navigation document.
    fn epub(chapters: &[(&str, &str)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let mut add = |name: &str, text: &str| {
            zip.start_file(name, stored).expect("entry");
            zip.write_all(text.as_bytes()).expect("write");
        };
        add("mimetype", "application/epub+zip");
        add(
            "META-INF/container.xml",
            "<?xml version='1.0'?><container xmlns='urn:oasis:names:tc:opendocument:xmlns:container' version='1.0'>\
             <rootfiles><rootfile full-path='OEBPS/content.opf' media-type='application/oebps-package+xml'/></rootfiles></container>",
        );
        let manifest: String = chapters
            .iter()
            .enumerate()
            .map(|(n, (name, _))| format!("<item id='c{n}' href='text/{name}' media-type='application/xhtml+xml'/>"))
            .collect();
        // The spine lists the chapters in reverse of the manifest: the spine decides.
        let spine: String = (0..chapters.len()).rev().map(|n| format!("<itemref idref='c{n}'/>")).collect();
        add(
            "OEBPS/content.opf",
            &format!(
                "<?xml version='1.0'?><package xmlns='http://www.idpf.org/2007/opf' version='3.0'><manifest>\
                 <item id='nav' href='nav.xhtml' media-type='application/xhtml+xml' properties='nav'/>{manifest}</manifest>\
                 <spine><itemref idref='nav'/>{spine}</spine></package>"
            ),
        );
        add(
            "OEBPS/nav.xhtml",
            "<html><body><nav><ol><li>Contents entry</li></ol></nav><p>Table of contents</p></body></html>",
        );
        for (name, body) in chapters {
            add(
                &format!("OEBPS/text/{}", name.replace("%20", " ")),
                &format!(
                    "<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'><head><title>t</title></head><body>{body}</body></html>"
                ),
            );
        }
        zip.finish().expect("zip").into_inner()
    }

    #[test]
    fn chapters_are_read_in_spine_order_without_the_navigation() {
        let bytes = epub(&[
            ("two%20b.xhtml", "<h1>Chapter Two</h1><p>The morning came.</p>"),
            ("one.xhtml", "<h1>Chapter One</h1><p>It was a dark night.</p>"),
        ]);
        assert_eq!(extract::detect(&bytes, Some("book.zip")), Some(extract::EPUB));
        let document = extract::extract(extract::EPUB, &bytes).expect("read");
        let blocks: Vec<(BlockKind, &str)> = document.blocks.iter().map(|b| (b.kind, b.text.as_str())).collect();
        assert_eq!(
            blocks,
            [
                (BlockKind::Heading(1), "Chapter One"),
                (BlockKind::Paragraph, "It was a dark night."),
                (BlockKind::Heading(1), "Chapter Two"),
                (BlockKind::Paragraph, "The morning came."),
            ]
        );
    }

    #[test]
    fn a_broken_epub_says_why() {
        let bytes = epub(&[("one.xhtml", "<p>x</p>")]);
        let error = extract::check(extract::EPUB, &epub(&[])).expect_err("no chapters");
        assert_eq!(error.to_string(), "the EPUB cannot be read (its spine lists no chapters)");
        let error = extract::check(extract::EPUB, b"PK\x03\x04mimetypeapplication/epub+zip").expect_err("no archive");
        assert!(error.to_string().starts_with("the EPUB cannot be read"), "{error}");
        assert!(extract::check(extract::EPUB, &bytes).is_ok());
    }
}
