//! The model against PyTorch's conventions and against independent computations.
use imdb_rnn::grads;
use imdb_rnn::{Cell, Classifier, EmbeddingMode, ModelConfig, Nonlinearity, Readout, RecurrentConfig};
use tch::{Device, Kind, Tensor};

fn config(cell: Cell, layers: i64, bidirectional: bool, readout: Readout) -> ModelConfig {
    ModelConfig {
        vocab_size: 12,
        embedding: EmbeddingMode::Random,
        recurrent: RecurrentConfig { cell, nonlinearity: Nonlinearity::Tanh, input_size: 3, hidden_size: 4, num_layers: layers, bidirectional, dropout: 0.0 },
        readout,
        ..ModelConfig::default()
    }
}

/// Names and shapes PyTorch gives for every (cell, layers, bidirectional), computed by
/// the real torch in one Python call; panics when no python on PATH has torch (the test
/// scripts put the project's venv first), so the comparison is never skipped silently.
fn pytorch_parameters() -> serde_json::Value {
    let py = "import torch,json\nout={}\nfor c in ['RNN','LSTM','GRU']:\n for l in (1,2,3):\n  for b in (False,True):\n   m=getattr(torch.nn,c)(3,4,num_layers=l,bidirectional=b)\n   out[f'{c.lower()}-{l}-{b}']=[[n,list(p.shape)] for n,p in m.named_parameters()]\nprint(json.dumps(out))";
    for python in ["python", "python3"] {
        if let Ok(out) = std::process::Command::new(python).args(["-c", py]).output() {
            if out.status.success() {
                return serde_json::from_slice(&out.stdout).unwrap();
            }
        }
    }
    panic!("no python with torch on PATH: run the tests through scripts/test.sh, or `source scripts/env.sh` first");
}

#[test]
fn parameter_names_and_shapes_equal_pytorchs_for_one_to_three_layers_both_directions() {
    let torch = pytorch_parameters();
    let mut compared_with_torch = 0;
    for cell in Cell::ALL {
        for layers in 1..=3 {
            for bi in [false, true] {
                let m = Classifier::new(&config(cell, layers, bi, Readout::Final), Device::Cpu, None).unwrap();
                let ours: Vec<(String, Vec<i64>)> = m.rnn.params.iter().map(|(n, t)| (n.clone(), t.size())).collect();
                // Independent of Python: the documented layout of torch.nn.{RNN,LSTM,GRU}.
                let mut expected = Vec::new();
                let g = cell.gates() * 4;
                for l in 0..layers {
                    let input = if l == 0 { 3 } else { 4 * if bi { 2 } else { 1 } };
                    for sfx in if bi { vec!["", "_reverse"] } else { vec![""] } {
                        expected.push((format!("weight_ih_l{l}{sfx}"), vec![g, input]));
                        expected.push((format!("weight_hh_l{l}{sfx}"), vec![g, 4]));
                        expected.push((format!("bias_ih_l{l}{sfx}"), vec![g]));
                        expected.push((format!("bias_hh_l{l}{sfx}"), vec![g]));
                    }
                }
                assert_eq!(ours, expected, "{cell:?} layers={layers} bi={bi}");
                let key = format!("{}-{layers}-{}", cell.name(), if bi { "True" } else { "False" });
                let theirs: Vec<(String, Vec<i64>)> = serde_json::from_value(torch[&key].clone()).unwrap();
                assert_eq!(ours, theirs, "{cell:?} layers={layers} bi={bi} vs torch");
                compared_with_torch += 1;
            }
        }
    }
    assert_eq!(compared_with_torch, 18, "every configuration compared with the installed torch");
}

#[test]
fn pytorch_default_initialisation_bounds_hold() {
    tch::manual_seed(0);
    let m = Classifier::new(&config(Cell::Lstm, 2, false, Readout::Final), Device::Cpu, None).unwrap();
    let bound = 1.0 / 2.0; // 1/sqrt(hidden=4)
    for (name, t) in &m.rnn.params {
        let max = t.abs().max().double_value(&[]);
        assert!(max <= bound && max > 0.1, "{name}: max |w| = {max}");
    }
}

