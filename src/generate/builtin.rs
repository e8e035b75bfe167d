//! The builtin generator: offline, deterministic (the same chunks give the same assets)
//! and extractive. Key terms come from YAKE, kept only when they stand verbatim in the
//! chunk; definition cards from sentences of the form "X is/are/refers to/means ...";
//! cloze cards, multiple-choice and true/false items from the chunk's most central
//! sentences (TextRank), with a key term blanked out or swapped for a distractor, another
//! key term of the same material and of the same kind. Every answer stands in its chunk.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use yake_rust::StopWords;

use super::assess::{Fronts, difficulty, length_score};
use super::{
    ChunkInput, Draft, Flashcard, MaterialInput, Options, Quiz, QuizKind, SUBSTANTIVE_WORDS, Summary, grounded,
    normalise,
};
use crate::materials::pipeline::{analyse, text};

/// The generator and its version, as `generation_model` records it.
pub const MODEL: &str = "builtin-v1";
const BLANK: &str = "_____";
/// Sentences questions are made from: long enough to say something, short enough to read.
const SENTENCE_WORDS: std::ops::RangeInclusive<usize> = 6..=45;
const KEY_TERMS_PER_CHUNK: usize = 12;

/// The assets of a material, in a stable order.
pub fn generate(material: &MaterialInput, options: &Options) -> Vec<Draft> {
    let stop = analyse::stop_words(material.language);
    let whole: String = material.chunks.iter().map(|c| c.text).collect::<Vec<_>>().join("\n\n");
    let candidates: Vec<Vec<String>> = material.chunks.iter().map(|c| candidate_terms(c.text, &stop)).collect();
    let stats = TermStats::gather(&whole, candidates.iter().flatten());
    let chunk_terms: Vec<Vec<String>> =
        candidates.into_iter().map(|terms| terms.into_iter().filter(|t| stats.is_concept(t)).collect()).collect();
    // The material's terms, once each, and in how many chunks each stands.
    let mut pool: Vec<PoolTerm> = Vec::new();
    let mut spread: HashMap<String, usize> = HashMap::new();
    for terms in &chunk_terms {
        for term in terms {
            let key = normalise(term);
            let count = spread.entry(key.clone()).or_insert(0);
            if *count == 0 {
                pool.push(PoolTerm {
                    kind: kind_of(term, &stats),
                    plural: plural(term),
                    words: word_count(term),
                    text: term.clone(),
                    key,
                });
            }
            *count += 1;
        }
    }
    let context = Context { material, stats: &stats, pool: &pool, spread: &spread };
    let mut out = Output::default();

    for (chunk, terms) in material.chunks.iter().zip(&chunk_terms) {
        if text::word_count(chunk.text) < SUBSTANTIVE_WORDS {
            continue;
        }
        let sentences: Vec<&str> = analyse::prose_sentences(chunk.text)
            .into_iter()
            .filter(|s| SENTENCE_WORDS.contains(&text::word_count(s)))
            .collect();
        let ranked: Vec<(usize, &str)> =
            analyse::rank_sentences(&sentences, &stop).into_iter().map(|i| (i, sentences[i])).collect();
        if options.flashcards {
            flashcards(&context, chunk, terms, &ranked, options.max_per_chunk, &mut out);
        }
        if options.quizzes {
            quizzes(&context, chunk, terms, &ranked, options.max_per_chunk, &mut out);
        }
        // Code, output and tables have no summary to give.
        if options.summaries && !chunk.summary.is_empty() {
            let key_points: Vec<String> = ranked.iter().take(3).map(|(_, s)| (*s).to_owned()).collect();
            let summary = Summary { text: chunk.summary.to_owned(), key_points };
            out.push(&context, chunk, "summary", json!(summary), "chunk_summary", None, 0.8, None);
        }
    }
    if options.summaries {
        material_summary(&context, &mut out);
    }
    out.drafts
}

struct Context<'a> {
    material: &'a MaterialInput<'a>,
    /// How the material uses its candidate terms.
    stats: &'a TermStats,
    /// Its key terms, for distractors.
    pool: &'a [PoolTerm],
    /// In how many chunks each key term (normalised) stands.
    spread: &'a HashMap<String, usize>,
}

