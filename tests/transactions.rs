//! Transactions, savepoints, isolation, sessions, the retry helper and
//! statement tracing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use ferrom::{Error, Isolation, Value, retry};

use crate::support::reference_db;

const INSERT: &str = "INSERT INTO companies (name, domain) VALUES (?, 'https://t.test')";

#[tokio::test]
async fn commit_and_rollback_on_error() {
    let (_db, container) = reference_db().await;
    let companies = container.relation("companies").unwrap();
    let n = container
        .transaction(|tx| async move {
            let c = tx.relation("companies")?;
            c.read(INSERT, &["kept".into()]).await?;
            c.count().await
        })
        .await
        .unwrap();
    assert_eq!(n, 1, "the transaction sees its own write");
    assert_eq!(companies.count().await.unwrap(), 1, "committed");

    let err = container
        .transaction(|tx| async move {
            let c = tx.relation("companies")?;
            c.read(INSERT, &["lost".into()]).await?;
            // A failing statement: the whole scope rolls back.
            c.read("INSERT INTO companies (name) VALUES ('no domain')", &[])
                .await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotNull { .. } | Error::Database { .. }),
        "{err}"
    );
    assert_eq!(
        companies.pluck("name").await.unwrap(),
        [Value::from("kept")]
    );
}

#[tokio::test]
async fn explicit_rollback_and_dropped_transactions() {
    let (_db, container) = reference_db().await;
    let companies = container.relation("companies").unwrap();
    let seen = container
        .transaction(|tx| async move {
            let c = tx.relation("companies")?;
            c.read(INSERT, &["rolled back".into()]).await?;
            tx.rollback_on_exit();
            c.count().await
        })
        .await
        .unwrap();
    assert_eq!(seen, 1);
    assert_eq!(companies.count().await.unwrap(), 0, "explicit rollback");

    let tx = container.begin().await.unwrap();
    tx.relation("companies")
        .unwrap()
        .read(INSERT, &["manual".into()])
        .await
        .unwrap();
    assert_eq!(
        companies.count().await.unwrap(),
        0,
        "not visible outside before commit"
    );
    tx.rollback().await.unwrap();
    assert_eq!(companies.count().await.unwrap(), 0);

    {
        let tx = container.begin().await.unwrap();
        tx.bind(&companies)
            .unwrap()
            .read(INSERT, &["dropped".into()])
            .await
            .unwrap();
        // dropped without commit
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        companies.count().await.unwrap(),
        0,
        "a dropped transaction rolls back"
    );
    // The pool still works (the connection was cleaned up, not leaked mid-transaction).
    for _ in 0..10 {
        assert_eq!(companies.count().await.unwrap(), 0);
    }

    let tx = container.begin().await.unwrap();
    let bound = tx.relation("companies").unwrap();
    tx.clone().commit().await.unwrap();
    let after = bound.count().await.unwrap_err();
    assert!(matches!(after, Error::ConnectionLost { .. }), "{after}");
}

#[tokio::test]
async fn savepoints_nest() {
    let (_db, container) = reference_db().await;
    let companies = container.relation("companies").unwrap();
    container
        .transaction(|tx| async move {
            let c = tx.relation("companies")?;
            c.read(INSERT, &["outer".into()]).await?;
            let inner = tx
                .savepoint(|tx| async move {
                    tx.relation("companies")?
                        .read(INSERT, &["inner failed".into()])
                        .await?;
                    Err::<(), _>(Error::Refused("inner scope gives up".into()))
                })
                .await;
            assert!(inner.is_err());
            tx.transaction(|tx| async move {
                tx.relation("companies")?
                    .read(INSERT, &["inner kept".into()])
                    .await?;
                tx.savepoint(|tx| async move {
                    tx.relation("companies")?
                        .read(INSERT, &["deepest".into()])
                        .await
                        .map(drop)
                })
                .await
            })
            .await?;
            Ok(())
        })
        .await
        .unwrap();
    let mut names: Vec<String> = companies
        .pluck("name")
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["deepest", "inner kept", "outer"]);
}

#[tokio::test]
async fn isolation_level_is_selectable() {
    let (_db, container) = reference_db().await;
    let writer = container.begin().await.unwrap();
    writer
        .relation("companies")
        .unwrap()
        .read(INSERT, &["uncommitted".into()])
        .await
        .unwrap();
    let dirty = container
        .transaction_with(
            "default",
            Some(Isolation::ReadUncommitted),
            |tx| async move { tx.relation("companies")?.count().await },
        )
        .await
        .unwrap();
    assert_eq!(
        dirty, 1,
        "READ UNCOMMITTED sees the other transaction's row"
    );
    let clean = container
        .transaction_with("default", Some(Isolation::ReadCommitted), |tx| async move {
            tx.relation("companies")?.count().await
        })
        .await
        .unwrap();
    assert_eq!(clean, 0, "READ COMMITTED does not");
    writer.rollback().await.unwrap();
}

