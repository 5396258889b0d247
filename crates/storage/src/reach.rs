//! Queries confined to a caller's [`Reach`](crate::Reach).

/// A boxed query on `$table` limited to the reach's tenant and, for an organization-confined
/// caller, to rows whose `$org_column` is that organization.
#[macro_export]
macro_rules! within_reach {
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
