//! Loading migrations, checking them, and creating new migration files.
//!
//! refinery's own loader skips badly named files with only a log warning,
//! accepts two different files with the same version, and runs empty files.
//! [`Migrations`] refuses all of these up front, naming the file:
//!
//! * a `.sql` file whose name does not match `^[UV](\d+)__([a-z0-9_]+)\.sql$`
//!   ([`MigrationError::BadFileName`]);
//! * a file that is not UTF-8 ([`MigrationError::NotUtf8`]);
//! * a file with no SQL statement in it ([`MigrationError::Empty`]), with
//!   a `DELIMITER` command ([`MigrationError::Delimiter`]), or with a
//!   stored-program body of several statements not wrapped in `BEGIN ... END`
//!   ([`MigrationError::BodyWithoutBegin`]);
//! * two files with the same version ([`MigrationError::DuplicateVersion`]).
//!
//! Files that do not end in `.sql` (a README, `.gitkeep`), hidden files
//! (names starting with `.`) and subdirectories are ignored: only the top
//! level of the directory is read. (`refinery_cli` does descend into
//! subdirectories; keep migrations at the top level so both agree.)
//!
//! New files are created by [`new_migration_file`] (`ferrom db new NAME`) as
//! `U{YYYYMMDDHHMMSS}__{name}.sql`, with the `U` prefix because timestamped
//! files from parallel branches arrive out of order; see the
//! [module docs](crate::migrate#u-prefix).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use refinery::Migration;

use super::split::split_statements;
use super::{MigrationError, Version};
use crate::error::{Error, Result};

/// The migrations of an application, sorted by version and checked.
///
/// Loading refuses, naming the file: a `.sql` file whose name refinery would
/// skip ([`MigrationError::BadFileName`]), a file that is not UTF-8
/// ([`MigrationError::NotUtf8`]), a file without any SQL statement
/// ([`MigrationError::Empty`]), a `DELIMITER` command
/// ([`MigrationError::Delimiter`]), a multi-statement stored-program body not
/// wrapped in `BEGIN ... END` ([`MigrationError::BodyWithoutBegin`]), and two
/// files with one version ([`MigrationError::DuplicateVersion`]). Files not
/// ending in `.sql`, hidden files and subdirectories are ignored.
#[derive(Debug, Clone, Default)]
pub struct Migrations {
    files: Vec<MigrationFile>,
    dir: Option<PathBuf>,
}

/// One migration: refinery's [`Migration`] and the file it came from.
#[derive(Debug, Clone)]
pub struct MigrationFile {
    migration: Migration,
    path: Option<PathBuf>,
}

impl MigrationFile {
    /// The version (the number after the `U`/`V` prefix).
    pub fn version(&self) -> Version {
        self.migration.version()
    }

    /// The name (the part after `__`).
    pub fn name(&self) -> &str {
        self.migration.name()
    }

    /// The file's path, for migrations loaded from a directory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The path, or for embedded migrations the migration's name as refinery
    /// writes it (`U20260101120000__create_companies`). Used in messages.
    pub fn label(&self) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from(self.migration.to_string()))
    }

    /// The SQL text.
    pub fn sql(&self) -> &str {
        self.migration.sql().unwrap_or_default()
    }

    /// refinery's checksum of the migration (name, version and SQL).
    pub fn checksum(&self) -> u64 {
        self.migration.checksum()
    }

    /// Whether the file has the `V` prefix (strict order) rather than `U`.
    pub fn is_versioned(&self) -> bool {
        self.migration.prefix().to_string() == "V"
    }

    /// The refinery migration.
    pub fn migration(&self) -> &Migration {
        &self.migration
    }
}

