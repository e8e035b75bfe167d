//! The builtin generator: offline, deterministic (the same chunks give the same assets)
//! and extractive, built for precision: fewer items, each one a teacher would keep.
//!
//! 1. **Facts.** Only complete sentences and list items of prose chunks (not code,
//!    output, tables or figures) are sources, and only those that stand on their own: no
//!    opening pronoun, demonstrative or connective, no "Listing 8-1", no narration ("in
//!    this chapter", "we'll").
//! 2. **Concepts.** Key terms come from YAKE, kept when the material uses them as
//!    concepts (a name, a noun after an article, a phrase used more than once), plus the
//!    subjects the material defines ("X is a ..."); an example's declared names and the
//!    material's background are none. Stop words, reference labels and the material's
//!    dominant term (outside its definition) are never blanked, and only its *topics*
//!    (defined terms, names, what its headings name) are, but to cover a section.
//! 3. **One item per fact**, of the best type the fact allows: a definition card or a
//!    true/false item for a definition (false only by giving it the definition of
//!    another concept the material defines, so that it is false by the material's own
//!    words), a multiple-choice item when three distractors of the same kind and form
//!    exist, a cloze card otherwise. Items of one fact share `generation_params.fact`.
//! 4. **The checker** ([`super::flaws`]) judges every item; anything flawed is dropped.
//! 5. **Volume by value**: at most [`ITEMS_PER_1000_WORDS`] items per 1,000 words of
//!    prose, the best of each main section first (coverage), then the best overall.
//!
//! Prompts, labels and definitions are written in the chunk's language when the
//! generator has templates for it (English, French, German, Spanish); in any other
//! language it makes only cloze cards, which need none.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::json;
use sha2::{Digest, Sha256};
use yake_rust::StopWords;

use super::assess::{Fronts, difficulty};
use super::flaws::{self, BLANK, Checks, Content, Flaw, NON_PROSE_KINDS};
use super::language::{self, Lang, Verb};
use super::{
    ChunkInput, Draft, Flashcard, MaterialInput, Options, Quiz, QuizKind, SUBSTANTIVE_WORDS, Summary, Watch, grounded,
    normalise,
};
use super::{quotes, sections};
use crate::materials::pipeline::{analyse, text};
use crate::states::AssetType;

/// The generator and its version, as `generation_model` records it.
pub const MODEL: &str = "builtin-v2";
/// Flashcards and quiz items per 1,000 words of prose, at most.
pub const ITEMS_PER_1000_WORDS: usize = 10;

/// The score a cloze card needs beyond its section's best item (seventh blind round:
/// above it 7 of 16 were GOOD and 3 BAD; below it 5 of 32 GOOD and 12 BAD).
const CLOZE_FLOOR: f64 = 0.755;
/// A section card's score before its chunk's relevance: above cloze cards (it asks
/// what a section opens with, not a word of it), below the material's definitions.
const SECTION_BASE: f64 = 0.78;
/// Sentences items are made from: long enough to say something, short enough to read.
const SENTENCE_WORDS: std::ops::RangeInclusive<usize> = 7..=40;
const KEY_TERMS_PER_CHUNK: usize = 12;

/// The assets of a material, in a stable order.
pub fn generate(material: &MaterialInput, options: &Options) -> Vec<Draft> {
    generate_watched(material, options, &|_, _| {})
}

/// [`generate`], telling `watch` as it reads each passage for its key terms (the
/// longest step on a large material).
pub fn generate_watched(material: &MaterialInput, options: &Options, watch: Watch) -> Vec<Draft> {
    run(material, options, watch).0
}

/// What the checker found in the items the generator proposed, and how many of the
/// material's main sections (with prose to ask about) got an item.
#[derive(Debug, Default)]
pub struct Report {
    /// Items checked, and how many of them had each flaw (those were dropped).
    pub checked: usize,
    pub flaws: std::collections::BTreeMap<&'static str, usize>,
    pub sections: usize,
    pub covered: usize,
}

/// The assets of a material, with the [`Report`] on how they were chosen.
pub fn generate_reporting(material: &MaterialInput, options: &Options) -> (Vec<Draft>, Report) {
    run(material, options, &|_, _| {})
}

fn run(material: &MaterialInput, options: &Options, watch: Watch) -> (Vec<Draft>, Report) {
    let prose: Vec<&ChunkInput> = material.chunks.iter().filter(|c| !NON_PROSE_KINDS.contains(&c.kind)).collect();
    let stop = analyse::stop_words(material.language);
    let whole: String = prose.iter().map(|c| c.text).collect::<Vec<_>>().join("\n\n");
    let checks = Checks::new(prose.iter().map(|c| c.text), material.language);
    let candidates: Vec<Vec<String>> = prose
        .iter()
        .enumerate()
        .map(|(n, c)| {
            watch(n, prose.len());
            candidate_terms(c.text, &stop, Lang::of(c.language.or(material.language)))
        })
        .collect();
    // A name its headings give a chunk ("Option" under "The Option Enum and Its
    // Advantages ..."), which YAKE may not propose: a chapter's central one-word topic.
    let heading_names: Vec<Vec<String>> = prose.iter().map(|c| capitalised_words(headings_of(c))).collect();
    // Lower-case names the headings give (a manual page's "GZIP(1)" line, "What is
    // rustc?"): a chunk opening "gzip reduces the size ..." says what its subject does.
    let names: HashSet<String> = material.chunks.iter().flat_map(headings_of).flat_map(lower_case_names).collect();
    let facts: Vec<Vec<Fact>> = prose.iter().map(|c| facts_of(c, material.language, &stop, &names)).collect();
    // (A goal is a clause, no concept: "create a new thread".)
    let definitions: Vec<&Definition> =
        facts.iter().flatten().filter_map(|f| f.definition.as_ref()).filter(|d| d.verb != Verb::How).collect();
    let stats = TermStats::gather(
        &whole,
        candidates.iter().flatten().chain(heading_names.iter().flatten()).chain(definitions.iter().map(|d| &d.term)),
        &stop,
    );
    let examples = example_names(material.chunks.iter().filter(|c| NON_PROSE_KINDS.contains(&c.kind)));
    let headings = {
        let all: HashSet<&str> = material.chunks.iter().flat_map(headings_of).collect();
        let keys: Vec<String> = all.into_iter().map(singular_key).collect();
        format!(" {} ", keys.join(" | "))
    };
    let background = background_names(&prose, &candidates, &stats, &headings);
    let chunk_terms: Vec<Vec<String>> = candidates
        .into_iter()
        .zip(heading_names)
        .map(|(mut terms, names)| {
            // (Only names: a heading's other words cut phrases, "raw" of "raw pointers".)
            for name in names {
                if stats.is_name(&name) && !terms.iter().any(|t| normalise(t) == normalise(&name)) {
                    terms.push(name);
                }
            }
            terms
                .into_iter()
                .filter(|t| {
                    let key = t.to_lowercase();
                    stats.is_concept(t)
                        && !stop.contains(&key)
                        && !examples.contains(&key)
                        && !background.contains(&key)
                })
                .collect()
        })
        .collect();
    let definitions: Vec<&Definition> =
        definitions.into_iter().filter(|d| stats.is_concept(&d.term) || stats.usage(&d.term).count >= 2).collect();
    let pool = Pool::gather(&prose, &chunk_terms, &definitions, &stats, material.language);
    let defined = definitions.iter().map(|d| normalise(&d.term)).collect();
    let context =
        Context { material, stats: &stats, pool: &pool, definitions: &definitions, defined, checks: &checks, headings };

    let mut proposals: Vec<Proposal> = Vec::new();
    for ((chunk, terms), facts) in prose.iter().zip(&chunk_terms).zip(&facts) {
        if text::word_count(chunk.text) < SUBSTANTIVE_WORDS {
            continue;
        }
        for fact in facts {
            proposals.extend(propose(&context, chunk, terms, fact, options));
        }
    }
    if options.flashcards {
        for lead in sections::leads(&prose, material.language) {
            let chunk = prose[lead.chunk];
            let card = Flashcard { front: lead.front, back: lead.answer, cloze: None };
            proposals.push(Proposal {
                item: Item::Card(card),
                kind: "section",
                chunk: 0,
                chunk_order: chunk.order,
                position: 0,
                base: SECTION_BASE + 0.1 * chunk.relevance.clamp(0.0, 1.0),
                sentence: lead.sentence,
                term: None,
                section: String::new(),
                topic: true,
                language: chunk.language.or(material.language).map(str::to_owned),
            });
        }
    }
    let mut out = Output::default();
    select(&context, proposals, options, &mut out);
    if options.summaries {
        for chunk in &prose {
            if text::word_count(chunk.text) >= SUBSTANTIVE_WORDS && !chunk.summary.is_empty() {
                chunk_summary(&context, chunk, &stop, &mut out);
            }
        }
        material_summary(&context, &mut out);
    }
    out.drafts.sort_by_key(|d| (d.generation_params["chunk_order"].as_i64(), d.asset_type == AssetType::Summary));
    (out.drafts, out.report)
}

struct Context<'a> {
    material: &'a MaterialInput<'a>,
    /// How the material uses its candidate terms.
    stats: &'a TermStats,
    /// Its key terms by language, for distractors.
    pool: &'a Pool,
    /// The definitions it gives, for false true/false statements.
    definitions: &'a [&'a Definition],
    /// The terms they define, normalised.
    defined: HashSet<String>,
    /// Its headings' words, each singular (see [`singular_key`]), between spaces: what
    /// it names as its topics.
    headings: String,
    checks: &'a Checks,
}

/// How strongly the material makes a term one of its concepts, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ConceptRank {
    /// It defines it ("X is a ...").
    Defined,
    /// A name, or a phrase it uses more than once.
    Named,
    /// A single word it uses as a noun.
    Word,
}

impl Context<'_> {
    /// Whether the material makes `term` one of its topics: it defines it, it is a name
    /// ("Robert Hooke"; an example's names are no terms, see [`example_names`]), or a
    /// heading names it ("Unit-Like Structs Without Any Fields"). Graded blind, blanks of other
    /// terms were mostly an example's details ("favorite color") or words that are not
    /// the point ("pieces", "body").
    fn is_topic(&self, term: &str) -> bool {
        self.concept_rank(term) == ConceptRank::Defined
            || self.stats.is_name(term)
            || self.headings.contains(&format!(" {} ", singular_key(term)))
    }

    /// Whether `term` stands in `sentence` as the head of a longer term the material
    /// uses more than once ("trait" in "the Deref trait", "stack" in "the call stack"):
    /// a blank on it leaves the modifier to give it away. (A blanked modifier, "_____
    /// numbers" for "floating-point numbers", still asks something.)
    /// (`in_sentence` is the sentence normalised, padded with a space at each end.)
    fn in_longer_term(&self, term: &str, in_sentence: &str) -> bool {
        let key = normalise(term);
        self.stats.by_term.iter().any(|(longer, usage)| {
            usage.count >= 2
                && longer.strip_suffix(key.as_str()).is_some_and(|modifier| modifier.ends_with(' '))
                && in_sentence.contains(&format!(" {longer} "))
        })
    }

    fn concept_rank(&self, term: &str) -> ConceptRank {
        if self.defined.contains(&normalise(term)) {
            ConceptRank::Defined
        } else if self.stats.is_name(term) || word_count(term) > 1 {
            ConceptRank::Named
        } else {
            ConceptRank::Word
        }
    }
}

/// A sentence items may be made from, with what ranks it.
struct Fact {
    /// Its place in the chunk's sentences, in text order.
    position: usize,
    sentence: String,
    /// In a definition list entry's description, after its first sentence (which the
    /// entry's card asks about): no source of other items.
    in_entry: bool,
    /// How central it is in its chunk, in [0, 1].
    centrality: f64,
    definition: Option<Definition>,
    language: Option<String>,
}

/// "X is a Y": a sentence defining a subject.
struct Definition {
    sentence: String,
    /// The subject as written, its first article lowered ("the cell").
    subject: String,
    /// The subject without its article, as a term ("cell").
    term: String,
    verb: Verb,
    /// What follows the verb, without the final period.
    predicate: String,
    language: Option<String>,
}

/// An item as the generator makes it.
enum Item {
    Card(Flashcard),
    Quiz(Quiz),
}

impl Item {
    fn asset_type(&self) -> AssetType {
        match self {
            Item::Card(_) => AssetType::Flashcard,
            Item::Quiz(_) => AssetType::Quiz,
        }
    }

    fn content(&self) -> Content<'_> {
        match self {
            Item::Card(card) => Content::Card(card),
            Item::Quiz(quiz) => Content::Quiz(quiz),
        }
    }

    fn front(&self) -> &str {
        match self {
            Item::Card(card) => &card.front,
            Item::Quiz(quiz) => &quiz.question,
        }
    }

    fn answer(&self) -> &str {
        match self {
            Item::Card(card) => &card.back,
            Item::Quiz(quiz) => &quiz.choices[quiz.answer_index],
        }
    }
}

/// An item one fact could give, before selection.
struct Proposal {
    item: Item,
    kind: &'static str,
    chunk: usize,
    chunk_order: i32,
    position: usize,
    sentence: String,
    term: Option<String>,
    /// The section it covers, for coverage.
    section: String,
    /// In [0, 1): how good a source and answer it has (before the checks).
    base: f64,
    /// Whether it asks about one of the material's topics (see [`Context::is_topic`]);
    /// other items only cover a section that has none.
    topic: bool,
    language: Option<String>,
}

