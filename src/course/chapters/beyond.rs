//! Beyond the course: why the course's `final` readout stays near chance (it reads the
//! state after the padding, and the gradient fades before it reaches the words) and what
//! the length-aware readouts reach on the same cell.
use super::Ctx;
use crate::course::doc::Part;
use crate::course::plan::BEYOND_CELL;
use crate::course::results::ACCURACY_HEADER;
use crate::course::sections::Section;
use crate::model::Readout;
use crate::report::plots;
use anyhow::{Context, Result};

/// The distance back from the last real token at which the reading quotes the gradient.
const FAR: i64 = 50;

pub(super) fn write(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let max_len = ctx.data.config.max_len;
    let lengths = &ctx.data.test.lengths;
    let mut padding: Vec<usize> = lengths.iter().map(|&l| max_len.saturating_sub(l as usize)).filter(|&p| p > 0).collect();
    padding.sort_unstable();
    // The same lengths as the preparation table: "at most max_len" is 100 % minus its
    // truncated share; the padded ones are those strictly shorter.
    let n = lengths.len().max(1) as f64;
    let padded_share = padding.len() as f64 / n;
    let at_most_share = lengths.iter().filter(|&&l| l as usize <= max_len).count() as f64 / n;
    let exactly = lengths.iter().filter(|&&l| l as usize == max_len).count();
    let median_padding = padding.get(padding.len() / 2).copied().unwrap_or(0);
    let runs: Vec<_> = ctx.models(Section::Beyond).into_iter().map(|m| ctx.runs(m)).collect::<Result<_>>()?;
    let course = runs.iter().find(|r| r.model.readout == Readout::Final).context("the final-readout run is missing")?;
    let profile = plots::read_time_profile(&course.first().dir, None, true)?;
    let at = |t: i64| profile.iter().find(|(x, _)| *x == t).map(|(_, v)| *v);
    let file = "beyond-grad-time.png";
    let series = [(course.model.label(), profile.clone())];
    let mut cut = String::new();
    if super::gradients::any_positive(&series) {
        cut = super::gradients::zero_cut_text(&plots::grad_over_time(&series, &ctx.figure(file), true)?);
        part.figure(file.into(), format!("{}: ‖∂L/∂x_t‖ against the distance from each review's last real token (last epoch, seed 0)", course.model.label()));
    } else {
        part.say(super::gradients::NO_TIME_PROFILE);
    }
    let fade = match (at(0), at(FAR)) {
        (Some(a), Some(b)) if a > 0.0 => format!(
            " The gradient reaching the last real word is {a:.2e}; {FAR} words earlier it is {b:.2e}, {:.1e} times smaller.",
            a / b.max(f64::MIN_POSITIVE)
        ),
        _ => String::new(),
    };
    part.say(format!(
        "The course's model reads the state after all {max_len} positions. {:.1}% of test reviews have at most {max_len} tokens (the preparation table's \
         100 % minus its truncated share); {exactly} of them have exactly {max_len}, so **{:.1}%** are shorter than {max_len} and for them that state comes after \
         the padding: a median of **{median_padding} `<pad>` steps** lie between the last word and the classifier, and the recurrent state has to carry the review's \
         sentiment through all of them (and the gradient back through them).{fade}{cut}",
        100.0 * at_most_share,
        100.0 * padded_share
    ));
    part.table(&ACCURACY_HEADER, runs.iter().map(|r| r.accuracy_row()).collect());
    let curves: Vec<_> = runs.iter().map(|r| r.seed_curves()).collect();
    let file = "beyond-learning-curves.png";
    plots::seed_curves(&curves, "Test accuracy and loss per epoch", &ctx.figure(file))?;
    let seeds = if ctx.seeds > 1 { format!("thin: each of {} seeds, thick: their mean", ctx.seeds) } else { "one seed".into() };
    part.figure(file.into(), format!("{}: the course's final readout against the length-aware readouts ({seeds})", BEYOND_CELL.name().to_uppercase()));
    let base = course.final_acc();
    let compared: Vec<(String, crate::report::stats::Comparison)> =
        runs.iter().filter(|r| r.model.readout != Readout::Final).map(|r| (r.model.readout_name().to_string(), r.compare_final(course))).collect();
    let others: Vec<String> = compared
        .iter()
        .zip(runs.iter().filter(|r| r.model.readout != Readout::Final))
        .map(|((name, c), r)| format!("`--readout {name}` reaches **{}** ({} against `final`)", r.final_acc().acc(), c.points()))
        .collect();
    part.say(format!(
        "Reading the state at each review's own last real token (`last`) or pooling over its real tokens (`meanmax`) removes the padding from the path. \
         On the same one-directional {} with the same budget, the course's `final` readout ends at {}; {}. \
         Two things change at once: these runs also add `--clip 1` (gradient norm clipped at 1; the course's runs do not clip), and they take `--batching bucket` \
         (their default): batches of similar lengths cut to their longest review, so the padding is not even computed.",
        BEYOND_CELL.name().to_uppercase(),
        base.acc(),
        others.join("; ")
    ));
    let found: Vec<String> = compared.iter().filter(|(_, c)| c.is_finding()).map(|(name, c)| format!("`{name}` {:+.1} points", 100.0 * c.diff)).collect();
    part.finding(if found.is_empty() {
        "the length-aware readouts (with `--clip 1`) are not beyond the noise of the `final` readout".to_string()
    } else {
        format!("against the course's `final` readout, beyond the noise: {} (with `--clip 1`)", found.join(", "))
    });
    Ok(())
}
