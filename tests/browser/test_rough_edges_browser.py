"""Rough edges a newcomer hit (issue 12, part 7), where only a browser can tell: compare with
too few ticked stays on the table, the map redraws as its colouring changes and labels its
axes, and the profile table, charts and top bar on a phone-sized screen."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
# Whether the table's followers, as shown, run in this order (more than one row).
SORTED_FOLLOWERS = """(order) => {
  const cells = [...document.querySelectorAll('#profiles td[data-label="Followers"]')];
  const n = cells.map((c) => Number(c.textContent.replace(/,/g, "")));
  const up = n.every((v, i) => i === 0 || n[i - 1] <= v);
  const down = n.every((v, i) => i === 0 || n[i - 1] >= v);
  return n.length > 1 && (order === "asc" ? up && !down : down && !up);
}"""


def test_compare_with_one_ticked_says_so_and_keeps_the_ticks(page: Page, watch, shots):
    page.goto("/profiles")
    boxes = page.locator('#profiles tbody input[type="checkbox"]')
    boxes.nth(1).check()
    page.click("#compare-button")
    message = page.locator("#compare-message")
    expect(message).to_be_visible()
    expect(message).to_have_text(re.compile(r"^Choose 2 to 4 profiles to compare: 1 is chosen"))
    expect(page).to_have_url(re.compile(r"/profiles$"))
    expect(boxes.nth(1)).to_be_checked()
    page.screenshot(path=shots / "compare-one.png")
    boxes.nth(2).check()
    page.click("#compare-button")
    expect(page).to_have_url(re.compile(r"/compare\?"))
    expect(page.locator("h1")).to_have_text("Compare 2 profiles")
    watch.assert_clean()


MAP_TRACES = """() => document.getElementById("population-map").data.map(
  (trace) => ({name: trace.name, colour: trace.marker.color}))"""


def test_the_map_redraws_as_its_colouring_changes(page: Page, watch, shots):
    page.goto("/map")
    chart = page.locator("#population-map.chart-ready")
    expect(chart).to_be_visible()
    page.evaluate("window.__samePage = true")
    clusters = page.evaluate(MAP_TRACES)
    page.select_option("#color", "dominant")
    expect(page).to_have_url(re.compile(r"/map\?color=dominant&k=6$"))
    page.wait_for_function(
        "() => document.getElementById('population-map').dataset.drawnColor === 'dominant'"
    )
    assert page.evaluate("window.__samePage") is True  # no reload, no Redraw button
    traces = page.evaluate(MAP_TRACES)
    assert traces != clusters and len(traces) > 6
    colours = [trace["colour"] for trace in traces]
    assert None not in colours and len(set(colours)) == len(colours)
    for axis, number in (("x", 1), ("y", 2)):
        title = page.locator(f"#population-map .{axis}title").text_content()
        assert re.fullmatch(rf"component {number} \(\d+\.\d % of variance\)", title), title
    page.screenshot(path=shots / "map-dominant.png", full_page=True)
    page.fill("#k", "3")
    page.locator("#k").dispatch_event("change")
    page.select_option("#color", "cluster")
    page.wait_for_function("() => document.getElementById('population-map').data.length <= 3")
    assert page.evaluate("window.__samePage") is True
    watch.assert_clean()


def _inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


def test_on_a_phone_the_table_shows_followers_and_interest_and_sorts(page: Page, watch, shots):
    page.set_viewport_size(PHONE)
    page.goto("/profiles")
    first = page.locator("#profiles tbody tr").first
    for label in ("Followers", "Interest"):
        cell = first.locator(f'td[data-label="{label}"]')
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], label
    # Nothing to scroll sideways for.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=shots / "phone-profiles.png", full_page=True)
    page.locator("#sort-control").scroll_into_view_if_needed()
    page.screenshot(path=shots / "phone-table.png")
    expect(page.locator("#sort")).to_be_visible()
    page.select_option("#sort", "followers")
    page.wait_for_function(SORTED_FOLLOWERS, arg="desc")
    expect(page).to_have_url(re.compile(r"sort=followers&order=desc"))
    expect(page.locator("#sort")).to_have_value("followers")
    page.select_option("#order", "asc")
    page.wait_for_function(SORTED_FOLLOWERS, arg="asc")
    expect(page).to_have_url(re.compile(r"sort=followers&order=asc"))
    watch.assert_clean()


def _first_profile_with_interests(page: Page) -> str:
    page.goto("/profiles?sort=followers&order=desc")
    return page.locator("#profiles tbody tr td:nth-child(2) a").first.get_attribute("href")


@pytest.mark.parametrize(
    "viewport", [PHONE, {"width": 1280, "height": 900}], ids=["phone", "desktop"]
)
def test_charts_keep_their_mode_bar_and_labels_inside(page: Page, watch, shots, viewport):
    page.set_viewport_size(viewport)
    page.goto(_first_profile_with_interests(page))
    radar = page.locator("#interest-radar.chart-ready")
    expect(radar).to_be_visible()
    radar.scroll_into_view_if_needed()
    chart_box = radar.bounding_box()
    labels = page.locator("#interest-radar .angularaxistick text")
    assert labels.count() >= 3
    for box in (labels.nth(i).bounding_box() for i in range(labels.count())):
        assert _inside(box, chart_box), "a radar label is clipped"
    # Hover (or tap) a chart: its mode bar stays inside it, clear of the top bar, or is hidden.
    page.evaluate("window.scrollTo(0, 0)")
    bar = page.locator("#interest-bar.chart-ready")
    bar.hover()
    modebar = page.locator("#interest-bar .modebar")
    header = page.locator(".site-header").bounding_box()
    if viewport is PHONE:
        expect(modebar).to_be_hidden()
    else:
        expect(modebar).to_be_visible()
        box = modebar.bounding_box()
        assert _inside(box, bar.bounding_box())
        assert box["y"] >= header["y"] + header["height"], "the mode bar covers the top bar"
    page.screenshot(path=shots / f"profile-{viewport['width']}.png", full_page=True)
    radar.scroll_into_view_if_needed()
    page.screenshot(path=shots / f"radar-{viewport['width']}.png")
    watch.assert_clean()


@pytest.mark.parametrize("width", [1280, 1024, 800])
def test_the_profile_table_fits_its_card_updated_column_included(page: Page, shots, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/profiles")
    page.screenshot(path=shots / f"profiles-{width}.png")
    wrap = page.locator("#profiles-table .table-wrap")
    assert wrap.evaluate("(el) => el.scrollWidth <= el.clientWidth"), "the table is cut off"
    box = wrap.bounding_box()
    for cell in (page.locator("#profiles thead th").last, page.locator("#profiles tbody td").last):
        cell_box = cell.bounding_box()
        assert cell_box["x"] + cell_box["width"] <= box["x"] + box["width"] + 1


def test_user_names_show_as_stored_in_the_admin_table(page: Page, shots):
    page.goto("/admin/users")
    expect(page.locator("h1")).to_have_text("Users")
    name = page.locator('#users tbody tr[data-user="admin"] th')
    assert name.inner_text().startswith("admin (you)")
    page.screenshot(path=shots / "admin-users.png")


def test_on_a_phone_the_map_legend_keeps_clear_of_the_axis_title(page: Page, shots):
    page.set_viewport_size(PHONE)
    page.goto("/map?color=dominant")
    expect(page.locator("#population-map.chart-ready")).to_be_visible()
    title = page.locator("#population-map .xtitle").bounding_box()
    legend = page.locator("#population-map g.legend .legendtext").first.bounding_box()
    assert title["y"] + title["height"] <= legend["y"], "the legend covers the axis title"
    page.locator("#population-map").scroll_into_view_if_needed()
    page.screenshot(path=shots / "phone-map.png")
