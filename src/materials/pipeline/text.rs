//! Text normalisation, words and sentences.

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// NFC, Unix line ends, no control characters, runs of spaces folded, no trailing
/// spaces, at most one blank line in a row.
pub fn normalise(text: &str) -> String {
    let text: String = text
        .nfc()
        .map(|c| if c == '\u{a0}' || c == '\t' { ' ' } else { c })
        .filter(|c| *c == '\n' || !c.is_control())
        .collect::<String>()
        .replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len());
    let mut blank_lines = 0;
    for line in text.lines() {
        let line = line.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        out.push_str(&line);
    }
    out
}

pub fn word_count(text: &str) -> usize {
    text.unicode_words().count()
}

/// Sentences by Unicode's rules (UAX #29), trimmed, empty ones dropped.
pub fn sentences(text: &str) -> Vec<&str> {
    text.unicode_sentences().map(str::trim).filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_folds_space_and_composes_characters() {
        let messy = "Cafe\u{301}  au\tlait \r\n\r\n\r\n\r\nnext\u{0007} line   \n";
        assert_eq!(normalise(messy), "Café au lait\n\nnext line");
        assert_eq!(word_count("Café au lait, s'il vous plaît."), 6);
        assert_eq!(sentences("One. Two? Three!"), ["One.", "Two?", "Three!"]);
    }
}