/// A key term of the material, with what choosing distractors compares, worked out once.
struct PoolTerm {
    text: String,
    key: String,
    kind: Kind,
    plural: bool,
    words: usize,
}

/// The drafts so far, and the fronts near duplicates are judged against.
#[derive(Default)]
struct Output {
    drafts: Vec<Draft>,
    fronts: Fronts,
}

impl Output {
    /// Adds a draft unless it nearly repeats one of its type; returns whether it did.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        context: &Context,
        chunk: &ChunkInput,
        asset_type: &'static str,
        content: Value,
        kind: &str,
        term: Option<&str>,
        quality: f64,
        sentence: Option<&str>,
    ) -> bool {
        let front = match asset_type {
            "flashcard" => content["front"].as_str().unwrap_or_default().to_owned(),
            "quiz" => content["question"].as_str().unwrap_or_default().to_owned(),
            // A chunk has one summary, the material one: that is what identifies them.
            _ if kind == "material_summary" => kind.to_owned(),
            _ => format!("{kind} {}", chunk.id),
        };
        let Some(fingerprint) = self.fronts.admit(asset_type, &front) else {
            return false;
        };
        self.drafts.push(Draft {
            asset_type,
            content_chunk_id: (kind != "material_summary").then_some(chunk.id),
            quality_score: quality.clamp(0.0, 1.0),
            difficulty_level: difficulty(
                context.material.difficulty,
                sentence,
                term.map(|t| (t, context.spread.get(&normalise(t)).copied().unwrap_or(0))),
            ),
            generation_params: json!({
                "generator": MODEL,
                "kind": kind,
                "chunk_order": chunk.order,
                "term": term,
                "sentence": sentence,
                "fingerprint": fingerprint,
            }),
            generation_model: MODEL.to_owned(),
            metadata: json!({}),
            content,
        });
        true
    }
}

fn flashcards(
    context: &Context,
    chunk: &ChunkInput,
    terms: &[String],
    ranked: &[(usize, &str)],
    max: usize,
    out: &mut Output,
) {
    let mut made = 0;
    // Definitions first, in text order: they are the cards a learner expects.
    let mut by_position: Vec<&(usize, &str)> = ranked.iter().collect();
    by_position.sort_by_key(|(index, _)| *index);
    for (_, sentence) in by_position {
        if made >= max.div_ceil(2) {
            break;
        }
        if let Some((front, back)) = definition(sentence)
            && grounded(&back, chunk.text)
        {
            let card = Flashcard { front, back, cloze: None };
            let quality = 0.6 + 0.2 * length_score(&card.front, 3, 20) + 0.2 * length_score(&card.back, 1, 45);
            if out.push(context, chunk, "flashcard", json!(card), "definition", None, quality, Some(sentence)) {
                made += 1;
            }
        }
    }
    for (_, sentence) in ranked {
        if made >= max {
            break;
        }
        let Some((term, blanked)) = blank_term(sentence, terms) else { continue };
        let card = Flashcard { front: blanked, back: term.clone(), cloze: Some(true) };
        let quality = 0.6 + 0.4 * length_score(sentence, 8, 35);
        if grounded(&term, chunk.text)
            && out.push(context, chunk, "flashcard", json!(card), "cloze", Some(&term), quality, Some(sentence))
        {
            made += 1;
        }
    }
}

