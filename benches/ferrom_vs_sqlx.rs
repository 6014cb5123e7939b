//! ferrom against raw sqlx on the reference schema (issue 7, the speed
//! budget of `DESIGN.md`).
//!
//! Run it with
//!
//! ```text
//! cargo bench --bench ferrom_vs_sqlx             # 15 repeats per workload
//! cargo bench --bench ferrom_vs_sqlx -- --quick  # 3 repeats (or FERROM_BENCH_QUICK=1)
//! cargo bench --bench ferrom_vs_sqlx -- --only 2,5  # some workloads; results file untouched
//! ```
//!
//! It needs the server the tests use (127.0.0.1:3306, root, empty password;
//! `FERROM_BENCH_DATABASE_URL=mysql://user:password@host:port/` overrides
//! it). Every run works in a database of its own made by
//! [`ferrom::testing::Harness`] and dropped at the end.
//!
//! Each workload runs ferrom and raw sqlx (hand-written SQL, the
//! application's `#[derive(sqlx::FromRow)]` structs, the round trips a
//! careful sqlx user makes) on the same database and the same connection
//! pool, interleaved after one untimed warm-up of each: the workloads of
//! many small operations (1, 5, 6, 6s) alternate between the sides every
//! 100 operations within each run, the bulk insert (2) every batch of
//! 1,000 rows (both transactions open at once; five runs per repeat, as
//! each is short), and the reads (3, 3d, 4) alternate whole runs (ferrom
//! then sqlx, then sqlx then ferrom; three runs per repeat, as each is
//! short); workloads that write get fresh data
//! before every timed run (untimed). It prints a markdown table
//! and writes `bench/results.json`.
//!
//! Peak memory of workload 3 is measured in child processes of this binary
//! (`--memory-child ferrom|ferrom-dynamic|sqlx DATABASE`), each reading
//! `VmHWM` from `/proc/self/status` before and after loading the rows.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use ferrom::command::{CommandDefinition, ResultKind, Timestamps, Tuple};
use ferrom::testing::Harness;
use ferrom::{Container, Value};
use post_analytics::{Company, Post};
use sqlx::{AssertSqlSafe, MySqlPool, QueryBuilder};

mod common;
use common::{
    Machine, bench_server, build_profile, check, median, quick_requested, round3, sorted,
    write_results,
};

/// Every column of `posts`, in table order, as ferrom selects them.
const POST_COLUMNS: &str =
    "id, url, se_post, published_at, scrapped_at, error, stats, created_at, updated_at, company_id";
/// One post by key, as a careful sqlx user writes it: a `'static` string.
const SELECT_POST_BY_ID: &str = "SELECT id, url, se_post, published_at, scrapped_at, error, stats, created_at, updated_at, company_id FROM posts WHERE id = ?";
/// Every column of `companies`, in table order.
const COMPANY_COLUMNS: &str = "id, name, domain, state, created_at, updated_at";

/// Rows per multi-row `INSERT` (workload 2, and the untimed seeding).
const BATCH: usize = 1_000;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Some(i) = args.iter().position(|a| a == "--memory-child") {
        let side = args.get(i + 1).context("--memory-child SIDE DATABASE")?;
        let database = args.get(i + 2).context("--memory-child SIDE DATABASE")?;
        return runtime.block_on(memory_child(side, database));
    }
    let quick = quick_requested(&args);
    let repeats = if quick { 3 } else { 15 };
    let only = match args.iter().position(|a| a == "--only") {
        Some(i) => Some(only_workloads(args.get(i + 1).map(String::as_str))?),
        None => None,
    };
    runtime.block_on(run(repeats, only))
}

/// The workloads `--only 2,5` names (ids as the table prints them).
fn only_workloads(list: Option<&str>) -> Result<Vec<Workload>> {
    let list = list.context("--only takes a comma-separated list of workload ids, such as 2,5")?;
    list.split(',')
        .map(|id| {
            Workload::ALL
                .into_iter()
                .find(|w| w.id() == id.trim())
                .with_context(|| {
                    format!(
                        "--only: no workload `{}`; the workloads are {}",
                        id.trim(),
                        Workload::ALL.map(Workload::id).join(", ")
                    )
                })
        })
        .collect()
}

/// Which side of a comparison runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Ferrom,
    Sqlx,
}

/// The measured workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workload {
    /// 1: 2,000 sequential creates of a company returning the row.
    Create,
    /// 2: 10,000 posts in batches of 1,000 in one transaction.
    BulkInsert,
    /// 3: 10,000 posts into `Post`.
    TypedRead,
    /// 3b: the same through dynamic rows (ferrom) against typed (sqlx).
    DynamicRead,
    /// 4: 1,000 companies with their 10 posts each, nested.
    Nested,
    /// 5: 2,000 updates by key returning the row.
    Update,
    /// 6: 5,000 lookups by key into `Post`, each call through the pool.
    Lookup,
    /// 6b: the same on one connection (`Container::session` / an acquired
    /// sqlx connection).
    LookupOneConnection,
}

impl Workload {
    const ALL: [Workload; 8] = [
        Workload::Create,
        Workload::BulkInsert,
        Workload::TypedRead,
        Workload::DynamicRead,
        Workload::Nested,
        Workload::Update,
        Workload::Lookup,
        Workload::LookupOneConnection,
    ];

