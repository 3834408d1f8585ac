"""Hostile input: markup stays text on every page, odd strings in every search and filter,
broken and oversized bodies, wrong types, wild numbers and pages past the end.

The rule throughout: never a 5xx. A request is either served correctly (200, right results)
or refused with a 4xx that names what was wrong; a page never runs markup it was given.
Runs on SQLite and, with TOKER_TEST_DATABASE_URL, on PostgreSQL (which refuses NUL bytes in
text: the app must refuse them first, with a 400 or 422).
"""

import html
import json
import re

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import text as sql

from webapp.extensions import db
from webapp.services.catalogue.raw_payloads import payload_of
from webapp.services.ingestion.taxonomy import CATEGORIES, normalise_hashtag

from ..factories import make_payload, video
from ..helpers import (
    PROBLEM_JSON,
    assert_problem,
    html_page,
    inline_code,
    parse,
    profile_count,
    signin_post,
)

# Markup, template and SQL fragments that must reach every page as plain text.
XSS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}",
    "</textarea><svg onload=alert(1)>",
    "'; DROP TABLE profiles; --",
    # Plotly draws a subset of HTML in its labels: bold and links, if handed raw.
    '<b>bold</b><a href="https://evil.example/">link</a>',
)
# Tags that only an injection could have put on a page: the templates use none of them.
FOREIGN_TAGS = ["img", "svg", "iframe", "object", "embed", "math", "base", "frame", "frameset"]


# --- reading pages -------------------------------------------------------------------------


def injected(doc: BeautifulSoup) -> list[str]:
    """Everything on the page that only injected markup could have put there."""
    # The badges the app draws, as the profile page lists them (by identity, not by likeness).
    own_badges = {id(el) for el in doc.select('#achievements .badges img[src^="/badges/"]')}
    foreign = [
        f"a <{el.name}> element {el.attrs}"
        for el in doc.find_all(FOREIGN_TAGS)
        if id(el) not in own_badges
    ]
    return inline_code(doc) + foreign


def figures(doc: BeautifulSoup) -> dict[str, dict]:
    """Each chart's Plotly figure (its data-figure JSON) by element id."""
    return {el.get("id", ""): json.loads(el["data-figure"]) for el in doc.select("[data-figure]")}


def page(response, status: int = 200) -> BeautifulSoup:
    """The HTML page of a response, checked to hold no injected markup."""
    doc = html_page(response, status)
    assert injected(doc) == [], f"{response.request.url}: markup was injected"
    return doc


def assert_shown(response, *texts: str) -> BeautifulSoup:
    """The page of `response` (see page()) shows each text literally, as text, escaped in the
    HTML source; returns the page."""
    doc = page(response)
    source = response.get_data(as_text=True)
    for shown in texts:
        assert shown in doc.get_text(), f"{shown!r} is not shown as text"
        for tag in re.findall(r"<(/?[a-z]+)", shown):
            assert f"&lt;{tag}" in source, f"<{tag} is not escaped in the source"
    return doc


def count_shown(doc: BeautifulSoup, count: int, noun: str) -> bool:
    """Whether the page says '<count> <noun>' (e.g. '0 profiles'), not '10 profiles'."""
    return re.search(rf"(?<![\d,]){count:,} {noun}", doc.get_text()) is not None


def problem_issue(response, status: int, loc: str | None = None) -> str | None:
    """Why `response` is not a problem+json with this status naming `loc`; None when it is.

    A loc names a field or anything inside it: 'liked_videos[1].categories' is named by
    'liked_videos[1].categories[0]'.
    """
    if response.status_code != status:
        return f"{response.status_code}: {response.get_data(as_text=True)[:160]}"
    if response.mimetype != PROBLEM_JSON:
        return f"{status} as {response.mimetype}"
    if loc is not None:
        locs = [error["loc"] for error in response.get_json().get("errors", [])]
        inside = loc and any(found.startswith((f"{loc}[", f"{loc}.")) for found in locs)
        if loc not in locs and not inside:
            return f"errors do not name {loc!r}: {locs}"
    return None


def page_issue(response, statuses=(200,)) -> str | None:
    """Why `response` is not an HTML page with one of these statuses and nothing injected."""
    if response.status_code not in statuses:
        return f"{response.status_code}"
    if response.mimetype != "text/html":
        return f"answered as {response.mimetype}"
    found = injected(parse(response))
    return f"injected {found}" if found else None


def table_rows(app) -> int:
    """Counted in plain SQL: the profiles table is still there."""
    with app.app_context():
        return db.session.execute(sql("SELECT count(*) FROM profiles")).scalar_one()


def store(client, payload: dict, platform: str = "tiktok") -> int:
    response = client.post("/api/v1/profiles", json={"platform": platform, "payload": payload})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["profile"]["id"]


def post_json(client, path: str, body) -> object:
    """POST `body` serialised by the standard library (which writes any integer and depth)."""
    return client.post(path, data=json.dumps(body), content_type="application/json")


def hostile_payload(index: int, text: str) -> dict:
    """A payload carrying `text` as username, pseudo, captions, hashtags and raw categories."""
    liked = [
        {
            **video(f"h{index}-1", categories=[text, "Music"], hashtags=[text, "#dance"]),
            "caption": text,
        },
        {**video(f"h{index}-2", hashtags=[text, "#music"]), "caption": f"about {text}"},
    ]
    shared = [{**video(f"h{index}-3", categories=["Comedy", text]), "caption": text}]
    return make_payload(
        user_id=f"hostile-{index}",
        username=text,
        user_pseudo=f"pseudo {text}",
        liked_videos=liked,
        shared_videos=shared,
    )


