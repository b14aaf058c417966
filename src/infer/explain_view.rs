//! An explained review as a person reads it: plain text, text coloured for a terminal
//! (ANSI), or a standalone HTML page.
use super::explain::{Explanation, Method, TokenAttribution};
use crate::report::html::escape;
use serde::Serialize;
use std::fmt::Write;

/// One review explained, with where it came from: what `explain --json` prints per line.
#[derive(Serialize)]
pub(crate) struct Explained {
    /// The review as given.
    pub text: String,
    /// Its index in the run's test split (`--test-index`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_index: Option<usize>,
    /// Its label in the archive (`--test-index`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub true_label: Option<&'static str>,
    #[serde(flatten)]
    pub explanation: Explanation,
}

/// Tokens listed as the strongest each way in the text output.
const STRONGEST: usize = 5;
/// Visible characters per line of the text output.
const WIDTH: usize = 100;

/// The review as text: a header with the prediction and the method, the tokens with
/// their attributions, the strongest each way. With `colour`, attributions are ANSI
/// colours (green for the predicted class, red against, bold when strong, underlined
/// `<unk>`, dim when not read); without, numbers in brackets and marks in words.
pub(crate) fn text(e: &Explained, colour: bool) -> String {
    let x = &e.explanation;
    let mut out = String::new();
    let source = match (e.test_index, e.true_label) {
        (Some(i), Some(label)) => format!("test review {i} ({label})  "),
        _ => String::new(),
    };
    let _ = writeln!(out, "{source}{}  P(positive) {:.4}  logit {:+.3}", x.label, x.probability_positive, x.logit);
    let _ = writeln!(out, "{}", method_line(x));
    if colour {
        let _ = writeln!(
            out,
            "{}",
            paint(&format!("for {}", x.label), Shade::For(2))
                + ", "
                + &paint("against", Shade::Against(2))
                + ", "
                + &paint("<unk>", Shade::Unk)
                + ", "
                + &paint("not read", Shade::NotRead)
        );
    }
    let scale = strongest(x);
    let pieces = pieces(&x.tokens, scale, colour);
    out.push_str(&wrap(&pieces));
    out.push_str(&strongest_line(x));
    out
}

fn method_line(x: &Explanation) -> String {
    let read = x.tokens.iter().filter(|t| t.read).count();
    let not_read = x.tokens.len() - read;
    let past = if not_read > 0 { format!("; {not_read} past --max-len {} not read", x.max_len) } else { String::new() };
    match (x.method, x.f_baseline, x.completeness_error) {
        (Method::IntegratedGradients, Some(fb), Some(err)) => format!(
            "integrated gradients, {} steps, {} baseline: attributions (logit of {}) sum to {:+.3}, f(x) - f(baseline) = {:+.3} (completeness error {:.2}%); {read} tokens read{past}",
            x.steps.unwrap_or(0),
            if matches!(x.baseline, Some(super::explain::Baseline::Zeros)) { "zero" } else { "<pad>" },
            x.label,
            x.attribution_sum,
            x.f_input - fb,
            err * 100.0
        ),
        _ => format!("occlusion (each token replaced by <pad>): f(x) - f(x without the token), logit of {}; {read} tokens read{past}", x.label),
    }
}

/// The largest |attribution|, which the colours scale to (1 when all are 0).
fn strongest(x: &Explanation) -> f64 {
    let max = x.tokens.iter().filter_map(|t| t.attribution).fold(0.0, |m: f64, a| m.max(a.abs()));
    if max > 0.0 {
        max
    } else {
        1.0
    }
}

#[derive(Clone, Copy)]
enum Shade {
    /// Strength 0 (faint) to 2 (strong).
    For(u8),
    Against(u8),
    Unk,
    NotRead,
}

