"""Small SQL helpers shared by the services: upserts on SQLite and PostgreSQL alike, LIKE
patterns."""

import threading
from collections.abc import Callable
from contextlib import contextmanager

from sqlalchemy import func, select, type_coerce
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


def json_list_has(session: Session, column, value: str):
    """Whether a JSON list column (models.JSONType) holds `value` as one of its elements: a
    containment PostgreSQL's JSONB indexes can answer, a `json_each` probe on SQLite. Either
    way the value is a bound parameter, matched whole (never a LIKE on the JSON text)."""
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(column, postgresql.JSONB).contains([value])
    element = func.json_each(column).table_valued("value")
    return select(1).select_from(element).where(element.c.value == value).exists()


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


def _unnested(connection, table, columns: tuple[str, ...]) -> str:
    """PostgreSQL: a SELECT of the rows given as one array parameter a column."""
    dialect = connection.dialect
    arrays = ", ".join(f"%s::{table.c[name].type.compile(dialect=dialect)}[]" for name in columns)
    return f"SELECT * FROM unnest({arrays}) AS given ({', '.join(columns)})"


def _by_column(rows: list[tuple]) -> tuple[list, ...]:
    return tuple(list(values) for values in zip(*rows, strict=True))


# On PostgreSQL, many rows go to the server as one array a column in one statement: one plan
# and one round trip, where the driver's executemany runs the statement once a row (a
# connect's ~60 link rows took 2.4 ms that way, its ~60 per-video counts 2.1). SQLite runs in
# the process, where executemany's cost a row is small: there the rows go through it. Either
# way values are sent as data, never formatted into SQL.


def insert_rows(
    connection, table, columns: tuple[str, ...], rows: list[tuple], tail: str = ""
) -> None:
    """INSERT rows of plain values, in `columns` order, then `tail` (an ON CONFLICT clause)."""
    if not rows:
        return
    head = f"INSERT INTO {table.name} ({', '.join(columns)})"
    if connection.dialect.name == "postgresql":
        source = _unnested(connection, table, columns)
        connection.exec_driver_sql(f"{head} {source} {tail}", _by_column(rows))
        return
    marker = param_marker(connection)
    values = ", ".join([marker] * len(columns))
    connection.exec_driver_sql(f"{head} VALUES ({values}) {tail}", rows)


def delete_rows(connection, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """DELETE the rows whose `columns` (a key) hold one of the given value tuples."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        source = _unnested(connection, table, columns)
        connection.exec_driver_sql(
            f"DELETE FROM {table.name} WHERE ({', '.join(columns)}) IN ({source})",
            _by_column(rows),
        )
        return
    marker = param_marker(connection)
    where = " AND ".join(f"{name} = {marker}" for name in columns)
    connection.exec_driver_sql(f"DELETE FROM {table.name} WHERE {where}", rows)


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
