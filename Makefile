# The commands the README gives. `make run` serves on 127.0.0.1:8080 with SQLite in data/.
CARGO ?= cargo

.PHONY: run test bench capacity chaos soak fuzz wrk lint fmt

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
bench: wrk
	$(CARGO) build --release -p tollbooth
	bench/token.sh
	bench/organizations.sh
	bench/rate_limits.sh
	bench/oauth.sh
	bench/operations.sh
	bench/console.sh
	bench/verify.sh

## docs/capacity.md's table: CPU, database round trips and writes, Redis commands per request.
capacity: wrk
	$(CARGO) build --release -p tollbooth
	bench/capacity.sh

## Faults under load and scale-out (docs/capacity.md, "Bad days", "Scale-out"): the chaos and
## scale-out tests, with their figures printed. Needs the local PostgreSQL (and its server
## programs, for a private one) and Redis, redis-server and nginx (.ci/run installs them).
chaos:
	$(CARGO) build -p tollbooth
	CI=true TOLLBOOTH_TEST_DATABASE_URL=$${TOLLBOOTH_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
	  TOLLBOOTH_TEST_REDIS_URL=$${TOLLBOOTH_TEST_REDIS_URL:-redis://127.0.0.1:6379/} \
	  $(CARGO) test -p tollbooth-integration-tests --test main -- chaos:: scale_out:: --nocapture --test-threads 1

## A 30-minute mixed workload (SOAK_MINUTES, SOAK_RATE, SOAK_DATABASE_URL): memory, descriptors,
## connections and p99 every minute (docs/capacity.md, "Soak"). Not part of `make test`.
soak:
	$(CARGO) build --release -p tollbooth
	python3 bench/soak.py

## Every fuzz target for FUZZ_SECONDS (default 60) each (docs/testing.md, "Fuzzing").
fuzz:
	fuzz/run.sh

wrk:
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }

lint:
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) fmt --check

fmt:
	$(CARGO) fmt