fn paint(s: &str, shade: Shade) -> String {
    let code = match shade {
        Shade::For(0) | Shade::Against(0) => return s.to_string(),
        Shade::For(1) => "32",
        Shade::For(_) => "1;42;30",
        Shade::Against(1) => "31",
        Shade::Against(_) => "1;41;30",
        Shade::Unk => "4",
        Shade::NotRead => "2;90",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

fn shade(attribution: f64, scale: f64) -> Shade {
    let strength = match attribution.abs() / scale {
        r if r < 0.2 => 0,
        r if r < 0.6 => 1,
        _ => 2,
    };
    if attribution >= 0.0 {
        Shade::For(strength)
    } else {
        Shade::Against(strength)
    }
}

/// Each token (or run of tokens not read) as printed, with its visible width.
fn pieces(tokens: &[TokenAttribution], scale: f64, colour: bool) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if !tokens[i].read {
            let run: Vec<&str> = tokens[i..].iter().take_while(|t| !t.read).map(|t| t.token.as_str()).collect();
            i += run.len();
            let plain = format!("[not read: {}]", run.join(" "));
            let width = plain.chars().count();
            out.push((if colour { paint(&run.join(" "), Shade::NotRead) } else { plain }, width));
            continue;
        }
        let t = &tokens[i];
        let a = t.attribution.unwrap_or(0.0);
        let piece = if colour {
            let word = paint(&t.token, shade(a, scale));
            (if t.unk { paint(&word, Shade::Unk) } else { word }, t.token.chars().count())
        } else {
            let plain = format!("{}{}({a:+.2})", t.token, if t.unk { "[unk]" } else { "" });
            let width = plain.chars().count();
            (plain, width)
        };
        out.push(piece);
        i += 1;
    }
    out
}

/// Pieces joined by spaces into lines of at most [`WIDTH`] visible characters.
fn wrap(pieces: &[(String, usize)]) -> String {
    let mut out = String::new();
    let mut line = 0;
    for (piece, width) in pieces {
        if line > 0 && line + 1 + width > WIDTH {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(piece);
        line += width;
    }
    out.push('\n');
    out
}

/// `for: w +a, ...; against: w -a, ...`, the strongest tokens each way.
pub(crate) fn strongest_line(x: &Explanation) -> String {
    let mut read: Vec<&TokenAttribution> = x.tokens.iter().filter(|t| t.attribution.is_some()).collect();
    read.sort_by(|a, b| b.attribution.partial_cmp(&a.attribution).unwrap_or(std::cmp::Ordering::Equal));
    let list = |it: &mut dyn Iterator<Item = &&TokenAttribution>| {
        it.take(STRONGEST).map(|t| format!("{} {:+.2}", t.token, t.attribution.unwrap_or(0.0))).collect::<Vec<_>>().join(", ")
    };
    let pro = list(&mut read.iter().filter(|t| t.attribution > Some(0.0)));
    let con = list(&mut read.iter().rev().filter(|t| t.attribution < Some(0.0)));
    format!("strongest for {}: {}\nstrongest against: {}\n", x.label, or_none(pro), or_none(con))
}

fn or_none(s: String) -> String {
    if s.is_empty() {
        "none".into()
    } else {
        s
    }
}

/// The page's own style on top of the report's: tokens as tinted boxes.
pub(crate) const TOKEN_STYLE: &str =
    "p.review{line-height:1.9}p.review span{padding:1px 2px;border-radius:3px}.unk{text-decoration:underline dotted}.nr{color:#999}";

/// A standalone HTML page of the explained reviews: each token's background green (for
/// the predicted class) or red (against), as strong as its attribution relative to the
/// review's strongest; its value on hover; `<unk>` underlined; tokens not read grey.
pub(crate) fn html(run: &str, reviews: &[Explained]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>imdb-rnn explain: {}</title><style>{}{}</style></head><body><h1>What the model read</h1><p>Run <code>{}</code>. Green: for the predicted class; red: against; the stronger the colour, the larger the attribution (hover for its value, in logit units). <span class=\"unk\">Underlined</span>: not in the vocabulary (<code>&lt;unk&gt;</code>); <span class=\"nr\">grey</span>: not read (past --max-len).</p>",
        escape(run),
        crate::report::html::STYLE,
        TOKEN_STYLE,
        escape(run)
    );
    for e in reviews {
        let x = &e.explanation;
        let source = e.test_index.map(|i| format!("Test review {i} ({}): ", e.true_label.unwrap_or("?"))).unwrap_or_default();
        let _ = write!(
            h,
            "<section><h2>{source}{} (P(positive) {:.4})</h2><p>{}</p><p class=\"review\">",
            x.label,
            x.probability_positive,
            escape(&method_line(x))
        );
        h.push_str(&review_spans(x));
        let _ = write!(h, "</p><p>{}</p></section>", escape(&strongest_line(x)).replace('\n', "<br>"));
    }
    h.push_str("</body></html>\n");
    h
}

