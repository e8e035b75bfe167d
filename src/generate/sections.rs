//! Sections' leads: what the first sentences under a heading say of it. A section whose
//! heading names a topic ("deny" under "Lint Levels", "Blank lines" in a style guide,
//! "Grant of Copyright License" in a licence) opens, as a rule, by saying what it is or
//! what holds for it: the builtin generator asks it as a term card ("Lint Levels: deny"
//! → "A ‘deny’ lint produces an error if you violate it."), which covers the main ideas
//! of reference pages and licences that state rules rather than define terms.

use super::ChunkInput;
use super::flaws;
use super::language::{Lang, has_reference_label};
use crate::materials::pipeline::{analyse, text};

/// Words of a heading that names a topic, at most.
const HEADING_WORDS: usize = 6;
/// Words of a lead's answer, at most (two sentences when the first is short).
const LEAD_WORDS: usize = 60;
/// A first sentence shorter than this is answered with the next one too.
const SHORT_LEAD: usize = 12;

/// A section's heading and what its first sentences say.
pub struct Lead {
    /// The prose chunk it opens (an index into the chunks given to [`leads`]).
    pub chunk: usize,
    /// The card's front: the heading, after the heading above it when that names more
    /// than a part of the document ("Lint Levels: deny").
    pub front: String,
    /// Its first sentence, the fact the card is made from.
    pub sentence: String,
    /// What the card answers: the first sentence, and the next when the first is short.
    pub answer: String,
}

/// The leads of `chunks` (prose chunks in document order): the first paragraph under
/// each heading, the chunk's own (the last of its heading path, which its text opens
/// with) or one inside it (short sections share a chunk: a short line over a paragraph),
/// and paragraphs opening with a numbered heading of their own ("2. Grant of Copyright
/// License. Subject to ...", as plain-text licences write them).
pub fn leads(chunks: &[&ChunkInput], language: Option<&str>) -> Vec<Lead> {
    let mut leads = Vec::new();
    for (index, chunk) in chunks.iter().enumerate() {
        let language = chunk.language.or(language);
        let path = chunk.heading_path;
        let own = path.last().map(String::as_str);
        let above = path.len().checked_sub(2).and_then(|i| context_heading(&path[i]));
        // (A numbered section's context is the heading above the numbered ones.)
        let unnumbered = path.iter().rev().find(|h| !h.starts_with(|c: char| c.is_ascii_digit()));
        let paragraphs: Vec<&str> = chunk.text.split("\n\n").map(str::trim).collect();
        for (i, paragraph) in paragraphs.iter().enumerate() {
            let found = match paragraphs.get(i + 1) {
                Some(body) if i == 0 && Some(*paragraph) == own => Some((*paragraph, above, *body)),
                Some(body) if i > 0 && heading_line(paragraph) => {
                    Some((*paragraph, own.and_then(context_heading), *body))
                }
                _ => run_in_heading(paragraph).map(|(h, body)| (h, unnumbered.and_then(|h| context_heading(h)), body)),
            };
            if let Some((heading, context, body)) = found
                && let Some(lead) = lead(index, heading, context, body, language)
            {
                leads.push(lead);
            }
        }
    }
    leads
}

/// A paragraph that reads as a heading inside a chunk: one short line with no final
/// punctuation, capitalised unless a name of three words or fewer ("force-warn").
fn heading_line(paragraph: &str) -> bool {
    let words = paragraph.split_whitespace().count();
    !paragraph.contains('\n')
        && (1..=HEADING_WORDS).contains(&words)
        && !paragraph.ends_with(['.', '!', '?', ':', ';', ','])
        && (paragraph.starts_with(char::is_uppercase) || words <= 3)
        && text::list_marker(paragraph).is_none()
}

