"""The change feed: which profiles each write created, updated or deleted, by data version.

Every write transaction bumps the profiles data version and records, under that version and in
the same transaction, one row per profile it changed. Writers hold the version row's lock from
the bump to their commit, so versions commit in order: once a process reads version V, every
change up to V is committed and readable. State built at version v (the look-alike matrix,
the counts behind the lists and the overview) catches up to V by refreshing only the profiles
changed in (v, V], at a cost proportional to the change.

The feed keeps the last KEEP_VERSIONS versions; state older than that is rebuilt in full.
"""

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from ...models import Profile, ProfileChange
from . import stamps
from .sql import built_once

CREATED, UPDATED, DELETED = "created", "updated", "deleted"
KEEP_VERSIONS = 50_000
PRUNE_EVERY = 500
# The data version up to which changes were pruned: state older than this cannot catch up.
FLOOR = "profiles-feed-floor"


def record(session: Session, changes: Iterable[tuple[int, str]]) -> int:
    """Bump the profiles version and record (profile id, change) rows under it; the version."""
    version = stamps.bump(session)
    now = datetime.now(UTC)
    rows = [
        {"version": version, "profile_id": pk, "change": change, "at": now}
        for pk, change in dict(changes).items()
    ]
    if rows:
        session.execute(ProfileChange.__table__.insert(), rows)
    if version % PRUNE_EVERY == 0 and version > KEEP_VERSIONS:
        prune(session, version - KEEP_VERSIONS)
    return version


def prune(session: Session, up_to: int) -> None:
    """Forget the changes of versions up to `up_to` (state older than that rebuilds)."""
    session.execute(delete(ProfileChange).where(ProfileChange.version <= up_to))
    stamps.set_value(session, FLOOR, up_to)


def changed_rows(session: Session, have: int, now: int, columns, limit: int):
    """The profiles changed by versions in (have, now] as stored now, in one round trip:
    [(profile id, *columns)], the columns None for a profile deleted since. None when the
    feed no longer reaches back to `have`, or when more than `limit` profiles changed (the
    caller rebuilds rather than patches).

    `columns` is a tuple of profile columns, whose statement is built once per process, or a
    statement from `rows_statement` that the caller keeps (its columns hold values that
    differ from caller to caller): a statement used again skips building and compiling."""
    if have < stamps.current(session, FLOOR):
        return None
    if isinstance(columns, tuple):
        key = ("changed rows", columns)
        statement = built_once(session, key, lambda _: rows_statement(columns))
    else:
        statement = columns
    rows = (
        session.connection()
        .execute(statement, {"have": have, "now": now, "limit": limit + 1})
        .all()
    )
    return None if len(rows) > limit else rows


def rows_statement(columns: tuple):
    """The statement changed_rows runs for these columns."""
    feed = ProfileChange.__table__
    changed = (
        select(feed.c.profile_id)
        .where(feed.c.version > bindparam("have"), feed.c.version <= bindparam("now"))
        .distinct()
        .subquery()
    )
    profiles = Profile.__table__
    return (
        select(changed.c.profile_id, *columns)
        .select_from(changed.outerjoin(profiles, profiles.c.id == changed.c.profile_id))
        .limit(bindparam("limit"))
    )
