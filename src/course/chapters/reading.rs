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
    /// Each part's share of the review's total |attribution|, or `None` when every
    /// attribution is 0. (The pads get none: the `final` readout's baseline is the
    /// `<pad>` review, equal to the review at every pad, and the others do not read them.)
    fn shares(&self) -> Option<[f64; PARTS]> {
        let read: Vec<f64> = self.x.tokens.iter().filter_map(|t| t.attribution).map(f64::abs).collect();
        let total = read.iter().sum::<f64>();
        if total <= 0.0 {
            return None;
        }
        let mut out = [0.0; PARTS];
        for (i, a) in read.iter().enumerate() {
            out[i * PARTS / read.len()] += a / total;
        }
        Some(out)
    }
}

/// A model's explained sample.
struct Read<'a> {
    runs: &'a ModelRuns,
    reviews: Vec<Reviewed>,
}

pub(super) fn write(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let candidates = candidates(ctx);
    let chosen = chosen(&candidates);
    let Some(best) = chosen.first() else { bail!("no finished run to explain") };
    let read: Vec<Read> = chosen.iter().map(|r| explain_sample(ctx, r)).collect::<Result<_>>()?;
    let names: Vec<String> = chosen.iter().skip(1).map(|r| named(r)).collect();
    part.say(format!(
        "Integrated gradients (`imdb-rnn explain`) on {} test reviews spread evenly over each model's test split (seed 0, final weights): each token's share of \
         the logit of the predicted class, against the `<pad>` review for the `final` readout and a zero embedding for the others, with steps enough that the \
         shares add up to f(review) − f(baseline) within 1% (doubled from 32 up to 1,024; the last column counts the reviews where they do). Explained: the best \
         model of this course's runs, {}, beside {}.",
        read[0].reviews.len(),
        named(best),
        if names.is_empty() { "no other (no other model ran)".to_string() } else { names.join(" and ") }
    ));
    part.table(&HEADER, read.iter().flat_map(rows).collect());
    part.say(reading(&read, ctx.data.config.max_len));
    part.say(
        "In the reviews below, a word's colour is its share: green for the predicted class, red against, the stronger the larger (its value on hover); \
         `<unk>` is a word outside the vocabulary. The Markdown gives the shares in brackets.",
    );
    part.finding(finding(&read));
    show_examples(ctx, part, &read);
    Ok(())
}

/// The models explained: the best of the runs, the course's own model (the 1-layer LSTM
/// of Q4, `final` readout) and the best of the other kind of readout than the best's
/// (length-aware when the best reads the state after the padding, and the other way
/// round), each once, when they ran.
fn chosen(candidates: &[ModelRuns]) -> Vec<&ModelRuns> {
    let by_acc = |a: &&ModelRuns, b: &&ModelRuns| a.final_acc().mean.total_cmp(&b.final_acc().mean);
    let Some(best) = candidates.iter().max_by(by_acc) else { return Vec::new() };
    let course_lstm = candidates.iter().find(|r| r.model == crate::course::plan::Model::course(crate::model::recurrent::Cell::Lstm, 1, false));
    let final_readout = |r: &&ModelRuns| r.model.readout == Readout::Final;
    let other_kind = candidates.iter().filter(|r| final_readout(r) != final_readout(&best)).max_by(by_acc);
    let mut out = vec![best];
    for r in [course_lstm, other_kind].into_iter().flatten() {
        if !out.iter().any(|o| o.model == r.model) {
            out.push(r);
        }
    }
    out
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

const HEADER: [&str; 10] =
    ["model", "reviews", "accuracy on them", "mean |f(x) − f(baseline)|", "first fifth", "2nd", "3rd", "4th", "last fifth", "complete within 1%"];

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

/// The mean share of each part over the reviews with any attribution.
fn mean_shares(set: &[&Reviewed]) -> [f64; PARTS] {
    let all: Vec<[f64; PARTS]> = set.iter().filter_map(|v| v.shares()).collect();
    let mut out = [0.0; PARTS];
    for s in &all {
        for (o, v) in out.iter_mut().zip(s) {
            *o += v / all.len() as f64;
        }
    }
    out
}

/// `41% on the last fifth, 9% on the first`, for one set of reviews.
fn profile(set: &[&Reviewed]) -> String {
    let s = mean_shares(set);
    format!("{:.0}% on the last fifth, {:.0}% on the first", 100.0 * s[PARTS - 1], 100.0 * s[0])
}

/// `LSTM 1 layer (final readout)`, `GRU 1 layer, readout last`: the label, with the
/// readout said where the label leaves it out.
fn named(r: &ModelRuns) -> String {
    match r.model.readout {
        Readout::Final => format!("{} (`final` readout)", r.model.label()),
        _ => r.model.label(),
    }
}

/// The reading, worded from the numbers.
fn reading(read: &[Read], max_len: usize) -> String {
    let mut out = Vec::new();
    for r in read {
        let all: Vec<&Reviewed> = r.reviews.iter().collect();
        let padded: Vec<&Reviewed> = r.reviews.iter().filter(|v| v.padded).collect();
        let long: Vec<&Reviewed> = r.reviews.iter().filter(|v| !v.padded).collect();
        let mut line = format!("{}: {}", named(r.runs), profile(&all));
        if !padded.is_empty() && !long.is_empty() {
            line.push_str(&format!(
                "; the words of a review shorter than {max_len} tokens move its logit by {:.3} on average, those of a longer one by {:.3}",
                mean(&padded, Reviewed::moved),
                mean(&long, Reviewed::moved)
            ));
        }
        out.push(line + ".");
    }
    let finals: Vec<&Read> = read.iter().filter(|r| r.runs.model.readout == Readout::Final).collect();
    let aware: Vec<&Read> = read.iter().filter(|r| r.runs.model.readout != Readout::Final).collect();
    if !finals.is_empty() && !aware.is_empty() {
        let moved = |r: &Read| mean(&r.reviews.iter().filter(|v| v.padded).collect::<Vec<_>>(), Reviewed::moved);
        let list = |set: &[&Read]| set.iter().map(|r| format!("{:.3} for {}", moved(r), r.runs.model.label())).collect::<Vec<_>>().join(", ");
        out.push(format!(
            "A `final` readout reads the state after the padding: what a word adds must survive every `<pad>` step after it. On the padded reviews the words \
             move the logit by {} with the `final` readout, against {} with a readout that does not read the pads.",
            list(&finals),
            list(&aware)
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

/// A right and a wrong prediction of the best model, of a length a reader takes in, word
/// by word, and the first of them as each other model explained it.
fn show_examples(ctx: &Ctx, part: &mut Part, read: &[Read]) {
    let best = &read[0];
    let shown = |right: bool| best.reviews.iter().find(|v| v.right() == right && SHOWN_TOKENS.contains(&v.x.tokens.len()));
    let Some(first) = shown(true).or(shown(false)) else { return };
    for v in [shown(true), shown(false)].into_iter().flatten() {
        show(part, best, v);
    }
    for r in &read[1..] {
        if let Some(v) = r.reviews.iter().find(|v| v.index == first.index) {
            show(part, r, v);
        }
    }
    let dir = best.runs.first().dir.display();
    part.commands(vec![format!("imdb-rnn explain --run {dir} --test-index {} --html review.html{}", first.index, imdb_flag(ctx))]);
}

fn show(part: &mut Part, r: &Read, v: &Reviewed) {
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

fn imdb_flag(ctx: &Ctx) -> String {
    super::imdb_flag(&ctx.data_flags)
}
