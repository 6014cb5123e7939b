//! Load (issue 8): 32 concurrent tasks create, update and read posts
//! through one container whose pool has 8 connections, for a bounded time,
//! and the database is then checked against what the tasks reported doing.
//!
//! What it proves: with four tasks per connection on two worker threads,
//! - no call fails (no pool timeout, no lost connection, no deadlock);
//! - every write returns what it wrote, and every read by key, count and
//!   list a task makes sees its own task's writes exactly (read-your-writes
//!   through the pool, transactions included);
//! - in the end, read with a fresh connection of the test's own, the posts
//!   are exactly the ones the tasks created (none lost, none duplicated, no
//!   stray row), each holding the last value its task wrote;
//! - the load was real: the pool opened its 8 connections and no more,
//!   statements ran on several of them, and more operations were in flight
//!   at once than there were connections (tasks waited on the pool).
//!
//! The deadline bounds the work (each task also does a few iterations at
//! least); nothing is asserted about how fast it went.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use ferrom::command::Tuple;
use ferrom::{Container, Row, Value};
use post_analytics::Post;
use serde_json::json;

use crate::support::load_mix::{create_and_update_in_transaction, post_input};
use crate::support::{call_one, reference_db};

/// Concurrent tasks.
const TASKS: usize = 32;
/// Connections in the pool.
const POOL: u32 = 8;
/// How long the tasks keep starting new iterations.
const WORK_FOR: Duration = Duration::from_secs(2);
/// Iterations every task does even when the deadline has passed.
const MIN_ITERATIONS: usize = 3;
/// Far above the work's bound: only a hang (a pool that never hands out a
/// connection, a statement that never returns) reaches it.
const HANG_GUARD: Duration = Duration::from_secs(120);
/// Every column of `posts`, as [`Post`] reads them.
const SELECT_POSTS: &str = "SELECT id, url, se_post, published_at, scrapped_at, error, stats, created_at, updated_at, company_id FROM posts ORDER BY id";

/// Operations in flight across all tasks: now, the most seen, and in all.
#[derive(Debug, Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
    ops: AtomicUsize,
}

impl Gauge {
    /// Counts one operation in flight until the guard is dropped.
    fn enter(&self) -> InFlight<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        self.ops.fetch_add(1, Ordering::SeqCst);
        InFlight(self)
    }
}

struct InFlight<'a>(&'a Gauge);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A post as its task last wrote it.
#[derive(Clone, Debug, PartialEq)]
struct Expected {
    url: String,
    company_id: i32,
    error: Option<String>,
    stats: serde_json::Value,
}

impl Expected {
    /// What differs between `post` and this, if anything.
    fn check(&self, post: &Post, what: &str) -> Result<()> {
        let stats = post.stats.as_ref().map(|j| &j.0);
        ensure!(
            post.url == self.url
                && post.company_id == Some(self.company_id)
                && post.error == self.error
                && stats == Some(&self.stats),
            "{what}: post {} is (url {:?}, company {:?}, error {:?}, stats {:?}), expected {self:?}",
            post.id,
            post.url,
            post.company_id,
            post.error,
            stats,
        );
        Ok(())
    }

    /// The same for a dynamic row.
    fn check_row(&self, row: &Row, what: &str) -> Result<()> {
        let error = match self.error.as_deref() {
            Some(e) => Value::from(e),
            None => Value::Null,
        };
        let seen = (
            row.get("url")?,
            row.get("company_id")?,
            row.get("error")?,
            row.get("stats")?,
        );
        ensure!(
            seen == (
                &Value::from(self.url.as_str()),
                &Value::from(self.company_id),
                &error,
                &Value::Json(self.stats.clone()),
            ),
            "{what}: row is {seen:?}, expected {self:?}"
        );
        Ok(())
    }
}

/// What one task reports having done.
#[derive(Debug, Default)]
struct Ledger {
    task: usize,
    company_id: i32,
    /// Every post it created, by id, as it last wrote it.
    posts: BTreeMap<i32, Expected>,
    iterations: usize,
    updates: usize,
    transactions: usize,
    /// The server connections its `CONNECTION_ID()` reads ran on.
    connection_ids: BTreeSet<i64>,
    /// The first failure (a call's error or a read that did not see the
    /// task's own write), after which the task stopped.
    error: Option<String>,
}