@pytest.fixture
def hostile(client) -> dict[str, int]:
    """One stored profile per hostile text; returns text -> profile id."""
    return {text: store(client, hostile_payload(i, text)) for i, text in enumerate(XSS)}


def search_box(doc: BeautifulSoup) -> list[str]:
    return [field["value"] for field in doc.select("input[name=q]")]


# --- 1. markup is shown as text, everywhere ------------------------------------------------


def test_overview_and_profile_list_show_markup_as_text(client, hostile):
    assert_shown(client.get("/"), *XSS)
    assert_shown(client.get("/profiles"), *XSS)
    assert_shown(client.get("/profiles", headers={"HX-Request": "true"}), *XSS)


def test_searching_for_markup_finds_it_and_shows_it_as_text(client, hostile):
    for text, profile_id in hostile.items():
        full = assert_shown(client.get("/profiles", query_string={"q": text}), text)
        assert search_box(full) == [text]
        assert f"/profiles/{profile_id}" in [a.get("href") for a in full.select("a")]
        assert_shown(
            client.get("/profiles", query_string={"q": text}, headers={"HX-Request": "true"}), text
        )


def test_profile_pages_and_their_partials_show_markup_as_text(client, hostile):
    for text, profile_id in hostile.items():
        doc = assert_shown(
            client.get(f"/profiles/{profile_id}"), text, f"pseudo {text}", normalise_hashtag(text)
        )
        # Raw categories only appear in the raw payload, as JSON text.
        assert json.dumps(text)[1:-1] in doc.get_text()
        # The delete confirmation carries the name in an attribute, intact.
        confirms = [form["data-confirm"] for form in doc.select("form[data-confirm]")]
        assert confirms and all(text in confirm for confirm in confirms)

        liked = client.get(f"/profiles/{profile_id}/videos/liked")
        assert_shown(liked, text, f"about {text}", normalise_hashtag(text))
        assert_shown(client.get(f"/profiles/{profile_id}/videos/shared"), text)

        others = [other for other in XSS if other != text]
        assert_shown(client.get(f"/profiles/{profile_id}/similar"), *others)
        recommended = page(client.get(f"/profiles/{profile_id}/recommended"))
        assert any(other in recommended.get_text() for other in others), "no recommended caption"


def test_charts_are_labelled_by_the_taxonomy_only(client, hostile):
    for profile_id in hostile.values():
        charts = figures(page(client.get(f"/profiles/{profile_id}")))
        assert set(charts["interest-bar"]["data"][0]["y"]) <= set(CATEGORIES)
        assert set(charts["interest-radar"]["data"][0]["theta"]) <= set(CATEGORIES)
    overview = figures(page(client.get("/")))
    assert set(overview["interests-chart"]["data"][0]["y"]) <= set(CATEGORIES)
    assert set(overview["platform-heatmap"]["data"][0]["x"]) <= set(CATEGORIES)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_compare_page_shows_markup_as_text(client, hostile):
    ids = list(hostile.values())
    for chosen in (ids[:4], ids[3:]):
        shown = client.get("/compare", query_string={"ids": ",".join(map(str, chosen))})
        assert_shown(shown, *[text for text, pk in hostile.items() if pk in chosen])


def test_compare_chart_hands_plotly_names_escaped(client, hostile):
    """Plotly renders <b>, <i>, <a href>, <br>... in trace names and hover templates, so a
    username must reach it with its markup escaped (&lt;b&gt;) to be drawn as typed."""
    chosen = [hostile[XSS[0]], hostile[XSS[-1]]]
    doc = page(client.get("/compare", query_string={"ids": f"{chosen[0]},{chosen[1]}"}))
    figure = figures(doc)["compare-radar"]
    assert [html.unescape(trace["name"]) for trace in figure["data"]] == [XSS[0], XSS[-1]]
    # Plotly's own markup (<extra>, <br>) aside, no tag may reach Plotly from user data.
    for value in _strings(figure["data"]):
        leftover = value.replace("<extra></extra>", "").replace("<br>", "")
        assert "<" not in leftover, f"raw markup handed to Plotly: {value!r}"


def test_videos_page_and_its_searches_show_markup_as_text(client, hostile):
    assert_shown(client.get("/videos"), *XSS)
    for text in XSS:
        found = assert_shown(client.get("/videos", query_string={"q": text}), text)
        assert search_box(found) == [text]
        by_tag = assert_shown(
            client.get("/videos", query_string={"hashtag": text}), normalise_hashtag(text)
        )
        assert not count_shown(by_tag, 0, "videos")


def test_like_page_shows_markup_as_text(client, hostile):
    for text, profile_id in hostile.items():
        assert_shown(client.get("/profiles/like", query_string={"from": profile_id}), text)
    partial = client.get(
        "/profiles/like", query_string={"w:Music": 50}, headers={"HX-Request": "1"}
    )
    assert_shown(partial, *XSS)


def test_map_data_carries_the_names_exactly_as_json(client, hostile):
    response = client.get("/api/v1/map")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert set(XSS) <= set(response.get_json()["username"])
    page(client.get("/map"))


def test_audit_log_and_tokens_show_hostile_targets_as_text(client, anonymous, hostile):
    deleted = XSS[0]
    assert client.post(f"/profiles/{hostile[deleted]}/delete").status_code == 303
    for name in XSS:
        assert client.post("/admin/tokens", data={"user": "admin", "name": name}).status_code == 200
    for name in XSS[:3]:
        failed = signin_post(anonymous, name, "wrong")
        assert [field["value"] for field in page(failed, 401).select("input#name")] == [name]
    assert_shown(client.get("/admin/audit"), deleted, *XSS[:3])
    assert_shown(client.get("/admin/tokens"), *XSS)
    for name in XSS[:3]:
        mine = assert_shown(client.get("/admin/audit", query_string={"actor": name}), name)
        assert [field["value"] for field in mine.select("input[name=actor]")] == [name]


