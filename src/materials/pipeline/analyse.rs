//! Analysis: language, terms, summaries, relevance, difficulty and key terms.

use std::collections::{BTreeMap, HashMap};

use yake_rust::StopWords;

use super::text;

pub const READING_WORDS_PER_MINUTE: usize = 200;
/// Fewer words than this are too few to tell a sample's language.
const LANGUAGE_MIN_WORDS: usize = 20;
/// Bytes (about characters) in each sample of a chunk its language is told from.
const LANGUAGE_SAMPLE_CHARS: usize = 300;
const KEY_TERMS: usize = 8;
/// Key terms are found in the first this many characters (YAKE grows with the text).
const KEY_TERMS_SAMPLE_CHARS: usize = 100_000;

/// The ISO 639-1 code of the text's language, when it can be told.
pub fn language(text: &str) -> Option<String> {
    let sample: String = text.chars().take(20_000).collect();
    let info = whatlang::detect(&sample)?;
    isolang::Language::from_639_3(info.lang().code()).and_then(|l| l.to_639_1()).map(str::to_owned)
}

/// A chunk's language by the majority of a few samples across it (start, middle, end),
/// and a secondary language when a sample reliably reads as another one; the material's
/// language when no sample can tell. When every sample reads as the material's language
/// by its stop words (the usual case), only the first is given to the detector: telling
/// a language is the pipeline's largest single cost.
pub fn chunk_language(text: &str, material: Option<&str>, stop_words: &StopWords) -> (Option<String>, Option<String>) {
    let samples = language_samples(text);
    let usual = material.is_some() && samples.len() > 1 && samples.iter().all(|s| mostly_stop_words(s, stop_words));
    let told = samples.iter().take(if usual { 1 } else { samples.len() }).filter_map(|s| sample_language(s));
    // Languages by how many samples read as them, ties to the earlier sample.
    let mut votes: Vec<(String, usize)> = Vec::new();
    for language in told {
        match votes.iter_mut().find(|(l, _)| *l == language) {
            Some((_, n)) => *n += 1,
            None => votes.push((language, 1)),
        }
    }
    votes.sort_by_key(|(_, n)| std::cmp::Reverse(*n)); // stable: ties keep sample order
    let mut votes = votes.into_iter().map(|(language, _)| language);
    match votes.next() {
        Some(primary) => (Some(primary), votes.next()),
        None => (material.map(str::to_owned), None),
    }
}

/// Up to three windows of about [`LANGUAGE_SAMPLE_CHARS`]: the start, the middle and the
/// end of `text` (one window when the text is shorter than three).
fn language_samples(text: &str) -> Vec<&str> {
    let boundary = |mut at: usize| {
        while !text.is_char_boundary(at) {
            at += 1;
        }
        at
    };
    let window = |from: usize| &text[boundary(from)..boundary((from + LANGUAGE_SAMPLE_CHARS).min(text.len()))];
    if text.len() < 3 * LANGUAGE_SAMPLE_CHARS {
        return vec![window(0)];
    }
    vec![window(0), window(text.len() / 2 - LANGUAGE_SAMPLE_CHARS / 2), window(text.len() - LANGUAGE_SAMPLE_CHARS)]
}

/// Whether a quarter or more of the sample's words are in the stop list: prose in that
/// list's language (prose in another has far fewer).
fn mostly_stop_words(sample: &str, stop_words: &StopWords) -> bool {
    let (mut words, mut stop) = (0, 0);
    for word in unicode_segmentation::UnicodeSegmentation::unicode_words(sample) {
        words += 1;
        stop += usize::from(stop_words.contains(&word.to_lowercase()));
    }
    words > 0 && stop * 4 >= words
}

/// The sample's language, when it has enough words and the detector is sure.
fn sample_language(sample: &str) -> Option<String> {
    if text::word_count(sample) < LANGUAGE_MIN_WORDS {
        return None;
    }
    let info = whatlang::detect(sample).filter(whatlang::Info::is_reliable)?;
    isolang::Language::from_639_3(info.lang().code()).and_then(|l| l.to_639_1()).map(str::to_owned)
}

