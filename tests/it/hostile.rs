//! Hostile documents, built here: each is refused at upload or fails its material with
//! a reason a learner can read, while the server (a real `studyhall serve`) stays up,
//! serves another learner meanwhile and keeps its memory.

use std::io::Write;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::embedded::Serve;
use crate::harness::{PASSWORD, client, scratch_dir};
use crate::uploads::pdf_of;

/// HTML nesting `depth` elements of `open`/`close`.
fn nested_html(open: &str, close: &str, depth: usize) -> Vec<u8> {
    format!("<!DOCTYPE html><html><body>{}deep{}</body></html>", open.repeat(depth), close.repeat(depth)).into_bytes()
}

/// A one-page PDF whose page draws form XObject /X, and /X draws itself.
fn self_drawing_pdf() -> Vec<u8> {
    let draw = "/X Do";
    pdf_of([
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /X 5 0 R >> >> /Contents 4 0 R >>"
            .to_vec(),
        format!("<< /Length {} >>\nstream\n{draw}\nendstream", draw.len()).into_bytes(),
        format!(
            "<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X 5 0 R >> >> /Length {} >>\nstream\n{draw}\nendstream",
            draw.len()
        )
        .into_bytes(),
    ])
}

/// `expanded` bytes of `unit`, zlib-deflated (fed in blocks, so nothing that size is held).
fn deflated(unit: &[u8], expanded: usize) -> Vec<u8> {
    let block = unit.repeat((1024 * 1024) / unit.len());
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..expanded / block.len() {
        encoder.write_all(&block).expect("deflate");
    }
    encoder.finish().expect("deflate")
}

/// A one-page PDF whose content stream inflates to `expanded` bytes of blanks.
fn deflate_bomb_pdf(expanded: usize) -> Vec<u8> {
    let stream = deflated(b" ", expanded);
    let mut contents = format!("<< /Length {} /Filter /FlateDecode >>\nstream\n", stream.len()).into_bytes();
    contents.extend_from_slice(&stream);
    contents.extend_from_slice(b"\nendstream");
    pdf_of([
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_vec(),
        contents,
    ])
}

/// A PDF of `pages` empty pages.
fn many_pages_pdf(pages: usize) -> Vec<u8> {
    let kids: Vec<String> = (0..pages).map(|n| format!("{} 0 R", n + 4)).collect();
    let page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>".to_vec();
    let head = [
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{}] /Count {pages} >>", kids.join(" ")).into_bytes(),
        b"<< /Length 0 >>\nstream\n\nendstream".to_vec(),
    ];
    pdf_of(head.into_iter().chain(std::iter::repeat_n(page, pages)))
}

