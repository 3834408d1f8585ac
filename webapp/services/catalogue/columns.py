"""The columns a person may choose for the profile table and its exports.

A column shows one field of a profile's summary, or the share of one interest category
(`share:Music`). The table always starts with the username; the chosen columns follow, then
the share of each interest filter's category when the filters name some. Exports carry the
chosen columns and every category's share.
"""

from dataclasses import dataclass

from ..ingestion.taxonomy import CATEGORIES

SHARE = "share:"
_CATEGORY_BY_LOWER = {name.lower(): name for name in CATEGORIES}


@dataclass(frozen=True)
class Column:
    """One column: its key in the URL, its header, the summary field it shows (None for a
    share), the list's sort key that orders it (None when it does not sort), whether it is a
    number, and the category of a share column."""

    key: str
    label: str
    field: str | None
    sort: str | None
    numeric: bool
    category: str | None = None


_FIELDS = (
    Column("platform", "Platform", "platform", "platform", False),
    Column("verified", "Verified", "verified", "verified", False),
    Column("followers", "Followers", "followers_count", "followers", True),
    Column("following", "Following", "following_count", "following_count", True),
    Column("likes_received", "Likes received", "likes_count", "likes_count", True),
    Column("likes_given", "Likes given", "number_of_likes", "likes", True),
    Column("shares_given", "Shares given", "number_of_shares", "number_of_shares", True),
    Column("videos", "Videos", "videos_count", "videos_count", True),
    Column("comments", "Comments", "number_of_comments", None, True),
    Column(
        "likes_on_own_videos",
        "Likes on own videos",
        "number_of_likes_on_own_videos",
        None,
        True,
    ),
    Column("liked_videos", "Liked videos", "liked_count", None, True),
    Column("shared_videos", "Shared videos", "shared_count", None, True),
    Column("engagement", "Engagement", "engagement_rate", "engagement", True),
    Column("growth", "Growth 30 d", "growth_30d", "growth", True),
    Column("dominant", "Dominant interest", "dominant_interest", None, False),
    Column("created", "First synced", "created_at", "created", False),
    Column("updated", "Last sync", "updated_at", "updated", False),
)
FIELD_COLUMNS = {column.key: column for column in _FIELDS}
DEFAULT_COLUMNS = (
    "platform",
    "verified",
    "followers",
    "likes_given",
    "engagement",
    "growth",
    "dominant",
    "updated",
)
MAX_COLUMNS = 40


def share_column(category: str) -> Column:
    """The column of one category's share."""
    return Column(f"{SHARE}{category}", f"{category} %", None, None, True, category)


def column(key: str) -> Column:
    """The column a key names (a share's category matched case-insensitively); KeyError."""
    if key.lower().startswith(SHARE):
        category = _CATEGORY_BY_LOWER.get(key[len(SHARE) :].strip().lower())
        if category is None:
            raise KeyError(key)
        return share_column(category)
    return FIELD_COLUMNS[key.strip().lower()]


def parse(text: str) -> tuple[str, ...]:
    """'followers, share:music' -> ('followers', 'share:Music'): each key checked and written
    as the table writes it, repeats dropped; ValueError naming the first unknown key."""
    keys: list[str] = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            key = column(part.strip()).key
        except KeyError:
            raise ValueError(
                f"{part.strip()!r} is not a column; choose from "
                f"{', '.join(FIELD_COLUMNS)} or share:<category>"
            ) from None
        if key not in keys:
            keys.append(key)
    if len(keys) > MAX_COLUMNS:
        raise ValueError(f"at most {MAX_COLUMNS} columns, not {len(keys)}")
    return tuple(keys)


def shown(keys: tuple[str, ...], interests: tuple) -> list[Column]:
    """The table's columns: the chosen ones, then the share of each interest filter's category
    that is not among them."""
    chosen = [column(key) for key in keys]
    have = {c.key for c in chosen}
    for category, _minimum in interests:
        extra = share_column(category)
        if extra.key not in have:
            chosen.append(extra)
            have.add(extra.key)
    return chosen
