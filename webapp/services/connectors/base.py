"""The connector interface: how Toker asks a platform for an account's data."""

from abc import ABC, abstractmethod


class ConnectorError(Exception):
    """The platform could not give the account's data."""

    retryable = False


class ConnectorTimeout(ConnectorError):
    """The platform did not answer in time."""

    retryable = True


class ConnectorRateLimited(ConnectorError):
    """The platform refused the call for now; retry after `retry_after` seconds."""

    retryable = True

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class MalformedResponse(ConnectorError):
    """The platform answered with something that is not an account payload."""


class Connector(ABC):
    """One platform's client; a real API client implements the same method."""

    platform: str
    label: str

    @abstractmethod
    def fetch_account(self, user_id: str | None = None) -> object:
        """Return the account's payload (a JSON-like dict); a new account when user_id is None."""
