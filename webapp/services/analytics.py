"""Population summaries for the overview: counts, the most common interests, recent profiles."""

from sqlalchemy import func, select

from ..extensions import db
from ..models import Profile, ProfileInterest
from . import profiles
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


def dominant_counts() -> dict[str, int]:
    """How many profiles have each category as their dominant interest."""
    rows = db.session.execute(
        select(Profile.dominant_interest, func.count(Profile.id))
        .where(Profile.dominant_interest.is_not(None))
        .group_by(Profile.dominant_interest)
    ).all()
    return dict(rows)


def overview(recent: int = 8) -> dict:
    """Everything the overview page shows."""
    counts = profiles.count_by_platform()
    latest = profiles.list_profiles(
        profiles.ListQuery(sort="updated", order="desc", per_page=recent)
    )
    return {
        "counts": counts,
        "total": sum(counts.values()),
        "interests": interest_shares(),
        "latest": latest["items"],
    }
