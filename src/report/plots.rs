//! PNG figures of runs: learning curves, gradient heatmaps, depth and time profiles.
//!
//! Every figure is a bitmap drawn by plotters with an embedded DejaVu Sans subset
//! (`assets/fonts/`), so drawing needs no system fonts or fontconfig. The figures share
//! one layout: a title and subtitle, the panels, and a legend strip (or colour bar) to
//! the right of the panels, so a legend never hides data. Axis titles say what is shown
//! and in which unit; values spanning decades get a log scale.
use anyhow::{anyhow, bail, Context, Result};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::train::run::{read_metrics, EpochMetrics};

mod course;
pub use course::{accuracy_vs_depth, length_distribution};

/// DejaVu Sans cut down to the characters the figures use (see assets/fonts/README.md).
static FONT_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");
/// The family name plotters looks fonts up by; the embedded font is registered under it.
const FONT: &str = "sans-serif";

/// Values whose max/min ratio exceeds this are drawn on a log axis by [`Scale::auto`].
const LOG_SPAN: f64 = 30.0;
/// Lines with at most this many points also get a marker on each point.
const MAX_MARKED_POINTS: usize = 40;
/// Width of the strip to the right of the panels that holds a colour bar.
const COLOUR_BAR_WIDTH: u32 = 150;

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
type DrawResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Tableau 10: distinct, colour-blind-friendlier than plotters' defaults.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// One point of [`grad_vs_depth`]: a run's first-layer recurrent gradient norm.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthPoint {
    /// Cell kind (`rnn`, `lstm`, `gru`): one line per distinct value.
    pub cell: String,
    /// Number of stacked recurrent layers.
    pub depth: i64,
    /// Layer 0's `weight_hh` gradient norm, e.g. from [`read_first_layer_norm`].
    pub first_layer_norm: f64,
}

// ---------------------------------------------------------------------------------------
// Public figures
// ---------------------------------------------------------------------------------------

/// Loss (left) and accuracy (right) per epoch of one run: train, validation when the run
/// has a validation split, and test.
pub fn learning_curves(run_dir: &Path, out: &Path) -> Result<()> {
    let metrics = read_run_metrics(run_dir)?;
    let info = RunInfo::read(run_dir);
    let pick = |f: fn(&EpochMetrics) -> Option<f64>| -> Vec<(f64, f64)> { metrics.iter().filter_map(|m| Some((m.epoch as f64, f(m)?))).collect() };
    let line = |label: &str, color: usize, dashed: bool, points: Vec<(f64, f64)>| Line { label: label.into(), color: PALETTE[color], dashed, points };
    let loss = vec![
        line("train", 0, false, pick(|m| Some(m.train_loss))),
        line("validation", 1, true, pick(|m| m.val_loss)),
        line("test", 2, false, pick(|m| Some(m.test_loss))),
    ];
    let acc = vec![
        line("train", 0, false, pick(|m| Some(100.0 * m.train_acc))),
        line("validation", 1, true, pick(|m| m.val_acc.map(|a| 100.0 * a))),
        line("test", 2, false, pick(|m| Some(100.0 * m.test_acc))),
    ];
    let (loss, acc) = (drop_empty(loss), drop_empty(acc));
    let figure = Figure { title: format!("Learning curves: {}", info.name), subtitle: info.describe(), size: (1400, 620) };
    figure.render(out, |body| {
        let (panels, legend) = split_legend(body, &loss)?;
        let panels = panels.split_evenly((1, 2));
        draw_lines(&panels[0], &loss_panel("Loss", &loss), &loss)?;
        draw_lines(&panels[1], &accuracy_panel("Accuracy", &acc), &acc)?;
        draw_legend(&legend, Some("split"), &loss)
    })
}

/// Test accuracy (left) and test loss (right) per epoch of several runs, one line per
/// run, named by config.json's `name` (or the directory name).
pub fn learning_curves_overlay(run_dirs: &[PathBuf], out: &Path) -> Result<()> {
    if run_dirs.is_empty() {
        bail!("no run directories to compare");
    }
    let mut acc = Vec::new();
    let mut loss = Vec::new();
    for (i, dir) in run_dirs.iter().enumerate() {
        let metrics = read_run_metrics(dir)?;
        let name = RunInfo::read(dir).name;
        let (color, dashed) = (PALETTE[i % PALETTE.len()], i >= PALETTE.len());
        let series = |f: fn(&EpochMetrics) -> f64| metrics.iter().map(|m| (m.epoch as f64, f(m))).collect();
        acc.push(Line { label: name.clone(), color, dashed, points: series(|m| 100.0 * m.test_acc) });
        loss.push(Line { label: name, color, dashed, points: series(|m| m.test_loss) });
    }
    let figure = Figure {
        title: "Test accuracy and loss per epoch".into(),
        subtitle: format!("{} runs", run_dirs.len()),
        // Taller when the legend needs it.
        size: (1400, 620.max(150 + 18 * run_dirs.len() as u32)),
    };
    figure.render(out, |body| {
        let (panels, legend) = split_legend(body, &acc)?;
        let panels = panels.split_evenly((1, 2));
        draw_lines(&panels[0], &accuracy_panel("Test accuracy", &acc), &acc)?;
        draw_lines(&panels[1], &loss_panel("Test loss", &loss), &loss)?;
        draw_legend(&legend, Some("run"), &acc)
    })
}