def test_signin_keeps_a_hostile_next_as_an_attribute_value(anonymous):
    for target in ['/x"><script>alert(1)</script>', "/'><img src=x onerror=alert(1)>", "/{{7*7}}"]:
        doc = page(anonymous.get("/signin", query_string={"next": target}))
        assert [field["value"] for field in doc.select("input[name=next]")] == [target]
    for target in ["javascript:alert(1)", "//evil.example/", "/\\evil.example"]:
        doc = page(anonymous.get("/signin", query_string={"next": target}))
        assert doc.select("input[name=next]") == [], target


def test_connect_flow_shows_a_hostile_user_id_as_text(client):
    for text in (XSS[0], XSS[1], XSS[5]):
        form = {"platform": "tiktok", "user_id": text}
        consent = assert_shown(client.post("/connect/consent", data=form), text)
        assert [field["value"] for field in consent.select("input[name=user_id]")] == [text]
        (box,) = page(client.post("/connect/progress", data=form)).select("div#progress")
        assert json.loads(box["hx-vals"])["user_id"] == text
        done = client.post("/connect/step", data={**form, "step": 4})
        assert done.status_code == 200
        if done.headers.get("HX-Redirect"):
            assert_shown(client.get(done.headers["HX-Redirect"]), text)
        else:  # the mock account was under the likes minimum: the reasons are shown
            page(done)


BAD_PAGE_PARAMETERS = [
    ("/profiles", "sort"),
    ("/profiles", "order"),
    ("/profiles", "platform"),
    ("/profiles", "interest"),
    ("/videos", "category"),
    ("/videos", "sort"),
    ("/videos", "min_score"),
    ("/compare", "ids"),
    ("/profiles/like", "platform"),
    ("/profiles/like", "from"),
    ("/map", "color"),
    ("/map", "k"),
]


def test_error_pages_echo_bad_parameters_as_text(client):
    wrong = {}
    for text in XSS:
        for url, param in BAD_PAGE_PARAMETERS:
            response = client.get(url, query_string={param: text})
            issue = page_issue(response, (400,))
            if issue is None and not parse(response).select("section#error-page"):
                issue = "not the error page"
            if issue:
                wrong[f"{url}?{param}={text}"] = issue
    assert wrong == {}


