//! What every generator's drafts are judged by, whoever wrote them: near duplicates,
//! fingerprints, difficulty and length.

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::normalise;
use crate::materials::pipeline::text;

/// Two cards whose fronts share this share of their words are near duplicates.
pub const NEAR_DUPLICATE: f64 = 0.8;

/// The fronts (questions) admitted so far, indexed so that a near duplicate is found
/// without comparing a new front with every other.
#[derive(Default)]
pub struct Fronts {
    fronts: Vec<HashSet<String>>,
    /// For each asset type and word, the fronts that have it.
    postings: HashMap<(&'static str, String), Vec<usize>>,
}

impl Fronts {
    /// Admits `front` unless it nearly repeats a front of the same asset type admitted
    /// before; the fingerprint that identifies it when admitted.
    pub fn admit(&mut self, asset_type: &'static str, front: &str) -> Option<String> {
        let words: HashSet<String> = normalise(front).split(' ').map(str::to_owned).collect();
        // A near duplicate shares at least 80% of these words, so it has at least one of
        // any floor(20%) + 1 of them: the rarest such words give every candidate.
        let mut rarest: Vec<&String> = words.iter().collect();
        rarest.sort_by_key(|w| (self.postings.get(&(asset_type, (*w).clone())).map_or(0, Vec::len), (*w).clone()));
        rarest.truncate(words.len() / 5 + 1);
        let near =
            rarest.iter().filter_map(|w| self.postings.get(&(asset_type, (*w).clone()))).flatten().any(|&other| {
                let other = &self.fronts[other];
                let shared = words.intersection(other).count() as f64;
                shared / words.union(other).count().max(1) as f64 >= NEAR_DUPLICATE
            });
        if near {
            return None;
        }
        for word in &words {
            self.postings.entry((asset_type, word.clone())).or_default().push(self.fronts.len());
        }
        self.fronts.push(words);
        Some(fingerprint(asset_type, front))
    }
}

/// Identifies an asset by its type and its question, for refusing duplicates (the
/// database holds one live asset per fingerprint and material).
pub fn fingerprint(asset_type: &str, front: &str) -> String {
    let digest = Sha256::digest(format!("{asset_type}|{}", normalise(front)).as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
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
        let first = fronts.admit("flashcard", "What is the basic unit of all known life?");
        assert!(first.is_some());
        assert_eq!(fronts.admit("flashcard", "What is the basic unit of all known life ?"), None);
        assert!(fronts.admit("quiz", "What is the basic unit of all known life?").is_some(), "another type");
        assert!(fronts.admit("flashcard", "Who first saw cells under a microscope?").is_some());
        assert_ne!(first, fronts.admit("flashcard", "What divides a cell in two?"));
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