/// Mean gradient norm of the recurrent weights `weight_hh` (all gates, forward direction)
/// per layer (y) and epoch (x) on a log colour scale, with a second panel for the input
/// weights `weight_ih` sharing the colour bar.
pub fn grad_heatmap(run_dir: &Path, out: &Path) -> Result<()> {
    let path = require(run_dir, "grads_epoch.csv")?;
    let rows: Vec<GradEpochRow> = read_rows(&path)?;
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
pub fn grad_vs_depth(points: &[DepthPoint], out: &Path) -> Result<()> {
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

/// Mean ‖dL/dx_t‖ (gradient reaching the input embedding at position t) against t, one
/// line per label, log y. Positions count from the start of the review, or back from its
/// last real token when `from_end`.
pub fn grad_over_time(series: &[(String, Vec<(i64, f64)>)], out: &Path, from_end: bool) -> Result<()> {
    let lines = palette_lines(series.iter().map(|(label, points)| {
        let points = points.iter().filter(|(_, v)| *v > 0.0 && v.is_finite()).map(|&(t, v)| (t as f64, v)).collect();
        (label.clone(), points)
    }));
    let lines = drop_empty(lines);
    if lines.is_empty() {
        bail!("no positive gradient norms to plot ({} series given)", series.len());
    }
    let xs: Vec<f64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    let (x_lo, x_hi) = min_max(&xs).unwrap_or((0.0, 0.0));
    let y = Scale::log_of(&ys(&lines));
    let x_desc = if from_end { "position t (tokens before the last real token)" } else { "position t (tokens from start)" };
    let panel =
        Panel {
            caption: String::new(), x_desc: x_desc.into(), y_desc: y.desc("mean ‖∂L/∂xₜ‖ over reviews"), x: Scale::integers_for_points(x_lo, x_hi), y
        };
    let figure = Figure {
        title: "Gradient of the loss w.r.t. the input embedding over time".into(),
        subtitle: if from_end {
            "t = 0 is each review’s last real token; larger t lies further back".into()
        } else {
            "t = 0 is each review’s first token".into()
        },
        size: (1100, 650),
    };
    figure.render(out, |body| {
        let (plot, legend) = split_legend(body, &lines)?;
        draw_lines(&plot, &panel, &lines)?;
        draw_legend(&legend, None, &lines)
    })
}

/// Writes learning_curves.png, and grad_heatmap.png and grad_time.png when the run logged
/// gradients, into the run directory; returns the paths written. grad_time.png shows
/// ‖dL/dx_t‖ back from the last real token for up to six epochs spread over the run.
pub fn plot_run(run_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let out = run_dir.join("learning_curves.png");
    learning_curves(run_dir, &out)?;
    written.push(out);
    if run_dir.join("grads_epoch.csv").exists() {
        let out = run_dir.join("grad_heatmap.png");
        grad_heatmap(run_dir, &out)?;
        written.push(out);
    }
    if run_dir.join("grads_time.csv").exists() {
        let rows = read_time_rows(run_dir)?;
        let epochs: Vec<usize> = spread(&distinct_epochs(&rows), 6);
        let series: Vec<(String, Vec<(i64, f64)>)> = epochs.iter().map(|&e| (format!("epoch {e}"), time_profile(&rows, e, true))).collect();
        let out = run_dir.join("grad_time.png");
        grad_over_time(&series, &out, true)?;
        written.push(out);
    }
    Ok(written)
}

// ---------------------------------------------------------------------------------------
// Readers the CLI also uses
// ---------------------------------------------------------------------------------------

/// Mean ‖dL/dx_t‖ per position of one epoch of grads_time.csv (the last one by default),
/// positions from the start or, with `from_end`, back from the last real token. Positions
/// no review reached (count 0, empty norm) are left out.
pub fn read_time_profile(run_dir: &Path, epoch: Option<usize>, from_end: bool) -> Result<Vec<(i64, f64)>> {
    let rows = read_time_rows(run_dir)?;
    let epochs = distinct_epochs(&rows);
    let path = run_dir.join("grads_time.csv");
    let Some(&last) = epochs.last() else { bail!("{} has no rows yet", path.display()) };
    let epoch = epoch.unwrap_or(last);
    if !epochs.contains(&epoch) {
        bail!("{} has no rows for epoch {epoch} (it has epochs {}..={last})", path.display(), epochs[0]);
    }
    Ok(time_profile(&rows, epoch, from_end))
}

/// Mean over epochs of grads_epoch.csv's `mean` for layer 0, `weight_hh`, gate `all`,
/// forward direction: one number per run for [`grad_vs_depth`].
pub fn read_first_layer_norm(run_dir: &Path) -> Result<f64> {
    let path = require(run_dir, "grads_epoch.csv")?;
    let rows: Vec<GradEpochRow> = read_rows(&path)?;
    let values: Vec<f64> = layer_epoch_grid(&rows, "weight_hh").into_iter().filter(|((layer, _), _)| *layer == 0).map(|(_, v)| v).collect();
    if values.is_empty() {
        bail!("{} has no rows for layer 0 weight_hh (gate all, forward direction)", path.display());
    }
    Ok(values.iter().sum::<f64>() / values.len() as f64)
}

// ---------------------------------------------------------------------------------------
// Run directory input
// ---------------------------------------------------------------------------------------

/// One row of grads_epoch.csv (the columns the figures use).
#[derive(Debug, Deserialize)]
struct GradEpochRow {
    epoch: usize,
    layer: Option<i64>,
    direction: String,
    parameter: String,
    gate: String,
    mean: f64,
}

/// One row of grads_time.csv.
#[derive(Debug, Deserialize)]
struct TimeRow {
    epoch: usize,
    t: i64,
    norm: Option<f64>,
    count: f64,
    t_from_end: i64,
    norm_from_end: Option<f64>,
    count_from_end: f64,
}

/// What config.json says about a run, for titles and legends. Missing or unreadable
/// fields are left empty: a figure is still worth drawing without them.
#[derive(Debug, Default)]
struct RunInfo {
    name: String,
    cell: Option<String>,
    layers: Option<i64>,
    hidden: Option<i64>,
    bidirectional: bool,
}

impl RunInfo {
    fn read(run_dir: &Path) -> RunInfo {
        let dir_name = run_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| run_dir.display().to_string());
        let json: serde_json::Value = std::fs::read_to_string(run_dir.join("config.json")).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
        let rec = &json["config"]["model"]["recurrent"];
        RunInfo {
            name: json["name"].as_str().filter(|s| !s.is_empty()).map(str::to_string).unwrap_or(dir_name),
            cell: rec["cell"].as_str().map(str::to_string),
            layers: rec["num_layers"].as_i64(),
            hidden: rec["hidden_size"].as_i64(),
            bidirectional: rec["bidirectional"].as_bool().unwrap_or(false),
        }
    }

    /// "LSTM, 3 layers, hidden 32", or "" when config.json said nothing.
    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(cell) = &self.cell {
            parts.push(cell.to_uppercase());
        }
        if let Some(l) = self.layers {
            parts.push(format!("{l} layer{}", if l == 1 { "" } else { "s" }));
        }
        if let Some(h) = self.hidden {
            parts.push(format!("hidden {h}"));
        }
        if self.bidirectional {
            parts.push("bidirectional".into());
        }
        parts.join(", ")
    }
}

