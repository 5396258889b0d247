#!/usr/bin/env python3
"""Soak (docs/capacity.md, "Soak"): the release server under a steady, moderate, mixed workload
for SOAK_MINUTES (default 30): client-credentials tokens, calls to a tenant's API through
/verify with a key and with a JWT, list pages, writes (an organization made and deleted),
refresh-token rotations and full browser sign-ins (authorization code with PKCE). Every
SOAK_INTERVAL seconds (default 60) it prints one row: the server's resident memory, open file
descriptors, pooled database connections (and PostgreSQL's own count with SOAK_DATABASE_URL),
requests, errors and p99. At the end it says whether any of them kept growing, and exits 1 if
one did. Standard library only; run by `make soak`.
"""

import base64
import hashlib
import http.client
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.environ.get("TOLLBOOTH_BIN", os.path.join(ROOT, "target/release/tollbooth"))
MINUTES = float(os.environ.get("SOAK_MINUTES", "30"))
INTERVAL = float(os.environ.get("SOAK_INTERVAL", "60"))
RATE = float(os.environ.get("SOAK_RATE", "60"))  # workload steps per second, all threads together
THREADS = 4
PORT = int(os.environ.get("SOAK_PORT", "18190"))
DATABASE_URL = os.environ.get("SOAK_DATABASE_URL", "")
API = "https://api.soak.example"
PASSWORD = "soak password of some length"
CONFIG = """
[rate_limit]
plan_default = "roomy"
[rate_limit.plans.roomy]
windows = [{ window = "1s", limit = 1000000 }]
[rate_limit.rules]
sign_in = [{ window = "1s", limit = 1000000 }]
sign_in_per_ip = [{ window = "1s", limit = 1000000 }]
sign_in_per_account = [{ window = "1s", limit = 1000000 }]
per_ip = [{ window = "1s", limit = 1000000 }]
token_per_client = [{ window = "1s", limit = 1000000 }]
token_per_ip = [{ window = "1s", limit = 1000000 }]
"""


class Browser:
    """One keep-alive connection with a cookie jar."""

    def __init__(self):
        self.connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        self.cookies = {}

    def request(self, method, path, body=None, headers=None, form=None):
        headers = dict(headers or {})
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                if attempt == 1:
                    return 0, {}, b""
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.headers, data


def call(method, path, key, body=None):
    status, _, data = Browser().request(method, path, body, {"Authorization": f"Bearer {key}"})
    if status >= 300:
        sys.exit(f"set-up failed: {method} {path} -> {status} {data[:300]!r}")
    return json.loads(data) if data else None


