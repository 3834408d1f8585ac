"""Hostile markup in real Chromium: names, pseudos, hashtags, captions and categories that
hold script and event handlers are drawn as text on every page, never run.

Each page is checked for: no alert, confirm or prompt fired (they are recorded by an init
script, and any dialog too); none of the injected elements in the DOM; the text shown
literally; no console error (the CSP would log one for an injected inline script or handler)
and no request for anything but the live server (an injected <img src=x> would ask for /x).
"""

import uuid

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

RECORD_DIALOGS = """
window.__xss = [];
for (const name of ["alert", "confirm", "prompt"]) {
  window[name] = (message) => { window.__xss.push(name + ": " + message); };
}
"""
# What only an injection could have put in the DOM (the app's own images are the badges the
# profile page lists, drawn by the app at /badges/).
INJECTED = (
    'img:not(#achievements .badges img[src^="/badges/"])',
    "script:not([src])",
    "[onerror]",
    "[onload]",
    "a[href^='javascript']",
    "a[href*='evil.example']",
)


def hostile_payload(tag: str) -> dict:
    """A payload whose every text field carries markup marked with `tag`."""
    return {
        "user_id": f"hostile-{tag}",
        "username": f'<img src=x onerror=alert("name-{tag}")>name-{tag}',
        "user_pseudo": f'<script>alert("pseudo-{tag}")</script>pseudo-{tag}',
        "verified": False,
        "followers_count": 10,
        "following_count": 10,
        "likes_count": 10,
        "videos_count": 1,
        "number_of_comments": 1,
        "number_of_likes_on_own_videos": 1,
        "number_of_likes": 500,
        "number_of_shares": 1,
        "liked_videos": [
            {
                "video_id": f"{tag}-1",
                "categories": [f'"><img src=x onerror=alert("cat-{tag}")>', "Music"],
                "hashtags": [f'<svg onload=alert("tag-{tag}")>', "#dance"],
                "caption": f'</textarea><script>alert("caption-{tag}")</script>caption-{tag}',
                "likes": 10,
                "comments": 1,
                "shares": 1,
            }
        ],
        "shared_videos": [
            {
                "video_id": f"{tag}-2",
                "categories": ["Comedy", f"<b>cat-{tag}</b>"],
                "likes": 10,
                "comments": 1,
                "shares": 1,
            }
        ],
    }


BOLD_NAME = '<b>bold</b><a href="https://evil.example/">link</a> name-{tag}'


@pytest.fixture
def hostile(page: Page, live_server):
    """Two stored hostile profiles (the second named with Plotly-style markup), removed after."""
    tag = uuid.uuid4().hex[:8]
    made = []
    for index, payload in enumerate(
        [
            hostile_payload(tag),
            {**hostile_payload(tag + "b"), "username": BOLD_NAME.format(tag=tag)},
        ]
    ):
        response = page.request.post(
            "/api/v1/profiles",
            data={"platform": "tiktok", "payload": payload},
            headers=live_server.api_headers,
        )
        assert response.status == 201, response.text()
        made.append({**response.json()["profile"], "tag": tag if index == 0 else tag + "b"})
    yield made
    for profile in made:
        page.request.delete(f"/api/v1/profiles/{profile['id']}", headers=live_server.api_headers)


@pytest.fixture
def dialogs(page: Page) -> list[str]:
    """Every alert, confirm or prompt the pages try to show, and every dialog that opens."""
    page.add_init_script(RECORD_DIALOGS)
    opened: list[str] = []

    def on_dialog(dialog):
        opened.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


def assert_inert(page: Page, dialogs: list[str]) -> None:
    """Nothing injected ran or exists on the page as it stands."""
    assert page.evaluate("window.__xss") == [], "an injected script called alert()"
    assert dialogs == []
    for selector in INJECTED:
        expect(page.locator(selector)).to_have_count(0)


def assert_literal(page: Page, *texts: str) -> None:
    """Each text is visible on the page exactly as typed."""
    for text in texts:
        expect(page.get_by_text(text, exact=False).first).to_be_visible()


