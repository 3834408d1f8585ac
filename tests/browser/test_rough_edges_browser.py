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
