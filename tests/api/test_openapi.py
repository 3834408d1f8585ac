"""The OpenAPI document: it lists exactly the API's routes, it is valid OpenAPI 3.1, the docs
page shows every operation, and the app answers every operation the way the document says
(Schemathesis fuzzes each one through the WSGI app, signed in with an API token).
"""

import copy
import re

import jsonschema_rs
import pytest
import schemathesis
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import LoaderError
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select
from sqlalchemy import text as sql_text

from webapp import __version__
from webapp.api.openapi import build_document, resolve
from webapp.extensions import db
from webapp.models import Profile
from webapp.services.accounts import audit
from webapp.services.team import lists

from ..helpers import html_page, inline_code

OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/v1/docs"
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
# Flask's <int:profile_id> (or <profile_id>) is OpenAPI's {profile_id}.
FLASK_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
SEEDED_PROFILES = 12
# At least this many of the seeded accounts pass the rules: ids 1 to this are stored.
STORED_PROFILES = SEEDED_PROFILES // 2
SEEDED_JOBS = 2
SEEDED_LISTS = 2
SQLITE_MAX_INTEGER = 2**63 - 1
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# A modest run: about 30 s for every operation on two cores.
FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)


def is_api_rule(rule) -> bool:
    return rule.rule.startswith("/api/v1/") or rule.rule == "/healthz"


