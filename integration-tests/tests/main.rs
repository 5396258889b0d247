//! Black-box tests: the real server over real HTTP, on SQLite always and on PostgreSQL when
//! `TOLLBOOTH_TEST_DATABASE_URL` is set. One test binary, so linking happens once.

mod support;

mod api_errors;
mod client_credentials;
mod clients_api;
mod config;
mod signing_keys;
