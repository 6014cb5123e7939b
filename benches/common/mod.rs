//! What the benchmarks share: their command line, the server they run
//! against, the machine they describe, the checks of their work, the
//! statistics of their samples and where their results go.

use std::path::PathBuf;

use anyhow::{Result, bail};
use chrono::Utc;
use ferrom::DbSettings;

/// Whether a quick run is asked for: `--quick` among the arguments, or
/// `FERROM_BENCH_QUICK` set to something other than empty or `0`.
pub(crate) fn quick_requested(args: &[String]) -> bool {
    args.iter().any(|a| a == "--quick")
        || std::env::var("FERROM_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The server: the tests' (`FERROM_TEST_DATABASE_URL` or the local
/// default), or `FERROM_BENCH_DATABASE_URL`.
pub(crate) fn bench_server() -> Result<DbSettings> {
    let mut server = ferrom::testing::server_settings()?;
    if let Ok(url) = std::env::var("FERROM_BENCH_DATABASE_URL")
        && !url.trim().is_empty()
    {
        let trimmed = url.trim().trim_end_matches('/');
        let url = if trimmed.matches('/').count() <= 2 {
            format!("{trimmed}/test")
        } else {
            trimmed.to_string()
        };
        server.apply_url(&url)?;
    }
    Ok(server)
}

/// The CPU's model name from `/proc/cpuinfo`, or `unknown`.
pub(crate) fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The build the benchmark was compiled as: `debug` or `release`.
pub(crate) fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// The machine and the moment a report describes.
pub(crate) struct Machine {
    /// CPUs available to the process.
    pub(crate) nproc: usize,
    /// The CPU's model name.
    pub(crate) cpu: String,
    /// Now, in RFC 3339 to the second.
    pub(crate) date: String,
    /// `debug` or `release`.
    pub(crate) build: &'static str,
}

impl Machine {
    pub(crate) fn now() -> Machine {
        Machine {
            nproc: std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
            cpu: cpu_model(),
            date: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            build: build_profile(),
        }
    }
}

/// An error naming `what` unless `ok`.
pub(crate) fn check(ok: bool, what: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        bail!("check failed: {what}")
    }
}

/// The samples in ascending order.
pub(crate) fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// The median (the mean of the middle two for an even count; NaN for none).
pub(crate) fn median(samples: &[f64]) -> f64 {
    let v = sorted(samples);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => f64::midpoint(v[n / 2 - 1], v[n / 2]),
    }
}

/// `x` rounded to three decimals, for the JSON files.
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// Writes `json` (pretty, with a final newline) to `bench/<file>` under the
/// repository root, and says so on stderr.
pub(crate) fn write_results(file: &str, json: &serde_json::Value) -> Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(file);
    std::fs::write(&path, serde_json::to_string_pretty(json)? + "\n")?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
