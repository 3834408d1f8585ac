"""Achievements (seed 004's idea, drawn by the app): rules over a profile's history and
standing, awarded when a sync stores the profile, each code once per profile.

- followers-N: N followers reached (1K, 10K, 100K, 1M);
- growth-10: +10 % followers or more over 30 days (the profile's growth_30d);
- top3-CATEGORY: the category entered the profile's top 3 interests since the last snapshot;
- top1pct-CATEGORY: the profile's share of its dominant category is in the top 1 % of the
  profiles in its follower band (under 1K, 1K-10K, 10K-100K, 100K-1M, 1M and more).

The first three read only the profile and its previous snapshot. The last compares it with
the others: its band's bars (the shares at the edge of the top 1 %, read at most once a
minute) decide a sync without a count; one right at the edge asks the database how many
profiles of its band hold a larger share (stopping once that is more than 1 %). A bulk load
(seeding) ranks every band in one pass afterwards (`award_standing`).
"""

import math
import time
from dataclasses import dataclass
from datetime import datetime
from html import escape

import numpy as np
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Achievement, Profile, ProfileInterest
from ..ingestion.taxonomy import CATEGORIES, CATEGORY_INDEX
from ..ingestion.vectors import unpack_weights
from ..live.sql import upsert_statement
from .similarity import decode_vector

MILESTONES = (1_000, 10_000, 100_000, 1_000_000)
GROWTH = 0.10
TOP_SHARE = 0.01
BANDS = (0, 1_000, 10_000, 100_000, 1_000_000)


@dataclass(frozen=True)
class Kind:
    """How an achievement is named and drawn."""

    title: str
    mark: str  # the short text on the badge
    colour: str


def _short(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1_000}K"


def band_of(followers: int) -> tuple[int, int | None]:
    """The follower band (low, high or None) a count falls in."""
    low = max(b for b in BANDS if b <= max(followers, 0))
    higher = [b for b in BANDS if b > low]
    return low, (higher[0] if higher else None)


def band_name(band: tuple[int, int | None]) -> str:
    low, high = band
    if not low:
        return f"under {_short(high)} followers"
    return f"{_short(low)}-{_short(high)} followers" if high else f"{_short(low)}+ followers"


def describe(code: str) -> Kind | None:
    """The kind of achievement a code names; None for a code no rule gives."""
    rule, _, arg = code.partition("-")
    if rule == "followers" and arg.isdigit() and int(arg) in MILESTONES:
        return Kind(f"{_short(int(arg))} followers", _short(int(arg)), "#4f46e5")
    if code == "growth-10":
        return Kind("+10 % followers in 30 days", "+10%", "#059669")
    if rule == "top3" and arg in CATEGORY_INDEX:
        return Kind(f"{arg} in the top 3", "TOP3", "#d97706")
    if rule == "top1pct" and arg in CATEGORY_INDEX:
        return Kind(f"Top 1 % in {arg}", "1%", "#db2777")
    return None


def _top3(weights: np.ndarray) -> set[str]:
    order = sorted(range(len(weights)), key=lambda i: (-weights[i], i))[:3]
    return {CATEGORIES[i] for i in order if weights[i] > 0}


def earned(row: dict, previous: bytes | None, growth: float | None) -> list[tuple[str, str]]:
    """(code, detail) of what a sync's profile row earns from itself and the weights of its
    last snapshot before this sync (None for a new profile)."""
    followers = row["followers_count"]
    found = [
        (f"followers-{n}", f"{followers:,} followers, past {n:,}")
        for n in MILESTONES
        if followers >= n
    ]
    if growth is not None and growth >= GROWTH:
        found.append(("growth-10", f"followers {growth * 100:+.1f} % over 30 days"))
    if previous is not None:
        before = _top3(unpack_weights(previous))
        now = _top3(decode_vector(row["vector"]))
        found += [
            (f"top3-{name}", f"{name} entered the top 3 interests") for name in sorted(now - before)
        ]
    return found


def award(session: Session, awards: list[tuple[int, str, str]], at: datetime) -> None:
    """Store (profile id, code, detail) awards; one already earned is kept as it was."""
    if not awards:
        return
    rows = [
        {"profile_id": pk, "code": code, "awarded_at": at, "detail": detail[:200]}
        for pk, code, detail in sorted(set(awards))
    ]
    table = Achievement.__table__
    statement = upsert_statement(session, table).on_conflict_do_nothing(
        index_elements=[table.c.profile_id, table.c.code]
    )
    session.execute(statement, rows)