fn quizzes(
    context: &Context,
    chunk: &ChunkInput,
    terms: &[String],
    ranked: &[(usize, &str)],
    max: usize,
    out: &mut Output,
) {
    let mut made = 0;
    for (position, (_, sentence)) in ranked.iter().enumerate() {
        if made >= max {
            break;
        }
        let Some((term, blanked)) = blank_term(sentence, terms) else { continue };
        let distractors = distractors(&term, context.pool, sentence, context.stats);
        // Alternate the kinds down the ranking, so that a chunk gets both.
        if position.is_multiple_of(2) && distractors.len() >= 3 {
            let mut choices: Vec<String> = distractors[..3].to_vec();
            let answer_index = (stable_hash(sentence) % 4) as usize;
            choices.insert(answer_index, term.clone());
            let quiz = Quiz {
                kind: QuizKind::MultipleChoice,
                question: format!("Which term completes the sentence? {blanked}"),
                choices,
                answer_index,
                explanation: (*sentence).to_owned(),
            };
            let plausible = distractors[..3].iter().filter(|d| word_count(d) == word_count(&term)).count() as f64 / 3.0;
            let quality = 0.5 + 0.3 * plausible + 0.2 * length_score(sentence, 8, 35);
            if out.push(context, chunk, "quiz", json!(quiz), "multiple_choice", Some(&term), quality, Some(sentence)) {
                made += 1;
            }
        } else if let Some(swap) = distractors.first() {
            let truthful = stable_hash(sentence).is_multiple_of(2);
            let statement =
                if truthful { (*sentence).to_owned() } else { capitalise(&blanked.replacen(BLANK, swap, 1)) };
            let quiz = Quiz {
                kind: QuizKind::TrueFalse,
                question: statement,
                choices: vec!["True".to_owned(), "False".to_owned()],
                answer_index: if truthful { 0 } else { 1 },
                explanation: format!("The material says: {sentence}"),
            };
            let quality = 0.5
                + 0.2 * f64::from(u8::from(word_count(swap) == word_count(&term)))
                + 0.2 * length_score(sentence, 8, 35);
            if out.push(context, chunk, "quiz", json!(quiz), "true_false", Some(&term), quality, Some(sentence)) {
                made += 1;
            }
        }
    }
}

/// Key points a material summary gives, at most; and at least, when the material has them.
const MATERIAL_KEY_POINTS: std::ops::RangeInclusive<usize> = 5..=10;

/// The material's own summary: key sentences of its most relevant chunks (relevance is
/// centrality; chunks with no summary, such as code, give none), in document order,
/// each a proposition (see [`is_proposition`]). One per chunk from the top chunks, or
/// more from each when too few chunks have one.
fn material_summary(context: &Context, out: &mut Output) {
    let chunks = &context.material.chunks;
    let Some(first) = chunks.first() else { return };
    let mut central: Vec<(&ChunkInput, Vec<&str>)> = chunks
        .iter()
        .map(|c| (c, analyse::prose_sentences(c.summary).into_iter().filter(|s| is_proposition(s)).collect()))
        .filter(|(_, points): &(_, Vec<&str>)| !points.is_empty())
        .collect();
    central.sort_by(|a, b| b.0.relevance.total_cmp(&a.0.relevance).then(a.0.order.cmp(&b.0.order)));
    let mut chosen: Vec<(i32, usize, &str)> = Vec::new();
    for per_chunk in 1..=3 {
        for (chunk, points) in &central {
            if chosen.len() < *MATERIAL_KEY_POINTS.end()
                && let Some(point) = points.get(per_chunk - 1)
            {
                chosen.push((chunk.order, per_chunk, point));
            }
        }
        if chosen.len() >= *MATERIAL_KEY_POINTS.start() {
            break;
        }
    }
    if chosen.is_empty() {
        return;
    }
    chosen.sort_unstable();
    let key_points: Vec<String> = chosen.iter().map(|(_, _, point)| (*point).to_owned()).collect();
    let summary = Summary { text: key_points.join(" "), key_points };
    out.push(context, first, "summary", json!(summary), "material_summary", None, 0.8, None);
}

/// A sentence that states something: ends with a period, six words or more, not a
/// heading in capitals, and not a line of code (few symbols).
fn is_proposition(sentence: &str) -> bool {
    let letters = sentence.chars().filter(|c| c.is_alphabetic());
    let symbols = sentence.chars().filter(|c| "{}[]();=<>$|\\&*#`".contains(*c)).count();
    sentence.ends_with('.')
        && word_count(sentence) >= 6
        && !letters.clone().all(char::is_uppercase)
        && symbols * 20 < sentence.chars().count()
}

