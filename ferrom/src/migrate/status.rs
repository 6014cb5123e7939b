//! The state of each migration: files on disk against the history table.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::Version;
use super::source::Migrations;
use super::split::summarize;

/// One migration's state, as [`Migrator::status`](super::Migrator::status)
/// reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationStatus {
    /// The version.
    pub version: Version,
    /// The name: the file's, or for a missing file the recorded one.
    pub name: String,
    /// The file, when the migration was loaded from a directory and the file
    /// exists.
    pub file: Option<PathBuf>,
    /// When it was applied (UTC), for applied migrations.
    pub applied_on: Option<DateTime<Utc>>,
    /// Applied, pending, and so on.
    pub state: MigrationState,
}

/// Where a migration stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationState {
    /// Applied, and the file is unchanged.
    Applied,
    /// Not applied yet.
    Pending,
    /// Applied, but the file has changed since (its name or checksum differs
    /// from the history row). `ferrom db migrate` refuses to run.
    Divergent {
        /// The name in the history table.
        applied_name: String,
        /// The checksum in the history table.
        applied_checksum: u64,
        /// The checksum of the file as it is now.
        file_checksum: u64,
    },
    /// Applied, but there is no file with this version any more.
    /// `ferrom db migrate` refuses to run.
    Missing,
    /// Not applied: the last attempt failed at a statement (recorded in
    /// `ferrom_migration_failures`). Statements before it may have been
    /// committed. `ferrom db migrate` tries the whole file again.
    Failed {
        /// The failed statement's position in the file, 1-based.
        statement_index: usize,
        /// How many statements the file had.
        statement_count: usize,
        /// The failed statement, shortened.
        statement: String,
        /// The server's error.
        error: String,
        /// When it failed (UTC).
        failed_at: Option<DateTime<Utc>>,
    },
}

impl MigrationState {
    /// Whether `ferrom db migrate` would apply it (pending or failed).
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            MigrationState::Pending | MigrationState::Failed { .. }
        )
    }

    /// Whether it is recorded in the history table.
    pub fn is_recorded(&self) -> bool {
        matches!(
            self,
            MigrationState::Applied | MigrationState::Divergent { .. } | MigrationState::Missing
        )
    }

    /// A one-line description: `applied`, `pending`, `failed at statement 2
    /// of 3: …`.
    pub fn describe(&self) -> String {
        match self {
            MigrationState::Applied => "applied".to_owned(),
            MigrationState::Pending => "pending".to_owned(),
            MigrationState::Divergent { .. } => {
                "divergent: file changed after it was applied".to_owned()
            }
            MigrationState::Missing => "missing: applied, but no file has this version".to_owned(),
            MigrationState::Failed {
                statement_index,
                statement_count,
                error,
                ..
            } => {
                let mut error = summarize(error);
                if error.chars().count() > 100 {
                    error = error.chars().take(100).chain(['…']).collect();
                }
                format!("failed at statement {statement_index} of {statement_count}: {error}")
            }
        }
    }
}

