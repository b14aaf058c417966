//! Small shared helpers: atomic file writes, stdout that tolerates a closed pipe, stderr
//! lines that never panic, a seeded, version-stable RNG, and the repeats of a list.
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temp file in the same directory and a rename, so
/// readers see either the old file or the complete new one, never a partial one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, bytes, true)
}

/// [`write_atomic`], with the fsync before the rename optional: without it a power cut
/// may leave the renamed file incomplete, which only files that verify themselves (a
/// checksummed cache) can afford.
pub(crate) fn write_atomic_with(path: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    stage(path, bytes, sync)?.commit()
}

/// A complete new version of a file, written under a temp name beside it: [`commit`]
/// renames it into place; dropped uncommitted, it is removed. Staging several files
/// before committing any keeps files that belong together (a checkpoint's weights and
/// its state) consistent when the disk fills up.
///
/// [`commit`]: Staged::commit
pub(crate) struct Staged {
    tmp: std::path::PathBuf,
    path: std::path::PathBuf,
    committed: bool,
}

impl Staged {
    pub(crate) fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.path).with_context(|| format!("cannot write {}", self.path.display()))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` under a temp name beside `path` (see [`Staged`]).
pub(crate) fn stage(path: &Path, bytes: &[u8], sync: bool) -> Result<Staged> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let staged = Staged { tmp: dir.join(format!(".{name}.tmp{}", std::process::id())), path: path.to_path_buf(), committed: false };
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&staged.tmp)?;
        f.write_all(bytes)?;
        if sync {
            f.sync_all()?;
        }
        Ok(())
    })();
    written.with_context(|| format!("cannot write {}", path.display()))?;
    Ok(staged)
}

/// Removes the temp files (`.NAME.tmpPID`, see [`stage`]) in `dir` left by processes
/// that no longer run (killed mid-write), so they do not pile up (an 8 MB cache temp
/// each). Best effort; a live process's temp files are left alone.
pub(crate) fn remove_stale_temp_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = temp_file_pid(&name) else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The process id in a temp file name `.NAME.tmpPID` (or `.NAME.tmpPID.png`).
pub(crate) fn temp_file_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (_, tail) = rest.rsplit_once(".tmp")?;
    tail.strip_suffix(".png").unwrap_or(tail).parse().ok()
}

/// Saves named tensors (libtorch's `.ot` format) through a temp file and a rename, so
/// a crash never leaves a partial weights file under its final name. libtorch only
/// serialises into memory: its own file writer throws from a destructor when the disk
/// is full, which aborts the process (`terminate ... c10::Error`), so the file is
/// written here, where a full disk is an ordinary error naming the file.
pub(crate) fn save_tensors_atomic<T: AsRef<tch::Tensor>>(named: &[(String, T)], path: &Path) -> Result<()> {
    stage_tensors(named, path)?.commit()
}

/// [`save_tensors_atomic`], staged (see [`Staged`]).
pub(crate) fn stage_tensors<T: AsRef<tch::Tensor>>(named: &[(String, T)], path: &Path) -> Result<Staged> {
    let buffer = SharedBuffer::default();
    tch::Tensor::save_multi_to_stream(named, buffer.clone())
        .map_err(|e| anyhow::anyhow!("{}", first_line(&e.to_string())))
        .with_context(|| format!("cannot serialise the tensors of {}", path.display()))?;
    let bytes = std::mem::take(&mut *buffer.0.lock().unwrap_or_else(|e| e.into_inner()));
    stage(path, &bytes, true)
}

/// A `Write` into memory that can be handed over by value (libtorch's stream writer
/// wants `'static`) and read back afterwards.
#[derive(Clone, Default)]
struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A libtorch error as its first line, about `path` (the rest is C++ stack frames).
pub(crate) fn torch_error(e: tch::TchError, path: &Path) -> anyhow::Error {
    anyhow::anyhow!("cannot read {}: {}", path.display(), first_line(&e.to_string()))
}

