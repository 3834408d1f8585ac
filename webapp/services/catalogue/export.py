"""Exporting the (filtered) profile list as CSV or JSON, streamed row by row."""

import csv
import io
from collections.abc import Iterable, Iterator

import orjson

from .profiles import SUMMARY_NAMES, ListQuery, iter_matching

FORMATS = ("csv", "json")
# A spreadsheet treats a cell starting with these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A cell a spreadsheet will show as text: formula-like strings get a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(query: ListQuery) -> Iterator[str]:
    """The header and one line per matching profile."""
    return csv_of(iter_matching(query))


def json_chunks(query: ListQuery) -> Iterator[bytes]:
    """A JSON array of the matching profiles' summaries, one element at a time."""
    return json_of(iter_matching(query))


def csv_of(items: Iterable[dict]) -> Iterator[str]:
    """The header and one line per profile summary (a selection's or a query's)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow(SUMMARY_NAMES)
    yield flush()
    for item in items:
        writer.writerow([safe_cell(item[name]) for name in SUMMARY_NAMES])
        yield flush()


def json_of(items: Iterable[dict]) -> Iterator[bytes]:
    """A JSON array of profile summaries, one element at a time."""
    yield b"["
    first = True
    for item in items:
        yield (b"" if first else b",") + orjson.dumps(item)
        first = False
    yield b"]"