    /// Workloads of many small operations, run interleaved in blocks.
    fn per_operation(self) -> bool {
        matches!(
            self,
            Workload::Create
                | Workload::BulkInsert
                | Workload::Update
                | Workload::Lookup
                | Workload::LookupOneConnection
        )
    }

    fn id(self) -> &'static str {
        match self {
            Workload::Create => "1",
            Workload::BulkInsert => "2",
            Workload::TypedRead => "3",
            Workload::DynamicRead => "3d",
            Workload::Nested => "4",
            Workload::Update => "5",
            Workload::Lookup => "6",
            Workload::LookupOneConnection => "6s",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Workload::Create => "2,000 creates of a company returning the row",
            Workload::BulkInsert => "10,000 posts, batches of 1,000, one transaction",
            Workload::TypedRead => "10,000 posts into typed structs",
            Workload::DynamicRead => "10,000 posts as dynamic rows (sqlx: typed)",
            Workload::Nested => "1,000 companies with 10 posts each, nested",
            Workload::Update => "2,000 updates by key returning the row",
            Workload::Lookup => "5,000 lookups by key (pool checkout per call)",
            Workload::LookupOneConnection => "5,000 lookups by key on one connection",
        }
    }
}

/// The order of the two sides in the `n`th round: ferrom first in even
/// rounds, raw sqlx first in odd ones.
fn sides(n: usize) -> [Side; 2] {
    if n.is_multiple_of(2) {
        [Side::Ferrom, Side::Sqlx]
    } else {
        [Side::Sqlx, Side::Ferrom]
    }
}

/// The target ratio and whether it is a strict bound (`<`) or not (`<=`).
fn target(workload: Workload, insert_returning: bool) -> Option<(f64, bool)> {
    match workload {
        Workload::Create if insert_returning => Some((1.00, true)),
        Workload::Create | Workload::TypedRead | Workload::Nested => Some((1.05, false)),
        Workload::Update | Workload::Lookup => Some((1.05, false)),
        Workload::BulkInsert => Some((1.03, false)),
        Workload::DynamicRead => Some((1.3, false)),
        Workload::LookupOneConnection => None,
    }
}

/// The reference configuration and a bulk-import command: a create that
/// reads nothing back ([`ResultKind::Count`]), as a bulk load that does
/// not need the rows registers it (workload 2).
fn configuration(settings: &ferrom::Settings) -> ferrom::Configuration {
    let mut config = post_analytics::configuration(settings);
    config.register_command(
        CommandDefinition::create("posts", "import")
            .result(ResultKind::Count)
            .plugin(Timestamps::new(["scrapped_at", "created_at", "updated_at"])),
    );
    config
}

/// What every workload needs.
struct Bench {
    container: Container,
    pool: MySqlPool,
    /// The companies and posts of the read workloads (3, 4, 6).
    read_post_ids: Vec<i32>,
}

/// Runs every workload (or those of `only`, without writing the results
/// file) and reports.
async fn run(repeats: usize, only: Option<Vec<Workload>>) -> Result<()> {
    let harness = Harness::new(post_analytics::embedded_migrations()?, configuration)
        .with_server(bench_server()?);
    let t = harness.setup().await?;
    let container = t.container.clone();
    let gateway = container.gateway("default")?;
    let server = gateway.server().clone();
    let insert_returning = gateway.capabilities().insert_returning;
    let pool = gateway.pool().clone();
    eprintln!(
        "ferrom_vs_sqlx: {server} ({}), database {}, {repeats} repeats, {} build",
        server.version_string,
        t.database.name(),
        build_profile()
    );

    let mut bench = Bench {
        container,
        pool,
        read_post_ids: Vec::new(),
    };

    // The read workloads share one data set: 1,000 companies × 10 posts.
    reset(&bench.pool).await?;
    let companies = insert_companies(&bench.pool, 1_000, "read").await?;
    insert_posts(&bench.pool, &companies, 10, "read").await?;
    bench.read_post_ids = sqlx::query_scalar("SELECT id FROM posts ORDER BY id")
        .fetch_all(&bench.pool)
        .await?;

    let wanted = |w: &Workload| only.as_ref().is_none_or(|only| only.contains(w));
    let mut results = Vec::new();
    for workload in [
        Workload::TypedRead,
        Workload::DynamicRead,
        Workload::Nested,
        Workload::Lookup,
        Workload::LookupOneConnection,
    ]
    .into_iter()
    .filter(wanted)
    {
        results.push(measure(&bench, workload, repeats).await?);
    }
    let memory = if wanted(&Workload::TypedRead) {
        measure_memory(t.database.name(), repeats.min(3))?
    } else {
        Vec::new()
    };
    for workload in [Workload::Create, Workload::BulkInsert, Workload::Update]
        .into_iter()
        .filter(wanted)
    {
        results.push(measure(&bench, workload, repeats).await?);
    }
    results.sort_by_key(|r| r.workload.id());

    report(
        &results,
        &memory,
        &server,
        insert_returning,
        repeats,
        only.is_none(),
    )?;
    drop(bench);
    t.database.drop_now().await?;
    Ok(())
}

