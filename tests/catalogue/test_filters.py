"""Range filters, verified, synced since and dominant interest on the profile list, the facet
counts beside each platform and dominant interest, and the page's one URL form.

Every filtered answer is checked against a recount in Python over what the API says of every
profile, on both ways the list reads a filtered page (walking an index, or the live matrix
naming the matching ids), and the facets against the same recount."""

import random
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from webapp.services.analytics import similarity
from webapp.services.catalogue import profiles
from webapp.services.ingestion.onboarding import submit_payload
from webapp.services.ingestion.platforms import PLATFORMS

from ..factories import make_payload, video
from ..helpers import assert_problem, html_page, one, text_of

CATEGORY_SETS = [["Music"], ["Dance"], ["Gaming"], ["Music", "Dance"], ["Food"], ["News"]]
DAY = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _store(app, rng: random.Random, i: int) -> None:
    liked = [
        video(f"f{i}-{n}", categories=rng.choice(CATEGORY_SETS)) for n in range(rng.randint(1, 5))
    ]
    payload = make_payload(
        user_id=f"f{i}",
        username=f"filtered{i}",
        followers_count=rng.choice([0, 10, 500, 1500, 20_000, 1_000_000]) + i,
        number_of_likes=rng.choice([100, 101, 6000, 90_000]),
        likes_count=rng.randint(0, 50_000),
        verified=rng.random() < 0.3,
        liked_videos=liked,
        shared_videos=[],
    )
    # Synced on one of four days, a week apart.
    app.config["TOKER_CLOCK"] = (DAY + timedelta(days=7 * (i % 4))).isoformat()
    outcome = submit_payload(rng.choice(PLATFORMS), payload)
    assert outcome.accepted, outcome.reason


@pytest.fixture
def stored(app, client):
    """Sixty profiles with varied platforms, statistics, interests and sync days; what the API
    says of each."""
    rng = random.Random(12)
    with app.app_context():
        for i in range(60):
            _store(app, rng, i)
    app.config["TOKER_CLOCK"] = None
    items = client.get("/api/v1/profiles?per_page=100").get_json()["items"]
    assert len(items) == 60
    return items


def _keeps(item: dict, params: dict, skip: str = "") -> bool:
    """Whether a profile passes the filters, decided in Python from its summary."""
    if skip != "platform" and params.get("platform") and item["platform"] != params["platform"]:
        return False
    if skip != "dominant" and params.get("dominant"):
        if item["dominant_interest"] != params["dominant"]:
            return False
    bounds = {
        "followers": item["followers_count"],
        "likes": item["number_of_likes"],
        "engagement": item["engagement_rate"] * 100,
        "growth": None if item["growth_30d"] is None else item["growth_30d"] * 100,
    }
    for name, value in bounds.items():
        low, high = params.get(f"{name}_min"), params.get(f"{name}_max")
        if low is None and high is None:
            continue
        if value is None:
            return False
        # The service compares stored fractions with the bound divided by 100.
        scale = 100 if name in ("engagement", "growth") else 1
        if low is not None and value / scale < low / scale:
            return False
        if high is not None and value / scale > high / scale:
            return False
    if "verified" in params and item["verified"] != (params["verified"] == "true"):
        return False
    if "synced_since" in params:
        since = datetime.fromisoformat(params["synced_since"]).replace(tzinfo=UTC)
        if datetime.fromisoformat(item["updated_at"]).replace(tzinfo=UTC) < since:
            return False
    return True


def _random_filters(rng: random.Random, items: list[dict]) -> dict:
    params: dict = {}
    if rng.random() < 0.4:
        params["platform"] = rng.choice(PLATFORMS)
    if rng.random() < 0.3:
        params["dominant"] = rng.choice(["Music", "Dance", "Gaming", "Food", "News"])
    for name, field in (("followers", "followers_count"), ("likes", "number_of_likes")):
        if rng.random() < 0.5:
            values = sorted(item[field] for item in items)
            low, high = sorted(rng.sample(values, 2))
            if rng.random() < 0.5:
                params[f"{name}_min"] = low
            if rng.random() < 0.5:
                params[f"{name}_max"] = high
    if rng.random() < 0.4:
        rates = sorted(item["engagement_rate"] * 100 for item in items)
        params["engagement_min"] = round(rng.choice(rates), 3)
    if rng.random() < 0.1:
        params["growth_min"] = -50
    if rng.random() < 0.3:
        params["verified"] = rng.choice(["true", "false"])
    if rng.random() < 0.3:
        params["synced_since"] = (DAY + timedelta(days=7 * rng.randint(0, 4))).date().isoformat()
    return params


