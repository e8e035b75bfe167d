//! Analysis: language, terms, summaries, relevance, difficulty and key terms.

use std::collections::HashMap;

use yake_rust::StopWords;

use super::text;

pub const READING_WORDS_PER_MINUTE: usize = 200;
/// Fewer words than this are too few to tell a chunk's own language.
const LANGUAGE_MIN_WORDS: usize = 30;
/// Characters of a chunk its language is told from.
const CHUNK_LANGUAGE_SAMPLE_CHARS: usize = 400;
const KEY_TERMS: usize = 8;
/// Key terms are found in the first this many characters (YAKE grows with the text).
const KEY_TERMS_SAMPLE_CHARS: usize = 100_000;

/// The ISO 639-1 code of the text's language, when it can be told.
pub fn language(text: &str) -> Option<String> {
    let sample: String = text.chars().take(20_000).collect();
    let info = whatlang::detect(&sample)?;
    isolang::Language::from_639_3(info.lang().code()).and_then(|l| l.to_639_1()).map(str::to_owned)
}

/// A chunk's own language when it is long enough and reliably told, else the material's.
pub fn chunk_language(text: &str, material: Option<&str>) -> Option<String> {
    // The first few hundred characters tell a language as well as the whole chunk does,
    // at a fraction of the cost (detection was the pipeline's largest single cost).
    let sample: String = text.chars().take(CHUNK_LANGUAGE_SAMPLE_CHARS).collect();
    if text::word_count(&sample) >= LANGUAGE_MIN_WORDS
        && let Some(info) = whatlang::detect(&sample)
        && info.is_reliable()
    {
        return isolang::Language::from_639_3(info.lang().code()).and_then(|l| l.to_639_1()).map(str::to_owned);
    }
    material.map(str::to_owned)
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

/// The cosine similarity of two term vectors, in [0, 1].
pub fn cosine(a: &HashMap<String, f64>, b: &HashMap<String, f64>) -> f64 {
    let dot: f64 = a.iter().filter_map(|(term, x)| b.get(term).map(|y| x * y)).sum();
    let norm = |v: &HashMap<String, f64>| v.values().map(|x| x * x).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 { 0.0 } else { (dot / (na * nb)).clamp(0.0, 1.0) }
}

/// The sentences of `text` worth summarising from: those ending like sentences, of four
/// words or more (headings, list labels and table rows are no sentences), or, when a
/// text has none, all of them.
pub fn prose_sentences(text: &str) -> Vec<&str> {
    let all = text::sentences(text);
    let prose: Vec<&str> = all
        .iter()
        .copied()
        .filter(|s| s.ends_with(['.', '!', '?', '。', '！', '？']) && text::word_count(s) >= 4)
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

/// An extractive summary: the chunk's most central sentences by TextRank, in their
/// original order, about a third of the chunk and at least one sentence.
pub fn summary(text: &str, stop_words: &StopWords) -> String {
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
    fn summaries_leave_headings_out() {
        let stop = stop_words(Some("en"));
        let text = format!("Cell theory\n\n{CELLS}");
        assert!(!summary(&text, &stop).contains("Cell theory"));
        assert_eq!(summary("Feature | Value", &stop), "Feature | Value", "a chunk of no sentences keeps its text");
    }

    #[test]
    fn summaries_are_sentences_of_the_text() {
        let stop = stop_words(Some("en"));
        let summary = summary(CELLS, &stop);
        assert!(!summary.is_empty());
        for sentence in text::sentences(&summary) {
            assert!(CELLS.contains(sentence), "extractive: {sentence}");
        }
        assert!(text::word_count(&summary) < text::word_count(CELLS));
    }

    #[test]
    fn relevance_is_similarity_to_the_whole() {
        let stop = stop_words(Some("en"));
        let whole = terms(CELLS, &stop);
        let on_topic = cosine(&terms("Every cell has a membrane and cytoplasm.", &stop), &whole);
        let off_topic = cosine(&terms("Stock markets rallied after the announcement.", &stop), &whole);
        assert!(on_topic > off_topic && (0.0..=1.0).contains(&on_topic), "{on_topic} vs {off_topic}");
        assert_eq!(off_topic, 0.0);
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
