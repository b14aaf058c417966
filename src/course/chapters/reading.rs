//! What the model reads: integrated gradients on test reviews, for the best model of the
//! course's runs and for the course's own `final` readout: where along a review the
//! attribution falls, how far the words move the logit, and a few reviews word by word.
use super::Ctx;
use crate::course::doc::Part;
use crate::course::results::ModelRuns;
use crate::data::prepare::EncodedSplit;
use crate::infer::explain::{explain_encoded, ExplainOptions, Explanation, COMPLETENESS_TOLERANCE};
use crate::infer::explain_view::{self, Explained};
use crate::model::Readout;
use anyhow::{bail, Result};

/// Test reviews explained per model, spread evenly over its test split.
const SAMPLE: usize = 100;
/// The parts a review is cut into for "where the attribution falls".
const PARTS: usize = 5;
/// Reviews shown word by word have between these many tokens (longer ones are left to
/// the table, shorter ones say little).
const SHOWN_TOKENS: std::ops::RangeInclusive<usize> = 15..=120;

/// One test review explained, with where it came from.
struct Reviewed {
    index: usize,
    label: u8,
    padded: bool,
    x: Explanation,
}

impl Reviewed {
    fn right(&self) -> bool {
        (self.x.logit > 0.0) == (self.label == 1)
    }
    /// |f(x) − f(baseline)|: how far the review's words move the logit from the empty review.
    fn moved(&self) -> f64 {
        self.x.f_baseline.map_or(0.0, |b| (self.x.f_input - b).abs())
    }
    /// Each part's share of the total |attribution| (tokens in order, then the pads), or
    /// `None` when every attribution is 0.
    fn shares(&self) -> Option<[f64; PARTS + 1]> {
        let read: Vec<f64> = self.x.tokens.iter().filter_map(|t| t.attribution).map(f64::abs).collect();
        let total = read.iter().sum::<f64>() + self.x.pad_attribution.abs();
        if total <= 0.0 {
            return None;
        }
        let mut out = [0.0; PARTS + 1];
        for (i, a) in read.iter().enumerate() {
            out[i * PARTS / read.len()] += a / total;
        }
        out[PARTS] = self.x.pad_attribution.abs() / total;
        Some(out)
    }
}

/// A model's explained sample.
struct Read<'a> {
    runs: &'a ModelRuns,
    reviews: Vec<Reviewed>,
}

pub fn write(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let candidates = candidates(ctx);
    let Some(best) = candidates.iter().max_by(|a, b| a.final_acc().mean.total_cmp(&b.final_acc().mean)) else { bail!("no finished run to explain") };
    let course = candidates.iter().filter(|r| r.model.readout == Readout::Final).max_by(|a, b| a.final_acc().mean.total_cmp(&b.final_acc().mean));
    let mut read = vec![explain_sample(ctx, best)?];
    if let Some(c) = course.filter(|c| c.model != best.model) {
        read.push(explain_sample(ctx, c)?);
    }
    part.say(format!(
        "Integrated gradients (`imdb-rnn explain`) on {} test reviews spread evenly over each model's test split (seed 0, final weights): each token's share of \
         the logit of the predicted class, against the `<pad>` review for the `final` readout and a zero embedding for the others, with steps enough that the \
         shares add up to f(review) − f(baseline) within 1%. The best model of this course's runs ({}) and the course's own `final` readout at its best ({}).",
        read[0].reviews.len(),
        best.model.label(),
        course.map_or("none ran".to_string(), |c| c.model.label())
    ));
    part.table(&HEADER, read.iter().flat_map(rows).collect());
    part.say(reading(&read, ctx.data.config.max_len));
    part.finding(finding(&read));
    for r in &read {
        show_examples(ctx, part, r);
    }
    Ok(())
}

/// Every model of the chosen sections with a finished run, once each.
fn candidates(ctx: &Ctx) -> Vec<ModelRuns> {
    let mut models = Vec::new();
    for m in ctx.sections.iter().flat_map(|&s| ctx.models(s)) {
        if !models.contains(&m) {
            models.push(m);
        }
    }
    models.into_iter().filter_map(|m| ctx.runs(m).ok()).collect()
}

/// Explains [`SAMPLE`] reviews of the test split of `runs`' first seed.
fn explain_sample<'a>(ctx: &Ctx, runs: &'a ModelRuns) -> Result<Read<'a>> {
    let run = crate::infer::load_run(&runs.first().dir, "cpu", false)?;
    let test: EncodedSplit = crate::train::select_data(&run.record.config, ctx.data).test;
    let max_len = run.record.config.encode.max_len;
    let n = SAMPLE.min(test.len());
    let mut reviews = Vec::with_capacity(n);
    for index in (0..n).map(|k| k * test.len() / n) {
        let length = test.lengths[index] as usize;
        let ids = &test.tokens[index * max_len..index * max_len + length.min(max_len)];
        let x = explain_encoded(&run, ids, &ExplainOptions::default())?;
        reviews.push(Reviewed { index, label: test.labels[index], padded: length < max_len, x });
    }
    Ok(Read { runs, reviews })
}

const HEADER: [&str; 11] =
    ["model", "reviews", "accuracy on them", "mean |f(x) − f(baseline)|", "first fifth", "2nd", "3rd", "4th", "last fifth", "pads", "complete within 1%"];

