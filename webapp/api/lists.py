"""API routes for shortlists: the lists, and their members' notes, tags and statuses."""

from flask import Response, request, url_for
from flask_login import current_user

from .. import queries
from ..errors import Problem
from ..security import current_actor, requires
from ..services.team import lists
from . import schemas
from .routes import bp, parse_body


def _invalid(error: lists.InvalidValue) -> Problem:
    return Problem(
        422,
        "Unprocessable Content",
        f"{error}.",
        "invalid-body",
        errors=[{"loc": error.field, "msg": error.message}],
    )


def _name_taken(error: lists.NameTaken) -> Problem:
    return Problem(
        409, "Conflict", str(error), "name-taken", errors=[{"loc": "name", "msg": str(error)}]
    )


@bp.get("/lists")
def list_lists():
    """A page of the lists, by name, each with its member count."""
    query = queries.ListsQuery.parse(request.args)
    items, total = lists.all_lists(query.page, query.per_page)
    return {"items": items, "page": query.page, "per_page": query.per_page, "total": total}


@bp.post("/lists")
@requires("analyst")
def create_list():
    """Make a list: {"name", "description"?}; 201 with it and its Location."""
    body = parse_body(schemas.ListCreateRequest)
    try:
        made = lists.create_list(body.name, current_actor(), body.description, current_user.id)
    except lists.NameTaken as error:
        raise _name_taken(error) from None
    location = url_for("api.get_list", list_id=made.id)
    return lists.list_summary(made, 0), 201, {"Location": location}


@bp.get("/lists/<int:list_id>")
def get_list(list_id: int):
    """A list and a page of its members with what changed since each was added: q,
    platform, status, tag, sort, order, page, per_page."""
    query = queries.ListMembersQuery.parse(request.args).query()
    return lists.list_detail(lists.get_list(list_id), query)


@bp.patch("/lists/<int:list_id>")
@requires("analyst")
def update_list(list_id: int):
    """Rename a list or change its description: {"name"?, "description"?}."""
    body = parse_body(schemas.ListUpdateRequest)
    try:
        changed = lists.update_list(list_id, current_actor(), body.name, body.description)
    except lists.NameTaken as error:
        raise _name_taken(error) from None
    return lists.list_summary(changed)


@bp.delete("/lists/<int:list_id>")
@requires("analyst")
def delete_list(list_id: int):
    """Delete a list with its members; the profiles stay."""
    lists.delete_list(list_id, current_actor())
    return Response(status=204)


@bp.post("/lists/<int:list_id>/members")
@requires("analyst")
def add_members(list_id: int):
    """Add profiles in bulk: {"profile_ids": [...]}, all or none."""
    body = parse_body(schemas.AddMembersRequest)
    try:
        done = lists.add_members(list_id, body.profile_ids, current_actor())
    except lists.UnknownProfiles as error:
        unknown = set(error.ids)
        raise Problem(
            422,
            "Unprocessable Content",
            str(error),
            "unknown-profiles",
            errors=[
                {"loc": f"profile_ids[{index}]", "msg": f"no profile has id {pk}"}
                for index, pk in enumerate(body.profile_ids)
                if pk in unknown
            ],
        ) from None
    except lists.InvalidValue as error:
        raise _invalid(error) from None
    count = lists.list_summary(lists.get_list(list_id))["member_count"]
    return {"added": done.added, "already": done.already, "member_count": count}


@bp.patch("/lists/<int:list_id>/members/<int:profile_id>")
@requires("analyst")
def update_member(list_id: int, profile_id: int):
    """Change a member's note, tags or status: {"note"?, "tags"?, "status"?}."""
    body = parse_body(schemas.MemberUpdateRequest)
    return lists.update_member(
        list_id, profile_id, current_actor(), body.note, body.tags, body.status
    )


@bp.delete("/lists/<int:list_id>/members/<int:profile_id>")
@requires("analyst")
def remove_member(list_id: int, profile_id: int):
    """Take a profile off a list; the profile stays."""
    lists.remove_member(list_id, profile_id, current_actor())
    return Response(status=204)
