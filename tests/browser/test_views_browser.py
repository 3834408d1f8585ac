"""Saved views in a browser: filter /profiles in place (htmx changes the address bar), save
the view from the Views menu, then pick it from the menu on a fresh load and land on the same
filtered, sorted table."""

import json
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

LINKS = '#profiles tbody a[href^="/profiles/"]'


def _shown(page: Page) -> list[str]:
    return page.locator(LINKS).evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")


def test_a_view_saved_from_a_filtered_table_reopens_the_same_table(page: Page, watch):
    page.goto("/profiles?view=none")
    page.select_option("#platform", "tiktok")
    expect(page).to_have_url(re.compile(r"platform=tiktok"))
    page.locator("#profiles thead a", has_text="Followers").click()
    expect(page).to_have_url(re.compile(r"sort=followers"))
    filtered = _shown(page)
    assert filtered
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]

    page.click("#views-menu summary")
    page.fill("#save-view-name", "TikTok by followers")
    page.click("#save-view-button")
    expect(page.locator(".flash.success")).to_contain_text("Saved the view TikTok by followers")
    try:
        page.goto("/profiles?view=none")
        assert _shown(page) != filtered, "the fresh load is unfiltered"
        page.click("#views-menu summary")
        page.get_by_role("link", name="TikTok by followers").click()

        expect(page).to_have_url(re.compile(r"platform=tiktok"))
        expect(page.locator("#platform")).to_have_value("tiktok")
        expect(page).to_have_url(re.compile(r"sort=followers"))
        assert _shown(page) == filtered
        watch.assert_clean()
    finally:
        listed = page.request.get("/api/v1/views").json()["items"]
        for view in listed:
            if view["name"] == "TikTok by followers":
                page.request.delete(f"/api/v1/views/{view['id']}", headers={"X-CSRFToken": token})
