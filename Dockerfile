# Multi-stage build: compile with the Rust toolchain, ship a slim Debian with the binary only.
FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release -p tollbooth

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 libpq5 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/tollbooth --create-home tollbooth
COPY --from=build /src/target/release/tollbooth /usr/local/bin/tollbooth
USER tollbooth
WORKDIR /var/lib/tollbooth
# Defaults for a container: listen on all interfaces, SQLite in the home directory. Set
# TOLLBOOTH_DATABASE_URL, TOLLBOOTH_REDIS_URL, TOLLBOOTH_ISSUER, TOLLBOOTH_SECRETS_PEPPER and
# TOLLBOOTH_SECRETS_ENCRYPTION_KEYS for production (see config/production.example.toml).
ENV TOLLBOOTH_LISTEN=0.0.0.0:8080 \
    TOLLBOOTH_DATABASE_URL=sqlite:///var/lib/tollbooth/tollbooth.db
EXPOSE 8080
ENTRYPOINT ["tollbooth"]
CMD ["serve"]