/// Converts every parameter to f64 so finite differences are accurate.
fn to_double(m: &mut Classifier) {
    let conv = |t: &Tensor| t.detach().to_kind(Kind::Double).set_requires_grad(true);
    m.embedding = conv(&m.embedding);
    for (_, t) in m.rnn.params.iter_mut() {
        *t = conv(t);
    }
    m.fc_weight = conv(&m.fc_weight);
    m.fc_bias = conv(&m.fc_bias);
}

fn batch() -> (Tensor, Tensor, Tensor) {
    let tokens = Tensor::from_slice(&[2i64, 5, 7, 3, 0, 0, 4, 4, 9, 11, 10, 1]).reshape([2, 6]);
    let lengths = Tensor::from_slice(&[4i64, 6]);
    let labels = Tensor::from_slice(&[1.0f64, 0.0]);
    (tokens, lengths, labels)
}

fn loss(m: &Classifier, tokens: &Tensor, lengths: &Tensor, labels: &Tensor) -> Tensor {
    m.forward(tokens, lengths, false).binary_cross_entropy_with_logits::<Tensor>(labels, None, None, tch::Reduction::Mean)
}

#[test]
fn the_plain_rnn_computes_the_elman_recurrence_of_the_pytorch_docs() {
    tch::manual_seed(1);
    let mut m = Classifier::new(&config(Cell::Rnn, 2, false, Readout::Final), Device::Cpu, None).unwrap();
    to_double(&mut m);
    let (tokens, lengths, _) = batch();
    let logits = Vec::<f64>::try_from(m.forward(&tokens, &lengths, false)).unwrap();
    // Hand-unrolled: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), layer by layer.
    let get = |t: &Tensor| Vec::<f64>::try_from(t.reshape([-1])).unwrap();
    let emb = get(&m.embedding);
    let p: Vec<Vec<f64>> = m.rnn.params.iter().map(|(_, t)| get(t)).collect();
    let (fw, fb) = (get(&m.fc_weight), get(&m.fc_bias));
    let toks = Vec::<i64>::try_from(tokens.reshape([-1])).unwrap();
    for b in 0..2 {
        let mut inputs: Vec<Vec<f64>> = (0..6).map(|t| emb[toks[b * 6 + t] as usize * 3..][..3].to_vec()).collect();
        for layer in 0..2 {
            let (wih, whh, bih, bhh) = (&p[layer * 4], &p[layer * 4 + 1], &p[layer * 4 + 2], &p[layer * 4 + 3]);
            let in_dim = inputs[0].len();
            let mut h = vec![0.0; 4];
            let mut outs = Vec::new();
            for x in &inputs {
                h = (0..4)
                    .map(|i| {
                        let a: f64 =
                            (0..in_dim).map(|j| wih[i * in_dim + j] * x[j]).sum::<f64>() + bih[i] + (0..4).map(|j| whh[i * 4 + j] * h[j]).sum::<f64>() + bhh[i];
                        a.tanh()
                    })
                    .collect();
                outs.push(h.clone());
            }
            inputs = outs;
        }
        let last = inputs.last().unwrap();
        let expected = (0..4).map(|i| fw[i] * last[i]).sum::<f64>() + fb[0];
        assert!((logits[b] - expected).abs() < 1e-10, "review {b}: {} vs {expected}", logits[b]);
    }
}

/// Central finite differences of the loss w.r.t. every element of `param`.
fn finite_difference(m: &Classifier, param: &Tensor, f: &dyn Fn() -> f64) -> Vec<f64> {
    let _g = tch::no_grad_guard();
    let flat = param.reshape([-1]);
    let n = flat.size()[0];
    let eps = 1e-6;
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let orig = flat.double_value(&[i]);
        let _ = flat.get(i).fill_(orig + eps);
        let up = f();
        let _ = flat.get(i).fill_(orig - eps);
        let down = f();
        let _ = flat.get(i).fill_(orig);
        out.push((up - down) / (2.0 * eps));
    }
    let _ = m;
    out
}