/// The sentences of a prose chunk items may be made from: complete sentences and list
/// items that stand on their own (see the module's comment), most central first.
fn facts_of(
    chunk: &ChunkInput,
    material_language: Option<&str>,
    stop: &StopWords,
    names: &HashSet<String>,
) -> Vec<Fact> {
    let language = chunk.language.or(material_language);
    let lang = Lang::of(language);
    let entries = described_entries(chunk.text);
    let subject = subject_opening(chunk.text, lang, names);
    // A description opens with a label as often as not ("Récupération seule : ..."): it
    // stands alone under its entry.
    let sentences: Vec<Cow<str>> = analyse::prose_sentences(chunk.text)
        .into_iter()
        .filter_map(|s| {
            if stands_alone(s, lang) || entries.iter().any(|e| e.first == s) || subject.is_some_and(|(_, o)| o == s) {
                Some(Cow::Borrowed(s))
            } else {
                lang.and_then(|l| claim_within(s, l)).filter(|claim| stands_alone(claim, lang))
            }
        })
        .collect();
    let ranked = analyse::rank_sentences(&sentences.iter().map(|s| s.as_ref()).collect::<Vec<_>>(), stop);
    let n = ranked.len().max(1) as f64;
    // The chunk's own stop words tell a definition's subject, read once per chunk.
    let own_stop = analyse::stop_words(language);
    let mut facts: Vec<Fact> = ranked
        .into_iter()
        .enumerate()
        .map(|(rank, index)| {
            let sentence = sentences[index].as_ref();
            let entry = entries.iter().find(|e| e.first == sentence);
            // The rest of an entry's description does not say what it describes ("Affiche
            // ... pour nom-du-paquet"): the entry's card asks about it.
            let in_entry = entry.is_none() && entries.iter().any(|e| e.description.contains(sentence));
            // A description is told its own language, the chunk's or the material's: a
            // chunk of option names may read as English though its prose is French (and
            // one sentence is too short to tell any other language reliably).
            let told = entry.and_then(|_| analyse::language(sentence));
            let language = match entry {
                Some(_) => told
                    .clone()
                    .filter(|told| [chunk.language, material_language].contains(&Some(told.as_str())))
                    .or(material_language.or(language).map(str::to_owned)),
                None => language.map(str::to_owned),
            };
            // ... but a description told to be in another language with templates is a
            // passage left untranslated: a German question over an English answer is no
            // card (graded blind, every one was BAD).
            let untranslated = told.is_some_and(|t| Lang::of(Some(&t)).is_some() && Some(&t) != language.as_ref());
            let entry = entry.filter(|_| !untranslated);
            let lang = Lang::of(language.as_deref());
            Fact {
                position: index,
                sentence: sentence.to_owned(),
                in_entry: in_entry || untranslated,
                centrality: 1.0 - rank as f64 / n,
                definition: lang.and_then(|l| match entry {
                    None if let Some((name, opening)) = subject.filter(|(_, o)| *o == sentence) => Some(Definition {
                        sentence: sentence.to_owned(),
                        subject: name.to_owned(),
                        term: name.to_owned(),
                        verb: Verb::Does,
                        predicate: opening.to_owned(),
                        language: language.clone(),
                    }),
                    Some(entry) => Some(Definition {
                        sentence: sentence.to_owned(),
                        subject: entry.name.to_owned(),
                        term: entry.name.to_owned(),
                        verb: Verb::Does,
                        predicate: entry.answer.clone().into_owned(),
                        language: language.clone(),
                    }),
                    None => how_to(sentence, l, language.as_deref(), &own_stop)
                        .or_else(|| definition(sentence, l, language.as_deref(), &own_stop)),
                }),
                language,
            }
        })
        .collect();
    facts.sort_by_key(|f| f.position);
    facts
}

/// The capitalised words of `headings`, of three letters or more ("Option", "Enum").
fn capitalised_words<'a>(headings: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in headings.flat_map(str::split_whitespace) {
        let word = word.trim_matches(|c: char| !c.is_alphanumeric());
        if word.chars().count() >= 3
            && word.starts_with(char::is_uppercase)
            && word.chars().all(char::is_alphabetic)
            && !words.iter().any(|w| w == word)
        {
            words.push(word.to_owned());
        }
    }
    words
}

/// The claim a sentence that leans on the one before still makes on its own: what
/// follows an opening connective ("However, a null is ..." -> "A null is ...") or a
/// colon that opens a sentence with an article ("... a useful one: A null is a value
/// that ..."; after a colon, other openings were lists' fragments: "Move a captured
/// value out of the closure, mutate ...").
fn claim_within(sentence: &str, lang: Lang) -> Option<Cow<'_, str>> {
    let after_colon = || {
        let (_, claim) = sentence.split_once(": ")?;
        let first = claim.split_whitespace().next()?;
        (first.starts_with(char::is_uppercase) && lang.articles().contains(&first.to_lowercase().as_str()))
            .then_some(Cow::Borrowed(claim))
    };
    lang.without_connective(sentence).map(|rest| Cow::Owned(capitalise(rest))).or_else(after_colon)
}

/// A definition list's entry: its name, its description, the description's first sentence.
struct Entry<'a> {
    name: &'a str,
    description: &'a str,
    first: &'a str,
    /// What the entry does, as its card answers: the first sentence, and the next one
    /// when the first tells what happens without it ("Normally, man will update ...
    /// This flag suppresses this behaviour.").
    answer: Cow<'a, str>,
}

/// How a description opens that tells what happens without its option.
const WITHOUT_IT: [&str; 9] = [
    "Normally",
    "By default",
    "Usually",
    "Normalement",
    "Par défaut",
    "Normalerweise",
    "Standardmäßig",
    "Normalmente",
    "Por defecto",
];

/// The entries of a definition list in `text` (a manual page's commands and options,
/// each a paragraph of its own over its description), with the first sentence of each
/// description: an option ("-d, --download-only"), or a command whose description names
/// it ("install" over "La commande install est suivie par ...").
fn described_entries(text: &str) -> Vec<Entry<'_>> {
    let paragraphs: Vec<&str> = text.split("\n\n").map(str::trim).collect();
    paragraphs
        .windows(2)
        .filter_map(|pair| {
            let [name, description] = pair else { return None };
            let option_like = |w: &str| {
                let w = w.trim_end_matches(',');
                w.starts_with('-') && w.len() > 1 && w.chars().all(|c| c.is_alphanumeric() || "-_=<>[]".contains(c))
            };
            let command_like = !name.contains(char::is_whitespace)
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            let option = name.split_whitespace().count() <= 4 && name.split_whitespace().all(option_like);
            // Every program's --help, --version, --usage and --license: nothing to learn
            // (graded blind).
            let routine = name.split_whitespace().any(|w| {
                ["help", "version", "usage", "license", "licence"]
                    .contains(&w.trim_start_matches('-').trim_end_matches(',').to_lowercase().as_str())
            });
            if routine || !(command_like || option) {
                return None; // (before splitting the description: most paragraphs are no entry)
            }
            let sentences = text::sentences(description);
            let first = *sentences.first()?;
            let command = command_like && first.split_whitespace().any(|w| w == *name);
            // An option's description opens a sentence ("to configure where DEVICE is
            // ..." under "--with-device=DEVICE" is the rest of one, cut by the name).
            let opens = first.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit());
            // (Without a whole next sentence, what the option does is not told.)
            let answer = match sentences.get(1) {
                _ if !WITHOUT_IT.iter().any(|w| first.starts_with(w)) => Cow::Borrowed(first),
                Some(next) if next.ends_with(['.', '!', '?']) => Cow::Owned(format!("{first} {next}")),
                _ => return None,
            };
            (command || (option && opens)).then_some(Entry { name, description, first, answer })
        })
        .collect()
}

/// A sentence an item can be made from: a complete sentence (a capital or a digit
/// first, a period last) or a list item, of [`SENTENCE_WORDS`], prose, that does not
/// lean on the text around it.
fn stands_alone(sentence: &str, lang: Option<Lang>) -> bool {
    // Exclamations are narration ("Phew—we finally have some working code!").
    let opening = quotes::unquoted(sentence);
    let complete =
        opening.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit()) && sentence.ends_with(['.', '。']);
    complete
        && SENTENCE_WORDS.contains(&text::word_count(sentence))
        && flaws::is_prose(sentence)
        && !sentence.contains('@')
        && quotes::only_terms(sentence)
        && !(lang == Some(Lang::En) && flaws::is_title(sentence))
        && !sentence.contains("://")
        // A line break inside is a quotation's or a verse's layout.
        && !sentence.contains('\n')
        // A label line of a list or a table ("0 Succès : l'utilisateur existe").
        && !sentence.split_whitespace().next().is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()))
        && !sentence.split_whitespace().take(4).any(|w| w == ":")
        && !sentence.split_whitespace().next().is_some_and(|w| w.ends_with(':'))
        && lang.is_none_or(|l| !flaws::leans_on_context(l, sentence) && !opens_with_a_dangling_goal(sentence, l))
}

/// The names a heading writes in lower case, as commands are ("What is rustc?"), and a
/// manual page's title ("GZIP(1)" names gzip).
fn lower_case_names(heading: &str) -> Vec<String> {
    let command = |w: &str| {
        w.chars().count() >= 3 && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c))
    };
    heading
        .split_whitespace()
        .filter_map(|word| {
            let title = word.strip_suffix(')').and_then(|w| w.split_once('(')).map(|(name, _)| name.to_lowercase());
            title.or_else(|| Some(word.trim_matches(|c: char| !c.is_alphanumeric()).to_owned()))
        })
        .filter(|w| command(w))
        .collect()
}

/// A chunk's first sentence when it says what a lower-case name its headings give does
/// ("gzip reduces the size of the named files using Lempel-Ziv coding.", "fuser affiche
/// les PID des processus ..."): the name, and the sentence, which stands alone
/// otherwise. Its card asks "What does gzip do?", as a manual page's command entry.
fn subject_opening<'t>(text: &'t str, lang: Option<Lang>, names: &HashSet<String>) -> Option<(&'t str, &'t str)> {
    let first = *analyse::prose_sentences(text).first()?;
    let name = first.split_whitespace().next()?;
    let code_like = name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    (code_like && names.contains(name) && stands_alone(&capitalise(first), lang)).then_some((name, first))
}

/// "To set its value, ...": a goal naming what the sentences before it name.
fn opens_with_a_dangling_goal(sentence: &str, lang: Lang) -> bool {
    sentence
        .strip_prefix(lang.goal_opener())
        .and_then(|rest| rest.split_once(", "))
        .is_some_and(|(goal, _)| lang.goal_leans_on_context(goal))
}

/// The items `fact` could give; the best first. One is kept at most.
fn propose(
    context: &Context,
    chunk: &ChunkInput,
    terms: &[String],
    fact: &Fact,
    options: &Options,
) -> Option<Proposal> {
    let lang = Lang::of(fact.language.as_deref());
    let sentence = fact.sentence.as_str();
    let pick = stable_hash(sentence);
    // Kinds differ in how often they make a good item (graded blind: true/false from two
    // definitions and definition cards best, multiple choice least); within a kind, a
    // central sentence of a relevant chunk about a strong concept scores higher.
    let base = |kind: &str, strength: f64| {
        let kind_base = match kind {
            "definition" | "purpose" | "how_to" => 0.6,
            "term_choice" => 0.58,
            "cloze" => 0.55,
            _ => 0.5,
        };
        kind_base + 0.1 * (fact.centrality + chunk.relevance.clamp(0.0, 1.0) + strength)
    };
    let proposal = |item: Item, kind: &'static str, term: Option<String>, strength, topic| Proposal {
        item,
        kind,
        chunk: 0,
        chunk_order: chunk.order,
        position: fact.position,
        sentence: sentence.to_owned(),
        term,
        section: String::new(),
        base: base(kind, strength),
        topic,
        language: fact.language.clone(),
    };
    if let (Some(definition), Some(lang)) = (&fact.definition, lang) {
        // An entry's description is no sentence to blank: it is a card or nothing.
        if definition.verb == Verb::Does && !options.flashcards {
            return None;
        }
        // What a thing is for is worth asking of the material's concepts only ("What
        // does the compiler let you do?" is no question about the chapter).
        let purpose = matches!(definition.verb, Verb::Lets { .. } | Verb::UsedFor { .. });
        if purpose && !(context.defined.contains(&normalise(&definition.term)) && context.is_topic(&definition.term)) {
            return None;
        }
        // Half the definitions are asked the other way round when quiz items are wanted
        // too: which term the definition describes.
        let as_quiz = options.quizzes && (!options.flashcards || pick.is_multiple_of(2));
        if as_quiz && let Some(quiz) = term_choice(context, chunk, definition, lang, pick) {
            return Some(proposal(Item::Quiz(quiz), "term_choice", None, 1.0, true));
        }
        if options.flashcards {
            let card = Flashcard {
                front: lang.definition_question(&definition.subject, definition.verb),
                back: match definition.verb {
                    Verb::Called { .. } | Verb::How => capitalise(&definition.predicate),
                    Verb::Does => definition.predicate.clone(),
                    _ => sentence.to_owned(),
                },
                cloze: None,
            };
            let kind = match definition.verb {
                Verb::How => "how_to",
                Verb::Lets { .. } | Verb::UsedFor { .. } => "purpose",
                _ => "definition",
            };
            return Some(proposal(Item::Card(card), kind, None, 1.0, true));
        }
    }
    if fact.in_entry {
        return None;
    }
    let (term, blanked, topic) = blank_term(context, chunk, fact, terms, true)
        .map(|(term, blanked)| (term, blanked, true))
        .or_else(|| blank_term(context, chunk, fact, terms, false).map(|(term, blanked)| (term, blanked, false)))?;
    let rank = context.concept_rank(&term);
    let strength = match rank {
        ConceptRank::Defined => 1.0,
        ConceptRank::Named => 0.7,
        ConceptRank::Word => 0.4,
    } - if topic { 0.0 } else { 1.0 };
    // Multiple choice in English only: in French, German and Spanish a distractor must
    // also agree in gender and case, which nothing here can tell (graded blind, nearly
    // every one failed); those languages get cloze cards instead. And, for a common term,
    // only where any noun phrase fits the blank: after a determiner, before a function
    // word or a stop ("the _____ is", "returns a _____,"). Graded blind, distractors after
    // a preposition ("at _____": only "compile time" fits) or before a noun ("the _____
    // crate") gave the answer away or were absurd. A name of several words (a person's,
    // a place's) fits where another such name does; single-word names ("GitHub", "MIT",
    // "HTML") are of too many kinds to offer one for another anywhere else.
    let fits = (kind_of(&term, context.stats) != Kind::Term && word_count(&term) > 1) || noun_slot(&blanked);
    let multiple_choice = lang.filter(|l| options.quizzes && *l == Lang::En && fits).and_then(|lang| {
        // Distractors are topics too: graded blind, the material's other terms were of
        // another kind ("your crate's public GitHub / MIT / Rust").
        let distractors: Vec<String> = context
            .pool
            .distractors(&term, sentence, &blanked, chunk, fact.language.as_deref())
            .into_iter()
            .filter(|d| context.is_topic(d))
            .collect();
        (distractors.len() >= 3).then(|| {
            let mut choices: Vec<String> = distractors[..3].to_vec();
            let answer_index = (pick % 4) as usize;
            choices.insert(answer_index, term.clone());
            Quiz {
                kind: QuizKind::MultipleChoice,
                question: format!("{} {blanked}", lang.complete_the_sentence()),
                choices,
                answer_index,
                explanation: sentence.to_owned(),
            }
        })
    });
    // Where three distractors fit (rarely), a multiple-choice item: quiz sessions need
    // them more than card decks need another cloze.
    match multiple_choice {
        Some(quiz) => Some(proposal(Item::Quiz(quiz), "multiple_choice", Some(term), strength, topic)),
        // In French, German and Spanish no cloze card either: graded blind, nearly all were
        // a description's fragment with a trivial word blanked (none of 7 GOOD in the
        // eighth pass, 1 of 16 in the sixth). Languages without templates get only them.
        _ if options.flashcards && lang.is_none_or(|l| l == Lang::En) => {
            let card = Flashcard { front: blanked, back: term.clone(), cloze: Some(true) };
            Some(proposal(Item::Card(card), "cloze", Some(term), strength, topic))
        }
        _ => None,
    }
}

