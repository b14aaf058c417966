//! `imdb-rnn info`: versions, devices and the data directory's contents.
use crate::cli::InfoArgs;
use crate::fetch;
use anyhow::Result;
use serde::Serialize;

#[derive(Serialize)]
pub struct Info {
    pub imdb_rnn: &'static str,
    pub git: &'static str,
    pub libtorch: &'static str,
    pub cuda_available: bool,
    pub cuda_devices: i64,
    pub cudnn_available: bool,
    pub cudnn_version: Option<i64>,
    pub cpu_threads: i32,
    /// Subnormal handling and OpenMP waiting as this process has them (flush, set at start-up).
    pub cpu: crate::cpu::CpuRuntime,
    pub data_home: String,
    pub cached: Vec<CachedFile>,
}

#[derive(Serialize)]
pub struct CachedFile {
    pub path: String,
    pub bytes: u64,
}

impl Info {
    pub fn gather() -> Info {
        let cuda = tch::Cuda::is_available();
        let cudnn = cuda && tch::Cuda::cudnn_is_available();
        let home = fetch::data_home();
        let mut cached = Vec::new();
        for dir in [fetch::downloads_dir(&home), fetch::cache_dir(&home)] {
            if let Ok(listing) = std::fs::read_dir(&dir) {
                let mut entries: Vec<_> = listing.filter_map(|e| e.ok()).collect();
                entries.sort_by_key(|e| e.file_name());
                for e in entries {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.ends_with(".lock") || name.starts_with('.') {
                        continue;
                    }
                    let bytes = e.metadata().map(|m| m.len()).unwrap_or(0);
                    cached.push(CachedFile { path: e.path().display().to_string(), bytes });
                }
            }
        }
        Info {
            imdb_rnn: env!("CARGO_PKG_VERSION"),
            git: env!("IMDB_RNN_GIT"),
            libtorch: env!("IMDB_RNN_LIBTORCH_VERSION"),
            cuda_available: cuda,
            cuda_devices: if cuda { tch::Cuda::device_count() } else { 0 },
            cudnn_available: cudnn,
            cudnn_version: cudnn.then(tch::utils::version_cudnn),
            cpu_threads: tch::get_num_threads(),
            cpu: crate::cpu::CpuRuntime::now(crate::cpu::current()),
            data_home: home.display().to_string(),
            cached,
        }
    }
}

pub fn run(args: &InfoArgs) -> Result<()> {
    let info = Info::gather();
    if args.output.json {
        crate::outln!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    crate::outln!("imdb-rnn   {} ({})", info.imdb_rnn, if info.git.is_empty() { "no git hash" } else { info.git });
    crate::outln!("libtorch   {}", info.libtorch);
    crate::outln!("cuda       {}", if info.cuda_available { format!("available, {} device(s)", info.cuda_devices) } else { "not available".into() });
    crate::outln!(
        "cudnn      {}",
        match info.cudnn_version {
            Some(v) => format!("available (version {v})"),
            None => "not available".into(),
        }
    );
    crate::outln!("threads    {} (CPU)", info.cpu_threads);
    let cpu = &info.cpu;
    crate::outln!(
        "denormals  {} ({}); OpenMP wait policy {}, spin count {}",
        cpu.denormals.name(),
        match cpu.denormals_flushed {
            Some(true) => format!("flushed to zero on all {} threads, checked", cpu.threads),
            Some(false) => format!("kept (IEEE) on all {} threads, checked", cpu.threads),
            None => "the threads disagree".into(),
        },
        cpu.omp_wait_policy.as_deref().unwrap_or("libgomp's default"),
        cpu.gomp_spincount.as_deref().unwrap_or("libgomp's default")
    );
    crate::outln!("data home  {} (set IMDB_RNN_HOME to change)", info.data_home);
    if info.cached.is_empty() {
        crate::outln!("cached     nothing yet");
    }
    for f in &info.cached {
        crate::outln!("cached     {} ({})", f.path, crate::util::human_bytes(f.bytes));
    }
    Ok(())
}
