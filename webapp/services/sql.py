"""Small SQL helpers shared by the services: upserts on SQLite and PostgreSQL alike, LIKE
patterns."""

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


def escape_like(text: str) -> str:
    """Text to match literally inside a LIKE pattern with ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
