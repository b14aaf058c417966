//! A run directory used from another working directory: the data paths it records are
//! absolute, identified, and when a file has moved the message names the run and the flag.
mod common;
use common::*;
use std::path::Path;

fn config(run: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(run.join("config.json")).unwrap()).unwrap()
}

#[test]
fn a_run_trained_with_relative_data_paths_is_evaluated_and_embedded_from_another_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (here, elsewhere) = (tmp.path().join("here"), tmp.path().join("elsewhere"));
    std::fs::create_dir_all(here.join("data")).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let archive = learnable_archive(&here.join("data"), 20);
    write_glove_4d(&here.join("data"));
    let home = tmp.path().join("home");
    imdb_rnn(&home)
        .current_dir(&here)
        .args(["train", "--imdb", "data/aclImdb_fixture.tar.gz", "--glove", "data/g.txt", "--emb", "glove-frozen", "--hidden", "4"])
        .args(["--epochs", "1", "--runs-dir", "runs", "--name", "r", "--quiet"])
        .assert()
        .success();
    let run = here.join("runs/r");
    let record = config(&run);
    let (archive, glove) = (archive.canonicalize().unwrap(), here.join("data/g.txt").canonicalize().unwrap());
    assert_eq!(record["archive"], archive.to_str().unwrap());
    assert_eq!(record["config"]["glove"], glove.to_str().unwrap());
    let files = record["data_files"].as_array().unwrap();
    assert_eq!(files[0]["role"], "imdb");
    assert_eq!(files[0]["bytes"], std::fs::metadata(&archive).unwrap().len());
    assert_eq!((files[1]["role"].as_str(), files[1]["path"].as_str()), (Some("glove"), glove.to_str()));

    imdb_rnn(&home).current_dir(&elsewhere).args(["eval", "--run", "../here/runs/r"]).assert().success();
    let out = imdb_rnn(&home).current_dir(&elsewhere).args(["embed", "great", "--json", "--run", "../here/runs/r"]).assert().success();
    let words: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(words[0]["glove"]["vector"], serde_json::json!([1.0, 1.0, 1.0, 1.0]), "the recorded GloVe file was read");

    // Moved away: the message names the run, the recorded path and the flag to pass.
    std::fs::rename(here.join("data"), here.join("moved")).unwrap();
    let size = |f: &str| std::fs::metadata(here.join("moved").join(f)).unwrap().len();
    imdb_rnn(&home).current_dir(&elsewhere).args(["eval", "--run", "../here/runs/r"]).assert().code(1).stderr(format!(
        "imdb-rnn: run ../here/runs/r recorded its IMDB archive as {}, {} bytes, which is not there; pass the file with --imdb PATH\n",
        archive.display(),
        size("aclImdb_fixture.tar.gz")
    ));
    imdb_rnn(&home).current_dir(&elsewhere).args(["embed", "great", "--run", "../here/runs/r"]).assert().code(1).stderr(format!(
        "imdb-rnn: run ../here/runs/r recorded its GloVe file as {}, {} bytes, which is not there; pass the file with --glove PATH\n",
        glove.display(),
        size("g.txt")
    ));
    imdb_rnn(&home).current_dir(&elsewhere).args(["eval", "--run", "../here/runs/r", "--imdb", "../here/moved/aclImdb_fixture.tar.gz"]).assert().success();
}
