"""The overview leads with what differs: each platform's standout interests, the map's
clusters and what rose lately, from kept aggregates and caches, never a scan per request."""

import time
from datetime import timedelta

import pytest

from webapp.services import clock
from webapp.services.analytics import overview, population_map, similarity
from webapp.services.ingestion.onboarding import submit_payload

from ..factories import add_snapshot, make_payload, video
from ..helpers import html_page, one, text_of

# (platform, user id, the category of each liked video)
PLANTED = [
    ("tiktok", "t1", ["Dance", "Dance", "Comedy"]),
    ("tiktok", "t2", ["Dance", "Music"]),
    ("tiktok", "t3", ["Dance"]),
    ("instagram", "i1", ["Fashion", "Beauty"]),
    ("instagram", "i2", ["Fashion"]),
    ("x", "x1", ["News", "Politics"]),
    ("x", "x2", ["News"]),
    ("x", "x3", ["Technology", "News"]),
]


def _store(platform: str, user_id: str, categories: list[str]) -> int:
    liked = [
        video(f"{user_id}-{n}", [name], [f"#{name.lower()}"]) for n, name in enumerate(categories)
    ]
    payload = make_payload(user_id=user_id, username=user_id, liked_videos=liked, shared_videos=[])
    result = submit_payload(platform, payload)
    assert result.accepted
    return result.profile_id


@pytest.fixture
def planted(app):
    with app.app_context():
        return {user_id: _store(p, user_id, names) for p, user_id, names in PLANTED}


def _share(categories_by_profile: list[list[str]], category: str) -> float:
    return sum(names.count(category) / len(names) for names in categories_by_profile) / len(
        categories_by_profile
    )


def test_each_platform_leads_with_what_stands_out_there(app, planted):
    with app.app_context():
        found = {entry["platform"]: entry for entry in overview.platform_differences()}
    assert {p: e["profiles"] for p, e in found.items()} == {"tiktok": 3, "instagram": 2, "x": 3}
    everyone = [names for _p, _u, names in PLANTED]
    tiktok = [names for p, _u, names in PLANTED if p == "tiktok"]
    first = found["tiktok"]["standouts"][0]
    assert first["category"] == "Dance"
    assert first["share"] == pytest.approx(_share(tiktok, "Dance"))
    assert first["overall"] == pytest.approx(_share(everyone, "Dance"))
    assert found["instagram"]["standouts"][0]["category"] == "Fashion"
    assert found["x"]["standouts"][0]["category"] == "News"
    for entry in found.values():
        for standout in entry["standouts"]:
            assert standout["share"] >= overview.STANDOUT_RATIO * standout["overall"]
    # Nothing of TikTok's stands out on X.
    assert "Dance" not in {s["category"] for s in found["x"]["standouts"]}


def test_one_platform_alone_has_nothing_standing_out(app):
    with app.app_context():
        _store("tiktok", "only", ["Dance"])
        (entry,) = overview.platform_differences()
    assert entry["platform"] == "tiktok" and entry["standouts"] == []


def test_clusters_are_the_maps_own_and_follow_writes_without_a_new_fit(app, planted, monkeypatch):
    monkeypatch.setattr(population_map, "REFIT_SHARE", 10.0)  # no refit due in this test
    with app.app_context():
        clusters = population_map.map_clusters(overview.OVERVIEW_CLUSTERS)
        drawn = population_map.population_map(overview.OVERVIEW_CLUSTERS)
        fits = population_map.maps.inline_fits + population_map.maps.background_fits
        sizes = dict(zip(drawn["clusters"], drawn["cluster_sizes"], strict=True))
        assert {c["name"]: c["profiles"] for c in clusters} == {
            name: int(size) for name, size in sizes.items() if size
        }
        assert sum(c["profiles"] for c in clusters) == len(PLANTED)
        assert [c["profiles"] for c in clusters] == sorted(
            (c["profiles"] for c in clusters), reverse=True
        )
        for c in clusters:
            assert sum(c["platforms"].values()) == c["profiles"]
        builds = similarity.live.builds
        _store("tiktok", "t4", ["Dance"])  # placed in the current fit's nearest cluster
        after = population_map.map_clusters(overview.OVERVIEW_CLUSTERS)
        assert sum(c["profiles"] for c in after) == len(PLANTED) + 1
        assert population_map.maps.inline_fits + population_map.maps.background_fits == fits
        assert similarity.live.builds == builds, "a write patches the matrix, never rebuilds"