/// The stop words of a language (ISO 639-1), or none.
pub fn stop_words(language: Option<&str>) -> StopWords {
    // YAKE's lists are named by two letters, with Czech as "cz".
    let code = match language {
        Some("cs") => "cz",
        Some(code) => code,
        None => "en",
    };
    StopWords::predefined(code).unwrap_or_else(|| StopWords::custom(Default::default()))
}

/// Term frequencies: lower-cased words of 3 or more letters, stop words and numbers left out.
pub fn terms(text: &str, stop_words: &StopWords) -> HashMap<String, f64> {
    let mut counts = HashMap::new();
    for word in unicode_segmentation::UnicodeSegmentation::unicode_words(text) {
        if word.chars().count() < 3 || word.chars().all(|c| c.is_numeric()) {
            continue;
        }
        let word = word.to_lowercase();
        if !stop_words.contains(&word) {
            *counts.entry(word).or_insert(0.0) += 1.0;
        }
    }
    counts
}

/// Chunks sharing a term with more than this many others get no edge from it: such terms
/// say little about a chunk, and skipping them keeps the graph linear in the chunks.
const RELEVANCE_MAX_POSTINGS: usize = 50;
/// Neighbours a chunk keeps in the similarity graph, the most similar.
const RELEVANCE_NEIGHBOURS: usize = 10;
/// Chunks less similar than this (cosine of TF-IDF vectors) are not neighbours.
const RELEVANCE_MIN_SIMILARITY: f64 = 0.05;
/// Code, program output and tables keep this share of their centrality.
const RELEVANCE_NON_PROSE: f64 = 0.25;

/// Each chunk's importance in the material, in [0, 1] (the most central chunk has 1):
/// its centrality (PageRank, as LexRank does for sentences) in a graph whose edges join
/// chunks that share terms, weighted by TF-IDF cosine similarity. A chunk that many
/// others are about (an introduction that defines the subject) ranks high; one that
/// merely repeats the material's frequent words does not. Code, output and tables
/// (`kinds`) are penalised. `terms` are the chunks' term frequencies, in order.
pub fn relevance(kinds: &[&str], terms: &[HashMap<String, f64>]) -> Vec<f64> {
    let n = terms.len();
    // Postings: for each term, the chunks holding it and how often. In the terms' order,
    // so that every sum below adds in the same order and a material ranks the same on
    // every run (a hash map's order differs, and with it the last bits of the sums).
    let mut postings: BTreeMap<&str, Vec<(usize, f64)>> = BTreeMap::new();
    for (chunk, bag) in terms.iter().enumerate() {
        for (term, count) in bag {
            postings.entry(term.as_str()).or_default().push((chunk, *count));
        }
    }
    let idf = |df: usize| (n as f64 / df as f64).ln() + 1.0;
    // TF-IDF weights of the terms that make edges, chunk by chunk.
    let mut vectors: Vec<Vec<(&str, f64)>> = vec![Vec::new(); n];
    for (term, holders) in &postings {
        if holders.len() > 1 && holders.len() <= RELEVANCE_MAX_POSTINGS {
            for (chunk, count) in holders {
                vectors[*chunk].push((*term, count * idf(holders.len())));
            }
        }
    }
    let norms: Vec<f64> = vectors.iter().map(|v| v.iter().map(|(_, w)| w * w).sum::<f64>().sqrt()).collect();
    // Each chunk's nearest neighbours, dot products gathered through the postings.
    let mut dots = vec![0.0; n];
    let mut touched = Vec::new();
    let mut edges: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for i in 0..n {
        for (term, weight) in &vectors[i] {
            let holders = &postings[term];
            let idf = idf(holders.len());
            for &(j, count) in holders {
                if j != i {
                    if dots[j] == 0.0 {
                        touched.push(j);
                    }
                    dots[j] += weight * count * idf;
                }
            }
        }
        let mut near: Vec<(usize, f64)> = touched
            .drain(..)
            .map(|j| (j, std::mem::take(&mut dots[j]) / (norms[i] * norms[j])))
            .filter(|(_, similarity)| *similarity >= RELEVANCE_MIN_SIMILARITY)
            .collect();
        near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        near.truncate(RELEVANCE_NEIGHBOURS);
        edges[i] = near;
    }
    // PageRank over the weighted graph; a chunk with no neighbours spreads its rank evenly.
    let out_weight: Vec<f64> = edges.iter().map(|e| e.iter().map(|(_, w)| w).sum()).collect();
    let mut rank = vec![1.0 / n as f64; n];
    for _ in 0..20 {
        let dangling: f64 = (0..n).filter(|&i| out_weight[i] == 0.0).map(|i| rank[i]).sum();
        let mut next = vec![(0.15 + 0.85 * dangling) / n as f64; n];
        for (i, near) in edges.iter().enumerate() {
            for &(j, weight) in near {
                next[j] += 0.85 * rank[i] * weight / out_weight[i];
            }
        }
        rank = next;
    }
    for (score, kind) in rank.iter_mut().zip(kinds) {
        if matches!(*kind, "code" | "output" | "table") {
            *score *= RELEVANCE_NON_PROSE;
        }
    }
    let top = rank.iter().copied().fold(0.0, f64::max);
    rank.into_iter().map(|score| if top > 0.0 { score / top } else { 0.0 }).collect()
}

