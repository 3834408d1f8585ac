"""Demo seeding as a job: demo accounts stored through the real pipeline a batch at a time,
optionally with weekly history (the accounts as they stood each week up to now), then every
follower band's standing ranked once, as `toker seed --history` does in one process.

The run is fixed when the job starts (the seed that makes the accounts, the moment the weeks
count back from, the likes minimum), so a job taken up again after its worker died stores
the same accounts: a batch is stored with the mark that it is done, in one transaction."""

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ...extensions import db
from .. import clock
from ..analytics import achievements
from ..ingestion import onboarding, seeding
from ..ingestion.platforms import PLATFORMS
from .base import Done, Item, Kind

MAX_ACCOUNTS = 100_000
MAX_WEEKS = 52
# Accounts stored per item: a transaction each, and the job's progress moves by one.
BATCH = 250


class SeedParams(BaseModel):
    """How many demo accounts to make, and how many weeks of history to give them."""

    count: Annotated[int, Field(strict=True, ge=1, le=MAX_ACCOUNTS)] = Field(
        200, description="Demo accounts to make (those the likes minimum rejects included)."
    )
    weeks: Annotated[int, Field(strict=True, ge=0, le=MAX_WEEKS)] = Field(
        0, description="Weeks of weekly history up to now: the accounts synced once a week."
    )
    platform: Literal[PLATFORMS] | None = Field(
        None, description="Only accounts of this platform (default: all platforms)."
    )


class SeedRun(SeedParams):
    """The parameters as stored: the run fixed when the job starts."""

    seed: int
    as_of: datetime
    min_likes: int


def prepare(params: SeedParams) -> SeedRun:
    """Fix the accounts (a seed), the moment the weeks count back from and the likes minimum."""
    return SeedRun(
        **params.model_dump(),
        seed=seeding.new_seed(),
        as_of=clock.now(),
        min_likes=onboarding.min_likes(),
    )


def items(params: dict) -> list[dict]:
    """Each week's accounts in batches, oldest week first, then the ranking."""
    run = SeedRun.model_validate(params)
    found: list[dict] = []
    for week in range(run.weeks, -1, -1):
        for start in range(0, run.count, BATCH):
            found.append({"week": week, "start": start, "size": min(BATCH, run.count - start)})
    found.append({"rank": True})
    for item in found:
        item["run"] = params
    return found


def describe(item: dict) -> str:
    if item.get("rank"):
        return "the standing of every follower band"
    first, last = item["start"] + 1, item["start"] + item["size"]
    when = "now" if item["week"] == 0 else f"{item['week']} week(s) ago"
    return f"demo accounts {first}-{last} as of {when}"


def run(item: Item) -> Done:
    """Store one batch of accounts, or rank the bands at the end."""
    value = item.value
    params = SeedRun.model_validate(value["run"])
    if value.get("rank"):
        ranked = achievements.award_standing(db.session, params.as_of)
        done = Done("standing ranked", tally={"profiles in their band's top 1 %": ranked})
        item.staged(db.session, done)
        db.session.commit()
        return done
    dones: list[Done] = []

    def staged(session, report: seeding.SeedReport) -> None:
        tally = {
            name: n
            for name, n in (
                ("created", report.created),
                ("updated", report.updated),
                ("rejected", report.rejected),
            )
            if n
        }
        dones.append(Done("batches stored", tally=tally))
        item.staged(session, dones[-1])

    seeding.seed_batch(
        value["start"],
        value["size"],
        seed=params.seed,
        min_likes=params.min_likes,
        as_of=params.as_of - timedelta(weeks=value["week"]),
        platform=params.platform,
        staged=staged,
    )
    return dones[-1]


SEED = Kind(
    name="seed",
    label="Seed demo accounts",
    params=SeedParams,
    prepare=prepare,
    items=items,
    describe=describe,
    run=run,
)
