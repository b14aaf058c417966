//! The accuracy chapters: the course RNN's learning curves (Q1-Q2), depth (Q3), LSTM and
//! GRU (Q4-Q5), and every architecture on random against frozen GloVe embeddings (Q7-Q8).
use super::Ctx;
use crate::course::doc::Part;
use crate::course::plan::{self, Model};
use crate::course::results::{points, ModelRuns, Stat, ACCURACY_HEADER};
use crate::course::sections::Section;
use crate::model::recurrent::Cell;
use crate::report::plots;
use anyhow::{bail, Context, Result};

fn load_all(ctx: &Ctx, section: Section) -> Result<Vec<ModelRuns>> {
    plan::models(section, ctx.scale).into_iter().map(|m| ctx.runs(m)).collect()
}

/// Test accuracy and loss per epoch of the first seed of each model, in one figure.
fn overlay(ctx: &Ctx, part: &mut Part, runs: &[ModelRuns], file: &str, caption: &str) -> Result<()> {
    let dirs: Vec<_> = runs.iter().map(|r| r.first().dir.clone()).collect();
    plots::learning_curves_overlay(&dirs, &ctx.figure(file))?;
    part.figure(file.into(), caption);
    Ok(())
}

pub fn rnn(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let m = ctx.runs(Model::course(Cell::Rnn, 1, false))?;
    let file = "q1-q2-learning-curves.png";
    plots::learning_curves(&m.first().dir, &ctx.figure(file))?;
    part.figure(file.into(), format!("{}: loss and accuracy per epoch, train and test (seed 0)", m.model.label()));
    let epochs = m.runs.iter().map(|r| r.metrics.len()).min().unwrap_or(0);
    let per_epoch = |e: usize, f: fn(&crate::train::run::EpochMetrics) -> f64| Stat::of(&m.runs.iter().map(|r| f(&r.metrics[e])).collect::<Vec<_>>());
    let rows = (0..epochs)
        .map(|e| {
            vec![
                (e + 1).to_string(),
                per_epoch(e, |x| x.train_loss).acc(),
                per_epoch(e, |x| x.train_acc).acc(),
                per_epoch(e, |x| x.test_loss).acc(),
                per_epoch(e, |x| x.test_acc).acc(),
            ]
        })
        .collect();
    part.table(&["epoch", "train loss", "train accuracy", "test loss", "test accuracy"], rows);
    let last = epochs.checked_sub(1).context("the RNN run has no epoch")?;
    let (train, test) = (per_epoch(last, |x| x.train_acc).mean, per_epoch(last, |x| x.test_acc).mean);
    let (loss0, loss1) = (per_epoch(0, |x| x.train_loss).mean, per_epoch(last, |x| x.train_loss).mean);
    part.say(format!(
        "After {epochs} epochs the course's RNN is at **{test:.4}** test accuracy ({} points against chance, 0.5) and {train:.4} on its training reviews; \
         its training loss went from {loss0:.4} to {loss1:.4} ({}). {}",
        points(test, 0.5),
        if loss1 < loss0 { "down" } else { "not down" },
        if (train - test).abs() < 0.03 {
            "Train and test accuracy stay within 3 points of each other: no over-fitting yet."
        } else {
            "Train accuracy is more than 3 points away from test: what the model fits on its training reviews does not carry over."
        }
    ));
    Ok(())
}

pub fn depth(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let runs = load_all(ctx, Section::Depth)?;
    part.table(&ACCURACY_HEADER, runs.iter().map(|r| r.accuracy_row()).collect());
    let file = "q3-accuracy-vs-depth.png";
    let by_depth: Vec<(i64, Stat)> = runs.iter().map(|r| (r.model.layers, r.final_acc())).collect();
    crate::report::plots::accuracy_vs_depth(&[("rnn".to_string(), by_depth.iter().map(|(d, s)| (*d, s.mean)).collect())], &ctx.figure(file))?;
    part.figure(file.into(), "final test accuracy against the number of stacked RNN layers");
    overlay(ctx, part, &runs, "q3-learning-curves.png", "test accuracy and loss per epoch, one line per depth (seed 0)")?;
    let (best_depth, best) = by_depth.iter().max_by(|a, b| a.1.mean.total_cmp(&b.1.mean)).context("no depth")?;
    let (first, last) = (&runs[0], &runs[runs.len() - 1]);
    part.say(format!(
        "The best final test accuracy is **{:.4}, with {}**; with {} it is {:.4}, with {} {:.4} ({} points). \
         An epoch takes {:.1} s with {} and {:.1} s with {}.",
        best.mean,
        plan::layers(*best_depth),
        plan::layers(first.model.layers),
        first.final_acc().mean,
        plan::layers(last.model.layers),
        last.final_acc().mean,
        points(last.final_acc().mean, first.final_acc().mean),
        first.epoch_seconds().mean,
        plan::layers(first.model.layers),
        last.epoch_seconds().mean,
        plan::layers(last.model.layers)
    ));
    Ok(())
}

