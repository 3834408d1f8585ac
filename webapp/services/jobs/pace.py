"""Pacing a job's platform calls below each platform's rate limit.

Each platform states its limit (its connector's `rate_limit`, TOKER_PLATFORM_RATE_LIMITS
over it). A job spreads its calls to a platform evenly, one every `seconds / calls`, so that
no stretch of the limit's length ever holds more than its calls; calls to another platform
go meanwhile. The pace belongs to one run of one job: the runner waits for it (runner.py),
renewing its claim on long waits, so a paced job never holds anything but its own worker
thread, and other jobs run beside it.
"""

import math
from collections.abc import Callable

from flask import current_app

from ..ingestion.connectors import PLATFORMS, get_connector
from ..ingestion.connectors.base import RateLimit, parse_rate_limits


def rate_limits(config=None) -> dict[str, RateLimit]:
    """Each platform's limit: its connector's, or the one TOKER_PLATFORM_RATE_LIMITS sets."""
    config = current_app.config if config is None else config
    limits = {platform: get_connector(platform).rate_limit for platform in PLATFORMS}
    limits.update(parse_rate_limits(config.get("TOKER_PLATFORM_RATE_LIMITS") or "", PLATFORMS))
    return limits


def check_settings(config) -> None:
    """ValueError naming TOKER_PLATFORM_RATE_LIMITS when it cannot be read."""
    try:
        parse_rate_limits(config.get("TOKER_PLATFORM_RATE_LIMITS") or "", PLATFORMS)
    except ValueError as error:
        raise ValueError(f"TOKER_PLATFORM_RATE_LIMITS: {error}") from None


class Pace:
    """When the next call to each platform may go. `clock` gives seconds (monotonic)."""

    def __init__(self, limits: dict[str, RateLimit], clock: Callable[[], float]):
        self.limits = limits
        self.clock = clock
        self._next: dict[str, float] = {}

    def delay(self, platform: str) -> float:
        """Seconds to wait before the platform may be called again (0: now)."""
        return max(0.0, self._next.get(platform, -math.inf) - self.clock())

    def take(self, platform: str) -> None:
        """Count a call to the platform made now: the next one waits an interval."""
        limit = self.limits.get(platform)
        if limit is None:
            return
        now = self.clock()
        self._next[platform] = max(now, self._next.get(platform, now)) + limit.interval
