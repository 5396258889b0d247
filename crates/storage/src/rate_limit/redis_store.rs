//! Counters in Redis: exact across any number of instances. One `EVALSHA` per check covers
//! every window of the subject atomically; the keys of a subject share a hash tag, so the
//! script works on Redis Cluster. When Redis does not answer within the timeout, the check
//! falls back to local counters (logged once, counted in `fallbacks`), and Redis is tried again
//! a second later; a request never fails because of Redis. With a Redis Cluster, the script
//! goes to the master of the subject's slot; a failure on any master sends every check of
//! this instance to local counting for that second, as a single Redis away would.
//!
//! Each thread has its own connection to a single Redis, and the task that drives it (writes
//! the commands, reads the answers) is started by the owner's [`Spawner`]: on the server, on
//! the HTTP worker's own task set, so that an answer wakes its request without a system call
//! (docs/capacity.md, "Where the time goes").

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::ThreadId;
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt};
use redis::aio::{AsyncStream, ConnectionLike, MultiplexedConnection};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Cmd, ConnectionAddr, Pipeline, RedisFuture, Value};

use super::{Counter, CounterStore, MemoryCounters, Outcome, StoreError, StoreStatus};

/// KEYS[i]: one counter per window; ARGV[3i-2]: its limit; ARGV[3i-1]: its TTL in seconds;
/// ARGV[3i]: 1 if the request counts in it, 0 if it is only read. Counts the request in every
/// counted window, or in none when any of them is full, so a refusal costs nothing: it counts
/// first and takes the counts back when one went over, which costs one call per counted window
/// when the request is allowed (a read before each count would cost two).
/// A refusal thus writes twice per counted window (docs/capacity.md, "Sizing").
/// Returns {allowed (1 or 0), count_1, …, count_n}.
const CHECK_AND_COUNT: &str = r"
local allowed = 1
local counts = {}
for i = 1, #KEYS do
  if ARGV[3 * i] == '1' then
    local count = redis.call('INCR', KEYS[i])
    if count == 1 then redis.call('EXPIRE', KEYS[i], ARGV[3 * i - 1]) end
    if count > tonumber(ARGV[3 * i - 2]) then allowed = 0 end
    counts[i] = count
  else
    counts[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
  end
end
if allowed == 0 then
  for i = 1, #KEYS do
    if ARGV[3 * i] == '1' then counts[i] = redis.call('DECR', KEYS[i]) end
  end
end
table.insert(counts, 1, allowed)
return counts
";

/// After a failure, Redis is left alone this long before it is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Where the counters live: one Redis server, or the masters of a Redis Cluster.
enum Client {
    Node(redis::Client),
    Cluster(Box<ClusterClient>),
}

/// A connection to either; a clone shares the connection.
#[derive(Clone)]
enum Connection {
    Node(MultiplexedConnection),
    Cluster(ClusterConnection),
}

/// Starts the task that drives a connection to a single Redis, on the thread that checks: a
/// server whose threads each run a `LocalSet` passes its local spawn, so that answers wake
/// requests on the same task set (`tokio::spawn` does on a plain runtime).
pub type Spawner = fn(BoxFuture<'static, ()>);

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Connection::Node(connection) => connection.req_packed_command(cmd),
            Connection::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Connection::Node(connection) => connection.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Node(connection) => connection.get_db(),
            Connection::Cluster(connection) => connection.get_db(),
        }
    }
}

/// A thread's connection, and for a single Redis whether its driver has ended (Redis closed
/// it, as on a restart): a closed one is made again at the next check rather than failing it.
/// A Redis Cluster's connection (`closed: None`) finds its masters again by itself.
#[derive(Clone)]
struct Held {
    connection: Connection,
    closed: Option<Arc<AtomicBool>>,
}

