"""The `toker` command line: a Flask CLI group over the same services as the API."""

import functools
import json
import sys
from itertools import chain

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError, ProgrammingError

from .cli_jobs import jobs_group, start_group, worker_command
from .cli_users import cli_actor, tokens_group, users_group
from .services.accounts import audit
from .services.catalogue import profiles, raw_payloads
from .services.ingestion import onboarding
from .services.ingestion.connectors import ConnectorError
from .services.ingestion.platforms import PLATFORMS
from .services.ingestion.seeding import seed_with_history
from .services.ingestion.taxonomy import CATEGORIES
from .services.ingestion.validation import MAX_USER_ID, STAT_FIELDS, BadUserId, check_user_id

RULE = "=" * 80
CLI_USER_ID = {
    "empty": "must not be empty",
    "long": f"has at most {MAX_USER_ID} characters",
    "nul": "must not contain a NUL character",
}


def _create_app():
    from . import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
@click.version_option(package_name="toker", prog_name="toker")
def cli():
    """Toker: onboard social media accounts and explore their interest vectors."""


def database_errors(command):
    """Turn a database that is missing its tables or not answering into a clear message."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (OperationalError, ProgrammingError) as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            click.echo(f"Error: the database is not usable: {reason}", err=True)
            if "no such table" in reason or "does not exist" in reason:
                click.echo("Run 'toker db upgrade' to create or update its tables.", err=True)
            sys.exit(1)

    wrapper.handles_database_errors = True
    return wrapper


def _print_outcome(outcome: onboarding.Outcome) -> None:
    if not outcome.accepted:
        click.echo(
            f"Rejected {outcome.platform} account {outcome.user_id or ''}:".rstrip(), err=True
        )
        for problem in outcome.problems:
            where = f"{problem.loc}: " if problem.loc else ""
            click.echo(f"  - {where}{problem.msg}", err=True)
        return
    profile = profiles.get_profile(outcome.profile_id)
    verb = "Created" if outcome.status == "created" else "Updated"
    click.echo(
        f"{verb} profile {profile.id}: {profile.platform} @{profile.username} "
        f"(user id {profile.user_id})"
    )
    click.echo(
        f"  Liked videos: {outcome.liked_count} | Shared videos: {outcome.shared_count}"
        f" | Unclassified: {outcome.unclassified_count}"
    )
    tops = ", ".join(f"{t['category']} {t['weight']:.0%}" for t in profile.top_categories[:5])
    click.echo(f"  Top interests: {tops or 'none'}")


@click.command("create")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.option("--user-id", help="The account's id on the platform; a new account if omitted.")
@with_appcontext
@database_errors
def create_command(platform: str, user_id: str | None):
    """Connect one account: fetch, validate, vectorise and store it."""
    if user_id is not None:
        try:
            user_id = check_user_id(user_id)
        except BadUserId as error:
            raise click.BadParameter(CLI_USER_ID[error.reason], param_hint="--user-id") from None
    audited = onboarding.Audit(audit.Actor(cli_actor(), via="cli"))
    try:
        outcome = onboarding.connect_account(platform, user_id, audited)
    except ConnectorError as error:
        click.echo(f"Error: {error}. Nothing was stored.", err=True)
        sys.exit(1)
    _print_outcome(outcome)
    if not outcome.accepted:
        sys.exit(1)


def _date(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _header(total: int) -> None:
    click.echo(RULE)
    click.echo(f"Total: {total} profile(s)")
    click.echo(RULE)


@click.command("list")
@click.option("--platform", type=click.Choice(PLATFORMS), help="Only this platform.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many profiles.")
@with_appcontext
@database_errors
def list_command(platform: str | None, limit: int | None):
    """One summary block per profile: platform, username, likes, liked videos, created."""
    total = profiles.count_profiles(platform)
    _header(total)
    for profile in profiles.iter_profiles(platform, limit):
        click.echo()
        click.echo(
            f"ID: {profile.id} | Platform: {profile.platform} | Username: {profile.username}"
        )
        click.echo(f"  Likes: {profile.number_of_likes} | Liked videos: {profile.liked_count}")
        click.echo(f"  Created: {_date(profile.created_at)}")


def _video_lines(videos: list[dict]) -> list[str]:
    lines = []
    for video in videos:
        categories = ", ".join(video.get("categories") or []) or "-"
        hashtags = " ".join(video.get("hashtags") or []) or "-"
        lines.append(
            f"    - {video['video_id']}: categories {categories} | hashtags {hashtags} | "
            f"likes {video['likes']}, comments {video['comments']}, shares {video['shares']}"
        )
    return lines or ["    (none)"]


@click.command("listfull")
@click.option("--platform", type=click.Choice(PLATFORMS), help="Only this platform.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many profiles.")
@with_appcontext
@database_errors
def listfull_command(platform: str | None, limit: int | None):
    """Every detail of each profile: stats, videos, top 5 categories and hashtags, raw JSON."""
    total = profiles.count_profiles(platform)
    _header(total)
    for profile in profiles.iter_profiles(platform, limit):
        detail = profiles.profile_detail(profile)
        click.echo()
        click.echo(RULE)
        click.echo(
            f"ID: {profile.id} | Platform: {profile.platform} | Username: {profile.username}"
        )
        click.echo(RULE)
        click.echo(
            f"  User id: {profile.user_id} | Pseudo: {profile.user_pseudo} | "
            f"Verified: {'yes' if profile.verified else 'no'}"
        )
        click.echo(f"  Created: {_date(profile.created_at)} | Updated: {_date(profile.updated_at)}")
        click.echo("  Statistics:")
        for name in STAT_FIELDS:
            click.echo(f"    {name}: {getattr(profile, name)}")
        click.echo(f"  Liked videos ({len(detail['liked_videos'])}):")
        click.echo("\n".join(_video_lines(detail["liked_videos"])))
        click.echo(f"  Shared videos ({len(detail['shared_videos'])}):")
        click.echo("\n".join(_video_lines(detail["shared_videos"])))
        click.echo("  Top 5 categories:")
        for entry in detail["top_categories"] or []:
            click.echo(f"    {entry['category']}: {entry['weight']:.3f}")
        if not detail["top_categories"]:
            click.echo("    (none classified)")
        click.echo("  Top 5 hashtags:")
        for entry in detail["top_hashtags"] or []:
            click.echo(f"    {entry['hashtag']}: {entry['count']}")
        if not detail["top_hashtags"]:
            click.echo("    (none)")
        click.echo("  Raw JSON:")
        raw = raw_payloads.payload_of(profile.id)
        click.echo(json.dumps(raw, indent=2, ensure_ascii=False))


@click.command("seed")
@click.option(
    "--count",
    required=True,
    type=click.IntRange(min=1, max=10_000_000),
    help="How many accounts to generate (rejected ones included).",
)
@click.option("--platform", type=click.Choice(PLATFORMS), help="Only this platform; else a mix.")
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    help="Processes generating accounts (default: one per core).",
)
@click.option("--seed", "seed", type=int, help="Make the generated accounts repeatable.")
@click.option("--if-empty", is_flag=True, help="Only seed when no profile is stored yet.")
@click.option(
    "--history",
    "weeks",
    type=click.IntRange(min=0, max=520),
    default=0,
    help="Also sync the accounts as they stood each week for this many weeks up to now.",
)
@with_appcontext
@database_errors
def seed_command(
    count: int,
    platform: str | None,
    workers: int | None,
    seed: int | None,
    if_empty: bool,
    weeks: int,
):
    """Generate demo accounts through the real pipeline, with a progress bar; with --history,
    the same accounts synced once a week for that many weeks up to now (weekly snapshots)."""
    if if_empty:
        existing = profiles.count_profiles()
        if existing:
            click.echo(f"{existing} profiles already stored; not seeding.")
            return
    length = count * (weeks + 1)
    with click.progressbar(length=length, label="Seeding", file=sys.stderr, show_pos=True) as bar:
        report, ranked = seed_with_history(
            count,
            weeks,
            min_likes=int(current_app.config["TOKER_MIN_LIKES"]),
            platform=platform,
            workers=workers,
            seed=seed,
            progress=lambda done, _report: bar.update(done),
        )
    audit.record(
        cli_actor(),
        "seed",
        f"{count} accounts" + (f" on {platform}" if platform else ""),
        f"{report.stored} stored, {report.rejected} rejected",
        via="cli",
    )
    click.echo(
        f"Stored {report.stored} profiles ({report.created} created, "
        f"{report.updated} updated); rejected {report.rejected} under the rules. "
        f"{ranked} profiles stand in their follower band's top 1 % of their main interest."
        + (f" Each synced weekly for {weeks} weeks up to now." if weeks else "")
    )


@click.command("categories")
def categories_command():
    """Print the taxonomy in vector order."""
    for name in CATEGORIES:
        click.echo(name)


def register(app: Flask) -> None:
    """Add the toker commands to the app's command group."""
    for command in (
        create_command,
        list_command,
        listfull_command,
        seed_command,
        categories_command,
        users_group,
        tokens_group,
        jobs_group,
        worker_command,
    ):
        app.cli.add_command(command)
    grouped = [group.commands.values() for group in (users_group, tokens_group, jobs_group)]
    for command in [*chain(*grouped), *start_group.commands.values(), worker_command]:
        # Once, whatever the number of apps made (with_appcontext's wrapper has __wrapped__).
        if not getattr(command.callback, "handles_database_errors", False):
            command.callback = database_errors(command.callback)