#[tokio::test]
async fn deadlocks_are_their_variant_and_retry_recovers() {
    let (_db, container) = reference_db().await;
    let companies = container.relation("companies").unwrap();
    companies.read(INSERT, &["a".into()]).await.unwrap();
    companies.read(INSERT, &["b".into()]).await.unwrap();
    let ids: Vec<i64> = companies
        .pluck("id")
        .await
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let (a, b) = (ids[0], ids[1]);
    let attempts = Arc::new(AtomicU32::new(0));
    let barrier = Arc::new(tokio::sync::Barrier::new(2));

    // Two transactions lock a and b in opposite orders: one of them is
    // chosen as the deadlock victim. Each side retries.
    let side = |first: i64, second: i64| {
        let container = container.clone();
        let attempts = attempts.clone();
        let barrier = barrier.clone();
        async move {
            retry(5, || {
                let container = container.clone();
                let attempts = attempts.clone();
                let barrier = barrier.clone();
                async move {
                    let n = attempts.fetch_add(1, Ordering::SeqCst);
                    container
                        .transaction(|tx| async move {
                            let c = tx.relation("companies")?;
                            c.read(
                                "UPDATE companies SET state = 'x' WHERE id = ?",
                                &[first.into()],
                            )
                            .await?;
                            if n < 2 {
                                barrier.wait().await;
                            }
                            c.read(
                                "UPDATE companies SET state = 'y' WHERE id = ?",
                                &[second.into()],
                            )
                            .await?;
                            Ok(())
                        })
                        .await
                }
            })
            .await
        }
    };
    let (left, right) = tokio::join!(side(a, b), side(b, a));
    left.unwrap();
    right.unwrap();
    assert!(attempts.load(Ordering::SeqCst) >= 3, "one side was retried");

    // Without retry the victim sees the Deadlock variant.
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let once = |first: i64, second: i64| {
        let container = container.clone();
        let barrier = barrier.clone();
        async move {
            container
                .transaction(|tx| async move {
                    let c = tx.relation("companies")?;
                    c.read(
                        "UPDATE companies SET state = 'x' WHERE id = ?",
                        &[first.into()],
                    )
                    .await?;
                    barrier.wait().await;
                    c.read(
                        "UPDATE companies SET state = 'y' WHERE id = ?",
                        &[second.into()],
                    )
                    .await?;
                    Ok(())
                })
                .await
        }
    };
    let (l, r) = tokio::join!(once(a, b), once(b, a));
    let errors: Vec<Error> = [l, r].into_iter().filter_map(Result::err).collect();
    assert_eq!(errors.len(), 1, "exactly one victim");
    assert!(matches!(errors[0], Error::Deadlock { .. }), "{}", errors[0]);
}

/// A company, and a transaction holding its row locked (`FOR UPDATE`).
async fn hold_a_locked_company(container: &ferrom::Container) -> ferrom::Transaction {
    let companies = container.relation("companies").unwrap();
    companies.read(INSERT, &["locked".into()]).await.unwrap();
    let holder = container.begin().await.unwrap();
    holder
        .relation("companies")
        .unwrap()
        .read("SELECT * FROM companies FOR UPDATE", &[])
        .await
        .unwrap();
    holder
}

#[tokio::test]
async fn lock_wait_timeout_is_its_variant() {
    let (_db, container) = reference_db().await;
    let holder = hold_a_locked_company(&container).await;
    let waiter = container.begin().await.unwrap();
    let w = waiter.relation("companies").unwrap();
    w.read("SET SESSION innodb_lock_wait_timeout = 1", &[])
        .await
        .unwrap();
    let err = w
        .read("UPDATE companies SET state = 'z'", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::LockWaitTimeout { .. }), "{err}");
    w.read("SET SESSION innodb_lock_wait_timeout = DEFAULT", &[])
        .await
        .unwrap();
    waiter.rollback().await.unwrap();
    holder.rollback().await.unwrap();
}

