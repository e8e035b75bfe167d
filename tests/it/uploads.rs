//! Materials from uploaded files, built here as real files: an HTML page with its chrome,
//! a DOCX, a three-page PDF; and files that must be refused.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::harness::{Session, TestApp};
use crate::materials::{ARTICLE, settled};

pub async fn upload(app: &TestApp, session: &Session, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned())).text("subject_area", "biology");
    let response = app
        .client
        .post(app.url("/api/v1/materials"))
        .bearer_auth(&session.token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

async fn ingested(app: &TestApp, session: &Session, name: &str, bytes: Vec<u8>) -> (Value, Vec<Value>) {
    let (status, material) = upload(app, session, name, bytes).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{material}");
    assert_eq!(material["source_type"], "upload");
    let id: uuid::Uuid = material["id"].as_str().and_then(|id| id.parse().ok()).expect("an id");
    let material = settled(app, session, id).await;
    let (_, page) = app
        .call(reqwest::Method::GET, &format!("/api/v1/materials/{id}/chunks?limit=200"), Some(&session.token), None)
        .await;
    (material, page["items"].as_array().cloned().expect("chunks"))
}

fn all_text(chunks: &[Value]) -> String {
    chunks.iter().filter_map(|c| c["content"].as_str()).collect::<Vec<_>>().join("\n")
}

/// The article inside a page of navigation, sidebar and footer.
fn html_page() -> String {
    let body: String = ARTICLE
        .split("\n\n")
        .map(|block| {
            if let Some(heading) = block.strip_prefix("## ") {
                format!("<h2>{heading}</h2>")
            } else if let Some(heading) = block.strip_prefix("# ") {
                format!("<h1>{heading}</h1>")
            } else if block.starts_with('|') || block.starts_with('-') {
                String::new()
            } else {
                format!("<p>{}</p>", block.replace('\n', " "))
            }
        })
        .collect();
    format!(
        "<!DOCTYPE html><html><head><title>The Cell | Science Daily</title></head><body>\
         <header><nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/shop'>Shop the store</a></nav></header>\
         <aside class='sidebar'><h3>Trending</h3><ul><li><a href='/x'>Ten celebrity diets ranked</a></li></ul></aside>\
         <main><article>{body}</article></main>\
         <footer><p>Subscribe to our newsletter for weekly offers.</p><p>Copyright 2026. Privacy policy.</p></footer>\
         </body></html>"
    )
}

#[tokio::test]
async fn an_html_page_yields_its_article_without_the_chrome() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (material, chunks) = ingested(&app, &ada, "cells.html", html_page().into_bytes()).await;
    assert_eq!(material["status"], "ready", "{material}");
    assert_eq!(material["title"], "cells", "named after the file");
    assert_eq!(material["metadata"]["extractor"], "html");
    let text = all_text(&chunks);
    assert!(text.contains("Robert Hooke in 1665") && text.contains("Uncontrolled division"), "the article is there");
    for chrome in ["Subscribe to our newsletter", "Privacy policy", "celebrity diets", "Shop the store"] {
        assert!(!text.contains(chrome), "page chrome left out: {chrome}");
    }
    assert!(chunks.iter().any(|c| c["metadata"]["heading_path"].to_string().contains("Cell division")));
}

