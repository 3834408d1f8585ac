"""Shortlists: named lists of profiles shared with the team. Each member carries a note, tags
and a status, and the profile's latest snapshot when it was added, so that what changed since
(followers, engagement rate, interest drift) is read against that snapshot. Every write is
audited in its own transaction."""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import (
    LIST_STATUSES,
    ListMember,
    Profile,
    ProfileSnapshot,
    Shortlist,
    is_valid_id,
    utcnow,
)
from ..accounts import audit
from ..catalogue import export, search
from ..catalogue.profiles import SUMMARY_NAMES, UnknownProfiles, shares_of
from ..ingestion.taxonomy import CATEGORIES
from ..ingestion.vectors import unpack_weights
from ..live.sql import json_list_has, upsert_statement
from . import InvalidValue

MAX_NAME = 100
MAX_DESCRIPTION = 2_000
MAX_NOTE = 2_000
MAX_TAGS = 20
MAX_TAG = 32
# Profiles added in one request.
MAX_ADD = 1_000
STATUSES = LIST_STATUSES
# What an add refused for an unknown profile did (profiles.UnknownProfiles, shared with the
# table's bulk actions).
ADD_REFUSED = "nothing was added"
# How a list's members may be sorted. Names, platform, status and when added go ascending
# unless told; the numbers (followers, engagement rate, the change since added) descending.
MEMBER_SORTS = ("added", "username", "platform", "status", "followers", "engagement", "change")
ASCENDING_FIRST = frozenset({"added", "username", "platform", "status"})
DEFAULT_MEMBER_SORT = "added"
MEMBERS_PER_PAGE = 50
# The profile columns (catalogue.columns) a list's table shows between the username and the
# list's own columns when none are chosen.
DEFAULT_COLUMNS = ("platform", "followers")

_members = ListMember.__table__
_snapshots = ProfileSnapshot.__table__
_profiles = Profile.__table__
# The profile fields every member carries (the API's ListMember).
_BASE_FIELDS = ("username", "platform", "followers_count", "engagement_rate")


class ListNotFound(LookupError):
    """No list has that id."""

    def __init__(self, list_id: int):
        super().__init__(f"No list has id {list_id}.")
        self.list_id = list_id


class MemberNotFound(LookupError):
    """The profile is not on the list."""

    def __init__(self, list_id: int, profile_id: int):
        super().__init__(f"Profile {profile_id} is not on list {list_id}.")


class NameTaken(ValueError):
    """Another list has that name already."""

    def __init__(self, name: str):
        super().__init__(f"A list named {name!r} exists already: choose another name.")


# --- values ------------------------------------------------------------------------------------


def _text(field: str, value) -> str:
    """The value as text; InvalidValue when it holds a NUL character, which PostgreSQL cannot
    store in a text column."""
    text = str(value)
    if "\x00" in text:
        raise InvalidValue(field, "must not contain a NUL character (\\u0000)")
    return text


def clean_name(value: str) -> str:
    """A list's name without surrounding spaces; InvalidValue when empty or too long."""
    name = " ".join(_text("name", value).split())
    if not name:
        raise InvalidValue("name", "must not be empty")
    if len(name) > MAX_NAME:
        raise InvalidValue("name", f"must be at most {MAX_NAME} characters")
    return name


def clean_description(value: str) -> str:
    """A description without surrounding spaces; InvalidValue when too long."""
    text = _text("description", value).strip()
    if len(text) > MAX_DESCRIPTION:
        raise InvalidValue("description", f"must be at most {MAX_DESCRIPTION} characters")
    return text


def clean_note(value: str) -> str:
    """A member's note without surrounding spaces; InvalidValue when too long."""
    text = _text("note", value).strip()
    if len(text) > MAX_NOTE:
        raise InvalidValue("note", f"must be at most {MAX_NOTE} characters")
    return text


