"""Running a job in a worker: take it up, do its items in order, one transaction each, and keep
its row saying how far it got.

Each item is done once. Its work and the mark that it is done (the job's `done` moving from n
to n + 1) commit in one transaction, and the mark moves only for the worker holding the job's
claim at item n: a worker killed mid-item leaves neither behind, and whoever takes the job up
next starts again at that item. A second worker that took the job over meanwhile (the first
looked dead) finds the mark moved and its own write undone.

A claim is renewed by every item and while waiting; one not renewed within TOKER_JOB_LEASE
seconds is stale, and `recover_jobs` (run when a worker starts, then every minute) puts the
job back on the queue. A worker that stops hands its jobs back between items instead.
"""

import logging
import os
import secrets
import socket
import time
from datetime import timedelta
from itertools import count

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from ...extensions import db
from ...models import Job, utcnow
from ..accounts import audit
from ..ingestion.connectors import ConnectorError
from .base import Done, Item
from .kinds import kind_of
from .pace import Pace, rate_limits

log = logging.getLogger(__name__)
_jobs = Job.__table__
# The first wait before an item whose platform failed for now is tried again; it doubles with
# each try, unless the platform said how long to wait.
ITEM_BACKOFF_SECONDS = 5.0
# The result keeps the reasons of this many problems; its counts hold every item.
MAX_PROBLEMS = 100


def empty_result() -> dict:
    return {"counts": {}, "problems": []}


class ClaimLost(Exception):
    """This worker no longer holds the job: another one took it over, or it was handed back."""


class _Stopped(Exception):
    """The job was cancelled, or the worker is stopping: leave it between two items."""


