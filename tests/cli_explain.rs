//! `imdb-rnn explain`: each token's attribution for a trained run's prediction, as JSON,
//! plain text, or a page; its errors.
mod common;
use common::{imdb_rnn, learnable_archive, FixtureArgs};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One run trained on the learnable fixture (GRU, `last` readout, max-len 20), shared by
/// the tests: `(temp dir, archive, run dir)`.
fn trained() -> &'static (tempfile::TempDir, PathBuf, PathBuf) {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    RUN.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let archive = learnable_archive(tmp.path(), 150);
        let runs = tmp.path().join("runs");
        imdb_rnn(&tmp.path().join("home"))
            .arg("train")
            .args([
                "--epochs",
                "8",
                "--hidden",
                "16",
                "--emb-dim",
                "8",
                "--lr",
                "0.02",
                "--max-len",
                "20",
                "--readout",
                "last",
                "--cell",
                "gru",
                "--quiet",
                "--name",
                "g",
            ])
            .data_and_runs(&archive, &runs)
            .assert()
            .success();
        let run = runs.join("g");
        (tmp, archive, run)
    })
}

fn explain(args: &[&str]) -> assert_cmd::assert::Assert {
    let (tmp, _, run) = trained();
    imdb_rnn(&tmp.path().join("home")).arg("explain").arg("--run").arg(run).args(args).assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn json_lines(a: &assert_cmd::assert::Assert) -> Vec<Value> {
    stdout(a).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The token with the largest attribution.
fn strongest(review: &Value) -> String {
    let tokens = review["tokens"].as_array().unwrap();
    tokens.iter().max_by(|a, b| a["attribution"].as_f64().partial_cmp(&b["attribution"].as_f64()).unwrap()).unwrap()["token"].as_str().unwrap().to_string()
}

#[test]
fn json_gives_each_token_an_attribution_and_they_add_up_to_the_logit_change() {
    let a = explain(&["--json", "the movie was superb and wonderful", "awful boring plot, the worst"]).success();
    let reviews = json_lines(&a);
    assert_eq!(reviews.len(), 2);
    let (pos, neg) = (&reviews[0], &reviews[1]);
    assert_eq!(pos["label"], "positive");
    assert_eq!(neg["label"], "negative");
    assert_eq!(pos["text"], "the movie was superb and wonderful");
    assert_eq!((pos["method"].as_str(), pos["baseline"].as_str()), (Some("integrated-gradients"), Some("zeros")), "auto: zeros for the last readout");
    assert!(pos["steps"].as_u64().unwrap() >= 32, "{pos}");
    let tokens = pos["tokens"].as_array().unwrap();
    let words: Vec<&str> = tokens.iter().map(|t| t["token"].as_str().unwrap()).collect();
    assert_eq!(words, ["the", "movie", "was", "superb", "and", "wonderful"]);
    assert!(tokens.iter().all(|t| t["read"] == true && t["unk"] == false && t["id"].as_u64().unwrap() > 1), "{tokens:?}");
    for review in [pos, neg] {
        let sum: f64 = review["tokens"].as_array().unwrap().iter().map(|t| t["attribution"].as_f64().unwrap()).sum();
        let delta = review["f_input"].as_f64().unwrap() - review["f_baseline"].as_f64().unwrap();
        assert!((sum - delta).abs() <= 0.01 * delta.abs(), "sum {sum} vs f(x) - f(baseline) {delta}");
        assert!(review["completeness_error"].as_f64().unwrap() < 0.01);
        assert!((review["attribution_sum"].as_f64().unwrap() - sum).abs() < 1e-6);
    }
    // The sentiment words carry the prediction (for the predicted class is positive).
    assert!(["superb", "wonderful"].contains(&strongest(pos).as_str()), "{pos}");
    assert!(["awful", "boring", "worst"].contains(&strongest(neg).as_str()), "{neg}");
    assert_eq!(a.get_output().stderr, b"");
}

#[test]
fn plain_text_when_stdout_is_not_a_terminal_marks_unk_and_tokens_past_max_len() {
    // 22 tokens, max-len 20: the last two are not read.
    let review = "zzyzx great movie the plot was superb and the actor was wonderful a scene of it and the film story ends here";
    let out = stdout(&explain(&[review]).success());
    assert!(!out.contains('\x1b'), "{out:?}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("positive  P(positive) 0.") || lines[0].starts_with("negative  P(positive) 0."), "{out}");
    assert!(lines[1].starts_with("integrated gradients, ") && lines[1].contains(" steps, zero baseline: attributions (logit of "), "{out}");
    assert!(lines[1].ends_with("; 20 tokens read; 2 past --max-len 20 not read"), "{out}");
    assert!(out.contains("zzyzx[unk]("), "{out}");
    assert!(out.contains(" [not read: ends here]\n"), "{out}");
    assert!(out.contains("\nstrongest for positive: "), "{out}");
    let json = json_lines(&explain(&["--json", review]).success());
    let tokens = json[0]["tokens"].as_array().unwrap();
    assert_eq!((tokens[0]["unk"].as_bool(), tokens[0]["id"].as_u64()), (Some(true), Some(1)));
    assert_eq!(tokens.iter().filter(|t| t["read"] == false).count(), 2);
    assert!(tokens[20]["attribution"].is_null() && tokens[19]["attribution"].is_f64(), "{tokens:?}");
}

#[test]
fn reviews_come_one_per_stdin_line_and_occlusion_agrees_on_the_strongest_word() {
    let (tmp, _, run) = trained();
    let a = imdb_rnn(&tmp.path().join("home"))
        .args(["explain", "--json", "--method", "occlusion", "--run"])
        .arg(run)
        .write_stdin("a superb film\nthe plot was terrible\n")
        .assert()
        .success();
    let reviews = json_lines(&a);
    assert_eq!(reviews.len(), 2);
    assert_eq!(reviews[0]["method"], "occlusion");
    assert!(reviews[0]["steps"].is_null() && reviews[0]["completeness_error"].is_null());
    assert_eq!(strongest(&reviews[0]), "superb");
    assert_eq!(strongest(&reviews[1]), "terrible");
}

#[test]
fn test_index_explains_a_review_of_the_runs_test_split_with_its_label() {
    let reviews = json_lines(&explain(&["--json", "--test-index", "0"]).success());
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["test_index"], 0);
    // The split is sorted by (label, id): negatives first.
    assert_eq!(reviews[0]["true_label"], "negative");
    assert!(!reviews[0]["tokens"].as_array().unwrap().is_empty());
}

#[test]
fn a_test_index_past_the_split_is_refused_naming_its_size() {
    explain(&["--test-index", "300"]).code(1).stderr("imdb-rnn: --test-index 300: the run's test split has 300 reviews (0 to 299); choose one of them\n");
}

#[test]
fn a_directory_that_is_not_a_run_is_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    imdb_rnn(tmp.path()).args(["explain", "--run"]).arg(tmp.path()).arg("great").assert().code(1).stderr(format!(
        "imdb-rnn: {} is not a run directory (no config.json); pass a directory written by imdb-rnn train: No such file or directory (os error 2)\n",
        tmp.path().display()
    ));
}

#[test]
fn html_writes_a_standalone_page_and_a_directory_is_refused_before_any_work() {
    let (tmp, _, _) = trained();
    let page = tmp.path().join("explain.html");
    explain(&["--html", page.to_str().unwrap(), "a superb film with zzyzx"]).success();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    assert!(html.contains(">superb</span>") && html.contains("class=\"unk\""), "{html}");
    let dir: &Path = tmp.path();
    explain(&["--html", dir.to_str().unwrap(), "great"]).code(1).stderr(format!(
        "imdb-rnn: --html {} is a directory; give the path of a regular file (or of a new one): only a regular file is replaced\n",
        dir.display()
    ));
}