def test_hostile_names_are_text_on_every_page(page: Page, hostile, dialogs, watch, shots):
    first, second = hostile
    name, pseudo = first["username"], first["user_pseudo"]

    page.goto("/")
    expect(page.locator("#interests-chart.chart-ready")).to_be_visible()
    assert_literal(page, name, second["username"])
    assert_inert(page, dialogs)

    # Typing a search: htmx swaps the hostile rows in without a page load.
    page.goto("/profiles")
    page.fill("#q", name)
    expect(page.locator("#result-count")).to_contain_text(f"matching “{name}”")
    expect(page.locator("#profiles tbody tr")).to_have_count(1)
    assert_literal(page, name)
    assert_inert(page, dialogs)

    page.goto(f"/profiles/{first['id']}")
    expect(page.locator("#interest-bar.chart-ready")).to_be_visible()
    expect(page.locator("#interest-radar.chart-ready")).to_be_visible()
    assert_literal(page, name, pseudo, f'<svg onload=alert("tag-{first["tag"]}")>')
    assert_literal(page, f'</textarea><script>alert("caption-{first["tag"]}")</script>')
    page.locator("summary", has_text="Raw payload").click()
    assert_literal(page, f'img src=x onerror=alert(\\"cat-{first["tag"]}\\")')
    # The partials load as they scroll into view.
    page.locator("#recommended-section").scroll_into_view_if_needed()
    expect(page.locator("#similar-section table, #similar-section p.muted").first).to_be_visible()
    expect(page.locator("#recommended")).to_be_visible()
    assert_inert(page, dialogs)
    page.screenshot(path=shots / "hostile-profile.png", full_page=True)

    page.goto("/videos")
    page.fill("#vq", f'alert("caption-{first["tag"]}")')
    expect(page.locator("#video-count")).to_have_text("1 video")
    assert_literal(page, f'<script>alert("caption-{first["tag"]}")</script>caption-')
    assert_inert(page, dialogs)

    page.goto(f"/profiles/like?from={first['id']}")
    assert_literal(page, name)
    assert_inert(page, dialogs)

    page.goto(f"/compare?ids={first['id']},{second['id']}")
    expect(page.locator("#compare-radar.chart-ready")).to_be_visible()
    expect(page.locator("#compare-stats")).to_contain_text(name)
    expect(page.locator("#compare-stats")).to_contain_text(second["username"])
    assert_inert(page, dialogs)
    page.screenshot(path=shots / "hostile-compare.png", full_page=True)

    page.goto("/map")
    expect(page.locator("#population-map.chart-ready")).to_be_visible(timeout=15_000)
    assert_inert(page, dialogs)
    watch.assert_clean()


def test_the_compare_chart_names_profiles_as_typed(page: Page, hostile, dialogs, watch, shots):
    """Plotly draws <b> and <a href> in legend names: a name must be escaped to show as typed."""
    first, second = hostile
    page.goto(f"/compare?ids={first['id']},{second['id']}")
    expect(page.locator("#compare-radar.chart-ready")).to_be_visible()
    page.screenshot(path=shots / "hostile-compare-legend.png")
    legend = page.locator("#compare-radar .legendtext").all_text_contents()
    assert sorted(legend) == sorted([first["username"], second["username"]])
    expect(page.locator("#compare-radar a")).to_have_count(0)
    assert_inert(page, dialogs)
    watch.assert_clean()


POINT = """(id) => {
  const el = document.getElementById("population-map");
  const layout = el._fullLayout;
  const box = el.getBoundingClientRect();
  for (const trace of el.data) {
    const i = trace.customdata.indexOf(id);
    if (i >= 0) {
      return [box.left + layout.margin.l + layout.xaxis.l2p(trace.x[i]),
              box.top + layout.margin.t + layout.yaxis.l2p(trace.y[i])];
    }
  }
  return null;
}"""


def test_the_map_hover_names_profiles_as_typed(page: Page, hostile, dialogs, watch, shots):
    """The map's hover label is Plotly text too: it must show the name as typed."""
    names = [profile["username"] for profile in hostile]
    page.goto("/map")
    expect(page.locator("#population-map.chart-ready")).to_be_visible(timeout=15_000)
    point = page.evaluate(POINT, hostile[1]["id"])
    assert point, "the profile is not on the map"
    page.mouse.move(*point)
    label = page.locator("#population-map .hoverlayer .hovertext")
    expect(label).to_have_count(1)
    page.screenshot(path=shots / "hostile-map-hover.png")
    # The two hostile profiles may share a point: either one's name must show as typed.
    shown = label.text_content()
    assert any(name in shown for name in names), shown
    expect(page.locator("#population-map .hoverlayer a")).to_have_count(0)
    assert_inert(page, dialogs)
    watch.assert_clean()