def clean_tag(value: str) -> str:
    """One tag as stored: lower case, inner spaces single; InvalidValue when empty, too long
    or holding a comma (the pages and CSV separate tags with commas)."""
    tag = " ".join(_text("tag", value).split()).lower()
    if not tag:
        raise InvalidValue("tag", "must not be empty")
    if len(tag) > MAX_TAG:
        raise InvalidValue("tag", f"must be at most {MAX_TAG} characters")
    if "," in tag:
        raise InvalidValue("tag", "must not contain a comma")
    return tag


def clean_tags(values: Iterable[str]) -> list[str]:
    """Tags as stored: each cleaned, repeats dropped, in their first order; at most MAX_TAGS.
    InvalidValue names the tag at fault as tags[i]."""
    tags = []
    for index, value in enumerate(values):
        try:
            tags.append(clean_tag(value))
        except InvalidValue as error:
            raise InvalidValue(f"tags[{index}]", error.message) from None
    tags = list(dict.fromkeys(tags))
    if len(tags) > MAX_TAGS:
        raise InvalidValue("tags", f"must hold at most {MAX_TAGS} tags")
    return tags


def split_tags(text: str) -> list[str]:
    """Tags typed as one line, separated by commas (a form's field)."""
    return clean_tags(part for part in text.split(",") if part.strip())


def clean_status(value: str) -> str:
    """A member's status; InvalidValue when not one of STATUSES."""
    if value not in STATUSES:
        raise InvalidValue("status", f"must be one of {', '.join(STATUSES)}, not {value!r}")
    return value


# --- lists -------------------------------------------------------------------------------------


def get_list(list_id: int) -> Shortlist:
    """The list, read afresh; ListNotFound."""
    found = (
        db.session.get(Shortlist, list_id, populate_existing=True) if is_valid_id(list_id) else None
    )
    if found is None:
        raise ListNotFound(list_id)
    return found


def _member_count(list_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(_members).where(_members.c.list_id == list_id)
    )


def list_summary(found: Shortlist, member_count: int | None = None) -> dict:
    """A list as the API answers it without its members (schemas.ListSummary)."""
    if member_count is None:
        member_count = _member_count(found.id)
    return {
        "id": found.id,
        "name": found.name,
        "description": found.description,
        "created_by": {"id": found.created_by_id, "name": found.created_by},
        "created_at": found.created_at.isoformat(),
        "updated_at": found.updated_at.isoformat(),
        "member_count": member_count,
    }