@pytest.mark.parametrize(
    "walk, id_limit",
    [(0, 0), (0, 10**6), (10**9, 0)],
    ids=["sql-sorted", "matrix-ids", "walk-the-index"],
)
def test_every_filter_keeps_exactly_the_profiles_a_recount_keeps(
    client, stored, monkeypatch, walk, id_limit
):
    monkeypatch.setattr(profiles, "SCAN_ROWS", walk)
    monkeypatch.setattr(profiles, "ID_LIMIT", id_limit)
    rng = random.Random(walk + id_limit)
    for _ in range(40):
        params = _random_filters(rng, stored)
        body = client.get(
            "/api/v1/profiles",
            query_string={**params, "per_page": 100, "sort": "followers", "facets": "true"},
        ).get_json()
        expected = [item for item in stored if _keeps(item, params)]
        expected.sort(key=lambda item: (item["followers_count"], item["id"]), reverse=True)
        assert [item["id"] for item in body["items"]] == [item["id"] for item in expected], params
        assert body["total"] == len(expected), params
        # Each facet value counts the profiles matching every other filter with that value.
        for platform in PLATFORMS:
            count = sum(
                1
                for item in stored
                if item["platform"] == platform and _keeps(item, params, skip="platform")
            )
            assert body["facets"]["platform"][platform] == count, (params, platform)
        dominant: dict = {}
        for item in stored:
            if item["dominant_interest"] and _keeps(item, params, skip="dominant"):
                dominant[item["dominant_interest"]] = dominant.get(item["dominant_interest"], 0) + 1
        assert body["facets"]["dominant_interest"] == dict(
            sorted(dominant.items(), key=lambda pair: (-pair[1], pair[0]))
        ), params


def test_a_text_search_narrows_the_facets_too(client, stored):
    body = client.get("/api/v1/profiles?q=filtered1&facets=true&per_page=100").get_json()
    matching = [item for item in stored if "filtered1" in item["username"]]
    assert body["total"] == len(matching) == 11  # filtered1, filtered10..19
    for platform in PLATFORMS:
        assert body["facets"]["platform"][platform] == sum(
            1 for item in matching if item["platform"] == platform
        )
    assert sum(body["facets"]["dominant_interest"].values()) == sum(
        1 for item in matching if item["dominant_interest"]
    )


def test_facets_follow_writes_without_a_full_build(app, client, stored):
    params = {"followers_min": 500, "facets": "true"}
    before = client.get("/api/v1/profiles", query_string=params).get_json()
    builds = similarity.live.builds
    with app.app_context():
        rng = random.Random(99)
        for i in range(100, 106):
            _store(app, rng, i)
    app.config["TOKER_CLOCK"] = None
    victim = stored[0]
    assert client.delete(f"/api/v1/profiles/{victim['id']}").status_code == 204
    after = client.get("/api/v1/profiles", query_string=params).get_json()
    everyone = client.get("/api/v1/profiles?per_page=100").get_json()["items"]
    for platform in PLATFORMS:
        assert after["facets"]["platform"][platform] == sum(
            1
            for item in everyone
            if item["platform"] == platform and item["followers_count"] >= 500
        )
    assert after["facets"] != before["facets"]
    assert similarity.live.builds == builds  # patched, not rebuilt


@pytest.mark.parametrize(
    "params, loc, words",
    [
        ({"followers_min": "many"}, "followers_min", "whole number"),
        ({"likes_max": "-3"}, "likes_max", "whole number"),
        ({"followers_min": "10", "followers_max": "5"}, "followers_max", "below followers_min"),
        ({"engagement_min": "nan"}, "engagement_min", "must be a number"),
        ({"engagement_min": "lots"}, "engagement_min", "per cent"),
        ({"growth_min": "5", "growth_max": "-5"}, "growth_max", "below growth_min"),
        ({"verified": "maybe"}, "verified", "true or false"),
        ({"synced_since": "yesterday"}, "synced_since", "YYYY-MM-DD"),
        ({"synced_since": "0001-01-01T00:00:00+01:00"}, "synced_since", "out of the range"),
        ({"synced_since": "9999-12-31T23:59:59-01:00"}, "synced_since", "out of the range"),
        ({"dominant": "Knitting"}, "dominant", "not a category"),
        ({"facets": "sure"}, "facets", "true or false"),
    ],
)
def test_bad_filters_are_located_problems(client, params, loc, words):
    problem = assert_problem(client.get("/api/v1/profiles", query_string=params), 400, loc)
    assert words in problem["detail"]
    page = client.get("/profiles", query_string=params if loc != "facets" else {"verified": "x"})
    assert page.status_code == 400


