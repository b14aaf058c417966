//! Issue 12: nothing aborts, nothing is silently wrong, nothing escapes. One test (or
//! more) per item of the issue. The full-disk ones need root to mount a tmpfs: ignored
//! by a plain `cargo test`, `.ci/run` runs them (`-- --ignored full_disk_as_root`) when
//! it is root.
mod common;
use common::*;
use std::path::Path;

/// `imdb-rnn` run in `dir` with its data home and runs root inside it.
fn cmd(dir: &Path) -> assert_cmd::Command {
    let mut c = imdb_rnn(&dir.join("home"));
    c.env("IMDB_RNN_RUNS", dir.join("runs"));
    c
}

#[test]
fn non_finite_floats_are_refused_naming_the_flag_the_value_and_the_range() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, msg) in [
        (vec!["--lr", "nan"], "imdb-rnn: --lr NaN: not a finite number; --lr must be a positive finite number\n"),
        (vec!["--lr", "inf"], "imdb-rnn: --lr inf: not a finite number; --lr must be a positive finite number\n"),
        (vec!["--lr", "1e400"], "imdb-rnn: --lr inf: not a finite number; --lr must be a positive finite number\n"),
        (vec!["--clip", "nan"], "imdb-rnn: --clip NaN: not a finite number; --clip must be a positive finite number\n"),
        (vec!["--clip", "inf"], "imdb-rnn: --clip inf: not a finite number; --clip must be a positive finite number\n"),
        (vec!["--dropout", "nan"], "imdb-rnn: --dropout NaN: not a finite number; --dropout must be in [0, 1)\n"),
        (vec!["--val-frac", "nan"], "imdb-rnn: --val-frac NaN: not a finite number; --val-frac must be in [0, 1)\n"),
        (vec!["--lr=-1"], "imdb-rnn: --lr must be a positive finite number, got -1\n"),
    ] {
        cmd(tmp.path()).arg("train").args(&args).args(["--imdb", "/nonexistent.tar.gz"]).assert().code(1).stderr(msg);
    }
    let toml = tmp.path().join("nan.toml");
    std::fs::write(&toml, "lr = nan\n").unwrap();
    cmd(tmp.path())
        .args(["train", "--imdb", "/nonexistent.tar.gz", "--config"])
        .arg(&toml)
        .assert()
        .code(1)
        .stderr(format!("imdb-rnn: config {}: --lr NaN: not a finite number; --lr must be a positive finite number\n", toml.display()));
    for (grid, msg) in [
        ("lr=nan", "imdb-rnn: --grid lr=nan: not a finite number; lr must be a positive finite number\n"),
        ("lr=0.01,1e400", "imdb-rnn: --grid lr=1e400: not a finite number; lr must be a positive finite number\n"),
        ("dropout=inf", "imdb-rnn: --grid dropout=inf: not a finite number; dropout must be in [0, 1)\n"),
    ] {
        cmd(tmp.path()).args(["sweep", "--imdb", "/nonexistent.tar.gz", "--grid", grid]).assert().code(1).stderr(msg);
    }
    std::fs::write(&toml, "lr = inf\n[grid]\nseed = [0]\n").unwrap();
    cmd(tmp.path())
        .args(["sweep", "--imdb", "/nonexistent.tar.gz", "--config"])
        .arg(&toml)
        .assert()
        .code(1)
        .stderr(format!("imdb-rnn: sweep file {}: --lr inf: not a finite number; --lr must be a positive finite number\n", toml.display()));
    assert!(!tmp.path().join("runs").exists() && !tmp.path().join("home").exists(), "nothing was written");
}

#[test]
fn a_sweep_name_outside_the_runs_root_is_refused_like_a_train_name() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["../esc", "/abs", "..", "", "a/b"] {
        cmd(tmp.path())
            .args(["sweep", "--imdb", "/nonexistent.tar.gz", "--grid", "seed=0", "--name", name])
            .assert()
            .code(1)
            .stderr(format!("imdb-rnn: --name {name:?}: use letters, digits and - _ . = , + only (the run directory lives inside --runs-dir)\n"));
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "nothing was created beside or inside the runs root");
}

