"""The server-rendered dashboard through the Flask test client: pages, htmx partials, the
onboarding flow, front-end assets and HTML error pages, checked on the parsed HTML."""

import base64
import hashlib
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup, Tag

from webapp import assets
from webapp.services.ingestion.connectors import get_connector
from webapp.services.jobs import queue, runner
from webapp.views import pages
from webapp.views.forms import ConnectForm

from ..factories import mock_user_id, signed_in_client, video
from ..helpers import html_page, inline_code, one, parse, post_profile, text_of

HTMX_CDN = "https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js"
PLOTLY_CDN_HOST = "cdn.jsdelivr.net"
PLATFORM_LABELS = {"tiktok": "TikTok", "instagram": "Instagram", "x": "X"}
TABLE_HEADERS = [
    "Compare",  # the checkbox column, labelled for screen readers
    "Username",
    "Platform",
    "Verified",
    "Followers",
    "Likes given",
    "Engagement",
    "Growth 30 d",
    "Dominant interest",
    "Last sync",
]
SORTABLE = [
    "Username",
    "Platform",
    "Verified",
    "Followers",
    "Likes given",
    "Engagement",
    "Growth 30 d",
    "Last sync",
]
STEPS = ["fetch", "validate", "vectorise", "store"]
NASTY_NAME = "<b>x</b> \"q\" & 'a'"


# --- helpers ---------------------------------------------------------------------------------


def api_profile(client, profile_id: int):
    return client.get(f"/api/v1/profiles/{profile_id}")


def api_list(client, **params) -> dict:
    response = client.get("/api/v1/profiles", query_string=params)
    assert response.status_code == 200
    return response.get_json()


def vary(response) -> list[str]:
    return [v.strip().lower() for v in response.headers.get("Vary", "").split(",")]


def path_of(url: str) -> str:
    return urlsplit(url).path


