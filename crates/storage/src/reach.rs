//! Queries confined to a caller's [`Reach`](crate::Reach), and the repository functions every
//! tenant-owned table shares.

/// A boxed query on `$table` limited to the reach's tenant and, for an organization-confined
/// caller, to rows whose `$org_column` is that organization.
#[macro_export]
macro_rules! within_reach {
    // A table of tenant-level objects: an organization-confined caller reaches none of them.
    ($table:ident, tenant_level, $reach:expr) => {{
        use diesel::prelude::*;
        let reach: &$crate::Reach = $reach;
        let mut query = $crate::schema::$table::table
            .filter($crate::schema::$table::tenant_id.eq(reach.tenant_id.clone()))
            .into_boxed();
        if reach.organization_id.is_some() {
            query = query.filter($crate::schema::$table::id.is_null());
        }
        query
    }};
    ($table:ident, $org_column:expr, $reach:expr) => {{
        use diesel::prelude::*;
        let reach: &$crate::Reach = $reach;
        let mut query = $crate::schema::$table::table
            .filter($crate::schema::$table::tenant_id.eq(reach.tenant_id.clone()))
            .into_boxed();
        if let Some(org) = &reach.organization_id {
            query = query.filter($org_column.eq(org.clone()));
        }
        query
    }};
}

/// `insert`, `update` (compare-and-set on `updated_at`), `delete`, `get` and `list` for a
/// tenant-owned table whose rows are `$type` and whose organization column is `$org_column`
/// (or `tenant_level` for objects that belong to no organization).
macro_rules! reach_repository {
    ($table:ident, $type:ty, tenant_level) => {
        $crate::reach::reach_repository!(@impl $table, $type, tenant_level);
    };
    ($table:ident, $type:ty, $org_column:expr) => {
        $crate::reach::reach_repository!(@impl $table, $type, $org_column);
    };
    (@impl $table:ident, $type:ty, $($org_column:tt)+) => {
        /// Fails with `Conflict` when a unique value is taken.
        pub fn insert(conn: &mut $crate::DbConnection, object: &$type) -> Result<(), $crate::StorageError> {
            diesel::insert_into($crate::schema::$table::table)
                .values(object.clone())
                .execute(conn)
                .map_err($crate::StorageError::from_insert)?;
            Ok(())
        }

        /// Stores every field if the row is still as it was read (its `updated_at` is
        /// `read_at`); `false` means another writer came first and the caller should re-read.
        pub fn update(
            conn: &mut $crate::DbConnection,
            object: &$type,
            read_at: chrono::NaiveDateTime,
        ) -> Result<bool, $crate::StorageError> {
            use $crate::schema::$table::dsl;
            let changed = diesel::update(dsl::$table.find(&object.id).filter(dsl::updated_at.eq(read_at)))
                .set(object.clone())
                .execute(conn)
                .map_err($crate::StorageError::from_insert)?;
            Ok(changed == 1)
        }

        /// Deletes the row; foreign keys cascade to what belongs to it.
        pub fn delete(conn: &mut $crate::DbConnection, id: &str) -> Result<(), $crate::StorageError> {
            diesel::delete($crate::schema::$table::table.find(id)).execute(conn)?;
            Ok(())
        }

        /// The object `id` if the caller can reach it.
        pub fn get(
            conn: &mut $crate::DbConnection,
            reach: &$crate::Reach,
            id: &str,
        ) -> Result<$type, $crate::StorageError> {
            $crate::within_reach!($table, $($org_column)+, reach)
                .filter($crate::schema::$table::id.eq(id.to_owned()))
                .select(<$type>::as_select())
                .first(conn)
                .optional()?
                .ok_or($crate::StorageError::NotFound)
        }

        /// One page of the objects the caller can reach.
        pub fn list(
            conn: &mut $crate::DbConnection,
            reach: &$crate::Reach,
            page: &$crate::pagination::PageRequest,
        ) -> Result<$crate::pagination::Page<$type>, $crate::StorageError> {
            $crate::keyset_page!(
                conn,
                $crate::within_reach!($table, $($org_column)+, reach).select(<$type>::as_select()),
                $crate::schema::$table::id,
                page,
                $type
            )
        }
    };
}
pub(crate) use reach_repository;
