"""Platform connectors behind one interface, looked up by platform name."""

from ..platforms import PLATFORMS, UnknownPlatform, check_platform  # noqa: F401 (UnknownPlatform: what get_connector raises)
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
assert tuple(CONNECTORS) == PLATFORMS, "a connector for each platform, in the same order"


def get_connector(platform: str, **options) -> Connector:
    """Return a connector for the platform (UnknownPlatform if there is none); options set
    simulated latency and faults."""
    # The mocks take latency (seconds), fault_rate (0-1) and faults (a FaultScript, played first).
    return CONNECTORS[check_platform(platform)](**options)


__all__ = [
    "CONNECTORS",
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