/// "X is Y." gives "What is X?" with the sentence as the answer; "X is called Y." gives
/// "What is X called?" with Y.
fn definition(sentence: &str) -> Option<(String, String)> {
    let body = sentence.trim_end_matches(['.', '!', '?']);
    for (verb, called) in [
        (" is called ", true),
        (" are called ", true),
        (" refers to ", false),
        (" is ", false),
        (" are ", false),
        (" means ", false),
    ] {
        let Some((subject, rest)) = body.split_once(verb) else { continue };
        let subject_words = word_count(subject);
        let first = subject.split_whitespace().next().unwrap_or_default().to_lowercase();
        let rest_first = rest.split_whitespace().next().unwrap_or_default().to_lowercase();
        let vague = [
            "it", "this", "that", "these", "those", "they", "there", "he", "she", "we", "you", "i", "every", "each",
            "most", "many", "some", "all", "no", "one", "what", "which", "who", "its", "their", "his", "her", "our",
            "my", "your", "such", "other", "another", "both",
        ];
        let not_a_definition =
            ["not", "also", "only", "often", "still", "made", "found", "used", "seen", "known", "able"];
        if !(1..=6).contains(&subject_words)
            || subject.contains([',', ';', ':', '('])
            || vague.contains(&first.as_str())
            || not_a_definition.contains(&rest_first.as_str())
            || rest_first.ends_with("ed")
            // A name ("is called cell biology") is short; a definition says something.
            || !(if called { 1..=6 } else { 3..=35 }).contains(&word_count(rest))
        {
            continue;
        }
        let subject = lower_first(subject);
        let copula = verb.trim().split(' ').next().unwrap_or("is");
        return Some(if called {
            (format!("What {copula} {subject} called?"), rest.to_owned())
        } else if verb == " refers to " || verb == " means " {
            (
                format!("What does {subject} {}?", verb.trim().replace("refers", "refer").replace("means", "mean")),
                sentence.to_owned(),
            )
        } else {
            (format!("What {copula} {subject}?"), sentence.to_owned())
        });
    }
    None
}

/// The first key term (longest first) that stands in `sentence` as whole words, and the
/// sentence with that occurrence blanked out.
fn blank_term(sentence: &str, terms: &[String]) -> Option<(String, String)> {
    let mut by_length: Vec<&String> = terms.iter().collect();
    by_length.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    for term in by_length {
        if let Some((start, end)) = find_words(sentence, term)
            && word_count(term) * 3 <= word_count(sentence)
        {
            let found = sentence[start..end].to_owned();
            return Some((found, format!("{}{BLANK}{}", &sentence[..start], &sentence[end..])));
        }
    }
    None
}

