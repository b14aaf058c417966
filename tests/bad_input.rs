//! `imdb-rnn data` on broken, hostile or odd input: archives, GloVe files and the cache.
mod common;
use common::*;
use std::io::Write;
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------
// Fixtures and checks

fn review(split: &'static str, label: &'static str, id: u32, rating: u8, text: &[u8]) -> Review {
    Review { split, label, id, rating, text: text.to_vec() }
}

/// Four reviews, one per split and label.
fn small_reviews() -> Vec<Review> {
    vec![
        review("train", "pos", 1, 9, b"A great movie, great plot."),
        review("train", "neg", 2, 2, b"An awful movie."),
        review("test", "pos", 3, 8, b"Great fun!"),
        review("test", "neg", 4, 1, b"Awful plot<br />really."),
    ]
}

fn small_archive(dir: &Path) -> PathBuf {
    let p = dir.join("small.tar.gz");
    write_imdb(&p, &small_reviews());
    p
}

/// The command with an isolated home, its timing output off.
fn cmd(home: &Path) -> assert_cmd::Command {
    let mut c = imdb_rnn(home);
    c.env_remove("IMDB_RNN_TIMINGS");
    c
}

fn data(home: &Path, archive: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    cmd(home).arg("data").arg("--imdb").arg(archive).args(extra).assert()
}

fn data_json(home: &Path, archive: &Path) -> serde_json::Value {
    let a = data(home, archive, &["--json", "--quiet"]).success();
    serde_json::from_slice(&a.get_output().stdout).unwrap()
}

/// The whole stderr of a failed run, which must be one `imdb-rnn: ` line; returns it.
fn the_error(a: &assert_cmd::assert::Assert) -> String {
    let err = stderr_of(a);
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(err.starts_with("imdb-rnn: ") && err.ends_with('\n'), "{err}");
    err.trim_end().to_string()
}

fn cache_files(home: &Path) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(home.join("cache")) else { return vec![] };
    listing.map(|e| e.unwrap().path()).collect()
}

fn corrupt_prefix(archive: &Path) -> String {
    format!(
        "imdb-rnn: IMDB archive {} is truncated or corrupt; delete it and fetch again (imdb-rnn fetch imdb), or pass another with --imdb: ",
        archive.display()
    )
}

/// A tar entry written byte by byte, so that hostile archives can be built.
struct RawEntry {
    name: String,
    kind: tar::EntryType,
    link: Option<String>,
    bytes: Vec<u8>,
}

fn regular(name: &str, bytes: &[u8]) -> RawEntry {
    RawEntry { name: name.into(), kind: tar::EntryType::Regular, link: None, bytes: bytes.to_vec() }
}

fn link(kind: tar::EntryType, name: &str, target: &str) -> RawEntry {
    RawEntry { name: name.into(), kind, link: Some(target.into()), bytes: vec![] }
}

