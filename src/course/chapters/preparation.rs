//! Preparation: the vocabulary's top words, review lengths and the share truncated at
//! `--max-len`, from the whole archive as encoded once for every run.
use super::Ctx;
use crate::course::doc::Part;
use crate::data::report::{DataReport, SplitReport};
use crate::report::plots;
use anyhow::Result;

/// How many of the most frequent words the table lists.
const TOP_WORDS: usize = 20;

pub(super) fn write(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let report = DataReport::new("", crate::data::Origin::Cache, ctx.data, TOP_WORDS);
    let row = |name: &str, s: &SplitReport| {
        vec![
            name.to_string(),
            s.reviews.to_string(),
            s.positive.to_string(),
            format!("{:.1}", s.length_mean),
            s.length_p50.to_string(),
            s.length_p90.to_string(),
            s.length_max.to_string(),
            format!("{:.1}%", 100.0 * s.truncated_share),
        ]
    };
    let max_len = report.max_len;
    let truncated = format!("longer than {max_len} (truncated)");
    part.table(
        &["split", "reviews", "positive", "mean length", "median", "90th percentile", "longest", &truncated],
        vec![row("train", &report.train), row("test", &report.test)],
    );
    let file = "prep-review-lengths.png";
    let splits = [("train".to_string(), ctx.data.train.lengths.clone()), ("test".to_string(), ctx.data.test.lengths.clone())];
    plots::length_distribution(&splits, max_len, &ctx.figure(file))?;
    part.figure(file.into(), format!("share of reviews with at most each length, and the --max-len {max_len} cut"));
    let words: Vec<Vec<String>> = report.top_words.iter().enumerate().map(|(i, (w, c))| vec![(i + 1).to_string(), w.clone(), c.to_string()]).collect();
    part.table(&["rank", "word", "train occurrences"], words);
    let subset = match (ctx.shared.subset, ctx.shared.test_subset) {
        (Some(n), Some(t)) if t < n => format!(" The runs below train on a seeded {n} reviews and are tested on a seeded {t} test reviews."),
        (Some(n), _) => format!(" The runs below train and test on a seeded {n} reviews of each split."),
        (None, Some(t)) => format!(" The runs below are tested on a seeded {t} test reviews."),
        (None, None) => String::new(),
    };
    part.say(format!(
        "The vocabulary is `<pad>`, `<unk>` and the {} most frequent of the {} distinct train words; {:.2}% of test tokens fall outside it and read as `<unk>`. \
         Half the train reviews have at most **{} tokens**, and **{:.1}%** are longer than {max_len}: they lose their end to truncation, \
         while the shorter ones are padded up to {max_len} with `<pad>`.{subset}",
        report.vocab_size.saturating_sub(2),
        report.train_distinct_tokens,
        100.0 * report.test_unk_share,
        report.train.length_p50,
        100.0 * report.train.truncated_share,
    ));
    part.finding(format!(
        "half the train reviews have at most {} tokens; {:.1}% of test reviews are cut at {max_len}, and the rest are padded up to it",
        report.train.length_p50,
        100.0 * report.test.truncated_share
    ));
    Ok(())
}