/// A multiple-choice item on a definition, asked the other way round: which term its
/// definition describes ("Which term is a growable list of values of one type ...?"
/// [slice / vector / borrow checker / reallocation]). The distractors are terms the
/// material defines too (the same kind of thing, by its own words), then its other
/// topics that could pass for the answer (see [`Pool::distractors`]); none named in the
/// definition, in the answer's grammatical number; three are needed.
fn term_choice(context: &Context, chunk: &ChunkInput, definition: &Definition, lang: Lang, pick: u64) -> Option<Quiz> {
    let described = |verb: Verb| matches!(verb, Verb::Is { .. } | Verb::Means | Verb::Refers);
    if !described(definition.verb) {
        return None;
    }
    let predicate = format!(" {} ", normalise(&definition.predicate));
    let fits = |term: &str| {
        normalise(term) != normalise(&definition.term)
            && !predicate.contains(&format!(" {} ", normalise(term)))
            && word_count(term).abs_diff(word_count(&definition.term)) <= 1
    };
    let plural = |verb: Verb| matches!(verb, Verb::Is { plural: true });
    let question = lang.which_term(definition.verb, &definition.predicate);
    let defined = context
        .definitions
        .iter()
        .filter(|d| described(d.verb) && d.language == definition.language && plural(d.verb) == plural(definition.verb))
        .map(|d| d.term.clone());
    let language = definition.language.as_deref();
    // (Of the answer's kind: a name for a name, a common term for a common term.)
    let kind = kind_of(&definition.term, context.stats);
    let topics = context
        .pool
        .distractors(&definition.term, &definition.sentence, &format!("{question} {BLANK}"), chunk, language)
        .into_iter()
        .filter(|t| {
            // ("style Guide": a name cut out of "Rust Style Guide" is no term.)
            let mixed = kind == Kind::Term && t.split_whitespace().skip(1).any(|w| w.starts_with(char::is_uppercase));
            context.is_topic(t) && kind_of(t, context.stats) == kind && !mixed
        });
    let mut others: Vec<String> = Vec::new();
    for other in defined.chain(topics).filter(|t| fits(t)) {
        if others.len() < 3 && !others.iter().any(|o| normalise(o) == normalise(&other)) {
            others.push(other);
        }
    }
    if others.len() < 3 {
        return None;
    }
    let answer_index = (pick % 4) as usize;
    // (A common term is written as within a sentence: "ownership", not "Ownership".)
    others.insert(answer_index, fit_to_blank(&definition.term, kind, false));
    Some(Quiz {
        kind: QuizKind::MultipleChoice,
        question,
        choices: others,
        answer_index,
        explanation: definition.sentence.clone(),
    })
}

/// Keeps the best proposals: each main section's best first (coverage: there an item
/// on a term that is no topic may do), then the best overall on topics, up to
/// [`ITEMS_PER_1000_WORDS`] and `max_per_chunk` of each type per chunk; each judged by
/// the checker, and dropped when flawed or a near duplicate.
fn select(context: &Context, mut proposals: Vec<Proposal>, options: &Options, out: &mut Output) {
    let chunks = &context.material.chunks;
    let depth = section_depth(chunks.iter());
    let index: HashMap<i32, usize> = chunks.iter().enumerate().map(|(i, c)| (c.order, i)).collect();
    for proposal in &mut proposals {
        proposal.chunk = index[&proposal.chunk_order];
        let path = chunks[proposal.chunk].heading_path;
        proposal.section = path.get(depth).or(path.last()).cloned().unwrap_or_default();
    }
    let prose_words: usize =
        chunks.iter().filter(|c| !NON_PROSE_KINDS.contains(&c.kind)).map(|c| text::word_count(c.text)).sum();
    let budget = (prose_words * ITEMS_PER_1000_WORDS).div_ceil(1000).max(3);
    // Best first; ties in document order.
    let mut order: Vec<usize> = (0..proposals.len()).collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (&proposals[a], &proposals[b]);
        pb.base.total_cmp(&pa.base).then((pa.chunk_order, pa.position).cmp(&(pb.chunk_order, pb.position)))
    });
    let mut taken = vec![false; proposals.len()];
    let mut per_chunk: HashMap<(usize, AssetType), usize> = HashMap::new();
    let mut covered: HashSet<&str> = HashSet::new();
    let mut used: HashSet<&str> = HashSet::new();
    let mut made = 0;
    out.report.sections = proposals.iter().map(|p| p.section.as_str()).collect::<HashSet<_>>().len();
    for coverage in [true, false] {
        for &i in &order {
            let proposal = &proposals[i];
            let covering = coverage && !covered.contains(proposal.section.as_str());
            // Beyond each section's best item, a cloze card only on a central sentence about a
            // strong concept: graded blind, the rest were mostly FIXABLE or BAD (a generic
            // word blanked, a sentence about "the file" the card never names).
            let filler = !covering && proposal.kind == "cloze" && proposal.base < CLOZE_FLOOR;
            if made >= budget || taken[i] || (coverage && !covering) || (!proposal.topic && !covering) || filler {
                continue;
            }
            // A chunk's definitions are each worth a card (a glossary's section gives one
            // per term); other kinds share the chunk's cap.
            let count = per_chunk.entry((proposal.chunk, proposal.item.asset_type())).or_default();
            if *count >= options.max_per_chunk && proposal.kind != "definition" {
                continue;
            }
            // One item per fact: a section's lead may also define a term.
            if used.contains(proposal.sentence.as_str()) {
                continue;
            }
            if out.push_item(context, &chunks[proposal.chunk], proposal) {
                used.insert(proposal.sentence.as_str());
                taken[i] = true;
                *count += 1;
                made += 1;
                covered.insert(proposal.section.as_str());
            }
        }
    }
    out.report.covered = covered.len();
}

/// The heading level that names a material's main sections: the second when every
/// chunk shares its first heading (the document's title), else the first.
fn section_depth<'a, 'c: 'a>(chunks: impl Iterator<Item = &'a ChunkInput<'c>>) -> usize {
    let mut firsts = chunks.filter_map(|c| c.heading_path.first());
    let shared = firsts.next().is_some_and(|first| firsts.all(|f| f == first));
    usize::from(shared)
}

/// The material's key terms, for distractors: each once, with what matching compares.
struct Pool {
    terms: Vec<PoolTerm>,
}

struct PoolTerm {
    text: String,
    key: String,
    kind: Kind,
    plural: bool,
    words: usize,
    capital: bool,
    /// Where it stands first: the chunk's order and its first heading under the title.
    chunk_order: i32,
    section: Option<String>,
    language: Option<String>,
}

impl Pool {
    fn gather(
        prose: &[&ChunkInput],
        chunk_terms: &[Vec<String>],
        definitions: &[&Definition],
        stats: &TermStats,
        material_language: Option<&str>,
    ) -> Pool {
        let mut seen: HashSet<String> = HashSet::new();
        let mut terms = Vec::new();
        let depth = section_depth(prose.iter().copied());
        let defined: Vec<(&str, Option<&str>)> =
            definitions.iter().map(|d| (d.term.as_str(), d.language.as_deref())).collect();
        for (chunk, chunk_terms) in prose.iter().zip(chunk_terms) {
            let language = chunk.language.or(material_language);
            let here = defined.iter().filter(|(term, _)| grounded(term, chunk.text)).map(|(t, l)| (*t, *l));
            for (term, term_language) in chunk_terms.iter().map(|t| (t.as_str(), language)).chain(here) {
                let key = normalise(term);
                if !seen.insert(key.clone()) {
                    continue;
                }
                terms.push(PoolTerm {
                    kind: kind_of(term, stats),
                    plural: flaws::plural(term),
                    words: word_count(term),
                    capital: term.starts_with(char::is_uppercase),
                    chunk_order: chunk.order,
                    section: chunk.heading_path.get(depth).cloned(),
                    language: term_language.map(str::to_owned),
                    text: term.to_owned(),
                    key,
                });
            }
        }
        Pool { terms }
    }

    /// The other key terms of the kind and length of `term` that stand in `sentence`
    /// (normalised and padded with spaces): what a contrast or a pair would set beside it.
    fn counterparts<'s>(&'s self, key: &'s str, in_sentence: &'s str) -> impl Iterator<Item = &'s str> + 's {
        let own = self.terms.iter().find(|t| t.key == key);
        self.terms
            .iter()
            .filter(move |t| {
                own.is_some_and(|own| t.key != key && t.kind == own.kind && t.words == own.words)
                    && in_sentence.contains(&format!(" {} ", t.key))
            })
            .map(|t| t.key.as_str())
    }

    /// Whether the sentence (`in_sentence`: normalised, padded with spaces) holds a
    /// counterpart of `term`: what a contrast would set against it.
    fn has_counterpart(&self, term: &str, in_sentence: &str) -> bool {
        self.counterparts(&normalise(term), in_sentence).next().is_some()
    }

    /// Whether `term` stands joined to a counterpart by "and" or "or" ("the stack and the
    /// heap"): the pair gives a blank on either away. (`in_sentence` as above.)
    fn paired(&self, term: &str, in_sentence: &str, lang: Lang) -> bool {
        let key = normalise(term);
        self.counterparts(&key, in_sentence).any(|other| {
            lang.coordinators().iter().any(|and| {
                std::iter::once("").chain(lang.articles().iter().copied()).any(|article| {
                    let joined = |a: &str, b: &str| format!(" {a} {and} {article} {b} ").replace("  ", " ");
                    in_sentence.contains(&joined(&key, other)) || in_sentence.contains(&joined(other, &key))
                })
            })
        })
    }

    /// Other key terms that could pass for `correct` in `sentence`: the same kind (a
    /// name, a number, a common term), as many words, the same language, number and
    /// capitals, fitting the article before the blank, not in the sentence and sharing
    /// no word with the answer ("default behavior" for "default implementation" could
    /// be right too). Those of the same section first, then the nearest, so that they
    /// are of the same subject.
    fn distractors(
        &self,
        correct: &str,
        sentence: &str,
        blanked: &str,
        chunk: &ChunkInput,
        language: Option<&str>,
    ) -> Vec<String> {
        let answer = normalise(correct);
        let answer_words: HashSet<&str> = answer.split(' ').filter(|w| !CONNECTORS.contains(w)).collect();
        let answer_kind = self.terms.iter().find(|t| t.key == answer).map(|t| t.kind);
        let in_sentence = format!(" {} ", normalise(sentence));
        let words = word_count(correct);
        let is_plural = flaws::plural(correct);
        let capital = correct.starts_with(char::is_uppercase) && !blanked.starts_with(BLANK);
        let before = blanked.split(BLANK).next().unwrap_or_default().split_whitespace().next_back().unwrap_or("");
        let article = matches!(before.to_lowercase().as_str(), "a" | "an");
        let english = language == Some("en");
        let section = chunk.heading_path.get(1).or(chunk.heading_path.first());
        let mut candidates: Vec<&PoolTerm> = self
            .terms
            .iter()
            .filter(|t| {
                t.key != answer
                    && t.key.split(' ').all(|w| !answer_words.contains(w))
                    && answer_kind.is_none_or(|k| t.kind == k)
                    && t.words == words
                    && t.language.as_deref() == language
                    && (!english || t.plural == is_plural)
                    && (blanked.starts_with(BLANK) || t.capital == capital || t.kind == Kind::Number)
                    && (!article || flaws::starts_with_vowel_sound(&t.text) == flaws::starts_with_vowel_sound(correct))
                    && !in_sentence.contains(&format!(" {} ", t.key))
            })
            .collect();
        candidates.sort_by_key(|t| {
            (
                t.section.as_ref() != section,
                t.chunk_order.abs_diff(chunk.order),
                stable_hash(&format!("{correct}|{}", t.text)),
            )
        });
        let at_start = blanked.starts_with(BLANK);
        candidates.into_iter().map(|t| fit_to_blank(&t.text, t.kind, at_start)).collect()
    }
}