/// Flags of a tiny, quick run on the learnable fixture.
const TINY: [&str; 10] = ["--hidden", "8", "--emb-dim", "4", "--max-len", "30", "--lr", "0.01", "--batch-size", "32"];

/// Trains `name` into `dir/runs` on `archive` (tiny model; 5 epochs unless `extra` says).
fn train_tiny(dir: &Path, archive: &Path, name: &str, extra: &[&str]) -> assert_cmd::Command {
    let mut c = cmd(dir);
    c.arg("train").args(TINY).args(extra).arg("--imdb").arg(archive).args(["--name", name, "--quiet"]);
    c
}

/// Runs imdb-rnn with `args` and a stdout whose reader is already gone; returns the
/// exit code and stderr.
fn with_closed_stdout(dir: &Path, args: &[&str], stdin: &[u8]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("imdb-rnn"))
        .env("IMDB_RNN_HOME", dir.join("home"))
        .env("IMDB_RNN_RUNS", dir.join("runs"))
        // As common::imdb_rnn: no note about trainings that other tests run meanwhile.
        .env("IMDB_RNN_TEST_NO_SHARE_NOTE", "1")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn every_stdout_writer_ends_quietly_with_exit_0_when_the_pipe_is_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    train_tiny(tmp.path(), &archive, "r", &["--epochs", "1"]).assert().success();
    let run = tmp.path().join("runs/r");
    let run = run.to_str().unwrap();
    let runs = tmp.path().join("runs");
    let archive_s = archive.to_str().unwrap();
    for args in [
        vec!["completions", "bash"],
        vec!["man"],
        vec!["info"],
        vec!["summary", runs.to_str().unwrap()],
        vec!["summary", "--format", "csv", runs.to_str().unwrap()],
        vec!["predict", "--run", run, "a great movie"],
        vec!["predict", "--run", run],
        vec!["eval", "--run", run],
        vec!["sweep", "--dry-run", "--grid", "seed=0,1"],
    ] {
        let (code, stderr) = with_closed_stdout(tmp.path(), &args, b"a great movie\nawful\n");
        assert_eq!((code, stderr.as_str()), (Some(0), ""), "{args:?}");
    }
    // A run whose summary cannot be printed is still a finished run.
    let train = ["train", "--hidden", "8", "--emb-dim", "4", "--epochs", "1", "--max-len", "30", "--json", "--quiet", "--name", "j", "--imdb", archive_s];
    let (code, stderr) = with_closed_stdout(tmp.path(), &train, b"");
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(runs.join("j/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["status"], "finished");
}

#[test]
fn a_run_directory_being_trained_is_refused_to_a_second_train_process() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    train_tiny(tmp.path(), &archive, "r", &[]).assert().success();
    // The lock `train` and `sweep` take, held here as another process would hold it.
    let lock = std::fs::File::create(tmp.path().join("runs/.r.lock")).unwrap();
    lock.try_lock().unwrap();
    let before = std::fs::read(tmp.path().join("runs/r/metrics.csv")).unwrap();
    let dir = tmp.path().join("runs/r");
    for extra in [&["--resume"][..], &["--seed", "1", "--resume"][..]] {
        train_tiny(tmp.path(), &archive, "r", extra).assert().code(1).stderr(format!(
            "imdb-rnn: run directory {} is being trained by another process right now; wait for it to end, or choose another --name\n",
            dir.display()
        ));
    }
    assert_eq!(std::fs::read(tmp.path().join("runs/r/metrics.csv")).unwrap(), before, "untouched");
    drop(lock);
    train_tiny(tmp.path(), &archive, "r", &["--resume"]).assert().success();
}

