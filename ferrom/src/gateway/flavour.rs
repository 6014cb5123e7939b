//! The server's flavour and version, and what it can do.

use std::fmt;

/// Which server ferrom is talking to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// MariaDB (10.6 or later).
    MariaDb,
    /// Oracle MySQL (8.0 or later).
    MySql,
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flavour::MariaDb => "MariaDB",
            Flavour::MySql => "MySQL",
        })
    }
}

/// A server version as `major.minor.patch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch level.
    pub patch: u32,
}

impl Version {
    /// A version from its parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What the connected server can do, decided once at connect from its
/// flavour and version, so the rest of the toolkit asks a flag instead of
/// parsing version strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// `INSERT ... RETURNING` (MariaDB 10.5+).
    pub insert_returning: bool,
    /// `DELETE ... RETURNING` (MariaDB 10.0+).
    pub delete_returning: bool,
    /// A native JSON type (MySQL); MariaDB's JSON is a LONGTEXT alias with a
    /// `json_valid` check.
    pub native_json: bool,
    /// `FOR UPDATE NOWAIT` / `SKIP LOCKED` (MySQL 8.0, MariaDB 10.6).
    pub nowait_skip_locked: bool,
    /// `FOR SHARE` (MySQL 8.0); otherwise `LOCK IN SHARE MODE`.
    pub for_share: bool,
    /// `VALUES(col)` in `ON DUPLICATE KEY UPDATE` is deprecated (MySQL 8.0.20+
    /// prefers a row alias); MariaDB keeps `VALUES(col)`.
    pub insert_row_alias: bool,
}

/// The server ferrom connected to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    /// MariaDB or MySQL.
    pub flavour: Flavour,
    /// Its version.
    pub version: Version,
    /// The full version string the server reported (`SELECT VERSION()`).
    pub version_string: String,
    /// What it can do.
    pub capabilities: Capabilities,
}

/// The oldest MariaDB ferrom supports.
pub const MIN_MARIADB: Version = Version::new(10, 6, 0);
/// The oldest MySQL ferrom supports.
pub const MIN_MYSQL: Version = Version::new(8, 0, 0);

impl ServerInfo {
    /// Reads flavour and version from the text `SELECT VERSION()` returns
    /// (`10.11.19-MariaDB-0+deb12u1`, `8.0.36`, `5.5.5-10.6.12-MariaDB`).
    /// Returns `None` when the text has no version number.
    pub fn parse(version_string: &str) -> Option<ServerInfo> {
        let flavour = if version_string.to_ascii_lowercase().contains("mariadb") {
            Flavour::MariaDb
        } else {
            Flavour::MySql
        };
        // Some proxies prefix MariaDB's version with "5.5.5-".
        let text = match flavour {
            Flavour::MariaDb => version_string
                .strip_prefix("5.5.5-")
                .unwrap_or(version_string),
            Flavour::MySql => version_string,
        };
        let numeric: String = text
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = numeric.split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next().flatten()?;
        let minor = parts.next().flatten().unwrap_or(0);
        let patch = parts.next().flatten().unwrap_or(0);
        let version = Version::new(major, minor, patch);
        Some(ServerInfo {
            flavour,
            version,
            version_string: version_string.to_string(),
            capabilities: Capabilities::of(flavour, version),
        })
    }

    /// Whether ferrom supports this server (MariaDB 10.6+, MySQL 8.0+).
    pub fn is_supported(&self) -> bool {
        self.version
            >= match self.flavour {
                Flavour::MariaDb => MIN_MARIADB,
                Flavour::MySql => MIN_MYSQL,
            }
    }
}

impl fmt::Display for ServerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.flavour, self.version)
    }
}

impl Capabilities {
    /// The capabilities of a server of this flavour and version.
    pub fn of(flavour: Flavour, version: Version) -> Capabilities {
        match flavour {
            Flavour::MariaDb => Capabilities {
                insert_returning: version >= Version::new(10, 5, 0),
                delete_returning: true,
                native_json: false,
                nowait_skip_locked: version >= Version::new(10, 6, 0),
                for_share: false,
                insert_row_alias: false,
            },
            Flavour::MySql => Capabilities {
                insert_returning: false,
                delete_returning: false,
                native_json: true,
                nowait_skip_locked: version >= Version::new(8, 0, 1),
                for_share: version >= Version::new(8, 0, 1),
                insert_row_alias: version >= Version::new(8, 0, 19),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mariadb_and_mysql() {
        let m = ServerInfo::parse("10.11.19-MariaDB-0+deb12u1").unwrap();
        assert_eq!(m.flavour, Flavour::MariaDb);
        assert_eq!(m.version, Version::new(10, 11, 19));
        assert!(m.is_supported());
        assert!(m.capabilities.insert_returning);
        let p = ServerInfo::parse("5.5.5-10.6.12-MariaDB").unwrap();
        assert_eq!(p.version, Version::new(10, 6, 12));
        let y = ServerInfo::parse("8.0.36").unwrap();
        assert_eq!(y.flavour, Flavour::MySql);
        assert!(y.is_supported() && y.capabilities.native_json && !y.capabilities.insert_returning);
    }

    #[test]
    fn refuses_old_servers() {
        assert!(!ServerInfo::parse("10.5.9-MariaDB").unwrap().is_supported());
        assert!(!ServerInfo::parse("5.7.44-log").unwrap().is_supported());
        assert!(ServerInfo::parse("not a version").is_none());
    }
}