def start_server(workdir):
    config = os.path.join(workdir, "tollbooth.toml")
    with open(config, "w") as f:
        f.write(CONFIG)
    env = dict(os.environ, TOLLBOOTH_LISTEN=f"127.0.0.1:{PORT}", TOLLBOOTH_LOG_LEVEL="warn",
               TOLLBOOTH_ISSUER=f"http://127.0.0.1:{PORT}",
               TOLLBOOTH_DATABASE_URL=DATABASE_URL or f"sqlite://{workdir}/tollbooth.db")
    if DATABASE_URL:
        env.setdefault("TOLLBOOTH_SECRETS_ENCRYPTION_KEYS", "soak-key-encryption-key-of-32-characters")
    keys = json.loads(subprocess.run([BINARY, "--config", config, "bootstrap", "--json"], env=env, check=True,
                                     capture_output=True).stdout)
    server = subprocess.Popen([BINARY, "--config", config, "serve"], env=env, stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            if Browser().request("GET", "/healthz")[0] == 200:
                return server, keys
        except OSError:
            pass
        time.sleep(0.05)
    sys.exit("the server did not start")


def set_up(tenant_key):
    call("POST", "/api/v1/resources", tenant_key, {"name": "Soak API", "identifier": API, "scopes": ["orders:read"]})
    key = call("POST", "/api/v1/api_keys", tenant_key, {"name": "soak", "scopes": ["orders:read"]})["key"]
    client = call("POST", "/api/v1/clients", tenant_key, {
        "name": "Soak app", "redirect_uris": ["http://127.0.0.1/cb"], "skip_consent": True,
        "grant_types": ["client_credentials", "authorization_code", "refresh_token"],
        "scopes": ["openid", "offline_access", "orders:read"]})
    call("POST", "/api/v1/users", tenant_key, {"email": "soak@example.com", "name": "Soak", "password": PASSWORD})
    return key, client["id"], client["client_secret"]


class Workload:
    def __init__(self, tenant_key, api_key, client_id, client_secret):
        self.tenant_key, self.api_key = tenant_key, api_key
        self.client_id, self.client_secret = client_id, client_secret
        self.basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.verify = "/verify?resource=" + urllib.parse.quote(API, safe="")
        self.lock = threading.Lock()
        self.refresh_tokens = []
        self.jwt = None
        self.latencies, self.errors, self.kinds = [], 0, {}

    def timed(self, browser, kind, method, path, **kwargs):
        started = time.perf_counter()
        status, headers, data = browser.request(method, path, **kwargs)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.append(elapsed)
            self.kinds[kind] = self.kinds.get(kind, 0) + 1
            if status == 0 or status >= 500 or status == 429:
                self.errors += 1
        return status, headers, data

    def token(self, browser):
        status, _, data = self.timed(browser, "token", "POST", "/oauth/token", headers={"Authorization": self.basic},
                                     form={"grant_type": "client_credentials", "scope": "orders:read",
                                           "resource": API})
        if status == 200:
            self.jwt = json.loads(data)["access_token"]

    def verify_key(self, browser):
        self.timed(browser, "verify key", "GET", self.verify, headers={"Authorization": f"Bearer {self.api_key}"})

    def verify_jwt(self, browser):
        if self.jwt:
            self.timed(browser, "verify JWT", "GET", self.verify, headers={"Authorization": f"Bearer {self.jwt}"})

    def list_page(self, browser):
        self.timed(browser, "list", "GET", "/api/v1/api_keys?limit=100",
                   headers={"Authorization": f"Bearer {self.tenant_key}"})

    def write(self, browser):
        auth = {"Authorization": f"Bearer {self.tenant_key}"}
        status, _, data = self.timed(browser, "write", "POST", "/api/v1/organizations", body={"name": "Soak org"},
                                     headers=auth)
        if status == 201:
            self.timed(browser, "write", "DELETE", f"/api/v1/organizations/{json.loads(data)['id']}", headers=auth)

    def refresh(self, browser):
        with self.lock:
            token = self.refresh_tokens.pop() if self.refresh_tokens else None
        if token is None:
            return self.sign_in(browser)
        status, _, data = self.timed(browser, "refresh", "POST", "/oauth/token", headers={"Authorization": self.basic},
                                     form={"grant_type": "refresh_token", "refresh_token": token})
        if status == 200:
            with self.lock:
                self.refresh_tokens.append(json.loads(data)["refresh_token"])

    def sign_in(self, browser):
        """The browser's way: the authorization request, the sign-in form, the code for tokens."""
        browser = Browser()  # a new browser, with no session
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        path = "/oauth/authorize?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": self.client_id, "redirect_uri": "http://127.0.0.1/cb",
            "scope": "openid offline_access orders:read", "state": "s", "code_challenge": challenge,
            "code_challenge_method": "S256", "resource": API})
        status, _, page = self.timed(browser, "sign-in", "GET", path)
        match = re.search(rb'name="csrf" value="([^"]+)"', page)
        if status != 200 or not match:
            return
        status, headers, _ = self.timed(browser, "sign-in", "POST", path, form={
            "csrf": match.group(1).decode(), "email": "soak@example.com", "password": PASSWORD})
        location = headers.get("Location", "") if headers else ""
        code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query).get("code")
        if status != 302 or not code:
            return
        status, _, data = self.timed(browser, "sign-in", "POST", "/oauth/token", headers={"Authorization": self.basic},
                                     form={"grant_type": "authorization_code", "code": code[0],
                                           "redirect_uri": "http://127.0.0.1/cb", "code_verifier": verifier})
        if status == 200 and "refresh_token" in json.loads(data):
            with self.lock:
                self.refresh_tokens.append(json.loads(data)["refresh_token"])
                del self.refresh_tokens[:-50]

    def steps(self):
        """The mix, by weight: mostly the calls a platform's traffic is made of."""
        return [(self.verify_key, 25), (self.verify_jwt, 20), (self.token, 15), (self.list_page, 15),
                (self.write, 10), (self.refresh, 10), (self.sign_in, 5)]

    def drain(self):
        with self.lock:
            latencies, errors, kinds = self.latencies, self.errors, self.kinds
            self.latencies, self.errors, self.kinds = [], 0, {}
        return latencies, errors, kinds


