"""Data version stamps: a cheap way for any process to know its cached answers are stale.

Every write to profiles bumps the "profiles" stamp in the same transaction, so a cache keyed
on the stamp reflects every committed write, whichever process or command made it.
"""

import threading
import time
import weakref

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import DataVersion
from .sql import upsert_statement

PROFILES = "profiles"


def bump(session: Session, name: str = PROFILES) -> None:
    """Increment a stamp inside the caller's transaction (call it last, to hold the row briefly)."""
    table = DataVersion.__table__
    stmt = upsert_statement(session, table)
    stmt = stmt.values(name=name, version=1).on_conflict_do_update(
        index_elements=[table.c.name], set_={"version": table.c.version + 1}
    )
    session.execute(stmt)


def current(session: Session, name: str = PROFILES) -> int:
    """The stamp's value now; 0 before the first write."""
    value = session.scalar(select(DataVersion.version).where(DataVersion.name == name))
    return value or 0


class VersionedCache:
    """Answers computed once per data version: valid until the next write, in any process."""

    SIZE = 512

    def __init__(self):
        # One cache per engine, so two apps in one process (tests) never share answers.
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        # Builds can take a second at 100,000 profiles: threads wait for one, not each build.
        self._lock = threading.Lock()

    def get_or_compute(
        self,
        session: Session,
        key: tuple,
        compute,
        name: str = PROFILES,
        max_stale: float = 0.0,
    ):
        """The cached answer for `key` at the current version, `compute()`d when stale.

        With `max_stale` seconds, an answer built at an older version is still served until it
        is that old: under a stream of writes, a costly build runs at most that often.
        `compute` must not ask this same cache for another answer: the lock is not reentrant.
        """
        version = current(session, name)
        engine = session.get_bind()
        entry = self._by_engine.get(engine, {}).get(key)
        if entry is not None and self._fresh(entry, version, max_stale):
            return entry[1]
        with self._lock:
            entries = self._by_engine.setdefault(engine, {})
            entry = entries.get(key)
            if entry is not None and self._fresh(entry, version, max_stale):
                return entry[1]
            value = compute()
            if len(entries) >= self.SIZE:
                entries.clear()
            entries[key] = (version, value, time.monotonic())
        return value

    @staticmethod
    def _fresh(entry: tuple, version: int, max_stale: float) -> bool:
        built_at_version, _, built = entry
        if built_at_version == version:
            return True
        return max_stale > 0 and time.monotonic() - built < max_stale