/// The table's rows of one model: every review explained, then the padded ones alone.
fn rows(r: &Read) -> Vec<Vec<String>> {
    let all: Vec<&Reviewed> = r.reviews.iter().collect();
    let padded: Vec<&Reviewed> = r.reviews.iter().filter(|v| v.padded).collect();
    let label = r.runs.model.label();
    [(label.clone(), all), (format!("{label}: padded reviews only"), padded)]
        .into_iter()
        .filter(|(_, set)| !set.is_empty())
        .map(|(name, set)| {
            let mut row = vec![name, set.len().to_string(), format!("{:.2}", fraction(&set, Reviewed::right)), format!("{:.3}", mean(&set, Reviewed::moved))];
            row.extend(mean_shares(&set).iter().map(|s| format!("{:.0}%", 100.0 * s)));
            let complete = set.iter().filter(|v| v.x.completeness_error.is_some_and(|e| e <= COMPLETENESS_TOLERANCE)).count();
            row.push(format!("{complete} of {}", set.len()));
            row
        })
        .collect()
}

fn fraction(set: &[&Reviewed], f: impl Fn(&Reviewed) -> bool) -> f64 {
    set.iter().filter(|v| f(v)).count() as f64 / set.len().max(1) as f64
}

fn mean(set: &[&Reviewed], f: impl Fn(&Reviewed) -> f64) -> f64 {
    set.iter().map(|v| f(v)).sum::<f64>() / set.len().max(1) as f64
}

/// The mean share of each part (and of the pads) over the reviews with any attribution.
fn mean_shares(set: &[&Reviewed]) -> [f64; PARTS + 1] {
    let all: Vec<[f64; PARTS + 1]> = set.iter().filter_map(|v| v.shares()).collect();
    let mut out = [0.0; PARTS + 1];
    for s in &all {
        for (o, v) in out.iter_mut().zip(s) {
            *o += v / all.len() as f64;
        }
    }
    out
}

/// `last fifth 41%, first fifth 9%, pads 0%`, for one set of reviews.
fn profile(set: &[&Reviewed]) -> String {
    let s = mean_shares(set);
    format!("{:.0}% on the last fifth, {:.0}% on the first, {:.0}% on the pads", 100.0 * s[PARTS - 1], 100.0 * s[0], 100.0 * s[PARTS])
}

/// The reading, worded from the numbers.
fn reading(read: &[Read], max_len: usize) -> String {
    let mut out = Vec::new();
    for r in read {
        let all: Vec<&Reviewed> = r.reviews.iter().collect();
        let padded: Vec<&Reviewed> = r.reviews.iter().filter(|v| v.padded).collect();
        let long: Vec<&Reviewed> = r.reviews.iter().filter(|v| !v.padded).collect();
        let mut line = format!("**{}** ({} readout): {}", r.runs.model.label(), r.runs.model.readout.name(), profile(&all));
        if !padded.is_empty() && !long.is_empty() {
            line.push_str(&format!(
                "; the words of a review shorter than {max_len} tokens move its logit by {:.3} on average, those of a longer one by {:.3}",
                mean(&padded, Reviewed::moved),
                mean(&long, Reviewed::moved)
            ));
        }
        out.push(line + ".");
    }
    if let [best, course] = read {
        let (b, c) = (mean(&best.reviews.iter().collect::<Vec<_>>(), Reviewed::moved), mean(&course.reviews.iter().collect::<Vec<_>>(), Reviewed::moved));
        out.push(format!(
            "A `final` readout reads the state after the padding: what a word adds must survive every `<pad>` step after it, so its attribution lies where that \
             state still remembers, and a model whose words move its logit little ({c:.3} here, against {b:.3} for {}) says little about any of them.",
            best.runs.model.label()
        ));
    }
    out.join(" ")
}

/// The summary's line: where each model's attribution falls.
fn finding(read: &[Read]) -> String {
    let parts: Vec<String> = read
        .iter()
        .map(|r| {
            let all: Vec<&Reviewed> = r.reviews.iter().collect();
            format!("{}: {}", r.runs.model.label(), profile(&all))
        })
        .collect();
    format!("where the attribution falls (seed 0, {} test reviews): {}", read[0].reviews.len(), parts.join("; "))
}

/// A right and a wrong prediction of a model, of a length a reader takes in, word by word.
fn show_examples(ctx: &Ctx, part: &mut Part, r: &Read) {
    let shown = |right: bool| r.reviews.iter().find(|v| v.right() == right && SHOWN_TOKENS.contains(&v.x.tokens.len()));
    for v in [shown(true), shown(false)].into_iter().flatten() {
        let truth = if v.label == 1 { "positive" } else { "negative" };
        let verdict = if v.right() { "right" } else { "wrong" };
        let heading = format!(
            "{}: test review {} ({truth}), predicted {} with P(positive) {:.3}: {verdict}",
            r.runs.model.label(),
            v.index,
            v.x.label,
            v.x.probability_positive
        );
        let text = v.x.tokens.iter().map(|t| t.token.as_str()).collect::<Vec<_>>().join(" ");
        let explained = Explained { text, test_index: Some(v.index), true_label: Some(truth), explanation: v.x.clone() };
        part.review(heading, explain_view::review_spans(&v.x), explain_view::text(&explained, false));
    }
    let dir = r.runs.first().dir.display();
    if let Some(v) = [shown(true), shown(false)].into_iter().flatten().next() {
        part.commands(vec![format!("imdb-rnn explain --run {dir} --test-index {} --html review.html{}", v.index, imdb_flag(ctx))]);
    }
}

fn imdb_flag(ctx: &Ctx) -> String {
    super::imdb_flag(&ctx.data_flags)
}
