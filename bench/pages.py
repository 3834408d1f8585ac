"""Dashboard pages under wrk: Toker's HTML beside datasette's HTML table page, same file.

Like bench/api.py (same database, servers and wrk settings), for the pages people open:

- `/profiles`, the first page of the browser, 50 rows, beside datasette's table page;
- a filtered, sorted page (one platform, by followers) beside datasette's equivalent;
- one profile's page (charts, top lists, videos, raw payload).

It also reports each page's HTML size. Toker's pages are fetched with the session cookie of
the bench user, signed in through the form once (the user and its password are made once per
database, as for bench/api.py); every page must answer 200 with it, not a redirect to /signin,
before wrk starts. datasette needs no credentials.

    .venv/bin/python bench/pages.py
"""

from common import (
    arguments,
    check_answers,
    ensure_bench_user,
    measure,
    prepare_database,
    print_ratios,
    print_run,
    servers,
    sign_in,
)


def main() -> None:
    args, database = arguments(__doc__, duration=True, wrk=True)
    stored, middle_id = prepare_database(database, args.profiles)
    ensure_bench_user(database)
    with servers(database, {"TOKER_ASSETS": "local"}) as (toker, datasette):
        cookie = sign_in(toker)
        rows = measure(
            [
                ("table page, 50 rows", "Toker", f"{toker}/profiles?per_page=50", cookie),
                ("table page, 50 rows", "datasette", f"{datasette}/profiles?_size=50"),
                (
                    "filtered and sorted",
                    "Toker",
                    f"{toker}/profiles?platform=x&sort=followers&order=desc&per_page=50",
                    cookie,
                ),
                (
                    "filtered and sorted",
                    "datasette",
                    f"{datasette}/profiles?platform=x&_sort_desc=followers_count&_size=50",
                ),
                ("profile page", "Toker", f"{toker}/profiles/{middle_id}", cookie),
                ("profile page", "datasette", f"{datasette}/profiles/{middle_id}"),
            ],
            args.duration,
        )
    print_run(rows, stored, args.duration)
    print_ratios(rows)
    check_answers(rows)


if __name__ == "__main__":
    main()
