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
    # Relative frequency of each category's content on the platform, heavy-tailed as on real
    # platforms: a few categories hold most of it. Categories not listed weigh unlisted_weight.
    category_mix: dict[str, float] = field(default_factory=dict)
    unlisted_weight: float = 0.3
    generic_hashtags: tuple[str, ...] = ()
    # The calls the platform's API allows (TOKER_PLATFORM_RATE_LIMITS overrides it).
    rate_limit: RateLimit = RateLimit(300, 60.0)


TIKTOK = PlatformTraits(
    platform="tiktok",
    label=LABELS["tiktok"],
    video_id_prefix="73",
    user_id_digits=(18, 19),
    follower_log_mu=6.5,
    # Short video: dance, comedy and music first, then entertainment, beauty, food and pets.
    category_mix={
        "Dance": 30,
        "Comedy": 26,
        "Music": 22,
        "Entertainment": 11,
        "Beauty": 8,
        "Food": 7,
        "Pets": 6,
        "Fashion": 5,
        "Fitness": 4,
        "Gaming": 4,
        "Lifestyle": 3.5,
        "DIY": 2.5,
        "Education": 2,
        "Sports": 2,
        "Family": 1.5,
        "Anime": 1.5,
        "Film & TV": 1.2,
        "Travel": 1.2,
        "Art": 1,
        "Politics": 0.2,
        "History": 0.3,
        "Finance": 0.4,
        "Business": 0.4,
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
    # Pictures and reels: fashion, beauty, travel and food first, then fitness and lifestyle.
    category_mix={
        "Fashion": 28,
        "Beauty": 24,
        "Travel": 20,
        "Food": 16,
        "Fitness": 10,
        "Lifestyle": 9,
        "Photography": 7,
        "Art": 5,
        "Family": 4,
        "Nature": 4,
        "Music": 3,
        "Pets": 3,
        "Health": 2,
        "DIY": 2,
        "Entertainment": 2,
        "Dance": 1.5,
        "Books": 1.2,
        "Business": 1,
        "Automotive": 1,
        "Politics": 0.2,
        "News": 0.3,
        "Gaming": 0.4,
        "Anime": 0.4,
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
    # Conversation: news, politics, technology and sports first, then finance and business.
    category_mix={
        "News": 30,
        "Politics": 25,
        "Technology": 20,
        "Sports": 15,
        "Finance": 10,
        "Business": 8,
        "Science": 6,
        "Gaming": 5,
        "Film & TV": 4,
        "Comedy": 4,
        "Entertainment": 3,
        "Anime": 2.5,
        "Education": 2,
        "History": 1.5,
        "Books": 1.5,
        "Health": 1.2,
        "Automotive": 1,
        "Music": 1,
        "Dance": 0.1,
        "Beauty": 0.15,
        "Fashion": 0.2,
        "DIY": 0.2,
    },
    generic_hashtags=("#breaking", "#thread", "#trending"),
    rate_limit=RateLimit(300, 60.0),
)
