//! Cursor pagination (docs/api.md) by keyset on the ULID primary key: no OFFSET, so a page
//! deep in a list costs what the first page costs, and objects created during a walk never
//! make one repeat or skip.

use diesel::QueryResult;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sqlite::Sqlite;

/// Sort order by creation (which is id order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    Asc,
    #[default]
    Desc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// Objects that come after this id in the list's order.
    After(String),
    /// Objects that come before this id in the list's order.
    Before(String),
}

/// A validated page request: `limit` is 1–100.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub order: Order,
    pub cursor: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: 10, order: Order::Desc, cursor: None }
    }
}

/// One page and the cursors to its neighbours (`None` when there is none).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { data: self.data.into_iter().map(f).collect(), before: self.before, after: self.after }
    }
}

impl PageRequest {
    /// Whether the database should scan ids in descending order: the list's order, reversed
    /// when walking backwards from a `before` cursor.
    pub fn scan_descending(&self) -> bool {
        let backwards = matches!(self.cursor, Some(Cursor::Before(_)));
        (self.order == Order::Desc) != backwards
    }

    /// Turns the `limit + 1` rows the scan loaded into a page in the list's order.
    pub fn finish<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> &str) -> Page<T> {
        let more_beyond = rows.len() > self.limit as usize;
        rows.truncate(self.limit as usize);
        let backwards = matches!(self.cursor, Some(Cursor::Before(_)));
        if backwards {
            rows.reverse();
        }
        let first = rows.first().map(|r| id_of(r).to_owned());
        let last = rows.last().map(|r| id_of(r).to_owned());
        let (before, after) = match (&self.cursor, backwards) {
            (None, _) => (None, if more_beyond { last } else { None }),
            (Some(_), false) => (first, if more_beyond { last } else { None }),
            (Some(_), true) => (if more_beyond { first } else { None }, last),
        };
        Page { data: rows, before, after }
    }
}

/// A text column compared and sorted in byte order: `column COLLATE "C"` on PostgreSQL, the
/// column itself on SQLite, whose default collation is byte order. Ids sort alike on both
/// databases whatever PostgreSQL's locale, and a list can only be served in this order by
/// the `*_by_tenant` indexes (migration 000008), never by the primary key's.
#[derive(Debug, Clone, Copy, QueryId, ValidGrouping)]
pub struct ByteOrder<C>(pub C);

impl<C: Expression> Expression for ByteOrder<C> {
    type SqlType = C::SqlType;
}

impl<C: AppearsOnTable<QS>, QS> AppearsOnTable<QS> for ByteOrder<C> {}

impl<C: SelectableExpression<QS>, QS> SelectableExpression<QS> for ByteOrder<C> {}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for ByteOrder<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(" COLLATE \"C\"");
        Ok(())
    }
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for ByteOrder<C> {
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.0.walk_ast(out)
    }
}

/// Loads one page of `$query` (an expression building a boxed diesel query, already filtered
/// to the caller's reach) keyed on the text id column `$id`, into rows of type `$row`.
///
/// The query is built and loaded on the backend's own connection: the macro expands the
/// expression once per backend, so it must be written inline, not passed as a variable.
/// Through the multi-backend connection every field of every row takes a detour, which cost
/// a 100-row page about 7% more server CPU.
#[macro_export]
macro_rules! keyset_page {
    ($conn:expr, $query:expr, $id:expr, $page:expr, $row:ty) => {{
        match $conn {
            $crate::DbConnection::Postgresql(conn) => $crate::keyset_page_on!(conn, $query, $id, $page, $row),
            $crate::DbConnection::Sqlite(conn) => $crate::keyset_page_on!(conn, $query, $id, $page, $row),
        }
    }};
}

/// [`keyset_page!`] on one backend's connection.
#[macro_export]
macro_rules! keyset_page_on {
    ($conn:expr, $query:expr, $id:expr, $page:expr, $row:ty) => {{
        use diesel::prelude::*;
        let page: &$crate::pagination::PageRequest = $page;
        let descending = page.scan_descending();
        let key = $crate::pagination::ByteOrder($id);
        let mut query = $query;
        if let Some(cursor) = &page.cursor {
            let id = match cursor {
                $crate::pagination::Cursor::After(id) | $crate::pagination::Cursor::Before(id) => id.clone(),
            };
            query = if descending { query.filter(key.lt(id)) } else { query.filter(key.gt(id)) };
        }
        query = if descending { query.order(key.desc()) } else { query.order(key.asc()) };
        // Sized up front: `load` would grow the vector from 4 rows a handful of times.
        let mut rows: Vec<$row> = Vec::with_capacity(page.limit as usize + 1);
        for row in
            query.limit(i64::from(page.limit) + 1).load_iter::<$row, diesel::connection::DefaultLoadingMode>($conn)?
        {
            rows.push(row?);
        }
        Ok::<_, $crate::StorageError>(page.finish(rows, |row| row.id.as_str()))
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{i:03}")).collect()
    }

    #[test]
    fn first_page_has_only_after() {
        let page = PageRequest { limit: 2, ..Default::default() }.finish(ids(3), |s| s);
        assert_eq!(page.data, vec!["000", "001"]);
        assert_eq!((page.before, page.after), (None, Some("001".into())));
    }

    #[test]
    fn last_page_has_no_after() {
        let request = PageRequest { limit: 2, cursor: Some(Cursor::After("x".into())), ..Default::default() };
        let page = request.finish(ids(2), |s| s);
        assert_eq!((page.before, page.after), (Some("000".into()), None));
    }

    #[test]
    fn backwards_pages_come_back_in_list_order() {
        let request = PageRequest { limit: 2, cursor: Some(Cursor::Before("x".into())), ..Default::default() };
        let page = request.finish(vec!["c".to_string(), "b".into(), "a".into()], |s| s);
        assert_eq!(page.data, vec!["b", "c"]);
        assert_eq!((page.before, page.after), (Some("b".into()), Some("c".into())));
    }
}
