"""API routes for jobs: start one, list them, read one, cancel one."""

from flask import request, url_for

from .. import queries
from ..errors import Problem
from ..security import current_requester, requires
from ..services import jobs
from ..services.ingestion.connectors import ConnectorError
from ..services.ingestion.platforms import PLATFORMS
from . import schemas
from .routes import bp, parse_body, platform_problem

# A queue that did not answer is usually back within this many seconds (Redis restarting).
QUEUE_RETRY_AFTER = 30


@bp.post("/jobs")
@requires("analyst")
def start_job():
    """Queue a job: {"kind": "resync", "params": {"profile_ids": [...]}}; 202 with the job."""
    body = parse_body(schemas.JobRequest)
    return _started(body.kind, body.job_params(), _in_params)


@bp.post("/jobs/sync/<platform>")
@requires("analyst")
def sync_hashtags(platform: str):
    """Queue a hashtag sync: {"hashtags": ["h1", ...]}; 202 with the job."""
    _known_platform(platform)
    body = parse_body(schemas.HashtagSyncRequest)
    params = {"platform": platform, "hashtags": body.hashtags, "max_videos": body.max_videos}
    return _started("hashtag-sync", params, str)


@bp.post("/jobs/sync/<platform>/trending")
@requires("analyst")
def sync_trending(platform: str):
    """Queue a sync of the platform's trending hashtags (the body may be left out); 202."""
    _known_platform(platform)
    body = parse_body(schemas.TrendingSyncRequest) if request.content_length else None
    params = {"platform": platform}
    if body is not None:
        params.update(count=body.count, max_videos=body.max_videos)
    return _started("trending-sync", params, str)


def _known_platform(platform: str) -> None:
    """A 404 for a platform Toker does not connect to, as for any other unknown resource."""
    if platform not in PLATFORMS:
        raise Problem(
            404,
            "Not Found",
            f"No platform is named {platform!r}: choose one of {', '.join(PLATFORMS)}.",
            "unknown-platform",
        )


def _started(kind: str, params: dict, located):
    """Start the job for the requester: 202 with it and its Location; `located` turns where
    a parameter is into where it is in the request body."""
    try:
        job = jobs.start_job(kind, params, current_requester())
    except jobs.InvalidParams as error:
        raise Problem(
            422,
            "Unprocessable Content",
            f"The job cannot start: {error}.",
            "invalid-body",
            errors=[{"loc": located(loc), "msg": msg} for loc, msg in error.errors],
        ) from None
    except jobs.AlreadyActive as error:
        raise Problem(
            409,
            "Conflict",
            f"{error} Follow it, or start another once it has ended.",
            "job-active",
            headers={"Location": url_for("api.get_job", job_id=error.job_id)},
            job_id=error.job_id,
        ) from None
    except ConnectorError as error:
        raise platform_problem(error) from None
    except jobs.QueueUnavailable as error:
        raise Problem(
            503,
            "Queue unavailable",
            f"{error}. Try again shortly.",
            "queue-unavailable",
            headers={"Retry-After": str(QUEUE_RETRY_AFTER)},
        ) from None
    location = url_for("api.get_job", job_id=job.id)
    return jobs.job_detail(job), 202, {"Location": location}


def _in_params(loc: str) -> str:
    """Where a problem with a job's parameters sits in the request body: profile_ids[1] ->
    params.profile_ids[1] (the body's kind was checked before)."""
    if not loc:
        return "params"
    return f"params{loc}" if loc.startswith("[") else f"params.{loc}"


@bp.get("/jobs")
def list_jobs():
    """A page of jobs, newest first: status, kind, page, per_page."""
    query = queries.JobListQuery.parse(request.args)
    found, total = jobs.list_jobs(query.page, query.per_page, query.status, query.kind)
    return {
        "items": [jobs.job_detail(job) for job in found],
        "page": query.page,
        "per_page": query.per_page,
        "total": total,
    }


@bp.get("/jobs/<int:job_id>")
def get_job(job_id: int):
    """One job: status, progress and how its items went."""
    return jobs.job_detail(jobs.get_job(job_id))


@bp.post("/jobs/<int:job_id>/cancel")
@requires("analyst")
def cancel_job(job_id: int):
    """Cancel a queued or running job: your own, or anyone's as an admin."""
    try:
        job = jobs.cancel_job(job_id, current_requester())
    except jobs.NotYourJob as error:
        raise Problem(403, "Forbidden", str(error), "forbidden") from None
    except jobs.JobFinished as error:
        raise Problem(409, "Conflict", str(error), "job-finished") from None
    return jobs.job_detail(job)
