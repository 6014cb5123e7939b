//! Throughput and latency under load (issue 8): the mix of the load test
//! (`tests/load.rs`) through ferrom against raw sqlx doing the same work.
//!
//! Run it with
//!
//! ```text
//! cargo bench --bench load             # 3 repeats of 5 s per side
//! cargo bench --bench load -- --quick  # 1 repeat of 2 s (or FERROM_BENCH_QUICK=1)
//! ```
//!
//! It needs the server the tests use (127.0.0.1:3306, root, empty password;
//! `FERROM_BENCH_DATABASE_URL=mysql://user:password@host:port/` overrides
//! it). Every run works in a fresh database made by
//! [`ferrom::testing::Harness`] and dropped after it.
//!
//! A run is 32 tasks sharing one pool of 8 connections for a fixed time.
//! Each task, in a loop (the load test's mix without its `CONNECTION_ID()`
//! probes): creates a post returning the row (under its own company or a
//! shared one), updates one of its own posts by key returning the row,
//! reads that post by key into `Post`; every 4th iteration counts its
//! company's posts, every 8th lists them into `Post`s, every 10th creates
//! and updates a post in one transaction. The raw sqlx side writes the SQL
//! by hand with the round trips a careful sqlx user makes for the same
//! results: `INSERT ... RETURNING` on MariaDB (as ferrom; `INSERT` then
//! `SELECT` on one connection elsewhere), `UPDATE` then `SELECT` by key on
//! one connection, `SELECT ... WHERE id = ?` into the application's
//! `#[derive(sqlx::FromRow)]` `Post`.
//!
//! Every operation's latency is recorded (pool checkout included). Runs
//! alternate ferrom, sqlx, ferrom, sqlx ... after an untimed warm-up of
//! each side. It prints a markdown table of median throughput and p50/p99
//! latency, overall and per operation, with the ratios ferrom/sqlx, and
//! writes `bench/load.json`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use chrono::Utc;
use ferrom::command::{Command, Tuple};
use ferrom::testing::Harness;
use ferrom::{Container, Relation, Value};
use post_analytics::Post;
use serde_json::json;
use sqlx::{FromRow as _, MySqlConnection, MySqlPool};

mod common;
#[path = "../tests/support/load_mix.rs"]
mod load_mix;
use common::{
    Machine, bench_server, build_profile, check, median, quick_requested, round3, sorted,
    write_results,
};
use load_mix::{create_and_update_in_transaction, post_input};

/// Concurrent tasks.
const TASKS: usize = 32;
/// Connections in the pool.
const POOL: u32 = 8;

/// One post by key.
const SELECT_POST_BY_ID: &str = "SELECT id, url, se_post, published_at, scrapped_at, error, stats, created_at, updated_at, company_id FROM posts WHERE id = ?";
/// A company's posts.
const SELECT_POSTS_BY_COMPANY: &str = "SELECT id, url, se_post, published_at, scrapped_at, error, stats, created_at, updated_at, company_id FROM posts WHERE company_id = ?";
/// A new post, without reading it back.
const INSERT_POST: &str = "INSERT INTO posts (url, scrapped_at, stats, created_at, updated_at, company_id) VALUES (?, ?, ?, ?, ?, ?)";
/// A new post returning the row (MariaDB).
const INSERT_POST_RETURNING: &str = "INSERT INTO posts (url, scrapped_at, stats, created_at, updated_at, company_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING id, url, se_post, published_at, scrapped_at, error, stats, created_at, updated_at, company_id";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = quick_requested(&args);
    let plan = if quick {
        Plan {
            quick,
            repeats: 1,
            duration: Duration::from_secs(2),
            warm_up: Duration::from_millis(500),
        }
    } else {
        Plan {
            quick,
            repeats: 3,
            duration: Duration::from_secs(5),
            warm_up: Duration::from_secs(1),
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(&plan))
}

/// How long and how often.
struct Plan {
    quick: bool,
    repeats: usize,
    duration: Duration,
    warm_up: Duration,
}

/// Which side runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Ferrom,
    Sqlx,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Ferrom => "ferrom",
            Side::Sqlx => "sqlx",
        }
    }
}

