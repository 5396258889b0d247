//! The diesel schema (`crates/storage/src/schema.rs`, written by hand) says exactly what the
//! migrations make, on both databases: every table, every column, and whether it may be NULL.
//! A migration that adds a column the schema lacks (or the reverse) fails here, not in production.

use std::collections::BTreeMap;

use diesel::RunQueryDsl;
use diesel::sql_types::{Integer, Text};
use tollbooth_storage::DbConnection;

use crate::on_both_databases;
use crate::support::TestApp;

on_both_databases!(the_diesel_schema_matches_the_migrations);

/// table → column → nullable, as `schema.rs` declares them.
fn declared() -> BTreeMap<String, BTreeMap<String, bool>> {
    let text = include_str!("../../crates/storage/src/schema.rs");
    let mut tables = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some((name, _)) = line.split_once(" (").filter(|_| line.ends_with(") {")) {
            current = Some(name.to_owned());
            tables.insert(name.to_owned(), BTreeMap::new());
        } else if let (Some(table), Some((column, kind))) = (&current, line.split_once(" -> ")) {
            tables.get_mut(table).unwrap().insert(column.to_owned(), kind.starts_with("Nullable<"));
        } else if line == "}" {
            current = None;
        }
    }
    tables
}

#[derive(diesel::QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    required: i32,
}

/// column → nullable, as the migrated database has them.
fn migrated(conn: &mut DbConnection, table: &str) -> BTreeMap<String, bool> {
    let columns: Vec<Column> = match conn {
        DbConnection::Sqlite(sqlite) => {
            diesel::sql_query(format!("SELECT name, \"notnull\" AS required FROM pragma_table_info('{table}')"))
                .load(sqlite)
                .unwrap()
        }
        DbConnection::Postgresql(pg) => diesel::sql_query(
            "SELECT column_name::text AS name, CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS required \
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind::<Text, _>(table)
        .load(pg)
        .unwrap(),
    };
    columns.into_iter().map(|c| (c.name, c.required == 0)).collect()
}

async fn the_diesel_schema_matches_the_migrations(app: TestApp) {
    let declared = declared();
    assert!(declared.len() >= 10 && declared.contains_key("users"), "schema.rs was read: {:?}", declared.keys());
    for (table, columns) in declared {
        let name = table.clone();
        let found = app.db.run_blocking(move |conn| Ok(migrated(conn, &name))).unwrap();
        // SQLite reports a primary-key TEXT column as nullable unless it says NOT NULL; ours all do.
        assert_eq!(found, columns, "{table}: the database (left) and schema.rs (right) differ");
    }
}
