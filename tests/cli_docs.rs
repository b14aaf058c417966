//! The documentation the binary writes about itself: man pages and completion scripts.
mod common;
use common::imdb_rnn;

#[test]
fn man_writes_one_page_per_command_and_the_train_page_lists_its_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    imdb_rnn(dir.path()).args(["man", "--out"]).arg(&out).assert().success();
    let mut pages: Vec<String> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    pages.sort();
    for command in ["data", "embed", "eval", "fetch", "grads", "info", "plot", "predict", "report", "summary", "sweep", "train"] {
        assert!(pages.contains(&format!("imdb-rnn-{command}.1")), "no page for {command} in {pages:?}");
    }
    assert!(pages.contains(&"imdb-rnn.1".to_string()));
    assert!(!pages.iter().any(|p| p.ends_with(".partial") || p.starts_with('.')), "temp files left: {pages:?}");
    let train = std::fs::read_to_string(out.join("imdb-rnn-train.1")).unwrap();
    let version = format!(".TH imdb-rnn-train 1  \"imdb-rnn-train {}\"", env!("CARGO_PKG_VERSION"));
    assert!(train.contains(&version), "no title line {version:?} in: {}", &train[..200.min(train.len())]);
    for flag in ["cell", "layers", "readout", "glove", "resume", "val\\-frac"] {
        assert!(train.contains(&format!("\\-\\-{flag}")), "train page lacks --{flag}");
    }
}

#[test]
fn man_without_out_prints_the_main_page_naming_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = imdb_rnn(dir.path()).arg("man").assert().success().get_output().stdout.clone();
    let page = String::from_utf8(out).unwrap();
    assert!(page.contains(".TH imdb-rnn 1"), "{}", &page[..200.min(page.len())]);
    for command in ["train", "grads", "sweep", "predict"] {
        assert!(page.contains(command), "main page does not name {command}");
    }
}

#[test]
fn bash_completions_offer_the_commands_and_the_cell_values() {
    let dir = tempfile::tempdir().unwrap();
    let out = imdb_rnn(dir.path()).args(["completions", "bash"]).assert().success().get_output().stdout.clone();
    let script = String::from_utf8(out).unwrap();
    assert!(script.contains("complete -F"), "not a bash completion script");
    for word in ["train", "grads", "sweep", "--readout", "rnn lstm gru"] {
        assert!(script.contains(word), "completion lacks {word}");
    }
}
