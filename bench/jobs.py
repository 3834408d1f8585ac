"""Bulk connect throughput: N accounts connected by `toker worker`, with 1 and 2 worker threads.

Each run makes a fresh instance folder in a temporary directory with a fresh, migrated SQLite
database and the default SQLite queue beside it, writes N accounts (the three platforms in
turn, new user ids, so every account goes through fetch, validation, vectorising and store)
to a CSV file, starts the job(s) with `toker jobs start connect FILE`, then starts
`toker worker --workers W` and waits until every job is done. Runs, in one session:

- one job of N accounts, 1 worker thread;
- one job of N accounts, 2 worker threads (a job's items are done in order by one thread, so
  a second thread has nothing of that job to do);
- the same N accounts as two jobs of N/2, 2 worker threads (each thread runs one job).

Accounts per second count from the first job's start to the last one's end, as the jobs
table records them; "from worker start" adds the worker's start-up (imports, the mock
platforms' catalogues built on the first item). With --rounds R the three runs are made R
times, interleaved, so that a machine busy for a while slows each alike; each run's figure is
printed with the machine's load average when it ended, then each setting's median.

    .venv/bin/python bench/jobs.py                      # N = 10,000
    .venv/bin/python bench/jobs.py --accounts 2000 --rounds 3
"""

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKER = str(Path(sys.executable).with_name("toker"))
PLATFORMS = ("tiktok", "instagram", "x")
POLL_SECONDS = 0.5


def environment(instance: Path) -> dict:
    """A toker command's environment: this run's instance folder, database and queue."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TOKER_") and key != "DATABASE_URL"
    } | {
        "DATABASE_URL": f"sqlite:///{instance / 'toker.sqlite'}",
        "TOKER_INSTANCE_PATH": str(instance),
        "TOKER_ENV": "development",
        "OPENBLAS_NUM_THREADS": "1",
    }


def toker(env: dict, *args: str) -> str:
    """Run a toker command that must succeed; its output."""
    done = subprocess.run([TOKER, *args], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"toker {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def write_accounts(path: Path, first: int, count: int) -> None:
    """`count` accounts as CSV lines, the platforms in turn, user ids first, first + 1..."""
    lines = ["platform,user_id"]
    lines += [f"{PLATFORMS[n % len(PLATFORMS)]},{n}" for n in range(first, first + count)]
    path.write_text("\n".join(lines) + "\n")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def read_jobs(database: Path) -> list[tuple]:
    """(status, done, total, started_at, finished_at, counts) of every job."""
    with sqlite3.connect(database, timeout=30) as connection:
        return connection.execute(
            "SELECT status, done, total, started_at, finished_at, result FROM jobs ORDER BY id"
        ).fetchall()


def run(accounts: int, workers: int, jobs: int) -> dict:
    """One measured run on a fresh database: `jobs` jobs sharing `accounts`, `workers` threads."""
    with tempfile.TemporaryDirectory(prefix="toker-bench-jobs-") as tmp:
        instance = Path(tmp)
        env = environment(instance)
        toker(env, "db", "upgrade")
        share = accounts // jobs
        for index in range(jobs):
            csv = instance / f"accounts-{index}.csv"
            count = share if index < jobs - 1 else accounts - share * (jobs - 1)
            write_accounts(csv, index * share, count)
            toker(env, "jobs", "start", "connect", str(csv))
        database = instance / "toker.sqlite"
        with open(instance / "worker.log", "wb") as log:
            started = time.perf_counter()
            worker = subprocess.Popen(
                [TOKER, "worker", "--workers", str(workers)],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                while True:
                    time.sleep(POLL_SECONDS)
                    rows = read_jobs(database)
                    done = sum(row[1] for row in rows)
                    progress = f"\r  {workers} thread(s), {jobs} job(s): {done:,}/{accounts:,}"
                    print(progress, end="", file=sys.stderr, flush=True)
                    if all(row[0] not in ("queued", "running") for row in rows):
                        break
                    if worker.poll() is not None:
                        raise SystemExit(f"the worker exited; see {instance / 'worker.log'}")
                elapsed = time.perf_counter() - started
            finally:
                worker.terminate()
                worker.wait()
        print(file=sys.stderr)
        if any(row[0] != "done" for row in rows):
            raise SystemExit(f"a job did not finish: {rows}")
        first = min(_when(row[3]) for row in rows)
        last = max(_when(row[4]) for row in rows)
        seconds = (last - first).total_seconds()
        with sqlite3.connect(database) as connection:
            stored = connection.execute("SELECT count(*) FROM profiles").fetchone()[0]
        return {
            "accounts": accounts,
            "workers": workers,
            "jobs": jobs,
            "seconds": seconds,
            "per_second": accounts / seconds,
            "from_start": accounts / elapsed,
            "stored": stored,
            "load": os.getloadavg()[0],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000, help="N (default 10,000)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each setting")
    args = parser.parse_args()
    settings = ((1, 1), (2, 1), (2, 2))
    results = [
        run(args.accounts, workers, jobs) for _ in range(args.rounds) for workers, jobs in settings
    ]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, SQLite queue")
    print()
    print(
        "| accounts | worker threads | jobs | seconds | accounts/s | from worker start "
        "| stored | load average |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['accounts']:,} | {r['workers']} | {r['jobs']} | {r['seconds']:.1f} "
            f"| {r['per_second']:,.0f} | {r['from_start']:,.0f} | {r['stored']:,} "
            f"| {r['load']:.1f} |"
        )
    if args.rounds > 1:
        print()
        for workers, jobs in settings:
            rates = [
                r["per_second"] for r in results if r["workers"] == workers and r["jobs"] == jobs
            ]
            print(
                f"{workers} thread(s), {jobs} job(s): median {statistics.median(rates):,.0f} "
                f"accounts/s ({', '.join(f'{rate:,.0f}' for rate in rates)})"
            )


if __name__ == "__main__":
    main()