fn docx_file() -> Vec<u8> {
    use docx_rs::{Docx, Paragraph, Run, Table, TableCell, TableRow};
    let text = |t: &str| Paragraph::new().add_run(Run::new().add_text(t));
    let mut document = Docx::new().add_paragraph(text("Cell biology").style("Title"));
    for block in ARTICLE.split("\n\n").filter(|b| !b.starts_with('#') && !b.starts_with('|') && !b.starts_with('-')) {
        document = document.add_paragraph(text(&block.replace('\n', " ")));
    }
    document = document.add_paragraph(text("Comparison").style("Heading1"));
    let row = |a: &str, b: &str| {
        TableRow::new(vec![TableCell::new().add_paragraph(text(a)), TableCell::new().add_paragraph(text(b))])
    };
    document = document.add_table(Table::new(vec![
        row("Feature", "Prokaryotic cell"),
        row("Nucleus", "absent, the DNA floats in the nucleoid region of the cytoplasm"),
        row("Size", "one to five micrometres long, much smaller than eukaryotic cells"),
    ]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    document.build().pack(&mut bytes).expect("write the DOCX");
    bytes.into_inner()
}

#[tokio::test]
async fn a_docx_yields_its_paragraphs_headings_and_tables() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (material, chunks) = ingested(&app, &ada, "notes.bin", docx_file()).await;
    assert_eq!(material["status"], "ready", "{material}");
    assert_eq!(material["metadata"]["extractor"], "docx", "told from the content, not the name");
    let table = chunks.iter().find(|c| c["chunk_type"] == "table").expect("a table chunk");
    assert!(table["content"].as_str().is_some_and(|t| t.contains("Nucleus | absent")), "{table}");
    assert_eq!(table["metadata"]["heading_path"], serde_json::json!(["Cell biology", "Comparison"]));
    assert!(all_text(&chunks).contains("Theodor Schwann"));
}

/// A PDF with one page per text, in the standard Helvetica font.
pub fn pdf_file(pages: &[&str]) -> Vec<u8> {
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        String::new(), // the page tree, once the pages are numbered
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut kids = Vec::new();
    for text in pages {
        let lines: String = text
            .split('\n')
            .map(|line| {
                format!("({}) Tj 0 -16 Td ", line.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)"))
            })
            .collect();
        let stream = format!("BT /F1 12 Tf 72 720 Td {lines}ET");
        objects.push(format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()));
        let content = objects.len();
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R /Resources << /Font << /F1 3 0 R >> >> >>"
        ));
        kids.push(format!("{} 0 R", objects.len()));
    }
    objects[1] = format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len());
    pdf_of(objects.into_iter().map(String::into_bytes))
}

/// A PDF of `objects` (numbered from 1, the first the catalog), with its cross-reference table.
pub fn pdf_of(objects: impl IntoIterator<Item = Vec<u8>>) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (n, object) in objects.into_iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", n + 1).as_bytes());
        pdf.extend_from_slice(&object);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes());
    for offset in &offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1).as_bytes(),
    );
    pdf
}

#[tokio::test]
async fn a_pdf_yields_the_text_of_every_page_with_its_page_number() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let pages = [
        "Photosynthesis converts light energy into chemical energy.\nIt takes place in the chloroplasts of plant cells.",
        "The light reactions happen in the thylakoid membranes.\nThey split water and release oxygen.",
        "The Calvin cycle fixes carbon dioxide into sugars.\nIt runs in the stroma of the chloroplast.",
    ];
    let (material, chunks) = ingested(&app, &ada, "photosynthesis.pdf", pdf_file(&pages)).await;
    assert_eq!(material["status"], "ready", "{material}");
    assert_eq!(
        (material["metadata"]["extractor"].as_str(), material["metadata"]["pages"].as_u64()),
        (Some("pdf"), Some(3))
    );
    let text = all_text(&chunks);
    for needle in ["chloroplasts of plant cells", "thylakoid membranes", "Calvin cycle fixes carbon dioxide"] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    let pages_seen: Vec<u64> = chunks
        .iter()
        .flat_map(|c| c["metadata"]["pages"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p.as_u64())
        .collect();
    assert_eq!(pages_seen, [1, 2, 3], "page numbers kept in chunk metadata");
}