pub struct RedisCounters {
    client: Client,
    spawn: Spawner,
    timeout: Duration,
    script: redis::Script,
    /// One connection per thread: each HTTP worker runs its own runtime, and a connection
    /// driven by another thread's runtime would cost a cross-thread wake-up per check.
    connections: RwLock<HashMap<ThreadId, Held>>,
    /// Held while connecting: other checks wait for it (up to the timeout) rather than count
    /// locally, which would let a new instance over-admit while its first connection is made.
    connecting: tokio::sync::Mutex<()>,
    healthy: AtomicBool,
    /// Unix milliseconds before which Redis is not tried (after a failure).
    retry_at_ms: AtomicU64,
    local: MemoryCounters,
    fallbacks: AtomicU64,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl RedisCounters {
    /// Parses the URL (with `cluster`, one or more nodes' URLs, comma-separated); connects on
    /// first use, so a Redis that is down at start-up only means local counting until it is up.
    /// `spawn` starts each connection's driver (a Redis Cluster's connections drive themselves)
    /// and must work on every thread that checks a limit.
    pub fn new(url: &str, cluster: bool, timeout: Duration, spawn: Spawner) -> Result<Self, StoreError> {
        let bad = |e: redis::RedisError| StoreError(format!("bad Redis URL: {e}"));
        let client = if cluster {
            Client::Cluster(Box::new(
                ClusterClientBuilder::new(url.split(',').map(str::trim))
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .retries(1)
                    .build()
                    .map_err(bad)?,
            ))
        } else {
            Client::Node(redis::Client::open(url).map_err(bad)?)
        };
        Ok(RedisCounters {
            client,
            spawn,
            timeout,
            script: redis::Script::new(CHECK_AND_COUNT),
            connections: RwLock::new(HashMap::new()),
            connecting: tokio::sync::Mutex::new(()),
            healthy: AtomicBool::new(true),
            retry_at_ms: AtomicU64::new(0),
            local: MemoryCounters::default(),
            fallbacks: AtomicU64::new(0),
        })
    }

    /// This thread's connection, made at its first check (and again after a failure).
    async fn connection(&self) -> Option<Held> {
        if !self.healthy.load(Ordering::Relaxed) && now_ms() < self.retry_at_ms.load(Ordering::Relaxed) {
            return None;
        }
        let thread = std::thread::current().id();
        let current = || {
            let connections = self.connections.read().unwrap_or_else(|p| p.into_inner());
            let open = |held: &&Held| !held.closed.as_ref().is_some_and(|closed| closed.load(Ordering::Relaxed));
            connections.get(&thread).filter(open).cloned()
        };
        if let Some(connection) = current() {
            return Some(connection);
        }
        let Ok(_connecting) = tokio::time::timeout(self.timeout, self.connecting.lock()).await else {
            return None;
        };
        if let Some(connection) = current() {
            return Some(connection);
        }
        if !self.healthy.load(Ordering::Relaxed) && now_ms() < self.retry_at_ms.load(Ordering::Relaxed) {
            return None;
        }
        let connecting = async {
            match &self.client {
                Client::Node(client) => {
                    let closed = Arc::new(AtomicBool::new(false));
                    let connection = self.connect_node(client, closed.clone()).await?;
                    Ok(Held { connection: Connection::Node(connection), closed: Some(closed) })
                }
                Client::Cluster(client) => client
                    .get_async_connection()
                    .await
                    .map(|connection| Held { connection: Connection::Cluster(connection), closed: None }),
            }
        };
        let connected = tokio::time::timeout(self.timeout * 4, connecting).await;
        match connected {
            Ok(Ok(held)) => {
                self.connections.write().unwrap_or_else(|p| p.into_inner()).insert(thread, held.clone());
                Some(held)
            }
            Ok(Err(err)) => {
                self.failed(&err.to_string());
                None
            }
            Err(_) => {
                self.failed("connecting timed out");
                None
            }
        }
    }

    /// Opens a connection to a single Redis and starts its driver with [`Self::spawn`]; `closed`
    /// is set when the driver ends.
    async fn connect_node(
        &self,
        client: &redis::Client,
        closed: Arc<AtomicBool>,
    ) -> redis::RedisResult<MultiplexedConnection> {
        let info = client.get_connection_info();
        let stream: std::pin::Pin<Box<dyn AsyncStream + Send + Sync>> = match info.addr() {
            ConnectionAddr::Tcp(host, port) => {
                let stream = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                // Each check is one small write that its request waits for.
                stream.set_nodelay(true)?;
                Box::pin(stream)
            }
            other => {
                let unsupported =
                    (redis::ErrorKind::InvalidClientConfig, "unsupported Redis address", other.to_string());
                return Err(unsupported.into());
            }
        };
        // No deadline of the connection's own: `call` sets one per check.
        let config = AsyncConnectionConfig::new().set_response_timeout(None);
        let (connection, driver) =
            MultiplexedConnection::new_with_config(info.redis_settings(), stream, config).await?;
        let period = self.timeout.max(Duration::from_millis(1));
        (self.spawn)(
            async move {
                // Tokio's timer wakes its thread through a system call whenever a deadline is
                // set earlier than the thread's next wake-up, as each check's deadline is when
                // the thread has no other timer. A tick every `timeout` keeps one due sooner
                // than any check's deadline: measured, one system call less per check.
                let heartbeat = async {
                    let mut tick = tokio::time::interval(period);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tick.tick().await;
                    }
                };
                // The driver ends when the connection closes or every clone of it is dropped.
                tokio::select! {
                    () = driver => closed.store(true, Ordering::Relaxed),
                    () = heartbeat => {}
                }
            }
            .boxed(),
        );
        Ok(connection)
    }