_profiles = Profile.__table__
_weights = ProfileInterest.__table__
# Band sizes and bars move slowly: read at most once a minute per app (a worker's) for the
# syncs' checks, and afresh for a bulk ranking.
_BAND_SECONDS = 60.0
# The bars decide a sync only where the top 1 % holds this many places or more (bands of
# 500 profiles and up): there a minute's syncs move the edge by a place or so, while in a
# small band one sync can move it, so every sync there is counted exactly (cheaply: the band
# is small).
BARS_FROM_PLACES = 5


def _in_band(band: tuple[int, int | None]) -> list:
    low, high = band
    conditions = [_profiles.c.followers_count >= low]
    if high is not None:
        conditions.append(_profiles.c.followers_count < high)
    return conditions


def _cached(key: tuple, read, fresh: bool = False):
    """A slowly moving figure about a band, read at most once a minute per app (a worker)."""
    kept_figures = current_app.extensions.setdefault("toker.band_figures", {})
    now = time.monotonic()
    kept = kept_figures.get(key)
    if fresh or kept is None or now - kept[0] > _BAND_SECONDS:
        kept = kept_figures[key] = (now, read())
    return kept[1]


def _band_size(session: Session, band: tuple[int, int | None], fresh: bool = False) -> int:
    return _cached(
        ("size", band),
        lambda: session.scalar(select(func.count()).select_from(_profiles).where(*_in_band(band))),
        fresh,
    )


def _bars(
    session: Session, band: tuple[int, int | None], category: int, allowed: int
) -> tuple[float | None, float | None]:
    """The allowed-th and (allowed + 1)-th largest shares of a category in a band (None where
    fewer profiles hold it). A share at or above the first has fewer than `allowed` profiles
    ahead of it; one below the second has at least `allowed` others ahead: only a share
    between the two needs a count."""

    def read():
        shares = session.scalars(
            select(_weights.c.weight)
            .join(_profiles, _profiles.c.id == _weights.c.profile_id)
            .where(_weights.c.category_id == category, *_in_band(band))
            .order_by(_weights.c.weight.desc())
            .offset(allowed - 1)
            .limit(2)
        ).all()
        return tuple(shares) + (None,) * (2 - len(shares))

    return _cached(("bars", band, category, allowed), read)


def standing(session: Session, pk: int, row: dict) -> tuple[str, str] | None:
    """The top1pct award a synced profile earns, if any: at most 1 % of its band (and at
    least one place) ahead of it on its dominant category's share. In a large band the bars
    decide for almost every profile; one between them, or in a small band, is counted."""
    category = row["dominant_interest"]
    if category not in CATEGORY_INDEX:
        return None
    index = CATEGORY_INDEX[category]
    share = decode_vector(row["vector"])[index]
    band = band_of(row["followers_count"])
    allowed = max(1, math.floor(TOP_SHARE * _band_size(session, band)))
    award = f"top1pct-{category}", f"{share * 100:.1f} % {category}, top 1 % of {band_name(band)}"
    if allowed >= BARS_FROM_PLACES:
        upper, lower = _bars(session, band, index, allowed)
        if upper is not None and share >= upper:
            return award
        if lower is not None and share < lower:
            return None
    ahead = (
        select(_weights.c.profile_id)
        .join(_profiles, _profiles.c.id == _weights.c.profile_id)
        .where(
            _weights.c.category_id == index,
            _weights.c.weight > share,
            _profiles.c.id != pk,
            *_in_band(band),
        )
        .limit(allowed)
    )
    if session.scalar(select(func.count()).select_from(ahead.subquery())) >= allowed:
        return None
    return award


