//! A trained run in PyTorch's terms: its weights as one safetensors file under torch.nn's
//! parameter names, with its vocabulary and the model's shape in JSON files beside it.
use super::LoadedRun;
use crate::data::prepare::Truncate;
use crate::data::vocab::Vocab;
use crate::model::recurrent::{Cell, Nonlinearity};
use crate::model::Readout;
use crate::train::config::TrainConfig;
use anyhow::{Context, Result};
use serde::Serialize;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// The files of one export: the weights (`--out`) and, beside them, `STEM.vocab.json`
/// and `STEM.config.json` (`model.safetensors` -> `model.vocab.json`, `model.config.json`).
pub(crate) struct ExportFiles {
    pub weights: PathBuf,
    pub vocab: PathBuf,
    pub config: PathBuf,
}

impl ExportFiles {
    pub(crate) fn beside(weights: &Path) -> ExportFiles {
        let stem = weights.with_extension("");
        let named = |suffix: &str| {
            let mut name = stem.clone().into_os_string();
            name.push(suffix);
            PathBuf::from(name)
        };
        ExportFiles { weights: weights.to_path_buf(), vocab: named(".vocab.json"), config: named(".config.json") }
    }

    pub(crate) fn all(&self) -> [&Path; 3] {
        [&self.weights, &self.vocab, &self.config]
    }
}

/// `STEM.config.json`: what rebuilding the module and encoding a review take, then the
/// run's whole training configuration.
#[derive(Serialize)]
struct ExportConfig<'a> {
    cell: Cell,
    nonlinearity: Nonlinearity,
    vocab_size: i64,
    embedding_dim: i64,
    hidden_size: i64,
    num_layers: i64,
    bidirectional: bool,
    readout: Readout,
    max_len: usize,
    truncate: Truncate,
    pad_id: u32,
    unk_id: u32,
    tokenizer: &'static str,
    run: String,
    weights: &'a str,
    train_config: &'a TrainConfig,
}

impl<'a> ExportConfig<'a> {
    fn new(run: &'a LoadedRun, run_dir: &Path) -> ExportConfig<'a> {
        let model = &run.record.config.model;
        let rnn = &model.recurrent;
        let encode = &run.record.config.encode;
        ExportConfig {
            cell: rnn.cell,
            nonlinearity: rnn.nonlinearity,
            vocab_size: model.vocab_size,
            embedding_dim: rnn.input_size,
            hidden_size: rnn.hidden_size,
            num_layers: rnn.num_layers,
            bidirectional: rnn.bidirectional,
            readout: model.readout,
            max_len: encode.max_len,
            truncate: encode.truncate,
            pad_id: Vocab::PAD,
            unk_id: Vocab::UNK,
            tokenizer: r"re.sub(r'[^a-z0-9\s]', '', text.lower()).split()",
            run: std::fs::canonicalize(run_dir).unwrap_or_else(|_| run_dir.to_path_buf()).display().to_string(),
            weights: &run.weights,
            train_config: &run.record.config,
        }
    }
}

/// Writes the run's weights, vocabulary and configuration to `files`: all three staged
/// before any is renamed into place.
pub(crate) fn export(run: &LoadedRun, run_dir: &Path, files: &ExportFiles) -> Result<()> {
    let weights = safetensors_bytes(&run.model.named_parameters()).with_context(|| format!("cannot serialise the weights for {}", files.weights.display()))?;
    let vocab = serde_json::to_vec(&run.vocab)?;
    let config = serde_json::to_vec_pretty(&ExportConfig::new(run, run_dir))?;
    let staged = [
        crate::util::stage(&files.weights, &weights, true)?,
        crate::util::stage(&files.vocab, &vocab, true)?,
        crate::util::stage(&files.config, &config, true)?,
    ];
    staged.into_iter().try_for_each(crate::util::Staged::commit)
}

/// One float32 tensor's shape and little-endian bytes, as safetensors takes them.
struct F32Bytes {
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl safetensors::View for &F32Bytes {
    fn dtype(&self) -> safetensors::Dtype {
        safetensors::Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The safetensors file of `named` tensors (as float32), with `format: pt` in its
/// metadata as PyTorch checkpoints on the Hugging Face hub have.
fn safetensors_bytes(named: &[(String, &Tensor)]) -> Result<Vec<u8>> {
    let mut tensors = Vec::with_capacity(named.len());
    for (name, t) in named {
        let values = Vec::<f32>::try_from(t.detach().to_device(Device::Cpu).to_kind(Kind::Float).flatten(0, -1))?;
        let shape = t.size().iter().map(|&d| d as usize).collect();
        tensors.push((name.as_str(), F32Bytes { shape, bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect() }));
    }
    let metadata = Some(std::collections::HashMap::from([("format".to_string(), "pt".to_string())]));
    Ok(safetensors::serialize(tensors.iter().map(|(n, t)| (*n, t)), &metadata)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vocabulary_and_configuration_go_beside_the_weights_under_its_stem() {
        let files = ExportFiles::beside(Path::new("out/model.safetensors"));
        assert_eq!(files.vocab, Path::new("out/model.vocab.json"));
        assert_eq!(files.config, Path::new("out/model.config.json"));
        assert_eq!(ExportFiles::beside(Path::new("gru")).config, Path::new("gru.config.json"));
    }

    #[test]
    fn tensors_read_back_from_the_safetensors_bytes_unchanged() {
        let a = Tensor::from_slice(&[1.5f32, -2.0, 3.25, 0.0, 7.0, -0.125]).reshape([2, 3]);
        let b = Tensor::from_slice(&[0.5f32]);
        let bytes = safetensors_bytes(&[("fc.weight".into(), &a), ("fc.bias".into(), &b)]).unwrap();
        let read = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let weight = read.tensor("fc.weight").unwrap();
        assert_eq!(weight.shape(), [2, 3]);
        let values: Vec<f32> = weight.data().chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(values, [1.5, -2.0, 3.25, 0.0, 7.0, -0.125]);
        assert_eq!(read.tensor("fc.bias").unwrap().data(), 0.5f32.to_le_bytes());
    }
}