/// The operations of the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Create,
    Update,
    Read,
    Count,
    List,
    Transaction,
}

impl Op {
    const ALL: [Op; 6] = [
        Op::Create,
        Op::Update,
        Op::Read,
        Op::Count,
        Op::List,
        Op::Transaction,
    ];

    fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Read => "read",
            Op::Count => "count",
            Op::List => "list",
            Op::Transaction => "transaction",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Op::Create => "create a post returning the row",
            Op::Update => "update a post by key returning the row",
            Op::Read => "read a post by key into Post",
            Op::Count => "count the task's company's posts (every 4th iteration)",
            Op::List => "list the task's company's posts into Posts (every 8th iteration)",
            Op::Transaction => {
                "create a post and update it in one transaction (every 10th iteration)"
            }
        }
    }
}

/// One side's way of doing each operation.
#[derive(Clone)]
enum Backend {
    Ferrom {
        container: Container,
        posts: Relation,
        create: Box<Command>,
    },
    Sqlx {
        pool: MySqlPool,
        insert_returning: bool,
    },
}

impl Backend {
    fn new(side: Side, container: &Container) -> Result<Backend> {
        let gateway = container.gateway("default")?;
        Ok(match side {
            Side::Ferrom => {
                let posts = container.relation("posts")?;
                Backend::Ferrom {
                    container: container.clone(),
                    create: Box::new(posts.command("create")?),
                    posts,
                }
            }
            Side::Sqlx => Backend::Sqlx {
                pool: gateway.pool().clone(),
                insert_returning: gateway.capabilities().insert_returning,
            },
        })
    }

    /// Creates a post; returns its id.
    async fn create(&self, url: &str, company: i32, stats: serde_json::Value) -> Result<i32> {
        match self {
            Backend::Ferrom { create, .. } => {
                let row = create
                    .call(post_input(url, company, stats))
                    .await?
                    .into_one()
                    .context("create returned no row")?;
                id_of(row.get("id")?)
            }
            Backend::Sqlx {
                pool,
                insert_returning,
            } => {
                let mut conn = pool.acquire().await?;
                let post =
                    sqlx_insert_post(&mut conn, *insert_returning, url, company, stats).await?;
                Ok(post.id)
            }
        }
    }

    /// Sets a post's error and stats by key; checks the row returned.
    async fn update(&self, id: i32, error: &str, stats: serde_json::Value) -> Result<()> {
        match self {
            Backend::Ferrom { posts, .. } => {
                let rows = posts
                    .by_pk(id)
                    .command("update")?
                    .call(Tuple::from([
                        ("error", Value::from(error)),
                        ("stats", Value::Json(stats)),
                    ]))
                    .await?
                    .into_rows();
                check(rows.len() == 1, "update returned the row")
            }
            Backend::Sqlx { pool, .. } => {
                let mut conn = pool.acquire().await?;
                sqlx::query("UPDATE posts SET error = ?, stats = ?, updated_at = ? WHERE id = ?")
                    .bind(error)
                    .bind(sqlx::types::Json(stats))
                    .bind(Utc::now().naive_utc())
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                let post: Post = sqlx::query_as(SELECT_POST_BY_ID)
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await?;
                check(post.id == id, "update returned the row")
            }
        }
    }

    /// Reads a post by key into `Post`.
    async fn read(&self, id: i32) -> Result<Post> {
        let post = match self {
            Backend::Ferrom { posts, .. } => posts.by_pk(id).map_to::<Post>().one().await?,
            Backend::Sqlx { pool, .. } => {
                sqlx::query_as(SELECT_POST_BY_ID)
                    .bind(id)
                    .fetch_optional(pool)
                    .await?
            }
        };
        post.with_context(|| format!("post {id} not found"))
    }

    /// How many posts the company has.
    async fn count(&self, company: i32) -> Result<u64> {
        match self {
            Backend::Ferrom { posts, .. } => {
                Ok(posts.filter(("company_id", company)).count().await?)
            }
            Backend::Sqlx { pool, .. } => {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts WHERE company_id = ?")
                    .bind(company)
                    .fetch_one(pool)
                    .await?;
                Ok(u64::try_from(n)?)
            }
        }
    }

