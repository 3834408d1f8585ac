"""Population summaries for the overview: counts, the most common interests, recent profiles."""

from sqlalchemy import func, select

from ..extensions import db
from ..models import ProfileInterest
from . import profiles, versions
from .taxonomy import CATEGORIES


def interest_shares(limit: int = 12) -> list[dict]:
    """Each category's share of all profiles' interest (the mean weight), largest first."""
    total = profiles.count_profiles()
    if not total:
        return []
    rows = db.session.execute(
        select(ProfileInterest.category, func.sum(ProfileInterest.weight))
        .group_by(ProfileInterest.category)
        .order_by(func.sum(ProfileInterest.weight).desc(), ProfileInterest.category)
        .limit(limit)
    ).all()
    order = {name: i for i, name in enumerate(CATEGORIES)}
    shares = [{"category": name, "share": weight / total} for name, weight in rows]
    shares.sort(key=lambda s: (-s["share"], order.get(s["category"], len(order))))
    return shares


_cache = versions.VersionedCache()


def overview(recent: int = 8) -> dict:
    """Everything the overview page shows; aggregates are computed once per data version."""
    counts = _cache.get_or_compute(db.session, ("platform-counts",), profiles.count_by_platform)
    interests = _cache.get_or_compute(db.session, ("interest-shares",), interest_shares)
    latest = profiles.list_profiles(
        profiles.ListQuery(sort="updated", order="desc", per_page=recent)
    )
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "interests": interests,
        "latest": latest["items"],
    }
