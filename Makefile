# The commands the README gives. `make run` serves on 127.0.0.1:8080 with SQLite in data/.
CARGO ?= cargo

.PHONY: run test bench lint fmt

## Build in release mode; on an empty database print the first keys once, then serve.
run:
	$(CARGO) build --release -p tollbooth
	./target/release/tollbooth serve --bootstrap

## Every test. PostgreSQL and Redis tests run when TOLLBOOTH_TEST_DATABASE_URL and
## TOLLBOOTH_TEST_REDIS_URL are set (CI sets them). The binary is built first: the shutdown
## test runs the real thing.
test:
	$(CARGO) build -p tollbooth
	$(CARGO) test --workspace

## Load figures (wrk against the release server): the token endpoint on SQLite, paginated
## lists on PostgreSQL, rate limiting through Redis (each skipped when its service is away).
bench:
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }
	$(CARGO) build --release -p tollbooth
	bench/token.sh
	bench/organizations.sh
	bench/rate_limits.sh
	bench/oauth.sh
	bench/operations.sh
	bench/console.sh
	bench/verify.sh

lint:
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) fmt --check

fmt:
	$(CARGO) fmt
