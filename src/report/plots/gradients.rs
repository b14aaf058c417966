//! Gradient figures: the per-layer heatmap of one run, the first-layer norm against
//! depth across runs, and the norm reaching the input embedding over time.
use anyhow::{bail, Result};
use std::path::Path;

use super::chart::{draw_legend, draw_lines, drop_empty, palette_lines, split_legend, ys, Line, Panel};
use super::figure::Figure;
use super::heatmap::{draw_colour_bar, draw_grid, ColourScale, COLOUR_BAR_WIDTH};
use super::run_files::{layer_epoch_grid, read_grads_epoch, RunInfo};
use super::scale::{min_max, Scale};
use crate::train::run::RunDir;

/// One point of [`grad_vs_depth`]: a run's first-layer recurrent gradient norm.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DepthPoint {
    /// Cell kind (`rnn`, `lstm`, `gru`): one line per distinct value.
    pub cell: String,
    /// Number of stacked recurrent layers.
    pub depth: i64,
    /// Layer 0's `weight_hh` gradient norm, e.g. from [`read_first_layer_norm`](super::read_first_layer_norm).
    pub first_layer_norm: f64,
}

/// Mean gradient norm of the recurrent weights `weight_hh` (all gates, forward direction)
/// per layer (y) and epoch (x) on a log colour scale, with a second panel for the input
/// weights `weight_ih` sharing the colour bar.
pub(crate) fn grad_heatmap(run_dir: &Path, out: &Path) -> Result<()> {
    let rows = read_grads_epoch(run_dir)?;
    let path = RunDir::new(run_dir).grads_epoch();
    let hh = layer_epoch_grid(&rows, "weight_hh");
    if hh.is_empty() {
        bail!("{} has no weight_hh rows (gate all, forward direction)", path.display());
    }
    let ih = layer_epoch_grid(&rows, "weight_ih");
    let values: Vec<f64> = hh.values().chain(ih.values()).copied().filter(|v| *v > 0.0 && v.is_finite()).collect();
    let Some((lo, hi)) = min_max(&values) else {
        bail!("{} has no positive weight_hh gradient norms to plot", path.display());
    };
    let colours = ColourScale::new(lo, hi);
    let layers = hh.keys().chain(ih.keys()).map(|(l, _)| *l).max().unwrap_or(0) + 1;
    let panels = if ih.is_empty() { 1 } else { 2 };
    let info = RunInfo::read(run_dir);
    let figure = Figure {
        title: format!("Gradient norm per layer and epoch: {}", info.name),
        subtitle: join_nonempty(&[info.describe(), "mean over logged steps of ‖∂L/∂W‖, all gates, forward direction".into()]),
        size: (1200, 110 + panels * (130 + 42 * layers.clamp(2, 12) as u32)),
    };
    figure.render(out, |body| {
        let (w, _) = body.dim_in_pixel();
        let (grids, bar) = body.split_horizontally(w - COLOUR_BAR_WIDTH);
        let areas = grids.split_evenly((panels as usize, 1));
        draw_grid(&areas[0], "Recurrent weights W_hh", &hh, layers, &colours)?;
        if panels == 2 {
            draw_grid(&areas[1], "Input weights W_ih", &ih, layers, &colours)?;
        }
        draw_colour_bar(&bar, &colours, "gradient norm ‖∂L/∂W‖ (log scale)")
    })
}

/// First-layer (layer 0) `weight_hh` gradient norm against the number of stacked layers,
/// one line per cell kind, on a log y axis.
pub(crate) fn grad_vs_depth(points: &[DepthPoint], out: &Path) -> Result<()> {
    let mut by_cell: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for p in points.iter().filter(|p| p.first_layer_norm > 0.0 && p.first_layer_norm.is_finite()) {
        let point = (p.depth as f64, p.first_layer_norm);
        match by_cell.iter_mut().find(|(cell, _)| *cell == p.cell) {
            Some((_, series)) => series.push(point),
            None => by_cell.push((p.cell.clone(), vec![point])),
        }
    }
    if by_cell.is_empty() {
        bail!("no positive first-layer gradient norms to plot ({} points given)", points.len());
    }
    let lines = palette_lines(by_cell.into_iter().map(|(cell, mut series)| {
        series.sort_by(|a, b| a.0.total_cmp(&b.0));
        (cell, series)
    }));
    let xs: Vec<f64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    let (x_lo, x_hi) = min_max(&xs).unwrap_or((1.0, 1.0));
    let y = Scale::log_of(&ys(&lines));
    let panel = Panel {
        caption: String::new(),
        x_desc: "depth (number of stacked recurrent layers)".into(),
        y_desc: y.desc("‖∂L/∂W_hh‖ of layer 0, mean over epochs"),
        x: Scale::integers_for_points(x_lo, x_hi),
        y,
    };
    let figure = Figure {
        title: "First-layer recurrent gradient vs depth".into(),
        subtitle: "vanishing gradients: how much of the loss gradient reaches the layer next to the input".into(),
        size: (1100, 650),
    };
    figure.render(out, |body| {
        let (plot, legend) = split_legend(body, &lines)?;
        draw_lines(&plot, &panel, &lines)?;
        draw_legend(&legend, Some("cell"), &lines)
    })
}