#[test]
fn a_sweep_rerun_with_a_changed_shared_option_is_refused_naming_the_option() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    let sweep = |extra: &[&str]| {
        let mut c = cmd(tmp.path());
        c.args(["sweep", "--grid", "seed=0,1", "--quiet"]).args(extra).args(TINY).arg("--imdb").arg(&archive);
        c.assert()
    };
    sweep(&["--epochs", "1"]).success();
    let point = tmp.path().join("runs/sweep/seed=0");
    for (extra, msg) in [
        (&["--epochs", "2"][..], "--epochs is 1 there, 2 now"),
        (&["--epochs", "2", "--dry-run"][..], "--epochs is 1 there, 2 now"),
        (&["--epochs", "1", "--val-frac", "0.2"][..], "--val-frac is 0.0 there, 0.2 now"),
        (&["--epochs", "1", "--clip", "1"][..], "--clip is unset there, 1.0 now"),
    ] {
        sweep(extra).code(1).stderr(format!(
            "imdb-rnn: sweep point {} was run with other options ({msg}); run the sweep with its original options, or give it another --name\n",
            point.display()
        ));
    }
    let out = sweep(&["--epochs", "1"]).success().get_output().stdout.clone();
    assert_eq!(String::from_utf8(out).unwrap().matches("already finished").count(), 2);
    let metrics = std::fs::read_to_string(point.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 2, "still the one-epoch run: {metrics}");
}

#[test]
fn train_resume_with_a_changed_option_names_the_option() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    train_tiny(tmp.path(), &archive, "r", &["--epochs", "1"]).assert().success();
    let dir = tmp.path().join("runs/r");
    for (extra, what) in [
        (&["--epochs", "2"][..], "--epochs is 1 there, 2 now"),
        (&["--epochs", "1", "--seed", "3"][..], "--seed is 0 there, 3 now"),
        (&["--epochs", "1", "--cell", "gru"][..], "--cell is lstm there, gru now"),
        (&["--epochs", "1", "--threads", "2"][..], "--threads is unset there, 2 now: it changes float rounding, so a run keeps the count it started with"),
    ] {
        train_tiny(tmp.path(), &archive, "r", extra)
            .arg("--resume")
            .assert()
            .code(1)
            .stderr(format!("imdb-rnn: --resume: {} was trained with other options ({what}); use the same options, or another --name\n", dir.display()));
    }
}

/// A copy of the finished run `from` as a run that has not finished an epoch yet (a
/// sweep point still running): config.json (with `epochs` changed so it is its own
/// configuration) and a metrics.csv holding only the header.
fn fake_unfinished_run(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let mut record: serde_json::Value = serde_json::from_slice(&std::fs::read(from.join("config.json")).unwrap()).unwrap();
    record["config"]["epochs"] = 7.into();
    std::fs::write(to.join("config.json"), serde_json::to_vec(&record).unwrap()).unwrap();
    std::fs::copy(from.join("vocab.json"), to.join("vocab.json")).unwrap();
    let metrics = std::fs::read_to_string(from.join("metrics.csv")).unwrap();
    std::fs::write(to.join("metrics.csv"), format!("{}\n", metrics.lines().next().unwrap())).unwrap();
}

#[test]
fn report_and_summary_show_runs_without_a_finished_epoch_as_unfinished() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    train_tiny(tmp.path(), &archive, "done", &["--epochs", "1"]).assert().success();
    let runs = tmp.path().join("runs");
    fake_unfinished_run(&runs.join("done"), &runs.join("running"));
    let out = tmp.path().join("report.html");
    cmd(tmp.path()).arg("report").arg(&runs).arg("--out").arg(&out).assert().success();
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("unfinished: no epoch completed yet"), "the running run is listed");
    assert!(html.contains("final test accuracy"), "the finished run is reported");
    let table = cmd(tmp.path()).arg("summary").arg(&runs).assert().success().get_output().stdout.clone();
    let table = String::from_utf8(table).unwrap();
    assert!(!table.contains("NaN"), "{table}");
    let row = table.lines().find(|l| l.contains("| 7 |")).expect("a row for the unfinished configuration");
    assert!(row.contains("| unfinished | unfinished | - | - |"), "{row}");
}

/// A small tmpfs mounted for a test (root only), unmounted when dropped.
struct Tmpfs {
    dir: std::path::PathBuf,
}

impl Tmpfs {
    /// Mounts a `size` tmpfs (e.g. "14m") at `dir`; a test that asked for one fails
    /// when it cannot be mounted (not root, no mount), never passes without asserting.
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let out = std::process::Command::new("mount").args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]).arg(dir).output().expect("mount runs");
        assert!(out.status.success(), "cannot mount a tmpfs (the full-disk tests need root): {}", String::from_utf8_lossy(&out.stderr).trim());
        Tmpfs { dir: dir.to_path_buf() }
    }

    fn resize(&self, size: &str) {
        let status = std::process::Command::new("mount").args(["-o", &format!("remount,size={size}")]).arg(&self.dir).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.dir).status();
    }
}