#[tokio::test]
async fn a_pdf_yields_its_sections_without_running_headers_or_page_numbers() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let sections = ["1. Light reactions", "2. Calvin cycle", "3. Photorespiration"];
    // Ninety words a section, in sentences of ten, each word told apart by letters.
    let body = |seed: &str| -> Vec<String> {
        (0..90u8)
            .map(|n| {
                format!(
                    "{seed}{}{}{}",
                    char::from(b'a' + n / 26),
                    char::from(b'a' + n % 26),
                    ["", "."][usize::from(n % 10 == 9)]
                )
            })
            .collect()
    };
    let seeds = ["thylakoid", "stroma", "rubisco"];
    let pages: Vec<String> = (0..3)
        .map(|i| {
            let prose: Vec<String> = body(seeds[i]).chunks(10).map(|line| line.join(" ")).collect();
            format!("Plant biology notes - page {}\n{}\n{}\n- {} -", i + 1, sections[i], prose.join("\n"), i + 1)
        })
        .collect();
    let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
    let (material, chunks) = ingested(&app, &ada, "notes.pdf", pdf_file(&pages)).await;
    assert_eq!(material["status"], "ready", "{material}");
    let text = all_text(&chunks);
    assert!(
        !text.contains("Plant biology notes") && !text.contains("- 2 -"),
        "no running header or page number: {text}"
    );
    for (i, seed) in seeds.iter().enumerate() {
        for word in body(seed) {
            assert!(text.contains(&word), "{word} kept");
        }
        let chunk = chunks
            .iter()
            .find(|c| c["content"].as_str().is_some_and(|t| t.contains(&format!("{seed}aa"))))
            .expect("a chunk");
        assert_eq!(chunk["metadata"]["heading_path"], serde_json::json!([sections[i]]), "{chunk}");
        assert_eq!(chunk["metadata"]["pages"], serde_json::json!([i + 1]), "{chunk}");
    }
}

#[tokio::test]
async fn files_that_cannot_be_ingested_are_refused_clearly() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let random: Vec<u8> = (0..4096u32).map(|n| (n.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let (status, problem) = upload(&app, &ada, "paper.pdf", random).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{problem}");
    assert!(
        problem["detail"].as_str().is_some_and(|d| d.contains("not a PDF, DOCX, EPUB, HTML, Markdown or text file"))
    );
    let (status, _) = upload(&app, &ada, "archive.docx", b"PK\x03\x04 a zip of something else".to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, problem) = upload(&app, &ada, "big.txt", vec![b'a'; 2 * 1024 * 1024 + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    let (status, problem) = upload(&app, &ada, "empty.txt", Vec::new()).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("file")));

    // Files that say they are a PDF or a DOCX but cannot be opened: 422 with the reason.
    for (name, bytes) in [
        ("broken.pdf", b"%PDF-1.4\nthis is not really a PDF".to_vec()),
        ("broken.docx", b"PK\x03\x04word/document.xml, but no archive".to_vec()),
    ] {
        let (status, problem) = upload(&app, &ada, name, bytes).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "file");
        assert!(problem["errors"][0]["message"].as_str().is_some_and(|m| m.contains("cannot be read")), "{problem}");
    }
    let (status, _) = app.call(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK, "the server is fine");
}

/// A DocBook-style page (title divs, nested `sect1`/`sect2` divs) with navigation above
/// and below; each section's paragraphs are distinct sentences from `sentences`.
fn docbook_page(title: &str, sections: &[&str], sentences: &[&str]) -> (String, Vec<String>) {
    let mut paragraphs = Vec::new();
    let mut body = String::new();
    for (n, section) in sections.iter().enumerate() {
        let paragraph = |k: usize| -> String {
            (0..sentences.len()).map(|i| sentences[(i + k + n) % sentences.len()]).collect::<Vec<_>>().join(" ")
        };
        let (first, second) = (paragraph(0), paragraph(3));
        body.push_str(&format!(
            "<div class='sect1'><div class='titlepage'><div><div><h2 class='title'><a name='s{n}'></a>{}. {section}</h2>\
             </div></div></div><p>{first}</p><div class='sect2'><div class='titlepage'><div><div>\
             <h3 class='title'>{}.1. {section} (2)</h3></div></div></div><p>{second}</p></div></div>",
            n + 1,
            n + 1
        ));
        paragraphs.extend([first, second]);
    }
    let page = format!(
        "<!DOCTYPE html><html><head><title>{title}</title></head><body>\
         <div class='navheader'><table width='100%'><tr><th colspan='3'>{title}</th></tr>\
         <tr><td><a accesskey='p' href='prev.html'>Prev</a></td><td></td><td><a href='next.html'>Next</a></td></tr></table></div>\
         <div class='chapter'><div class='titlepage'><div><div><h1 class='title'>{title}</h1></div></div></div>\
         <div class='toc'><dl><dt>1. {}</dt></dl></div>{body}</div>\
         <nav class='navfooter'><a href='index.html'>Home</a></nav></body></html>",
        sections[0]
    );
    (page, paragraphs)
}

