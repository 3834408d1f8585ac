"""Jinja filters for the pages: plain Python, much cheaper per table cell than macros."""

from collections.abc import Callable
from datetime import datetime

from flask import has_request_context, request, url_for
from markupsafe import Markup, escape

from ..services.ingestion.platforms import LABELS
from ..services.ingestion.taxonomy import CATEGORIES


def number(value) -> str:
    """12345 -> '12,345'."""
    return f"{value:,}" if isinstance(value, int) else str(value)


def when(value, wrap: bool = False) -> Markup:
    """A <time> element for a datetime or an ISO 8601 string; a dash when empty. With `wrap`,
    a narrow column may put the time under the date (never break inside either)."""
    if not value:
        return Markup("—")
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    # Both renderings are digits and separators only, so nothing needs escaping.
    stamp = value.isoformat()
    if isinstance(value, datetime) and stamp[10:11] == "T":
        shown = f"{stamp[:10]} {stamp[11:16]}"  # what strftime("%Y-%m-%d %H:%M") gives
    else:
        shown = value.strftime("%Y-%m-%d %H:%M")
    if wrap:
        shown = " ".join(f'<span class="nowrap">{part}</span>' for part in shown.split(" "))
    return Markup(f'<time datetime="{stamp}">{shown}</time>')


# Built once: these cells repeat on every row of every table.
_BADGES = {key: Markup(f'<span class="badge {key}">{name}</span>') for key, name in LABELS.items()}


def platform_badge(platform: str) -> Markup:
    """The platform's name in its badge."""
    badge = _BADGES.get(platform)
    if badge is None:
        badge = Markup('<span class="badge">{}</span>').format(platform)
    return badge


_URLS: dict[tuple, str] = {}
_URLS_KEPT = 512
_SCALARS = (str, int, float, type(None))


def cached_url_for(endpoint: str, **values) -> str:
    """`url_for` for the templates, remembering each URL it built: a page's layout asks for
    the same twenty links (navigation, styles, scripts) on every request. A URL to another
    host or scheme, or with a list among its values, is built every time."""
    if (
        not has_request_context()
        or "_external" in values
        or "_scheme" in values
        or not all(isinstance(value, _SCALARS) for value in values.values())
    ):
        return url_for(endpoint, **values)
    key = (request.script_root, endpoint, *sorted(values.items()))
    found = _URLS.get(key)
    if found is None:
        found = url_for(endpoint, **values)
        if len(_URLS) >= _URLS_KEPT:
            _URLS.clear()
        _URLS[key] = found
    return found


# An id no row has, put in a URL to find where each row's id goes.
_ID_SLOT = 987_654_321_012_345


def url_for_ids(endpoint: str, name: str) -> Callable[[int], str]:
    """`url_for(endpoint, name=id)` for the many ids of a table: url_for runs once per page,
    then each row's id is put where it goes (a table of 50 rows made 50 url_for calls)."""
    slot = str(_ID_SLOT)
    head, _, tail = url_for(endpoint, **{name: _ID_SLOT}).rpartition(slot)
    return lambda value: f"{head}{int(value)}{tail}"


_VERIFIED = Markup('<span class="verified" title="Verified">✓ Verified</span>')
_NOT_VERIFIED = Markup('<span class="muted">No</span>')
# Where each column shows on a phone, whose rows are cards: a label above the value, or not
# at all (the profile page has the rest).
_PHONE_LABELS = {
    "followers": "Followers",
    "likes_given": "Likes given",
    "engagement": "Engagement",
    "dominant": "Interest",
}
_HIDDEN = {"verified": "hide-sm hide-md", "growth": "hide-sm hide-md"}


def column_class(column) -> str:
    """The classes of a column's cells: numbers right-aligned; where it hides on a narrow
    screen."""
    classes = ["num"] if column.numeric else []
    if column.key not in _PHONE_LABELS and column.key != "platform":
        classes.append(_HIDDEN.get(column.key, "hide-sm"))
    return " ".join(classes)


def _cell_text(column) -> Callable[[dict, object], str]:
    """How one column's value is written (HTML, escaped where it holds account text)."""
    field = column.field
    if column.category is not None:
        index = CATEGORIES.index(column.category)
        return lambda p, weights: "—" if weights is None else f"{weights[index] * 100:.1f} %"
    if field == "platform":
        return lambda p, weights: platform_badge(p["platform"])
    if field == "verified":
        return lambda p, weights: _VERIFIED if p["verified"] else _NOT_VERIFIED
    if field == "engagement_rate":
        return lambda p, weights: f"{p['engagement_rate'] * 100:.2f} %"
    if field == "growth_30d":
        return lambda p, weights: _growth(p["growth_30d"])
    if field in ("created_at", "updated_at"):
        return lambda p, weights: when(p[field], wrap=True)
    if column.numeric:
        return lambda p, weights: escape(number(p[field]))
    return lambda p, weights: escape(p[field] or "—")


def row_cells(columns) -> list[Callable[[dict, object], str]]:
    """Each column's cell writer, made once per table (a page has 50 rows)."""
    cells = []
    for column in columns:
        label = _PHONE_LABELS.get(column.key)
        opening = f'<td class="{column_class(column)}"'
        if label:
            opening += f' data-label="{label}"'
        opening += ">"
        text = _cell_text(column)
        cells.append(
            lambda p, weights, opening=opening, text=text: f"{opening}{text(p, weights)}</td>"
        )
    return cells


def profile_row(p: dict, href: Callable[[int], str], cells, weights=None) -> Markup:
    """One row of the profiles table, in one piece: a table of 50 rows had 400 template
    expressions, each escaped and joined on its own. Text from accounts is escaped here;
    `weights` are the profile's interest shares when a column shows one."""
    username = escape(p["username"])
    pk = int(p["id"])
    return Markup(
        "<tr>"
        f'<td><input type="checkbox" name="ids" value="{pk}" form="compare-form"'
        f' aria-label="Compare {username}"></td>'
        f'<td><a href="{escape(href(pk))}">{username}</a></td>'
        + "".join(cell(p, weights) for cell in cells)
        + "</tr>"
    )


def _growth(value: float | None) -> str:
    """+12.5 %, −3.0 %, or a dash while the history is shorter than the period."""
    return "—" if value is None else f"{value * 100:+.1f} %".replace("-", "−")


def platform_name(platform: str) -> str:
    """tiktok -> TikTok."""
    return LABELS.get(platform, platform)


def options(choices, chosen=None) -> Markup:
    """The <option>s of a <select>, `chosen` selected: each choice is a value, or a (value,
    label) pair. One call, not a template loop with a test per option (the profile page has
    three such lists, 65 options)."""
    made = []
    for choice in choices:
        value, label = choice if isinstance(choice, tuple) else (choice, choice)
        selected = " selected" if value == chosen else ""
        made.append(f'<option value="{escape(value)}"{selected}>{escape(label)}</option>')
    return Markup("".join(made))


FILTERS = {
    "number": number,
    "when": when,
    "platform_badge": platform_badge,
    "platform_name": platform_name,
    "profile_row": profile_row,
    "column_class": column_class,
    "options": options,
}
