//! The course's tokenizer, `re.sub(r'[^a-z0-9\s]', '', text.lower()).split()`, with
//! Python 3's Unicode semantics, written as one pass that never builds the lowered text.

/// Bumped whenever tokenization changes, so cached encodings made by an older one are rebuilt.
pub(crate) const TOKENIZER_VERSION: u32 = 1;

/// Python's `str.isspace()`, which is what both `\s` (for a `str` pattern) and
/// `str.split()` use: Unicode White_Space plus the ASCII separators U+001C..U+001F,
/// which Rust's `char::is_whitespace` leaves out.
#[inline]
pub(crate) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Byte classes of the course tokenizer for ASCII bytes (every byte >= 128 is `DROP`
/// here; callers handle non-ASCII text themselves). Shared with the data preparation's
/// fast path, so the two cannot disagree.
pub(crate) const DROP: u8 = 0;
pub(crate) const SPACE: u8 = 1;
pub(crate) const KEEP: u8 = 2;

const fn ascii_class() -> [u8; 256] {
    let mut t = [DROP; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_lowercase() || c.is_ascii_digit() || c.is_ascii_uppercase() {
            KEEP
        } else if matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f) {
            SPACE
        } else {
            DROP
        };
        b += 1;
    }
    t
}
pub(crate) static ASCII_CLASS: [u8; 256] = ascii_class();

/// Calls `emit` with each token of `text`, in order. `scratch` is reused between calls
/// to avoid an allocation per token.
pub(crate) fn for_each_token(text: &str, scratch: &mut String, mut emit: impl FnMut(&str)) {
    scratch.clear();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 128 {
            match ASCII_CLASS[b as usize] {
                KEEP => scratch.push(b.to_ascii_lowercase() as char),
                SPACE => flush(scratch, &mut emit),
                _ => {}
            }
            i += 1;
        } else {
            // Multi-byte char: lowercase it (full Unicode mapping, as Python does), then
            // keep what lands in [a-z0-9] and split on what is whitespace.
            let c = text[i..].chars().next().expect("index is on a char boundary");
            i += c.len_utf8();
            if is_python_space(c) {
                flush(scratch, &mut emit);
                continue;
            }
            for l in c.to_lowercase() {
                if l.is_ascii_lowercase() || l.is_ascii_digit() {
                    scratch.push(l);
                } else if is_python_space(l) {
                    flush(scratch, &mut emit);
                }
            }
        }
    }
    flush(scratch, &mut emit);
}

#[inline]
fn flush(scratch: &mut String, emit: &mut impl FnMut(&str)) {
    if !scratch.is_empty() {
        emit(scratch);
        scratch.clear();
    }
}

/// Convenience for callers outside the hot path (predict, tests).
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut scratch = String::new();
    for_each_token(text, &mut scratch, |t| out.push(t.to_owned()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_is_removed_not_split_on() {
        assert_eq!(tokenize("Don't STOP-me, now!!"), ["dont", "stopme", "now"]);
    }

    #[test]
    fn html_breaks_become_the_token_br() {
        assert_eq!(tokenize("good.<br /><br />Bad"), ["goodbr", "br", "bad"]);
    }

    #[test]
    fn unicode_whitespace_separates_tokens() {
        assert_eq!(tokenize("a\u{a0}b\u{2028}c\u{1f}d\u{85}e"), ["a", "b", "c", "d", "e"]);
        // Zero-width space is not whitespace for Python: dropped, so the words join.
        assert_eq!(tokenize("a\u{200b}b"), ["ab"]);
    }

    #[test]
    fn uppercase_dotted_i_and_kelvin_sign_lower_to_ascii() {
        assert_eq!(tokenize("\u{130}stanbul 5\u{212a}"), ["istanbul", "5k"]);
    }

    #[test]
    fn accented_letters_are_dropped() {
        assert_eq!(tokenize("café naïve Ünïcode"), ["caf", "nave", "ncode"]);
    }
}
