//! The accuracy chapters: the course RNN's learning curves (Q1-Q2), depth (Q3), LSTM and
//! GRU (Q4-Q5), and every architecture on random against frozen GloVe embeddings (Q7-Q8).
use super::Ctx;
use crate::course::doc::Part;
use crate::course::plan::{self, Model};
use crate::course::results::{ModelRuns, Stat, ACCURACY_HEADER};
use crate::course::sections::Section;
use crate::model::recurrent::Cell;
use crate::report::plots;
use crate::report::stats::{binomial_se, Comparison};
use anyhow::{bail, Context, Result};

fn load_all(ctx: &Ctx, section: Section) -> Result<Vec<ModelRuns>> {
    ctx.models(section).into_iter().map(|m| ctx.runs(m)).collect()
}

/// Test accuracy and loss per epoch of every seed of each model, with their means.
fn seed_figure(ctx: &Ctx, part: &mut Part, runs: &[ModelRuns], file: &str, caption: &str) -> Result<()> {
    let curves: Vec<_> = runs.iter().map(|r| r.seed_curves()).collect();
    plots::seed_curves(&curves, "Test accuracy and loss per epoch", &ctx.figure(file))?;
    part.figure(file.into(), caption);
    Ok(())
}

/// What a seed count is called in captions: `each of 3 seeds and their mean`, `seed 0`.
fn seeds_caption(ctx: &Ctx) -> String {
    if ctx.seeds > 1 {
        format!("thin: each of {} seeds, thick: their mean", ctx.seeds)
    } else {
        "one seed".into()
    }
}

/// A comparison of two models' final test accuracy, and what it compares.
struct Compared {
    c: Comparison,
    name: String,
}

impl Compared {
    /// `LSTM 1 layer − RNN 1 layer: +2.3 points, within seed noise (n = 3; ...)`.
    fn text(&self) -> String {
        format!("{}: {}", self.name, self.c.points())
    }
}

fn compared(a: &ModelRuns, b: &ModelRuns) -> Compared {
    Compared { c: a.compare_final(b), name: format!("{} − {}", a.model.label(), b.model.label()) }
}

fn texts(all: &[Compared]) -> String {
    all.iter().map(Compared::text).collect::<Vec<_>>().join("; ")
}

/// The summary line of a set of comparisons: the ones that are findings, or that none is.
fn finding_line(what: &str, found: &[Compared], noise: &str) -> String {
    let findings: Vec<String> = found.iter().filter(|x| x.c.is_finding()).map(|x| format!("{} {:+.1} points", x.name, 100.0 * x.c.diff)).collect();
    if findings.is_empty() {
        format!("{what}: no difference beyond the noise ({noise})")
    } else {
        format!("{what}: beyond the noise, {}", findings.join("; "))
    }
}

/// `within seed noise (n = 3)` or `one seed`: how the rule judged a section's comparisons.
fn noise_label(ctx: &Ctx) -> String {
    if ctx.seeds > 1 {
        format!("n = {} seeds", ctx.seeds)
    } else {
        "one seed".into()
    }
}

pub(super) fn rnn(ctx: &Ctx, part: &mut Part) -> Result<()> {
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
    if m.runs.len() > 1 {
        seed_figure(
            ctx,
            part,
            std::slice::from_ref(&m),
            "q1-q2-seeds.png",
            &format!("{}: test accuracy and loss per epoch, one line per seed", m.model.label()),
        )?;
    }
    let last = epochs.checked_sub(1).context("the RNN run has no epoch")?;
    let (train, test) = (per_epoch(last, |x| x.train_acc).mean, per_epoch(last, |x| x.test_acc).mean);
    let (loss0, loss1) = (per_epoch(0, |x| x.train_loss).mean, per_epoch(last, |x| x.train_loss).mean);
    let chance = Comparison::accuracy_against(&m.final_accs(), 0.5, m.test_reviews());
    part.say(format!(
        "After {epochs} epochs the course's RNN is at **{test:.4}** test accuracy; against chance (0.5): {}. On its training reviews it is at {train:.4}; \
         its training loss went from {loss0:.4} to {loss1:.4} ({}). {}",
        chance.points(),
        if loss1 < loss0 { "down" } else { "not down" },
        if (train - test).abs() < 0.03 {
            "Train and test accuracy stay within 3 points of each other: no over-fitting yet."
        } else {
            "Train accuracy is more than 3 points away from test: what the model fits on its training reviews does not carry over."
        }
    ));
    part.finding(if chance.is_finding() {
        format!("the RNN ends at {} test accuracy, {} points from chance: it learned something", m.final_acc().acc(), signed_points(chance.diff))
    } else {
        format!("the RNN ends at {}: not distinguishable from chance ({})", m.final_acc().acc(), noise_label(ctx))
    });
    Ok(())
}

