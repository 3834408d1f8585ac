"""API throughput under wrk: Toker under gunicorn beside datasette on the same SQLite file.

Seeds a database with at least --profiles stored profiles (once; kept for later runs), starts
gunicorn with 2 workers and datasette on 127.0.0.1, and runs `wrk -t2 -c16 -d10s` against
each endpoint in turn, Toker and datasette alternating, in one run:

- the list: 50 profiles sorted by followers, descending, with the total count;
- one profile by id.

Toker's requests carry an API token of the bench user (`Authorization: Bearer ...`, made with
`toker tokens create`; the user once per database); every endpoint must answer 200 with it
before wrk starts, and wrk must see no non-2xx answer. datasette needs no credentials.

    .venv/bin/python bench/api.py                      # 100,000 profiles
    .venv/bin/python bench/api.py --profiles 20000 --duration 5

Needs wrk (Debian: apt-get install wrk) and the bench extra (pip install -e '.[bench]').
"""

from common import (
    api_token,
    arguments,
    bearer,
    check_answers,
    measure,
    prepare_database,
    print_run,
    servers,
)

from webapp.services.catalogue.profiles import SUMMARY_NAMES


def main() -> None:
    args, database = arguments(__doc__, duration=True, wrk=True)
    stored, middle_id = prepare_database(database, args.profiles)
    token = bearer(api_token(database))
    with servers(database) as (toker, datasette):
        # datasette's table JSON always carries the primary key; ask for the other columns.
        columns = "".join(f"&_col={name}" for name in SUMMARY_NAMES if name != "id")
        rows = measure(
            [
                (
                    "list, 50 by followers",
                    "Toker",
                    f"{toker}/api/v1/profiles?sort=followers&order=desc&per_page=50",
                    token,
                ),
                (
                    "list, 50 by followers",
                    "datasette",
                    f"{datasette}/profiles.json?_sort_desc=followers_count&_size=50{columns}",
                ),
                (
                    "list, 50 by followers, Music >= 30 %",
                    "Toker",
                    f"{toker}/api/v1/profiles?sort=followers&order=desc&per_page=50"
                    "&interest=Music:0.3",
                    token,
                ),
                (
                    "list, 50 by followers",
                    "Toker (again, same run)",
                    f"{toker}/api/v1/profiles?sort=followers&order=desc&per_page=50",
                    token,
                ),
                ("one profile", "Toker", f"{toker}/api/v1/profiles/{middle_id}", token),
                ("one profile", "datasette", f"{datasette}/profiles/{middle_id}.json"),
            ],
            args.duration,
        )
    print_run(rows, stored, args.duration)
    rps = {(name, server): r["rps"] for name, server, _size, r in rows}
    plain = rps[("list, 50 by followers", "Toker")]
    print(f"list: Toker / datasette = {plain / rps[('list, 50 by followers', 'datasette')]:.1f}x")
    print(
        f"one profile: Toker / datasette = "
        f"{rps[('one profile', 'Toker')] / rps[('one profile', 'datasette')]:.1f}x"
    )
    filtered = rps[("list, 50 by followers, Music >= 30 %", "Toker")]
    print(f"interest-filtered list / plain list = {filtered / plain:.0%}")
    check_answers(rows)


if __name__ == "__main__":
    main()
