//! A material's items as its page shows them: grouped by section (their chunk's
//! headings), a page at a time, filtered by kind and status, each with its answer and
//! what its owner can do with it (edit, suspend, delete, restore, report).

use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::generate::flaws::BLANK;
use crate::generate::store::{Filter, Shown};
use crate::generate::{Flashcard, Quiz, QuizKind, Summary};
use crate::states::{AssetStatus, AssetType};

/// Items a page lists, a chunk's items kept together (so a page may hold up to one
/// chunk's more).
pub const PER_PAGE: i64 = 40;

/// Chunks a page lists.
pub const CHUNKS_PER_PAGE: i64 = 30;

/// Where the chunk list's last page starts, of `total` chunks.
pub fn last_chunks_from(total: i64) -> i64 {
    (total - 1).max(0) / CHUNKS_PER_PAGE * CHUNKS_PER_PAGE
}

/// The page's query: `?page=2&kind=quiz&status=flagged&chunks=60`. Values it does not
/// know are read as their default (the first page, every kind, every status but
/// deleted), so that an edited link still shows a page.
#[derive(Deserialize, Default)]
pub struct Query {
    page: Option<String>,
    kind: Option<String>,
    status: Option<String>,
    /// The chunk list's start: the first chunk's order.
    chunks: Option<String>,
}

/// The query as read.
#[derive(Clone, Copy)]
pub struct View {
    pub filter: Filter,
    pub page: i64,
    pub chunks_from: i64,
}

impl Query {
    pub fn view(&self) -> View {
        let number = |text: &Option<String>| text.as_deref().and_then(|t| t.trim().parse::<i64>().ok());
        View {
            filter: Filter {
                kind: self.kind.as_deref().and_then(|k| k.parse().ok()),
                status: self.status.as_deref().and_then(|s| s.parse().ok()),
            },
            page: number(&self.page).unwrap_or(1).max(1),
            chunks_from: number(&self.chunks).unwrap_or(0).max(0),
        }
    }
}

impl View {
    /// This page's address with `page` and `chunks_from` changed (the filter kept).
    fn link(&self, material: Uuid, page: i64, chunks_from: i64) -> String {
        let mut query = Vec::new();
        if page > 1 {
            query.push(format!("page={page}"));
        }
        if let Some(kind) = self.filter.kind {
            query.push(format!("kind={kind}"));
        }
        if let Some(status) = self.filter.status {
            query.push(format!("status={status}"));
        }
        if chunks_from > 0 {
            query.push(format!("chunks={chunks_from}"));
        }
        let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
        format!("/materials/{material}{query}")
    }

    /// The links of the item pages: first, previous, next, last (those there are).
    pub fn item_pages(&self, material: Uuid, pages: i64) -> Pager {
        let page = self.page.min(pages.max(1));
        let at = |n: i64| Some(self.link(material, n, self.chunks_from));
        Pager {
            page,
            pages,
            first: (page > 2).then(|| at(1)).flatten(),
            previous: (page > 1).then(|| at(page - 1)).flatten(),
            next: (page < pages).then(|| at(page + 1)).flatten(),
            last: (page + 1 < pages).then(|| at(pages)).flatten(),
        }
    }

    /// The links of the chunk list: its start, the chunks before and after these.
    pub fn chunk_pages(&self, material: Uuid, total: i64) -> Pager {
        let from = self.chunks_from;
        let at = |n: i64| Some(format!("{}#chunks-heading", self.link(material, self.page, n)));
        Pager {
            page: from / CHUNKS_PER_PAGE + 1,
            pages: (total + CHUNKS_PER_PAGE - 1) / CHUNKS_PER_PAGE,
            first: (from >= 2 * CHUNKS_PER_PAGE).then(|| at(0)).flatten(),
            previous: (from > 0).then(|| at((from - CHUNKS_PER_PAGE).max(0))).flatten(),
            next: (from + CHUNKS_PER_PAGE < total).then(|| at(from + CHUNKS_PER_PAGE)).flatten(),
            last: None,
        }
    }

    /// Whether the list is filtered.
    pub fn filtered(&self) -> bool {
        self.filter.kind.is_some() || self.filter.status.is_some()
    }

    pub fn kind_is(&self, kind: &str) -> bool {
        self.filter.kind.map(AssetType::as_str).unwrap_or_default() == kind
    }