fn signed_points(diff: f64) -> String {
    format!("{:+.1}", 100.0 * diff)
}

pub(super) fn depth(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let runs = load_all(ctx, Section::Depth)?;
    part.table(&ACCURACY_HEADER, runs.iter().map(|r| r.accuracy_row()).collect());
    let file = "q3-accuracy-vs-depth.png";
    let by_depth: Vec<(i64, Vec<f64>)> = runs.iter().map(|r| (r.model.layers, r.final_accs())).collect();
    plots::accuracy_vs_depth(&[("rnn".to_string(), by_depth)], &ctx.figure(file))?;
    part.figure(file.into(), format!("final test accuracy against the number of stacked RNN layers ({})", seeds_caption(ctx)));
    seed_figure(ctx, part, &runs, "q3-learning-curves.png", &format!("test accuracy and loss per epoch, one colour per depth ({})", seeds_caption(ctx)))?;
    let first = &runs[0];
    let against: Vec<Compared> = runs[1..].iter().map(|r| compared(r, first)).collect();
    let last = &runs[runs.len() - 1];
    part.say(format!(
        "Against {} ({}): {}. An epoch takes {:.1} s with {} and {:.1} s with {}.",
        plan::layers(first.model.layers),
        first.final_acc().acc(),
        texts(&against),
        first.epoch_seconds().mean,
        plan::layers(first.model.layers),
        last.epoch_seconds().mean,
        plan::layers(last.model.layers)
    ));
    part.finding(finding_line("depth against 1 layer", &against, &noise_label(ctx)));
    Ok(())
}

/// The epoch at which a seed's test accuracy first leaves chance: above 0.5 by more than
/// 2 binomial standard errors of the test set.
fn escape_epoch(run: &crate::course::results::Run) -> Option<usize> {
    let floor = 0.5 + 2.0 * binomial_se(0.5, run.test_reviews);
    run.metrics.iter().find(|m| m.test_acc > floor).map(|m| m.epoch)
}

/// The course LSTM's plateau: each seed's test accuracy per epoch, and when it left chance.
fn plateau(ctx: &Ctx, part: &mut Part, lstm: &ModelRuns) -> Result<()> {
    let floor = 0.5 + 2.0 * binomial_se(0.5, lstm.test_reviews());
    let per_seed: Vec<String> = lstm
        .runs
        .iter()
        .enumerate()
        .map(|(s, r)| match escape_epoch(r) {
            Some(e) => format!("seed {s} left it at epoch {e} (final {:.4})", r.summary.final_test_acc),
            None => format!("seed {s} never did (final {:.4})", r.summary.final_test_acc),
        })
        .collect();
    let left = lstm.runs.iter().filter(|r| escape_epoch(r).is_some()).count();
    let spread = if left == 0 {
        format!(" No seed left chance in {} epochs at this scale: the escape needs more reviews or epochs.", lstm.first().metrics.len())
    } else if lstm.runs.len() > 1 {
        let s = lstm.final_acc();
        format!(
            " The epoch of the escape decides the final score: over {} seeds the final test accuracy is {} (from {:.4} to {:.4}).",
            s.n,
            s.acc(),
            lstm.final_accs().iter().copied().fold(f64::INFINITY, f64::min),
            lstm.final_accs().iter().copied().fold(f64::NEG_INFINITY, f64::max)
        )
    } else {
        " One seed shows one escape; run `--seeds 3` or more to see how much the escape epoch moves the final score.".into()
    };
    part.say(format!(
        "**The plateau.** The course's LSTM (`final` readout) starts at chance and leaves it at an epoch that varies from seed to seed; \
         \"left chance\" here means test accuracy above {floor:.4} (0.5 + 2 binomial SE of {} test reviews). {left} of {} seeds left it: {}.{spread}",
        lstm.test_reviews(),
        lstm.runs.len(),
        per_seed.join(", ")
    ));
    let file = "q4-q5-lstm-plateau.png";
    plots::seed_curves(&[lstm.seed_curves()], &format!("{}: the plateau and its escape", lstm.model.label()), &ctx.figure(file))?;
    part.figure(file.into(), format!("{}: test accuracy and loss per epoch, one line per seed", lstm.model.label()));
    Ok(())
}