/// `dir/name`, or an error naming the directory and what is missing.
fn require(dir: &Path, name: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    if path.is_file() {
        return Ok(path);
    }
    match name {
        "metrics.csv" => bail!("{} has no metrics.csv; is it a run directory of imdb-rnn train?", dir.display()),
        _ => bail!("{} has no {name}; gradients are logged only by imdb-rnn train --grad-every N with N > 0", dir.display()),
    }
}

/// metrics.csv of a run, with at least one row.
fn read_run_metrics(run_dir: &Path) -> Result<Vec<EpochMetrics>> {
    let path = require(run_dir, "metrics.csv")?;
    let metrics = read_metrics(run_dir).map_err(|e| anyhow!("{e:#}"))?;
    if metrics.is_empty() {
        bail!("{} has no rows yet (no epoch has finished)", path.display());
    }
    Ok(metrics)
}

/// Every row of a CSV file with a header, by column name.
fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    reader.deserialize().map(|row| row.map_err(|e| anyhow!("{} is malformed: {e}", path.display()))).collect()
}

fn read_time_rows(run_dir: &Path) -> Result<Vec<TimeRow>> {
    read_rows(&require(run_dir, "grads_time.csv")?)
}

/// Sorted epochs present in grads_time.csv rows.
fn distinct_epochs(rows: &[TimeRow]) -> Vec<usize> {
    let mut epochs: Vec<usize> = rows.iter().map(|r| r.epoch).collect();
    epochs.sort_unstable();
    epochs.dedup();
    epochs
}

/// (t, mean norm) of one epoch, leaving out positions no review reached.
fn time_profile(rows: &[TimeRow], epoch: usize, from_end: bool) -> Vec<(i64, f64)> {
    let mut out: Vec<(i64, f64)> = rows
        .iter()
        .filter(|r| r.epoch == epoch)
        .filter_map(|r| {
            let (t, norm, count) = if from_end { (r.t_from_end, r.norm_from_end, r.count_from_end) } else { (r.t, r.norm, r.count) };
            Some((t, norm.filter(|_| count > 0.0)?))
        })
        .collect();
    out.sort_by_key(|p| p.0);
    out
}

/// (layer, epoch) -> mean norm of `parameter`, gate `all`, forward direction.
fn layer_epoch_grid(rows: &[GradEpochRow], parameter: &str) -> BTreeMap<(i64, usize), f64> {
    rows.iter()
        .filter(|r| r.parameter == parameter && r.gate == "all" && r.direction == "forward")
        .filter_map(|r| Some(((r.layer?, r.epoch), r.mean)))
        .collect()
}

/// At most `n` (at least 1) of `items`, evenly spread, keeping the first and the last.
fn spread<T: Copy>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n || n < 2 {
        return items.iter().copied().take(n.max(1)).collect();
    }
    let mut idx: Vec<usize> = (0..n).map(|i| (i * (items.len() - 1) + (n - 1) / 2) / (n - 1)).collect();
    idx.dedup();
    idx.into_iter().map(|i| items[i]).collect()
}

// ---------------------------------------------------------------------------------------
// Figure layout and drawing helpers
// ---------------------------------------------------------------------------------------

/// A PNG with a title and subtitle above its panels.
struct Figure {
    title: String,
    subtitle: String,
    size: (u32, u32),
}

