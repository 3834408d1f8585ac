"""The platforms Toker connects to: their ids, in a fixed order (the live matrix keeps a
profile's platform as its index here), and the names people read."""

PLATFORMS = ("tiktok", "instagram", "x")
LABELS = {"tiktok": "TikTok", "instagram": "Instagram", "x": "X"}


class UnknownPlatform(ValueError):
    """The platform named is not one Toker connects to."""


def check_platform(platform: str) -> str:
    """The platform id if Toker connects to it, else UnknownPlatform that lists the known."""
    if platform not in PLATFORMS:
        raise UnknownPlatform(
            f"unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}"
        )
    return platform
