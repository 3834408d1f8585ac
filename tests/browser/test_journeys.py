"""The dashboard's main journeys in headless Chromium, with no route to the internet.

Each journey ends with a screenshot in its folder under pytest-playwright's --output
(test-results/ by default) and checks that the page logged no error and asked nothing of any
host but 127.0.0.1.
"""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from webapp.services.accounts import users
from webapp.services.ingestion.connectors import get_connector

from .conftest import MIN_LIKES

pytestmark = pytest.mark.browser

PER_PAGE = 20  # the table's page size

# Records each distinct state of the progress view (which steps are done, its text) as it
# happens, through a function the test exposes; survives the redirect that ends the flow.
PROGRESS_RECORDER = """
(() => {
  let last = "";
  const record = () => {
    const progress = document.getElementById("progress");
    if (!progress || !window.__recordProgress) return;
    const done = [...progress.querySelectorAll("li.done")].map((li) => li.dataset.step);
    const failed = [...progress.querySelectorAll("li.failed")].map((li) => li.dataset.step);
    const state = JSON.stringify([done, failed]);
    if (state === last) return;
    last = state;
    window.__recordProgress({ done, failed, text: progress.innerText });
  };
  const start = () => {
    record();
    new MutationObserver(record).observe(document.body, {
      childList: true, subtree: true, attributes: true, attributeFilter: ["class"],
    });
  };
  document.addEventListener("DOMContentLoaded", start);
})();
"""


def _tiktok_user_id(accepted: bool) -> tuple[str, dict]:
    """The first numeric TikTok user id whose mock account is (or is not) above the minimum."""
    connector = get_connector("tiktok")
    for i in range(1000):
        account = connector.generate(str(i))
        if (account["number_of_likes"] >= MIN_LIKES) == accepted:
            return str(i), account
    raise AssertionError("no such mock account in the first 1,000 ids")


def _set_marker(page: Page) -> None:
    """A value that only survives while no full page load happens."""
    page.evaluate("window.__marker = 1")


