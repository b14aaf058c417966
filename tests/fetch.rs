//! Downloads against a scripted loopback HTTP/1.1 server: verification, resume, retries,
//! offline mode, the per-file lock and unwritable data directories.
mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ---------------------------------------------------------------------------------------
// The server

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    fn range(&self) -> Option<&str> {
        self.header("range")
    }
}

/// What the server answers to one request.
#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Send only this many body bytes (Content-Length still announces all), then close.
    cut_after: Option<usize>,
    /// Send the body in 10 chunks with this pause between them.
    drip: Option<Duration>,
}

impl Reply {
    fn status(status: u16) -> Reply {
        Reply { status, headers: vec![], body: format!("status {status}\n").into_bytes(), cut_after: None, drip: None }
    }
    fn ok(body: &[u8]) -> Reply {
        Reply { body: body.to_vec(), ..Reply::status(200) }
    }
    /// A correct 206 for `Range: bytes=start-`.
    fn partial(body: &[u8], start: usize) -> Reply {
        Reply::partial_claiming(body, start, start)
    }
    /// A 206 that sends the bytes from `sent_from` while its Content-Range says `claimed`.
    fn partial_claiming(body: &[u8], sent_from: usize, claimed: usize) -> Reply {
        let range = format!("bytes {claimed}-{}/{}", body.len() - 1, body.len());
        Reply { status: 206, headers: vec![("Content-Range".into(), range)], body: body[sent_from..].to_vec(), cut_after: None, drip: None }
    }
    fn cut(mut self, after: usize) -> Reply {
        self.cut_after = Some(after);
        self
    }
    fn drip(mut self, pause: Duration) -> Reply {
        self.drip = Some(pause);
        self
    }
}

type Script = dyn Fn(usize, &Request) -> Reply + Send + Sync;

/// A loopback HTTP/1.1 server answering each request (`Connection: close`) with
/// `script(index, request)`; it records every request.
struct Server {
    port: u16,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn start(script: impl Fn(usize, &Request) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log: Arc<Mutex<Vec<Request>>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let log2 = log.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (log, script) = (log2.clone(), script.clone());
                std::thread::spawn(move || handle(conn, &log, &*script));
            }
        });
        Server { port, log }
    }
    fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
    fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

fn handle(mut conn: TcpStream, log: &Mutex<Vec<Request>>, script: &Script) {
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let request = Request { method, path, headers };
    let index = {
        let mut log = log.lock().unwrap();
        log.push(request.clone());
        log.len() - 1
    };
    let reply = script(index, &request);
    let mut out = format!("HTTP/1.1 {} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n", reply.status, reply.body.len());
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    if conn.write_all(out.as_bytes()).is_err() {
        return;
    }
    let body = &reply.body[..reply.cut_after.unwrap_or(reply.body.len())];
    match reply.drip {
        Some(pause) => {
            for chunk in body.chunks(body.len().div_ceil(10).max(1)) {
                if conn.write_all(chunk).and_then(|_| conn.flush()).is_err() {
                    return;
                }
                std::thread::sleep(pause);
            }
        }
        None => {
            let _ = conn.write_all(body);
        }
    }
    let _ = conn.flush();
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

// ---------------------------------------------------------------------------------------
// Fixtures and checks

/// A small valid aclImdb archive, as bytes.
fn fixture_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(learnable_archive(dir, 20)).unwrap()
}

fn downloads(home: &Path) -> PathBuf {
    home.join("downloads")
}

/// Files in the downloads directory, lock files left out (they hold no data).
fn download_files(home: &Path) -> Vec<String> {
    let Ok(listing) = std::fs::read_dir(downloads(home)) else { return vec![] };
    let mut names: Vec<String> = listing.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| !n.ends_with(".lock")).collect();
    names.sort();
    names
}