/// A DOCX whose document.xml holds `paragraphs` paragraphs of a thousand letters.
fn docx_bomb(paragraphs: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(true);
    zip.start_file("[Content_Types].xml", options).expect("zip");
    zip.write_all(br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#).expect("zip");
    zip.start_file("word/document.xml", options).expect("zip");
    zip.write_all(br#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>"#).expect("zip");
    let paragraph = format!("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", "a".repeat(1000)).repeat(1000);
    for _ in 0..paragraphs / 1000 {
        zip.write_all(paragraph.as_bytes()).expect("zip");
    }
    zip.write_all(b"</w:body></w:document>").expect("zip");
    zip.finish().expect("zip").into_inner()
}

/// A small DOCX whose document.xml entry claims `size` bytes, in both of the archive's
/// headers (the local one and the central directory).
fn docx_declaring(size: u32) -> Vec<u8> {
    let mut bytes = docx_bomb(1000);
    let name = b"word/document.xml";
    for (signature, size_at) in [(b"PK\x03\x04", 22), (b"PK\x01\x02", 24)] {
        let header = (0..bytes.len() - name.len())
            .find(|&at| {
                bytes[at..].starts_with(signature) && {
                    let name_at = if signature == b"PK\x03\x04" { at + 30 } else { at + 46 };
                    bytes[name_at..].starts_with(name)
                }
            })
            .expect("the entry's header");
        bytes[header + size_at..header + size_at + 4].copy_from_slice(&size.to_le_bytes());
    }
    bytes
}

struct Learner {
    token: String,
}

async fn register(http: &reqwest::Client, base: &str, name: &str) -> Learner {
    let body = json!({"email": format!("{name}@example.org"), "username": name, "password": PASSWORD});
    let response = http.post(format!("{base}/auth/register")).json(&body).send().await.expect("register");
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("JSON");
    Learner { token: body["token"].as_str().expect("a token").to_owned() }
}

async fn upload(
    http: &reqwest::Client,
    base: &str,
    learner: &Learner,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let response = http
        .post(format!("{base}/materials"))
        .bearer_auth(&learner.token)
        .multipart(form)
        .send()
        .await
        .expect("an answer");
    let status = response.status();
    (status, response.json().await.expect("a JSON body"))
}

/// Adds a short note for `learner`; returns its id.
async fn add_note(http: &reqwest::Client, base: &str, learner: &Learner) -> String {
    let body = json!({"title": "Notes", "source_type": "text", "text": "# Cells\n\nCells are the units of life."});
    let response =
        http.post(format!("{base}/materials")).bearer_auth(&learner.token).json(&body).send().await.expect("an answer");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let note: Value = response.json().await.expect("JSON");
    note["id"].as_str().expect("an id").to_owned()
}

/// The material once it has left `processing`.
async fn settled(http: &reqwest::Client, base: &str, learner: &Learner, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let response = http.get(format!("{base}/materials/{id}")).bearer_auth(&learner.token).send().await;
        let material: Value = response.expect("an answer").json().await.expect("JSON");
        if material["status"] != "processing" {
            return material;
        }
        assert!(Instant::now() < deadline, "still processing: {material}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The most memory the process has held, in MiB (VmHWM).
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process's status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse::<u64>().ok()).expect("a number") / 1024
}

#[tokio::test]
async fn hostile_documents_fail_with_a_reason_and_harm_no_one() {
    let dir = scratch_dir();
    let serve = Serve::start_with(
        dir.path(),
        &[
            ("STUDYHALL_BCRYPT_COST", "4"),
            ("STUDYHALL_EXTRACT_MEMORY_MIB", "512"),
            ("STUDYHALL_MAX_UPLOAD_BYTES", "20000000"),
            ("STUDYHALL_JOB_POLL_SECS", "1"),
        ],
    );
    let base = format!("http://{}/api/v1", serve.address);
    let http = client();
    let mallory = register(&http, &base, "mallory").await;
    let ada = register(&http, &base, "ada").await;

    // Refused at once, by the reader's structure check.
    let refused_at_upload = [
        ("huge-entry.docx", docx_declaring(u32::MAX - 16), "the DOCX expands to more than 128 MiB"),
        ("lying-sizes.docx", docx_declaring(1000), "the DOCX cannot be read"),
        ("bomb.docx", docx_bomb(200_000), "the DOCX expands to more than 128 MiB"),
        ("pages.pdf", many_pages_pdf(20_000), "the PDF has 20000 pages; at most 2000 are read"),
    ];
    for (name, bytes, reason) in refused_at_upload {
        let (status, problem) = upload(&http, &base, &mallory, name, bytes).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "file", "{name}: {problem}");
        let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(reason), "{name}: {message}");
    }

    // Accepted (they open), then failed by ingestion with the reason.
    let failing = [
        ("divs.html", nested_html("<div>", "</div>", 100_000), "the page nests its elements more than 1000 deep"),
        ("tables.html", nested_html("<table><tr><td>", "</td></tr></table>", 20_000), "the page nests its elements"),
        ("self-drawing.pdf", self_drawing_pdf(), "the document is nested too deeply to read"),
        (
            "deflate-bomb.pdf",
            deflate_bomb_pdf(512 * 1024 * 1024),
            "reading the document needs more memory than the 512 MiB allowed",
        ),
    ];
    let mut ids = Vec::new();
    for (name, bytes, reason) in failing {
        let (status, material) = upload(&http, &base, &mallory, name, bytes).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{name}: {material}");
        ids.push((name, material["id"].as_str().expect("an id").to_owned(), reason));
    }
    // Another learner's note, added while those are queued, is read meanwhile.
    let note = add_note(&http, &base, &ada).await;
    let note = settled(&http, &base, &ada, &note).await;
    assert_eq!(note["status"], "ready", "{note}");

    for (name, id, reason) in ids {
        let material = settled(&http, &base, &mallory, &id).await;
        assert_eq!(material["status"], "failed", "{name}: {material}");
        let error = material["metadata"]["error"].as_str().unwrap_or_default();
        assert!(error.starts_with(reason), "{name}: {error}");
    }

    let health = http.get(format!("http://{}/healthz", serve.address)).send().await.expect("the server is up");
    assert_eq!(health.status(), StatusCode::OK);
    let peak = peak_rss_mib(serve.pid());
    eprintln!("studyhall serve's peak RSS over the hostile documents: {peak} MiB");
    assert!(peak < 512, "the server held {peak} MiB at its peak");
}

/// A web page that answers only after `delay`.
async fn slow_page(delay: Duration) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                tokio::time::sleep(delay).await;
                let body = "<html><body><p>A page worth the wait.</p></body></html>";
                let head =
                    format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\r\n", body.len());
                let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
            });
        }
    });
    address
}