fn lead(chunk: usize, heading: &str, context: Option<&str>, body: &str, language: Option<&str>) -> Option<Lead> {
    let lang = Lang::of(language);
    let heading = topic_heading(heading)?;
    let sentences = analyse::prose_sentences(body.trim_start());
    let first = *sentences.first()?;
    if !body.trim_start().starts_with(first)
        || !states(first, lang)
        || !opens_alone(first, lang)
        || !speaks_of(first, heading, language)
    {
        return None;
    }
    let mut answer = first.to_owned();
    if text::word_count(first) < SHORT_LEAD
        && let Some(next) = sentences.get(1).filter(|s| states(s, lang))
        && text::word_count(first) + text::word_count(next) <= LEAD_WORDS
    {
        answer = format!("{first} {next}");
    }
    let front = match context {
        Some(context) if context != heading => format!("{context}: {heading}"),
        _ => heading.to_owned(),
    };
    Some(Lead { chunk, front, sentence: first.to_owned(), answer })
}

/// A sentence that states something on its own, as an answer reads it: a proposition
/// of prose, no list's lead-in (":"), no question, nothing pointing elsewhere.
fn states(sentence: &str, lang: Option<Lang>) -> bool {
    (6..=LEAD_WORDS).contains(&text::word_count(sentence))
        && sentence.ends_with('.')
        && flaws::is_prose(sentence)
        && !sentence.contains('\n')
        && !sentence.contains("://")
        && !has_reference_label(sentence)
        && sentence.matches('(').count() == sentence.matches(')').count()
        && lang.is_none_or(|l| {
            !l.points_elsewhere(sentence) && !l.demonstrative_pronoun(sentence) && !l.narrates(sentence)
        })
}

/// Whether `sentence` names the words of `heading` (its content words, most of them when
/// it has three or more; "Returning" names "Return"): a section's first sentence that
/// does not is an introduction ("Most errors aren't serious enough ..." under
/// "Recoverable Errors with Result"), not what the section says of its topic.
fn speaks_of(sentence: &str, heading: &str, lang: Option<&str>) -> bool {
    let stop = analyse::stop_words(lang);
    let words: Vec<String> = sentence.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).collect();
    let content: Vec<String> = heading
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3 && !stop.contains(w))
        .collect();
    let named = content
        .iter()
        .filter(|w| {
            let stem: String = w.chars().take(w.chars().count().clamp(3, 5)).collect();
            words.iter().any(|s| s == *w || s.starts_with(&stem))
        })
        .count();
    // (Two of three, three of four: "Re-exporting and visibility" is named by "publicly
    // re-exporting items"; one word missing of two is half the topic.)
    named * 3 >= content.len() * 2 && named > 0
}

/// Whether a section's first sentence opens on its own: under its heading, "This
/// level ..." or "These lints ..." name the heading's topic, but a pronoun ("It ...",
/// "They ...") or a connective leans on text the card does not show.
fn opens_alone(sentence: &str, lang: Option<Lang>) -> bool {
    let mut words = sentence.split_whitespace();
    let (Some(first), Some(second)) = (words.next(), words.next()) else { return false };
    let Some(lang) = lang else { return true };
    let names_a_topic = lang.demonstrative_determiners().contains(&first.to_lowercase().as_str())
        && !lang.leans_on_context(second)
        && second.chars().all(char::is_alphabetic);
    names_a_topic || !lang.leans_on_context(first)
}

/// A heading that names a topic, without its number and final period: one to
/// [`HEADING_WORDS`] words opening with a letter (not an option's "-b, --bytes": that
/// is a definition list's entry), not a question or a message ("gunzip: corrupt input",
/// a manual's diagnostic), a document part ("Description", "See also") or a manual
/// page's section in capitals.
fn topic_heading(heading: &str) -> Option<&str> {
    let heading =
        heading.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.').trim().trim_end_matches(['.', ':']);
    let words: Vec<&str> = heading.split_whitespace().collect();
    let capitals = heading.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase);
    let part = DOCUMENT_PARTS.contains(&heading.to_lowercase().as_str());
    (heading.starts_with(char::is_alphabetic)
        && words.len() <= HEADING_WORDS
        && !heading.contains(['?', '!', ':'])
        && !capitals
        && !part)
        .then_some(heading)
}

/// A heading above a topic's that says what the topic is part of ("Lint Levels"); not
/// a manual page's section in capitals ("OPTIONS") nor a licence's "TERMS AND CONDITIONS".
fn context_heading(heading: &str) -> Option<&str> {
    topic_heading(heading).filter(|h| h.split_whitespace().count() <= HEADING_WORDS)
}

