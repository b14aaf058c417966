//! What the course runs: the settings of each scale and the runs each section needs, as
//! sweep points in one course directory (run names say cell, depth, embedding, readout
//! and seed, so sections that share a run share its directory).
use super::sections::Section;
use crate::model::recurrent::Cell;
use crate::model::{EmbeddingMode, Readout};
use crate::sweep::Point;
use crate::train::config::TrainArgs;
use crate::train::defaults;
use anyhow::{bail, Result};
use std::path::Path;

/// `--scale`: the course's own settings, or smaller ones that show its findings on a CPU.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scale {
    /// Seconds: 200 reviews of each split, 1 epoch, a tiny model. Checks that every
    /// section runs (CI, a first try); its models answer nothing.
    Smoke,
    /// The default: the course's findings in under 20 minutes for 3 seeds on 2 CPU cores
    /// (15,000 train and 2,000 test reviews, 100 tokens, hidden 64, 50-d embeddings,
    /// learning rate 0.005; the report names each departure from the course).
    #[value(alias = "quick")]
    Cpu,
    /// The course's settings (configs/q*.toml): all 50,000 reviews, 5 epochs, hidden 128,
    /// 100-d embeddings.
    Full,
}

impl Scale {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scale::Smoke => "smoke",
            Scale::Cpu => "cpu",
            Scale::Full => "full",
        }
    }

    /// Seeds per model when `--seeds` is not given: enough at the default scale for the
    /// readings to tell a finding from seed noise.
    pub(crate) fn default_seeds(self) -> u64 {
        match self {
            Scale::Cpu => 3,
            Scale::Smoke | Scale::Full => 1,
        }
    }

    /// GloVe when `--glove` is not given: the course's 100-d vectors at full scale; the
    /// 50-d ones at the smaller scales, the size of their random embedding, so that Q7-Q8
    /// changes only the vectors (and a user offline needs the smaller file).
    pub(crate) fn default_glove(self) -> &'static str {
        match self {
            Scale::Full => defaults::GLOVE,
            Scale::Cpu | Scale::Smoke => "glove-wiki-gigaword-50",
        }
    }

    /// The train options every run of the course shares at this scale: the course's
    /// (`Full`), with the smaller scales' departures on top.
    pub(crate) fn base(self) -> TrainArgs {
        // Every random-embedding model logs its gradients, so the gradient sections read
        // the same runs as the accuracy sections (logging does not change training).
        // The course's settings are imdb-rnn's defaults (train::defaults); set here so
        // the scales' departures below are overlaid on named values.
        let course = TrainArgs {
            hidden: Some(defaults::HIDDEN),
            emb_dim: Some(defaults::EMB_DIM),
            epochs: Some(defaults::EPOCHS),
            batch_size: Some(defaults::BATCH_SIZE),
            lr: Some(defaults::LR),
            max_len: Some(defaults::MAX_LEN),
            grad_every: Some(10),
            ..TrainArgs::default()
        };
        let departures = match self {
            Scale::Full => TrainArgs::default(),
            Scale::Cpu => TrainArgs {
                subset: Some(15_000),
                test_subset: Some(2_000),
                max_len: Some(100),
                hidden: Some(64),
                emb_dim: Some(50),
                lr: Some(0.005),
                grad_every: Some(5),
                ..TrainArgs::default()
            },
            Scale::Smoke => TrainArgs {
                subset: Some(200),
                epochs: Some(1),
                max_len: Some(50),
                hidden: Some(8),
                emb_dim: Some(8),
                grad_every: Some(1),
                ..TrainArgs::default()
            },
        };
        course.overlay(&departures)
    }

    /// Depths of the RNN (Q3) and of LSTM and GRU (Q4-Q5, Q9-Q11).
    pub(crate) fn depths(self, cell: Cell) -> Vec<i64> {
        match (self, cell) {
            (_, Cell::Rnn) | (Scale::Full, _) => vec![1, 2, 3, 4],
            (Scale::Cpu | Scale::Smoke, _) => vec![1, 2],
        }
    }

    /// What this scale changes from the course's settings, as (setting, course, here):
    /// the report names each.
    pub(crate) fn departures(self, shared: &TrainArgs) -> Vec<(&'static str, String, String)> {
        let (course, here) = (Scale::Full.base(), shared);
        let show = |v: Option<String>, all: &str| v.unwrap_or_else(|| all.to_string());
        let rows = [
            ("train reviews", show(course.subset.map(thousands), "25,000"), show(here.subset.map(thousands), "25,000")),
            (
                "test reviews evaluated",
                show(course.test_subset.or(course.subset).map(thousands), "25,000"),
                show(here.test_subset.or(here.subset).map(thousands), "25,000"),
            ),
            ("epochs", show(course.epochs.map(|v| v.to_string()), ""), show(here.epochs.map(|v| v.to_string()), "")),
            ("tokens per review (--max-len)", show(course.max_len.map(|v| v.to_string()), ""), show(here.max_len.map(|v| v.to_string()), "")),
            ("hidden units", show(course.hidden.map(|v| v.to_string()), ""), show(here.hidden.map(|v| v.to_string()), "")),
            ("embedding dimension (random)", show(course.emb_dim.map(|v| v.to_string()), ""), show(here.emb_dim.map(|v| v.to_string()), "")),
            ("learning rate (Adam)", show(course.lr.map(|v| v.to_string()), ""), show(here.lr.map(|v| v.to_string()), "")),
            ("batch size", show(course.batch_size.map(|v| v.to_string()), ""), show(here.batch_size.map(|v| v.to_string()), "")),
        ];
        rows.into_iter().filter(|(_, c, h)| c != h).collect()
    }
}

