//! `imdb-rnn embed`: the embedding as a dictionary (course Q6): each word's vector in a
//! run's learned embedding and in GloVe, and its nearest vocabulary words in each.
use super::DataCache;
use crate::cli::EmbedArgs;
use crate::data::prepare::EncodeConfig;
use crate::data::tokenize::tokenize;
use crate::data::vocab::Vocab;
use crate::report::neighbours::{norm, Neighbour, WordVectors};
use anyhow::{bail, Result};
use serde::Serialize;

/// What `embed` prints for one word.
#[derive(Serialize)]
struct WordReport {
    word: String,
    /// The word's id in the vocabulary; absent when the model reads it as `<unk>`.
    vocabulary_id: Option<u32>,
    train_count: Option<u64>,
    learned: Option<VectorReport>,
    glove: Option<VectorReport>,
}

#[derive(Serialize)]
struct VectorReport {
    vector: Vec<f32>,
    norm: f32,
    nearest: Vec<Neighbour>,
}

pub(crate) fn run(args: &EmbedArgs) -> Result<()> {
    if args.run.is_none() && args.glove.is_none() {
        bail!("embed needs --run DIR (a trained run's learned embedding) or --glove PATH|NAME (pre-trained vectors), or both");
    }
    let words = query_words(&args.words)?;
    let (vocab, learned, run_glove) = match &args.run {
        Some(dir) => {
            let crate::infer::LoadedRun { record, vocab, model, .. } = crate::infer::load_run(dir, "cpu", false)?;
            let dim = model.embedding.size()[1] as usize;
            let data = Vec::<f32>::try_from(model.embedding.detach().to_device(tch::Device::Cpu).flatten(0, -1))?;
            let glove = if args.glove.is_none() { crate::infer::recorded_data(dir, &record, "glove")? } else { None };
            (vocab, Some((dim, data)), glove)
        }
        None => {
            let mut cache = DataCache::new(&args.source);
            let vocab = cache.load(EncodeConfig { vocab_size: args.vocab_size, ..EncodeConfig::default() }, None)?.data.vocab.clone();
            (vocab, None, None)
        }
    };
    // The query words ride along after the vocabulary, so GloVe gives them a vector even
    // when the vocabulary does not hold them; neighbours are ranked within the vocabulary.
    let mut all = vocab.words().to_vec();
    all.extend(words.iter().filter(|w| vocab.id(w) == Vocab::UNK).cloned());
    let lookup = Vocab::from_parts(all.clone(), vec![0; all.len()]);
    let glove = match args.glove.clone().or(run_glove) {
        Some(value) => {
            let path = super::glove_path(&value, &args.source, &crate::fetch::data_home())?;
            let m = crate::data::glove::load(&path, &lookup)?;
            Some(WordVectors { words: &all, dim: m.dim, data: m.data })
        }
        None => None,
    };
    let learned = learned.map(|(dim, data)| WordVectors { words: vocab.words(), dim, data });
    let candidates = Vocab::SPECIALS..vocab.len();
    let reports: Vec<WordReport> = words
        .iter()
        .map(|w| {
            let id = Some(vocab.id(w)).filter(|&i| i != Vocab::UNK);
            let row = lookup.id(w) as usize;
            let report = |v: &WordVectors, row: usize| {
                let vector = v.row(row).to_vec();
                (vector.iter().any(|&x| x != 0.0)).then(|| VectorReport {
                    norm: norm(&vector),
                    nearest: v.nearest(&vector, Some(row), candidates.clone(), args.neighbours),
                    vector,
                })
            };
            WordReport {
                word: w.clone(),
                vocabulary_id: id,
                train_count: id.map(|i| vocab.counts()[i as usize]),
                learned: learned.as_ref().zip(id).and_then(|(v, i)| report(v, i as usize)),
                glove: glove.as_ref().and_then(|v| report(v, row)),
            }
        })
        .collect();
    if args.output.json {
        crate::outln!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        crate::out!("{}", text(&reports, learned.is_some(), glove.is_some()));
    }
    Ok(())
}

/// Each word as the course's tokenizer reads it; one that is not a single token is refused.
fn query_words(words: &[String]) -> Result<Vec<String>> {
    words
        .iter()
        .map(|w| match tokenize(w).as_slice() {
            [one] => Ok(one.clone()),
            _ => bail!("embed: {w:?} is not one word under the course's tokenizer (lowercase, letters and digits only); pass words one by one"),
        })
        .collect()
}

fn text(reports: &[WordReport], has_learned: bool, has_glove: bool) -> String {
    let mut out = String::new();
    for r in reports {
        match (r.vocabulary_id, r.train_count) {
            (Some(id), Some(c)) => out.push_str(&format!("{}  (vocabulary id {id}, {c} train occurrences)\n", r.word)),
            _ => out.push_str(&format!("{}  (not in the vocabulary: the model reads it as <unk>)\n", r.word)),
        }
        for (label, shown, v) in [("learned", has_learned, &r.learned), ("glove", has_glove, &r.glove)] {
            match v {
                Some(v) => {
                    let head: Vec<String> = v.vector.iter().take(6).map(|x| format!("{x:.3}")).collect();
                    let more = if v.vector.len() > 6 { ", ..." } else { "" };
                    out.push_str(&format!("  {label:<8} [{}{more}] ({} dims, norm {:.3})\n", head.join(", "), v.vector.len(), v.norm));
                    let near: Vec<String> = v.nearest.iter().map(|n| format!("{} {:.3}", n.word, n.cosine)).collect();
                    out.push_str(&format!("  {:<8} nearest: {}\n", "", near.join(", ")));
                }
                None if shown => out.push_str(&format!("  {label:<8} no vector\n")),
                None => {}
            }
        }
    }
    out
}
