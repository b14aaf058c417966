//! `imdb-rnn explain`: each token's attribution for a trained run's prediction (the work
//! is in [`crate::infer::explain`], the rendering in [`crate::infer::explain_view`]).
use crate::cli::ExplainArgs;
use crate::infer::explain::{explain, test_review, ExplainOptions};
use crate::infer::explain_view::{html, text, Explained};
use crate::infer::{load_run, no_words_warning, read_review_lines, recorded_source, LoadedRun};
use anyhow::Result;
use std::io::IsTerminal;

pub(crate) fn run(args: &ExplainArgs) -> Result<()> {
    if let Some(page) = &args.html {
        crate::destination::check_output_file("--html", page)?;
    }
    let run = load_run(&args.run, &args.device, false)?;
    let options = ExplainOptions { method: args.method, steps: args.steps.map(|n| n as usize), baseline: args.baseline };
    let colour = !args.output.json && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut explained = Vec::new();
    let mut without_words = Vec::new();
    for (i, Review { text: review, test_index, true_label }) in reviews(args, &run)?.into_iter().enumerate() {
        let explanation = explain(&run, &review, &options)?;
        if explanation.tokens.is_empty() {
            without_words.push(i + 1);
        }
        if let (Some(error), Some(steps)) = (explanation.completeness_error.filter(|_| explanation.incomplete()), explanation.steps) {
            crate::errln!(
                "imdb-rnn: warning: review {}: with {steps} step(s) the attributions add up to f(x) - f(baseline) only within {:.1}%; more --steps (e.g. --steps {}) bring them closer",
                i + 1,
                error * 100.0,
                steps * 4
            );
        }
        let e = Explained { text: review, test_index, true_label, explanation };
        if args.output.json {
            crate::outln!("{}", serde_json::to_string(&e)?);
        } else {
            if i > 0 {
                crate::outln!();
            }
            crate::out!("{}", text(&e, colour));
        }
        if args.html.is_some() {
            explained.push(e);
        }
    }
    if let Some(warning) = no_words_warning(&without_words) {
        crate::errln!("{warning}");
    }
    if let Some(page) = &args.html {
        crate::util::write_atomic(page, html(&args.run.display().to_string(), &explained).as_bytes())?;
    }
    Ok(())
}

/// A review to explain, with its test-split index and label for `--test-index`.
struct Review {
    text: String,
    test_index: Option<usize>,
    true_label: Option<&'static str>,
}

/// The reviews to explain: the arguments, stdin's lines, or `--test-index`'s review.
fn reviews(args: &ExplainArgs, run: &LoadedRun) -> Result<Vec<Review>> {
    let Some(index) = args.test_index else {
        let texts = if args.texts.is_empty() { read_review_lines(std::io::stdin().lock())? } else { args.texts.clone() };
        return Ok(texts.into_iter().map(|text| Review { text, test_index: None, true_label: None }).collect());
    };
    let source = recorded_source(&args.run, &run.record, &args.source)?;
    let (archive, data, _) = super::load_data(&source, run.record.config.encode)?;
    let review = test_review(run, &data, &archive, index)?;
    Ok(vec![Review { text: review.text, test_index: Some(index), true_label: Some(if review.label == 1 { "positive" } else { "negative" }) }])
}
