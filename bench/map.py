"""The population map at 100,000 profiles: data build time and page interactive time.

Builds the map data in-process (PCA + k-means, after the vector matrix), then serves the app
under gunicorn and opens /map in headless Chromium (Debian's, through Playwright) until the
WebGL plot has drawn every point. The page first signs the bench user in through the sign-in
form (the user and its password are made once per database, as for bench/api.py), and /map
must answer 200 to it before the timing starts.

    .venv/bin/python bench/map.py
"""

import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from common import (  # noqa: E402
    BENCH_USER,
    arguments,
    bench_password,
    ensure_bench_user,
    prepare_database,
    servers,
)
from playwright.sync_api import sync_playwright  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.services.analytics import population_map, similarity

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


def time_map_page(toker: str, timeout_ms: int = 60_000) -> tuple[list[float], int]:
    """Sign the bench user in through the form in headless Chromium, load /map once, then
    time 3 loads until the WebGL plot has drawn; (the seconds of each, points drawn)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{toker}/signin")
        page.fill("#name", BENCH_USER)
        page.fill("#password", bench_password())
        with page.expect_navigation():
            page.click("#signin-form button[type=submit]")
        if page.url.rstrip("/") != toker:
            raise SystemExit(f"signing in through the form ended on {page.url}")
        # warm the server's cache for this data version
        response = page.goto(f"{toker}/map")
        if response is None or response.status != 200 or response.url != f"{toker}/map":
            status = response.status if response else None
            raise SystemExit(f"/map answered {status} at {page.url}, not 200")
        page.wait_for_selector("#population-map.chart-ready", timeout=timeout_ms)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            response = page.goto(f"{toker}/map")
            if response is None or response.status != 200:
                raise SystemExit(f"/map answered {response and response.status}")
            page.wait_for_selector("#population-map.chart-ready", timeout=timeout_ms)
            timings.append(time.perf_counter() - started)
        drawn = page.evaluate(
            "document.getElementById('population-map').data.reduce((n, t) => n + t.x.length, 0)"
        )
        browser.close()
    return timings, drawn


def main() -> None:
    args, database = arguments(__doc__)
    stored, _ = prepare_database(database, args.profiles)

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}"})
    with app.app_context():
        started = time.perf_counter()
        similarity.current_matrix()
        matrix_s = time.perf_counter() - started
        started = time.perf_counter()
        data = population_map.population_map(6)
        map_s = time.perf_counter() - started

    ensure_bench_user(database)
    with servers(database, {"TOKER_ASSETS": "local"}) as (toker, _datasette):
        timings, drawn = time_map_page(toker)

    print(f"{stored:,} profiles; {os.cpu_count()} cores")
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(f"| vector matrix (shared with look-alikes) | {matrix_s:.2f} s |")
    print(f"| map data: PCA + k-means (k = 6) + names | {map_s:.2f} s |")
    print(f"| /map interactive in headless Chromium, best of 3 | {min(timings):.2f} s |")
    print(f"| points drawn | {drawn:,} of {len(data['ids']):,} |")


if __name__ == "__main__":
    main()
