"""The jobs table as pages, the API and the CLI use it: start a job, read one, list them,
cancel one, and a job as the API answers it."""

import logging
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import func, select, update

from ...extensions import db
from ...models import Job, is_valid_id, utcnow
from ..accounts import audit
from . import queue
from .base import InvalidParams
from .kinds import kind_of
from .runner import empty_result

log = logging.getLogger(__name__)
ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class Requester:
    """Who starts or cancels a job: the audit log's actor, their user id (None from the
    command line) and whether they may cancel other people's jobs."""

    actor: audit.Actor
    user_id: int | None = None
    admin: bool = False


class JobNotFound(LookupError):
    """No job has that id."""

    def __init__(self, job_id: int):
        super().__init__(f"No job has id {job_id}.")


class NotYourJob(PermissionError):
    """Only the person who started a job, or an admin, may cancel it."""


class JobFinished(ValueError):
    """The job is finished: there is nothing left to cancel."""


class QueueUnavailable(RuntimeError):
    """The task queue did not take the job; it is recorded as failed."""


def start_job(kind_name: str, params: dict, requester: Requester) -> Job:
    """Check the parameters, record the job and queue it. InvalidParams names every problem;
    QueueUnavailable when the queue cannot be reached (the job is then marked failed)."""
    kind = kind_of(kind_name)
    try:
        checked = kind.params.model_validate(params)
    except ValidationError as error:
        raise InvalidParams.from_validation(error) from None
    stored = kind.prepare(checked).model_dump(mode="json")
    job = Job(
        kind=kind.name,
        params=stored,
        status="queued",
        done=0,
        total=len(kind.items(stored)),
        result=empty_result(),
        user_id=requester.user_id,
        started_by=requester.actor.name[:64],
        created_at=utcnow(),
        runs=0,
    )
    db.session.add(job)
    db.session.flush()
    audit.stage(db.session, requester.actor, "job-started", f"job {job.id}", _what(job))
    db.session.commit()
    try:
        queue.current().enqueue(job.id)
    except Exception as error:  # Redis down, the queue file unwritable...
        log.exception("job %d could not be queued", job.id)
        _fail_unqueued(job.id, error)
        raise QueueUnavailable(f"The task queue did not take the job: {error}") from error
    return job


def _what(job: Job) -> str:
    return f"{kind_of(job.kind).label}: {job.total} item{'' if job.total == 1 else 's'}"


def _fail_unqueued(job_id: int, error: Exception) -> None:
    db.session.rollback()
    db.session.execute(
        update(Job.__table__)
        .where(Job.__table__.c.id == job_id)
        .values(status="failed", error=f"not queued: {error}", finished_at=utcnow())
    )
    db.session.commit()


def get_job(job_id: int) -> Job:
    """The job, read afresh; JobNotFound."""
    job = db.session.get(Job, job_id, populate_existing=True) if is_valid_id(job_id) else None
    if job is None:
        raise JobNotFound(job_id)
    return job


def list_jobs(
    page: int = 1, per_page: int = 20, status: str | None = None, kind: str | None = None
) -> tuple[list[Job], int]:
    """One page of jobs, newest first, and how many there are; optionally of one status or
    one kind."""
    query = select(Job)
    total = select(func.count()).select_from(Job)
    for column, value in ((Job.status, status), (Job.kind, kind)):
        if value:
            query, total = query.where(column == value), total.where(column == value)
    jobs = db.session.scalars(
        query.order_by(Job.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(jobs), db.session.scalar(total) or 0


def may_cancel(job: Job, requester: Requester) -> bool:
    """Whether the requester may cancel this job: their own, or anyone's for an admin."""
    return requester.admin or (requester.user_id is not None and job.user_id == requester.user_id)


def cancel_job(job_id: int, requester: Requester) -> Job:
    """Cancel a queued or running job: a running one stops after the item in hand.
    JobNotFound, NotYourJob, or JobFinished when it has ended already."""
    job = get_job(job_id)
    if not may_cancel(job, requester):
        raise NotYourJob(
            f"Job {job_id} was started by {job.started_by}; only they or an admin may cancel it."
        )
    table = Job.__table__
    cancelled = db.session.execute(
        update(table)
        .where(table.c.id == job_id, table.c.status.in_(ACTIVE))
        .values(status="cancelled", finished_at=utcnow())
    ).rowcount
    if cancelled != 1:
        db.session.rollback()
        raise JobFinished(f"Job {job_id} has ended ({get_job(job_id).status}); nothing to cancel.")
    audit.stage(
        db.session,
        requester.actor,
        "job-cancelled",
        f"job {job_id}",
        f"{job.done} of {job.total} done",
    )
    db.session.commit()
    return get_job(job_id)


def is_active(job: Job) -> bool:
    """Whether the job may still change: queued or running."""
    return job.status in ACTIVE


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def job_detail(job: Job) -> dict:
    """A job as the API answers it (schemas.JobAnswer)."""
    return {
        "id": job.id,
        "kind": job.kind,
        "label": kind_of(job.kind).label,
        "status": job.status,
        "params": job.params,
        "progress": {"done": job.done, "total": job.total},
        "result": job.result,
        "error": job.error,
        "started_by": {"id": job.user_id, "name": job.started_by},
        "runs": job.runs,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }
