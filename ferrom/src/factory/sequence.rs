//! Sequences: counters that hand out 1, 2, 3, ... to the attributes that
//! use them (`"Company Name {n}"`), never the same number twice.
//!
//! A counter belongs to one sequence definition (the factory and attribute
//! it was written for: a child factory inheriting it shares it with its
//! parent) on one database. It is an [`AtomicU64`] kept for the whole
//! process, so every registry, clone and thread working on that database
//! draws from the same counter and no two rows get the same number, while
//! each test database (the harness gives every test its own) starts again
//! at 1, which keeps the data of a test the same from run to run.
//!
//! Across processes, sequences are unique only as far as each process has
//! a database of its own, as tests do: a console run against a development
//! database starts at 1 again, so a factory writing a unique column should
//! mix fake data into it as the reference `post` factory does with its URL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use crate::settings::DbSettings;

/// Counters by database and sequence.
type Counters = HashMap<(String, String), Arc<AtomicU64>>;

/// Every counter of the process.
static COUNTERS: LazyLock<Mutex<Counters>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// A sequence counter on one database: [`Sequence::next`] hands out 1, 2,
/// 3, ... exactly once each, whatever the number of threads calling it.
///
/// ```
/// use ferrom::factory::Sequence;
///
/// let names = Sequence::new("docs.example", "company.name");
/// let first = names.next();
/// assert_eq!(names.next(), first + 1);
/// ```
#[derive(Clone, Debug)]
pub struct Sequence {
    counter: Arc<AtomicU64>,
}

impl Sequence {
    /// The counter of sequence `id` on the database `database` (any text
    /// that identifies it; factories use `host:port/name`), shared with
    /// every other `Sequence` of the same two names in this process.
    pub fn new(database: &str, id: &str) -> Sequence {
        let mut counters = COUNTERS.lock().unwrap_or_else(PoisonError::into_inner);
        let counter = counters
            .entry((database.to_string(), id.to_string()))
            .or_insert_with(|| Arc::new(AtomicU64::new(0)))
            .clone();
        Sequence { counter }
    }

    /// The sequence `id` on the database these settings point at.
    pub(crate) fn on(settings: &DbSettings, id: &str) -> Sequence {
        Sequence::new(&database_key(settings), id)
    }

    /// The next number: 1 for the first call, then one more each call.
    pub fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }

    /// The last number handed out (0 before the first).
    pub fn current(&self) -> u64 {
        self.counter.load(Ordering::Relaxed)
    }
}

/// What identifies a database for sequences: `host:port/name`.
pub(crate) fn database_key(settings: &DbSettings) -> String {
    format!("{}:{}/{}", settings.host, settings.port, settings.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_of_the_same_names_share_a_counter() {
        let a = Sequence::new("unit", "a");
        let again = Sequence::new("unit", "a");
        let other_db = Sequence::new("unit-2", "a");
        assert_eq!(a.next(), 1);
        assert_eq!(again.next(), 2);
        assert_eq!(a.current(), 2);
        assert_eq!(other_db.next(), 1);
    }

    #[test]
    fn threads_never_draw_the_same_number() {
        let seq = Sequence::new("unit", "threads");
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let seq = seq.clone();
                std::thread::spawn(move || (0..1000).map(|_| seq.next()).collect::<Vec<_>>())
            })
            .collect();
        let mut all: Vec<u64> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (1..=8000).collect::<Vec<_>>());
    }
}
