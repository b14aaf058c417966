//! The tokenizer against the course's Python, run for real:
//! `re.sub(r'[^a-z0-9\s]', '', text.lower()).split()` (Python 3, str semantics).
mod common;
use imdb_rnn::tokenize;

/// Tokenizes `texts` with Python 3; the texts travel as JSON on stdin, so no quoting.
fn python_tokenize(texts: &[String]) -> Vec<Vec<String>> {
    let script = r#"
import json, re, sys
texts = json.loads(sys.stdin.buffer.read().decode("utf-8"))
json.dump([re.sub(r'[^a-z0-9\s]', '', t.lower()).split() for t in texts], sys.stdout)
"#;
    common::python_json("python3", script, &texts, "python3 must be on PATH for this test (the reference tokenizer is Python's)")
}

fn assert_same_as_python(texts: &[String]) {
    let expected = python_tokenize(texts);
    assert_eq!(expected.len(), texts.len());
    let mut wrong = Vec::new();
    for (text, want) in texts.iter().zip(&expected) {
        let got = tokenize(text);
        if &got != want {
            let chars: Vec<String> = text.chars().map(|c| format!("U+{:04X}", c as u32)).collect();
            wrong.push(format!("{text:?} ({}): rust {got:?}, python {want:?}", chars.join(" ")));
        }
    }
    assert!(wrong.is_empty(), "{} of {} texts tokenize differently:\n{}", wrong.len(), texts.len(), wrong[..wrong.len().min(40)].join("\n"));
}

fn tricky() -> Vec<String> {
    [
        "",
        "   ",
        "Don't STOP-me, now!! (really?) #1 @home $5 50% a&b a*b a+b a/b a:b a;b a<b a=b a>b a[b] a\\b a^b a_b a`b a{b} a|b a~b \"q\" 'q'",
        "good.<br /><br />Bad<br/>end <BR>",
        "a\u{a0}b \u{a0}lead trail\u{a0}",
        "a\u{2028}b\u{2029}c",
        "a\u{85}b",
        "a\u{1c}b\u{1d}c\u{1e}d\u{1f}e",
        "a\u{200b}b \u{200b}",
        "\u{feff}bom a\u{feff}b",
        "\u{130}stanbul \u{130}I i\u{307}",
        "5\u{212a} \u{212a}elvin \u{212b}ngstr\u{f6}m",
        "Stra\u{df}e STRASSE \u{1e9e}",
        "café naïve Ünïcode ÀÉÎÕÜ façade e\u{301}",
        "\u{661}\u{662}\u{663} x\u{664}y \u{6f4}\u{966}\u{e51}",
        "\u{ff11}\u{ff12}\u{ff13} \u{ff21}\u{ff22}\u{ff23} \u{ff41}\u{ff42}\u{ff43} a\u{ff10}b",
        "ΟΔΟΣ οδος Σίσυφος ΣΑΣ aΣb",
        "emoji \u{1f600} a\u{1f600}b \u{1f44d}\u{1f3fd} \u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467} 1\u{fe0f}\u{20e3}",
        "e\u{301}e\u{301} a\u{300}b n\u{303} A\u{30a}",
        "tab\there\rcr\nlf\u{b}vt\u{c}ff\r\nCRLF",
        "\u{3000}ideographic\u{3000}space \u{1680}ogham a\u{180e}b",
        "a\u{2000}b\u{2001}c\u{2007}d\u{200a}e\u{202f}f\u{205f}g",
        "a\u{ad}b a\u{2060}b a\u{200c}b a\u{200d}b a\u{200e}b",
        "\u{1c5} \u{1c8} \u{1f88} \u{fb01}x \u{fb00}",
        "\u{216b} \u{2460}\u{2461} \u{b2}\u{b3}\u{b9} \u{bd}",
        "\u{0}nul\u{7f}del\u{1}soh",
        "MiXeD CaSe 123abc ABC123",
        "\u{10400}\u{10428} \u{1d400}\u{1d41a} \u{e0041}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn tricky_strings_tokenize_exactly_as_the_course_python_does() {
    assert_same_as_python(&tricky());
}

#[test]
fn every_unicode_character_is_kept_dropped_or_split_on_exactly_as_python_does() {
    // Each scalar value inside a word: "a{c}b" gives ["a", "b"] (whitespace), ["ab"]
    // (dropped) or ["a..b"] (lowercases into [a-z0-9]). One Python call per 4096
    // characters, joined by newlines (tokens never cross them); a chunk that differs is
    // compared again character by character to name the culprits.
    let chars: Vec<char> = (0u32..=0x10FFFF).filter_map(char::from_u32).collect();
    let chunks: Vec<&[char]> = chars.chunks(4096).collect();
    let texts: Vec<String> = chunks.iter().map(|cs| cs.iter().map(|c| format!("a{c}b\n")).collect()).collect();
    let expected = python_tokenize(&texts);
    assert_eq!(expected.len(), texts.len());
    for ((text, want), cs) in texts.iter().zip(&expected).zip(&chunks) {
        if &tokenize(text) != want {
            assert_same_as_python(&cs.iter().map(|c| format!("a{c}b")).collect::<Vec<_>>());
            panic!("chunk from U+{:04X} differs as a whole but not character by character", cs[0] as u32);
        }
    }
}

#[test]
fn the_pinned_cases_hold_without_python() {
    // What the comparison above established, written out so a change shows here too.
    assert_eq!(tokenize("Don't STOP-me, now!!"), ["dont", "stopme", "now"]);
    assert_eq!(tokenize("good.<br /><br />Bad"), ["goodbr", "br", "bad"]);
    assert_eq!(tokenize("a\u{a0}b\u{2028}c\u{1f}d\u{85}e\u{3000}f"), ["a", "b", "c", "d", "e", "f"]);
    assert_eq!(tokenize("a\u{200b}b a\u{feff}b a\u{180e}b"), ["ab", "ab", "ab"]);
    assert_eq!(tokenize("\u{130}stanbul 5\u{212a}"), ["istanbul", "5k"]);
    assert_eq!(tokenize("Stra\u{df}e caf\u{e9} \u{661}\u{662} \u{ff11}\u{ff21}"), ["strae", "caf"]);
    assert_eq!(tokenize("tab\there\rcr\nlf\u{b}vt\u{c}ff"), ["tab", "here", "cr", "lf", "vt", "ff"]);
    assert_eq!(tokenize(""), Vec::<String>::new());
}