fn write_raw_tar_gz(path: &Path, entries: &[RawEntry]) {
    let file = std::fs::File::create(path).unwrap();
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::fast()));
    for e in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(e.bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(e.kind);
        let raw = header.as_old_mut();
        raw.name[..e.name.len()].copy_from_slice(e.name.as_bytes());
        if let Some(l) = &e.link {
            raw.linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        header.set_cksum();
        tar.append(&header, e.bytes.as_slice()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

// ---------------------------------------------------------------------------------------
// Broken archives

#[test]
fn an_archive_cut_anywhere_is_an_error_naming_it_and_nothing_is_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = std::fs::read(learnable_archive(tmp.path(), 20)).unwrap();
    let n = whole.len();
    // Mid-stream, just before the end, and with only the gzip trailer (CRC, size) missing.
    for cut in [n / 2, n - 20, n - 8, n - 1] {
        let archive = tmp.path().join(format!("cut-{cut}.tar.gz"));
        std::fs::write(&archive, &whole[..cut]).unwrap();
        let home = tmp.path().join(format!("home-{cut}"));
        let a = data(&home, &archive, &[]).failure().code(1);
        let err = the_error(&a);
        assert!(err.starts_with(&corrupt_prefix(&archive)), "cut at {cut} of {n}: {err}");
        assert_eq!(cache_files(&home), Vec::<PathBuf>::new(), "cut at {cut}: nothing cached");
    }
}

#[test]
fn a_corrupt_gzip_stream_is_an_error_naming_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = std::fs::read(learnable_archive(tmp.path(), 20)).unwrap();
    let n = whole.len();
    // A flipped byte in the compressed data, in the stored CRC-32, and in the stored size.
    for (what, at) in [("data", n / 2), ("crc", n - 8), ("size", n - 2)] {
        let mut bytes = whole.clone();
        bytes[at] ^= 0x55;
        let archive = tmp.path().join(format!("corrupt-{what}.tar.gz"));
        std::fs::write(&archive, &bytes).unwrap();
        let home = tmp.path().join(format!("home-{what}"));
        let a = data(&home, &archive, &[]).failure().code(1);
        let err = the_error(&a);
        assert!(err.starts_with(&corrupt_prefix(&archive)), "{what}: {err}");
        assert_eq!(cache_files(&home), Vec::<PathBuf>::new(), "{what}: nothing cached");
    }
}

#[test]
fn traversal_paths_and_links_in_the_archive_write_nothing_and_only_real_reviews_count() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("a").join("b");
    std::fs::create_dir_all(&cwd).unwrap();
    let unique = format!("imdb-rnn-evil-{}-{}", std::process::id(), tmp.path().file_name().unwrap().to_string_lossy());
    let absolute = format!("/tmp/{unique}");
    let mut entries = vec![
        regular("../evil", b"great great great"),
        regular("../../evil2", b"great"),
        regular(&absolute, b"great"),
        regular(&format!("{absolute}/aclImdb/train/pos/7_9.txt"), b"great"),
        regular("aclImdb/train/pos/../../../evil3/8_9.txt", b"great"),
        link(tar::EntryType::Symlink, "evil-link", "/etc"),
        link(tar::EntryType::Symlink, "aclImdb/train/pos/50_9.txt", "/etc/hostname"),
        link(tar::EntryType::Link, "aclImdb/test/pos/51_9.txt", "../../../../etc/hostname"),
    ];
    for r in small_reviews() {
        entries.push(regular(&format!("aclImdb/{}/{}/{}_{}.txt", r.split, r.label, r.id, r.rating), &r.text));
    }
    let archive = tmp.path().join("hostile.tar.gz");
    write_raw_tar_gz(&archive, &entries);
    let home = tmp.path().join("home");
    let a = cmd(&home).current_dir(&cwd).args(["data", "--json", "--quiet", "--imdb"]).arg(&archive).assert().success();
    let report: serde_json::Value = serde_json::from_slice(&a.get_output().stdout).unwrap();
    assert_eq!(report["train"]["reviews"], 2, "links and traversal entries are not reviews");
    assert_eq!(report["test"]["reviews"], 2);
    assert_eq!(report["train_tokens"], 8, "a great movie great plot an awful movie");
    for p in [
        tmp.path().join("a").join("evil"),
        tmp.path().join("evil2"),
        tmp.path().join("evil3"),
        cwd.join("evil-link"),
        cwd.join("aclImdb"),
        PathBuf::from(&absolute),
    ] {
        assert!(!p.exists() && p.symlink_metadata().is_err(), "{} was written", p.display());
    }

    // The same hostile entries with no real review: the no-reviews error.
    let only_hostile = tmp.path().join("only-hostile.tar.gz");
    write_raw_tar_gz(&only_hostile, &entries[..8]);
    let a = cmd(&home).current_dir(&cwd).arg("data").arg("--imdb").arg(&only_hostile).assert().failure().code(1);
    assert_eq!(
        the_error(&a),
        format!(
            "imdb-rnn: {} holds no labeled reviews (expected aclImdb/{{train,test}}/{{pos,neg}}/<id>_<rating>.txt); pass the aclImdb archive with --imdb",
            only_hostile.display()
        )
    );
    assert!(!tmp.path().join("a").join("evil").exists() && !Path::new(&absolute).exists());
}

#[test]
fn an_archive_without_reviews_is_an_error_naming_it_and_the_expected_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("empty.tar.gz");
    write_imdb(&archive, &[]);
    let a = data(&tmp.path().join("home"), &archive, &[]).failure().code(1);
    assert_eq!(
        the_error(&a),
        format!(
            "imdb-rnn: {} holds no labeled reviews (expected aclImdb/{{train,test}}/{{pos,neg}}/<id>_<rating>.txt); pass the aclImdb archive with --imdb",
            archive.display()
        )
    );
}

