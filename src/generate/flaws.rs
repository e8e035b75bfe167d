//! The item-writing-flaw checker every generator's flashcards and quiz items pass, the
//! builtin one's and the model's alike. Each flaw found lowers the item's
//! `quality_score` and is named in its `metadata.flaws`; an item whose score falls under
//! [`READY`] is stored as a `draft`, which no session serves (the learner may still
//! read it, edit it and set it `ready`). The flaws are the classic ones of item-writing
//! guidelines, narrowed to what can be told from the text:
//!
//! - `answer_in_stem`: a word of the answer stands elsewhere in the question;
//! - `grammatical_cue`: the article before the blank, the number or the capitals fit
//!   the answer and not every distractor;
//! - `longest_choice`: the answer is clearly the longest choice;
//! - `non_prose`: made from code, program output, a table or a heading;
//! - `dangling_reference`: the question leans on something outside it ("It has...",
//!   "this chapter", "Listing 8-1");
//! - `trivial_blank`: the blank is a stop word, a reference label or the material's
//!   dominant term in a sentence that does not define it;
//! - `near_duplicate`: the item re-asks an earlier item of another type;
//! - `length`: a question, an answer or a blank too long to read as one item.

use serde::Serialize;
use yake_rust::StopWords;

use super::language::{Lang, has_reference_label};
use super::{Flashcard, Quiz, QuizKind, normalise};
use crate::materials::pipeline::{analyse, text};
use crate::states::AssetStatus;

/// Items scoring less are stored as drafts, not served.
pub const READY: f64 = 0.5;
/// The blank of cloze items and sentence-completion questions.
pub const BLANK: &str = "_____";
/// Chunk kinds that are not prose: no item is made from them.
pub const NON_PROSE_KINDS: [&str; 4] = ["code", "output", "table", "figure"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flaw {
    AnswerInStem,
    GrammaticalCue,
    LongestChoice,
    NonProse,
    DanglingReference,
    TrivialBlank,
    NearDuplicate,
    Length,
}

impl Flaw {
    pub const ALL: [Flaw; 8] = [
        Flaw::AnswerInStem,
        Flaw::GrammaticalCue,
        Flaw::LongestChoice,
        Flaw::NonProse,
        Flaw::DanglingReference,
        Flaw::TrivialBlank,
        Flaw::NearDuplicate,
        Flaw::Length,
    ];

    /// Its name in `metadata.flaws`.
    pub fn name(self) -> &'static str {
        match self {
            Flaw::AnswerInStem => "answer_in_stem",
            Flaw::GrammaticalCue => "grammatical_cue",
            Flaw::LongestChoice => "longest_choice",
            Flaw::NonProse => "non_prose",
            Flaw::DanglingReference => "dangling_reference",
            Flaw::TrivialBlank => "trivial_blank",
            Flaw::NearDuplicate => "near_duplicate",
            Flaw::Length => "length",
        }
    }

    /// The share of its score an item loses. Any flaw but the two minor ones takes any
    /// item below [`READY`].
    fn penalty(self) -> f64 {
        match self {
            Flaw::LongestChoice | Flaw::Length => 0.15,
            _ => 0.6,
        }
    }
}

/// An item's score after its flaws: `base` (in [0, 1], from how it was made) lowered by
/// each flaw's penalty.
pub fn quality(base: f64, flaws: &[Flaw]) -> f64 {
    let score = flaws.iter().fold(base.clamp(0.0, 1.0), |score, flaw| score * (1.0 - flaw.penalty()));
    (score * 1000.0).round() / 1000.0 // three places: the same input gives the same score
}

/// `ready`, or `draft` when the score is under [`READY`].
pub fn status(quality: f64) -> AssetStatus {
    if quality >= READY { AssetStatus::Ready } else { AssetStatus::Draft }
}

/// What the checks need to know of the material.
pub struct Checks {
    stop: StopWords,
    /// The material's dominant terms (normalised): the most frequent, and up to two more
    /// at least half as frequent (each with its plural or singular), and those standing
    /// in more than half of its texts.
    dominant: Vec<String>,
}

/// An item as the learner sees it and what it was made from.
pub struct Item<'a> {
    pub content: Content<'a>,
    /// The sentence (or the model's evidence) it was made from.
    pub source: Option<&'a str>,
    /// The `chunk_type` of its chunk.
    pub chunk_kind: &'a str,
    /// The headings above its chunk: a source that is one of them is no prose.
    pub headings: &'a [String],
    /// The language it is written in.
    pub language: Option<&'a str>,
}