def test_api_problems_echo_bad_parameters_as_json_never_html(client):
    for text in XSS:
        response = client.get("/api/v1/profiles", query_string={"sort": text})
        assert text in assert_problem(response, 400, "sort", within=True)["detail"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- 2. SQL-like and Unicode strings in every search and filter ----------------------------

ODD = {
    "sql-or": "' OR 1=1 --",
    "percent": "%",
    "underscore": "_",
    "backslash": "\\",
    "sql-drop": '"; DROP TABLE profiles; --',
    "accents": "ñandú",
    "han": "漢字",
    "emoji": "🙂",
    "rtl": "שלום עולם",
    "rtl-override": "\u202eevil\u202c",
    "zwj": "👨\u200d👩\u200d👧",
    "zero-width": "a\u200bb",
    "nul": "\x00",
    "nul-inside": "a\x00b",
    "long": "x" * 10_000,
}

# (path, parameter, kind): a "search" must find nothing for a string no stored profile or video
# holds; a "choice" must refuse anything not on its list (400 naming it); "lenient" may ignore
# what it does not know. None may fail.
SEARCHES = [
    ("/api/v1/profiles", "q", "search"),
    ("/api/v1/profiles", "platform", "choice"),
    ("/api/v1/profiles", "interest", "choice"),
    ("/api/v1/profiles", "sort", "choice"),
    ("/api/v1/profiles", "order", "choice"),
    ("/api/v1/profiles/export", "q", "search"),
    ("/api/v1/profiles/export", "format", "choice"),
    ("/api/v1/profiles/nearest", "mix", "choice"),
    ("/api/v1/profiles/{id}/similar", "platform", "choice"),
    ("/api/v1/videos", "q", "search"),
    ("/api/v1/videos", "hashtag", "search"),
    ("/api/v1/videos", "platform", "choice"),
    ("/api/v1/videos", "category", "choice"),
    ("/api/v1/videos", "sort", "choice"),
    ("/api/v1/videos", "order", "choice"),
    ("/profiles", "q", "search"),
    ("/profiles", "platform", "choice"),
    ("/profiles", "interest", "choice"),
    ("/profiles", "interest_category", "choice"),
    ("/profiles", "sort", "choice"),
    ("/videos", "q", "search"),
    ("/videos", "hashtag", "search"),
    ("/videos", "category", "choice"),
    ("/profiles/like", "platform", "choice"),
    ("/admin/audit", "actor", "lenient"),
    ("/admin/audit", "action", "lenient"),
]
MAX_SEARCH = 100  # longer searches may be refused


def _served(client, path: str, params: dict):
    """The response with its body read in full, or why it broke (a failure mid-stream)."""
    try:
        response = client.get(path, query_string=params)
        response.get_data()
    except Exception as error:  # the test client re-raises what broke a streamed body
        return None, f"{type(error).__name__}: {error}"
    return response, None


def _search_issue(client, path: str, param: str, kind: str, value: str) -> str | None:
    """What is wrong with the answer to path?param=value, or None."""
    params = {param: value}
    if param == "interest_category":
        params["interest_min"] = "10"
    response, broken = _served(client, path, params)
    if broken:
        return broken
    status, api = response.status_code, path.startswith("/api/")
    if status == 400:
        if kind == "search" and len(value) <= MAX_SEARCH and "\x00" not in value:
            return "400 for an ordinary search"
        return problem_issue(response, 400, param) if api else page_issue(response, (400,))
    if status != 200:
        return f"{status}"
    if kind == "choice":
        return "200 for a value that is not one of the choices"
    if kind == "search":
        if path == "/api/v1/profiles/export":
            rows = response.get_data(as_text=True).splitlines()[1:]
            return f"the export matched {len(rows)} rows" if rows else None
        if api:
            total = response.get_json()["total"]
            return f"matched {total}" if total else None
        doc = parse(response)
        if injected(doc):
            return f"injected {injected(doc)}"
        if not (count_shown(doc, 0, "profiles") or count_shown(doc, 0, "videos")):
            return "the page did not report 0 matches"
    return page_issue(response) if not api else None


@pytest.fixture
def ordinary(client) -> list[int]:
    """Two plain profiles (with videos) that none of the odd strings matches."""
    caption = {**video("o2-1", hashtags=["#music"]), "caption": "a plain caption"}
    return [
        store(client, make_payload(user_id="o1", username="plainone", user_pseudo="First")),
        store(
            client,
            make_payload(
                user_id="o2", username="second", user_pseudo="Second", liked_videos=[caption]
            ),
        ),
    ]


@pytest.mark.parametrize("value", list(ODD.values()), ids=list(ODD))
def test_odd_strings_in_every_search_and_filter(app, client, ordinary, value):
    before = table_rows(app)
    wrong = {}
    for path, param, kind in SEARCHES:
        url = path.format(id=ordinary[0])
        issue = _search_issue(client, url, param, kind, value)
        if issue:
            wrong[f"{url}?{param}"] = issue
    assert wrong == {}
    assert table_rows(app) == before == len(ordinary)


def test_like_wildcards_in_a_search_match_literally(client):
    names = ["100% real", "snake_case", "back\\slash", "plain"]
    for i, name in enumerate(names):
        caption = {**video(f"lit{i}", hashtags=["#music"]), "caption": name}
        store(
            client,
            make_payload(user_id=f"lit{i}", username=name, user_pseudo="x", liked_videos=[caption]),
        )
    cases = {"%": ["100% real"], "_": ["snake_case"], "\\": ["back\\slash"], "0%": ["100% real"]}
    for needle, expected in cases.items():
        listed = client.get("/api/v1/profiles", query_string={"q": needle}).get_json()
        assert sorted(item["username"] for item in listed["items"]) == expected, needle
        shown = page(client.get("/profiles", query_string={"q": needle}))
        assert count_shown(shown, len(expected), "profile"), needle
        videos = client.get("/api/v1/videos", query_string={"q": needle}).get_json()
        assert sorted(item["caption"] for item in videos["items"]) == expected, needle


def test_unicode_searches_find_their_profile(client):
    names = ["ñandú_fan", "漢字ファン", "emoji🙂lover", "👨\u200d👩\u200d👧family", "שלום_user"]
    for i, name in enumerate(names):
        store(client, make_payload(user_id=f"uni{i}", username=name))
    for needle, expected in zip(
        ["ñandú", "漢字", "🙂", "👨\u200d👩\u200d👧", "שלום"], names, strict=True
    ):
        listed = client.get("/api/v1/profiles", query_string={"q": needle}).get_json()
        assert [item["username"] for item in listed["items"]] == [expected]
        assert_shown(client.get("/profiles", query_string={"q": needle}), expected)


def test_search_ignores_case_beyond_ascii(client):
    """The search ignores case; that must hold for ñ, Ö, É... not only for A to Z."""
    cases = {"ÑANDÚ Fan": "ñandú", "Ölfan": "ÖLFAN", "Émile": "émile"}
    for i, stored in enumerate(cases):
        store(client, make_payload(user_id=f"case{i}", username=stored))
    found = {
        stored: [
            item["username"]
            for item in client.get("/api/v1/profiles", query_string={"q": needle}).get_json()[
                "items"
            ]
        ]
        for stored, needle in cases.items()
    }
    assert found == {stored: [stored] for stored in cases}


def test_a_nul_byte_in_a_search_is_refused_or_matches_nothing(app, client, ordinary):
    wrong = {}
    for needle in ("\x00", "a\x00b"):
        for path in ("/api/v1/profiles", "/profiles", "/api/v1/profiles/export"):
            issue = _search_issue(client, path, "q", "search", needle)
            if issue:
                wrong[f"{path}?q={needle!r}"] = issue
        response, broken = _served(client, "/admin/audit", {"actor": needle})
        if broken or response.status_code >= 500:
            wrong[f"/admin/audit?actor={needle!r}"] = broken or response.status_code
    assert wrong == {}
    assert table_rows(app) == len(ordinary)


# --- 3. bodies -----------------------------------------------------------------------------

BODY_PATHS = ["/api/v1/profiles", "/api/v1/connect"]
LIMIT = 2 * 1024 * 1024  # the default MAX_CONTENT_LENGTH


def test_an_oversized_body_is_a_413_problem(app, client):
    data = '{"platform": "tiktok", "payload": "' + "x" * LIMIT + '"}'
    for path in BODY_PATHS:
        body = assert_problem(client.post(path, data=data, content_type="application/json"), 413)
        assert str(LIMIT) in body["detail"]
    assert profile_count(app) == 0


def test_an_oversized_form_is_a_413_page(client):
    for path in ("/signin", "/connect/consent"):
        response = client.post(path, data={"user_id": "x" * LIMIT, "name": "x"})
        assert page_issue(response, (413,)) is None, path


DEEP = {
    "arrays": "[" * 100_000 + "]" * 100_000,
    "objects": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "unclosed": "[" * 100_000,
    "in-payload": '{"platform": "tiktok", "payload": {"liked_videos": '
    + "[" * 50_000
    + "]" * 50_000
    + "}}",
}


def test_deeply_nested_json_is_a_400_problem(app, client):
    wrong = {}
    for name, data in DEEP.items():
        for path in BODY_PATHS:
            response = client.post(path, data=data, content_type="application/json")
            issue = problem_issue(response, 400)
            if issue:
                wrong[f"{path} {name}"] = issue
    assert wrong == {}
    assert profile_count(app) == 0


def test_nesting_within_the_parser_limit_is_a_located_422(app, client):
    nested = json.loads("[" * 500 + "]" * 500)
    payload = make_payload(liked_videos=nested)
    response = post_json(client, "/api/v1/profiles", {"platform": "tiktok", "payload": payload})
    assert_problem(response, 422, "liked_videos[0]", within=True)
    assert profile_count(app) == 0


def _videos(count: int, **fields) -> list[dict]:
    return [{**video(str(i)), **fields} for i in range(count)]


HUGE = {
    "too-many-videos": (make_payload(liked_videos=_videos(1001)), ["liked_videos"]),
    "megabyte-username": (make_payload(username="u" * 1_000_000), ["username"]),
    "long-user-id": (make_payload(user_id="9" * 65), ["user_id"]),
    "long-fields": (
        make_payload(
            liked_videos=[
                {
                    **video("v" * 65, categories=["c" * 65], hashtags=["#" + "h" * 100]),
                    "caption": "c" * 2201,
                },
                video("many", categories=["Music"] * 21, hashtags=["#x"] * 51),
            ]
        ),
        [
            "liked_videos[0].video_id",
            "liked_videos[0].categories[0]",
            "liked_videos[0].hashtags[0]",
            "liked_videos[0].caption",
            "liked_videos[1].categories",
            "liked_videos[1].hashtags",
        ],
    ),
    "every-video-wrong": (
        make_payload(liked_videos=_videos(300, likes="many")),
        [f"liked_videos[{i}].likes" for i in range(300)],
    ),
}


def test_huge_payloads_within_the_limit_are_located_422s(app, client):
    wrong = {}
    for name, (payload, locs) in HUGE.items():
        data = json.dumps({"platform": "tiktok", "payload": payload})
        assert len(data) < LIMIT
        response = client.post("/api/v1/profiles", data=data, content_type="application/json")
        issue = problem_issue(response, 422)
        if issue is None:
            missing = set(locs) - {error["loc"] for error in response.get_json()["errors"]}
            issue = f"errors do not name {sorted(missing)}" if missing else None
        if issue:
            wrong[name] = issue
    assert wrong == {}
    assert profile_count(app) == 0


NOT_JSON = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/xml",
    "",
]


