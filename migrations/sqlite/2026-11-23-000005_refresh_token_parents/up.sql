-- Nothing to do on SQLite: PostgreSQL dropped two foreign keys of refresh_tokens because its
-- checks lock the parent rows (see the postgres migration); SQLite has one writer at a time
-- and no such cost, so it keeps them. Numbered like the postgres one to keep the two in step.
SELECT 1;
