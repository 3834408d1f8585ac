"""Text search at 100,000 profiles: the LIKE scans Toker used before beside the text indexes.

One client, in process: each search is the service call a request makes (videos.search,
profiles.list_profiles: a page of 20 and its total), timed with time.perf_counter. The
"LIKE" rows run the SQL Toker ran before the indexes existed (videos.search_text LIKE
'%q%'; lower(username) LIKE '%q%' OR lower(user_pseudo) LIKE '%q%'); the "index" rows run
today's code (FTS5 trigram tables on SQLite, pg_trgm GIN indexes on PostgreSQL). The two
alternate, run by run, so that the machine's noise falls on both. A profile search's total
is counted once per query and data version: the cache is emptied before every run, so each
run costs what a new search costs.

    .venv/bin/python bench/search.py --db path/to/seeded.sqlite
    .venv/bin/python bench/search.py --url postgresql+psycopg://postgres@127.0.0.1/fts_bench

Without --db or --url, seeds bench/results/bench-100000.sqlite once (bench/common.py). On
PostgreSQL the LIKE runs turn bitmap scans off, so that LIKE cannot use the new index.
"""

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

from common import ROOT, ensure_database
from sqlalchemy import func, or_, select, text

from webapp import create_app
from webapp.extensions import db
from webapp.models import Profile, Video
from webapp.services.catalogue import profiles, search, videos
from webapp.services.live.sql import escape_like

# (what, query): frequent and rare words, a hashtag, and two characters (no trigram: a scan
# either way).
VIDEO_QUERIES = [
    ("frequent word", "time"),
    ("two rare words", "employee at"),
    ("hashtag", "#gym"),
    ("2 characters", "zq"),
]
# And one account's whole username, taken from the database.
PROFILE_QUERIES = [
    ("frequent syllable", "son"),
    ("surname", "johnson"),
    ("2 characters", "zq"),
]


def _like_video_condition(_session, q: str):
    return Video.search_text.like(f"%{escape_like(q)}%", escape="\\")


def _like_filters(original):
    def filters(query, scan: bool = False):
        conditions = original(dataclasses.replace(query, q=""), scan)
        if query.q:
            pattern = f"%{escape_like(query.q.lower())}%"
            conditions.append(
                or_(
                    func.lower(Profile.username).like(pattern, escape="\\"),
                    func.lower(Profile.user_pseudo).like(pattern, escape="\\"),
                )
            )
        return conditions

    return filters


class Modes:
    """Switch the service functions between the old LIKE SQL and today's indexes."""

    def __init__(self, postgres: bool):
        self.postgres = postgres
        self.index = (search.video_condition, profiles._filters)
        self.like = (_like_video_condition, _like_filters(profiles._filters))

    def use(self, mode: str) -> None:
        search.video_condition, profiles._filters = getattr(self, mode)
        db.session.rollback()
        if self.postgres and mode == "like":
            db.session.execute(text("SET enable_bitmapscan = off"))
        elif self.postgres:
            db.session.execute(text("RESET enable_bitmapscan"))


def _video_search(q: str) -> int:
    return videos.search({"q": q})["total"]


def _profile_search(q: str) -> int:
    profiles._counts = profiles.stamps.VersionedCache()
    return profiles.list_profiles(profiles.parse_list_query({"q": q}))["total"]


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(modes: Modes, call, q: str, runs: int) -> dict:
    """Time `call(q)` in both modes, alternating; the totals must agree."""
    times = {"like": [], "index": []}
    totals = {}
    for mode in ("like", "index"):  # warm the caches once each
        modes.use(mode)
        totals[mode] = call(q)
    if totals["like"] != totals["index"]:
        raise SystemExit(f"{q!r}: LIKE found {totals['like']}, the index {totals['index']}")
    for _ in range(runs):
        for mode in ("like", "index"):
            modes.use(mode)
            start = time.perf_counter()
            call(q)
            times[mode].append((time.perf_counter() - start) * 1000)
    return {"total": totals["index"], **times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a SQLite database file")
    parser.add_argument("--url", help="a database URL (PostgreSQL)")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per query and mode")
    args = parser.parse_args()
    if args.url:
        url = args.url
    else:
        database = args.db or ROOT / "bench" / "results" / "bench-100000.sqlite"
        ensure_database(database, 100_000 if args.db is None else 0)
        url = f"sqlite:///{database}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        stored = profiles.count_profiles()
        stored_videos = db.session.query(func.count(Video.id)).scalar()
        modes = Modes(url.startswith("postgresql"))
        middle = db.session.scalars(
            select(Profile.username).order_by(Profile.id).offset(stored // 2).limit(1)
        ).one()
        profile_queries = [*PROFILE_QUERIES[:2], ("a whole username", middle), PROFILE_QUERIES[2]]
        rows = []
        for kind, call, queries in (
            ("videos", _video_search, VIDEO_QUERIES),
            ("profiles", _profile_search, profile_queries),
        ):
            for what, q in queries:
                result = run(modes, call, q, args.runs)
                rows.append((kind, what, q, result))
                print(".", end="", file=sys.stderr, flush=True)
        modes.use("index")
    print(file=sys.stderr)
    engine = "PostgreSQL" if modes.postgres else "SQLite"
    print(
        f"{engine}: {stored:,} profiles, {stored_videos:,} videos; one client, {args.runs} "
        "runs of each search per mode, alternating; milliseconds per search (page + total)"
    )
    print()
    print("| search | q | matches | LIKE p50 | LIKE p99 | index p50 | index p99 | LIKE / index |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for kind, what, q, r in rows:
        like50, index50 = statistics.median(r["like"]), statistics.median(r["index"])
        print(
            f"| {kind}, {what} | `{q}` | {r['total']:,} | {like50:.1f} | "
            f"{_percentile(r['like'], 0.99):.1f} | {index50:.1f} | "
            f"{_percentile(r['index'], 0.99):.1f} | {like50 / index50:.1f}x |"
        )


if __name__ == "__main__":
    main()
