"""Filtered pages with facet counts at 100,000 profiles: Toker beside datasette's facets.

One client asks, one request at a time, for filtered pages of the profile list, each with the
counts beside every platform and dominant interest that reflect the other filters (Toker's
`/profiles` page, its htmx table, `GET /api/v1/profiles?facets=true`; datasette's table page
and JSON with `_facet=platform&_facet=dominant_interest`, the same filters where datasette has
them). Every request is a different combination of filters (ranges of followers, likes given
and engagement rate, verified, synced since, platform, dominant interest, an interest share,
sort and page), drawn from a seeded generator, so that no answer is served again from a cache
of the same query; the same combinations go to both servers, alternating. Prints p50, p95
and p99 per kind; the target is p99 <= 100 ms for Toker's filtered page with facets.

    .venv/bin/python bench/facets.py                 # seeds bench/results/bench-100000.sqlite
    .venv/bin/python bench/facets.py --db path/to/seeded.sqlite --requests 400
"""

import argparse
import random
import statistics
import time
from pathlib import Path
from urllib.parse import urlencode

from common import ROOT, ensure_bench_user, fetch, prepare_database, servers, sign_in

PLATFORMS = ("tiktok", "instagram", "x")
CATEGORIES = ("Music", "Dance", "Gaming", "Food", "Travel", "Comedy", "Sports", "News")


def draw(rng: random.Random) -> dict:
    """One combination of filters, as the page's parameters."""
    params: dict = {}
    if rng.random() < 0.5:
        params["platform"] = rng.choice(PLATFORMS)
    if rng.random() < 0.7:
        params["followers_min"] = rng.choice([100, 500, 1_000, 5_000, 20_000]) + rng.randint(0, 99)
    if rng.random() < 0.3:
        params["followers_max"] = rng.choice([50_000, 200_000, 1_000_000]) + rng.randint(0, 99)
    if rng.random() < 0.3:
        params["likes_min"] = rng.choice([200, 1_000, 5_000]) + rng.randint(0, 99)
    if rng.random() < 0.4:
        params["engagement_min"] = round(rng.uniform(0.5, 8), 2)
    if rng.random() < 0.3:
        params["verified"] = rng.choice(["true", "false"])
    if rng.random() < 0.3:
        params["dominant"] = rng.choice(CATEGORIES)
    if rng.random() < 0.3:
        params["interest"] = f"{rng.choice(CATEGORIES)}:{rng.choice([0.1, 0.2, 0.3])}"
    params["sort"] = rng.choice(["followers", "engagement", "updated", "likes"])
    params["order"] = rng.choice(["asc", "desc"])
    if rng.random() < 0.3:
        params["page"] = rng.randint(2, 5)
    return params


def datasette_params(params: dict) -> dict:
    """The same filters in datasette's terms, where it has them (it has no interest shares)."""
    found = {"_facet": ["platform", "dominant_interest"], "_size": 20}
    names = {
        "platform": "platform__exact",
        "followers_min": "followers_count__gte",
        "followers_max": "followers_count__lte",
        "likes_min": "number_of_likes__gte",
        "dominant": "dominant_interest__exact",
    }
    for key, column in names.items():
        if key in params:
            found[column] = params[key]
    if "engagement_min" in params:
        found["engagement_rate__gte"] = params["engagement_min"] / 100
    if "verified" in params:
        found["verified__exact"] = 1 if params["verified"] == "true" else 0
    sort = {
        "followers": "followers_count",
        "engagement": "engagement_rate",
        "likes": "number_of_likes",
    }
    column = sort.get(params["sort"], "updated_at")
    found["_sort_desc" if params["order"] == "desc" else "_sort"] = column
    return found


def timed(url: str, headers: dict | None = None) -> float:
    started = time.perf_counter()
    fetch(url, headers)
    return (time.perf_counter() - started) * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    database = args.db or ROOT / "bench" / "results" / f"bench-{args.profiles}.sqlite"
    stored, _middle = prepare_database(database, args.profiles)
    ensure_bench_user(database)
    rng = random.Random(args.seed)
    combos = [draw(rng) for _ in range(args.requests)]
    kinds = {
        "Toker page (HTML)": [],
        "Toker table (htmx)": [],
        "Toker API, facets=true": [],
        "datasette page (HTML)": [],
        "datasette JSON": [],
    }
    with servers(database, {"TOKER_ASSETS": "local"}) as (toker, datasette):
        cookie = sign_in(toker)
        htmx = {**cookie, "HX-Request": "true"}
        for warm in combos[:10]:  # the first requests of a worker load templates and modules
            fetch(f"{toker}/profiles?{urlencode(warm)}", cookie)
        for params in combos:
            query = urlencode(params)
            theirs = urlencode(datasette_params(params), doseq=True)
            # Each URL is asked once per kind: the page, then the table and the API for the same
            # filters (which the page has just counted: they measure what a later ask costs).
            kinds["Toker page (HTML)"].append(timed(f"{toker}/profiles?{query}", cookie))
            kinds["datasette page (HTML)"].append(timed(f"{datasette}/profiles?{theirs}"))
            kinds["Toker table (htmx)"].append(timed(f"{toker}/profiles?{query}&per_page=21", htmx))
            kinds["datasette JSON"].append(timed(f"{datasette}/profiles.json?{theirs}"))
            kinds["Toker API, facets=true"].append(
                timed(f"{toker}/api/v1/profiles?{query}&facets=true&per_page=22", cookie)
            )
    print(f"\n{stored:,} profiles, {args.requests} filter combinations, one client\n")
    print("| request | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for kind, values in kinds.items():
        print(
            f"| {kind} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} "
            f"| {percentile(values, 0.99):.1f} | {max(values):.1f} |"
        )


if __name__ == "__main__":
    main()
