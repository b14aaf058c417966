//! Q9-Q11: per-layer gradient norms on one batch, by layer and epoch, and by depth for
//! RNN, LSTM and GRU (the gradient study's figures, read from the course's runs).
use super::Ctx;
use crate::course::doc::Part;
use crate::course::plan;
use crate::course::sections::Section;
use crate::model::recurrent::Cell;
use crate::report::plots;
use crate::sweep::grads::{depth_points, time_series, write_grads_by_depth, StudyRun, TimeSeries};
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Gradient norms by `(layer, parameter)`, forward direction, all gates.
pub type StepNorms = BTreeMap<(String, String), f64>;

/// grads.csv's norms of one step, and that step: the first one logged.
pub fn first_step_norms(run_dir: &Path) -> Result<(u64, StepNorms)> {
    let path = run_dir.join("grads.csv");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).filter(|r: &Vec<&str>| r.len() == 7).collect();
    let step = rows.iter().filter_map(|r| r[1].parse::<u64>().ok()).min().with_context(|| format!("{} has no rows", path.display()))?;
    let mut out = BTreeMap::new();
    for r in rows.iter().filter(|r| r[1].parse::<u64>().ok() == Some(step) && r[5] == "all" && r[3] != "reverse") {
        if let Ok(norm) = r[6].parse::<f64>() {
            out.insert((r[2].to_string(), r[4].to_string()), norm);
        }
    }
    Ok((step, out))
}

/// Said instead of the time profile when no position got a gradient above zero.
pub const NO_TIME_PROFILE: &str = "No gradient reached the input embedding at any position in the last epoch (every ‖∂L/∂x_t‖ in `grads_time.csv` is 0: \
     below the smallest float, subnormals flushed): through time it vanished completely.";

/// Whether any position of any profile got a gradient above zero (else there is nothing
/// to draw on a log scale).
pub fn any_positive(series: &[TimeSeries]) -> bool {
    series.iter().any(|(_, points)| points.iter().any(|(_, v)| *v > 0.0 && v.is_finite()))
}

fn sci(v: Option<&f64>) -> String {
    v.map(|v| format!("{v:.3e}")).unwrap_or_else(|| "-".into())
}

pub fn write(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let models = plan::models(Section::Gradients, ctx.scale);
    let runs: Vec<StudyRun> = models.iter().map(|&m| Ok((m.cell, m.layers, ctx.runs(m)?.first().dir.clone()))).collect::<Result<_>>()?;
    let deepest = |cell: Cell| runs.iter().filter(|r| r.0 == cell).max_by_key(|r| r.1).context("no run of the cell");
    // Q9: the function on one batch.
    let (cell, depth, dir) = deepest(Cell::Rnn)?;
    let (step, norms) = first_step_norms(dir)?;
    let rows: Vec<Vec<String>> = (0..*depth)
        .map(|l| {
            let get = |p: &str| norms.get(&(l.to_string(), p.to_string()));
            vec![format!("layer {l}"), sci(get("weight_ih")), sci(get("weight_hh")), sci(get("bias_hh"))]
        })
        .collect();
    part.say(format!(
        "The norm ‖∂L/∂W‖ of each layer's parameters on one batch (step {step} of {}, {} layers, seed 0; `grads.csv` holds every step). Layer 0 is next to the embedding:",
        cell.name().to_uppercase(),
        depth
    ));
    part.table(&["layer", "W_ih", "W_hh", "b_hh"], rows);
    let top = norms.get(&((depth - 1).to_string(), "weight_hh".to_string()));
    let bottom = norms.get(&("0".to_string(), "weight_hh".to_string()));
    if let (Some(top), Some(bottom)) = (top, bottom) {
        part.say(format!("On that batch the top layer's W_hh gradient is {top:.3e} and layer 0's {bottom:.3e}: a ratio of {:.2}.", top / bottom));
    }
    // Q10: by layer and epoch, the deepest model of each cell.
    for cell in [Cell::Rnn, Cell::Lstm, Cell::Gru] {
        let (_, depth, dir) = deepest(cell)?;
        let file = format!("q9-q11-{}-l{depth}-heatmap.png", cell.name());
        plots::grad_heatmap(dir, &ctx.figure(&file))?;
        part.figure(file.into(), format!("{} {depth} layers: mean gradient norm per layer (rows) and epoch (columns)", cell.name().to_uppercase()));
    }
    // Q11: by depth.
    write_grads_by_depth(ctx.root, &runs)?;
    let points = depth_points(&runs)?;
    let file = "q9-q11-grad-vs-depth.png";
    plots::grad_vs_depth(&points, &ctx.figure(file))?;
    part.figure(file.into(), "layer 0's W_hh gradient norm (mean over epochs) against the number of layers");
    let mut rows = Vec::new();
    let mut readings = Vec::new();
    for cell in [Cell::Rnn, Cell::Lstm, Cell::Gru] {
        let mine: Vec<&plots::DepthPoint> = points.iter().filter(|p| p.cell == cell.name()).collect();
        for p in &mine {
            rows.push(vec![cell.name().to_uppercase(), p.depth.to_string(), format!("{:.3e}", p.first_layer_norm)]);
        }
        if let (Some(a), Some(b)) = (mine.first(), mine.last()) {
            readings.push(format!(
                "{} {:.3e} -> {:.3e} (x{:.2})",
                cell.name().to_uppercase(),
                a.first_layer_norm,
                b.first_layer_norm,
                b.first_layer_norm / a.first_layer_norm
            ));
        }
    }
    part.table(&["cell", "layers", "layer 0 ‖∂L/∂W_hh‖, mean over epochs"], rows);
    part.say(format!(
        "From the shallowest to the deepest model, the gradient reaching the first layer goes: {}. A factor below 1 is the gradient vanishing on its way down the stack. \
         `grads_by_depth.csv` in the course directory holds every layer, epoch and gate.",
        readings.join("; ")
    ));
    let shallow: Vec<StudyRun> = runs.iter().filter(|r| r.1 == 1).cloned().collect();
    let file = "q9-q11-grad-time.png";
    let series = time_series(&shallow, true)?;
    if any_positive(&series) {
        plots::grad_over_time(&series, &ctx.figure(file), true)?;
        part.figure(file.into(), "‖∂L/∂x_t‖ against the distance from each review's last real token, last epoch, one layer");
    } else {
        part.say(NO_TIME_PROFILE);
    }
    Ok(())
}
