"""A shortlist's journey in headless Chromium: make a list, add profiles to it from the
profiles table's selection, change a member's status and note in its row (htmx), filter the
list by status, sort it, and compare two of its members; a screenshot of the list page."""

import json
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

BOXES = '#profiles tbody input[type="checkbox"]'
TICKS = '#members tbody input[type="checkbox"]'


def _followers(page: Page) -> list[int]:
    cells = page.locator("#members tbody td.followers").all_text_contents()
    return [int(text.replace(",", "")) for text in cells]


def test_shortlist_from_the_table_edit_filter_sort_and_compare(page: Page, watch, shots):
    page.goto("/lists")
    page.get_by_label("Name").fill("Browser journey")
    page.get_by_role("button", name="Make the list").click()
    expect(page.locator("#list-name")).to_have_text("Browser journey")
    list_id = int(re.search(r"/lists/(\d+)$", page.url).group(1))
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]
    try:
        # Shortlist four profiles ticked in the table.
        page.goto("/profiles?sort=username&order=asc")
        for index in range(4):
            page.locator(BOXES).nth(index).check()
        expect(page.locator("#selection-count")).to_have_text("4 selected")
        page.select_option("#bulk-list", label="Browser journey")
        page.click("#bulk-add-button")
        expect(page.locator("#bulk-add-result")).to_contain_text("Added 4 to Browser journey")
        selection = page.evaluate("() => sessionStorage.getItem('toker.selection')")

        page.goto(f"/lists/{list_id}")
        rows = page.locator("#members tbody tr[id]")
        expect(rows).to_have_count(4)
        expect(page.locator("#member-total")).to_have_text("4 of 4 members")

        # A member's status and note, saved in its row without leaving the page.
        first = rows.first
        first_id = first.get_attribute("id")
        first.locator("select[name=status]").select_option("contacted")
        first.locator("input[name=note]").fill("Replied on Monday")
        first.locator("button.save-member").click()
        saved = page.locator(f"#{first_id}")
        expect(saved).to_have_attribute("data-status", "contacted")
        expect(saved.locator("input[name=note]")).to_have_value("Replied on Monday")
        expect(page).to_have_url(re.compile(rf"/lists/{list_id}$"))
        answer = page.request.get(f"/api/v1/lists/{list_id}?status=contacted").json()
        assert [m["note"] for m in answer["members"]] == ["Replied on Monday"]

        # Filter by status: the table alone changes, the address keeps the filter.
        page.select_option("#member-status", "contacted")
        expect(page).to_have_url(re.compile(r"status=contacted"))
        expect(rows).to_have_count(1)
        expect(page.locator("#member-total")).to_have_text("1 of 4 members")
        expect(rows.first).to_have_id(first_id)
        page.select_option("#member-status", "")
        expect(rows).to_have_count(4)

        # Sort by followers, most first, then fewest first.
        page.click("#members thead a[data-sort=followers]")
        expect(page).to_have_url(re.compile(r"sort=followers"))
        expect(page.locator("#members th[aria-sort=descending]")).to_contain_text("Followers")
        followers = _followers(page)
        assert followers == sorted(followers, reverse=True) and len(followers) == 4
        page.click("#members thead a[data-sort=followers]")
        expect(page.locator("#members th[aria-sort=ascending]")).to_contain_text("Followers")
        assert _followers(page) == sorted(followers)
        page.screenshot(path=shots / "list.png", full_page=True)

        # Compare: one ticked is refused in place; two open /compare.
        page.locator(TICKS).nth(0).check()
        page.click("#compare-button")
        expect(page.locator("#compare-message")).to_have_text(
            "Choose 2 to 4 profiles to compare: 1 is chosen. Tick them in the table's first column."
        )
        expect(page).to_have_url(re.compile(rf"/lists/{list_id}\?"))
        expect(page.locator(TICKS).nth(0)).to_be_checked()
        assert page.evaluate("() => sessionStorage.getItem('toker.selection')") == selection, (
            "ticking a member leaves the profiles table's selection as it was"
        )
        names = page.locator("#members tbody td.username").all_text_contents()[:2]
        page.locator(TICKS).nth(1).check()
        page.click("#compare-button")
        expect(page).to_have_url(re.compile(r"/compare\?"))
        expect(page.locator("h1")).to_have_text("Compare 2 profiles")
        legend = page.locator("#compare-radar .legendtext").all_text_contents()
        assert sorted(legend) == sorted(names)
    finally:
        page.request.delete(f"/api/v1/lists/{list_id}", headers={"X-CSRFToken": token})
    watch.assert_clean()
