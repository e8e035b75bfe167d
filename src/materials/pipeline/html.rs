//! HTML to blocks, by walking the DOM: headings (DocBook's title divs included, as
//! they hold `<hN>`), paragraphs, lists with their numbers, code with its indentation,
//! tables, quotes, in document order. Navigation, page headers and footers, asides,
//! menu and tool bars, pop-ups and dialogs, figure captions, images (and so their alt
//! text) and hidden elements (mdBook's "boring" code lines among them) are left out.
//!
//! The body is walked once: all of it is the measure of what the page says. When the
//! page marks its main content (`main`, `article`, role `main`) and that holds at least
//! [`MIN_READABLE_SHARE`] of the body's words, it is the document. Otherwise
//! readability guesses the main content, used if it keeps that share, with the page's
//! title heading put back in front; failing that, the whole body is used. The share of
//! the body's words kept is returned with the blocks.

use std::collections::HashMap;
use std::ops::Range;

use dom_query::{NodeId, NodeRef};

use super::PipelineError;
use super::extract::{
    Block, BlockKind, Document, MAX_HTML_DEPTH, block_words, check_html_depth, code_kind, code_text, kept_share,
};
use super::text;

/// The page's marked main content, or readability's guess, is used only if it keeps
/// this share of the body's words.
pub const MIN_READABLE_SHARE: f64 = 0.9;

/// Elements never read: furniture, media, scripts and form controls.
const SKIPPED: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "head",
    "title",
    "nav",
    "aside",
    "footer",
    "figcaption",
    "img",
    "picture",
    "svg",
    "math",
    "video",
    "audio",
    "canvas",
    "iframe",
    "object",
    "embed",
    "map",
    "button",
    "input",
    "select",
    "textarea",
    "dialog",
];

/// Elements that flow inside a line; anything else starts a new block.
const INLINE: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font", "i", "ins", "kbd",
    "label", "mark", "q", "ruby", "rp", "rt", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time",
    "tt", "u", "var", "wbr",
];

/// Classes whose elements a reader does not see: mdBook's hidden code lines, heading
/// permalinks, text for screen readers only.
const HIDDEN_CLASSES: &[&str] = &["boring", "headerlink", "sr-only", "visually-hidden"];

/// Roles of page chrome: landmarks and widgets around the text, not part of it.
const CHROME_ROLES: &[&str] = &["navigation", "banner", "menubar", "toolbar", "dialog", "alertdialog", "tooltip"];

/// Words in a block element's class or id that name page chrome: menu and tool bars,
/// pop-ups (mdBook's menu bar, whose `h1` is the book's name, and its keyboard help
/// among them). Read from the token's words split at `-` and `_`, a pair of them joined
/// too ("menu-bar").
const CHROME_WORDS: &[&str] = &["menubar", "navbar", "toolbar", "topbar", "popup", "modal"];

/// The page as blocks (see the module's comment) and the share of its body's words kept.
pub fn read(page: &str) -> Result<Document, PipelineError> {
    let dom = dom_query::Document::from(page);
    let marked = dom.select_single("main, article, [role=main]").nodes().first().map(|node| node.id);
    let mut walker = Walker { marked, ..Walker::default() };
    if let Some(body) = dom.body() {
        walker.walk(&body, 0);
        walker.flush();
    }
    let Walker { blocks: mut whole, marked_blocks, .. } = walker;
    let counts: Vec<usize> = whole.iter().map(|block| text::word_count(&block.text)).collect();
    let body_words: usize = counts.iter().sum();
    let enough = |words: usize| words as f64 >= MIN_READABLE_SHARE * body_words as f64;
    let marked_words = marked_blocks.clone().map(|range| counts[range].iter().sum::<usize>());
    let (blocks, kept) = match (marked_blocks, marked_words) {
        (Some(range), Some(words)) if enough(words) => (whole.drain(range).collect(), words),
        (range, _) => {
            // The title: the first heading of the marked content, else the page's first `h1`.
            let title = range
                .and_then(|range| whole[range].iter().find(|block| matches!(block.kind, BlockKind::Heading(_))))
                .or_else(|| whole.iter().find(|block| block.kind == BlockKind::Heading(1)))
                .cloned();
            match readable(dom, &whole, title) {
                Some((blocks, words)) if enough(words) => (blocks, words),
                _ => (whole, body_words),
            }
        }
    };
    Ok(Document { blocks, extractor: "html", pages: None, kept_ratio: kept_share(kept, body_words) })
}

