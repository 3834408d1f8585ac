"""The video catalogue: every stored video, searchable and ranked by its engagement score.

The catalogue is searched in SQL: each video row carries its engagement score (see
services/ingestion/scores.py), how many stored profiles liked or shared it (kept current by
every write of links) and its search text, indexed by the database's own trigram index
(services/catalogue/search.py), so a search costs what its matches cost, in every worker, and
shows every committed write at once.
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from ...extensions import db
from ...models import Video, VideoCategory, VideoStats
from ..ingestion.taxonomy import CATEGORY_INDEX
from ..live.sql import json_list_has
from . import search as text_search

PROFILE_COUNT = func.coalesce(VideoStats.profile_count, 0)
SORTS = {
    "score": Video.score,
    "profiles": PROFILE_COUNT,
    "posted": Video.posted_at,
    "likes": Video.likes,
}
# Only the posting date can be missing; it sorts last either way. The others are never NULL,
# and a NULLS LAST on them would keep PostgreSQL from walking their index backwards (a page
# of a category's videos by score took 90 ms, a sort of every video, instead of 3).
NULLABLE_SORTS = frozenset({"posted"})
MAX_QUERY = 100


def _category_members(category: str):
    """The ids of the category's videos: one range of video_categories' primary key."""
    return select(VideoCategory.video_pk).where(
        VideoCategory.category_id == CATEGORY_INDEX[category]
    )


def _in_category(category: str, counting: bool):
    """Whether a video is in the category. A count goes through the category's ids (a range,
    then a primary-key probe of each video: 2 ms for 4,000 of 60,000 videos on SQLite); a
    page walks the sort order and probes video_categories per video, stopping when it is full
    (a count that way probes every video: 27 ms)."""
    members = _category_members(category)
    if counting:
        return Video.id.in_(members)
    return members.where(VideoCategory.video_pk == Video.id).exists()


@dataclass(frozen=True)
class VideoQuery:
    """A checked request for a page of the catalogue (queries.VideoListQuery makes one)."""

    q: str = ""  # lower-cased caption or hashtag text
    hashtag: str | None = None  # normalised, without the #
    platform: str | None = None
    category: str | None = None
    min_score: float = 0.0
    sort: str = "score"
    order: str = "desc"
    page: int = 1
    per_page: int = 20


def search(query: VideoQuery) -> dict:
    """A page of videos: caption or hashtag text, hashtag, platform, category, min_score,
    sort (score, profiles, posted, likes), order, page, per_page."""
    q, hashtag, platform, category = query.q, query.hashtag, query.platform, query.category
    min_score, sort, order = query.min_score, query.sort, query.order
    page, per_page = query.page, query.per_page

    conditions = []
    if min_score > 0:
        conditions.append(Video.score >= min_score)
    if platform is not None:
        conditions.append(Video.platform == platform)
    if hashtag is not None:
        conditions.append(json_list_has(db.session, Video.hashtags, hashtag))
    if q:
        conditions.append(text_search.video_condition(db.session, q))
    column = SORTS[sort]
    first = column.asc() if order == "asc" else column.desc()
    if sort in NULLABLE_SORTS:
        first = first.nulls_last()
    ordering = (first, Video.id.asc() if order == "asc" else Video.id.desc())
    counted, paged = list(conditions), list(conditions)
    if category is not None:
        counted.append(_in_category(category, counting=True))
        paged.append(_in_category(category, counting=False))
    total = db.session.scalar(select(func.count(Video.id)).where(*counted))
    found = db.session.execute(
        select(Video, PROFILE_COUNT)
        .outerjoin(VideoStats, VideoStats.video_pk == Video.id)
        .where(*paged)
        .order_by(*ordering)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        {
            "video_id": video.video_id,
            "platform": video.platform,
            "categories": video.categories,
            "hashtags": video.hashtags,
            "caption": video.caption,
            "likes": video.likes,
            "comments": video.comments,
            "shares": video.shares,
            "posted_at": video.posted_at.isoformat() if video.posted_at else None,
            "score": round(float(video.score), 2),
            "profiles": int(profile_count),
        }
        for video, profile_count in found
    ]
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": int(total),
        "sort": sort,
        "order": order,
    }