/// The error line of a failed run: exactly one line, prefixed `imdb-rnn: `.
fn error_line(a: &assert_cmd::assert::Assert) -> String {
    let err = stderr_of(a);
    let last = err.lines().last().unwrap_or("").to_string();
    assert!(last.starts_with("imdb-rnn: "), "stderr: {err}");
    last
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `imdb-rnn fetch --imdb URL`, quiet.
fn fetch_url(home: &Path, url: &str) -> assert_cmd::assert::Assert {
    imdb_rnn(home).args(["fetch", "--quiet", "--imdb", url]).assert()
}

/// Checks a successful fetch of `name` printed its path and holds exactly `body`.
fn assert_fetched(a: &assert_cmd::assert::Assert, home: &Path, name: &str, body: &[u8]) {
    let dest = downloads(home).join(name);
    assert_eq!(stdout_of(a), format!("imdb\t{}\n", dest.display()));
    assert!(std::fs::read(&dest).unwrap() == body, "{} differs from what the server holds", dest.display());
    assert_eq!(download_files(home), [name], "only the finished file is left");
}

// ---------------------------------------------------------------------------------------
// Verification

#[test]
fn an_official_file_of_the_wrong_size_from_a_mirror_is_deleted_and_the_error_names_url_expected_and_got() {
    let tmp = tempfile::tempdir().unwrap();
    let body = fixture_bytes(tmp.path());
    let server = Server::start({
        let body = body.clone();
        move |_, _| Reply::ok(&body)
    });
    let home = tmp.path().join("home");
    let a = imdb_rnn(&home).args(["fetch", "imdb", "--quiet"]).env("IMDB_RNN_MIRROR", server.base()).assert().failure().code(1);
    assert_eq!(
        error_line(&a),
        format!(
            "imdb-rnn: size mismatch for {}: expected 84125825 bytes, got {}; the partial download was deleted, try again",
            server.url("aclImdb_v1.tar.gz"),
            body.len()
        )
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.requests()[0].path, "/aclImdb_v1.tar.gz");
    assert_eq!(download_files(&home), Vec::<String>::new(), "neither aclImdb_v1.tar.gz nor its .partial may be left");
}

#[test]
fn the_official_file_name_under_another_url_keeps_its_pin() {
    let tmp = tempfile::tempdir().unwrap();
    let body = fixture_bytes(tmp.path());
    let server = Server::start({
        let body = body.clone();
        move |_, _| Reply::ok(&body)
    });
    let home = tmp.path().join("home");
    let url = server.url("aclImdb_v1.tar.gz");
    let a = fetch_url(&home, &url).failure().code(1);
    assert_eq!(
        error_line(&a),
        format!("imdb-rnn: size mismatch for {url}: expected 84125825 bytes, got {}; the partial download was deleted, try again", body.len())
    );
    assert_eq!(download_files(&home), Vec::<String>::new());
}

#[test]
fn a_file_with_the_wrong_checksum_is_deleted_and_the_error_names_url_expected_and_got() {
    use md5::Digest;
    let tmp = tempfile::tempdir().unwrap();
    let body = b"the 0.1 0.2\nmovie 0.3 0.4\n".to_vec();
    let got = hex(&md5::Md5::digest(&body));
    let server = Server::start({
        let body = body.clone();
        move |_, _| Reply::ok(&body)
    });
    let home = tmp.path().join("home");
    let a = imdb_rnn(&home).args(["fetch", "glove-wiki-gigaword-100", "--quiet"]).env("IMDB_RNN_MIRROR", server.base()).assert().failure().code(1);
    assert_eq!(
        error_line(&a),
        format!(
            "imdb-rnn: checksum mismatch for {}: expected md5 40ec481866001177b8cd4cb0df92924f, got {got}; the download was deleted, try again or pass a local copy",
            server.url("glove-wiki-gigaword-100.gz")
        )
    );
    assert_eq!(download_files(&home), Vec::<String>::new(), "neither the .gz nor its .partial may be left");
}

// ---------------------------------------------------------------------------------------
// Resume and restart

#[test]
fn a_body_cut_midway_is_resumed_with_a_range_request_and_the_file_is_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let body = fixture_bytes(tmp.path());
    let half = body.len() / 2;
    let server = Server::start({
        let body = body.clone();
        move |i, req| match (i, req.range()) {
            (0, None) => Reply::ok(&body).cut(half),
            (_, Some(r)) if r == format!("bytes={half}-") => Reply::partial(&body, half),
            _ => Reply::status(500),
        }
    });
    let home = tmp.path().join("home");
    let a = fetch_url(&home, &server.url("fixture.tar.gz")).success();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[0].range(), None);
    assert_eq!(reqs[1].range(), Some(format!("bytes={half}-").as_str()));
    assert_fetched(&a, &home, "fixture.tar.gz", &body);
}