/// Readability's main content as blocks and their words, with the headings' levels in
/// the page's `whole` blocks and the page's title heading; None if it finds none.
fn readable(dom: dom_query::Document, whole: &[Block], title: Option<Block>) -> Option<(Vec<Block>, usize)> {
    let config = dom_smoothie::Config { keep_classes: true, ..Default::default() };
    let mut readability = dom_smoothie::Readability::with_document(dom, None, Some(config)).ok()?;
    readability.parse().ok()?;
    // The content is left in the document, in readability.js's page element: walked
    // there, it need not be parsed again from the article's HTML.
    let content = readability.doc.select_single("#readability-page-1");
    let mut blocks = blocks_of(content.nodes().first()?);
    // Readability turns `<h1>`s into `<h2>`s: headings get their page's levels back.
    let levels: HashMap<&str, u8> = whole
        .iter()
        .filter_map(|block| match block.kind {
            BlockKind::Heading(level) => Some((block.text.as_str(), level)),
            _ => None,
        })
        .collect();
    for block in &mut blocks {
        if let BlockKind::Heading(_) = block.kind
            && let Some(level) = levels.get(block.text.as_str())
        {
            block.kind = BlockKind::Heading(*level);
        }
    }
    // It also drops the heading that repeats the page's title.
    if let Some(title) = title.filter(|title| !blocks.iter().any(|block| block.text == title.text)) {
        blocks.insert(0, title);
    }
    let words = block_words(&blocks);
    Some((blocks, words))
}

/// The blocks under `root`, in document order.
pub fn blocks_of(root: &NodeRef) -> Vec<Block> {
    let mut walker = Walker::default();
    walker.walk(root, 0);
    walker.flush();
    walker.blocks
}

/// The words a reader sees in a piece of HTML (a Markdown file's raw HTML block): none
/// if it nests too deep to parse safely.
pub fn visible_words(fragment: &str) -> usize {
    if check_html_depth(fragment).is_err() {
        return 0;
    }
    block_words(&blocks_of(&dom_query::Document::fragment(fragment).root()))
}

#[derive(Default)]
struct Walker {
    blocks: Vec<Block>,
    /// The text of the paragraph being read.
    inline: String,
    /// The element the page marks as its main content, if any, and the blocks read from it.
    marked: Option<NodeId>,
    marked_blocks: Option<Range<usize>>,
}

impl Walker {
    fn walk(&mut self, node: &NodeRef, depth: usize) {
        // The page's nesting is checked before parsing; this bounds the parser's own.
        if depth > 2 * MAX_HTML_DEPTH {
            return;
        }
        for child in node.children_it(false) {
            if child.is_text() {
                // Line breaks in the source are spaces; only `<br>` breaks a line.
                self.inline.extend(child.text().chars().map(|c| if c.is_whitespace() { ' ' } else { c }));
                continue;
            }
            let Some(name) = element_name(&child) else { continue };
            match name.as_str() {
                "br" => self.inline.push('\n'),
                "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                    let level = name.as_bytes()[1] - b'0';
                    self.push(BlockKind::Heading(level), one_line(&visible_text(&child)));
                }
                "pre" => {
                    let code = code_text(&visible_text(&child));
                    self.push(code_kind(tagged_language(&child).as_deref(), &code), code);
                }
                "ul" | "ol" => {
                    let mut list = String::new();
                    list_items(&child, 0, &mut list);
                    self.push(BlockKind::List, list);
                }
                "table" => self.push(BlockKind::Table, table_rows(&child)),
                "blockquote" => self.push(BlockKind::Quote, text::normalise(&visible_text(&child))),
                inline if INLINE.contains(&inline) => self.walk(&child, depth + 1),
                _ => {
                    self.flush();
                    let first = self.blocks.len();
                    self.walk(&child, depth + 1);
                    self.flush();
                    if self.marked == Some(child.id) {
                        self.marked_blocks = Some(first..self.blocks.len());
                    }
                }
            }
        }
    }

    /// Ends the paragraph being read.
    fn flush(&mut self) {
        // White space is already spaces, `<br>`s line breaks: normalising folds them.
        let text = text::normalise(&std::mem::take(&mut self.inline));
        if !text.is_empty() {
            self.blocks.push(Block { kind: BlockKind::Paragraph, text, page: None });
        }
    }

    fn push(&mut self, kind: BlockKind, text: String) {
        self.flush();
        if !text.trim().is_empty() {
            self.blocks.push(Block { kind, text, page: None });
        }
    }
}

