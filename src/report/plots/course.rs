//! The course report's own figures: accuracy against depth, test accuracy and loss per
//! epoch of each seed with their mean, and the share of reviews up to each length (where
//! the `--max-len` cut falls).
use super::chart::{accuracy_panel, draw_legend, draw_lines, loss_panel, palette_lines, split_legend, ys, Line, Panel, PALETTE};
use super::figure::Figure;
use super::scale::Scale;
use anyhow::{bail, Result};
use std::path::Path;

/// One line of [`accuracy_vs_depth`]: its label, and per depth the seeds' accuracies.
pub(super) type DepthSeries = (String, Vec<(i64, Vec<f64>)>);

/// Test accuracy (in %) against the number of stacked layers, one line per label: the
/// mean over seeds (thick), and each seed (thin) when there are several.
pub(crate) fn accuracy_vs_depth(series: &[DepthSeries], out: &Path) -> Result<()> {
    let means = series.iter().map(|(label, points)| {
        (label.clone(), points.iter().map(|(d, seeds)| (*d as f64, 100.0 * seeds.iter().sum::<f64>() / seeds.len().max(1) as f64)).collect())
    });
    let means = palette_lines(means);
    // Seeds first, so the means are drawn over them.
    let mut lines = Vec::new();
    for ((_, points), mean) in series.iter().zip(&means) {
        let seeds = points.iter().map(|(_, s)| s.len()).max().unwrap_or(0);
        for s in (0..seeds).filter(|_| seeds > 1) {
            let seed: Vec<(f64, f64)> = points.iter().filter_map(|(d, v)| Some((*d as f64, 100.0 * v.get(s)?))).collect();
            lines.push(Line { thin: true, ..Line::new("", mean.color, mean.dashed, seed) });
        }
    }
    lines.extend(means);
    let xs: Vec<f64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    let (Some(&x_lo), Some(&x_hi)) = (xs.iter().min_by(|a, b| a.total_cmp(b)), xs.iter().max_by(|a, b| a.total_cmp(b))) else {
        bail!("no accuracy to plot against depth");
    };
    let lowest = ys(&lines).into_iter().fold(100.0, f64::min);
    let lo = ((lowest - 2.0) / 5.0).floor().max(0.0) * 5.0;
    let panel = Panel {
        caption: String::new(),
        x_desc: "depth (number of stacked recurrent layers)".into(),
        y_desc: "final test accuracy (%)".into(),
        x: Scale::integers_for_points(x_lo, x_hi),
        y: Scale::linear_exact(lo, 101.0, 100.0),
    };
    let figure = Figure {
        title: "Test accuracy vs depth".into(),
        subtitle: "after the last epoch; thick: mean over seeds, thin: each seed; 50 % is chance".into(),
        size: (1100, 600),
    };
    figure.render(out, |body| {
        let (plot, legend) = split_legend(body, &lines)?;
        draw_lines(&plot, &panel, &lines)?;
        draw_legend(&legend, Some("cell"), &lines)
    })
}

/// One model's test accuracy (fraction) and loss per epoch, one series per seed.
pub(crate) struct SeedCurves {
    pub label: String,
    /// Per seed: (epoch, test accuracy, test loss).
    pub seeds: Vec<Vec<(usize, f64, f64)>>,
}

/// The mean over the seeds that reached each epoch.
fn mean_curve(seeds: &[Vec<(f64, f64)>]) -> Vec<(f64, f64)> {
    let mut by_epoch: std::collections::BTreeMap<i64, (f64, usize)> = Default::default();
    for &(x, y) in seeds.iter().flatten() {
        let e = by_epoch.entry(x as i64).or_default();
        *e = (e.0 + y, e.1 + 1);
    }
    by_epoch.into_iter().map(|(x, (sum, n))| (x as f64, sum / n as f64)).collect()
}

