//! Beyond the course: why the course's `final` readout stays near chance (it reads the
//! state after the padding, and the gradient fades before it reaches the words) and what
//! the length-aware readouts reach on the same cell.
use super::Ctx;
use crate::course::doc::Part;
use crate::course::plan::{self, BEYOND_CELL};
use crate::course::results::{points, ACCURACY_HEADER};
use crate::course::sections::Section;
use crate::model::Readout;
use crate::report::plots;
use anyhow::{Context, Result};

/// The distance back from the last real token at which the reading quotes the gradient.
const FAR: i64 = 50;

pub fn write(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let max_len = ctx.data.config.max_len;
    let lengths = &ctx.data.test.lengths;
    let mut padding: Vec<usize> = lengths.iter().map(|&l| max_len.saturating_sub(l as usize)).filter(|&p| p > 0).collect();
    padding.sort_unstable();
    let padded_share = padding.len() as f64 / lengths.len().max(1) as f64;
    let median_padding = padding.get(padding.len() / 2).copied().unwrap_or(0);
    let runs: Vec<_> = plan::models(Section::Beyond, ctx.scale).into_iter().map(|m| ctx.runs(m)).collect::<Result<_>>()?;
    let course = runs.iter().find(|r| r.model.readout == Readout::Final).context("the final-readout run is missing")?;
    let profile = plots::read_time_profile(&course.first().dir, None, true)?;
    let at = |t: i64| profile.iter().find(|(x, _)| *x == t).map(|(_, v)| *v);
    let file = "beyond-grad-time.png";
    let series = [(course.model.label(), profile.clone())];
    if super::gradients::any_positive(&series) {
        plots::grad_over_time(&series, &ctx.figure(file), true)?;
        part.figure(file.into(), format!("{}: ‖∂L/∂x_t‖ against the distance from each review's last real token (last epoch)", course.model.label()));
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
        "The course's model reads the state after all {max_len} positions. **{:.1}%** of test reviews are shorter than {max_len}, so for them that state comes after \
         the padding: a median of **{median_padding} `<pad>` steps** lie between the last word and the classifier, and the recurrent state has to carry the review's \
         sentiment through all of them (and the gradient back through them).{fade}",
        100.0 * padded_share
    ));
    part.table(&ACCURACY_HEADER, runs.iter().map(|r| r.accuracy_row()).collect());
    let dirs: Vec<_> = runs.iter().map(|r| r.first().dir.clone()).collect();
    let file = "beyond-learning-curves.png";
    plots::learning_curves_overlay(&dirs, &ctx.figure(file))?;
    part.figure(file.into(), format!("{}: the course's final readout against the length-aware readouts (seed 0)", BEYOND_CELL.name().to_uppercase()));
    let base = course.final_acc().mean;
    let others: Vec<String> = runs
        .iter()
        .filter(|r| r.model.readout != Readout::Final)
        .map(|r| {
            format!(
                "`--readout {}` reaches **{:.4}** ({} points against `final`)",
                r.model.readout_name(),
                r.final_acc().mean,
                points(r.final_acc().mean, base)
            )
        })
        .collect();
    part.say(format!(
        "Reading the state at each review's own last token (`last`, the backward direction starting there too) or pooling over its real tokens (`meanmax`) removes the padding \
         from the path. On the same {} with the same budget, the course's `final` readout ends at {base:.4}; {}. These readouts also take `--batching bucket` \
         (their default): batches of similar lengths cut to their longest review, so the padding is not even computed.",
        BEYOND_CELL.name().to_uppercase(),
        others.join("; ")
    ));
    Ok(())
}
