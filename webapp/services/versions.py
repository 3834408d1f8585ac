"""Data version stamps: a cheap way for any process to know its cached answers are stale.

Every write to profiles bumps the "profiles" stamp in the same transaction, so a cache keyed
on the stamp reflects every committed write, whichever process or command made it.
"""

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
