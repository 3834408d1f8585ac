"""The population map at 100,000 profiles: data build time and page interactive time.

Builds the map data in-process (PCA + k-means, after the vector matrix), then serves the app
under gunicorn and opens /map in headless Chromium (Debian's, through Playwright) until the
WebGL plot has drawn every point.

    .venv/bin/python bench/map.py
"""

import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from common import arguments, prepare_database, servers  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.services import population_map, similarity  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


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

    with servers(database, {"TOKER_ASSETS": "local"}) as (toker, _datasette):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{toker}/map")  # warm the server's cache for this data version
            page.wait_for_selector("#population-map.chart-ready", timeout=60_000)
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                page.goto(f"{toker}/map")
                page.wait_for_selector("#population-map.chart-ready", timeout=60_000)
                timings.append(time.perf_counter() - started)
            drawn = page.evaluate(
                "document.getElementById('population-map').data.reduce((n, t) => n + t.x.length, 0)"
            )
            browser.close()

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
