"""List pages: every list with a form to make one, one list's members with their notes, tags
and statuses edited in place (htmx), its export, and adding a profile from its page."""

import json

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from .. import queries
from ..models import LIST_STATUSES
from ..security import current_actor, record_action, requires
from ..services.analytics import similarity
from ..services.catalogue import columns as columns_
from ..services.ingestion.taxonomy import CATEGORIES
from ..services.team import lists
from .filters import column_class, row_cells, url_for_ids
from .forms import ListForm, MemberForm
from .htmx import is_partial_request
from .pages import COMPARE_MAX, COMPARE_MIN

bp = Blueprint("lists", __name__, url_prefix="/lists")
EXPORT_FORMATS = {"csv": "text/csv", "json": "application/json"}
# The list's own columns, after the chosen profile columns: (data-column, header, sort key or
# None, classes). When a member was added shows under its change since, and sorts from the
# sort control above the table (as every column does).
MEMBER_COLUMNS = (
    ("status", "Status", "status", ""),
    ("tags_note", "Tags and note", None, ""),
    ("since_added", "Since added", "change", "num"),
    ("engagement_change", "Engagement", "engagement", "num hide-sm"),
    ("drift", "Drift", None, "num hide-sm"),
)
MEMBER_SORT_LABELS = (
    ("added", "When added"),
    ("username", "Username"),
    ("platform", "Platform"),
    ("status", "Status"),
    ("followers", "Followers"),
    ("engagement", "Engagement rate"),
    ("change", "Followers since added"),
)


