"""Dashboard pages under wrk: Toker's HTML beside datasette's HTML table page, same file.

Like bench/api.py (same database, servers and wrk settings), for the pages people open:

- `/profiles`, the first page of the browser, 50 rows, beside datasette's table page;
- a filtered, sorted page (one platform, by followers) beside datasette's equivalent;
- one profile's page (charts, top lists, videos, raw payload).

It also reports each page's HTML size.

    .venv/bin/python bench/pages.py
"""

import argparse
import os
import shutil
from pathlib import Path

from common import ROOT, measure, prepare_database, print_table, servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--db", type=Path, default=None)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    database = args.db or ROOT / "bench" / "results" / f"bench-{args.profiles}.sqlite"
    stored, middle_id = prepare_database(database, args.profiles)
    with servers(database, {"TOKER_ASSETS": "local"}) as (toker, datasette):
        rows = measure(
            [
                ("table page, 50 rows", "Toker", f"{toker}/profiles?per_page=50"),
                ("table page, 50 rows", "datasette", f"{datasette}/profiles?_size=50"),
                (
                    "filtered and sorted",
                    "Toker",
                    f"{toker}/profiles?platform=x&sort=followers&order=desc&per_page=50",
                ),
                (
                    "filtered and sorted",
                    "datasette",
                    f"{datasette}/profiles?platform=x&_sort_desc=followers_count&_size=50",
                ),
                ("profile page", "Toker", f"{toker}/profiles/{middle_id}"),
                ("profile page", "datasette", f"{datasette}/profiles/{middle_id}"),
            ],
            args.duration,
        )
    print(
        f"{stored:,} profiles; wrk -t2 -c16 -d{args.duration}s; gunicorn 2 workers; "
        f"{os.cpu_count()} cores"
    )
    print()
    print_table(rows)
    print()
    for index in range(0, len(rows), 2):
        ours, theirs = rows[index][3]["rps"], rows[index + 1][3]["rps"]
        print(f"{rows[index][0]}: Toker / datasette = {ours / theirs:.1f}x")


if __name__ == "__main__":
    main()
