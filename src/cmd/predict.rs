//! `imdb-rnn eval` and `imdb-rnn predict`: use a trained run directory (the work is in
//! [`crate::infer`] and [`crate::report::eval`]).
use crate::cli::{EvalArgs, PredictArgs};
use crate::infer::{classify, load_run, no_words_warning, read_review_lines, recorded_data, score_test, CLASSIFY_CHUNK};
use crate::report::eval::EvalReport;
use anyhow::Result;

pub fn predict(args: &PredictArgs) -> Result<()> {
    let run = load_run(&args.run, &args.device, false)?;
    let texts: Vec<String> = if args.texts.is_empty() { read_review_lines(std::io::stdin().lock())? } else { args.texts.clone() };
    let mut without_words = Vec::new();
    for (c, chunk) in texts.chunks(CLASSIFY_CHUNK).enumerate() {
        for (i, p) in classify(&run, chunk)?.into_iter().enumerate() {
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

pub fn eval(args: &EvalArgs) -> Result<()> {
    let run = load_run(&args.run, &args.device, args.best)?;
    let mut source = args.source.clone();
    if source.imdb.is_none() {
        source.imdb = recorded_data(&args.run, &run.record, "imdb")?;
    }
    source.quiet = true;
    let (_archive, data, _) = super::load_data(&source, run.record.config.encode)?;
    let report = EvalReport::new(args.run.display().to_string(), run.weights.clone(), &score_test(&run, &data)?);
    if args.output.json {
        crate::outln!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    // Without --imdb the run's own archive is scored, and always with its own --subset.
    let subset = run.record.config.subset.map(|n| format!(", the run's seeded --subset {n}")).unwrap_or_default();
    let origin = if args.source.imdb.is_none() { " (the run's own, from config.json)" } else { "" };
    let data_line = format!("{archive}{origin}, test split{subset}", archive = source.imdb.as_deref().unwrap_or_default());
    crate::out!("{}", report.text(&data_line));
    Ok(())
}
