"""Bulk demo data through the real pipeline: generate, validate, vectorise and store in batches.

Each batch is generated, processed and stored in one transaction by the same process. With
several workers, every worker runs that whole loop on its own core and the database orders
their writes, so nothing large crosses between processes and memory stays flat.
"""

import multiprocessing
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import current_app

from ..extensions import db
from .connectors import PLATFORMS, get_connector
from .storage import KnownVideos, store_profiles
from .validation import PayloadRejected

BATCH_SIZE = 250
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


class _Worker:
    """Per-process state: connectors and the videos this process has already stored."""

    def __init__(self):
        self.connectors = {name: get_connector(name) for name in PLATFORMS}
        self.known = KnownVideos()

    def run(self, chunk: _Chunk) -> SeedReport:
        """Generate, process and store one chunk in one transaction."""
        from .onboarding import prepare

        rng = (
            random.Random() if chunk.seed is None else random.Random(f"{chunk.seed}:{chunk.start}")
        )
        records, report = [], SeedReport()
        for _ in range(chunk.size):
            platform = chunk.platform or rng.choice(PLATFORMS)
            connector = self.connectors[platform]
            raw = connector.generate(connector.new_user_id(rng))
            try:
                records.append(prepare(platform, raw, chunk.min_likes))
            except PayloadRejected:
                report.rejected += 1
        # Remember new videos only once their transaction has committed.
        staged = self.known.copy()
        try:
            outcomes = store_profiles(db.session, records, staged)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        self.known = staged
        for outcome in outcomes:
            if outcome.created:
                report.created += 1
            else:
                report.updated += 1
        return report


_worker: _Worker | None = None


def _init_process(config: dict) -> None:
    """Start a worker process: its own app, app context and connectors."""
    global _worker
    # Workers share the cores with each other; keep BLAS from oversubscribing them.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from .. import create_app

    app = create_app(config)
    app.app_context().push()
    _worker = _Worker()


def _run_in_process(chunk: _Chunk) -> SeedReport:
    return _worker.run(chunk)


def _chunks(count: int, platform: str | None, seed: int | None, min_likes: int) -> Iterator[_Chunk]:
    for start in range(0, count, BATCH_SIZE):
        yield _Chunk(start, min(BATCH_SIZE, count - start), platform, seed, min_likes)


def seed_profiles(
    count: int,
    min_likes: int,
    platform: str | None = None,
    workers: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, SeedReport], None] | None = None,
    parallel_threshold: int = PARALLEL_THRESHOLD,
) -> SeedReport:
    """Create `count` demo accounts (rejections included) and store the accepted ones.

    Runs in the current app context; with more than one worker, each worker process builds
    an app on the same database settings.
    """
    if count < 0:
        raise ValueError("count must not be negative")
    if platform is not None and platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}")
    report = SeedReport(requested=count)
    chunks = _chunks(count, platform, seed, min_likes)
    if workers is None:
        workers = os.cpu_count() or 1
    if workers <= 1 or count < parallel_threshold:
        worker = _Worker()
        results = map(worker.run, chunks)
        _collect(results, report, progress)
        return report
    config = {
        "SQLALCHEMY_DATABASE_URI": current_app.config["SQLALCHEMY_DATABASE_URI"],
        "TOKER_MIN_LIKES": min_likes,
    }
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_process, initargs=(config,)) as pool:
        _collect(pool.imap_unordered(_run_in_process, chunks), report, progress)
    return report


def _collect(results, report: SeedReport, progress) -> None:
    for part in results:
        report.add(part)
        if progress is not None:
            progress(part.processed, report)
