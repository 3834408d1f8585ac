"""What the benchmark scripts share: a seeded database, servers side by side, wrk runs."""

import argparse
import contextlib
import math
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


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


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        if response.status != 200:
            raise SystemExit(f"{url} answered {response.status}")
        return response.read()


def run_wrk(url: str, duration: int, connections: int = 16) -> dict:
    """One wrk run: requests per second, average and tail latency, errors."""
    threads = min(2, connections)
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url],
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


@contextlib.contextmanager
def servers(database: Path, toker_env: dict | None = None):
    """Toker under gunicorn (2 workers) and datasette on the same file; yields base URLs."""
    toker_port, datasette_port = free_port(), free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}", OPENBLAS_NUM_THREADS="1")
    env.update(toker_env or {})
    processes = [
        subprocess.Popen(
            [BIN / "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{toker_port}", "wsgi:app"],
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
        yield toker, datasette
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def measure(targets: list[tuple[str, str, str]], duration: int) -> list[tuple]:
    """Fetch each URL once (its size), warm up 2 s, then one wrk run each, in order."""
    rows = []
    for name, server, url in targets:
        body = fetch(url)
        run_wrk(url, 2)
        rows.append((name, server, len(body), run_wrk(url, duration)))
    return rows


def print_table(rows: list[tuple]) -> None:
    print("| endpoint | server | req/s | p50 | p99 | non-2xx | response bytes |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, server, size, r in rows:
        print(
            f"| {name} | {server} | {r['rps']:,.0f} | {r['p50']} | {r['p99']} | "
            f"{r['non_2xx']} | {size:,} |"
        )
