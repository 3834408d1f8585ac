"""Front-end libraries: a pinned CDN URL with Subresource Integrity, and a local fallback.

htmx's local copy comes from the htmx.org npm package (scripts/fetch-assets puts it into
webapp/static/vendor/, which is not committed); Plotly's is the plotly.min.js that the
installed `plotly` Python package ships. TOKER_ASSETS=local skips the CDN entirely.
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
    cdn_url="https://cdn.plot.ly/plotly-4.1.1.min.js",
    integrity="sha384-AFNp2MtSm5/oZbEs/J19F/Ah57MEiVsoed8nE3fq2Wnccdl1u/EkyJ9XKKU8rt7+",
    global_name="Plotly",
)
ASSETS = (HTMX, PLOTLY)

bp = Blueprint("assets", __name__)


def htmx_path() -> str:
    return os.path.join(STATIC_VENDOR, "htmx.min.js")


def plotly_path() -> str:
    return str(resources.files("plotly").joinpath("package_data", "plotly.min.js"))


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
    if not os.path.exists(plotly_path()):
        missing.append("Plotly's local copy is missing: reinstall the 'plotly' package.")
    for message in missing:
        log.warning(message)
    return missing