#[tokio::test]
async fn docbook_pages_keep_all_their_words_and_headings() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let french = [
        "Le serveur lit sa configuration au démarrage.",
        "Chaque paramètre peut être modifié sans redémarrer le service.",
        "Les journaux décrivent les connexions refusées et leur cause.",
        "Une sauvegarde régulière protège les données contre les pannes matérielles.",
        "Les index accélèrent la recherche dans les grandes tables.",
        "La réplication copie les modifications vers un serveur de secours.",
        "Les droits d'accès se donnent par rôle et par base.",
        "Le planificateur choisit le chemin le moins coûteux pour chaque requête.",
        "Les statistiques des tables guident ce choix.",
        "Un administrateur surveille l'espace disque occupé par les journaux de transactions.",
        "Les verrous empêchent deux transactions de modifier la même ligne.",
        "La mémoire partagée contient les pages les plus utilisées.",
    ];
    let german = [
        "Der Server liest seine Konfiguration beim Start.",
        "Jeder Parameter lässt sich ohne Neustart des Dienstes ändern.",
        "Die Protokolle beschreiben abgelehnte Verbindungen und ihren Grund.",
        "Eine regelmäßige Sicherung schützt die Daten vor Hardwarefehlern.",
        "Indizes beschleunigen die Suche in großen Tabellen.",
        "Die Replikation kopiert Änderungen auf einen Bereitschaftsserver.",
        "Zugriffsrechte werden pro Rolle und pro Datenbank vergeben.",
        "Der Planer wählt für jede Anfrage den günstigsten Weg.",
        "Die Statistiken der Tabellen leiten diese Wahl.",
        "Ein Administrator überwacht den Speicherplatz der Transaktionsprotokolle.",
        "Sperren verhindern, dass zwei Transaktionen dieselbe Zeile ändern.",
        "Der gemeinsame Speicher enthält die am häufigsten benutzten Seiten.",
    ];
    let pages = [
        (
            "Administration du serveur",
            ["Installation", "Configuration", "Sauvegarde", "Réplication"],
            &french[..],
            "fr",
        ),
        ("Serververwaltung", ["Installation", "Konfiguration", "Sicherung", "Replikation"], &german[..], "de"),
    ];
    for (title, sections, sentences, language) in pages {
        let (page, paragraphs) = docbook_page(title, &sections, sentences);
        let (material, chunks) = ingested(&app, &ada, "chapitre.html", page.into_bytes()).await;
        assert_eq!(material["status"], "ready", "{material}");
        assert_eq!(material["metadata"]["language"], language, "{material}");
        let ratio = material["metadata"]["kept_words_ratio"].as_f64().expect("a kept-words ratio");
        assert!(ratio >= 0.98, "{title}: {ratio}");
        let text = all_text(&chunks);
        for paragraph in &paragraphs {
            assert!(text.contains(paragraph.as_str()), "{title}: lost {paragraph}");
        }
        for chrome in ["Prev", "Next", "Home"] {
            assert!(!text.split_whitespace().any(|word| word == chrome), "{title}: navigation left out: {chrome}");
        }
        assert_eq!(chunks[0]["metadata"]["heading_path"][0], title, "the page's title heading");
        let paths: Vec<String> = chunks.iter().map(|c| c["metadata"]["heading_path"].to_string()).collect();
        for (n, section) in sections.iter().enumerate() {
            for heading in [format!("{}. {section}", n + 1), format!("{}.1. {section} (2)", n + 1)] {
                assert!(paths.iter().any(|path| path.contains(&heading)), "{title}: {heading} in {paths:?}");
            }
        }
    }
}

