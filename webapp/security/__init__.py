"""Who may do what, one module per job: `gate` (the sign-in gate, CSRF, NUL characters),
`identity` (session or bearer token, the audit log's actor), `roles` (@requires), `limits`
(rate limits), `headers` (CSP, security headers, CORS origins). `init_app` binds them.

Every request passes the gate before its view: only the sign-in page, /healthz and static
files answer without a signed-in user (a session cookie for pages, a session or a bearer
token for the JSON API). Views name the least role they need with `@requires(...)`; without it
a view needs `viewer`, the least role.
"""

from datetime import timedelta

from flask import Flask
from flask_wtf.csrf import CSRFError

from ..errors import problem_response, render_error_page, wants_problem_json
from ..extensions import cors, csrf, limiter, login_manager
from .gate import PUBLIC_ENDPOINTS, UNSAFE_METHODS, gate, refuse_nul_characters, safe_next
from .headers import content_security_policy, cors_origins, set_security_headers
from .identity import (
    actor_name,
    client_address,
    current_actor,
    current_requester,
    load_session_user,
    load_token_user,
    record_action,
)
from .limits import skips_rate_limits
from .roles import may_use, required_role, requires

__all__ = [
    "PUBLIC_ENDPOINTS",
    "UNSAFE_METHODS",
    "actor_name",
    "client_address",
    "current_actor",
    "current_requester",
    "init_app",
    "may_use",
    "record_action",
    "required_role",
    "requires",
    "safe_next",
    "skips_rate_limits",
]


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
    login_manager.user_loader(load_session_user)
    login_manager.request_loader(load_token_user)
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
    # Templates ask may("endpoint") before showing a link or a button that leads there.
    app.jinja_env.globals["may"] = may_use

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
