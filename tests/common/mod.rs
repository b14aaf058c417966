//! Fixtures shared by the integration tests: tiny aclImdb archives built on the fly.
#![allow(dead_code)]
use std::io::Write;
use std::path::{Path, PathBuf};

/// One review of a fixture archive.
#[derive(Clone, Debug)]
pub struct Review {
    pub split: &'static str,
    pub label: &'static str,
    pub id: u32,
    pub rating: u8,
    pub text: Vec<u8>,
}

/// Writes `entries` (path, bytes) as a gzipped tar at `path`.
pub fn write_tar_gz(path: &Path, entries: &[(String, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        // set_path refuses `..`; write the raw name so hostile archives can be built.
        let raw = header.as_old_mut();
        raw.name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        tar.append(&header, bytes.as_slice()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

/// An aclImdb-layout archive holding `reviews` (plus the README and an unsup review,
/// which readers must skip).
pub fn write_imdb(path: &Path, reviews: &[Review]) {
    let mut entries = vec![("aclImdb/README".to_string(), b"fixture".to_vec()), ("aclImdb/train/unsup/0_0.txt".to_string(), b"unlabeled words".to_vec())];
    for r in reviews {
        entries.push((format!("aclImdb/{}/{}/{}_{}.txt", r.split, r.label, r.id, r.rating), r.text.clone()));
    }
    write_tar_gz(path, &entries);
}

/// A learnable synthetic corpus: positive reviews mix "good" words into filler, negative
/// ones "bad" words; the sentiment word positions vary, lengths vary from 5 to 25.
pub fn learnable_reviews(per_split_and_label: u32, seed: u64) -> Vec<Review> {
    let good = ["great", "wonderful", "superb", "loved", "brilliant"];
    let bad = ["awful", "boring", "terrible", "hated", "worst"];
    let filler = ["the", "movie", "plot", "actor", "scene", "film", "story", "and", "was", "it", "a", "of"];
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move |n: usize| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) % n as u64) as usize
    };
    let mut out = Vec::new();
    for split in ["train", "test"] {
        for (label, words, rating) in [("pos", &good, 9u8), ("neg", &bad, 2u8)] {
            for id in 0..per_split_and_label {
                let len = 5 + next(21);
                let mut toks: Vec<&str> = (0..len).map(|_| filler[next(filler.len())]).collect();
                for _ in 0..3 {
                    let at = next(len);
                    toks[at] = words[next(words.len())];
                }
                let text = format!("{}.", toks.join(" ")).into_bytes();
                out.push(Review { split, label, id, rating, text });
            }
        }
    }
    out
}

/// A learnable fixture archive in a fresh directory; returns its path.
pub fn learnable_archive(dir: &Path, per_split_and_label: u32) -> PathBuf {
    let path = dir.join("aclImdb_fixture.tar.gz");
    write_imdb(&path, &learnable_reviews(per_split_and_label, 7));
    path
}

/// The imdb-rnn command with an isolated data home and no network.
pub fn imdb_rnn(home: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("imdb-rnn").unwrap();
    cmd.env("IMDB_RNN_HOME", home).env_remove("IMDB_RNN_IMDB").env_remove("IMDB_RNN_OFFLINE").env_remove("IMDB_RNN_MIRROR").env_remove("IMDB_RNN_GLOVE");
    cmd.env("IMDB_RNN_RETRY_BACKOFF_MS", "10");
    // Tests run many trainings at once; the note that says so is tested on its own.
    cmd.env("IMDB_RNN_TEST_NO_SHARE_NOTE", "1");
    cmd
}

/// Runs `script` with `python` (an interpreter name on PATH), `input` as JSON on its
/// stdin (no quoting), and parses its stdout as JSON.
pub fn python_json<T: serde::de::DeserializeOwned>(python: &str, script: &str, input: &impl serde::Serialize, hint: &str) -> T {
    use std::process::{Command, Stdio};
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python} ({e}): {hint}"));
    let bytes = serde_json::to_vec(input).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Written from a thread so a large input cannot deadlock against a full stdout pipe.
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{python} failed ({hint}): {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A GloVe file in gensim's format (header line) with 4-d vectors for a few words of
/// the learnable fixture, at `dir/g.txt`.
pub fn write_glove_4d(dir: &Path) -> PathBuf {
    let glove = dir.join("g.txt");
    std::fs::write(&glove, "4 4\nthe 0.1 0.2 0.3 0.4\nmovie -1 0.5 2 0.25\ngreat 1 1 1 1\nawful -1 -1 -1 -1\n").unwrap();
    glove
}

/// Fluent arguments shared by the tests' invocations, for assert_cmd's and std's
/// `Command` alike: `imdb_rnn(&home).args(["train", ...]).data_and_runs(&archive, &runs)`.
pub trait FixtureArgs {
    /// `--imdb ARCHIVE --runs-dir RUNS`: the fixture archive and the test's runs directory.
    fn data_and_runs(&mut self, archive: &Path, runs: &Path) -> &mut Self;
}

impl FixtureArgs for assert_cmd::Command {
    fn data_and_runs(&mut self, archive: &Path, runs: &Path) -> &mut Self {
        self.arg("--imdb").arg(archive).arg("--runs-dir").arg(runs)
    }
}

impl FixtureArgs for std::process::Command {
    fn data_and_runs(&mut self, archive: &Path, runs: &Path) -> &mut Self {
        self.arg("--imdb").arg(archive).arg("--runs-dir").arg(runs)
    }
}

/// A GloVe file (gensim's format) with seeded 4-d vectors for the learnable fixture's
/// sentiment words and some filler, good and bad words pointing opposite ways, at
/// `dir/glove-fixture.txt`: enough for neighbours and coverage to mean something.
pub fn write_glove_fixture(dir: &Path) -> PathBuf {
    let words: [(&str, f32); 14] = [
        ("great", 1.0),
        ("wonderful", 0.9),
        ("superb", 0.8),
        ("loved", 0.7),
        ("awful", -1.0),
        ("boring", -0.9),
        ("terrible", -0.8),
        ("hated", -0.7),
        ("the", 0.05),
        ("movie", 0.1),
        ("film", 0.12),
        ("plot", -0.05),
        ("scene", 0.0),
        ("unusedword", 0.3),
    ];
    let mut text = format!("{} 4\n", words.len());
    for (i, (w, s)) in words.iter().enumerate() {
        let k = i as f32 * 0.1;
        text.push_str(&format!("{w} {s} {} {} {}\n", 0.5 * s + 0.01 * k, 0.2 - k * 0.03, 0.1 + k * 0.02));
    }
    let path = dir.join("glove-fixture.txt");
    std::fs::write(&path, text).unwrap();
    path
}

/// A run's metrics.csv without its wall-clock columns (epoch_seconds, tokens_per_s): what
/// two runs of one configuration must share.
pub fn metrics_without_timing(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("metrics.csv")).unwrap().lines().map(|l| l.split(',').take(8).collect::<Vec<_>>().join(",")).collect::<Vec<_>>().join("\n")
}

/// What a finished command wrote on stdout.
pub fn stdout_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

/// What a finished command wrote on stderr.
pub fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}