/// The review's tokens as tinted `<span>`s (the inside of a `<p class="review">`, styled
/// by [`TOKEN_STYLE`]): green for the predicted class, red against, as strong as the
/// attribution relative to the review's strongest; the value on hover.
pub(crate) fn review_spans(x: &Explanation) -> String {
    let mut h = String::new();
    let scale = strongest(x);
    for t in &x.tokens {
        let class = match (t.read, t.unk) {
            (false, _) => " class=\"nr\"",
            (true, true) => " class=\"unk\"",
            _ => "",
        };
        let (style, title) = match t.attribution {
            Some(a) => {
                let alpha = (a.abs() / scale).min(1.0) * 0.75;
                let rgb = if a >= 0.0 { "0,160,60" } else { "220,40,40" };
                (format!(" style=\"background:rgba({rgb},{alpha:.3})\""), format!("{a:+.4}{}", if t.unk { ", <unk>" } else { "" }))
            }
            None => (String::new(), "not read".to_string()),
        };
        let _ = write!(h, "<span{class}{style} title=\"{}\">{}</span> ", escape(&title), escape(&t.token));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::prepare::Truncate;
    use crate::infer::explain::Baseline;

    fn token(token: &str, attribution: Option<f64>, unk: bool) -> TokenAttribution {
        TokenAttribution { token: token.into(), id: if unk { 1 } else { 5 }, unk, read: attribution.is_some(), attribution }
    }

    fn explained() -> Explained {
        let tokens = vec![
            token("great", Some(1.5), false),
            token("zzyzx", Some(-0.25), true),
            token("plot", Some(0.01), false),
            token("later", None, false),
            token("words", None, false),
        ];
        Explained {
            text: "Great zzyzx plot, later words".into(),
            test_index: None,
            true_label: None,
            explanation: Explanation {
                label: "positive",
                probability_positive: 0.8,
                logit: 1.386,
                method: Method::IntegratedGradients,
                steps: Some(64),
                baseline: Some(Baseline::Pad),
                f_input: 1.386,
                f_baseline: Some(0.12),
                attribution_sum: 1.26,
                pad_attribution: 0.0,
                completeness_error: Some(0.004),
                max_len: 3,
                truncate: Truncate::Head,
                tokens,
            },
        }
    }

    #[test]
    fn plain_text_marks_attributions_unk_and_tokens_not_read_without_escapes() {
        let out = text(&explained(), false);
        assert!(!out.contains('\x1b'), "{out}");
        assert!(out.contains("great(+1.50) zzyzx[unk](-0.25) plot(+0.01) [not read: later words]\n"), "{out}");
        assert!(out.contains("strongest for positive: great +1.50, plot +0.01\nstrongest against: zzyzx -0.25\n"), "{out}");
        assert!(out.contains("2 past --max-len 3 not read"), "{out}");
    }

    #[test]
    fn coloured_text_paints_the_strong_green_underlines_unk_and_dims_what_was_not_read() {
        let out = text(&explained(), true);
        assert!(out.contains("\x1b[1;42;30mgreat\x1b[0m"), "{out:?}");
        assert!(out.contains("\x1b[4mzzyzx\x1b[0m"), "weak, not coloured, underlined: {out:?}");
        assert!(out.contains("\x1b[2;90mlater words\x1b[0m"), "{out:?}");
    }

    #[test]
    fn the_page_escapes_the_words_and_greys_what_was_not_read() {
        let mut e = explained();
        e.explanation.tokens[0].token = "<b>".into();
        let page = html("runs/<r>", &[e]);
        assert!(page.contains("&lt;b&gt;</span>") && !page.contains("<b>"), "{page}");
        assert!(page.contains("<span class=\"nr\" title=\"not read\">later</span>"), "{page}");
        assert!(page.contains("class=\"unk\""), "{page}");
    }
}