/// `10000` -> `10,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The train options the course sets run by run; `--` flags for them are refused.
pub(crate) const VARIED: [&str; 6] = ["cell", "layers", "emb", "readout", "batching", "seed"];

/// Refuses overrides of what the plan varies, naming the flag.
pub(crate) fn refuse_varied(over: &TrainArgs) -> Result<()> {
    let set = serde_json::to_value(over)?;
    for key in VARIED {
        if set.get(key).is_some() {
            let how = if key == "seed" { "use --seeds N for seeds 0..N-1" } else { "each section chooses it" };
            bail!("course: --{key} is what the course varies ({how}); leave it out, or run `imdb-rnn train` for one model");
        }
    }
    Ok(())
}

/// One model of the course, before seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Model {
    pub cell: Cell,
    pub layers: i64,
    pub glove: bool,
    pub readout: Readout,
    /// A random embedding of this size instead of the scale's (Q7-Q8's random model at
    /// GloVe's dimension, when the scale's differs from it).
    pub emb_dim: Option<i64>,
}

impl Model {
    pub(crate) fn course(cell: Cell, layers: i64, glove: bool) -> Model {
        Model { cell, layers, glove, readout: Readout::Final, emb_dim: None }
    }

    /// The course model with a random embedding of `dim`.
    pub(crate) fn random_of_dim(cell: Cell, layers: i64, dim: i64) -> Model {
        Model { emb_dim: Some(dim), ..Model::course(cell, layers, false) }
    }

    pub(crate) fn readout_name(self) -> &'static str {
        self.readout.name()
    }

    /// The run directory's name for `seed`: `gru-l2-glove-final-s0`, `gru-l1-random50-final-s0`.
    pub(crate) fn run_name(self, seed: u64) -> String {
        let emb = match (self.glove, self.emb_dim) {
            (true, _) => "glove".to_string(),
            (false, Some(dim)) => format!("random{dim}"),
            (false, None) => "random".to_string(),
        };
        format!("{}-l{}-{emb}-{}-s{seed}", self.cell.name(), self.layers, self.readout_name())
    }

    /// How the report names it: `GRU 2 layers, frozen GloVe`, `GRU 1 layer, random 50-d`.
    pub(crate) fn label(self) -> String {
        let cell = self.cell.name().to_uppercase();
        let layers = layers(self.layers);
        let emb = match (self.glove, self.emb_dim) {
            (true, _) => ", frozen GloVe".to_string(),
            (false, Some(dim)) => format!(", random {dim}-d"),
            (false, None) => String::new(),
        };
        let readout = if self.readout == Readout::Final { String::new() } else { format!(", readout {}", self.readout_name()) };
        format!("{cell} {layers}{emb}{readout}")
    }
}

/// `1 layer`, `3 layers`.
pub(crate) fn layers(n: i64) -> String {
    if n == 1 {
        "1 layer".into()
    } else {
        format!("{n} layers")
    }
}

/// The readouts "beyond the course" sets against the course's `final`, on a 1-layer GRU.
pub(crate) const BEYOND_READOUTS: [Readout; 2] = [Readout::Last, Readout::MeanMax];
pub(crate) const BEYOND_CELL: Cell = Cell::Gru;

