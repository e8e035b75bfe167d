//! Text normalisation, words and sentences.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_segmentation::UnicodeSegmentation;

/// NFC, Unix line ends, no control characters, runs of spaces folded, no trailing
/// spaces, at most one blank line in a row, and words a typesetter hyphenated at a line's
/// end (U+2010 HYPHEN, as `man` writes them: "plu‐\nsieurs") joined again. One pass
/// over the text, which is composed first only if it is not already NFC (it nearly always
/// is, and composing is costly).
pub fn normalise(text: &str) -> String {
    let text = strip_page_markers(text);
    let composed = match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => text,
        _ => Cow::Owned(text.nfc().collect()),
    };
    let mut out = String::with_capacity(composed.len());
    // Whether the current line has text yet, whether a space waits to be written before
    // its next word, and the line break that waits before the next line with text: none,
    // a line's end, or a blank line.
    let (mut in_line, mut space, mut break_before) = (false, false, "");
    // The last line ended in a hyphen after a letter: the word may go on at the next
    // line, which then drops the hyphen (a blank line or anything else keeps it).
    let mut hyphenated = false;
    // Inside a terminal's escape sequence (ESC [ 1 m: bold, in a manual page saved with
    // its formatting), which ends at its first letter: no text.
    let mut escape = false;
    for c in composed.chars() {
        if escape || c == '\u{1b}' {
            escape = c == '\u{1b}' || !c.is_ascii_alphabetic();
            continue;
        }
        match c {
            '\n' if in_line => {
                let mut end = out.chars().rev();
                hyphenated = end.next() == Some('\u{2010}') && end.next().is_some_and(char::is_alphabetic);
                (in_line, space, break_before) = (false, false, "\n");
            }
            '\n' => (hyphenated, break_before) = (false, "\n\n"),
            ' ' | '\t' | '\u{a0}' => space = in_line,
            c if c.is_control() => {}
            c if hyphenated && !in_line && c.is_lowercase() => {
                out.pop(); // the hyphen, the last thing written
                (in_line, hyphenated) = (true, false);
                out.push(c);
            }
            c => {
                hyphenated = false;
                if !in_line {
                    if !out.is_empty() {
                        out.push_str(break_before);
                    }
                    in_line = true;
                } else if space {
                    out.push(' ');
                }
                space = false;
                out.push(c);
            }
        }
    }
    out
}

pub fn word_count(text: &str) -> usize {
    text.unicode_words().count()
}

/// Sentences, trimmed, empty ones dropped: Unicode's rules (UAX #29) within each line,
/// then what those rules split wrongly joined again (after an abbreviation such as "Mr."
/// or "z. B.", an initial, a German ordinal before a month ("1. Januar"), or a macro
/// such as "println!" that the sentence goes on
/// after). A list item ("- ", "* ", "• ", "1. ", "2) ") is a unit of its own, period or
/// not; a line that does not end a sentence and is followed by one starting in lower
/// case goes on into it (text wrapped by its source).
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    // Whether the last unit may take more text (not a list item, no blank line since),
    // and whether UAX #29 split it inside a token ("foo.Bar", "example.com/?q=A").
    let (mut open, mut glued) = (false, false);
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.is_empty() || list_marker(trimmed).is_some() {
            if !trimmed.is_empty() {
                let start = line_start + (line.len() - line.trim_start().len());
                out.push((start, start + trimmed.len()));
            }
            open = false;
            continue;
        }
        for (at, raw) in line.split_sentence_bound_indices() {
            let piece = raw.trim();
            if piece.is_empty() {
                continue;
            }
            let start = line_start + at + (raw.len() - raw.trim_start().len());
            let end = start + piece.len();
            match out.last_mut() {
                Some(last) if open && (glued || continues(&text[last.0..last.1], piece)) => last.1 = end,
                _ => out.push((start, end)),
            }
            open = true;
            glued = !raw.ends_with(char::is_whitespace);
        }
        glued = false;
    }
    out.into_iter().map(|(start, end)| &text[start..end]).collect()
}

