"""The profiles table's selection in a browser: rows ticked on page 1 and page 2 stay ticked
as the pages change, are counted, and are all exported and compared together."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

BOXES = '#profiles tbody input[type="checkbox"]'


def _ids(page: Page) -> list[str]:
    return page.locator(BOXES).evaluate_all("(boxes) => boxes.map((b) => b.value)")


def _tick_on_two_pages(page: Page) -> list[str]:
    """Tick two rows of page 1 and one of page 2 (sorted by username); their ids in order."""
    page.goto("/profiles?sort=username&order=asc&per_page=10")
    expect(page.locator("#selection-bar")).to_be_visible()
    first_page = _ids(page)
    page.locator(BOXES).nth(0).check()
    page.locator(BOXES).nth(1).check()
    expect(page.locator("#selection-count")).to_have_text("2 selected")
    page.click('#profiles-table a[rel="next"]')
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator(BOXES).first).not_to_be_checked()
    second_page = _ids(page)
    assert set(first_page).isdisjoint(second_page)
    page.locator(BOXES).nth(0).check()
    expect(page.locator("#selection-count")).to_have_text("3 selected")
    return [first_page[0], first_page[1], second_page[0]]


def test_ticks_on_two_pages_survive_paging_and_export_together(page: Page, watch):
    chosen = _tick_on_two_pages(page)
    page.click('#profiles-table a[rel="prev"]')
    expect(page.locator(BOXES).nth(0)).to_be_checked()
    expect(page.locator(BOXES).nth(1)).to_be_checked()
    expect(page.locator(BOXES).nth(2)).not_to_be_checked()

    with page.expect_download() as download:
        page.click("#bulk-export-json")
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))

    assert [str(item["id"]) for item in exported] == chosen
    page.click("#selection-clear")
    expect(page.locator("#selection-count")).to_have_text("0 selected")
    expect(page.locator(BOXES).nth(0)).not_to_be_checked()
    watch.assert_clean()


def test_ticks_on_two_pages_are_compared_together(page: Page, watch):
    chosen = _tick_on_two_pages(page)

    page.click("#compare-button")

    expect(page).to_have_url(re.compile(r"/compare\?"))
    expect(page.locator("h1")).to_have_text("Compare 3 profiles")
    linked = page.locator("#compare-stats thead a").evaluate_all(
        "(links) => links.map((a) => a.getAttribute('href').split('/').pop())"
    )
    assert sorted(linked) == sorted(chosen)
    watch.assert_clean()


def test_ticks_on_two_pages_are_added_to_a_list_together(page: Page, watch):
    page.goto("/profiles")
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]
    made = page.request.post(
        "/api/v1/lists", data={"name": "Across pages"}, headers={"X-CSRFToken": token}
    )
    assert made.status == 201, made.text()
    list_id = made.json()["id"]
    try:
        chosen = _tick_on_two_pages(page)
        page.select_option("#bulk-list", str(list_id))

        page.click("#bulk-add-button")

        expect(page.locator("#bulk-add-result")).to_contain_text("Added 3 to Across pages")
        members = page.request.get(f"/api/v1/lists/{list_id}").json()["members"]
        assert sorted(str(m["profile_id"]) for m in members) == sorted(chosen)
    finally:
        page.request.delete(f"/api/v1/lists/{list_id}", headers={"X-CSRFToken": token})
    watch.assert_clean()