/// The samples of one workload, in milliseconds.
struct Measured {
    workload: Workload,
    ferrom: Vec<f64>,
    sqlx: Vec<f64>,
}

async fn measure(bench: &Bench, workload: Workload, repeats: usize) -> Result<Measured> {
    let mut measured = Measured {
        workload,
        ferrom: Vec::new(),
        sqlx: Vec::new(),
    };
    if workload.per_operation() {
        // Warm-up: statement caches, buffer pool, allocator.
        run_interleaved(bench, workload, 0).await?;
        // The bulk insert is as short as a read (ten statements of a few
        // milliseconds a side) and its commits wait on the disk: more runs
        // steady its median.
        let runs = if workload == Workload::BulkInsert {
            repeats * BULK_RUNS
        } else {
            repeats
        };
        for repeat in 0..runs {
            let (ferrom, sqlx) = run_interleaved(bench, workload, repeat + 1).await?;
            measured.ferrom.push(ferrom.as_secs_f64() * 1e3);
            measured.sqlx.push(sqlx.as_secs_f64() * 1e3);
        }
        return Ok(report_line(measured));
    }
    // Warm-up: statement caches, buffer pool, allocator.
    run_once(bench, workload, Side::Ferrom).await?;
    run_once(bench, workload, Side::Sqlx).await?;
    // A read is one statement of a few tens of milliseconds, timed as a
    // whole run: READ_RUNS times as many runs steady its median.
    for repeat in 0..repeats * READ_RUNS {
        for side in sides(repeat) {
            let took = run_once(bench, workload, side).await?;
            let ms = took.as_secs_f64() * 1e3;
            match side {
                Side::Ferrom => measured.ferrom.push(ms),
                Side::Sqlx => measured.sqlx.push(ms),
            }
        }
    }
    Ok(report_line(measured))
}

/// Prints a workload's medians as it finishes.
fn report_line(measured: Measured) -> Measured {
    eprintln!(
        "  {:>2} {:<48} ferrom {:>9.2} ms  sqlx {:>9.2} ms",
        measured.workload.id(),
        measured.workload.name(),
        median(&measured.ferrom),
        median(&measured.sqlx)
    );
    measured
}

/// Runs per repeat of the read workloads (3, 3d, 4) and the bulk insert
/// (2).
const READ_RUNS: usize = 3;

/// Runs per repeat of the bulk insert (2).
const BULK_RUNS: usize = 5;

/// Operations per block of an interleaved run.
const BLOCK: usize = 100;

/// What an interleaved run works on.
struct Interleaved {
    /// The post ids each side updates or looks up.
    ferrom_ids: Vec<i32>,
    sqlx_ids: Vec<i32>,
}

/// One timed run of a workload of many small operations (1, 5, 6, 6s) on
/// both sides at once: blocks of [`BLOCK`] operations alternate between
/// the sides (ferrom, sqlx, sqlx, ferrom, ...) and each block is timed, so
/// both sides meet the same machine from moment to moment; the totals are
/// each side's time for all its operations. Set-up is untimed.
async fn run_interleaved(
    bench: &Bench,
    workload: Workload,
    repeat: usize,
) -> Result<(Duration, Duration)> {
    if workload == Workload::BulkInsert {
        return run_bulk_interleaved(bench).await;
    }
    let pool = &bench.pool;
    let container = &bench.container;
    let (n, data) = match workload {
        Workload::Create => {
            reset(pool).await?;
            (
                2_000,
                Interleaved {
                    ferrom_ids: Vec::new(),
                    sqlx_ids: Vec::new(),
                },
            )
        }
        Workload::Update => {
            // Each side updates posts of its own.
            reset(pool).await?;
            let company = insert_companies(pool, 1, "update").await?;
            insert_posts(pool, &company, 4_000, "update").await?;
            let ids: Vec<i32> = sqlx::query_scalar("SELECT id FROM posts ORDER BY id")
                .fetch_all(pool)
                .await?;
            let (ferrom_ids, sqlx_ids) = ids.split_at(2_000);
            (
                2_000,
                Interleaved {
                    ferrom_ids: ferrom_ids.to_vec(),
                    sqlx_ids: sqlx_ids.to_vec(),
                },
            )
        }
        _ => (
            5_000,
            Interleaved {
                ferrom_ids: bench.read_post_ids[..5_000].to_vec(),
                sqlx_ids: bench.read_post_ids[..5_000].to_vec(),
            },
        ),
    };
    // One connection each for 6s, checked out before the clock starts.
    let one_connection = workload == Workload::LookupOneConnection;
    let session = if one_connection {
        Some(container.session().await?)
    } else {
        None
    };
    let mut conn = if one_connection {
        Some(pool.acquire().await?)
    } else {
        None
    };
    let posts = match &session {
        Some(session) => session.relation("posts")?,
        None => container.relation("posts")?,
    };

    let mut took = [Duration::ZERO; 2];
    let mut done = [0_usize; 2];
    for (block, first) in (0..n).step_by(BLOCK).enumerate() {
        for side in sides(block) {
            let start = Instant::now();
            for i in first..(first + BLOCK).min(n) {
                let ok = match (workload, side) {
                    (Workload::Create, Side::Ferrom) => {
                        let row = container
                            .relation("companies")?
                            .command("create")?
                            .call([
                                ("name", format!("Company {repeat}-f{i}")),
                                ("domain", format!("https://c{i}.example.com")),
                            ])
                            .await?
                            .into_one()
                            .context("create returned no row")?;
                        matches!(row.get("id")?, Value::Int(id) if *id > 0)
                    }
                    (Workload::Create, Side::Sqlx) => {
                        let name = format!("Company {repeat}-s{i}");
                        let domain = format!("https://c{i}.example.com");
                        sqlx_create_company(pool, &name, &domain).await?.id > 0
                    }
                    (Workload::Update, Side::Ferrom) => {
                        let output = container
                            .relation("posts")?
                            .by_pk(data.ferrom_ids[i])
                            .command("update")?
                            .call([("error", format!("timeout {repeat}-{i}"))])
                            .await?;
                        output.len() == 1
                    }
                    (Workload::Update, Side::Sqlx) => {
                        let id = data.sqlx_ids[i];
                        let error = format!("timeout {repeat}-{i}");
                        sqlx_update_post(pool, id, &error).await?.id == id
                    }
                    (_, Side::Ferrom) => posts
                        .by_pk(data.ferrom_ids[i])
                        .map_to::<Post>()
                        .one()
                        .await?
                        .is_some(),
                    (_, Side::Sqlx) => {
                        let query =
                            sqlx::query_as::<_, Post>(SELECT_POST_BY_ID).bind(data.sqlx_ids[i]);
                        match conn.as_mut() {
                            Some(conn) => query.fetch_optional(&mut **conn).await?,
                            None => query.fetch_optional(pool).await?,
                        }
                        .is_some()
                    }
                };
                done[side as usize] += usize::from(ok);
            }
            took[side as usize] += start.elapsed();
        }
    }
    check(
        done == [n, n],
        "every operation returned its row on both sides",
    )?;
    Ok((took[Side::Ferrom as usize], took[Side::Sqlx as usize]))
}

