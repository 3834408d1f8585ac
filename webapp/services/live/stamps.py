"""Data version stamps: a cheap way for any process to know its cached answers are stale.

Every write to profiles bumps the "profiles" stamp in the same transaction, so a cache keyed
on the stamp reflects every committed write, whichever process or command made it.
"""

import threading
import time
import weakref

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, scoped_session

from ...models import DataVersion
from .sql import built_once, upsert_statement

PROFILES = "profiles"


def bump(session: Session, name: str = PROFILES) -> int:
    """Increment a stamp inside the caller's transaction; return its new value.

    The stamp's row stays locked until the transaction ends, so writers that bump take turns
    and their versions commit in order. Call it late, to hold the row briefly.
    """
    value = session.execute(built_once(session, "bump", _bump), {"name": name}).scalar_one()
    _seen(session)[name] = value
    return value


def _bump(session: Session):
    table = DataVersion.__table__
    stmt = upsert_statement(session, table)
    return (
        stmt.values(name=bindparam("name"), version=1)
        .on_conflict_do_update(index_elements=[table.c.name], set_={"version": table.c.version + 1})
        .returning(table.c.version)
    )


def set_value(session: Session, name: str, value: int) -> None:
    """Set a stamp to a value inside the caller's transaction."""
    table = DataVersion.__table__
    stmt = upsert_statement(session, table)
    stmt = stmt.values(name=name, version=value).on_conflict_do_update(
        index_elements=[table.c.name], set_={"version": value}
    )
    session.execute(stmt)
    _seen(session)[name] = value


_table = DataVersion.__table__
# Built once: most requests read the stamps, and a statement kept is compiled and keyed once.
# There are a handful of them (the profiles version, the change feed's floor): one read
# brings them all, so a request that needs two pays one round trip.
_ALL = select(_table.c.name, _table.c.version)


def _seen(session: Session) -> dict[str, int]:
    """The stamps read or written in the session's current transaction (a new transaction
    starts with none)."""
    if isinstance(session, scoped_session):
        session = session()
    session.connection()  # begins the transaction if none has begun
    transaction = session.get_transaction()
    kept = session.info.get("stamps_seen")
    if kept is None or kept[0] is not transaction:
        kept = session.info["stamps_seen"] = (transaction, {})
    return kept[1]


def current(session: Session, name: str = PROFILES) -> int:
    """The stamp's value now; 0 before the first write. The stamps are read once per
    transaction, all together: a request asks for them several times (its cached answers,
    the matrix, the totals, the feed's floor), and on PostgreSQL each read was a round trip."""
    seen = _seen(session)
    value = seen.get(name)
    if value is None:
        stored = dict(session.connection().execute(_ALL).all())
        # What this transaction wrote stands; the rest is read now.
        seen.update({key: value for key, value in stored.items() if key not in seen})
        value = seen.setdefault(name, 0)
    return value


class VersionedCache:
    """Answers computed once per data version: valid until the next write, in any process.

    Each key has its own lock, so a slow build of one answer never holds up another. Threads
    asking for a key whose new answer another thread is building wait for it; with a
    `max_stale` allowance they are served the previous answer instead. At most `size` answers
    are kept.
    """

    def __init__(self, size: int = 512):
        self.size = size
        # One cache per engine, so two apps in one process (tests) never share answers.
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._locks: dict[tuple[int, tuple], threading.Lock] = {}
        self._guard = threading.Lock()

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
        """
        version = current(session, name)
        engine = session.get_bind()
        with self._guard:
            entries = self._by_engine.setdefault(engine, {})
            if len(self._locks) > 4 * self.size:  # keys come and go (searches): forget idle ones
                self._locks = {k: held for k, held in self._locks.items() if held.locked()}
            lock = self._locks.setdefault((id(engine), key), threading.Lock())
        entry = entries.get(key)
        if entry is not None and self._fresh(entry, version, max_stale):
            return entry[1]
        if not lock.acquire(blocking=entry is None or max_stale <= 0):
            return entry[1]  # another thread is building the new answer: serve the previous
        try:
            entry = entries.get(key)
            if entry is not None and self._fresh(entry, version, max_stale):
                return entry[1]
            value = compute()
            with self._guard:
                if len(entries) >= self.size:
                    entries.clear()
                entries[key] = (version, value, time.monotonic())
        finally:
            lock.release()
        return value

    @staticmethod
    def _fresh(entry: tuple, version: int, max_stale: float) -> bool:
        built_at_version, _, built = entry
        if built_at_version == version:
            return True
        return max_stale > 0 and time.monotonic() - built < max_stale