#[tokio::test]
async fn figures_stay_out_of_the_prose_and_code_keeps_its_shape() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let prose = "Ownership is a set of rules that govern how a program manages memory. ".repeat(8);
    let page = format!(
        "<!DOCTYPE html><html><body><nav><a href='/'>Book</a></nav><main>\
         <h1>Understanding Ownership</h1><p>{prose}</p>\
         <figure><img src='trpl04-01.svg' alt='Three tables: tables s1 and s2 on the stack'>\
         <figcaption>Figure 4-1: Representation in memory</figcaption></figure>\
         <pre><code class='language-rust'><span class=\"boring\">#![allow(unused)]\n</span>\
         <span class=\"boring\">fn main() {{\n</span>fn takes_ownership(some_string: String) {{\n    \
         if some_string.is_empty() {{\n        println!(\"empty\");\n    }} else {{\n        \
         let length = some_string.len();\n        println!(\"{{some_string}} has {{length}} bytes\");\n    }}\n}}\n<span class=\"boring\">}}\n</span></code></pre>\
         <p>{prose}</p></main></body></html>"
    );
    let (material, chunks) = ingested(&app, &ada, "ch04.html", page.into_bytes()).await;
    assert_eq!(material["status"], "ready", "{material}");
    let text = all_text(&chunks);
    assert!(!text.contains("Three tables") && !text.contains("Figure 4-1"), "no alt text or caption: {text}");
    let code = chunks.iter().find(|c| c["chunk_type"] == "code").expect("a code chunk");
    assert_eq!(
        code["content"],
        "fn takes_ownership(some_string: String) {\n    if some_string.is_empty() {\n        println!(\"empty\");\n    } else {\n        \
         let length = some_string.len();\n        println!(\"{some_string} has {length} bytes\");\n    }\n}",
        "indentation kept, hidden lines dropped"
    );
    assert_eq!(chunks[0]["metadata"]["heading_path"][0], "Understanding Ownership");
}

/// A software licence in plain text: numbered sections, `<placeholders>`, backticks.
pub fn licence() -> String {
    let clause = "The licensee may copy and distribute the program in any medium, provided that each copy \
                  carries this notice and the name of the author. ";
    format!(
        "SAMPLE PUBLIC LICENSE\n\nCopyright (C) <year> <name of author>\n\n\
         0. Definitions.\n\n\"The Program\" refers to any work licensed under this License; run `make install` to build it.\n{}\n\n\
         1. Source Code.\n\n{}\n\n7. Termination\n\n{}\n",
        clause.repeat(10),
        clause.repeat(10),
        clause.repeat(10)
    )
}

#[tokio::test]
async fn plain_text_keeps_its_numbering_placeholders_and_backticks() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let (material, chunks) = ingested(&app, &ada, "LICENSE", licence().into_bytes()).await;
    assert_eq!(material["status"], "ready", "{material}");
    assert_eq!(material["metadata"]["extractor"], "text");
    assert_eq!(material["metadata"]["kept_words_ratio"], 1.0);
    let text = all_text(&chunks);
    assert!(text.contains("<year> <name of author>"), "placeholders kept: {text}");
    assert!(text.contains("`make install`"), "backticks kept");
    assert!(text.lines().any(|line| line == "0. Definitions."), "numbered titles keep their numbers: {text}");
    // Sections big enough to start a chunk name it.
    let paths: Vec<String> = chunks.iter().map(|c| c["metadata"]["heading_path"].to_string()).collect();
    for heading in ["1. Source Code.", "7. Termination"] {
        assert!(paths.iter().any(|path| path.contains(heading)), "{heading} in {paths:?}");
    }
}

