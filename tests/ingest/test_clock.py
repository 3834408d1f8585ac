"""The app's clock: TOKER_CLOCK, from the environment or an app's config, fixes "now"; without
it the clock is the real time."""

from datetime import UTC, date, datetime, timedelta

import pytest

from webapp import create_app
from webapp.services import clock

from ..factories import app_config


@pytest.mark.parametrize(
    "text, moment",
    [
        ("2027-03-04", datetime(2027, 3, 4, tzinfo=UTC)),
        ("2027-03-04T05:06:07Z", datetime(2027, 3, 4, 5, 6, 7, tzinfo=UTC)),
        ("2027-03-04T05:06:07+02:00", datetime(2027, 3, 4, 3, 6, 7, tzinfo=UTC)),
        (" 2027-03-04T05:06 ", datetime(2027, 3, 4, 5, 6, tzinfo=UTC)),
        (date(2027, 3, 4), datetime(2027, 3, 4, tzinfo=UTC)),
    ],
)
def test_clock_settings_are_read_as_utc(text, moment):
    parsed = clock.parse(text)
    assert parsed == moment and parsed.tzinfo == UTC


@pytest.mark.parametrize("text", ["tomorrow", "2027-13-01", "07/03/2027", ""])
def test_a_bad_clock_setting_says_what_it_accepts(text):
    with pytest.raises(ValueError, match="ISO date or datetime"):
        clock.parse(text)


def test_without_a_setting_the_clock_is_the_real_time(monkeypatch):
    monkeypatch.delenv("TOKER_CLOCK", raising=False)
    before = datetime.now(UTC)
    now = clock.now()
    assert before <= now <= datetime.now(UTC) and now.tzinfo == UTC


def test_the_environment_sets_the_clock_and_an_apps_config_overrides_it(monkeypatch, tmp_path):
    monkeypatch.setenv("TOKER_CLOCK", "2027-05-06T07:08:09Z")
    assert clock.now() == datetime(2027, 5, 6, 7, 8, 9, tzinfo=UTC)
    url = f"sqlite:///{tmp_path / 'toker.sqlite'}"
    from_env = create_app(app_config(url))
    with from_env.app_context():
        assert clock.now() == datetime(2027, 5, 6, 7, 8, 9, tzinfo=UTC)
    configured = create_app(app_config(url, TOKER_CLOCK="2025-01-02T03:04:05Z"))
    with configured.app_context():
        assert clock.now() == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    real_time = create_app(app_config(url, TOKER_CLOCK=""))
    with real_time.app_context():
        assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)


def test_an_app_with_a_bad_clock_setting_does_not_start(tmp_path):
    with pytest.raises(RuntimeError, match="TOKER_CLOCK: 'next week' is not an ISO date"):
        create_app(app_config(f"sqlite:///{tmp_path / 'toker.sqlite'}", TOKER_CLOCK="next week"))


def test_a_date_fixes_the_day_and_keeps_the_real_time_of_day(monkeypatch):
    """TOKER_CLOCK=2025-01-02: that day, at the real time of day, so the clock still advances
    (syncs follow one another)."""
    monkeypatch.setenv("TOKER_CLOCK", "2025-01-02")
    before = datetime.now(UTC)
    first = clock.now()
    second = clock.now()
    assert first.date() == date(2025, 1, 2) and first.tzinfo == UTC
    of_day = first - datetime(2025, 1, 2, tzinfo=UTC)
    real_of_day = before - before.replace(hour=0, minute=0, second=0, microsecond=0)
    assert timedelta(0) <= of_day - real_of_day < timedelta(seconds=5)
    assert second > first