#[test]
fn logged_gradient_norms_match_finite_differences_per_parameter_and_gate() {
    for (cell, readout, bi) in [(Cell::Rnn, Readout::Final, false), (Cell::Lstm, Readout::Last, true), (Cell::Gru, Readout::Mean, false)] {
        tch::manual_seed(3);
        let mut m = Classifier::new(&config(cell, 2, bi, readout), Device::Cpu, None).unwrap();
        to_double(&mut m);
        let (tokens, lengths, labels) = batch();
        let params: Vec<Tensor> = m.trainable_parameters().into_iter().map(|(_, t)| t.shallow_clone()).collect();
        let grads_v = Tensor::run_backward(&[loss(&m, &tokens, &lengths, &labels)], &params, false, false);
        let logged = Vec::<f64>::try_from(grads::parameter_norms(&m, &grads_v).to_kind(Kind::Double)).unwrap();
        let layout = grads::layout(&m);
        let mut k = 0;
        for ((name, p), _) in m.trainable_parameters().into_iter().zip(&grads_v) {
            let fd = finite_difference(&m, p, &|| loss(&m, &tokens, &lengths, &labels).double_value(&[]));
            let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
            let full = norm(&fd);
            assert_eq!(layout[k].gate, "all");
            let rel = (logged[k] - full).abs() / full.max(1e-12);
            assert!(rel <= 1e-4, "{cell:?} {name}: logged {} vs finite differences {full} (rel {rel})", logged[k]);
            k += 1;
            if name.starts_with("rnn.") && cell.gates() > 1 {
                let rows = fd.len() / cell.gates() as usize;
                let mut sq = 0.0;
                for g in 0..cell.gates() as usize {
                    let gate_norm = norm(&fd[g * rows..(g + 1) * rows]);
                    let rel = (logged[k] - gate_norm).abs() / gate_norm.max(1e-12);
                    assert!(rel <= 1e-4, "{cell:?} {name} gate {}: {} vs {gate_norm}", layout[k].gate, logged[k]);
                    sq += logged[k] * logged[k];
                    k += 1;
                }
                // Per-gate norms squared add up to the parameter's norm squared.
                assert!((sq - logged[k - 1 - cell.gates() as usize].powi(2)).abs() < 1e-9 * sq.max(1.0));
            }
        }
        assert_eq!(k + 2, layout.len(), "layout has the two totals at the end");
    }
}

#[test]
fn last_differs_from_final_on_padded_input_and_equals_it_on_unpadded_input() {
    for cell in Cell::ALL {
        for bi in [false, true] {
            tch::manual_seed(5);
            let mut m = Classifier::new(&config(cell, 2, bi, Readout::Final), Device::Cpu, None).unwrap();
            let (tokens, _, _) = batch();
            let full = Tensor::from_slice(&[6i64, 6]);
            let padded = Tensor::from_slice(&[4i64, 6]);
            let final_full = m.forward(&tokens, &full, false);
            let final_padded = m.forward(&tokens, &padded, false);
            m.config.readout = Readout::Last;
            let last_full = m.forward(&tokens, &full, false);
            let last_padded = m.forward(&tokens, &padded, false);
            assert!(final_full.allclose(&last_full, 1e-6, 1e-6, false), "{cell:?} bi={bi}: unpadded must agree");
            assert!(final_full.allclose(&final_padded, 0.0, 0.0, false), "final ignores lengths");
            let d0 = (last_padded.double_value(&[0]) - final_padded.double_value(&[0])).abs();
            let d1 = (last_padded.double_value(&[1]) - final_padded.double_value(&[1])).abs();
            assert!(d0 > 1e-4, "{cell:?} bi={bi}: padded review must differ ({d0})");
            assert!(d1 < 1e-6, "{cell:?} bi={bi}: the unpadded review in the batch must agree ({d1})");
        }
    }
}

