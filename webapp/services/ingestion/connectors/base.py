"""The connector interface: how Toker asks a platform for an account's data."""

import math
from abc import ABC, abstractmethod
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


class Connector(ABC):
    """One platform's client; a real API client implements the same method."""

    platform: str
    label: str

    @abstractmethod
    def fetch_account(
        self, user_id: str | None = None, as_of: date | datetime | None = None
    ) -> object:
        """Return the account's payload (a JSON-like dict) as it stood at `as_of`, the app
        clock's now when None; a new account when user_id is None."""