def query_of(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def flashes(doc: BeautifulSoup) -> list[str]:
    return [text_of(el) for el in doc.select("main .flash")]


def stat_cards(doc: BeautifulSoup, scope: str = "section.stats") -> dict[str, str]:
    return {
        text_of(one(card, ".label")): text_of(one(card, ".value"))
        for card in one(doc, scope).select(".stat")
    }


def number(text: str) -> int:
    return int(text.replace(",", ""))


def figure(doc: BeautifulSoup, selector: str) -> dict:
    return json.loads(one(doc, selector)["data-figure"])


def served_status(client, url: str) -> int:
    """The status of a GET, closing the response (static files hold an open handle)."""
    response = client.get(url)
    response.close()
    return response.status_code


def is_full_page(doc: BeautifulSoup) -> bool:
    return bool(doc.select("html")) and bool(doc.select("head title"))


def htmx_swap(page: BeautifulSoup, target: Tag, fragment: BeautifulSoup) -> None:
    """What htmx does with a response: its content replaces the target's children, and each
    element marked hx-swap-oob replaces the page's element with the same id."""
    main = []
    for child in list(fragment.contents):
        if isinstance(child, Tag) and "hx-swap-oob" in child.attrs:
            old = one(page, f"#{child['id']}")
            strategy = child["hx-swap-oob"] or "true"
            if strategy in ("true", "outerHTML"):
                old.replace_with(child.extract())
            else:
                assert strategy == "innerHTML", f"unsupported hx-swap-oob {strategy!r}"
                old.clear()
                old.extend(list(child.contents))
        else:
            main.append(child.extract())
    target.clear()
    target.extend(main)


def form_request(page: BeautifulSoup, form: Tag) -> list[tuple[str, str]]:
    """The parameters htmx sends for a form: its controls (also those tied to it by form=),
    then whatever hx-include names."""
    controls = form.find_all(True)
    if form.get("id"):
        controls += page.select(f"[form={form['id']}]")
    for selector in filter(None, (s.strip() for s in form.get("hx-include", "").split(","))):
        for found in page.select(selector):
            controls += [found, *found.find_all(True)]
    pairs = []
    for control in controls:
        name = control.get("name")
        if not name or "disabled" in control.attrs:
            continue
        if control.name == "input":
            kind = control.get("type", "text")
            if kind in ("submit", "button", "reset", "image", "file"):
                continue
            if kind in ("checkbox", "radio") and "checked" not in control.attrs:
                continue
            pairs.append((name, control.get("value", "")))
        elif control.name == "select":
            options = control.select("option")
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            pairs += [(name, o.get("value", text_of(o))) for o in chosen]
        elif control.name == "textarea":
            pairs.append((name, control.get_text()))
    return pairs


@pytest.fixture
def faulty_client(make_app):
    """A client on an app whose connectors always fail (timeouts, rate limits, bad answers)."""
    return signed_in_client(make_app(TOKER_CONNECTOR_FAULT_RATE=1.0))


@pytest.fixture
def stored(client) -> dict:
    """One profile stored through the API (seed 000's sample)."""
    return post_profile(client)


# The pages of the site, with the section the navigation marks as current.
PAGES = {
    "overview": ("GET", "/", None, "Overview"),
    "profiles": ("GET", "/profiles", None, "Profiles"),
    "profile": ("GET", "/profiles/{id}", None, "Profiles"),
    "connect": ("GET", "/connect", None, "Connect"),
    "consent": ("POST", "/connect/consent", {"platform": "tiktok", "user_id": "42"}, "Connect"),
    "progress": ("POST", "/connect/progress", {"platform": "x", "user_id": "42"}, "Connect"),
    "jobs": ("GET", "/jobs", None, "Jobs"),
    "lists": ("GET", "/lists", None, "Lists"),
}


def request_page(client, name: str, profile_id: int):
    method, path, data, _section = PAGES[name]
    path = path.format(id=profile_id)
    if method == "GET":
        return client.get(path)
    return client.post(path, data=data)


# --- layout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_in_the_layout(app, client, stored, name):
    app.config["TOKER_VERSION"] = "9.8.7-layout"
    doc = html_page(request_page(client, name, stored["id"]))

    title = text_of(one(doc, "head title"))
    assert title.endswith("Toker") and len(title) > len("· Toker")
    links = doc.select("header nav a")
    assert [(text_of(a), path_of(a["href"])) for a in links] == [
        ("Overview", "/"),
        ("Profiles", "/profiles"),
        ("Videos", "/videos"),
        ("Map", "/map"),
        ("Roster", "/roster"),
        ("Lists", "/lists"),
        ("Jobs", "/jobs"),
        ("Connect", "/connect"),
        ("Admin", "/admin/users"),
    ]
    current = [text_of(a) for a in links if a.get("aria-current") == "page"]
    assert current == [PAGES[name][3]]
    assert "9.8.7-layout" in text_of(one(doc, "footer"))
    assert one(doc, "main#content")


def test_the_error_page_is_in_the_layout_with_no_section_current(client):
    doc = html_page(client.get("/no/such/page"), 404)
    assert [text_of(a) for a in doc.select("header nav a")] == [
        "Overview",
        "Profiles",
        "Videos",
        "Map",
        "Roster",
        "Lists",
        "Jobs",
        "Connect",
        "Admin",
    ]
    assert not doc.select("header nav a[aria-current]")
    assert "Toker" in text_of(one(doc, "footer"))


# --- overview --------------------------------------------------------------------------------


def test_empty_overview_offers_to_connect_or_seed(client):
    doc = html_page(client.get("/"))
    empty = one(doc, "section.empty")
    assert "No profiles yet" in text_of(empty)
    assert "/connect" in [path_of(a["href"]) for a in empty.select("a")]
    form = one(empty, "form")
    assert form["method"].lower() == "post"
    assert path_of(form["action"]) == "/seed"
    assert one(form, "button")["type"] == "submit"
    assert not doc.select("#interests-chart")


def test_overview_counts_platforms_charts_interests_and_links_latest(client):
    made = [
        post_profile(client, "tiktok", user_id="t1", username="tik1"),
        post_profile(client, "instagram", user_id="i1", username="insta1"),
        post_profile(client, "tiktok", user_id="t2", username="tik2"),
        post_profile(client, "instagram", user_id="i2", username="insta2"),
        post_profile(client, "tiktok", user_id="t3", username="tik3"),
    ]
    doc = html_page(client.get("/"))

    assert not doc.select("section.empty")
    assert stat_cards(doc) == {"Profiles": "5", "TikTok": "3", "Instagram": "2", "X": "0"}
    fig = figure(doc, "#interests-chart")
    (trace,) = fig["data"]
    assert trace["type"] == "bar"
    # Every profile has the same payload, so the population's shares are its interest.
    interest = api_profile(client, made[0]["id"]).get_json()["interest"]
    expected = {c: round(w * 100, 2) for c, w in interest.items() if w > 0}
    assert dict(zip(trace["y"], trace["x"], strict=True)) == expected
    latest = one(doc, "#latest-title").parent
    hrefs = [a["href"] for a in latest.select("tbody a")]
    assert hrefs == [f"/profiles/{p['id']}" for p in reversed(made)]
    assert [text_of(a) for a in latest.select("tbody a")] == [p["username"] for p in reversed(made)]


def test_seeding_from_the_overview_is_a_job_that_stores_demo_profiles_with_history(
    app, client, monkeypatch
):
    monkeypatch.setattr(pages, "DEMO_SEED_WEEKS", 2)  # 12 in use; 2 keeps the test short
    response = client.post("/seed")
    assert response.status_code == 303
    job_path = path_of(response.headers["Location"])
    assert job_path.startswith("/jobs/")
    job_id = int(job_path.rsplit("/", 1)[1])
    job_page = html_page(client.get(job_path))
    assert any(f"job {job_id} runs in the background" in text for text in flashes(job_page))
    assert api_list(client)["total"] == 0, "nothing is stored before a worker runs the job"
    with app.app_context():
        runner.run_job(job_id, queue.current())
    job = client.get(f"/api/v1/jobs/{job_id}").get_json()
    assert job["kind"] == "seed" and job["status"] == "done"
    # 200 accounts in one batch a week for 2 weeks and now, then the ranking.
    assert job["progress"] == {"done": 4, "total": 4}

    total = api_list(client)["total"]
    assert total > 100
    counts = job["result"]["counts"]
    assert counts["created"] == total, "each account is created once, then synced weekly"
    assert counts["created"] + counts.get("updated", 0) + counts["rejected"] == 3 * 200
    longest = max(
        len(client.get(f"/api/v1/profiles/{p['id']}/history").get_json()["snapshots"])
        for p in api_list(client, per_page=20)["items"]
    )
    assert longest == 3, "an account stored from the first week has a snapshot a week"
    doc = html_page(client.get("/"))
    cards = stat_cards(doc)
    assert number(cards["Profiles"]) == total
    for platform, label in PLATFORM_LABELS.items():
        assert number(cards[label]) == api_list(client, platform=platform)["total"]
    assert figure(doc, "#interests-chart")["data"][0]["type"] == "bar"
    latest = api_list(client, sort="updated", order="desc", per_page=8)["items"]
    hrefs = [a["href"] for a in one(doc, "#latest-title").parent.select("tbody a")]
    assert hrefs == [f"/profiles/{p['id']}" for p in latest]


# --- the profile browser ---------------------------------------------------------------------

POPULATION = 25
PLATFORM_CYCLE = ("tiktok", "instagram", "x")


@pytest.fixture
def population(client) -> list[dict]:
    """25 profiles whose usernames, followers and likes all differ, over three platforms."""
    return [
        post_profile(
            client,
            PLATFORM_CYCLE[i % 3],
            user_id=f"u{i:02d}",
            username=f"user{(i * 11) % POPULATION:02d}",
            user_pseudo=f"Person {i}",
            verified=i % 4 == 0,
            followers_count=((i * 37) % 101) * 1000,
            number_of_likes=100 + (i * 53) % 97,
        )
        for i in range(POPULATION)
    ]


def table_rows(doc: BeautifulSoup) -> list[dict]:
    """The profiles table's rows as {header: cell element}."""
    table = one(doc, "table#profiles")
    headers = [text_of(th).rstrip("▲▼ ").strip() for th in table.select("thead th")]
    rows = []
    for tr in table.select("tbody tr"):
        cells = tr.select("td")
        if len(cells) == 1 and "empty" in cells[0].get("class", []):
            continue
        rows.append(dict(zip(headers, cells, strict=True)))
    return rows


def row_ids(doc: BeautifulSoup) -> list[int]:
    ids = []
    for row in table_rows(doc):
        href = one(row["Username"], "a")["href"]
        assert re.fullmatch(r"/profiles/\d+", href), href
        ids.append(int(href.rsplit("/", 1)[1]))
    return ids


def column_values(doc: BeautifulSoup, header: str) -> list:
    """What a column shows, as the values it is sorted by."""
    labels = {label: key for key, label in PLATFORM_LABELS.items()}
    values = []
    for row in table_rows(doc):
        cell = row[header]
        if header == "Username":
            values.append(text_of(one(cell, "a")))
        elif header == "Platform":
            values.append(labels[text_of(cell)])
        elif header == "Verified":
            values.append("Verified" in text_of(cell))
        elif header in ("Followers", "Likes given"):
            values.append(number(text_of(cell)))
        elif header == "Last sync":
            values.append(one(cell, "time")["datetime"])
        elif header == "Engagement":
            values.append(float(text_of(cell).removesuffix(" %")))
        else:
            values.append(text_of(cell))
    return values


def population_values(population: list[dict], header: str) -> list:
    field = {
        "Username": "username",
        "Platform": "platform",
        "Verified": "verified",
        "Followers": "followers_count",
        "Likes given": "number_of_likes",
        "Last sync": "updated_at",
        "Engagement": "engagement_rate",
        "Growth 30 d": "growth_30d",
    }[header]
    if header == "Engagement":  # shown in per cent, to two places
        return [round(p[field] * 100, 2) for p in population]
    if header == "Growth 30 d":  # one snapshot each: no growth to show, or to sort by
        assert all(p[field] is None for p in population)
        return ["—" for _ in population]
    return [p[field] for p in population]


def test_profiles_table_has_headers_and_rows_linking_to_profiles(client, population):
    doc = html_page(client.get("/profiles", query_string={"per_page": 100}))
    headers = [text_of(th).rstrip("▲▼ ").strip() for th in doc.select("table#profiles thead th")]
    assert headers == TABLE_HEADERS
    assert all(th.get("scope") == "col" for th in doc.select("table#profiles thead th"))
    assert sorted(row_ids(doc)) == sorted(p["id"] for p in population)
    assert text_of(one(doc, "#result-count")) == f"{POPULATION} profiles"
    first = next(p for p in population if p["id"] == row_ids(doc)[0])
    row = table_rows(doc)[0]
    assert text_of(row["Username"]) == first["username"]
    assert text_of(row["Platform"]) == PLATFORM_LABELS[first["platform"]]
    assert number(text_of(row["Followers"])) == first["followers_count"]
    assert number(text_of(row["Likes given"])) == first["number_of_likes"]
    assert text_of(row["Dominant interest"]) == first["dominant_interest"]
    assert text_of(row["Engagement"]) == f"{first['engagement_rate'] * 100:.2f} %"
    assert text_of(row["Growth 30 d"]) == "—"  # one snapshot each: no history yet


def test_search_by_username_is_case_insensitive(client, population):
    doc = html_page(client.get("/profiles", query_string={"q": "USER1", "per_page": 100}))
    expected = sorted(p["username"] for p in population if "user1" in p["username"])
    assert len(expected) == 10
    assert sorted(column_values(doc, "Username")) == expected
    assert one(doc, "input#q")["value"] == "USER1"
    assert text_of(one(doc, "#result-count")) == "10 profiles matching “USER1”"


def test_search_with_no_match_shows_an_empty_table(client, population):
    doc = html_page(client.get("/profiles", query_string={"q": "nobody-here"}))
    assert table_rows(doc) == []
    assert "No profile matches" in text_of(one(doc, "table#profiles tbody"))
    assert text_of(one(doc, "#result-count")).startswith("0 profiles")


def test_platform_filter(client, population):
    doc = html_page(client.get("/profiles", query_string={"platform": "instagram"}))
    expected = sorted(p["id"] for p in population if p["platform"] == "instagram")
    assert sorted(row_ids(doc)) == expected
    assert set(column_values(doc, "Platform")) == {"instagram"}
    assert one(doc, "select#platform option[selected]")["value"] == "instagram"


def test_search_and_platform_filter_combine(client, population):
    doc = html_page(client.get("/profiles", query_string={"platform": "x", "q": "user1"}))
    expected = sorted(
        p["id"] for p in population if p["platform"] == "x" and "user1" in p["username"]
    )
    assert expected
    assert sorted(row_ids(doc)) == expected


@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("header", SORTABLE)
def test_sort_by_each_column(client, population, header, order):
    key = next(
        query_of(a["href"])["sort"]
        for a in parse(client.get("/profiles")).select("th a[data-sort]")
        if text_of(a).rstrip("▲▼ ").strip() == header
    )
    doc = html_page(
        client.get("/profiles", query_string={"sort": key, "order": order, "per_page": 100})
    )
    shown = column_values(doc, header)
    expected = sorted(population_values(population, header), reverse=order == "desc")
    assert shown == expected
    th = next(th for th in doc.select("thead th") if text_of(th).rstrip("▲▼ ").strip() == header)
    assert th["aria-sort"] == ("ascending" if order == "asc" else "descending")


def test_column_header_links_toggle_the_order(client, population):
    doc = html_page(client.get("/profiles", query_string={"sort": "followers", "order": "desc"}))
    links = {a["data-sort"]: a for a in doc.select("table#profiles th a[data-sort]")}
    assert {text_of(a).rstrip("▲▼ ").strip() for a in links.values()} == set(SORTABLE)
    assert query_of(links["followers"]["href"])["order"] == "asc"
    assert links["followers"]["hx-get"] == links["followers"]["href"]
    assert links["followers"]["hx-push-url"] == "true"
    # Another column starts in its natural order.
    assert query_of(links["username"]["href"])["order"] == "asc"
    assert query_of(links["likes"]["href"])["order"] == "desc"
    followed = parse(client.get(links["followers"]["href"]))
    assert (
        column_values(followed, "Followers")
        == sorted(population_values(population, "Followers"))[:20]
    )


def test_default_order_is_most_recently_updated_first(client, population):
    doc = html_page(client.get("/profiles", query_string={"per_page": 100}))
    assert row_ids(doc) == [p["id"] for p in reversed(population)]
    updated = next(th for th in doc.select("thead th") if text_of(th).startswith("Last sync"))
    assert updated["aria-sort"] == "descending"


def test_pagination_walks_every_profile_once(client, population):
    params = {"sort": "followers", "order": "desc"}
    first = html_page(client.get("/profiles", query_string=params))
    followers = sorted(population_values(population, "Followers"), reverse=True)
    assert column_values(first, "Followers") == followers[:20]
    assert "Page 1 of 2" in text_of(one(first, "nav.pagination"))
    assert not first.select("a[rel=prev]")
    nxt = one(first, "a[rel=next]")
    assert nxt["hx-get"] == nxt["href"]
    assert query_of(nxt["href"]) == {"sort": "followers", "order": "desc", "page": "2"}

    second = html_page(client.get(nxt["href"]))
    assert column_values(second, "Followers") == followers[20:]
    assert "Page 2 of 2" in text_of(one(second, "nav.pagination"))
    assert not second.select("a[rel=next]")
    # Page 1 is the list without a page number (the one URL form).
    assert query_of(one(second, "a[rel=prev]")["href"]).get("page", "1") == "1"
    ids = row_ids(first) + row_ids(second)
    assert sorted(ids) == sorted(p["id"] for p in population)


def test_pagination_keeps_per_page(client, population):
    first = html_page(client.get("/profiles", query_string={"per_page": 10, "sort": "likes"}))
    assert "Page 1 of 3" in text_of(one(first, "nav.pagination"))
    seen = row_ids(first)
    nxt = one(first, "a[rel=next]")["href"]
    while nxt:
        doc = html_page(client.get(nxt))
        seen += row_ids(doc)
        link = doc.select_one("a[rel=next]")
        nxt = link["href"] if link else None
    assert (
        seen
        == [p["id"] for p in sorted(population, key=lambda p: (p["number_of_likes"], p["id"]))][
            ::-1
        ]
    )


def test_searching_after_sorting_by_a_header_keeps_the_sort(client, population):
    page = html_page(client.get("/profiles"))
    header = one(page, "#profiles-table th a[data-sort=followers]")
    partial = parse(client.get(header["hx-get"], headers={"HX-Request": "true"}))
    htmx_swap(page, one(page, "#profiles-table"), partial)
    assert (
        column_values(page, "Followers")
        == sorted(population_values(population, "Followers"), reverse=True)[:20]
    )

    # The user now types in the search box: the form sends what it holds.
    form = one(page, "form#filters")
    one(page, "input#q").attrs["value"] = "user1"
    params = form_request(page, form)
    first = {}
    for name, value in params:
        first.setdefault(name, value)
    assert (first.get("sort"), first.get("order")) == ("followers", "desc"), params
    response = client.get(form["hx-get"], query_string=params, headers={"HX-Request": "true"})
    shown = column_values(parse(response), "Followers")
    assert shown == sorted(shown, reverse=True) and len(shown) == 10


def test_sort_links_keep_the_search_after_an_htmx_search(client, population):
    page = html_page(client.get("/profiles"))
    form = one(page, "form#filters")
    one(page, "input#q").attrs["value"] = "user1"
    response = client.get(
        form["hx-get"], query_string=form_request(page, form), headers={"HX-Request": "true"}
    )
    htmx_swap(page, one(page, "#profiles-table"), parse(response))
    link = one(page, "#profiles-table th a[data-sort=likes]")
    assert query_of(link["hx-get"])["q"] == "user1"
    doc = parse(client.get(link["hx-get"], headers={"HX-Request": "true"}))
    assert all("user1" in name for name in column_values(doc, "Username"))
    assert len(table_rows(doc)) == 10


def test_filters_form_updates_the_table_with_htmx(client, population):
    doc = html_page(client.get("/profiles"))
    form = one(doc, "form#filters")
    assert path_of(form["hx-get"]) == "/profiles"
    assert form["hx-target"] == "#profiles-table"
    assert form["hx-push-url"] == "true"
    assert "delay:" in form["hx-trigger"]
    assert one(doc, "label[for=q]") and one(doc, "input#q")["name"] == "q"
    assert one(doc, "label[for=platform]") and one(doc, "select#platform")["name"] == "platform"
    assert one(doc, "#profiles-table table#profiles")


def test_htmx_request_gets_only_the_table_and_plain_request_the_page(client, population):
    url = "/profiles?q=user1&sort=likes&order=asc"
    partial = client.get(url, headers={"HX-Request": "true"})
    part = html_page(partial)
    assert not is_full_page(part)
    assert not part.select("header") and not part.select("footer")
    assert not part.select("form#filters")
    assert one(part, "table#profiles")
    assert text_of(one(part, "#result-count")) == "10 profiles matching “user1”"
    assert len(table_rows(part)) == 10

    full = client.get(url)
    page = html_page(full)
    assert is_full_page(page)
    assert one(page, "header nav")
    assert one(page, "#profiles-table table#profiles")
    assert row_ids(page) == row_ids(part)

    assert "hx-request" in vary(partial)
    assert "hx-request" in vary(full)


def test_history_restore_request_gets_the_full_page(client, population):
    response = client.get(
        "/profiles?q=user1",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    doc = html_page(response)
    assert is_full_page(doc)
    assert one(doc, "form#filters")
    assert "hx-request" in vary(response)


@pytest.mark.parametrize(
    "params",
    [
        {"page": "abc"},
        {"page": "0"},
        {"sort": "nope"},
        {"order": "sideways"},
        {"platform": "myspace"},
        {"per_page": "-3"},
        {"q": "x" * 101},
    ],
)
def test_bad_list_parameters_give_an_html_400_page(client, population, params):
    response = client.get("/profiles", query_string=params)
    doc = html_page(response, 400)
    error = one(doc, "#error-page")
    assert error["data-status"] == "400"
    (name,) = params
    assert name in text_of(error)
    assert one(doc, "header nav")


# --- one profile -----------------------------------------------------------------------------


def test_profile_page_shows_stats_charts_top_lists_videos_and_raw_payload(client, payload):
    response = client.post("/api/v1/profiles", json={"platform": "instagram", "payload": payload})
    assert response.status_code == 201
    profile_id = response.get_json()["profile"]["id"]
    api = api_profile(client, profile_id).get_json()
    doc = html_page(client.get(f"/profiles/{profile_id}"))

    assert text_of(one(doc, "h1")) == payload["username"]
    assert payload["username"] in text_of(one(doc, "title"))
    cards = stat_cards(doc)
    assert cards["Followers"] == "1,500"
    assert cards["Following"] == "300"
    assert cards["Videos"] == "100"
    assert cards["Shares"] == "800"
    assert cards["Likes given"] == "6,000"

    bar = figure(doc, "#interest-bar")
    (trace,) = bar["data"]
    assert trace["type"] == "bar" and trace["orientation"] == "h"
    expected = {c: round(w * 100, 2) for c, w in api["interest"].items() if w > 0}
    assert dict(zip(trace["y"], trace["x"], strict=True)) == expected
    # Plotly draws the first category at the bottom unless the axis is reversed: either way
    # the largest weight must end up at the top.
    reversed_axis = bar["layout"].get("yaxis", {}).get("autorange") == "reversed"
    top_down = trace["x"] if reversed_axis else trace["x"][::-1]
    assert top_down == sorted(trace["x"], reverse=True)
    assert top_down[0] == max(expected.values())

    radar = figure(doc, "#interest-radar")
    (polar,) = radar["data"]
    assert polar["type"] == "scatterpolar"
    shown = dict(zip(polar["theta"], polar["r"], strict=True))
    assert {c: shown[c] for c in expected} == expected

    assert [text_of(li).split()[0] for li in doc.select("#top-categories li")] == [
        entry["category"] for entry in api["top_categories"][:5]
    ]
    assert [text_of(li).split()[0] for li in doc.select("#top-hashtags li")] == [
        entry["hashtag"] for entry in api["top_hashtags"][:5]
    ]
    assert doc.select("#top-hashtags li")

    assert [text_of(c) for c in doc.select("#liked-videos tbody code")] == [
        v["video_id"] for v in payload["liked_videos"]
    ]
    assert [text_of(c) for c in doc.select("#shared-videos tbody code")] == [
        v["video_id"] for v in payload["shared_videos"]
    ]
    assert "Technology" in text_of(one(doc, "#liked-videos tbody"))
    assert "#entertainment" in text_of(one(doc, "#liked-videos tbody"))

    pre = one(doc, "details pre#raw-payload")
    assert json.loads(pre.get_text()) == payload
    assert "\n  " in pre.get_text()  # pretty-printed


def test_profile_top_lists_match_the_api_when_longer_than_five(client):
    liked = [
        video(f"5{i:03d}", categories=[cat], hashtags=[f"#tag{i % 7}"])
        for i, cat in enumerate(
            ["Music", "Dance", "Comedy", "Food", "Travel", "Pets", "Art", "News"] * 2
        )
    ]
    made = post_profile(client, liked_videos=liked)
    api = api_profile(client, made["id"]).get_json()
    doc = html_page(client.get(f"/profiles/{made['id']}"))
    categories = [text_of(li).split()[0] for li in doc.select("#top-categories li")]
    hashtags = [text_of(li).split()[0] for li in doc.select("#top-hashtags li")]
    assert len(categories) == 5 and len(hashtags) == 5
    assert categories == [e["category"] for e in api["top_categories"][:5]]
    assert hashtags == [e["hashtag"] for e in api["top_hashtags"][:5]]


def test_html_in_a_username_is_escaped_everywhere(client):
    made = post_profile(client, username=NASTY_NAME, user_pseudo="<i>pseudo</i>")
    pages = {
        "overview": client.get("/"),
        "profiles": client.get("/profiles"),
        "search": client.get("/profiles", query_string={"q": "<b>x"}),
        "profile": client.get(f"/profiles/{made['id']}"),
    }
    for name, response in pages.items():
        doc = html_page(response)
        body = response.get_data(as_text=True)
        assert "<b>" not in body and "<i>" not in body, name
        assert not doc.select("b") and not doc.select("i"), name
        assert NASTY_NAME in text_of(one(doc, "main")), name
    profile = parse(pages["profile"])
    assert text_of(one(profile, "h1")) == NASTY_NAME
    assert NASTY_NAME in text_of(one(profile, "title"))
    assert NASTY_NAME in one(profile, "form[data-confirm]")["data-confirm"]
    assert json.loads(one(profile, "#raw-payload").get_text())["username"] == NASTY_NAME
    assert "“<b>x”" in text_of(one(parse(pages["search"]), "#result-count"))

    deleted = client.post(f"/profiles/{made['id']}/delete", follow_redirects=True)
    doc = html_page(deleted)
    assert "<b>" not in deleted.get_data(as_text=True)
    assert any(NASTY_NAME in text for text in flashes(doc))


@pytest.mark.parametrize(
    "path",
    ["/profiles/999999", "/profiles/999999/videos/liked", "/profiles/{id}/videos/watched"],
)
def test_unknown_profile_gives_the_html_404_page(client, stored, path):
    doc = html_page(client.get(path.format(id=stored["id"])), 404)
    error = one(doc, "main #error-page")
    assert error["data-status"] == "404"
    assert text_of(one(doc, "title")).startswith("Page not found")
    assert one(doc, "header nav")


@pytest.fixture
def many_videos(client) -> tuple[int, list[str]]:
    """A profile with 23 liked videos; their ids in order."""
    ids = [f"8{i:04d}" for i in range(23)]
    made = post_profile(client, liked_videos=[video(v, categories=["Music"]) for v in ids])
    return made["id"], ids


def test_videos_partial_pages_through_liked_videos(client, many_videos):
    profile_id, ids = many_videos
    page = html_page(client.get(f"/profiles/{profile_id}"))
    liked = one(page, "#liked-videos")
    assert [text_of(c) for c in liked.select("tbody code")] == ids[:10]
    assert "Page 1 of 3" in text_of(liked)
    nxt = one(liked, "a[hx-get]")
    assert path_of(nxt["hx-get"]) == f"/profiles/{profile_id}/videos/liked"
    assert query_of(nxt["hx-get"]) == {"page": "2"}
    assert query_of(nxt["href"]) == {"liked_page": "2"}
    assert "Liked videos (23)" in text_of(one(page, "#liked-title"))

    response = client.get(nxt["hx-get"], headers={"HX-Request": "true"})
    part = html_page(response)
    assert not is_full_page(part)
    assert [text_of(c) for c in part.select("tbody code")] == ids[10:20]
    assert "Page 2 of 3" in part.text
    (prev,) = [a for a in part.select("a[hx-get]") if "Previous" in text_of(a)]
    (nxt,) = [a for a in part.select("a[hx-get]") if "Next" in text_of(a)]
    assert query_of(prev["hx-get"]) == {"page": "1"}
    assert query_of(nxt["hx-get"]) == {"page": "3"}

    last = html_page(client.get(f"/profiles/{profile_id}/videos/liked?page=3"))
    assert [text_of(c) for c in last.select("tbody code")] == ids[20:]
    assert not [a for a in last.select("a") if "Next" in text_of(a)]

    # Without JavaScript the profile page itself pages the table.
    plain = html_page(client.get(f"/profiles/{profile_id}?liked_page=3"))
    assert [text_of(c) for c in plain.select("#liked-videos tbody code")] == ids[20:]


def test_videos_partial_with_a_bad_page_is_a_400(client, many_videos):
    profile_id, _ids = many_videos
    doc = html_page(client.get(f"/profiles/{profile_id}/videos/liked?page=abc"), 400)
    assert one(doc, "#error-page")["data-status"] == "400"


# --- re-sync and delete ----------------------------------------------------------------------


@pytest.fixture
def connected(client) -> dict:
    """A profile created through the API's connect, so its connector can fetch it again."""
    user_id = mock_user_id("tiktok", accepted=True)
    response = client.post("/api/v1/connect", json={"platform": "tiktok", "user_id": user_id})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["profile"]


def test_resync_updates_the_profile_in_place(client, connected):
    profile_id = connected["id"]
    before = html_page(client.get(f"/profiles/{profile_id}"))
    assert "synced 1 time," in text_of(one(before, ".page-head"))
    form = next(f for f in before.select("form") if path_of(f["action"]).endswith("/resync"))
    assert form["method"].lower() == "post"
    assert path_of(form["action"]) == f"/profiles/{profile_id}/resync"

    response = client.post(f"/profiles/{profile_id}/resync")
    assert response.status_code == 303
    assert path_of(response.headers["Location"]) == f"/profiles/{profile_id}"
    after = html_page(client.get(response.headers["Location"]))
    assert any("re-synced" in text for text in flashes(after))
    assert "synced 2 times" in text_of(one(after, ".page-head"))
    assert api_profile(client, profile_id).get_json()["sync_count"] == 2
    assert api_list(client)["total"] == 1


def test_resync_when_the_platform_fails_says_so(client, faulty_client, connected):
    profile_id = connected["id"]
    response = faulty_client.post(f"/profiles/{profile_id}/resync")
    assert response.status_code == 303
    doc = html_page(faulty_client.get(response.headers["Location"]))
    assert any("Re-sync failed" in text for text in flashes(doc))
    assert doc.select("main .flash.error")
    assert api_profile(client, profile_id).get_json()["sync_count"] == 1


def test_delete_removes_the_profile_and_returns_to_the_list(client, stored):
    profile_id = stored["id"]
    page = html_page(client.get(f"/profiles/{profile_id}"))
    form = one(page, "form[data-confirm]")
    assert path_of(form["action"]) == f"/profiles/{profile_id}/delete"
    assert stored["username"] in form["data-confirm"]

    response = client.post(f"/profiles/{profile_id}/delete")
    assert response.status_code == 303
    assert path_of(response.headers["Location"]) == "/profiles"
    gone = api_profile(client, profile_id)
    assert gone.status_code == 404
    assert gone.mimetype == "application/problem+json"

    doc = html_page(client.get(response.headers["Location"]))
    assert any(stored["username"] in text and "Deleted" in text for text in flashes(doc))
    assert table_rows(doc) == []
    html_page(client.get(f"/profiles/{profile_id}"), 404)


@pytest.mark.parametrize("action", ["resync", "delete"])
def test_actions_on_an_unknown_profile_are_404_pages(client, action):
    doc = html_page(client.post(f"/profiles/424242/{action}"), 404)
    assert one(doc, "#error-page")["data-status"] == "404"


# --- the onboarding flow ---------------------------------------------------------------------


def test_connect_page_offers_three_platforms_and_an_optional_user_id(client):
    doc = html_page(client.get("/connect"))
    form = one(doc, "main form")
    assert form["method"].lower() == "post"
    assert path_of(form["action"]) == "/connect/consent"
    radios = form.select("input[type=radio][name=platform]")
    assert [r["value"] for r in radios] == ["tiktok", "instagram", "x"]
    assert [text_of(r.parent) for r in radios] == ["TikTok", "Instagram", "X"]
    assert all(r.parent.name == "label" for r in radios)
    field = one(form, "input#user_id")
    assert field["name"] == "user_id"
    assert "optional" in text_of(one(form, "label[for=user_id]"))
    assert one(form, "button")["type"] == "submit"


def test_connect_page_preselects_a_platform_from_the_query(client):
    doc = html_page(client.get("/connect?platform=x"))
    assert one(doc, "input[type=radio][checked]")["value"] == "x"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"platform": "myspace", "user_id": "123"}, "platform"),
        ({"user_id": "123"}, "platform"),
        ({"platform": "tiktok", "user_id": "9" * 65}, "user_id"),
    ],
)
def test_consent_with_bad_input_shows_the_error_next_to_its_field(client, data, field):
    doc = html_page(client.post("/connect/consent", data=data), 422)
    if field == "platform":
        error = one(doc, "#platform-error")
        assert "TikTok" in text_of(error)
        # right after the platform choice
        assert error.find_previous_sibling().name == "fieldset"
        assert one(doc, "input#user_id")["value"] == data["user_id"]
        assert not doc.select("input#user_id[aria-invalid]")
    else:
        user_id = one(doc, "input#user_id")
        assert user_id["aria-invalid"] == "true"
        error = one(doc, "#user-id-error")
        assert "64" in text_of(error) and "65" in text_of(error)
        assert "user-id-error" in user_id["aria-describedby"].split()
        assert error.parent is user_id.parent
        assert one(doc, "input[type=radio][checked]")["value"] == "tiktok"
        assert not doc.select("#platform-error")
    assert not doc.select("#allow")


