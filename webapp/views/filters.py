"""Jinja filters for the pages: plain Python, much cheaper per table cell than macros."""

from datetime import datetime

from markupsafe import Markup

PLATFORM_NAMES = {"tiktok": "TikTok", "instagram": "Instagram", "x": "X"}


def number(value) -> str:
    """12345 -> '12,345'."""
    return f"{value:,}" if isinstance(value, int) else str(value)


def when(value) -> Markup:
    """A <time> element for a datetime or an ISO 8601 string; a dash when empty."""
    if not value:
        return Markup("—")
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    # Both renderings are digits and separators only, so nothing needs escaping.
    return Markup(f'<time datetime="{value.isoformat()}">{value.strftime("%Y-%m-%d %H:%M")}</time>')


# Built once: these cells repeat on every row of every table.
_BADGES = {
    key: Markup(f'<span class="badge {key}">{name}</span>') for key, name in PLATFORM_NAMES.items()
}


def platform_badge(platform: str) -> Markup:
    """The platform's name in its badge."""
    badge = _BADGES.get(platform)
    if badge is None:
        badge = Markup('<span class="badge">{}</span>').format(platform)
    return badge


def platform_name(platform: str) -> str:
    """tiktok -> TikTok."""
    return PLATFORM_NAMES.get(platform, platform)


FILTERS = {
    "number": number,
    "when": when,
    "platform_badge": platform_badge,
    "platform_name": platform_name,
}
