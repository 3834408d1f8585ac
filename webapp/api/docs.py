"""The API's OpenAPI document, and the page that shows it: Swagger UI (npm's swagger-ui-dist,
served from this app's own files under the Content-Security-Policy; scripts/fetch-assets)."""

import os

from flask import current_app, render_template

from ..assets import STATIC_VENDOR
from .openapi import build_document
from .routes import bp

SWAGGER_UI_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")


def current_document() -> dict:
    """The OpenAPI document for the running version."""
    config = current_app.config
    return build_document(config["TOKER_VERSION"], int(config["TOKER_MIN_LIKES"]))


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of the JSON API."""
    return current_document()


@bp.get("/docs")
def api_docs():
    """The document as a page people can read and try: Swagger UI over /api/v1/openapi.json."""
    ready = all(os.path.exists(os.path.join(STATIC_VENDOR, name)) for name in SWAGGER_UI_FILES)
    return render_template("api_docs.html", section="api", explorer_ready=ready)
