"""Raw payloads kept compressed: JSON as received, zlib-compressed, behind a format byte.

A stored payload is one byte naming its format, then the compressed JSON. The byte lets a
later format (zstd with a trained dictionary, say) be added beside this one: rows written in
an older format stay readable, so adding one needs no migration.

- 1: orjson's compact JSON, zlib-compressed. Key order and values come back as written.
- 2: the standard library's compact JSON, zlib-compressed: for payloads holding an integer
  beyond 64 bits, which orjson can neither write nor read back exactly.
"""

import json
import zlib

import orjson
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

ORJSON_ZLIB = 1
STDLIB_JSON_ZLIB = 2
# zlib's default: within 1 % of level 9 on payloads, at the same speed (bench/size.py).
LEVEL = 6


def pack(payload: dict) -> bytes:
    """The stored form of a payload: a format byte, then its JSON compressed."""
    try:
        return bytes((ORJSON_ZLIB,)) + zlib.compress(orjson.dumps(payload), LEVEL)
    except TypeError:  # an integer past 64 bits
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return bytes((STDLIB_JSON_ZLIB,)) + zlib.compress(text.encode(), LEVEL)


def unpack(blob: bytes) -> dict:
    """The payload a stored blob holds, exactly as it was packed."""
    fmt, body = blob[0], zlib.decompress(memoryview(blob)[1:])
    if fmt == ORJSON_ZLIB:
        return orjson.loads(body)
    if fmt == STDLIB_JSON_ZLIB:
        return json.loads(body)
    raise ValueError(f"unknown payload format {fmt}")


class CompressedJSON(TypeDecorator):
    """A JSON value stored as `pack` bytes: BLOB on SQLite, bytea on PostgreSQL.

    Bytes pass through unchanged, so a bulk writer can pack its rows ahead of time (outside
    the database's write lock) and hand the blobs over.
    """

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or isinstance(value, bytes):
            return value
        return pack(value)

    def process_result_value(self, value, dialect):
        return None if value is None else unpack(value)
