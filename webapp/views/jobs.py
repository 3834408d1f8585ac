"""Job pages: every job with its live progress, one job in detail, and cancelling one."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import queries
from ..models import JOB_STATUSES
from ..security import current_requester, requires
from ..services import jobs
from ..services.accounts import users
from ..services.catalogue.profiles import page_count
from ..services.ingestion.connectors import ConnectorError
from .htmx import render_page_or_partial

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
# A job's page links this many of its profiles; the count says how many more there are.
PROFILES_LINKED = 50


@bp.get("")
def index():
    """Every job, newest first; the row of each running one follows its progress."""
    try:
        query = queries.JobListQuery.parse(request.args)
    except queries.BadQuery as error:
        abort(400, description=str(error))
    found, total = jobs.list_jobs(query.page, query.per_page, query.status, query.kind)
    return render_template(
        "jobs.html",
        section="jobs",
        jobs=[jobs.job_detail(job) for job in found],
        total=total,
        page=query.page,
        pages=page_count(total, query.per_page),
        status=query.status,
        statuses=JOB_STATUSES,
        resync_hours=current_app.config["TOKER_RESYNC_HOURS"],
        resync_every=current_app.config["TOKER_RESYNC_EVERY_MINUTES"],
    )


@bp.get("/<int:job_id>/row")
def row(job_id: int):
    """One job's row of the list, asked for every second while the job is queued or runs."""
    return render_template("partials/_job_row.html", job=jobs.job_detail(jobs.get_job(job_id)))


@bp.get("/<int:job_id>")
def detail(job_id: int):
    """One job: its progress (followed every second while it runs), outcomes and problems,
    and what it was asked to do; htmx asks for the progress card alone."""
    job = jobs.get_job(job_id)
    cancellable = (
        jobs.is_active(job)
        and users.has_role(current_user, "analyst")
        and jobs.may_cancel(job, current_requester())
    )
    return render_page_or_partial(
        "job.html",
        "partials/_job.html",
        section="jobs",
        job=jobs.job_detail(job),
        cancellable=cancellable,
        profiles_linked=PROFILES_LINKED,
    )


@bp.post("/<int:job_id>/cancel")
@requires("analyst")
def cancel(job_id: int):
    """Cancel a job, yours or (as an admin) anyone's, then show it."""
    try:
        job = jobs.cancel_job(job_id, current_requester())
    except jobs.NotYourJob as error:
        abort(403, description=str(error))
    except jobs.JobFinished as error:
        flash(str(error), "error")
    else:
        flash(
            f"Job {job_id} cancelled after {job.done} of {job.total} items; what those stored "
            "stays.",
            "success",
        )
    return redirect(url_for("jobs.detail", job_id=job_id), code=303)


def _start(kind: str, params: dict, back: str):
    """Start a job for the signed-in user and show it; a refusal is flashed on `back`."""
    try:
        job = jobs.start_job(kind, params, current_requester())
    except jobs.InvalidParams as error:
        problems = "; ".join(f"{loc}: {msg}" if loc else msg for loc, msg in error.errors)
        flash(f"The job cannot start: {problems}.", "error")
        return redirect(back, code=303)
    except jobs.AlreadyActive as error:
        flash(str(error), "error")
        return redirect(url_for("jobs.detail", job_id=error.job_id), code=303)
    except ConnectorError as error:
        flash(f"The platform failed: {error}", "error")
        return redirect(back, code=303)
    except jobs.QueueUnavailable as error:
        flash(f"{error}. Try again shortly.", "error")
        return redirect(back, code=303)
    flash(f"Job {job.id} started: {jobs.job_detail(job)['label']}.", "success")
    return redirect(url_for("jobs.detail", job_id=job.id), code=303)


@bp.post("/resync-stale")
@requires("analyst")
def resync_stale():
    """Start a re-sync of every stale profile, then show the job."""
    return _start("resync-stale", {}, url_for("jobs.index"))


@bp.post("/sync")
@requires("analyst")
def sync_hashtags():
    """Start a hashtag sync from the video catalogue's form (hashtags separated by spaces or
    commas), then show the job."""
    platform = request.form.get("platform", "")
    hashtags = request.form.get("hashtags", "").replace(",", " ").split()
    params = {"platform": platform, "hashtags": hashtags}
    return _start("hashtag-sync", params, url_for("pages.video_list"))


@bp.post("/sync/trending")
@requires("analyst")
def sync_trending():
    """Start a sync of a platform's trending hashtags, then show the job."""
    platform = request.form.get("platform", "")
    return _start("trending-sync", {"platform": platform}, url_for("pages.video_list"))