impl std::fmt::Display for MigrationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A row of `refinery_schema_history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AppliedRow {
    pub(crate) version: Version,
    pub(crate) name: String,
    pub(crate) applied_on: Option<DateTime<Utc>>,
    pub(crate) checksum: u64,
}

/// A row of `ferrom_migration_failures`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FailureRow {
    pub(crate) version: Version,
    pub(crate) name: String,
    pub(crate) statement_index: usize,
    pub(crate) statement_count: usize,
    pub(crate) statement: String,
    pub(crate) error: String,
    pub(crate) failed_at: Option<DateTime<Utc>>,
}

/// Puts files, history rows and failure rows together, one entry per
/// version, sorted by version.
///
/// A failure row counts only for a file that exists and is not applied (an
/// applied migration's stale failure row is ignored).
pub(crate) fn compute_status(
    migrations: &Migrations,
    applied: &[AppliedRow],
    failures: &[FailureRow],
) -> Vec<MigrationStatus> {
    let mut out: BTreeMap<Version, MigrationStatus> = BTreeMap::new();
    for file in migrations {
        let state = match failures.iter().find(|f| f.version == file.version()) {
            Some(f) => MigrationState::Failed {
                statement_index: f.statement_index,
                statement_count: f.statement_count,
                statement: f.statement.clone(),
                error: f.error.clone(),
                failed_at: f.failed_at,
            },
            None => MigrationState::Pending,
        };
        out.insert(
            file.version(),
            MigrationStatus {
                version: file.version(),
                name: file.name().to_owned(),
                file: file.path().map(PathBuf::from),
                applied_on: None,
                state,
            },
        );
    }
    for row in applied {
        match out.get_mut(&row.version) {
            Some(status) => {
                status.applied_on = row.applied_on;
                let file = migrations.get(row.version);
                let same =
                    file.is_some_and(|f| f.name() == row.name && f.checksum() == row.checksum);
                status.state = if same {
                    MigrationState::Applied
                } else {
                    MigrationState::Divergent {
                        applied_name: row.name.clone(),
                        applied_checksum: row.checksum,
                        file_checksum: file.map_or(0, |f| f.checksum()),
                    }
                };
            }
            None => {
                out.insert(
                    row.version,
                    MigrationStatus {
                        version: row.version,
                        name: row.name.clone(),
                        file: None,
                        applied_on: row.applied_on,
                        state: MigrationState::Missing,
                    },
                );
            }
        }
    }
    out.into_values().collect()
}

/// Renders statuses as a plain-text table with the columns version, name,
/// applied at (UTC, `YYYY-MM-DD HH:MM:SS`) and state, one line per
/// migration, ending with a newline.
pub fn render_table(statuses: &[MigrationStatus]) -> String {
    if statuses.is_empty() {
        return "no migrations\n".to_owned();
    }
    let header = ["VERSION", "NAME", "APPLIED AT (UTC)", "STATE"];
    let rows: Vec<[String; 4]> = statuses
        .iter()
        .map(|s| {
            [
                s.version.to_string(),
                s.name.clone(),
                s.applied_on
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default(),
                s.state.describe(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 4]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(cell);
                let pad = widths[i] - cell.chars().count() + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3]]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use refinery::Migration;

    fn migrations(names: &[&str]) -> Migrations {
        Migrations::from_embedded(
            names
                .iter()
                .map(|n| Migration::unapplied(n, "SELECT 1").unwrap())
                .collect(),
        )
        .unwrap()
    }

    fn applied(m: &Migrations, version: Version) -> AppliedRow {
        let f = m.get(version).unwrap();
        AppliedRow {
            version,
            name: f.name().to_owned(),
            applied_on: Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()),
            checksum: f.checksum(),
        }
    }

    fn states(s: &[MigrationStatus]) -> Vec<(Version, &str)> {
        s.iter()
            .map(|s| {
                let state = match s.state {
                    MigrationState::Applied => "applied",
                    MigrationState::Pending => "pending",
                    MigrationState::Divergent { .. } => "divergent",
                    MigrationState::Missing => "missing",
                    MigrationState::Failed { .. } => "failed",
                };
                (s.version, state)
            })
            .collect()
    }

    #[test]
    fn nothing_applied_is_all_pending() {
        let m = migrations(&["U1__a", "U2__b"]);
        let s = compute_status(&m, &[], &[]);
        assert_eq!(states(&s), [(1, "pending"), (2, "pending")]);
        assert!(
            s.iter()
                .all(|s| s.applied_on.is_none() && s.state.is_pending())
        );
    }

    #[test]
    fn applied_pending_divergent_missing() {
        let m = migrations(&["U1__a", "U2__b", "U4__d", "U5__e"]);
        let mut changed = applied(&m, 2);
        changed.checksum ^= 1;
        let mut renamed = applied(&m, 4);
        renamed.name = "old_name".to_owned();
        let gone = AppliedRow {
            version: 3,
            name: "c".to_owned(),
            applied_on: None,
            checksum: 7,
        };
        let s = compute_status(&m, &[applied(&m, 1), changed, gone, renamed], &[]);
        assert_eq!(
            states(&s),
            [
                (1, "applied"),
                (2, "divergent"),
                (3, "missing"),
                (4, "divergent"),
                (5, "pending")
            ]
        );
        assert_eq!(
            s[0].applied_on,
            Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap())
        );
        assert_eq!(s[2].name, "c");
        assert!(s[2].file.is_none());
        match &s[3].state {
            MigrationState::Divergent { applied_name, .. } => assert_eq!(applied_name, "old_name"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn failures_count_only_for_unapplied_files() {
        let m = migrations(&["U1__a", "U2__b"]);
        let failure = |version| FailureRow {
            version,
            name: "x".to_owned(),
            statement_index: 2,
            statement_count: 3,
            statement: "ALTER TABLE t".to_owned(),
            error: "1064 (42000): syntax".to_owned(),
            failed_at: None,
        };
        let s = compute_status(&m, &[applied(&m, 1)], &[failure(1), failure(2), failure(9)]);
        assert_eq!(states(&s), [(1, "applied"), (2, "failed")]);
        assert!(s[1].state.is_pending());
        assert_eq!(
            s[1].state.to_string(),
            "failed at statement 2 of 3: 1064 (42000): syntax"
        );
    }

    #[test]
    fn renders_an_aligned_table() {
        let m = migrations(&[
            "U20260101120000__create_companies",
            "U20260102120000__posts",
        ]);
        let s = compute_status(&m, &[applied(&m, 20260101120000)], &[]);
        let table = render_table(&s);
        let expected = "\
VERSION         NAME              APPLIED AT (UTC)     STATE
20260101120000  create_companies  2026-01-02 03:04:05  applied
20260102120000  posts                                  pending
";
        assert_eq!(table, expected);
        assert_eq!(render_table(&[]), "no migrations\n");
    }
}
