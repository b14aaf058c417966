//! `imdb-rnn embed`: the embedding as a dictionary (course Q6), learned and GloVe.
mod common;
use common::*;
use std::path::Path;

fn embed_json(home: &Path, args: &[&str], extra: &[&std::ffi::OsStr]) -> Vec<serde_json::Value> {
    let out = imdb_rnn(home).arg("embed").args(args).args(extra).arg("--json").assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    dot / (a.iter().map(|x| x * x).sum::<f64>().sqrt() * b.iter().map(|x| x * x).sum::<f64>().sqrt())
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn glove_vectors_are_read_exactly_and_neighbours_ranked_by_cosine_within_the_vocabulary() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let glove = write_glove_4d(tmp.path());
    let words = embed_json(
        &tmp.path().join("home"),
        &["Great!", "zebra"],
        &["--glove".as_ref(), glove.as_os_str(), "--imdb".as_ref(), archive.as_os_str(), "--quiet".as_ref()],
    );
    let great = &words[0];
    assert_eq!(great["word"], "great", "read as the course's tokenizer reads it");
    assert!(great["vocabulary_id"].as_u64().unwrap() >= 2);
    assert!(great["learned"].is_null(), "no run, no learned embedding");
    assert_eq!(floats(&great["glove"]["vector"]), [1.0, 1.0, 1.0, 1.0]);
    // The file's other vocabulary words, by cosine to (1, 1, 1, 1): the, movie, awful.
    let expected = [("the", [0.1, 0.2, 0.3, 0.4]), ("movie", [-1.0, 0.5, 2.0, 0.25]), ("awful", [-1.0, -1.0, -1.0, -1.0])];
    let nearest = great["glove"]["nearest"].as_array().unwrap();
    assert_eq!(nearest.len(), 3, "words without a vector are not neighbours: {nearest:?}");
    for (n, (word, v)) in nearest.iter().zip(expected) {
        assert_eq!(n["word"], word);
        assert!((n["cosine"].as_f64().unwrap() - cosine(&[1.0; 4], &v)).abs() < 1e-6, "{n}");
    }
    let zebra = &words[1];
    assert!(zebra["vocabulary_id"].is_null() && zebra["glove"].is_null(), "{zebra}");
}

#[test]
fn a_trained_runs_embedding_puts_words_of_one_sentiment_closer_together() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 150);
    let (home, runs) = (tmp.path().join("home"), tmp.path().join("runs"));
    imdb_rnn(&home)
        .args(["train", "--cell", "gru", "--readout", "last", "--epochs", "8", "--hidden", "16", "--emb-dim", "8", "--lr", "0.03", "--quiet", "--name", "r"])
        .data_and_runs(&archive, &runs)
        .assert()
        .success();
    let good = ["great", "wonderful", "superb", "loved", "brilliant"];
    let bad = ["awful", "boring", "terrible", "hated", "worst"];
    let all: Vec<&str> = good.iter().chain(&bad).copied().collect();
    let words = embed_json(&home, &all, &["--run".as_ref(), runs.join("r").as_os_str(), "-k".as_ref(), "3".as_ref()]);
    let vectors: Vec<Vec<f64>> = words.iter().map(|w| floats(&w["learned"]["vector"])).collect();
    assert!(vectors.iter().all(|v| v.len() == 8));
    for w in &words {
        let near = w["learned"]["nearest"].as_array().unwrap();
        assert_eq!(near.len(), 3);
        assert!(near.iter().all(|n| n["word"] != w["word"]), "a word is not its own neighbour");
        let c: Vec<f64> = near.iter().map(|n| n["cosine"].as_f64().unwrap()).collect();
        assert!(c.windows(2).all(|p| p[0] >= p[1]), "most similar first: {c:?}");
    }
    // Mean cosine within a sentiment against across: training pulls them apart.
    let mean = |pairs: Vec<(usize, usize)>| pairs.iter().map(|&(i, j)| cosine(&vectors[i], &vectors[j])).sum::<f64>() / pairs.len() as f64;
    let within = mean((0..10).flat_map(|i| (0..10).map(move |j| (i, j))).filter(|&(i, j)| i < j && (i < 5) == (j < 5)).collect());
    let across = mean((0..5).flat_map(|i| (5..10).map(move |j| (i, j))).collect());
    assert!(within > across + 0.4, "within {within:.3}, across {across:.3}");
}

#[test]
fn embed_needs_a_run_or_glove_and_one_word_per_argument() {
    let tmp = tempfile::tempdir().unwrap();
    imdb_rnn(tmp.path())
        .args(["embed", "good"])
        .assert()
        .code(1)
        .stderr("imdb-rnn: embed needs --run DIR (a trained run's learned embedding) or --glove PATH|NAME (pre-trained vectors), or both\n");
    imdb_rnn(tmp.path())
        .args(["embed", "very good", "--glove", "g.txt"])
        .assert()
        .code(1)
        .stderr("imdb-rnn: embed: \"very good\" is not one word under the course's tokenizer (lowercase, letters and digits only); pass words one by one\n");
}

#[test]
fn a_glove_header_claiming_more_words_than_the_file_holds_is_read_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let glove = tmp.path().join("cut.txt");
    std::fs::write(&glove, "400000 4\nthe 0.1 0.2 0.3 0.4\ngreat 1 1 1 1\n").unwrap();
    let out = imdb_rnn(&tmp.path().join("home")).args(["embed", "great", "--quiet", "--glove"]).arg(&glove).arg("--imdb").arg(&archive).assert().success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stderr),
        format!("imdb-rnn: warning: {}: the header says 400000 words but the file holds 2; it may be truncated (using the 2 read)\n", glove.display())
    );
}
