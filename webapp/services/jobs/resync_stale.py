"""Re-sync of stale profiles: every profile last synced more than TOKER_RESYNC_HOURS ago, found
when the job is prepared and fixed in its parameters, so that a job taken over after a worker
died does the same profiles. Workers start one on a schedule (queue.py), never while another
is queued or running; people start one from the API, the CLI or the jobs page.

Calls to each platform are paced below its rate limit (pace.py). The items interleave the
platforms, each platform's profiles spread evenly over the whole job, so that while one
platform waits for its next turn the others go on: the job lasts about as long as its
busiest platform needs, and waits only when every platform is at its limit.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from ...extensions import db
from ...models import Job, Profile
from .. import clock
from ..accounts import audit
from ..ingestion import onboarding
from ..ingestion.platforms import PLATFORMS
from ..live import stamps
from .base import AlreadyActive, Done, Item, Kind

NAME = "resync-stale"
# Starts of this kind take this stamp's row lock first: two workers whose schedules fire at
# the same minute (or a person and a schedule) take turns, and the second finds the first.
START_LOCK = "resync-stale-start"
# The longest staleness a job may be asked for: a year.
MAX_HOURS = 24 * 366
# The schedule starts jobs as this actor.
SYSTEM = audit.Actor("system", via="schedule")
log = logging.getLogger(__name__)


def check_settings(config) -> None:
    """ValueError naming TOKER_RESYNC_HOURS or TOKER_RESYNC_EVERY_MINUTES when unusable."""
    hours = config.get("TOKER_RESYNC_HOURS")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= MAX_HOURS:
        raise ValueError(
            f"TOKER_RESYNC_HOURS must be a number of hours above 0 and at most {MAX_HOURS} "
            f"(a profile last synced longer ago than that is re-synced), not {hours!r}"
        )
    every = config.get("TOKER_RESYNC_EVERY_MINUTES")
    if isinstance(every, bool) or not isinstance(every, int) or not 0 <= every <= 7 * 24 * 60:
        raise ValueError(
            "TOKER_RESYNC_EVERY_MINUTES must be a whole number of minutes from 1 to 10080 "
            f"(a week), or 0 for no scheduled re-sync, not {every!r}"
        )


class ResyncStaleParams(BaseModel):
    """Which profiles are stale."""

    hours: float | None = Field(
        None,
        strict=True,
        gt=0,
        le=MAX_HOURS,
        description="Re-sync the profiles last synced more than this many hours ago; the "
        "server's TOKER_RESYNC_HOURS (24 by default) when left out.",
    )


class StalePlan(BaseModel):
    """A stale re-sync's stored parameters: what prepare found."""

    hours: float
    # Profiles last synced before this moment (strictly) are the job's items.
    synced_before: datetime
    # The stale profiles' ids by platform, the longest unsynced first.
    profiles: dict[str, list[int]]


def stale_cutoff(hours: float | None = None) -> datetime:
    """The moment before which a last sync is stale: now (the app's clock) minus the hours."""
    hours = hours or float(current_app.config["TOKER_RESYNC_HOURS"])
    return clock.now() - timedelta(hours=hours)


def count_stale(hours: float | None = None) -> int:
    """How many profiles are stale now."""
    cutoff = stale_cutoff(hours)
    found = db.session.scalar(select(func.count(Profile.id)).where(Profile.updated_at < cutoff))
    db.session.commit()
    return int(found or 0)


def active_job() -> int | None:
    """The id of a queued or running stale re-sync, if there is one."""
    return db.session.scalar(
        select(Job.id)
        .where(Job.kind == NAME, Job.status.in_(("queued", "running")))
        .order_by(Job.id)
        .limit(1)
    )


def prepare(params: ResyncStaleParams) -> StalePlan:
    """Find the stale profiles, unless another stale re-sync is queued or running
    (AlreadyActive). The transaction stays open: the job's row commits in it, under the
    start lock."""
    hours = params.hours or float(current_app.config["TOKER_RESYNC_HOURS"])
    cutoff = stale_cutoff(hours)
    stamps.bump(db.session, START_LOCK)
    running = active_job()
    if running is not None:
        db.session.rollback()
        raise AlreadyActive(
            running, f"Job {running} is already re-syncing stale profiles; it is queued or running."
        )
    profiles: dict[str, list[int]] = {platform: [] for platform in PLATFORMS}
    rows = db.session.execute(
        select(Profile.platform, Profile.id)
        .where(Profile.updated_at < cutoff)
        .order_by(Profile.updated_at, Profile.id)
    )
    for platform, pk in rows:
        profiles.setdefault(platform, []).append(pk)
    return StalePlan(hours=hours, synced_before=cutoff, profiles=profiles)


def items(params: dict) -> list[tuple[str, int, str]]:
    """(platform, profile id, synced_before) per stale profile: each platform's profiles spread
    evenly over the job (the k-th of n at (k + 1/2) / n), in the stored order."""
    slots = []
    for order, (platform, ids) in enumerate(params["profiles"].items()):
        slots.extend(((k + 0.5) / len(ids), order, platform, pk) for k, pk in enumerate(ids))
    slots.sort()
    before = params["synced_before"]
    return [(platform, pk, before) for _at, _order, platform, pk in slots]


def describe(value: Any) -> str:
    return f"profile {value[1]}"


def run(item: Item) -> Done:
    """Fetch the account again, at the platform's pace, and store it; a profile synced since
    the job was prepared is left as it is."""
    platform, pk, before = item.value
    account = db.session.execute(
        select(Profile.user_id, Profile.username, Profile.updated_at).where(Profile.id == pk)
    ).first()
    db.session.commit()  # no read transaction stays open while the platform answers
    if account is None:
        return Done("gone", "it was deleted after the job started")
    if clock.parse(account.updated_at) >= clock.parse(before):
        return Done("fresh")
    item.pace(platform)
    outcome = onboarding.connect_account(
        platform, account.user_id, onboarding.Audit(item.actor, "resync"), item.staged
    )
    if not outcome.accepted:
        return Done(
            "rejected",
            f"{platform} @{account.username} no longer passes the rules, so the stored "
            f"profile is unchanged: {outcome.reason}",
        )
    return Done(outcome.status)


RESYNC_STALE = Kind(
    name=NAME,
    label="Re-sync stale profiles",
    params=ResyncStaleParams,
    prepare=prepare,
    items=items,
    describe=describe,
    run=run,
)


def start_on_schedule() -> int | None:
    """What the worker's schedule does: start a stale re-sync as the system when profiles are
    stale and none is queued or running; the new job's id, or None."""
    from .records import QueueUnavailable, Requester, start_job

    if active_job() is not None or count_stale() == 0:
        db.session.commit()
        return None
    try:
        job = start_job(NAME, {}, Requester(SYSTEM))
    except AlreadyActive as error:
        log.info("scheduled re-sync not started: job %d is queued or running", error.job_id)
        return None
    except QueueUnavailable:
        log.exception("scheduled re-sync not started: the queue did not take it")
        return None
    log.info("scheduled re-sync started: job %d, %d stale profiles", job.id, job.total)
    return job.id