def test_the_connect_form_refuses_a_user_id_holding_a_nul_character(app):
    """Requests with a NUL anywhere are refused before any view (a 400); the form keeps the
    shared user id rule whole all the same."""
    data = {"platform": "tiktok", "user_id": "ab\x00c"}
    with app.test_request_context("/connect/consent", method="POST", data=data):
        form = ConnectForm()
        assert not form.validate()
        assert form.errors == {"user_id": ["A user id cannot hold a NUL character."]}


def test_consent_lists_what_toker_reads_and_carries_the_choice(client):
    doc = html_page(client.post("/connect/consent", data={"platform": "x", "user_id": " abc "}))
    assert "X" in text_of(one(doc, "h1"))
    read = text_of(one(doc, "section.consent"))
    for what in ("username", "followers", "liked", "shared"):
        assert what in read
    form = one(doc, "#allow").parent
    assert form.name == "form" and form["method"].lower() == "post"
    assert path_of(form["action"]) == "/connect/progress"
    assert one(form, "input[type=hidden][name=platform]")["value"] == "x"
    assert one(form, "input[type=hidden][name=user_id]")["value"] == "abc"
    assert one(doc, "#allow")["type"] == "submit"
    assert "/connect" in [path_of(a["href"]) for a in doc.select("section.consent a")]
    assert api_list(client)["total"] == 0


