-- Nothing to do on SQLite, which keeps the foreign keys of refresh_tokens (see 000005).
-- Numbered like the postgres one to keep the two in step.
SELECT 1;