impl Migrations {
    /// Loads the `.sql` migrations at the top level of `dir`.
    ///
    /// Reads the files synchronously. See [`Migrations`] for what is ignored
    /// and what is refused.
    ///
    /// # Errors
    ///
    /// [`MigrationError::NoDirectory`] when `dir` does not exist;
    /// [`MigrationError::BadFileName`], [`MigrationError::NotUtf8`],
    /// [`MigrationError::Empty`], [`MigrationError::Delimiter`] or
    /// [`MigrationError::DuplicateVersion`] for a file that cannot be used;
    /// [`Error::Io`] when the directory or a file cannot be read.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        let entries = match fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(MigrationError::NoDirectory {
                    dir: dir.to_path_buf(),
                }
                .into());
            }
            Err(source) => {
                return Err(Error::Io {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        };
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            if let Some(file) = load_file(&path)? {
                files.push(file);
            }
        }
        let migrations = Self::from_files(files)?;
        tracing::debug!(dir = %dir.display(), count = migrations.len(), "loaded migrations");
        Ok(Migrations {
            dir: Some(dir.to_path_buf()),
            ..migrations
        })
    }

    /// Wraps migrations embedded with `refinery::embed_migrations!`:
    ///
    /// ```no_run
    /// # fn demo(runner: refinery::Runner) -> ferrom::Result<()> {
    /// // `runner` is `migrations::runner()`, from `refinery::embed_migrations!("migrations")`.
    /// let migrations = ferrom::migrate::Migrations::from_embedded(runner.get_migrations().clone())?;
    /// # Ok(()) }
    /// ```
    ///
    /// The embedding crate must enable refinery's `int8-versions` feature,
    /// like ferrom does, or the checksums will not match.
    ///
    /// # Errors
    ///
    /// [`MigrationError::Empty`], [`MigrationError::Delimiter`] or
    /// [`MigrationError::DuplicateVersion`], naming the migration.
    pub fn from_embedded(migrations: Vec<Migration>) -> Result<Self> {
        let files = migrations
            .into_iter()
            .map(|migration| {
                let file = MigrationFile {
                    migration,
                    path: None,
                };
                check_sql(&file.label(), file.sql())?;
                Ok(file)
            })
            .collect::<Result<Vec<_>>>()?;
        Self::from_files(files)
    }

    /// Sorts by version and refuses duplicates.
    fn from_files(mut files: Vec<MigrationFile>) -> Result<Self> {
        files.sort_by(|a, b| {
            a.version()
                .cmp(&b.version())
                .then_with(|| a.path.cmp(&b.path))
        });
        if let Some(pair) = files.windows(2).find(|w| w[0].version() == w[1].version()) {
            return Err(MigrationError::DuplicateVersion {
                version: pair[0].version(),
                first: pair[0].label(),
                second: pair[1].label(),
            }
            .into());
        }
        Ok(Migrations { files, dir: None })
    }

    /// The migrations, in version order.
    pub fn iter(&self) -> std::slice::Iter<'_, MigrationFile> {
        self.files.iter()
    }

    /// The migrations, in version order.
    pub fn files(&self) -> &[MigrationFile] {
        &self.files
    }

    /// The migration with this version.
    pub fn get(&self, version: Version) -> Option<&MigrationFile> {
        self.files
            .binary_search_by_key(&version, MigrationFile::version)
            .ok()
            .map(|i| &self.files[i])
    }

    /// How many migrations there are.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The directory they were loaded from (`None` when embedded).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// refinery's migrations, for its `Runner`.
    pub(crate) fn refinery_migrations(&self) -> Vec<Migration> {
        self.files.iter().map(|f| f.migration.clone()).collect()
    }
}

impl<'a> IntoIterator for &'a Migrations {
    type Item = &'a MigrationFile;
    type IntoIter = std::slice::Iter<'a, MigrationFile>;

    fn into_iter(self) -> Self::IntoIter {
        self.files.iter()
    }
}

/// Loads one directory entry, or `None` when it is not a migration file.
fn load_file(path: &Path) -> Result<Option<MigrationFile>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let Some(file_name) = path.file_name() else {
        return Ok(None);
    };
    let is_sql = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("sql"));
    let hidden = file_name.as_encoded_bytes().first() == Some(&b'.');
    if !is_sql || hidden {
        return Ok(None);
    }
    if fs::metadata(path).map_err(io)?.is_dir() {
        tracing::debug!(path = %path.display(), "ignoring a directory in the migrations directory");
        return Ok(None);
    }
    let bad_name = |reason: String| MigrationError::BadFileName {
        file: path.to_path_buf(),
        reason,
    };
    let Some(file_name) = file_name.to_str() else {
        return Err(bad_name("the file name is not valid UTF-8".to_owned()).into());
    };
    let stem = parse_file_name(file_name).map_err(bad_name)?;

    let bytes = fs::read(path).map_err(io)?;
    let sql = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        MigrationError::NotUtf8 {
            file: path.to_path_buf(),
            line,
        }
    })?;
    check_sql(path, &sql)?;
    let migration = Migration::unapplied(stem, &sql)
        .map_err(|e| bad_name(format!("refinery refused it: {e}")))?;
    Ok(Some(MigrationFile {
        migration,
        path: Some(path.to_path_buf()),
    }))
}

