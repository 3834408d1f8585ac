"""Validation of a platform payload: accepted whole, or rejected with every problem located."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

# Size bounds: together they keep the largest accepted payload near 1 MB.
MAX_USER_ID = 64
MAX_NAME = 100
MAX_VIDEO_ID = 64
MAX_VIDEOS = 1000
MAX_CATEGORIES = 20
MAX_CATEGORY_LEN = 64
MAX_HASHTAGS = 50
MAX_HASHTAG_LEN = 100
MAX_CAPTION = 2200
MAX_COUNT = 10**15  # far above any real count, well inside a 64-bit integer
# Fields the payload format does not name are kept in the raw payload, up to this many bytes of
# JSON in all (names and values): enough for a platform's extra labels, never a profile page
# of megabytes.
MAX_UNKNOWN_BYTES = 16 * 1024


class BadUserId(ValueError):
    """A user id to connect is empty, too long or holds a NUL character; `reason` says which
    ("empty", "long" or "nul") so that each channel words it its own way."""

    def __init__(self, reason: str, length: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.length = length


def check_user_id(text: str) -> str:
    """A user id to connect as someone gave it (the API, the connect page, the CLI): trimmed,
    1 to MAX_USER_ID characters, no NUL character; else BadUserId."""
    trimmed = text.strip()
    if not trimmed:
        raise BadUserId("empty")
    if len(trimmed) > MAX_USER_ID:
        raise BadUserId("long", len(trimmed))
    if "\x00" in trimmed:
        raise BadUserId("nul")
    return trimmed


STAT_FIELDS = (
    "followers_count",
    "following_count",
    "likes_count",
    "videos_count",
    "number_of_comments",
    "number_of_likes_on_own_videos",
    "number_of_likes",
    "number_of_shares",
)

Count = Annotated[int, Strict(), Field(ge=0, le=MAX_COUNT)]


def _video_id(value: Any) -> str:
    """Accept a video id as a string or a whole number, trimmed, 1 to 64 characters."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PydanticCustomError("video_id_type", "must be a string or a whole number")
    if isinstance(value, int):
        if value < 0:
            raise PydanticCustomError("video_id_negative", "must not be negative")
        value = str(value)
    value = value.strip()
    if not value:
        raise PydanticCustomError("video_id_empty", "must not be empty")
    if len(value) > MAX_VIDEO_ID:
        raise PydanticCustomError(
            "video_id_long",
            "is too long ({length} characters, at most {limit})",
            {"length": len(value), "limit": MAX_VIDEO_ID},
        )
    return value


VideoId = Annotated[
    str,
    BeforeValidator(_video_id),
    WithJsonSchema(
        {
            "type": ["string", "integer"],
            "minLength": 1,
            "maxLength": MAX_VIDEO_ID,
            "minimum": 0,
            "description": f"1 to {MAX_VIDEO_ID} characters after trimming, or a whole number; "
            "unique within its list.",
        }
    ),
]


