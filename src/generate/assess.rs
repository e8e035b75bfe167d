//! What every generator's drafts are judged by, whoever wrote them: near duplicates,
//! fingerprints, difficulty and length.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::flaws::BLANK;
use super::normalise;
use crate::materials::pipeline::text;
use crate::states::AssetType;

/// Two cards whose fronts share this share of their words are near duplicates.
pub const NEAR_DUPLICATE: f64 = 0.8;

/// The fronts (questions) admitted so far, indexed so that a near duplicate is found
/// without comparing a new front with every other.
#[derive(Default)]
pub struct Fronts {
    /// Each front's words, its answer's words (for a question) and its asset type.
    fronts: Vec<(HashSet<String>, HashSet<String>, AssetType)>,
    /// Each front's fingerprint: the same question twice is a repeat whatever its answer.
    fingerprints: HashSet<String>,
    /// For each word, the fronts that have it.
    postings: HashMap<String, Vec<usize>>,
}

/// A front admitted: its fingerprint, and whether it nearly repeats a front of another
/// asset type (a quiz item re-asking a card's sentence).
pub struct Admitted {
    pub fingerprint: String,
    pub repeats_other_type: bool,
}

impl Fronts {
    /// Admits `front` (answered by `answer`) unless it nearly repeats a front of the
    /// same asset type admitted before. A sentence-completion question is compared by its
    /// sentence (after the "Which term completes the sentence?" that opens it), so that
    /// it meets the cloze card of the same sentence. Two questions of a type that nearly
    /// share their words are told apart by their answers: "How do you define a struct?"
    /// and "How do you define a tuple struct?" ask different things. The same question
    /// twice is a repeat whatever its answer.
    pub fn admit(&mut self, asset_type: AssetType, front: &str, answer: &str) -> Option<Admitted> {
        let claim = match front.split_once('?') {
            Some((_, sentence)) if sentence.contains(BLANK) => sentence,
            _ => front,
        };
        let fingerprint = fingerprint(asset_type, front);
        if self.fingerprints.contains(&fingerprint) {
            return None;
        }
        let words: HashSet<String> = normalise(claim).split(' ').map(str::to_owned).collect();
        let answer_words: HashSet<String> = match front.contains(BLANK) {
            true => HashSet::new(),
            false => normalise(answer).split(' ').map(str::to_owned).collect(),
        };
        let near = |a: &HashSet<String>, b: &HashSet<String>| {
            a.intersection(b).count() as f64 / a.union(b).count().max(1) as f64 >= NEAR_DUPLICATE
        };
        // A near duplicate shares at least 80% of these words, so it has at least one of
        // any floor(20%) + 1 of them: the rarest such words give every candidate.
        let mut rarest: Vec<&String> = words.iter().collect();
        rarest.sort_by_key(|w| (self.postings.get(*w).map_or(0, Vec::len), (*w).clone()));
        rarest.truncate(words.len() / 5 + 1);
        let mut repeats_other_type = false;
        for &other in rarest.iter().filter_map(|w| self.postings.get(*w)).flatten() {
            let (other_words, other_answer, other_type) = &self.fronts[other];
            if near(&words, other_words) {
                if *other_type != asset_type {
                    repeats_other_type = true;
                } else if answer_words.is_empty() || other_answer.is_empty() || near(&answer_words, other_answer) {
                    return None;
                }
            }
        }
        for word in &words {
            self.postings.entry(word.clone()).or_default().push(self.fronts.len());
        }
        self.fronts.push((words, answer_words, asset_type));
        self.fingerprints.insert(fingerprint.clone());
        Some(Admitted { fingerprint, repeats_other_type })
    }
}

/// Identifies an asset by its type and its question, for refusing duplicates (the
/// database holds one live asset per fingerprint and material).
pub fn fingerprint(asset_type: AssetType, front: &str) -> String {
    let digest = Sha256::digest(format!("{asset_type}|{}", normalise(front)).as_bytes());
    crate::digest::hex(&digest[..16])
}

