"""The profile table's further filters, facets and columns in a browser: a range narrows the
table in place and the address bar shows the one URL form; a facet's count is what its click
shows; a ticked column appears, with the interest filter's share beside it."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def _total(page: Page) -> int:
    return int(page.locator("#result-count").inner_text().split()[0].replace(",", ""))


def _query(page: Page) -> dict:
    return parse_qs(urlsplit(page.url).query)


def test_a_range_a_facet_and_a_column_change_the_table_in_place(page: Page, watch, shots):
    page.goto("/profiles")
    everyone = _total(page)
    page.locator(".more-filters summary").click()
    page.fill("#followers_min", "1000")
    expect(page).to_have_url(re.compile(r"followers_min=1000"))
    narrowed = _total(page)
    assert 0 < narrowed < everyone

    # The platform facet's counts add up to the total and each is what its click shows.
    facet = page.locator("#facet-platform a.facet-value").first
    count = int(facet.locator(".count").inner_text().replace(",", ""))
    counts = page.locator("#facet-platform .count").all_inner_texts()
    assert sum(int(text.replace(",", "")) for text in counts) == narrowed
    facet.click()
    expect(page.locator("#facet-platform a.chosen")).to_have_count(1)
    assert _total(page) == count
    assert _query(page)["followers_min"] == ["1000"] and "platform" in _query(page)

    # The interest pickers and a ticked column become interest=Category:share and columns=.
    page.select_option("#interest_category", "Music")
    page.fill("#interest_min", "10")
    page.locator("#interest_min").dispatch_event("change")
    expect(page).to_have_url(re.compile(r"interest=Music%3A0\.1|interest=Music:0\.1"))
    page.locator(".columns-choice summary").click()
    page.locator('input.column-pick[value="likes_received"]').check()
    expect(page).to_have_url(re.compile(r"columns="))
    headers = page.locator("#profiles thead th[data-column]").evaluate_all(
        "(cells) => cells.map((cell) => cell.dataset.column)"
    )
    assert "likes_received" in headers and headers[-1] == "share:Music"
    assert "interest_category" not in page.url
    # The facet's platform stayed chosen through the form's changes.
    assert _query(page)["platform"] and page.locator("#platform").input_value()
    expect(page.locator("#facet-platform a.chosen")).to_have_count(1)
    page.screenshot(path=str(shots / "profiles-filters.png"), full_page=True)

    # A reload of the address shows the same table.
    shown = _total(page)
    page.reload()
    assert _total(page) == shown
    watch.assert_clean()