def worker_name() -> str:
    """This worker process, as the claims it makes start: host:pid."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def sleep(seconds: float) -> None:
    """Wait before an item is tried again (tests replace this so that they never wait)."""
    time.sleep(seconds)


def monotonic() -> float:
    """Seconds on a clock that only goes forward, for pacing (tests replace it and `sleep`
    with a fake clock)."""
    return time.monotonic()


def lease_seconds() -> float:
    return float(current_app.config["TOKER_JOB_LEASE"])


def run_job(job_id: int, queue) -> None:
    """Run the job, or what is left of it, unless it is finished or a live worker holds it.

    `queue` is the app's JobQueue: where a job handed back goes, and whether the worker is
    stopping.
    """
    claim = f"{worker_name()}:{secrets.token_hex(4)}"
    job = _claim(job_id, claim)
    if job is None:
        return
    try:
        _Run(job, claim, queue).run()
    except ClaimLost:
        db.session.rollback()
        log.info("job %d: another worker holds it now; this one leaves it", job_id)
    except Exception as error:
        db.session.rollback()
        log.exception("job %d failed", job_id)
        _end(job_id, claim, "failed", f"{type(error).__name__}: {error}")


def _claim(job_id: int, claim: str) -> Job | None:
    """Take the job up: a queued one, or a running one whose worker stopped renewing its claim."""
    now = utcnow()
    stale = now - timedelta(seconds=lease_seconds())
    taken = db.session.execute(
        update(_jobs)
        .where(
            _jobs.c.id == job_id,
            or_(
                _jobs.c.status == "queued",
                and_(_jobs.c.status == "running", _jobs.c.heartbeat_at < stale),
            ),
        )
        .values(
            status="running",
            claim=claim,
            heartbeat_at=now,
            runs=_jobs.c.runs + 1,
            started_at=func.coalesce(_jobs.c.started_at, now),
        )
    ).rowcount
    db.session.commit()
    if taken != 1:
        return None
    return db.session.get(Job, job_id)


def _end(job_id: int, claim: str, status: str, error: str | None = None) -> None:
    """Finish a job this worker holds and let go of it (a job cancelled meanwhile stays
    cancelled)."""
    mine = (_jobs.c.id == job_id, _jobs.c.claim == claim)
    db.session.execute(
        update(_jobs)
        .where(*mine, _jobs.c.status == "running")
        .values(status=status, error=error, finished_at=utcnow())
    )
    db.session.execute(update(_jobs).where(*mine).values(claim=None))
    db.session.commit()


class _Run:
    """One worker's run of one job, from the item where the last run stopped."""

    def __init__(self, job: Job, claim: str, queue):
        self.job_id = job.id
        self.claim = claim
        self.queue = queue
        self.kind = kind_of(job.kind)
        self.items = self.kind.items(job.params)
        self.done = job.done
        self.result = job.result or empty_result()
        self.actor = audit.Actor(job.started_by, via="job")
        config = current_app.config
        self.tries = max(1, int(config["TOKER_JOB_ITEM_TRIES"]))
        self.max_wait = float(config["TOKER_JOB_MAX_WAIT"])
        self.lease = lease_seconds()
        self.pace = Pace(rate_limits(config), lambda: monotonic())
        self._marked: dict | None = None
        if job.runs > 1:
            log.info("job %d: taken up again at item %d of %d", job.id, job.done, job.total)

    def run(self) -> None:
        try:
            while self.done < len(self.items):
                self._carry_on()
                self._item(self.items[self.done])
        except _Stopped:
            return
        _end(self.job_id, self.claim, "done")
        log.info("job %d done: %s", self.job_id, self.result["counts"])

    # --- one item -------------------------------------------------------------------------

    def _item(self, value) -> None:
        """Do one item, trying again with backoff while its platform fails for now."""
        for attempt in count(1):
            self._marked = None
            try:
                done = self.kind.run(Item(value, self.actor, self._stage, self._pace))
            except ConnectorError as error:
                db.session.rollback()
                if error.retryable and attempt < self.tries:
                    wait = self._backoff(error, attempt)
                    log.warning(
                        "job %d: %s failed (%s); trying again in %.0f s",
                        self.job_id,
                        self.kind.describe(value),
                        error.message,
                        wait,
                    )
                    self._wait(wait)
                    continue
                done = Done("failed", str(error))
            break
        if self._marked is None:  # nothing was stored: the mark commits on its own
            self._stage(db.session, done)
            db.session.commit()
        self.result = self._marked
        self.done += 1

    def _stage(self, session, done: Done | str) -> None:
        """Mark the current item done in the caller's transaction, if this worker still holds
        the job at this item; else ClaimLost, which undoes the caller's write too."""
        if isinstance(done, str):  # onboarding's staged writes pass the write's status
            done = Done(done)
        result = _counted(self.result, self.kind.describe(self.items[self.done]), done)
        moved = session.execute(
            update(_jobs)
            .where(
                _jobs.c.id == self.job_id,
                _jobs.c.claim == self.claim,
                _jobs.c.done == self.done,
            )
            .values(done=self.done + 1, result=result, heartbeat_at=utcnow())
        ).rowcount
        if moved != 1:
            raise ClaimLost(self.job_id)
        self._marked = result

    def _pace(self, platform: str) -> None:
        """Wait until the platform may be called again, then count the call; a long wait
        renews the claim and stops early for a cancel or a stopping worker."""
        wait = self.pace.delay(platform)
        if wait > self.lease / 3:
            self._wait(wait)
        elif wait > 0:
            sleep(wait)
        self.pace.take(platform)

    def _backoff(self, error: ConnectorError, attempt: int) -> float:
        doubling = ITEM_BACKOFF_SECONDS * 2 ** (attempt - 1)
        return min(self.max_wait, max(error.retry_after or 0.0, doubling))

    # --- between items ----------------------------------------------------------------------

    def _carry_on(self) -> None:
        """Go on unless the job was cancelled or the worker is stopping (_Stopped); ClaimLost
        when another worker holds the job."""
        status, claim = db.session.execute(
            select(_jobs.c.status, _jobs.c.claim).where(_jobs.c.id == self.job_id)
        ).one()
        db.session.commit()
        if claim != self.claim:
            raise ClaimLost(self.job_id)
        if status == "cancelled":
            self._let_go(status="cancelled")
            log.info("job %d cancelled after %d of %d", self.job_id, self.done, len(self.items))
            raise _Stopped
        if self.queue.stopping.is_set():
            if self._let_go(status="queued"):
                self.queue.enqueue(self.job_id)
            log.info("job %d handed back at item %d: the worker stops", self.job_id, self.done)
            raise _Stopped

    def _let_go(self, status: str) -> bool:
        """Give up the claim, leaving the job in `status`; whether this worker still had it."""
        moved = db.session.execute(
            update(_jobs)
            .where(_jobs.c.id == self.job_id, _jobs.c.claim == self.claim)
            .values(status=status, claim=None)
        ).rowcount
        db.session.commit()
        return moved == 1

    def _wait(self, seconds: float) -> None:
        """Wait, renewing the claim and stopping early for a cancel or a stopping worker."""
        left = seconds
        while left > 0:
            step = min(left, self.lease / 3)
            sleep(step)
            left -= step
            renewed = db.session.execute(
                update(_jobs)
                .where(_jobs.c.id == self.job_id, _jobs.c.claim == self.claim)
                .values(heartbeat_at=utcnow())
            ).rowcount
            db.session.commit()
            if renewed != 1:
                raise ClaimLost(self.job_id)
            self._carry_on()


