"""API routes for saved views of /profiles: the caller's own and the team's shared ones."""

from flask import Response, url_for
from flask_login import current_user

from ..errors import Problem
from ..security import current_actor, requires
from ..services.team import views
from . import schemas
from .routes import bp, parse_body


def _person() -> views.Person:
    return views.Person(current_user.id, current_user.role, current_actor())


def _answer(view) -> dict:
    return views.as_dict(view, views.default_id(current_user.id), url_for("pages.profiles"))


def _refusals(error: Exception) -> Problem:
    """A service refusal as problem+json: located for a name or a query."""
    if isinstance(error, views.NameTaken):
        return Problem(
            409, "Conflict", str(error), "name-taken", errors=[{"loc": "name", "msg": str(error)}]
        )
    if isinstance(error, views.InvalidValue):
        return Problem(
            422,
            "Unprocessable Content",
            f"{error}.",
            "invalid-body",
            errors=[{"loc": error.field, "msg": error.message}],
        )
    return Problem(403, "Forbidden", str(error), "forbidden")


REFUSALS = (views.NameTaken, views.InvalidValue, views.NotAllowed)


@bp.get("/views")
def list_views():
    """The caller's own views, then the team's shared ones, each by name."""
    person = _person()
    default = views.default_id(person.user_id)
    base = url_for("pages.profiles")
    return {"items": [views.as_dict(v, default, base) for v in views.visible_views(person)]}


@bp.post("/views")
@requires("viewer")  # anyone signed in; the service checks ownership and sharing
def create_view():
    """Save a view: {"name", "query", "shared"?, "default"?}; 201 with it and its Location."""
    body = parse_body(schemas.ViewCreateRequest)
    try:
        made = views.create_view(_person(), body.name, body.query, body.shared, body.default)
    except REFUSALS as error:
        raise _refusals(error) from None
    return _answer(made), 201, {"Location": url_for("api.get_view", view_id=made.id)}


@bp.get("/views/<int:view_id>")
def get_view(view_id: int):
    """One view the caller sees."""
    return _answer(views.get_view(view_id, _person()))


@bp.patch("/views/<int:view_id>")
@requires("viewer")  # anyone signed in; the service checks ownership and sharing
def update_view(view_id: int):
    """Rename, change the query, share, or make the caller's default: {"name"?, "query"?,
    "shared"?, "default"?}."""
    body = parse_body(schemas.ViewUpdateRequest)
    try:
        changed = views.update_view(
            view_id, _person(), body.name, body.query, body.shared, body.default
        )
    except REFUSALS as error:
        raise _refusals(error) from None
    return _answer(changed)


@bp.delete("/views/<int:view_id>")
@requires("viewer")  # anyone signed in; the service checks ownership and sharing
def delete_view(view_id: int):
    """Delete a view; defaults that named it are cleared."""
    try:
        views.delete_view(view_id, _person())
    except views.NotAllowed as error:
        raise _refusals(error) from None
    return Response(status=204)
