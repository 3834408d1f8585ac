"""A bulk connect in headless Chromium: lines pasted into the "Connect many accounts" form (a
bad line named in place first), the job's page following its progress while a real worker
process runs it, the final counts, and the page's polling stopping once the job is done."""

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Profile
from webapp.services.catalogue.profiles import delete_profile
from webapp.services.ingestion.connectors import get_connector

from .conftest import MIN_LIKES

pytestmark = pytest.mark.browser

NEW_ACCOUNTS = 6
# The worker's first item waits for the mock platforms to build their catalogues in its
# process: seconds on an idle machine, minutes on a busy one.
JOB_DONE_MS = 300_000

# Records each distinct "n of m done" the job's progress card shows, through a function the
# test exposes; installed on every page load, so it follows the card across htmx swaps.
PROGRESS_RECORDER = """
(() => {
  let last = "";
  const record = () => {
    const count = document.getElementById("job-count");
    if (!count || !window.__recordProgress) return;
    const text = count.textContent.trim();
    if (text === last) return;
    last = text;
    window.__recordProgress(text);
  };
  document.addEventListener("DOMContentLoaded", () => {
    record();
    new MutationObserver(record).observe(document.body, { childList: true, subtree: true });
  });
})();
"""


def _instagram_ids(accepted: bool, count: int) -> list[str]:
    """Instagram user ids (short, unlike the seeded ones) whose mock accounts the likes minimum
    accepts, or not."""
    connector = get_connector("instagram")
    found = [
        str(i)
        for i in range(2000)
        if (connector.generate(str(i))["number_of_likes"] >= MIN_LIKES) == accepted
    ]
    assert len(found) >= count
    return found[:count]


@pytest.fixture
def connected(live_server):
    """The (platform, user id) of accounts the test connects, deleted at the end so that the
    session's other tests see the seeded data."""
    made: list[tuple[str, str]] = []
    yield made
    with live_server.app.app_context():
        for platform, user_id in made:
            found = db.session.scalar(
                select(Profile.id).where(Profile.platform == platform, Profile.user_id == user_id)
            )
            if found is not None:
                delete_profile(found)
        db.session.remove()


def test_bulk_connect_shows_live_progress_then_the_counts(
    page: Page, watch, shots, worker, live_server, connected
):
    stored = page.request.get("/api/v1/profiles", params={"per_page": 1}).json()["items"][0]
    new = _instagram_ids(True, NEW_ACCOUNTS)
    (rejected,) = _instagram_ids(False, 1)
    connected.extend(("instagram", user_id) for user_id in new)
    lines = [
        "platform,user_id",
        *(f"instagram,{user_id}" for user_id in new),
        f"{stored['platform']},{stored['user_id']}",
        f"instagram, {rejected}",
    ]
    seen: list[str] = []
    page.expose_function("__recordProgress", lambda text: seen.append(text))
    page.add_init_script(PROGRESS_RECORDER)

    page.goto("/jobs")
    page.get_by_role("link", name="Connect many accounts").click()
    expect(page).to_have_url(re.compile(r"/connect/many$"))

    box = page.get_by_label("Accounts, one a line")
    bad = "\n".join([*lines[:3], "instagrm,77"])
    box.fill(bad)
    page.get_by_role("button", name="Start connecting").click()
    expect(page.locator("#lines-errors li")).to_have_text(
        ["line 4: unknown platform 'instagrm'; choose one of tiktok, instagram, x"]
    )
    expect(box).to_have_value(bad)
    page.screenshot(path=shots / "bulk-connect-errors.png")

    box.fill("\n".join(lines))
    page.get_by_role("button", name="Start connecting").click()

    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    job_id = int(page.url.rsplit("/", 1)[1])
    total = NEW_ACCOUNTS + 2
    card = page.locator("#job-progress")
    expect(card).to_have_attribute("data-status", "done", timeout=JOB_DONE_MS)
    expect(page.locator("#job-count")).to_have_text(f"{total} of {total} done")
    outcomes = page.locator("#job-outcomes li")
    expect(outcomes).to_have_text([f"{NEW_ACCOUNTS} stored", "1 updated", "1 rejected"])
    expect(page.locator("#job-problems tbody tr")).to_have_count(1)
    expect(page.locator("#job-problems tbody tr")).to_contain_text(f"Instagram account {rejected}")

    # The card moved through the items as the worker did them, not in one jump.
    done_counts = [int(text.split()[0]) for text in seen]
    assert done_counts == sorted(done_counts), seen
    assert any(0 < n < total for n in done_counts), f"no progress seen between: {seen}"
    assert done_counts[-1] == total

    # Once done, the card stops asking for itself.
    expect(card).not_to_have_attribute("hx-trigger", re.compile("every"))
    polls = [url for url in watch.requests if url.endswith(f"/jobs/{job_id}")]
    page.wait_for_timeout(2500)
    again = [url for url in watch.requests if url.endswith(f"/jobs/{job_id}")]
    assert again == polls, "the page kept polling a finished job"

    page.screenshot(path=shots / "bulk-connect.png", full_page=True)
    # The refused list's page came with its 422, which Chromium logs; nothing else may.
    (refused,) = [error for error in watch.errors if "status of 422" in error]
    assert "/connect/many" in refused
    watch.errors.remove(refused)
    watch.assert_clean()
    answer = page.request.get(f"/api/v1/jobs/{job_id}").json()
    assert answer["result"]["counts"] == {"stored": NEW_ACCOUNTS, "updated": 1, "rejected": 1}