/// Checks a file name against `^[UV](\d+)__([a-z0-9_]+)\.sql$` and returns
/// its stem (the name without `.sql`), or why it does not match.
pub(crate) fn parse_file_name(file_name: &str) -> std::result::Result<&str, String> {
    let Some(stem) = file_name.strip_suffix(".sql") else {
        return Err("the extension must be `.sql`, in lowercase".to_owned());
    };
    let rest = match stem.as_bytes().first() {
        Some(b'U' | b'V') => &stem[1..],
        Some(b'u' | b'v') => return Err("the prefix must be an uppercase `U` or `V`".to_owned()),
        _ => return Err("it must start with `U` (or `V`) followed by the version".to_owned()),
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err("the `U`/`V` prefix must be followed by the version number".to_owned());
    }
    let (version, rest) = rest.split_at(digits);
    if version.parse::<Version>().is_err() {
        return Err(format!(
            "the version {version} is too large (at most {})",
            Version::MAX
        ));
    }
    let Some(name) = rest.strip_prefix("__") else {
        return Err(if rest.starts_with('.') {
            "the version must be a whole number".to_owned()
        } else {
            "the version must be followed by two underscores `__` and the name".to_owned()
        });
    };
    if name.is_empty() {
        return Err("the name after `__` is missing".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(format!(
            "the name `{name}` contains `{c}`; only lowercase letters, digits and `_` are allowed"
        ));
    }
    Ok(stem)
}

/// Refuses SQL with no statement in it, with a `DELIMITER` command, or with
/// a stored-program body cut apart (a multi-statement body not wrapped in
/// `BEGIN ... END`).
fn check_sql(file: &Path, sql: &str) -> Result<()> {
    let statements = split_statements(sql);
    if statements.is_empty() {
        return Err(MigrationError::Empty {
            file: file.to_path_buf(),
        }
        .into());
    }
    if let Some(st) = statements
        .iter()
        .find(|st| st.first_keyword().as_deref() == Some("DELIMITER"))
    {
        return Err(MigrationError::Delimiter {
            file: file.to_path_buf(),
            line: st.line,
        }
        .into());
    }
    if let Some((st, keyword)) = statements.iter().find_map(|st| {
        st.first_keyword()
            .filter(|k| STRAY_STARTS.contains(&k.as_str()))
            .map(|k| (st, k))
    }) {
        return Err(MigrationError::BodyWithoutBegin {
            file: file.to_path_buf(),
            line: st.line,
            keyword,
        }
        .into());
    }
    Ok(())
}

/// Keywords no statement starts with: a statement that does was cut out of
/// a stored-program body.
const STRAY_STARTS: &[&str] = &["END", "ELSE", "ELSEIF", "UNTIL", "WHEN"];

/// The longest migration name `ferrom db new` accepts, in characters.
const MAX_NAME_LEN: usize = 200;

/// Checks a name for `ferrom db new` against `^[a-z][a-z0-9_]*$`.
pub(crate) fn validate_name(name: &str) -> std::result::Result<(), MigrationError> {
    let reason = if name.is_empty() {
        Some("the name is empty".to_owned())
    } else if name.len() > MAX_NAME_LEN {
        Some(format!("the name is longer than {MAX_NAME_LEN} characters"))
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        Some("it must start with a lowercase letter (a-z)".to_owned())
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
            .map(|c| {
                format!("`{c}` is not allowed; use only lowercase letters (a-z), digits and `_`")
            })
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(MigrationError::InvalidName {
            name: name.to_owned(),
            reason,
            example: suggest_name(name),
        }),
    }
}

/// A valid name close to `name` ("Create Companies" → `create_companies`), or
/// `create_companies` when there is none.
fn suggest_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_');
    let out = out.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
    if out.is_empty() || out.len() > MAX_NAME_LEN {
        "create_companies".to_owned()
    } else {
        out.to_owned()
    }
}

/// The version of a file name `U…__…` / `V…__…`, read leniently (any
/// extension) so that `ferrom db new` never reuses a version.
fn version_of_file_name(file_name: &str) -> Option<Version> {
    let rest = file_name.strip_prefix(['U', 'V'])?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if !rest[digits..].starts_with("__") {
        return None;
    }
    rest[..digits].parse().ok()
}