/// An EPUB of chapters (title, paragraphs), with a navigation document listed first in
/// the spine, as books have it.
fn epub_file(chapters: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated = zip::write::SimpleFileOptions::default();
    let mut add = |name: &str, text: String, options| {
        zip.start_file(name, options).expect("an entry");
        zip.write_all(text.as_bytes()).expect("written");
    };
    add("mimetype", "application/epub+zip".to_owned(), stored);
    add(
        "META-INF/container.xml",
        "<?xml version=\"1.0\"?><container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\
         <rootfiles><rootfile full-path=\"OEBPS/content.opf\" media-type=\"application/oebps-package+xml\"/></rootfiles>\
         </container>"
            .to_owned(),
        deflated,
    );
    let items: String = (0..chapters.len())
        .map(|n| format!("<item id=\"ch{n}\" href=\"ch{n}.xhtml\" media-type=\"application/xhtml+xml\"/>"))
        .collect();
    let spine: String = (0..chapters.len()).map(|n| format!("<itemref idref=\"ch{n}\"/>")).collect();
    add(
        "OEBPS/content.opf",
        format!(
            "<?xml version=\"1.0\"?><package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\"><manifest>\
             <item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" properties=\"nav\"/>{items}\
             </manifest><spine><itemref idref=\"nav\" linear=\"no\"/>{spine}</spine></package>"
        ),
        deflated,
    );
    add(
        "OEBPS/nav.xhtml",
        "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><nav epub:type=\"toc\"><h1>Contents</h1><ol>\
         <li><a href=\"ch0.xhtml\">Chapter list entry</a></li></ol></nav></body></html>"
            .to_owned(),
        deflated,
    );
    for (n, (title, text)) in chapters.iter().enumerate() {
        add(
            &format!("OEBPS/ch{n}.xhtml"),
            format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><head>\
                 <title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"
            ),
            deflated,
        );
    }
    zip.finish().expect("an archive").into_inner()
}

#[tokio::test]
async fn an_epub_is_read_chapter_by_chapter() {
    let app = TestApp::spawn().await;
    let ada = app.register("ada").await;
    let first = "The ship left the harbour at dawn, and the sailors sang as the wind filled the sails. ".repeat(12);
    let second =
        "By noon the coast had vanished, and only the gulls followed the ship across the grey water. ".repeat(12);
    let bytes = epub_file(&[("Chapter I. The Harbour", &first), ("Chapter II. Open Sea", &second)]);
    let (material, chunks) = ingested(&app, &ada, "voyage.bin", bytes).await;
    assert_eq!(material["status"], "ready", "{material}");
    assert_eq!(material["metadata"]["extractor"], "epub", "told from the content");
    let text = all_text(&chunks);
    assert!(!text.contains("Chapter list entry") && !text.contains("Contents"), "no navigation: {text}");
    assert!(text.find("The ship left").expect("chapter one") < text.find("By noon").expect("chapter two"));
    let paths: Vec<&Value> = chunks.iter().map(|c| &c["metadata"]["heading_path"]).collect();
    assert_eq!(paths.first().map(|p| p[0].clone()), Some(Value::from("Chapter I. The Harbour")), "{paths:?}");
    assert!(paths.iter().any(|p| p[0] == "Chapter II. Open Sea"), "{paths:?}");

    // An archive that says it is an EPUB but has no package: 422 naming the file.
    let mut broken = epub_file(&[("Only", "text")]);
    // (Renamed in the entry's local header and in the central directory.)
    while let Some(at) = broken.windows(13).position(|w| w == b"container.xml") {
        broken[at..at + 13].copy_from_slice(b"container.xmx");
    }
    let (status, problem) = upload(&app, &ada, "broken.epub", broken).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "file");
    assert!(problem["errors"][0]["message"].as_str().is_some_and(|m| m.contains("EPUB cannot be read")), "{problem}");
}