def _assert_no_page_load(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was loaded again"


def _usernames(page: Page) -> list[str]:
    return page.locator("#profiles tbody tr td:nth-child(2) a").all_inner_texts()


def _api_list(page: Page, **params) -> dict:
    response = page.request.get("/api/v1/profiles", params=params)
    assert response.ok, response.text()
    return response.json()


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _connect(page: Page, user_id: str) -> None:
    """Steps 1 and 2 of the connect flow: TikTok, the user id, consent."""
    page.goto("/connect")
    page.check("input[name=platform][value=tiktok]")
    page.fill("#user_id", user_id)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Allow Toker to read your TikTok account?")
    expect(page.locator("main")).to_contain_text(f"Account {user_id}.")
    page.click("#allow")


def test_connect_an_account_and_read_its_chart(page: Page, watch, shots):
    user_id, account = _tiktok_user_id(accepted=True)
    seen = []
    page.expose_function("__recordProgress", lambda state: seen.append(state))
    page.add_init_script(PROGRESS_RECORDER)

    _connect(page, user_id)

    # The progress view ends on the new profile's page.
    expect(page).to_have_url(re.compile(r"/profiles/\d+$"), timeout=15_000)
    expect(page.locator(".flash.success")).to_have_text(f"Connected TikTok account {user_id}.")
    expect(page.locator("h1")).to_contain_text(account["username"])
    expect(page.locator("#interest-bar.chart-ready")).to_be_visible()
    expect(page.locator("#interest-radar.chart-ready")).to_be_visible()
    expect(page.locator("#interest-bar .main-svg").first).to_be_visible()
    expect(page.locator("#top-categories li")).not_to_have_count(0)
    liked, shared = len(account["liked_videos"]), len(account["shared_videos"])
    expect(page.locator("#liked-title")).to_have_text(f"Liked videos ({liked})")
    expect(page.locator("#shared-title")).to_have_text(f"Shared videos ({shared})")

    # Each step showed in the browser as it happened, in order.
    assert [state["done"] for state in seen] == [
        [],
        ["fetch"],
        ["fetch", "validate"],
        ["fetch", "validate", "vectorise"],
    ], seen
    assert f"Fetched: {liked} liked and {shared} shared videos" in seen[1]["text"]
    assert "Validated" in seen[2]["text"]
    assert re.search(r"Vectorised: \d+ unclassified video", seen[3]["text"])

    page.screenshot(path=shots / "connect.png")
    watch.assert_clean()


def test_rejected_account_says_why(page: Page, watch, shots):
    user_id, account = _tiktok_user_id(accepted=False)
    likes = account["number_of_likes"]

    _connect(page, user_id)

    rejection = page.locator("#rejection")
    expect(rejection).to_be_visible(timeout=15_000)
    expect(rejection).to_contain_text("This account cannot be stored.")
    expect(rejection).to_contain_text(
        f"the account has {likes} likes; at least {MIN_LIKES} are needed to store it"
    )
    expect(page.locator("li[data-step=fetch].done")).to_be_visible()
    expect(page.locator("li[data-step=validate].failed")).to_be_visible()
    assert "/connect/progress" in page.url  # no redirect to a profile
    assert _api_list(page, q=account["username"], platform="tiktok")["total"] == 0
    page.screenshot(path=shots / "rejected.png")

    rejection.get_by_role("link", name="Try another account").click()
    expect(page).to_have_url(re.compile(r"/connect$"))
    expect(page.locator("h1")).to_have_text("Connect an account")
    watch.assert_clean()


def _search_term(profiles: list[dict]) -> tuple[str, list[dict]]:
    """A few letters of a username that match several profiles, on more than one platform."""

    def matches(term):
        return [
            p for p in profiles if term in p["username"].lower() or term in p["user_pseudo"].lower()
        ]

    for profile in profiles:
        name = profile["username"].lower()
        for start in range(len(name) - 2):
            term = name[start : start + 3]
            found = matches(term)
            if 3 <= len(found) < PER_PAGE and len({p["platform"] for p in found}) > 1:
                return term, found
    raise AssertionError("no search term fits the seeded profiles")


def test_search_and_filter_update_the_table_and_back_restores_it(page: Page, watch, shots):
    everyone = _api_list(page, per_page=100)
    term, found = _search_term(everyone["items"])
    platform = found[0]["platform"]
    on_platform = [p for p in found if p["platform"] == platform]
    table_requests = []
    page.on(
        "request",
        lambda r: table_requests.append(r.url) if r.headers.get("hx-request") else None,
    )

    page.goto("/profiles")
    expect(page.locator("#result-count")).to_have_text(f"{everyone['total']} profiles")
    first_page = _usernames(page)
    _set_marker(page)

    # Search as you type: one debounced request, the table alone swapped, the URL pushed.
    page.locator("#q").press_sequentially(term, delay=40)
    expect(page).to_have_url(re.compile(rf"/profiles\?.*q={term}"))
    count = f"{len(found)} profiles matching “{term}”"
    expect(page.locator("#result-count")).to_have_text(count)
    expect(page.locator("#profiles tbody tr")).to_have_count(len(found))
    assert sorted(_usernames(page)) == sorted(p["username"] for p in found)
    assert len(table_requests) < len(term), f"typing was not debounced: {table_requests}"
    _assert_no_page_load(page)
    search_url = page.url

    # Then the platform filter narrows the same search.
    page.select_option("#platform", platform)
    expect(page).to_have_url(re.compile(rf"platform={platform}"))
    assert _query(page)["q"] == [term]
    expect(page.locator("#profiles tbody tr")).to_have_count(len(on_platform))
    assert sorted(_usernames(page)) == sorted(p["username"] for p in on_platform)
    _assert_no_page_load(page)

    # Back: the search's URL and table again, still without a page load.
    page.go_back()
    expect(page).to_have_url(search_url)
    expect(page.locator("#result-count")).to_have_text(count)
    expect(page.locator("#profiles tbody tr")).to_have_count(len(found))
    assert sorted(_usernames(page)) == sorted(p["username"] for p in found)
    _assert_no_page_load(page)
    page.screenshot(path=shots / "search-back.png")

    # Back once more: the unfiltered first page.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/profiles$"))
    expect(page.locator("#result-count")).to_have_text(f"{everyone['total']} profiles")
    assert _usernames(page) == first_page
    _assert_no_page_load(page)
    watch.assert_clean()


def test_back_restores_the_search_box(page: Page, watch):
    """Back to a search's URL shows that search in the box, not only in the table."""
    term, found = _search_term(_api_list(page, per_page=100)["items"])
    page.goto("/profiles")
    page.locator("#q").press_sequentially(term, delay=40)
    expect(page).to_have_url(re.compile(rf"q={term}"))
    expect(page.locator("#profiles tbody tr")).to_have_count(len(found))
    platform = found[0]["platform"]
    page.select_option("#platform", platform)
    expect(page).to_have_url(re.compile(rf"platform={platform}"))
    on_platform = [p for p in found if p["platform"] == platform]
    expect(page.locator("#profiles tbody tr")).to_have_count(len(on_platform))

    page.go_back()
    expect(page).not_to_have_url(re.compile(rf"platform={platform}"))
    assert _query(page)["q"] == [term]
    expect(page.locator("#profiles tbody tr")).to_have_count(len(found))
    expect(page.locator("#platform")).to_have_value("")
    expect(page.locator("#q")).to_have_value(term)
    watch.assert_clean()


def test_search_keeps_the_chosen_sort(page: Page, watch):
    """Typing a search after sorting by a column keeps that sort."""
    term, found = _search_term(_api_list(page, per_page=100)["items"])
    page.goto("/profiles")
    page.click("th a[data-sort=followers]")
    expect(page).to_have_url(re.compile(r"sort=followers&order=desc"))

    page.locator("#q").press_sequentially(term, delay=40)
    expect(page).to_have_url(re.compile(rf"q={term}"))
    expect(page.locator("#result-count")).to_contain_text(f"matching “{term}”")
    assert _query(page).get("sort") == ["followers"], page.url
    expect(page.locator("th:has(a[data-sort=followers])")).to_have_attribute(
        "aria-sort", "descending"
    )
    watch.assert_clean()


def test_sort_by_followers_and_paginate(page: Page, watch, shots):
    total = _api_list(page)["total"]
    pages = -(-total // PER_PAGE)
    assert pages >= 3, "the seeded data should fill three pages"
    by_followers = _api_list(page, sort="followers", order="desc", per_page=100)["items"]
    names = [p["username"] for p in by_followers]

    page.goto("/profiles")
    _set_marker(page)
    page.click("th a[data-sort=followers]")
    expect(page).to_have_url(re.compile(r"sort=followers&order=desc"))
    header = page.locator("th:has(a[data-sort=followers])")
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(header).to_contain_text("▼")
    expect(page.locator(".pagination .muted")).to_have_text(f"Page 1 of {pages}")
    assert _usernames(page) == names[:PER_PAGE]
    followers = [
        int(text.replace(",", ""))
        for text in page.locator("#profiles tbody tr td:nth-child(5)").all_inner_texts()
    ]
    assert followers == sorted(followers, reverse=True)
    _assert_no_page_load(page)

    page.click("a[rel=next]")
    expect(page).to_have_url(re.compile(r"page=2"))
    assert _query(page)["sort"] == ["followers"] and _query(page)["order"] == ["desc"]
    expect(page.locator(".pagination .muted")).to_have_text(f"Page 2 of {pages}")
    expect(page.locator("a[rel=prev]")).to_be_visible()
    assert _usernames(page) == names[PER_PAGE : 2 * PER_PAGE]
    _assert_no_page_load(page)

    # A second click on the header turns the order around.
    page.click("th a[data-sort=followers]")
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(page.locator(".pagination .muted")).to_have_text(f"Page 1 of {pages}")
    assert _usernames(page) == names[::-1][:PER_PAGE]
    _assert_no_page_load(page)
    page.click("a[rel=next]")
    expect(page.locator(".pagination .muted")).to_have_text(f"Page 2 of {pages}")
    assert _usernames(page) == names[::-1][PER_PAGE : 2 * PER_PAGE]
    _assert_no_page_load(page)
    page.screenshot(path=shots / "sort-page-2.png", full_page=True)
    watch.assert_clean()


def test_delete_a_profile_after_confirming(page: Page, watch, shots, live_server):
    created = page.request.post(
        "/api/v1/connect",
        data={"platform": "tiktok", "user_id": "browser-delete-me"},
        headers=live_server.api_headers,
    )
    assert created.status == 201, created.text()
    profile = created.json()["profile"]
    profile_id, username = profile["id"], profile["username"]
    dialogs = []

    def answer(accept: bool):
        def handle(dialog):
            dialogs.append((dialog.type, dialog.message))
            dialog.accept() if accept else dialog.dismiss()

        return handle

    page.goto(f"/profiles/{profile_id}")
    delete = page.get_by_role("button", name="Delete")

    # Cancelling the confirmation keeps the profile.
    page.once("dialog", answer(accept=False))
    delete.click()
    question = f"Delete {username} and its interest profile? This cannot be undone."
    assert dialogs == [("confirm", question)]
    expect(page).to_have_url(re.compile(rf"/profiles/{profile_id}$"))
    assert page.request.get(f"/api/v1/profiles/{profile_id}").status == 200

    # Accepting it deletes the profile and returns to the list with a flash.
    page.once("dialog", answer(accept=True))
    delete.click()
    expect(page).to_have_url(re.compile(r"/profiles$"))
    expect(page.locator(".flash.success")).to_have_text(f"Deleted {username}.")
    assert len(dialogs) == 2
    expect(page.locator(f"#profiles a[href='/profiles/{profile_id}']")).to_have_count(0)
    assert page.request.get(f"/api/v1/profiles/{profile_id}").status == 404
    page.screenshot(path=shots / "delete.png")

    page.locator("#q").press_sequentially(username, delay=20)
    expect(page).to_have_url(re.compile(r"q="))
    expect(page.locator("#result-count")).to_contain_text(f"matching “{username}”")
    expect(page.locator(f"#profiles a[href='/profiles/{profile_id}']")).to_have_count(0)
    watch.assert_clean()


@pytest.mark.signed_out
def test_newcomer_connects_finds_reads_and_deletes_an_account(
    page: Page, watch, shots, live_server
):
    """The whole first visit: sign in with a one-time password, choose a password, connect,
    find the account by part of its name, read the chart, delete it."""
    # What `toker users first-admin` makes on a first start: an admin with a one-time password.
    first = users.FirstAdmin("newcomer", "one-time-password-0123")
    with live_server.app.app_context():
        users.create_user(first.name, first.password, "admin", must_change_password=True)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin\?next=/$"))
    page.get_by_label("Name").fill(first.name)
    page.get_by_label("Password").fill(first.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/account/password$"))
    page.get_by_label("Current password").fill(first.password)
    page.get_by_label("New password (at least").fill("a newcomer's own password")
    page.get_by_label("New password again").fill("a newcomer's own password")
    page.get_by_role("button", name="Save password").click()
    expect(page.locator(".flash.success")).to_have_text("Password changed.")
    expect(page.locator("#signed-in-as")).to_have_text(first.name)

    connector = get_connector("tiktok")
    user_id, account = next(
        (str(i), a)
        for i in range(500, 1500)
        if (a := connector.generate(str(i)))["number_of_likes"] >= MIN_LIKES
        and len(a["username"]) >= 6
    )
    _connect(page, user_id)
    expect(page).to_have_url(re.compile(r"/profiles/\d+$"), timeout=15_000)
    profile_path = urlsplit(page.url).path

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Profiles").click()
    _set_marker(page)
    part = account["username"][1:5]
    page.fill("#q", part)
    row = page.locator("#profiles tbody tr", has_text=account["username"])
    expect(row).to_have_count(1)
    _assert_no_page_load(page)

    row.get_by_role("link", name=account["username"]).click()
    expect(page).to_have_url(re.compile(re.escape(profile_path) + "$"))
    expect(page.locator("#interest-bar.chart-ready")).to_be_visible()
    expect(page.locator("#top-categories li").first).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(re.compile(r"/profiles$"))
    expect(page.locator(".flash.success")).to_have_text(f"Deleted {account['username']}.")
    assert page.request.get(f"/api/v1{profile_path}").status == 404
    page.screenshot(path=shots / "newcomer.png")
    watch.assert_clean()


def test_compare_three_profiles_ticked_in_the_table(page: Page, watch, shots):
    page.goto("/profiles")
    boxes = page.locator('#profiles tbody input[type="checkbox"]')
    names = _usernames(page)[:3]
    for index in range(3):
        boxes.nth(index).check()
    page.click("#compare-button")
    expect(page).to_have_url(re.compile(r"/compare\?"))
    expect(page.locator("h1")).to_have_text("Compare 3 profiles")
    expect(page.locator("#compare-radar.chart-ready")).to_be_visible()
    # One polar trace per profile, named after it.
    legend = page.locator("#compare-radar .legendtext").all_text_contents()
    assert sorted(legend) == sorted(names)
    expect(page.locator("#similarity-matrix tbody tr")).to_have_count(3)
    diagonal = [
        page.locator(
            f"#similarity-matrix tbody tr:nth-child({i}) td:nth-child({i + 1})"
        ).inner_text()
        for i in (1, 2, 3)
    ]
    assert diagonal == ["1.00", "1.00", "1.00"]
    page.screenshot(path=shots / "compare.png", full_page=True)
    watch.assert_clean()


def test_the_map_draws_every_profile_and_a_click_opens_one(page: Page, watch, shots):
    page.goto("/map?color=cluster&k=4")
    expect(page.locator("#population-map.chart-ready")).to_be_visible(timeout=15_000)
    total = _api_list(page, per_page=1)["total"]
    expect(page.locator("#map-status")).to_have_text(f"{total:,} profiles")
    drawn = page.evaluate(
        "document.getElementById('population-map').data.reduce((n, t) => n + t.x.length, 0)"
    )
    assert drawn == total
    # Each hover label names the profile, its two largest interests (written by the page from
    # the answer's category indices and shares) and its cluster.
    texts = page.evaluate("document.getElementById('population-map').data.flatMap((t) => t.text)")
    label = re.compile(
        r"^.+ · ([A-Z][A-Za-z &]+ \d{1,3}%(, [A-Z][A-Za-z &]+ \d{1,3}%)?|Unclassified)"
        r" · cluster: .+$"
    )
    assert texts and all(label.match(text) for text in texts), texts[:3]
    # Click the first point of the first trace at its position on screen.
    x, y, profile_id = page.evaluate(
        """(() => {
          const el = document.getElementById('population-map');
          const trace = el.data[0];
          const layout = el._fullLayout;
          const box = el.getBoundingClientRect();
          return [box.left + layout.margin.l + layout.xaxis.l2p(trace.x[0]),
                  box.top + layout.margin.t + layout.yaxis.l2p(trace.y[0]),
                  trace.customdata[0]];
        })()"""
    )
    page.screenshot(path=shots / "map.png")
    assert watch.errors == []
    page.mouse.click(x, y)
    # Points can overlap; the click opens the profile on top, usually this one.
    expect(page).to_have_url(re.compile(r"/profiles/\d+$"), timeout=10_000)
    assert profile_id > 0
    watch.assert_clean()


def test_a_failed_htmx_request_says_why_at_the_top_of_the_page(page: Page):
    """htmx does not swap error answers in: the page says what went wrong instead of nothing."""
    page.goto("/profiles")
    problem = {
        "type": "urn:toker:problem:database-busy",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The database is busy; nothing was changed. Try again in a few seconds.",
    }
    page.route(
        re.compile(r".*/profiles\?.*q=zzz.*"),
        lambda route: route.fulfill(
            status=503, content_type="application/problem+json", body=json.dumps(problem)
        ),
    )
    page.fill("#q", "zzz")
    alert = page.locator("#request-error[role=alert]")
    expect(alert).to_have_text(f"Toker could not finish this (503). {problem['detail']}")