/// Files under `dir` (recursively) whose name marks a temp file.
fn temp_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            out.extend(temp_files(&e.path()));
        } else if e.file_name().to_string_lossy().contains(".tmp") {
            out.push(e.path().display().to_string());
        }
    }
    out
}

/// A model whose checkpoint (weights and Adam's moments) is about 12 MB: the first one
/// fits a 14 MB disk, the second cannot be written beside it.
const BIG_CHECKPOINT: [&str; 8] = ["--hidden", "512", "--emb-dim", "4", "--max-len", "20", "--batch-size", "64"];

#[test]
#[ignore = "needs root to mount a tmpfs; .ci/run runs it as root"]
fn full_disk_as_root_train_exits_1_naming_the_file_and_keeps_the_last_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    let disk = Tmpfs::mount(&tmp.path().join("runs"), "14m");
    let dir = disk.dir.join("r");
    let train = || {
        let mut c = cmd(tmp.path());
        c.args(["train", "--epochs", "3", "--name", "r", "--quiet"]).args(BIG_CHECKPOINT).arg("--imdb").arg(&archive);
        c
    };
    train().assert().code(1).stderr(format!("imdb-rnn: cannot write {}: No space left on device (os error 28)\n", dir.join("checkpoint.ot").display()));
    assert_eq!(temp_files(&disk.dir), Vec::<String>::new(), "temp files removed");
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("checkpoint.json")).unwrap()).unwrap();
    assert_eq!(state["epoch"], 1, "the epoch-1 checkpoint is the last good one");
    // With room again, the run resumes from it and finishes.
    disk.resize("64m");
    train().arg("--resume").assert().success();
    let metrics = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert_eq!(metrics.lines().count(), 4, "{metrics}");
}

#[test]
#[ignore = "needs root to mount a tmpfs; .ci/run runs it as root"]
fn full_disk_as_root_a_sweep_records_the_failed_points_and_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    let disk = Tmpfs::mount(&tmp.path().join("runs"), "14m");
    let out = cmd(tmp.path())
        .args(["sweep", "--grid", "seed=0,1", "--epochs", "3", "--quiet"])
        .args(BIG_CHECKPOINT)
        .arg("--imdb")
        .arg(&archive)
        .assert()
        .code(4)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    for seed in [0, 1] {
        let point = disk.dir.join(format!("sweep/seed={seed}"));
        assert!(out.contains(&format!("{}\tfailed: cannot write {}", point.display(), point.display())), "{out}");
    }
    assert!(out.contains("No space left on device"), "{out}");
    assert_eq!(temp_files(&disk.dir), Vec::<String>::new(), "temp files removed");
}

#[test]
#[ignore = "needs root to mount a tmpfs; .ci/run runs it as root"]
fn full_disk_as_root_a_figure_is_never_left_cut_short() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    let disk = Tmpfs::mount(&tmp.path().join("runs"), "14m");
    train_tiny(tmp.path(), &archive, "r", &["--epochs", "2"]).assert().success();
    let dir = disk.dir.join("r");
    std::fs::remove_file(dir.join("learning_curves.png")).unwrap();
    // Fill the disk.
    let mut filler = std::fs::File::create(disk.dir.join("filler")).unwrap();
    use std::io::Write;
    while filler.write_all(&[0u8; 4096]).is_ok() {}
    let err = cmd(tmp.path()).arg("plot").arg(&dir).assert().code(1).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.starts_with(&format!("imdb-rnn: cannot draw {}", dir.join("learning_curves.png").display())), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!dir.join("learning_curves.png").exists(), "no PNG cut short under its name");
    assert_eq!(temp_files(&disk.dir), Vec::<String>::new(), "temp files removed");
}