/// The first line of a libtorch error, whose message goes on with ~20 lines of C++
/// stack frames.
pub(crate) fn first_line(message: &str) -> &str {
    message.lines().find(|l| !l.trim().is_empty()).unwrap_or(message).trim_end()
}

/// The reader of stdout went away (`imdb-rnn summary runs | head -1`): not a failure.
/// Commands stop writing and `main` exits 0 without a word, as ripgrep does.
#[derive(Debug)]
pub struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stdout was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// Writes `bytes` to stdout. A closed pipe becomes [`StdoutClosed`]; other errors say
/// it was stdout. (`println!` panics instead, exit 101.)
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("cannot write to stdout")),
    }
}

/// `println!` through `util::write_stdout`; returns early (`?`) when stdout is gone.
#[macro_export]
macro_rules! outln {
    () => { $crate::util::write_stdout(b"\n")? };
    ($($arg:tt)*) => { $crate::util::write_stdout(format!("{}\n", format_args!($($arg)*)).as_bytes())? };
}

/// `print!` through `util::write_stdout`; returns early (`?`) when stdout is gone.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::util::write_stdout(format!($($arg)*).as_bytes())? };
}

/// `eprintln!` that never panics: a warning or a progress line that stderr cannot take
/// (closed, `2>/dev/full`) is dropped, and the work goes on (`eprintln!` would end the
/// process with exit 101 in the middle of a run).
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// SplitMix64: tiny, fast, and its stream never changes with a dependency upgrade, so a
/// seed means the same shuffles and subsets in every version of imdb-rnn.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5851_F42D_4C95_7F2D)
    }
    /// A generator for a named sub-stream (e.g. one per epoch) of `seed`.
    pub(crate) fn derive(seed: u64, stream: u64) -> Rng {
        let mut r = Rng::new(seed.wrapping_add(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        r.next_u64();
        r
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0), without modulo bias worth caring about for n < 2^32.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
    /// Fisher-Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
    pub(crate) fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        self.shuffle(&mut p);
        p
    }
}

/// Bytes as "12.3 MB".
pub(crate) fn human_bytes(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// Opens /dev/null on stdin, stdout or stderr when the process was started with one
/// closed (`2>&-`): otherwise the next file opened (a log, a checkpoint) would take
/// that descriptor, and messages meant for stderr would land in it.
pub fn reopen_closed_stdio() {
    for fd in 0..=2 {
        // SAFETY: fcntl(F_GETFD) only asks whether the descriptor is open; open(2) gets a
        // NUL-terminated path, and the lowest free descriptor it returns is `fd` itself.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1 {
                libc::open(c"/dev/null".as_ptr(), if fd == 0 { libc::O_RDONLY } else { libc::O_WRONLY });
            }
        }
    }
}

/// The first item of a list given twice (`--depth 2,2`): a repeated value would train
/// one configuration twice and count it twice, so lists refuse it.
pub(crate) fn first_repeat<T: PartialEq>(items: &[T]) -> Option<&T> {
    items.iter().enumerate().find(|(i, x)| items[..*i].contains(x)).map(|(_, x)| x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_repeat_of_a_list_is_the_first_item_seen_before() {
        assert_eq!(first_repeat(&[1, 2, 3, 2, 1]), Some(&2));
        assert_eq!(first_repeat(&[1, 2, 3]), None);
        assert_eq!(first_repeat::<u8>(&[]), None);
    }

    #[test]
    fn shuffles_are_permutations_and_depend_on_the_seed() {
        let a = Rng::new(1).permutation(100);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(a, Rng::new(2).permutation(100));
        assert_eq!(a, Rng::new(1).permutation(100));
    }

    #[test]
    fn temp_file_names_give_their_process_id_and_nothing_else_does() {
        assert_eq!(temp_file_pid(".checkpoint.ot.tmp123"), Some(123));
        assert_eq!(temp_file_pid(".learning_curves.png.tmp9.png"), Some(9));
        for other in ["checkpoint.ot", ".x.lock", ".a.tmp", ".a.tmpx1", "a.tmp12"] {
            assert_eq!(temp_file_pid(other), None, "{other}");
        }
    }

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
