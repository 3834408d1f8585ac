"""Bytes per stored profile on SQLite, by table and index, and what payload codecs would save.

Seeds a fresh, migrated SQLite database with `toker seed --count N --seed S` (timed), or reads
one given with --database, then prints the file size per stored profile and SQLite's dbstat
breakdown (every table and index, pages included, per stored profile). --codecs also
measures payload codecs on a sample of the stored payloads: JSON, zlib levels, and zstd with
and without a dictionary trained on another part of the sample, when `zstandard` is installed.

    .venv/bin/python bench/size.py --count 100000            # about two minutes
    .venv/bin/python bench/size.py --database instance/toker.sqlite --codecs
    .venv/bin/python bench/size.py --count 100000 --toker /path/to/other/checkout/toker
"""

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import orjson

TOKER = str(Path(sys.executable).with_name("toker"))


def seed(database: Path, count: int, seed_value: int, toker: str) -> float:
    """Migrate and seed a fresh database; the seconds `toker seed` took."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{database}", OPENBLAS_NUM_THREADS="1")
    subprocess.run([toker, "db", "upgrade"], env=env, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(
        [toker, "seed", "--count", str(count), "--seed", str(seed_value)],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def breakdown(database: Path) -> tuple[int, int, list[tuple[str, str, int]]]:
    """(stored profiles, file bytes, [(name, table it belongs to, bytes)]) largest first."""
    with sqlite3.connect(database) as connection:
        # Everything into the main file, so that its size is the database's.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        profiles = connection.execute("SELECT count(*) FROM profiles").fetchone()[0]
        owners = dict(connection.execute("SELECT name, tbl_name FROM sqlite_schema"))
        rows = connection.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
        ).fetchall()
    return profiles, database.stat().st_size, [(n, owners.get(n, n), b) for n, b in rows]


def payload_sample(database: Path, size: int) -> list[bytes]:
    """Up to `size` stored payloads as compact JSON, spread over the table."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from webapp.services.ingestion.payloads import prepare, unpack

    with sqlite3.connect(database) as connection:
        total = connection.execute("SELECT max(id) FROM profiles").fetchone()[0] or 0
        step = max(1, total // size)
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_schema")}
        if "profile_payloads" in tables:  # migration 0009 on
            dictionaries = {
                pk: prepare(data)
                for pk, data in connection.execute("SELECT id, data FROM payload_dictionaries")
            }
            rows = connection.execute(
                "SELECT payload FROM profile_payloads WHERE profile_id % ? = 0 LIMIT ?",
                (step, size),
            ).fetchall()
        else:
            dictionaries = {}
            rows = connection.execute(
                "SELECT raw_payload FROM profiles WHERE id % ? = 0 LIMIT ?", (step, size)
            ).fetchall()
    return [
        raw if isinstance(raw, str) else orjson.dumps(unpack(raw, dictionaries.get))
        for (raw,) in rows
    ]


def codec_table(sample: list[bytes]) -> list[tuple[str, float, float, float]]:
    """(codec, mean bytes, µs to compress, µs to decompress) per payload, for each codec."""
    sample = [s.encode() if isinstance(s, str) else s for s in sample]
    half = len(sample) // 2
    train, test = sample[:half], sample[half:]
    codecs = [("JSON (orjson)", bytes, bytes)]
    codecs += [(f"zlib {lvl}", lambda b, lvl=lvl: zlib.compress(b, lvl), zlib.decompress)
               for lvl in (1, 6, 9)]  # fmt: skip
    try:
        import zstandard
    except ImportError:
        print("(zstandard is not installed: zstd not measured)", file=sys.stderr)
    else:
        for level in (3, 9):
            plain = zstandard.ZstdCompressor(level=level)
            codecs.append(
                (f"zstd {level}", plain.compress, zstandard.ZstdDecompressor().decompress)
            )
        from webapp.services.ingestion.payloads import (
            CURRENT_DICTIONARY,
            ZSTD_LEVEL,
            shipped_dictionary,
        )

        shipped = zstandard.ZstdCompressionDict(shipped_dictionary(CURRENT_DICTIONARY))
        for level in sorted({3, ZSTD_LEVEL}):
            comp = zstandard.ZstdCompressor(
                level=level, dict_data=shipped, write_checksum=False, write_dict_id=False
            )
            decomp = zstandard.ZstdDecompressor(dict_data=shipped)
            codecs.append((f"zstd {level}, the shipped 4 MiB dictionary", comp.compress,
                           decomp.decompress))  # fmt: skip
        for kib in (32, 64):
            trained = zstandard.train_dictionary(kib * 1024, train)
            for level in (3, 6):
                comp = zstandard.ZstdCompressor(level=level, dict_data=trained)
                decomp = zstandard.ZstdDecompressor(dict_data=trained)
                codecs.append((f"zstd {level}, {kib} KiB dictionary", comp.compress,
                               decomp.decompress))  # fmt: skip
    results = []
    for name, compress, decompress in codecs:
        started = time.perf_counter()
        blobs = [compress(s) for s in test]
        packed = time.perf_counter() - started
        started = time.perf_counter()
        assert [decompress(b) for b in blobs] == test
        unpacked = time.perf_counter() - started
        n = len(test)
        results.append((name, sum(map(len, blobs)) / n, packed / n * 1e6, unpacked / n * 1e6))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="accounts to seed")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the generated accounts")
    parser.add_argument("--database", type=Path, help="measure this database instead")
    parser.add_argument("--toker", default=TOKER, help="the toker command that seeds")
    parser.add_argument("--codecs", action="store_true", help="also measure payload codecs")
    parser.add_argument("--keep", type=Path, help="keep the seeded database at this path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="toker-size-") as tmp:
        database, seconds = args.database, None
        if database is None:
            database = args.keep or Path(tmp) / "size.sqlite"
            seconds = seed(database, args.count, args.seed, args.toker)
        profiles, size, rows = breakdown(database)
        sample = payload_sample(database, 10_000) if args.codecs else []
    if seconds is not None:
        print(f"seeded {args.count:,} accounts in {seconds:.1f} s ({args.count / seconds:,.0f}/s)")
    print(
        f"{profiles:,} stored profiles, {size:,} bytes: {size / max(profiles, 1):,.0f} per profile"
    )
    print()
    print("| table or index | of table | MiB | bytes per profile |")
    print("|---|---|---:|---:|")
    for name, table, pgsize in rows:
        if pgsize / max(profiles, 1) >= 1:
            print(
                f"| {name} | {table} | {pgsize / 2**20:,.1f} | {pgsize / max(profiles, 1):,.0f} |"
            )
    if sample:
        print()
        print(
            f"payload codecs, {len(sample) // 2:,} payloads (the other half trains dictionaries):"
        )
        print()
        print("| codec | bytes per payload | compress (µs) | decompress (µs) |")
        print("|---|---:|---:|---:|")
        for name, mean, packed, unpacked in codec_table(sample):
            print(f"| {name} | {mean:,.0f} | {packed:.0f} | {unpacked:.0f} |")


if __name__ == "__main__":
    main()
