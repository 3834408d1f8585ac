"""Saved views of the profile browser: a named /profiles query string (its filters, sort,
order, columns and page size), personal to its owner or shared with the team, and each
person's default view, which /profiles opens with.

Who may do what: every signed-in person saves, renames, changes and deletes their own
personal views and chooses their default among the views they see (their own and the shared
ones); sharing a view, and changing or deleting a shared one, needs the analyst role and the
view's ownership, except that an admin may delete anyone's shared view. Another person's
personal view does not exist for the caller (ViewNotFound). Every write is audited in its own
transaction.

A view's query is checked by the /profiles page's own parser (`check_query`), so that the
parameters the page learns are accepted here without a list of them to keep in step."""

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import case, delete, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from ... import queries
from ...extensions import db
from ...models import DefaultView, SavedView, is_valid_id, utcnow
from ..accounts import audit, users
from . import InvalidValue

MAX_NAME = 100
MAX_QUERY = 2_000
# Left out of a stored query: the page number is where one was, not what one looks at, and
# `view` is the page's own switch (view=none: every profile, not the default view).
DROPPED = frozenset({"page", "view"})
SHARE_ROLE = "analyst"


class ViewNotFound(LookupError):
    """No view with that id that the caller may see."""

    def __init__(self, view_id: int):
        super().__init__(f"No view has id {view_id}.")
        self.view_id = view_id


class NameTaken(ValueError):
    """The owner has a view with that name already."""

    def __init__(self, name: str):
        super().__init__(f"You have a view named {name!r} already: choose another name.")


class NotAllowed(PermissionError):
    """The caller's role or ownership does not allow this change."""


@dataclass(frozen=True)
class Person:
    """Who acts: the user's id and role for the rules, the actor for the audit log."""

    user_id: int
    role: str
    actor: audit.Actor

    @property
    def may_share(self) -> bool:
        return users.has_role(self, SHARE_ROLE)

    @property
    def is_admin(self) -> bool:
        return users.has_role(self, "admin")


# --- values ------------------------------------------------------------------------------------


def clean_name(value) -> str:
    """A view's name, inner runs of spaces made one; InvalidValue when empty or too long."""
    text = str(value)
    if "\x00" in text:
        raise InvalidValue("name", "must not contain a NUL character (\\u0000)")
    name = " ".join(text.split())
    if not name:
        raise InvalidValue("name", "must not be empty")
    if len(name) > MAX_NAME:
        raise InvalidValue("name", f"must be at most {MAX_NAME} characters")
    return name


def check_query(args: Mapping) -> None:
    """Run a /profiles query through the page's own parser; BadQuery names what it refuses.
    The one place that decides which /profiles queries a view may hold."""
    args = MultiDict(args)
    queries.form_fields(args)
    queries.TableQuery.parse(args)


def normalise_query(text) -> str:
    """A /profiles query string as a view keeps it: no page, no empty values, the parameters
    in their order (repeats kept); a leading '?' or '/profiles?' is dropped. InvalidValue
    (field "query") when the page would refuse it, naming the parameter."""
    text = str(text).strip()
    if "\x00" in text:
        raise InvalidValue("query", "must not contain a NUL character (\\u0000)")
    if text.startswith("/"):
        _path, _, text = text.partition("?")
    text = text.removeprefix("?")
    if len(text) > MAX_QUERY:
        raise InvalidValue("query", f"must be at most {MAX_QUERY} characters")
    pairs = [
        (name, value)
        for name, value in parse_qsl(text, keep_blank_values=True)
        if name not in DROPPED and value.strip()
    ]
    try:
        check_query(MultiDict(pairs))
    except queries.BadQuery as error:
        raise InvalidValue(
            "query", f"is refused by /profiles: {error.param} {error.message}"
        ) from None
    return urlencode(pairs)


# --- reading -----------------------------------------------------------------------------------


def _visible(person: Person):
    """The views `person` sees: their own and the shared ones."""
    return or_(SavedView.owner_id == person.user_id, SavedView.shared.is_(True))


def get_view(view_id: int, person: Person) -> SavedView:
    """A view the person sees, read afresh; ViewNotFound for another's personal view too."""
    found = (
        db.session.get(SavedView, view_id, populate_existing=True) if is_valid_id(view_id) else None
    )
    if found is None or not (found.shared or found.owner_id == person.user_id):
        raise ViewNotFound(view_id)
    return found


def default_id(user_id: int) -> int | None:
    """The id of the person's default view, if they chose one."""
    return db.session.scalar(select(DefaultView.view_id).where(DefaultView.user_id == user_id))


def default_query(user_id: int) -> str | None:
    """The query of the person's default view (which /profiles opens with), if any; a view
    that was unshared since and is not theirs does not count."""
    row = db.session.execute(
        select(SavedView.query, SavedView.shared, SavedView.owner_id)
        .join(DefaultView, DefaultView.view_id == SavedView.id)
        .where(DefaultView.user_id == user_id)
    ).first()
    if row is None or not (row.shared or row.owner_id == user_id):
        return None
    return row.query


def visible_views(person: Person) -> list[SavedView]:
    """The person's own views, then the team's shared ones, each by name."""
    return list(
        db.session.scalars(
            select(SavedView)
            .where(_visible(person))
            .order_by(
                case((SavedView.owner_id == person.user_id, 0), else_=1),
                SavedView.name,
                SavedView.id,
            )
        )
    )


def as_dict(view: SavedView, default: int | None, profiles_path: str) -> dict:
    """A view as the API answers it (schemas.SavedView); `profiles_path` is /profiles' path."""
    return {
        "id": view.id,
        "name": view.name,
        "owner": {"id": view.owner_id, "name": view.owner},
        "shared": view.shared,
        "query": view.query,
        "url": url_of(view.query, profiles_path),
        "default": view.id == default,
        "created_at": view.created_at.isoformat(),
        "updated_at": view.updated_at.isoformat(),
    }