/// One timed run of `workload` on `side`, after its untimed set-up.
async fn run_once(bench: &Bench, workload: Workload, side: Side) -> Result<Duration> {
    let pool = &bench.pool;
    let container = &bench.container;
    match workload {
        Workload::TypedRead => {
            let start = Instant::now();
            let posts: Vec<Post> = match side {
                Side::Ferrom => {
                    container
                        .relation("posts")?
                        .map_to::<Post>()
                        .to_vec()
                        .await?
                }
                Side::Sqlx => {
                    sqlx::query_as(AssertSqlSafe(format!("SELECT {POST_COLUMNS} FROM posts")))
                        .fetch_all(pool)
                        .await?
                }
            };
            let took = start.elapsed();
            check(posts.len() == 10_000, "10,000 posts read")?;
            check(posts.iter().all(|p| p.stats.is_some()), "stats decoded")?;
            Ok(took)
        }
        Workload::DynamicRead => {
            let start = Instant::now();
            let n = match side {
                Side::Ferrom => container.relation("posts")?.to_vec().await?.len(),
                Side::Sqlx => {
                    let posts: Vec<Post> =
                        sqlx::query_as(AssertSqlSafe(format!("SELECT {POST_COLUMNS} FROM posts")))
                            .fetch_all(pool)
                            .await?;
                    posts.len()
                }
            };
            let took = start.elapsed();
            check(n == 10_000, "10,000 posts read")?;
            Ok(took)
        }
        Workload::Nested => {
            let start = Instant::now();
            let companies: Vec<Company> = match side {
                Side::Ferrom => {
                    container
                        .relation("companies")?
                        .combine("posts")
                        .map_to::<Company>()
                        .nest("posts", |c: &mut Company, p: Vec<Post>| c.posts = p)
                        .to_vec()
                        .await?
                }
                Side::Sqlx => sqlx_companies_with_posts(pool).await?,
            };
            let took = start.elapsed();
            check(companies.len() == 1_000, "1,000 companies")?;
            check(
                companies.iter().all(|c| c.posts.len() == 10),
                "10 posts each",
            )?;
            Ok(took)
        }
        Workload::Create
        | Workload::BulkInsert
        | Workload::Update
        | Workload::Lookup
        | Workload::LookupOneConnection => {
            bail!(
                "workload {} runs interleaved (run_interleaved)",
                workload.id()
            )
        }
    }
}

