"""Video recommendations (seed 002's ranking).

score = 0.6 x interest match + 0.2 x recency + 0.2 x engagement, each term in [0, 1]:

- interest match: cosine of the video's category vector (1/n on each of its n categories) and
  the profile's interest vector;
- recency: 0.5 ** (age in days / 90), a 90-day half-life from the posting date (0 if unknown,
  1 for a date in the future);
- engagement: the video's engagement score / 100 (see services/ingestion/scores.py).

Candidates are the stored videos of the profile's platform that it has not liked or shared.
"""

import functools
import math
from array import array
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...models import Profile, ProfileVideo, Video, is_valid_id
from .. import ProfileNotFound
from ..ingestion.platforms import PLATFORMS
from ..ingestion.taxonomy import CATEGORIES, CATEGORY_INDEX
from ..ingestion.vectors import unpack_vector
from ..live import memory, stamps
from ..live.sql import one_transaction

WEIGHTS = {"interest": 0.6, "recency": 0.2, "engagement": 0.2}
HALF_LIFE_DAYS = 90.0
MAX_K = 100
WIDTH = len(CATEGORIES)


def recency(posted_at: datetime | None, now: datetime) -> float:
    """1 when just posted, halving every 90 days; 0 when the date is unknown."""
    if posted_at is None:
        return 0.0
    if posted_at.tzinfo is None:
        posted_at = posted_at.replace(tzinfo=UTC)
    age_days = (now - posted_at).total_seconds() / 86400
    return 1.0 if age_days <= 0 else 0.5 ** (age_days / HALF_LIFE_DAYS)


@dataclass
class Catalogue:
    """Every stored video of each platform as arrays, for scoring them all at once."""

    pks: dict[str, np.ndarray]
    # Each video's categories as taxonomy indices (int8, padded with WIDTH), and the weight
    # 1/sqrt(n) of each of its n: its unit category vector in 1/32 of a float64 row's room.
    categories: dict[str, np.ndarray]
    scale: dict[str, np.ndarray]
    posted: dict[str, np.ndarray]  # POSIX seconds, NaN when unknown
    engagement: dict[str, np.ndarray]  # 0 to 100


@functools.lru_cache(maxsize=4096)
def _parsed_categories(names: tuple) -> tuple[tuple[int, ...], float]:
    known = [CATEGORY_INDEX[name] for name in names if name in CATEGORY_INDEX]
    return tuple(sorted(set(known))), (1.0 / math.sqrt(len(known)) if known else 0.0)


def _categories(names: list | None) -> tuple[tuple[int, ...], float]:
    """A video's distinct taxonomy indices and the weight of each in its unit vector."""
    return _parsed_categories(tuple(names or ()))


# Videos read from the database at a time: the rows of one chunk are freed before the next, so
# the load's Python objects (each video's category list and date) never all exist at once and
# the worker's heap does not keep their room after it (16 MiB at 60,000 videos).
CHUNK = 2_000


def _load() -> Catalogue:
    """Every stored video by platform, with its category vector, date and engagement score."""
    # Per platform: ids, category index tuples (shared by _parsed_categories' cache), weights,
    # dates and scores, in C arrays as they arrive.
    found: dict[str, tuple] = {}
    with one_transaction(db.session):  # a server-side cursor on PostgreSQL needs one
        result = db.session.execute(
            select(Video.id, Video.platform, Video.categories, Video.posted_at, Video.score)
            .order_by(Video.id)
            .execution_options(yield_per=CHUNK)
        )
        for row in result:
            columns = found.get(row.platform)
            if columns is None:
                columns = found[row.platform] = (array("q"), [], array("d"), array("d"), array("d"))
            indices, weight = _categories(row.categories)
            columns[0].append(row.id)
            columns[1].append(indices)
            columns[2].append(weight)
            columns[3].append(_timestamp(row.posted_at))
            columns[4].append(row.score)
    pks, cats, scale, posted, engagement = {}, {}, {}, {}, {}
    for platform in PLATFORMS:
        if platform not in found:
            continue
        ids, parsed, weights, dates, scores = found.pop(platform)
        width = max(1, *(len(indices) for indices in parsed))
        table = np.full((len(parsed), width), WIDTH, dtype=np.int8)
        for row, indices in enumerate(parsed):
            table[row, : len(indices)] = indices
        pks[platform] = np.frombuffer(ids, dtype=np.int64).copy()
        cats[platform] = table
        scale[platform] = np.frombuffer(weights, dtype=np.float64).copy()
        posted[platform] = np.frombuffer(dates, dtype=np.float64).copy()
        engagement[platform] = np.frombuffer(scores, dtype=np.float64).copy()
    return Catalogue(pks, cats, scale, posted, engagement)


