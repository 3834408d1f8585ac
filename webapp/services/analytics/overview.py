"""Population summaries for the overview: counts, the most common interests, recent profiles."""

from sqlalchemy import select

from ...extensions import db
from ...models import HashtagCount, HashtagPair
from ..catalogue import profiles
from ..ingestion.platforms import PLATFORMS
from ..ingestion.taxonomy import CATEGORIES
from . import similarity


def interest_shares(limit: int = 12) -> list[dict]:
    """Each category's share of all profiles' interest (the mean weight), largest first."""
    matrix = similarity.current_matrix()
    total = matrix.count()
    if not total:
        return []
    sums = matrix.interest_sums()
    order = {name: i for i, name in enumerate(CATEGORIES)}
    present = [(name, float(sums[i])) for i, name in enumerate(CATEGORIES) if sums[i] > 1e-12]
    present.sort(key=lambda item: (-item[1], item[0]))
    shares = [{"category": name, "share": weight / total} for name, weight in present[:limit]]
    shares.sort(key=lambda s: (-s["share"], order[s["category"]]))
    return shares


def overview(recent: int = 8) -> dict:
    """Everything the overview page shows: counts, interest shares and the heatmap from the
    live matrix, the hashtags from the counts the writes keep."""
    counts = similarity.current_matrix().counts_by_platform()
    latest = profiles.list_profiles(
        profiles.ListQuery(sort="updated", order="desc", per_page=recent)
    )
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "interests": interest_shares(),
        "heatmap": interest_by_platform(),
        "hashtags": hashtag_cooccurrence(),
        "latest": latest["items"],
    }


def interest_by_platform() -> dict:
    """Each platform's mean interest weight per category (rows: platforms, columns: categories),
    from the sums the live matrix keeps."""
    means = similarity.current_matrix().mean_interest_by_platform()
    platforms = [p for p in PLATFORMS if p in means]
    return {
        "platforms": platforms,
        "categories": list(CATEGORIES),
        "shares": [[float(v) for v in means[p]] for p in platforms],
    }


def hashtag_cooccurrence(top: int = 10, partners: int = 5) -> list[dict]:
    """The most common hashtags over stored videos, each with the hashtags seen beside it,
    read from the counts the writes keep."""
    ranked = db.session.execute(
        select(HashtagCount.hashtag, HashtagCount.videos)
        .where(HashtagCount.videos > 0)
        .order_by(HashtagCount.videos.desc(), HashtagCount.hashtag)
        .limit(top)
    ).all()
    result = []
    for tag, count in ranked:
        beside = db.session.execute(
            select(HashtagPair.other, HashtagPair.videos)
            .where(HashtagPair.hashtag == tag, HashtagPair.videos > 0)
            .order_by(HashtagPair.videos.desc(), HashtagPair.other)
            .limit(partners)
        ).all()
        result.append(
            {
                "hashtag": tag,
                "videos": count,
                "with": [{"hashtag": other, "videos": n} for other, n in beside],
            }
        )
    return result
