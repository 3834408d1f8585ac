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

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...models import ProfileChange
from . import stamps

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


def changed_since(session: Session, have: int, now: int) -> set[int] | None:
    """Ids of the profiles changed by versions in (have, now]; None when the feed no longer
    reaches back to `have` (the caller rebuilds)."""
    if have < stamps.current(session, FLOOR):
        return None
    return set(
        session.scalars(
            select(ProfileChange.profile_id).where(
                ProfileChange.version > have, ProfileChange.version <= now
            )
        )
    )
