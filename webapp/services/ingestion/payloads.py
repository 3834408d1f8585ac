"""Raw payloads kept compressed: JSON as received, behind a header naming its format.

A stored payload is one byte naming its format, then what that format says. Rows written in
an older format stay readable, so a new format needs no migration of old rows.

- 1: orjson's compact JSON, zlib-compressed. Key order and values come back as written.
- 2: the standard library's compact JSON, zlib-compressed: for payloads holding an integer
  beyond 64 bits, which orjson can neither write nor read back exactly.
- 3: two bytes naming a compression dictionary (big-endian id), then orjson's compact JSON
  as a zstd frame compressed with that dictionary. What is written today.

Dictionaries live in the database (`payload_dictionaries`, by id), so every row stays
readable for as long as the database does, whatever dictionaries later code ships. The one
new payloads are written with is CURRENT_DICTIONARY, a file shipped under services/ingestion/data/
(trained by scripts/train_payload_dictionary.py) that the schema inserts when it creates the
table. A payload naming a dictionary the database does not hold is refused with an error
that names it.
"""

import hashlib
import json
import threading
import zlib
from collections.abc import Callable
from functools import cache
from importlib import resources

import orjson
import zstandard

ORJSON_ZLIB = 1
STDLIB_JSON_ZLIB = 2
ORJSON_ZSTD_DICTIONARY = 3
# zlib's default: within 1 % of level 9 on payloads, at the same speed (bench/size.py).
LEVEL = 6
# zstd level 5 with a 4 MiB dictionary: 700 bytes a payload in less time than zlib's 2,550
# (bench/size.py --codecs); level 3 barely uses a dictionary this large.
ZSTD_LEVEL = 5

# id -> (name, file under services/ingestion/data/). Ids are never reused: rows name them forever.
# 1 learnt the accounts before they had dates; 2 learns them as a history's syncs see them,
# over the 120 days before 2026-12-07 (1,277 -> 702 bytes a payload of today's accounts);
# 3 learns the platforms' own category mixes and captions written like posts (migration 0020).
SHIPPED_DICTIONARIES = {
    1: ("mock-platforms-2026-12", "payload-dictionary-1.zstd"),
    2: ("mock-platforms-2026-12-dated", "payload-dictionary-2.zstd"),
    3: ("mock-platforms-2026-12-captions", "payload-dictionary-3.zstd"),
}
CURRENT_DICTIONARY = 3


class PayloadError(ValueError):
    """A stored payload that cannot be read: an unknown format or dictionary."""


def shipped_dictionary(dictionary_id: int) -> bytes:
    """The bytes of a dictionary that ships with the code, read from its file (4 MiB: not kept;
    the prepared dictionary holds its own copy)."""
    _name, filename = SHIPPED_DICTIONARIES[dictionary_id]
    return resources.files("webapp.services.ingestion").joinpath("data", filename).read_bytes()


_prepared: dict[bytes, zstandard.ZstdCompressionDict] = {}
_prepared_lock = threading.Lock()
_for_compression: set[int] = set()  # id() of the prepared dictionaries that compress too


def prepare(data: bytes) -> zstandard.ZstdCompressionDict:
    """A dictionary ready for reading, prepared once per process for all threads and copies.
    Its compression tables (2.7 MiB for the shipped dictionary) are made only by a process that
    writes (_compressor): a worker that only reads payloads does not hold them."""
    digest = hashlib.sha256(data).digest()
    with _prepared_lock:
        prepared = _prepared.get(digest)
        if prepared is None:
            prepared = zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_FULLDICT)
            _prepared[digest] = prepared
    return prepared


def _for_writing(prepared: zstandard.ZstdCompressionDict) -> zstandard.ZstdCompressionDict:
    """The dictionary with its compression tables made (once): without them every compress
    would digest the whole dictionary again."""
    with _prepared_lock:
        if id(prepared) not in _for_compression:
            prepared.precompute_compress(level=ZSTD_LEVEL)
            _for_compression.add(id(prepared))
    return prepared