/// The sentences of `text` worth summarising from: those ending like sentences and list
/// items (without their marker), of four words or more (headings, list labels and table
/// rows are no sentences), or, when a text has none, all of them.
pub fn prose_sentences(text: &str) -> Vec<&str> {
    let all = text::sentences(text);
    let prose: Vec<&str> = all
        .iter()
        .filter_map(|s| match text::list_marker(s) {
            Some(marker) => Some(&s[marker..]),
            None => s.ends_with(['.', '!', '?', '。', '！', '？']).then_some(*s),
        })
        .filter(|s| text::word_count(s) >= 4)
        .collect();
    if prose.is_empty() { all } else { prose }
}

/// TextRank over `sentences`: a sentence is central when it shares terms with many
/// others. Returns each sentence's index, most central first (ties in text order).
pub fn rank_sentences(sentences: &[&str], stop_words: &StopWords) -> Vec<usize> {
    let n = sentences.len();
    let bags: Vec<HashMap<String, f64>> = sentences.iter().map(|s| terms(s, stop_words)).collect();
    let mut weights = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in (i + 1)..n {
            let shared = bags[i].keys().filter(|t| bags[j].contains_key(*t)).count() as f64;
            let scale = (bags[i].len() as f64 + 1.0).ln() + (bags[j].len() as f64 + 1.0).ln();
            if shared > 0.0 && scale > 0.0 {
                weights[i][j] = shared / scale;
                weights[j][i] = shared / scale;
            }
        }
    }
    let out_weight: Vec<f64> = weights.iter().map(|row| row.iter().sum()).collect();
    let mut rank = vec![1.0; n];
    for _ in 0..30 {
        rank = (0..n)
            .map(|i| {
                let incoming: f64 =
                    (0..n).filter(|&j| out_weight[j] > 0.0).map(|j| weights[j][i] / out_weight[j] * rank[j]).sum();
                0.15 + 0.85 * incoming
            })
            .collect();
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| rank[b].total_cmp(&rank[a]).then(a.cmp(&b)));
    order
}