/// The element's lowercase name, or None for what is not read: other nodes, skipped
/// and hidden elements, page headers (a header inside an article or section is read).
fn element_name(node: &NodeRef) -> Option<String> {
    if !node.is_element() {
        return None;
    }
    let name = node.node_name()?.to_ascii_lowercase();
    let hidden = SKIPPED.contains(&name.as_str())
        || node.has_attr("hidden")
        || node.attr("aria-hidden").is_some_and(|value| value.eq_ignore_ascii_case("true"))
        || node.attr("role").is_some_and(|role| CHROME_ROLES.iter().any(|chrome| role.eq_ignore_ascii_case(chrome)))
        || node.attr("style").is_some_and(|style| style.replace(' ', "").to_ascii_lowercase().contains("display:none"))
        || node.class().is_some_and(|classes| classes.split_whitespace().any(|class| HIDDEN_CLASSES.contains(&class)))
        || !INLINE.contains(&name.as_str()) && is_chrome(node)
        || name == "header"
            && !node.ancestors_it(Some(MAX_HTML_DEPTH)).any(|ancestor| {
                ancestor.node_name().is_some_and(|n| matches!(&*n.to_ascii_lowercase(), "article" | "main" | "section"))
            });
    (!hidden).then_some(name)
}

/// Whether an element is page chrome by its class or id (see [`CHROME_WORDS`]), unless
/// its own text uses the word: an id made from a heading ("customising-the-toolbar")
/// names the content, not chrome.
fn is_chrome(node: &NodeRef) -> bool {
    let word = [node.class(), node.id_attr()].into_iter().flatten().find_map(|value| chrome_word(&value));
    word.is_some_and(|word| {
        let squashed: String =
            node.text().chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        !squashed.contains(word)
    })
}

/// The chrome word that a class or id attribute's tokens name, if any.
fn chrome_word(value: &str) -> Option<&'static str> {
    value.split_whitespace().find_map(|token| {
        let words: Vec<&str> = token.split(['-', '_']).collect();
        CHROME_WORDS.iter().copied().find(|chrome| {
            words.iter().any(|word| word.eq_ignore_ascii_case(chrome))
                || words.windows(2).any(|pair| {
                    chrome.len() == pair[0].len() + pair[1].len()
                        && chrome[..pair[0].len()].eq_ignore_ascii_case(pair[0])
                        && chrome[pair[0].len()..].eq_ignore_ascii_case(pair[1])
                })
        })
    })
}

/// The text a reader sees in `node`, as written (code keeps its spaces), with a line
/// break around each block inside it.
fn visible_text(node: &NodeRef) -> String {
    fn collect(node: &NodeRef, depth: usize, out: &mut String) {
        if depth > 2 * MAX_HTML_DEPTH {
            return;
        }
        for child in node.children_it(false) {
            if child.is_text() {
                out.push_str(&child.text());
            } else if let Some(name) = element_name(&child) {
                let block = !INLINE.contains(&name.as_str());
                if block || name == "br" {
                    out.push('\n');
                }
                collect(&child, depth + 1, out);
                if block {
                    out.push('\n');
                }
            }
        }
    }
    let mut out = String::new();
    collect(node, 0, &mut out);
    out
}

/// The language a `pre` block is tagged with: a class `language-X` (or `lang-X`) on it
/// or on the `code` inside it, as mdBook and highlighters write them.
fn tagged_language(pre: &NodeRef) -> Option<String> {
    let code = pre.children_it(false).filter(|child| element_name(child).as_deref() == Some("code"));
    std::iter::once(*pre).chain(code).filter_map(|node| node.class()).find_map(|classes| {
        classes.split_whitespace().find_map(|class| {
            class.strip_prefix("language-").or_else(|| class.strip_prefix("lang-")).map(str::to_owned)
        })
    })
}

/// White space folded to single spaces, trimmed.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A list's items, one a line: `- item` or, in an ordered list, `N. item` from its
/// `start`; nested lists indented under their item.
fn list_items(list: &NodeRef, indent: usize, out: &mut String) {
    let ordered = list.node_name().is_some_and(|name| name.eq_ignore_ascii_case("ol"));
    let mut number: i64 = list.attr("start").and_then(|start| start.trim().parse().ok()).unwrap_or(1);
    for item in list.children_it(false) {
        if element_name(&item).as_deref() != Some("li") {
            continue;
        }
        let mut own = String::new();
        let mut nested = Vec::new();
        for child in item.children_it(false) {
            match element_name(&child).as_deref() {
                Some("ul" | "ol") if indent < 2 * MAX_HTML_DEPTH => nested.push(child),
                Some(_) => own.push_str(&format!(" {} ", visible_text(&child))),
                None if child.is_text() => own.push_str(&child.text()),
                None => {}
            }
        }
        let own = text::normalise(&one_line(&own));
        let marker = if ordered { format!("{number}. ") } else { "- ".to_owned() };
        number += 1;
        // An item with nothing to read (a list of icon buttons) is no item.
        if own.is_empty() && nested.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("{}{marker}{own}", "  ".repeat(indent)));
        for list in nested {
            list_items(&list, indent + 1, out);
        }
    }
}

