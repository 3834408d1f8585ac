"""The video catalogue: every stored video, searchable and ranked by its engagement score.

engagement score = 100 x log10(1 + likes + 2 x comments + 3 x shares) / 7, capped at 100
(comments and shares cost the viewer more than a like; 10^7 weighted interactions score 100).

The index of all videos, their scores and how many stored profiles liked or shared each is
built once per data version; recommendations score from it too.
"""

import math
from dataclasses import dataclass
from datetime import UTC

import numpy as np
from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import ProfileVideo, Video
from . import versions
from .profiles import MAX_PER_PAGE, BadQuery, int_arg, platform_arg
from .taxonomy import CATEGORIES, normalise_hashtag
from .validation import PLATFORMS

SORTS = ("score", "profiles", "posted", "likes")
ENGAGEMENT_DECADES = 7.0


def engagement_score(likes: int, comments: int, shares: int) -> float:
    """0 to 100: log-scaled likes + 2 x comments + 3 x shares (see the module docstring)."""
    weighted = max(0, likes) + 2 * max(0, comments) + 3 * max(0, shares)
    return min(100.0, 100.0 * math.log10(1 + weighted) / ENGAGEMENT_DECADES)


MAX_QUERY = 100


@dataclass
class VideoIndex:
    """Every stored video as parallel arrays, in id order."""

    rows: list  # (id, platform, video_id, categories, hashtags, caption, likes, comments,
    #            shares, posted_at)
    ids: np.ndarray
    platforms: np.ndarray
    scores: np.ndarray
    profiles: np.ndarray
    likes: np.ndarray
    posted: np.ndarray  # POSIX seconds, NaN when unknown
    text: list[str]  # lower-case caption and hashtags, for the text search


def _build() -> VideoIndex:
    rows = db.session.execute(
        select(
            Video.id,
            Video.platform,
            Video.video_id,
            Video.categories,
            Video.hashtags,
            Video.caption,
            Video.likes,
            Video.comments,
            Video.shares,
            Video.posted_at,
        ).order_by(Video.id)
    ).all()
    counts = dict(
        db.session.execute(
            select(
                ProfileVideo.video_pk, func.count(func.distinct(ProfileVideo.profile_id))
            ).group_by(ProfileVideo.video_pk)
        ).all()
    )
    code = {name: i for i, name in enumerate(PLATFORMS)}
    return VideoIndex(
        rows=rows,
        ids=np.array([r.id for r in rows], dtype=np.int64),
        platforms=np.array([code.get(r.platform, -1) for r in rows], dtype=np.int8),
        scores=np.array([engagement_score(r.likes, r.comments, r.shares) for r in rows]),
        profiles=np.array([counts.get(r.id, 0) for r in rows], dtype=np.int64),
        likes=np.array([r.likes for r in rows], dtype=np.int64),
        posted=np.array([_timestamp(r.posted_at) for r in rows]),
        text=[" ".join([(r.caption or "").lower(), *(r.hashtags or [])]) for r in rows],
    )


def _timestamp(value) -> float:
    if value is None:
        return math.nan
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


_indexes = versions.VersionedCache()


def current_index() -> VideoIndex:
    """The catalogue index for the current data version, or one at most
    TOKER_CATALOGUE_MAX_STALE seconds old: a rebuild takes seconds, and under a stream of
    connects it would otherwise run on nearly every request."""
    max_stale = float(current_app.config.get("TOKER_CATALOGUE_MAX_STALE", 0))
    return _indexes.get_or_compute(db.session, ("index",), _build, max_stale=max_stale)


def _number(args, name: str, default: float, low: float, high: float) -> float:
    text = args.get(name)
    if text in (None, ""):
        return default
    try:
        value = float(text)
    except ValueError:
        raise BadQuery(name, f"must be a number, not {text!r}") from None
    if not low <= value <= high:
        raise BadQuery(name, f"must be from {low:g} to {high:g}")
    return value


def search(args) -> dict:
    """A page of videos: q (caption or hashtag text), hashtag, platform, category, min_score,
    sort (score, profiles, posted, likes), order, page, per_page."""
    q = (args.get("q") or "").strip().lower()
    if len(q) > MAX_QUERY:
        raise BadQuery("q", f"is too long (at most {MAX_QUERY} characters)")
    hashtag = normalise_hashtag(args.get("hashtag") or "") if args.get("hashtag") else None
    platform = platform_arg(args)
    category = args.get("category") or None
    if category is not None:
        matches = [c for c in CATEGORIES if c.lower() == category.strip().lower()]
        if not matches:
            raise BadQuery("category", f"{category!r} is not a category")
        category = matches[0]
    min_score = _number(args, "min_score", 0.0, 0.0, 100.0)
    sort = args.get("sort") or "score"
    if sort not in SORTS:
        raise BadQuery("sort", f"must be one of {', '.join(SORTS)}, not {sort!r}")
    order = args.get("order") or "desc"
    if order not in ("asc", "desc"):
        raise BadQuery("order", f"must be 'asc' or 'desc', not {order!r}")
    page = int_arg(args, "page", 1, 1, 1_000_000)
    per_page = min(int_arg(args, "per_page", 20, 1, 10**6), MAX_PER_PAGE)

    index = current_index()
    keep = index.scores >= min_score
    if platform is not None:
        keep &= index.platforms == PLATFORMS.index(platform)
    rows = np.flatnonzero(keep)
    if category is not None or hashtag is not None or q:
        rows = np.array(
            [
                i
                for i in rows
                if (category is None or category in (index.rows[i].categories or ()))
                and (hashtag is None or hashtag in (index.rows[i].hashtags or ()))
                and (not q or q in index.text[i])
            ],
            dtype=np.int64,
        )
    key = {
        "score": index.scores,
        "profiles": index.profiles,
        "posted": index.posted,
        "likes": index.likes,
    }[sort][rows]
    ids = index.ids[rows]
    ordering = np.lexsort((ids, key)) if order == "asc" else np.lexsort((-ids, -key))
    start = (page - 1) * per_page
    chosen = rows[ordering[start : start + per_page]]
    items = []
    for i in chosen:
        r = index.rows[i]
        items.append(
            {
                "video_id": r.video_id,
                "platform": r.platform,
                "categories": r.categories,
                "hashtags": r.hashtags,
                "caption": r.caption,
                "likes": r.likes,
                "comments": r.comments,
                "shares": r.shares,
                "posted_at": r.posted_at.isoformat() if r.posted_at else None,
                "score": round(float(index.scores[i]), 2),
                "profiles": int(index.profiles[i]),
            }
        )
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": int(len(rows)),
        "sort": sort,
        "order": order,
    }
