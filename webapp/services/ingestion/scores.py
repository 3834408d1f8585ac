"""What is derived and stored: a video's engagement score and search text, and an account's
engagement rate.

engagement score = 100 x log10(1 + likes + 2 x comments + 3 x shares) / 7, capped at 100
(comments and shares cost the viewer more than a like; 10^7 weighted interactions score 100).
"""

import math

ENGAGEMENT_DECADES = 7.0


def engagement_score(likes: int, comments: int, shares: int) -> float:
    """0 to 100: log-scaled likes + 2 x comments + 3 x shares (see the module docstring)."""
    weighted = max(0, likes) + 2 * max(0, comments) + 3 * max(0, shares)
    return min(100.0, 100.0 * math.log10(1 + weighted) / ENGAGEMENT_DECADES)


def search_text(caption: str | None, hashtags: list[str] | None) -> str:
    """The text a catalogue search looks in: the lower-cased caption, then the hashtags."""
    return " ".join([(caption or "").lower(), *(hashtags or [])])


def engagement_rate(stats: dict) -> float:
    """An account's engagement rate as a fraction (DESIGN.md, "History"): likes and comments on
    its own videos per video, per follower. Shown as a percentage."""
    interactions = stats["number_of_likes_on_own_videos"] + stats["number_of_comments"]
    return interactions / max(stats["videos_count"], 1) / max(stats["followers_count"], 1)