/// Workload 2, both sides at once: each side opens its transaction, the
/// ten batches of 1,000 posts alternate between the sides (ferrom, sqlx,
/// sqlx, ferrom, ...), then each commits; every step is timed to its side.
/// The ferrom side creates through a command registered with result
/// `Count` (nothing read back), as raw sqlx reads nothing back, called with
/// `call_many`: each batch's tuples are checked, stamped and encoded as
/// the iterator yields them, as `push_values` encodes each row as its
/// iterator yields it.
async fn run_bulk_interleaved(bench: &Bench) -> Result<(Duration, Duration)> {
    // Keys never seen before in each run: a key still in the index as a
    // deleted row (purge lags behind the reset) would make each side's
    // duplicate check lock gaps the other side inserts into.
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let pool = &bench.pool;
    reset(pool).await?;
    let company = insert_companies(pool, 1, "bulk").await?[0];
    let mut took = [Duration::ZERO; 2];
    let timed = |took: &mut [Duration; 2], side: Side, start: Instant| {
        took[side as usize] += start.elapsed();
    };

    let start = Instant::now();
    let ferrom_tx = bench.container.begin().await?;
    let create = ferrom_tx.relation("posts")?.command("import")?;
    timed(&mut took, Side::Ferrom, start);
    let start = Instant::now();
    let mut sqlx_tx = pool.begin().await?;
    timed(&mut took, Side::Sqlx, start);

    for batch in 0..10 {
        for side in sides(batch + run) {
            let start = Instant::now();
            match side {
                Side::Ferrom => {
                    let tuples = (0..BATCH).map(|i| {
                        let n = batch * BATCH + i;
                        Tuple::from([
                            (
                                "url",
                                Value::from(format!("https://example.com/bulk/{run}/f{n}")),
                            ),
                            ("se_post", Value::from(false)),
                            ("stats", Value::from(serde_json::json!({ "views": n }))),
                            ("company_id", Value::from(company)),
                        ])
                    });
                    let written = create.call_many(tuples).await?;
                    check(written.len() == BATCH, "ferrom wrote the batch")?;
                }
                Side::Sqlx => {
                    let now = Utc::now().naive_utc();
                    let mut insert = QueryBuilder::new(
                        "INSERT INTO posts (url, se_post, scrapped_at, stats, created_at, updated_at, company_id) ",
                    );
                    insert.push_values(0..BATCH, |mut b, i| {
                        let n = batch * BATCH + i;
                        b.push_bind(format!("https://example.com/bulk/{run}/s{n}"))
                            .push_bind(false)
                            .push_bind(now)
                            .push_bind(sqlx::types::Json(serde_json::json!({ "views": n })))
                            .push_bind(now)
                            .push_bind(now)
                            .push_bind(company);
                    });
                    insert.build().execute(&mut *sqlx_tx).await?;
                }
            }
            timed(&mut took, side, start);
        }
    }
    // The first commit's log flush also covers the other transaction's
    // interleaved inserts (measured: 1-5 ms against 0.3 ms for the second),
    // so the order alternates between runs.
    let mut ferrom_tx = Some(ferrom_tx);
    let mut sqlx_tx = Some(sqlx_tx);
    for side in sides(run) {
        let start = Instant::now();
        match side {
            Side::Ferrom => {
                if let Some(tx) = ferrom_tx.take() {
                    tx.commit().await?;
                }
            }
            Side::Sqlx => {
                if let Some(tx) = sqlx_tx.take() {
                    tx.commit().await?;
                }
            }
        }
        timed(&mut took, side, start);
    }

    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts")
        .fetch_one(pool)
        .await?;
    check(count == 20_000, "10,000 posts inserted by each side")?;
    Ok((took[Side::Ferrom as usize], took[Side::Sqlx as usize]))
}

/// Raw sqlx create returning the row: `INSERT`, then `SELECT` by
/// `LAST_INSERT_ID()` on the same connection (what a careful user does on
/// MySQL, and usually on MariaDB too, which could use `RETURNING`).
async fn sqlx_create_company(pool: &MySqlPool, name: &str, domain: &str) -> Result<Company> {
    let mut conn = pool.acquire().await?;
    let now = Utc::now().naive_utc();
    let done = sqlx::query(
        "INSERT INTO companies (name, domain, created_at, updated_at) VALUES (?, ?, ?, ?)",
    )
    .bind(name)
    .bind(domain)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let company = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COMPANY_COLUMNS} FROM companies WHERE id = ?"
    )))
    .bind(done.last_insert_id())
    .fetch_one(&mut *conn)
    .await?;
    Ok(company)
}

/// Raw sqlx update returning the row: `UPDATE`, then `SELECT` by key on the
/// same connection (neither server has `UPDATE ... RETURNING`).
async fn sqlx_update_post(pool: &MySqlPool, id: i32, error: &str) -> Result<Post> {
    let mut conn = pool.acquire().await?;
    sqlx::query("UPDATE posts SET error = ?, updated_at = ? WHERE id = ?")
        .bind(error)
        .bind(Utc::now().naive_utc())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let post = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {POST_COLUMNS} FROM posts WHERE id = ?"
    )))
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(post)
}

/// Raw sqlx eager loading: the companies, then their posts in one
/// `WHERE company_id IN (...)`, grouped by hand.
async fn sqlx_companies_with_posts(pool: &MySqlPool) -> Result<Vec<Company>> {
    let mut companies: Vec<Company> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COMPANY_COLUMNS} FROM companies"
    )))
    .fetch_all(pool)
    .await?;
    if companies.is_empty() {
        return Ok(companies);
    }
    let mut select = QueryBuilder::new(format!(
        "SELECT {POST_COLUMNS} FROM posts WHERE company_id IN ("
    ));
    let mut ids = select.separated(", ");
    for company in &companies {
        ids.push_bind(company.id);
    }
    select.push(")");
    let posts: Vec<Post> = select.build_query_as().fetch_all(pool).await?;
    let mut by_company: HashMap<i32, Vec<Post>> = HashMap::with_capacity(companies.len());
    for post in posts {
        if let Some(company_id) = post.company_id {
            by_company.entry(company_id).or_default().push(post);
        }
    }
    for company in &mut companies {
        company.posts = by_company.remove(&company.id).unwrap_or_default();
    }
    Ok(companies)
}

