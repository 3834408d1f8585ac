"""Front-end libraries: a pinned CDN URL with Subresource Integrity, and a local fallback.

Local copies come from npm packages that scripts/fetch-assets puts into webapp/static/vendor/
(not committed): htmx from htmx.org, Plotly from plotly.js-strict-dist-min. Plotly's strict
bundle is the same Plotly without `eval`, which the Content-Security-Policy forbids and the
WebGL map would otherwise need. Without it, the plotly.min.js that the installed `plotly`
Python package ships is served instead (every chart but the WebGL map works under the policy).
TOKER_ASSETS=local skips the CDN entirely.
"""

import logging
import os
from dataclasses import dataclass
from importlib import resources

from flask import Blueprint, Flask, abort, send_file, url_for

log = logging.getLogger(__name__)
STATIC_VENDOR = os.path.join(os.path.dirname(__file__), "static", "vendor")


@dataclass(frozen=True)
class Asset:
    """One pinned library."""

    name: str
    version: str
    cdn_url: str
    integrity: str
    global_name: str  # the window property that proves the library loaded


HTMX = Asset(
    name="htmx",
    version="2.0.11",
    cdn_url="https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js",
    integrity="sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg",
    global_name="htmx",
)
PLOTLY = Asset(
    name="plotly",
    version="4.1.1",
    cdn_url="https://cdn.jsdelivr.net/npm/plotly.js-strict-dist-min@4.1.1/plotly-strict.min.js",
    integrity="sha384-/lbNMfb/7o3BACbPfjZ5vPjLnkHAGgGVFUMhNrui3MWiUz+btzlD0aIcEQjnb2Wu",
    global_name="Plotly",
)
ASSETS = (HTMX, PLOTLY)

bp = Blueprint("assets", __name__)


def htmx_path() -> str:
    return os.path.join(STATIC_VENDOR, "htmx.min.js")


def plotly_strict_path() -> str:
    return os.path.join(STATIC_VENDOR, "plotly-strict.min.js")


def plotly_package_path() -> str:
    return str(resources.files("plotly").joinpath("package_data", "plotly.min.js"))


def plotly_path() -> str:
    """The strict bundle when fetched, else the Python package's copy."""
    strict = plotly_strict_path()
    return strict if os.path.exists(strict) else plotly_package_path()


def local_path(asset: Asset) -> str:
    """Where the local copy of an asset lives on disk."""
    return htmx_path() if asset is HTMX else plotly_path()


@bp.get("/assets/<name>.min.js")
def local_asset(name: str):
    """Serve a library's local copy (long cache: the URL carries the version)."""
    asset = next((a for a in ASSETS if a.name == name), None)
    if asset is None:
        abort(404)
    path = local_path(asset)
    if not os.path.exists(path):
        abort(404)
    return send_file(path, mimetype="text/javascript", max_age=31536000)


def script_tags(app: Flask) -> list[dict]:
    """What the base template needs to load each library: CDN, SRI and fallback URLs."""
    use_cdn = app.config["TOKER_ASSETS"] != "local"
    return [
        {
            "name": asset.name,
            "cdn_url": asset.cdn_url if use_cdn else None,
            "integrity": asset.integrity,
            "local_url": url_for("assets.local_asset", name=asset.name, v=asset.version),
            "global_name": asset.global_name,
        }
        for asset in ASSETS
    ]


def check_local_copies() -> list[str]:
    """Say clearly, at start-up, which local copies are missing and how to get them."""
    missing = []
    if not os.path.exists(htmx_path()):
        missing.append(
            f"htmx's local copy is missing ({htmx_path()}): pages work only while the CDN "
            "answers. Fetch it with: scripts/fetch-assets"
        )
    if not os.path.exists(plotly_strict_path()):
        missing.append(
            f"Plotly's strict local copy is missing ({plotly_strict_path()}): the map's WebGL "
            "needs it under the Content-Security-Policy when the CDN is not used. "
            "Fetch it with: scripts/fetch-assets"
        )
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        if not os.path.exists(os.path.join(STATIC_VENDOR, name)):
            missing.append(
                f"Swagger UI's {name} is missing ({STATIC_VENDOR}): the API documentation page "
                "shows only a link to the OpenAPI document. Fetch it with: scripts/fetch-assets"
            )
    if not os.path.exists(plotly_package_path()):
        missing.append("Plotly's local copy is missing: reinstall the 'plotly' package.")
    for message in missing:
        log.warning(message)
    return missing
