"""Rough edges a newcomer hit (issue 12, part 7), where only a browser can tell: compare with
too few ticked stays on the table, the map redraws as its colouring changes and labels its
axes, and the profile table, charts and top bar on a phone-sized screen."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


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
