"""The connector interface: how Toker asks a platform for an account's data."""

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime


def in_words(seconds: float) -> str:
    """A wait as a person would say it: "1 second", "45 seconds", "a minute", "3 minutes"."""
    seconds = max(1, math.ceil(seconds))
    if seconds == 60:
        return "a minute"
    if seconds < 120:
        return f"{seconds} second{'' if seconds == 1 else 's'}"
    return f"{math.ceil(seconds / 60)} minutes"


class ConnectorError(Exception):
    """The platform could not give the account's data; str() says so in plain words."""

    retryable = False
    # Seconds after which asking again may work; None when nobody can tell.
    retry_after: float | None = None

    def __init__(self, message: str, attempts: int = 1):
        super().__init__(message)
        self.message = message
        self.attempts = attempts

    @property
    def advice(self) -> str:
        """What the person can do about it."""
        if self.retry_after is None:
            return "try again later"
        return f"try again in {in_words(self.retry_after)}"

    def __str__(self) -> str:
        tries = f" ({self.attempts} tries)" if self.attempts > 1 else ""
        return f"{self.message}{tries}; {self.advice}"


class ConnectorTimeout(ConnectorError):
    """The platform did not answer in time."""

    retryable = True
    # A platform that stopped answering is seldom back within seconds.
    retry_after = 60.0


class ConnectorRateLimited(ConnectorError):
    """The platform refused the call for now (HTTP 429); retry after `retry_after` seconds."""

    retryable = True

    def __init__(self, message: str, retry_after: float, attempts: int = 1):
        super().__init__(message, attempts)
        self.retry_after = retry_after


class MalformedResponse(ConnectorError):
    """The platform answered with something that is not an account payload."""


@dataclass(frozen=True)
class RateLimit:
    """A platform's limit on calls: at most `calls` in any `seconds`."""

    calls: int
    seconds: float

    @property
    def interval(self) -> float:
        """The time between two calls spread evenly over the window."""
        return self.seconds / self.calls

    def __str__(self) -> str:
        return f"{self.calls}/{self.seconds:g}"


def parse_rate_limits(spec: str, platforms) -> dict[str, RateLimit]:
    """Read "platform=calls/seconds" items, comma-separated, e.g. "tiktok=600/60,x=5/1";
    ValueError saying what is wrong."""
    limits = {}
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        platform, _, limit = item.partition("=")
        calls, _, seconds = limit.partition("/")
        platform = platform.strip()
        if platform not in platforms:
            raise ValueError(
                f"{item!r}: unknown platform {platform!r}; choose one of {', '.join(platforms)}"
            )
        try:
            parsed = RateLimit(int(calls), float(seconds))
        except ValueError:
            raise ValueError(
                f"{item!r}: write platform=calls/seconds, like tiktok=600/60"
            ) from None
        if parsed.calls < 1 or not parsed.seconds > 0:
            raise ValueError(f"{item!r}: calls must be 1 or more and seconds more than 0")
        limits[platform] = parsed
    return limits


class Connector(ABC):
    """One platform's client; a real API client implements the same methods."""

    platform: str
    label: str
    # The calls the platform allows (its documented limit): jobs pace their calls to it.
    rate_limit: RateLimit

    @abstractmethod
    def fetch_account(
        self, user_id: str | None = None, as_of: date | datetime | None = None
    ) -> object:
        """Return the account's payload (a JSON-like dict) as it stood at `as_of`, the app
        clock's now when None; a new account when user_id is None."""

    @abstractmethod
    def videos_with_hashtag(
        self, hashtag: str, cursor: int = 0, as_of: date | datetime | None = None
    ) -> dict:
        """One page of the videos posted by `as_of` (the clock's now when None) that carry the
        hashtag (given without its #), newest first: {"hashtag": ..., "videos": [video entries
        as in a payload], "cursor": the next page's cursor, or None after the last page}."""

    @abstractmethod
    def trending_hashtags(self, as_of: date | datetime | None = None, count: int = 10) -> list:
        """The platform's `count` trending hashtags on `as_of`'s day, without their #, the
        most trending first."""