/// The drafts so far, and the fronts near duplicates are judged against.
#[derive(Default)]
struct Output {
    drafts: Vec<Draft>,
    fronts: Fronts,
    report: Report,
}

impl Output {
    /// Adds a proposal when the checker finds no flaw in it and it repeats no item made
    /// before; returns whether it did.
    fn push_item(&mut self, context: &Context, chunk: &ChunkInput, proposal: &Proposal) -> bool {
        let item = flaws::Item {
            content: proposal.item.content(),
            source: Some(&proposal.sentence),
            chunk_kind: chunk.kind,
            headings: chunk.heading_path,
            language: proposal.language.as_deref(),
        };
        let found = context.checks.check(&item);
        self.report.checked += 1;
        for flaw in &found {
            *self.report.flaws.entry(flaw.name()).or_default() += 1;
        }
        if !found.is_empty() {
            return false;
        }
        let asset_type = proposal.item.asset_type();
        let Some(admitted) = self.fronts.admit(asset_type, proposal.item.front(), proposal.item.answer()) else {
            return false;
        };
        if admitted.repeats_other_type {
            return false;
        }
        self.drafts.push(Draft {
            asset_type,
            content_chunk_id: Some(chunk.id),
            quality_score: flaws::quality(proposal.base, &[]),
            difficulty_level: difficulty(
                context.material.difficulty,
                Some(&proposal.sentence),
                proposal.term.as_deref().map(|t| (t, context.stats.usage(t).count)),
            ),
            generation_params: json!({
                "generator": MODEL,
                "kind": proposal.kind,
                "chunk_order": chunk.order,
                "term": proposal.term,
                "sentence": proposal.sentence,
                "fact": fact_key(&proposal.sentence),
                "fingerprint": admitted.fingerprint,
            }),
            generation_model: MODEL.to_owned(),
            metadata: json!({"flaws": []}),
            content: match &proposal.item {
                Item::Card(card) => json!(card),
                Item::Quiz(quiz) => json!(quiz),
            },
        });
        true
    }

    /// Adds a summary: a chunk's (`chunk` given) or the material's, identified by that.
    fn push_summary(&mut self, context: &Context, chunk: &ChunkInput, summary: Summary, of_material: bool) {
        let kind = if of_material { "material_summary" } else { "chunk_summary" };
        // A chunk has one summary, the material one: that is what identifies them.
        let front = if of_material { kind.to_owned() } else { format!("{kind} {}", chunk.id) };
        let Some(admitted) = self.fronts.admit(AssetType::Summary, &front, "") else { return };
        self.drafts.push(Draft {
            asset_type: AssetType::Summary,
            content_chunk_id: (!of_material).then_some(chunk.id),
            quality_score: 0.8,
            difficulty_level: difficulty(context.material.difficulty, None, None),
            generation_params: json!({
                "generator": MODEL,
                "kind": kind,
                "chunk_order": chunk.order,
                "fingerprint": admitted.fingerprint,
            }),
            generation_model: MODEL.to_owned(),
            metadata: json!({}),
            content: json!(summary),
        });
    }
}

/// Identifies the fact (source sentence) items were made from: items of one fact are
/// siblings, which sessions keep apart.
pub fn fact_key(sentence: &str) -> String {
    format!("{:016x}", stable_hash(&normalise(sentence)))
}

/// A chunk's summary: ingestion's extractive summary, with up to three key points, its
/// most central sentences that stand on their own.
fn chunk_summary(context: &Context, chunk: &ChunkInput, stop: &StopWords, out: &mut Output) {
    let sentences: Vec<&str> = analyse::prose_sentences(chunk.text);
    let key_points: Vec<String> = analyse::rank_sentences(&sentences, stop)
        .into_iter()
        .map(|i| sentences[i])
        .filter(|s| key_point(context, chunk, s))
        .take(3)
        .map(str::to_owned)
        .collect();
    out.push_summary(context, chunk, Summary { text: chunk.summary.to_owned(), key_points }, false);
}

/// A sentence of `chunk` that makes a key point on its own: a proposition that leans on
/// nothing around it ("This code creates ...", "We talked about strings in Chapter 4").
fn key_point(context: &Context, chunk: &ChunkInput, sentence: &str) -> bool {
    let lang = Lang::of(chunk.language.or(context.material.language));
    is_proposition(sentence) && stands_alone(sentence, lang) && lang.is_none_or(|l| !l.narrates(sentence))
}

/// A sentence a material's summary may give beside a chunk's: not one an opening
/// connective ties to the sentence before ("In other words, ..."), not the description
/// of a definition list's entry (it lacks the option it describes), and in the
/// material's language (a manual page's passage left untranslated gives none).
/// (`entries` are the chunk's, read once per chunk.)
fn summary_point(context: &Context, chunk: &ChunkInput, entries: &[Entry], sentence: &str) -> bool {
    let language = context.material.language;
    let connective = Lang::of(chunk.language.or(language)).and_then(|l| l.without_connective(sentence)).is_some();
    // (An entry stands above its description in the text, or as the chunk's heading.)
    let entry = chunk.heading_path.last().is_some_and(|h| h.starts_with('-'));
    let described = entry || entries.iter().any(|e| e.description.contains(sentence));
    let other_language = word_count(sentence) >= 8
        && analyse::language(sentence).is_some_and(|told| language.is_some_and(|l| l != told));
    !connective && !described && !other_language
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
    // (A chunk's most central sentences that make a key point: those of its extractive
    // summary are too few once the ones leaning on others are left out.)
    let stop = analyse::stop_words(context.material.language);
    let prose = || chunks.iter().filter(|c| !NON_PROSE_KINDS.contains(&c.kind) && !c.summary.is_empty());
    // What the material is about, as it says first ("gzip reduces the size of the named
    // files ...", "rustc is the compiler for ..."): graded blind, summaries that never
    // said it were BAD whatever else they held.
    let opening = prose().find_map(|c| {
        let first = *analyse::prose_sentences(c.text).first()?;
        let lang = Lang::of(c.language.or(context.material.language));
        let alone = stands_alone(&capitalise(first), lang) && lang.is_none_or(|l| !l.narrates(first));
        let entries = described_entries(c.text);
        (is_proposition(first) && alone && summary_point(context, c, &entries, first)).then_some((c.order, first))
    });
    let mut central: Vec<(&ChunkInput, Vec<&str>)> = prose()
        .map(|c| {
            let sentences = analyse::prose_sentences(c.text);
            let ranked = analyse::rank_sentences(&sentences, &stop);
            let entries = described_entries(c.text);
            let points = ranked.into_iter().map(|i| sentences[i]).filter(|s| {
                key_point(context, c, s)
                    && summary_point(context, c, &entries, s)
                    && opening.is_none_or(|(_, o)| o != *s)
            });
            (c, points.take(3).collect())
        })
        .filter(|(_, points): &(_, Vec<&str>)| !points.is_empty())
        .collect();
    central.sort_by(|a, b| b.0.relevance.total_cmp(&a.0.relevance).then(a.0.order.cmp(&b.0.order)));
    let mut chosen: Vec<(i32, usize, &str)> = opening.map(|(order, first)| (order, 0, first)).into_iter().collect();
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
    out.push_summary(context, first, Summary { text: key_points.join(" "), key_points }, true);
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

/// The definition `sentence` gives, in `lang`: "X is a Y", "X is called Y", "X refers
/// to Y", "X means Y", where X is a noun phrase of one to six words that leans on
/// nothing outside the sentence ("Note that it is ..." and "Because the pointer is ..."
/// are no definitions), and an "is" definition's predicate opens with an article ("is
/// a", "is the"): "Rust is fast" says something of Rust, it does not define it.
fn definition(sentence: &str, lang: Lang, language: Option<&str>, stop_words: &StopWords) -> Option<Definition> {
    // A quoted term is one the material defines: read without its marks, and the term.
    let plain = quotes::unquoted(sentence);
    let quoted = quotes::terms(sentence);
    let body = plain.trim_end_matches(['.', '!', '。']);
    for &(verb_text, verb) in lang.definition_verbs() {
        let Some((subject, predicate)) = body.split_once(verb_text) else { continue };
        // A name is what follows "is called" up to the clause after it ("... are called
        // blanket implementations and are used ...").
        let predicate = match verb {
            Verb::Called { .. } => [",", " and ", " which ", " that ", " et ", " und ", " y "]
                .iter()
                .filter_map(|cut| predicate.find(cut))
                .min()
                .map_or(predicate, |at| &predicate[..at]),
            _ => predicate,
        };
        let subject_words: Vec<&str> = subject.split_whitespace().collect();
        let predicate_words: Vec<&str> = predicate.split_whitespace().collect();
        let (Some(first), Some(last)) = (subject_words.first(), subject_words.last()) else { continue };
        // "To propagate a work means to ...": what doing something is called, in English.
        let infinitive = lang == Lang::En && verb == Verb::Means && *first == "To" && subject_words.len() > 1;
        let stop = |w: &str| {
            let w = w.to_lowercase();
            (lang.leans_on_context(&w) || lang.quantifies(&w)) && !lang.articles().contains(&w.as_str())
        };
        let words_ok = match verb {
            Verb::Called { .. } => (1..=6).contains(&predicate_words.len()),
            Verb::Is { .. } => {
                (3..=35).contains(&predicate_words.len())
                    && predicate_words.first().is_some_and(|w| lang.opens_definition(w))
            }
            Verb::Refers | Verb::Means | Verb::Does => (3..=35).contains(&predicate_words.len()),
            Verb::Lets { .. } | Verb::UsedFor { .. } => (2..=35).contains(&predicate_words.len()),
            Verb::How => false, // (told by `how_to`)
        };
        let first_lower = first.to_lowercase();
        // A subject given a name may be long ("Implementations of a trait on any type ...").
        let subject_limit = if matches!(verb, Verb::Called { .. }) { 12 } else { 6 };
        if !(1..=subject_limit).contains(&subject_words.len())
            || !words_ok
            || (stop_words.contains(&first_lower) && !lang.articles().contains(&first_lower.as_str()) && !infinitive)
            || subject.contains([',', ';', ':', '(', ')'])
            || subject_words.iter().any(|w| stop(w))
            || lang.articles().contains(&last.to_lowercase().as_str())
            || !first.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit())
            || predicate.contains([';', ':'])
            // "X is a smart pointer because ...": a reason, not what X is.
            || predicate_words.iter().any(|w| lang.gives_a_reason(w))
            // "The variable s refers to ...": a name from an example, not a concept.
            || subject_words[1..].iter().any(|w| {
                w.chars().count() == 1 && w.chars().all(char::is_alphabetic) && !lang.articles().contains(w)
            })
            // "X means here ...", "X ne signifie pas ...": no definition of X.
            || predicate_words.first().is_some_and(|w| lang.leans_on_context(w) || lang.negates(w))
            || lang.negates(last)
            // German and French nouns (and, in German, the adverb before a verb in second
            // place: "Manchmal ist ...") stand with an article when they are defined.
            || (matches!(lang, Lang::De | Lang::Fr)
                && !matches!(verb, Verb::Called { .. })
                && !lang.opens_definition(first))
        {
            continue;
        }
        let article = lang.articles().contains(&first_lower.as_str());
        let quoted_term = quoted.iter().copied().find(|t| subject.contains(t));
        let term = match quoted_term {
            Some(term) => term.to_owned(),
            None if article || infinitive => subject_words[1..].join(" "),
            None => subject.to_owned(),
        };
        // "The exception is ...", "The difference is ...": a word standing for something
        // the text said before, no concept.
        if term.is_empty() || (!term.contains(' ') && lang.is_generic(&term.to_lowercase())) {
            continue;
        }
        return Some(Definition {
            sentence: sentence.to_owned(),
            subject: match quoted_term {
                // A term quoted at the opening of its definition is capitalised there only
                // ("Object code" means ...), unless every word of it is (a name).
                _ if infinitive => subject.to_lowercase(),
                Some(term)
                    if subject.starts_with(term)
                        && lang != Lang::De
                        && term.split_whitespace().skip(1).all(|w| w.starts_with(char::is_lowercase)) =>
                {
                    let mut chars = subject.chars();
                    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
                }
                _ => lower_article(subject, lang),
            },
            term,
            verb,
            predicate: predicate.to_owned(),
            language: language.map(str::to_owned),
        });
    }
    None
}