    /// The company's posts.
    async fn list(&self, company: i32) -> Result<Vec<Post>> {
        match self {
            Backend::Ferrom { posts, .. } => Ok(posts
                .filter(("company_id", company))
                .map_to::<Post>()
                .to_vec()
                .await?),
            Backend::Sqlx { pool, .. } => Ok(sqlx::query_as(SELECT_POSTS_BY_COMPANY)
                .bind(company)
                .fetch_all(pool)
                .await?),
        }
    }

    /// Creates a post and sets its error in one transaction (each write
    /// returning its row, as ferrom's commands do); returns its id.
    async fn transaction(
        &self,
        url: &str,
        company: i32,
        stats: serde_json::Value,
        error: &str,
    ) -> Result<i32> {
        match self {
            Backend::Ferrom { container, .. } => {
                let input = post_input(url, company, stats);
                let id =
                    create_and_update_in_transaction(container, input, error.to_string()).await?;
                Ok(i32::try_from(id)?)
            }
            Backend::Sqlx {
                pool,
                insert_returning,
            } => {
                let mut tx = pool.begin().await?;
                let created =
                    sqlx_insert_post(&mut tx, *insert_returning, url, company, stats).await?;
                sqlx::query("UPDATE posts SET error = ?, updated_at = ? WHERE id = ?")
                    .bind(error)
                    .bind(Utc::now().naive_utc())
                    .bind(created.id)
                    .execute(&mut *tx)
                    .await?;
                let updated: Post = sqlx::query_as(SELECT_POST_BY_ID)
                    .bind(created.id)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(updated.id)
            }
        }
    }
}

/// Raw sqlx create of a post on one connection, returning the row:
/// `INSERT ... RETURNING` where the server has it, else `INSERT` then
/// `SELECT` by `LAST_INSERT_ID()`.
async fn sqlx_insert_post(
    conn: &mut MySqlConnection,
    insert_returning: bool,
    url: &str,
    company: i32,
    stats: serde_json::Value,
) -> Result<Post> {
    let now = Utc::now().naive_utc();
    let insert = sqlx::query(if insert_returning {
        INSERT_POST_RETURNING
    } else {
        INSERT_POST
    })
    .bind(url)
    .bind(now)
    .bind(sqlx::types::Json(stats))
    .bind(now)
    .bind(now)
    .bind(company);
    if insert_returning {
        let row = insert.fetch_one(&mut *conn).await?;
        return Ok(Post::from_row(&row)?);
    }
    let done = insert.execute(&mut *conn).await?;
    Ok(sqlx::query_as(SELECT_POST_BY_ID)
        .bind(done.last_insert_id())
        .fetch_one(&mut *conn)
        .await?)
}

fn id_of(value: &Value) -> Result<i32> {
    let id = value
        .as_i64()
        .with_context(|| format!("id is {value:?}, not an integer"))?;
    Ok(i32::try_from(id)?)
}

