"""Save the README's screenshots: sign-in, the overview, profiles, one profile, admin users.

Serves Toker on 127.0.0.1 (a free port) from a seeded temporary SQLite database with
TOKER_ASSETS=local, drives Debian's headless chromium with Playwright, and writes PNGs 1280 px
wide into docs/screenshots/. Run it through scripts/screenshots.
"""

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from webapp import create_app
from webapp.extensions import db
from webapp.services.accounts import users
from webapp.services.catalogue import profiles
from webapp.services.ingestion.seeding import seed_profiles

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
WIDTH = 1280
ADMIN = ("ana", "screenshots password")


def serve(database: Path, count: int, seed: int):
    """Seed a database and serve Toker on it from a daemon thread; return (url, server)."""
    app = create_app(
        {
            "SECRET_KEY": "screenshots",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "TOKER_ASSETS": "local",
            "TOKER_ENV": "development",
        }
    )
    with app.app_context():
        db.create_all()
        users.create_user(*ADMIN, role="admin")
        users.create_user("victor", ADMIN[1], role="viewer")
        users.create_user("alex", ADMIN[1], role="analyst")
        report = seed_profiles(count, min_likes=app.config["TOKER_MIN_LIKES"], workers=1, seed=seed)
        # The profile page to show: the most followed account, a busy page.
        query = profiles.ListQuery(sort="followers", order="desc", per_page=1)
        featured = profiles.list_profiles(query)["items"][0]["id"]
        db.session.remove()
    print(f"Seeded {report.stored} profiles ({report.rejected} rejected).", file=sys.stderr)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server, featured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--count", type=int, default=300, help="demo accounts to seed")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    with tempfile.TemporaryDirectory(prefix="toker-screenshots-") as tmp:
        url, server, featured = serve(Path(tmp) / "toker.sqlite", args.count, args.seed)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(base_url=url, viewport={"width": WIDTH, "height": 900})
                errors = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.on(
                    "console",
                    lambda m: errors.append(m.text) if m.type == "error" else None,
                )
                page.goto("/signin")
                page.screenshot(path=args.out / "signin.png", animations="disabled")
                page.get_by_label("Name").fill(ADMIN[0])
                page.get_by_label("Password").fill(ADMIN[1])
                page.get_by_role("button", name="Sign in").click()
                expect(page.locator("#signed-in-as")).to_have_text(ADMIN[0])
                shots = [
                    ("overview.png", "/", ["#interests-chart"], True),
                    ("admin-users.png", "/admin/users", [], True),
                    ("profiles.png", "/profiles", [], False),
                    (
                        "profile.png",
                        f"/profiles/{featured}",
                        ["#interest-bar", "#interest-radar"],
                        True,
                    ),
                ]
                for name, path, charts, full_page in shots:
                    started = time.perf_counter()
                    page.goto(path)
                    for chart in charts:
                        expect(page.locator(f"{chart}.chart-ready")).to_be_visible()
                    target = args.out / name
                    page.screenshot(path=target, full_page=full_page, animations="disabled")
                    size = target.stat().st_size // 1024
                    took = time.perf_counter() - started
                    print(f"{target.relative_to(ROOT)}: {size} KB ({took:.1f} s)", file=sys.stderr)
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    if errors:
        print("The pages reported errors:\n  " + "\n  ".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