def test_consent_without_a_user_id_generates_one(client):
    doc = html_page(client.post("/connect/consent", data={"platform": "tiktok", "user_id": ""}))
    generated = one(doc, "input[type=hidden][name=user_id]")["value"]
    assert generated.strip() and len(generated) <= 64
    assert generated in text_of(one(doc, "main code"))
    progress = html_page(
        client.post("/connect/progress", data={"platform": "tiktok", "user_id": generated})
    )
    assert json.loads(one(progress, "#progress")["hx-vals"])["user_id"] == generated


def test_progress_page_starts_the_steps_with_htmx(client):
    doc = html_page(client.post("/connect/progress", data={"platform": "tiktok", "user_id": "7"}))
    assert [li["data-step"] for li in doc.select("ol.steps li")] == STEPS
    assert not doc.select("ol.steps li.done")
    progress = one(doc, "#progress")
    assert path_of(progress["hx-post"]) == "/connect/step"
    assert "load" in progress["hx-trigger"]
    assert json.loads(progress["hx-vals"]) == {"platform": "tiktok", "user_id": "7", "step": 1}
    assert api_list(client)["total"] == 0


@pytest.mark.parametrize(
    "data",
    [{"platform": "myspace", "user_id": "7"}, {"platform": "tiktok", "user_id": ""}],
)
def test_progress_with_bad_input_goes_back_to_the_form(client, data):
    doc = html_page(client.post("/connect/progress", data=data), 422)
    assert doc.select("#platform-error") or doc.select("#user-id-error")
    assert not doc.select("#progress")


