"""Admin pages: users and their roles, API tokens, the audit log."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import queries
from ..models import ROLES, User
from ..security import record_action, requires
from ..services.accounts import audit, users
from ..services.catalogue import profiles
from .forms import NewTokenForm, NewUserForm, RoleForm

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE_SIZE = 50


def _user_or_404(user_id: int) -> User:
    user = users.get_user_by_id(user_id)
    if user is None:
        abort(404, description=f"There is no user with id {user_id}.")
    return user


def _users_page(status: int = 200, errors: dict | None = None, form: dict | None = None):
    body = render_template(
        "admin/users.html",
        section="admin",
        users=users.list_users(),
        sessions=users.open_session_counts(),
        roles=ROLES,
        errors=errors or {},
        form=form or {"name": "", "role": "viewer"},
        min_length=users.MIN_PASSWORD_LENGTH,
    )
    return body, status


@bp.get("", endpoint="index")
@bp.get("/users", endpoint="users")
@requires("admin")
def user_list():
    """Every user with their role, a form to add one, and role changes (also at /admin, the
    admin pages' first tab)."""
    return _users_page()


@bp.post("/users")
@requires("admin")
def create_user():
    """Add a user with a role and a first password."""
    form = NewUserForm()
    try:
        user = users.create_user(form.name.data or "", form.password.data or "", form.role.data)
    except users.AccountError as error:
        form.refuse(error.field, str(error), "name")
        shown = {"name": form.name.data or "", "role": form.role.data or ""}
        return _users_page(422, form.first_errors(), shown)
    record_action("user-created", user.name, f"role {user.role}")
    flash(f"Added {user.name} ({user.role}).", "success")
    return redirect(url_for("admin.users"), code=303)


@bp.post("/users/<int:user_id>/role")
@requires("admin")
def change_role(user_id: int):
    """Give a user another role."""
    user = _user_or_404(user_id)
    before = user.role
    try:
        users.set_role(user, RoleForm().role.data or "")
    except users.AccountError as error:
        flash(f"Could not change {user.name}'s role: {error}.", "error")
        return redirect(url_for("admin.users"), code=303)
    if user.role != before:
        record_action("role-changed", user.name, f"{before} -> {user.role}")
    flash(f"{user.name} is now {user.role}.", "success")
    return redirect(url_for("admin.users"), code=303)


@bp.post("/users/<int:user_id>/sessions/end")
@requires("admin")
def end_sessions(user_id: int):
    """Sign a user out everywhere: every open session of theirs ends now."""
    user = _user_or_404(user_id)
    ended = users.end_sessions(user)
    sessions = f"{ended} session{'s' if ended != 1 else ''}"
    record_action("sessions-ended", user.name, sessions)
    flash(f"Ended {sessions} of {user.name}.", "success")
    return redirect(url_for("admin.users"), code=303)


@bp.post("/users/<int:user_id>/delete")
@requires("admin")
def delete_user(user_id: int):
    """Delete a user and their API tokens."""
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        flash("You cannot delete yourself; another admin can.", "error")
        return redirect(url_for("admin.users"), code=303)
    name = user.name
    try:
        users.delete_user(user)
    except users.AccountError as error:
        flash(f"Could not delete {name}: {error}.", "error")
        return redirect(url_for("admin.users"), code=303)
    record_action("user-deleted", name)
    flash(f"Deleted {name} and their API tokens.", "success")
    return redirect(url_for("admin.users"), code=303)


def _tokens_page(new_token: str | None = None, status: int = 200, error: str | None = None):
    body = render_template(
        "admin/tokens.html",
        section="admin",
        tokens=users.list_tokens(),
        users=users.list_users(),
        new_token=new_token,
        error=error,
    )
    return body, status


@bp.get("/tokens")
@requires("admin")
def tokens():
    """Every API token, live or revoked, and a form to make one."""
    return _tokens_page()


@bp.post("/tokens")
@requires("admin")
def create_token():
    """Make a token for a user; it is shown on this answer only, never again."""
    form = NewTokenForm()
    try:
        user = users.get_user(form.user.data or "")
        record, token = users.create_token(user, form.name.data or "")
    except users.AccountError as error:
        form.refuse(None, str(error), "name")
        return _tokens_page(status=422, error=form.first_errors()["name"])
    record_action("token-created", user.name, f"token {record.name} ({record.prefix}…)")
    return _tokens_page(new_token=token)


@bp.post("/tokens/<int:token_id>/revoke")
@requires("admin")
def revoke_token(token_id: int):
    """Revoke a token: API calls with it answer 401 from now on."""
    try:
        record = users.get_token(token_id)
    except users.AccountError as error:
        flash(str(error).capitalize() + ".", "error")
        return redirect(url_for("admin.tokens"), code=303)
    users.revoke_token(record)
    record_action("token-revoked", record.user.name, f"token {record.name} ({record.prefix}…)")
    flash(f"Revoked {record.name} of {record.user.name}.", "success")
    return redirect(url_for("admin.tokens"), code=303)


@bp.get("/audit")
@requires("admin")
def audit_log():
    """Who did what and when, newest first, filterable by action and by user."""
    query = queries.AuditQuery.parse(request.args)
    page, action, actor = query.page, query.action, query.actor
    events, total = audit.events(page, AUDIT_PAGE_SIZE, action or None, actor or None)
    pages = profiles.page_count(total, AUDIT_PAGE_SIZE)
    return render_template(
        "admin/audit.html",
        section="admin",
        events=events,
        total=total,
        page=page,
        pages=pages,
        action=action,
        actor=actor,
        actions=audit.ACTIONS,
    )