def test_a_body_that_is_not_json_is_a_415(app, client):
    wrong = {}
    for content_type in NOT_JSON:
        headers = {"Content-Type": content_type} if content_type else {}
        for path in BODY_PATHS:
            response = client.post(path, data='{"platform": "tiktok"}', headers=headers)
            issue = problem_issue(response, 415)
            if issue:
                wrong[f"{path} {content_type!r}"] = issue
    assert wrong == {}
    assert profile_count(app) == 0


INVALID_UTF8 = {
    "lone-byte": b'{"platform": "tiktok", "user_id": "\xff"}',
    "truncated": b'{"platform": "tiktok", "user_id": "\xe2\x82"}',
    "overlong": b'{"platform": "tiktok", "user_id": "\xc0\xaf"}',
    "surrogate": b'{"platform": "tiktok", "user_id": "\xed\xa0\x80"}',
    "latin-1": '{"platform": "tiktok", "user_id": "ñandú"}'.encode("latin-1"),
}


def test_invalid_utf8_is_a_400(app, client):
    wrong = {}
    for name, data in INVALID_UTF8.items():
        for path in BODY_PATHS:
            response = client.post(path, data=data, content_type="application/json")
            issue = problem_issue(response, 400)
            if issue:
                wrong[f"{path} {name}"] = issue
    assert wrong == {}
    assert profile_count(app) == 0


@pytest.mark.parametrize("path", BODY_PATHS)
def test_invalid_utf8_says_what_is_wrong(client, path):
    """The detail must help: not Werkzeug's generic 'could not understand' sentence."""
    data = INVALID_UTF8["lone-byte"]
    body = assert_problem(client.post(path, data=data, content_type="application/json"), 400)
    assert "could not understand" not in body["detail"]
    assert "utf-8" in body["detail"].lower()


