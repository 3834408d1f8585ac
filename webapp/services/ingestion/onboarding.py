"""The onboarding pipeline: connect -> validate -> clean and vectorise -> store.

One profile, its videos and its vector are written in one transaction; a rejection stores
nothing and says why.
"""

import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from flask import current_app
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from ...extensions import db
from ...models import Profile
from .. import clock
from ..accounts import audit
from .connectors import (
    Connector,
    ConnectorError,
    ConnectorRateLimited,
    FaultScript,
    MalformedResponse,
    get_connector,
)
from .platforms import LABELS, check_platform
from .processing import ProcessedProfile, process_payload
from .storage import Stored, store_profiles
from .validation import PayloadProblem, PayloadRejected, validate_payload

log = logging.getLogger(__name__)
T = TypeVar("T")
# Writes of the caller's that must commit with a stored profile or not at all (a job marks
# its item done): called with the session and the write's status, created or updated.
Staged = Callable[[Session, str], None]
# The first wait after a timeout; each later one doubles, plus up to this much jitter.
BACKOFF_SECONDS = 1.0


@dataclass
class Outcome:
    """What happened to one account: created, updated or rejected, with the details."""

    status: str  # "created", "updated" or "rejected"
    platform: str
    user_id: str | None
    profile_id: int | None = None
    problems: list[PayloadProblem] = field(default_factory=list)
    liked_count: int = 0
    shared_count: int = 0
    unclassified_count: int = 0
    # An accepted account: the profile as the write stored it (not attached to a session) and
    # the payload as received and stored, for an answer that shows it without reading it back.
    profile: Profile | None = field(default=None, repr=False)
    raw_payload: dict | None = field(default=None, repr=False)

    @property
    def accepted(self) -> bool:
        return self.status != "rejected"

    @property
    def reason(self) -> str | None:
        """Why the account was rejected, in one line; None when it was accepted."""
        return PayloadRejected(self.problems).reason if self.problems else None

    @property
    def summary(self) -> str:
        """What happened, in one line: created, updated, or rejected with the reason."""
        return self.status if self.accepted else f"rejected: {self.reason}"


def min_likes() -> int:
    """The configured minimum of number_of_likes for a profile to be stored."""
    return int(current_app.config["TOKER_MIN_LIKES"])


def prepare(platform: str, raw: object, minimum: int) -> ProcessedProfile:
    """Validate and process one payload; raises PayloadRejected with every problem."""
    payload = validate_payload(raw, minimum)
    return process_payload(platform, payload, raw)


@dataclass(frozen=True)
class Audit:
    """Who asks for a write and how the audit log names it ("connect" or "resync")."""

    actor: audit.Actor
    action: str = "connect"

    def record(self, target: str, detail: str) -> None:
        """An outcome that stored nothing, in a transaction of its own."""
        actor = self.actor
        audit.record(actor.name, self.action, target, detail, actor.address, actor.via)


def store_one(
    record: ProcessedProfile, audited: Audit | None = None, staged: Staged | None = None
) -> Stored:
    """Store one processed profile in its own transaction; nothing is kept if any write fails.

    With `audited`, the audit event of the write commits in the same transaction; so do the
    caller's `staged` writes, and an error they raise undoes the profile's write too.
    """
    for attempt in range(1, WRITE_TRIES + 1):
        try:
            (stored,) = store_profiles(db.session, [record])
            if audited is not None:
                audit.stage(
                    db.session,
                    audited.actor,
                    audited.action,
                    f"{record.platform}:{record.user_id}",
                    _status(stored),  # an accepted outcome's summary is its status
                )
            if staged is not None:
                staged(db.session, _status(stored))
            db.session.commit()
            return stored
        except DBAPIError as error:
            db.session.rollback()
            if attempt == WRITE_TRIES or not write_conflict(error):
                raise
            log.info("write of %s:%s tried again: %s", record.platform, record.user_id, error.orig)
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


# PostgreSQL ends one of two writes that wait on each other's rows (a deadlock: a video that
# another connect stored between this write's locking read of the catalogue and its upsert
# takes its lock out of order) or that a serializable read cannot order: the whole
# transaction was rolled back, so it is tried again as it was.
RETRIED_SQLSTATES = frozenset({"40P01", "40001"})
WRITE_TRIES = 3


def write_conflict(error: DBAPIError) -> bool:
    """Whether the database rolled the write back for a conflict with another write."""
    return getattr(error.orig, "sqlstate", None) in RETRIED_SQLSTATES


def _status(stored: Stored) -> str:
    return "created" if stored.created else "updated"