impl Figure {
    /// Draws the header, hands the area below it to `draw`, writes `out`.
    fn render(&self, out: &Path, draw: impl FnOnce(&Area) -> DrawResult) -> Result<()> {
        register_font()?;
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        // Drawn under a temp name (ending .png, which picks the encoder) and renamed,
        // so a full disk never leaves a cut-short PNG under the figure's name.
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = out.with_file_name(format!(".{name}.tmp{}.png", std::process::id()));
        let root = BitMapBackend::new(&tmp, self.size).into_drawing_area();
        let result = (|| -> DrawResult {
            root.fill(&WHITE)?;
            let header_height = if self.subtitle.is_empty() { 50 } else { 76 };
            let (header, body) = root.split_vertically(header_height);
            let centre = self.size.0 as i32 / 2;
            let centred = Pos::new(HPos::Center, VPos::Top);
            header.draw_text(&self.title, &font(26.0).pos(centred), (centre, 12))?;
            if !self.subtitle.is_empty() {
                header.draw_text(&self.subtitle, &font(17.0).color(&RGBColor(90, 90, 90)).pos(centred), (centre, 46))?;
            }
            draw(&body.margin(0, 10, 10, 10))?;
            root.present()?;
            Ok(())
        })();
        drop(root);
        let result = result
            .map_err(|e| anyhow!("cannot draw {}: {e}", out.display()))
            .and_then(|()| std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display())));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// The embedded font at `size` pixels.
fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font())
}

/// Registers the embedded font with plotters once per process.
fn register_font() -> Result<()> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *REGISTERED.get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, FONT_TTF).is_ok()) {
        Ok(())
    } else {
        bail!("the embedded font assets/fonts/DejaVuSans-subset.ttf cannot be parsed")
    }
}

/// One line of a line chart.
struct Line {
    label: String,
    color: RGBColor,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

/// Lines coloured in palette order (dashed once the palette repeats).
fn palette_lines(series: impl Iterator<Item = (String, Vec<(f64, f64)>)>) -> Vec<Line> {
    series.enumerate().map(|(i, (label, points))| Line { label, color: PALETTE[i % PALETTE.len()], dashed: i >= PALETTE.len(), points }).collect()
}

fn drop_empty(lines: Vec<Line>) -> Vec<Line> {
    lines.into_iter().filter(|l| !l.points.is_empty()).collect()
}

fn ys(lines: &[Line]) -> Vec<f64> {
    lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).collect()
}

/// The caption (empty for none), axis titles and scales of one line-chart panel.
struct Panel {
    caption: String,
    x_desc: String,
    y_desc: String,
    x: Scale,
    y: Scale,
}

/// Loss per epoch; log scale when the loss falls by decades, else linear from 0.
fn loss_panel(caption: &str, lines: &[Line]) -> Panel {
    let y = match Scale::auto(&ys(lines)) {
        log if log.log => log,
        linear => Scale::linear_exact(0.0, linear.hi, f64::INFINITY),
    };
    Panel { caption: caption.into(), x_desc: "epoch".into(), y_desc: y.desc("binary cross-entropy (nats per review)"), x: epoch_scale(lines), y }
}

/// Accuracy in percent per epoch, from a round value below the lowest point up to 100 %.
fn accuracy_panel(caption: &str, lines: &[Line]) -> Panel {
    let lowest = ys(lines).into_iter().fold(100.0, f64::min);
    let lo = ((lowest - 2.0) / 5.0).floor().max(0.0) * 5.0;
    Panel { caption: caption.into(), x_desc: "epoch".into(), y_desc: "accuracy (%)".into(), x: epoch_scale(lines), y: Scale::linear_exact(lo, 101.0, 100.0) }
}

fn epoch_scale(lines: &[Line]) -> Scale {
    let xs: Vec<f64> = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).collect();
    let (lo, hi) = min_max(&xs).unwrap_or((1.0, 1.0));
    Scale::integers_for_points(lo, hi)
}

/// Grey for mesh lines.
const GRID: RGBColor = RGBColor(220, 220, 220);
const GRID_LIGHT: RGBColor = RGBColor(240, 240, 240);

/// A chart with caption, axes and grid in the figures' common style.
fn chart<'a, 'b>(
    area: &'a Area<'b>,
    caption: &str,
    x: Scale,
    y: Scale,
    x_desc: &str,
    y_desc: &str,
) -> DrawResult<ChartContext<'a, BitMapBackend<'b>, Cartesian2d<Scale, Scale>>> {
    let mut builder = ChartBuilder::on(area);
    if !caption.is_empty() {
        builder.caption(caption, font(20.0));
    }
    let mut chart = builder.margin(12).x_label_area_size(52).y_label_area_size(92).build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(font(16.0))
        .label_style(font(14.0))
        .bold_line_style(GRID)
        .light_line_style(GRID_LIGHT)
        .draw()?;
    Ok(chart)
}

/// A line chart: each line with markers on its points when there are few of them.
fn draw_lines(area: &Area, panel: &Panel, lines: &[Line]) -> DrawResult {
    let mut chart = chart(area, &panel.caption, panel.x.clone(), panel.y.clone(), &panel.x_desc, &panel.y_desc)?;
    for line in lines {
        let style = line.color.stroke_width(2);
        let points = line.points.iter().copied();
        if line.dashed {
            chart.draw_series(DashedLineSeries::new(points, 10, 6, style))?;
        } else {
            chart.draw_series(LineSeries::new(points, style))?;
        }
        if line.points.len() <= MAX_MARKED_POINTS {
            chart.draw_series(line.points.iter().map(|&p| Circle::new(p, 4, line.color.filled())))?;
        }
    }
    Ok(())
}

