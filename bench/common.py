"""What the benchmark scripts share: a seeded database, servers side by side, wrk runs, and
the credentials Toker asks for (an API token for the JSON API, a session cookie for pages)."""

import argparse
import contextlib
import html.parser
import math
import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The instance folder of the benchmarks' servers and CLI runs (secret key, bench password),
# apart from the developer's instance/.
INSTANCE = ROOT / "bench" / "results" / "instance"
BENCH_USER = "bench"
# The browser the bench's page requests come from: sign-in and wrk send the same User-Agent,
# as one browser does. (The session is tied to the client's address and agent; a cookie used
# by another agent than the one that signed in is marked not fresh, which changes the session
# and re-signs the cookie on every answer, a cost no browser pays.)
BENCH_AGENT = "toker-bench/1"
# Every bench serves Toker as scripts/serve does: gthread workers from gunicorn.conf.py.
GUNICORN_CONFIG = ("--config", str(ROOT / "gunicorn.conf.py"), "--no-control-socket")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stored_profiles(database: Path) -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(database) as connection:
            return connection.execute("SELECT count(*) FROM profiles").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def ensure_database(database: Path, wanted: int) -> int:
    """Seed the database until it holds at least `wanted` profiles."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}")
    have = stored_profiles(database)
    if have >= wanted:
        return have
    database.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([BIN / "toker", "db", "upgrade"], env=env, check=True, capture_output=True)
    while have < wanted:
        # About one account in ten is rejected by the likes minimum.
        count = math.ceil((wanted - have) / 0.88)
        print(f"seeding {count:,} accounts into {database} ...", file=sys.stderr)
        subprocess.run([BIN / "toker", "seed", "--count", str(count)], env=env, check=True)
        have = stored_profiles(database)
    return have


def wait_until_up(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {seconds} s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand 3xx answers back instead of following them: a redirect to /signin is a failure."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def request(url: str, headers: dict | None = None, data: bytes | None = None):
    """(status, headers, body) of one request, redirects not followed, 4xx/5xx not raised."""
    try:
        with _opener.open(urllib.request.Request(url, data, headers or {}), timeout=10) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def fetch(url: str, headers: dict | None = None) -> bytes:
    """The body of a 200 answer to GET url (with these headers); anything else ends the run."""
    status, _headers, body = request(url, headers)
    if status != 200:
        raise SystemExit(f"{url} answered {status}, not 200: {body[:300]!r}")
    return body


def run_wrk(url: str, duration: int, connections: int = 16, headers: dict | None = None) -> dict:
    """One wrk run (each header sent with -H): requests per second, tail latency, errors."""
    threads = min(2, connections)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        [*command, url],
        check=True,
        capture_output=True,
        text=True,
    )
    out = result.stdout
    if os.environ.get("BENCH_DEBUG"):
        print(url, out, file=sys.stderr)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    return {
        "rps": rps,
        "p50": p50,
        "p99": p99,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def arguments(doc: str, duration: bool = False, wrk: bool = False) -> tuple:
    """Parse --profiles, --db (and --duration); return (args, database path)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None)
    if duration:
        parser.add_argument("--duration", type=int, default=10)
    args = parser.parse_args()
    if wrk and shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    database = args.db or ROOT / "bench" / "results" / f"bench-{args.profiles}.sqlite"
    return args, database


def print_ratios(rows: list[tuple]) -> None:
    """For rows in Toker/datasette pairs, Toker's throughput as a multiple of datasette's."""
    for index in range(0, len(rows), 2):
        ours, theirs = rows[index][3]["rps"], rows[index + 1][3]["rps"]
        print(f"{rows[index][0]}: Toker / datasette = {ours / theirs:.1f}x")