/// Common abbreviations (lower case, with their final period) that do not end a
/// sentence: English, then French, then German ones.
const ABBREVIATIONS: &[&str] = &[
    "mr.", "mrs.", "ms.", "dr.", "prof.", "sr.", "jr.", "st.", "e.g.", "i.e.", "cf.", "vs.", "fig.", "figs.", "eq.",
    "vol.", "pp.", "p.", "ch.", "sec.", "approx.", "ca.", "inc.", "ltd.", "co.", "dept.", "u.s.", "a.m.", "p.m.",
    "ed.", "eds.", "al.", "ref.", "resp.", "viz.", "m.", "mm.", "mme.", "mmes.", "mlle.", "mlles.", "env.", "chap.",
    "av.", "apr.", "j.-c.", "ex.", "éd.", "hab.", "z.", "b.", "z.b.", "bzw.", "usw.", "d.h.", "ggf.", "vgl.", "nr.",
    "s.", "u.a.", "hr.", "fr.", "bspw.", "evtl.", "inkl.", "sog.", "z.t.", "abb.", "bd.", "jh.", "jhd.", "u.", "o.",
    "d.", "h.",
];

/// The nouns a German ordinal number stands before: months, and centuries.
const ORDINAL_NOUNS: &[&str] = &[
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
    "Jahrhundert",
];

/// Whether `next` goes on the sentence `last` (as split by UAX #29) began.
fn continues(last: &str, next: &str) -> bool {
    let starts_lower = next.chars().next().is_some_and(|c| c.is_lowercase() || matches!(c, '(' | '[' | '{'));
    if last.ends_with(['.', '!', '?', '。', '！', '？']) {
        let token = last.rsplit(char::is_whitespace).next().unwrap_or(last);
        let word = token.trim_start_matches(['(', '[', '"', '\'', '“', '«']);
        let lower = word.to_lowercase();
        // An initial ("J. R. R. Tolkien"), but not a sentence's last word "I."
        let initial = word.chars().count() == 2 && word != "I." && word.starts_with(char::is_uppercase);
        // "println! to print": a macro, when the text goes on in lower case.
        let code = word.ends_with('!') && word.len() > 1 && word[..word.len() - 1].chars().all(is_code_char);
        // A German ordinal ("seit dem 1. Januar", "im 19. Jahrhundert").
        let digits = word.strip_suffix('.').filter(|d| (1..=2).contains(&d.len()));
        let ordinal = digits.is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
            && ORDINAL_NOUNS.iter().any(|noun| next.starts_with(noun));
        (word.ends_with('.') && ABBREVIATIONS.contains(&lower.as_str())) || initial || ordinal || (code && starts_lower)
    } else {
        // A line that ends no sentence, wrapped onto the next.
        !last.ends_with([':', ';']) && starts_lower
    }
}

fn is_code_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | ':' | '.' | '`')
}

