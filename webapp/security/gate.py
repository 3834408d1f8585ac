"""The sign-in gate every request passes before its view: only the sign-in page, /healthz
and static files answer without a signed-in user; CSRF for every form post of a session; a
NUL character in any field refused by name."""

import time
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

from ..errors import HTML_TITLES, problem_response, render_error_page, wants_problem_json
from ..extensions import csrf
from ..services.accounts import users
from .identity import API_PAGES, bearer_token, is_api_request
from .roles import required_role

PUBLIC_ENDPOINTS = frozenset({"auth.signin", "health.healthz", "static", "assets.local_asset"})
# Until a one-time password is replaced, only these answer.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.signout"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def safe_next(target: str | None) -> str | None:
    """A same-site path to go back to after sign-in; anything else is dropped."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None  # urlsplit drops line breaks and tabs; a header must not carry them
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


def _unauthorized(detail: str):
    if is_api_request() or (wants_problem_json() and request.endpoint not in API_PAGES):
        return problem_response(
            401,
            "Unauthorized",
            detail,
            "unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="toker"'},
        )
    here = request.full_path.rstrip("?") if request.method == "GET" else None
    if request.headers.get("HX-Request"):
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        here = safe_next(current.path + (f"?{current.query}" if current.query else ""))
    target = url_for("auth.signin", next=safe_next(here))
    if request.headers.get("HX-Request"):
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _forbidden(detail: str):
    if wants_problem_json() or is_api_request():
        return problem_response(403, "Forbidden", detail, "forbidden")
    return render_error_page(403, HTML_TITLES[403], detail)


def refuse_nul_characters():
    """A NUL character in a query or form field is refused by name: PostgreSQL cannot store or
    compare it, and no search or name needs it."""
    fields = list(request.args.items(multi=True))
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields += list(request.form.items(multi=True))
    for name, value in fields:
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "\\x00")
            detail = (
                f"The parameter {shown!r} contains a NUL character (\\x00), which is not accepted."
            )
            if wants_problem_json() or is_api_request():
                return problem_response(
                    400,
                    "Bad Request",
                    detail,
                    "invalid-parameter",
                    errors=[{"loc": shown, "msg": "contains a NUL character"}],
                )
            return render_error_page(400, "Bad request", detail)
    return None


def gate():
    """Let a request through only for a signed-in user whose role is enough; check CSRF."""
    if request.method == "OPTIONS" and is_api_request():
        return None  # CORS preflight: answered by Flask-Cors, carries no credentials
    if request.endpoint in PUBLIC_ENDPOINTS:
        if request.method in UNSAFE_METHODS:
            csrf.protect()
        return None
    signed_in = current_user.is_authenticated  # runs the session or token loader
    token = bearer_token() if is_api_request() else None
    if token is not None and g.get("auth_via") != "token":
        return _unauthorized("The API token is not valid or was revoked.")
    if not signed_in:
        return _unauthorized("Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    if g.get("auth_via") != "token" and _session_expired():
        logout_user()
        session.clear()
        return _unauthorized("Your session has expired; sign in again.")
    if request.method in UNSAFE_METHODS and g.get("auth_via") != "token":
        csrf.protect()
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        if wants_problem_json() or is_api_request():
            return _forbidden("Replace the one-time password first, on the sign-in page.")
        return redirect(url_for("auth.change_password"))
    if request.endpoint is None:
        return None  # an unknown address or method: the 404 or 405 follows
    role = required_role(request.endpoint)
    if not users.has_role(current_user, role):
        return _forbidden(
            f"This needs the {role} role; you are signed in as {current_user.name} "
            f"({current_user.role})."
        )
    return None


def _session_expired() -> bool:
    started = session.get("signed_in_at")
    if not isinstance(started, int | float):
        return True
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    return time.time() - started > lifetime
