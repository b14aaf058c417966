//! Where a command writes the files the user names (`--out`, `--overlay`): checked before
//! any work, so a bad destination costs one line at the start instead of an error after
//! every run has trained, and only a regular file is ever replaced (never a directory, a
//! link, a FIFO or a device).
use anyhow::{bail, Result};
use std::fs::FileType;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// Refuses `path` as the output file of `flag` unless it is absent or a regular file
/// and its directory exists and takes new files (the file is written beside itself and
/// renamed into place).
pub(crate) fn check_output_file(flag: &str, path: &Path) -> Result<()> {
    check_file_kind(flag, path)?;
    check_directory_of(flag, path, false)
}

fn check_file_kind(flag: &str, path: &Path) -> Result<()> {
    match other_than(path, FileType::is_file) {
        Some(kind) => bail!("{flag} {} is {kind}; give the path of a regular file (or of a new one): only a regular file is replaced", path.display()),
        None => Ok(()),
    }
}

/// The course's report: `out` (HTML), its Markdown twin and the figures' directory,
/// all checked as [`check_output_file`] checks one file, except that missing
/// directories above them are fine where they can be created (the course creates them).
pub(crate) fn check_report_files(out: &Path, markdown: &Path, figures: &Path) -> Result<()> {
    check_file_kind("--out", out)?;
    check_directory_of("--out", out, true)?;
    if let Some(kind) = other_than(markdown, FileType::is_file) {
        bail!("--out {}: its Markdown twin {} is {kind}; move it away or choose another --out", out.display(), markdown.display());
    }
    if let Some(kind) = other_than(figures, FileType::is_dir) {
        bail!("--out {}: its figures go to {}, which is {kind}; move it away or choose another --out", out.display(), figures.display());
    }
    if figures.is_dir() {
        probe_writable(figures)
            .map_err(|e| anyhow::anyhow!("--out {}: cannot write the figures in {} ({e}); choose another --out", out.display(), figures.display()))?;
    }
    Ok(())
}

/// What `path` is when it exists and `wanted` says it is not the expected kind (links are
/// not followed: a link is refused as a link).
fn other_than(path: &Path, wanted: fn(&FileType) -> bool) -> Option<&'static str> {
    let kind = std::fs::symlink_metadata(path).ok()?.file_type();
    (!wanted(&kind)).then(|| describe(&kind))
}

fn describe(kind: &FileType) -> &'static str {
    if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a regular file"
    }
}

/// The directory `path` goes in must exist and take a new file; with `created`, its
/// nearest existing ancestor must (to create the rest in).
fn check_directory_of(flag: &str, path: &Path, created: bool) -> Result<()> {
    let mut dir = parent(path);
    while created && std::fs::symlink_metadata(dir).is_err() && dir != parent(dir) {
        dir = parent(dir);
    }
    if !dir.is_dir() {
        bail!("{flag} {}: directory {} does not exist; create it first or choose another {flag}", path.display(), dir.display());
    }
    probe_writable(dir).map_err(|e| anyhow::anyhow!("{flag} {}: cannot write in {} ({e}); choose another {flag}", path.display(), dir.display()))
}

/// The directory `path` is in (`.` for a bare file name).
fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Creates and removes a file in `dir`: the one honest test that it takes new files
/// (permissions, a read-only mount, ACLs).
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".imdb-rnn-probe.tmp{}", std::process::id()));
    std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_regular_files_pass_and_a_directory_or_a_link_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("r.html");
        check_output_file("--out", &file).unwrap();
        std::fs::write(&file, "old").unwrap();
        check_output_file("--out", &file).unwrap();
        let err = check_output_file("--out", tmp.path()).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
        let link = tmp.path().join("l.html");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let err = check_output_file("--out", &link).unwrap_err().to_string();
        assert!(err.contains("is a symbolic link"), "{err}");
        let err = check_output_file("--out", &tmp.path().join("no/r.html")).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 2, "the probe leaves nothing behind");
    }
}
