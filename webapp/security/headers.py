"""What every answer carries: the Content-Security-Policy and the other security headers, and
the origins CORS lets call the API."""

from flask import Flask, current_app, request

from ..assets import ASSETS


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


def cors_origins(app: Flask) -> list[str]:
    """The other origins allowed to call the API, from TOKER_CORS_ORIGINS."""
    raw = app.config.get("TOKER_CORS_ORIGINS") or ""
    if isinstance(raw, list | tuple):
        return [origin.strip().rstrip("/") for origin in raw if origin.strip()]
    return [origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip()]