def step(client, platform: str, user_id: str, number: int):
    return client.post(
        "/connect/step",
        data={"platform": platform, "user_id": user_id, "step": str(number)},
        headers={"HX-Request": "true"},
    )


def test_a_user_id_with_quotes_reaches_the_steps_intact(client):
    user_id = """x' onclick='alert(1)" <b>"""
    consent = html_page(client.post("/connect/consent", data={"platform": "x", "user_id": user_id}))
    assert one(consent, "input[type=hidden][name=user_id]")["value"] == user_id
    doc = html_page(client.post("/connect/progress", data={"platform": "x", "user_id": user_id}))
    progress = one(doc, "#progress")
    assert json.loads(progress["hx-vals"])["user_id"] == user_id
    assert not inline_code(doc)
    assert not doc.select("b")
    part = html_page(step(client, "x", user_id, 1))
    assert json.loads(one(part, "#progress")["hx-vals"]) == {
        "platform": "x",
        "user_id": user_id,
        "step": 2,
    }


def test_each_step_reports_what_it_did(client):
    user_id = mock_user_id("tiktok", accepted=True)
    account = get_connector("tiktok").generate(user_id)
    liked, shared = len(account["liked_videos"]), len(account["shared_videos"])
    unclassified = None
    for number in (1, 2, 3):
        response = step(client, "tiktok", user_id, number)
        doc = html_page(response)
        assert not is_full_page(doc)
        assert "HX-Redirect" not in response.headers
        items = doc.select("ol.steps li")
        assert [li["data-step"] for li in items] == STEPS
        assert [li["data-step"] for li in items if "done" in li.get("class", [])] == STEPS[:number]
        assert "running" in items[number].get("class", [])
        progress = one(doc, "#progress")
        assert json.loads(progress["hx-vals"])["step"] == number + 1
        assert "load" in progress["hx-trigger"]
        text = text_of(doc)
        assert f"Fetched: {liked} liked and {shared} shared videos" in text
        assert ("Validated" in text) == (number >= 2)
        match = re.search(r"Vectorised: (\d+) unclassified", text)
        assert bool(match) == (number >= 3)
        if match:
            unclassified = int(match[1])
        assert not doc.select("#rejection") and not doc.select("#connect-error")
        assert api_list(client)["total"] == 0

    response = step(client, "tiktok", user_id, 4)
    assert response.status_code == 200
    (stored,) = api_list(client)["items"]
    assert response.headers["HX-Redirect"] == f"/profiles/{stored['id']}"
    assert stored["user_id"] == user_id
    detail = api_profile(client, stored["id"]).get_json()
    assert detail["unclassified_count"] == unclassified
    assert len(detail["liked_videos"]) == liked and len(detail["shared_videos"]) == shared