#[test]
fn a_truncated_or_missing_weights_file_or_best_ot_is_one_line_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    train_tiny(tmp.path(), &archive, "r", &["--epochs", "1"]).assert().success();
    let dir = tmp.path().join("runs/r");
    // No validation split, no best.ot: --best says why rather than what libtorch says.
    cmd(tmp.path()).args(["eval", "--best", "--run", dir.to_str().unwrap()]).assert().code(1).stderr(format!(
        "imdb-rnn: {} has no best.ot: it is written only by a run with a validation split (--val-frac); leave out --best to use the final weights\n",
        dir.display()
    ));
    let model = dir.join("model.ot");
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    for args in [vec!["predict", "--run", dir.to_str().unwrap(), "great"], vec!["eval", "--run", dir.to_str().unwrap()]] {
        let err = cmd(tmp.path()).args(&args).assert().code(1).get_output().stderr.clone();
        let err = String::from_utf8(err).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(&format!("imdb-rnn: cannot read {}: ", model.display())), "{err}");
    }
    // Without model.ot (a run that has not finished) the checkpoint is used, and said so.
    std::fs::remove_file(&model).unwrap();
    let out = cmd(tmp.path()).args(["eval", "--run", dir.to_str().unwrap()]).assert().success();
    let stdout = stdout_of(&out);
    assert!(stdout.starts_with(&format!("run        {} (checkpoint.ot)\n", dir.display())), "{stdout}");
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains(&format!("imdb-rnn: warning: {} has no model.ot (the run has not finished); using its last checkpoint.ot", dir.display())),
        "{stderr}"
    );
    std::fs::remove_file(dir.join("checkpoint.ot")).unwrap();
    cmd(tmp.path())
        .args(["predict", "--run", dir.to_str().unwrap(), "great"])
        .assert()
        .code(1)
        .stderr(format!("imdb-rnn: {} has no trained weights yet (no model.ot or checkpoint.ot): train it first, or finish it with --resume\n", dir.display()));
}

#[test]
fn predict_decodes_non_utf8_stdin_lines_lossily_and_keeps_the_good_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    train_tiny(tmp.path(), &archive, "r", &["--epochs", "1"]).assert().success();
    let dir = tmp.path().join("runs/r");
    let out = cmd(tmp.path())
        .args(["predict", "--run", dir.to_str().unwrap()])
        .write_stdin(b"a great movie\nbad \xff\xfe bytes\nawful\n".to_vec())
        .assert()
        .success();
    let stdout = stdout_of(&out);
    let texts: Vec<&str> = stdout.lines().map(|l| l.rsplit('\t').next().unwrap()).collect();
    assert_eq!(texts, ["a great movie", "bad \u{fffd}\u{fffd} bytes", "awful"]);
    let stderr = stderr_of(&out);
    assert_eq!(stderr, "imdb-rnn: warning: stdin line 2 is not valid UTF-8; its undecodable bytes were replaced by U+FFFD\n");
}

#[test]
fn imdb_pointing_at_a_text_file_says_it_is_not_an_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let review = tmp.path().join("review.txt");
    std::fs::write(&review, "What a wonderful film, I loved every minute of it.\n").unwrap();
    cmd(tmp.path()).arg("data").arg("--imdb").arg(&review).assert().code(1).stderr(format!(
        "imdb-rnn: --imdb {}: not an aclImdb archive (neither .tar.gz nor .tar); pass aclImdb_v1.tar.gz or its unpacked directory (imdb-rnn fetch imdb downloads it)\n",
        review.display()
    ));
}

#[test]
fn temp_files_of_dead_processes_are_removed_on_start_and_live_ones_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    // A pid that is not running: a child that has exited and been reaped.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let live = std::process::id();
    let cache = tmp.path().join("home/cache");
    let run = tmp.path().join("runs/r");
    for dir in [&cache, &run] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(format!(".x.bin.tmp{dead}")), b"orphan").unwrap();
        std::fs::write(dir.join(format!(".y.bin.tmp{live}")), b"in use").unwrap();
    }
    // The run directory holds only temp files: a run killed before its config.json.
    train_tiny(tmp.path(), &archive, "r", &["--epochs", "1"]).assert().success();
    for dir in [&cache, &run] {
        assert!(!dir.join(format!(".x.bin.tmp{dead}")).exists(), "orphan removed from {}", dir.display());
        assert!(dir.join(format!(".y.bin.tmp{live}")).exists(), "a live process's temp file is kept in {}", dir.display());
    }
}