#[test]
fn bidirectional_last_starts_the_backward_direction_at_the_last_real_token() {
    // The same review with and without trailing pads gives the same output under `last`.
    tch::manual_seed(9);
    let m = Classifier::new(&config(Cell::Gru, 1, true, Readout::Last), Device::Cpu, None).unwrap();
    let short = Tensor::from_slice(&[2i64, 5, 7, 3]).reshape([1, 4]);
    let long = Tensor::from_slice(&[2i64, 5, 7, 3, 0, 0, 0, 0]).reshape([1, 8]);
    let a = m.forward(&short, &Tensor::from_slice(&[4i64]), false);
    let b = m.forward(&long, &Tensor::from_slice(&[4i64]), false);
    assert!(a.allclose(&b, 1e-6, 1e-6, false), "{a} vs {b}");
}

/// A batch whose lengths cover the edge cases: 1, full, longer than T (uncapped true
/// lengths), and several in between, unsorted.
fn ragged_batch() -> (Tensor, Tensor, Tensor) {
    let t = 7;
    let lengths = [3i64, 7, 1, 12, 5, 2];
    let mut tokens = Vec::new();
    for (r, &len) in lengths.iter().enumerate() {
        for p in 0..t {
            tokens.push(if p < len { 2 + (r as i64 * 5 + p * 3) % 10 } else { 0 });
        }
    }
    let labels = Tensor::from_slice(&[1.0f32, 0.0, 1.0, 1.0, 0.0, 0.0]);
    (Tensor::from_slice(&tokens).reshape([6, t]), Tensor::from_slice(&lengths), labels)
}

/// Features, loss and every gradient of one training step, through `features`.
fn step_through(m: &Classifier, packed: bool) -> (Tensor, f64, Vec<Tensor>) {
    let (tokens, lengths, labels) = ragged_batch();
    let x = m.embed(&tokens);
    let features = if packed { m.features_packed(&x, &lengths, true) } else { m.features(&x, &lengths, true) };
    let loss = m.classify(&features, true).binary_cross_entropy_with_logits::<Tensor>(&labels, None, None, tch::Reduction::Mean);
    let params: Vec<Tensor> = m.trainable_parameters().into_iter().map(|(_, t)| t.shallow_clone()).collect();
    let grads = Tensor::run_backward(&[&loss], &params, false, false);
    (features.detach(), loss.double_value(&[]), grads)
}

