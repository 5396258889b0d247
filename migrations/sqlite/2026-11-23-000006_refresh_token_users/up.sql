-- Nothing to do on SQLite: PostgreSQL dropped the foreign key of refresh_tokens to users
-- because checking it costs every refresh (see the postgres migration); SQLite keeps it.
-- Numbered like the postgres one to keep the two in step.
SELECT 1;