/// A table's rows, one a line, cells separated by ` | `.
fn table_rows(table: &NodeRef) -> String {
    let mut rows = Vec::new();
    let mut row_groups = vec![*table];
    for child in table.children_it(false) {
        if matches!(element_name(&child).as_deref(), Some("thead" | "tbody" | "tfoot")) {
            row_groups.push(child);
        }
    }
    for group in row_groups {
        for row in group.children_it(false) {
            if element_name(&row).as_deref() != Some("tr") {
                continue;
            }
            let cells: Vec<String> = row
                .children_it(false)
                .filter(|cell| matches!(element_name(cell).as_deref(), Some("td" | "th")))
                .map(|cell| text::normalise(&one_line(&visible_text(&cell))))
                .collect();
            if cells.iter().any(|cell| !cell.is_empty()) {
                rows.push(cells.join(" | "));
            }
        }
    }
    rows.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(page: &str) -> Vec<(BlockKind, String)> {
        read(page).expect("read").blocks.into_iter().map(|block| (block.kind, block.text)).collect()
    }

    #[test]
    fn furniture_is_left_out_and_structure_kept() {
        let page = "<html><head><title>T</title><style>p{}</style></head><body>\
            <header><a href='/'>Site</a></header><nav><ul><li>Home</li></ul></nav>\
            <h1>Cells</h1><p>Cells are <em>small</em>\n   units.<br>Next line.</p>\
            <ol start='3'><li>three</li><li><p>four</p><ul><li>inner</li></ul></li></ol>\
            <table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>\
            <aside>Ads</aside><footer>Copyright</footer><script>var x = 1;</script></body></html>";
        assert_eq!(
            blocks(page),
            [
                (BlockKind::Heading(1), "Cells".to_owned()),
                (BlockKind::Paragraph, "Cells are small units.\nNext line.".to_owned()),
                (BlockKind::List, "3. three\n4. four\n  - inner".to_owned()),
                (BlockKind::Table, "a | b\n1 | 2".to_owned()),
            ]
        );
    }

    #[test]
    fn a_book_page_is_its_main_content_under_its_own_title() {
        // mdBook's page: a keyboard help pop-up, the table of contents, a menu bar whose
        // `h1` is the book's name (with a list of theme buttons), then the chapter in
        // `main` under an `h2` that repeats the page's title and has negative words
        // ("related", "extra") in its id.
        let prose = "A box stores its data on the heap, and the stack keeps only the pointer to it. ".repeat(6);
        let page = format!(
            "<html><head><title>Related Data in Boxes - The Book</title></head><body>\
             <div id='mdbook-help-container'><div id='mdbook-help-popup'><h2>Keyboard shortcuts</h2>\
             <p>Press S to search in the book</p></div></div>\
             <nav id='mdbook-sidebar' class='sidebar'><ol><li><a href='ch1.html'>Getting started</a></li></ol></nav>\
             <div id='mdbook-menu-bar' class='menu-bar sticky'><ul class='theme-popup' role='menu'>\
             <li role='none'><button>Light</button></li><li role='none'><button>Dark</button></li></ul>\
             <h1 class='menu-title'>The Book</h1></div>\
             <div class='content'><main><h2 id='related-data'><a class='header' href='#related-data'>Related Data in Boxes</a></h2>\
             <p>{prose}</p><h3 id='extra-storage'>Extra storage</h3><p>{prose}</p><ul><li>one box</li></ul></main></div>\
             <nav class='nav-wrapper'><a href='ch2.html'>Next</a></nav></body></html>"
        );
        let document = read(&page).expect("read");
        let kinds: Vec<(BlockKind, &str)> =
            document.blocks.iter().map(|block| (block.kind, block.text.as_str())).collect();
        assert_eq!(kinds[0], (BlockKind::Heading(2), "Related Data in Boxes"), "the chapter's title first");
        assert!(kinds.contains(&(BlockKind::Heading(3), "Extra storage")), "{kinds:?}");
        for chrome in ["The Book", "Keyboard", "Press S", "Light", "Getting started", "Next"] {
            assert!(kinds.iter().all(|(_, text)| !text.contains(chrome)), "{chrome} left out: {kinds:?}");
        }
        assert!(kinds.iter().all(|(_, text)| text.trim() != "-"), "no list of empty items");
        assert_eq!(document.kept_ratio, Some(1.0));
        let chunks = crate::materials::pipeline::chunk::chunk(&document.blocks);
        assert_eq!(chunks[0].heading_path, ["Related Data in Boxes"]);
    }

    #[test]
    fn content_named_like_chrome_is_read() {
        let page = "<html><body><main><div class='editor-toolbar'><p>Bold Italic</p></div>\
            <section id='customising-the-toolbar'><h2 id='customising-the-toolbar-1'>Customising the toolbar</h2>\
            <p>Drag a <span class='tooltip'>button</span> onto the tool bar.</p></section>\
            <div id='modal-verbs'><p>Modal verbs such as can and must.</p></div></main></body></html>";
        assert_eq!(
            blocks(page),
            [
                (BlockKind::Heading(2), "Customising the toolbar".to_owned()),
                (BlockKind::Paragraph, "Drag a button onto the tool bar.".to_owned()),
                (BlockKind::Paragraph, "Modal verbs such as can and must.".to_owned()),
            ]
        );
    }

    #[test]
    fn without_marked_content_the_title_is_the_first_h1_outside_the_chrome() {
        let prose = |topic: &str| {
            format!("<p>{}</p>", format!("The {topic} of a cell is studied under the microscope. ").repeat(8))
        };
        let page = format!(
            "<html><head><title>Cell parts | Site</title></head><body>\
             <div class='top-navbar'><h1>Site</h1><a href='/'>Home</a></div>\
             <div id='content'><h1>Cell parts</h1>{}{}{}</div></body></html>",
            prose("membrane"),
            prose("nucleus"),
            prose("cytoplasm"),
        );
        let document = read(&page).expect("read");
        assert_eq!(
            document.blocks[0],
            Block { kind: BlockKind::Heading(1), text: "Cell parts".to_owned(), page: None }
        );
        assert!(document.blocks.iter().all(|block| block.text != "Site" && block.text != "Home"));
        assert_eq!(document.kept_ratio, Some(1.0));
    }

    #[test]
    fn docbook_sections_have_headings_and_nothing_is_dropped() {
        let section = |n: usize, title: &str| {
            format!(
                "<div class='sect1'><div class='titlepage'><div><div><h2 class='title'>{n}. {title}</h2></div></div></div>\
                 <p>{}</p><div class='sect2'><div class='titlepage'><div><div><h3 class='title'>{n}.1. Détails</h3>\
                 </div></div></div><p>{}</p></div></div>",
                format!("Le paragraphe numéro {n} décrit la configuration du serveur en détail. ").repeat(12),
                format!("Une remarque sur la section {n} et ses paramètres. ").repeat(6),
            )
        };
        let body: String = (1..=6).map(|n| section(n, "Configuration")).collect();
        let page = format!(
            "<html><body><div class='navheader'><a href='a'>Précédent</a></div>\
             <div class='chapter'><div class='titlepage'><div><div><h1 class='title'>Guide</h1></div></div></div>{body}</div>\
             <div class='navfooter'><a href='b'>Suivant</a></div></body></html>"
        );
        let document = read(&page).expect("read");
        let headings: Vec<&str> = document
            .blocks
            .iter()
            .filter(|block| matches!(block.kind, BlockKind::Heading(_)))
            .map(|block| block.text.as_str())
            .collect();
        assert_eq!(headings.first(), Some(&"Guide"), "the title heading is kept");
        for n in 1..=6 {
            assert!(headings.contains(&format!("{n}. Configuration").as_str()), "{headings:?}");
        }
        assert!(document.kept_ratio.expect("measured") >= 0.98, "{:?}", document.kept_ratio);
    }

    #[test]
    fn code_keeps_indentation_and_drops_hidden_lines_and_figures_stay_out() {
        let page = "<html><body><main><h1>Code</h1><p>Before the figure.</p>\
            <figure><img src='a.png' alt='Three tables: s1 and s2'><figcaption>Figure 1: tables</figcaption></figure>\
            <pre><code class='language-rust'><span class=\"boring\">#![allow(unused)]\n</span>fn main() {\n    \
            if x {\n        y();\n    }\n}\n</code></pre><p hidden>secret</p><p>After.</p></main></body></html>";
        let blocks = blocks(page);
        assert_eq!(
            blocks,
            [
                (BlockKind::Heading(1), "Code".to_owned()),
                (BlockKind::Paragraph, "Before the figure.".to_owned()),
                (BlockKind::Code, "fn main() {\n    if x {\n        y();\n    }\n}".to_owned()),
                (BlockKind::Paragraph, "After.".to_owned()),
            ]
        );
    }
}