#[test]
fn unpacked_readouts_give_the_packed_paths_outputs_loss_and_gradients() {
    let mut checked = 0;
    for cell in Cell::ALL {
        for layers in 1..=3 {
            for bi in [false, true] {
                for readout in [Readout::Last, Readout::Mean, Readout::Max, Readout::MeanMax] {
                    tch::manual_seed(21);
                    let m = Classifier::new(&config(cell, layers, bi, readout), Device::Cpu, None).unwrap();
                    let label = format!("{cell:?} layers={layers} bi={bi} {readout:?}");
                    let (f_ours, loss_ours, g_ours) = step_through(&m, false);
                    let (f_packed, loss_packed, g_packed) = step_through(&m, true);
                    assert_eq!(f_ours.size(), f_packed.size(), "{label}");
                    let diff = (&f_ours - &f_packed).abs().max().double_value(&[]);
                    assert!(diff < 1e-5, "{label}: features differ by {diff}");
                    assert!((loss_ours - loss_packed).abs() < 1e-5, "{label}: loss {loss_ours} vs packed {loss_packed}");
                    for ((name, _), (a, b)) in m.trainable_parameters().iter().zip(g_ours.iter().zip(&g_packed)) {
                        let diff = (a - b).abs().max().double_value(&[]);
                        assert!(diff < 1e-5, "{label}: gradient of {name} differs by {diff}");
                    }
                    // The comparison has teeth: the gradients are not all zero.
                    assert!(g_ours.iter().any(|g| g.abs().max().double_value(&[]) > 1e-3), "{label}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 3 * 3 * 2 * 4);
}

#[test]
fn bidirectional_readouts_ignore_trailing_pads_at_every_depth() {
    // The same reviews, padded to 7 and to 15 positions, give the same logits: the
    // backward direction of every layer starts at each review's last real token.
    for readout in [Readout::Last, Readout::Mean, Readout::Max, Readout::MeanMax] {
        tch::manual_seed(4);
        let m = Classifier::new(&config(Cell::Lstm, 3, true, readout), Device::Cpu, None).unwrap();
        let (tokens, lengths, _) = ragged_batch();
        let wide = Tensor::cat(&[&tokens, &Tensor::zeros([6, 8], (Kind::Int64, Device::Cpu))], 1);
        let clamped = lengths.clamp(1, 7);
        let a = m.forward(&tokens, &clamped, false);
        let b = m.forward(&wide, &clamped, false);
        let diff = (&a - &b).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "{readout:?}: {diff}");
    }
}

#[test]
fn the_reversal_within_length_reverses_real_tokens_and_keeps_pads_in_place() {
    use imdb_rnn::{gather_time, reversal_within_length};
    let index = reversal_within_length(&Tensor::from_slice(&[3i64, 5, 1]), 5);
    let got = Vec::<i64>::try_from(index.reshape([-1])).unwrap();
    assert_eq!(got, vec![2, 1, 0, 3, 4, 4, 3, 2, 1, 0, 0, 1, 2, 3, 4]);
    let x = Tensor::arange(15, (Kind::Float, Device::Cpu)).reshape([3, 5, 1]);
    let twice = gather_time(&gather_time(&x, &index), &index);
    assert!(twice.equal(&x), "the map is its own inverse");
}

#[test]
fn meanmax_feeds_the_classifier_mean_and_max_side_by_side() {
    tch::manual_seed(8);
    let mm = Classifier::new(&config(Cell::Gru, 2, true, Readout::MeanMax), Device::Cpu, None).unwrap();
    assert_eq!(mm.fc_weight.size(), vec![1, 16], "2 directions x 4 hidden x (mean, max)");
    let (tokens, lengths, _) = ragged_batch();
    let x = mm.embed(&tokens);
    let both = mm.features(&x, &lengths, false);
    let mut alone = Classifier::new(&config(Cell::Gru, 2, true, Readout::Mean), Device::Cpu, None).unwrap();
    for ((_, dst), (_, src)) in alone.rnn.params.iter_mut().zip(&mm.rnn.params) {
        *dst = src.shallow_clone();
    }
    let mean = alone.features(&x, &lengths, false);
    alone.config.readout = Readout::Max;
    let max = alone.features(&x, &lengths, false);
    assert!(both.equal(&Tensor::cat(&[mean, max], 1)));
}

#[test]
fn embedding_and_classifier_dropout_act_in_training_only() {
    let (tokens, lengths, _) = ragged_batch();
    for (emb, fc) in [(0.5, 0.0), (0.0, 0.5)] {
        tch::manual_seed(2);
        let mut cfg = config(Cell::Gru, 1, false, Readout::Mean);
        cfg.emb_dropout = emb;
        cfg.fc_dropout = fc;
        let m = Classifier::new(&cfg, Device::Cpu, None).unwrap();
        let plain = Classifier::new(&config(Cell::Gru, 1, false, Readout::Mean), Device::Cpu, None).unwrap();
        let eval = m.forward(&tokens, &lengths, false);
        let train = m.forward(&tokens, &lengths, true);
        // Same weights, no dropout: evaluation is unchanged by the dropout settings.
        let mut same = plain;
        same.embedding = m.embedding.shallow_clone();
        same.rnn.params = m.rnn.params.iter().map(|(n, t)| (n.clone(), t.shallow_clone())).collect();
        same.fc_weight = m.fc_weight.shallow_clone();
        same.fc_bias = m.fc_bias.shallow_clone();
        assert!(eval.equal(&same.forward(&tokens, &lengths, false)), "emb {emb} fc {fc}: eval must not drop");
        assert!(!train.allclose(&eval, 1e-6, 1e-6, false), "emb {emb} fc {fc}: training must drop");
    }
}
