"""Platform connectors behind one interface, looked up by platform name."""

from .base import (
    Connector,
    ConnectorError,
    ConnectorRateLimited,
    ConnectorTimeout,
    MalformedResponse,
)
from .instagram import InstagramConnector
from .mock import Fault, FaultScript, parse_faults
from .tiktok import TikTokConnector
from .x import XConnector

CONNECTORS: dict[str, type[Connector]] = {
    "tiktok": TikTokConnector,
    "instagram": InstagramConnector,
    "x": XConnector,
}
PLATFORMS = tuple(CONNECTORS)


class UnknownPlatform(ValueError):
    """No connector exists for that platform name."""


def get_connector(platform: str, **options) -> Connector:
    """Return a connector for the platform; options set simulated latency and faults."""
    # The mocks take latency (seconds), fault_rate (0-1) and faults (a FaultScript, played first).
    try:
        cls = CONNECTORS[platform]
    except KeyError:
        raise UnknownPlatform(
            f"unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}"
        ) from None
    return cls(**options)


__all__ = [
    "CONNECTORS",
    "PLATFORMS",
    "Connector",
    "ConnectorError",
    "ConnectorRateLimited",
    "ConnectorTimeout",
    "Fault",
    "FaultScript",
    "MalformedResponse",
    "UnknownPlatform",
    "get_connector",
    "parse_faults",
]