/// Splits off a strip on the right wide enough for the legend of `lines`.
fn split_legend<'a>(area: &Area<'a>, lines: &[Line]) -> DrawResult<(Area<'a>, Area<'a>)> {
    let style = font(15.0);
    let mut widest = 0;
    for line in lines {
        widest = widest.max(area.estimate_text_size(&legend_label(&line.label), &style)?.0);
    }
    let (w, _) = area.dim_in_pixel();
    let strip = (widest + 70).clamp(120, w / 3);
    Ok(area.split_horizontally(w - strip))
}

/// Legend labels are cut at 40 characters so that a long run name leaves room for plots.
fn legend_label(label: &str) -> String {
    if label.chars().count() <= 40 {
        label.to_string()
    } else {
        label.chars().take(39).chain(['…']).collect()
    }
}

/// A boxed legend: a line sample (with marker) and the label of each line, top aligned
/// with the plots.
fn draw_legend(area: &Area, title: Option<&str>, lines: &[Line]) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let (x0, mut y) = (6, 48);
    let rows = lines.len() as i32 + title.is_some() as i32;
    // Rows shrink (to a point) rather than run off the bottom when there are many lines.
    let row = ((h as i32 - y - 10) / rows.max(1)).clamp(16, 26);
    area.draw(&Rectangle::new([(x0, y - 8), (w as i32 - 4, y + rows * row)], ShapeStyle::from(&GRID).stroke_width(1)))?;
    let left = Pos::new(HPos::Left, VPos::Center);
    if let Some(title) = title {
        area.draw_text(title, &font(15.0).color(&RGBColor(90, 90, 90)).pos(left), (x0 + 10, y + row / 2 - 2))?;
        y += row;
    }
    for line in lines {
        let mid = y + row / 2 - 2;
        let sample = [(x0 + 10, mid), (x0 + 46, mid)];
        let style = line.color.stroke_width(2);
        if line.dashed {
            area.draw(&PathElement::new(vec![sample[0], (x0 + 22, mid)], style))?;
            area.draw(&PathElement::new(vec![(x0 + 34, mid), sample[1]], style))?;
        } else {
            area.draw(&PathElement::new(sample.to_vec(), style))?;
        }
        area.draw(&Circle::new((x0 + 28, mid), 4, line.color.filled()))?;
        area.draw_text(&legend_label(&line.label), &font(15.0).pos(left), (x0 + 56, mid))?;
        y += row;
    }
    Ok(())
}

/// Log-normalised viridis colours over `lo..=hi`.
struct ColourScale {
    lo: f64,
    hi: f64,
}

impl ColourScale {
    fn new(lo: f64, hi: f64) -> ColourScale {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo / 2.0, hi * 2.0) };
        ColourScale { lo, hi }
    }
    /// Position of `v` on the scale, 0 at `lo` and 1 at `hi`.
    fn fraction(&self, v: f64) -> f64 {
        ((v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())).clamp(0.0, 1.0)
    }
    fn colour(&self, v: f64) -> RGBColor {
        ViridisRGB::get_color(self.fraction(v))
    }
}

/// One heatmap panel: a cell per (layer, epoch), coloured by its value and labelled with
/// it where the cell is big enough.
fn draw_grid(area: &Area, caption: &str, grid: &BTreeMap<(i64, usize), f64>, layers: i64, colours: &ColourScale) -> DrawResult {
    let epochs: Vec<f64> = grid.keys().map(|(_, e)| *e as f64).collect();
    let (e_lo, e_hi) = min_max(&epochs).unwrap_or((1.0, 1.0));
    let x = Scale::integers(e_lo, e_hi, 0.5);
    let y = Scale::integers(0.0, (layers - 1) as f64, 0.5);
    let mut chart = chart(area, caption, x, y, "epoch", "layer (0 = input side)")?;
    let (plot_w, plot_h) = chart.plotting_area().dim_in_pixel();
    let cell_w = plot_w as f64 / (e_hi - e_lo + 1.0);
    let cell_h = plot_h as f64 / layers as f64;
    chart.draw_series(grid.iter().map(|(&(layer, epoch), &v)| {
        let (x, y) = (epoch as f64, layer as f64);
        let fill = if v > 0.0 && v.is_finite() { colours.colour(v) } else { RGBColor(200, 200, 200) };
        Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], fill.filled())
    }))?;
    let label_size = 13.0;
    let widest = area.estimate_text_size("0.00e-00", &font(label_size))?.0 as f64;
    if cell_w >= widest + 6.0 && cell_h >= label_size + 6.0 {
        let centred = Pos::new(HPos::Center, VPos::Center);
        chart.draw_series(grid.iter().map(|(&(layer, epoch), &v)| {
            let light = v > 0.0 && colours.fraction(v) < 0.6;
            let ink: &'static RGBColor = if light { &WHITE } else { &BLACK };
            Text::new(fmt_sci(v), (epoch as f64, layer as f64), font(label_size).color(ink).pos(centred))
        }))?;
    }
    Ok(())
}