class Dictionaries:
    """Dictionaries by id for one database, each read once: ids never change their bytes."""

    def __init__(self) -> None:
        self._found: dict[int, zstandard.ZstdCompressionDict] = {}
        self._loading = threading.Lock()

    def get(
        self, dictionary_id: int, load: Callable[[int], bytes | None]
    ) -> zstandard.ZstdCompressionDict | None:
        """The prepared dictionary, reading its bytes with `load` the first time (one thread
        reads; the others that want it meanwhile wait for it rather than read it too)."""
        found = self._found.get(dictionary_id)
        if found is None:
            with self._loading:
                found = self._found.get(dictionary_id)
                if found is None:
                    data = load(dictionary_id)
                    if data is None:
                        return None
                    found = self._found[dictionary_id] = prepare(data)
        return found


_local = threading.local()  # zstd (de)compressors are not safe to share between threads


def _compressor(dictionary_id: int) -> zstandard.ZstdCompressor:
    compressors = getattr(_local, "compressors", None)
    if compressors is None:
        compressors = _local.compressors = {}
    compressor = compressors.get(dictionary_id)
    if compressor is None:
        # The header names the dictionary, and the database checks its pages: no dictionary
        # id or checksum in the frame (4 to 8 bytes a row).
        compressor = compressors[dictionary_id] = zstandard.ZstdCompressor(
            level=ZSTD_LEVEL,
            dict_data=_for_writing(_shipped(dictionary_id)),
            write_checksum=False,
            write_dict_id=False,
        )
    return compressor


def _decompressor(dictionary: zstandard.ZstdCompressionDict) -> zstandard.ZstdDecompressor:
    decompressors = getattr(_local, "decompressors", None)
    if decompressors is None:
        decompressors = _local.decompressors = {}
    # Prepared dictionaries live as long as the process, so their id() names them.
    found = decompressors.get(id(dictionary))
    if found is None:
        found = decompressors[id(dictionary)] = zstandard.ZstdDecompressor(dict_data=dictionary)
    return found


def pack(payload: dict, dictionary_id: int = CURRENT_DICTIONARY) -> bytes:
    """The stored form of a payload: its header, then its JSON compressed (with the current
    dictionary; a migration names the one its revision's database holds)."""
    try:
        text = orjson.dumps(payload)
    except TypeError:  # an integer past 64 bits
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return bytes((STDLIB_JSON_ZLIB,)) + zlib.compress(text.encode(), LEVEL)
    header = bytes((ORJSON_ZSTD_DICTIONARY,)) + dictionary_id.to_bytes(2, "big")
    return header + _compressor(dictionary_id).compress(text)


def pack_zlib(payload: dict) -> bytes:
    """A payload in format 1 (or 2), as migration 0007 wrote it: for downgrades."""
    try:
        return bytes((ORJSON_ZLIB,)) + zlib.compress(orjson.dumps(payload), LEVEL)
    except TypeError:
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return bytes((STDLIB_JSON_ZLIB,)) + zlib.compress(text.encode(), LEVEL)


def dictionary_of(blob: bytes) -> int | None:
    """The id of the dictionary a stored payload needs, or None when it needs none."""
    if blob and blob[0] == ORJSON_ZSTD_DICTIONARY:
        return int.from_bytes(blob[1:3], "big")
    return None


def unpack(
    blob: bytes, dictionaries: Callable[[int], zstandard.ZstdCompressionDict | None] | None = None
) -> dict:
    """The payload a stored blob holds, exactly as it was packed.

    `dictionaries` gives a prepared dictionary by id (None when there is no such dictionary);
    by default only the shipped ones are known.
    """
    fmt = blob[0]
    if fmt == ORJSON_ZSTD_DICTIONARY:
        dictionary_id = dictionary_of(blob)
        dictionary = (dictionaries or _shipped)(dictionary_id)
        if dictionary is None:
            raise PayloadError(f"unknown compression dictionary {dictionary_id}")
        return orjson.loads(_decompressor(dictionary).decompress(memoryview(blob)[3:]))
    if fmt == ORJSON_ZLIB:
        return orjson.loads(zlib.decompress(memoryview(blob)[1:]))
    if fmt == STDLIB_JSON_ZLIB:
        return json.loads(zlib.decompress(memoryview(blob)[1:]))
    raise PayloadError(f"unknown payload format {fmt}")


@cache
def _shipped(dictionary_id: int) -> zstandard.ZstdCompressionDict | None:
    if dictionary_id not in SHIPPED_DICTIONARIES:
        return None
    return prepare(shipped_dictionary(dictionary_id))
