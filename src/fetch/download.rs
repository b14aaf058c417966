//! Verified downloads: stream into `<name>.partial` while hashing, resume with a Range
//! request, retry transient failures with backoff, rename only after size and hash match.
use anyhow::{anyhow, bail, Context, Result};
use sha2::digest::DynDigest;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A pinned digest of a remote file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Digest {
    Sha256(&'static str),
    Md5(&'static str),
}

impl Digest {
    fn hasher(&self) -> Box<dyn DynDigest> {
        match self {
            Digest::Sha256(_) => Box::new(sha2::Sha256::default()),
            Digest::Md5(_) => Box::new(md5::Md5::default()),
        }
    }
    fn expected(&self) -> &'static str {
        match self {
            Digest::Sha256(h) | Digest::Md5(h) => h,
        }
    }
    fn algorithm(&self) -> &'static str {
        match self {
            Digest::Sha256(_) => "sha256",
            Digest::Md5(_) => "md5",
        }
    }
}

/// A file to fetch.
#[derive(Clone, Debug)]
pub(crate) struct Remote {
    /// Name it gets in the downloads directory.
    pub file_name: String,
    pub url: String,
    pub size: Option<u64>,
    pub digest: Option<Digest>,
}

/// How to fetch.
#[derive(Clone, Debug)]
pub(crate) struct FetchOptions {
    /// Never touch the network; a file missing from the cache is an error.
    pub offline: bool,
    /// Attempts after the first, for transient failures only.
    pub retries: u32,
    /// First backoff delay; doubled after each failure.
    pub backoff: Duration,
    pub progress: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        let backoff_ms = std::env::var("IMDB_RNN_RETRY_BACKOFF_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
        FetchOptions { offline: false, retries: 4, backoff: Duration::from_millis(backoff_ms), progress: true }
    }
}

/// Why one attempt failed, and whether another could help.
enum Failure {
    Transient(anyhow::Error),
    Fatal(anyhow::Error),
}

/// Returns the path of `remote` in `dir`, downloading it first when it is not there.
pub(crate) fn fetch(remote: &Remote, dir: &Path, opts: &FetchOptions) -> Result<PathBuf> {
    let dest = dir.join(&remote.file_name);
    if dest.is_file() {
        return Ok(dest);
    }
    if opts.offline {
        bail!(
            "{} is not in the cache and offline mode (--offline or IMDB_RNN_OFFLINE=1) forbids downloading {}; drop --offline/unset IMDB_RNN_OFFLINE, or pass a local copy (--imdb PATH / --glove PATH)",
            dest.display(),
            remote.url
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create data directory {}; set IMDB_RNN_HOME to a writable directory", dir.display()))?;
    // One downloader per file: a second process (a sweep's other worker) waits here,
    // then finds the finished file instead of downloading it again.
    let lock_path = dir.join(format!("{}.lock", remote.file_name));
    let lock =
        File::create(&lock_path).with_context(|| format!("cannot write in data directory {}; set IMDB_RNN_HOME to a writable directory", dir.display()))?;
    lock.lock().with_context(|| format!("cannot lock {}", lock_path.display()))?;
    if dest.is_file() {
        return Ok(dest);
    }
    let partial = dir.join(format!("{}.partial", remote.file_name));
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .timeout(None)
        .user_agent(concat!("imdb-rnn/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut delay = opts.backoff;
    let mut attempt = 0;
    let got_digest = loop {
        match attempt_download(&client, remote, &partial, opts) {
            Ok(digest) => break digest,
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Transient(e)) if attempt >= opts.retries => {
                return Err(e.context(format!(
                    "giving up on {} after {} attempts (no network? pass a local copy with --imdb/--glove PATH, or set IMDB_RNN_MIRROR)",
                    remote.url,
                    attempt + 1
                )));
            }
            Err(Failure::Transient(e)) => {
                if opts.progress {
                    crate::errln!("imdb-rnn: {e:#}; retrying in {:.1} s", delay.as_secs_f64());
                }
                std::thread::sleep(delay);
                delay *= 2;
                attempt += 1;
            }
        }
    };
    verify(remote, &partial, got_digest)?;
    std::fs::rename(&partial, &dest).with_context(|| format!("cannot rename {} to {}", partial.display(), dest.display()))?;
    Ok(dest)
}

/// One request: resumes `partial` when it holds bytes, restarts when the server
/// ignores the Range or rejects it. Hashes while streaming (after re-hashing the bytes
/// a resumed partial already holds) and returns the hex digest when one is pinned.
fn attempt_download(client: &reqwest::blocking::Client, remote: &Remote, partial: &Path, opts: &FetchOptions) -> Result<Option<String>, Failure> {
    let have = std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    let mut request = client.get(&remote.url);
    if have > 0 {
        request = request.header(reqwest::header::RANGE, format!("bytes={have}-"));
    }
    let response = request.send().map_err(|e| unreachable_or_transient(remote, have, e))?;
    let status = response.status();
    let (append, mut response) = match status.as_u16() {
        206 if have > 0 => {
            // Append only what starts where our partial ends; anything else would splice
            // two different stretches of the file together.
            let range = response.headers().get(reqwest::header::CONTENT_RANGE).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !range.starts_with(&format!("bytes {have}-")) {
                let _ = std::fs::remove_file(partial);
                return Err(Failure::Transient(anyhow!("{} answered bytes {range:?} to a resume from byte {have}; restarting", remote.url)));
            }
            (true, response)
        }
        200 => (false, response),
        416 if have > 0 => {
            // Our partial is longer than (or equal to) the file: start over.
            let _ = std::fs::remove_file(partial);
            return Err(Failure::Transient(anyhow!("{} rejected the resume range; restarting", remote.url)));
        }
        code if status.is_server_error() || code == 429 || code == 408 => {
            return Err(Failure::Transient(anyhow!("{} answered {status}", remote.url)));
        }
        _ => return Err(Failure::Fatal(anyhow!("{} answered {status}; check the URL or pass a local file", remote.url))),
    };
    let mut file = if append { OpenOptions::new().append(true).open(partial) } else { File::create(partial) }
        .map_err(|e| Failure::Fatal(anyhow!("cannot write {}: {e}", partial.display())))?;
    let mut hasher = remote.digest.as_ref().map(|d| d.hasher());
    if let (true, Some(h)) = (append, hasher.as_mut()) {
        feed_file(h.as_mut(), partial).map_err(Failure::Fatal)?;
    }
    let start = if append { have } else { 0 };
    let total = response.content_length().map(|n| n + start).or(remote.size);
    let bar = progress_bar(opts.progress, total, &remote.file_name, start);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match response.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = file.flush();
                return Err(Failure::Transient(anyhow!("download of {} broke off: {e}", remote.url)));
            }
        };
        file.write_all(&buf[..n]).map_err(|e| Failure::Fatal(anyhow!("cannot write {}: {e}", partial.display())))?;
        if let Some(h) = hasher.as_mut() {
            h.update(&buf[..n]);
        }
        bar.inc(n as u64);
    }
    file.sync_all().map_err(|e| Failure::Fatal(anyhow!("cannot write {}: {e}", partial.display())))?;
    bar.finish_and_clear();
    let got = std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    if let Some(expected) = total {
        if got < expected {
            return Err(Failure::Transient(anyhow!("download of {} ended early at {got} of {expected} bytes", remote.url)));
        }
    }
    Ok(hasher.map(|h| hex(&h.finalize())))
}

