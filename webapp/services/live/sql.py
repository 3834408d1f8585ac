"""Small SQL helpers shared by the services: upserts on SQLite and PostgreSQL alike, LIKE
patterns."""

import threading
from collections.abc import Callable
from contextlib import contextmanager

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


_built: dict[tuple[str, object], object] = {}
_built_lock = threading.Lock()


def built_once(session: Session, key, build: Callable[[Session], object]):
    """The statement `build(session)` makes, made once per kind of database and `key`.

    A write's upserts are the same statement every time: building one anew (its `excluded`
    columns) cost a connect about a tenth of its time, and the same object each time lets
    SQLAlchemy's statement cache (2.1 caches ON CONFLICT upserts) find its compiled form.
    """
    full_key = (session.get_bind().dialect.name, key)
    statement = _built.get(full_key)
    if statement is None:
        with _built_lock:
            statement = _built.get(full_key)
            if statement is None:
                statement = _built[full_key] = build(session)
    return statement


def param_marker(connection) -> str:
    """The driver's positional parameter marker, for SQL sent straight to it."""
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def escape_like(text: str) -> str:
    """Text to match literally inside a LIKE pattern with ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@contextmanager
def one_transaction(session: Session):
    """Run the block's statements in one database transaction, also where the request reads in
    autocommit (a GET on PostgreSQL, see webapp._reads_in_autocommit): a scan read a chunk at
    a time goes through a server-side cursor, which lives only inside a transaction."""
    connection = session.connection()
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        yield
        return
    connection.exec_driver_sql("BEGIN")
    try:
        yield
    finally:
        connection.exec_driver_sql("COMMIT")  # it only read
