"""Rate limits: which views have one of their own (the limiter passes every other request by)."""

from flask import current_app, request

from ..extensions import limiter

# The views with a rate limit of their own (@limiter.limit): a limit put on another view must
# be named here too, or the limiter skips it (see skips_rate_limits).
RATE_LIMITED_ENDPOINTS = frozenset({"auth.signin", "auth.change_password"})


@limiter.request_filter
def skips_rate_limits() -> bool:
    """Whether the limiter may pass this request by: its view has no limit and the app sets
    no default ones. (Working that out itself took about 5 % of an API request.)"""
    config = current_app.config
    if config.get("RATELIMIT_DEFAULT") or config.get("RATELIMIT_APPLICATION"):
        return False
    return request.endpoint not in RATE_LIMITED_ENDPOINTS
