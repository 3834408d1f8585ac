"""What a kind of job is: a few small functions the runner calls (runner.py), so that a new
kind (bulk connect, scheduled re-sync, hashtag syncs, seeding) is a module of its own that
says what its parameters are, which items they make and how one item is done, while the
runner does the rest for every kind alike: the order of items, progress, retries of a
platform that failed for now, cancellation, and taking a job over after a worker died."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ..accounts import audit
from ..ingestion.onboarding import Staged


class InvalidParams(ValueError):
    """A job cannot start with these parameters: `errors` lists every problem as (where,
    what), where is a path like profile_ids[3]."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{loc}: {msg}" if loc else msg for loc, msg in errors))
        self.errors = errors

    @classmethod
    def from_validation(cls, error: ValidationError) -> "InvalidParams":
        return cls([(where(e["loc"]), e["msg"]) for e in error.errors(include_url=False)])


class AlreadyActive(Exception):
    """A kind that runs one job at a time has one queued or running: `job_id`."""

    def __init__(self, job_id: int, message: str):
        super().__init__(message)
        self.job_id = job_id


def where(loc: Sequence) -> str:
    """pydantic's location of a problem as the API names it: ("profile_ids", 3) ->
    profile_ids[3]."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class Done:
    """How one item ended: an outcome the result counts (updated, rejected...) and, for one a
    person should look at, the reason."""

    outcome: str
    reason: str | None = None
    # Figures added to the job's counts beside the outcome's own ("new videos": 12).
    tally: dict[str, int] | None = None
    # What this item found, kept in the result under its name (a hashtag's video counts).
    detail: dict[str, int] | None = None


@dataclass(frozen=True)
class Item:
    """One item of a running job, as a kind's `run` gets it."""

    value: Any
    # Who started the job, as the audit log names the writes made for them.
    actor: audit.Actor
    # Hand it to the write that does the item (onboarding's `staged`): the item is marked done
    # in that write's transaction, so a job taken up again never does it twice.
    staged: Staged
    # Call it with a platform before each call to it: it waits until the platform's rate
    # limit allows one more (pace.py).
    pace: Callable[[str], None] = field(default=lambda platform: None)


@dataclass(frozen=True)
class Kind:
    """One kind of job."""

    name: str
    # What the job does, for people: "Re-sync profiles".
    label: str
    # The parameters' shape; the API's request body for this kind extends it.
    params: type[BaseModel]
    # Check the parameters against the data before the job starts (InvalidParams), and fix
    # what its items depend on, so that a job taken up again does the same items.
    prepare: Callable[[BaseModel], BaseModel]
    # The items of stored parameters, in the order they are done.
    items: Callable[[dict], Sequence[Any]]
    # An item as a problem in the result names it: "profile 5".
    describe: Callable[[Any], str]
    # Do one item in its own transaction; a platform that failed raises its ConnectorError.
    run: Callable[[Item], Done]
