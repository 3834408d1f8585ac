"""Who a request comes from: a session cookie (pages and the JSON API) or a bearer token (the
JSON API only), and the audit log's name for them."""

from flask import g, request
from flask_login import current_user

from ..services.accounts import audit, users
from ..services.jobs import Requester

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


def current_requester() -> Requester:
    """The signed-in user as the jobs service knows who starts or cancels a job."""
    return Requester(current_actor(), current_user.id, users.has_role(current_user, "admin"))


def record_action(action: str, target: str = "", detail: str = "") -> None:
    """Add what the signed-in user just did to the audit log."""
    actor = current_actor()
    audit.record(actor.name, action, target, detail, actor.address, actor.via)


def load_session_user(reference: str):
    if is_api_request() and bearer_token() is not None:
        return None  # the token decides who this is, whatever cookie came along
    return users.load_session_user(reference)


def load_token_user(req):
    if not is_api_request():
        return None  # tokens sign in to the JSON API only, not to pages (the API docs too)
    token = bearer_token()
    if not token:
        return None
    user = users.user_for_token(token)
    if user is not None:
        g.auth_via = "token"
    return user
