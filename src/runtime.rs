//! What this process runs on: versions, CUDA and cuDNN, CPU threads and settings, and the
//! data directory's contents; shown by `imdb-rnn info` and recorded in every run's config.json.
use crate::fetch;
use serde::Serialize;

#[derive(Serialize)]
pub(crate) struct Info {
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
pub(crate) struct CachedFile {
    pub path: String,
    pub bytes: u64,
}

impl Info {
    pub(crate) fn gather() -> Info {
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