/// "To create a new thread, we call the thread::spawn function ...": a goal (an
/// infinitive clause of two to twelve words whose verb is no narration: "To illustrate
/// this" is none) and the way to it, which becomes the answer: in English the reader's
/// own steps ("we call ..." -> "Call ..."), so a main clause that names another doer
/// ("Rust goes through ...") gives none. The goal is asked in the reader's words ("after
/// we've defined it" -> "after you've defined it").
fn how_to(sentence: &str, lang: Lang, language: Option<&str>, stop_words: &StopWords) -> Option<Definition> {
    let body = sentence.trim_end_matches(['.', '。']);
    let (goal, way) = body.strip_prefix(lang.goal_opener())?.split_once(", ")?;
    let goal_words: Vec<&str> = goal.split_whitespace().collect();
    let verb = match lang {
        // "Um ein Paket zu installieren": the verb comes last, after "zu".
        Lang::De => match goal_words.as_slice() {
            [.., "zu", verb] => *verb,
            _ => return None,
        },
        _ => goal_words.first()?,
    };
    if !(2..=12).contains(&goal_words.len())
        || !lang.goal_verb(verb)
        || goal.contains([';', ':', '(', ')'])
        || lang.refers_back(goal)
        || lang.goal_leans_on_context(goal)
        || goal_words.iter().any(|w| lang.negates(w))
    {
        return None;
    }
    let way = match lang {
        Lang::En => {
            let mut words = way.split_whitespace().peekable();
            let doer = words.next_if(|w| {
                let w = w.to_lowercase().replace('’', "'");
                ["we", "you", "we'll", "you'll", "we'd", "you'd"].contains(&w.as_str())
            });
            if doer.is_some() {
                // "we can use", "you need to run", "we'll call": the step itself.
                while words.next_if(|w| MODALS.contains(&w.to_lowercase().as_str())).is_some() {}
                words.next_if(|w| *w == "to");
            }
            let first = words.peek()?.to_lowercase();
            // Without a doer, the way must read as an order ("start with the struct
            // keyword"): a lower-case word that is no function word ("Rust goes ..."
            // names another doer).
            let order = words.peek()?.starts_with(char::is_lowercase)
                && first.chars().all(char::is_alphabetic)
                && !stop_words.contains(&first)
                && !first.ends_with("ing")
                && !first.ends_with("ly");
            if !order || lang.negates(&first) {
                return None;
            }
            words.collect::<Vec<_>>().join(" ")
        }
        // (German: the verb first, "verwenden Sie ..."; an article or a pronoun opens the
        // rest of the goal's relative clause, cut at its comma.)
        _ => way.to_owned(),
    };
    let way_words = text::word_count(&way);
    let opens_clause = way
        .split_whitespace()
        .next()
        .is_some_and(|w| lang.articles().contains(&w.to_lowercase().as_str()) || lang.leans_on_context(w));
    // "you must first download it": the first of several steps is no way to the goal.
    let first_step = way.split_whitespace().any(|w| lang.first_step(w));
    if !(2..=35).contains(&way_words) || way.contains([';', ':']) || opens_clause || first_step {
        return None;
    }
    let subject = match lang {
        Lang::En => goal_words.iter().map(|w| readers_word(w)).collect::<Vec<_>>().join(" "),
        Lang::De => goal_words.iter().filter(|w| **w != "zu").copied().collect::<Vec<_>>().join(" "),
        _ => goal.to_owned(),
    };
    Some(Definition {
        sentence: sentence.to_owned(),
        subject: subject.clone(),
        term: subject,
        verb: Verb::How,
        predicate: format!("{}.", capitalise(&way)),
        language: language.map(str::to_owned),
    })
}

/// The words between a doer and a step's verb: "we can use", "you'll need to run".
const MODALS: [&str; 12] =
    ["can", "could", "would", "should", "must", "will", "need", "have", "also", "just", "only", "simply"];

/// A word of the text's "we" as the reader's "you" ("we've" -> "you've", "our" -> "your").
fn readers_word(word: &str) -> String {
    let lower = word.to_lowercase();
    let swapped = [("we", "you"), ("us", "you"), ("our", "your"), ("ourselves", "yourself")]
        .iter()
        .find_map(|(ours, yours)| (lower == *ours).then(|| (*yours).to_owned()))
        .or_else(|| {
            ["’", "'"].iter().find_map(|apostrophe| {
                let (head, tail) = lower.split_once(apostrophe)?;
                (head == "we").then(|| format!("you{apostrophe}{tail}"))
            })
        });
    swapped.unwrap_or_else(|| word.to_owned())
}

/// The key term to blank out of `sentence` and the sentence with it blanked: what the
/// sentence is about comes first, judged by where the term stands (in its section's
/// heading), how the material makes it a concept (defined, then names and phrases, then
/// single words) and how often the material uses it, then the longest; never one the
/// checker would call trivial, one whose words stand elsewhere in the sentence (the
/// answer would be in the question), nor one the sentence contrasts with another concept
/// ("on the heap rather than the _____": the answer can be read from the other). With
/// `topics_only`, only one of the material's topics.
fn blank_term(
    context: &Context,
    chunk: &ChunkInput,
    fact: &Fact,
    terms: &[String],
    topics_only: bool,
) -> Option<(String, String)> {
    let (sentence, definition) = (fact.sentence.as_str(), fact.definition.as_ref());
    let heading = format!(" {} ", normalise(&chunk.heading_path.join(" ")));
    let mut candidates: Vec<&str> =
        terms.iter().map(String::as_str).chain(definition.map(|d| d.term.as_str())).collect();
    candidates.sort_by_cached_key(|t| {
        // Its head (last word) in the heading: "plasma membrane" under "The cell membrane".
        let head = normalise(t).rsplit(' ').next().map(str::to_owned).unwrap_or_default();
        let in_heading = heading.contains(&format!(" {head} "));
        let uses = context.stats.usage(t).count;
        // The more specific (the fewer uses), the more likely the point of the sentence
        // rather than its background ("Rust" in a chapter of the Rust book).
        (!in_heading, context.concept_rank(t), uses, std::cmp::Reverse(t.len()), *t)
    });
    candidates.dedup();
    let lang = Lang::of(fact.language.as_deref());
    let contrasts = lang.is_some_and(|l| l.contrasts(sentence));
    let in_sentence = format!(" {} ", normalise(sentence));
    for term in candidates {
        if let Some((start, end)) = find_words(sentence, term)
            && (!topics_only || context.is_topic(term))
            // In French, German and Spanish, only a term the material defines or a name:
            // graded blind, other blanks there were generic words ("Verzeichnis",
            // "Syntax") or a manual page's placeholders (1 cloze card in 16 was GOOD).
            && (lang.is_none_or(|l| l == Lang::En)
                || context.concept_rank(term) == ConceptRank::Defined
                || context.stats.is_name(term))
            && word_count(term) * 3 <= word_count(sentence)
            && !(contrasts && context.pool.has_counterpart(term, &in_sentence))
            && !lang.is_some_and(|l| context.pool.paired(term, &in_sentence, l))
            && !context.in_longer_term(term, &in_sentence)
        {
            let found = sentence[start..end].to_owned();
            let blanked = format!("{}{BLANK}{}", &sentence[..start], &sentence[end..]);
            let card = Flashcard { front: blanked.clone(), back: found.clone(), cloze: Some(true) };
            let item = flaws::Item {
                content: Content::Card(&card),
                source: None,
                chunk_kind: "paragraph",
                headings: &[],
                language: fact.language.as_deref(),
            };
            let flaws = context.checks.check(&item);
            if !flaws.iter().any(|f| matches!(f, Flaw::AnswerInStem | Flaw::TrivialBlank)) {
                return Some((found, blanked));
            }
        }
    }
    None
}

/// The names that are the material's background, not concepts to ask about ("Rust" in a
/// chapter of the Rust book, as "the compiler" is), lower case: a name in more than a
/// third of the prose chunks (of four or more), and the name in most paragraphs (three
/// or more, and one in twenty) that no heading names: a short chapter is one or two
/// chunks, and its language or product is its most mentioned name. Each name is looked
/// for once, though many chunks propose it.
fn background_names(
    prose: &[&ChunkInput],
    candidates: &[Vec<String>],
    stats: &TermStats,
    headings: &str,
) -> HashSet<String> {
    let names: HashSet<&String> = candidates.iter().flatten().filter(|t| stats.is_name(t)).collect();
    // Each paragraph with its chunk: a chunk holds a name when one of its paragraphs does,
    // so one pass over the paragraphs counts both.
    let paragraphs: Vec<(usize, &str)> = prose
        .iter()
        .enumerate()
        .flat_map(|(chunk, c)| c.text.split("\n\n").map(move |p| (chunk, p)))
        .filter(|(_, p)| !p.trim().is_empty())
        .collect();
    let mut background = HashSet::new();
    let mut most_mentioned: Option<(usize, &String)> = None;
    for name in names {
        let (mut in_paragraphs, mut in_chunks, mut last_chunk) = (0, 0, None);
        for &(chunk, _) in paragraphs.iter().filter(|(_, p)| find_words(p, name).is_some()) {
            in_paragraphs += 1;
            in_chunks += usize::from(last_chunk.replace(chunk) != Some(chunk));
        }
        if prose.len() >= 4 && in_chunks * 3 > prose.len() {
            background.insert(name.to_lowercase());
        }
        let unheaded = !headings.contains(&format!(" {} ", singular_key(name)));
        if unheaded && in_paragraphs >= 3 && in_paragraphs * 20 >= paragraphs.len() {
            most_mentioned = most_mentioned.max(Some((in_paragraphs, name)));
        }
    }
    background.extend(most_mentioned.map(|(_, name)| name.to_lowercase()));
    background
}

/// The headings above a chunk and those inside it: a chunk may hold several short
/// sections, their headings lines of their own (up to 12 words, a capital first, no
/// sentence's punctuation last).
fn headings_of<'a>(chunk: &'a ChunkInput) -> impl Iterator<Item = &'a str> {
    let inside = chunk.text.lines().map(str::trim).filter(|line| {
        line.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit())
            && (1..=12).contains(&word_count(line))
            && !line.ends_with(['.', '!', '?', ':', ';', ','])
    });
    chunk.heading_path.iter().map(String::as_str).chain(inside)
}

/// `text` normalised with each word's plural "s" dropped, to match a term with a heading
/// ("Tuple Structs" names "tuple struct").
fn singular_key(text: &str) -> String {
    let key = normalise(text);
    let singular = |w: &str| {
        let plural = w.len() > 3 && w.ends_with('s') && !["ss", "us", "is"].iter().any(|end| w.ends_with(end));
        if plural { w[..w.len() - 1].to_owned() } else { w.to_owned() }
    };
    key.split(' ').map(singular).collect::<Vec<_>>().join(" ")
}

/// Whether the blank of `blanked` (an English sentence) is a slot any noun phrase fits:
/// after a determiner or at the start, and before a function word or punctuation.
fn noun_slot(blanked: &str) -> bool {
    let Some((before, after)) = blanked.split_once(BLANK) else { return false };
    let before = before.split_whitespace().next_back().map(str::to_lowercase);
    let after = after.trim_start();
    let determiner = before.as_deref().is_none_or(|w| {
        ["the", "a", "an", "its", "their", "our", "your", "each", "every", "any", "no", "another"].contains(&w)
    });
    let next = after.split_whitespace().next().unwrap_or_default().to_lowercase();
    let closes = after.starts_with(|c: char| !c.is_alphanumeric())
        || [
            "is", "are", "was", "were", "has", "have", "had", "can", "could", "will", "would", "must", "may", "might",
            "should", "does", "do", "did", "never", "always", "also", "of", "in", "on", "to", "for", "with", "from",
            "by", "at", "that", "which", "who", "and", "or", "but", "as", "than", "when", "where", "because",
        ]
        .contains(&next.as_str());
    determiner && closes
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
        // Whole words of prose, not pieces of a code token ("File::open", "read_to_string").
        let before = lower[..start].chars().next_back().is_none_or(|c| c.is_whitespace() || "(\"'“‘[«".contains(c));
        let mut rest = lower[end..].chars();
        let after = rest.next().is_none_or(|c| {
            c.is_whitespace()
                || ",;!?)\"'”’]»".contains(c)
                || (matches!(c, '.' | ':') && rest.next().is_none_or(|d| !d.is_alphanumeric() && d != ':'))
        });
        if before && after {
            return Some((start, end));
        }
        from = start + needle.chars().next().map_or(1, char::len_utf8);
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Name,
    Term,
}

/// A distractor as it reads in the blank: a capital at the sentence's start; otherwise
/// a common term in lower case (as a heading may have written it: "Data types"), a name
/// or an acronym as written.
fn fit_to_blank(term: &str, kind: Kind, at_start: bool) -> String {
    let mut chars = term.chars();
    let first = chars.next().unwrap_or_default();
    let acronym = chars.next().is_some_and(char::is_uppercase);
    if at_start {
        capitalise(term)
    } else if kind == Kind::Term && !acronym {
        first.to_lowercase().chain(term.chars().skip(1)).collect()
    } else {
        term.to_owned()
    }
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

/// How the material uses each candidate term, gathered in one pass over its words.
#[derive(Default)]
struct TermStats {
    by_term: HashMap<String, Usage>,
    /// The material's words, lower case.
    words: HashSet<String>,
}

#[derive(Default, Clone, Copy)]
struct Usage {
    /// Times it stands in the material, as whole words, case aside.
    count: usize,
    /// Written all in lower case somewhere.
    lower: bool,
    /// Capitalised after a lower-case word somewhere (so, within a sentence).
    capitalised_within: bool,
    /// After "the", "a" or "an" and before a stop word or punctuation somewhere: used as
    /// a noun ("the box is"), not only as an adjective ("an infinite size").
    after_article: bool,
}

impl TermStats {
    fn gather<'a>(whole: &str, candidates: impl Iterator<Item = &'a String>, stop: &StopWords) -> TermStats {
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
                let end = start + n;
                // Followed by a stop word, the end of a clause or nothing: the head of its phrase.
                let head = indexed.get(end + 1).is_none_or(|&(next, _)| {
                    let (at, word) = indexed[end];
                    // A comma may end an adjective too ("the infinite, recursive chain").
                    stop.contains(&lower[end + 1])
                        || whole[at + word.len()..next].contains(['.', ';', ':', '?', '!', ')'])
                });
                usage.after_article |= within(start) && matches!(lower[start - 1].as_str(), "the" | "a" | "an") && head;
            }
        }
        TermStats { by_term, words: lower.into_iter().collect() }
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
    /// A phrase must also be written in lower case somewhere, unless it is a name: "Rust
    /// calls" (a name and a verb) and headings' "Data Types" are not concepts.
    fn is_concept(&self, term: &str) -> bool {
        let usage = self.usage(term);
        let used = if word_count(term) > 1 { usage.lower && !self.ends_in_a_verb(term) } else { usage.after_article };
        self.is_name(term) || (usage.count >= 2 && used)
    }

    /// Whether a phrase ends in what the material also uses as a verb: "function
    /// returns" (it says "returned"), "code prints" ("printing"), "open failed". English
    /// inflections; other languages' phrases pass.
    fn ends_in_a_verb(&self, term: &str) -> bool {
        let last = term.rsplit(' ').next().unwrap_or(term).to_lowercase();
        if last.ends_with("ed") && !last.ends_with("eed") {
            return true;
        }
        let Some(stem) = last.strip_suffix('s').filter(|s| s.len() >= 3 && !s.ends_with('s')) else { return false };
        let base = stem.strip_suffix('e').unwrap_or(stem);
        [format!("{stem}ed"), format!("{base}ed"), format!("{stem}ing"), format!("{base}ing")]
            .iter()
            .any(|form| self.words.contains(form))
    }
}

