"""`toker worker` and `toker jobs`: the task queue's worker, and jobs started, followed and
cancelled from the command line (the operator at the shell may cancel anyone's job)."""

import logging
import sys
import time

import click
from flask.cli import with_appcontext

from .cli_users import cli_actor
from .extensions import db
from .models import JOB_STATUSES, Job
from .services import jobs
from .services.accounts import audit
from .services.ingestion.connectors import ConnectorError
from .services.ingestion.platforms import PLATFORMS
from .services.jobs import hashtag_sync, queue, resync_stale, seed
from .services.jobs.connect import BadLines, decode

# How often a followed job is read again, in seconds.
FOLLOW_EVERY = 0.5


def _requester() -> jobs.Requester:
    return jobs.Requester(audit.Actor(cli_actor(), via="cli"), admin=True)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


@click.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=2,
    show_default=True,
    help="Jobs run at once, each in a thread of this process.",
)
@with_appcontext
def worker_command(workers: int):
    """Run the worker that runs queued jobs. Ctrl-C stops it after the items in hand; TERM
    stops it at once. Either way its jobs go back on the queue, and resume where they were."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    jobs_queue = queue.current()
    click.echo(f"Toker worker: {workers} at once, queue {jobs_queue.describe()}", err=True)
    jobs_queue.consume(workers)


@click.group("jobs")
def jobs_group():
    """Start, list, follow and cancel jobs (a worker runs them: toker worker)."""


@jobs_group.group("start")
def start_group():
    """Queue a job of one kind."""


@start_group.command("resync")
@click.option(
    "--profile-id",
    "profile_ids",
    type=click.IntRange(min=1),
    multiple=True,
    required=True,
    help="A stored profile to re-sync; repeat for more.",
)
@click.option("--follow", is_flag=True, help="Stay and show its progress until it ends.")
@with_appcontext
def start_resync(profile_ids: tuple[int, ...], follow: bool):
    """Re-sync profiles: fetch each account again and update it in place."""
    _start("resync", {"profile_ids": list(profile_ids)}, follow)


@start_group.command("resync-stale")
@click.option(
    "--hours",
    type=click.FloatRange(min=0, min_open=True, max=resync_stale.MAX_HOURS),
    help="Re-sync profiles last synced more than this many hours ago [default: "
    "TOKER_RESYNC_HOURS, 24].",
)
@click.option("--follow", is_flag=True, help="Stay and show its progress until it ends.")
@with_appcontext
def start_resync_stale(hours: float | None, follow: bool):
    """Re-sync every stale profile, each platform's calls paced below its rate limit (the
    worker also starts one on a schedule: TOKER_RESYNC_EVERY_MINUTES)."""
    _start("resync-stale", {"hours": hours} if hours else {}, follow)


@start_group.command("hashtag-sync")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.argument("hashtags", nargs=-1, required=True)
@click.option(
    "--max-videos",
    type=click.IntRange(1, hashtag_sync.MAX_VIDEOS),
    default=hashtag_sync.DEFAULT_VIDEOS,
    show_default=True,
    help="At most this many videos per hashtag, the newest first.",
)
@click.option("--follow", is_flag=True, help="Stay and show its progress until it ends.")
@with_appcontext
def start_hashtag_sync(platform: str, hashtags: tuple[str, ...], max_videos: int, follow: bool):
    """Store the platform's videos carrying each hashtag (with or without its #) in the
    video catalogue, deduplicated."""
    params = {"platform": platform, "hashtags": list(hashtags), "max_videos": max_videos}
    _start("hashtag-sync", params, follow)


@start_group.command("trending-sync")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.option(
    "--count",
    type=click.IntRange(1, hashtag_sync.MAX_HASHTAGS),
    default=hashtag_sync.DEFAULT_TRENDING,
    show_default=True,
    help="How many of the platform's trending hashtags.",
)
@click.option(
    "--max-videos",
    type=click.IntRange(1, hashtag_sync.MAX_VIDEOS),
    default=hashtag_sync.DEFAULT_VIDEOS,
    show_default=True,
    help="At most this many videos per hashtag, the newest first.",
)
@click.option("--follow", is_flag=True, help="Stay and show its progress until it ends.")
@with_appcontext
def start_trending_sync(platform: str, count: int, max_videos: int, follow: bool):
    """Ask the platform for its trending hashtags, then store their videos in the video
    catalogue, deduplicated."""
    params = {"platform": platform, "count": count, "max_videos": max_videos}
    _start("trending-sync", params, follow)


@start_group.command("seed")
@click.option(
    "--count",
    type=click.IntRange(min=1, max=seed.MAX_ACCOUNTS),
    default=200,
    show_default=True,
    help="Demo accounts to make (rejected ones included).",
)
@click.option(
    "--weeks",
    type=click.IntRange(min=0, max=seed.MAX_WEEKS),
    default=0,
    show_default=True,
    help="Weeks of weekly history up to now.",
)
@click.option("--platform", type=click.Choice(PLATFORMS), help="Only this platform's accounts.")
@click.option("--follow", is_flag=True, help="Stay and show its progress until it ends.")
@with_appcontext
def start_seed(count: int, weeks: int, platform: str | None, follow: bool):
    """Seed demo accounts (with weekly history) through the pipeline, as a job."""
    _start("seed", {"count": count, "weeks": weeks, "platform": platform}, follow)


@start_group.command("connect")
@click.argument("file", type=click.File("rb"))
@click.option("--follow", is_flag=True, help="Stay and show its progress until it ends.")
@with_appcontext
def start_connect(file, follow: bool):
    """Connect many accounts: FILE holds lines of platform,user_id (a CSV file, header row
    optional; - reads standard input). Every bad line is named and nothing starts."""
    try:
        text = decode(file.read())
    except BadLines as error:
        _refuse([(None, message) for message in error.messages])
    _start("connect", {"lines": text}, follow)


def _refuse(errors: list[tuple[str | None, str]]) -> None:
    click.echo("Error: the job cannot start:", err=True)
    for loc, msg in errors:
        # A bad line's message names its line; the parameter it came in is no news here.
        click.echo(f"  - {msg}" if loc in (None, "lines") else f"  - {loc}: {msg}", err=True)
    sys.exit(1)


def _start(kind: str, params: dict, follow: bool) -> None:
    try:
        job = jobs.start_job(kind, params, _requester())
    except jobs.InvalidParams as error:
        _refuse(error.errors)
    except jobs.AlreadyActive as error:
        _fail(f"{error} Follow it with 'toker jobs show {error.job_id}'.")
    except ConnectorError as error:
        _fail(f"the platform failed: {error}")
    except jobs.QueueUnavailable as error:
        _fail(str(error))
    click.echo(
        f"Started job {job.id}: {jobs.KINDS[job.kind].label}, {job.total} item(s). "
        f"Follow it with 'toker jobs show {job.id}'."
    )
    if follow:
        _print_job(_follow(job.id))


@jobs_group.command("list")
@click.option("--status", type=click.Choice(JOB_STATUSES), help="Only jobs with this status.")
@click.option(
    "--limit", type=click.IntRange(min=1, max=100), default=20, show_default=True, help="At most."
)
@with_appcontext
def list_command(status: str | None, limit: int):
    """The latest jobs, newest first: id, kind, status, progress, who started it, when."""
    found, total = jobs.list_jobs(1, limit, status)
    if not found:
        click.echo("No jobs.")
        return
    click.echo(f"{total} job(s); the latest {len(found)}:")
    for job in found:
        click.echo(
            f"{job.id:>6}  {job.kind:<13} {job.status:<9} {job.done:>6}/{job.total:<6} "
            f"{job.started_by:<24} {_when(job.created_at)}"
        )


@jobs_group.command("show")
@click.argument("job_id", type=int)
@click.option(
    "--follow/--no-follow",
    default=True,
    show_default=True,
    help="While it is queued or runs, show a progress bar until it ends.",
)
@with_appcontext
def show_command(job_id: int, follow: bool):
    """One job: status, progress, outcomes and problems."""
    try:
        job = jobs.get_job(job_id)
    except jobs.JobNotFound as error:
        _fail(str(error))
    if follow and jobs.is_active(job):
        job = _follow(job_id)
    _print_job(job)


@jobs_group.command("cancel")
@click.argument("job_id", type=int)
@with_appcontext
def cancel_command(job_id: int):
    """Cancel a queued or running job: a running one stops after the item in hand."""
    try:
        job = jobs.cancel_job(job_id, _requester())
    except (jobs.JobNotFound, jobs.JobFinished) as error:
        _fail(str(error))
    click.echo(f"Cancelled job {job_id} after {job.done} of {job.total} item(s).")


def _follow(job_id: int) -> Job:
    """Show the job's progress as a bar until it ends; the job as it ended."""
    job = jobs.get_job(job_id)
    if job.status == "queued":
        click.echo("Waiting for a worker (toker worker) to take it up...", err=True)
    shown = job.done
    with click.progressbar(
        length=job.total, label=f"Job {job_id}", show_pos=True, file=sys.stderr
    ) as bar:
        bar.update(shown)
        while jobs.is_active(job):
            time.sleep(FOLLOW_EVERY)
            db.session.rollback()  # a new read sees what the worker committed since
            job = jobs.get_job(job_id)
            bar.update(job.done - shown)
            shown = job.done
    return job


def _print_job(job: Job) -> None:
    click.echo(f"Job {job.id}: {jobs.KINDS[job.kind].label}")
    click.echo(f"  Status: {job.status} ({job.done} of {job.total} item(s) done)")
    click.echo(
        f"  Started by {job.started_by} | created {_when(job.created_at)} | "
        f"started {_when(job.started_at)} | ended {_when(job.finished_at)}"
    )
    counts = job.result.get("counts") or {}
    if counts:
        click.echo("  Outcomes: " + ", ".join(f"{n} {outcome}" for outcome, n in counts.items()))
    found = job.result.get("items") or {}
    if found:
        click.echo("  By item:")
        for item, figures in found.items():
            click.echo(f"    - {item}: " + ", ".join(f"{n} {what}" for what, n in figures.items()))
    problems = job.result.get("problems") or []
    if problems:
        click.echo("  Problems:")
        for problem in problems:
            click.echo(f"    - {problem['item']}: {problem['outcome']}: {problem['reason']}")
    if job.error:
        click.echo(f"  Error: {job.error}")