def prepare_database(database: Path, wanted: int) -> tuple[int, int]:
    """Seed if needed, settle the WAL, and return (stored profiles, a mid-table profile id)."""
    stored = ensure_database(database, wanted)
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        middle_id = connection.execute(
            "SELECT id FROM profiles ORDER BY id LIMIT 1 OFFSET ?", (stored // 2,)
        ).fetchone()[0]
    finally:
        connection.close()
    return stored, middle_id


def toker_environment(database: Path, extra: dict | None = None) -> dict:
    """The environment of the bench's gunicorn and of its `toker` commands: the same database
    and instance folder; development, so the session cookie is not Secure-only on plain HTTP."""
    INSTANCE.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{database}",
        TOKER_INSTANCE_PATH=str(INSTANCE),
        TOKER_ENV="development",
        OPENBLAS_NUM_THREADS="1",
    )
    env.update(extra or {})
    return env


def toker_command(env: dict, *args: str) -> subprocess.CompletedProcess:
    """Run a toker command; its result, whatever its exit status."""
    return subprocess.run([BIN / "toker", *args], env=env, cwd=ROOT, capture_output=True, text=True)


def bench_password() -> str:
    """The bench user's password: random, made once and kept in the bench instance folder."""
    path = INSTANCE / "bench-password"
    INSTANCE.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text(encoding="ascii").strip()


def ensure_bench_user(database: Path) -> dict:
    """Make the bench user (an admin, password from bench_password()) unless this database has
    it already, after migrating it; returns the environment for `toker` commands on it."""
    env = toker_environment(database)
    # A database seeded before sign-in existed lacks the users and tokens tables.
    result = toker_command(env, "db", "upgrade")
    if result.returncode != 0:
        raise SystemExit(f"toker db upgrade failed:\n{result.stdout}{result.stderr}")
    created = toker_command(
        dict(env, TOKER_PASSWORD=bench_password()), "users", "create", BENCH_USER, "--role", "admin"
    )
    if created.returncode != 0 and "already exists" not in created.stderr:
        raise SystemExit(f"toker users create failed:\n{created.stdout}{created.stderr}")
    return env


