//! Quotation marks around a term: a material's way of saying it defines or names the
//! term (`An "entity transaction" is a transaction ...`, `in state ‘installed’`), unlike
//! a quotation, whose words are someone else's and no fact of the material's.

use std::borrow::Cow;

/// The pairs of marks a term is quoted with. (A lone ’ is an apostrophe: "isn’t".)
const PAIRS: [(char, char); 4] = [('"', '"'), ('“', '”'), ('‘', '’'), ('«', '»')];

/// The most words a quoted term has; more is a quotation.
const TERM_WORDS: usize = 4;

/// The spans of `sentence` between a pair of quotation marks, marks included, or None
/// when a mark is left unpaired.
fn spans(sentence: &str) -> Option<Vec<(usize, usize)>> {
    let mut spans = Vec::new();
    let mut rest = sentence.char_indices();
    while let Some((start, c)) = rest.next() {
        let Some(&(_, close)) = PAIRS.iter().find(|(open, _)| *open == c) else {
            if PAIRS.iter().any(|(open, close)| *close == c && open != close && c != '’') {
                return None;
            }
            continue;
        };
        let (end, _) = rest.find(|&(_, c)| c == close)?;
        spans.push((start, end + close.len_utf8()));
    }
    Some(spans)
}

/// What a quoted span holds, without its marks and the space inside them.
fn inner(quoted: &str) -> &str {
    quoted.trim_matches(|c: char| PAIRS.iter().any(|p| p.0 == c || p.1 == c) || c.is_whitespace())
}

/// Whether every quotation mark of `sentence` quotes a term: a few words, no clause.
pub fn only_terms(sentence: &str) -> bool {
    spans(sentence).is_some_and(|spans| {
        spans.iter().all(|&(start, end)| {
            let inner = inner(&sentence[start..end]);
            let words = inner.split_whitespace().count();
            (1..=TERM_WORDS).contains(&words) && !inner.contains(['.', '!', '?', ',', ';', ':'])
        })
    })
}

/// The terms `sentence` quotes, without their marks.
pub fn terms(sentence: &str) -> Vec<&str> {
    let spans = spans(sentence).unwrap_or_default();
    spans.into_iter().map(|(start, end)| inner(&sentence[start..end])).collect()
}

/// `sentence` without the marks around its quoted terms ("An entity transaction is ..."),
/// as it is parsed; unchanged when a mark is unpaired.
pub fn unquoted(sentence: &str) -> Cow<'_, str> {
    match spans(sentence) {
        Some(spans) if !spans.is_empty() => {
            let mut text = String::with_capacity(sentence.len());
            let mut at = 0;
            for (start, end) in spans {
                let open = sentence[start..].chars().next().map_or(1, char::len_utf8);
                let close = sentence[..end].chars().next_back().map_or(1, char::len_utf8);
                text.push_str(&sentence[at..start]);
                text.push_str(sentence[start + open..end - close].trim());
                at = end;
            }
            text.push_str(&sentence[at..]);
            Cow::Owned(text)
        }
        _ => Cow::Borrowed(sentence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_terms_are_told_from_quotations() {
        assert!(only_terms(r#"An "entity transaction" is a transaction transferring control of an organization."#));
        assert!(only_terms("The package is in state ‘triggers-awaited’ until then."));
        assert!(only_terms("It isn’t a quotation: a lone ’ is an apostrophe."));
        assert!(only_terms("No quotation marks at all."));
        assert!(!only_terms(r#"LSB 1.3 says: "The daemon UID was used as an unprivileged UID for daemons.""#));
        assert!(!only_terms(r#"He said "stop, now" and left."#));
        assert!(!only_terms(r#"An "unpaired mark stays a quotation."#));
    }

    #[test]
    fn unquoting_drops_the_marks_around_terms_only() {
        assert_eq!(unquoted(r#"To "propagate" a work means to copy it."#), "To propagate a work means to copy it.");
        assert_eq!(unquoted("in state ‘installed’, isn’t it"), "in state installed, isn’t it");
        assert_eq!(unquoted("«Paquet» désigne une archive."), "Paquet désigne une archive.");
        assert_eq!(unquoted(r#"An "unpaired mark."#), r#"An "unpaired mark."#);
        assert_eq!(
            terms(r#"A "covered work" means either the "Program" or ‘a work’."#),
            ["covered work", "Program", "a work"]
        );
    }
}
