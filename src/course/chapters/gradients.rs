//! Q9-Q11: per-layer gradient norms on one batch, by layer and epoch, and by depth for
//! RNN, LSTM and GRU (the gradient study's figures, read from the course's runs).
use super::Ctx;
use crate::course::doc::Part;
use crate::course::results::ModelRuns;
use crate::course::sections::Section;
use crate::model::recurrent::Cell;
use crate::report::plots;
use crate::report::stats::{Comparison, Stat};
use crate::sweep::grads::{depth_points, time_series, write_grads_by_depth, StudyRun, TimeSeries};
use crate::train::run::RunDir;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Gradient norms by `(layer, parameter)`, forward direction, all gates.
pub(super) type StepNorms = BTreeMap<(i64, String), f64>;

/// grads.csv's norms of the recurrent layers at one step, and that step: the first one logged.
pub(super) fn first_step_norms(run_dir: &Path) -> Result<(u64, StepNorms)> {
    let run = RunDir::new(run_dir);
    let rows = run.read_grads()?;
    let step = rows.iter().map(|r| r.step).min().with_context(|| format!("{} has no rows", run.grads().display()))?;
    let first = rows.into_iter().filter(|r| r.step == step && r.gate == "all" && r.direction != "reverse");
    Ok((step, first.filter_map(|r| Some(((r.layer?, r.parameter.into_owned()), f64::from(r.norm)))).collect()))
}

/// Said instead of the time profile when no position got a gradient above zero.
pub(super) const NO_TIME_PROFILE: &str =
    "No gradient reached the input embedding at any position in the last epoch (every ‖∂L/∂x_t‖ in `grads_time.csv` is 0: \
     below the smallest float, subnormals flushed): through time it vanished completely.";

/// Whether any position of any profile got a gradient above zero (else there is nothing
/// to draw on a log scale).
pub(super) fn any_positive(series: &[TimeSeries]) -> bool {
    series.iter().any(|(_, points)| points.iter().any(|(_, v)| *v > 0.0 && v.is_finite()))
}

/// What the reading says of the positions where a profile became exactly 0 (none: "").
pub(super) fn zero_cut_text(cuts: &[plots::ZeroCut]) -> String {
    if cuts.is_empty() {
        return String::new();
    }
    let at: Vec<String> = cuts.iter().map(|c| format!("{} at t = {}", c.label, c.t)).collect();
    format!(
        " {} where the mean norm becomes **exactly 0** ({}; dashed in the figure): the gradient fell below the smallest normal float (~1e-38) \
         and the CPU flushes subnormals to zero (`--denormals flush`, the default, for speed), so everything further back reads 0. \
         `--denormals keep` computes the tail exactly, down to ~1e-45.",
        if cuts.len() == 1 { "The curve stops" } else { "The curves stop" },
        at.join(", ")
    )
}

fn sci(v: Option<&f64>) -> String {
    v.map(|v| format!("{v:.3e}")).unwrap_or_else(|| "-".into())
}

/// `1.234e-2`, or `1.234e-2 ± 5.000e-3` over several seeds.
fn sci_stat(s: Stat) -> String {
    if s.n > 1 {
        format!("{:.3e} ± {:.3e}", s.mean, s.std)
    } else {
        format!("{:.3e}", s.mean)
    }
}

/// What [`within_stack`] reads: the table rows of the first seed, each seed's mean over
/// epochs of log10(layer 0 / top), and (epochs where layer 0 is smaller, epochs).
type WithinStack = (Vec<Vec<String>>, Vec<f64>, (usize, usize));