/// Empties both tables (untimed set-up), then waits for the server to
/// purge the deleted rows: they stay in the indexes until its purge removes
/// them, in the background, which otherwise happens while the next timed
/// run works (measured: the bulk insert's runs spread from 80 to 250 ms).
async fn reset(pool: &MySqlPool) -> Result<()> {
    sqlx::query("DELETE FROM posts").execute(pool).await?;
    sqlx::query("DELETE FROM companies").execute(pool).await?;
    wait_for_purge(pool).await
}

/// Waits, up to ten seconds, until InnoDB's history list (the undo logs
/// of committed changes its purge has not yet applied) is empty. A server
/// that does not report it is not waited for.
async fn wait_for_purge(pool: &MySqlPool) -> Result<()> {
    let start = Instant::now();
    loop {
        let pending: Option<i64> = sqlx::query_scalar(
            "SELECT `count` FROM information_schema.INNODB_METRICS WHERE name = 'trx_rseg_history_len'",
        )
        .fetch_optional(pool)
        .await?;
        match pending {
            Some(n) if n > 0 && start.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            _ => return Ok(()),
        }
    }
}

/// Inserts `n` companies (untimed set-up); returns their ids.
async fn insert_companies(pool: &MySqlPool, n: usize, tag: &str) -> Result<Vec<i32>> {
    let now = Utc::now().naive_utc();
    for start in (0..n).step_by(BATCH) {
        let mut insert =
            QueryBuilder::new("INSERT INTO companies (name, domain, created_at, updated_at) ");
        insert.push_values(start..n.min(start + BATCH), |mut b, i| {
            b.push_bind(format!("Company {tag} {i}"))
                .push_bind(format!("https://{tag}{i}.example.com"))
                .push_bind(now)
                .push_bind(now);
        });
        insert.build().execute(pool).await?;
    }
    let ids = sqlx::query_scalar("SELECT id FROM companies ORDER BY id")
        .fetch_all(pool)
        .await?;
    Ok(ids)
}

/// Inserts `per_company` posts for each company (untimed set-up).
async fn insert_posts(
    pool: &MySqlPool,
    companies: &[i32],
    per_company: usize,
    tag: &str,
) -> Result<()> {
    let now = Utc::now().naive_utc();
    let all: Vec<(usize, i32)> = companies
        .iter()
        .flat_map(|c| std::iter::repeat_n(*c, per_company))
        .enumerate()
        .collect();
    for chunk in all.chunks(BATCH) {
        let mut insert = QueryBuilder::new(
            "INSERT INTO posts (url, se_post, published_at, scrapped_at, stats, created_at, updated_at, company_id) ",
        );
        insert.push_values(chunk, |mut b, (n, company)| {
            b.push_bind(format!("https://example.com/{tag}/{n}"))
                .push_bind(n % 7 == 0)
                .push_bind(now)
                .push_bind(now)
                .push_bind(sqlx::types::Json(
                    serde_json::json!({ "views": n, "likes": n % 13, "shares": [1, 2, 3] }),
                ))
                .push_bind(now)
                .push_bind(now)
                .push_bind(*company);
        });
        insert.build().execute(pool).await?;
    }
    Ok(())
}

/// Each run's ferrom time over its raw sqlx time, in run order: the two
/// sides of a run met the same machine (interleaved blocks, or
/// consecutive whole runs for the reads).
fn paired_ratios(ferrom: &[f64], sqlx: &[f64]) -> Vec<f64> {
    ferrom.iter().zip(sqlx).map(|(f, s)| f / s).collect()
}

fn summary(samples: &[f64]) -> serde_json::Value {
    let v = sorted(samples);
    serde_json::json!({
        "median_ms": round3(median(samples)),
        "min_ms": round3(v.first().copied().unwrap_or(f64::NAN)),
        "max_ms": round3(v.last().copied().unwrap_or(f64::NAN)),
        "samples_ms": v.iter().map(|x| round3(*x)).collect::<Vec<_>>(),
    })
}

/// Peak memory of workload 3 on one side, in KiB.
struct Memory {
    side: &'static str,
    /// `VmHWM` after finalize, before the rows are read.
    baseline_kib: Vec<u64>,
    /// `VmHWM` after the rows are read.
    peak_kib: Vec<u64>,
}

impl Memory {
    fn growth(&self) -> Vec<f64> {
        self.peak_kib
            .iter()
            .zip(&self.baseline_kib)
            .map(|(p, b)| u32::try_from(p.saturating_sub(*b)).map_or(f64::NAN, f64::from))
            .collect()
    }

    fn peak(&self) -> Vec<f64> {
        self.peak_kib
            .iter()
            .map(|p| u32::try_from(*p).map_or(f64::NAN, f64::from))
            .collect()
    }
}