COUNT_FIELDS = (
    "followers_count",
    "following_count",
    "likes_count",
    "videos_count",
    "number_of_comments",
    "number_of_likes_on_own_videos",
    "number_of_likes",
    "number_of_shares",
)
COUNT_VALUES = ("10", 1.5, True, None, [], {}, -1, 10**16)
PAYLOAD_FIELDS = {
    **{field: (123, 1.5, True, None, [], {}) for field in ("user_id", "username", "user_pseudo")},
    **{field: COUNT_VALUES for field in COUNT_FIELDS},
    "verified": ("true", 1, 0, None, [], {}),
    "liked_videos": ({}, "videos", None, 1, True),
    "shared_videos": ({}, "videos", None, 1, True),
}
VIDEO_FIELDS = {
    "video_id": (True, None, 1.5, [], {}, -1, "", "   "),
    "categories": ("Music", [1], [None], {}, [["Music"]], 5),
    "hashtags": ("#fun", [1], [None], {}, 5),
    "likes": ("1", 1.5, True, None, -1, 10**16, []),
    "comments": ("1", 1.5, True, None, -1, 10**16, []),
    "shares": ("1", 1.5, True, None, -1, 10**16, []),
    "caption": (5, [], {}, True),
    "posted_at": ("yesterday", 5, [], "2025-13-45T99:00:00"),
}


@pytest.mark.parametrize("field", list(PAYLOAD_FIELDS))
def test_a_payload_field_of_the_wrong_type_is_a_located_422(app, client, field):
    wrong = {}
    for value in PAYLOAD_FIELDS[field]:
        payload = make_payload(**{field: value})
        response = post_json(client, "/api/v1/profiles", {"platform": "tiktok", "payload": payload})
        issue = problem_issue(response, 422, field)
        if issue:
            wrong[repr(value)] = issue
    assert wrong == {}
    assert profile_count(app) == 0


@pytest.mark.parametrize("field", list(VIDEO_FIELDS))
def test_a_video_field_of_the_wrong_type_is_a_located_422(app, client, field):
    wrong = {}
    for kind in ("liked_videos", "shared_videos"):
        for value in VIDEO_FIELDS[field]:
            payload = make_payload()
            payload[kind][1][field] = value
            body = {"platform": "tiktok", "payload": payload}
            issue = problem_issue(
                post_json(client, "/api/v1/profiles", body), 422, f"{kind}[1].{field}"
            )
            if issue:
                wrong[f"{kind} {value!r}"] = issue
    assert wrong == {}
    assert profile_count(app) == 0


BODY_CASES = [
    ("/api/v1/profiles", {"platform": 1, "payload": {}}, "platform"),
    ("/api/v1/profiles", {"platform": ["tiktok"], "payload": {}}, "platform"),
    ("/api/v1/profiles", {"platform": None, "payload": {}}, "platform"),
    ("/api/v1/profiles", {"platform": "TikTok", "payload": {}}, "platform"),
    ("/api/v1/profiles", {"platform": "<script>", "payload": {}}, "platform"),
    ("/api/v1/profiles", {"platform": "tiktok"}, "payload"),
    ("/api/v1/profiles", {"platform": "tiktok", "payload": []}, ""),
    ("/api/v1/profiles", {"platform": "tiktok", "payload": "{}"}, ""),
    ("/api/v1/profiles", {"platform": "tiktok", "payload": 7}, ""),
    ("/api/v1/profiles", [], ""),
    ("/api/v1/profiles", "text", ""),
    ("/api/v1/profiles", 42, ""),
    ("/api/v1/profiles", None, ""),
    ("/api/v1/connect", {"platform": True}, "platform"),
    ("/api/v1/connect", {"platform": {"name": "tiktok"}}, "platform"),
    ("/api/v1/connect", {}, "platform"),
    ("/api/v1/connect", {"platform": "tiktok", "user_id": True}, "user_id"),
    ("/api/v1/connect", {"platform": "tiktok", "user_id": 1.5}, "user_id"),
    ("/api/v1/connect", {"platform": "tiktok", "user_id": -1}, "user_id"),
    ("/api/v1/connect", {"platform": "tiktok", "user_id": []}, "user_id"),
    ("/api/v1/connect", {"platform": "tiktok", "user_id": {}}, "user_id"),
    ("/api/v1/connect", {"platform": "tiktok", "user_id": ""}, "user_id"),
    ("/api/v1/connect", {"platform": "tiktok", "user_id": "   "}, "user_id"),
    ("/api/v1/connect", {"platform": "tiktok", "user_id": "x" * 65}, "user_id"),
    ("/api/v1/connect", {"platform": "tiktok", "user_id": 10**30}, "user_id"),
    ("/api/v1/connect", [], ""),
    ("/api/v1/connect", "tiktok", ""),
]


def test_a_body_of_the_wrong_shape_is_a_located_422(app, client):
    wrong = {}
    for path, body, loc in BODY_CASES:
        issue = problem_issue(post_json(client, path, body), 422, loc)
        if issue:
            wrong[f"{path} {body!r}"] = issue
    assert wrong == {}
    assert profile_count(app) == 0


def test_a_count_too_large_for_json_numbers_is_refused_with_a_clear_reason(app, client):
    """10**30 is a whole number: the answer must say it is too large, not that it is not
    a whole number (orjson reads integers beyond 64 bits as floats)."""
    payload = make_payload(followers_count=10**30)
    response = post_json(client, "/api/v1/profiles", {"platform": "tiktok", "payload": payload})
    body = assert_problem(response, 422, "followers_count", within=True)
    (error,) = [error for error in body["errors"] if error["loc"] == "followers_count"]
    assert "too large" in error["msg"], error["msg"]
    assert profile_count(app) == 0


