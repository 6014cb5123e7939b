//! What the benchmarks share: the server they run against, the machine
//! they describe, and the statistics of their samples.

use anyhow::Result;
use ferrom::DbSettings;

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
