//! On PostgreSQL every list runs on one cached generic plan (the pool asks for them): it must
//! read only the caller's own rows, also for a small tenant sharing the table with a large one.

use diesel::{PgConnection, QueryableByName, RunQueryDsl, sql_query};
use tollbooth_storage::pagination::{Cursor, PageRequest};
use tollbooth_storage::{DbConnection, Reach, StorageError, in_transaction, organizations};

use crate::support::{Backend, TestApp};

const LARGE_TENANT_ROWS: usize = 20_000;

#[derive(QueryableByName)]
struct RowsRead {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    rows: i64,
}

/// One organization of `tenant` per id that `ids` (a query of one text column) yields.
fn insert_organizations(pg: &mut PgConnection, tenant: &str, ids: &str) -> diesel::QueryResult<usize> {
    sql_query(format!(
        "INSERT INTO organizations SELECT id, '{tenant}', 'Organization', '[]', '{{}}', now(), now() FROM ({ids}) AS ids(id)"
    ))
    .execute(pg)
}

/// The page and how many organization rows PostgreSQL read for it.
fn list_counting_rows(conn: &mut DbConnection, reach: &Reach, page: &PageRequest) -> (Vec<String>, i64) {
    in_transaction(conn, |conn| {
        let listed = organizations::list(conn, reach, page)?;
        let DbConnection::Postgresql(pg) = conn else { unreachable!("a PostgreSQL test") };
        // This transaction's own counts so far: rows fetched through an index or a scan.
        let read: RowsRead = sql_query(
            "SELECT (coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0))::bigint AS rows \
             FROM pg_stat_xact_user_tables WHERE relid = 'organizations'::regclass",
        )
        .get_result(pg)?;
        Ok::<_, StorageError>((listed.data.into_iter().map(|org| org.id).collect(), read.rows))
    })
    .expect("list")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_tenants_pages_read_only_its_own_rows() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else { return };
    let (small_tenant, _) = app.create_tenant("Small").await;
    let large_tenant = app.tenant_id.clone();
    let (first, after_cursor) = app
        .db
        .run(move |conn| {
            let DbConnection::Postgresql(pg) = conn else { unreachable!("a PostgreSQL test") };
            // The small tenant's ids are the oldest two and the newest two: the primary key walked
            // from either end, filtering by tenant, passes every row of the large tenant.
            let large =
                format!("SELECT 'org_5' || lpad(g::text, 25, '0') FROM generate_series(1, {LARGE_TENANT_ROWS}) g");
            insert_organizations(pg, &large_tenant, &large)?;
            let small = "SELECT end_ || lpad(g::text, 25, '0') \
                         FROM generate_series(1, 2) g, (VALUES ('org_0'), ('org_Z')) e(end_)";
            insert_organizations(pg, &small_tenant, small)?;
            sql_query("ANALYZE organizations").execute(pg)?;

            let reach = Reach { tenant_id: small_tenant, organization_id: None };
            let first = list_counting_rows(conn, &reach, &PageRequest { limit: 100, ..Default::default() });
            let cursor =
                PageRequest { limit: 100, cursor: Some(Cursor::After(first.0[1].clone())), ..Default::default() };
            let after_cursor = list_counting_rows(conn, &reach, &cursor);
            Ok::<_, StorageError>((first, after_cursor))
        })
        .await
        .expect("database");

    assert_eq!(first.0.len(), 4, "the small tenant's organizations: {:?}", first.0);
    assert_eq!(after_cursor.0, first.0[2..], "the page after the second one");
    for (page, (_, rows_read)) in [("first page", &first), ("page after a cursor", &after_cursor)] {
        assert!(
            *rows_read <= 10,
            "the {page} read {rows_read} rows: the plan walked past the large tenant's {LARGE_TENANT_ROWS}"
        );
    }
}
