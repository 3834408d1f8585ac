"""Hashtag and trending syncs (seed 003): the platform's videos carrying each hashtag are
stored in the video catalogue, deduplicated: a video already stored is refreshed with its
latest counts, never doubled, so running the same sync twice stores nothing new.

A hashtag sync's items are the hashtags it was given. A trending sync asks the platform for
its trending hashtags when it is prepared, fixes them in its parameters (a job taken over
syncs the same hashtags), then does as a hashtag sync. Each hashtag is one transaction: its
videos, the audit event and the mark that it is done commit together.
"""

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from ...extensions import db
from ..accounts import audit
from ..ingestion import onboarding
from ..ingestion.connectors import MalformedResponse
from ..ingestion.platforms import LABELS, PLATFORMS
from ..ingestion.processing import clean_video
from ..ingestion.storage import store_videos
from ..ingestion.validation import Video
from .base import Done, Item, Kind

MAX_HASHTAGS = 20
MAX_HASHTAG_LENGTH = 100
DEFAULT_VIDEOS = 200
MAX_VIDEOS = 1000
DEFAULT_TRENDING = 10
# Letters, digits and underscores, as the platforms allow in a hashtag.
_WORD = re.compile(r"\w+")


def clean_hashtag(value: Any) -> str:
    """A hashtag as a sync takes it: trimmed, lower-cased, without its leading #."""
    if not isinstance(value, str):
        raise PydanticCustomError("hashtag", "must be a string")
    tag = value.strip().lstrip("#").strip().lower()
    if not tag:
        raise PydanticCustomError("hashtag", "must name a hashtag, not be empty")
    if len(tag) > MAX_HASHTAG_LENGTH:
        raise PydanticCustomError(
            "hashtag",
            "is too long ({length} characters, at most {limit})",
            {"length": len(tag), "limit": MAX_HASHTAG_LENGTH},
        )
    if not _WORD.fullmatch(tag):
        raise PydanticCustomError(
            "hashtag",
            "must be one word of letters, digits or underscores (a leading # is dropped), "
            "not {tag!r}",
            {"tag": value},
        )
    return tag


Hashtag = Annotated[
    str,
    BeforeValidator(clean_hashtag),
    Field(
        json_schema_extra={"minLength": 1, "maxLength": MAX_HASHTAG_LENGTH + 1},
        description="A hashtag, with or without its leading #; letters, digits and "
        "underscores, compared lower-cased.",
    ),
]


def _platform(value: Any) -> str:
    if not isinstance(value, str) or value not in PLATFORMS:
        raise PydanticCustomError(
            "platform",
            "must be one of {known}, not {value!r}",
            {"known": ", ".join(PLATFORMS), "value": value},
        )
    return value


Platform = Annotated[str, BeforeValidator(_platform), Field(json_schema_extra={"enum": PLATFORMS})]
MaxVideos = Annotated[
    int,
    Field(
        ge=1,
        le=MAX_VIDEOS,
        description="At most this many videos per hashtag, the newest first.",
    ),
]


class HashtagSyncBody(BaseModel):
    """The hashtags to sync."""

    hashtags: list[Hashtag] = Field(
        min_length=1,
        max_length=MAX_HASHTAGS,
        description="The hashtags whose videos to store; one named twice is synced once.",
    )
    max_videos: MaxVideos = DEFAULT_VIDEOS

    @field_validator("hashtags")
    @classmethod
    def _once_each(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))


class HashtagSyncParams(HashtagSyncBody):
    """A hashtag sync: the platform and its hashtags."""

    platform: Platform


class TrendingSyncBody(BaseModel):
    """How many trending hashtags to sync."""

    count: int = Field(
        DEFAULT_TRENDING,
        ge=1,
        le=MAX_HASHTAGS,
        description="How many of the platform's trending hashtags, the most trending first.",
    )
    max_videos: MaxVideos = DEFAULT_VIDEOS