def test_what_rose_compares_each_profiles_snapshot_30_days_back_with_now(app, planted):
    then = clock.now() - timedelta(days=40)
    add_snapshot(app, planted["t1"], then, 10, 1.0, Music=1.0)
    add_snapshot(app, planted["t3"], then, 10, 1.0, Music=0.5, Dance=0.5)
    add_snapshot(app, planted["x1"], clock.now() - timedelta(days=5), 10, 1.0, Music=1.0)
    with app.app_context():
        rising = overview.compute_rising()
    assert rising.profiles == 2  # x1's only earlier snapshot is 5 days old
    rows = {row["category"]: row for row in rising.rows}
    # Dance: (0 + 0.5) / 2 then, (2/3 + 1) / 2 now.
    assert rows["Dance"]["then"] == pytest.approx(0.25)
    assert rows["Dance"]["now"] == pytest.approx((2 / 3 + 1) / 2)
    assert rising.rows[0]["category"] == "Dance"
    assert "Music" not in rows, "Music fell"
    assert all(row["rise"] >= overview.RISING_MIN for row in rising.rows)


def test_what_rose_is_cached_and_made_again_in_the_background_after_its_time(
    app, planted, monkeypatch
):
    add_snapshot(app, planted["t1"], clock.now() - timedelta(days=40), 10, 1.0, Music=1.0)
    cache = overview.RisingCache()
    with app.app_context():
        first = cache.get()
        assert cache.computations == 1 and first.profiles == 1
        _store("tiktok", "t5", ["Dance"])  # a write does not make it again
        assert cache.get() is first and cache.computations == 1
    add_snapshot(app, planted["t3"], clock.now() - timedelta(days=40), 10, 1.0, Music=1.0)
    monkeypatch.setattr(overview, "RISING_TTL", -1.0)
    with app.app_context():
        assert cache.get() is first, "the kept one answers while a new one is made"
        deadline = time.monotonic() + 10
        while cache.computations < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        monkeypatch.setattr(overview, "RISING_TTL", 300.0)
        again = cache.get()
    assert cache.computations == 2 and again is not first and again.profiles == 2


def test_the_overview_leads_with_platforms_clusters_and_what_rose(client, app, planted):
    add_snapshot(app, planted["t1"], clock.now() - timedelta(days=40), 10, 1.0, Music=1.0)
    doc = html_page(client.get("/"))
    lead = one(doc, "#what-differs")
    # It comes before the rest of the overview.
    assert lead.find_next("section", class_="stats") is not None
    by_platform = {
        block["data-platform"]: [li["data-category"] for li in block.select("li")]
        for block in lead.select("#by-platform [data-platform]")
    }
    assert by_platform["tiktok"][0] == "Dance"
    assert by_platform["instagram"][0] == "Fashion"
    assert by_platform["x"][0] == "News"
    dance = text_of(one(lead, "#by-platform [data-platform=tiktok] li[data-category=Dance]"))
    assert "% on TikTok" in dance and "% overall" in dance
    with app.app_context():
        clusters = population_map.map_clusters(overview.OVERVIEW_CLUSTERS)
    shown = [li["data-cluster"] for li in lead.select("#by-cluster li")]
    assert shown == [c["name"] for c in clusters]
    first = text_of(lead.select("#by-cluster li")[0])
    assert f"{clusters[0]['profiles']} profiles" in first
    rising = one(lead, "#rising")
    assert "as of" in text_of(one(rising, ".as-of"))
    assert one(rising, "li[data-category=Dance]")