/// The version for a timestamp: `YYYYMMDDHHMMSS` in UTC.
fn version_at(at: DateTime<Utc>) -> Option<Version> {
    at.format("%Y%m%d%H%M%S").to_string().parse().ok()
}

/// Creates `dir/U{YYYYMMDDHHMMSS}__{name}.sql` for `ferrom db new NAME`.
///
/// The version is `now` in UTC. While a file in `dir` already has that
/// version, `now` moves on by one second. The directory is created if
/// missing. The file holds only a short header comment, so it is refused as
/// empty until SQL is written into it.
///
/// # Errors
///
/// [`MigrationError::InvalidName`] when `name` is not `^[a-z][a-z0-9_]*$`;
/// [`MigrationError::FileExists`] if the file appeared meanwhile (ferrom never
/// overwrites); [`Error::Io`] when the directory cannot be created or read or
/// the file cannot be written.
pub fn new_migration_file(
    dir: impl AsRef<Path>,
    name: &str,
    now: DateTime<Utc>,
) -> Result<PathBuf> {
    let dir = dir.as_ref();
    validate_name(name)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;

    let mut taken = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        if let Some(version) = entry.file_name().to_str().and_then(version_of_file_name) {
            taken.push(version);
        }
    }
    let mut at = now;
    let version = loop {
        let Some(version) = version_at(at) else {
            return Err(Error::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::other(format!("cannot make a version from the time {at}")),
            });
        };
        if !taken.contains(&version) {
            break version;
        }
        at += TimeDelta::seconds(1);
    };

    let path = dir.join(format!("U{version}__{name}.sql"));
    let header = format!(
        "-- Migration {name}, created {} UTC.\n\
         -- ferrom runs the statements below one at a time. MySQL commits DDL\n\
         -- (CREATE, ALTER, DROP...) at once, so keep one schema change per file,\n\
         -- and never edit this file once it has been applied: add a new one.\n\n",
        at.format("%Y-%m-%d %H:%M:%S")
    );
    let mut file = match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(MigrationError::FileExists { file: path }.into());
        }
        Err(source) => return Err(Error::Io { path, source }),
    };
    file.write_all(header.as_bytes()).map_err(io(&path))?;
    tracing::debug!(path = %path.display(), "created migration file");
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh, empty directory under the system temp dir.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir()
                .join(format!("ferrom-migrate-{tag}-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).expect("create temp dir");
            TempDir(path)
        }

        fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
            let path = self.0.join(name);
            fs::write(&path, contents).expect("write test file");
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn migration_error(result: Result<Migrations>) -> MigrationError {
        match result {
            Err(Error::Migration(e)) => *e,
            other => panic!("expected a migration error, got {other:?}"),
        }
    }

    #[test]
    fn parses_good_file_names() {
        assert_eq!(
            parse_file_name("U20260101120000__create_companies.sql"),
            Ok("U20260101120000__create_companies")
        );
        assert_eq!(parse_file_name("V1__a.sql"), Ok("V1__a"));
        assert_eq!(
            parse_file_name("V2__add_2_columns.sql"),
            Ok("V2__add_2_columns")
        );
    }

    #[test]
    fn refuses_bad_file_names_with_a_reason() {
        let reason = |n| parse_file_name(n).expect_err(n);
        assert!(reason("U1__x.SQL").contains("lowercase"));
        assert!(reason("u1__x.sql").contains("uppercase"));
        assert!(reason("001_create.sql").contains("start with `U`"));
        assert!(reason("U__x.sql").contains("version number"));
        assert!(reason("V1_single.sql").contains("two underscores"));
        assert!(reason("V1.5__x.sql").contains("whole number"));
        assert!(reason("V1__.sql").contains("missing"));
        assert!(reason("V4__bad-name.sql").contains("`-`"));
        assert!(reason("V5__x.up.sql").contains("`.`"));
        assert!(reason("V6__CreateUsers.sql").contains("`C`"));
        assert!(reason("V99999999999999999999__x.sql").contains("too large"));
    }

    #[test]
    fn loads_sorted_and_ignores_non_sql() {
        let dir = TempDir::new("load");
        dir.write("U20260102000000__second.sql", b"CREATE TABLE b (id INT);");
        dir.write("U20260101000000__first.sql", b"CREATE TABLE a (id INT);");
        dir.write("V3__third.sql", b"SELECT 1");
        dir.write("README.md", b"# migrations");
        dir.write(".gitkeep", b"");
        dir.write(".U1__hidden.sql", b"");
        fs::create_dir(dir.0.join("archive")).unwrap();
        fs::write(dir.0.join("archive/V1__old.sql"), "SELECT 1").unwrap();

        let m = Migrations::from_dir(&dir.0).expect("loads");
        let got: Vec<(Version, &str, bool)> = m
            .iter()
            .map(|f| (f.version(), f.name(), f.is_versioned()))
            .collect();
        assert_eq!(
            got,
            [
                (3, "third", true),
                (20260101000000, "first", false),
                (20260102000000, "second", false)
            ]
        );
        assert_eq!(m.dir(), Some(dir.0.as_path()));
        assert_eq!(m.get(3).map(MigrationFile::name), Some("third"));
        assert!(m.get(4).is_none());
        assert_eq!(
            m.files()[1].path(),
            Some(dir.0.join("U20260101000000__first.sql").as_path())
        );
    }

    #[test]
    fn checksum_matches_refinery_loader() {
        let dir = TempDir::new("checksum");
        dir.write("U20260101000000__first.sql", b"CREATE TABLE a (id INT);\n");
        let ours = Migrations::from_dir(&dir.0).unwrap();
        let theirs = refinery::load_sql_migrations(&dir.0).unwrap();
        assert_eq!(ours.files()[0].checksum(), theirs[0].checksum());
        assert_eq!(ours.refinery_migrations(), theirs);
    }

    #[test]
    fn missing_directory() {
        let dir = TempDir::new("missing");
        let e = migration_error(Migrations::from_dir(dir.0.join("nope")));
        assert!(matches!(e, MigrationError::NoDirectory { .. }), "{e}");
        assert!(e.to_string().contains("ferrom db new"));
    }

    #[test]
    fn bad_name_names_the_file_and_the_expected_form() {
        let dir = TempDir::new("badname");
        dir.write("V1_single.sql", b"SELECT 1");
        let e = migration_error(Migrations::from_dir(&dir.0));
        let text = e.to_string();
        assert!(text.contains("V1_single.sql"), "{text}");
        assert!(
            text.contains("U20260101120000__create_companies.sql"),
            "{text}"
        );
    }

    #[test]
    fn not_utf8() {
        let dir = TempDir::new("utf8");
        dir.write("U1__latin1.sql", b"SELECT 1;\nSELECT '\xe9';\n");
        let e = migration_error(Migrations::from_dir(&dir.0));
        match e {
            MigrationError::NotUtf8 { file, line } => {
                assert!(file.ends_with("U1__latin1.sql"));
                assert_eq!(line, 2);
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn empty_and_comment_only_files() {
        let dir = TempDir::new("empty");
        dir.write("U1__empty.sql", b"");
        assert!(matches!(
            migration_error(Migrations::from_dir(&dir.0)),
            MigrationError::Empty { .. }
        ));
        let dir = TempDir::new("comments");
        dir.write("U1__comments.sql", b"-- todo\n/* later */\n;\n");
        let e = migration_error(Migrations::from_dir(&dir.0));
        assert!(e.to_string().contains("U1__comments.sql"), "{e}");
    }

    #[test]
    fn delimiter_is_refused_with_its_line() {
        let dir = TempDir::new("delimiter");
        dir.write(
            "U1__proc.sql",
            b"-- a procedure\nDELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\n",
        );
        match migration_error(Migrations::from_dir(&dir.0)) {
            MigrationError::Delimiter { line, .. } => assert_eq!(line, 2),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn body_without_begin_is_refused_with_its_line() {
        let dir = TempDir::new("nobegin");
        dir.write(
            "U1__trigger.sql",
            b"CREATE TABLE t (v INT);\nCREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW\nIF NEW.v = 7 THEN\n  SET NEW.v = 8;\nEND IF;\n",
        );
        match migration_error(Migrations::from_dir(&dir.0)) {
            MigrationError::BodyWithoutBegin { line, keyword, .. } => {
                assert_eq!((line, keyword.as_str()), (5, "END"));
            }
            other => panic!("{other}"),
        }
        let dir = TempDir::new("withbegin");
        dir.write(
            "U1__trigger.sql",
            b"CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  IF NEW.v = 7 THEN\n    SET NEW.v = 8;\n  END IF;\nEND;\n",
        );
        assert_eq!(Migrations::from_dir(&dir.0).unwrap().len(), 1);
    }

    #[test]
    fn duplicate_versions_name_both_files() {
        let dir = TempDir::new("dupes");
        dir.write("U5__one.sql", b"SELECT 1");
        dir.write("V5__two.sql", b"SELECT 2");
        let text = migration_error(Migrations::from_dir(&dir.0)).to_string();
        assert!(
            text.contains("U5__one.sql") && text.contains("V5__two.sql"),
            "{text}"
        );
    }

    #[test]
    fn embedded_migrations_are_checked() {
        let a = Migration::unapplied("U1__a", "SELECT 1").unwrap();
        let b = Migration::unapplied("U2__b", "SELECT 2").unwrap();
        let m = Migrations::from_embedded(vec![b.clone(), a.clone()]).unwrap();
        assert_eq!(m.files()[0].version(), 1);
        assert_eq!(m.files()[0].label(), PathBuf::from("U1__a"));
        assert!(m.dir().is_none());

        let dup = Migration::unapplied("U1__again", "SELECT 3").unwrap();
        let e = migration_error(Migrations::from_embedded(vec![a, dup]));
        assert!(
            e.to_string().contains("U1__a") && e.to_string().contains("U1__again"),
            "{e}"
        );

        let empty = Migration::unapplied("U3__c", "  -- nothing\n").unwrap();
        assert!(matches!(
            migration_error(Migrations::from_embedded(vec![empty])),
            MigrationError::Empty { .. }
        ));
    }

    #[test]
    fn validates_new_names() {
        assert!(validate_name("create_companies").is_ok());
        assert!(validate_name("add_2_indexes").is_ok());
        let reason = |n: &str| match validate_name(n) {
            Err(MigrationError::InvalidName {
                reason, example, ..
            }) => (reason, example),
            other => panic!("{n}: {other:?}"),
        };
        assert!(reason("").0.contains("empty"));
        assert!(reason("2fast").0.contains("lowercase letter"));
        assert!(reason("_x").0.contains("lowercase letter"));
        assert!(reason("CreateUsers").0.contains("lowercase letter"));
        assert_eq!(
            reason("create-users"),
            (
                "`-` is not allowed; use only lowercase letters (a-z), digits and `_`".to_owned(),
                "create_users".to_owned()
            )
        );
        assert_eq!(reason("Create Companies").1, "create_companies");
        assert_eq!(reason("!!!").1, "create_companies");
        assert!(reason(&"a".repeat(201)).0.contains("longer"));
        let text = validate_name("bad name").unwrap_err().to_string();
        assert!(text.contains("for example `bad_name`"), "{text}");
    }

    #[test]
    fn new_file_is_timestamped_and_bumped() {
        let dir = TempDir::new("new");
        let target = dir.0.join("nested/migrations");
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 59).unwrap();

        let first = new_migration_file(&target, "create_companies", now).unwrap();
        assert_eq!(first, target.join("U20260101120059__create_companies.sql"));
        let text = fs::read_to_string(&first).unwrap();
        assert!(
            text.starts_with("-- Migration create_companies, created 2026-01-01 12:00:59 UTC.")
        );

        // Same second: the next free second is used, across the minute.
        let second = new_migration_file(&target, "create_posts", now).unwrap();
        assert_eq!(second, target.join("U20260101120100__create_posts.sql"));
        // A V file with a version in the way counts too.
        fs::write(target.join("V20260101120101__other.sql"), "SELECT 1").unwrap();
        let third = new_migration_file(&target, "x", now).unwrap();
        assert_eq!(third, target.join("U20260101120102__x.sql"));

        // The new file is refused as empty until SQL is written.
        let e = migration_error(Migrations::from_dir(&target));
        assert!(matches!(e, MigrationError::Empty { .. }), "{e}");
    }

    #[test]
    fn new_file_refuses_bad_names_before_touching_the_disk() {
        let dir = TempDir::new("newbad");
        let target = dir.0.join("m");
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(new_migration_file(&target, "Bad", now).is_err());
        assert!(!target.exists());
    }

    #[test]
    fn lenient_version_of_file_names() {
        assert_eq!(
            version_of_file_name("U20260101120000__x.sql"),
            Some(20260101120000)
        );
        assert_eq!(version_of_file_name("V7__x.rs"), Some(7));
        assert_eq!(version_of_file_name("README.md"), None);
        assert_eq!(version_of_file_name("U7_x.sql"), None);
    }
}
