-- docs/protect-your-api.md: an organization may have a plan of its own (NULL: its tenant's),
-- and an API key a limit of its own (both NULL: none), counted when /verify checks the key.
ALTER TABLE organizations ADD COLUMN plan TEXT;
ALTER TABLE api_keys ADD COLUMN rate_limit_window_seconds BIGINT;
ALTER TABLE api_keys ADD COLUMN rate_limit_limit BIGINT;
