//! Link step for libtorch: an rpath so the binary finds libtorch without
//! LD_LIBRARY_PATH, and an explicit, kept link to libtorch_cuda so CUDA is usable.
//!
//! Why: tch puts no rpath on the binaries it links, and `--as-needed` (the default
//! on Debian/Ubuntu linkers) drops `libtorch_cuda.so` because no symbol of it is
//! referenced directly; without it libtorch registers no CUDA backend and
//! `Cuda::is_available()` silently answers false.
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    // The hash recorded in config.json: rebuild when HEAD moves (the branch's ref file).
    println!("cargo:rerun-if-changed=.git/HEAD");
    if let Ok(head) = std::fs::read_to_string(".git/HEAD") {
        if let Some(r) = head.strip_prefix("ref: ") {
            println!("cargo:rerun-if-changed=.git/{}", r.trim());
        }
    }
    let git = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=IMDB_RNN_GIT={git}");
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").unwrap_or_default();
    println!("cargo:rustc-env=IMDB_RNN_LIBTORCH_VERSION={}", libtorch_version(Path::new(&lib)));
    let Ok(lib_dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        println!("cargo:warning=DEP_TCH_LIBTORCH_LIB not set: no rpath for libtorch");
        return;
    };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
    if Path::new(&lib_dir).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-ltorch");
    }
}

/// The libtorch version from the install next to `lib_dir`: `torch/version.py` for a
/// Python wheel, `build-version` for a standalone libtorch.
fn libtorch_version(lib_dir: &Path) -> String {
    let root = lib_dir.parent().unwrap_or(lib_dir);
    if let Ok(text) = std::fs::read_to_string(root.join("version.py")) {
        for line in text.lines() {
            if let Some(v) = line.strip_prefix("__version__") {
                return v.trim_start_matches([' ', '=']).trim().trim_matches(['\'', '"']).to_string();
            }
        }
    }
    std::fs::read_to_string(root.join("build-version")).map(|s| s.trim().to_string()).unwrap_or_else(|_| "unknown".into())
}
