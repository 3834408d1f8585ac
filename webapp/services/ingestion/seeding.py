"""Bulk demo data through the real pipeline: generate, validate, vectorise and store in batches.

Each batch is generated, processed and stored in one transaction by the same process. With
several workers, every worker runs that whole loop on its own core and the database orders
their writes, so nothing large crosses between processes and memory stays flat.
"""

import contextlib
import gc
import math
import multiprocessing
import os
import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import text

from ...extensions import db
from .. import clock
from ..analytics import achievements
from .connectors import get_connector
from .platforms import PLATFORMS
from .storage import KnownVideos, apply_plan, plan_write
from .validation import PayloadRejected

# Accounts per transaction: big batches spread each commit's page writes (the link indexes)
# over more accounts; 2,000 measured fastest here. Small runs use smaller batches so that
# every worker gets several.
BATCH_SIZE = 2_000
MIN_BATCH_SIZE = 250
# Below this many accounts, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 2_000


@dataclass
class SeedReport:
    """How a seeding run went."""

    requested: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0

    @property
    def stored(self) -> int:
        return self.created + self.updated

    def add(self, other: "SeedReport") -> None:
        self.created += other.created
        self.updated += other.updated
        self.rejected += other.rejected

    @property
    def processed(self) -> int:
        return self.stored + self.rejected


@dataclass(frozen=True)
class _Chunk:
    start: int
    size: int
    platform: str | None
    seed: int | None
    min_likes: int
    # The accounts as they stand at this moment: one for the whole run, read from the app's
    # clock by the process that starts it (worker processes build apps of their own).
    as_of: datetime


class _Worker:
    """Per-process state: connectors and the videos this process has already stored."""

    def __init__(self, write_lock=None):
        self.connectors = {name: get_connector(name) for name in PLATFORMS}
        self.known = KnownVideos()
        self.write_lock = write_lock or contextlib.nullcontext()

    def run(self, chunk: _Chunk, staged: Callable | None = None) -> SeedReport:
        """Generate, process and store one chunk in one transaction; `staged(session,
        report)` writes commit with it (a job's mark that the chunk is done)."""
        from .onboarding import prepare

        records, report = [], SeedReport()
        rng = random.Random()
        for index in range(chunk.start, chunk.start + chunk.size):
            if chunk.seed is not None:
                # Account n of a seeded run is the same whatever the batch size or worker count.
                rng.seed(f"{chunk.seed}:{index}")
            platform = chunk.platform or rng.choice(PLATFORMS)
            connector = self.connectors[platform]
            raw = connector.generate(connector.new_user_id(rng), chunk.as_of)
            try:
                records.append(prepare(platform, raw, chunk.min_likes))
            except PayloadRejected:
                report.rejected += 1
        # Remember new videos only once their transaction has committed.
        known = self.known.copy()
        plan = plan_write(records, known, at=chunk.as_of)
        with self.write_lock:
            try:
                outcomes = apply_plan(db.session, plan, known)
                for outcome in outcomes:
                    if outcome.created:
                        report.created += 1
                    else:
                        report.updated += 1
                if staged is not None:
                    staged(db.session, report)
                db.session.commit()
            except BaseException:
                db.session.rollback()
                raise
        self.known = known
        return report


def new_seed() -> int:
    """A seed for a run whose accounts must be made again alike (each week, or by a job taken
    up again)."""
    return secrets.randbelow(2**31)


def seed_batch(
    start: int,
    size: int,
    *,
    seed: int,
    min_likes: int,
    as_of: datetime,
    platform: str | None = None,
    staged: Callable | None = None,
) -> SeedReport:
    """Store accounts start .. start + size - 1 of the seeded run `seed`, as they stand at
    `as_of`, in one transaction with the caller's `staged(session, report)` writes: the same
    accounts as `seed_profiles` with that seed stores, a batch at a time (a seeding job)."""
    if platform is not None and platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}")
    chunk = _Chunk(start, size, platform, seed, min_likes, as_of)
    return _Worker().run(chunk, staged)


_worker: _Worker | None = None


def _init_process(config: dict, write_lock) -> None:
    """Start a worker process: its own app, app context and connectors."""
    global _worker
    # Workers share the cores with each other; keep BLAS from oversubscribing them.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from ... import create_app

    app = create_app(config)
    app.app_context().push()
    _worker = _Worker(write_lock)
    for connector in _worker.connectors.values():
        connector.warm_up()
    # The catalogues and name pools live as long as the process: keep the cyclic garbage
    # collector from walking them again and again, and let it run less often, since batches
    # make many short-lived objects and few cycles.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def _run_in_process(chunk: _Chunk) -> SeedReport:
    return _worker.run(chunk)