#[test]
fn a_server_that_ignores_the_range_and_resends_everything_still_gives_the_right_file() {
    let tmp = tempfile::tempdir().unwrap();
    let body = fixture_bytes(tmp.path());
    let server = Server::start({
        let body = body.clone();
        move |i, _| if i == 0 { Reply::ok(&body).cut(body.len() / 2) } else { Reply::ok(&body) }
    });
    let home = tmp.path().join("home");
    let a = fetch_url(&home, &server.url("fixture.tar.gz")).success();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[1].range().is_some(), "the retry asks to resume");
    assert_fetched(&a, &home, "fixture.tar.gz", &body);
}

#[test]
fn a_206_starting_at_another_offset_than_asked_is_not_appended() {
    let tmp = tempfile::tempdir().unwrap();
    let body = fixture_bytes(tmp.path());
    let half = body.len() / 2;
    let server = Server::start({
        let body = body.clone();
        move |i, req| match (i, req.range()) {
            (0, _) => Reply::ok(&body).cut(half),
            // Resends from byte 0 and says so in Content-Range.
            (_, Some(_)) => Reply::partial_claiming(&body, 0, 0),
            (_, None) => Reply::ok(&body),
        }
    });
    let home = tmp.path().join("home");
    let a = fetch_url(&home, &server.url("fixture.tar.gz")).success();
    assert_fetched(&a, &home, "fixture.tar.gz", &body);
}

#[test]
fn a_416_for_the_resume_range_restarts_the_download_from_scratch() {
    let tmp = tempfile::tempdir().unwrap();
    let body = fixture_bytes(tmp.path());
    let server = Server::start({
        let body = body.clone();
        move |i, req| match (i, req.range()) {
            (0, None) => Reply::ok(&body).cut(body.len() / 3),
            (_, Some(_)) => Reply::status(416),
            (_, None) => Reply::ok(&body),
        }
    });
    let home = tmp.path().join("home");
    let a = fetch_url(&home, &server.url("fixture.tar.gz")).success();
    let ranges: Vec<Option<String>> = server.requests().iter().map(|r| r.range().map(str::to_string)).collect();
    assert_eq!(ranges, [None, Some(format!("bytes={}-", body.len() / 3)), None]);
    assert_fetched(&a, &home, "fixture.tar.gz", &body);
}

// ---------------------------------------------------------------------------------------
// Errors and retries

#[test]
fn a_404_is_one_request_and_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(|_, _| Reply::status(404));
    let home = tmp.path().join("home");
    let url = server.url("missing.tar.gz");
    let a = fetch_url(&home, &url).failure().code(1);
    assert_eq!(error_line(&a), format!("imdb-rnn: {url} answered 404 Not Found; check the URL or pass a local file"));
    assert_eq!(stderr_of(&a).lines().count(), 1, "no retry messages for a 404");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.requests()[0].method, "GET");
    assert_eq!(download_files(&home), Vec::<String>::new());
}

#[test]
fn two_503s_then_a_200_succeeds_after_retries() {
    let tmp = tempfile::tempdir().unwrap();
    let body = fixture_bytes(tmp.path());
    let server = Server::start({
        let body = body.clone();
        move |i, _| if i < 2 { Reply::status(503) } else { Reply::ok(&body) }
    });
    let home = tmp.path().join("home");
    let a = fetch_url(&home, &server.url("fixture.tar.gz")).success();
    assert_eq!(server.requests().len(), 3);
    assert_fetched(&a, &home, "fixture.tar.gz", &body);
}