def _timestamp(value) -> float:
    if value is None:
        return math.nan
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


_catalogues = stamps.VersionedCache()


def _load_and_give_back() -> Catalogue:
    catalogue = _load()
    memory.give_back()  # the rows read to build it
    return catalogue


def current_catalogue() -> Catalogue:
    """The video arrays for the current data version (videos change only with profiles)."""
    max_stale = float(current_app.config.get("TOKER_CATALOGUE_MAX_STALE", 0))
    return _catalogues.get_or_compute(
        db.session, ("catalogue",), _load_and_give_back, max_stale=max_stale
    )


def recommend(profile_id: int, k: int = 10, now: datetime | None = None) -> list[dict]:
    """The k best videos for a profile that it has not liked or shared, with each term."""
    profile = db.session.get(Profile, profile_id) if is_valid_id(profile_id) else None
    if profile is None:
        raise ProfileNotFound(profile_id)
    now = now or datetime.now(UTC)
    k = max(1, min(int(k), MAX_K))
    catalogue = current_catalogue()
    platform = profile.platform
    if platform not in catalogue.pks:
        return []
    interest = np.array(unpack_vector(profile.vector))
    norm = np.linalg.norm(interest)
    if norm:
        # The cosine with each video's unit category vector: the sum of the profile's unit
        # weights over the video's categories, times 1/sqrt(their number).
        unit = np.zeros(WIDTH + 1)  # index WIDTH pads a video's list of categories: weight 0
        unit[:WIDTH] = interest / norm
        match = unit[catalogue.categories[platform]].sum(axis=1) * catalogue.scale[platform]
    else:
        match = np.zeros(len(catalogue.pks[platform]))
    age_days = (now.timestamp() - catalogue.posted[platform]) / 86400
    fresh = np.where(
        np.isnan(age_days),
        0.0,
        np.where(age_days <= 0, 1.0, 0.5 ** (np.maximum(age_days, 0) / HALF_LIFE_DAYS)),
    )
    engaged = catalogue.engagement[platform] / 100
    score = (
        WEIGHTS["interest"] * match + WEIGHTS["recency"] * fresh + WEIGHTS["engagement"] * engaged
    )
    seen = set(
        db.session.scalars(
            select(ProfileVideo.video_pk).where(ProfileVideo.profile_id == profile_id)
        )
    )
    pks = catalogue.pks[platform]
    allowed = ~np.isin(pks, np.fromiter(seen, dtype=np.int64, count=len(seen)))
    rows = np.flatnonzero(allowed)
    if len(rows) == 0:
        return []
    rounded = np.round(score[rows], 12)
    order = rows[np.lexsort((pks[rows], -rounded))[:k]]
    videos = {
        video.id: video
        for video in db.session.scalars(select(Video).where(Video.id.in_(pks[order].tolist())))
    }
    items = []
    for row in order:
        video = videos[int(pks[row])]
        items.append(
            {
                "video_id": video.video_id,
                "platform": video.platform,
                "score": float(score[row]),
                "interest": float(match[row]),
                "recency": float(fresh[row]),
                "engagement": float(engaged[row]),
                "engagement_score": float(catalogue.engagement[platform][row]),
                "categories": video.categories,
                "hashtags": video.hashtags,
                "caption": video.caption,
                "posted_at": video.posted_at.isoformat() if video.posted_at else None,
            }
        )
    return items