def _timestamp(value: str) -> datetime:
    """Parse an ISO 8601 date and time; a naive one is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "timestamp", "must be a date and time in ISO 8601 form, like 2025-06-01T12:00:00Z"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# Parsed by datetime.fromisoformat: several times cheaper than the generic datetime schema.
Timestamp = Annotated[
    str,
    Strict(),
    StringConstraints(max_length=40),
    AfterValidator(_timestamp),
    Field(
        json_schema_extra={"format": "date-time"},
        description="ISO 8601 date and time; without an offset it is UTC.",
    ),
]


class Video(BaseModel):
    """One liked or shared video as the platform reports it. Unknown fields are kept in the
    raw payload but ignored, up to 16 KiB of them in the whole payload."""

    model_config = ConfigDict(extra="ignore")

    video_id: VideoId
    categories: (
        Annotated[
            list[Annotated[str, Strict(), StringConstraints(max_length=MAX_CATEGORY_LEN)]],
            Field(max_length=MAX_CATEGORIES),
        ]
        | None
    ) = None
    hashtags: (
        Annotated[
            list[Annotated[str, Strict(), StringConstraints(max_length=MAX_HASHTAG_LEN)]],
            Field(max_length=MAX_HASHTAGS),
        ]
        | None
    ) = None
    likes: Count
    comments: Count
    shares: Count
    caption: Annotated[str, Strict(), StringConstraints(max_length=MAX_CAPTION)] | None = None
    posted_at: Timestamp | None = None


class Payload(BaseModel):
    """A whole account as a platform connector returns it, accepted or rejected whole: a
    rejection is a 422 that lists every problem. Beyond the types, video ids must be unique
    within each list, and whole numbers are written without a fraction (1500, not 1500.0).
    Strings are trimmed."""

    model_config = ConfigDict(extra="ignore")

    user_id: Annotated[
        str,
        Strict(),
        StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_USER_ID),
    ]
    username: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)
    ]
    user_pseudo: Annotated[
        str, Strict(), StringConstraints(strip_whitespace=True, max_length=MAX_NAME)
    ]
    verified: Annotated[bool, Strict()]
    followers_count: Count
    following_count: Count
    likes_count: Count
    videos_count: Count
    number_of_comments: Count
    number_of_likes_on_own_videos: Count
    number_of_likes: Count
    number_of_shares: Count
    liked_videos: Annotated[list[Video], Field(max_length=MAX_VIDEOS)]
    shared_videos: Annotated[list[Video], Field(max_length=MAX_VIDEOS)]


@dataclass(frozen=True)
class PayloadProblem:
    """One thing wrong with a payload: where it is and what is wrong, in words."""

    loc: str
    msg: str

    def as_dict(self) -> dict:
        return {"loc": self.loc, "msg": self.msg}


class PayloadRejected(Exception):
    """Raised when a payload is rejected; carries every problem found."""

    def __init__(self, problems: list[PayloadProblem]):
        self.problems = problems
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        """A one-paragraph summary a person can read."""
        if len(self.problems) == 1:
            only = self.problems[0]
            return f"{only.loc}: {only.msg}" if only.loc else only.msg
        listed = "; ".join(f"{p.loc}: {p.msg}" if p.loc else p.msg for p in self.problems)
        return f"{len(self.problems)} problems: {listed}"

    @property
    def errors(self) -> list[dict]:
        return [p.as_dict() for p in self.problems]


_PAYLOAD_FIELDS = frozenset(Payload.model_fields)
_VIDEO_FIELDS = frozenset(Video.model_fields)


def format_loc(parts) -> str:
    """Turn ('liked_videos', 3, 'likes') into 'liked_videos[3].likes'."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


# Python refuses to print integers of thousands of digits; anything past this is shown by size.
SHOWN_INT_BITS = 256


def _number(value: Any) -> str:
    """A number as text, or its size when it is too long to show."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() > SHOWN_INT_BITS:
            sign = "-" if value < 0 else ""
            return f"{sign}a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    return repr(value) if isinstance(value, int | float) else str(value)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _message(error: dict) -> str:
    """Say in plain words what a pydantic error means."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "int_type":
        if isinstance(value, float) and value.is_integer() and abs(value) >= 2**63:
            # JSON readers hand whole numbers past 64 bits over as floats.
            return f"is too large (got {value:.0f})"
        return f"must be a whole number, not {_describe(value)}"
    if kind == "greater_than_equal":
        return f"must not be negative (got {_number(value)})"
    if kind == "less_than_equal":
        return f"is too large (got {_number(value)}, at most {ctx.get('le')})"
    if kind == "bool_type":
        return f"must be true or false, not {_describe(value)}"
    if kind == "string_type":
        return f"must be a string, not {_describe(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"is too long ({len(value)} characters, at most {ctx.get('max_length')})"
    if kind == "list_type":
        return f"must be a list, not {_describe(value)}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "too_long":
        return f"has too many items ({ctx.get('actual_length')}, at most {ctx.get('max_length')})"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be an object, not {_describe(value)}"
    if kind.startswith("datetime"):
        return "must be a date and time in ISO 8601 form, like 2025-06-01T12:00:00Z"
    return error["msg"]