/// The lines of [`seed_curves`] for one quantity: with one model, each seed in its own
/// colour (labelled) and the mean dashed black; with several, each seed a thin pale line in
/// its model's colour (unlabelled) under the model's mean. A single seed is just its line.
pub(super) fn seed_lines(models: &[SeedCurves], value: impl Fn(&(usize, f64, f64)) -> f64) -> Vec<Line> {
    let mut lines = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let seeds: Vec<Vec<(f64, f64)>> = m.seeds.iter().map(|s| s.iter().map(|p| (p.0 as f64, value(p))).collect()).collect();
        let (color, dashed) = (PALETTE[i % PALETTE.len()], i >= PALETTE.len());
        if seeds.len() == 1 {
            lines.push(Line::new(m.label.clone(), color, dashed, seeds[0].clone()));
            continue;
        }
        let one_model = models.len() == 1;
        for (s, points) in seeds.iter().enumerate() {
            if one_model {
                lines.push(Line::new(format!("seed {s}"), PALETTE[s % PALETTE.len()], s >= PALETTE.len(), points.clone()));
            } else {
                lines.push(Line { thin: true, ..Line::new("", color, dashed, points.clone()) });
            }
        }
        let mean = mean_curve(&seeds);
        if one_model {
            lines.push(Line::new(format!("mean of {} seeds", seeds.len()), plotters::style::RGBColor(0, 0, 0), true, mean));
        } else {
            lines.push(Line::new(format!("{} (mean of {})", m.label, seeds.len()), color, dashed, mean));
        }
    }
    lines
}

/// Test accuracy (left, with chance at 50 %) and test loss (right) per epoch: every seed
/// of every model and each model's mean (see [`seed_lines`]).
pub(crate) fn seed_curves(models: &[SeedCurves], title: &str, out: &Path) -> Result<()> {
    if models.iter().all(|m| m.seeds.iter().all(|s| s.is_empty())) {
        bail!("no epochs to plot");
    }
    let mut acc = seed_lines(models, |p| 100.0 * p.1);
    let loss = seed_lines(models, |p| p.2);
    let epochs: Vec<f64> = acc.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    let (lo, hi) = super::scale::min_max(&epochs).unwrap_or((1.0, 1.0));
    acc.push(Line { thin: true, ..Line::new("chance (50 %)", plotters::style::RGBColor(90, 90, 90), true, vec![(lo, 50.0), (hi, 50.0)]) });
    let seeds = models.iter().map(|m| m.seeds.len()).max().unwrap_or(0);
    let subtitle = if seeds > 1 {
        if models.len() == 1 {
            format!("one line per seed ({seeds} seeds) and their mean")
        } else {
            format!("thick: mean over {seeds} seeds; thin: each seed")
        }
    } else {
        "one seed: seed-to-seed spread not shown".into()
    };
    let figure = Figure { title: title.into(), subtitle, size: (1400, 620.max(150 + 22 * acc.iter().filter(|l| !l.label.is_empty()).count() as u32)) };
    figure.render(out, |body| {
        let (panels, legend) = split_legend(body, &acc)?;
        let panels = panels.split_evenly((1, 2));
        draw_lines(&panels[0], &accuracy_panel("Test accuracy", &acc), &acc)?;
        draw_lines(&panels[1], &loss_panel("Test loss", &loss), &loss)?;
        draw_legend(&legend, None, &acc)
    })
}

/// The share of reviews (in %) with at most each length, one line per split, and a
/// dashed vertical line at `max_len`: where it crosses a split's line, the rest of that
/// split is truncated.
pub(crate) fn length_distribution(splits: &[(String, Vec<u32>)], max_len: usize, out: &Path) -> Result<()> {
    let longest = splits.iter().flat_map(|(_, l)| l.iter().copied()).max().unwrap_or(0);
    if longest == 0 {
        bail!("no review lengths to plot");
    }
    // Up to the 99th percentile, past max-len: the longest reviews would squash the rest.
    let mut all: Vec<u32> = splits.iter().flat_map(|(_, l)| l.iter().copied()).collect();
    all.sort_unstable();
    let x_hi = (all[(all.len() * 99 / 100).min(all.len() - 1)] as f64).max(1.2 * max_len as f64);
    let mut lines = palette_lines(splits.iter().map(|(label, lengths)| (label.clone(), cumulative_share(lengths, x_hi))));
    lines.push(Line::new(format!("max-len {max_len}"), plotters::style::RGBColor(90, 90, 90), true, vec![(max_len as f64, 0.0), (max_len as f64, 100.0)]));
    let panel = Panel {
        caption: String::new(),
        x_desc: "review length (tokens)".into(),
        y_desc: "reviews with at most this many tokens (%)".into(),
        x: Scale::linear_exact(0.0, x_hi, x_hi),
        y: Scale::linear_exact(0.0, 101.0, 100.0),
    };
    let figure = Figure {
        title: "Review lengths".into(),
        subtitle: "share of reviews up to each length; reviews longer than max-len are cut".into(),
        size: (1100, 600),
    };
    figure.render(out, |body| {
        let (plot, legend) = split_legend(body, &lines)?;
        draw_lines(&plot, &panel, &lines)?;
        draw_legend(&legend, Some("split"), &lines)
    })
}

