"""History at scale: demo accounts with weekly snapshots, what a snapshot costs on disk, and the
profile page (growth and drift charts) and the history API with one client.

Seeds --profiles accounts with --weeks weeks of weekly history through the real pipeline
(`toker seed --count N --history W --seed 2026`, timed) into its own SQLite file, unless that
file holds them already; then reports the snapshots table's bytes on disk (SQLite's dbstat,
the table and its indexes) per snapshot and per profile, and serves the file under gunicorn
(gunicorn.conf.py, 2 workers) to one client asking, in turn, for random profiles' pages and
their `GET /api/v1/profiles/<id>/history`: p50, p99 and the slowest, per kind.

    .venv/bin/python bench/history.py --profiles 100000 --weeks 12
"""

import argparse
import random
import sqlite3
import subprocess
import time
from pathlib import Path

from common import (
    BIN,
    ROOT,
    api_token,
    bearer,
    ensure_bench_user,
    fetch,
    servers,
    sign_in,
    toker_environment,
)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=10_000, help="accounts to seed")
    parser.add_argument("--weeks", type=int, default=12, help="weeks of weekly history")
    parser.add_argument("--requests", type=int, default=300, help="requests of each kind")
    parser.add_argument("--db", type=Path, default=None)
    return parser.parse_args()


def seed(database: Path, profiles: int, weeks: int) -> float | None:
    """Seed the file unless it is there; the seeding's seconds (None when it was there)."""
    if database.exists():
        return None
    database.parent.mkdir(parents=True, exist_ok=True)
    env = toker_environment(database)
    subprocess.run([BIN / "toker", "db", "upgrade"], env=env, cwd=ROOT, check=True)
    started = time.perf_counter()
    subprocess.run(
        [BIN / "toker", "seed", "--count", str(profiles), "--history", str(weeks)]
        + ["--seed", "2026"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    return time.perf_counter() - started


def snapshot_storage(database: Path) -> tuple[int, int, int]:
    """(profiles, snapshots, bytes of profile_snapshots and its indexes)."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        profiles = connection.execute("SELECT count(*) FROM profiles").fetchone()[0]
        snapshots = connection.execute("SELECT count(*) FROM profile_snapshots").fetchone()[0]
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE tbl_name = 'profile_snapshots'"
            )
        ]
        marks = ",".join("?" * len(names))
        size = connection.execute(
            f"SELECT sum(pgsize) FROM dbstat WHERE name IN ({marks})", names
        ).fetchone()[0]
        return profiles, snapshots, size
    finally:
        connection.close()


def profile_ids(database: Path) -> list[int]:
    connection = sqlite3.connect(database)
    try:
        return [row[0] for row in connection.execute("SELECT id FROM profiles")]
    finally:
        connection.close()


def timed(url: str, headers: dict) -> float:
    started = time.perf_counter()
    fetch(url, headers)
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    args = arguments()
    database = (
        args.db or ROOT / "bench" / "results" / f"history-{args.profiles}-{args.weeks}.sqlite"
    )
    seconds = seed(database, args.profiles, args.weeks)
    if seconds is not None:
        print(
            f"Seeded {args.profiles:,} accounts with {args.weeks} weeks of history in "
            f"{seconds:,.0f} s"
        )
    profiles, snapshots, size = snapshot_storage(database)
    print(
        f"{profiles:,} profiles, {snapshots:,} snapshots ({snapshots / profiles:.1f} each): "
        f"profile_snapshots and its indexes take {size / 2**20:,.1f} MiB, "
        f"{size / snapshots:,.0f} bytes a snapshot"
    )
    ensure_bench_user(database)
    token = api_token(database)
    ids = profile_ids(database)
    rng = random.Random(2026)
    picks = [rng.choice(ids) for _ in range(args.requests)]
    with servers(database, {"TOKER_ASSETS": "local"}) as (toker, _datasette):
        cookie = sign_in(toker)
        for pk in picks[:10]:  # warm: first use of each worker's templates and statements
            fetch(f"{toker}/profiles/{pk}", cookie)
        times: dict[str, list[float]] = {"profile page": [], "history API": []}
        for pk in picks:
            times["profile page"].append(timed(f"{toker}/profiles/{pk}", cookie))
            times["history API"].append(
                timed(f"{toker}/api/v1/profiles/{pk}/history", bearer(token))
            )
    print("\n| one client | requests | p50 ms | p99 ms | slowest ms |\n|---|---:|---:|---:|---:|")
    for kind, values in times.items():
        print(
            f"| {kind} | {len(values)} | {percentile(values, 0.5):.1f} | "
            f"{percentile(values, 0.99):.1f} | {max(values):.1f} |"
        )


if __name__ == "__main__":
    main()
