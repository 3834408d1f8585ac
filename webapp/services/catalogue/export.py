"""Exporting the (filtered) profile list as CSV or JSON, streamed row by row.

A file carries each profile's identity, the chosen columns (every summary field when none
were chosen) and always every category's share: in CSV one `share:<category>` column each,
in JSON an `interests` object."""

import csv
import io
import itertools
from collections.abc import Iterable, Iterator

import orjson

from ..ingestion.taxonomy import CATEGORIES
from . import columns as columns_
from .profiles import SUMMARY_NAMES, ListQuery, iter_matching

FORMATS = ("csv", "json")
# A spreadsheet treats a cell starting with these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
IDENTITY = ("id", "platform", "user_id", "username")
SHARE_HEADERS = tuple(f"{columns_.SHARE}{category}" for category in CATEGORIES)


def fields_of(keys: tuple[str, ...] | None) -> tuple[str, ...]:
    """The summary fields a file carries for the chosen column keys (None: every field)."""
    if keys is None:
        return SUMMARY_NAMES
    fields = list(IDENTITY)
    for key in keys:
        field = columns_.column(key).field
        if field is not None and field not in fields:
            fields.append(field)
    return tuple(fields)


def safe_cell(value):
    """A cell a spreadsheet will show as text: formula-like strings get a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(query: ListQuery, fields: tuple[str, ...] = SUMMARY_NAMES) -> Iterator[str]:
    """The header and one line per matching profile."""
    return csv_of(iter_matching(query, interests=True), fields)


def json_chunks(query: ListQuery, fields: tuple[str, ...] = SUMMARY_NAMES) -> Iterator[bytes]:
    """A JSON array of the matching profiles, one element at a time."""
    return json_of(iter_matching(query, interests=True), fields)


def csv_of(items: Iterable[dict], fields: tuple[str, ...] = SUMMARY_NAMES) -> Iterator[str]:
    """The header and one line per profile (a selection's or a query's): its `fields`, then
    every category's share when the items carry them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    items = iter(items)
    first = next(items, None)
    shares = first is not None and "interests" in first
    writer.writerow((*fields, *SHARE_HEADERS) if shares else fields)
    yield flush()
    if first is None:
        return
    for item in itertools.chain((first,), items):
        row = [safe_cell(item[name]) for name in fields]
        if shares:
            row.extend(item["interests"][category] for category in CATEGORIES)
        writer.writerow(row)
        yield flush()


def json_of(items: Iterable[dict], fields: tuple[str, ...] = SUMMARY_NAMES) -> Iterator[bytes]:
    """A JSON array of profiles: each with its `fields` and, when the items carry them, every
    category's share under "interests"."""
    yield b"["
    first = True
    for item in items:
        kept = {name: item[name] for name in fields}
        if "interests" in item:
            kept["interests"] = item["interests"]
        yield (b"" if first else b",") + orjson.dumps(kept)
        first = False
    yield b"]"
