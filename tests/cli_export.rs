//! `imdb-rnn export`: a run's weights, loaded by PyTorch itself under torch.nn's names,
//! give the logits `imdb-rnn predict` gives. (Run by the venv's python, which
//! scripts/env.sh puts first on PATH; it has torch but not the `safetensors` package,
//! so the script reads the file with the few lines the format takes.)
mod common;
use common::*;
use serde_json::{json, Value};
use std::path::Path;

/// Reviews to compare on: ordinary ones, unknown words, one longer than --max-len (so
/// truncation counts), and one without words.
const REVIEWS: [&str; 6] = [
    "a great movie, wonderful and brilliant acting",
    "awful. boring plot and terrible, bad acting!",
    "zyzzyva qwertyuiop never seen words",
    "great great bad awful fine movie wonderful terrible plot acting great boring brilliant bad the end of a long review that goes on",
    "",
    "Not GOOD at all... <br /> worst film",
];

/// PyTorch's side: the module rebuilt from STEM.config.json, the weights loaded with
/// `load_state_dict(strict=True)` (every name and shape must match), the reviews encoded
/// with the vocabulary file, and the logits.
const PYTHON: &str = r#"
import json, re, struct, sys, warnings
warnings.filterwarnings("ignore")
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

def load_file(path):
    """safetensors.torch.load_file, for a venv without the package."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    tensors = {}
    for name, t in header.items():
        if name != "__metadata__":
            assert t["dtype"] == "F32", t
            begin, end = t["data_offsets"]
            tensors[name] = torch.frombuffer(bytearray(body[begin:end]), dtype=torch.float32).reshape(t["shape"])
    return tensors, header.get("__metadata__")

class Classifier(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.readout = c["readout"]
        self.embedding = nn.Embedding(c["vocab_size"], c["embedding_dim"])
        rnn = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[c["cell"]]
        extra = {"nonlinearity": c["nonlinearity"]} if c["cell"] == "rnn" else {}
        self.rnn = rnn(c["embedding_dim"], c["hidden_size"], num_layers=c["num_layers"],
                       bidirectional=c["bidirectional"], batch_first=True, **extra)
        features = c["hidden_size"] * (2 if c["bidirectional"] else 1) * (2 if self.readout == "meanmax" else 1)
        self.fc = nn.Linear(features, 1)

    def forward(self, tokens, lengths):
        x = self.embedding(tokens)
        if self.readout == "final":
            out, h = self.rnn(x)
        else:
            out, h = self.rnn(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        h = h[0] if isinstance(h, tuple) else h
        if self.readout in ("final", "last"):
            feat = torch.cat([h[-2], h[-1]], 1) if self.rnn.bidirectional else h[-1]
        else:
            mean = out.sum(1) / lengths.unsqueeze(1)
            pad = torch.arange(x.shape[1]).unsqueeze(0) >= lengths.unsqueeze(1)
            most = out.masked_fill(pad.unsqueeze(2), float("-inf")).amax(1)
            feat = {"mean": mean, "max": most, "meanmax": torch.cat([mean, most], 1)}[self.readout]
        return self.fc(feat).squeeze(1)

case = json.load(sys.stdin)
c = json.load(open(case["config"]))
words = json.load(open(case["vocab"]))["words"]
index = {w: i for i, w in enumerate(words)}

def encode(text):
    ids = [index.get(w, c["unk_id"]) for w in re.sub(r"[^a-z0-9\s]", "", text.lower()).split()]
    n, m = len(ids), c["max_len"]
    ids = ids[:m] if c["truncate"] == "head" else ids[max(0, n - m):]
    return ids + [c["pad_id"]] * (m - len(ids)), min(max(n, 1), m)

state, metadata = load_file(case["weights"])
model = Classifier(c)
model.load_state_dict(state, strict=True)
model.eval()
encoded = [encode(t) for t in case["reviews"]]
with torch.no_grad():
    logits = model(torch.tensor([e[0] for e in encoded]), torch.tensor([e[1] for e in encoded]))
print(json.dumps({"logits": logits.tolist(), "names": list(state), "metadata": metadata}))
"#;

/// Trains `name` with `extra` options, exports it, and returns the names PyTorch loaded,
/// after checking its logits against `predict --json`'s on every review.
fn exported_logits_match_predict(tmp: &Path, archive: &Path, name: &str, extra: &[&str]) -> Vec<String> {
    let runs = tmp.join("runs");
    imdb_rnn(tmp)
        .args(["train", "--epochs", "2", "--hidden", "6", "--emb-dim", "5", "--max-len", "12", "--lr", "0.01", "--name", name, "--quiet"])
        .args(extra)
        .data_and_runs(archive, &runs)
        .assert()
        .success();
    let run = runs.join(name);
    let weights = tmp.join(format!("{name}.safetensors"));
    imdb_rnn(tmp).arg("export").arg(&run).arg("--out").arg(&weights).assert().success();
    let out = imdb_rnn(tmp).args(["predict", "--json", "--run"]).arg(&run).args(REVIEWS).assert().success().get_output().stdout.clone();
    let ours: Vec<f64> = String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["logit"].as_f64().unwrap()).collect();
    let case = json!({
        "weights": weights, "vocab": tmp.join(format!("{name}.vocab.json")), "config": tmp.join(format!("{name}.config.json")), "reviews": REVIEWS,
    });
    let torch: Value =
        python_json("python", PYTHON, &case, "`python` with torch must be on PATH: run the tests through scripts/test.sh, or `source scripts/env.sh` first");
    let theirs: Vec<f64> = serde_json::from_value(torch["logits"].clone()).unwrap();
    assert_eq!(ours.len(), REVIEWS.len());
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert!((a - b).abs() < 1e-5, "{name}: review {i} has logit {a} in predict, {b} in PyTorch");
    }
    assert!(ours.iter().any(|&l| l.abs() > 0.05), "{name}: logits {ours:?} are all near 0, the comparison would prove little");
    assert_eq!(torch["metadata"], json!({"format": "pt"}));
    serde_json::from_value(torch["names"].clone()).unwrap()
}

#[test]
fn pytorch_loads_an_export_of_every_cell_and_gives_the_logits_of_predict() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    for cell in ["rnn", "lstm", "gru"] {
        let mut names = exported_logits_match_predict(tmp.path(), &archive, cell, &["--cell", cell]);
        names.sort();
        let expected = ["embedding.weight", "fc.bias", "fc.weight", "rnn.bias_hh_l0", "rnn.bias_ih_l0", "rnn.weight_hh_l0", "rnn.weight_ih_l0"];
        assert_eq!(names, expected, "{cell}");
    }
    exported_logits_match_predict(tmp.path(), &archive, "relu", &["--cell", "rnn", "--nonlinearity", "relu"]);
}

#[test]
fn pytorch_loads_a_bidirectional_two_layer_export_with_each_length_aware_readout() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    for (cell, readout) in [("lstm", "last"), ("gru", "mean"), ("rnn", "max"), ("gru", "meanmax")] {
        let name = format!("{cell}-{readout}");
        let names = exported_logits_match_predict(tmp.path(), &archive, &name, &["--cell", cell, "--readout", readout, "--layers", "2", "--bidirectional"]);
        assert_eq!(names.len(), 1 + 2 * 2 * 4 + 2, "{name}: {names:?}");
        assert!(names.contains(&"rnn.weight_hh_l1_reverse".to_string()), "{name}: {names:?}");
    }
}

#[test]
fn export_refuses_an_out_whose_vocabulary_file_is_a_directory_before_reading_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("model.vocab.json")).unwrap();
    let out = tmp.path().join("model.safetensors");
    imdb_rnn(tmp.path()).args(["export", "no-such-run", "--out"]).arg(&out).assert().code(1).stderr(format!(
        "imdb-rnn: --out {} is a directory; give the path of a regular file (or of a new one): only a regular file is replaced\n",
        tmp.path().join("model.vocab.json").display()
    ));
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn export_writes_nothing_when_the_run_has_no_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("model.safetensors");
    imdb_rnn(tmp.path()).args(["export", "no-such-run", "--out"]).arg(&out).assert().code(1);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "no file and no temp file left");
}
