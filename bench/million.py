"""Toker at a million profiles on SQLite: seeding, one-client latencies, the map, worker memory.

1. Seeds --count accounts with `toker seed` into a new database (about one in nine is
   rejected by the likes minimum: 1,136,000 accounts store about a million profiles), timing it
   and sampling the peak memory of the command and its workers, as bench/seed.py does. A
   database given with --db that exists already is used as it is, with the seeding figures
   recorded beside it when it was made.
2. Builds the live look-alike matrix and the map data (PCA + k-means, k = 6) in this process.
3. Serves Toker under gunicorn (gunicorn.conf.py, 2 gthread workers), waits until both workers'
   warm-up has finished, then sends one client's requests, one at a time, with an API token:
   the list, a filtered list (platform and interest), a profile, its look-alikes and a video
   search; p50 and p99 of each.
4. Opens /map in headless Chromium (Debian's, through Playwright) after signing in through the
   form, and times it until the WebGL plot has drawn (best of 3 after one load).
5. Prints each worker's resident memory after all that.

    .venv/bin/python bench/million.py                          # seeds bench/results/
    .venv/bin/python bench/million.py --db path/to/million.sqlite
"""

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import psutil  # noqa: E402
from common import (  # noqa: E402
    BIN,
    GUNICORN_CONFIG,
    ROOT,
    api_token,
    bearer,
    fetch,
    free_port,
    toker_environment,
    wait_for_warm_workers,
    wait_until_up,
)
from map import time_map_page  # noqa: E402
from seed import run_seed  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.services.analytics import population_map, similarity

INTERESTS = ("Music", "Gaming", "Technology", "Food", "Sports", "Travel", "Comedy", "Fitness")


def seeded_database(path: Path, count: int) -> tuple[Path, dict | None]:
    """The database at `path`, seeded now when it does not exist; its seeding figures."""
    figures_path = path.with_name(path.name + ".seeding.json")
    if path.exists():
        figures = json.loads(figures_path.read_text()) if figures_path.exists() else None
        return path, figures
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"seeding {count:,} accounts into {path} ...", file=sys.stderr)
    figures = run_seed(count, path.parent, keep=True)
    seeded = path.parent / f"seed-{count}.sqlite"
    with sqlite3.connect(seeded) as connection:  # the WAL back into the file before renaming
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    seeded.rename(path)
    figures_path.write_text(json.dumps(figures))
    return path, figures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed_get(url: str, headers: dict) -> float:
    started = time.perf_counter()
    fetch(url, headers)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_136_000, help="accounts to seed")
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "results" / "million.sqlite")
    parser.add_argument("--requests", type=int, default=100, help="requests of each kind")
    args = parser.parse_args()

    database, seeding = seeded_database(args.db, args.count)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        stored = connection.execute("SELECT count(*) FROM profiles").fetchone()[0]
        ids = [row[0] for row in connection.execute("SELECT id FROM profiles")]
        words = [
            word
            for (caption,) in connection.execute(
                "SELECT caption FROM videos WHERE caption IS NOT NULL LIMIT 200"
            )
            for word in caption.split()
            if len(word) >= 4 and word.isalpha()
        ]
    size = sum(p.stat().st_size for p in database.parent.glob(database.name + "*") if p.is_file())

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        started = time.perf_counter()
        similarity.current_matrix()
        matrix_s = time.perf_counter() - started
        started = time.perf_counter()
        population_map.population_map(6)
        map_s = time.perf_counter() - started
    del app

    token = api_token(database)
    port = free_port()
    toker = f"http://127.0.0.1:{port}"
    env = toker_environment(database, {"TOKER_ASSETS": "local", "TOKER_WORKERS": "2"})
    server = subprocess.Popen(
        [BIN / "gunicorn", *GUNICORN_CONFIG, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"{toker}/healthz", seconds=120)
        master = psutil.Process(server.pid)
        warm_s = wait_for_warm_workers(master)
        rng = random.Random(2026)
        headers = bearer(token)
        # A different page each time: a page read again at the same data version is served
        # from the answer kept for it, which this table is not about.
        pages = iter(rng.sample(range(1, 1001), args.requests + 1))
        kinds = {
            "list, 50 rows": lambda: f"/api/v1/profiles?per_page=50&page={next(pages)}",
            "filtered list (platform, interest)": lambda: (
                f"/api/v1/profiles?platform={rng.choice(('tiktok', 'instagram', 'x'))}"
                f"&interest={rng.choice(INTERESTS)}:0.2&sort=followers&per_page=20"
            ),
            "profile": lambda: f"/api/v1/profiles/{rng.choice(ids)}",
            "look-alikes, k = 10": lambda: f"/api/v1/profiles/{rng.choice(ids)}/similar?k=10",
            "video search": lambda: (
                f"/api/v1/videos?q={urllib.parse.quote(rng.choice(words).lower())}&per_page=20"
            ),
        }
        latencies = {}
        for kind, path in kinds.items():
            timed_get(f"{toker}{path()}", headers)  # one unmeasured request of each kind
            latencies[kind] = [timed_get(f"{toker}{path()}", headers) for _ in range(args.requests)]

        timings, drawn = time_map_page(toker, timeout_ms=120_000)
        memory = sorted(worker.memory_info().rss / 2**20 for worker in master.children())
    finally:
        server.terminate()
        server.wait(timeout=60)

    print(
        f"\n{stored:,} profiles in {database} ({size / 2**20:,.0f} MiB, "
        f"{size / stored:,.0f} B per profile); {os.cpu_count()} cores\n"
    )
    print("| measure | value |")
    print("|---|---:|")
    if seeding:
        print(
            f"| seeding {seeding['count']:,} accounts (`toker seed`) "
            f"| {seeding['seconds']:,.0f} s, {seeding['per_second']:,.0f} accounts/s, "
            f"peak {seeding['peak_mib']:,.0f} MiB |"
        )
    print(f"| live matrix build, in one process | {matrix_s:.1f} s |")
    print(f"| map data: PCA + k-means (k = 6) + names | {map_s:.1f} s |")
    print(f"| workers' warm-up (matrix, map, catalogues) after start | {warm_s:.0f} s |")
    print(f"| /map interactive in headless Chromium, best of 3 | {min(timings):.2f} s |")
    print(f"| points drawn | {drawn:,} |")
    print(f"| worker RSS after these requests, MiB | {', '.join(f'{m:.0f}' for m in memory)} |")
    print(f"\nOne client, {args.requests} requests of each kind (API, bearer token):\n")
    print("| request | p50 ms | p99 ms |")
    print("|---|---:|---:|")
    for kind, values in latencies.items():
        print(
            f"| {kind} | {percentile(values, 0.5) * 1000:.1f} "
            f"| {percentile(values, 0.99) * 1000:.1f} |"
        )


if __name__ == "__main__":
    main()
