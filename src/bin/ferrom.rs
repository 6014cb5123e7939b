//! The `ferrom` command of the post-analytics application: `ferrom db ...`
//! and `ferrom console`, wired to this application's settings and
//! migrations.

fn main() -> std::process::ExitCode {
    ferrom::cli::run(post_analytics::project())
}