/// A paragraph opening with a numbered heading of its own, as plain-text licences write
/// their sections: "2. Grant of Copyright License. Subject to ..." gives the heading and
/// what follows it.
fn run_in_heading(paragraph: &str) -> Option<(&str, &str)> {
    let paragraph = paragraph.trim_start();
    let (number, rest) = paragraph.split_once(' ')?;
    let numbered = number.ends_with('.')
        && number.trim_end_matches('.').split('.').all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    let (heading, body) = rest.split_once(". ")?;
    let titled = flaws::is_title(heading) || text::word_count(heading) <= 2 && heading.starts_with(char::is_uppercase);
    (numbered && titled && !heading.contains('\n') && body.starts_with(char::is_uppercase))
        .then_some((&paragraph[..number.len() + 1 + heading.len()], body))
}

/// Headings that name a part of a document, not a topic of it.
const DOCUMENT_PARTS: [&str; 24] = [
    "introduction",
    "overview",
    "summary",
    "conclusion",
    "example",
    "examples",
    "note",
    "notes",
    "see also",
    "description",
    "options",
    "synopsis",
    "name",
    "bugs",
    "author",
    "authors",
    "copyright",
    "files",
    "environment",
    "history",
    "contents",
    "table of contents",
    "preface",
    "further reading",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn leads_of(text: &str, heading_path: &[String]) -> Vec<(String, String)> {
        let chunk = ChunkInput {
            id: uuid::Uuid::nil(),
            order: 0,
            kind: "section",
            text,
            summary: "",
            relevance: 1.0,
            language: Some("en"),
            heading_path,
        };
        leads(&[&chunk], Some("en")).into_iter().map(|l| (l.front, l.answer)).collect()
    }

    #[test]
    fn a_lead_names_its_topic_and_stands_on_its_own() {
        let path = ["Formatting conventions".to_owned()];
        let text = "Formatting conventions\n\nThe conventions say how source files are laid out.\n\n\
            Blank lines\n\nSeparate items and statements by either zero or one blank lines.\n\n\
            Comments\n\nSometimes it helps to read the code in question twice before changing it.\n\n\
            Imports\n\nThe order of imports is the inverse of this in every module of a crate.\n\n\
            Attributes\n\nWe put attributes on their own line above the item they apply to.\n\n\
            Indentation\n\nIt is four spaces of indentation for each level of every block.\n\n\
            Line width\n\nThese lines have a width of one hundred characters at most.\n\n\
            DESCRIPTION\n\nThe description says what a description of a program should say.\n\n\
            gunzip: corrupt input\n\nA gunzip run on corrupt input usually stops at a violation.\n\n\
            Recoverable Errors with Result\n\nMost errors are not serious enough to stop the program entirely.\n\n\
            Encapsulation That Hides Details\n\nEncapsulation means that the details of an object are not accessible to code using it.";
        assert_eq!(
            leads_of(text, &path),
            [
                (
                    "Formatting conventions: Blank lines".to_owned(),
                    "Separate items and statements by either zero or one blank lines.".to_owned()
                ),
                (
                    "Formatting conventions: Line width".to_owned(),
                    "These lines have a width of one hundred characters at most.".to_owned()
                ),
                (
                    "Formatting conventions: Encapsulation That Hides Details".to_owned(),
                    "Encapsulation means that the details of an object are not accessible to code using it.".to_owned()
                ),
            ],
            "a sentence not naming its heading (Comments), a demonstrative standing for what came before \
             (Imports), a narrator (Attributes), a pronoun (Indentation), a section in capitals, a message, an \
             introduction naming one word of three (Recoverable Errors with Result): none"
        );
    }

    #[test]
    fn a_short_first_sentence_is_answered_with_the_next() {
        let path = ["Lint Levels".to_owned(), "Force-warn".to_owned()];
        let text =
            "Force-warn\n\nForce-warn is a special lint level. It is the same as warn, but it cannot be overridden.";
        assert_eq!(
            leads_of(text, &path),
            [(
                "Lint Levels: Force-warn".to_owned(),
                "Force-warn is a special lint level. It is the same as warn, but it cannot be overridden.".to_owned()
            )]
        );
    }
}