/// (length, % of reviews with at most that length) at about 200 evenly spaced lengths.
fn cumulative_share(lengths: &[u32], x_hi: f64) -> Vec<(f64, f64)> {
    let mut sorted = lengths.to_vec();
    sorted.sort_unstable();
    let n = sorted.len().max(1) as f64;
    let step = (x_hi / 200.0).max(1.0);
    let mut out = Vec::new();
    let mut x = 0.0;
    while x <= x_hi {
        let at_most = sorted.partition_point(|&l| l as f64 <= x);
        out.push((x, 100.0 * at_most as f64 / n));
        x += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cumulative_share_counts_reviews_up_to_each_length() {
        let share = cumulative_share(&[1, 2, 2, 4], 4.0);
        assert_eq!(share, [(0.0, 0.0), (1.0, 25.0), (2.0, 75.0), (3.0, 75.0), (4.0, 100.0)]);
    }

    fn curves(label: &str, seeds: usize) -> SeedCurves {
        let seed = |s: usize| (1..=3).map(|e| (e, 0.5 + 0.01 * (e * (s + 1)) as f64, 0.7 - 0.01 * e as f64)).collect();
        SeedCurves { label: label.into(), seeds: (0..seeds).map(seed).collect() }
    }

    #[test]
    fn every_seed_gets_its_own_series_beside_the_models_mean() {
        let lines = seed_lines(&[curves("RNN", 3), curves("LSTM", 3)], |p| p.1);
        assert_eq!(lines.len(), 2 * (3 + 1), "3 seeds and a mean per model");
        assert_eq!(lines.iter().filter(|l| l.thin && l.label.is_empty()).count(), 6, "each seed a thin unlabelled line");
        let labels: Vec<&str> = lines.iter().filter(|l| !l.label.is_empty()).map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["RNN (mean of 3)", "LSTM (mean of 3)"]);
        let mean = &lines[3].points;
        assert_eq!(mean.len(), 3);
        assert!((mean[0].1 - (0.51 + 0.52 + 0.53) / 3.0).abs() < 1e-12, "{mean:?}");

        let alone = seed_lines(&[curves("LSTM", 2)], |p| p.1);
        let labels: Vec<&str> = alone.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["seed 0", "seed 1", "mean of 2 seeds"], "one model: each seed named");
        assert_eq!(seed_lines(&[curves("GRU", 1)], |p| p.1).len(), 1, "one seed is its own line, no mean");

        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("seeds.png");
        seed_curves(&[curves("RNN", 3), curves("LSTM", 3)], "t", &out).unwrap();
        super::super::fixtures::assert_drawn(&out, (1400, 620));
    }

    #[test]
    fn both_course_figures_are_drawn() {
        let tmp = tempfile::tempdir().unwrap();
        let depth = tmp.path().join("d.png");
        accuracy_vs_depth(&[("rnn".into(), vec![(1, vec![0.5, 0.52]), (2, vec![0.52, 0.5])]), ("lstm".into(), vec![(1, vec![0.6])])], &depth).unwrap();
        let lengths = tmp.path().join("l.png");
        length_distribution(&[("train".into(), vec![5, 10, 300]), ("test".into(), vec![7, 250])], 200, &lengths).unwrap();
        for p in [depth, lengths] {
            assert!(std::fs::metadata(&p).unwrap().len() > 1000, "{} drawn", p.display());
        }
        assert!(accuracy_vs_depth(&[], &tmp.path().join("x.png")).is_err());
    }
}
