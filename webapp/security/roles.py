"""Roles: a view names the least role it needs with @requires; the gate enforces it."""

from flask import current_app
from flask_login import current_user

from ..services.accounts import users


def requires(role: str):
    """Mark a view as needing `role` (or a higher one); the gate enforces it."""
    users.check_role(role)

    def decorate(view):
        view.required_role = role
        return view

    return decorate


def required_role(endpoint: str | None) -> str:
    """The least role the view behind `endpoint` needs."""
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "required_role", "viewer")


def may_use(endpoint: str) -> bool:
    """Whether the signed-in user's role may use the view behind `endpoint`: pages show only
    the links and buttons that lead somewhere the user is allowed."""
    return users.has_role(current_user, required_role(endpoint))