pub enum Content<'a> {
    Card(&'a Flashcard),
    Quiz(&'a Quiz),
}

impl Checks {
    /// The checks for a material whose prose is `texts`, in `language`.
    pub fn new<'a>(texts: impl Iterator<Item = &'a str>, language: Option<&str>) -> Checks {
        let stop = analyse::stop_words(language);
        let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        // In how many texts each term stands.
        let mut spread: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut texts_seen = 0;
        for text in texts {
            texts_seen += 1;
            for (term, n) in analyse::terms(text, &stop) {
                *counts.entry(term.clone()).or_default() += n as usize;
                *spread.entry(term).or_default() += 1;
            }
        }
        // The subject of the whole material stands in most of its parts ("Rust" in a
        // chapter of the Rust book): as trivial a blank as the most frequent term.
        let everywhere: Vec<String> = if texts_seen >= 4 {
            spread.into_iter().filter(|(_, n)| n * 2 > texts_seen).map(|(term, _)| term).collect()
        } else {
            Vec::new()
        };
        // The most frequent term, and those at least half as frequent, three at most.
        let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let top = ranked.first().map_or(0, |(_, n)| *n);
        let dominant = ranked
            .into_iter()
            .take(3)
            .filter(|(_, n)| n * 2 >= top)
            .flat_map(|(term, _)| {
                let other = match term.strip_suffix('s') {
                    Some(singular) => singular.to_owned(),
                    None => format!("{term}s"),
                };
                [term, other]
            })
            .chain(everywhere)
            .collect();
        Checks { stop, dominant }
    }

    /// The flaws of `item`, in a stable order.
    pub fn check(&self, item: &Item) -> Vec<Flaw> {
        let lang = Lang::of(item.language);
        let mut flaws = Vec::new();
        let heading = |s: &str| item.headings.iter().any(|h| normalise(h) == normalise(s));
        if NON_PROSE_KINDS.contains(&item.chunk_kind) || item.source.is_some_and(|s| !is_prose(s) || heading(s)) {
            flaws.push(Flaw::NonProse);
        }
        let (stem, answer, choices) = match &item.content {
            Content::Card(card) => (card.front.as_str(), card.back.as_str(), None),
            Content::Quiz(quiz) => (quiz.question.as_str(), quiz.choices[quiz.answer_index].as_str(), Some(*quiz)),
        };
        let true_false = choices.is_some_and(|q| q.kind == QuizKind::TrueFalse);
        let blanked = stem.contains(BLANK);
        // What the learner reads: a statement (true/false), a sentence to complete (after
        // the question that may open it), or a question, which opens with a question word.
        let dangling = |l: Lang| {
            if blanked {
                leans_on_context(l, stem.rsplit_once('?').map_or(stem, |(_, s)| s.trim()))
            } else if true_false {
                leans_on_context(l, stem)
            } else {
                l.refers_back(stem) || l.points_elsewhere(stem) || has_reference_label(stem)
            }
        };
        if lang.is_some_and(dangling) {
            flaws.push(Flaw::DanglingReference);
        }
        if !true_false && self.answer_in_stem(stem, answer) {
            flaws.push(Flaw::AnswerInStem);
        }
        if blanked && self.trivial_blank(stem, answer, lang) {
            flaws.push(Flaw::TrivialBlank);
        }
        if let Some(quiz) = choices.filter(|q| q.kind == QuizKind::MultipleChoice) {
            let distractors: Vec<&str> = quiz
                .choices
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != quiz.answer_index)
                .map(|(_, c)| c.as_str())
                .collect();
            if grammatical_cue(stem, answer, &distractors, lang) {
                flaws.push(Flaw::GrammaticalCue);
            }
            let longest = distractors.iter().map(|d| d.chars().count()).max().unwrap_or(0);
            let length = answer.chars().count();
            if length >= longest + 8 && length * 10 >= longest * 13 {
                flaws.push(Flaw::LongestChoice);
            }
        }
        let too_long = text::word_count(stem) > 60
            || (blanked && text::word_count(answer) > 5)
            || text::word_count(answer) > 60
            || text::word_count(stem) < 3;
        if too_long {
            flaws.push(Flaw::Length);
        }
        flaws
    }

    /// Whether a content word of `answer` stands in `stem` (a plural "s" aside): a word
    /// of four letters or more, or an acronym ("API").
    fn answer_in_stem(&self, stem: &str, answer: &str) -> bool {
        let acronym = |w: &str| w.chars().count() >= 2 && w.chars().all(|c| c.is_ascii_uppercase());
        if stem.contains(BLANK)
            && answer
                .split_whitespace()
                .filter(|w| acronym(w))
                .any(|w| stem.split(|c: char| !c.is_alphanumeric()).any(|s| s == w || s.strip_suffix('s') == Some(w)))
        {
            return true;
        }
        if stem.contains(BLANK) && spelled_out(stem, answer) {
            return true;
        }
        let stem_words: std::collections::HashSet<String> =
            normalise(&stem.replace(BLANK, " ")).split(' ').map(stem_of).collect();
        let answer = normalise(answer);
        if answer.is_empty() {
            return false;
        }
        if !stem.contains(BLANK) && format!(" {} ", normalise(stem)).contains(&format!(" {answer} ")) {
            return true; // a question answered by its own words
        }
        stem.contains(BLANK)
            && answer
                .split(' ')
                .filter(|w| w.chars().count() >= 4 && !self.stop.contains(*w))
                .any(|w| stem_words.contains(&stem_of(w)))
    }

    /// Whether the blank hides a stop word, a reference label or the material's dominant
    /// term outside a sentence defining it ("_____ is ...").
    fn trivial_blank(&self, stem: &str, answer: &str, lang: Option<Lang>) -> bool {
        let key = normalise(answer);
        let defines = stem.trim_start().rsplit_once('?').map_or(stem, |(_, s)| s.trim_start()).starts_with(BLANK)
            && lang.is_some_and(|l| {
                let after = stem.split(BLANK).nth(1).unwrap_or_default();
                l.definition_verbs().iter().any(|(verb, _)| after.starts_with(verb))
            });
        key.chars().count() <= 2
            || cuts_a_name(stem, answer)
            || key.split(' ').all(|w| self.stop.contains(w))
            || has_reference_label(answer)
            || (self.dominant.contains(&key) && !defines)
    }
}

