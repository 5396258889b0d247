//! docs/api.md pagination, as a property: for lists of random size walked with random limits in
//! both orders while other objects are created concurrently, every object that existed before
//! the walk is seen exactly once.

use std::collections::HashSet;

use futures_util::future::join;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::on_both_databases;
use crate::support::TestApp;

on_both_databases!(walks_see_every_existing_object_once_during_concurrent_inserts);

/// The ids beyond either end of any list: walking backwards starts `before` one of them.
const SMALLEST_ID: &str = "org_00000000000000000000000000";
const LARGEST_ID: &str = "org_7ZZZZZZZZZZZZZZZZZZZZZZZZZ";

/// Walks the whole list: forwards following `after` from the start, or backwards following
/// `before` from beyond the end.
async fn walk(app: &TestApp, key: &str, order: &str, limit: u32, backwards: bool) -> Vec<String> {
    let (direction, mut cursor) = match (backwards, order) {
        (false, _) => ("after", None),
        (true, "asc") => ("before", Some(LARGEST_ID.to_owned())),
        (true, _) => ("before", Some(SMALLEST_ID.to_owned())),
    };
    let mut seen = Vec::new();
    loop {
        let mut path = format!("/api/v1/organizations?limit={limit}&order={order}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&{direction}={cursor}"));
        }
        let page = app.call("GET", &path, key, Value::Null).await.expect(200);
        let ids = page.body["data"].as_array().unwrap();
        assert!(ids.len() <= limit as usize);
        seen.extend(ids.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
        match page.body["list_metadata"][direction].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
}

async fn walks_see_every_existing_object_once_during_concurrent_inserts(app: TestApp) {
    let runtime = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config { cases: 6, failure_persistence: None, ..Config::default() });
    let strategy = (0usize..30, 1u32..8, prop::bool::ANY, prop::bool::ANY);
    let app = &app;
    runner
        .run(&strategy, |(size, limit, ascending, backwards)| {
            let order = if ascending { "asc" } else { "desc" };
            tokio::task::block_in_place(|| {
                runtime.block_on(async {
                    let (_, key) = app.create_tenant("Paged").await;
                    let mut existing = Vec::new();
                    for i in 0..size {
                        existing.push(
                            app.call("POST", "/api/v1/organizations", &key, json!({"name": format!("org {i}")}))
                                .await
                                .expect(201)
                                .id(),
                        );
                    }
                    let inserts = async {
                        for i in 0..10 {
                            app.call("POST", "/api/v1/organizations", &key, json!({"name": format!("late {i}")}))
                                .await
                                .expect(201);
                        }
                    };
                    let (seen, ()) = join(walk(app, &key, order, limit, backwards), inserts).await;
                    let unique: HashSet<&String> = seen.iter().collect();
                    prop_assert_eq!(unique.len(), seen.len(), "an object was repeated: {:?}", seen);
                    for id in &existing {
                        prop_assert!(
                            unique.contains(id),
                            "{} was skipped (size {}, limit {}, {}, backwards {})",
                            id,
                            size,
                            limit,
                            order,
                            backwards
                        );
                    }
                    Ok(())
                })
            })
        })
        .unwrap();
}