def test_finishing_the_flow_lands_on_the_profile_saying_connected_then_updated(client):
    user_id = mock_user_id("instagram", accepted=True)
    first = step(client, "instagram", user_id, 4)
    landing = html_page(client.get(first.headers["HX-Redirect"]))
    assert any(
        text.startswith("Connected") and "Instagram" in text and user_id in text
        for text in flashes(landing)
    )
    assert text_of(one(landing, "h1")).startswith(
        get_connector("instagram").generate(user_id)["username"]
    )

    again = step(client, "instagram", user_id, 4)
    assert again.headers["HX-Redirect"] == first.headers["HX-Redirect"]
    landing = html_page(client.get(again.headers["HX-Redirect"]))
    assert any(text.startswith("Updated") for text in flashes(landing))
    assert not any(text.startswith("Connected") for text in flashes(landing))
    assert api_list(client)["total"] == 1


def test_an_account_under_the_likes_minimum_is_rejected_and_not_stored(client):
    user_id = mock_user_id("tiktok", accepted=False)
    likes = get_connector("tiktok").generate(user_id)["number_of_likes"]
    for number in (2, 4):
        response = step(client, "tiktok", user_id, number)
        doc = html_page(response)
        assert "HX-Redirect" not in response.headers
        rejection = one(doc, "#rejection")
        assert f"{likes} likes" in text_of(rejection)
        assert "100" in text_of(rejection)
        assert "/connect" in [path_of(a["href"]) for a in rejection.select("a")]
        items = {li["data-step"]: li for li in doc.select("ol.steps li")}
        assert "done" in items["fetch"].get("class", [])
        assert "failed" in items["validate"].get("class", [])
        assert "done" not in items["store"].get("class", [])
        # the progress view stops asking for more steps
        assert "hx-post" not in one(doc, "#progress").attrs
    assert api_list(client)["total"] == 0


