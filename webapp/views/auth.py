"""Sign in, sign out, and replace one's password."""

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from ..extensions import limiter
from ..security import actor_name, client_address, requires, safe_next
from ..services.accounts import audit, users
from .forms import PasswordForm, SignInForm

bp = Blueprint("auth", __name__)


def _signin_limit() -> str:
    return current_app.config["TOKER_SIGNIN_LIMIT"]


def start_session(user) -> None:
    """Sign `user` in on a fresh session, kept on the server, that expires
    TOKER_SESSION_HOURS from now."""
    session.clear()
    login_user(users.open_session(user, client_address()))
    session.permanent = True
    session["signed_in_at"] = time.time()
    # A new CSRF token for the new session, in the cookie this answer sets: made later, by
    # the first page that shows a form, it would change the session on every request of a
    # client that keeps the sign-in cookie, and the cookie would be re-signed and re-sent.
    g.pop("csrf_token", None)
    generate_csrf()


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(
    _signin_limit,
    methods=["POST"],
    error_message="Too many sign-in attempts from this address; wait a minute and try again.",
)
def signin():
    """The sign-in form; a wrong name or password says so without telling which."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or url_for("pages.index"))
        return render_template("signin.html", next_url=next_url, name="", error=None)
    form = SignInForm()
    name = form.name.data or ""
    try:
        user = users.authenticate(name, form.password.data or "")
    except users.SignInLocked as error:
        audit.record(
            name[:64],
            "sign-in-failed",
            detail="account waiting",
            address=client_address(),
            via="page",
        )
        message = str(error).capitalize() + "."
        body = render_template("signin.html", next_url=next_url, name=name, error=message)
        return body, 429, {"Retry-After": str(error.retry_after)}
    if user is None:
        audit.record(name[:64], "sign-in-failed", address=client_address(), via="page")
        error = "That name and password do not match a user."
        body = render_template("signin.html", next_url=next_url, name=name, error=error)
        return body, 401
    start_session(user)
    audit.record(user.name, "sign-in", address=client_address(), via="page")
    if user.must_change_password:
        flash("Signed in with a one-time password: choose your own password now.", "info")
        return redirect(url_for("auth.change_password"), code=303)
    return redirect(next_url or url_for("pages.index"), code=303)


@bp.post("/signout")
@requires("viewer")
def signout():
    """End the session, on the server too: a copy of its cookie signs nobody in."""
    audit.record(actor_name(), "sign-out", address=client_address(), via="page")
    users.end_session(current_user.get_id())
    logout_user()
    session.clear()
    flash("Signed out.", "success")
    return redirect(url_for("auth.signin"), code=303)


@bp.route("/account/password", methods=["GET", "POST"])
@requires("viewer")
@limiter.limit(
    _signin_limit,
    methods=["POST"],
    error_message="Too many password changes from this address; wait a minute and try again.",
)
def change_password():
    """Replace the signed-in user's password; other sessions of the user end."""
    form = PasswordForm()
    waits = None  # seconds, while the account waits after too many wrong passwords
    if request.method == "POST":
        # The gate read only what it checks; the password change needs the user's record.
        user = users.get_user_by_id(current_user.id)
        if user is None:  # deleted since the gate let this request in
            return redirect(url_for("auth.signin"))
        try:
            users.change_password(
                user,
                form.current_password.data or "",
                form.new_password.data or "",
                form.confirm_password.data or "",
            )
        except users.AccountError as error:
            form.refuse(error.field, str(error), "current_password")
            if isinstance(error, users.SignInLocked):
                waits = error.retry_after
        else:
            start_session(user)
            audit.record(user.name, "password-changed", user.name, address=client_address())
            flash("Password changed.", "success")
            return redirect(url_for("pages.index"), code=303)
    errors = form.first_errors()
    body = render_template(
        "change_password.html",
        errors=errors,
        min_length=users.MIN_PASSWORD_LENGTH,
        forced=current_user.must_change_password,
    )
    if waits is not None:
        return body, 429, {"Retry-After": str(waits)}
    return body, 422 if errors else 200
