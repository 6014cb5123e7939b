//! `ferrom console` as people and scripts use it: the real binary on a
//! database of the test's own. Scripts run through `-e` and stdin; the
//! interactive console runs in a pseudo-terminal (tmux), typed at as a
//! person types.

use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};
use serde_json::Value as J;

use crate::support::tmux::Tmux;
use crate::support::{Output, TempDir, TestDb, reference_db, repo_root, run, run_with_input};

const ARTICLE: [&str; 3] = [
    "MAIN_CONTAINER.relations[:companies].count",
    "companies = MAIN_CONTAINER.relations[:companies]",
    "companies.command(:create).call(name: 'My 1st Company', domain: 'http://example.com')",
];

fn console(db: &TestDb, args: &[&str]) -> Output {
    run(db
        .ferrom()
        .arg("console")
        .args(args)
        .env("FERROM_HISTORY", ""))
}

fn with_exprs<'a>(mut args: Vec<&'a str>, exprs: &[&'a str]) -> Vec<&'a str> {
    for e in exprs {
        args.push("-e");
        args.push(e);
    }
    args
}

/// The JSON lines of stdout.
fn json_lines(out: &Output) -> Vec<J> {
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

fn parse_time(v: &J) -> NaiveDateTime {
    let text = v.as_str().unwrap_or_else(|| panic!("a time: {v}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("ISO 8601: {text}: {e}"))
        .naive_utc()
}

/// The article's company, created just now.
fn assert_articles_company(company: &J) {
    assert_eq!(company["id"], J::from(1), "{company}");
    assert_eq!(company["name"], "My 1st Company");
    assert_eq!(company["domain"], "http://example.com");
    assert_eq!(company["state"], "running");
    let created = parse_time(&company["created_at"]);
    let updated = parse_time(&company["updated_at"]);
    assert_eq!(created, updated);
    let age = (Utc::now().naive_utc() - created).num_seconds().abs();
    assert!(age < 10, "created_at {created} is {age} s from now");
}

#[tokio::test]
async fn the_articles_session_through_e_gives_the_articles_results() {
    let (db, _container) = reference_db().await;
    let out = console(&db, &with_exprs(vec!["--format", "json"], &ARTICLE));
    assert_eq!(out.status, 0, "{}", out.all());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "{}", out.all());
    assert_eq!(lines[0], J::from(0));
    assert_eq!(lines[1], "#<ferrom::Relation companies>");
    assert_articles_company(&lines[2]);
    // Banner on stderr, naming database, server and environment.
    assert!(out.stderr.contains(db.name()), "{}", out.stderr);
    assert!(out.stderr.contains("(test)"), "{}", out.stderr);

    // The same in text, as the article prints it.
    let out = console(
        &db,
        &with_exprs(vec![], &[ARTICLE[0], "companies.by_pk(1).one"]),
    );
    assert_eq!(out.status, 0, "{}", out.all());
    let text = &out.stdout;
    assert!(text.starts_with("1\n"), "{text}");
    for part in [
        ":id=>1",
        ":name=>\"My 1st Company\"",
        ":domain=>\"http://example.com\"",
        ":state=>\"running\"",
        " +0000",
    ] {
        assert!(text.contains(part), "{part} in {text}");
    }
}

#[tokio::test]
async fn the_articles_session_through_stdin() {
    let (db, _container) = reference_db().await;
    // Lines join while a bracket is open, as at the prompt.
    let script = "MAIN_CONTAINER.relations[:companies].count\n\
                  companies = MAIN_CONTAINER.relations[:companies]\n\
                  companies.command(:create).call(\n  name: 'My 1st Company',\n  domain: 'http://example.com'\n)\n\
                  \n\
                  companies.count; companies.pluck(:name)\n";
    let out = run_with_input(
        db.ferrom()
            .args(["console", "--format", "json"])
            .env("FERROM_HISTORY", ""),
        script,
    );
    assert_eq!(out.status, 0, "{}", out.all());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 5, "{}", out.all());
    assert_eq!(lines[0], J::from(0));
    assert_articles_company(&lines[2]);
    assert_eq!(lines[3], J::from(1));
    assert_eq!(lines[4], serde_json::json!(["My 1st Company"]));
}

#[tokio::test]
async fn json_mode_answers_each_expression_on_its_line_errors_included() {
    let (db, _container) = reference_db().await;
    let exprs = [
        "factories[:with_post]",                    // 0
        "posts.wher(id: 1)",                        // 1 error
        "companies.combine(:posts).to_a",           // 2
        "posts.where(company_id: [1, 2, 3]).count", // 3
        "posts.where(error: nil).exclude(se_post: true).order(:id).limit(5).pluck(:company_id)", // 4
        "posts.by_url(posts.first.url).count", // 5
        "companies.by_pk(1).one",              // 6
        "companies.by_pk(99).one",             // 7
        "posts.pluck(:id, :company_id)",       // 8
        "posts.to_sql",                        // 9
        "posts.by_pk(1).command(:update).call(error: 'timeout')", // 10
        "posts.where(error: 'timeout').exist?", // 11
        "companies.command(:create).call(nme: 'x', domain: 'y')", // 12 error
        "companies.order(id: :desc).first[:id]", // 13
        "companies.order(Sequel.desc(:id)).limit(1).pluck(:id)", // 14
        "x = 41; x",                           // 15, 16
        "Time.now",                            // 17
        "{a: 1, 'b' => [nil, true, 1.5, :c]}", // 18
        "companies(",                          // 19 parse error
        "factories[:company, name: 'Acme'][:name]", // 20
        "factories.structs[:post][:se_post]",  // 21
        "posts.first.stats",                   // 22
        "MAIN_CONTAINER.commands[:posts][:delete].call().size", // 23
        "posts.count",                         // 24
        "nope",                                // 25 error
        "companies.fetch(1)[:name]",           // 26
        "relations",                           // 27 a command: text
        "rom.relations.keys",                  // 28
        "container.gateways[:default].connection.tables", // 29
    ];
    let out = console(&db, &with_exprs(vec!["--format", "json"], &exprs));
    assert_eq!(out.status, 0, "{}", out.all());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), exprs.len() + 1, "{}", out.all());
    let company = &lines[0];
    assert_eq!(company["state"], "running");
    assert_eq!(
        company["posts"].as_array().map(Vec::len),
        Some(1),
        "{company}"
    );
    let error = &lines[1]["error"];
    assert_eq!(error["kind"], "unknown_method", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `where`"),
        "{error}"
    );
    assert_eq!(lines[2][0]["posts"][0]["company_id"], company["id"]);
    assert_eq!(lines[3], J::from(1));
    assert_eq!(lines[4], serde_json::json!([company["id"]]));
    assert_eq!(lines[5], J::from(1));
    assert_eq!(lines[6]["id"], J::from(1));
    assert_eq!(lines[7], J::Null);
    assert_eq!(lines[8], serde_json::json!([[1, company["id"]]]));
    assert!(
        lines[9]
            .as_str()
            .unwrap()
            .starts_with("SELECT `posts`.`id`")
    );
    assert_eq!(lines[10][0]["error"], "timeout", "{}", lines[10]);
    assert_eq!(lines[11], J::Bool(true));
    assert_eq!(
        lines[12]["error"]["kind"], "unknown_attribute",
        "{}",
        lines[12]
    );
    assert_eq!(lines[13], company["id"]);
    assert_eq!(lines[14], serde_json::json!([company["id"]]));
    assert_eq!((&lines[15], &lines[16]), (&J::from(41), &J::from(41)));
    let now = parse_time(&lines[17]);
    assert!((Utc::now().naive_utc() - now).num_seconds().abs() < 10);
    assert_eq!(
        lines[18],
        serde_json::json!({"a": 1, "b": [null, true, 1.5, "c"]})
    );
    assert_eq!(lines[19]["error"]["kind"], "incomplete", "{}", lines[19]);
    assert_eq!(lines[20], "Acme");
    assert_eq!(lines[21], J::Bool(false));
    assert_eq!(lines[22], serde_json::json!({}));
    assert_eq!(lines[23], J::from(1));
    assert_eq!(lines[24], J::from(0));
    assert_eq!(lines[25]["error"]["kind"], "unknown_name");
    assert_eq!(lines[26], "Company Name 1");
    assert!(lines[27].as_str().unwrap().contains("companies"));
    assert_eq!(lines[28], serde_json::json!(["companies", "posts"]));
    assert!(
        lines[29]
            .as_array()
            .is_some_and(|t| t.contains(&J::from("posts"))),
        "{}",
        lines[29]
    );
}

