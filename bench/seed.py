"""Seeding throughput and peak memory, end to end through `toker seed`.

Runs `toker seed --count N` on a fresh, migrated SQLite database for each N, samples the
resident memory of the whole process tree (the command and its workers) every 50 ms, and
prints a table. Beside it, in the same run, the baselines the figures compare with:
generating accounts alone on one core (Faker for names and handles, `random` for the rest),
and a raw sqlite3 bulk insert of generated profile rows.

    .venv/bin/python bench/seed.py                 # N = 10,000 and 100,000
    .venv/bin/python bench/seed.py --counts 20000  # quicker
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

TOKER = str(Path(sys.executable).with_name("toker"))


def tree_rss(process: psutil.Process) -> int:
    """Resident memory of a process and all its children, in bytes."""
    total = 0
    for proc in [process, *process.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_seed(count: int, workdir: Path, keep: bool = False) -> dict:
    """Time `toker seed --count N` on a fresh database and track its peak memory; the
    database is removed afterwards unless `keep`."""
    database = workdir / f"seed-{count}.sqlite"
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}", OPENBLAS_NUM_THREADS="1")
    subprocess.run([TOKER, "db", "upgrade"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    child = subprocess.Popen(
        [TOKER, "seed", "--count", str(count), "--seed", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    process = psutil.Process(child.pid)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            try:
                peak = max(peak, tree_rss(process))
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = child.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"toker seed failed with exit code {child.returncode}")
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT count(*) FROM profiles").fetchone()[0]
    size = sum(path.stat().st_size for path in workdir.glob(f"seed-{count}.sqlite*"))
    if not keep:
        for path in workdir.glob(f"seed-{count}.sqlite*"):
            path.unlink()
    return {
        "count": count,
        "seconds": elapsed,
        "per_second": count / elapsed,
        "stored": stored,
        "peak_mib": peak / 2**20,
        "db_mib": size / 2**20,
        "summary": output.strip().splitlines()[-1],
    }


def baseline_generation(count: int) -> float:
    """Accounts generated per second by the mock connector alone, on one core."""
    from webapp.services.ingestion.connectors import get_connector

    connector = get_connector("tiktok")
    connector.generate("warm-up")
    started = time.perf_counter()
    for number in range(count):
        connector.generate(str(number))
    return count / (time.perf_counter() - started)


def baseline_raw_insert(count: int, workdir: Path) -> float:
    """Profiles per second for a bare sqlite3 executemany of (id, name, JSON payload) rows."""
    from webapp.services.ingestion.connectors import get_connector

    connector = get_connector("tiktok")
    rows = [(str(n), json.dumps(connector.generate(str(n)))) for n in range(count)]
    path = workdir / "raw.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE profiles (user_id TEXT PRIMARY KEY, payload TEXT)")
        started = time.perf_counter()
        connection.executemany("INSERT INTO profiles VALUES (?, ?)", rows)
        connection.commit()
        elapsed = time.perf_counter() - started
    path.unlink()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="toker-bench-") as tmp:
        workdir = Path(tmp)
        results = [run_seed(count, workdir) for count in args.counts]
        generation = baseline_generation(5_000)
        raw_insert = baseline_raw_insert(10_000, workdir)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print()
    print(
        "| accounts | seconds | accounts/s | stored | stored/s | peak memory (MiB) "
        "| database (MiB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['count']:,} | {r['seconds']:.1f} | {r['per_second']:,.0f} | {r['stored']:,} "
            f"| {r['stored'] / r['seconds']:,.0f} | {r['peak_mib']:.0f} | {r['db_mib']:.0f} |"
        )
    print()
    print(f"baseline, mock connector alone, one core: {generation:,.0f} accounts/s")
    print(f"baseline, raw sqlite3 bulk insert of payload rows: {raw_insert:,.0f} rows/s")


if __name__ == "__main__":
    main()