#[test]
fn quiet_surprises_are_said_out_loud() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    // --glove without a GloVe embedding.
    let glove = write_glove_4d(tmp.path());
    let out = train_tiny(tmp.path(), &archive, "g", &["--epochs", "1", "--glove", glove.to_str().unwrap()]).assert().success();
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!(
            "imdb-rnn: warning: --glove {} is ignored: the embedding is random; add --emb glove-frozen or --emb glove-tuned to use it",
            glove.display()
        )),
        "{err}"
    );
    // --subset above the data's size: warned, and config.json records what was used.
    let out = train_tiny(tmp.path(), &archive, "n", &["--epochs", "1", "--subset", "1000"]).assert().success();
    let err = stderr_of(&out);
    assert!(
        err.contains("imdb-rnn: warning: --subset 1000 is more than the data holds (20 train, 20 test reviews); using all of them (config.json records 20)"),
        "{err}"
    );
    let record: serde_json::Value = serde_json::from_slice(&std::fs::read(tmp.path().join("runs/n/config.json")).unwrap()).unwrap();
    assert_eq!(record["config"]["subset"], 20);
    train_tiny(tmp.path(), &archive, "n", &["--epochs", "1", "--subset", "1000", "--resume"]).assert().success();
    // An existing folder that is not a run directory is not written into.
    let foreign = tmp.path().join("runs/notes");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("todo.txt"), "mine").unwrap();
    train_tiny(tmp.path(), &archive, "notes", &["--epochs", "1"])
        .assert()
        .code(1)
        .stderr(format!("imdb-rnn: {} exists and is not a run directory (no config.json); choose another --name or --runs-dir\n", foreign.display()));
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 1);
    // An empty or punctuation-only review.
    let run = tmp.path().join("runs/n");
    let out = cmd(tmp.path()).args(["predict", "--run", run.to_str().unwrap(), "great", "", "?!..."]).assert().success();
    assert_eq!(stdout_of(&out).lines().count(), 3);
    assert_eq!(
        stderr_of(&out),
        "imdb-rnn: warning: 2 reviews have no words (empty or punctuation only): 2, 3; their probability reflects the model, not the review\n"
    );
    // Thousands of empty lines on stdin: one warning line, not one per line.
    let stdin = format!("great\n{}", "\n".repeat(3000));
    let out = cmd(tmp.path()).args(["predict", "--run", run.to_str().unwrap()]).write_stdin(stdin).assert().success();
    assert_eq!(stdout_of(&out).lines().count(), 3001);
    assert_eq!(
        stderr_of(&out),
        "imdb-rnn: warning: 3000 reviews have no words (empty or punctuation only): 2, 3, 4, 5, 6 and 2995 more; their probability reflects the model, not the review\n"
    );
}

#[test]
fn plot_redraws_the_figures_of_a_gradient_study_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    cmd(tmp.path())
        .args(["grads", "--cells", "rnn", "--depth", "1,2", "--epochs", "1", "--name", "st", "--quiet"])
        .args(TINY)
        .arg("--imdb")
        .arg(&archive)
        .assert()
        .success();
    let study = tmp.path().join("runs/st");
    let figure = study.join("grad_vs_depth.png");
    std::fs::remove_file(&figure).unwrap();
    let out = cmd(tmp.path()).arg("plot").arg(&study).assert().success();
    let listed = stdout_of(&out);
    assert!(listed.lines().any(|l| l == figure.to_str().unwrap()), "{listed}");
    assert!(figure.is_file());
}

#[test]
fn default_run_names_include_every_option_that_differs_from_its_default() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    let train = |extra: &[&str]| {
        let mut c = cmd(tmp.path());
        c.args(["train", "--quiet", "--hidden", "8", "--max-len", "30"]).args(extra).arg("--imdb").arg(&archive);
        c.assert().success();
    };
    train(&["--epochs", "1"]);
    train(&["--epochs", "2"]);
    train(&["--epochs", "1", "--clip", "1", "--lr", "0.01", "--layers", "2", "--dropout", "0.1", "--readout", "last"]);
    let mut names: Vec<String> = std::fs::read_dir(tmp.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["lstm-l1-h8-random-final-e1-len30-s0", "lstm-l1-h8-random-final-e2-len30-s0", "lstm-l2-h8-random-last-drop0.1-e1-lr0.01-clip1-len30-s0"]
    );
}