/// Layer 0 against the top layer inside one stack, epoch by epoch.
fn within_stack(cell: Cell, depth: i64, runs: &ModelRuns) -> Result<WithinStack> {
    let mut rows = Vec::new();
    let mut log_ratios = Vec::new();
    let mut smaller = (0, 0);
    for (seed, run) in runs.runs.iter().enumerate() {
        let grid = plots::read_layer_epoch_norms(&run.dir, "weight_hh")?;
        let epochs: Vec<usize> = grid.keys().filter(|(l, _)| *l == 0).map(|(_, e)| *e).collect();
        let mut logs = Vec::new();
        for e in epochs {
            let (Some(&bottom), Some(&top)) = (grid.get(&(0, e)), grid.get(&(depth - 1, e))) else { continue };
            if bottom > 0.0 && top > 0.0 {
                logs.push((bottom / top).log10());
            }
            if seed == 0 {
                smaller.1 += 1;
                smaller.0 += usize::from(bottom < top);
                rows.push(vec![
                    format!("{} {depth} layers", cell.name().to_uppercase()),
                    e.to_string(),
                    format!("{bottom:.3e}"),
                    format!("{top:.3e}"),
                    format!("{:.2}", bottom / top),
                ]);
            }
        }
        if !logs.is_empty() {
            log_ratios.push(logs.iter().sum::<f64>() / logs.len() as f64);
        }
    }
    Ok((rows, log_ratios, smaller))
}