impl Ledger {
    fn own_company_posts(&self) -> BTreeSet<i32> {
        self.posts
            .iter()
            .filter(|(_, p)| p.company_id == self.company_id)
            .map(|(id, _)| *id)
            .collect()
    }
}

fn id_of(row: &Row) -> Result<i32> {
    let id = row.get("id")?;
    let id = id
        .as_i64()
        .with_context(|| format!("id is {id:?}, not an integer"))?;
    Ok(i32::try_from(id)?)
}

fn url_prefix(task: usize) -> String {
    format!("https://load.test/t{task}/")
}

/// Reads post `id` by key into [`Post`], counted as one operation.
async fn read_post(container: &Container, gauge: &Gauge, id: i32) -> ferrom::Result<Option<Post>> {
    let _op = gauge.enter();
    container
        .relation("posts")?
        .by_pk(id)
        .map_to::<Post>()
        .one()
        .await
}

/// One task: runs iterations of the mix until the deadline (and at least
/// [`MIN_ITERATIONS`]), stopping at the first failure.
async fn task(
    task: usize,
    container: Container,
    shared_company: i32,
    deadline: Instant,
    gauge: Arc<Gauge>,
) -> Ledger {
    let mut ledger = Ledger {
        task,
        ..Ledger::default()
    };
    if let Err(e) = run_task(&mut ledger, &container, shared_company, deadline, &gauge).await {
        ledger.error = Some(format!(
            "task {task}, iteration {}: {e:#}",
            ledger.iterations
        ));
    }
    ledger
}