def test_unknown_fields_are_kept_only_up_to_their_bound(app, client):
    """An attack stored a 1.9 MB field the format does not name and had it served back as a
    1.9 MB profile page: unknown fields are kept up to 16 KiB in all, refused by name beyond."""
    one_big = make_payload(user_id="big", notes="x" * 1_900_000)
    response = post_json(client, "/api/v1/profiles", {"platform": "tiktok", "payload": one_big})
    body = assert_problem(response, 422, "notes", within=True)
    assert "1,900,0" in body["errors"][0]["msg"] and "16,384" in body["errors"][0]["msg"]
    spread = make_payload(
        user_id="spread",
        liked_videos=[{**video(str(i)), "extra": "y" * 1100} for i in range(16)],
    )
    response = post_json(client, "/api/v1/profiles", {"platform": "tiktok", "payload": spread})
    body = assert_problem(response, 422)
    locs = [error["loc"] for error in body["errors"]]
    # The fewest fields whose removal brings the rest within the bound (16 of 1,1xx bytes: 2),
    # each by location.
    assert len(locs) == 2 and all(re.fullmatch(r"liked_videos\[\d+\]\.extra", loc) for loc in locs)
    assert profile_count(app) == 0

    kept = make_payload(
        user_id="kept", region="EU", liked_videos=[{**video("1"), "music_id": "m1"}]
    )
    response = post_json(client, "/api/v1/profiles", {"platform": "tiktok", "payload": kept})
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        stored = payload_of(response.get_json()["profile"]["id"])
    assert stored["region"] == "EU" and stored["liked_videos"][0]["music_id"] == "m1"


NUL_PAYLOADS = {
    "user_id": make_payload(user_id="a\x00b"),
    "username": make_payload(username="a\x00b"),
    "user_pseudo": make_payload(user_pseudo="\x00"),
    "liked_videos[0].video_id": make_payload(liked_videos=[video("1\x00")]),
    "liked_videos[0].categories[0]": make_payload(liked_videos=[video("1", categories=["a\x00"])]),
    "liked_videos[0].hashtags[0]": make_payload(liked_videos=[video("1", hashtags=["#a\x00"])]),
    "liked_videos[0].caption": make_payload(liked_videos=[{**video("1"), "caption": "a\x00"}]),
}


def test_a_nul_byte_anywhere_in_a_payload_is_a_located_422(app, client):
    """PostgreSQL cannot store NUL in text or JSONB: refused first, on every database alike."""
    wrong = {}
    for loc, payload in NUL_PAYLOADS.items():
        body = {"platform": "tiktok", "payload": payload}
        issue = problem_issue(post_json(client, "/api/v1/profiles", body), 422, loc)
        if issue:
            wrong[loc] = issue
    connect = post_json(client, "/api/v1/connect", {"platform": "tiktok", "user_id": "a\x00b"})
    issue = problem_issue(connect, 422, "user_id")
    if issue:
        wrong["connect user_id"] = issue
    assert wrong == {}
    assert profile_count(app) == 0


def test_a_nul_byte_in_a_sign_in_name_is_a_plain_failed_sign_in(anonymous):
    response = signin_post(anonymous, "ad\x00min", "x")
    assert page_issue(response, (400, 401)) is None, response.status_code


# --- 4. numbers ----------------------------------------------------------------------------

HUGE_INT = str(10**30)
BAD_NUMBERS = ("-1", "0", HUGE_INT, "1.5", "NaN", "1e309", "-inf", "0x10", "1e2")


@pytest.fixture
def one(client) -> int:
    """One stored profile, with more liked videos than fit on a page (27 videos in all)."""
    return store(client, make_payload(liked_videos=[video(str(i)) for i in range(25)]))


NUMBER_PARAMS = {
    ("/api/v1/profiles", "page"): BAD_NUMBERS,
    ("/api/v1/profiles", "per_page"): [v for v in BAD_NUMBERS if v != HUGE_INT],
    ("/api/v1/profiles/export", "page"): ("0", "-1", "NaN", HUGE_INT),
    ("/api/v1/videos", "page"): BAD_NUMBERS,
    ("/api/v1/videos", "per_page"): [v for v in BAD_NUMBERS if v != HUGE_INT],
    ("/api/v1/videos", "min_score"): ("-1", "100.5", "NaN", "1e309", "inf", "0x10", HUGE_INT),
    ("/api/v1/profiles/{id}/similar", "k"): (*BAD_NUMBERS, "101"),
    ("/api/v1/profiles/{id}/recommendations", "k"): (*BAD_NUMBERS, "101"),
    ("/api/v1/profiles/nearest", "k"): (*BAD_NUMBERS, "101"),
    ("/api/v1/map", "k"): (*BAD_NUMBERS, "1", "13"),
    ("/api/v1/profiles", "interest"): tuple(
        f"Music:{share}" for share in ("-0.1", "1.5", "NaN", "inf", "1e309", "0x1", HUGE_INT, "")
    ),
    ("/api/v1/profiles/nearest", "mix"): tuple(
        f"Music:{share}" for share in ("-0.1", "1.5", "NaN", "inf", "1e309", "0x1", HUGE_INT, "")
    ),
}


NEEDED = {"/api/v1/profiles/nearest": {"mix": "Music:0.5"}}  # so that only `param` is wrong


@pytest.mark.parametrize(
    "path, param", list(NUMBER_PARAMS), ids=[f"{p}?{n}" for p, n in NUMBER_PARAMS]
)
def test_bad_numbers_in_the_api_are_400s_naming_the_parameter(client, one, path, param):
    wrong = {}
    for value in NUMBER_PARAMS[path, param]:
        params = {**NEEDED.get(path, {}), param: value}
        response = client.get(path.format(id=one), query_string=params)
        issue = problem_issue(response, 400, param)
        if issue:
            wrong[value] = issue
    assert wrong == {}


WILD = ("-5", "500", "NaN", "1e309", "inf", "-inf", "abc", HUGE_INT)


