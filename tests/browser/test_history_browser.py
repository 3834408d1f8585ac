"""A profile's history in headless Chromium: accounts synced once a week for eight weeks, then
their page drawing the growth over time and the interest drift from the snapshots, with the
changes over 7, 30 and 90 days."""

import pytest
from playwright.sync_api import Page, expect

from webapp.services.ingestion.seeding import seed_with_history

from .conftest import MIN_LIKES

pytestmark = pytest.mark.browser

WEEKS = 8


def test_a_profile_synced_weekly_draws_its_growth_and_its_drift(
    page: Page, watch, shots, live_server
):
    with live_server.app.app_context():
        report, _ranked = seed_with_history(4, WEEKS, min_likes=MIN_LIKES, workers=1, seed=4242)
    assert report.created >= 1
    latest = page.request.get(
        "/api/v1/profiles?sort=updated&order=desc&per_page=4", headers=live_server.api_headers
    ).json()["items"]
    histories = {
        item["id"]: page.request.get(
            f"/api/v1/profiles/{item['id']}/history", headers=live_server.api_headers
        ).json()
        for item in latest
    }
    pk, history = max(histories.items(), key=lambda entry: len(entry[1]["snapshots"]))
    snapshots = history["snapshots"]
    assert len(snapshots) == WEEKS + 1, "a snapshot a week, and one now"

    page.goto(f"/profiles/{pk}")

    growth = page.locator("#history-growth.chart-ready")
    expect(growth).to_be_visible()
    expect(growth.locator(".main-svg").first).to_be_visible()
    # Plotly keeps the drawn traces on the element: followers, likes received and engagement
    # rate, each with a point per snapshot.
    traces = growth.evaluate("el => el.data.map((trace) => [trace.name, trace.x.length])")
    assert len(traces) == 3 and all(points == len(snapshots) for _name, points in traces)
    followers = growth.evaluate("el => el.data[0].y")
    assert followers == [snapshot["followers_count"] for snapshot in snapshots]

    rows = page.locator("#history-changes tbody tr")
    expect(rows).to_have_count(3)
    week = history["changes"]["7d"]
    assert week is not None, "weekly snapshots give a change over 7 days"
    change = int(week["followers_count"]["change"])
    expect(rows.nth(0).locator("td").first).to_contain_text(f"{change:+,}")

    drift = page.locator("#interest-drift.chart-ready")
    expect(drift).to_be_visible()
    expect(drift.locator(".main-svg").first).to_be_visible()
    lengths = drift.evaluate("el => el.data.map((trace) => trace.x.length)")
    assert lengths and all(points == len(snapshots) for points in lengths)
    distance = history["drift"]["cosine_distance"]
    expect(page.locator("#drift-summary")).to_contain_text(f"cosine distance {distance:.3f}")

    page.locator("#history").scroll_into_view_if_needed()
    page.screenshot(path=shots / "history.png", full_page=True)
    watch.assert_clean()
