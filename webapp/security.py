"""Who may do what: sign-in gate, roles, bearer tokens, CSRF, session lifetime, CORS, headers.

Every request passes `gate` before its view: only the sign-in page, /healthz and static files
answer without a signed-in user (a session cookie for pages, a session or a bearer token for
the JSON API). Views name the least role they need with `@requires(...)`; without it a view
needs `viewer`, the least role.
"""

import time
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError

from .assets import ASSETS
from .errors import HTML_TITLES, problem_response, render_error_page, wants_problem_json
from .extensions import cors, csrf, limiter, login_manager
from .services.accounts import audit, users

PUBLIC_ENDPOINTS = frozenset({"auth.signin", "health.healthz", "static", "assets.local_asset"})
# Until a one-time password is replaced, only these answer.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.signout"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The views with a rate limit of their own (@limiter.limit): a limit put on another view must
# be named here too, or the limiter skips it (see skips_rate_limits).
RATE_LIMITED_ENDPOINTS = frozenset({"auth.signin", "auth.change_password"})


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


# API addresses that people read in the browser: they sign in like pages.
API_PAGES = frozenset({"api.api_docs"})


def is_api_request() -> bool:
    return request.path.startswith("/api/") and request.endpoint not in API_PAGES


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer ...` header; None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def client_address() -> str:
    return request.remote_addr or ""


def actor_name() -> str:
    """The signed-in user's name, for the audit log."""
    return current_user.name if current_user.is_authenticated else ""


def via() -> str:
    """How the current request came in: a bearer token on the API, or a page."""
    if g.get("auth_via") == "token":
        return "token"
    return "api" if is_api_request() else "page"


def current_actor() -> audit.Actor:
    """The signed-in user of this request as the audit log records them."""
    return audit.Actor(actor_name(), client_address(), via())


def record_action(action: str, target: str = "", detail: str = "") -> None:
    """Add what the signed-in user just did to the audit log."""
    actor = current_actor()
    audit.record(actor.name, action, target, detail, actor.address, actor.via)


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


def content_security_policy(app: Flask) -> str:
    """Only the app itself and, unless assets are local, the pinned CDN files."""
    scripts = ["'self'"]
    if app.config["TOKER_ASSETS"] != "local":
        scripts += [asset.cdn_url for asset in ASSETS]
    directives = {
        "default-src": ["'self'"],
        "script-src": scripts,
        # Plotly sets styles on the elements it draws and adds a stylesheet of its own.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def set_security_headers(response):
    """CSP, no sniffing, no framing, no referrer to other sites, HSTS over HTTPS."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", current_app.config["TOKER_CSP"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint not in ("static", "assets.local_asset"):
        # Pages and API answers hold personal data: never kept by caches.
        headers.setdefault("Cache-Control", "private, no-store")
    return response


def _load_session_user(reference: str):
    if is_api_request() and bearer_token() is not None:
        return None  # the token decides who this is, whatever cookie came along
    return users.load_session_user(reference)


def _load_token_user(req):
    if not is_api_request():
        return None  # tokens sign in to the JSON API only, not to pages (the API docs too)
    token = bearer_token()
    if not token:
        return None
    user = users.user_for_token(token)
    if user is not None:
        g.auth_via = "token"
    return user


@limiter.request_filter
def skips_rate_limits() -> bool:
    """Whether the limiter may pass this request by: its view has no limit and the app sets
    no default ones. (Working that out itself took about 5 % of an API request.)"""
    config = current_app.config
    if config.get("RATELIMIT_DEFAULT") or config.get("RATELIMIT_APPLICATION"):
        return False
    return request.endpoint not in RATE_LIMITED_ENDPOINTS


def cors_origins(app: Flask) -> list[str]:
    """The other origins allowed to call the API, from TOKER_CORS_ORIGINS."""
    raw = app.config.get("TOKER_CORS_ORIGINS") or ""
    if isinstance(raw, list | tuple):
        return [origin.strip().rstrip("/") for origin in raw if origin.strip()]
    return [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]


def init_app(app: Flask) -> None:
    """Bind sign-in, CSRF, rate limits, CORS and the security headers to the app."""
    development = app.config["TOKER_ENV"] == "development"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Browsers send Secure cookies over HTTPS only; development serves plain HTTP on loopback.
    app.config["SESSION_COOKIE_SECURE"] = not development
    # The lifetime is enforced from session["signed_in_at"]; the cookie need not be re-signed
    # on every answer.
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
        hours=float(app.config["TOKER_SESSION_HOURS"])
    )
    # CSRF is checked by the gate, so API calls with a bearer token can skip it.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a token lives as long as its session
    app.config["TOKER_CSP"] = content_security_policy(app)

    login_manager.init_app(app)
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_token_user)
    csrf.init_app(app)
    limiter.init_app(app)
    origins = cors_origins(app)
    cors.init_app(
        app,
        resources={r"/api/*": {"origins": origins}},
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Retry-After", "Link"],
        supports_credentials=False,
        max_age=600,
    )
    app.before_request(refuse_nul_characters)
    app.before_request(gate)
    app.after_request(set_security_headers)

    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError):
        """A missing or stale CSRF token: 400, and the page says to reload."""
        detail = (
            f"{error.description} Reload the page and try again; API clients send "
            "'Authorization: Bearer <token>' instead of a session cookie."
        )
        if wants_problem_json():
            return problem_response(400, "Bad Request", detail, "csrf")
        return render_error_page(400, "The form expired", detail)