def test_wild_numbers_in_page_forms_are_refused_or_clamped(client, one):
    wrong = {}
    for value in WILD:
        minimum = {"interest_category": "Music", "interest_min": value}
        issue = page_issue(client.get("/profiles", query_string=minimum), (400,))
        if issue:
            wrong[f"/profiles?interest_min={value}"] = issue
        # A slider weight is clamped to 0..100 or refused.
        issue = page_issue(
            client.get("/profiles/like", query_string={"w:Music": value}), (200, 400)
        )
        if issue:
            wrong[f"/profiles/like?w:Music={value}"] = issue
        issue = page_issue(client.get("/videos", query_string={"min_score": value}), (400,))
        if issue:
            wrong[f"/videos?min_score={value}"] = issue
    assert wrong == {}


def test_per_page_above_the_cap_is_served_at_the_cap(client):
    store(client, make_payload(liked_videos=[video(str(i)) for i in range(150)]))
    profiles = client.get("/api/v1/profiles", query_string={"per_page": 1000}).get_json()
    assert profiles["per_page"] == 100
    videos = client.get("/api/v1/videos", query_string={"per_page": 1000}).get_json()
    assert (videos["per_page"], len(videos["items"]), videos["total"]) == (100, 100, 152)


# Ids past what SQLite (64-bit) and PostgreSQL (32-bit integer columns) can hold included.
BIG_IDS = ("0", "2147483648", "9223372036854775807", "9223372036854775808", "9" * 20, "9" * 400)
API_ID_PATHS = (
    "/api/v1/profiles/{}",
    "/api/v1/profiles/{}/vector",
    "/api/v1/profiles/{}/similar",
    "/api/v1/profiles/{}/recommendations",
)
PAGE_ID_URLS = (
    "/profiles/{big}",
    "/profiles/{big}/similar",
    "/profiles/{big}/recommended",
    "/profiles/{big}/videos/liked",
    "/compare?ids={one},{big}",
    "/profiles/like?from={big}",
)


def test_an_unknown_id_of_any_size_is_a_404(app, client, one):
    wrong = {}
    for big in BIG_IDS:
        for path in API_ID_PATHS:
            issue = problem_issue(client.get(path.format(big)), 404)
            if issue:
                wrong[path.format(big[:24])] = issue
        issue = problem_issue(client.delete(f"/api/v1/profiles/{big}"), 404)
        if issue:
            wrong[f"DELETE /api/v1/profiles/{big[:24]}"] = issue
        for url in PAGE_ID_URLS:
            issue = page_issue(client.get(url.format(big=big, one=one)), (404,))
            if issue:
                wrong[url.format(big=big[:24], one=one)] = issue
    assert wrong == {}
    assert profile_count(app) == 1


def test_an_id_that_is_not_a_whole_number_on_a_page_is_a_4xx(client, one):
    wrong = {}
    for value in ("-1", "0x10", "1.5", "abc", "-" + "9" * 30, "٣"):
        for url in ("/compare?ids={one},{value}", "/profiles/like?from={value}"):
            issue = page_issue(client.get(url.format(one=one, value=value)), (400, 404))
            if issue:
                wrong[url.format(one=one, value=value)] = issue
    assert wrong == {}


def test_a_huge_page_number_is_served_or_refused(client, one):
    wrong = {}
    for value in ("2147483648", "9223372036854775808", HUGE_INT):
        for url in (
            "/profiles/{id}?liked_page={value}",
            "/profiles/{id}/videos/liked?page={value}",
            "/profiles?page={value}",
            "/videos?page={value}",
            "/admin/audit?page={value}",
        ):
            issue = page_issue(client.get(url.format(id=one, value=value)), (200, 400))
            if issue:
                wrong[url.format(id=one, value=value[:24])] = issue
    for value in ("-1", "0", "abc"):
        issue = page_issue(client.get("/admin/audit", query_string={"page": value}))
        if issue:
            wrong[f"/admin/audit?page={value}"] = issue
    assert wrong == {}


# --- pages past the end --------------------------------------------------------------------


def test_api_pages_past_the_end_are_empty_with_the_right_total(client, one):
    profiles = client.get("/api/v1/profiles", query_string={"page": 50}).get_json()
    assert (profiles["items"], profiles["total"], profiles["page"]) == ([], 1, 50)
    videos = client.get("/api/v1/videos", query_string={"page": 50}).get_json()
    assert (videos["items"], videos["total"], videos["page"]) == ([], 27, 50)


PAGE_NUMBER = re.compile(r"[?&](?:liked_|shared_)?page=(\d+)")


def _page_links(doc: BeautifulSoup) -> list[int]:
    """The page numbers the page's links lead to (href and hx-get)."""
    numbers = []
    for link in doc.select("a"):
        for name in ("href", "hx-get"):
            numbers += [int(n) for n in PAGE_NUMBER.findall(link.get(name, ""))]
    return numbers


@pytest.mark.parametrize(
    "url, count_text, last",
    [
        ("/profiles?page=50", "1 profile", 1),
        ("/videos?page=50", "27 videos", 2),
        ("/profiles/{id}/videos/liked?page=50", "", 3),
    ],
)
def test_a_page_past_the_end_says_so_and_leads_back(client, one, url, count_text, last):
    response = client.get(url.format(id=one))
    if response.status_code in (302, 303):  # sending the reader to the last page is fine too
        assert [int(n) for n in PAGE_NUMBER.findall(response.location)] <= [last]
        return
    doc = page(response)
    assert count_text in doc.get_text()
    # The items exist, just not on this page: "no match" would be untrue.
    assert "No profile matches" not in doc.get_text()
    assert "No video matches" not in doc.get_text()
    links = _page_links(doc)
    assert links and all(number <= last for number in links), links