#[tokio::test]
async fn strict_stops_at_the_first_error() {
    let (db, _container) = reference_db().await;
    let exprs = ["companies.count", "companies.nope", "companies.count"];
    let out = console(
        &db,
        &with_exprs(vec!["--format", "json", "--strict"], &exprs),
    );
    assert_eq!(out.status, 1, "{}", out.all());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2, "{}", out.all());
    assert_eq!(lines[1]["error"]["kind"], "unknown_method");
    // Without --strict every expression runs.
    let out = console(&db, &with_exprs(vec!["--format", "json"], &exprs));
    assert_eq!(out.status, 0, "{}", out.all());
    assert_eq!(json_lines(&out).len(), 3);
    // In text, the error is one line on stderr.
    let out = console(&db, &with_exprs(vec!["--strict"], &exprs));
    assert_eq!(out.status, 1);
    assert_eq!(out.stdout, "0\n");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("error: undefined method `nope` for relation companies")),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn a_sandbox_leaves_nothing_behind() {
    let (db, container) = reference_db().await;
    let out = console(
        &db,
        &with_exprs(
            vec!["--sandbox", "--format", "json"],
            &[
                ARTICLE[2],
                "factories[:with_post]",
                "companies.count",
                "posts.count",
            ],
        ),
    );
    assert_eq!(out.status, 0, "{}", out.all());
    let lines = json_lines(&out);
    assert_eq!(
        (&lines[2], &lines[3]),
        (&J::from(2), &J::from(1)),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("sandbox"), "{}", out.stderr);
    let companies = container.relation("companies").unwrap();
    let posts = container.relation("posts").unwrap();
    assert_eq!(companies.count().await.unwrap(), 0);
    assert_eq!(posts.count().await.unwrap(), 0);
}