def url_of(query: str, profiles_path: str) -> str:
    """The /profiles address that shows a view: its query, or view=none for an empty one (a
    bare /profiles would open the person's default view instead)."""
    return f"{profiles_path}?{query or 'view=none'}"


# --- writing -----------------------------------------------------------------------------------


def _name_free(name: str, owner_id: int, but: int | None = None) -> None:
    query = select(SavedView.id).where(SavedView.owner_id == owner_id, SavedView.name == name)
    if but is not None:
        query = query.where(SavedView.id != but)
    if db.session.scalar(query) is not None:
        raise NameTaken(name)


def _commit_or_name_taken(name: str) -> None:
    """Commit; a name taken meanwhile by another request is NameTaken, nothing written."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise NameTaken(name) from None


def _stage_default(person: Person, view_id: int | None, name: str = "") -> None:
    """Make the view the person's default (None: no default), audited, not committed."""
    db.session.execute(delete(DefaultView).where(DefaultView.user_id == person.user_id))
    if view_id is not None:
        db.session.add(DefaultView(user_id=person.user_id, view_id=view_id))
        audit.stage(db.session, person.actor, "view-default-set", f"view {view_id}", name)
    else:
        audit.stage(db.session, person.actor, "view-default-set", "", "cleared")
    db.session.flush()


def create_view(
    person: Person, name: str, query: str, shared: bool = False, default: bool = False
) -> SavedView:
    """Save a view; NameTaken, InvalidValue (name or query), NotAllowed (sharing as a
    viewer). With `default`, it becomes the person's default view."""
    name, query = clean_name(name), normalise_query(query)
    if shared and not person.may_share:
        raise NotAllowed(f"Sharing a view with the team needs the {SHARE_ROLE} role.")
    _name_free(name, person.user_id)
    now = utcnow()
    view = SavedView(
        name=name,
        owner_id=person.user_id,
        owner=person.actor.name[:64],
        shared=bool(shared),
        query=query,
        created_at=now,
        updated_at=now,
    )
    db.session.add(view)
    db.session.flush()
    kind = "shared" if shared else "personal"
    audit.stage(
        db.session, person.actor, "view-created", f"view {view.id}", f"{name} ({kind}): {query}"
    )
    if default:
        _stage_default(person, view.id, name)
    _commit_or_name_taken(name)
    return view


def _may_change(view: SavedView, person: Person, sharing: bool) -> None:
    """NotAllowed unless the person owns the view, and has the role to share when the view
    is or becomes shared."""
    if view.owner_id != person.user_id:
        raise NotAllowed("Only the person who saved a view may change it.")
    if (view.shared or sharing) and not person.may_share:
        raise NotAllowed(f"Changing a view shared with the team needs the {SHARE_ROLE} role.")


def update_view(
    view_id: int,
    person: Person,
    name: str | None = None,
    query: str | None = None,
    shared: bool | None = None,
    default: bool | None = None,
) -> SavedView:
    """Rename a view, change its query or whether it is shared (None leaves a field as it
    is), and make it the person's default or stop it being so. Anyone who sees a view may
    choose it as their default; the other changes follow the module's rules."""
    view = get_view(view_id, person)
    changes = []
    if name is not None:
        name = clean_name(name)
    if query is not None:
        query = normalise_query(query)
    edits = (
        (name is not None and name != view.name)
        or (query is not None and query != view.query)
        or (shared is not None and bool(shared) != view.shared)
    )
    if edits:
        _may_change(view, person, bool(shared))
    if name is not None and name != view.name:
        _name_free(name, person.user_id, but=view_id)
        changes.append(f"name {view.name!r} -> {name!r}")
        view.name = name
    if query is not None and query != view.query:
        changes.append(f"query {view.query!r} -> {query!r}")
        view.query = query
    if shared is not None and bool(shared) != view.shared:
        changes.append("shared" if shared else "made personal")
        view.shared = bool(shared)
    if changes:
        view.updated_at = utcnow()
        audit.stage(db.session, person.actor, "view-updated", f"view {view_id}", "; ".join(changes))
    current = default_id(person.user_id)
    if default is True and current != view_id:
        _stage_default(person, view_id, view.name)
    elif default is False and current == view_id:
        _stage_default(person, None)
    db.session.flush()
    _commit_or_name_taken(view.name)
    return view


def delete_view(view_id: int, person: Person) -> None:
    """Delete a view, clearing every default that named it; NotAllowed unless the person
    owns it (with the role to share, if it is shared) or is an admin deleting a shared view."""
    view = get_view(view_id, person)
    if not (view.shared and person.is_admin):
        _may_change(view, person, False)
    name, kind = view.name, "shared" if view.shared else "personal"
    db.session.execute(delete(DefaultView).where(DefaultView.view_id == view_id))
    db.session.execute(delete(SavedView.__table__).where(SavedView.__table__.c.id == view_id))
    audit.stage(
        db.session,
        person.actor,
        "view-deleted",
        f"view {view_id}",
        f"{name} ({kind}, {view.owner})",
    )
    db.session.commit()
    db.session.expunge(view)


def set_default(person: Person, view_id: int | None) -> None:
    """Make a view the person sees their default, or clear it (None); ViewNotFound."""
    if view_id is None:
        if default_id(person.user_id) is not None:
            _stage_default(person, None)
            db.session.commit()
        return
    view = get_view(view_id, person)
    if default_id(person.user_id) != view_id:
        _stage_default(person, view_id, view.name)
        db.session.commit()