/// Whether the blank takes part of a name whose other words stand beside it ("the _____
/// License" for "GNU General Public"): a fragment, however the name is cut.
fn cuts_a_name(stem: &str, answer: &str) -> bool {
    let capitalised = |w: &str| w.trim_matches(|c: char| !c.is_alphanumeric()).starts_with(char::is_uppercase);
    let Some((before, after)) = stem.split_once(BLANK) else { return false };
    // (A capitalised word before the blank that opens or ends a sentence is no name's:
    // "The _____ may", "... made it Safe. _____ is".)
    let ends = |w: &str| w.ends_with(['.', ':', '?', '!']);
    let before = before.split_whitespace().rev().take(2).collect::<Vec<_>>();
    let beside_before = match before.as_slice() {
        [word, previous, ..] => capitalised(word) && !ends(word) && !ends(previous),
        _ => false,
    };
    let beside_after = after.starts_with(' ') && after.split_whitespace().next().is_some_and(capitalised);
    capitalised(answer) && (beside_before || beside_after)
}

/// Whether `text` reads as prose: not a line of code or a comment, few symbols, four
/// words or more.
pub fn is_prose(text: &str) -> bool {
    let trimmed = text.trim();
    // Parentheses are prose's too ("apt-get(8)", "(a struct)"); empty ones are a call's.
    let symbols = trimmed.chars().filter(|c| "{};=|\\&$#`".contains(*c)).count() + 2 * trimmed.matches("()").count();
    let code = trimmed.starts_with("//") || trimmed.starts_with("#") || trimmed.contains("::") && symbols > 1;
    !code && symbols <= 3 && text::word_count(trimmed) >= 4
}

/// Whether English `text` is a title ("Protecting Users' Legal Rights From
/// Anti-Circumvention Law."): three capitalised words or more, and most of its words.
pub fn is_title(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().filter(|w| w.starts_with(char::is_alphabetic)).collect();
    let capitalised = words.iter().filter(|w| w.starts_with(char::is_uppercase)).count();
    capitalised >= 3 && capitalised * 5 >= words.len() * 3
}