def _outcome(record: ProcessedProfile, stored: Stored) -> Outcome:
    return Outcome(
        status=_status(stored),
        platform=record.platform,
        user_id=record.user_id,
        profile_id=stored.profile_id,
        liked_count=record.liked_count,
        shared_count=record.shared_count,
        unclassified_count=record.unclassified_count,
        profile=Profile(**stored.columns),
        raw_payload=record.raw_payload,
    )


def submit_payload(
    platform: str, raw: object, audited: Audit | None = None, staged: Staged | None = None
) -> Outcome:
    """Validate, process and store a payload given directly (the API's POST /profiles).

    With `audited`, the outcome is written to the audit log: a stored profile's event in the
    same transaction as the profile, as are `staged` writes (see store_one).
    """
    check_platform(platform)
    user_id = raw.get("user_id") if isinstance(raw, dict) else None
    try:
        record = prepare(platform, raw, min_likes())
    except PayloadRejected as rejected:
        outcome = Outcome(
            "rejected",
            platform,
            user_id if isinstance(user_id, str) else None,
            problems=rejected.problems,
        )
        if audited is not None:
            audited.record(f"{platform}:{outcome.user_id}", outcome.summary)
        return outcome
    return _outcome(record, store_one(record, audited, staged))


def sleep(seconds: float) -> None:
    """Wait between two tries of a platform call (tests replace this so that they never wait)."""
    time.sleep(seconds)


_fault_script_lock = threading.Lock()


def _fault_script() -> FaultScript | None:
    """The app's TOKER_CONNECTOR_FAULTS script, one per app so that its threads share it."""
    spec = current_app.config.get("TOKER_CONNECTOR_FAULTS")
    if not spec:
        return None
    with _fault_script_lock:
        held = current_app.extensions.get("toker_fault_script")
        # A changed setting starts a fresh script rather than resuming the old one.
        if held is None or held[0] != spec:
            held = current_app.extensions["toker_fault_script"] = (spec, FaultScript.parse(spec))
    return held[1]


def _connector(platform: str) -> Connector:
    """The platform's connector with the app's simulated latency and faults."""
    config = current_app.config
    return get_connector(
        platform,
        latency=float(config.get("TOKER_CONNECTOR_LATENCY") or 0),
        fault_rate=float(config.get("TOKER_CONNECTOR_FAULT_RATE") or 0),
        faults=_fault_script(),
    )


def _retrying(who: str, tries: int, max_wait: float) -> Retrying:
    """Tries of a platform call: timeouts back off with jitter, rate limits wait as told."""
    backoff = wait_exponential_jitter(multiplier=BACKOFF_SECONDS, max=max_wait, jitter=1.0)

    def worth_retrying(error: BaseException) -> bool:
        if isinstance(error, ConnectorRateLimited):
            # Holding a request longer than max_wait helps nobody: say when to come back.
            return error.retry_after <= max_wait
        return isinstance(error, ConnectorError) and error.retryable

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception()
        if isinstance(error, ConnectorRateLimited):
            return max(0.0, error.retry_after)
        return backoff(state)

    def log_retry(state: RetryCallState) -> None:
        error = state.outcome.exception()
        log.warning(
            "%s: try %d of %d failed (%s); trying again in %.1f s",
            who,
            state.attempt_number,
            tries,
            error.message,
            state.upcoming_sleep,
        )

    return Retrying(
        retry=retry_if_exception(worth_retrying),
        stop=stop_after_attempt(tries),
        wait=wait,
        # Looked up on each wait so that tests can replace the module's sleep.
        sleep=lambda seconds: sleep(seconds),
        before_sleep=log_retry,
        reraise=True,
    )


def ask_platform(platform: str, who: str, call: Callable[[Connector], T]) -> T:
    """`call` the platform's connector (with the app's simulated latency and faults), retrying
    where that can help; `who` names the call in the log; errors carry the tries."""
    check_platform(platform)
    config = current_app.config
    connector = _connector(platform)
    tries = max(1, int(config["TOKER_CONNECTOR_RETRIES"]))
    max_wait = float(config["TOKER_CONNECTOR_MAX_WAIT"])
    attempt_number = 0
    try:
        for attempt in _retrying(who, tries, max_wait):
            with attempt:
                attempt_number = attempt.retry_state.attempt_number
                answer = call(connector)
    except ConnectorError as error:
        error.attempts = attempt_number
        raise
    return answer


