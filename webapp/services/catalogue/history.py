"""A profile's history: its snapshots over time, what changed over 7, 30 and 90 days, and how
its interests drifted between the first snapshot and the last (DESIGN.md, "History")."""

from datetime import timedelta

import numpy as np
from sqlalchemy import select

from ...extensions import db
from ...models import Profile, ProfileSnapshot
from .. import ProfileNotFound
from ..ingestion.taxonomy import CATEGORIES
from ..ingestion.vectors import unpack_weights

PERIODS = (7, 30, 90)
_snapshots = ProfileSnapshot.__table__


def _iso(value) -> str:
    return value.isoformat()


def _point(row) -> dict:
    weights = unpack_weights(row.weights)
    return {
        "taken_at": _iso(row.taken_at),
        "followers_count": row.followers_count,
        # Likes on the account's own videos: what it received, not what it gave.
        "likes_received": row.number_of_likes_on_own_videos,
        "engagement_rate": row.engagement_rate,
        "interest": {name: float(w) for name, w in zip(CATEGORIES, weights, strict=True) if w},
    }


def _change(latest, base) -> dict:
    def delta(name: str) -> dict:
        before, now = getattr(base, name), getattr(latest, name)
        share = (now - before) / before if before else None
        return {"from": before, "to": now, "change": now - before, "relative": share}

    return {
        "since": _iso(base.taken_at),
        "followers_count": delta("followers_count"),
        "likes_received": delta("number_of_likes_on_own_videos"),
        "engagement_rate": delta("engagement_rate"),
    }


def _drift(first, last) -> dict:
    a, b = unpack_weights(first.weights), unpack_weights(last.weights)
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    cosine = float(a @ b) / norms if norms else 0.0
    return {
        "from": _iso(first.taken_at),
        "to": _iso(last.taken_at),
        # 0 when the mix kept its direction, 1 when nothing is shared (round-off kept out).
        "cosine_distance": round(max(0.0, 1.0 - cosine), 12),
        "gained": [name for name, x, y in zip(CATEGORIES, a, b, strict=True) if y > 0 and not x],
        "lost": [name for name, x, y in zip(CATEGORIES, a, b, strict=True) if x > 0 and not y],
    }


def profile_history(profile_id: int) -> dict:
    """Every snapshot of the profile, oldest first, with the changes over each period (from
    the last snapshot taken at least that long before the latest; None when the history is
    shorter) and the interest drift from the first snapshot to the latest."""
    rows = db.session.execute(
        select(_snapshots)
        .where(_snapshots.c.profile_id == profile_id)
        .order_by(_snapshots.c.taken_at, _snapshots.c.id)
    ).all()
    if not rows:
        if db.session.get(Profile, profile_id) is None:
            raise ProfileNotFound(profile_id)
        return {"profile_id": profile_id, "snapshots": [], "changes": {}, "drift": None}
    latest = rows[-1]
    changes = {}
    for days in PERIODS:
        cutoff = latest.taken_at - timedelta(days=days)
        earlier = [row for row in rows if row.taken_at <= cutoff]
        changes[f"{days}d"] = _change(latest, earlier[-1]) if earlier else None
    return {
        "profile_id": profile_id,
        "snapshots": [_point(row) for row in rows],
        "changes": changes,
        "drift": _drift(rows[0], latest),
    }