/// A request that failed before any answer. A host that cannot be reached at all (no
/// route, no name, refused) before a single byte arrived is not retried: no network is
/// its common cause, and five attempts with backoff only make the user wait a minute
/// for the same news. Once a download has started, the same failure is a broken
/// connection and worth retrying.
fn unreachable_or_transient(remote: &Remote, have: u64, e: reqwest::Error) -> Failure {
    if e.is_connect() && have == 0 {
        return Failure::Fatal(anyhow!(
            "cannot reach {} to download {} ({}); no network? pass a local copy with --imdb/--glove PATH, or set IMDB_RNN_MIRROR",
            remote.url,
            remote.file_name,
            innermost(&e)
        ));
    }
    Failure::Transient(anyhow!("cannot reach {}: {e}", remote.url))
}

/// The deepest cause of an error: reqwest's own text is "error sending request for url",
/// the reason (refused, no such host) sits at the bottom of the chain.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Checks the finished partial against the pinned size and digest; deletes it on mismatch.
fn verify(remote: &Remote, partial: &Path, got_digest: Option<String>) -> Result<()> {
    let size = std::fs::metadata(partial)?.len();
    if let Some(expected) = remote.size {
        if size != expected {
            let _ = std::fs::remove_file(partial);
            bail!("size mismatch for {}: expected {expected} bytes, got {size}; the partial download was deleted, try again", remote.url);
        }
    }
    if let (Some(digest), Some(got)) = (&remote.digest, got_digest) {
        if got != digest.expected() {
            let _ = std::fs::remove_file(partial);
            bail!(
                "checksum mismatch for {}: expected {} {}, got {got}; the download was deleted, try again or pass a local copy",
                remote.url,
                digest.algorithm(),
                digest.expected()
            );
        }
    }
    Ok(())
}

fn feed_file(hasher: &mut dyn DynDigest, path: &Path) -> Result<()> {
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        hasher.update(&buf[..n]);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn progress_bar(show: bool, total: Option<u64>, name: &str, start: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match total {
        Some(t) => indicatif::ProgressBar::new(t),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(name.to_string());
    bar.set_position(start);
    bar
}