#[tokio::test]
async fn one_learners_slow_materials_do_not_hold_every_worker() {
    use crate::harness::{TestApp, TestDb, http_config, settings};
    let mut settings = settings();
    settings.materials.url_timeout_secs = 60;
    let app = TestApp::spawn_configured(TestDb::migrated().await, http_config(), settings).await;
    let page = slow_page(Duration::from_secs(30)).await;
    let (mallory, ada) = (app.register("mallory").await, app.register("ada").await);
    let mut slow = Vec::new();
    for n in 0..2 {
        let body =
            json!({"title": format!("Slow {n}"), "source_type": "url", "source_url": format!("http://{page}/{n}")});
        let (status, material) =
            app.call(reqwest::Method::POST, "/api/v1/materials", Some(&mallory.token), Some(body)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{material}");
        slow.push(material["id"].as_str().and_then(|id| id.parse::<uuid::Uuid>().ok()).expect("an id"));
    }
    // Both workers are idle when mallory's two pages are queued; ada comes after.
    let running = "SELECT count(*) FROM jobs WHERE status = 'running'";
    while sqlx::query_scalar::<_, i64>(running).fetch_one(&app.db.pool).await.expect("count") == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let note =
        crate::materials::create(&app, &ada, "Notes", "# Cells\n\nCells are the units of life.", json!({})).await;
    let note = crate::materials::settled(&app, &ada, note).await;
    assert_eq!(note["status"], "ready", "{note}");
    for id in slow {
        let (_, material) =
            app.call(reqwest::Method::GET, &format!("/api/v1/materials/{id}"), Some(&mallory.token), None).await;
        assert_eq!(material["status"], "processing", "ada's note did not wait for mallory's pages");
    }
}

/// A document reader that never finishes: it writes its pid to `pid_file` and sleeps.
fn stuck_reader(dir: &std::path::Path, pid_file: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("stuck-reader");
    std::fs::write(&script, format!("#!/bin/sh\necho $$ > {}\nexec sleep 600\n", pid_file.display())).expect("write");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

#[tokio::test]
async fn a_reader_past_its_time_is_killed_and_its_material_fails_with_the_reason() {
    use crate::harness::{TestApp, TestDb, http_config, process_alive, settings};
    let dir = scratch_dir();
    let pid_file = dir.path().join("reader.pid");
    let mut settings = settings();
    settings.materials.extractor = Some(stuck_reader(dir.path(), &pid_file));
    settings.materials.extract_wall_secs = 1;
    let app = TestApp::spawn_configured(TestDb::migrated().await, http_config(), settings).await;
    let ada = app.register("ada").await;
    let id = crate::materials::create(&app, &ada, "Notes", "# Cells\n\nCells are the units of life.", json!({})).await;
    let material = crate::materials::settled(&app, &ada, id).await;
    assert_eq!(material["status"], "failed");
    assert_eq!(material["metadata"]["error"], "reading the document took longer than 1 s");
    let pid: i32 = std::fs::read_to_string(&pid_file).expect("the reader ran").trim().parse().expect("a pid");
    assert!(!process_alive(pid), "the reader was killed");
}

#[tokio::test]
async fn sigterm_during_a_stuck_job_ends_the_server_and_its_reader() {
    use crate::harness::process_alive;
    let dir = scratch_dir();
    let pid_file = dir.path().join("reader.pid");
    let reader = stuck_reader(dir.path(), &pid_file);
    let serve = Serve::start_with(
        dir.path(),
        &[
            ("STUDYHALL_BCRYPT_COST", "4"),
            ("STUDYHALL_EXTRACTOR", reader.to_str().expect("a UTF-8 path")),
            ("STUDYHALL_SHUTDOWN_GRACE_SECS", "2"),
        ],
    );
    let base = format!("http://{}/api/v1", serve.address);
    let http = client();
    let ada = register(&http, &base, "ada").await;
    add_note(&http, &base, &ada).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file).ok().and_then(|p| p.trim().parse::<i32>().ok()) {
            break pid;
        }
        assert!(Instant::now() < deadline, "the reader never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    serve.signal(nix::sys::signal::Signal::SIGTERM);
    // A process that cannot stop would keep this waiting; give it far more than its grace.
    let exited = tokio::time::timeout(Duration::from_secs(60), tokio::task::spawn_blocking(move || serve.wait())).await;
    assert!(matches!(exited, Ok(Ok(true))), "studyhall stopped cleanly on SIGTERM: {exited:?}");
    assert!(!process_alive(pid), "the reader was killed with the job");
}