/// Runs each side of workload 3 in `runs` child processes, interleaved.
fn measure_memory(database: &str, runs: usize) -> Result<Vec<Memory>> {
    let exe = std::env::current_exe()?;
    let mut sides: Vec<Memory> = ["ferrom", "sqlx", "ferrom-dynamic"]
        .into_iter()
        .map(|side| Memory {
            side,
            baseline_kib: Vec::new(),
            peak_kib: Vec::new(),
        })
        .collect();
    for _ in 0..runs {
        for memory in &mut sides {
            let out = std::process::Command::new(&exe)
                .args(["--memory-child", memory.side, database])
                .output()?;
            if !out.status.success() {
                bail!(
                    "memory child {} failed: {}",
                    memory.side,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            let line = String::from_utf8(out.stdout)?;
            let mut fields = line.split_whitespace().map(str::parse::<u64>);
            let (Some(Ok(baseline)), Some(Ok(peak))) = (fields.next(), fields.next()) else {
                bail!("memory child {} printed {line:?}", memory.side);
            };
            memory.baseline_kib.push(baseline);
            memory.peak_kib.push(peak);
        }
    }
    for memory in &sides {
        eprintln!(
            "  memory {:<15} VmHWM {:>8.0} KiB, growth while reading {:>8.0} KiB",
            memory.side,
            median(&memory.peak()),
            median(&memory.growth())
        );
    }
    Ok(sides)
}

fn vm_hwm_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM in /proc/self/status")?;
    Ok(line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?)
}

/// A child process: connects like the parent, reads the 10,000 posts once
/// on `side`, prints `VmHWM` before and after (KiB).
async fn memory_child(side: &str, database: &str) -> Result<()> {
    let settings = ferrom::Settings {
        env: "test".into(),
        path: PathBuf::from("settings.yml"),
        db: bench_server()?.with_name(database),
    };
    let container = post_analytics::configuration(&settings).finalize().await?;
    let pool = container.gateway("default")?.pool().clone();
    // Both sides' code paths warmed on a small read: the baseline then
    // holds the runtime, the pool and the container, not the data.
    let _: Vec<Post> = container
        .relation("posts")?
        .limit(10)
        .map_to::<Post>()
        .to_vec()
        .await?;
    let _: Vec<Post> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {POST_COLUMNS} FROM posts LIMIT 10"
    )))
    .fetch_all(&pool)
    .await?;
    let baseline = vm_hwm_kib()?;
    let n = match side {
        "ferrom" => {
            let posts = container
                .relation("posts")?
                .map_to::<Post>()
                .to_vec()
                .await?;
            let n = posts.len();
            let peak = vm_hwm_kib()?;
            drop(posts);
            println!("{baseline} {peak} {n}");
            n
        }
        "ferrom-dynamic" => {
            let rows = container.relation("posts")?.to_vec().await?;
            let n = rows.len();
            let peak = vm_hwm_kib()?;
            drop(rows);
            println!("{baseline} {peak} {n}");
            n
        }
        "sqlx" => {
            let posts: Vec<Post> =
                sqlx::query_as(AssertSqlSafe(format!("SELECT {POST_COLUMNS} FROM posts")))
                    .fetch_all(&pool)
                    .await?;
            let n = posts.len();
            let peak = vm_hwm_kib()?;
            drop(posts);
            println!("{baseline} {peak} {n}");
            n
        }
        other => bail!("unknown side {other}: ferrom, ferrom-dynamic or sqlx"),
    };
    check(n == 10_000, "10,000 posts read")
}

fn holds(ratio: f64, target: Option<(f64, bool)>) -> Option<bool> {
    target.map(|(bound, strict)| {
        if strict {
            ratio < bound
        } else {
            ratio <= bound
        }
    })
}