@pytest.mark.parametrize("platform", ["tiktok", "instagram", "x"])
def test_connector_faults_show_an_error_never_a_500(client, faulty_client, platform):
    for number in (1, 2, 3, 4):
        response = step(faulty_client, platform, "12345", number)
        doc = html_page(response)
        assert "HX-Redirect" not in response.headers
        error = one(doc, "#connect-error")
        assert "/connect" in [path_of(a["href"]) for a in error.select("a")]
        assert "hx-post" not in one(doc, "#progress").attrs
    assert api_list(client)["total"] == 0


def test_step_with_an_unknown_platform_is_refused(client):
    response = step(client, "myspace", "1", 4)
    assert response.status_code == 400
    assert "HX-Redirect" not in response.headers
    assert api_list(client)["total"] == 0


# --- front-end assets ------------------------------------------------------------------------


def page_responses(client) -> dict:
    """Every kind of page, with a stored profile so that charts are drawn."""
    profile_id = post_profile(client)["id"]
    responses = {name: request_page(client, name, profile_id) for name in PAGES}
    responses["not-found"] = client.get("/no/such/page")
    responses["bad-request"] = client.get("/profiles?page=abc")
    return responses


def test_cdn_mode_loads_pinned_urls_with_sri_and_a_local_fallback(make_app, monkeypatch):
    monkeypatch.delenv("TOKER_ASSETS", raising=False)
    client = signed_in_client(make_app())
    for name, response in page_responses(client).items():
        doc = parse(response)
        scripts = doc.select("script")
        srcs = [s.get("src", "") for s in scripts]
        for asset in (assets.HTMX, assets.PLOTLY):
            cdn = [i for i, src in enumerate(srcs) if src == asset.cdn_url]
            assert len(cdn) == 1, (name, srcs)
            tag = scripts[cdn[0]]
            assert tag["src"].startswith("https://")
            assert re.fullmatch(r"sha384-[A-Za-z0-9+/]{64}", tag["integrity"])
            assert tag["integrity"] == asset.integrity
            assert "crossorigin" in tag.attrs
            fallback = scripts[cdn[0] + 1]
            assert path_of(fallback["data-local"]) == f"/assets/{asset.name}.min.js"
            assert served_status(client, fallback["src"]) == 200
        assert HTMX_CDN in srcs
        assert any("2.0.11" in s for s in srcs if "htmx" in s)