/// 1 to 10: the material's level (`beginner`, `intermediate`, `advanced`), raised for a
/// rare or long answer term (`spread`: in how many chunks it stands) and for a long or
/// polysyllabic source sentence.
pub fn difficulty(material: Option<&str>, sentence: Option<&str>, term: Option<(&str, usize)>) -> i32 {
    let mut level = match material {
        Some("beginner") => 2,
        Some("advanced") => 6,
        _ => 4,
    };
    if let Some((term, spread)) = term {
        if spread <= 1 {
            level += 1;
        }
        if term.chars().count() >= 12 {
            level += 1;
        }
    }
    if let Some(sentence) = sentence {
        let words: Vec<&str> = sentence.split_whitespace().collect();
        if words.len() > 25 {
            level += 1;
        }
        let long = words.iter().filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 10).count();
        if long * 5 > words.len() {
            level += 1;
        }
    }
    level.clamp(1, 10)
}

/// 1 inside `min..=max` words, less outside.
pub fn length_score(text: &str, min: usize, max: usize) -> f64 {
    if (min..=max).contains(&text::word_count(text)) { 1.0 } else { 0.5 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_duplicates_are_refused_within_a_type_only() {
        let mut fronts = Fronts::default();
        let first =
            fronts.admit(AssetType::Flashcard, "What is the basic unit of all known life?", "cell").expect("new");
        assert!(!first.repeats_other_type);
        assert!(fronts.admit(AssetType::Flashcard, "What is the basic unit of all known life ?", "cell").is_none());
        let quiz =
            fronts.admit(AssetType::Quiz, "What is the basic unit of all known life?", "cell").expect("another type");
        assert!(quiz.repeats_other_type);
        assert!(
            fronts.admit(AssetType::Flashcard, "Who first saw cells under a microscope?", "Robert Hooke").is_some()
        );
        let other = fronts.admit(AssetType::Flashcard, "What divides a cell in two?", "mitosis").expect("new");
        assert_ne!(first.fingerprint, other.fingerprint);
        // A question completing a sentence meets the cloze card of that sentence.
        fronts.admit(AssetType::Flashcard, "The _____ holds the cell's genes.", "nucleus").expect("new");
        let cloze = "The _____ of a cell holds its genes and controls the growth and division of the cell.";
        fronts.admit(AssetType::Flashcard, cloze, "nucleus").expect("new");
        let again = "The _____ of a cell holds its genes and controls the growth and the division of the cell.";
        assert!(fronts.admit(AssetType::Flashcard, again, "DNA").is_none(), "a cloze card is its sentence");
        let completion = fronts.admit(
            AssetType::Quiz,
            "Which term completes the sentence? The _____ holds the cell's genes.",
            "nucleus",
        );
        assert!(completion.expect("another type").repeats_other_type);
        // Questions alike in their words but not in their answers ask different things;
        // the same question twice is a repeat whatever the answer.
        let struct_card = "Enter the keyword struct and name the entire struct.";
        fronts.admit(AssetType::Flashcard, "How do you define a struct?", struct_card).expect("new");
        let tuple_card = "Start with the struct keyword and the struct name followed by the types in the tuple.";
        assert!(fronts.admit(AssetType::Flashcard, "How do you define a tuple struct?", tuple_card).is_some());
        assert!(fronts.admit(AssetType::Flashcard, "How do you define a struct?", tuple_card).is_none());
    }

    #[test]
    fn difficulty_rises_with_rare_terms_and_long_sentences() {
        let plain = difficulty(Some("beginner"), Some("Cells divide."), Some(("cells", 4)));
        let hard = difficulty(
            Some("beginner"),
            Some("Mitochondrial oxidative phosphorylation synthesizes adenosine triphosphate."),
            Some(("phosphorylation", 1)),
        );
        assert_eq!(plain, 2);
        assert!(hard > plain + 2, "{hard}");
        assert_eq!(difficulty(Some("advanced"), None, None), 6);
    }
}