/// Where `term` stands in `text` as whole words, case aside.
fn find_words(text: &str, term: &str) -> Option<(usize, usize)> {
    let lower = text.to_lowercase();
    let needle = term.to_lowercase();
    if lower.len() != text.len() || needle.is_empty() {
        return None; // case folding changed lengths: positions would not map back
    }
    let mut from = 0;
    while let Some(offset) = lower[from..].find(&needle) {
        let start = from + offset;
        let end = start + needle.len();
        let before = lower[..start].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = lower[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before && after {
            return Some((start, end));
        }
        from = start + needle.chars().next().map_or(1, char::len_utf8);
    }
    None
}

/// Other key terms of the material that could pass for `correct`: the same kind (a
/// name, a number, a common term), about as many words, not in the sentence, and none
/// the same as (or inside) the correct answer. Closest in length first, then by a stable
/// hash, so that the choice is deterministic.
fn distractors(correct: &str, pool: &[PoolTerm], sentence: &str, stats: &TermStats) -> Vec<String> {
    let kind = kind_of(correct, stats);
    let answer = normalise(correct);
    let in_sentence = format!(" {} ", normalise(sentence));
    let (words, is_plural) = (word_count(correct), plural(correct));
    let mut candidates: Vec<&PoolTerm> = pool
        .iter()
        .filter(|t| {
            t.key != answer
                && !t.key.contains(&answer)
                && !answer.contains(&t.key)
                && t.kind == kind
                && t.words.abs_diff(words) <= 1
                && (kind != Kind::Term || t.plural == is_plural)
                && !in_sentence.contains(&format!(" {} ", t.key))
        })
        .collect();
    candidates.sort_by_key(|t| (t.text.len().abs_diff(correct.len()), stable_hash(&format!("{correct}|{}", t.text))));
    candidates.into_iter().map(|t| t.text.clone()).collect()
}

#[derive(PartialEq, Eq)]
enum Kind {
    Number,
    Name,
    Term,
}

fn kind_of(term: &str, stats: &TermStats) -> Kind {
    if term.chars().any(|c| c.is_ascii_digit()) {
        Kind::Number
    } else if stats.is_name(term) {
        Kind::Name
    } else {
        Kind::Term
    }
}

/// Whether a term's last word looks plural ("cells", not "glass"): distractors for a
/// common term agree with it, so that a swapped sentence still reads.
fn plural(term: &str) -> bool {
    let last = term.rsplit(' ').next().unwrap_or(term).to_lowercase();
    last.ends_with('s') && !last.ends_with("ss") && !last.ends_with("us") && !last.ends_with("is")
}

/// How the material uses each candidate term, gathered in one pass over its words.
#[derive(Default)]
struct TermStats {
    by_term: HashMap<String, Usage>,
}

#[derive(Default, Clone, Copy)]
struct Usage {
    /// Times it stands in the material, as whole words, case aside.
    count: usize,
    /// Written all in lower case somewhere.
    lower: bool,
    /// Capitalised after a lower-case word somewhere (so, within a sentence).
    capitalised_within: bool,
    /// After "the", "a" or "an" somewhere: used as a noun.
    after_article: bool,
}

impl TermStats {
    fn gather<'a>(whole: &str, candidates: impl Iterator<Item = &'a String>) -> TermStats {
        let wanted: HashSet<String> = candidates.map(|t| normalise(t)).collect();
        let longest = wanted.iter().map(|t| t.split(' ').count()).max().unwrap_or(0);
        let indexed: Vec<(usize, &str)> =
            unicode_segmentation::UnicodeSegmentation::unicode_word_indices(whole).collect();
        let lower: Vec<String> = indexed.iter().map(|(_, w)| w.to_lowercase()).collect();
        // Whether a word follows another in the same sentence: nothing that ends one (or a
        // line, as in lists and headings) stands between them.
        let within = |i: usize| {
            i > 0 && {
                let (start, previous) = indexed[i - 1];
                !whole[start + previous.len()..indexed[i].0].contains(['.', '!', '?', ':', ';', '\n'])
            }
        };
        let mut by_term: HashMap<String, Usage> = HashMap::new();
        let mut key = String::new();
        for start in 0..indexed.len() {
            key.clear();
            for n in 0..longest.min(indexed.len() - start) {
                if n > 0 {
                    key.push(' ');
                }
                key.push_str(&lower[start + n]);
                if !wanted.contains(&key) {
                    continue;
                }
                let span = &indexed[start..=start + n];
                let capital = |w: &str| w.chars().next().is_some_and(char::is_uppercase);
                let usage = by_term.entry(key.clone()).or_default();
                usage.count += 1;
                usage.lower |= span.iter().all(|(_, w)| w.chars().next().is_some_and(char::is_lowercase));
                usage.capitalised_within |=
                    span.iter().all(|(_, w)| capital(w)) && within(start) && !capital(indexed[start - 1].1);
                usage.after_article |= within(start) && matches!(lower[start - 1].as_str(), "the" | "a" | "an");
            }
        }
        TermStats { by_term }
    }

    fn usage(&self, term: &str) -> Usage {
        self.by_term.get(&normalise(term)).copied().unwrap_or_default()
    }

    /// A name: capitalised within a sentence somewhere, and never written in lower case.
    fn is_name(&self, term: &str) -> bool {
        let usage = self.usage(term);
        usage.capitalised_within && !usage.lower
    }

    /// A concept of the material: a name, or a term it uses more than once; a single
    /// word must also be used as a noun somewhere (after "the", "a" or "an"). YAKE also
    /// proposes fragments ("cell arises") and stray words ("found"); they fail this.
    fn is_concept(&self, term: &str) -> bool {
        let usage = self.usage(term);
        self.is_name(term) || (usage.count >= 2 && (word_count(term) > 1 || usage.after_article))
    }
}

/// YAKE's key terms of a chunk that stand in it verbatim, as written there.
fn candidate_terms(text: &str, stop: &StopWords) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for item in yake_rust::get_n_best(KEY_TERMS_PER_CHUNK, text, stop, &yake_rust::Config::default()) {
        let Some((start, end)) = find_words(text, &item.raw) else { continue };
        let term = text[start..end].to_owned();
        if term.chars().count() >= 3
            && word_count(&term) <= 3
            && !terms.iter().any(|t| normalise(t) == normalise(&term))
        {
            terms.push(term);
        }
    }
    terms
}