/// A vertical colour bar for `colours`, labelled on its left with a log axis.
fn draw_colour_bar(area: &Area, colours: &ColourScale, desc: &str) -> DrawResult {
    let (_, h) = area.dim_in_pixel();
    let vertical_margin = (h as i32 / 2 - 180).max(30) as u32;
    let bar_area = area.margin(vertical_margin, vertical_margin, 0, 0);
    let y = Scale::log_exact(colours.lo, colours.hi);
    let mut bar = ChartBuilder::on(&bar_area).margin(8).y_label_area_size(80).build_cartesian_2d(Scale::linear_exact(0.0, 1.0, 1.0).without_ticks(), y)?;
    bar.configure_mesh().disable_mesh().y_desc(desc).axis_desc_style(font(15.0)).label_style(font(13.0)).draw()?;
    const STEPS: usize = 200;
    let (lo, hi) = (colours.lo.ln(), colours.hi.ln());
    bar.draw_series((0..STEPS).map(|i| {
        let at = |k: usize| (lo + (hi - lo) * k as f64 / STEPS as f64).exp();
        let (a, b) = (at(i), at(i + 1));
        Rectangle::new([(0.0, a), (1.0, b)], colours.colour((a * b).sqrt()).filled())
    }))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Axes: ranges, ticks, number formatting
// ---------------------------------------------------------------------------------------

/// One axis: its range, linear or logarithmic, its labelled ticks and the unlabelled
/// minor grid lines. Implements plotters' `Ranged` so every chart uses one coordinate
/// type whatever the scale.
#[derive(Clone, Debug)]
struct Scale {
    lo: f64,
    hi: f64,
    log: bool,
    /// Whether tick labels use scientific notation (1e-4) rather than decimals.
    sci: bool,
    ticks: Vec<f64>,
    minor: Vec<f64>,
}

impl Scale {
    /// Linear over `lo..=hi` padded by 4 % of the span, round ticks.
    fn linear(lo: f64, hi: f64) -> Scale {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5 * lo.abs().max(1.0), hi + 0.5 * hi.abs().max(1.0)) };
        let pad = 0.04 * (hi - lo);
        Scale::linear_exact(lo - pad, hi + pad, f64::INFINITY)
    }

    /// Linear over exactly `lo..=hi`, round ticks no higher than `tick_max`.
    fn linear_exact(lo: f64, hi: f64, tick_max: f64) -> Scale {
        let step = nice_step(hi - lo, 8);
        let ticks = (((lo / step).ceil() as i64)..=((hi.min(tick_max) / step).floor() as i64)).map(|k| k as f64 * step).collect();
        Scale { lo, hi, log: false, sci: hi.abs().max(lo.abs()) >= 1e5, ticks, minor: Vec::new() }
    }

    /// Linear over whole numbers (epochs, layers, depths) `lo..=hi`, widened by `pad` on
    /// both sides so that markers or cells at the ends are not cut; integer ticks.
    fn integers(lo: f64, hi: f64, pad: f64) -> Scale {
        let step = nice_step(hi - lo, 10).max(1.0).round();
        let ticks = (((lo / step).ceil() as i64)..=((hi / step).floor() as i64)).map(|k| k as f64 * step).collect();
        Scale { lo: lo - pad, hi: hi + pad, log: false, sci: false, ticks, minor: Vec::new() }
    }

    /// Padding for an integer axis of markers: 3 % of the span, at least 0.3.
    fn integers_for_points(lo: f64, hi: f64) -> Scale {
        Scale::integers(lo, hi, (0.03 * (hi - lo)).max(0.3))
    }

    fn without_ticks(self) -> Scale {
        Scale { ticks: Vec::new(), minor: Vec::new(), ..self }
    }

    /// Log over the positive `values`, padded by 8 % of the span in log space.
    fn log_of(values: &[f64]) -> Scale {
        let positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0 && v.is_finite()).collect();
        let (lo, hi) = min_max(&positive).unwrap_or((0.1, 10.0));
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo / 2.0, hi * 2.0) };
        let pad = ((hi / lo).ln() * 0.08).exp();
        Scale::log_exact(lo / pad, hi * pad)
    }

    /// Log over exactly `lo..=hi` (both positive).
    fn log_exact(lo: f64, hi: f64) -> Scale {
        let (ticks, minor) = log_ticks(lo, hi);
        Scale { lo, hi, log: true, sci: lo < 1e-3 || hi >= 1e5, ticks, minor }
    }

    /// Log when the values are positive and span more than [`LOG_SPAN`]x, linear otherwise.
    fn auto(values: &[f64]) -> Scale {
        match min_max(values) {
            Some((lo, hi)) if lo > 0.0 && hi / lo > LOG_SPAN => Scale::log_of(values),
            Some((lo, hi)) => Scale::linear(lo, hi),
            None => Scale::linear(0.0, 1.0),
        }
    }

    /// Axis title: `what`, marked when the scale is logarithmic.
    fn desc(&self, what: &str) -> String {
        if self.log {
            format!("{what} (log scale)")
        } else {
            what.to_string()
        }
    }

    /// Position of `v` along the axis, 0 at `lo` and 1 at `hi`.
    fn fraction(&self, v: f64) -> f64 {
        if self.log {
            (v.max(f64::MIN_POSITIVE).ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

impl Ranged for Scale {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        limit.0 + (self.fraction(*value) * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Scale {
    fn format_ext(&self, value: &f64) -> String {
        if self.sci {
            fmt_sci(*value)
        } else {
            fmt_num(*value)
        }
    }
}

/// A step of 1, 2 or 5 times a power of ten giving at most about `max_ticks` ticks.
fn nice_step(span: f64, max_ticks: usize) -> f64 {
    let raw = (span / max_ticks as f64).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|s| *s >= raw * (1.0 - 1e-9)).unwrap_or(10.0 * magnitude)
}

/// Labelled and minor ticks of a log axis: 1-2-5 multiples of powers of ten when that
/// gives 4 to 10 ticks, else powers of ten (every few when they are many), else every
/// multiple 1..9 when that gives at most 6, else 1-2-3-5 multiples, else linear round
/// ticks (a range too narrow for any of those).
fn log_ticks(lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let inside = |v: &f64| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9);
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let multiples = |ms: &[f64]| -> Vec<f64> { (first..=last).flat_map(|k| ms.iter().map(move |m| m * 10f64.powi(k))).filter(inside).collect() };
    let decades = multiples(&[1.0]);
    let one_two_five = multiples(&[1.0, 2.0, 5.0]);
    let all = multiples(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    if (4..=10).contains(&one_two_five.len()) {
        return (one_two_five, all);
    }
    if decades.len() >= 3 {
        let stride = decades.len().div_ceil(8);
        let ticks: Vec<f64> = decades.iter().copied().step_by(stride).collect();
        let minor = if stride == 1 { all } else { decades };
        return (ticks, minor);
    }
    if (3..=6).contains(&all.len()) {
        return (all, Vec::new());
    }
    let one_two_three_five = multiples(&[1.0, 2.0, 3.0, 5.0]);
    if one_two_three_five.len() >= 3 {
        return (one_two_three_five, all);
    }
    let linear = Scale::linear_exact(lo, hi, hi);
    (linear.ticks, Vec::new())
}

fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    finite.fold(None, |acc, v| Some(acc.map_or((v, v), |(lo, hi): (f64, f64)| (lo.min(v), hi.max(v)))))
}

/// At most four significant digits, trailing zeros dropped: 0.0025, 12.5, 3.
fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a < 1e-12 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&a) {
        return fmt_sci(v);
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    trim_zeros(format!("{v:.decimals$}"))
}

/// Scientific notation with up to three significant digits: 1e-4, 2.5e-3.
fn fmt_sci(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = format!("{v:.2e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => format!("{}e{exp}", trim_zeros(mantissa.to_string())),
        None => s,
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn join_nonempty(parts: &[String]) -> String {
    parts.iter().filter(|p| !p.is_empty()).cloned().collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A run directory like `imdb-rnn train --layers 3 --grad-every 1` writes, small.
    fn fake_run(dir: &Path, name: &str, with_val: bool, with_grads: bool) {
        fs::create_dir_all(dir).unwrap();
        let config =
            format!(r#"{{"name":"{name}","config":{{"model":{{"recurrent":{{"cell":"lstm","num_layers":3,"hidden_size":32,"bidirectional":false}}}}}}}}"#);
        fs::write(dir.join("config.json"), config).unwrap();
        let mut metrics = String::from("epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,lr,epoch_seconds,tokens_per_s\n");
        for e in 1..=5 {
            let loss = 0.7 / (e * e) as f64;
            let (vl, va) = if with_val { (format!("{}", loss * 1.2), format!("{}", 0.5 + 0.09 * e as f64)) } else { (String::new(), String::new()) };
            metrics += &format!("{e},{loss},{},{vl},{va},{},{},0.01,1.5,10000\n", 0.5 + 0.1 * e as f64, loss * 1.3, 0.5 + 0.08 * e as f64);
        }
        fs::write(dir.join("metrics.csv"), metrics).unwrap();
        if !with_grads {
            return;
        }
        let mut epoch = String::from("epoch,layer,direction,parameter,gate,mean,median,max,last\n");
        for e in 1..=5 {
            epoch += &format!("{e},,-,embedding.weight,all,0.01,0.01,0.02,0.01\n");
            for layer in 0..3 {
                for param in ["weight_ih", "weight_hh", "bias_ih"] {
                    for gate in ["all", "i", "f", "g", "o"] {
                        let v = 0.1 * 10f64.powi(layer - 3) * e as f64 * if param == "weight_ih" { 3.0 } else { 1.0 };
                        epoch += &format!("{e},{layer},forward,{param},{gate},{v},{v},{v},{v}\n");
                    }
                }
            }
            epoch += &format!("{e},,-,total_pre_clip,all,1.0,1.0,1.0,1.0\n");
        }
        fs::write(dir.join("grads_epoch.csv"), epoch).unwrap();
        let mut time = String::from("epoch,t,norm,count,t_from_end,norm_from_end,count_from_end\n");
        for e in 1..=3 {
            for t in 0..40 {
                let (norm, count) = if t < 30 { (format!("{}", 1e-3 * 0.85f64.powi(30 - t) * e as f64), 100) } else { (String::new(), 0) };
                let norm_end = if t < 30 { format!("{}", 1e-3 * 0.85f64.powi(t) * e as f64) } else { String::new() };
                time += &format!("{e},{t},{norm},{count},{t},{norm_end},{count}\n");
            }
        }
        fs::write(dir.join("grads_time.csv"), time).unwrap();
    }

    /// The PNG decodes, has the size asked for, and shows more than a blank canvas: many
    /// distinct colours (anti-aliased text, lines, colour maps).
    fn assert_drawn(path: &Path, size: (u32, u32)) {
        let image = image::open(path).unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display())).to_rgb8();
        assert_eq!(image.dimensions(), size, "{}", path.display());
        let colours: std::collections::HashSet<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        assert!(colours.len() > 40, "{} has only {} colours", path.display(), colours.len());
        let non_white = image.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(non_white > image.pixels().len() / 50, "{} is nearly blank", path.display());
    }

    #[test]
    fn learning_curves_with_and_without_validation() {
        let tmp = tempfile::tempdir().unwrap();
        for with_val in [true, false] {
            let run = tmp.path().join(format!("run-{with_val}"));
            fake_run(&run, "lstm-l3", with_val, false);
            let out = tmp.path().join(format!("lc-{with_val}.png"));
            learning_curves(&run, &out).unwrap();
            assert_drawn(&out, (1400, 620));
        }
    }

    #[test]
    fn overlay_names_runs_by_config_or_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b-dir"));
        fake_run(&a, "lstm-l1", true, false);
        fake_run(&b, "ignored", false, false);
        fs::remove_file(b.join("config.json")).unwrap();
        assert_eq!(RunInfo::read(&a).name, "lstm-l1");
        assert_eq!(RunInfo::read(&b).name, "b-dir");
        let out = tmp.path().join("figs/overlay.png");
        learning_curves_overlay(&[a, b], &out).unwrap();
        assert_drawn(&out, (1400, 620));
        assert!(learning_curves_overlay(&[], &out).is_err());
    }

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
        assert!((profile[0].1 - 3e-3).abs() < 1e-12, "last epoch by default: {:?}", profile[0]);
        let first = read_time_profile(&run, Some(1), false).unwrap();
        assert!((first[29].1 - 1e-3 * 0.85).abs() < 1e-12);
        let err = read_time_profile(&run, Some(9), false).unwrap_err().to_string();
        assert!(err.contains("no rows for epoch 9"), "{err}");

        let series = vec![("epoch 1".to_string(), first), ("epoch 3".to_string(), profile)];
        for from_end in [false, true] {
            let out = tmp.path().join(format!("time-{from_end}.png"));
            grad_over_time(&series, &out, from_end).unwrap();
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
    fn plot_run_writes_what_the_run_has() {
        let tmp = tempfile::tempdir().unwrap();
        let full = tmp.path().join("full");
        fake_run(&full, "full", true, true);
        let names: Vec<String> = plot_run(&full).unwrap().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["learning_curves.png", "grad_heatmap.png", "grad_time.png"]);
        for name in &names {
            assert!(full.join(name).is_file());
        }
        let bare = tmp.path().join("bare");
        fake_run(&bare, "bare", false, false);
        assert_eq!(plot_run(&bare).unwrap(), vec![bare.join("learning_curves.png")]);
    }

    #[test]
    fn missing_or_bad_files_give_one_line_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let empty = tmp.path().join("not-a-run");
        fs::create_dir_all(&empty).unwrap();
        let out = tmp.path().join("x.png");
        let err = learning_curves(&empty, &out).unwrap_err().to_string();
        assert_eq!(err, format!("{} has no metrics.csv; is it a run directory of imdb-rnn train?", empty.display()));
        assert!(plot_run(&empty).unwrap_err().to_string().contains("has no metrics.csv"));

        let run = tmp.path().join("run");
        fake_run(&run, "r", false, false);
        for err in [grad_heatmap(&run, &out).unwrap_err(), read_first_layer_norm(&run).unwrap_err(), read_time_profile(&run, None, false).unwrap_err()] {
            let err = format!("{err:#}");
            assert!(err.contains("has no grads_") && err.contains("--grad-every") && !err.contains('\n'), "{err}");
        }

        fs::write(run.join("metrics.csv"), "epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,lr,epoch_seconds,tokens_per_s\n").unwrap();
        assert!(learning_curves(&run, &out).unwrap_err().to_string().contains("has no rows yet"));
        fs::write(run.join("grads_epoch.csv"), "epoch,layer,direction,parameter,gate,mean,median,max,last\n1,0,forward,weight_hh,all,abc,1,1,1\n").unwrap();
        let err = format!("{:#}", grad_heatmap(&run, &out).unwrap_err());
        assert!(err.contains("grads_epoch.csv is malformed") && !err.contains('\n'), "{err}");
    }

    #[test]
    fn ticks_and_number_formats() {
        assert_eq!(fmt_num(0.0025), "0.0025");
        assert_eq!(fmt_num(12.5), "12.5");
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(0.30000000000000004), "0.3");
        assert_eq!(fmt_sci(1e-5), "1e-5");
        assert_eq!(fmt_sci(2.5e-3), "2.5e-3");
        // Several decades: powers of ten.
        assert_eq!(log_ticks(2e-6, 0.5).0, vec![1e-5, 1e-4, 1e-3, 1e-2, 1e-1]);
        // Less than a decade still gets labelled ticks.
        assert!(log_ticks(0.02, 0.08).0.len() >= 3);
        assert!(log_ticks(0.031, 0.034).0.len() >= 2);
        let epochs = Scale::integers_for_points(1.0, 6.0);
        assert_eq!(epochs.ticks, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(Scale::integers_for_points(1.0, 100.0).ticks.len(), 10);
        assert_eq!(spread(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4), vec![1, 4, 7, 10]);
        assert_eq!(spread(&[1, 2], 6), vec![1, 2]);
    }
}