pub(super) fn cells(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let runs = load_all(ctx, Section::Cells)?;
    part.table(&ACCURACY_HEADER, runs.iter().map(|r| r.accuracy_row()).collect());
    seed_figure(
        ctx,
        part,
        &runs,
        "q4-q5-learning-curves.png",
        &format!("test accuracy and loss per epoch: RNN, LSTM and GRU, 1 and several layers ({})", seeds_caption(ctx)),
    )?;
    let one = |cell: Cell| runs.iter().find(|r| r.model == Model::course(cell, 1, false)).context("a one-layer model is missing");
    let (rnn, lstm, gru) = (one(Cell::Rnn)?, one(Cell::Lstm)?, one(Cell::Gru)?);
    let mut pairs = vec![compared(lstm, rnn), compared(gru, rnn), compared(gru, lstm)];
    let deeper: Vec<Compared> =
        runs.iter().filter(|r| r.model.layers > 1 && r.model.cell != Cell::Rnn).map(|r| compared(r, one(r.model.cell).expect("found above"))).collect();
    part.say(format!(
        "With one layer: {}. With more layers: {}.",
        texts(&pairs),
        if deeper.is_empty() { "none at this scale".to_string() } else { texts(&deeper) }
    ));
    plateau(ctx, part, lstm)?;
    pairs.extend(deeper);
    part.finding(finding_line("cells and depth", &pairs, &noise_label(ctx)));
    Ok(())
}