    /// Tries Redis once (at start-up), so that `/readyz` and `/metrics` report an unreachable
    /// `redis_url` before the first counted request. Keeps no connection: this thread counts
    /// nothing.
    pub async fn probe(&self) {
        let ping = async |mut connection: Connection| redis::cmd("PING").query_async::<()>(&mut connection).await;
        let _ = self.call(ping).await;
        let thread = std::thread::current().id();
        self.connections.write().unwrap_or_else(|p| p.into_inner()).remove(&thread);
    }

    /// Drops this thread's connection to a single Redis (the one `closed` belongs to) after a
    /// failure, whatever it was (a replica that answers READONLY after a failover is no place to
    /// count either): the next check after [`RETRY_AFTER`] connects again. A newer connection
    /// made meanwhile stays.
    fn forget(&self, closed: &Arc<AtomicBool>) {
        let thread = std::thread::current().id();
        let mut connections = self.connections.write().unwrap_or_else(|p| p.into_inner());
        let current = connections.get(&thread).and_then(|held| held.closed.as_ref());
        if current.is_some_and(|current| Arc::ptr_eq(current, closed)) {
            connections.remove(&thread);
        }
    }

    fn failed(&self, cause: &str) {
        self.retry_at_ms.store(now_ms() + RETRY_AFTER.as_millis() as u64, Ordering::Relaxed);
        if self.healthy.swap(false, Ordering::AcqRel) {
            tracing::warn!(error = %cause, "Redis is unreachable: counting rate limits locally until it answers");
        }
    }

    fn succeeded(&self) {
        if !self.healthy.swap(true, Ordering::AcqRel) {
            tracing::info!("Redis answers again: counting rate limits in Redis");
        }
    }

    async fn call<T: redis::FromRedisValue>(
        &self,
        invocation: impl AsyncFnOnce(Connection) -> redis::RedisResult<T>,
    ) -> Option<T> {
        let Held { connection, closed } = self.connection().await?;
        let failure = match tokio::time::timeout(self.timeout, invocation(connection)).await {
            Ok(Ok(value)) => {
                self.succeeded();
                return Some(value);
            }
            Ok(Err(err)) => err.to_string(),
            Err(_) => "no answer within the timeout".to_owned(),
        };
        if let Some(closed) = &closed {
            self.forget(closed);
        }
        self.failed(&failure);
        None
    }

    async fn hit_async(&self, counters: &[Counter]) -> Outcome {
        let answer = self
            .call(async |mut connection| {
                let mut invocation = self.script.prepare_invoke();
                for counter in counters {
                    invocation.key(&counter.key);
                }
                for counter in counters {
                    invocation.arg(counter.limit).arg(counter.ttl).arg(u8::from(counter.counted));
                }
                invocation.invoke_async::<Vec<u64>>(&mut connection).await
            })
            .await;
        match answer {
            Some(values) if values.len() == counters.len() + 1 => {
                Outcome { allowed: values[0] == 1, counts: values[1..].to_vec() }
            }
            _ => {
                self.fallbacks.fetch_add(1, Ordering::Relaxed);
                self.local.hit_now(counters)
            }
        }
    }
}

impl CounterStore for RedisCounters {
    fn hit<'a>(&'a self, counters: &'a [Counter]) -> BoxFuture<'a, Outcome> {
        self.hit_async(counters).boxed()
    }

    fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    fn status(&self) -> StoreStatus {
        if self.healthy.load(Ordering::Relaxed) { StoreStatus::Redis } else { StoreStatus::RedisFallback }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_to_redis_is_refused_at_start_without_the_password() {
        // TLS to Redis is not built in (docs/configuration.md): better no start than a server
        // that counts locally forever.
        let url = "rediss://:hunter2@redis.example:6380/";
        let refused = RedisCounters::new(url, false, Duration::from_millis(50), drop);
        let message = refused.err().expect("a rediss:// URL is refused").0;
        assert!(!message.contains("hunter2"), "{message}");
    }
}