def award_standing(session: Session, at: datetime) -> int:
    """Rank every band at once (after a bulk load), as `standing` ranks one profile: each
    profile whose dominant category's share has fewer than 1 % of its band (and at least one
    place) ahead of it earns top1pct. One pass over each category's weights. Returns how many
    profiles earned it now or before."""
    awards = []
    for index, category in enumerate(CATEGORIES):
        rows = session.execute(
            select(
                _weights.c.profile_id,
                _weights.c.weight,
                _profiles.c.followers_count,
                _profiles.c.dominant_interest == category,
            )
            .join(_profiles, _profiles.c.id == _weights.c.profile_id)
            .where(_weights.c.category_id == index, _weights.c.weight > 0)
        ).all()
        if not rows:
            continue
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        shares = np.array([row[1] for row in rows], dtype=np.float64)
        followers = np.array([row[2] for row in rows], dtype=np.int64)
        dominant = np.array([bool(row[3]) for row in rows])
        bands = np.searchsorted(BANDS, np.maximum(followers, 0), side="right") - 1
        for code in np.unique(bands[dominant]):
            band = band_of(BANDS[code])
            allowed = max(1, math.floor(TOP_SHARE * _band_size(session, band, fresh=True)))
            in_band = np.sort(shares[bands == code])
            chosen = dominant & (bands == code)
            ahead = len(in_band) - np.searchsorted(in_band, shares[chosen], side="right")
            for pk, share in zip(
                ids[chosen][ahead < allowed], shares[chosen][ahead < allowed], strict=True
            ):
                awards.append(
                    (
                        int(pk),
                        f"top1pct-{category}",
                        f"{share * 100:.1f} % {category}, top 1 % of {band_name(band)}",
                    )
                )
    award(session, awards, at)
    return len(awards)


def _item(code: str, detail: str, awarded_at) -> dict:
    kind = describe(code)
    return {
        "code": code,
        "title": kind.title if kind else code,
        "detail": detail,
        "awarded_at": awarded_at.isoformat(),
        "badge": f"/badges/{code}.svg",
    }


_awards = Achievement.__table__


def of_profile(session: Session, profile_id: int) -> list[dict]:
    """A profile's achievements, the earliest first."""
    rows = session.execute(
        select(_awards.c.code, _awards.c.detail, _awards.c.awarded_at)
        .where(_awards.c.profile_id == profile_id)
        .order_by(_awards.c.awarded_at, _awards.c.id)
    )
    return [_item(*row) for row in rows]


def recent(session: Session, page: int, per_page: int) -> dict:
    """Every profile's achievements, the latest first, a page at a time, with how many
    profiles hold each code."""
    rows = session.execute(
        select(
            _awards.c.profile_id,
            _profiles.c.username,
            _awards.c.code,
            _awards.c.detail,
            _awards.c.awarded_at,
        )
        .join(_profiles, _profiles.c.id == _awards.c.profile_id)
        .order_by(_awards.c.awarded_at.desc(), _awards.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    counts = dict(
        session.execute(
            select(_awards.c.code, func.count()).group_by(_awards.c.code).order_by(_awards.c.code)
        ).all()
    )
    return {
        "items": [
            {"profile_id": pk, "username": name, **_item(code, detail, at)}
            for pk, name, code, detail, at in rows
        ],
        "page": page,
        "per_page": per_page,
        "total": sum(counts.values()),
        "counts": counts,
    }


def badge_svg(code: str) -> str | None:
    """The badge of an achievement code, drawn as SVG: a rosette in the kind's colour with
    its mark, and its title for screen readers; None for a code no rule gives."""
    kind = describe(code)
    if kind is None:
        return None
    title = escape(kind.title)
    size = 22 if len(kind.mark) <= 2 else 17 if len(kind.mark) <= 3 else 14
    points = []
    for i in range(24):  # a scalloped edge: 12 outer and 12 inner points
        radius = 46 if i % 2 == 0 else 40
        angle = math.pi * i / 12
        points.append(f"{48 + radius * math.sin(angle):.1f},{48 - radius * math.cos(angle):.1f}")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96" width="96" height="96" '
        f'role="img" aria-label="{title}"><title>{title}</title>'
        f'<polygon points="{" ".join(points)}" fill="{kind.colour}"/>'
        '<circle cx="48" cy="48" r="32" fill="#ffffff" fill-opacity="0.92"/>'
        f'<text x="48" y="{48 + size * 0.36:.1f}" text-anchor="middle" '
        f'font-family="system-ui, sans-serif" font-weight="700" font-size="{size}" '
        f'fill="{kind.colour}">{escape(kind.mark)}</text></svg>'
    )
