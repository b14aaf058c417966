//! Training steps against PyTorch itself: from the same weights and the same batches,
//! imdb-rnn's model, loss and Adam give torch.nn's losses and weights, step for step,
//! for every cell and readout. (Run by the venv's python, which scripts/env.sh puts first
//! on PATH.)
mod common;
use imdb_rnn::Adam;
use imdb_rnn::{Cell, Classifier, EmbeddingMode, ModelConfig, Nonlinearity, Readout, RecurrentConfig};
use serde_json::{json, Value};
use tch::{Device, Kind, Tensor};

const VOCAB: i64 = 30;
const T: i64 = 9;
const LR: f64 = 0.01;
const STEPS: usize = 6;

/// Three batches of five reviews, 0-padded at the end, lengths 1..=T (one full, one of 1).
fn batches() -> Vec<(Vec<i64>, Vec<i64>, Vec<f32>)> {
    let lengths = [[9, 6, 3, 8, 1], [2, 9, 5, 4, 7], [1, 1, 9, 3, 6]];
    lengths
        .iter()
        .enumerate()
        .map(|(b, lens)| {
            let mut tokens = Vec::new();
            for (r, &len) in lens.iter().enumerate() {
                for t in 0..T {
                    tokens.push(if t < len { 2 + ((b as i64 * 7 + r as i64 * 5 + t * 3) % (VOCAB - 2)) } else { 0 });
                }
            }
            let labels = (0..5).map(|r| ((r + b) % 2) as f32).collect();
            (tokens, lens.to_vec(), labels)
        })
        .collect()
}

fn flat(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).unwrap()
}

fn weights(model: &Classifier) -> Value {
    model.named_parameters().iter().map(|(n, t)| (n.clone(), json!({"shape": t.size(), "data": flat(t)}))).collect::<serde_json::Map<_, _>>().into()
}

/// imdb-rnn's side: initial weights, per-step losses, final weights.
fn ours(cell: Cell, layers: i64, bidirectional: bool, readout: Readout) -> (Value, Vec<f64>, Value) {
    tch::manual_seed(11);
    let config = ModelConfig {
        vocab_size: VOCAB,
        embedding: EmbeddingMode::Random,
        recurrent: RecurrentConfig { cell, nonlinearity: Nonlinearity::Tanh, input_size: 6, hidden_size: 5, num_layers: layers, bidirectional, dropout: 0.0 },
        readout,
        ..ModelConfig::default()
    };
    let model = Classifier::new(&config, Device::Cpu, None).unwrap();
    let start = weights(&model);
    let params: Vec<&Tensor> = model.named_parameters().into_iter().map(|(_, t)| t).collect();
    let mut adam = Adam::new(&params, LR);
    let mut losses = Vec::new();
    let data = batches();
    for step in 0..STEPS {
        let (tokens, lengths, labels) = &data[step % data.len()];
        let tokens = Tensor::from_slice(tokens).reshape([5, T]);
        let lengths = Tensor::from_slice(lengths);
        let labels = Tensor::from_slice(labels);
        let logits = model.forward(&tokens, &lengths, true);
        let loss = logits.binary_cross_entropy_with_logits::<Tensor>(&labels, None, None, tch::Reduction::Mean);
        let grads = Tensor::run_backward(&[&loss], &params, false, false);
        adam.step(&params, &grads);
        losses.push(loss.double_value(&[]));
    }
    (start, losses, weights(&model))
}

/// PyTorch's side, from the same start.
const PYTHON: &str = r#"
import json, sys, warnings
warnings.filterwarnings("ignore")
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
case = json.load(sys.stdin)
torch.set_num_threads(1)
cell, layers, bi, readout = case["cell"], case["layers"], case["bidirectional"], case["readout"]
emb = nn.Embedding(case["vocab"], 6)
rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](6, 5, num_layers=layers, bidirectional=bi, batch_first=True)
fc = nn.Linear(5 * (2 if bi else 1) * (2 if readout == "meanmax" else 1), 1)
model = nn.ModuleDict({"embedding": emb, "rnn": rnn, "fc": fc})
with torch.no_grad():
    for name, p in model.named_parameters():
        w = case["start"][name]
        p.copy_(torch.tensor(w["data"], dtype=torch.float64).reshape(w["shape"]).float())