def _index(form: ListForm, status: int = 200):
    query = _parse(queries.ListsQuery)
    found, total = lists.all_lists(query.page, query.per_page)
    body = render_template(
        "lists.html",
        section="lists",
        lists=found,
        total=total,
        page=query.page,
        pages=max(1, -(-total // query.per_page)),
        form=form,
        errors=form.first_errors(),
    )
    return body, status


def _parse(model: type[queries.Query]):
    try:
        return model.parse(request.args)
    except queries.BadQuery as error:
        abort(400, description=f"{error.param} {error.message}.")


@bp.get("")
def index():
    """Every list by name with its member count; analysts see a form to make one."""
    return _index(ListForm(formdata=None))


@bp.post("")
@requires("analyst")
def create():
    """Make a list from the form, then show it; the form again, with the reason, if refused."""
    form = ListForm()
    try:
        made = lists.create_list(
            form.name.data or "", current_actor(), form.description.data or "", current_user.id
        )
    except lists.InvalidValue as error:
        form.refuse(error.field, f"the {error.field} {error.message}", "name")
        return _index(form, 422)
    except lists.NameTaken as error:
        form.refuse("name", str(error).rstrip("."), "name")
        return _index(form, 422)
    flash(f"Made the list {made.name}.", "success")
    return redirect(url_for("lists.detail", list_id=made.id), code=303)


@bp.get("/<int:list_id>")
def detail(list_id: int):
    """One list: a page of its members with what changed since each was added, searched,
    filtered (platform, status, tag), sorted and paged as the profiles table is (htmx asks
    for the table alone); analysts edit each member in its row, and rename or describe the
    list; any member ticked goes to compare."""
    return _detail(list_id, ListForm(formdata=None))


def _link_args(query: lists.MemberQuery, columns: str | None) -> dict:
    """The query string of the members shown, without what is a default."""
    default_order = "asc" if query.sort in lists.ASCENDING_FIRST else "desc"
    args = {
        "q": query.q or None,
        "platform": query.platform,
        "status": query.status,
        "tag": query.tag,
        "sort": query.sort if query.sort != lists.DEFAULT_MEMBER_SORT else None,
        "order": query.order if query.order != default_order else None,
        "per_page": query.per_page if query.per_page != lists.MEMBERS_PER_PAGE else None,
        "columns": columns,
    }
    if args["order"]:
        args["sort"] = query.sort
    return {key: value for key, value in args.items() if value}


def _table_query() -> tuple[queries.ListTableQuery, bool]:
    """The list table's query, the Columns chooser's ticks read as columns=...; whether the
    request came from that form (then the address to show is the one URL form)."""
    args = request.args.copy()
    try:
        from_form = queries.form_fields(args, lists.DEFAULT_COLUMNS)
        return queries.ListTableQuery.parse(args), from_form
    except queries.BadQuery as error:
        abort(400, description=f"{error.param} {error.message}.")


def _headers(shown: list) -> list[dict]:
    """The table's column headers: the username, the chosen columns (those a list sorts by
    with their sort key), then the list's own."""
    headers = [{"key": "username", "label": "Username", "sort": "username", "class": ""}]
    for column in shown:
        sort = column.sort if column.sort in lists.MEMBER_SORTS else None
        headers.append(
            {"key": column.key, "label": column.label, "sort": sort, "class": column_class(column)}
        )
    for key, label, sort, classes in MEMBER_COLUMNS:
        headers.append({"key": key, "label": label, "sort": sort, "class": classes})
    return headers


def _row_context(parsed: queries.ListTableQuery, members: list[dict]) -> dict:
    """What a member's row needs to show the chosen columns: their cell writers, the shares
    from the live matrix when one shows a share, and the columns for its Save button."""
    shown = _shown(parsed)
    weights = (
        similarity.weights_of(member["profile_id"] for member in members)
        if any(column.category for column in shown)
        else {}
    )
    return {
        "cells": row_cells(shown, keyed=True),
        "weights": weights,
        "row_args": {"columns": parsed.columns_arg()} if parsed.columns_arg() else {},
    }


def _shown(parsed: queries.ListTableQuery) -> list:
    """The chosen columns (catalogue.columns.Column)."""
    return [columns_.column(key) for key in parsed.chosen_columns()]


def _fields_of(shown: list) -> tuple[str, ...]:
    """The summary fields the columns show, read with the members."""
    return tuple(column.field for column in shown if column.field is not None)


def _detail(list_id: int, form: ListForm, status: int = 200):
    found = lists.get_list(list_id)
    parsed, from_form = _table_query()
    query = parsed.query()
    shown_args = _link_args(query, parsed.columns_arg())
    paged = {"page": query.page} if query.page != 1 else {}
    canonical = url_for("lists.detail", list_id=list_id, **shown_args, **paged)
    if from_form and not is_partial_request() and status == 200:
        return redirect(canonical)
    shown = _shown(parsed)
    page = lists.members_page(list_id, query, _fields_of(shown))

    def link(**changes) -> str:
        """The list's address with the members shown, `changes` applied (None drops one)."""
        args = {key: value for key, value in {**shown_args, **changes}.items() if value}
        return url_for("lists.detail", list_id=list_id, **args)

    export_args = {key: value for key, value in shown_args.items() if key != "per_page"}
    context = {
        "section": "lists",
        "found": lists.list_summary(found),
        "page": page,
        "pages": max(1, -(-page["total"] // query.per_page)),
        "members": page["items"],
        "statuses": LIST_STATUSES,
        "query": query,
        "headers": _headers(shown),
        "sortable": MEMBER_SORT_LABELS,
        "link": link,
        "filtered": bool(query.q or query.platform or query.status or query.tag),
        "per_page_arg": shown_args.get("per_page"),
        "compare_range": (COMPARE_MIN, COMPARE_MAX),
        "profile_href": url_for_ids("pages.profile", "profile_id"),
        "exports": {
            fmt: url_for("lists.export", list_id=list_id, format=fmt, **export_args)
            for fmt in EXPORT_FORMATS
        },
        "field_columns": list(columns_.FIELD_COLUMNS.values()),
        "categories": CATEGORIES,
        "chosen_columns": parsed.chosen_columns(),
        **_row_context(parsed, page["items"]),
    }
    if is_partial_request() and status == 200:
        response = make_response(render_template("partials/_list_members_table.html", **context))
        response.headers["HX-Push-Url"] = canonical
    else:
        if form.name.data is None:
            form.name.data, form.description.data = found.name, found.description
        body = render_template("list.html", form=form, errors=form.first_errors(), **context)
        response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


@bp.post("/<int:list_id>/edit")
@requires("analyst")
def update(list_id: int):
    """Rename the list or change its description from the form, then show it; the form
    again, with the reason, if refused."""
    form = ListForm()
    try:
        lists.update_list(list_id, current_actor(), form.name.data, form.description.data)
    except lists.InvalidValue as error:
        form.refuse(error.field, f"the {error.field} {error.message}", "name")
        return _detail(list_id, form, 422)
    except lists.NameTaken as error:
        form.refuse("name", str(error).rstrip("."), "name")
        return _detail(list_id, form, 422)
    flash("Saved.", "success")
    return redirect(url_for("lists.detail", list_id=list_id), code=303)


@bp.get("/<int:list_id>/export")
def export(list_id: int):
    """The members the list's page shows (its search, filters and sort; every page) as a CSV
    or JSON file."""
    found = lists.get_list(list_id)
    fmt = request.args.get("format", "csv")
    if fmt not in EXPORT_FORMATS:
        abort(400, description="format must be csv or json.")
    # Every page of the members the list's page shows, in its order, with the profile fields
    # of its chosen columns (every summary field when none are chosen) and every share.
    parsed = _parse(queries.ListTableQuery)
    fields = lists.export_fields(parsed.columns)
    summary = [name for name in fields if name != "profile_id"]
    shown = lists.members(list_id, parsed.query(), summary, interests=True)
    if fmt == "csv":
        body = lists.members_csv(shown, fields)
    else:
        body = json.dumps(lists.members_json(shown, fields), ensure_ascii=False)
    record_action("export", f"list {list_id} as {fmt}", request.query_string.decode("utf-8"))
    response = Response(body, mimetype=EXPORT_FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="toker-list-{found.id}.{fmt}"'
    return response


@bp.post("/<int:list_id>/delete")
@requires("analyst")
def delete(list_id: int):
    """Delete the list (the profiles stay), then show every list."""
    name = lists.get_list(list_id).name
    lists.delete_list(list_id, current_actor())
    flash(f"Deleted the list {name}.", "success")
    return redirect(url_for("lists.index"), code=303)


def _whole_number(name: str, value: str) -> int:
    if not value.strip().isdigit():
        abort(400, description=f"{name} must be a whole number, not {value!r}.")
    return int(value)


@bp.post("/add")
@requires("analyst")
def add_members():
    """Add the profiles a form names to its list (list_id): one from a profile's page
    (profile_id, then back to that page), or the profiles table's selection (ids, asked by
    htmx, answered with what was done in words); else go to the list."""
    list_id = _whole_number("list_id", request.form.get("list_id", ""))
    found = lists.get_list(list_id)
    values = request.form.getlist("profile_id") + request.form.getlist("ids")
    ids = [_whole_number("profile_id", value) for value in values]
    try:
        if not ids:
            raise ValueError("Tick the profiles to add first.")
        done = lists.add_members(list_id, ids, current_actor())
    except (lists.UnknownProfiles, ValueError) as error:
        if is_partial_request():
            return _said(str(error), error=True)
        abort(400, description=str(error))
    said = f"Added {len(done.added)} to {found.name}" + (
        f"; {len(done.already)} on it already." if done.already else "."
    )
    if is_partial_request():
        return _said(said, href=url_for("lists.detail", list_id=list_id))
    flash(said, "success")
    if len(ids) == 1 and request.form.get("back") == "profile":
        return redirect(url_for("pages.profile", profile_id=ids[0]), code=303)
    return redirect(url_for("lists.detail", list_id=list_id), code=303)


@bp.post("/from-roster")
@requires("analyst")
def from_roster():
    """Save a roster as a new list (its name, its picks in order), then show the list; a
    refusal (a name taken or empty) goes back to the same roster with the reason."""
    back = request.form.get("back", "")
    if not back.startswith("/roster"):
        back = url_for("pages.roster_page")
    ids = [_whole_number("ids", value) for value in request.form.getlist("ids")]
    if not ids:
        abort(400, description="A roster to save names its profiles in ids.")
    name = request.form.get("name", "").strip()
    try:
        made = lists.create_list_of(
            name, current_actor(), ids, request.form.get("description", ""), current_user.id
        )
    except lists.InvalidValue as error:
        flash(f"Not saved: the {error.field} {error.message}.", "error")
        return redirect(back, code=303)
    except (lists.NameTaken, lists.UnknownProfiles) as error:
        flash(f"Not saved: {str(error).rstrip('.')}.", "error")
        return redirect(back, code=303)
    flash(f"Saved the roster as the list {made.name}, {len(ids)} profiles.", "success")
    return redirect(url_for("lists.detail", list_id=made.id), code=303)


def _said(message: str, error: bool = False, href: str | None = None) -> Response:
    """What a bulk add did, for the profiles page to show beside its button."""
    response = Response(
        render_template("partials/_list_added.html", message=message, error=error, href=href)
    )
    response.vary.add("HX-Request")
    return response


@bp.post("/<int:list_id>/members/<int:profile_id>")
@requires("analyst")
def update_member(list_id: int, profile_id: int):
    """Save a member's note, tags and status from its row: htmx gets the row back (with the
    reason when refused), a plain form post goes back to the list."""
    form = MemberForm()
    error = None
    try:
        lists.update_member(
            list_id,
            profile_id,
            current_actor(),
            # A field the post leaves out (None) stays as it is.
            note=form.note.data,
            tags=lists.split_tags(form.tags.data) if form.tags.data is not None else None,
            status=form.status.data or None,
        )
    except lists.InvalidValue as refused:
        error = f"{refused.field.capitalize()} {refused.message}."
    if is_partial_request():
        # The row comes back with the columns the page shows (its Save button's columns=).
        parsed = _parse(queries.ListTableQuery)
        member = lists.one_member(list_id, profile_id, _fields_of(_shown(parsed)))
        response = Response(
            render_template(
                "partials/_list_member_row.html",
                found={"id": list_id},
                member=member,
                statuses=LIST_STATUSES,
                profile_href=url_for_ids("pages.profile", "profile_id"),
                error=error,
                **_row_context(parsed, [member]),
            )
        )
        response.vary.add("HX-Request")
        return response
    flash(error or "Saved.", "error" if error else "success")
    return redirect(url_for("lists.detail", list_id=list_id), code=303)


@bp.post("/<int:list_id>/members/<int:profile_id>/remove")
@requires("analyst")
def remove_member(list_id: int, profile_id: int):
    """Take a profile off the list (it stays stored), then show the list."""
    lists.remove_member(list_id, profile_id, current_actor())
    flash("Taken off the list.", "success")
    return redirect(url_for("lists.detail", list_id=list_id), code=303)