def api_token(database: Path) -> str:
    """A fresh API token of the bench user, made with the CLI (the user too, the first time)."""
    env = ensure_bench_user(database)
    result = toker_command(env, "tokens", "create", BENCH_USER, "--label", "bench")
    if result.returncode != 0:
        raise SystemExit(f"toker tokens create failed:\n{result.stdout}{result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def bearer(token: str) -> dict:
    """The header that carries an API token."""
    return {"Authorization": f"Bearer {token}"}


class _CsrfField(html.parser.HTMLParser):
    """Finds the value of the form's hidden csrf_token input."""

    def __init__(self):
        super().__init__()
        self.value = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name") == "csrf_token":
            self.value = attributes.get("value")


def _cookie(headers, name: str) -> str | None:
    for header in headers.get_all("Set-Cookie") or []:
        key, _, rest = header.partition("=")
        if key.strip() == name:
            return rest.split(";", 1)[0]
    return None


def sign_in(toker: str, password: str | None = None) -> dict:
    """Sign the bench user in through the form (GET /signin, then POST it with its CSRF token);
    the Cookie and User-Agent headers of the signed-in session, for every page request."""
    agent = {"User-Agent": BENCH_AGENT}
    status, headers, body = request(f"{toker}/signin", agent)
    if status != 200:
        raise SystemExit(f"GET /signin answered {status}")
    form = _CsrfField()
    form.feed(body.decode("utf-8"))
    cookie = _cookie(headers, "session")
    if not form.value or not cookie:
        raise SystemExit("GET /signin gave no csrf_token field or no session cookie")
    fields = {
        "name": BENCH_USER,
        "password": password or bench_password(),
        "csrf_token": form.value,
    }
    status, headers, body = request(
        f"{toker}/signin",
        {
            **agent,
            "Cookie": f"session={cookie}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        urllib.parse.urlencode(fields).encode(),
    )
    signed_in = _cookie(headers, "session")
    if status != 303 or not signed_in:
        raise SystemExit(
            f"POST /signin answered {status}, not 303 with a session cookie "
            f"(was the bench user made with another bench-password?): {body[:300]!r}"
        )
    return {**agent, "Cookie": f"session={signed_in}"}


@contextlib.contextmanager
def servers(database: Path, toker_env: dict | None = None):
    """Toker under gunicorn (gunicorn.conf.py, 2 workers) and datasette on the same file;
    yields base URLs."""
    toker_port, datasette_port = free_port(), free_port()
    env = toker_environment(database, toker_env)
    processes = [
        subprocess.Popen(
            [
                BIN / "gunicorn",
                *GUNICORN_CONFIG,
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{toker_port}",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        # Facet suggestions take seconds a page at this size; off, as a served instance runs.
        subprocess.Popen(
            [
                BIN / "datasette",
                "serve",
                str(database),
                "--port",
                str(datasette_port),
                "--host",
                "127.0.0.1",
                "--setting",
                "suggest_facets",
                "off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        toker = f"http://127.0.0.1:{toker_port}"
        datasette = f"http://127.0.0.1:{datasette_port}/{database.stem}"
        wait_until_up(f"{toker}/healthz")
        wait_until_up(f"{datasette}.json")
        # A worker builds its live state in a thread at start: measured before that ends, the
        # first endpoint would share the cores with it.
        wait_for_warm_workers(psutil.Process(processes[0].pid))
        yield toker, datasette
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def wait_for_warm_workers(master: psutil.Process, quiet_seconds: float = 3.0) -> float:
    """Seconds until every worker has been idle for `quiet_seconds` (their warm-up done)."""
    started = time.monotonic()
    quiet_since = None
    while time.monotonic() - started < 600:
        workers = master.children()
        for worker in workers:
            worker.cpu_percent(interval=None)  # starts each worker's measurement
        time.sleep(0.5)
        busy = sum(worker.cpu_percent(interval=None) for worker in workers)
        if len(workers) and busy < 5:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= quiet_seconds:
                return quiet_since - started
        else:
            quiet_since = None
    raise SystemExit("the workers were still busy after 10 minutes")


def measure(targets: list[tuple], duration: int) -> list[tuple]:
    """Check every URL answers 200 with its headers (its size), then, in order, warm up 2 s
    and make one wrk run each. A target is (name, server, url) or (name, server, url, headers)."""
    targets = [(*target, {}) if len(target) == 3 else target for target in targets]
    sizes = [len(fetch(url, headers)) for _name, _server, url, headers in targets]
    rows = []
    for (name, server, url, headers), size in zip(targets, sizes, strict=True):
        run_wrk(url, 2, headers=headers)
        rows.append((name, server, size, run_wrk(url, duration, headers=headers)))
    return rows


def print_table(rows: list[tuple]) -> None:
    print("| endpoint | server | req/s | p50 | p99 | non-2xx | response bytes |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, server, size, r in rows:
        print(
            f"| {name} | {server} | {r['rps']:,.0f} | {r['p50']} | {r['p99']} | "
            f"{r['non_2xx']} | {size:,} |"
        )


def print_run(rows: list[tuple], stored: int, duration: int) -> None:
    """The run's set-up in one line, then its table."""
    print(
        f"{stored:,} profiles; wrk -t2 -c16 -d{duration}s; gunicorn 2 workers; "
        f"{os.cpu_count()} cores"
    )
    print()
    print_table(rows)
    print()


def check_answers(rows: list[tuple]) -> None:
    """End with an error if wrk saw any non-2xx answer or socket error (after the table)."""
    bad = [
        f"{name} ({server}): {r['non_2xx']} non-2xx; {r['socket_errors']}".rstrip("; ")
        for name, server, _size, r in rows
        if r["non_2xx"] or r["socket_errors"]
    ]
    if bad:
        raise SystemExit("wrk saw failures:\n" + "\n".join(bad))