pub fn cells(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let runs = load_all(ctx, Section::Cells)?;
    part.table(&ACCURACY_HEADER, runs.iter().map(|r| r.accuracy_row()).collect());
    overlay(ctx, part, &runs, "q4-q5-learning-curves.png", "test accuracy and loss per epoch: RNN, LSTM and GRU, 1 and several layers (seed 0)")?;
    let one = |cell: Cell| runs.iter().find(|r| r.model == Model::course(cell, 1, false)).map(|r| r.final_acc().mean).context("a one-layer model is missing");
    let (rnn, lstm, gru) = (one(Cell::Rnn)?, one(Cell::Lstm)?, one(Cell::Gru)?);
    let best = runs.iter().max_by(|a, b| a.final_acc().mean.total_cmp(&b.final_acc().mean)).context("no model")?;
    part.say(format!(
        "With one layer, the GRU reaches **{gru:.4}**, {} points against the RNN's {rnn:.4}; the LSTM {lstm:.4} ({} points). \
         The best model of this section is the {} at {:.4}.",
        points(gru, rnn),
        points(lstm, rnn),
        best.model.label(),
        best.final_acc().mean
    ));
    Ok(())
}

pub fn glove(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let Some(glove) = ctx.glove else { bail!("no GloVe vectors (give --glove)") };
    let runs = load_all(ctx, Section::Glove)?;
    let mut rows = Vec::new();
    let mut gains = Vec::new();
    let (mut identical, mut checked) = (0, 0);
    for pair in runs.chunks(2) {
        let [random, frozen] = pair else { bail!("random and GloVe runs come in pairs") };
        let (mut all_same, mut max_change) = (true, 0f32);
        for run in &frozen.runs {
            let (same, change) = super::dictionary::embedding_change(&run.dir, glove)?;
            checked += 1;
            identical += usize::from(same);
            all_same &= same;
            max_change = max_change.max(change);
        }
        let (r, g) = (random.final_acc(), frozen.final_acc());
        gains.push((random.model.cell, g.mean - r.mean));
        rows.push(vec![
            random.model.label(),
            r.acc(),
            g.acc(),
            points(g.mean, r.mean),
            if all_same { "yes (bit for bit)".into() } else { format!("no (max |change| {max_change:.3e})") },
        ]);
    }
    part.table(&["model", "random embedding", "frozen GloVe", "GloVe − random (points)", "embedding after training = GloVe"], rows);
    overlay(ctx, part, &runs, "q7-q8-learning-curves.png", "test accuracy and loss per epoch, random against frozen GloVe (seed 0)")?;
    let ahead = gains.iter().filter(|(_, g)| *g > 0.0).count();
    let (best_cell, best_gain) = gains.iter().max_by(|a, b| a.1.total_cmp(&b.1)).context("no model")?;
    part.say(format!(
        "Frozen GloVe ({}-d, {:.1}% of the vocabulary covered) is ahead of a random embedding for **{ahead} of {}** cells; the largest difference is the {}'s, {} points. \
         After training, the frozen embedding equals the GloVe matrix bit for bit in {identical} of {checked} runs ({} rows × {}): the optimiser never touched it.",
        glove.dim,
        100.0 * glove.coverage.ratio(),
        gains.len(),
        best_cell.name().to_uppercase(),
        points(*best_gain, 0.0),
        glove.data.len() / glove.dim.max(1),
        glove.dim
    ));
    Ok(())
}
