"""Small SQL helpers shared by the services: upserts on SQLite and PostgreSQL alike."""

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert_statement(session: Session, table):
    """An INSERT for the session's database that supports on_conflict_do_update."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")