opt = torch.optim.Adam(model.parameters(), lr=case["lr"])
losses = []
for step in range(case["steps"]):
    tokens, lengths, labels = case["batches"][step % len(case["batches"])]
    x = emb(torch.tensor(tokens).reshape(5, -1))
    lengths = torch.tensor(lengths)
    if readout == "final":
        out, h = rnn(x)
    else:
        out, h = rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
    if isinstance(h, tuple):
        h = h[0]
    if readout in ("final", "last"):
        feat = torch.cat([h[-2], h[-1]], 1) if bi else h[-1]
    else:
        mean = out.sum(1) / lengths.unsqueeze(1)
        pad = torch.arange(x.shape[1]).unsqueeze(0) >= lengths.unsqueeze(1)
        most = out.masked_fill(pad.unsqueeze(2), float("-inf")).amax(1)
        feat = {"mean": mean, "max": most, "meanmax": torch.cat([mean, most], 1)}[readout]
    loss = nn.functional.binary_cross_entropy_with_logits(fc(feat).squeeze(1), torch.tensor(labels))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
print(json.dumps({"losses": losses, "end": {n: p.detach().double().flatten().tolist() for n, p in model.named_parameters()}}))
"#;

fn pytorch(case: &Value) -> Value {
    common::python_json("python", PYTHON, case, "`python` with torch must be on PATH: run the tests through scripts/test.sh, or `source scripts/env.sh` first")
}

fn assert_same_as_pytorch(cell: Cell, layers: i64, bidirectional: bool, readout: Readout) {
    let label = format!("{cell:?} layers={layers} bi={bidirectional} {readout:?}");
    let (start, losses, end) = ours(cell, layers, bidirectional, readout);
    let case = json!({
        "cell": cell.name(), "layers": layers, "bidirectional": bidirectional,
        "readout": serde_json::to_value(readout).unwrap(), "vocab": VOCAB, "lr": LR, "steps": STEPS,
        "start": start, "batches": batches(),
    });
    let torch = pytorch(&case);
    let torch_losses: Vec<f64> = serde_json::from_value(torch["losses"].clone()).unwrap();
    for (step, (a, b)) in losses.iter().zip(&torch_losses).enumerate() {
        assert!((a - b).abs() < 1e-5, "{label}: loss at step {} is {a}, PyTorch's {b}", step + 1);
    }
    assert_eq!(losses.len(), torch_losses.len());
    // The weights moved (lr 0.01 for 6 steps) and moved the same way.
    let mut moved = 0f64;
    for (name, w) in end.as_object().unwrap() {
        let ours: Vec<f64> = serde_json::from_value(w["data"].clone()).unwrap();
        let theirs: Vec<f64> = serde_json::from_value(torch["end"][name].clone()).unwrap();
        let first: Vec<f64> = serde_json::from_value(start[name]["data"].clone()).unwrap();
        assert_eq!(ours.len(), theirs.len(), "{label}: {name}");
        for i in 0..ours.len() {
            assert!((ours[i] - theirs[i]).abs() < 1e-5, "{label}: {name}[{i}] is {}, PyTorch's {}", ours[i], theirs[i]);
            moved = moved.max((ours[i] - first[i]).abs());
        }
    }
    assert!(moved > 0.01, "{label}: the weights hardly moved ({moved}), the comparison would prove little");
}

#[test]
fn the_course_model_trains_step_for_step_like_pytorch_for_every_cell() {
    for cell in Cell::ALL {
        assert_same_as_pytorch(cell, 1, false, Readout::Final);
    }
}

#[test]
fn stacked_and_bidirectional_models_train_like_pytorch() {
    assert_same_as_pytorch(Cell::Lstm, 2, true, Readout::Final);
    assert_same_as_pytorch(Cell::Gru, 3, false, Readout::Final);
    assert_same_as_pytorch(Cell::Rnn, 2, true, Readout::Final);
}

#[test]
fn packed_readouts_train_like_pytorchs_packed_sequences() {
    for readout in [Readout::Last, Readout::Mean, Readout::Max] {
        assert_same_as_pytorch(Cell::Lstm, 1, false, readout);
    }
    assert_same_as_pytorch(Cell::Gru, 2, true, Readout::Last);
    assert_same_as_pytorch(Cell::Rnn, 1, true, Readout::Mean);
}

#[test]
fn unpacked_bidirectional_stacks_train_like_pytorchs_packed_sequences() {
    // imdb-rnn runs these without packing (reversal within length, masked pooling);
    // PyTorch through pack_padded_sequence.
    assert_same_as_pytorch(Cell::Lstm, 3, true, Readout::Last);
    assert_same_as_pytorch(Cell::Gru, 3, true, Readout::Max);
    assert_same_as_pytorch(Cell::Rnn, 2, true, Readout::MeanMax);
    assert_same_as_pytorch(Cell::Gru, 2, false, Readout::MeanMax);
}
