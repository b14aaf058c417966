//! `imdb-rnn info`: prints what [`crate::runtime::Info`] gathers (versions, devices, the data directory's contents).
use crate::cli::InfoArgs;
use crate::runtime::Info;
use anyhow::Result;

pub(crate) fn run(args: &InfoArgs) -> Result<()> {
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