def _as_count(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _rule_problems(raw: dict, min_likes: int) -> list[PayloadProblem]:
    """Check the product rules that hold across fields, on whatever parts are readable."""
    problems = []
    likes = _as_count(raw.get("number_of_likes"))
    if likes is not None and 0 <= likes < min_likes:
        problems.append(
            PayloadProblem(
                "number_of_likes",
                f"the account has {likes} likes; at least {min_likes} are needed to store it",
            )
        )
    first_seen: dict[tuple[str, str], int] = {}
    for field, index, video in _video_objects(raw):
        video_id = video.get("video_id")
        if isinstance(video_id, bool) or not isinstance(video_id, str | int):
            continue
        if isinstance(video_id, int) and video_id.bit_length() > SHOWN_INT_BITS:
            continue  # rejected by the field's own check
        key = str(video_id).strip()
        if (field, key) in first_seen:
            problems.append(
                PayloadProblem(
                    f"{field}[{index}].video_id",
                    f"video {key!r} appears twice in {field} "
                    f"(first at {field}[{first_seen[field, key]}])",
                )
            )
        else:
            first_seen[field, key] = index
    return problems


def _video_objects(raw: dict):
    """(list name, index, video) for each video given as an object in the two lists."""
    for field in ("liked_videos", "shared_videos"):
        videos = raw.get(field)
        if isinstance(videos, list):
            for index, video in enumerate(videos):
                if isinstance(video, dict):
                    yield field, index, video


def validate_payload(raw: Any, min_likes: int = 100) -> Payload:
    """Validate a raw payload and return it parsed, or raise PayloadRejected with every problem."""
    if not isinstance(raw, dict):
        raise PayloadRejected(
            [PayloadProblem("", f"the payload must be a JSON object, not {_describe(raw)}")]
        )
    problems: list[PayloadProblem] = []
    payload = None
    try:
        payload = Payload.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            problems.append(PayloadProblem(format_loc(error["loc"]), _message(error)))
    problems.extend(_rule_problems(raw, min_likes))
    problems.extend(_unknown_problems(raw))
    if _may_hold_nul(raw):
        problems.extend(_nul_problems(raw))
    if problems:
        raise PayloadRejected(problems)
    return payload


def _unknown_fields(raw: dict) -> list[tuple[str, Any]]:
    """Where each field the format does not name is, and its value."""
    found = [(format_loc((key,)), raw[key]) for key in raw.keys() - _PAYLOAD_FIELDS]
    for field, index, video in _video_objects(raw):
        for key in video.keys() - _VIDEO_FIELDS:
            found.append((format_loc((field, index, key)), video[key]))
    return found


def _json_size(key: str, value: Any) -> int:
    """About how many bytes `"key": value` takes as JSON: exact through orjson, counted by a
    walk when orjson cannot write it (an integer past 64 bits, nesting past its depth)."""
    try:
        return len(orjson.dumps({key: value}))
    except TypeError:
        pass
    size, stack = len(key) + 4, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item.encode("utf-8", "replace")) + 2
        elif isinstance(item, bool) or item is None:
            size += 5
        elif isinstance(item, int):
            size += item.bit_length() * 30103 // 100_000 + 2  # its decimal digits
        elif isinstance(item, dict):
            size += 2 + 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            size += 2 + len(item)
            stack.extend(item)
        else:
            size += 24
    return size


def _unknown_problems(raw: dict) -> list[PayloadProblem]:
    """Unknown fields beyond MAX_UNKNOWN_BYTES in all: the largest of them, by location, until
    what is left fits."""
    unknown = _unknown_fields(raw)
    if not unknown:
        return []
    sizes = sorted(
        ((_json_size(loc, value), loc) for loc, value in unknown), key=lambda item: -item[0]
    )
    total = sum(size for size, _ in sizes)
    problems = []
    left = total
    for size, loc in sizes:
        if left <= MAX_UNKNOWN_BYTES:
            break
        problems.append(
            PayloadProblem(
                loc,
                f"a field the payload format does not name, holding {size:,} bytes: unknown "
                f"fields are kept up to {MAX_UNKNOWN_BYTES:,} bytes in all, and this payload's "
                f"hold {total:,}",
            )
        )
        left -= size
    return problems


def _may_hold_nul(raw: dict) -> bool:
    """False when no text in the payload (key or value) holds a NUL character: one pass of
    orjson, which writes NUL as \\u0000, instead of a walk of every value in Python."""
    try:
        return b"\\u0000" in orjson.dumps(raw)
    except TypeError:  # not plain JSON (a key that is not text, say): walk it
        return True


def _nul_problems(value: Any, loc: tuple = ()) -> list[PayloadProblem]:
    """Every text holding a NUL character, which PostgreSQL cannot store, by its location."""
    if isinstance(value, str):
        if "\x00" in value:
            return [PayloadProblem(format_loc(loc), "must not contain a NUL character (\\u0000)")]
        return []
    found: list[PayloadProblem] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = (*loc, str(key))
            if "\x00" in str(key):
                shown = format_loc(where).replace("\x00", "\\u0000")
                found.append(
                    PayloadProblem(shown, "the field name must not contain a NUL character")
                )
                continue
            found.extend(_nul_problems(item, where))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_nul_problems(item, (*loc, index)))
    return found
