//! `--out` (course, report) and `--overlay` (plot): the destination is checked before any
//! work, and only a regular file is ever replaced (never a directory, a link, a FIFO or
//! a device).
mod common;
use common::*;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

const TINY: [&str; 13] = ["--subset", "40", "--epochs", "1", "--hidden", "4", "--emb-dim", "4", "--max-len", "30", "--only", "q1-q2", "--quiet"];

/// `imdb-rnn course` on a fixture that would train a run, writing to `out`.
fn course(tmp: &Path, out: &Path) -> assert_cmd::Command {
    let archive = learnable_archive(tmp, 30);
    let mut cmd = imdb_rnn(&tmp.join("home"));
    cmd.arg("course").args(TINY).data_and_runs(&archive, &tmp.join("runs")).arg("--out").arg(out);
    cmd
}

fn refused(mut cmd: assert_cmd::Command, message: String) {
    cmd.assert().code(1).stderr(message);
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a NUL-terminated path that lives through the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

const FILE_ONLY: &str = "give the path of a regular file (or of a new one): only a regular file is replaced";

#[test]
fn a_course_whose_out_is_a_directory_a_device_or_a_link_is_refused_before_any_run_trains() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reports");
    std::fs::create_dir(&dir).unwrap();
    refused(course(tmp.path(), &dir), format!("imdb-rnn: --out {} is a directory; {FILE_ONLY}\n", dir.display()));
    refused(course(tmp.path(), Path::new("/dev/null")), format!("imdb-rnn: --out /dev/null is a device; {FILE_ONLY}\n"));
    assert!(Path::new("/dev/null").metadata().unwrap().file_type().is_char_device(), "/dev/null is left a device");
    let target = tmp.path().join("kept.html");
    std::fs::write(&target, "kept").unwrap();
    let link = tmp.path().join("link.html");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    refused(course(tmp.path(), &link), format!("imdb-rnn: --out {} is a symbolic link; {FILE_ONLY}\n", link.display()));
    assert!(!tmp.path().join("runs").exists(), "no run was trained");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept");
}

#[test]
fn a_course_whose_markdown_twin_or_figures_directory_is_blocked_is_refused_before_any_run_trains() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("course.html");
    let (markdown, figures) = (tmp.path().join("course.md"), tmp.path().join("course_files"));
    std::fs::create_dir(&markdown).unwrap();
    refused(
        course(tmp.path(), &out),
        format!("imdb-rnn: --out {}: its Markdown twin {} is a directory; move it away or choose another --out\n", out.display(), markdown.display()),
    );
    std::fs::remove_dir(&markdown).unwrap();
    std::fs::write(&figures, "a file").unwrap();
    refused(
        course(tmp.path(), &out),
        format!("imdb-rnn: --out {}: its figures go to {}, which is a regular file; move it away or choose another --out\n", out.display(), figures.display()),
    );
    assert!(!tmp.path().join("runs").exists(), "no run was trained");
    assert!(!out.exists() && !markdown.exists(), "nothing half-written");
}

#[test]
fn report_refuses_a_fifo_a_link_a_directory_and_a_missing_directory_as_out() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let root = tmp.path().join("runs");
    std::fs::create_dir(&root).unwrap();
    let report = |out: &PathBuf| {
        let mut cmd = imdb_rnn(&home);
        cmd.arg("report").arg(&root).arg("--out").arg(out);
        cmd
    };
    let fifo = tmp.path().join("fifo.html");
    mkfifo(&fifo);
    refused(report(&fifo), format!("imdb-rnn: --out {} is a FIFO; {FILE_ONLY}\n", fifo.display()));
    let link = tmp.path().join("link.html");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    refused(report(&link), format!("imdb-rnn: --out {} is a symbolic link; {FILE_ONLY}\n", link.display()));
    refused(report(&root), format!("imdb-rnn: --out {} is a directory; {FILE_ONLY}\n", root.display()));
    let missing = tmp.path().join("no/such/report.html");
    refused(
        report(&missing),
        format!(
            "imdb-rnn: --out {}: directory {} does not exist; create it first or choose another --out\n",
            missing.display(),
            tmp.path().join("no/such").display()
        ),
    );
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is left as it was");
}

#[test]
fn an_out_in_a_read_only_directory_is_refused_before_any_run_trains() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ro");
    let _mounted = ReadOnlyDir::make(&dir);
    let out = dir.join("course.html");
    let assert = course(tmp.path(), &out).assert().code(1);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(err.starts_with(&format!("imdb-rnn: --out {}: cannot write in {} (", out.display(), dir.display())), "{err}");
    assert!(!tmp.path().join("runs").exists(), "no run was trained");
}

/// A directory no one may write in: mode 555 for a user; for root, whom modes do not
/// stop, a read-only tmpfs mounted on it (unmounted on drop), so the test asserts the
/// same thing either way instead of skipping.
struct ReadOnlyDir(Option<std::path::PathBuf>);

impl ReadOnlyDir {
    fn make(dir: &std::path::Path) -> ReadOnlyDir {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir(dir).unwrap();
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
            return ReadOnlyDir(None);
        }
        let out = std::process::Command::new("mount").args(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs"]).arg(dir).output().expect("mount runs");
        assert!(out.status.success(), "as root this test mounts a read-only tmpfs, and the mount failed: {}", String::from_utf8_lossy(&out.stderr).trim());
        ReadOnlyDir(Some(dir.to_path_buf()))
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::process::Command::new("umount").arg(dir).status();
        }
    }
}
