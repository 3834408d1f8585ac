"""The change feed: which profiles each write created, updated or deleted, by data version.

Every write transaction bumps the profiles data version and records, under that version and in
the same transaction, one row per profile it changed. Writers hold the version row's lock from
the bump to their commit, so versions commit in order: once a process reads version V, every
change up to V is committed and readable. State built at version v (the look-alike matrix,
the counts behind the lists and the overview) catches up to V by refreshing only the profiles
changed in (v, V], at a cost proportional to the change.

The feed keeps the last KEEP_VERSIONS versions; state older than that is rebuilt in full.
"""

from collections import Counter, deque
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


class Recent:
    """What the last catch-ups of one piece of state read from the feed, kept so that other
    state of the process checks the same changes without asking the database again.

    Holds, for the versions (since, until], each changed profile's columns as a catch-up read
    them (None for a profile deleted since), the newest reading of each. A catch-up adds its
    versions with `add`; `since` answers for any version from `self.since` on. A check may see
    a profile changed a little before the version it asks from, and a profile as stored a
    little after `until`, as a query of the feed would: the checks it serves take both.
    """

    ROWS = 1_024  # readings kept at most: the oldest catch-ups are forgotten past it

    def __init__(self, version: int):
        self.since = self.until = version
        self._rows: dict[int, object] = {}
        self._held: Counter = Counter()  # how many kept catch-ups name each profile
        self._catchups: deque[tuple[int, tuple[int, ...]]] = deque()

    def add(self, have: int, now: int, rows: dict[int, object]) -> None:
        """Keep a catch-up from version `have` to `now`: {profile id: its reading or None}."""
        if have != self.until:  # not joined to what is kept: start again from `have`
            self.__init__(have)
        self._rows.update(rows)
        self._held.update(rows.keys())
        self._catchups.append((now, tuple(rows)))
        self.until = max(self.until, now)
        while len(self._held) > self.ROWS and len(self._catchups) > 1:
            until, pks = self._catchups.popleft()
            self.since = until
            self._held.subtract(pks)
            for pk in pks:
                if self._held[pk] <= 0:
                    del self._held[pk]
                    del self._rows[pk]

    def after(self, version: int) -> dict[int, object] | None:
        """The profiles changed by versions after `version` up to `until`, with their
        readings; None when what is kept does not reach back to `version`."""
        if not self.since <= version <= self.until:
            return None
        found: dict[int, object] = {}
        for until, pks in reversed(self._catchups):
            if until <= version:
                break
            for pk in pks:
                found[pk] = self._rows[pk]
        return found