#[test]
fn retries_stop_after_five_attempts_with_an_error_naming_the_url_and_the_last_status() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(|_, _| Reply::status(503));
    let home = tmp.path().join("home");
    let url = server.url("fixture.tar.gz");
    let a = fetch_url(&home, &url).failure().code(1);
    assert_eq!(error_line(&a), format!("imdb-rnn: giving up on {url} after 5 attempts (no network? pass a local copy with --imdb/--glove PATH, or set IMDB_RNN_MIRROR): {url} answered 503 Service Unavailable"));
    assert_eq!(server.requests().len(), 5);
    assert_eq!(download_files(&home), Vec::<String>::new());
}

#[test]
fn a_host_that_refuses_the_connection_fails_at_once_without_retries_naming_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    // A port that was free a moment ago: nothing listens there, the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/fixture.tar.gz");
    let home = tmp.path().join("home");
    let a = fetch_url(&home, &url).failure().code(1);
    let line = error_line(&a);
    assert!(line.starts_with(&format!("imdb-rnn: cannot reach {url} to download fixture.tar.gz (")), "{line}");
    assert!(line.ends_with("); no network? pass a local copy with --imdb/--glove PATH, or set IMDB_RNN_MIRROR"), "{line}");
    assert_eq!(stderr_of(&a).lines().count(), 1, "no retry messages");
    assert_eq!(download_files(&home), Vec::<String>::new());
}

#[test]
fn a_download_that_keeps_breaking_off_leaves_only_a_partial_for_the_next_run_to_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let body = fixture_bytes(tmp.path());
    let server = Server::start({
        let body = body.clone();
        // Every answer stops 100 bytes further; never reaches the end.
        move |i, req| {
            let start = req.range().and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok()).unwrap_or(0);
            let reply = if start == 0 { Reply::ok(&body) } else { Reply::partial(&body, start) };
            reply.cut(100 + i)
        }
    });
    let home = tmp.path().join("home");
    let a = fetch_url(&home, &server.url("fixture.tar.gz")).failure().code(1);
    assert!(error_line(&a).starts_with(&format!(
        "imdb-rnn: giving up on {} after 5 attempts (no network? pass a local copy with --imdb/--glove PATH, or set IMDB_RNN_MIRROR): ",
        server.url("fixture.tar.gz")
    )));
    assert_eq!(download_files(&home), ["fixture.tar.gz.partial"], "no file under the final name");
    let kept = std::fs::read(downloads(&home).join("fixture.tar.gz.partial")).unwrap();
    assert!(body.starts_with(&kept), "the partial holds a prefix of the file");
}

#[test]
fn offline_with_an_empty_cache_names_the_flag_and_the_variable_and_makes_no_request() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(|_, _| Reply::status(500));
    let home = tmp.path().join("home");
    let url = server.url("fixture.tar.gz");
    let dest = downloads(&home).join("fixture.tar.gz");
    let expected = format!(
        "imdb-rnn: {} is not in the cache and offline mode (--offline or IMDB_RNN_OFFLINE=1) forbids downloading {url}; drop --offline/unset IMDB_RNN_OFFLINE, or pass a local copy (--imdb PATH / --glove PATH)",
        dest.display()
    );
    let by_flag = imdb_rnn(&home).args(["fetch", "--offline", "--imdb", &url]).assert().failure().code(1);
    assert_eq!(error_line(&by_flag), expected);
    let by_env = imdb_rnn(&home).args(["data", "--imdb", &url]).env("IMDB_RNN_OFFLINE", "1").assert().failure().code(1);
    assert_eq!(error_line(&by_env), expected);
    let official = imdb_rnn(&home).args(["fetch", "imdb", "--offline"]).env("IMDB_RNN_MIRROR", server.base()).assert().failure();
    assert!(error_line(&official).contains("offline mode (--offline or IMDB_RNN_OFFLINE=1) forbids downloading"));
    assert_eq!(server.requests().len(), 0);
    assert!(!home.join("downloads").exists(), "offline mode creates nothing");
}