/// The names the material's code declares ("struct Inventory", "fn giveaway"), lower
/// case: an example's names, not concepts to learn, to blank or to offer as distractors.
fn example_names<'a, 'c: 'a>(code: impl Iterator<Item = &'a ChunkInput<'c>>) -> HashSet<String> {
    const DECLARE: [&str; 13] = [
        "struct",
        "enum",
        "fn",
        "trait",
        "type",
        "class",
        "def",
        "function",
        "interface",
        "let",
        "const",
        "static",
        "mod",
    ];
    let mut names = HashSet::new();
    for chunk in code {
        let mut words = chunk.text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| !w.is_empty());
        while let Some(word) = words.next() {
            if DECLARE.contains(&word) {
                let name = words.next().filter(|n| *n != "mut").or_else(|| words.next());
                names.extend(name.map(str::to_lowercase));
            }
        }
    }
    names
}

/// YAKE's key terms of a chunk that stand in it verbatim, as written there, shaped like
/// noun phrases (see [`noun_phrase_like`]).
fn candidate_terms(text: &str, stop: &StopWords, lang: Option<Lang>) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for item in yake_rust::get_n_best(KEY_TERMS_PER_CHUNK, text, stop, &yake_rust::Config::default()) {
        let Some((start, end)) = find_words(text, &item.raw) else { continue };
        let term = text[start..end].to_owned();
        if term.chars().count() >= 3
            && word_count(&term) <= 3
            && noun_phrase_like(&term, stop, lang)
            && !terms.iter().any(|t| normalise(t) == normalise(&term))
        {
            terms.push(term);
        }
    }
    terms
}

/// Words that may join the words of a noun phrase ("unit of life", "chemin de fer").
const CONNECTORS: [&str; 8] = ["of", "de", "du", "des", "d", "von", "vom", "del"];

/// Whether a term is shaped like a noun phrase rather than a fragment of a sentence: no
/// stop word at either end ("for more", "from May") or inside it but a connector
/// ("inside the Cons", "unknown at compile"), no reference label ("Listing"), not only
/// generic words ("large amount", "case").
fn noun_phrase_like(term: &str, stop: &StopWords, lang: Option<Lang>) -> bool {
    let words: Vec<String> = term.split_whitespace().map(str::to_lowercase).collect();
    let (Some(first), Some(last)) = (words.first(), words.last()) else { return false };
    let generic = |w: &String| stop.contains(w) || lang.is_some_and(|l| l.is_generic(w));
    !stop.contains(first)
        && !stop.contains(last)
        && words.iter().all(|w| !stop.contains(w) || CONNECTORS.contains(&w.as_str()))
        && !words.iter().any(|w| language::is_label(w))
        && !words.iter().all(generic)
}

fn word_count(text: &str) -> usize {
    text::word_count(text)
}