def _chunks(
    count: int,
    platform: str | None,
    seed: int | None,
    min_likes: int,
    workers: int,
    as_of: datetime,
) -> Iterator[_Chunk]:
    size = max(MIN_BATCH_SIZE, min(BATCH_SIZE, math.ceil(count / (workers * 4))))
    for start in range(0, count, size):
        yield _Chunk(start, min(size, count - start), platform, seed, min_likes, as_of)


def seed_profiles(
    count: int,
    min_likes: int,
    platform: str | None = None,
    workers: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, SeedReport], None] | None = None,
    parallel_threshold: int = PARALLEL_THRESHOLD,
    as_of: datetime | None = None,
) -> SeedReport:
    """Create `count` demo accounts (rejections included) and store the accepted ones, as
    they stand at `as_of` (default: the clock's now), synced at that time.

    Runs in the current app context; with more than one worker, each worker process builds
    an app on the same database settings.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if platform is not None and platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}")
    report = SeedReport(requested=count)
    if workers is None:
        workers = os.cpu_count() or 1
    # Read here, in the app: the pool's feeder thread draws the chunks outside it.
    chunks = _chunks(count, platform, seed, min_likes, workers, as_of or clock.now())
    if workers <= 1 or count < parallel_threshold:
        worker = _Worker()
        results = map(worker.run, chunks)
        _collect(results, report, progress)
        return report
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    config = {"SQLALCHEMY_DATABASE_URI": uri, "TOKER_MIN_LIKES": min_likes}
    if uri.startswith("sqlite"):
        # Bulk upserts make a new statement text for every batch size; a small statement
        # cache keeps those large prepared statements from piling up in the workers.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"cached_statements": 16}}
        # Every link and weight row a worker writes points at a profile and videos written in
        # the same transaction, so SQLite's per-row foreign key lookups only cost time here.
        # The in-process path, which the tests drive, keeps them on.
        config["TOKER_SQLITE_FOREIGN_KEYS"] = False
        # Checkpoint every ~200 MB of WAL rather than every 4 MB: pages that every batch
        # touches (the link indexes) are copied back once per checkpoint, not once per batch.
        config["TOKER_SQLITE_WAL_AUTOCHECKPOINT"] = 50_000
        # Bulk writes revisit the same index pages batch after batch: keep more of them.
        config["TOKER_SQLITE_CACHE_MB"] = 64
    context = multiprocessing.get_context("spawn")
    # SQLite takes one writer at a time and makes the others poll with growing sleeps; a lock
    # hands the turn over at once. PostgreSQL writers run side by side.
    write_lock = context.Lock() if uri.startswith("sqlite") else None
    with context.Pool(workers, initializer=_init_process, initargs=(config, write_lock)) as pool:
        _collect(pool.imap_unordered(_run_in_process, chunks), report, progress)
    if uri.startswith("sqlite"):
        # Fold the workers' large WAL back into the database file and truncate it.
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()
    return report


def _collect(results, report: SeedReport, progress) -> None:
    for part in results:
        report.add(part)
        if progress is not None:
            progress(part.processed, report)


def seed_with_history(
    count: int,
    weeks: int,
    min_likes: int,
    platform: str | None = None,
    workers: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, SeedReport], None] | None = None,
) -> tuple[SeedReport, int]:
    """Seed `count` demo accounts as they stood `weeks` weeks ago, then sync the same accounts
    once a week up to now (a snapshot each), and rank every follower band's standing once at
    the end (analytics/achievements.award_standing). Returns the first week's report (the
    accounts as first stored; later weeks re-sync them) and how many profiles stand in their
    band's top 1 %."""
    if weeks and seed is None:
        seed = new_seed()  # the same accounts each week
    now = clock.now()
    report = SeedReport(requested=count)
    for week in range(weeks, -1, -1):
        step = seed_profiles(
            count,
            min_likes=min_likes,
            platform=platform,
            workers=workers,
            seed=seed,
            progress=progress,
            as_of=now - timedelta(weeks=week),
        )
        if week == weeks:
            report.add(step)
    ranked = achievements.award_standing(db.session, now)
    db.session.commit()
    return report, ranked