fn report(
    results: &[Measured],
    memory: &[Memory],
    server: &ferrom::ServerInfo,
    insert_returning: bool,
    repeats: usize,
    every_workload: bool,
) -> Result<()> {
    let Machine {
        nproc,
        cpu,
        date,
        build,
    } = Machine::now();

    let mut table = String::new();
    table.push_str(&format!(
        "Server {} ({}), {nproc} CPUs ({cpu}), {build} build, {repeats} interleaved repeats, {date}\n\n",
        server, server.version_string
    ));
    table.push_str("| # | workload | ferrom median (min–max) | raw sqlx median (min–max) | ratio | target | holds |\n");
    table.push_str("|---|---|---|---|---|---|---|\n");
    let mut rows = Vec::new();
    let mut paired_line = Vec::new();
    for r in results {
        let (f, s) = (median(&r.ferrom), median(&r.sqlx));
        let ratio = f / s;
        let paired = paired_ratios(&r.ferrom, &r.sqlx);
        let paired_median = median(&paired);
        paired_line.push(format!("{} = {paired_median:.3}", r.workload.id()));
        let target = target(r.workload, insert_returning);
        let pass = holds(ratio, target);
        let (fs, ss) = (sorted(&r.ferrom), sorted(&r.sqlx));
        table.push_str(&format!(
            "| {} | {} | {:.1} ms ({:.1}–{:.1}) | {:.1} ms ({:.1}–{:.1}) | {:.3} | {} | {} |\n",
            r.workload.id(),
            r.workload.name(),
            f,
            fs[0],
            fs[fs.len() - 1],
            s,
            ss[0],
            ss[ss.len() - 1],
            ratio,
            target.map_or("—".to_string(), |(b, strict)| format!(
                "{}{b:.2}",
                if strict { "<" } else { "≤" }
            )),
            pass.map_or("—", |p| if p { "yes" } else { "**no**" }),
        ));
        rows.push(serde_json::json!({
            "workload": r.workload.id(),
            "name": r.workload.name(),
            "ferrom": summary(&r.ferrom),
            "sqlx": summary(&r.sqlx),
            "ratio": round3(ratio),
            "paired_ratio_median": round3(paired_median),
            "paired_ratios": paired.iter().map(|x| round3(*x)).collect::<Vec<_>>(),
            "target": target.map(|(b, _)| b),
            "target_strict": target.map(|(_, strict)| strict),
            "pass": pass,
        }));
    }

    table.push_str(&format!(
        "\nMedian of the per-run ratios (each run times both sides, interleaved; the targets are judged on the ratio of medians): {}.\n",
        paired_line.join(", ")
    ));

    // Pool checkout per operation: workload 6 through the pool against
    // the same lookups on one connection.
    let per_op = |pool: &[f64], one: &[f64]| (median(pool) - median(one)) * 1e3 / 5_000.0;
    let lookups = results.iter().find(|r| r.workload == Workload::Lookup);
    let one = results
        .iter()
        .find(|r| r.workload == Workload::LookupOneConnection);
    let checkout = match (lookups, one) {
        (Some(p), Some(o)) => {
            let f = per_op(&p.ferrom, &o.ferrom);
            let s = per_op(&p.sqlx, &o.sqlx);
            table.push_str(&format!(
                "\nPool checkout per operation (6 minus 6s, per lookup): ferrom {f:.1} µs, raw sqlx {s:.1} µs.\n"
            ));
            serde_json::json!({ "ferrom_us": round3(f), "sqlx_us": round3(s) })
        }
        _ => serde_json::Value::Null,
    };

    // Peak memory of workload 3.
    let sqlx_memory = memory.iter().find(|m| m.side == "sqlx");
    let mut memory_json = Vec::new();
    if !memory.is_empty() {
        table.push_str("\n| workload 3, peak memory | VmHWM (median) | growth while reading | growth ratio to sqlx | target | holds |\n|---|---|---|---|---|---|\n");
    }
    for m in memory {
        let growth = median(&m.growth());
        let ratio = sqlx_memory.map_or(f64::NAN, |s| growth / median(&s.growth()));
        let (target, pass) = match m.side {
            "ferrom" => (Some(1.2), Some(ratio <= 1.2)),
            _ => (None, None),
        };
        table.push_str(&format!(
            "| {} | {:.1} MiB | {:.1} MiB | {:.2} | {} | {} |\n",
            m.side,
            median(&m.peak()) / 1024.0,
            growth / 1024.0,
            ratio,
            target.map_or("—".into(), |t| format!("≤{t:.1}")),
            pass.map_or("—", |p| if p { "yes" } else { "**no**" }),
        ));
        memory_json.push(serde_json::json!({
            "side": m.side,
            "vm_hwm_kib": m.peak_kib,
            "baseline_kib": m.baseline_kib,
            "growth_kib_median": growth,
            "growth_ratio_to_sqlx": round3(ratio),
            "target": target,
            "pass": pass,
        }));
    }

    println!("{table}");
    let json = serde_json::json!({
        "command": "cargo bench --bench ferrom_vs_sqlx",
        "date": date,
        "build": build,
        "repeats": repeats,
        "server": {
            "flavour": format!("{:?}", server.flavour),
            "version": server.version_string,
            "insert_returning": insert_returning,
        },
        "machine": { "nproc": nproc, "cpu_model": cpu },
        "workloads": rows,
        "pool_checkout_per_op": checkout,
        "peak_memory_workload_3": memory_json,
        "notes": [
            "ratio = ferrom median / raw sqlx median; targets from DESIGN.md (issue 7)",
            "paired_ratio_median = median over runs of that run's ferrom time / raw sqlx time (reported, not judged)",
            "raw sqlx create (1) is INSERT + SELECT by LAST_INSERT_ID on one acquired connection, also on MariaDB, as careful sqlx users usually write it; ferrom uses INSERT ... RETURNING on MariaDB",
            "raw sqlx update (5) is UPDATE + SELECT by key on one acquired connection",
            "bulk insert (2): ferrom creates through a command registered with result Count (nothing read back), as raw sqlx reads nothing back, with Command::call_many (tuples checked, stamped and encoded as the iterator yields them, as push_values does)",
            "3d compares ferrom dynamic rows with raw sqlx typed structs",
            "memory: VmHWM of child processes; growth = VmHWM after reading minus VmHWM before",
        ],
    });
    if !every_workload {
        eprintln!("--only: a partial run; bench/results.json is left as it was");
        return Ok(());
    }
    write_results("results.json", &json)
}