/// GloVe's dimension when it differs from the random embedding's (`shared`'s
/// `--emb-dim`): Q7-Q8 then also trains a random embedding of GloVe's size, so that one
/// comparison changes only the vectors and the other shows the size's share.
pub(crate) fn glove_apart(shared: &TrainArgs, glove_dim: Option<i64>) -> Option<i64> {
    glove_dim.filter(|&g| g != shared.emb_dim.unwrap_or(defaults::EMB_DIM))
}

/// The models `section` reads, at `scale`; `glove_apart` as [`glove_apart`] gives it.
pub(crate) fn models(section: Section, scale: Scale, glove_apart: Option<i64>) -> Vec<Model> {
    let cells = Cell::ALL;
    let course = Model::course;
    match section {
        Section::Preparation => vec![],
        Section::Rnn => vec![course(Cell::Rnn, 1, false)],
        Section::Depth => scale.depths(Cell::Rnn).into_iter().map(|d| course(Cell::Rnn, d, false)).collect(),
        Section::Cells => {
            let mut m = vec![course(Cell::Rnn, 1, false)];
            for cell in [Cell::Lstm, Cell::Gru] {
                m.extend(scale.depths(cell).into_iter().map(|d| course(cell, d, false)));
            }
            m
        }
        Section::Dictionary => vec![course(Cell::Lstm, 1, false)],
        Section::Glove => cells
            .iter()
            .flat_map(|&c| [Some(course(c, 1, false)), glove_apart.map(|dim| Model::random_of_dim(c, 1, dim)), Some(course(c, 1, true))])
            .flatten()
            .collect(),
        Section::Gradients => cells.iter().flat_map(|&c| scale.depths(c).into_iter().map(move |d| course(c, d, false))).collect(),
        Section::Beyond => {
            let mut m = vec![course(BEYOND_CELL, 1, false)];
            m.extend(BEYOND_READOUTS.iter().map(|&readout| Model { readout, ..course(BEYOND_CELL, 1, false) }));
            m
        }
        // Its own runs when asked for alone: the course LSTM and beyond's readouts (it
        // explains the best of every run the chosen sections have).
        Section::Reading => {
            let mut m = vec![course(Cell::Lstm, 1, false)];
            m.extend(models(Section::Beyond, scale, glove_apart));
            m
        }
    }
}

/// Whether any of `sections` needs GloVe (the dictionary and the frozen embeddings).
pub(crate) fn needs_glove(sections: &[Section]) -> bool {
    sections.iter().any(|s| matches!(s, Section::Dictionary | Section::Glove))
}

/// Every model the chosen sections need, once each, in the order sections first need them.
pub(crate) fn all_models(sections: &[Section], scale: Scale, glove_apart: Option<i64>) -> Vec<Model> {
    let mut all: Vec<Model> = Vec::new();
    for m in sections.iter().flat_map(|&s| models(s, scale, glove_apart)) {
        if !all.contains(&m) {
            all.push(m);
        }
    }
    all
}

/// The train options of `model` with `seed`: the scale's shared options, the user's
/// overrides on top, then what the model itself is.
pub(crate) fn model_args(model: Model, seed: u64, shared: &TrainArgs, glove: Option<&str>) -> TrainArgs {
    let mut a = shared.clone();
    a.cell = Some(model.cell);
    a.layers = Some(model.layers);
    a.seed = Some(seed);
    a.readout = Some(model.readout);
    a.emb = Some(if model.glove { EmbeddingMode::GloveFrozen } else { EmbeddingMode::Random });
    // Only GloVe runs name the file (train warns about an unused --glove), and the
    // file sets their embedding's size.
    a.glove = glove.filter(|_| model.glove).map(String::from);
    if model.glove {
        a.emb_dim = None;
    }
    if let Some(dim) = model.emb_dim {
        a.emb_dim = Some(dim);
    }
    if model.readout != Readout::Final {
        a.clip = a.clip.or(Some(1.0));
    }
    a
}