class TrendingSyncParams(TrendingSyncBody):
    """A trending sync: the platform."""

    platform: Platform


class TrendingSyncPlan(TrendingSyncParams):
    """A trending sync's stored parameters: the hashtags the platform named when it began."""

    hashtags: list[str]


def items(params: dict) -> list[tuple[str, str, int]]:
    """(platform, hashtag, max videos) per hashtag, in the stored order."""
    return [(params["platform"], tag, params["max_videos"]) for tag in params["hashtags"]]


def describe(value: Any) -> str:
    return f"#{value[1]}"


def _videos(platform: str, tag: str, limit: int, pace) -> list[dict]:
    """The platform's newest videos carrying the hashtag, page after page, up to `limit`."""
    found: list[dict] = []
    cursor = 0
    label = LABELS[platform]
    while len(found) < limit:
        pace(platform)
        page = onboarding.ask_platform(
            platform,
            f"{label} videos with #{tag}",
            lambda connector, at=cursor: connector.videos_with_hashtag(tag, at),
        )
        if not isinstance(page, dict) or not isinstance(page.get("videos"), list):
            raise MalformedResponse(f"{label} answered a hashtag search with something else")
        found.extend(page["videos"])
        cursor = page.get("cursor")
        if cursor is None:
            break
    return found[:limit]


def run(item: Item) -> Done:
    """Store the videos the platform has for one hashtag; counts of new and already stored."""
    platform, tag, limit = item.value
    answered = _videos(platform, tag, limit, item.pace)
    videos, skipped, seen = [], 0, set()
    for position, entry in enumerate(answered):
        try:
            video = Video.model_validate(entry)
        except ValidationError:
            skipped += 1  # a malformed entry: the others are stored
            continue
        if video.video_id not in seen:
            seen.add(video.video_id)
            videos.append(clean_video(video, "liked", position))
    try:
        new, stored = store_videos(db.session, platform, videos)
        audit.stage(
            db.session,
            item.actor,
            "hashtag-sync",
            f"{platform}:#{tag}",
            f"{new} new, {stored} already stored",
        )
        tally = {"new videos": new, "videos already stored": stored}
        detail = {"found": len(answered), "new": new, "already stored": stored}
        reason = None
        if skipped:
            tally["videos malformed"] = detail["malformed"] = skipped
            reason = f"{skipped} of the videos {LABELS[platform]} sent were malformed, left out"
        done = Done("synced", reason, tally=tally, detail=detail)
        item.staged(db.session, done)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return done


def prepare_hashtags(params: HashtagSyncParams) -> HashtagSyncParams:
    """Nothing to check against the data: any hashtag may have videos."""
    return params


def prepare_trending(params: TrendingSyncParams) -> TrendingSyncPlan:
    """Ask the platform for its trending hashtags now (ConnectorError when it fails) and fix
    them in the job's parameters."""
    platform = params.platform
    tags = onboarding.ask_platform(
        platform,
        f"{LABELS[platform]} trending hashtags",
        lambda connector: connector.trending_hashtags(count=params.count),
    )
    if not isinstance(tags, list):
        raise MalformedResponse(f"{LABELS[platform]} answered with no list of hashtags")
    cleaned = []
    for tag in tags:
        try:
            cleaned.append(clean_hashtag(tag))
        except PydanticCustomError:
            continue  # a platform's odd hashtag is not the person's fault: left out
    return TrendingSyncPlan(
        **params.model_dump(), hashtags=list(dict.fromkeys(cleaned))[: params.count]
    )


HASHTAG_SYNC = Kind(
    name="hashtag-sync",
    label="Sync hashtags' videos",
    params=HashtagSyncParams,
    prepare=prepare_hashtags,
    items=items,
    describe=describe,
    run=run,
)

TRENDING_SYNC = Kind(
    name="trending-sync",
    label="Sync trending hashtags' videos",
    params=TrendingSyncParams,
    prepare=prepare_trending,
    items=items,
    describe=describe,
    run=run,
)
