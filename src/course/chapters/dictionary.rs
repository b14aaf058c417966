//! Q6: GloVe as a dictionary (a few words' vectors, the vocabulary's coverage) and the
//! nearest neighbours of those words in GloVe and in the embedding a run learned.
use super::Ctx;
use crate::course::doc::Part;
use crate::course::plan::Model;
use crate::data::glove::GloveMatrix;
use crate::data::vocab::Vocab;
use crate::model::recurrent::Cell;
use crate::report::neighbours::{norm, WordVectors};
use crate::report::stats::Comparison;
use crate::train::run::RunDir;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// Words shown when the vocabulary and GloVe both have them, in this order of preference.
const PREFERRED: [&str; 8] = ["good", "bad", "awful", "great", "boring", "movie", "wonderful", "terrible"];
/// How many words the section shows, and neighbours per word.
const WORDS: usize = 4;
const NEIGHBOURS: usize = 5;
/// Dimensions of each vector printed.
const SHOWN_DIMS: usize = 6;

/// A run's embedding matrix as saved in its model.ot: `[rows, dim]`, row-major.
pub(super) fn learned_embedding(run_dir: &Path) -> Result<(usize, Vec<f32>)> {
    let path = RunDir::new(run_dir).model();
    let tensors = tch::Tensor::load_multi(&path).map_err(|e| crate::util::torch_error(e, &path))?;
    let (_, weight) = tensors.into_iter().find(|(n, _)| n == "embedding.weight").with_context(|| format!("{} holds no embedding.weight", path.display()))?;
    let dim = weight.size()[1] as usize;
    Ok((dim, Vec::<f32>::try_from(weight.flatten(0, -1))?))
}

/// Whether a run's trained embedding equals `glove` bit for bit, and the largest
/// absolute difference between them.
pub(super) fn embedding_change(run_dir: &Path, glove: &GloveMatrix) -> Result<(bool, f32)> {
    let (dim, data) = learned_embedding(run_dir)?;
    if dim != glove.dim || data.len() != glove.data.len() {
        bail!("{}: the embedding is {} x {dim}, GloVe's {} x {}", run_dir.display(), data.len() / dim.max(1), glove.data.len() / glove.dim.max(1), glove.dim);
    }
    let identical = data.iter().zip(&glove.data).all(|(a, b)| a.to_bits() == b.to_bits());
    let max = data.iter().zip(&glove.data).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    Ok((identical, max))
}

/// The words to show: preferred ones the vocabulary and GloVe both hold, else the most
/// frequent vocabulary words with a GloVe vector.
fn pick_words(vocab: &Vocab, glove: &WordVectors) -> Vec<usize> {
    let has_vector = |i: usize| norm(glove.row(i)) > 0.0;
    let mut ids: Vec<usize> = PREFERRED.iter().map(|w| vocab.id(w) as usize).filter(|&i| i != Vocab::UNK as usize && has_vector(i)).collect();
    for i in Vocab::SPECIALS..vocab.len() {
        if ids.len() >= WORDS {
            break;
        }
        if has_vector(i) && !ids.contains(&i) {
            ids.push(i);
        }
    }
    ids.truncate(WORDS);
    ids
}

fn vector_text(v: &[f32]) -> String {
    let head: Vec<String> = v.iter().take(SHOWN_DIMS).map(|x| format!("{x:.3}")).collect();
    format!("[{}{}]", head.join(", "), if v.len() > SHOWN_DIMS { ", ..." } else { "" })
}

pub(super) fn write(ctx: &Ctx, part: &mut Part) -> Result<()> {
    let Some(glove) = ctx.glove else { bail!("no GloVe vectors (give --glove)") };
    let vocab = &ctx.data.vocab;
    let c = &glove.coverage;
    part.say(format!(
        "GloVe ({}-d, {} vectors in the file) has a vector for **{} of the {} vocabulary words ({:.1}%)**; the most frequent words it lacks: {}.",
        glove.dim,
        c.file_words,
        c.found,
        c.words,
        100.0 * c.ratio(),
        if c.top_missing.is_empty() { "none".to_string() } else { c.top_missing.iter().take(8).map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ") }
    ));
    let model = Model::course(Cell::Lstm, 1, false);
    let run = ctx.runs(model)?;
    let (dim, data) = learned_embedding(&run.first().dir)?;
    let learned = WordVectors { words: vocab.words(), dim, data };
    let pretrained = WordVectors { words: vocab.words(), dim: glove.dim, data: glove.data.clone() };
    let ids = pick_words(vocab, &pretrained);
    let candidates = Vocab::SPECIALS..vocab.len();
    let mut vectors = Vec::new();
    let mut neighbours = Vec::new();
    let (mut shared, mut listed) = (0, 0);
    for &i in &ids {
        let word = &vocab.words()[i];
        let g = pretrained.nearest(pretrained.row(i), Some(i), candidates.clone(), NEIGHBOURS);
        let l = learned.nearest(learned.row(i), Some(i), candidates.clone(), NEIGHBOURS);
        shared += l.iter().filter(|n| g.iter().any(|m| m.word == n.word)).count();
        listed += l.len();
        vectors.push(vec![
            format!("`{word}`"),
            vector_text(pretrained.row(i)),
            format!("{:.3}", norm(pretrained.row(i))),
            vector_text(learned.row(i)),
            format!("{:.3}", norm(learned.row(i))),
        ]);
        let show = |ns: &[crate::report::neighbours::Neighbour]| ns.iter().map(|n| format!("{} {:.2}", n.word, n.cosine)).collect::<Vec<_>>().join(", ");
        neighbours.push(vec![format!("`{word}`"), vocab.counts()[i].to_string(), show(&g), show(&l)]);
    }
    let learned_col = format!("learned by {} (seed 0)", model.label());
    part.table(&["word", "GloVe vector", "GloVe norm", &learned_col, "learned norm"], vectors);
    part.table(&["word", "train occurrences", "GloVe: nearest by cosine", &format!("{learned_col}: nearest")], neighbours);
    let first = run.first();
    let chance = Comparison::accuracy_against(&[first.summary.final_test_acc], 0.5, first.test_reviews);
    let caveat = if chance.is_finding() {
        String::new()
    } else {
        format!(
            " Mind that this LSTM (seed 0) ended at {:.4} test accuracy, within the noise of chance: a model that learned nothing cannot have learned meanings either, \
             so the overlap says little here.",
            first.summary.final_test_acc
        )
    };
    part.say(format!(
        "`embeddings['{}']` is a row lookup. GloVe's neighbours are words of the same meaning; the {} nearest neighbours the course LSTM learned share **{shared} of {listed}** \
         with GloVe's after {} epochs of training from random vectors: a few epochs of sentiment labels teach an embedding little about meaning, which is what a pre-trained one brings (Q7).{caveat}",
        ids.first().map(|&i| vocab.words()[i].as_str()).unwrap_or(""),
        NEIGHBOURS,
        first.metrics.len()
    ));
    part.finding(format!(
        "GloVe covers {:.1}% of the vocabulary; the learned embedding shares {shared} of {listed} nearest neighbours with it{}",
        100.0 * c.ratio(),
        if chance.is_finding() { "" } else { " (from an LSTM at chance)" }
    ));
    Ok(())
}