def worker(workload, stop):
    browser = Browser()
    steps, weights = zip(*workload.steps())
    period = THREADS / RATE
    next_at = time.monotonic()
    while not stop.is_set():
        random.choices(steps, weights)[0](browser)
        next_at += period
        time.sleep(max(0.0, next_at - time.monotonic()))


def sample(pid):
    with open(f"/proc/{pid}/status") as f:
        rss_kib = int(next(line for line in f if line.startswith("VmRSS:")).split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    _, _, metrics = Browser().request("GET", "/metrics")
    pooled = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.decode().splitlines()
                 if line.startswith("tollbooth_db_pool_connections{"))
    postgres = "-"
    if DATABASE_URL:
        out = subprocess.run(["psql", DATABASE_URL, "-tAc", "SELECT count(*) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"],
                             capture_output=True, text=True)
        postgres = out.stdout.strip() or "?"
    return rss_kib / 1024, fds, int(pooled), postgres


def growing(values):
    """Whether a series keeps growing: its last third's mean is over 10% above its middle third's,
    and its last value is its highest."""
    if len(values) < 6:
        return False
    third = len(values) // 3
    middle, last = values[third:2 * third], values[2 * third:]
    return sum(last) / len(last) > 1.10 * (sum(middle) / len(middle)) and values[-1] >= max(values)


def main():
    if not os.access(BINARY, os.X_OK):
        sys.exit(f"{BINARY} is missing: cargo build --release -p tollbooth")
    with tempfile.TemporaryDirectory() as workdir:
        server, keys = start_server(workdir)
        try:
            api_key, client_id, client_secret = set_up(keys["tenant_key"])
            workload = Workload(keys["tenant_key"], api_key, client_id, client_secret)
            stop = threading.Event()
            threads = [threading.Thread(target=worker, args=(workload, stop), daemon=True) for _ in range(THREADS)]
            for thread in threads:
                thread.start()
            print(f"soak: {MINUTES:g} min at {RATE:g} steps/s, {'PostgreSQL' if DATABASE_URL else 'SQLite'}; "
                  f"a row every {INTERVAL:g} s")
            print(f"{'minute':>6} {'RSS MiB':>8} {'fds':>5} {'pool':>5} {'pg conns':>8} {'requests':>9} "
                  f"{'errors':>7} {'p99 ms':>7}")
            rows, by_kind = [], {}
            began = time.monotonic()
            while time.monotonic() - began < MINUTES * 60:
                time.sleep(INTERVAL)
                latencies, errors, kinds = workload.drain()
                for kind, count in kinds.items():
                    by_kind[kind] = by_kind.get(kind, 0) + count
                latencies.sort()
                p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
                rss, fds, pooled, postgres = sample(server.pid)
                rows.append((rss, fds, pooled, p99))
                minute = (time.monotonic() - began) / 60
                print(f"{minute:6.1f} {rss:8.1f} {fds:5d} {pooled:5d} {postgres:>8} {len(latencies):9d} {errors:7d} "
                      f"{p99:7.1f}", flush=True)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        finally:
            server.terminate()
            server.wait(timeout=60)
    print("requests by kind: " + ", ".join(f"{kind} {count}" for kind, count in sorted(by_kind.items())))
    names = ["RSS", "open file descriptors", "pooled connections", "p99"]
    grew = [name for i, name in enumerate(names) if growing([row[i] for row in rows])]
    if grew:
        print("kept growing: " + ", ".join(grew))
        sys.exit(1)
    print("nothing kept growing")


if __name__ == "__main__":
    main()