/// The first position (in the profile's order) whose mean norm is exactly 0 although
/// reviews reached it: the gradient underflowed there (subnormals flushed to zero), and a
/// log axis cannot show it or anything after it.
pub(crate) fn first_exact_zero(points: &[(i64, f64)]) -> Option<i64> {
    points.iter().find(|(_, v)| *v == 0.0).map(|p| p.0)
}

/// Where a labelled profile of [`grad_over_time`] became exactly 0.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ZeroCut {
    pub label: String,
    pub t: i64,
}

/// Mean ‖dL/dx_t‖ (gradient reaching the input embedding at position t) against t, one
/// line per label, log y. Positions count from the start of the review, or back from its
/// last real token when `from_end`. Where a profile becomes exactly 0 a dashed vertical
/// line in its colour marks the position (labelled in the legend); those cuts are returned.
pub(crate) fn grad_over_time(series: &[(String, Vec<(i64, f64)>)], out: &Path, from_end: bool) -> Result<Vec<ZeroCut>> {
    let lines = palette_lines(series.iter().map(|(label, points)| {
        let points = points.iter().filter(|(_, v)| *v > 0.0 && v.is_finite()).map(|&(t, v)| (t as f64, v)).collect();
        (label.clone(), points)
    }));
    let cuts: Vec<(usize, ZeroCut)> =
        series.iter().enumerate().filter_map(|(i, (label, points))| Some((i, ZeroCut { label: label.clone(), t: first_exact_zero(points)? }))).collect();
    let (y_lo, y_hi) = min_max(&ys(&lines).into_iter().filter(|v| *v > 0.0).collect::<Vec<_>>()).unwrap_or((1.0, 1.0));
    let markers: Vec<Line> = cuts
        .iter()
        .map(|(i, cut)| {
            let label = if series.len() == 1 { format!("exactly 0 from t = {}", cut.t) } else { format!("{}: 0 from t = {}", cut.label, cut.t) };
            Line { thin: true, ..Line::new(label, lines[*i].color, true, vec![(cut.t as f64, y_lo), (cut.t as f64, y_hi)]) }
        })
        .collect();
    let mut lines = drop_empty(lines);
    if lines.is_empty() {
        bail!("no positive gradient norms to plot ({} series given)", series.len());
    }
    if !markers.is_empty() {
        lines.extend(markers);
    }
    let xs: Vec<f64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    let (x_lo, x_hi) = min_max(&xs).unwrap_or((0.0, 0.0));
    let y = Scale::log_of(&ys(&lines));
    let x_desc = if from_end { "position t (tokens before the last real token)" } else { "position t (tokens from start)" };
    let panel =
        Panel {
            caption: String::new(), x_desc: x_desc.into(), y_desc: y.desc("mean ‖∂L/∂xₜ‖ over reviews"), x: Scale::integers_for_points(x_lo, x_hi), y
        };
    let origin = if from_end { "t = 0 is each review’s last real token; larger t lies further back" } else { "t = 0 is each review’s first token" };
    let subtitle = if cuts.is_empty() { origin.to_string() } else { format!("{origin}; dashed: the norm is exactly 0 from there on (subnormals flushed)") };
    let figure = Figure { title: "Gradient of the loss w.r.t. the input embedding over time".into(), subtitle, size: (1100, 650) };
    figure.render(out, |body| {
        let (plot, legend) = split_legend(body, &lines)?;
        draw_lines(&plot, &panel, &lines)?;
        draw_legend(&legend, None, &lines)
    })?;
    Ok(cuts.into_iter().map(|(_, c)| c).collect())
}