async fn run_task(
    ledger: &mut Ledger,
    container: &Container,
    shared_company: i32,
    deadline: Instant,
    gauge: &Gauge,
) -> Result<()> {
    let t = ledger.task;
    let company = {
        let _op = gauge.enter();
        container
            .command("companies", "create")?
            .call([
                ("name", format!("Load task {t}")),
                ("domain", format!("https://t{t}.load.test")),
            ])
            .await
            .context("create the task's company")?
            .into_one()
            .context("create company returned no row")?
    };
    ledger.company_id = id_of(&company)?;
    // A per-task xorshift: which own post each update picks.
    let mut rng = u64::try_from(t)?.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut n = 0;
    while n < MIN_ITERATIONS || Instant::now() < deadline {
        ledger.iterations = n;

        // Create a post, under the task's company or the shared one.
        let url = format!("{}p{n}", url_prefix(t));
        let company_id = if n.is_multiple_of(2) {
            ledger.company_id
        } else {
            shared_company
        };
        let expected = Expected {
            url: url.clone(),
            company_id,
            error: None,
            stats: json!({ "task": t, "seq": n, "views": 0 }),
        };
        let row = {
            let _op = gauge.enter();
            container
                .relation("posts")?
                .command("create")?
                .call(post_input(&url, company_id, expected.stats.clone()))
                .await
                .with_context(|| format!("create {url}"))?
                .into_one()
                .with_context(|| format!("create {url} returned no row"))?
        };
        expected.check_row(&row, "create's returned row")?;
        let created = id_of(&row)?;
        if ledger.posts.insert(created, expected).is_some() {
            bail!("create {url} returned id {created}, which this task had created before");
        }

        // Update one of its own posts (any of them), reading the row back.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let pick = usize::try_from(rng % u64::try_from(ledger.posts.len())?)?;
        let id = *ledger.posts.keys().nth(pick).context("a post to update")?;
        let mut next = ledger.posts[&id].clone();
        next.error = Some(format!("t{t}-{n}"));
        next.stats = json!({ "task": t, "updated_in": n, "views": n * 10 });
        let rows = {
            let _op = gauge.enter();
            container
                .relation("posts")?
                .by_pk(id)
                .command("update")?
                .call(Tuple::from([
                    ("error", Value::from(next.error.clone().unwrap_or_default())),
                    ("stats", Value::Json(next.stats.clone())),
                ]))
                .await
                .with_context(|| format!("update post {id}"))?
                .into_rows()
        };
        ensure!(
            rows.len() == 1,
            "update of post {id} returned {} rows",
            rows.len()
        );
        next.check_row(&rows[0], "update's returned row")?;
        ledger.posts.insert(id, next.clone());
        ledger.updates += 1;

        // Read it back by key: the task sees its own last write.
        if n.is_multiple_of(2) {
            let post = read_post(container, gauge, id)
                .await
                .with_context(|| format!("read post {id}"))?
                .with_context(|| format!("post {id} not found"))?;
            next.check(&post, "read by key after update")?;
        } else {
            let row = {
                let _op = gauge.enter();
                container
                    .relation("posts")?
                    .fetch_pk(id)
                    .await
                    .with_context(|| format!("fetch post {id}"))?
            };
            next.check_row(&row, "fetch_pk after update")?;
        }

        // Now and then: count and list the task's company's posts (only
        // this task writes there, so both are exact).
        if n % 4 == 1 {
            let count = {
                let _op = gauge.enter();
                container
                    .relation("posts")?
                    .filter(("company_id", ledger.company_id))
                    .count()
                    .await
                    .context("count the company's posts")?
            };
            let own = ledger.own_company_posts().len();
            ensure!(
                usize::try_from(count)? == own,
                "count of company {}'s posts is {count}, the task created {own}",
                ledger.company_id
            );
        }
        if n % 8 == 3 {
            let posts: Vec<Post> = {
                let _op = gauge.enter();
                container
                    .relation("posts")?
                    .filter(("company_id", ledger.company_id))
                    .map_to::<Post>()
                    .to_vec()
                    .await
                    .context("list the company's posts")?
            };
            let listed: BTreeSet<i32> = posts.iter().map(|p| p.id).collect();
            ensure!(
                listed == ledger.own_company_posts(),
                "company {} lists posts {listed:?}, the task created {:?}",
                ledger.company_id,
                ledger.own_company_posts()
            );
            for post in &posts {
                ledger.posts[&post.id].check(post, "listed")?;
            }
        }

        // Now and then: a create and an update in one transaction, then a
        // read through the pool of what it committed.
        if n % 10 == 5 {
            let url = format!("{}x{n}", url_prefix(t));
            let error = format!("t{t}-x{n}");
            let stats = json!({ "task": t, "seq": n, "in": "transaction" });
            let company_id = ledger.company_id;
            let id = {
                let _op = gauge.enter();
                let input = post_input(&url, company_id, stats.clone());
                create_and_update_in_transaction(container, input, error.clone())
                    .await
                    .with_context(|| format!("create and update {url} in a transaction"))?
            };
            let id = i32::try_from(id)?;
            let expected = Expected {
                url: url.clone(),
                company_id,
                error: Some(error),
                stats,
            };
            if ledger.posts.insert(id, expected.clone()).is_some() {
                bail!("transaction's create {url} returned id {id}, created before");
            }
            ledger.transactions += 1;
            let post = read_post(container, gauge, id)
                .await
                .with_context(|| format!("read post {id} after commit"))?
                .with_context(|| format!("committed post {id} not found"))?;
            expected.check(&post, "read after commit")?;
        }

        // Now and then: which server connection ran a statement.
        if n.is_multiple_of(16) {
            let rows = {
                let _op = gauge.enter();
                container
                    .relation("posts")?
                    .read("SELECT CONNECTION_ID() AS id", &[])
                    .await
                    .context("read CONNECTION_ID()")?
            };
            let id = rows
                .first()
                .and_then(|r| r.get("id").ok())
                .and_then(Value::as_i64)
                .context("CONNECTION_ID() returned no integer")?;
            ledger.connection_ids.insert(id);
        }
        n += 1;
    }
    ledger.iterations = n;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_tasks_on_a_pool_of_eight_lose_and_duplicate_nothing() {
    let (db, reference) = reference_db().await;
    // Only the container of this test holds connections to the database.
    reference.disconnect().await;
    drop(reference);
    let mut settings = db.test_settings();
    settings.db.pool_size = POOL;
    let container = post_analytics::configuration(&settings)
        .finalize()
        .await
        .expect("finalize with a pool of 8");
    let pool = container.gateway("default").unwrap().pool().clone();
    assert_eq!(pool.options().get_max_connections(), POOL);

    let shared_company = call_one(
        &container,
        "companies",
        "create",
        [("name", "Shared"), ("domain", "https://shared.load.test")],
    )
    .await;
    let shared_company = id_of(&shared_company).unwrap();

    let gauge = Arc::new(Gauge::default());
    let deadline = Instant::now() + WORK_FOR;
    let handles: Vec<_> = (0..TASKS)
        .map(|t| {
            tokio::spawn(task(
                t,
                container.clone(),
                shared_company,
                deadline,
                gauge.clone(),
            ))
        })
        .collect();
    let joined = tokio::time::timeout(HANG_GUARD, async {
        let mut ledgers = Vec::with_capacity(TASKS);
        for handle in handles {
            ledgers.push(handle.await.expect("a task panicked"));
        }
        ledgers
    })
    .await;
    let Ok(ledgers) = joined else {
        panic!(
            "hang: the tasks had not finished {HANG_GUARD:?} after starting work bounded to {WORK_FOR:?} ({} operations in flight)",
            gauge.now.load(Ordering::SeqCst)
        );
    };

    let errors: Vec<&str> = ledgers.iter().filter_map(|l| l.error.as_deref()).collect();
    assert!(
        errors.is_empty(),
        "{} of {TASKS} tasks failed:\n{}",
        errors.len(),
        errors.join("\n")
    );

    // The load was real.
    let ops = gauge.ops.load(Ordering::SeqCst);
    let max_in_flight = gauge.max.load(Ordering::SeqCst);
    let connections: BTreeSet<i64> = ledgers
        .iter()
        .flat_map(|l| l.connection_ids.iter().copied())
        .collect();
    let created: usize = ledgers.iter().map(|l| l.posts.len()).sum();
    let updates: usize = ledgers.iter().map(|l| l.updates).sum();
    let transactions: usize = ledgers.iter().map(|l| l.transactions).sum();
    eprintln!(
        "load: {TASKS} tasks, pool of {POOL}: {ops} operations, {created} posts created ({transactions} in transactions), {updates} updates, at most {max_in_flight} operations in flight, statements seen on {} connections",
        connections.len()
    );
    for ledger in &ledgers {
        assert!(
            ledger.iterations >= MIN_ITERATIONS,
            "task {} did {} iterations",
            ledger.task,
            ledger.iterations
        );
    }
    // A company each, then per iteration a create, an update and a read.
    assert!(
        ops >= TASKS * (1 + 3 * MIN_ITERATIONS),
        "only {ops} operations"
    );
    assert!(
        max_in_flight > usize::try_from(POOL).unwrap(),
        "at most {max_in_flight} operations were in flight at once: tasks never waited on the pool of {POOL}"
    );
    assert_eq!(
        pool.size(),
        POOL,
        "the pool opened all of its {POOL} connections, and no more"
    );
    assert!(
        connections.len() > 1 && connections.len() <= usize::try_from(POOL).unwrap(),
        "statements ran on connections {connections:?}: expected 2 to {POOL} of them"
    );

    // The database, read on a connection of the test's own, holds exactly
    // what the tasks reported.
    let mut conn = db.connect().await;
    let posts: Vec<Post> = sqlx::query_as(SELECT_POSTS)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        usize::try_from(count).unwrap(),
        created,
        "posts in the database against creates the tasks reported"
    );
    assert_eq!(posts.len(), created);
    let urls: HashSet<&str> = posts.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(urls.len(), posts.len(), "no two posts share a url");
    let distinct: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT url) FROM posts")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(distinct, count);
    let companies: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM companies")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        usize::try_from(companies).unwrap(),
        TASKS + 1,
        "a company per task and the shared one"
    );

    let mut accounted = 0;
    for ledger in &ledgers {
        let prefix = url_prefix(ledger.task);
        let stored: BTreeMap<i32, &Post> = posts
            .iter()
            .filter(|p| p.url.starts_with(&prefix))
            .map(|p| (p.id, p))
            .collect();
        let stored_ids: BTreeSet<i32> = stored.keys().copied().collect();
        let reported: BTreeSet<i32> = ledger.posts.keys().copied().collect();
        assert_eq!(
            stored_ids, reported,
            "task {}: the posts stored under {prefix} against the ones it created",
            ledger.task
        );
        for (id, expected) in &ledger.posts {
            let post = stored[id];
            if let Err(e) = expected.check(post, "stored") {
                panic!("task {}: {e:#}", ledger.task);
            }
            assert!(
                post.created_at.is_some() && post.updated_at >= post.created_at,
                "post {id}: created {:?}, updated {:?}",
                post.created_at,
                post.updated_at
            );
        }
        accounted += stored.len();
    }
    assert_eq!(
        accounted,
        posts.len(),
        "every stored post belongs to a task"
    );
}
