"""The onboarding pipeline: connect -> validate -> clean and vectorise -> store.

One profile, its videos and its vector are written in one transaction; a rejection stores
nothing and says why.
"""

from dataclasses import dataclass, field

from flask import current_app

from ..extensions import db
from .connectors import ConnectorError, MalformedResponse, get_connector
from .processing import ProcessedProfile, process_payload
from .storage import Stored, store_profiles
from .validation import PLATFORMS, PayloadRejected, Problem, validate_payload


class UnknownPlatformError(ValueError):
    """The platform named is not one Toker connects to."""


@dataclass
class Outcome:
    """What happened to one account: created, updated or rejected, with the details."""

    status: str  # "created", "updated" or "rejected"
    platform: str
    user_id: str | None
    profile_id: int | None = None
    problems: list[Problem] = field(default_factory=list)
    liked_count: int = 0
    shared_count: int = 0
    unclassified_count: int = 0

    @property
    def accepted(self) -> bool:
        return self.status != "rejected"

    @property
    def reason(self) -> str | None:
        """Why the account was rejected, in one line; None when it was accepted."""
        return PayloadRejected(self.problems).reason if self.problems else None


def check_platform(platform: str) -> str:
    """Return the platform name if Toker knows it, else raise UnknownPlatformError."""
    if platform not in PLATFORMS:
        raise UnknownPlatformError(
            f"unknown platform {platform!r}; choose one of {', '.join(PLATFORMS)}"
        )
    return platform


def min_likes() -> int:
    """The configured minimum of number_of_likes for a profile to be stored."""
    return int(current_app.config["TOKER_MIN_LIKES"])


def prepare(platform: str, raw: object, minimum: int) -> ProcessedProfile:
    """Validate and process one payload; raises PayloadRejected with every problem."""
    payload = validate_payload(raw, minimum)
    return process_payload(platform, payload, raw)


def store_one(record: ProcessedProfile) -> Stored:
    """Store one processed profile in its own transaction; nothing is kept if any write fails."""
    try:
        (stored,) = store_profiles(db.session, [record])
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return stored


def _outcome(record: ProcessedProfile, stored: Stored) -> Outcome:
    return Outcome(
        status="created" if stored.created else "updated",
        platform=record.platform,
        user_id=record.user_id,
        profile_id=stored.profile_id,
        liked_count=record.liked_count,
        shared_count=record.shared_count,
        unclassified_count=record.unclassified_count,
    )


def submit_payload(platform: str, raw: object) -> Outcome:
    """Validate, process and store a payload given directly (the API's POST /profiles)."""
    check_platform(platform)
    user_id = raw.get("user_id") if isinstance(raw, dict) else None
    try:
        record = prepare(platform, raw, min_likes())
    except PayloadRejected as rejected:
        return Outcome(
            "rejected",
            platform,
            user_id if isinstance(user_id, str) else None,
            problems=rejected.problems,
        )
    return _outcome(record, store_one(record))


def fetch_account(platform: str, user_id: str | None = None) -> dict:
    """Ask the platform's connector for the account; raises ConnectorError when it cannot."""
    check_platform(platform)
    config = current_app.config
    connector = get_connector(
        platform,
        latency=float(config.get("TOKER_CONNECTOR_LATENCY") or 0),
        fault_rate=float(config.get("TOKER_CONNECTOR_FAULT_RATE") or 0),
    )
    raw = connector.fetch_account(user_id)
    if not isinstance(raw, dict):
        raise MalformedResponse(f"{connector.label} answered with something that is not an account")
    return raw


def connect_account(platform: str, user_id: str | None = None) -> Outcome:
    """Run the whole pipeline for one account: fetch, validate, process, store."""
    raw = fetch_account(platform, user_id)
    return submit_payload(platform, raw)


STEPS = ("fetch", "validate", "vectorise", "store")


@dataclass
class StepReport:
    """How far a step-by-step onboarding got, for a progress view that advances per request."""

    platform: str
    user_id: str
    done: list[str] = field(default_factory=list)
    liked_count: int = 0
    shared_count: int = 0
    unclassified_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None
    outcome: Outcome | None = None

    @property
    def finished(self) -> bool:
        return self.outcome is not None or bool(self.problems) or self.error is not None

    @property
    def next_step(self) -> int:
        return len(self.done) + 1


def run_steps(platform: str, user_id: str, upto: int) -> StepReport:
    """Run the pipeline's first `upto` steps (1 fetch .. 4 store); only step 4 writes.

    The connector is deterministic per account, so each request can redo the earlier steps
    instead of keeping state between requests.
    """
    check_platform(platform)
    report = StepReport(platform, user_id)
    try:
        raw = fetch_account(platform, user_id)
    except ConnectorError as error:
        report.error = str(error)
        return report
    report.liked_count = len(raw.get("liked_videos") or [])
    report.shared_count = len(raw.get("shared_videos") or [])
    report.done.append("fetch")
    if upto < 2:
        return report
    try:
        payload = validate_payload(raw, min_likes())
    except PayloadRejected as rejected:
        report.problems = rejected.problems
        return report
    report.done.append("validate")
    if upto < 3:
        return report
    record = process_payload(platform, payload, raw)
    report.unclassified_count = record.unclassified_count
    report.done.append("vectorise")
    if upto < 4:
        return report
    report.outcome = _outcome(record, store_one(record))
    report.done.append("store")
    return report


def new_user_id(platform: str) -> str:
    """A fresh account id in the platform's format, for a demo connect without one."""
    check_platform(platform)
    return get_connector(platform).new_user_id()


__all__ = [
    "ConnectorError",
    "Outcome",
    "UnknownPlatformError",
    "check_platform",
    "connect_account",
    "fetch_account",
    "prepare",
    "store_one",
    "submit_payload",
    "STEPS",
    "StepReport",
    "new_user_id",
    "run_steps",
]