/// The text with its first letter a capital (a swapped-in term may open the sentence).
fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A subject as it reads inside a question: its opening article in lower case ("The
/// cell" -> "the cell"), and a single word too unless it is a name, an acronym or German
/// (whose nouns keep their capital).
fn lower_article(subject: &str, lang: Lang) -> String {
    let first = subject.split_whitespace().next().unwrap_or_default();
    let is_article = lang.articles().contains(&first.to_lowercase().as_str());
    let mut chars = subject.chars();
    let single_word = !subject.contains(' ') && subject.chars().nth(1).is_some_and(char::is_lowercase);
    match chars.next() {
        Some(c) if is_article || (single_word && lang != Lang::De) => c.to_lowercase().chain(chars).collect(),
        _ => subject.to_owned(),
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

    use crate::generate::assess::NEAR_DUPLICATE;
    use crate::generate::{Flashcard, Quiz, check_shape};
    use crate::materials::pipeline;
    use serde_json::Value;

    const ARTICLE: &str = include_str!("../../tests/data/cells.md");
    const ALL: Options = Options { flashcards: true, quizzes: true, summaries: true, max_per_chunk: 4 };

    fn generate_from(media_type: &str, source: &str, options: &Options) -> (pipeline::Ingested, Vec<Draft>) {
        let ingested = pipeline::ingest(media_type, source.as_bytes()).expect("ingested");
        let drafts = generate(&MaterialInput::of_ingested(&ingested), options);
        (ingested, drafts)
    }

    fn drafts() -> (pipeline::Ingested, Vec<Draft>) {
        generate_from("text/markdown", ARTICLE, &ALL)
    }

    fn chunk_of<'a>(ingested: &'a pipeline::Ingested, draft: &Draft) -> &'a pipeline::AnalysedChunk {
        let id = draft.content_chunk_id.expect("a chunk");
        &ingested.chunks[(id.as_u128() - 1) as usize]
    }

    fn items(drafts: &[Draft]) -> impl Iterator<Item = &Draft> {
        drafts.iter().filter(|d| d.asset_type != AssetType::Summary)
    }

    /// The question a learner reads: a card's front or a quiz item's question.
    fn front(draft: &Draft) -> &str {
        draft.content.get("front").or_else(|| draft.content.get("question")).and_then(Value::as_str).expect("a front")
    }

    #[test]
    fn generating_tells_its_watcher_each_passage_it_reads() {
        let ingested = pipeline::ingest("text/markdown", ARTICLE.as_bytes()).expect("ingested");
        let material = MaterialInput::of_ingested(&ingested);
        let seen = std::sync::Mutex::new(Vec::new());
        let drafts = generate_watched(&material, &ALL, &|done, total| seen.lock().expect("a lock").push((done, total)));
        assert_eq!(drafts, generate(&material, &ALL), "watching changes nothing");
        let seen = seen.into_inner().expect("a lock");
        let total = seen.first().map(|(_, total)| *total).expect("told");
        assert!(total > 1 && total <= ingested.chunks.len());
        assert_eq!(seen, (0..total).map(|n| (n, total)).collect::<Vec<_>>());
    }

    #[test]
    fn the_article_gives_every_kind_of_item_and_its_sections_are_covered() {
        let (ingested, drafts) = drafts();
        let kinds: HashSet<&str> = drafts.iter().filter_map(|d| d.generation_params["kind"].as_str()).collect();
        // (Multiple choice needs more concepts used as nouns: see `distractors_fit_the_blank`.)
        for kind in ["cloze", "chunk_summary", "material_summary"] {
            assert!(kinds.contains(kind), "{kind} in {kinds:?}");
        }
        // Definitions become true/false items or definition cards; cards alone, all of them.
        let (_, cards) = generate_from("text/markdown", ARTICLE, &Options { quizzes: false, ..ALL });
        assert!(cards.iter().any(|d| d.generation_params["kind"] == "definition"), "definition cards");
        // Every section with prose gets an item.
        let sections: HashSet<&String> = ingested
            .chunks
            .iter()
            .filter(|c| c.chunk.kind != "table" && c.chunk.words >= SUBSTANTIVE_WORDS)
            .filter_map(|c| c.chunk.heading_path.get(1))
            .collect();
        let covered: HashSet<&String> =
            items(&drafts).filter_map(|d| chunk_of(&ingested, d).chunk.heading_path.get(1)).collect();
        assert_eq!(covered, sections);
        let material: Vec<&Draft> = drafts.iter().filter(|d| d.content_chunk_id.is_none()).collect();
        assert_eq!(material.len(), 1, "one material summary");
    }

    #[test]
    fn answers_stand_in_their_chunk_and_shapes_hold() {
        let (ingested, drafts) = drafts();
        for draft in &drafts {
            check_shape(draft.asset_type, &draft.content).unwrap_or_else(|e| panic!("{e}: {}", draft.content));
            assert!((flaws::READY..=1.0).contains(&draft.quality_score), "{}", draft.quality_score);
            assert!((1..=10).contains(&draft.difficulty_level));
            if draft.asset_type == AssetType::Summary {
                continue;
            }
            let chunk = &chunk_of(&ingested, draft).chunk.text;
            let sentence = draft.generation_params["sentence"].as_str().expect("a sentence");
            assert!(chunk.contains(sentence), "made from its chunk: {sentence}");
            match draft.generation_params["kind"].as_str() {
                Some("cloze") => {
                    let card: Flashcard = serde_json::from_value(draft.content.clone()).expect("a card");
                    assert!(grounded(&card.back, chunk), "answer in the chunk: {card:?}");
                    assert_eq!(card.front.replace(BLANK, &card.back), sentence);
                }
                Some("multiple_choice") => {
                    let quiz: Quiz = serde_json::from_value(draft.content.clone()).expect("a quiz");
                    let answer = &quiz.choices[quiz.answer_index];
                    assert!(grounded(answer, chunk), "answer in the chunk: {quiz:?}");
                    assert!(quiz.question.contains(BLANK));
                    assert_eq!(quiz.explanation, sentence);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn the_same_input_gives_the_same_assets_without_near_duplicates_or_siblings() {
        let (_, first) = drafts();
        let (_, second) = drafts();
        assert_eq!(first, second, "deterministic");
        let fronts: Vec<HashSet<String>> = items(&first)
            .map(|d| {
                let front = front(d);
                let claim = front.split_once('?').filter(|(_, s)| s.contains(BLANK)).map_or(front, |(_, s)| s);
                normalise(claim).split(' ').map(str::to_owned).collect()
            })
            .collect();
        for (i, a) in fronts.iter().enumerate() {
            for b in &fronts[i + 1..] {
                let overlap = a.intersection(b).count() as f64 / a.union(b).count() as f64;
                assert!(overlap < NEAR_DUPLICATE, "near duplicates: {a:?} / {b:?}");
            }
        }
        let facts: Vec<&str> = items(&first).map(|d| d.generation_params["fact"].as_str().expect("a fact")).collect();
        assert_eq!(facts.iter().collect::<HashSet<_>>().len(), facts.len(), "one item per fact");
        let fingerprints: HashSet<&str> =
            first.iter().filter_map(|d| d.generation_params["fingerprint"].as_str()).collect();
        assert_eq!(fingerprints.len(), first.len(), "every asset has its own fingerprint");
    }

    #[test]
    fn no_item_has_a_flaw_the_checker_would_find() {
        let (ingested, drafts) = drafts();
        // The material's prose, as the generator judges it.
        let prose = ingested.chunks.iter().filter(|c| !NON_PROSE_KINDS.contains(&c.chunk.kind));
        let checks = Checks::new(prose.map(|c| c.chunk.text.as_str()), Some("en"));
        for draft in items(&drafts) {
            let card: Option<Flashcard> = serde_json::from_value(draft.content.clone()).ok();
            let quiz: Option<Quiz> = serde_json::from_value(draft.content.clone()).ok();
            let content = card.as_ref().map(Content::Card).or(quiz.as_ref().map(Content::Quiz)).expect("an item");
            let chunk = chunk_of(&ingested, draft);
            let item = flaws::Item {
                content,
                source: draft.generation_params["sentence"].as_str(),
                chunk_kind: chunk.chunk.kind,
                headings: &chunk.chunk.heading_path,
                language: Some("en"),
            };
            assert_eq!(checks.check(&item), [], "{}", draft.content);
        }
    }

    /// A tutorial page with what made bad items before: code, program output, a table,
    /// listings, narration, dangling pronouns and a dominant term.
    const TUTORIAL: &str = "# Vectors\n\n\
        A vector is a growable list of values of one type that are stored next to each other in memory. \
        A slice is a view into a contiguous sequence of values owned by another collection. \
        Vectors are useful when you have a list of items, such as the lines of a file or the prices of items. \
        It has a length and a capacity that both change as values are pushed. \
        In Listing 8-1 we create a new, empty vector to hold values of type i32. \
        We'll look at how vectors store their values in the next section.\n\n\
        ```rust\nfn main() {\n    let v: Vec<i32> = Vec::new();\n    println!(\"{v:?}\");\n}\n```\n\n\
        ```console\n$ cargo run\n   Compiling vectors v0.1.0\n    Finished dev [unoptimized] target(s)\n[]\n```\n\n\
        | Method | Effect |\n|---|---|\n| push | adds a value at the end of the vector |\n| pop | removes the last value of the vector |\n\n\
        ## Reading elements\n\n\
        There are two ways to reference a value stored in a vector: via indexing or by using the get method. \
        The get method returns an Option that holds a reference to the element, or None when the index is past the end. \
        Indexing panics when the index is past the end, which stops the program at once. \
        A borrow checker is the part of the compiler that enforces the ownership and borrowing rules. \
        The borrow checker rejects a push onto a vector while a reference to one of its elements is still in use. \
        A reallocation is the move of the vector's elements to a new, larger place in memory when the old one is full.\n";

    #[test]
    fn code_output_tables_listings_narration_and_pronouns_give_no_item() {
        let (ingested, drafts) = generate_from("text/markdown", TUTORIAL, &ALL);
        assert!(items(&drafts).count() >= 3, "items are made from the prose: {drafts:#?}");
        for draft in items(&drafts) {
            let chunk = chunk_of(&ingested, draft);
            assert!(!NON_PROSE_KINDS.contains(&chunk.chunk.kind), "from {}: {}", chunk.chunk.kind, draft.content);
            let sentence = draft.generation_params["sentence"].as_str().expect("a sentence");
            for bad in ["It has", "Listing 8-1", "We'll", "println", "cargo", "push |"] {
                assert!(!sentence.contains(bad), "{bad}: {}", draft.content);
            }
            // "vector" is the dominant term: blanked only where a sentence defines it.
            if let Some(term) = draft.generation_params["term"].as_str() {
                assert!(!normalise(term).starts_with("vector") || sentence.starts_with(term), "{}", draft.content);
            }
        }
    }

    #[test]
    fn names_an_example_s_code_declares_are_no_concepts() {
        let text = "# Shirts\n\n\
            The Inventory struct holds the shirts that the company has in stock for the giveaway. \
            The giveaway method of the Inventory struct returns the colour a winner will get. \
            A closure is an anonymous function that can capture values from the scope in which it is defined. \
            The Inventory keeps a closure that the giveaway calls when a winner has no preference.\n\n\
            ```rust\nstruct Inventory {\n    shirts: Vec<ShirtColor>,\n}\nfn giveaway() {}\n```\n";
        let (_, drafts) = generate_from("text/markdown", text, &ALL);
        assert!(items(&drafts).count() > 0, "items are made: {drafts:#?}");
        let terms: Vec<&str> = items(&drafts).filter_map(|d| d.generation_params["term"].as_str()).collect();
        assert!(terms.iter().all(|t| !["inventory", "giveaway"].contains(&t.to_lowercase().as_str())), "{terms:?}");
    }

    #[test]
    fn a_contrast_or_an_example_gives_no_blank() {
        let text = "# Memory\n\n\
            The stack stores values in the order it gets them and removes them in the opposite order. \
            The heap is less organised, and the allocator finds a place in the heap for new data. \
            An allocator is the part of a program that finds free space for new data on the heap. \
            A string literal is kept on the stack rather than the heap because its size is known. \
            For example, the stack holds the arguments of a function while the function runs. \
            On the right is the memory on the heap that holds the contents of the string. \
            The translation was made by Jane Doe <jane@example.org> in 2009 for the heap project.\n";
        let (_, drafts) = generate_from("text/markdown", text, &ALL);
        assert!(items(&drafts).count() > 0, "items are made: {drafts:#?}");
        for draft in items(&drafts) {
            let sentence = draft.generation_params["sentence"].as_str().expect("a sentence");
            for bad in ["rather than", "For example", "On the right", "@"] {
                assert!(!sentence.contains(bad), "{bad}: {}", draft.content);
            }
        }
    }

    #[test]
    fn a_section_named_for_a_topic_is_asked_by_what_it_opens_with() {
        let page = "# Formatting conventions\n\nThe conventions say how source files are laid out.\n\n\
            ## Trailing whitespace\n\nNo line of a source file should end with trailing whitespace.\n";
        let (_, drafts) = generate_from("text/markdown", page, &Options { quizzes: false, ..ALL });
        let card = drafts.iter().find(|d| d.generation_params["kind"] == "section").expect("a section card");
        assert_eq!(front(card), "Formatting conventions: Trailing whitespace");
        assert_eq!(card.content["back"], "No line of a source file should end with trailing whitespace.");
        // A licence's numbered sections open their paragraphs with their titles.
        let licence = "TERMS AND CONDITIONS\n\n1. Definitions.\n\n\"Work\" shall mean the work of authorship made available under the License.\n\n\
            2. Grant of Copyright License. Subject to the terms of this License, each Contributor grants to You a copyright license to reproduce the Work.\n";
        let (_, drafts) = generate_from("text/plain", licence, &Options { quizzes: false, ..ALL });
        let card = drafts.iter().find(|d| d.generation_params["kind"] == "section").expect("a section card");
        assert_eq!(front(card), "Grant of Copyright License");
        assert!(card.content["back"].as_str().expect("a back").starts_with("Subject to the terms of this License"));
    }

    #[test]
    fn a_manual_page_opening_with_its_command_asks_what_it_does() {
        for (page, question) in [
            (
                "# GZIP(1)\n\n## DESCRIPTION\n\ngzip reduces the size of the named files using Lempel-Ziv coding.\n\n\
                 Whenever possible, each file is replaced by one with the extension .gz, keeping its ownership modes. \
                 Compressed files can be restored to their original form with the gunzip command or with gzip -d. \
                 The amount of compression depends on the size of the input and the distribution of its substrings.\n",
                "What does gzip do?",
            ),
            (
                "# FUSER(1)\n\n## DESCRIPTION\n\nfuser affiche les PID des processus utilisant les fichiers spécifiés.\n\n\
                 Dans le mode d'affichage par défaut, chaque nom de fichier est suivi d'une lettre. \
                 La lettre indique le type d'accès du processus au fichier ou au système de fichiers. \
                 Le code de retour est nul si au moins un des fichiers est utilisé par un processus.\n",
                "Que fait fuser ?",
            ),
        ] {
            let (_, drafts) = generate_from("text/markdown", page, &ALL);
            let card =
                items(&drafts).find(|d| front(d) == question).unwrap_or_else(|| panic!("{question} {drafts:#?}"));
            let opening = page
                .split("\n\n")
                .nth(2)
                .and_then(|p| p.split(". ").next())
                .map(|o| o.trim_end_matches('.'))
                .expect("the opening");
            assert_eq!(card.content["back"].as_str().map(|b| b.trim_end_matches('.')), Some(opening));
        }
        // A lower-case word no heading names opens no such card.
        let (_, drafts) = generate_from(
            "text/markdown",
            "# Compression\n\ncompression reduces the size of the named files using Lempel-Ziv coding.\n",
            &ALL,
        );
        assert!(!items(&drafts).any(|d| front(d).starts_with("What does compression")), "{drafts:#?}");
    }

    #[test]
    fn goals_become_how_to_cards_in_the_reader_s_words() {
        let stop = |language: &str| analyse::stop_words(Some(language));
        let how = |s: &str, language: &str| {
            let lang = Lang::of(Some(language)).expect("a template");
            how_to(s, lang, Some(language), &stop(language))
                .map(|d| (lang.definition_question(&d.subject, d.verb), d.predicate))
        };
        let card = |q: &str, a: &str| Some((q.to_owned(), a.to_owned()));
        assert_eq!(
            how("To define a struct, we enter the keyword struct and name the entire struct.", "en"),
            card("How do you define a struct?", "Enter the keyword struct and name the entire struct.")
        );
        assert_eq!(
            how("To use a struct after we’ve defined it, we can create an instance of that struct.", "en"),
            card("How do you use a struct after you’ve defined it?", "Create an instance of that struct.")
        );
        assert_eq!(
            how("To define a tuple struct, start with the struct keyword and the struct name.", "en"),
            card("How do you define a tuple struct?", "Start with the struct keyword and the struct name.")
        );
        assert_eq!(
            how("Pour installer un paquet, utilisez la commande install d'apt.", "fr"),
            card("Comment installer un paquet ?", "Utilisez la commande install d'apt.")
        );
        assert_eq!(
            how("Um ein Paket zu entfernen, verwenden Sie den Befehl remove.", "de"),
            card("Wie kann man ein Paket entfernen?", "Verwenden Sie den Befehl remove.")
        );
        for (no_goal, language) in [
            // The text's narration, another doer, a first step of several, a cut clause.
            ("To illustrate this, generate a new project called variables in your directory.", "en"),
            ("To determine how much space to allocate, Rust goes through each of the variants.", "en"),
            ("To add a key, you must first download it from the archive.", "en"),
            ("To fix this, we need to change the closure body.", "en"),
            // No verb after "To": an opinion's holder.
            ("To many people, polymorphism is synonymous with inheritance.", "en"),
            ("To set its value, we call the env::var function.", "en"),
            ("Pour ajouter une clé, vous devez d'abord la télécharger.", "fr"),
            ("Pour la télécharger, utilisez la commande apt-key.", "fr"),
            ("Um ein Paket zu rekonfigurieren, das bereits konfiguriert wurde, verwenden Sie dpkg-reconfigure.", "de"),
        ] {
            assert_eq!(how(no_goal, language), None, "{no_goal}");
        }
    }

    #[test]
    fn what_a_concept_lets_you_do_is_asked_and_negations_are_not() {
        let stop = analyse::stop_words(Some("en"));
        let purpose = |s: &str| {
            definition(s, Lang::En, Some("en"), &stop).map(|d| Lang::En.definition_question(&d.subject, d.verb))
        };
        assert_eq!(
            purpose("Vectors allow you to store more than one value in a single data structure."),
            Some("What do vectors let you do?".to_owned())
        );
        assert_eq!(
            purpose("The impl Trait syntax lets you concisely specify that a function returns some type."),
            Some("What does the impl Trait syntax let you do?".to_owned())
        );
        assert_eq!(
            purpose("A hash map is used to store values by a key of any type."),
            Some("What is a hash map used for?".to_owned())
        );
        assert_eq!(purpose("Rust doesn’t allow us to mark only certain fields as mutable."), None);
        assert_eq!(purpose("The compiler won’t let us use this closure with sort_by_key."), None);
        let fr = definition(
            "La commande apt-key permet de gérer la liste des clés utilisées par apt.",
            Lang::Fr,
            Some("fr"),
            &analyse::stop_words(Some("fr")),
        );
        assert_eq!(
            fr.map(|d| Lang::Fr.definition_question(&d.subject, d.verb)),
            Some("À quoi sert la commande apt-key ?".to_owned())
        );
    }

    #[test]
    fn a_claim_is_found_after_an_opening_connective_or_a_colon() {
        let claim = |s: &str| claim_within(s, Lang::En).map(Cow::into_owned);
        assert_eq!(
            claim("However, a null is a value that is currently invalid or absent for some reason."),
            Some("A null is a value that is currently invalid or absent for some reason.".to_owned())
        );
        assert_eq!(
            claim("The concept is still a useful one: A null is a value that is currently invalid."),
            Some("A null is a value that is currently invalid.".to_owned())
        );
        // After a colon, only a sentence opening with an article: lists are fragments.
        assert_eq!(claim("A closure can do three things: Move a captured value out of the closure."), None);
        assert_eq!(claim("Instead, we use the push method."), None);
        assert_eq!(claim_within("Allerdings ist das Paket defekt.", Lang::De), None);
    }

    #[test]
    fn a_manual_page_s_commands_and_options_become_cards() {
        let page = "COMMANDES\n       install\n           La commande install est suivie par un ou plusieurs paquets \
            à installer, et tous les paquets requis sont aussi récupérés et installés.\n\n\
            \x20      remove\n           La commande remove est identique à la commande install, mais les paquets \
            sont supprimés au lieu d'être installés sur le système.\n\n\
            OPTIONS\n       -d, --download-only\n           Récupération seule : les paquets sont récupérés \
            mais ne sont ni décompressés ni installés sur le système.\n\n\
            \x20      -s, --simulate\n           Simulation : les actions qui seraient faites sont affichées \
            mais rien ne change sur le système de paquets installé.\n";
        let (_, drafts) = generate_from("text/plain", page, &Options { quizzes: false, ..ALL });
        let cards: Vec<(&str, &str)> = items(&drafts)
            .filter_map(|d| Some((d.content["front"].as_str()?, d.content["back"].as_str()?)))
            .filter(|(front, _)| front.starts_with("Que fait"))
            .collect();
        for (front, back) in [
            ("Que fait install ?", "La commande install est suivie par"),
            ("Que fait l'option -d, --download-only ?", "Récupération seule : les paquets"),
        ] {
            assert!(cards.iter().any(|(f, b)| *f == front && b.starts_with(back)), "{front}: {cards:?}");
        }
    }

    #[test]
    fn entries_are_options_and_commands_their_descriptions_name() {
        let text = "install\n\nLa commande install installe des paquets.\n\n\
                    -d, --download-only\n\nRécupération seule.\n\n\
                    -v, --version\n\nAffiche la version.\n\n\
                    -L, --license\n\nAffiche la licence du programme.\n\n\
                    Exemples\n\nVoici trois exemples.\n\n\
                    clean\n\nVide le dépôt local.";
        let names: Vec<&str> = described_entries(text).into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["install", "-d, --download-only"]);
        // An option's card answers what it does, not what happens without it; a sentence
        // cut by an option's name is no description.
        let text = "--disable-automatic-update\n\nNormally, man will update its index databases. \
                    This flag suppresses this behaviour. Use it on read-only systems.\n\n\
                    --enable-cache-owner\n\nBy default, cache files are owned by user man. Use this\n\n\
                    --with-device=DEVICE\n\nto configure where DEVICE is the output format.";
        let answers: Vec<String> = described_entries(text).into_iter().map(|e| e.answer.into_owned()).collect();
        assert_eq!(answers, ["Normally, man will update its index databases. This flag suppresses this behaviour."]);
    }

    #[test]
    fn a_pair_a_label_line_or_the_material_s_language_gives_no_blank() {
        // A short chapter (one chunk) that mentions its language in many paragraphs.
        let text = "# Ownership\n\n\
            Ownership is a set of rules that govern how a program manages its memory.\n\n\
            ## Compiling\n\n\
            Rust checks the rules when it compiles a program, so that they cost nothing at run time.\n\n\
            Rust programmers soon learn to think about where their values are kept in memory.\n\n\
            Rust reports every broken rule with the line where the value was moved.\n\n\
            ## The stack and the heap\n\n\
            Both the stack and the heap are parts of memory available to your code at runtime.\n\n\
            Many programming languages never ask you to think about the stack or the heap at all.\n\n\
            ## The allocator\n\n\
            The allocator finds a free place in memory when a vector grows past its capacity.\n\n\
            A vector asks the allocator for a larger place and moves its values there.\n\n\
            0 Allocator : the part of a program that finds room in memory for values.\n";
        let (_, drafts) = generate_from("text/markdown", text, &ALL);
        assert!(items(&drafts).count() > 0, "items are made: {drafts:#?}");
        for draft in items(&drafts) {
            let sentence = draft.generation_params["sentence"].as_str().expect("a sentence");
            let term = draft.generation_params["term"].as_str().unwrap_or_default();
            assert_ne!(term, "Rust", "the language is the background: {}", draft.content);
            assert!(!sentence.contains("0 Success"), "a label line: {}", draft.content);
            assert!(
                !(sentence.contains("stack and the heap") && ["stack", "heap"].contains(&term)),
                "the pair gives the blank away: {}",
                draft.content
            );
        }
    }

    /// Parts of a cell its headings name, each used as a noun several times: what
    /// distractors are made of.
    const ORGANELLES: &str = "# Organelles\n\n\
        ## The nucleus, the ribosome and the mitochondrion\n\n\
        Proteins made by the ribosome are folded in the reticulum before they leave the cell. \
        The energy of the mitochondrion powers the pumps that sit in the membrane. \
        Signals that reach the membrane are passed to the nucleus through the cytoplasm. \
        Without the nucleus a cell cannot divide, and without the ribosome it cannot grow.\n\n\
        ## The membrane, the cytoplasm and the reticulum\n\n\
        A stain that binds to acids makes the nucleus the darkest part of most cells. \
        The ribosome is too small to be seen without an electron microscope. \
        The cytoplasm looks clear, although it is crowded with proteins and salts. \
        A healthy membrane keeps a dye out, while a damaged membrane lets it in. \
        The reticulum of a gland cell is larger than the reticulum of a muscle cell.\n";

    #[test]
    fn distractors_fit_the_blank() {
        let (_, drafts) = generate_from("text/markdown", ORGANELLES, &Options { flashcards: false, ..ALL });
        let quizzes: Vec<Quiz> = items(&drafts)
            .filter(|d| d.generation_params["kind"] == "multiple_choice")
            .map(|d| serde_json::from_value(d.content.clone()).expect("a quiz"))
            .collect();
        assert!(!quizzes.is_empty(), "{drafts:#?}");
        for quiz in &quizzes {
            let answer = &quiz.choices[quiz.answer_index];
            // Any noun phrase fits the blank: after a determiner, before a function word.
            assert!(noun_slot(&quiz.question), "{quiz:?}");
            let before = quiz.question.split(BLANK).next().unwrap_or_default().split_whitespace().next_back();
            for choice in &quiz.choices {
                // No choice shares a word with another: two could be right.
                let words = |c: &str| normalise(c).split(' ').map(str::to_owned).collect::<HashSet<_>>();
                assert!(choice == answer || words(choice).is_disjoint(&words(answer)), "{quiz:?}");
                assert_eq!(word_count(choice), word_count(answer), "{quiz:?}");
                assert_eq!(flaws::plural(choice), flaws::plural(answer), "{quiz:?}");
                if let Some(article @ ("a" | "an")) = before {
                    assert_eq!(flaws::starts_with_vowel_sound(choice), article == "an", "{quiz:?}");
                }
                let sentence = quiz.explanation.replace(answer.as_str(), "");
                assert!(choice == answer || !normalise(&sentence).contains(&normalise(choice)), "{quiz:?}");
            }
        }
    }

    #[test]
    fn definitions_are_asked_the_other_way_round_among_the_material_s_terms() {
        let glossary = "# Memory\n\n\
            A vector is a growable list of values of one type that are stored next to each other. \
            A slice is a view into a contiguous sequence of values owned by another collection. \
            A borrow checker is the part of the compiler that enforces the ownership and borrowing rules. \
            An allocator is the part of the runtime that finds free memory for new values on the heap.\n\n\
            A vector grows whenever more values are pushed than its capacity holds. \
            A slice never owns the values it lets a function read. \
            The borrow checker runs at compile time and costs nothing while the program runs. \
            The allocator hands out memory on the heap and takes it back when a value is dropped.\n";
        let (_, drafts) = generate_from("text/markdown", glossary, &Options { flashcards: false, ..ALL });
        let definitions = [
            ("vector", "a growable list of values of one type that are stored next to each other"),
            ("slice", "a view into a contiguous sequence of values owned by another collection"),
            ("borrow checker", "the part of the compiler that enforces the ownership and borrowing rules"),
            ("allocator", "the part of the runtime that finds free memory for new values on the heap"),
        ];
        let quizzes: Vec<Quiz> = items(&drafts)
            .filter(|d| d.generation_params["kind"] == "term_choice")
            .map(|d| serde_json::from_value(d.content.clone()).expect("a quiz"))
            .collect();
        assert!(!quizzes.is_empty(), "{drafts:#?}");
        for quiz in &quizzes {
            let (term, predicate) = definitions
                .iter()
                .find(|(_, p)| quiz.question == format!("Which term is {p}?"))
                .unwrap_or_else(|| panic!("a definition of the material: {quiz:?}"));
            assert_eq!(quiz.choices[quiz.answer_index], *term, "{quiz:?}");
            assert_eq!(quiz.choices.len(), 4);
            for choice in &quiz.choices {
                assert!(
                    choice == term || !predicate.contains(choice.as_str()),
                    "no choice named in the definition: {quiz:?}"
                );
                assert_eq!(flaws::plural(choice), flaws::plural(term), "{quiz:?}");
            }
            assert!(quiz.choices.iter().filter(|c| definitions.iter().any(|(t, _)| t == c)).count() >= 2, "{quiz:?}");
        }
    }

    #[test]
    fn definitions_are_found_and_vague_sentences_are_not() {
        let stop = |language| analyse::stop_words(Some(language));
        let en = |s: &str| definition(s, Lang::En, Some("en"), &stop("en")).map(|d| (d.subject, d.term, d.predicate));
        let (subject, term, _) = en("The cell is the basic unit of all known forms of life.").expect("a definition");
        assert_eq!((subject.as_str(), term.as_str()), ("the cell", "cell"));
        let called = definition("The study of cells is called cell biology.", Lang::En, None, &stop("en"))
            .expect("a definition");
        assert_eq!(called.verb, Verb::Called { plural: false });
        assert_eq!(called.predicate, "cell biology");
        for vague in [
            "It is a small compartment that holds the chemistry of life.",
            "Every living organism is made of one or more cells.",
            "Because the pointer is on the heap, the data is fast to move.",
            "Note that it is a pointer to the data on the heap.",
            "Rust is fast and safe for every kind of program.",
            "This approach is a good way to keep the data small.",
            // An example's name, a reason, a time, a negation, "here".
            "The variable s refers to a string literal that is hardcoded into the program.",
            "The Box<T> type is a smart pointer because it implements the Deref trait.",
            "Currently the only check is a comparison of the checksums of the files.",
            // A word standing for what came before.
            "The exception is the warnings group which ignores attribute and command line order.",
        ] {
            assert_eq!(en(vague), None, "{vague}");
        }
        for (vague, language) in [
            ("Faire confiance à une archive ne signifie pas que les paquets sont exempts de code malveillant.", "fr"),
            ("Archiv bedeutet hier die Werte nach a= in der Richtlinie.", "de"),
            ("Derzeit ist die einzige Prüfung eine Überprüfung der Dateiinhalte.", "de"),
        ] {
            let lang = Lang::of(Some(language)).expect("a template");
            assert!(definition(vague, lang, Some(language), &stop(language)).is_none(), "{vague}");
        }
        let fr = definition(
            "La cellule est une unité de base de tous les êtres vivants.",
            Lang::Fr,
            Some("fr"),
            &stop("fr"),
        );
        assert_eq!(fr.map(|d| d.subject), Some("la cellule".to_owned()));
        let de = definition("Die Zelle ist die kleinste Einheit aller Lebewesen.", Lang::De, Some("de"), &stop("de"));
        assert_eq!(de.map(|d| d.subject), Some("die Zelle".to_owned()));
    }

    #[test]
    fn a_quoted_term_is_one_the_material_defines() {
        let stop = analyse::stop_words(Some("en"));
        let ask = |s: &str| {
            let d = definition(s, Lang::En, Some("en"), &stop).unwrap_or_else(|| panic!("no definition: {s}"));
            (Lang::En.definition_question(&d.subject, d.verb), d.term)
        };
        let cases = [
            (
                r#"An "entity transaction" is a transaction transferring control of an organization."#,
                ("What is an entity transaction?", "entity transaction"),
            ),
            (
                r#"To "propagate" a work means to do anything with it that needs permission."#,
                ("What does it mean to propagate a work?", "propagate"),
            ),
            (
                r#""Installation Information" for a User Product means any methods required to install it."#,
                ("What is meant by Installation Information for a User Product?", "Installation Information"),
            ),
            (r#""Object code" means any non-source form of a work."#, ("What is meant by object code?", "Object code")),
        ];
        for (sentence, (question, term)) in cases {
            assert_eq!(ask(sentence), (question.to_owned(), term.to_owned()), "{sentence}");
            assert!(stands_alone(sentence, Some(Lang::En)), "{sentence}");
        }
        let quotation = r#"The licence says: "You may convey verbatim copies of the source code as you receive it.""#;
        assert!(!stands_alone(quotation, Some(Lang::En)));
        assert!(!stands_alone("Acceptance Not Required for Having Copies.", Some(Lang::En)));
    }

    const FRENCH: &str = include_str!("../../tests/data/cellule.md");

    #[test]
    fn items_are_written_in_the_material_s_language() {
        let (_, drafts) = generate_from("text/markdown", FRENCH, &ALL);
        let made: Vec<&Draft> = items(&drafts).collect();
        assert!(made.len() >= 3, "{drafts:#?}");
        for draft in &made {
            let front = front(draft);
            for english in ["Which", "What", "True", "False", "The material says"] {
                assert!(!draft.content.to_string().contains(english), "{english} in {}", draft.content);
            }
            match draft.generation_params["kind"].as_str() {
                Some("multiple_choice") => assert!(front.starts_with("Quel terme complète la phrase ?"), "{front}"),
                Some("term_choice") => assert!(front.starts_with("Quel terme est défini ainsi : « "), "{front}"),
                Some("definition") => assert!(front.starts_with("Qu"), "{front}"),
                _ => {}
            }
        }
        assert!(made.iter().any(|d| d.generation_params["kind"] == "definition"), "French definitions");
        assert!(!made.iter().any(|d| d.generation_params["kind"] == "cloze"), "no French cloze cards");
    }

    #[test]
    fn without_templates_only_cloze_cards_are_made() {
        let italian = "# La cellula\n\n\
            La cellula è l'unità fondamentale di tutti gli organismi viventi conosciuti sulla Terra. \
            Il nucleo contiene il materiale genetico della cellula ed è circondato da una doppia membrana. \
            I mitocondri producono l'energia di cui la cellula ha bisogno per vivere e dividersi. \
            I ribosomi costruiscono le proteine seguendo le istruzioni portate dall'RNA messaggero della cellula. \
            La membrana plasmatica separa l'interno della cellula dall'ambiente esterno che la circonda. \
            I cloroplasti catturano la luce del sole per produrre zuccheri nelle cellule delle piante.\n";
        let (ingested, drafts) = generate_from("text/markdown", italian, &ALL);
        assert_eq!(ingested.language.as_deref(), Some("it"));
        for draft in items(&drafts) {
            assert_eq!(draft.generation_params["kind"], "cloze", "{}", draft.content);
        }
    }

    #[test]
    fn volume_follows_the_length_of_the_prose() {
        let (ingested, drafts) = drafts();
        let prose = ingested.chunks.iter().filter(|c| !NON_PROSE_KINDS.contains(&c.chunk.kind));
        let words: usize = prose.map(|c| text::word_count(&c.chunk.text)).sum();
        let made = items(&drafts).count();
        assert!(made <= (words * ITEMS_PER_1000_WORDS).div_ceil(1000), "{made} items for {words} words");
    }

    #[test]
    fn terms_are_whole_words_of_prose_and_phrases_end_in_a_noun() {
        assert_eq!(find_words("When File::open succeeds, we read.", "open succeeds"), None, "inside a code token");
        assert_eq!(find_words("It calls read_to_string here.", "string"), None);
        assert!(find_words("The file handle (a struct) is open.", "file handle").is_some());
        assert!(find_words("We read the file handle.", "file handle").is_some());
        let text = "A function returns a value. The value is returned. The code prints. Printing is slow. \
                    The trait bounds hold. The open failed twice.";
        let terms = ["function returns", "code prints", "trait bounds", "open failed"].map(str::to_owned);
        let stats = TermStats::gather(text, terms.iter(), &analyse::stop_words(Some("en")));
        assert!(stats.ends_in_a_verb("function returns"));
        assert!(stats.ends_in_a_verb("code prints"));
        assert!(stats.ends_in_a_verb("open failed"));
        assert!(!stats.ends_in_a_verb("trait bounds"));
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
        // It opens with what the material is about, as the material says first.
        let first = ingested
            .chunks
            .iter()
            .filter(|c| c.chunk.kind != "table")
            .find_map(|c| analyse::prose_sentences(&c.chunk.text).into_iter().find(|s| is_proposition(s)));
        assert_eq!(points.first().copied(), first, "{points:?}");
        // A manual page's option descriptions, another language's passage and a sentence
        // an opening connective ties to the one before give none.
        let page = "# Compressing files\n\ngzip reduces the size of the named files using Lempel-Ziv coding.\n\n\
            -k, --keep\n\nKeep input files during compression or decompression.\n\n\
            In other words, gzip replaces every file it compresses by one with a longer name.\n\n\
            La commande gzip remplace chaque fichier par un fichier compressé du même nom.\n\n\
            Compressed files can be restored to their original form with the gunzip command.\n";
        let (_, drafts) = generate_from("text/markdown", page, &ALL);
        let summary = drafts.iter().find(|d| d.content_chunk_id.is_none()).expect("a material summary");
        assert_eq!(
            summary.content["key_points"],
            json!([
                "gzip reduces the size of the named files using Lempel-Ziv coding.",
                "Compressed files can be restored to their original form with the gunzip command."
            ])
        );
        assert!(!is_proposition("HISTORY OF CELL THEORY IN THE NINETEENTH CENTURY."));
        assert!(!is_proposition("let x = vec![1, 2, 3]; println!(\"{x:?}\");."));
        assert!(!is_proposition("What does a cell membrane do for the cell?"));
        assert!(!is_proposition("Cells divide."));
    }
}
