//! proptest: any string or value round-trips unchanged through the database
//! and never changes the shape of the generated SQL.

use ferrom::{Container, Value, attr};
use proptest::prelude::*;

use crate::support::TestDb;

fn setup(rt: &tokio::runtime::Runtime) -> (TestDb, Container) {
    rt.block_on(async {
        let db = TestDb::create().await;
        let mut conn = db.connect().await;
        sqlx::raw_sql(
            "CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT NOT NULL, label VARCHAR(255), n BIGINT, amount DECIMAL(20,6))",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let mut config = ferrom::Configuration::with_default_gateway(db.settings.clone());
        config.register_relation(ferrom::RelationDefinition::new("notes"));
        let container = config.finalize().await.unwrap();
        (db, container)
    })
}

fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z' \"\\\\%_;`-]{0,40}",
        Just("'; DROP TABLE notes; --".to_string()),
        Just("\0nul\0".to_string()),
        Just("🦀 crab 𝄞 4-byte".to_string()),
        Just("\\' OR 1=1 -- ".to_string()),
        Just("SELECT * FROM notes WHERE 1".to_string()),
    ]
}

#[test]
fn strings_round_trip_and_sql_shape_is_fixed() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_db, container) = setup(&rt);
    let notes = container.relation("notes").unwrap();
    let shape = notes
        .filter(("body", "x"))
        .filter(attr("label").like("y"))
        .to_sql()
        .unwrap();
    let config = ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    };
    proptest!(config, |(body in tricky_string(), label in tricky_string(), n in any::<i64>(), cents in -1_000_000_000i64..1_000_000_000)| {
        let relation = notes.filter(("body", body.as_str())).filter(attr("label").like(label.as_str()));
        prop_assert_eq!(relation.to_sql().unwrap(), shape.clone());
        let amount = format!("{}.{:06}", cents / 1_000_000, (cents % 1_000_000).abs());
        let amount = if cents < 0 && cents / 1_000_000 == 0 { format!("-{amount}") } else { amount };
        let read = rt.block_on(async {
            notes.read(
                "INSERT INTO notes (body, label, n, amount) VALUES (?, ?, ?, ?)",
                &[body.clone().into(), label.clone().into(), n.into(), Value::Decimal(amount.clone())],
            ).await.unwrap();
            let id = notes.read("SELECT LAST_INSERT_ID() AS id", &[]).await;
            let _ = id;
            notes.filter(("body", body.as_str())).filter(("label", label.as_str())).order([attr("id").desc()]).first().await.unwrap()
        });
        let row = read.expect("the row just written is found by its own values");
        prop_assert_eq!(row.get("body").unwrap(), &Value::String(body.clone()));
        prop_assert_eq!(row.get("label").unwrap(), &Value::String(label.clone()));
        prop_assert_eq!(row.get("n").unwrap(), &Value::Int(n));
        prop_assert_eq!(row.get("amount").unwrap(), &Value::Decimal(amount.clone()));
    });
    rt.block_on(async {
        // Nothing was dropped or changed along the way.
        assert!(notes.count().await.unwrap() >= 96);
    });
}