pub(super) fn glove(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let Some(glove) = ctx.glove else { bail!("no GloVe vectors (give --glove)") };
    let runs = load_all(ctx, Section::Glove)?;
    let (mut rows, mut same_size, mut other_size, mut size_alone) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut identical, mut checked) = (0, 0);
    for cell in Cell::ALL {
        let of_cell: Vec<&ModelRuns> = runs.iter().filter(|r| r.model.cell == cell).collect();
        let Some(frozen) = of_cell.iter().find(|r| r.model.glove) else { bail!("no frozen-GloVe run of the {}", cell.name()) };
        let (same, change) = frozen_unchanged(frozen, glove)?;
        checked += frozen.runs.len();
        identical += same;
        let name = cell.name().to_uppercase();
        for random in of_cell.iter().filter(|r| !r.model.glove) {
            let c = frozen.compare_final(random);
            let (random_dim, glove_dim) = (random.first().emb_dim, frozen.first().emb_dim);
            rows.push(vec![
                random.model.label(),
                random_dim.to_string(),
                random.final_acc().acc(),
                glove_dim.to_string(),
                frozen.final_acc().acc(),
                format!("{:+.1}", 100.0 * c.diff),
                if c.is_finding() { "beyond the noise".into() } else { "within the noise".into() },
                change.clone(),
            ]);
            let pairs = if random_dim == glove_dim { &mut same_size } else { &mut other_size };
            pairs.push((Compared { c, name: format!("{name} GloVe − random {random_dim}-d") }, random_dim, glove_dim));
        }
        if let [a, b] = of_cell.iter().filter(|r| !r.model.glove).collect::<Vec<_>>()[..] {
            let (small, large) = if a.first().emb_dim < b.first().emb_dim { (a, b) } else { (b, a) };
            size_alone.push(Compared {
                c: large.compare_final(small),
                name: format!("{name} random {}-d − random {}-d", large.first().emb_dim, small.first().emb_dim),
            });
        }
    }
    part.table(
        &[
            "model",
            "random: dim",
            "random embedding",
            "GloVe: dim",
            "frozen GloVe",
            "GloVe − random (points)",
            "by the rule",
            "embedding after training = GloVe",
        ],
        rows,
    );
    seed_figure(
        ctx,
        part,
        &runs,
        "q7-q8-learning-curves.png",
        &format!("test accuracy and loss per epoch, random against frozen GloVe ({})", seeds_caption(ctx)),
    )?;
    let strip = |pairs: &[(Compared, i64, i64)]| pairs.iter().map(|(c, _, _)| Compared { c: c.c, name: c.name.clone() }).collect::<Vec<_>>();
    let (same, other) = (strip(&same_size), strip(&other_size));
    let sizes = match (same_size.first(), other_size.first()) {
        (Some((_, g, _)), Some((_, r, _))) => format!(
            " The course's random embedding is {r}-d and this GloVe {g}-d, so the section also trains a random {g}-d embedding: against it only the vectors differ \
             ({}); against the {r}-d one the vectors and the size do ({}). The size alone, random against random: {}.",
            texts(&same),
            texts(&other),
            texts(&size_alone)
        ),
        (None, Some((_, r, g))) => format!(
            " **The comparison mixes two changes**: the random embedding is {r}-d and GloVe {g}-d, so a difference may come from the pre-trained vectors or from the size \
             (give `--emb-dim {g}` to compare at the same dimension): {}.",
            texts(&other)
        ),
        _ => format!(" Both embeddings are {}-d: only the vectors (pre-trained and frozen, or random and trained) differ: {}.", glove.dim, texts(&same)),
    };
    part.say(format!(
        "Frozen GloVe ({}-d, {:.1}% of the vocabulary covered) against a random embedding, cell by cell.{sizes} \
         After training, the frozen embedding equals the GloVe matrix bit for bit in {identical} of {checked} runs ({} rows × {}): the optimiser never touched it.",
        glove.dim,
        100.0 * glove.coverage.ratio(),
        glove.data.len() / glove.dim.max(1),
        glove.dim
    ));
    let mut line = if same.is_empty() {
        let (r, g) = other_size.first().map_or((0, 0), |(_, r, g)| (*r, *g));
        format!("{} (random {r}-d against GloVe {g}-d: two changes at once)", finding_line("frozen GloVe against random", &other, &noise_label(ctx)))
    } else {
        finding_line("frozen GloVe against a random embedding of its size", &same, &noise_label(ctx))
    };
    if !size_alone.is_empty() {
        line.push_str(&format!("; {}", finding_line("the random embedding's size alone", &size_alone, &noise_label(ctx))));
    }
    part.finding(line);
    Ok(())
}

/// How many of `frozen`'s runs end with the embedding bit for bit the GloVe matrix, and
/// the table's cell saying it.
fn frozen_unchanged(frozen: &ModelRuns, glove: &crate::data::glove::GloveMatrix) -> Result<(usize, String)> {
    let (mut identical, mut max_change) = (0, 0f32);
    for run in &frozen.runs {
        let (same, change) = super::dictionary::embedding_change(&run.dir, glove)?;
        identical += usize::from(same);
        max_change = max_change.max(change);
    }
    let cell = if identical == frozen.runs.len() { "yes (bit for bit)".to_string() } else { format!("no (max |change| {max_change:.3e})") };
    Ok((identical, cell))
}