    pub fn status_is(&self, status: &str) -> bool {
        self.filter.status.map(AssetStatus::as_str).unwrap_or_default() == status
    }
}

/// Links to other pages of a list.
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub first: Option<String>,
    pub previous: Option<String>,
    pub next: Option<String>,
    pub last: Option<String>,
}

/// A section of the page: items of chunks under the same headings, in order.
pub struct Section {
    pub title: String,
    pub items: Vec<Item>,
}

/// One item, its content read for showing.
pub struct Item {
    pub id: Uuid,
    pub kind: AssetType,
    pub status: AssetStatus,
    /// A new draft waiting for its owner's review: Accept or Reject.
    pub to_review: bool,
    pub body: Body,
}

pub enum Body {
    /// A cloze card's front is its sentence with a blank: `parts` around it.
    Card {
        front: String,
        back: String,
        cloze: bool,
        parts: Vec<String>,
    },
    Quiz {
        question: String,
        choices: Vec<String>,
        answer: usize,
        explanation: String,
        true_false: bool,
    },
    Summary {
        text: String,
        key_points: Vec<String>,
    },
    /// Content not of its kind's shape (never stored so, but the page still shows).
    Unreadable,
}

impl Item {
    fn of(asset: Shown) -> Item {
        let content = asset.content;
        let body = match asset.asset_type {
            AssetType::Flashcard => read::<Flashcard>(content).map(|c| {
                let cloze = c.cloze == Some(true) && c.front.contains(BLANK);
                let parts = if cloze { c.front.split(BLANK).map(str::to_owned).collect() } else { Vec::new() };
                Body::Card { front: c.front, back: c.back, cloze, parts }
            }),
            AssetType::Quiz => read::<Quiz>(content).map(|q| Body::Quiz {
                question: q.question,
                choices: q.choices,
                answer: q.answer_index,
                explanation: q.explanation,
                true_false: q.kind == QuizKind::TrueFalse,
            }),
            AssetType::Summary => {
                read::<Summary>(content).map(|s| Body::Summary { text: s.text, key_points: s.key_points })
            }
        };
        Item {
            id: asset.id,
            kind: asset.asset_type,
            status: asset.status,
            to_review: asset.to_review,
            body: body.unwrap_or(Body::Unreadable),
        }
    }

    /// What the learner calls its status.
    pub fn status_label(&self) -> &'static str {
        if self.to_review { TO_REVIEW } else { status_label(self.status) }
    }

    /// Whether "Restore" (back to ready) is offered: for reported items and drafts (but
    /// those to review, which are accepted).
    pub fn restorable(&self) -> bool {
        matches!(self.status, AssetStatus::Flagged | AssetStatus::Draft) && !self.to_review
    }
}

/// A new draft waiting for review, in the learner's words.
pub const TO_REVIEW: &str = "new, to review";

/// A status in the learner's words.
pub fn status_label(status: AssetStatus) -> &'static str {
    match status {
        AssetStatus::Ready => "ready",
        AssetStatus::Draft => "draft",
        AssetStatus::Flagged => "reported",
        AssetStatus::Suspended => "suspended",
        AssetStatus::Archived => "deleted",
    }
}

fn read<T: serde::de::DeserializeOwned>(content: Value) -> Option<T> {
    serde_json::from_value(content).ok()
}

/// The items of a page, grouped: consecutive items under the same headings make one
/// section.
pub fn sections(assets: Vec<Shown>) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for asset in assets {
        let title = heading(&asset);
        let item = Item::of(asset);
        match sections.last_mut() {
            Some(last) if last.title == title => last.items.push(item),
            _ => sections.push(Section { title, items: vec![item] }),
        }
    }
    sections
}

/// A section's title: its chunk's headings, outermost first.
fn heading(asset: &Shown) -> String {
    if asset.chunk_order.is_none() {
        return "The whole material".to_owned();
    }
    let path: Vec<&str> = asset
        .heading_path
        .as_ref()
        .and_then(Value::as_array)
        .map(|path| path.iter().filter_map(Value::as_str).filter(|h| !h.trim().is_empty()).collect())
        .unwrap_or_default();
    if path.is_empty() { "Before the first heading".to_owned() } else { path.join(" › ") }
}

/// The choices of the status filter: (value, label).
pub fn status_choices() -> Vec<(&'static str, &'static str)> {
    AssetStatus::ALL.iter().map(|s| (s.as_str(), status_label(*s))).collect()
}