/// `retry` recovers from a lock wait timeout: the first attempt times out
/// behind a transaction holding the row, which then ends; the second
/// attempt writes, once.
#[tokio::test]
async fn retry_recovers_from_a_lock_wait_timeout() {
    let (_db, container) = reference_db().await;
    let companies = container.relation("companies").unwrap();
    let holder = hold_a_locked_company(&container).await;
    let first_failed = Arc::new(tokio::sync::Notify::new());
    let release = {
        let first_failed = first_failed.clone();
        tokio::spawn(async move {
            first_failed.notified().await;
            holder.rollback().await.unwrap();
        })
    };
    let attempts = Arc::new(AtomicU32::new(0));
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let updated = retry(3, || {
        let container = container.clone();
        let attempts = attempts.clone();
        let errors = errors.clone();
        let first_failed = first_failed.clone();
        async move {
            attempts.fetch_add(1, Ordering::SeqCst);
            let result = container
                .transaction(|tx| async move {
                    let c = tx.relation("companies")?;
                    c.read("SET SESSION innodb_lock_wait_timeout = 1", &[])
                        .await?;
                    c.read("UPDATE companies SET state = 'retried'", &[])
                        .await?;
                    c.read("SET SESSION innodb_lock_wait_timeout = DEFAULT", &[])
                        .await?;
                    c.pluck("state").await
                })
                .await;
            if let Err(e) = &result {
                errors.lock().unwrap().push(e.to_string());
                first_failed.notify_one();
            }
            result
        }
    })
    .await
    .unwrap();
    release.await.unwrap();
    assert_eq!(updated, [Value::from("retried")]);
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    let errors = errors.lock().unwrap().clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("lock wait timeout"), "{errors:?}");
    assert_eq!(
        companies.pluck("state").await.unwrap(),
        [Value::from("retried")]
    );
}

#[tokio::test]
async fn sessions_reuse_one_connection() {
    let (_db, container) = reference_db().await;
    let session = container.session().await.unwrap();
    let c = session.relation("companies").unwrap();
    let first: Vec<ferrom::Row> = c.read("SELECT CONNECTION_ID() AS id", &[]).await.unwrap();
    for _ in 0..5 {
        let again = c.read("SELECT CONNECTION_ID() AS id", &[]).await.unwrap();
        assert_eq!(again[0].get("id").unwrap(), first[0].get("id").unwrap());
    }
    assert_eq!(c.count().await.unwrap(), 0);
}

#[test]
fn every_statement_is_traced_without_values_at_info() {
    let log = traced(tracing::Level::DEBUG, async |container| {
        let companies = container.relation("companies").unwrap();
        companies
            .filter(("name", "Top Secret Name"))
            .count()
            .await
            .unwrap();
    });
    assert!(log.contains("ferrom.sql"), "{log}");
    assert!(log.contains("SELECT COUNT(*)"), "{log}");
    assert!(log.contains("elapsed_us"), "{log}");
    assert!(
        !log.contains("Top Secret Name"),
        "bound values are not logged below trace: {log}"
    );
}

/// An insert's values, encoded straight from its tuples, still show at
/// trace level, streamed tuples included (kept for the trace only when it
/// shows them); below it, an insert's trace says how many rows it had.
#[test]
fn an_inserts_values_are_traced_at_trace() {
    let create = async |container: &ferrom::Container| {
        let create = container.command("companies", "create").unwrap();
        create
            .call([("name", "Traced Name"), ("domain", "https://traced.test")])
            .await
            .unwrap();
        create
            .call_many([
                [("name", "Streamed One"), ("domain", "https://one.test")],
                [("name", "Streamed Two"), ("domain", "https://two.test")],
            ])
            .await
            .unwrap();
        let companies = container.relation("companies").unwrap();
        assert_eq!(companies.count().await.unwrap(), 3);
    };
    let log = traced(tracing::Level::TRACE, create);
    assert!(log.contains("INSERT INTO `companies`"), "{log}");
    assert!(log.contains("Traced Name"), "{log}");
    assert!(log.contains("https://traced.test"), "{log}");
    assert!(log.contains("Streamed One"), "{log}");
    assert!(log.contains("https://two.test"), "{log}");
    let log = traced(tracing::Level::DEBUG, create);
    assert!(log.contains("INSERT INTO `companies`"), "{log}");
    assert!(
        !log.contains("Streamed One") && !log.contains("Traced Name"),
        "bound values are not logged below trace: {log}"
    );
}

/// What `work` logs on a fresh reference database, at `level`.
fn traced(level: tracing::Level, work: impl AsyncFnOnce(&ferrom::Container)) -> String {
    use std::io::Write;
    #[derive(Clone, Default)]
    struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_db, container) = rt.block_on(reference_db());
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        // Other tests' subscribers may have cached callsite interest: ask
        // again now that this one is in place.
        tracing::callsite::rebuild_interest_cache();
        rt.block_on(work(&container));
    });
    String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
}