/// Whether `sentence` leans on something outside it: it opens with a pronoun, a
/// demonstrative or a connective, names a listing or a figure, or narrates the text.
pub fn leans_on_context(lang: Lang, sentence: &str) -> bool {
    let first = sentence.split_whitespace().find(|w| !w.starts_with(BLANK)).unwrap_or_default();
    let opens_with_blank = sentence.trim_start().starts_with(BLANK);
    (!opens_with_blank && lang.leans_on_context(first))
        || lang.refers_back(sentence)
        || lang.points_elsewhere(sentence)
        || has_reference_label(sentence)
}

/// Whether an acronym and its expansion meet across the blank: the answer is an acronym
/// the question spells out ("the real-time operating system (_____)"), or a word of an
/// expansion whose acronym the question gives ("Compare and _____ (CAS)").
fn spelled_out(stem: &str, answer: &str) -> bool {
    // A compound may give one letter or one for each part ("real-time operating system",
    // RTOS; "Real Time Interrupt-driven Concurrency", RTIC), and a connector one or none
    // ("Compare and Swap", CAS).
    [(false, false), (false, true), (true, false), (true, true)]
        .into_iter()
        .any(|(compounds, connectors)| spelled_out_by(stem, answer, compounds, connectors))
}

fn spelled_out_by(stem: &str, answer: &str, split_compounds: bool, keep_connectors: bool) -> bool {
    let acronym = |w: &str| (2..=6).contains(&w.chars().count()) && w.chars().all(|c| c.is_ascii_uppercase());
    let filled = stem.replacen(BLANK, answer, 1);
    // The sentence's words (with their place) and their initials, connectors aside.
    let words: Vec<(usize, char)> = filled
        .split_whitespace()
        .enumerate()
        .filter(|(_, w)| keep_connectors || !["and", "of", "for", "the", "a", "an", "to"].contains(w))
        .flat_map(|(i, w)| {
            let w = w.trim_start_matches(|c: char| !c.is_alphanumeric());
            let parts: Vec<&str> = if split_compounds { w.split('-').collect() } else { vec![w] };
            parts.into_iter().filter_map(move |p| p.chars().next().map(|c| (i, c)))
        })
        .collect();
    let blank_at = stem.split_whitespace().position(|w| w.contains(BLANK));
    let spells = |window: &[(usize, char)], letters: &str| {
        window.len() == letters.chars().count()
            && window.iter().zip(letters.chars()).all(|((_, c), l)| c.to_ascii_uppercase() == l)
    };
    let answer_is_acronym = acronym(answer.trim());
    filled.split_whitespace().enumerate().any(|(at, word)| {
        let letters = word.trim_matches(|c: char| !c.is_alphanumeric());
        if !acronym(letters) {
            return false;
        }
        let n = letters.chars().count();
        let blank_in = |window: &[(usize, char)]| blank_at.is_some_and(|b| window.iter().any(|(i, _)| *i == b));
        let others: Vec<(usize, char)> = words.iter().copied().filter(|(i, _)| *i != at).collect();
        // The answer is the acronym, spelled out elsewhere in the sentence; or the blank
        // is in the words the acronym stands for.
        others.windows(n).any(|w| spells(w, letters) && ((answer_is_acronym && Some(at) == blank_at) || blank_in(w)))
    })
}

/// A grammatical cue: only the answer fits the article before the blank ("an _____"),
/// or the answer and a distractor differ in number, capitals or length in words.
fn grammatical_cue(stem: &str, answer: &str, distractors: &[&str], lang: Option<Lang>) -> bool {
    let before = stem.split(BLANK).next().unwrap_or_default().split_whitespace().next_back().unwrap_or_default();
    let article_fits = |choice: &str| match before.to_lowercase().as_str() {
        "a" => !starts_with_vowel_sound(choice),
        "an" => starts_with_vowel_sound(choice),
        _ => true,
    };
    let capital = |c: &str| c.starts_with(char::is_uppercase);
    let words = text::word_count(answer);
    let mid_sentence = !before.is_empty() && !before.ends_with(['.', '?', '!', ':']);
    distractors.iter().any(|d| {
        (lang == Some(Lang::En) && (article_fits(answer) != article_fits(d) || plural(answer) != plural(d)))
            || (mid_sentence && capital(answer) != capital(d) && !d.chars().any(|c| c.is_ascii_digit()))
            || text::word_count(d).abs_diff(words) > 1
    })
}

/// Whether an English word is said starting with a vowel (a rough rule: its first letter).
pub fn starts_with_vowel_sound(word: &str) -> bool {
    let lower = word.trim_start_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    let vowel = lower.starts_with(['a', 'e', 'i', 'o']) || (lower.starts_with('u') && !lower.starts_with("uni"));
    vowel || lower.starts_with("hour") || lower.starts_with("honest")
}