def app_operations(app) -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) for every API route the app serves, HEAD and OPTIONS aside."""
    return {
        (method, FLASK_VARIABLE.sub(r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if is_api_rule(rule)
        for method in rule.methods & HTTP_METHODS
    }


def documented_operations(document: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method.upper() in HTTP_METHODS
    }


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method.upper() in HTTP_METHODS:
                yield method.upper(), path, operation


# The document as the app serves it (test_document_is_what_the_app_serves), loaded at import
# so that each operation is a test of its own. schemathesis.pytest.from_fixture would load it
# from the app fixture instead, but schemathesis 4.32 reads a Node attribute that pytest 9.2
# dropped (AttributeError: '_nodeid').
DOCUMENT = build_document(__version__, min_likes=100)
api_schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))


def assert_documented(path: str, method: str, response) -> None:
    """The response's status and media type are documented, and its body matches the schema."""
    responses = DOCUMENT["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method} {path} does not document {status}"
    documented = resolve(DOCUMENT, responses[status]).get("content", {})
    assert response.mimetype in documented, (status, response.mimetype)
    api_schema[path][method].validate_response(response)


@pytest.fixture
def document(client, auth_headers) -> dict:
    response = client.get(OPENAPI_URL, headers=auth_headers)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


# --- the document and the routes --------------------------------------------------------------


def test_document_lists_exactly_the_api_routes(app, document):
    assert documented_operations(document) == app_operations(app)


def test_operation_ids_are_the_view_names(app, document):
    """operationId is the view function's name, so a reader can find the code."""
    views = {}
    for rule in app.url_map.iter_rules():
        if is_api_rule(rule):
            path = FLASK_VARIABLE.sub(r"{\1}", rule.rule)
            for method in rule.methods & HTTP_METHODS:
                views[method, path] = rule.endpoint.rsplit(".", 1)[-1]
    ids = {(method, path): op["operationId"] for method, path, op in operations(document)}
    assert ids == views
    assert len(set(ids.values())) == len(ids)


def test_every_path_parameter_is_documented(document):
    for method, path, operation in operations(document):
        in_path = set(re.findall(r"{([^}]+)}", path))
        parameters = [resolve(document, item) for item in operation.get("parameters", [])]
        documented = {item["name"] for item in parameters if item["in"] == "path"}
        assert documented == in_path, (method, path)
        for item in parameters:
            if item["in"] == "path":
                assert item["required"] is True, (method, path, item["name"])
                schema = resolve(document, item["schema"])
                if item["name"] == "platform":  # the platforms by name, as everywhere
                    assert schema["enum"] == ["tiktok", "instagram", "x"], (method, path)
                else:
                    assert schema["type"] == "integer", (method, path, item["name"])


def test_every_reference_resolves(document):
    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                assert resolve(document, node), node["$ref"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


def test_every_operation_documents_sign_in_errors(document):
    """Every operation but /healthz needs a token or a session: 401 and 403 are documented."""
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        **document["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    for method, path, operation in operations(document):
        if path == "/healthz":
            assert operation["security"] == []
            continue
        assert "security" not in operation, (method, path)
        # The docs page is for people: it sends them to sign in, as pages do.
        unauthorized = "302" if path == "/api/v1/docs" else "401"
        assert unauthorized in operation["responses"], (method, path)
        for status in (unauthorized, "403"):
            if status == "302":
                continue
            response = resolve(document, operation["responses"][status])
            assert "application/problem+json" in response["content"], (method, path, status)


def test_document_is_what_the_app_serves(app, document):
    assert document["info"]["version"] == app.config["TOKER_VERSION"] == __version__
    assert document == DOCUMENT
    assert document == build_document(app.config["TOKER_VERSION"], app.config["TOKER_MIN_LIKES"])
    payload = document["components"]["schemas"]["Payload"]
    assert payload["properties"]["number_of_likes"]["minimum"] == app.config["TOKER_MIN_LIKES"]


# --- validity ---------------------------------------------------------------------------------


def test_document_is_valid_openapi_3_1(app, auth_headers):
    schema = schemathesis.openapi.from_wsgi(OPENAPI_URL, app, headers=auth_headers)
    assert schema.specification.version == "3.1.0"
    schema.validate()  # against the OpenAPI 3.1 meta-schema; raises when invalid
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert "GET /api/v1/profiles/{profile_id}" in labels


def test_validation_would_catch_a_broken_document():
    broken = build_document("0")
    broken["paths"]["/api/v1/categories"]["get"]["responses"] = "none"
    with pytest.raises(jsonschema_rs.ValidationError):
        schemathesis.openapi.from_dict(broken).validate()


def test_the_document_needs_sign_in(anonymous):
    with pytest.raises(LoaderError, match="401"):
        schemathesis.openapi.from_wsgi(OPENAPI_URL, anonymous.application)
    assert anonymous.get("/healthz").status_code == 200


# --- sign-in errors match the document ----------------------------------------------------------


def test_401_and_403_answers_match_the_document(client_as, anonymous):
    missing = anonymous.get("/api/v1/profiles")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert_documented("/api/v1/profiles", "GET", missing)

    wrong = anonymous.get("/api/v1/categories", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert_documented("/api/v1/categories", "GET", wrong)

    forbidden = client_as("viewer").delete("/api/v1/profiles/1")
    assert forbidden.status_code == 403
    assert_documented("/api/v1/profiles/{profile_id}", "DELETE", forbidden)


# --- answers the fuzzing cannot reach ---------------------------------------------------------


@pytest.mark.parametrize(
    "fault, status, retry_after",
    [("timeout", 504, "60"), ("rate_limit:45", 503, "45"), ("malformed", 502, None)],
)
def test_platform_failures_match_the_document(
    app, client, auth_headers, fault, status, retry_after
):
    app.config.update(TOKER_CONNECTOR_FAULTS=fault, TOKER_CONNECTOR_RETRIES=1)
    response = client.post(
        "/api/v1/connect", json={"platform": "tiktok", "user_id": "1"}, headers=auth_headers
    )
    assert response.status_code == status, response.text
    assert_documented("/api/v1/connect", "POST", response)
    if retry_after:
        assert response.headers["Retry-After"] == retry_after
        assert response.get_json()["retry_after"] == int(retry_after)


def test_a_body_over_the_limit_matches_the_document(app, client, auth_headers):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    body = {"platform": "tiktok", "payload": {"username": "x" * 2000}}
    response = client.post("/api/v1/profiles", json=body, headers=auth_headers)
    assert response.status_code == 413
    assert_documented("/api/v1/profiles", "POST", response)


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("DELETE", "/api/v1/profiles/{profile_id}", None),
        ("POST", "/api/v1/profiles", {"platform": "x", "payload": {}}),
        ("POST", "/api/v1/connect", {"platform": "x"}),
    ],
)
def test_a_session_without_its_csrf_token_matches_the_document(client, method, path, body):
    client.send_csrf = False
    response = client.open(path.format(profile_id=1), method=method, json=body)
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("csrf")
    assert_documented(path, method, response)


def test_health_without_a_database_matches_the_document(client, monkeypatch):
    from webapp.api import routes

    monkeypatch.setattr(routes, "text", lambda _sql: sql_text("SELECT * FROM no_such_table"))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert_documented("/healthz", "GET", response)


@pytest.mark.parametrize(
    "method, suffix",
    [
        ("GET", ""),
        ("GET", "/vector"),
        ("GET", "/similar"),
        ("GET", "/recommendations"),
        ("DELETE", ""),
    ],
)
@pytest.mark.parametrize("profile_id", [2**31, SQLITE_MAX_INTEGER + 1, 10**30])
def test_a_huge_profile_id_is_a_404(client, auth_headers, method, suffix, profile_id):
    response = client.open(
        f"/api/v1/profiles/{profile_id}{suffix}", method=method, headers=auth_headers
    )
    assert response.status_code == 404


# --- the docs page ------------------------------------------------------------------------------


def docs_page(client) -> BeautifulSoup:
    return html_page(client.get(DOCS_URL))


def test_docs_page_draws_the_document_with_swagger_ui_from_local_files(client):
    """The page is Swagger UI over the document; what it draws (every operation, its
    parameters and responses) is checked in a browser: tests/browser/test_api_docs.py."""
    page = docs_page(client)
    root = page.select_one("#swagger-ui")
    assert root["data-spec"] == OPENAPI_URL
    assert root["data-csrf"], "Try it out needs the session's CSRF token for writes"
    scripts = [tag["src"] for tag in page.select("script[src]")]
    styles = [tag["href"] for tag in page.select('link[rel="stylesheet"]')]
    local = ["/static/vendor/swagger-ui-bundle.js", "/static/js/api-docs.js"]
    assert scripts[-2:] == local, "the bundle first, then the script that starts it"
    assert "/static/vendor/swagger-ui.css" in styles
    for path in local + ["/static/vendor/swagger-ui.css"]:
        response = client.get(path)
        response.close()  # a file's answer holds the file open until closed
        assert response.status_code == 200, f"{path} is not served (scripts/fetch-assets)"
    assert page.select_one(f'a[href="{OPENAPI_URL}"]') is not None
    assert page.select_one("#explorer-missing") is None


def test_docs_page_says_so_when_the_explorer_files_are_missing(client, monkeypatch):
    monkeypatch.setattr("webapp.api.docs.STATIC_VENDOR", "/nonexistent")
    page = docs_page(client)
    assert "scripts/fetch-assets" in page.select_one("#explorer-missing").get_text()
    assert page.select_one(f'a[href="{OPENAPI_URL}"]') is not None


def test_docs_page_works_under_a_strict_csp(client):
    """No inline script and no inline event handler; the policy allows no eval."""
    assert inline_code(docs_page(client)) == []
    policy = client.get(DOCS_URL).headers["Content-Security-Policy"]
    assert "unsafe-eval" not in policy and "script-src 'self'" in policy


# --- Schemathesis -------------------------------------------------------------------------------


@api_schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Swap most generated profile, job and list ids for stored ones, so detail routes answer
    200 too (a list's member routes take both a stored list and a stored profile)."""
    strategy = st.just(path_parameters)
    seeded = (("profile_id", SEEDED_PROFILES), ("job_id", SEEDED_JOBS), ("list_id", SEEDED_LISTS))
    for name, count in seeded:
        if path_parameters and name in path_parameters:

            def either(params, name=name, count=count):
                stored = st.integers(1, count).map(lambda pk: {**params, name: pk})
                return st.one_of(stored, st.just(params))

            strategy = strategy.flatmap(either)
    return strategy


@api_schema.hook
def flatmap_body(context, body):
    """Swap many generated lists of profile ids for stored ones, so that jobs start too."""
    ids = body.get("profile_ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids:
        return st.just(body)
    stored = st.lists(st.integers(1, STORED_PROFILES), min_size=1, max_size=len(ids), unique=True)
    return st.one_of(st.just(body), stored.map(lambda picked: {**body, "profile_ids": picked}))


@pytest.fixture
def seeded_app(app, runner):
    """The app over a database with demo profiles (ids 1 to n, a few rejected by the rules),
    queued jobs (ids 1 to SEEDED_JOBS) and lists of the first profiles (ids 1 to
    SEEDED_LISTS)."""
    result = runner.invoke(args=["seed", "--count", str(SEEDED_PROFILES), "--seed", "7"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        ids = list(db.session.scalars(select(Profile.id).order_by(Profile.id)))
    assert ids == list(range(1, len(ids) + 1)) and len(ids) >= STORED_PROFILES
    for _ in range(SEEDED_JOBS):
        result = runner.invoke(args=["jobs", "start", "resync", "--profile-id", "1"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        for number in range(1, SEEDED_LISTS + 1):
            made = lists.create_list(f"List {number}", audit.Actor("tests"))
            assert made.id == number
            lists.add_members(made.id, ids[:STORED_PROFILES], audit.Actor("tests"))
    return app


@api_schema.parametrize()
@FUZZ
def test_api_answers_as_documented(case, seeded_app, auth_headers):
    """Every operation, fuzzed: no 5xx; status, content type and body as documented.

    The app and its database are made once per operation and shared by its examples, which is
    why Hypothesis' function-scoped-fixture health check is off.
    """
    case.call_and_validate(app=seeded_app, headers=auth_headers, checks=CHECKS)