/// One task of a run: the mix until the deadline; every operation's
/// latency in milliseconds.
async fn task(
    backend: Backend,
    task: usize,
    own_company: i32,
    shared_company: i32,
    deadline: Instant,
) -> Result<Vec<(Op, f64)>> {
    let mut samples = Vec::new();
    let mut posts: Vec<i32> = Vec::new();
    let mut own_posts = 0_u64;
    // A per-task xorshift: which own post each update picks.
    let mut rng = u64::try_from(task)?.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut n = 0_usize;
    while Instant::now() < deadline {
        let company = if n.is_multiple_of(2) {
            own_company
        } else {
            shared_company
        };
        let url = format!("https://load.test/t{task}/p{n}");
        let start = Instant::now();
        let id = backend
            .create(&url, company, json!({ "task": task, "seq": n, "views": 0 }))
            .await
            .with_context(|| format!("create {url}"))?;
        samples.push((Op::Create, ms(start)));
        posts.push(id);
        own_posts += u64::from(company == own_company);

        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let id = posts[usize::try_from(rng % u64::try_from(posts.len())?)?];
        let error = format!("t{task}-{n}");
        let start = Instant::now();
        backend
            .update(
                id,
                &error,
                json!({ "task": task, "updated_in": n, "views": n * 10 }),
            )
            .await
            .with_context(|| format!("update post {id}"))?;
        samples.push((Op::Update, ms(start)));

        let start = Instant::now();
        let post = backend
            .read(id)
            .await
            .with_context(|| format!("read post {id}"))?;
        samples.push((Op::Read, ms(start)));
        check(
            post.error.as_deref() == Some(error.as_str()),
            "a read sees the task's last write",
        )?;

        if n % 4 == 1 {
            let start = Instant::now();
            let count = backend.count(own_company).await.context("count")?;
            samples.push((Op::Count, ms(start)));
            check(count == own_posts, "the count is the task's own posts")?;
        }
        if n % 8 == 3 {
            let start = Instant::now();
            let listed = backend.list(own_company).await.context("list")?;
            samples.push((Op::List, ms(start)));
            check(
                u64::try_from(listed.len())? == own_posts,
                "the list is the task's own posts",
            )?;
        }
        if n % 10 == 5 {
            let url = format!("https://load.test/t{task}/x{n}");
            let start = Instant::now();
            let id = backend
                .transaction(
                    &url,
                    own_company,
                    json!({ "task": task, "seq": n, "in": "transaction" }),
                    &format!("t{task}-x{n}"),
                )
                .await
                .with_context(|| format!("transaction creating {url}"))?;
            samples.push((Op::Transaction, ms(start)));
            posts.push(id);
            own_posts += 1;
        }
        n += 1;
    }
    Ok(samples)
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// What one run measured.
struct Run {
    side: Side,
    repeat: usize,
    elapsed_s: f64,
    /// Latencies in milliseconds, by operation.
    samples: BTreeMap<Op, Vec<f64>>,
}

impl Run {
    fn all(&self) -> Vec<f64> {
        self.samples.values().flatten().copied().collect()
    }

    /// Throughput, p50 and p99 of `op` (every operation for `None`).
    fn figures(&self, op: Option<Op>) -> Figures {
        let samples = match op {
            Some(op) => self.samples.get(&op).cloned().unwrap_or_default(),
            None => self.all(),
        };
        let sorted = sorted(&samples);
        Figures {
            ops: samples.len(),
            throughput: count_f64(samples.len()) / self.elapsed_s,
            p50_ms: percentile(&sorted, 50),
            p99_ms: percentile(&sorted, 99),
        }
    }
}

/// Throughput and latency of one run (or the medians of several).
#[derive(Clone, Copy)]
struct Figures {
    ops: usize,
    throughput: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Figures {
    fn json(&self) -> serde_json::Value {
        json!({
            "ops": self.ops,
            "throughput_ops_per_s": round3(self.throughput),
            "p50_ms": round3(self.p50_ms),
            "p99_ms": round3(self.p99_ms),
        })
    }

    /// The medians of the runs' figures (the upper median of the counts).
    fn median_of(runs: &[Figures]) -> Figures {
        let mut ops: Vec<usize> = runs.iter().map(|f| f.ops).collect();
        ops.sort_unstable();
        Figures {
            ops: ops.get(ops.len() / 2).copied().unwrap_or(0),
            throughput: median(&runs.iter().map(|f| f.throughput).collect::<Vec<_>>()),
            p50_ms: median(&runs.iter().map(|f| f.p50_ms).collect::<Vec<_>>()),
            p99_ms: median(&runs.iter().map(|f| f.p99_ms).collect::<Vec<_>>()),
        }
    }
}

fn count_f64(n: usize) -> f64 {
    u32::try_from(n).map_or(f64::NAN, f64::from)
}

/// The nearest-rank percentile of sorted samples (NaN for none).
fn percentile(sorted: &[f64], p: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

async fn run(plan: &Plan) -> Result<()> {
    let harness = Harness::new(
        post_analytics::embedded_migrations()?,
        post_analytics::configuration,
    )
    .with_server(bench_server()?);
    let build = build_profile();
    let mut server = None;
    eprintln!(
        "load: {TASKS} tasks on a pool of {POOL}, {} repeat(s) of {:?} per side after a {:?} warm-up of each, {build} build",
        plan.repeats, plan.duration, plan.warm_up
    );
    for side in [Side::Ferrom, Side::Sqlx] {
        let warm = run_once(&harness, side, 0, plan.warm_up).await?;
        server = Some(warm.1);
    }
    let mut runs = Vec::new();
    for repeat in 1..=plan.repeats {
        for side in [Side::Ferrom, Side::Sqlx] {
            let (run, _) = run_once(&harness, side, repeat, plan.duration).await?;
            let all = run.figures(None);
            eprintln!(
                "  run {repeat} {:<6} {:>7} ops in {:.2} s: {:>8.1} ops/s, p50 {:.3} ms, p99 {:.3} ms",
                side.name(),
                all.ops,
                run.elapsed_s,
                all.throughput,
                all.p50_ms,
                all.p99_ms
            );
            runs.push(run);
        }
    }
    let (server, insert_returning) = server.context("no run")?;
    report(plan, &runs, &server, insert_returning)
}

/// One run of `side` for `duration` on a fresh database; also returns the
/// server and whether it has `INSERT ... RETURNING`.
async fn run_once(
    harness: &Harness,
    side: Side,
    repeat: usize,
    duration: Duration,
) -> Result<(Run, (ferrom::ServerInfo, bool))> {
    let database = harness.database().await?;
    let mut settings = database.test_settings();
    settings.db.pool_size = POOL;
    let container = post_analytics::configuration(&settings).finalize().await?;
    let gateway = container.gateway("default")?;
    let pool = gateway.pool().clone();
    check(
        pool.options().get_max_connections() == POOL,
        "a pool of 8 connections",
    )?;
    let server = (
        gateway.server().clone(),
        gateway.capabilities().insert_returning,
    );

    // Untimed: open all of the pool's connections, and make the shared
    // company and one per task.
    let mut held = Vec::new();
    for _ in 0..POOL {
        held.push(pool.acquire().await?);
    }
    drop(held);
    let now = Utc::now().naive_utc();
    let mut companies = Vec::with_capacity(TASKS + 1);
    for i in 0..=TASKS {
        let done = sqlx::query(
            "INSERT INTO companies (name, domain, created_at, updated_at) VALUES (?, ?, ?, ?)",
        )
        .bind(format!("Load {i}"))
        .bind(format!("https://c{i}.load.test"))
        .bind(now)
        .bind(now)
        .execute(&pool)
        .await?;
        companies.push(i32::try_from(done.last_insert_id())?);
    }
    let shared = companies[TASKS];

    let backend = Backend::new(side, &container)?;
    let start = Instant::now();
    let deadline = start + duration;
    let handles: Vec<_> = (0..TASKS)
        .map(|t| tokio::spawn(task(backend.clone(), t, companies[t], shared, deadline)))
        .collect();
    let mut samples: BTreeMap<Op, Vec<f64>> = BTreeMap::new();
    for handle in handles {
        for (op, latency) in handle.await?? {
            samples.entry(op).or_default().push(latency);
        }
    }
    let elapsed_s = start.elapsed().as_secs_f64();

    // The work was done: one post per create, none lost.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts")
        .fetch_one(&pool)
        .await?;
    let creates = samples.get(&Op::Create).map_or(0, Vec::len)
        + samples.get(&Op::Transaction).map_or(0, Vec::len);
    check(
        usize::try_from(stored)? == creates,
        "every create stored one post",
    )?;

    drop(backend);
    container.disconnect().await;
    drop(container);
    database.drop_now().await?;
    Ok((
        Run {
            side,
            repeat,
            elapsed_s,
            samples,
        },
        server,
    ))
}

fn report(
    plan: &Plan,
    runs: &[Run],
    server: &ferrom::ServerInfo,
    insert_returning: bool,
) -> Result<()> {
    let Machine {
        nproc,
        cpu,
        date,
        build,
    } = Machine::now();
    let medians = |side: Side, op: Option<Op>| {
        let figures: Vec<Figures> = runs
            .iter()
            .filter(|r| r.side == side)
            .map(|r| r.figures(op))
            .collect();
        Figures::median_of(&figures)
    };

    let mut table = format!(
        "Server {server} ({}), {nproc} CPUs ({cpu}), {build} build, {TASKS} tasks on a pool of {POOL}, {} run(s) of {} s per side, interleaved, {date}\n\n",
        server.version_string,
        plan.repeats,
        plan.duration.as_secs_f64()
    );
    table.push_str("| operation | ferrom ops/s | raw sqlx ops/s | ratio | ferrom p50 | raw sqlx p50 | ratio | ferrom p99 | raw sqlx p99 | ratio |\n");
    table.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    let mut medians_json = serde_json::Map::new();
    let mut ratios_json = serde_json::Map::new();
    for op in std::iter::once(None).chain(Op::ALL.into_iter().map(Some)) {
        let name = op.map_or("all", Op::name);
        let (f, s) = (medians(Side::Ferrom, op), medians(Side::Sqlx, op));
        let ratios = (
            f.throughput / s.throughput,
            f.p50_ms / s.p50_ms,
            f.p99_ms / s.p99_ms,
        );
        table.push_str(&format!(
            "| {name} | {:.0} | {:.0} | {:.3} | {:.2} ms | {:.2} ms | {:.3} | {:.2} ms | {:.2} ms | {:.3} |\n",
            f.throughput,
            s.throughput,
            ratios.0,
            f.p50_ms,
            s.p50_ms,
            ratios.1,
            f.p99_ms,
            s.p99_ms,
            ratios.2,
        ));
        medians_json.insert(name.into(), json!({ "ferrom": f.json(), "sqlx": s.json() }));
        ratios_json.insert(
            name.into(),
            json!({
                "throughput": round3(ratios.0),
                "p50": round3(ratios.1),
                "p99": round3(ratios.2),
            }),
        );
    }
    table.push_str(
        "\nRatios are ferrom over raw sqlx: below 1 for throughput, above 1 for latency, means ferrom is slower.\n",
    );

    let runs_json: Vec<serde_json::Value> = runs
        .iter()
        .map(|r| {
            let per_op: serde_json::Map<String, serde_json::Value> = Op::ALL
                .into_iter()
                .map(|op| (op.name().to_string(), r.figures(Some(op)).json()))
                .collect();
            json!({
                "side": r.side.name(),
                "repeat": r.repeat,
                "elapsed_s": round3(r.elapsed_s),
                "all": r.figures(None).json(),
                "per_op": per_op,
            })
        })
        .collect();

    println!("{table}");
    let json = json!({
        "command": if plan.quick { "cargo bench --bench load -- --quick" } else { "cargo bench --bench load" },
        "date": date,
        "build": build,
        "server": {
            "flavour": format!("{:?}", server.flavour),
            "version": server.version_string,
            "insert_returning": insert_returning,
        },
        "machine": { "nproc": nproc, "cpu_model": cpu, "tokio_worker_threads": nproc },
        "settings": {
            "tasks": TASKS,
            "pool_size": POOL,
            "duration_s": plan.duration.as_secs_f64(),
            "warm_up_s": plan.warm_up.as_secs_f64(),
            "repeats": plan.repeats,
            "order": "ferrom, sqlx, ferrom, sqlx, ... after an untimed warm-up of each side; a fresh database per run",
        },
        "mix": Op::ALL.iter().map(|op| json!({ "op": op.name(), "what": op.describe() })).collect::<Vec<_>>(),
        "runs": runs_json,
        "medians": medians_json,
        "ratios_ferrom_over_sqlx": ratios_json,
        "notes": [
            "throughput = operations completed / wall time of the run (from the start until every task finished its last operation)",
            "p50 and p99 are nearest-rank percentiles of every operation's latency in the run, pool checkout included; medians are over the runs",
            "ratios: ferrom median / raw sqlx median; below 1 for throughput and above 1 for latency mean ferrom is slower",
            if insert_returning {
                "creates: INSERT ... RETURNING on both sides (the server has it)"
            } else {
                "creates: ferrom INSERT then SELECT; raw sqlx INSERT then SELECT by LAST_INSERT_ID on one acquired connection"
            },
            "updates: ferrom's update by key command; raw sqlx UPDATE then SELECT by key on one acquired connection",
            "transaction: create and update returning their rows, as ferrom's commands do, between BEGIN and COMMIT",
        ],
    });
    write_results("load.json", &json)
}