#[tokio::test]
async fn production_refuses_destructive_calls_without_a_terminal() {
    let (db, container) = reference_db().await;
    let factories = post_analytics::factories(&container).unwrap();
    factories.create("company", ()).await.unwrap();
    factories.create("company", ()).await.unwrap();
    let out = console(
        &db,
        &with_exprs(
            vec!["--env", "production", "--format", "json"],
            &[
                "MAIN_CONTAINER.commands[:companies][:delete].call()",
                "companies.by_pk(1).command(:delete).call().size",
                "companies.count",
            ],
        ),
    );
    assert_eq!(out.status, 0, "{}", out.all());
    let lines = json_lines(&out);
    assert_eq!(lines[0]["error"]["kind"], "refused", "{}", out.all());
    assert!(
        lines[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("delete 2 rows of companies (the whole relation)"),
        "{}",
        lines[0]
    );
    // One row by key goes ahead.
    assert_eq!(lines[1], J::from(1));
    assert_eq!(lines[2], J::from(1));
}

#[tokio::test]
async fn pending_migrations_are_warned_about_with_the_command_to_run() {
    let (db, _container) = reference_db().await;
    let dir = TempDir::new("console-migrations");
    for entry in std::fs::read_dir(repo_root().join("migrations")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir.write(
        "U20990101000000__add_notes.sql",
        "ALTER TABLE companies ADD COLUMN notes TEXT;\n",
    );
    let out = run(db
        .ferrom()
        .args([
            "--migrations",
            dir.path().to_str().unwrap(),
            "console",
            "-e",
            "1",
        ])
        .env("FERROM_HISTORY", ""));
    assert_eq!(out.status, 0, "{}", out.all());
    assert!(out.stderr.contains("1 pending migration"), "{}", out.stderr);
    assert!(
        out.stderr.contains("20990101000000_add_notes"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("ferrom --env test db migrate"),
        "{}",
        out.stderr
    );
    // After migrating, reload! re-infers the schema.
    let migrate = run(db.ferrom().args([
        "--migrations",
        dir.path().to_str().unwrap(),
        "db",
        "migrate",
    ]));
    assert_eq!(migrate.status, 0, "{}", migrate.all());
    let out = console(
        &db,
        &["-e", "companies.attributes.size", "--format", "json"],
    );
    assert_eq!(json_lines(&out), vec![J::from(7)], "{}", out.all());
}

// ----- the interactive console, in a pseudo-terminal -----

/// The console in a pseudo-terminal of the test's own (a 120x40 window),
/// on the test's database with its history in `history`.
fn console_in_tmux(db: &TestDb, history: &std::path::Path) -> Tmux {
    let command = format!(
        "cd '{}' && exec '{}' console",
        repo_root().display(),
        env!("CARGO_BIN_EXE_ferrom")
    );
    let env = [
        format!("DATABASE_URL={}", db.url()),
        "FERROM_ENV=test".to_string(),
        format!("FERROM_HISTORY={}", history.display()),
        "TERM=xterm-256color".to_string(),
    ];
    Tmux::start("console", (120, 40), &env, &command)
}

const PROMPT: &str = "post-analytics(test)> ";

#[tokio::test]
async fn the_interactive_console_as_a_person_uses_it() {
    let (db, _container) = reference_db().await;
    let dir = TempDir::new("console-history");
    let history = dir.path().join("history");
    let t = console_in_tmux(&db, &history);
    let screen = t.wait_for(PROMPT);
    assert!(
        screen.contains(&format!("database {}", db.name())),
        "{screen}"
    );

    // The article's session, the relation name completed with Tab.
    t.type_text("MAIN_CONTAINER.relations[:companies].count");
    t.press("Enter");
    t.wait_for("=> 0");
    t.type_text("compan");
    t.press("Tab");
    t.wait_for(&format!("{PROMPT}companies"));
    t.type_text(" = MAIN_CONTAINER.relations[:companies]");
    t.press("Enter");
    t.wait_for("=> #<ferrom::Relation companies>");
    t.type_text("companies.command(:create).call(name: 'My 1st Company',");
    t.press("Enter"); // an open bracket: the input goes on on the next line
    t.type_text("  domain: 'http://example.com')");
    t.press("Enter");
    let screen = t.wait_for(":updated_at=>");
    for part in [
        "=> {:id=>1,",
        ":name=>\"My 1st Company\"",
        ":state=>\"running\"",
        ":created_at=>",
    ] {
        assert!(screen.contains(part), "{part} in:\n{screen}");
    }

    // A relation prints its rows; an error is one line and the state stays.
    t.type_text("companies.wher(id: 1)");
    t.press("Enter");
    t.wait_for("error: undefined method `wher` for relation companies; did you mean `where`?");
    t.type_text("companies.where(id: 1).pluck(:name)");
    t.press("Enter");
    t.wait_for("=> [\"My 1st Company\"]");

    // History: Up recalls the last line.
    t.press("Up");
    t.wait_for_n("companies.where(id: 1).pluck(:name)", 2);
    t.press("Enter");
    t.wait_for_n("=> [\"My 1st Company\"]", 2);

    // Ctrl-C abandons the line; the console keeps running.
    t.type_text("companies.count + oops");
    t.press("C-c");
    t.type_text("companies.count");
    t.press("Enter");
    t.wait_for("=> 1");
    assert!(t.alive());

    // Ctrl-D leaves; the history is kept for the next session.
    t.press("C-d");
    t.wait_exit(Duration::from_secs(5));
    assert!(!t.alive(), "Ctrl-D leaves the console");
    let saved = std::fs::read_to_string(&history).expect("the history file");
    assert!(
        saved.contains("companies.where(id: 1).pluck(:name)"),
        "{saved}"
    );

    let t = console_in_tmux(&db, &history);
    t.wait_for(PROMPT);
    t.press("Up");
    t.wait_for(&format!("{PROMPT}companies.count"));
}

#[tokio::test]
async fn ctrl_c_interrupts_a_running_query() {
    let (db, _container) = reference_db().await;
    let dir = TempDir::new("console-interrupt");
    let t = console_in_tmux(&db, &dir.path().join("history"));
    t.wait_for(PROMPT);
    t.type_text("companies.read('SELECT SLEEP(20)')");
    t.press("Enter");
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    t.press("C-c");
    t.wait_for("interrupted");
    assert!(started.elapsed() < Duration::from_secs(3));
    t.type_text("companies.count");
    t.press("Enter");
    t.wait_for("=> 0");
}

#[tokio::test]
async fn console_commands() {
    let (db, _container) = reference_db().await;
    let exprs = [
        "help",
        "help posts",
        "help where",
        "help methods",
        "relations",
        "commands",
        "schema posts",
        "sql on",
        "companies.count",
        "sql off",
        "reload!",
        "help nosuch",
        "exit",
        "companies.count",
    ];
    let out = console(&db, &with_exprs(vec!["--format", "json"], &exprs));
    assert_eq!(out.status, 0, "{}", out.all());
    let lines = json_lines(&out);
    // `exit` ends the script: nothing after it runs.
    assert_eq!(lines.len(), 12, "{}", out.all());
    let text = |i: usize| lines[i].as_str().unwrap_or_default().to_string();
    assert!(text(0).contains("schema <name>"), "{}", text(0));
    assert!(text(1).contains("views: by_url"), "{}", text(1));
    assert!(text(2).contains("Relation::filter"), "{}", text(2));
    assert!(
        text(3).contains("one!") && text(3).contains("one_strict"),
        "{}",
        text(3)
    );
    assert!(
        text(4).contains("associations: posts (has_many)"),
        "{}",
        text(4)
    );
    assert!(
        text(5).contains("posts: create (create, timestamps)"),
        "{}",
        text(5)
    );
    assert!(
        text(6).contains("scrapped_at") && text(6).contains("foreign keys"),
        "{}",
        text(6)
    );
    assert_eq!(lines[8], J::from(0));
    assert!(
        text(10).starts_with("reloaded: 2 relations"),
        "{}",
        text(10)
    );
    assert_eq!(lines[11]["error"]["kind"], "unknown_topic");
    // `sql on` prints each statement with its duration on stderr.
    assert!(
        out.stderr
            .lines()
            .any(|l| l.contains("companies (") && l.contains("ms)  SELECT COUNT(*)")),
        "{}",
        out.stderr
    );
}