pub(super) fn write(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let models = ctx.models(Section::Gradients);
    let all: Vec<ModelRuns> = models.iter().map(|&m| ctx.runs(m)).collect::<Result<_>>()?;
    let runs: Vec<StudyRun> = all.iter().map(|r| (r.model.cell, r.model.layers, r.first().dir.clone())).collect();
    let deepest = |cell: Cell| all.iter().filter(|r| r.model.cell == cell).max_by_key(|r| r.model.layers).context("no run of the cell");
    // Q9: the function on one batch.
    let rnn = deepest(Cell::Rnn)?;
    let (cell, depth, dir) = (rnn.model.cell, rnn.model.layers, &rnn.first().dir);
    let (step, norms) = first_step_norms(dir)?;
    let rows: Vec<Vec<String>> = (0..depth)
        .map(|l| {
            let get = |p: &str| norms.get(&(l, p.to_string()));
            vec![format!("layer {l}"), sci(get("weight_ih")), sci(get("weight_hh")), sci(get("bias_hh"))]
        })
        .collect();
    part.say(format!(
        "The norm ‖∂L/∂W‖ of each layer's parameters on one batch (step {step} of {}, {} layers, seed 0; `grads.csv` holds every step). Layer 0 is next to the embedding:",
        cell.name().to_uppercase(),
        depth
    ));
    part.table(&["layer", "W_ih", "W_hh", "b_hh"], rows);
    let top = norms.get(&(depth - 1, "weight_hh".to_string()));
    let bottom = norms.get(&(0, "weight_hh".to_string()));
    if let (Some(top), Some(bottom)) = (top, bottom) {
        part.say(format!(
            "On that batch layer 0's W_hh gradient is {bottom:.3e} and the top layer's {top:.3e}: layer 0 gets {:.2} times the top layer's ({}).",
            bottom / top,
            if bottom < top { "less, as a gradient vanishing down the stack would have it" } else { "more: on this batch nothing vanished on the way down" }
        ));
    }
    // Q10: within each stack, by layer and epoch.
    let mut within_rows = Vec::new();
    let mut within_text = Vec::new();
    let mut findings = Vec::new();
    for cell in Cell::ALL {
        let m = deepest(cell)?;
        let depth = m.model.layers;
        let file = format!("q9-q11-{}-l{depth}-heatmap.png", cell.name());
        plots::grad_heatmap(&m.first().dir, &ctx.figure(&file))?;
        part.figure(file.into(), format!("{} {depth} layers: mean gradient norm per layer (rows) and epoch (columns), seed 0", cell.name().to_uppercase()));
        if depth < 2 {
            continue;
        }
        let (rows, log_ratios, (smaller, epochs)) = within_stack(cell, depth, m)?;
        within_rows.extend(rows);
        let judged = Comparison::values(&log_ratios, &vec![0.0; log_ratios.len()]);
        let direction = match (smaller, epochs) {
            (s, e) if s == e => "smaller than the top layer's at every epoch: it shrinks on its way down the stack, as the textbook says",
            (0, _) => "larger than the top layer's at every epoch: inside this stack it does not shrink on its way down, against the textbook picture",
            _ => "smaller at some epochs and larger at others: no steady shrinking down the stack",
        };
        within_text.push(format!(
            "in the {} {depth} layers, layer 0's W_hh gradient is {direction} ({smaller} of {epochs} epochs smaller, seed 0); log10(layer 0 / top), mean over epochs: {:+.2} decades, {}",
            cell.name().to_uppercase(),
            judged.diff,
            judged.verdict(1.0, 2, "decades")
        ));
        findings
            .push(format!("{} {depth} layers: layer 0's gradient smaller than the top layer's at {smaller} of {epochs} epochs", cell.name().to_uppercase()));
    }
    if !within_rows.is_empty() {
        part.say(
            "**Within a stack**: layer 0 (next to the embedding) against the top layer of the same model, epoch by epoch (mean over logged steps, seed 0):",
        );
        part.table(&["model", "epoch", "layer 0 ‖∂L/∂W_hh‖", "top layer ‖∂L/∂W_hh‖", "layer 0 / top"], within_rows);
        part.say(format!("Read within each stack: {}.", within_text.join("; ")));
    }
    // Q11: across depths (separate models).
    write_grads_by_depth(ctx.root, &runs)?;
    let points = depth_points(&runs)?;
    let file = "q9-q11-grad-vs-depth.png";
    plots::grad_vs_depth(&points, &ctx.figure(file))?;
    part.figure(file.into(), "layer 0's W_hh gradient norm (mean over epochs, seed 0) against the number of layers: one model per depth");
    let mut rows = Vec::new();
    let mut readings = Vec::new();
    for cell in Cell::ALL {
        let mine: Vec<&ModelRuns> = all.iter().filter(|r| r.model.cell == cell).collect();
        let mut per_model = Vec::new();
        for m in &mine {
            let norms: Vec<f64> = m.runs.iter().map(|r| plots::read_first_layer_norm(&r.dir)).collect::<Result<_>>()?;
            rows.push(vec![cell.name().to_uppercase(), m.model.layers.to_string(), sci_stat(Stat::of(&norms))]);
            per_model.push((m.model.layers, norms));
        }
        if let (Some((d0, a)), Some((d1, b))) = (per_model.first(), per_model.last()) {
            let log = |v: &[f64]| v.iter().filter(|x| **x > 0.0).map(|x| x.log10()).collect::<Vec<_>>();
            let judged = Comparison::values(&log(b), &log(a));
            readings.push(format!(
                "{} {d0} -> {d1} layers: x{:.2} ({:+.2} decades, {})",
                cell.name().to_uppercase(),
                Stat::of(b).mean / Stat::of(a).mean,
                judged.diff,
                judged.verdict(1.0, 2, "decades")
            ));
        }
    }
    part.table(&["cell", "layers", "layer 0 ‖∂L/∂W_hh‖, mean over epochs"], rows);
    part.say(format!(
        "**Across depths** (separately trained models): from the shallowest to the deepest model, the gradient reaching layer 0 goes {}. \
         A factor below 1 says a deeper model's first layer gets less gradient than a shallower model's; these are different models trained differently, \
         so it is not by itself the gradient vanishing down one stack (the within-stack reading above is). \
         `grads_by_depth.csv` in the course directory holds every layer, epoch and gate.",
        readings.join("; ")
    ));
    let shallow: Vec<StudyRun> = runs.iter().filter(|r| r.1 == 1).cloned().collect();
    let file = "q9-q11-grad-time.png";
    let series = time_series(&shallow, true)?;
    if any_positive(&series) {
        let cuts = plots::grad_over_time(&series, &ctx.figure(file), true)?;
        part.figure(file.into(), "‖∂L/∂x_t‖ against the distance from each review's last real token, last epoch, one layer, seed 0");
        let cut = zero_cut_text(&cuts);
        if !cut.is_empty() {
            part.say(cut.trim_start().to_string());
        }
    } else {
        part.say(NO_TIME_PROFILE);
    }
    part.finding(if findings.is_empty() { "no stack deeper than one layer to read".to_string() } else { format!("within a stack, {}", findings.join("; ")) });
    Ok(())
}