/// Whether an English term's last word looks plural ("cells", not "glass" or "status").
pub fn plural(term: &str) -> bool {
    let last = term.rsplit(' ').next().unwrap_or(term).to_lowercase();
    last.ends_with('s') && !last.ends_with("ss") && !last.ends_with("us") && !last.ends_with("is")
}

/// A word without a plural "s", for matching "pointer" with "pointers".
fn stem_of(word: &str) -> String {
    word.strip_suffix("es")
        .filter(|w| w.ends_with(['s', 'x', 'z', 'h']))
        .or_else(|| word.strip_suffix('s'))
        .unwrap_or(word)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks() -> Checks {
        let text = "Cells are small. A cell divides. The cell membrane holds the cell together. Cells grow.";
        Checks::new(std::iter::once(text), Some("en"))
    }

    fn card(front: &str, back: &str) -> Flashcard {
        Flashcard { front: front.to_owned(), back: back.to_owned(), cloze: Some(true) }
    }

    fn flaws_of(content: Content, source: &str, kind: &str) -> Vec<Flaw> {
        let headings = ["The cell".to_owned(), "History of cell theory".to_owned()];
        checks().check(&Item {
            content,
            source: Some(source),
            chunk_kind: kind,
            headings: &headings,
            language: Some("en"),
        })
    }

    fn mc(question: &str, choices: [&str; 4]) -> Quiz {
        Quiz {
            kind: QuizKind::MultipleChoice,
            question: question.to_owned(),
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            answer_index: 0,
            explanation: "x".to_owned(),
        }
    }

    #[test]
    fn an_acronym_and_its_expansion_give_each_other_away() {
        let cases = [
            ("Another common model for embedded concurrency is the real-time operating system (_____).", "RTOS"),
            ("One alternative is the _____ framework, short for Real Time Interrupt-driven Concurrency.", "RTIC"),
            ("Newer cores provide full Compare and _____ (CAS) instructions.", "Swap"),
            ("One alternative is the RTIC framework, short for _____ Interrupt-driven Concurrency.", "Real Time"),
        ];
        for (front, back) in cases {
            let flaws = flaws_of(Content::Card(&card(front, back)), &front.replace(BLANK, back), "paragraph");
            assert!(flaws.contains(&Flaw::AnswerInStem), "{front}: {flaws:?}");
        }
        let fair = "A cell stores its genes in the _____ (DNA lives there).";
        assert!(!flaws_of(Content::Card(&card(fair, "nucleus")), fair, "paragraph").contains(&Flaw::AnswerInStem));
    }

    #[test]
    fn a_blank_that_cuts_a_name_is_trivial() {
        let cases = [
            ("By contrast, the _____ License is intended to guarantee your freedom.", "GNU General Public"),
            ("Use with the _____ General Public License.", "GNU Affero"),
            ("The GNU _____ License is a free license.", "General Public"),
        ];
        for (front, back) in cases {
            let flaws = flaws_of(Content::Card(&card(front, back)), &front.replace(BLANK, back), "paragraph");
            assert!(flaws.contains(&Flaw::TrivialBlank), "{front}: {flaws:?}");
        }
        let whole = ["The _____ may publish revised versions of the License.", "Free Software Foundation"];
        let opening = ["Rust makes it Safe. _____ is a marker trait of the standard library.", "Send"];
        for [front, back] in [whole, opening] {
            let flaws = flaws_of(Content::Card(&card(front, back)), &front.replace(BLANK, back), "paragraph");
            assert!(!flaws.contains(&Flaw::TrivialBlank), "{front}: {flaws:?}");
        }
    }

    #[test]
    fn titles_are_told_from_sentences() {
        assert!(is_title("Protecting Users' Legal Rights From Anti-Circumvention Law."));
        assert!(is_title("Use with the GNU Affero General Public License."));
        assert!(!is_title("The GNU General Public License is a free, copyleft license for software."));
        assert!(!is_title("Sync and Send are examples of unsafe traits."));
    }

    #[test]
    fn a_good_cloze_has_no_flaw() {
        let good = card("The _____ holds the contents of a cell inside it.", "membrane");
        assert_eq!(
            flaws_of(Content::Card(&good), "The membrane holds the contents of a cell inside it.", "paragraph"),
            []
        );
    }

    #[test]
    fn each_flaw_is_found() {
        let source = "The mitochondrion makes energy for the mitochondrion.";
        let in_stem = card("The _____ makes energy for the mitochondrion.", "mitochondrion");
        assert!(flaws_of(Content::Card(&in_stem), source, "paragraph").contains(&Flaw::AnswerInStem));
        let dangling = card("It has a single _____ that holds its genes.", "nucleus");
        assert!(
            flaws_of(Content::Card(&dangling), "It has a single nucleus.", "paragraph")
                .contains(&Flaw::DanglingReference)
        );
        let listing = card("In Listing 8-1 the _____ grows.", "vector");
        assert!(
            flaws_of(Content::Card(&listing), "In Listing 8-1 the vector grows.", "paragraph")
                .contains(&Flaw::DanglingReference)
        );
        let acronym = card("Creating a useful public _____ structure helps you find the API that works best.", "API");
        assert!(flaws_of(Content::Card(&acronym), "x y z w", "paragraph").contains(&Flaw::AnswerInStem));
        let label = card("The vector is created in _____ as shown.", "Listing 8-1");
        assert!(flaws_of(Content::Card(&label), "x y z w", "paragraph").contains(&Flaw::TrivialBlank));
        let dominant = card("Most plants are made of many _____ of several kinds.", "cells");
        assert!(
            flaws_of(Content::Card(&dominant), "Most plants are made of many cells.", "paragraph")
                .contains(&Flaw::TrivialBlank)
        );
        let defining = card("_____ are the smallest units of life.", "Cells");
        assert!(
            !flaws_of(Content::Card(&defining), "Cells are the smallest units of life.", "paragraph")
                .contains(&Flaw::TrivialBlank)
        );
        let stop = card("The membrane is _____ the cell wall.", "under");
        assert!(
            flaws_of(Content::Card(&stop), "The membrane is under the cell wall.", "paragraph")
                .contains(&Flaw::TrivialBlank)
        );
        let code = card("let v = _____::new();", "Vec");
        assert!(flaws_of(Content::Card(&code), "let v = Vec::new();", "code").contains(&Flaw::NonProse));
        let heading = card("History of _____ theory", "cell");
        assert!(flaws_of(Content::Card(&heading), "History of cell theory", "section").contains(&Flaw::NonProse));
        let long = card("The _____ is here.", "a very long answer of many many words");
        assert!(flaws_of(Content::Card(&long), "The membrane is here.", "paragraph").contains(&Flaw::Length));
    }

    #[test]
    fn choices_that_give_the_answer_away_are_found() {
        let question = "Which term completes the sentence? Energy is made by an _____ in the cell.";
        let article = mc(question, ["organelle", "nucleus", "membrane", "ribosome"]);
        let source = "Energy is made by an organelle in the cell.";
        assert!(flaws_of(Content::Quiz(&article), source, "paragraph").contains(&Flaw::GrammaticalCue));
        let number = mc(
            "Which term completes the sentence? The _____ hold the genes.",
            ["chromosomes", "nucleus", "membrane", "ribosome"],
        );
        assert!(
            flaws_of(Content::Quiz(&number), "The chromosomes hold the genes.", "paragraph")
                .contains(&Flaw::GrammaticalCue)
        );
        let longest = mc(
            "Which term completes the sentence? The _____ hold the genes.",
            ["long strands of coiled chromosomes", "genes", "nuclei", "membranes"],
        );
        let found =
            flaws_of(Content::Quiz(&longest), "The long strands of coiled chromosomes hold the genes.", "paragraph");
        assert!(found.contains(&Flaw::LongestChoice), "{found:?}");
        let fair = mc(
            "Which term completes the sentence? The _____ hold the genes.",
            ["chromosomes", "ribosomes", "vacuoles", "membranes"],
        );
        assert_eq!(flaws_of(Content::Quiz(&fair), "The chromosomes hold the genes.", "paragraph"), []);
    }

    #[test]
    fn quality_falls_under_ready_with_any_serious_flaw() {
        assert!(quality(0.9, &[]) >= READY);
        assert!(quality(0.9, &[Flaw::Length]) >= READY);
        for flaw in Flaw::ALL.into_iter().filter(|f| !matches!(f, Flaw::Length | Flaw::LongestChoice)) {
            assert_eq!(status(quality(1.0, &[flaw])), AssetStatus::Draft, "{flaw:?}");
        }
    }
}
