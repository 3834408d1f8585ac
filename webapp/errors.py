"""One error shape for the API (application/problem+json) and plain pages for the rest."""

import logging

from flask import Flask, Response, json, render_template, request
from markupsafe import escape
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import Forbidden, HTTPException, InternalServerError, NotFound

from .extensions import db
from .services import ProfileNotFound
from .services.jobs import JobNotFound
from .services.team.lists import ListNotFound, MemberNotFound
from .services.team.views import NotAllowed, ViewNotFound

log = logging.getLogger(__name__)
PROBLEM_TYPE = "urn:toker:problem:"


class Problem(Exception):
    """An API error with a status, a title and a detail; `errors` lists located problems."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        kind: str | None = None,
        errors: list[dict] | None = None,
        headers: dict | None = None,
        **extra,
    ):
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> Response:
        """This problem as an application/problem+json response."""
        return problem_response(
            self.status, self.title, self.detail, self.kind, self.errors, self.headers, **self.extra
        )


def problem_response(
    status: int,
    title: str,
    detail: str,
    kind: str | None = None,
    errors: list[dict] | None = None,
    headers: dict | None = None,
    **extra,
) -> Response:
    """Build an application/problem+json response."""
    body = {
        "type": PROBLEM_TYPE + kind if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def wants_problem_json() -> bool:
    """API paths always answer JSON; elsewhere, clients that prefer JSON to HTML get it."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


HTML_TITLES = {
    403: "Not allowed",
    404: "Page not found",
    429: "Too many attempts",
    500: "Something went wrong",
}
HTML_DESCRIPTIONS = {
    404: "There is nothing at this address.",
    500: "Toker hit an unexpected error. Nothing was changed; please try again.",
}


def render_error_page(status: int, title: str, description: str) -> Response:
    """An error page in the site's layout with this status, title and description."""
    body = render_template("errors/error.html", status=status, title=title, description=description)
    return Response(body, status=status, mimetype="text/html")


def _html_error(error: HTTPException) -> Response:
    """An error page in the site's layout."""
    status = error.code or 500
    description = error.description
    if status in HTML_DESCRIPTIONS and description == type(error).description:
        description = HTML_DESCRIPTIONS[status]
    try:
        body = render_template(
            "errors/error.html",
            status=status,
            title=HTML_TITLES.get(status, error.name),
            description=description,
        )
    except Exception:  # a broken layout must not hide the original error
        log.exception("could not render the error page")
        return error.get_response()
    response = Response(body, status=status, mimetype="text/html")
    if status == 405:
        allowed = error.get_response().headers.get("Allow")
        if allowed:
            response.headers["Allow"] = allowed
    return response


def _from_http(error: HTTPException) -> Response:
    if not wants_problem_json():
        return _html_error(error)
    response = problem_response(error.code or 500, error.name, error.description or error.name)
    if error.code == 405:
        allowed = error.get_response().headers.get("Allow")
        if allowed:
            response.headers["Allow"] = allowed
    return response


def _bare_page(title: str, detail: str) -> str:
    """A page that needs no template, for when even the layout cannot be rendered."""
    title, detail = escape(title), escape(detail)
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title} · Toker</title>"
        f'<main id="error-page" data-status="503"><h1>{title}</h1><p>{detail}</p></main></html>'
    )


def _database_problem(error: OperationalError) -> tuple[str, str, str, int]:
    """Title, detail, problem kind and Retry-After seconds for a database that cannot serve."""
    if "locked" in str(error.orig or error).lower():
        # SQLite: another writer held the lock for longer than the busy timeout.
        return (
            "Database busy",
            "The database is busy with another write and did not free up in time; "
            "nothing was changed. Try again in a few seconds.",
            "database-busy",
            5,
        )
    return (
        "Database unavailable",
        "The database is not answering right now; nothing was changed. Try again in 30 seconds.",
        "database-unavailable",
        30,
    )


def register(app: Flask) -> None:
    """Install the app-wide error handlers."""

    @app.errorhandler(Problem)
    def handle_problem(error: Problem):
        """A problem raised by a view, as problem+json."""
        return error.response()

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        """Werkzeug's HTTP errors (404, 405, 413...) in the one error shape."""
        if error.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            error.description = f"The request body is larger than the limit of {limit} bytes."
        return _from_http(error)

    @app.errorhandler(ProfileNotFound)
    def handle_profile_not_found(error: ProfileNotFound):
        """A profile a service looked for is not stored (deleted meanwhile): a 404."""
        return _from_http(NotFound(description=str(error)))

    @app.errorhandler(JobNotFound)
    def handle_job_not_found(error: JobNotFound):
        """A job asked for by id is not recorded: a 404."""
        return _from_http(NotFound(description=str(error)))

    @app.errorhandler(ListNotFound)
    @app.errorhandler(MemberNotFound)
    @app.errorhandler(ViewNotFound)
    def handle_list_not_found(error: LookupError):
        """A list or a saved view asked for by id is not there (or not the caller's to see),
        or the profile is not on the list: a 404."""
        return _from_http(NotFound(description=str(error)))

    @app.errorhandler(NotAllowed)
    def handle_not_allowed(error: NotAllowed):
        """A saved view the caller's role or ownership does not let them change: a 403."""
        db.session.rollback()
        return _from_http(Forbidden(description=str(error)))

    @app.errorhandler(OperationalError)
    def handle_database_down(error: OperationalError):
        """The database refused or did not answer: 503, never a stack trace."""
        try:
            db.session.rollback()
        except Exception:  # the connection may be gone; the answer must still be a 503
            log.warning("rollback failed after a database error", exc_info=True)
        title, detail, kind, retry_after = _database_problem(error)
        log.error("%s: %s", title.lower(), error)
        headers = {"Retry-After": str(retry_after)}
        if wants_problem_json():
            return problem_response(503, title, detail, kind, headers=headers)
        try:
            response = render_error_page(503, title, detail)
        except Exception:  # the layout reads the signed-in user, which needs the database
            log.info("503 page without the layout: it could not be rendered", exc_info=True)
            response = Response(_bare_page(title, detail), status=503, mimetype="text/html")
        response.headers.update(headers)
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        """Anything else: roll back, log it, answer a plain 500."""
        if isinstance(error, HTTPException):
            return handle_http(error)
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _from_http(InternalServerError())
