//! `imdb-rnn eval` and `imdb-rnn predict`: use a trained run directory, or several as one
//! ensemble (the work is in [`crate::infer`] and [`crate::report::eval`]).
use crate::cli::{EvalArgs, PredictArgs};
use crate::infer::ensemble::Ensemble;
use crate::infer::{no_words_warning, read_review_lines, recorded_source, CLASSIFY_CHUNK};
use crate::report::eval::{EvalReport, MemberScore};
use anyhow::Result;

pub(crate) fn predict(args: &PredictArgs) -> Result<()> {
    let ensemble = Ensemble::load(&args.run, &args.device, false)?;
    let texts: Vec<String> = if args.texts.is_empty() { read_review_lines(std::io::stdin().lock())? } else { args.texts.clone() };
    let mut without_words = Vec::new();
    for (c, chunk) in texts.chunks(CLASSIFY_CHUNK).enumerate() {
        for (i, p) in ensemble.classify(chunk)?.into_iter().enumerate() {
            if p.tokens == 0 {
                without_words.push(c * CLASSIFY_CHUNK + i + 1);
            }
            if args.output.json {
                crate::outln!("{}", serde_json::to_string(&p)?);
            } else {
                crate::outln!("{:.4}\t{}\t{}", p.probability_positive as f32, p.label, p.text.chars().take(70).collect::<String>());
            }
        }
    }
    if let Some(warning) = no_words_warning(&without_words) {
        crate::errln!("{warning}");
    }
    Ok(())
}

pub(crate) fn eval(args: &EvalArgs) -> Result<()> {
    let ensemble = Ensemble::load(&args.run, &args.device, args.best)?;
    let (first_dir, first) = (&args.run[0], ensemble.first());
    let source = recorded_source(first_dir, &first.record, &args.source)?;
    let (_archive, data, _) = super::load_data(&source, first.record.config.encode)?;
    let scores = ensemble.score_test(&data)?;
    let report = report_of(&ensemble, &scores);
    if args.output.json {
        crate::outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    // Without --imdb the run's own archive is scored, and always with its own --subset.
    let config = &first.record.config;
    let subset = match (config.test_subset, config.subset) {
        (Some(n), _) => format!(", the run's seeded --test-subset {n}"),
        (None, Some(n)) => format!(", the run's seeded --subset {n}"),
        (None, None) => String::new(),
    };
    let first_of = if args.run.len() > 1 { format!(" of {}", first_dir.display()) } else { String::new() };
    let origin = if args.source.imdb.is_none() { " (the run's own, from config.json)" } else { "" };
    let data_line = format!("{archive}{origin}, test split{first_of}{subset}", archive = source.imdb.as_deref().unwrap_or_default());
    crate::out!("{}", report.text(&data_line));
    Ok(())
}

/// The ensemble's report, each member's score beside it when there are several.
fn report_of(ensemble: &Ensemble, scores: &crate::infer::ensemble::EnsembleScores) -> EvalReport {
    let mut weights: Vec<&str> = ensemble.members.iter().map(|(_, run)| run.weights.as_str()).collect();
    weights.dedup();
    let mut report = EvalReport::new(ensemble.name(), weights.join(" + "), &scores.ensemble);
    if ensemble.members.len() > 1 {
        report.members = ensemble
            .members
            .iter()
            .zip(&scores.members)
            .map(|((dir, run), s)| MemberScore { run: dir.display().to_string(), weights: run.weights.clone(), accuracy: s.accuracy, loss: s.loss })
            .collect();
    }
    report
}
