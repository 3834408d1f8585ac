"""Exporting the (filtered) profile list as CSV or JSON, streamed row by row.

A file carries each profile's identity, the chosen columns (every summary field when none
were chosen) and always every category's share: in CSV one `share:<category>` column each,
in JSON an `interests` object."""

import csv
import io
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
    """The header and one line per profile (a selection's or a query's, each read with its
    interests): its `fields`, then every category's share."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow((*fields, *SHARE_HEADERS))
    yield flush()
    for item in items:
        shares = item["interests"]
        writer.writerow(
            [safe_cell(item[name]) for name in fields] + [shares[c] for c in CATEGORIES]
        )
        yield flush()


def json_of(items: Iterable[dict], fields: tuple[str, ...] = SUMMARY_NAMES) -> Iterator[bytes]:
    """A JSON array of profiles (each read with its interests): each with its `fields` and
    every category's share under "interests"."""
    yield b"["
    first = True
    for item in items:
        kept = {name: item[name] for name in fields}
        kept["interests"] = item["interests"]
        yield (b"" if first else b",") + orjson.dumps(kept)
        first = False
    yield b"]"
