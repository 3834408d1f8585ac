"""Cleaning a validated payload and turning it into an interest vector over the taxonomy."""

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from .taxonomy import (
    CATEGORIES,
    CATEGORY_INDEX,
    hashtag_categories,
    normalise_category,
    normalise_hashtag,
)
from .validation import STAT_FIELDS, Payload, Video

LIKED_WEIGHT = 1.0
SHARED_WEIGHT = 2.0
TOP_HASHTAGS_KEPT = 10


@dataclass(slots=True)
class CleanVideo:
    """A video after cleaning: taxonomy categories and normalised hashtags."""

    kind: str  # "liked" or "shared"
    position: int
    video_id: str
    categories: list[str]
    hashtags: list[str]
    raw_categories: list[str] | None
    likes: int
    comments: int
    shares: int
    caption: str | None
    posted_at: object  # datetime or None


@dataclass
class ProcessedProfile:
    """Everything storage needs for one accepted account."""

    platform: str
    user_id: str
    username: str
    user_pseudo: str
    verified: bool
    stats: dict[str, int]
    raw_payload: dict
    videos: list[CleanVideo]
    interest: list[float]
    top_categories: list[dict]
    top_hashtags: list[dict]
    unclassified_count: int
    dominant_interest: str | None = field(default=None)

    @property
    def liked_count(self) -> int:
        return sum(1 for v in self.videos if v.kind == "liked")

    @property
    def shared_count(self) -> int:
        return sum(1 for v in self.videos if v.kind == "shared")


def clean_hashtags(hashtags: list[str] | None) -> list[str]:
    """Trim, lower-case, give one leading '#' and de-duplicate, keeping first-seen order."""
    if not hashtags:
        return []
    return list(_clean_hashtags(tuple(hashtags)))


# Catalogue videos repeat the same tag and category lists endlessly: clean each list once.
@lru_cache(maxsize=65536)
def _clean_hashtags(hashtags: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = dict.fromkeys(map(normalise_hashtag, hashtags))
    cleaned.pop(None, None)
    return tuple(cleaned)


def video_categories(categories: list[str] | None, hashtags: list[str]) -> list[str]:
    """A video's categories: its explicit ones when it has any, else those of its hashtags."""
    return list(_video_categories(tuple(categories or ()), tuple(hashtags)))


@lru_cache(maxsize=65536)
def _video_categories(categories: tuple[str, ...], hashtags: tuple[str, ...]) -> tuple[str, ...]:
    if categories:
        explicit = dict.fromkeys(map(normalise_category, categories))
        explicit.pop(None, None)
        if explicit:
            return tuple(explicit)
    mapped: dict[str, None] = {}
    for tag in hashtags:
        for name in hashtag_categories(tag):
            mapped[name] = None
    return tuple(mapped)


def clean_video(video: Video, kind: str, position: int) -> CleanVideo:
    """Clean one video's categories and hashtags."""
    hashtags = _clean_hashtags(tuple(video.hashtags)) if video.hashtags else ()
    categories = _video_categories(tuple(video.categories or ()), hashtags)
    return CleanVideo(
        kind=kind,
        position=position,
        video_id=video.video_id,
        categories=list(categories),
        hashtags=list(hashtags),
        raw_categories=video.categories,
        likes=video.likes,
        comments=video.comments,
        shares=video.shares,
        caption=video.caption,
        posted_at=video.posted_at,
    )


def interest_vector(videos: list[CleanVideo]) -> list[float]:
    """raw[c] = sum of weight(v)/|cats(v)| over videos in c; then normalised to sum to 1."""
    raw = [0.0] * len(CATEGORIES)
    for video in videos:
        if not video.categories:
            continue
        weight = SHARED_WEIGHT if video.kind == "shared" else LIKED_WEIGHT
        share = weight / len(video.categories)
        for name in video.categories:
            raw[CATEGORY_INDEX[name]] += share
    total = sum(raw)
    if total == 0:
        return raw
    return [value / total for value in raw]


def top_categories(interest: list[float], n: int = 5) -> list[dict]:
    """The n largest non-zero entries, ties in taxonomy order."""
    ranked = sorted(
        (i for i, weight in enumerate(interest) if weight > 0), key=lambda i: (-interest[i], i)
    )
    return [{"category": CATEGORIES[i], "weight": interest[i]} for i in ranked[:n]]


def top_hashtags(videos: list[CleanVideo], n: int = TOP_HASHTAGS_KEPT) -> list[dict]:
    """The most frequent hashtags over liked and shared videos, ties alphabetical."""
    counts = Counter(tag for video in videos for tag in video.hashtags)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"hashtag": tag, "count": count} for tag, count in ranked[:n]]


def process_payload(platform: str, payload: Payload, raw: dict) -> ProcessedProfile:
    """Clean a validated payload and compute its interest vector and summaries."""
    videos = [clean_video(v, "liked", i) for i, v in enumerate(payload.liked_videos)]
    videos += [clean_video(v, "shared", i) for i, v in enumerate(payload.shared_videos)]
    interest = interest_vector(videos)
    tops = top_categories(interest)
    return ProcessedProfile(
        platform=platform,
        user_id=payload.user_id,
        username=payload.username,
        user_pseudo=payload.user_pseudo,
        verified=payload.verified,
        stats={name: getattr(payload, name) for name in STAT_FIELDS},
        raw_payload=raw,
        videos=videos,
        interest=interest,
        top_categories=tops,
        top_hashtags=top_hashtags(videos),
        unclassified_count=sum(1 for v in videos if not v.categories),
        dominant_interest=tops[0]["category"] if tops else None,
    )
