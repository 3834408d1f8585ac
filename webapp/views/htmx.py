"""One helper for pages that htmx also asks for in parts."""

from flask import make_response, render_template, request


def is_partial_request() -> bool:
    """An htmx request for part of a page (not a history restore, which needs the page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


def render_page_or_partial(page_template: str, partial_template: str, **context):
    """The partial for htmx, the whole page otherwise; one URL, so `Vary: HX-Request`."""
    template = partial_template if is_partial_request() else page_template
    response = make_response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response