def _counted(result: dict, item: str, done: Done) -> dict:
    """The result with one more item counted, and its reason kept when there is one."""
    counts = dict(result.get("counts", {}))
    counts[done.outcome] = counts.get(done.outcome, 0) + 1
    for name, n in (done.tally or {}).items():
        counts[name] = counts.get(name, 0) + n
    problems = list(result.get("problems", []))
    if done.reason and len(problems) < MAX_PROBLEMS:
        problems.append({"item": item, "outcome": done.outcome, "reason": done.reason})
    counted = {**result, "counts": counts, "problems": problems}
    if done.detail is not None and len(result.get("items", ())) < MAX_PROBLEMS:
        counted["items"] = {**result.get("items", {}), item: done.detail}
    return counted


# --- jobs whose worker is gone ------------------------------------------------------------------


def recover_jobs(queue) -> list[int]:
    """Put back on the queue the jobs no worker will finish otherwise: running ones whose claim
    went stale (their worker died), and queued ones whose message the queue lost (a Redis
    restarted without persistence). Ids of jobs the queue still holds are left alone."""
    stale = utcnow() - timedelta(seconds=lease_seconds())
    lost = db.session.scalars(
        select(_jobs.c.id)
        .where(
            or_(
                and_(_jobs.c.status == "running", _jobs.c.heartbeat_at < stale),
                and_(_jobs.c.status == "queued", _jobs.c.created_at < stale),
            )
        )
        .order_by(_jobs.c.id)
    ).all()
    db.session.commit()
    if lost:
        waiting = queue.waiting()
        lost = [job_id for job_id in lost if job_id not in waiting]
    for job_id in lost:
        queue.enqueue(job_id)
    if lost:
        log.info("jobs %s put back on the queue", ", ".join(map(str, lost)))
    return lost


def hand_back(worker: str, queue) -> list[int]:
    """The jobs this worker process still holds, queued again for another worker (when it
    stops at once, mid-item: the item's write, not yet committed, is undone)."""
    held = db.session.scalars(
        select(_jobs.c.id).where(
            _jobs.c.status == "running", _jobs.c.claim.startswith(f"{worker}:", autoescape=True)
        )
    ).all()
    handed = []
    for job_id in held:
        moved = db.session.execute(
            update(_jobs)
            .where(
                _jobs.c.id == job_id,
                _jobs.c.status == "running",
                _jobs.c.claim.startswith(f"{worker}:", autoescape=True),
            )
            .values(status="queued", claim=None)
        ).rowcount
        db.session.commit()
        if moved:
            queue.enqueue(job_id)
            handed.append(job_id)
    if handed:
        log.info("jobs %s handed back: the worker stopped", ", ".join(map(str, handed)))
    return handed
