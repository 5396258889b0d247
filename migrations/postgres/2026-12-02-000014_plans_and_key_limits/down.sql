ALTER TABLE api_keys DROP COLUMN rate_limit_limit;
ALTER TABLE api_keys DROP COLUMN rate_limit_window_seconds;
ALTER TABLE organizations DROP COLUMN plan;