#[test]
fn an_archive_without_the_test_split_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("train-only.tar.gz");
    let train: Vec<Review> = small_reviews().into_iter().filter(|r| r.split == "train").collect();
    write_imdb(&archive, &train);
    let home = tmp.path().join("home");
    let a = data(&home, &archive, &[]).failure().code(1);
    assert_eq!(the_error(&a), format!("imdb-rnn: {} has no aclImdb/test reviews; pass a complete aclImdb archive with --imdb", archive.display()));
    assert_eq!(cache_files(&home), Vec::<PathBuf>::new());
}

#[test]
fn review_bytes_that_are_not_utf8_are_decoded_lossily_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join("latin1.tar.gz");
    let mut reviews = small_reviews();
    // "Caf\xe9 na\xefve \xff\xfe great" in Latin-1: every invalid byte becomes U+FFFD,
    // which the tokenizer drops, so the tokens are "caf", "nave", "great".
    reviews[0].text = b"Caf\xe9 na\xefve \xff\xfe great".to_vec();
    write_imdb(&archive, &reviews);
    let report = data_json(&tmp.path().join("home"), &archive);
    assert_eq!(report["train"]["reviews"], 2);
    assert_eq!(report["train_tokens"], 3 + 3, "caf nave great + an awful movie");
    let top: Vec<&str> = report["top_words"].as_array().unwrap().iter().map(|w| w[0].as_str().unwrap()).collect();
    for w in ["caf", "nave", "great"] {
        assert!(top.contains(&w), "{w} missing from {top:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Broken GloVe files

/// Runs `data --glove` on a GloVe file holding `content`; returns its path and the error.
fn glove_error(content: &[u8], name: &str) -> (PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let archive = small_archive(tmp.path());
    let glove = tmp.path().join(name);
    std::fs::write(&glove, content).unwrap();
    let a = data(&tmp.path().join("home"), &archive, &["--glove", glove.to_str().unwrap()]).failure().code(1);
    (glove, the_error(&a))
}

#[test]
fn a_glove_line_with_too_few_values_is_an_error_naming_file_and_line() {
    let (p, err) = glove_error(b"great 0.1 0.2 0.3\nmovie 0.1 0.2\n", "short.txt");
    assert_eq!(err, format!("imdb-rnn: {}:2: word \"movie\" has 2 values, expected 3; the file is truncated or not GloVe text", p.display()));
}

#[test]
fn a_glove_line_that_disagrees_with_the_header_is_an_error_naming_file_and_line() {
    let (p, err) = glove_error(b"2 3\ngreat 0.1 0.2 0.3\nzebra 0.1 0.2 0.3 0.4\n", "header.txt");
    assert_eq!(err, format!("imdb-rnn: {}:3: word \"zebra\" has 4 values, expected 3; the file is truncated or not GloVe text", p.display()));
}

#[test]
fn a_glove_value_that_is_not_a_number_is_an_error_naming_file_line_and_value() {
    // For a vocabulary word (parsed) and for a word outside the vocabulary (only checked).
    for (content, line, value, word) in
        [(&b"great 0.1 0.2\nmovie 0.1 abc\n"[..], 2, "abc", "movie"), (&b"great 0.1 0.2\nzebra 0.1 0.2\nyak x 0.2\n"[..], 3, "x", "yak")]
    {
        let (p, err) = glove_error(content, "nan.txt");
        assert_eq!(err, format!("imdb-rnn: {}:{line}: value \"{value}\" of word \"{word}\" is not a number; pass a GloVe text file with --glove", p.display()));
    }
}

#[test]
fn a_glove_value_that_is_nan_or_infinite_is_an_error_naming_file_line_and_value() {
    for value in ["nan", "NaN", "inf", "-infinity"] {
        let content = format!("great 0.1 0.2\nmovie 0.1 {value}\n");
        let (p, err) = glove_error(content.as_bytes(), "inf.txt");
        assert_eq!(err, format!("imdb-rnn: {}:2: value \"{value}\" of word \"movie\" is not a number; pass a GloVe text file with --glove", p.display()));
    }
}

#[test]
fn an_empty_glove_file_is_an_error_naming_it() {
    let (p, err) = glove_error(b"", "empty.txt");
    assert_eq!(err, format!("imdb-rnn: {}: no vectors found (empty file?); pass a GloVe text file with --glove", p.display()));
    let (p, err) = glove_error(b"400000 50\n", "header-only.txt");
    assert_eq!(err, format!("imdb-rnn: {}: no vectors found after the header; pass a GloVe text file with --glove", p.display()));
}

#[test]
fn a_truncated_gzipped_glove_file_is_an_error_naming_it() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for i in 0..2000 {
        writeln!(gz, "word{i} 0.1 0.2 0.3").unwrap();
    }
    let whole = gz.finish().unwrap();
    let (p, err) = glove_error(&whole[..whole.len() / 2], "cut.gz");
    // The cause after the last colon is the decompressor's own words.
    let prefix = format!("imdb-rnn: {}: read error (truncated or corrupt file?): ", p.display());
    assert!(err.starts_with(&prefix), "{err}");
}

// ---------------------------------------------------------------------------------------
// The cache

/// A home whose cache holds the encoding of a fixture archive; returns the first run's
/// text output, the cache file and its good bytes.
struct Cached {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    archive: PathBuf,
    first: String,
    cache: PathBuf,
    good: Vec<u8>,
}

fn cached() -> Cached {
    let tmp = tempfile::tempdir().unwrap();
    let archive = learnable_archive(tmp.path(), 20);
    let home = tmp.path().join("home");
    let first = stdout_of(&data(&home, &archive, &[]).success());
    assert!(first.contains("(from Archive)"), "{first}");
    let [cache] = cache_files(&home).try_into().expect("one cache file");
    let good = std::fs::read(&cache).unwrap();
    Cached { _tmp: tmp, home, archive, first, cache, good }
}

/// Replaces the cache by `corrupt(good bytes)`; the next run must warn, rebuild from the
/// archive (same output as the first run) and rewrite a good cache.
fn assert_rebuilt_after(what: &str, corrupt: impl Fn(&[u8]) -> Vec<u8>) {
    let c = cached();
    std::fs::write(&c.cache, corrupt(&c.good)).unwrap();
    let a = data(&c.home, &c.archive, &[]).success();
    assert_eq!(stdout_of(&a), c.first, "{what}: the output is rebuilt from the archive");
    let err = stderr_of(&a);
    let prefix = format!("imdb-rnn: cache {} is stale or corrupt: ", c.cache.display());
    assert!(err.starts_with(&prefix) && err.ends_with("; rebuilding it\n") && err.lines().count() == 1, "{what}: {err}");
    assert!(std::fs::read(&c.cache).unwrap() == c.good, "{what}: the cache is rewritten");
}

#[test]
fn a_second_run_says_it_came_from_the_cache_and_prints_the_same_report() {
    let c = cached();
    let second = data(&c.home, &c.archive, &[]).success();
    assert_eq!(stdout_of(&second), c.first.replace("(from Archive)", "(from Cache)"));
    assert_eq!(stderr_of(&second), "");
}

#[test]
fn a_cache_with_a_flipped_body_or_checksum_byte_is_rebuilt_not_trusted() {
    assert_rebuilt_after("a flipped body byte", |g| {
        let mut b = g.to_vec();
        let n = b.len();
        b[n - 30] ^= 0x01;
        b
    });
    assert_rebuilt_after("a flipped checksum byte", |g| {
        let mut b = g.to_vec();
        let n = b.len();
        b[n - 1] ^= 0x80;
        b
    });
}

#[test]
fn a_cache_whose_header_names_another_vocabulary_word_is_rebuilt_not_trusted() {
    assert_rebuilt_after("a renamed vocabulary word", |g| {
        let header_len = u64::from_le_bytes(g[8..16].try_into().unwrap()) as usize;
        let header = String::from_utf8_lossy(&g[16..16 + header_len]).into_owned();
        // "movie" becomes "movif": still valid JSON, still a plausible word.
        let at = 16 + header.find("\"movie\"").expect("movie is in the vocabulary") + 5;
        let mut b = g.to_vec();
        b[at] = b'f';
        b
    });
}

#[test]
fn a_cache_with_an_absurd_header_length_is_rebuilt_not_a_crash() {
    assert_rebuilt_after("a huge header length", |g| {
        let mut b = g.to_vec();
        b[8..16].copy_from_slice(&(u64::MAX - 20).to_le_bytes());
        b
    });
}

#[test]
fn a_truncated_or_empty_cache_is_rebuilt() {
    assert_rebuilt_after("truncation to half", |g| g[..g.len() / 2].to_vec());
    assert_rebuilt_after("an empty file", |_| vec![]);
}