#[test]
fn a_fetched_file_is_served_from_the_downloads_directory_offline_and_without_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let body = fixture_bytes(tmp.path());
    let server = Server::start({
        let body = body.clone();
        move |_, _| Reply::ok(&body)
    });
    let home = tmp.path().join("home");
    let url = server.url("fixture.tar.gz");
    let first = imdb_rnn(&home).args(["data", "--quiet", "--json", "--imdb", &url]).assert().success();
    let report: serde_json::Value = serde_json::from_slice(&first.get_output().stdout).unwrap();
    assert_eq!((report["train"]["reviews"].as_u64(), report["test"]["reviews"].as_u64()), (Some(40), Some(40)));
    let again = imdb_rnn(&home).args(["fetch", "--offline", "--imdb", &url]).assert().success();
    assert_fetched(&again, &home, "fixture.tar.gz", &body);
    assert_eq!(server.requests().len(), 1);
}

// ---------------------------------------------------------------------------------------
// Concurrency and the data directory

#[test]
fn two_concurrent_fetches_of_the_same_url_download_the_body_once() {
    let tmp = tempfile::tempdir().unwrap();
    let body = fixture_bytes(tmp.path());
    let server = Server::start({
        let body = body.clone();
        // About a second per download, so the two processes overlap.
        move |_, _| Reply::ok(&body).drip(Duration::from_millis(100))
    });
    let home = tmp.path().join("home");
    let url = server.url("fixture.tar.gz");
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (home, url) = (home.clone(), url.clone());
            std::thread::spawn(move || fetch_url(&home, &url).success().get_output().stdout.clone())
        })
        .collect();
    let outs: Vec<Vec<u8>> = runs.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(server.requests().len(), 1, "the second process waits for the first instead of downloading again");
    let dest = downloads(&home).join("fixture.tar.gz");
    for out in outs {
        assert_eq!(String::from_utf8(out).unwrap(), format!("imdb\t{}\n", dest.display()));
    }
    assert!(std::fs::read(&dest).unwrap() == body);
}

#[test]
fn a_data_home_that_is_a_file_or_under_one_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(|_, _| Reply::ok(b"never"));
    let file = tmp.path().join("home-file");
    std::fs::write(&file, b"not a directory").unwrap();
    // The file itself, and a path under it.
    for home in [file.clone(), file.join("sub")] {
        let a = fetch_url(&home, &server.url("fixture.tar.gz")).failure().code(1);
        assert_eq!(
            error_line(&a),
            format!(
                "imdb-rnn: cannot create data directory {}; set IMDB_RNN_HOME to a writable directory: Not a directory (os error 20)",
                home.join("downloads").display()
            )
        );
    }
    assert_eq!(server.requests().len(), 0);
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
}

#[test]
fn a_read_only_downloads_directory_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(|_, _| Reply::ok(b"never"));
    let home = tmp.path().join("home");
    let dir = downloads(&home);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(dir.join("probe"), b"").is_ok() {
        // Root ignores permissions: make "downloads" a file instead, which nobody can write into.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::write(&dir, b"").unwrap();
    }
    let a = fetch_url(&home, &server.url("fixture.tar.gz")).failure().code(1);
    let err = error_line(&a);
    let named = format!("imdb-rnn: cannot create data directory {}; set IMDB_RNN_HOME to a writable directory: ", dir.display());
    let locked = format!("imdb-rnn: cannot write in data directory {}; set IMDB_RNN_HOME to a writable directory: ", dir.display());
    assert!(err.starts_with(&named) || err.starts_with(&locked), "{err}");
    assert_eq!(server.requests().len(), 0);
    if dir.is_dir() {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