fn join_nonempty(parts: &[String]) -> String {
    parts.iter().filter(|p| !p.is_empty()).cloned().collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{assert_drawn, fake_run};
    use super::super::{read_first_layer_norm, read_time_profile};
    use super::*;

    #[test]
    fn heatmap_and_time_profile_and_depth() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        fake_run(&run, "lstm-l3", true, true);
        let out = tmp.path().join("heat.png");
        grad_heatmap(&run, &out).unwrap();
        assert_drawn(&out, (1200, 110 + 2 * (130 + 42 * 3)));

        let profile = read_time_profile(&run, None, true).unwrap();
        assert_eq!(profile.len(), 30, "positions without reviews are left out");
        assert_eq!(profile[0].0, 0);
        assert!((profile[0].1 - 3e-3).abs() < 1e-10, "last epoch by default, as the f32 written: {:?}", profile[0]);
        let first = read_time_profile(&run, Some(1), false).unwrap();
        assert!((first[29].1 - 1e-3 * 0.85).abs() < 1e-10);
        let err = read_time_profile(&run, Some(9), false).unwrap_err().to_string();
        assert!(err.contains("no rows for epoch 9"), "{err}");

        let series = vec![("epoch 1".to_string(), first), ("epoch 3".to_string(), profile)];
        for from_end in [false, true] {
            let out = tmp.path().join(format!("time-{from_end}.png"));
            assert_eq!(grad_over_time(&series, &out, from_end).unwrap(), [], "no exact zero, no mark");
            assert_drawn(&out, (1100, 650));
        }

        // Layer 0 weight_hh, gate all: 1e-4 * epoch, mean over epochs 1..=5 = 3e-4.
        let norm = read_first_layer_norm(&run).unwrap();
        assert!((norm - 3e-4).abs() < 1e-12, "{norm}");
        let points: Vec<DepthPoint> = [("lstm", 1, 0.1), ("lstm", 2, 0.03), ("lstm", 4, 0.004), ("rnn", 1, 0.2), ("rnn", 2, 1e-3), ("rnn", 4, 2e-6)]
            .iter()
            .map(|&(cell, depth, first_layer_norm)| DepthPoint { cell: cell.into(), depth, first_layer_norm })
            .collect();
        let out = tmp.path().join("depth.png");
        grad_vs_depth(&points, &out).unwrap();
        assert_drawn(&out, (1100, 650));
        let zero = [DepthPoint { cell: "gru".into(), depth: 1, first_layer_norm: 0.0 }];
        assert!(grad_vs_depth(&zero, &out).is_err());
    }

    #[test]
    fn a_gradient_that_becomes_exactly_zero_is_marked_where_it_does_and_only_then() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        fake_run(&run, "rnn-l1", false, true);
        // Positions 12.. of the last epoch underflow to exactly 0 (reviews still reach them).
        let text = std::fs::read_to_string(run.join("grads_time.csv")).unwrap();
        let flushed: Vec<String> = text
            .lines()
            .map(|l| {
                let mut c: Vec<String> = l.split(',').map(String::from).collect();
                if c[0] == "3" && c[4].parse::<i64>().unwrap() >= 12 && c[6] != "0" {
                    c[5] = "0".into();
                }
                c.join(",")
            })
            .collect();
        std::fs::write(run.join("grads_time.csv"), flushed.join("\n") + "\n").unwrap();
        let flushed = read_time_profile(&run, None, true).unwrap();
        let kept = read_time_profile(&run, Some(2), true).unwrap();
        assert_eq!(first_exact_zero(&flushed), Some(12));
        assert_eq!(first_exact_zero(&kept), None);
        let out = tmp.path().join("t.png");
        let cuts = grad_over_time(&[("epoch 2".into(), kept.clone()), ("epoch 3".into(), flushed.clone())], &out, true).unwrap();
        assert_eq!(cuts, [ZeroCut { label: "epoch 3".into(), t: 12 }]);
        assert_drawn(&out, (1100, 650));
        assert_eq!(grad_over_time(&[("epoch 2".into(), kept)], &out, true).unwrap(), []);
    }
}