def test_local_mode_loads_no_cdn_url(make_app, monkeypatch):
    monkeypatch.setenv("TOKER_ASSETS", "local")
    client = signed_in_client(make_app())
    for name, response in page_responses(client).items():
        body = response.get_data(as_text=True)
        assert "cdn.jsdelivr.net" not in body and PLOTLY_CDN_HOST not in body, name
        doc = parse(body)
        srcs = [path_of(s["src"]) for s in doc.select("script[src]")]
        assert "/assets/htmx.min.js" in srcs and "/assets/plotly.min.js" in srcs, name
        # No internet needed: every script and stylesheet is served by the app itself.
        urls = [s["src"] for s in doc.select("script[src]")]
        urls += [link["href"] for link in doc.select("link[href]")]
        for url in urls:
            assert not urlsplit(url).scheme, (name, url)
            assert served_status(client, url) == 200, (name, url)


@pytest.mark.parametrize("asset", assets.ASSETS, ids=lambda a: a.name)
def test_local_copies_are_served_as_javascript(client, asset):
    response = client.get(f"/assets/{asset.name}.min.js")
    try:
        assert response.status_code == 200
        assert response.mimetype in ("text/javascript", "application/javascript")
        body = response.get_data()
    finally:
        response.close()
    with open(assets.local_path(asset), "rb") as handle:
        assert body == handle.read()
    assert len(body) > 10_000
    assert asset.version.encode() in body


def test_an_unknown_asset_is_404(client):
    assert client.get("/assets/jquery.min.js").status_code == 404


@pytest.mark.parametrize("asset", assets.ASSETS, ids=lambda a: a.name)
def test_pinned_sri_hashes_match_the_local_copies(asset):
    with open(assets.local_path(asset), "rb") as handle:
        digest = hashlib.sha384(handle.read()).digest()
    assert asset.integrity == "sha384-" + base64.b64encode(digest).decode()
    assert asset.version in asset.cdn_url


def test_no_page_has_inline_script_and_charts_come_through_data_figure(client):
    empty_overview = client.get("/")
    responses = page_responses(client)
    responses["empty-overview"] = empty_overview
    for name, response in responses.items():
        assert inline_code(parse(response)) == [], name
    overview = parse(responses["overview"])
    assert one(overview, "#interests-chart[data-figure]")
    profile = parse(responses["profile"])
    assert len(profile.select("[data-figure]")) == 2
    for chart in profile.select("[data-figure]"):
        assert json.loads(chart["data-figure"])["data"]


# --- error pages -----------------------------------------------------------------------------


def test_unknown_path_is_the_html_404_page(client):
    doc = html_page(client.get("/no/such/page"), 404)
    error = one(doc, "main #error-page")
    assert error["data-status"] == "404"
    assert text_of(one(error, "h1")) == "Page not found"
    assert {path_of(a["href"]) for a in error.select("a")} == {"/", "/profiles"}
    assert one(doc, "footer")


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/profiles/424242"])
def test_api_paths_still_answer_problem_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404 and body["title"] and body["detail"]


def test_wrong_method_on_a_page_is_an_html_405(client, stored):
    response = client.get(f"/profiles/{stored['id']}/delete")
    doc = html_page(response, 405)
    assert one(doc, "#error-page")["data-status"] == "405"
    assert "POST" in response.headers["Allow"]
    assert api_profile(client, stored["id"]).status_code == 200


def test_an_unexpected_error_is_the_html_500_page(app, client, monkeypatch):
    from webapp.services.analytics import overview

    def broken():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(overview, "overview", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/")
    doc = html_page(response, 500)
    assert one(doc, "main #error-page")["data-status"] == "500"
    assert "secret internals" not in response.get_data(as_text=True)
    assert one(doc, "header nav")


def test_each_table_row_links_its_profile_and_escapes_its_text(client):
    tame = post_profile(client, user_id="1", username="tame")
    wild = post_profile(client, platform="x", user_id="2", username='<b>"wild"</b>&')

    rows = parse(client.get("/profiles?sort=username&order=asc")).select("table#profiles tbody tr")

    assert [text_of(one(row, "td a")) for row in rows] == ['<b>"wild"</b>&', "tame"]
    assert [one(row, "td a")["href"] for row in rows] == [
        f"/profiles/{wild['id']}",
        f"/profiles/{tame['id']}",
    ]
    assert [one(row, "input[name=ids]")["value"] for row in rows] == [
        str(wild["id"]),
        str(tame["id"]),
    ]
    assert one(rows[0], "input[name=ids]")["aria-label"] == 'Compare <b>"wild"</b>&'
    assert not rows[0].select("td b"), "an account's name is text, never markup"


def test_table_links_keep_the_script_root_the_app_is_served_under(client, stored):
    page = client.get("/profiles", environ_overrides={"SCRIPT_NAME": "/toker"})

    [row] = parse(page).select("table#profiles tbody tr")
    assert one(row, "td a")["href"] == f"/toker/profiles/{stored['id']}"


def test_the_layout_links_are_built_once_and_follow_the_script_root(app, monkeypatch):
    """Templates' url_for remembers what it built, per script root; a URL with a list among
    its values is built every time."""
    from webapp.views import filters

    built = []
    real = filters.url_for
    monkeypatch.setattr(filters, "url_for", lambda *a, **k: built.append(a) or real(*a, **k))
    monkeypatch.setattr(filters, "_URLS", {})
    with app.test_request_context("/"):
        assert filters.cached_url_for("pages.profiles") == "/profiles"
        assert filters.cached_url_for("pages.profiles") == "/profiles"
        assert filters.cached_url_for("pages.profiles", interest=["Music:0.3", "Food:0.1"]) == (
            "/profiles?interest=Music:0.3&interest=Food:0.1"
        )
        filters.cached_url_for("pages.profiles", interest=["Music:0.3", "Food:0.1"])
    with app.test_request_context("/", base_url="http://localhost/toker"):
        assert filters.cached_url_for("pages.profiles") == "/toker/profiles"
    assert len(built) == 4