/// An extractive summary of a chunk of `kind`: its most central sentences by TextRank,
/// in their original order, about a third of the chunk and at least one sentence. Code,
/// program output and tables have none (empty): their lines are no prose to summarise.
pub fn summary(kind: &str, text: &str, stop_words: &StopWords) -> String {
    if matches!(kind, "code" | "output" | "table") {
        return String::new();
    }
    let sentences = prose_sentences(text);
    if sentences.len() <= 2 {
        return sentences.first().map(|s| (*s).to_owned()).unwrap_or_default();
    }
    let budget = (text::word_count(text) / 3).max(25);
    let mut chosen = Vec::new();
    let mut words = 0;
    for index in rank_sentences(&sentences, stop_words) {
        let sentence_words = text::word_count(sentences[index]);
        if !chosen.is_empty() && words + sentence_words > budget {
            continue;
        }
        chosen.push(index);
        words += sentence_words;
    }
    chosen.sort_unstable();
    chosen.iter().map(|&i| sentences[i]).collect::<Vec<_>>().join(" ")
}

/// beginner, intermediate or advanced, from the Flesch reading ease (60 and up is plain
/// English, below 30 is academic).
pub fn difficulty(text: &str) -> &'static str {
    let ease = textstat::flesch_reading_ease(text);
    if ease >= 60.0 {
        "beginner"
    } else if ease >= 30.0 {
        "intermediate"
    } else {
        "advanced"
    }
}

