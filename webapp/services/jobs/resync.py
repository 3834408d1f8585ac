"""Re-sync of chosen profiles: each account is fetched again from its platform and updated in
place through the onboarding pipeline, the same call as the API's connect."""

from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy import select

from ...extensions import db
from ...models import MAX_ID, Profile
from ..ingestion import onboarding
from .base import Done, InvalidParams, Item, Kind

MAX_PROFILES = 10_000
# A start refused for missing profiles names this many of them at most.
MISSING_NAMED = 20


class ResyncParams(BaseModel):
    """The profiles to re-sync."""

    profile_ids: list[Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]] = Field(
        min_length=1,
        max_length=MAX_PROFILES,
        description="The stored profiles to re-sync, in this order, each named once.",
        json_schema_extra={"uniqueItems": True},
    )

    @field_validator("profile_ids")
    @classmethod
    def _each_once(cls, ids: list[int]) -> list[int]:
        seen: dict[int, int] = {}
        for index, pk in enumerate(ids):
            if pk in seen:
                raise PydanticCustomError(
                    "repeated",
                    "names profile {pk} twice (at {first} and {again})",
                    {"pk": pk, "first": seen[pk], "again": index},
                )
            seen[pk] = index
        return ids


def prepare(params: ResyncParams) -> ResyncParams:
    """Refuse ids that name no stored profile, each named where it is."""
    ids = params.profile_ids
    stored = set()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        stored.update(db.session.scalars(select(Profile.id).where(Profile.id.in_(chunk))))
    db.session.commit()  # ends the read: the job's own transactions follow
    missing = [(index, pk) for index, pk in enumerate(ids) if pk not in stored]
    if missing:
        raise InvalidParams(
            [(f"profile_ids[{index}]", f"no profile has id {pk}") for index, pk in missing][
                :MISSING_NAMED
            ]
        )
    return params


def items(params: dict) -> list[int]:
    return list(params["profile_ids"])


def describe(profile_id: Any) -> str:
    return f"profile {profile_id}"


def run(item: Item) -> Done:
    """Fetch the account again and store it; a rejection leaves the stored profile as it was."""
    account = db.session.execute(
        select(Profile.platform, Profile.user_id, Profile.username).where(Profile.id == item.value)
    ).first()
    db.session.commit()  # no read transaction stays open while the platform answers
    if account is None:
        return Done("gone", "it was deleted after the job started")
    outcome = onboarding.connect_account(
        account.platform,
        account.user_id,
        onboarding.Audit(item.actor, "resync"),
        item.staged,
    )
    if not outcome.accepted:
        return Done(
            "rejected",
            f"{account.platform} @{account.username} no longer passes the rules, so the "
            f"stored profile is unchanged: {outcome.reason}",
        )
    return Done(outcome.status)


RESYNC = Kind(
    name="resync",
    label="Re-sync profiles",
    params=ResyncParams,
    prepare=prepare,
    items=items,
    describe=describe,
    run=run,
)