def test_a_dominant_filter_is_case_insensitive_and_per_cent_bounds_are_fractions(client, stored):
    body = client.get("/api/v1/profiles?dominant=music&per_page=100").get_json()
    assert body["total"] == sum(1 for item in stored if item["dominant_interest"] == "Music") > 0
    rates = sorted(item["engagement_rate"] for item in stored)
    middle = rates[len(rates) // 2]
    body = client.get(
        "/api/v1/profiles", query_string={"engagement_min": middle * 100, "per_page": 100}
    ).get_json()
    assert body["total"] == sum(1 for rate in rates if rate >= middle)


# --- the page ------------------------------------------------------------------------------------


def _query(url: str) -> dict:
    return {key: values for key, values in parse_qs(urlsplit(url).query).items()}


def test_the_form_fields_become_the_one_url_form(client, stored):
    response = client.get(
        "/profiles",
        query_string={
            "interest_category": "Music",
            "interest_min": "30",
            "interest_category2": "",
            "interest_min2": "30",
            "followers_min": "500",
            "verified": "",
            "columns_form": "1",
            "column": ["followers", "share:Dance"],
        },
    )
    assert response.status_code == 302
    assert _query(response.headers["Location"]) == {
        "interest": ["Music:0.3"],
        "followers_min": ["500"],
        "columns": ["followers,share:Dance"],
    }
    # htmx swaps the table and is told the address to show.
    partial = client.get(
        "/profiles?interest_category=Dance&interest_min=10&platform=x",
        headers={"HX-Request": "true"},
    )
    assert partial.status_code == 200
    assert _query(partial.headers["HX-Push-Url"]) == {"platform": ["x"], "interest": ["Dance:0.1"]}
    # The one form is served as it is.
    assert client.get("/profiles?interest=Music:0.3").status_code == 200


def test_each_facet_link_leads_to_as_many_profiles_as_it_says(client, stored):
    doc = html_page(client.get("/profiles?followers_min=500&verified=false"))
    links = doc.select("#facets a.facet-value")
    assert len(links) >= 5
    for link in links:
        count = int(text_of(link.select_one(".count")).replace(",", ""))
        target = html_page(client.get(link["href"]))
        total = int(text_of(one(target, "#result-count")).split()[0].replace(",", ""))
        assert total == count, link["href"]
        assert _query(link["href"])["followers_min"] == ["500"]


def test_chosen_columns_show_in_order_with_the_interest_filters_shares(client, stored):
    doc = html_page(
        client.get("/profiles?columns=followers,share:gaming,likes_received&interest=Music:0.2")
    )
    headers = [th["data-column"] for th in doc.select("#profiles thead th[data-column]")]
    assert headers == ["username", "followers", "share:Gaming", "likes_received", "share:Music"]
    by_name = {item["username"]: item for item in stored}
    vectors = {}
    for row in doc.select("#profiles tbody tr"):
        cells = [text_of(td) for td in row.select("td")[1:]]
        item = by_name[cells[0]]
        assert int(cells[1].replace(",", "")) == item["followers_count"]
        assert int(cells[3].replace(",", "")) == item["likes_count"]
        vectors[item["id"]] = (cells[2], cells[4])
    assert vectors
    for pk, (gaming, music) in vectors.items():
        weights = client.get(f"/api/v1/profiles/{pk}/vector").get_json()
        shares = dict(zip(weights["categories"], weights["weights"], strict=True))
        assert gaming == f"{shares['Gaming'] * 100:.1f} %"
        assert music == f"{shares['Music'] * 100:.1f} %"
        assert shares["Music"] >= 0.2
    # The chooser shows what is chosen; an unknown column is a 400 that names it.
    ticked = [box["value"] for box in doc.select("input.column-pick[checked]")]
    assert ticked == ["followers", "likes_received", "share:Gaming"]
    refused = html_page(client.get("/profiles?columns=bogus"), 400)
    assert "'bogus' is not a column" in text_of(refused)


def test_sorting_and_paging_keep_the_filters_and_columns(client, stored):
    doc = html_page(client.get("/profiles?followers_min=500&columns=followers,videos&per_page=5"))
    for link in doc.select("#profiles thead a[data-sort]") + doc.select("nav.pagination a"):
        query = _query(link["href"])
        assert query["followers_min"] == ["500"] and query["columns"] == ["followers,videos"]
        assert query["per_page"] == ["5"]
