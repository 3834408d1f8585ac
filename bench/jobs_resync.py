"""A scheduled re-sync of many profiles: how fast one `resync-stale` job gets through them.

Seeds N accounts on a fresh, migrated database as of one day (TOKER_CLOCK), moves the clock two
days on so that every profile is stale, starts the job as the schedule would (`toker jobs
start resync-stale`) and lets one `toker worker` run it on the SQLite queue. The rate is the
job's items over its own running time (the jobs row: started to finished), so the worker's
start is not counted. The platforms' rate limits are lifted for the measure (what Toker
itself costs); the time the default limits would take for the same profiles is printed
beside it: at those limits the platforms, not Toker, set the pace.

    .venv/bin/python bench/jobs_resync.py                      # N = 10,000 on SQLite
    .venv/bin/python bench/jobs_resync.py --count 100000       # the README's target
    .venv/bin/python bench/jobs_resync.py --database-url postgresql+psycopg://...
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

TOKER = str(Path(sys.executable).with_name("toker"))
SEED_DAY = date(2026, 12, 1)
# High enough that no pace ever waits: what is measured is Toker's own work.
UNLIMITED = "tiktok=1000000/1,instagram=1000000/1,x=1000000/1"


def toker(env: dict, *args: str) -> str:
    done = subprocess.run([TOKER, *args], env=env, check=True, capture_output=True, text=True)
    return done.stdout


def prepare(args, workdir: Path) -> dict:
    """The environment of the seed, the start and the worker, on a fresh database."""
    url = args.database_url or f"sqlite:///{workdir / 'toker.sqlite'}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("TOKER_")}
    env.update(
        DATABASE_URL=url,
        TOKER_INSTANCE_PATH=str(workdir / "instance"),
        TOKER_QUEUE_URL=f"sqlite:///{workdir / 'queue.sqlite'}",
        TOKER_RESYNC_EVERY_MINUTES="0",  # the bench starts the job itself
        TOKER_CLOCK=SEED_DAY.isoformat(),
        OPENBLAS_NUM_THREADS="1",
    )
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    toker(env, "db", "upgrade")
    started = time.perf_counter()
    toker(env, "seed", "--count", str(args.count), "--seed", "11")
    print(
        f"seeded {args.count:,} accounts in {time.perf_counter() - started:.0f} s", file=sys.stderr
    )
    return env


def default_pace_seconds(engine) -> float:
    """How long the connectors' own rate limits alone would make the same re-sync last."""
    from webapp.services.ingestion.connectors import get_connector

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT platform, count(*) FROM profiles GROUP BY 1"))
        counts = dict(rows.all())
    return max(
        (n * get_connector(platform).rate_limit.interval for platform, n in counts.items()),
        default=0.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="accounts seeded")
    parser.add_argument("--database-url", help="PostgreSQL instead of a SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="toker-resync-") as tmp:
        workdir = Path(tmp)
        env = prepare(args, workdir)
        engine = create_engine(env["DATABASE_URL"])
        env.update(
            TOKER_CLOCK=(SEED_DAY + timedelta(days=2)).isoformat(),
            TOKER_PLATFORM_RATE_LIMITS=UNLIMITED,
        )
        print(toker(env, "jobs", "start", "resync-stale").strip(), file=sys.stderr)
        worker = subprocess.Popen(
            [TOKER, "worker", "--workers", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                time.sleep(1)
                with engine.connect() as connection:
                    row = connection.execute(
                        text("SELECT status, done, total FROM jobs ORDER BY id DESC LIMIT 1")
                    ).one()
                print(f"\r{row.done:,} of {row.total:,}", end="", file=sys.stderr)
                if row.status not in ("queued", "running"):
                    break
        finally:
            worker.terminate()
            worker.wait()
        print(file=sys.stderr)
        with engine.connect() as connection:
            job = connection.execute(
                text("SELECT status, total, result, started_at, finished_at FROM jobs")
            ).one()
        # SQLite hands the times back as text.
        started, finished = (
            datetime.fromisoformat(value) if isinstance(value, str) else value
            for value in (job.started_at, job.finished_at)
        )
        seconds = (finished - started).total_seconds()
        paced = default_pace_seconds(engine)
        engine.dispose()
    backend = "PostgreSQL" if env["DATABASE_URL"].startswith("postgresql") else "SQLite"
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {backend}")
    print(f"job: {job.status}, {job.total:,} stale profiles, outcomes {job.result}")
    print(f"re-synced in {seconds:,.1f} s: {job.total / seconds:,.0f} profiles/s (one worker)")
    print(f"at the platforms' default rate limits the same job would take {paced / 60:,.0f} min")


if __name__ == "__main__":
    main()
