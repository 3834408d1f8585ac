"""The app's clock: the real time, or the day or moment TOKER_CLOCK sets.

The mock platforms answer for an account as it stood on a day, so a re-sync days later shows
how it changed. Tests and demos move that day by setting TOKER_CLOCK instead of waiting for
days to pass; whatever asks the app for the current time of a sync asks here, so that it
moves with them. A datetime fixes the moment. A date fixes the day and keeps the real time of
day, so syncs still follow one another in time while every account is the one of that day
(at midnight the time of day starts again on the same day).
"""

import os
from datetime import UTC, date, datetime

from flask import current_app, has_app_context

_EXAMPLES = "an ISO date or datetime such as 2026-12-07 or 2026-12-07T09:30:00Z"


def parse(value: str | date | datetime) -> datetime:
    """A clock setting as an aware UTC datetime: a date means its midnight (UTC), a naive
    datetime is read as UTC; ValueError, saying what is accepted, for anything else."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not {_EXAMPLES}") from None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ValueError(f"{value!r} is not {_EXAMPLES}")


def _setting() -> str | date | datetime | None:
    # Inside an app its config decides (the environment was read into it, a test config
    # overrides both); a connector used on its own reads the environment.
    if has_app_context():
        return current_app.config.get("TOKER_CLOCK") or None
    return os.environ.get("TOKER_CLOCK") or None


def _is_day(setting: str | date | datetime) -> bool:
    if isinstance(setting, str):
        return len(setting.strip()) == 10  # YYYY-MM-DD
    return not isinstance(setting, datetime)


def now() -> datetime:
    """The current time in UTC: with TOKER_CLOCK a datetime, that moment; a date, that day at
    the real time of day (see the module's docstring); unset, the real time."""
    setting = _setting()
    real = datetime.now(UTC)
    if setting is None:
        return real
    if not _is_day(setting):
        return parse(setting)
    midnight = real.replace(hour=0, minute=0, second=0, microsecond=0)
    return parse(setting) + (real - midnight)