def fetch_account(platform: str, user_id: str | None = None) -> dict:
    """Ask the platform for the account, retrying where that can help; errors carry the tries."""
    label = LABELS.get(platform, platform)
    raw = ask_platform(
        platform,
        f"{label} account {user_id or '(new)'}",
        lambda connector: connector.fetch_account(user_id),
    )
    if not isinstance(raw, dict):
        raise MalformedResponse(f"{label} answered with something that is not an account")
    return raw


def connect_account(
    platform: str,
    user_id: str | None = None,
    audited: Audit | None = None,
    staged: Staged | None = None,
) -> Outcome:
    """Run the whole pipeline for one account: fetch, validate, process, store.

    With `audited`, what happened goes to the audit log, a platform failure included (the
    ConnectorError is raised after it is written). `staged` writes commit with the stored
    profile (see store_one).
    """
    try:
        raw = fetch_account(platform, user_id)
    except ConnectorError as error:
        if audited is not None:
            audited.record(f"{platform}:{user_id or '(new)'}", f"failed: {error}")
        raise
    return submit_payload(platform, raw, audited, staged)


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
    problems: list[PayloadProblem] = field(default_factory=list)
    error: str | None = None
    outcome: Outcome | None = None

    @property
    def finished(self) -> bool:
        return self.outcome is not None or bool(self.problems) or self.error is not None

    @property
    def summary(self) -> str | None:
        """What happened once finished (failed, rejected or stored), in one line; else None."""
        if self.error is not None:
            return f"failed: {self.error}"
        if self.problems:
            return f"rejected: {PayloadRejected(self.problems).reason}"
        return self.outcome.summary if self.outcome is not None else None

    @property
    def next_step(self) -> int:
        return len(self.done) + 1


def run_steps(platform: str, user_id: str, upto: int, audited: Audit | None = None) -> StepReport:
    """Run the pipeline's first `upto` steps (1 fetch .. 4 store); only step 4 writes.

    The connector is deterministic per account, so each request can redo the earlier steps
    instead of keeping state between requests. With `audited`, a finished run (failed,
    rejected or stored) goes to the audit log.
    """
    check_platform(platform)
    report = StepReport(platform, user_id)
    target = f"{platform}:{user_id}"
    try:
        raw = fetch_account(platform, user_id)
    except ConnectorError as error:
        report.error = str(error)
        if audited is not None:
            audited.record(target, report.summary)
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
        if audited is not None:
            audited.record(target, report.summary)
        return report
    report.done.append("validate")
    if upto < 3:
        return report
    record = process_payload(platform, payload, raw)
    report.unclassified_count = record.unclassified_count
    report.done.append("vectorise")
    if upto < 4:
        return report
    report.outcome = _outcome(record, store_one(record, audited))
    report.done.append("store")
    return report


# How many ids of the fixed sequence the demo search tries; about one account in ten is
# under the default minimum, so a search ends within a few dozen.
DEMO_SEARCH = 300


@dataclass(frozen=True)
class DemoAccount:
    """An account the pipeline will reject today, for a demo of a rejection."""

    platform: str
    user_id: str
    likes_given: int
    reason: str


def rejected_demo_account(platform: str) -> DemoAccount | None:
    """The first account of a fixed sequence of ids in the platform's format that validation
    rejects today (with the configured likes minimum); None if none of them is."""
    check_platform(platform)
    return _first_rejected(platform, clock.now().date(), min_likes())


@functools.lru_cache(maxsize=64)
def _first_rejected(platform: str, day: date, minimum: int) -> DemoAccount | None:
    connector = get_connector(platform)  # the plain platform: no simulated latency or faults
    ids = random.Random(f"toker rejected demo {platform}")
    for _ in range(DEMO_SEARCH):
        user_id = connector.new_user_id(ids)
        try:
            raw = connector.fetch_account(user_id, as_of=day)
            validate_payload(raw, minimum)
        except ConnectorError:
            continue
        except PayloadRejected as rejected:
            likes = raw.get("number_of_likes") if isinstance(raw, dict) else None
            given = likes if isinstance(likes, int) else 0
            return DemoAccount(platform, user_id, given, rejected.reason)
    return None


def new_user_id(platform: str) -> str:
    """A fresh account id in the platform's format, for a demo connect without one."""
    check_platform(platform)
    return get_connector(platform).new_user_id()


__all__ = [
    "Audit",
    "ConnectorError",
    "DemoAccount",
    "Outcome",
    "Staged",
    "check_platform",
    "connect_account",
    "fetch_account",
    "prepare",
    "store_one",
    "submit_payload",
    "STEPS",
    "StepReport",
    "new_user_id",
    "rejected_demo_account",
    "run_steps",
]