def all_lists(page: int = 1, per_page: int = 20) -> tuple[list[dict], int]:
    """One page of the lists by name, each with its member count, and how many there are."""
    counts = (
        select(_members.c.list_id, func.count().label("members"))
        .group_by(_members.c.list_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Shortlist, func.coalesce(counts.c.members, 0))
        .outerjoin(counts, counts.c.list_id == Shortlist.id)
        .order_by(Shortlist.name, Shortlist.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    total = db.session.scalar(select(func.count()).select_from(Shortlist)) or 0
    return [list_summary(found, count) for found, count in rows], total


def _name_free(name: str, but: int | None = None) -> None:
    query = select(Shortlist.id).where(Shortlist.name == name)
    if but is not None:
        query = query.where(Shortlist.id != but)
    if db.session.scalar(query) is not None:
        raise NameTaken(name)


def _commit_or_name_taken(name: str) -> None:
    """Commit; a name taken meanwhile by another writer is NameTaken, nothing written."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise NameTaken(name) from None


def create_list(
    name: str, actor: audit.Actor, description: str = "", user_id: int | None = None
) -> Shortlist:
    """Make a list; NameTaken when another list has the name, InvalidValue for a bad value."""
    found = _new_list(name, actor, description, user_id)
    _commit_or_name_taken(found.name)
    return found


def create_list_of(
    name: str,
    actor: audit.Actor,
    profile_ids: Sequence[int],
    description: str = "",
    user_id: int | None = None,
) -> Shortlist:
    """Make a list holding these profiles (a roster saved), in one transaction: NameTaken,
    InvalidValue or UnknownProfiles (naming every id that is not a stored profile) leave
    nothing written."""
    wanted = _wanted(profile_ids)
    snapshot_of = _snapshots_of(wanted)
    found = _new_list(name, actor, description, user_id)  # cleans and checks the name
    if wanted:
        _insert_members(found.id, wanted, snapshot_of, actor, list_known=False)
    _commit_or_name_taken(found.name)
    return found


def _new_list(name: str, actor: audit.Actor, description: str, user_id: int | None) -> Shortlist:
    """A new list added to the session and audited, not committed."""
    name, description = clean_name(name), clean_description(description)
    _name_free(name)
    now = utcnow()
    found = Shortlist(
        name=name,
        description=description,
        created_by_id=user_id,
        created_by=actor.name[:64],
        created_at=now,
        updated_at=now,
    )
    db.session.add(found)
    db.session.flush()
    audit.stage(db.session, actor, "list-created", f"list {found.id}", name)
    return found


def update_list(
    list_id: int, actor: audit.Actor, name: str | None = None, description: str | None = None
) -> Shortlist:
    """Rename a list or change its description (None leaves a field as it is)."""
    found = get_list(list_id)
    changes = []
    if name is not None:
        name = clean_name(name)
        if name != found.name:
            _name_free(name, but=list_id)
            changes.append(f"name {found.name!r} -> {name!r}")
            found.name = name
    if description is not None:
        description = clean_description(description)
        if description != found.description:
            changes.append("description")
            found.description = description
    if changes:
        found.updated_at = utcnow()
        audit.stage(db.session, actor, "list-updated", f"list {list_id}", "; ".join(changes))
        _commit_or_name_taken(found.name)
    return found


def delete_list(list_id: int, actor: audit.Actor) -> None:
    """Delete a list and its members (the profiles stay); ListNotFound."""
    found = get_list(list_id)
    name, count = found.name, _member_count(list_id)
    db.session.execute(delete(_members).where(_members.c.list_id == list_id))
    db.session.execute(delete(Shortlist.__table__).where(Shortlist.__table__.c.id == list_id))
    audit.stage(db.session, actor, "list-deleted", f"list {list_id}", f"{name} ({count} members)")
    db.session.commit()
    db.session.expunge(found)


def _touch(list_id: int) -> None:
    table = Shortlist.__table__
    db.session.execute(update(table).where(table.c.id == list_id).values(updated_at=utcnow()))


# --- members -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Added:
    """What a bulk add did: the profiles added, and those on the list already (left as they
    were), each in the order asked."""

    added: list[int]
    already: list[int]


def _latest_snapshot_id():
    """The id of a profile's latest snapshot, for each row that names Profile.id."""
    return (
        select(_snapshots.c.id)
        .where(_snapshots.c.profile_id == Profile.id)
        .order_by(_snapshots.c.taken_at.desc(), _snapshots.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def add_members(list_id: int, profile_ids: Sequence[int], actor: audit.Actor) -> Added:
    """Add profiles to a list, each with its latest snapshot. All or nothing: UnknownProfiles
    names every id that is not a stored profile, and then nothing is added. Profiles on the
    list already keep their note, tags, status and snapshot."""
    get_list(list_id)
    wanted = _wanted(profile_ids)
    snapshot_of = _snapshots_of(wanted)
    present = set(
        db.session.scalars(
            select(_members.c.profile_id).where(
                _members.c.list_id == list_id, _members.c.profile_id.in_(wanted)
            )
        )
    )
    added = [pk for pk in wanted if pk not in present]
    already = [pk for pk in wanted if pk in present]
    if added:
        _insert_members(list_id, added, snapshot_of, actor)
    db.session.commit()
    return Added(added, already)


def _wanted(profile_ids: Sequence[int]) -> list[int]:
    """The ids asked, each once, in the order asked; InvalidValue past MAX_ADD."""
    wanted = list(dict.fromkeys(profile_ids))
    if len(wanted) > MAX_ADD:
        raise InvalidValue("profile_ids", f"must hold at most {MAX_ADD} ids")
    return wanted


def _snapshots_of(wanted: list[int]) -> dict[int, int | None]:
    """Each profile's latest snapshot id; UnknownProfiles naming every id that is not a
    stored profile."""
    valid = [pk for pk in wanted if is_valid_id(pk)]
    rows = db.session.execute(
        select(Profile.id, _latest_snapshot_id()).where(Profile.id.in_(valid))
    ).all()
    snapshot_of = dict(rows)
    missing = [pk for pk in wanted if pk not in snapshot_of]
    if missing:
        raise UnknownProfiles(missing, ADD_REFUSED)
    return snapshot_of


def _insert_members(
    list_id: int,
    added: list[int],
    snapshot_of: dict[int, int | None],
    actor: audit.Actor,
    list_known: bool = True,
) -> None:
    """Insert new members with their snapshots and audit it, not committed; a profile deleted
    since it was read rolls everything back (UnknownProfiles). `list_known`: the list was
    committed before (else it goes with the rollback)."""
    now = utcnow()
    statement = upsert_statement(db.session, _members).on_conflict_do_nothing(
        index_elements=["list_id", "profile_id"]
    )
    try:
        db.session.execute(
            statement,
            [
                {
                    "list_id": list_id,
                    "profile_id": pk,
                    "note": "",
                    "tags": [],
                    "status": "candidate",
                    "added_at": now,
                    "added_by": actor.name[:64],
                    "snapshot_id": snapshot_of[pk],
                }
                for pk in added
            ],
        )
    except IntegrityError:
        # A profile (or the list) was deleted since it was read: nothing is added.
        db.session.rollback()
        if list_known:
            get_list(list_id)
        gone = set(added) - set(db.session.scalars(select(Profile.id).where(Profile.id.in_(added))))
        raise UnknownProfiles([pk for pk in added if pk in gone] or added, ADD_REFUSED) from None
    _touch(list_id)
    audit.stage(
        db.session,
        actor,
        "list-members-added",
        f"list {list_id}",
        f"profiles {', '.join(str(pk) for pk in added)}",
    )


def _get_member(list_id: int, profile_id: int) -> ListMember:
    get_list(list_id)
    member = (
        db.session.get(ListMember, (list_id, profile_id), populate_existing=True)
        if is_valid_id(profile_id)
        else None
    )
    if member is None:
        raise MemberNotFound(list_id, profile_id)
    return member


def update_member(
    list_id: int,
    profile_id: int,
    actor: audit.Actor,
    note: str | None = None,
    tags: Sequence[str] | None = None,
    status: str | None = None,
) -> dict:
    """Change a member's note, tags or status (None leaves one as it is); the member as
    `members` shows it. ListNotFound, MemberNotFound, InvalidValue."""
    member = _get_member(list_id, profile_id)
    changes = []
    if note is not None:
        note = clean_note(note)
        if note != member.note:
            member.note = note
            changes.append("note")
    if tags is not None:
        tags = clean_tags(tags)
        if tags != list(member.tags):
            member.tags = tags
            changes.append(f"tags {', '.join(tags) or '(none)'}")
    if status is not None:
        status = clean_status(status)
        if status != member.status:
            changes.append(f"status {member.status} -> {status}")
            member.status = status
    if changes:
        _touch(list_id)
        audit.stage(
            db.session,
            actor,
            "list-member-updated",
            f"list {list_id}",
            f"profile {profile_id}: {'; '.join(changes)}",
        )
        db.session.commit()
    return one_member(list_id, profile_id)


def remove_member(list_id: int, profile_id: int, actor: audit.Actor) -> None:
    """Take a profile off a list (the profile stays); ListNotFound, MemberNotFound."""
    _get_member(list_id, profile_id)
    db.session.execute(
        delete(_members).where(_members.c.list_id == list_id, _members.c.profile_id == profile_id)
    )
    _touch(list_id)
    audit.stage(
        db.session, actor, "list-member-removed", f"list {list_id}", f"profile {profile_id}"
    )
    db.session.commit()


# --- members and what changed ------------------------------------------------------------------


def _delta(before: float, now: float) -> dict:
    return {
        "from": before,
        "to": now,
        "change": now - before,
        "relative": (now - before) / before if before else None,
    }


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 - the cosine of two interest vectors: 0 when the mix kept its direction, 1 when they
    share nothing (or one is empty)."""
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    cosine = float(a @ b) / norms if norms else 0.0
    return round(max(0.0, 1.0 - cosine), 12)


def _changes(base, latest) -> dict | None:
    """What changed from the snapshot when the member was added to the profile's latest;
    None when the first is gone (or never was)."""
    if base is None or latest is None:
        return None
    return {
        "since": base.taken_at.isoformat(),
        "latest": latest.taken_at.isoformat(),
        "followers_count": _delta(base.followers_count, latest.followers_count),
        "engagement_rate": _delta(base.engagement_rate, latest.engagement_rate),
        "interest_drift": cosine_distance(
            unpack_weights(base.weights), unpack_weights(latest.weights)
        ),
    }


@dataclass(frozen=True)
class MemberQuery:
    """Which members of a list to show and in what order: text in the username or display
    name, a platform, a status, a tag, a sort (MEMBER_SORTS) and a page."""

    q: str = ""
    platform: str | None = None
    status: str | None = None
    tag: str | None = None
    sort: str = DEFAULT_MEMBER_SORT
    order: str = "asc"
    page: int = 1
    per_page: int = MEMBERS_PER_PAGE


def _followers_change():
    """The member's followers in the profile's latest snapshot minus those in the snapshot
    it was added with (what the page shows as "Since added"); NULL when either is missing."""
    base = _snapshots.alias("added_snapshot")
    latest = (
        select(_snapshots.c.followers_count)
        .where(_snapshots.c.profile_id == ListMember.profile_id)
        .order_by(_snapshots.c.taken_at.desc(), _snapshots.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    at_adding = (
        select(base.c.followers_count).where(base.c.id == ListMember.snapshot_id).scalar_subquery()
    )
    return latest - at_adding


def _sort_key(sort: str):
    """The SQL expression a sort name orders by."""
    if sort == "status":
        # The order a member moves through, not the alphabet's.
        return case({status: rank for rank, status in enumerate(STATUSES)}, value=ListMember.status)
    if sort == "change":
        return _followers_change()
    return {
        "added": ListMember.added_at,
        "username": Profile.username,
        "platform": Profile.platform,
        "followers": Profile.followers_count,
        "engagement": Profile.engagement_rate,
    }[sort]


def _member_conditions(list_id: int, query: MemberQuery) -> list:
    conditions = [ListMember.list_id == list_id]
    if query.q:
        # The same match as the profiles table's search.
        conditions.append(
            ListMember.profile_id.in_(search.profile_ids(db.session, query.q.lower()))
        )
    if query.platform:
        conditions.append(Profile.platform == query.platform)
    if query.status:
        conditions.append(ListMember.status == query.status)
    if query.tag:
        conditions.append(json_list_has(db.session, ListMember.tags, clean_tag(query.tag)))
    return conditions


def _member_rows(
    list_id: int,
    query: MemberQuery | None = None,
    profile_id: int | None = None,
    paged: bool = False,
    fields: Sequence[str] = (),
    interests: bool = False,
):
    """The members' rows that `query` chooses, in its order (a member without a known value
    last either way, then the earliest added), one page of them when `paged`; with the
    profile summary `fields` asked (catalogue.profiles.SUMMARY_NAMES) and, with `interests`,
    the interest vector, read in the same statement."""
    query = query or MemberQuery()
    latest = _latest_snapshot_id().label("latest_snapshot_id")
    key = _sort_key(query.sort)
    key = (key.desc() if query.order == "desc" else key.asc()).nulls_last()
    extra = [_profiles.c[name] for name in _extra_fields(fields)]
    if interests:
        extra.append(_profiles.c.vector)
    statement = (
        select(
            ListMember,
            Profile.username,
            Profile.platform,
            Profile.followers_count,
            Profile.engagement_rate,
            latest,
            *extra,
        )
        .join(Profile, Profile.id == ListMember.profile_id)
        .where(*_member_conditions(list_id, query))
        .order_by(key, ListMember.added_at, ListMember.profile_id)
    )
    if profile_id is not None:
        statement = statement.where(ListMember.profile_id == profile_id)
    if paged:
        statement = statement.limit(query.per_page).offset((query.page - 1) * query.per_page)
    return db.session.execute(statement).all()


def _member_total(list_id: int, query: MemberQuery) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ListMember)
        .join(Profile, Profile.id == ListMember.profile_id)
        .where(*_member_conditions(list_id, query))
    )


def _snapshots_by_id(ids: set[int]) -> dict[int, object]:
    if not ids:
        return {}
    rows = db.session.execute(select(_snapshots).where(_snapshots.c.id.in_(ids))).all()
    return {row.id: row for row in rows}


def _extra_fields(fields: Sequence[str]) -> list[str]:
    """The summary fields asked that a member does not carry already, each once; ValueError
    for one that is not a summary field."""
    unknown = [name for name in fields if name not in SUMMARY_NAMES]
    if unknown:
        raise ValueError(f"not summary fields: {', '.join(unknown)}")
    return [name for name in dict.fromkeys(fields) if name not in (*_BASE_FIELDS, "id")]


def _as_members(rows, fields: Sequence[str] = (), interests: bool = False) -> list[dict]:
    """The members as dicts (the API's ListMember), each with the summary `fields` asked and,
    with `interests`, every category's share under "interests"."""
    ids = {pk for row in rows for pk in (row[0].snapshot_id, row.latest_snapshot_id) if pk}
    snapshots = _snapshots_by_id(ids)
    extra = _extra_fields(fields)
    found = []
    for row in rows:
        member = row[0]
        values = row._mapping
        more = {}
        for name in extra:
            value = values[name]
            more[name] = value.isoformat() if hasattr(value, "isoformat") else value
        if interests:
            more["interests"] = shares_of(values["vector"])
        found.append(
            {
                **more,
                "profile_id": member.profile_id,
                "username": row.username,
                "platform": row.platform,
                "followers_count": row.followers_count,
                "engagement_rate": row.engagement_rate,
                "note": member.note,
                "tags": list(member.tags),
                "status": member.status,
                "added_at": member.added_at.isoformat(),
                "added_by": member.added_by,
                "changes": _changes(
                    snapshots.get(member.snapshot_id), snapshots.get(row.latest_snapshot_id)
                ),
            }
        )
    return found


def members(
    list_id: int,
    query: MemberQuery | None = None,
    fields: Sequence[str] = (),
    interests: bool = False,
) -> list[dict]:
    """Every member `query` chooses (all pages), in its order (by default the earliest added
    first), each with its profile's name, platform, followers and engagement rate now (and
    the summary `fields` asked, every share with `interests`) and what changed since it was
    added. ListNotFound."""
    get_list(list_id)
    rows = _member_rows(list_id, query, fields=fields, interests=interests)
    return _as_members(rows, fields, interests)


def members_page(list_id: int, query: MemberQuery, fields: Sequence[str] = ()) -> dict:
    """One page of the members `query` chooses, in its order (each with the summary `fields`
    asked), with how many it chooses in all: {"items", "total", "page", "per_page"}.
    Filters, sort and paging run in the database. ListNotFound."""
    get_list(list_id)
    return {
        "items": _as_members(_member_rows(list_id, query, paged=True, fields=fields), fields),
        "total": _member_total(list_id, query),
        "page": query.page,
        "per_page": query.per_page,
    }


def one_member(list_id: int, profile_id: int, fields: Sequence[str] = ()) -> dict:
    """One member as `members` shows it (with the summary `fields` asked); ListNotFound,
    MemberNotFound."""
    rows = _member_rows(list_id, profile_id=profile_id, fields=fields)
    if not rows:
        get_list(list_id)
        raise MemberNotFound(list_id, profile_id)
    return _as_members(rows, fields)[0]


def list_detail(found: Shortlist, query: MemberQuery | None = None) -> dict:
    """A list with one page of its members as the API answers it (schemas.ListDetail):
    `member_count` counts the whole list, `total` the members the filters choose."""
    shown = members_page(found.id, query or MemberQuery())
    return {
        **list_summary(found),
        "members": shown["items"],
        "page": shown["page"],
        "per_page": shown["per_page"],
        "total": shown["total"],
    }


# --- export ------------------------------------------------------------------------------------

# What a list adds to a profile's fields in an export: the member's own fields, and what
# changed since it was added (in CSV flattened into columns, in JSON the "changes" object).
MEMBER_FIELDS = ("status", "tags", "note", "added_at", "added_by")
CHANGE_COLUMNS = (
    "since",
    "followers_from",
    "followers_change",
    "followers_relative",
    "engagement_rate_from",
    "engagement_rate_change",
    "interest_drift",
)


def export_fields(keys: Sequence[str] | None) -> tuple[str, ...]:
    """The profile fields an export carries for the chosen column keys, as the profile
    export's (catalogue.export.fields_of: the identity, then the chosen columns' fields, or
    every summary field when none were chosen), the profile's id as profile_id."""
    return tuple("profile_id" if name == "id" else name for name in export.fields_of(keys))


def _flat_changes(member: dict) -> dict:
    changes = member["changes"] or {}
    followers = changes.get("followers_count") or {}
    rate = changes.get("engagement_rate") or {}
    return {
        "since": changes.get("since"),
        "followers_from": followers.get("from"),
        "followers_change": followers.get("change"),
        "followers_relative": followers.get("relative"),
        "engagement_rate_from": rate.get("from"),
        "engagement_rate_change": rate.get("change"),
        "interest_drift": changes.get("interest_drift"),
    }


def members_csv(shown: list[dict], fields: Sequence[str]) -> str:
    """Members (read with `fields` and interests) as CSV: a header, then one line each: the
    profile `fields`, the member's own, what changed since added flattened into columns
    (empty where nothing is known), then every category's share (`share:<category>`);
    formula-like text is quoted for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow((*fields, *MEMBER_FIELDS, *CHANGE_COLUMNS, *export.SHARE_HEADERS))
    for member in shown:
        values = {**member, "tags": ", ".join(member["tags"]), **_flat_changes(member)}
        row = [export.safe_cell(values[name]) for name in (*fields, *MEMBER_FIELDS)]
        row += [values[name] for name in CHANGE_COLUMNS]
        row += [member["interests"][category] for category in CATEGORIES]
        writer.writerow(row)
    return buffer.getvalue()


def members_json(shown: list[dict], fields: Sequence[str]) -> list[dict]:
    """Members (read with `fields` and interests) as the JSON export has them: the profile
    `fields`, the member's own, "changes" and every category's share under "interests"."""
    return [
        {
            **{name: member[name] for name in (*fields, *MEMBER_FIELDS)},
            "changes": member["changes"],
            "interests": member["interests"],
        }
        for member in shown
    ]


def choices_for(profile_id: int) -> list[dict]:
    """Every list by name (id, name) and whether the profile is on it: the profile page's
    "Add to list" form."""
    on = set(
        db.session.scalars(select(_members.c.list_id).where(_members.c.profile_id == profile_id))
    )
    rows = db.session.execute(
        select(Shortlist.id, Shortlist.name).order_by(Shortlist.name, Shortlist.id)
    ).all()
    return [{"id": pk, "name": name, "member": pk in on} for pk, name in rows]


def names() -> list[dict]:
    """Every list's id and name, by name: the choices of a form that adds to a list."""
    rows = db.session.execute(
        select(Shortlist.id, Shortlist.name).order_by(Shortlist.name, Shortlist.id)
    ).all()
    return [{"id": pk, "name": name} for pk, name in rows]