/// The sweep points: every model for every seed, in `root/<run name>`.
pub(crate) fn points(root: &Path, models: &[Model], seeds: u64, shared: &TrainArgs, glove: Option<&str>) -> Vec<Point> {
    let mut out = Vec::new();
    for m in models {
        for seed in 0..seeds {
            let name = m.run_name(seed);
            out.push(Point::new(name.clone(), root.join(&name), model_args(*m, seed, shared, glove)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_share_runs_and_only_the_chosen_sections_are_planned() {
        let q3 = all_models(&[Section::Depth], Scale::Cpu, None);
        assert_eq!(
            q3.iter().map(|m| m.run_name(0)).collect::<Vec<_>>(),
            ["rnn-l1-random-final-s0", "rnn-l2-random-final-s0", "rnn-l3-random-final-s0", "rnn-l4-random-final-s0"]
        );
        let both = all_models(&[Section::Rnn, Section::Depth], Scale::Cpu, None);
        assert_eq!(both, q3, "Q1-Q2's RNN is Q3's depth 1");
        assert!(all_models(&[Section::Preparation], Scale::Full, None).is_empty());
        let beyond: Vec<String> = all_models(&[Section::Beyond], Scale::Cpu, None).iter().map(|m| m.run_name(1)).collect();
        assert_eq!(beyond, ["gru-l1-random-final-s1", "gru-l1-random-last-s1", "gru-l1-random-meanmax-s1"]);
    }

    #[test]
    fn glove_of_another_size_than_the_random_embedding_adds_a_random_model_of_its_size_to_q7_q8_only() {
        let full = Scale::Full.base();
        assert_eq!(glove_apart(&full, Some(100)), None, "the course's GloVe is the size of its random embedding");
        assert_eq!(glove_apart(&full, Some(50)), Some(50));
        assert_eq!(glove_apart(&full, None), None);
        let names = |apart| all_models(&[Section::Glove], Scale::Full, apart).iter().map(|m| m.run_name(0)).collect::<Vec<_>>();
        assert_eq!(
            names(None),
            [
                "rnn-l1-random-final-s0",
                "rnn-l1-glove-final-s0",
                "lstm-l1-random-final-s0",
                "lstm-l1-glove-final-s0",
                "gru-l1-random-final-s0",
                "gru-l1-glove-final-s0"
            ]
        );
        assert_eq!(names(Some(50))[..3], ["rnn-l1-random-final-s0", "rnn-l1-random50-final-s0", "rnn-l1-glove-final-s0"]);
        assert_eq!(
            all_models(&[Section::Cells, Section::Gradients], Scale::Full, Some(50)),
            all_models(&[Section::Cells, Section::Gradients], Scale::Full, None)
        );
        let m = Model::random_of_dim(Cell::Lstm, 1, 50);
        let a = model_args(m, 0, &full, Some("g.txt"));
        assert_eq!((a.emb_dim, a.emb, a.glove), (Some(50), Some(EmbeddingMode::Random), None));
        assert_eq!(m.label(), "LSTM 1 layer, random 50-d");
    }

    #[test]
    fn a_models_options_come_from_the_scale_the_overrides_and_the_model() {
        let shared = Scale::Cpu.base().overlay(&TrainArgs { epochs: Some(1), ..TrainArgs::default() });
        let a = model_args(Model { readout: Readout::Last, ..Model::course(Cell::Gru, 2, true) }, 3, &shared, Some("g.txt"));
        assert_eq!((a.cell, a.layers, a.seed, a.epochs, a.subset, a.hidden), (Some(Cell::Gru), Some(2), Some(3), Some(1), Some(15_000), Some(64)));
        assert_eq!((a.emb, a.glove.as_deref(), a.emb_dim, a.clip), (Some(EmbeddingMode::GloveFrozen), Some("g.txt"), None, Some(1.0)));
        assert!(refuse_varied(&TrainArgs { layers: Some(2), ..TrainArgs::default() }).unwrap_err().to_string().contains("--layers is what the course varies"));
    }

    #[test]
    fn a_scale_names_every_setting_it_changes_from_the_course_and_no_other() {
        assert!(Scale::Full.departures(&Scale::Full.base()).is_empty());
        let cpu = Scale::Cpu.departures(&Scale::Cpu.base());
        let named: Vec<&str> = cpu.iter().map(|(what, _, _)| *what).collect();
        assert_eq!(
            named,
            [
                "train reviews",
                "test reviews evaluated",
                "tokens per review (--max-len)",
                "hidden units",
                "embedding dimension (random)",
                "learning rate (Adam)"
            ]
        );
        assert_eq!(cpu[0], ("train reviews", "25,000".to_string(), "15,000".to_string()));
        let overridden = Scale::Cpu.base().overlay(&TrainArgs { epochs: Some(2), ..TrainArgs::default() });
        assert!(Scale::Cpu.departures(&overridden).iter().any(|(what, course, here)| *what == "epochs" && course == "5" && here == "2"));
    }
}
