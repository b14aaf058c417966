//! Several runs as one classifier: one vocabulary and one encoding required, their
//! P(positive) averaged, on reviews given or on the first run's test split.
use super::{classify, load_run, score_split, LoadedRun, Prediction, TestScores};
use crate::data::prepare::Prepared;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// The runs of an ensemble (one or more), loaded and checked to read reviews alike.
pub(crate) struct Ensemble {
    pub members: Vec<(PathBuf, LoadedRun)>,
}

/// What [`Ensemble::score_test`] measured: the ensemble's scores and each member's, on
/// the same reviews.
pub(crate) struct EnsembleScores {
    pub ensemble: TestScores,
    pub members: Vec<TestScores>,
}

impl Ensemble {
    /// Loads every run (as [`load_run`] does); refuses, in one line naming both runs and
    /// the first difference, a run whose vocabulary or encoding differs from the first's.
    pub(crate) fn load(dirs: &[PathBuf], device: &str, best: bool) -> Result<Ensemble> {
        let mut members: Vec<(PathBuf, LoadedRun)> = Vec::with_capacity(dirs.len());
        for dir in dirs {
            let run = load_run(dir, device, best)?;
            if let Some((first_dir, first)) = members.first() {
                check_same_reading(first_dir, first, dir, &run)?;
            }
            members.push((dir.clone(), run));
        }
        Ok(Ensemble { members })
    }

    /// The first run: its vocabulary, encoding and recorded data stand for all.
    pub(crate) fn first(&self) -> &LoadedRun {
        &self.members[0].1
    }

    /// `runs` as given, joined by ` + `.
    pub(crate) fn name(&self) -> String {
        self.members.iter().map(|(d, _)| d.display().to_string()).collect::<Vec<_>>().join(" + ")
    }

    /// Classifies `texts` ([`classify`]); with several runs, P(positive) is the mean of
    /// theirs and no logit is given.
    pub(crate) fn classify<'t>(&self, texts: &'t [String]) -> Result<Vec<Prediction<'t>>> {
        let mut each = self.members.iter().map(|(_, run)| classify(run, texts)).collect::<Result<Vec<_>>>()?;
        if each.len() == 1 {
            return Ok(each.pop().expect("one"));
        }
        let n = each.len() as f64;
        Ok((0..texts.len())
            .map(|i| {
                let mean = each.iter().map(|p| p[i].probability_positive).sum::<f64>() / n;
                Prediction::new(&texts[i], mean, None, each[0][i].tokens)
            })
            .collect())
    }

    /// Every member scored on the first run's test split (its seeded `--subset`), and the
    /// ensemble's mean probabilities scored against the same labels.
    pub(crate) fn score_test(&self, data: &Prepared) -> Result<EnsembleScores> {
        let test = crate::train::select_data(&self.first().record.config, data).test;
        let mut members = self.members.iter().map(|(_, run)| score_split(run, &test)).collect::<Result<Vec<_>>>()?;
        let ensemble = if members.len() == 1 { members.pop().expect("one") } else { mean_scores(&members) };
        Ok(EnsembleScores { ensemble, members })
    }
}

/// The scores of the members' mean probability: accuracy at 0.5, and binary
/// cross-entropy (probabilities clamped one float epsilon away from 0 and 1).
fn mean_scores(members: &[TestScores]) -> TestScores {
    let n = members.len() as f32;
    let first = &members[0];
    let probs: Vec<f32> = (0..first.probs.len()).map(|i| members.iter().map(|m| m.probs[i]).sum::<f32>() / n).collect();
    let reviews = probs.len().max(1) as f64;
    let correct = probs.iter().zip(&first.labels).filter(|(&p, &y)| (p > 0.5) == (y == 1)).count();
    let loss = probs
        .iter()
        .zip(&first.labels)
        .map(|(&p, &y)| {
            let p = (p as f64).clamp(f32::EPSILON as f64, 1.0 - f32::EPSILON as f64);
            -if y == 1 { p.ln() } else { (1.0 - p).ln() }
        })
        .sum::<f64>()
        / reviews;
    TestScores { loss, accuracy: correct as f64 / reviews, probs, labels: first.labels.clone(), lengths: first.lengths.clone() }
}

/// Refuses `other` unless it reads reviews as `first` does: the same words under the
/// same ids, the same --max-len and --truncate.
fn check_same_reading(first_dir: &Path, first: &LoadedRun, dir: &Path, other: &LoadedRun) -> Result<()> {
    let (a, b) = (first_dir.display(), dir.display());
    let (wa, wb) = (first.vocab.words(), other.vocab.words());
    if let Some(id) = wa.iter().zip(wb).position(|(x, y)| x != y) {
        bail!("runs {a} and {b} have different vocabularies: id {id} is {:?} in {a}, {:?} in {b}; an ensemble takes runs of one vocabulary", wa[id], wb[id]);
    }
    if wa.len() != wb.len() {
        bail!("runs {a} and {b} have different vocabularies: {} words in {a}, {} in {b}; an ensemble takes runs of one vocabulary", wa.len(), wb.len());
    }
    let (ea, eb) = (&first.record.config.encode, &other.record.config.encode);
    if ea.max_len != eb.max_len {
        bail!("runs {a} and {b} read reviews differently: --max-len {} in {a}, {} in {b}; an ensemble takes runs of one encoding", ea.max_len, eb.max_len);
    }
    if ea.truncate != eb.truncate {
        bail!(
            "runs {a} and {b} read reviews differently: --truncate {:?} in {a}, {:?} in {b}; an ensemble takes runs of one encoding",
            ea.truncate,
            eb.truncate
        );
    }
    Ok(())
}
