//! The course report's own figures: accuracy against depth, and the share of reviews up
//! to each length (where the `--max-len` cut falls).
use super::chart::{draw_legend, draw_lines, palette_lines, split_legend, ys, Line, Panel};
use super::figure::Figure;
use super::scale::Scale;
use anyhow::{bail, Result};
use std::path::Path;

/// Test accuracy (in %) against the number of stacked layers, one line per label.
pub fn accuracy_vs_depth(series: &[(String, Vec<(i64, f64)>)], out: &Path) -> Result<()> {
    let lines = palette_lines(series.iter().map(|(label, points)| (label.clone(), points.iter().map(|&(d, a)| (d as f64, 100.0 * a)).collect())));
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
    let figure = Figure { title: "Test accuracy vs depth".into(), subtitle: "after the last epoch, mean over seeds; 50 % is chance".into(), size: (1100, 600) };
    figure.render(out, |body| {
        let (plot, legend) = split_legend(body, &lines)?;
        draw_lines(&plot, &panel, &lines)?;
        draw_legend(&legend, Some("cell"), &lines)
    })
}

/// The share of reviews (in %) with at most each length, one line per split, and a
/// dashed vertical line at `max_len`: where it crosses a split's line, the rest of that
/// split is truncated.
pub fn length_distribution(splits: &[(String, Vec<u32>)], max_len: usize, out: &Path) -> Result<()> {
    let longest = splits.iter().flat_map(|(_, l)| l.iter().copied()).max().unwrap_or(0);
    if longest == 0 {
        bail!("no review lengths to plot");
    }
    // Up to the 99th percentile, past max-len: the longest reviews would squash the rest.
    let mut all: Vec<u32> = splits.iter().flat_map(|(_, l)| l.iter().copied()).collect();
    all.sort_unstable();
    let x_hi = (all[(all.len() * 99 / 100).min(all.len() - 1)] as f64).max(1.2 * max_len as f64);
    let mut lines = palette_lines(splits.iter().map(|(label, lengths)| (label.clone(), cumulative_share(lengths, x_hi))));
    lines.push(Line {
        label: format!("max-len {max_len}"),
        color: plotters::style::RGBColor(90, 90, 90),
        dashed: true,
        points: vec![(max_len as f64, 0.0), (max_len as f64, 100.0)],
    });
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

    #[test]
    fn both_course_figures_are_drawn() {
        let tmp = tempfile::tempdir().unwrap();
        let depth = tmp.path().join("d.png");
        accuracy_vs_depth(&[("rnn".into(), vec![(1, 0.5), (2, 0.52)]), ("lstm".into(), vec![(1, 0.6)])], &depth).unwrap();
        let lengths = tmp.path().join("l.png");
        length_distribution(&[("train".into(), vec![5, 10, 300]), ("test".into(), vec![7, 250])], 200, &lengths).unwrap();
        for p in [depth, lengths] {
            assert!(std::fs::metadata(&p).unwrap().len() > 1000, "{} drawn", p.display());
        }
        assert!(accuracy_vs_depth(&[], &tmp.path().join("x.png")).is_err());
    }
}