#[test]
fn eval_says_which_data_it_scores_and_odd_options_are_warned_or_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    let out = train_tiny(tmp.path(), &archive, "r", &["--epochs", "1", "--subset", "12", "--dropout", "0.3"]).assert().success();
    let err = stderr_of(&out);
    assert!(
        err.contains("imdb-rnn: warning: --dropout 0.3 has no effect with one layer (it applies between recurrent layers); add --layers 2 or more"),
        "{err}"
    );
    let run = tmp.path().join("runs/r");
    let out = cmd(tmp.path()).args(["eval", "--run", run.to_str().unwrap()]).assert().success();
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains(&format!("\ndata       {} (the run's own, from config.json), test split, the run's seeded --subset 12\n", archive.display())),
        "{stdout}"
    );
    // 20 training reviews at batch size 32: one step per epoch; the interval is clamped to
    // it, so every epoch logs its gradients.
    let out = train_tiny(tmp.path(), &archive, "g", &["--epochs", "2", "--grad-every", "5"]).assert().success();
    assert!(
        stderr_of(&out)
            .contains("imdb-rnn: warning: --grad-every 5 is more than the 1 steps of an epoch (20 training reviews, batch size 32); logging every 1 steps\n"),
        "{}",
        stderr_of(&out)
    );
    let epochs = std::fs::read_to_string(tmp.path().join("runs/g/grads_epoch.csv")).unwrap();
    for epoch in ["1,", "2,"] {
        assert!(epochs.lines().any(|l| l.starts_with(epoch)), "epoch {epoch} summarised: {epochs}");
    }
}

#[test]
fn an_error_with_stderr_closed_or_full_exits_1_instead_of_panicking() {
    let tmp = tempfile::tempdir().unwrap();
    for redirect in ["2>&-", "2>/dev/full"] {
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" train --layers 0 {redirect}"))
            .arg(assert_cmd::cargo::cargo_bin("imdb-rnn"))
            .env("IMDB_RNN_HOME", tmp.path().join("home"))
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(1), "{redirect}: the error's exit status, not a panic's 101");
    }
}

#[test]
fn a_training_whose_warnings_meet_a_closed_or_full_stderr_still_trains_and_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 30);
    for (i, redirect) in ["2>&-", "2>/dev/full"].iter().enumerate() {
        // Two warnings on the way: an unused --glove and --dropout with one layer.
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "exec \"$0\" train --epochs 1 --hidden 8 --emb-dim 4 --max-len 30 --glove unused.txt --dropout 0.5 --imdb \"$1\" --name w{i} {redirect}"
            ))
            .arg(assert_cmd::cargo::cargo_bin("imdb-rnn"))
            .arg(&archive)
            .current_dir(tmp.path())
            .env("IMDB_RNN_HOME", tmp.path().join("home"))
            .env("IMDB_RNN_TEST_NO_SHARE_NOTE", "1")
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(0), "{redirect}: a warning stderr cannot take is dropped, not a panic's 101");
        assert!(tmp.path().join(format!("runs/w{i}/model.ot")).is_file(), "{redirect}: the run finished");
    }
}

#[test]
fn a_train_split_of_one_class_or_a_handful_of_reviews_trains_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 10);
    // 20 training reviews, 95% held out for validation: one review left, of one class.
    let out = train_tiny(tmp.path(), &archive, "one", &["--epochs", "1", "--val-frac", "0.95"]).assert().success();
    let err = stderr_of(&out);
    assert!(err.contains("imdb-rnn: warning: every one of the 1 training reviews is "), "{err}");
    // 80% held out: 4 reviews of both classes.
    let out = train_tiny(tmp.path(), &archive, "few", &["--epochs", "1", "--val-frac", "0.8", "--seed", "3"]).assert().success();
    let err = stderr_of(&out);
    assert!(
        err.contains("imdb-rnn: warning: only 4 training reviews (after --subset and --val-frac); lower --val-frac or raise --subset")
            || err.contains("imdb-rnn: warning: every one of the 4 training reviews is "),
        "{err}"
    );
    let out = train_tiny(tmp.path(), &archive, "all", &["--epochs", "1"]).assert().success();
    assert!(!stderr_of(&out).contains("training reviews"), "no warning for a usable split");
}