/// The length of the list marker `line` starts with ("- ", "* ", "+ ", "• ", "1. ",
/// "12) "), if it starts with one.
pub fn list_marker(line: &str) -> Option<usize> {
    for bullet in ["- ", "* ", "+ ", "• ", "– ", "· "] {
        if line.starts_with(bullet) {
            return Some(bullet.len());
        }
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &line[digits..];
    ((1..=3).contains(&digits) && (rest.starts_with(". ") || rest.starts_with(") "))).then_some(digits + 2)
}

/// Removes digitised-book page markers ("[Pg 72]", "[Page iv]"), joining the
/// word one splits ("sym[Pg 72]phony" -> "symphony"). Meant for every format's text.
pub fn strip_page_markers(text: &str) -> Cow<'_, str> {
    if !text.contains('[') {
        return Cow::Borrowed(text);
    }
    let (mut out, mut rest, mut changed) = (String::with_capacity(text.len()), text, false);
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(len) = page_marker_len(after) else {
            out.push_str(&rest[..=open]);
            rest = after;
            continue;
        };
        out.push_str(&rest[..open]);
        rest = &after[len..];
        changed = true;
        // A marker between spaces, or alone on its line, leaves one space or line end.
        if out.is_empty() || out.ends_with(' ') || out.ends_with('\n') {
            rest = rest.trim_start_matches(' ');
        }
        if out.ends_with('\n') {
            rest = rest.strip_prefix('\n').unwrap_or(rest);
        }
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The length of a page marker's inside and its `]`, if `after` (what follows a `[`) is one.
fn page_marker_len(after: &str) -> Option<usize> {
    let close = after.char_indices().take(16).find(|&(_, c)| c == ']')?.0;
    let inside = after[..close].trim().to_ascii_lowercase();
    let number = ["page", "pg"].iter().find_map(|prefix| inside.strip_prefix(prefix))?.trim_start();
    let is_number = !number.is_empty()
        && (number.bytes().all(|b| b.is_ascii_digit()) || number.bytes().all(|b| b"ivxlcdm".contains(&b)));
    is_number.then_some(close + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_initials_numbers_and_code_end_no_sentence() {
        assert_eq!(
            sentences("Mr. Smith met Dr. Jones at 3.5 p.m. yesterday."),
            ["Mr. Smith met Dr. Jones at 3.5 p.m. yesterday."]
        );
        assert_eq!(sentences("Call println! to print. Then return."), ["Call println! to print.", "Then return."]);
        assert_eq!(
            sentences("Cells differ, e.g. in size, i.e. volume. J. R. R. Tolkien wrote it. Read Fig. 2 now."),
            ["Cells differ, e.g. in size, i.e. volume.", "J. R. R. Tolkien wrote it.", "Read Fig. 2 now."]
        );
        assert_eq!(
            sentences("Use std::io and call foo.Bar() in file.rs, see https://example.com/A.B?q=C now. Done!"),
            ["Use std::io and call foo.Bar() in file.rs, see https://example.com/A.B?q=C now.", "Done!"]
        );
        assert_eq!(
            sentences("Das gilt z. B. für Zellen. M. Dupont le dit."),
            ["Das gilt z. B. für Zellen.", "M. Dupont le dit."]
        );
        assert_eq!(
            sentences("Die Tage seit dem 1. Januar 1970 zählen. Es waren 3. Dann kam Mai."),
            ["Die Tage seit dem 1. Januar 1970 zählen.", "Es waren 3.", "Dann kam Mai."]
        );
        assert_eq!(sentences("It stopped. Hooray! We left."), ["It stopped.", "Hooray!", "We left."], "real ends stay");
    }

    #[test]
    fn list_items_are_units_and_wrapped_lines_go_on() {
        let text = "Key points:\n- cells are the unit of life\n* every cell comes from a cell\n2) membranes hold cells\n\nA line that\nwraps here.";
        assert_eq!(
            sentences(text),
            [
                "Key points:",
                "- cells are the unit of life",
                "* every cell comes from a cell",
                "2) membranes hold cells",
                "A line that\nwraps here."
            ]
        );
        assert_eq!(list_marker("12. Item"), Some(4));
        assert_eq!(list_marker("3.5 is a number"), None);
    }

    #[test]
    fn normalising_folds_space_and_composes_characters() {
        let messy = "Cafe\u{301}  au\tlait \r\n\r\n\r\n\r\nnext\u{0007} line   \n";
        assert_eq!(normalise(messy), "Café au lait\n\nnext line");
        assert_eq!(normalise("\n  a \u{a0} b \n \n\n c\nd  \n\n"), "a b\n\nc\nd", "blank lines folded too");
        assert_eq!(normalise("sym[Pg 72]phony\u{2003}x"), "symphony\u{2003}x", "other spaces stay");
        assert_eq!(
            normalise("plu\u{2010}\n   sieurs pages\nA\u{2010}\nB"),
            "plusieurs pages\nA\u{2010}\nB",
            "hyphenation"
        );
        assert_eq!(normalise("a\u{2010}\n\nb c\u{2010}"), "a\u{2010}\n\nb c\u{2010}", "no word goes on");
        assert_eq!(normalise("run \u{1b}[1mmandb\u{1b}[22m again\u{1b}[0m."), "run mandb again.", "terminal escapes");
        assert_eq!(word_count("Café au lait, s'il vous plaît."), 6);
        assert_eq!(sentences("One. Two? Three!"), ["One.", "Two?", "Three!"]);
    }

    #[test]
    fn page_markers_go_even_inside_words() {
        assert_eq!(strip_page_markers("a sym[Pg 72]phony"), "a symphony");
        assert_eq!(strip_page_markers("the end. [Pg 73] Next"), "the end. Next");
        assert_eq!(strip_page_markers("a line\n[Pg 9]\nnext"), "a line\nnext");
        assert_eq!(strip_page_markers("[Page iv]Preface"), "Preface");
        assert!(matches!(strip_page_markers("see [1], [Page] and [p. 3]"), Cow::Borrowed(_)));
    }
}
