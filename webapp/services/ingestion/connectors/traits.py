"""What sets each mocked platform apart: id formats, audience size and the content mix."""

from dataclasses import dataclass, field

from ..platforms import LABELS
from .base import RateLimit


@dataclass(frozen=True)
class PlatformTraits:
    """Parameters the mock generator reads for one platform."""

    platform: str
    label: str
    video_id_prefix: str
    user_id_digits: tuple[int, int]
    follower_log_mu: float
    # Relative frequency of each category's content on the platform (missing ones weigh 1).
    category_mix: dict[str, float] = field(default_factory=dict)
    generic_hashtags: tuple[str, ...] = ()
    # The calls the platform's API allows (TOKER_PLATFORM_RATE_LIMITS overrides it).
    rate_limit: RateLimit = RateLimit(300, 60.0)


TIKTOK = PlatformTraits(
    platform="tiktok",
    label=LABELS["tiktok"],
    video_id_prefix="73",
    user_id_digits=(18, 19),
    follower_log_mu=6.5,
    category_mix={
        "Dance": 6,
        "Comedy": 6,
        "Music": 6,
        "Entertainment": 5,
        "Food": 4,
        "Beauty": 4,
        "Fashion": 3,
        "Pets": 4,
        "Gaming": 3,
        "Fitness": 3,
        "Lifestyle": 4,
        "DIY": 2,
        "Politics": 0.5,
        "History": 0.8,
        "Finance": 1,
        "Business": 1,
    },
    generic_hashtags=("#fyp", "#foryou", "#viral", "#trending"),
    rate_limit=RateLimit(600, 60.0),
)

INSTAGRAM = PlatformTraits(
    platform="instagram",
    label=LABELS["instagram"],
    video_id_prefix="31",
    user_id_digits=(9, 11),
    follower_log_mu=6.8,
    category_mix={
        "Fashion": 6,
        "Beauty": 6,
        "Travel": 6,
        "Photography": 5,
        "Food": 5,
        "Fitness": 5,
        "Lifestyle": 5,
        "Art": 4,
        "Nature": 3,
        "Family": 3,
        "Music": 3,
        "Politics": 0.5,
        "News": 0.8,
        "Gaming": 1,
        "Anime": 1,
    },
    generic_hashtags=("#instagood", "#reels", "#explore", "#photooftheday"),
    rate_limit=RateLimit(300, 60.0),
)

X = PlatformTraits(
    platform="x",
    label=LABELS["x"],
    video_id_prefix="18",
    user_id_digits=(18, 19),
    follower_log_mu=6.0,
    category_mix={
        "News": 6,
        "Politics": 5,
        "Technology": 6,
        "Finance": 5,
        "Business": 5,
        "Sports": 5,
        "Science": 4,
        "Gaming": 3,
        "Film & TV": 3,
        "Comedy": 3,
        "Anime": 2,
        "Dance": 0.5,
        "Beauty": 0.7,
        "Fashion": 0.8,
        "DIY": 0.8,
    },
    generic_hashtags=("#breaking", "#thread", "#trending"),
    rate_limit=RateLimit(300, 60.0),
)