/// The material's key terms (YAKE), most significant first.
pub fn key_terms(text: &str, stop_words: &StopWords) -> Vec<String> {
    let sample: String = text.chars().take(KEY_TERMS_SAMPLE_CHARS).collect();
    let mut seen = Vec::new();
    for item in yake_rust::get_n_best(KEY_TERMS * 2, &sample, stop_words, &yake_rust::Config::default()) {
        let term = item.keyword.to_lowercase();
        if term.chars().count() <= 50 && !seen.contains(&term) {
            seen.push(term);
        }
        if seen.len() == KEY_TERMS {
            break;
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    const CELLS: &str = "The cell is the basic structural and functional unit of all forms of life. \
        Every cell consists of cytoplasm enclosed within a membrane. Many cells contain organelles, \
        each with a specific function. The term comes from the Latin word cellula, meaning small room. \
        Most cells are only visible under a microscope. Cells emerged on Earth about four billion years ago.";

    #[test]
    fn english_is_told_and_terms_leave_stop_words_out() {
        assert_eq!(language(CELLS).as_deref(), Some("en"));
        assert_eq!(
            language("Die Zelle ist die kleinste lebende Einheit aller Organismen und besteht aus Zytoplasma.")
                .as_deref(),
            Some("de")
        );
        let stop = stop_words(Some("en"));
        let bag = terms(CELLS, &stop);
        assert_eq!(bag.get("cell"), Some(&2.0));
        assert!(!bag.contains_key("the") && !bag.contains_key("four"), "stop words are left out");
    }

    #[test]
    fn a_mixed_chunk_is_labelled_by_its_majority_with_a_secondary_language() {
        let german = "Die Zelle ist die kleinste lebende Einheit aller Organismen. Jede Zelle besteht aus \
            Zytoplasma, das von einer Membran umgeben ist, und viele Zellen enthalten Organellen mit einer \
            eigenen Aufgabe. Das Wort kommt aus dem Lateinischen und bedeutet kleine Kammer. Die meisten \
            Zellen sind nur unter dem Mikroskop zu sehen, und sie sind vor etwa vier Milliarden Jahren auf \
            der Erde entstanden. Pflanzen und Tiere bestehen aus vielen Zellen, Bakterien aus einer einzigen. \
            Im Inneren der Zelle liegt bei Tieren und Pflanzen ein Zellkern, der das Erbgut enthält und die \
            Teilung der Zelle steuert. Wenn sich eine Zelle teilt, entstehen zwei Tochterzellen.";
        let english = "The cell is the basic structural and functional unit of all forms of life, and \
            every cell consists of cytoplasm enclosed within a membrane that keeps it apart from the world. \
            Most cells are only visible under a microscope, and they first appeared on the Earth about four \
            billion years ago, long before any plant or animal existed.";
        let mixed = format!("{german} {english}");
        assert!(german.len().abs_diff(2 * english.len()) < 60 && english.len() > LANGUAGE_SAMPLE_CHARS, "2/3 and 1/3");
        let expected = (Some("de".to_owned()), Some("en".to_owned()));
        assert_eq!(chunk_language(&mixed, Some("de"), &stop_words(Some("de"))), expected);
        assert_eq!(chunk_language(&mixed, Some("en"), &stop_words(Some("en"))), expected);
        let plain = format!("{german} {german}");
        assert_eq!(chunk_language(&plain, Some("de"), &stop_words(Some("de"))), (Some("de".to_owned()), None));
        assert_eq!(chunk_language("Zu kurz.", Some("fr"), &stop_words(Some("fr"))), (Some("fr".to_owned()), None));
    }

    #[test]
    fn summaries_leave_headings_out() {
        let stop = stop_words(Some("en"));
        let text = format!("Cell theory\n\n{CELLS}");
        assert!(!summary("section", &text, &stop).contains("Cell theory"));
        assert_eq!(
            summary("paragraph", "Feature | Value", &stop),
            "Feature | Value",
            "a chunk of no sentences keeps its text"
        );
    }

    #[test]
    fn list_items_without_periods_are_sentences() {
        let list = "Key facts\n\n- cells are the basic unit of life\n- every cell comes from another cell\n- membranes enclose every cell";
        assert_eq!(
            prose_sentences(list),
            ["cells are the basic unit of life", "every cell comes from another cell", "membranes enclose every cell"]
        );
    }

    #[test]
    fn summaries_are_sentences_of_the_text() {
        let stop = stop_words(Some("en"));
        let summary = summary("paragraph", CELLS, &stop);
        assert_eq!(super::summary("code", CELLS, &stop), "", "code has no prose summary");
        assert!(!summary.is_empty());
        for sentence in text::sentences(&summary) {
            assert!(CELLS.contains(sentence), "extractive: {sentence}");
        }
        assert!(text::word_count(&summary) < text::word_count(CELLS));
    }

    #[test]
    fn relevance_favours_the_chunk_the_others_are_about() {
        let stop = stop_words(Some("en"));
        let texts = [
            "The cell is the basic unit of life: a membrane encloses its cytoplasm, and its nucleus holds DNA.",
            "Every membrane is a lipid bilayer that lets some molecules into the cytoplasm and keeps others out.",
            "The nucleus stores DNA, which the cell copies before it divides into two daughter cells.",
            "Ribosomes in the cytoplasm read copies of DNA to build the proteins every cell needs.",
            "output output output output result result result result value value value value",
            "Stock markets rallied after the announcement of lower interest rates.",
        ];
        let kinds = ["paragraph", "paragraph", "paragraph", "paragraph", "code", "paragraph"];
        let bags: Vec<HashMap<String, f64>> = texts.iter().map(|t| terms(t, &stop)).collect();
        let scores = relevance(&kinds, &bags);
        assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)), "{scores:?}");
        assert_eq!(scores[0], 1.0, "the introduction that defines the subject: {scores:?}");
        assert!(scores[4] < scores[1] && scores[5] < scores[1], "repetition and off-topic rank low: {scores:?}");
        assert_eq!(relevance(&["paragraph"], &bags[..1]), [1.0]);
    }

    #[test]
    fn plain_prose_is_easier_than_academic_prose() {
        assert_eq!(difficulty("The cat sat on the mat. It was a good day. We had fun."), "beginner");
        let academic = "Intracellular compartmentalization necessitates sophisticated transmembrane \
            transportation mechanisms facilitating macromolecular translocation across phospholipid bilayers.";
        assert_eq!(difficulty(academic), "advanced");
    }

    #[test]
    fn key_terms_come_from_the_text() {
        let terms = key_terms(CELLS, &stop_words(Some("en")));
        assert!(!terms.is_empty() && terms.len() <= KEY_TERMS);
        assert!(terms.iter().any(|t| t.contains("cell")), "{terms:?}");
    }
}