fn word_count(text: &str) -> usize {
    text::word_count(text)
}

/// The text with its first letter a capital (a swapped-in term may open the sentence).
fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), chars.clone().next()) {
        // Keep acronyms and names such as "DNA" or "Robert Hooke" as they are.
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() && !text.contains(' ') => {
            first.to_lowercase().chain(chars).collect()
        }
        (Some(first), Some(_)) if first.is_uppercase() && ["The ", "A ", "An "].iter().any(|a| text.starts_with(a)) => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text.to_owned(),
    }
}

/// A hash that never changes between runs or builds (unlike std's).
fn stable_hash(text: &str) -> u64 {
    let digest = Sha256::digest(text.as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    use crate::generate::assess::NEAR_DUPLICATE;
    use crate::generate::{Flashcard, Quiz, check_shape};
    use crate::materials::pipeline;

    const ARTICLE: &str = include_str!("../../tests/data/cells.md");
    const ALL: Options = Options { flashcards: true, quizzes: true, summaries: true, max_per_chunk: 4 };

    fn drafts() -> (pipeline::Ingested, Vec<Draft>) {
        let ingested = pipeline::ingest("text/markdown", ARTICLE.as_bytes()).expect("ingested");
        let ids: Vec<Uuid> = (0..ingested.chunks.len()).map(|n| Uuid::from_u128(n as u128 + 1)).collect();
        let material = MaterialInput {
            language: ingested.language.as_deref(),
            difficulty: Some(ingested.difficulty),
            chunks: ingested
                .chunks
                .iter()
                .zip(&ids)
                .enumerate()
                .map(|(n, (c, id))| ChunkInput {
                    id: *id,
                    order: n as i32,
                    text: &c.chunk.text,
                    summary: &c.summary,
                    relevance: c.relevance,
                })
                .collect(),
        };
        let drafts = generate(&material, &ALL);
        (ingested, drafts)
    }

    fn chunk_text(ingested: &pipeline::Ingested, draft: &Draft) -> String {
        let id = draft.content_chunk_id.expect("a chunk");
        ingested.chunks[(id.as_u128() - 1) as usize].chunk.text.clone()
    }

    #[test]
    fn every_substantive_chunk_gets_cards_quizzes_and_a_summary() {
        let (ingested, drafts) = drafts();
        for (n, chunk) in ingested.chunks.iter().enumerate() {
            if chunk.chunk.words < SUBSTANTIVE_WORDS {
                continue;
            }
            let id = Uuid::from_u128(n as u128 + 1);
            let of = |t: &str| drafts.iter().filter(|d| d.content_chunk_id == Some(id) && d.asset_type == t).count();
            assert!(of("flashcard") >= 1, "chunk {n} has flashcards");
            assert!(of("quiz") >= 1, "chunk {n} has quiz items");
            assert_eq!(of("summary"), 1, "chunk {n} has one summary");
        }
        let material: Vec<&Draft> = drafts.iter().filter(|d| d.content_chunk_id.is_none()).collect();
        assert_eq!(material.len(), 1, "one material summary");
        assert!(material[0].content["key_points"].as_array().is_some_and(|p| !p.is_empty()));
        assert!(drafts.iter().any(|d| d.generation_params["kind"] == "definition"), "definition cards");
        assert!(drafts.iter().any(|d| d.generation_params["kind"] == "true_false"));
        assert!(drafts.iter().any(|d| d.generation_params["kind"] == "multiple_choice"));
    }

    #[test]
    fn answers_stand_in_their_chunk_and_shapes_hold() {
        let (ingested, drafts) = drafts();
        for draft in &drafts {
            check_shape(draft.asset_type, &draft.content).unwrap_or_else(|e| panic!("{e}: {}", draft.content));
            assert!((0.0..=1.0).contains(&draft.quality_score));
            assert!((1..=10).contains(&draft.difficulty_level));
            match draft.asset_type {
                "flashcard" => {
                    let card: Flashcard = serde_json::from_value(draft.content.clone()).expect("a card");
                    assert!(grounded(&card.back, &chunk_text(&ingested, draft)), "answer in the chunk: {card:?}");
                }
                "quiz" => {
                    let quiz: Quiz = serde_json::from_value(draft.content.clone()).expect("a quiz");
                    let chunk = chunk_text(&ingested, draft);
                    if quiz.kind == QuizKind::MultipleChoice {
                        let answer = &quiz.choices[quiz.answer_index];
                        assert!(grounded(answer, &chunk), "answer in the chunk: {quiz:?}");
                        let others: Vec<&String> = quiz
                            .choices
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| *i != quiz.answer_index)
                            .map(|(_, c)| c)
                            .collect();
                        assert!(others.iter().all(|c| normalise(c) != normalise(answer)), "not among the distractors");
                        assert!(quiz.question.contains(BLANK));
                    }
                    let source = quiz.explanation.trim_start_matches("The material says: ");
                    assert!(chunk.contains(source), "explained from the chunk: {quiz:?}");
                }
                _ => {}
            }
        }
    }

    #[test]
    fn the_same_input_gives_the_same_assets_without_near_duplicates() {
        let (_, first) = drafts();
        let (_, second) = drafts();
        assert_eq!(first, second, "deterministic");
        let fronts: Vec<(&str, HashSet<String>)> = first
            .iter()
            .filter(|d| d.asset_type != "summary")
            .map(|d| {
                let front = d
                    .content
                    .get("front")
                    .or_else(|| d.content.get("question"))
                    .and_then(Value::as_str)
                    .expect("a front");
                (d.asset_type, normalise(front).split(' ').map(str::to_owned).collect())
            })
            .collect();
        for (i, (ta, a)) in fronts.iter().enumerate() {
            for (tb, b) in &fronts[i + 1..] {
                if ta == tb {
                    let overlap = a.intersection(b).count() as f64 / a.union(b).count() as f64;
                    assert!(overlap < NEAR_DUPLICATE, "near duplicates: {a:?} / {b:?}");
                }
            }
        }
        let fingerprints: HashSet<&str> =
            first.iter().filter_map(|d| d.generation_params["fingerprint"].as_str()).collect();
        assert_eq!(fingerprints.len(), first.len(), "every asset has its own fingerprint");
    }

    #[test]
    fn the_material_summary_gives_propositions_in_document_order() {
        let (ingested, drafts) = drafts();
        let summary = drafts.iter().find(|d| d.content_chunk_id.is_none()).expect("a material summary");
        let points: Vec<&str> =
            summary.content["key_points"].as_array().expect("points").iter().filter_map(Value::as_str).collect();
        assert!(MATERIAL_KEY_POINTS.contains(&points.len()), "{points:?}");
        assert!(points.iter().all(|p| is_proposition(p) && !p.ends_with('?')), "{points:?}");
        let text: String = ingested.chunks.iter().map(|c| c.chunk.text.as_str()).collect::<Vec<_>>().join("\n\n");
        let at: Vec<usize> = points.iter().map(|p| text.find(p).expect("a sentence of the material")).collect();
        assert!(at.is_sorted(), "in document order: {points:?}");
        assert!(!is_proposition("HISTORY OF CELL THEORY IN THE NINETEENTH CENTURY."));
        assert!(!is_proposition("let x = vec![1, 2, 3]; println!(\"{x:?}\");."));
        assert!(!is_proposition("What does a cell membrane do for the cell?"));
        assert!(!is_proposition("Cells divide."));
    }

    #[test]
    fn definitions_are_found_and_vague_sentences_are_not() {
        let (front, back) = definition("The cell is the basic unit of all known forms of life.").expect("a definition");
        assert_eq!(front, "What is the cell?");
        assert_eq!(back, "The cell is the basic unit of all known forms of life.");
        let (front, back) = definition("The study of cells is called cell biology.").expect("a definition");
        assert_eq!((front.as_str(), back.as_str()), ("What is the study of cells called?", "cell biology"));
        assert_eq!(definition("It is a small compartment that holds the chemistry of life."), None);
        assert_eq!(definition("Every living organism is made of one or more cells."), None);
    }
}
