//! Where to compute: `--device auto|cpu|cuda|cuda:N` parsed once into a [`DeviceSpec`],
//! written to config.json as the same text, and turned into a libtorch device.
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Where to compute (`--device`): `auto`, `cpu`, `cuda` or `cuda:N`, parsed once and
/// written to config.json as the same text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeviceSpec {
    /// The first GPU when CUDA works, else the CPU.
    Auto,
    Cpu,
    /// `cuda` (`None`, GPU 0) or `cuda:N`.
    Cuda(Option<usize>),
}

impl DeviceSpec {
    /// Reads `auto|cpu|cuda|cuda:N`; errors name `--device`.
    pub(crate) fn parse(spec: &str) -> Result<DeviceSpec> {
        match spec {
            "auto" => Ok(DeviceSpec::Auto),
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(None)),
            s => match s.strip_prefix("cuda:") {
                Some(n) => Ok(DeviceSpec::Cuda(Some(n.parse().map_err(|_| anyhow::anyhow!("--device {s}: expected cuda:N with N a GPU index"))?))),
                None => bail!("--device {s}: expected auto, cpu, cuda or cuda:N"),
            },
        }
    }

    /// The libtorch device, checking that CUDA is there if asked for.
    pub(crate) fn device(self) -> Result<tch::Device> {
        let cuda = tch::Cuda::is_available();
        match self {
            DeviceSpec::Auto => Ok(if cuda { tch::Device::Cuda(0) } else { tch::Device::Cpu }),
            DeviceSpec::Cpu => Ok(tch::Device::Cpu),
            DeviceSpec::Cuda(index) => {
                if !cuda {
                    bail!("--device {self}: CUDA is not available (libtorch found no usable GPU/driver; `imdb-rnn info` shows what it sees); use --device cpu");
                }
                let (index, count) = (index.unwrap_or(0), tch::Cuda::device_count() as usize);
                if index >= count {
                    bail!("--device {self}: only {count} CUDA device(s) present (0..{})", count.saturating_sub(1));
                }
                Ok(tch::Device::Cuda(index))
            }
        }
    }
}

impl std::fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceSpec::Auto => f.write_str("auto"),
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Cuda(None) => f.write_str("cuda"),
            DeviceSpec::Cuda(Some(n)) => write!(f, "cuda:{n}"),
        }
    }
}

impl Serialize for DeviceSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DeviceSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<DeviceSpec, D::Error> {
        DeviceSpec::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Parses `auto|cpu|cuda|cuda:N` into a device, checking that CUDA is there if asked for.
pub(crate) fn parse_device(spec: &str) -> Result<tch::Device> {
    DeviceSpec::parse(spec)?.device()
}
