"""Dashboard pages: overview, profiles (browse, one profile, compare, like a mix), videos, map,
the roster builder."""

import json
import math

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from .. import queries
from ..extensions import db
from ..security import current_actor, current_requester, record_action, requires
from ..services import jobs
from ..services.analytics import achievements, overview, recommendations, roster, similarity
from ..services.catalogue import columns as columns_
from ..services.catalogue import export, history, profiles, raw_payloads, videos
from ..services.ingestion import onboarding
from ..services.ingestion.connectors import ConnectorError
from ..services.ingestion.platforms import LABELS
from ..services.ingestion.taxonomy import CATEGORIES
from ..services.live import stamps
from ..services.team import lists
from ..services.team import views as saved_views
from . import charts
from .filters import FILTERS, cached_url_for, row_cells, url_for_ids
from .htmx import is_partial_request, render_page_or_partial

bp = Blueprint("pages", __name__)

STAT_CARDS = (
    ("Followers", "followers_count"),
    ("Following", "following_count"),
    ("Likes received", "likes_count"),
    ("Videos", "videos_count"),
    ("Likes given", "number_of_likes"),
    ("Shares", "number_of_shares"),
    ("Comments", "number_of_comments"),
)
# What a card's number counts, where a reader could take it for something else on the page:
# the account's own totals on the platform, not the videos a sync fetched.
STAT_HINTS = {
    "number_of_likes": "on the platform, all time",
    "number_of_shares": "on the platform, all time",
}
DEMO_SEED_COUNT = 200
DEMO_SEED_WEEKS = 12
SIMILAR_ON_PAGE = 8
INTEREST_FIELDS = queries.INTEREST_PICKERS
RECOMMENDED_ON_PAGE = 8
ROSTER_SIZE = 10
# How the roster form names its fields in a problem.
ROSTER_FIELDS = {
    "mix": "The mix",
    "size": "Size",
    "platform": "Platform",
    "min_followers": "Minimum followers",
    "max_followers": "Maximum followers",
}
COMPARE_MIN, COMPARE_MAX = 2, 4
# The most profiles one bulk action takes: a selection is ticked by hand, page by page, and a
# thousand rows keep a confirmation page, an export and a delete's transaction small.
BULK_MAX = 1000


@bp.record_once
def _register_filters(state) -> None:
    state.app.jinja_env.filters.update(FILTERS)
    state.app.jinja_env.globals["url_for"] = cached_url_for


@bp.app_context_processor
def layout_context() -> dict:
    """What every page's layout needs."""
    from ..assets import script_tags

    return {"assets": script_tags(current_app), "platforms": tuple(LABELS.items())}


@bp.get("/")
def index():
    """Overview: counts by platform, the most common interests, the latest profiles."""
    data = overview.overview()
    return render_template(
        "index.html",
        section="overview",
        interests_figure=charts.interest_shares(data["interests"]),
        heatmap_figure=charts.platform_heatmap(data["heatmap"]),
        **data,
    )


@bp.post("/seed")
@requires("analyst")
def seed_demo():
    """Fill the database with demo accounts and their weekly history, as a job; show it."""
    params = {"count": DEMO_SEED_COUNT, "weeks": DEMO_SEED_WEEKS}
    try:
        job = jobs.start_job("seed", params, current_requester())
    except jobs.QueueUnavailable as error:
        flash(f"{error}. Try again shortly.", "error")
        return redirect(url_for("pages.index"), code=303)
    flash(
        f"Seeding {DEMO_SEED_COUNT} demo accounts with {DEMO_SEED_WEEKS} weeks of history: "
        f"job {job.id} runs in the background.",
        "success",
    )
    return redirect(url_for("jobs.detail", job_id=job.id), code=303)


@bp.get("/profiles", endpoint="profiles")
def profile_list():
    """The profile browser; htmx asks for the table alone. The address bar always shows the
    query in its one URL form (TableQuery.args): the form's own fields (an interest as a
    category and a per cent, columns as ticks) are sent on as that form. Without any query it
    opens the person's default view, if they chose one; ?view=none shows every profile."""
    if not request.args and not is_partial_request():
        default = saved_views.default_query(current_user.id)
        if default is not None:
            return redirect(saved_views.url_of(default, url_for("pages.profiles")), code=302)
    args = request.args.copy()
    try:
        from_form = queries.form_fields(args)
        parsed = queries.TableQuery.parse(args)
    except queries.BadQuery as error:
        abort(400, description=str(error))
    if parsed.sort not in PAGE_SORTS:
        parsed = parsed.model_copy(update={"sort": profiles.DEFAULT_SORT, "order": None, "page": 1})
    canonical = url_for("pages.profiles", **parsed.args())
    if from_form and not is_partial_request():
        return redirect(canonical)
    query = parsed.query()
    # The table is the same for everyone at a data version: rendered once per version and
    # query, it is served again until the next write (the page around it names the user).
    key = (query, parsed.chosen_columns())
    table = _tables.get_or_compute(db.session, key, lambda: _profiles_table(parsed, query))
    if is_partial_request():
        response = make_response(table)
        response.headers["HX-Push-Url"] = canonical
    else:
        response = make_response(
            render_template(
                "profiles.html",
                section="profiles",
                query=query,
                parsed=parsed,
                table=table,
                chosen_interests=list(query.interests) + [None] * len(INTEREST_FIELDS),
                compare_range=(COMPARE_MIN, COMPARE_MAX),
                categories=CATEGORIES,
                field_columns=list(columns_.FIELD_COLUMNS.values()),
                chosen_columns=parsed.chosen_columns(),
                list_choices=lists.names(),
            )
        )
    response.vary.add("HX-Request")
    return response


# The sorts the table's headers offer: the username and each column that sorts.
PAGE_SORTS = frozenset(
    {"username"} | {column.sort for column in columns_.FIELD_COLUMNS.values() if column.sort}
)


_tables = stamps.VersionedCache(size=32)


def _profiles_table(parsed: queries.TableQuery, query: profiles.ListQuery) -> Markup:
    """The table of profiles with its facets, count, export links and pager, for `query`."""
    page = profiles.list_profiles(query)
    shown = columns_.shown(parsed.chosen_columns(), query.interests)
    weights = {}
    if any(column.category for column in shown):
        weights = similarity.weights_of(item["id"] for item in page["items"])
    export_args = parsed.args(page=None, per_page=None)

    def link(**changes) -> str:
        return url_for("pages.profiles", **parsed.args(**changes))

    return Markup(
        render_template(
            "partials/_profiles_table.html",
            query=query,
            parsed=parsed,
            page=page,
            pages=profiles.page_count(page["total"], query.per_page),
            columns=shown,
            cells=row_cells(shown),
            weights=weights,
            facets=profiles.facets(query),
            link=link,
            sortable=[("username", "Username")] + [(c.sort, c.label) for c in shown if c.sort],
            profile_href=url_for_ids("pages.profile", "profile_id"),
            export_args=export_args,
        )
    )


def _profile_or_404(profile_id: int):
    profile = profiles.get_profile(profile_id)
    if profile is None:
        abort(404, description=f"No profile has id {profile_id}.")
    return profile


def _pages(model: type[queries.Query]):
    """Which pages of a profile's videos the query string asks for; a 400 naming a bad one."""
    try:
        return model.parse(request.args)
    except queries.BadQuery as error:
        abort(400, description=f"{error.param} {error.message}.")


@bp.get("/profiles/<int:profile_id>")
def profile(profile_id: int):
    """One profile: stats, interest charts, top lists, videos, the raw payload."""
    record = _profile_or_404(profile_id)
    detail = profiles.profile_detail(record)
    detail["top_categories"] = detail["top_categories"][:5]
    pages = _pages(queries.VideoPagesQuery)
    past = history.profile_history(profile_id)
    return render_template(
        "profile.html",
        achievements=achievements.of_profile(db.session, profile_id),
        lists=lists.choices_for(profile_id),
        history=past,
        growth_figure=charts.history_growth(past),
        drift_figure=charts.interest_drift(past),
        section="profiles",
        profile=detail,
        profile_id=profile_id,
        stat_cards=STAT_CARDS,
        stat_hints=STAT_HINTS,
        bar_figure=charts.interest_bar(detail["interest"]),
        radar_figure=charts.interest_radar(detail["interest"]),
        liked=profiles.profile_videos(profile_id, "liked", pages.liked_page),
        shared=profiles.profile_videos(profile_id, "shared", pages.shared_page),
        raw_json=json.dumps(raw_payloads.payload_of(profile_id), indent=2, ensure_ascii=False),
    )


@bp.get("/badges/<code>.svg")
def badge(code: str):
    """An achievement's badge, drawn by the app."""
    drawing = achievements.badge_svg(code)
    if drawing is None:
        abort(404)
    response = Response(drawing, mimetype="image/svg+xml")
    response.cache_control.max_age = 86_400
    return response


@bp.get("/profiles/like")
def like():
    """Sliders over the categories, and the profiles nearest to that mix."""
    source = None
    weights = dict.fromkeys(CATEGORIES, 0)
    if request.args.get("from"):
        try:
            source = _profile_or_404(int(request.args["from"]))
        except ValueError:
            abort(400, description="from must be a profile id.")
        interest = profiles.interest_of(source)
        weights = {name: int(round(w * 100)) for name, w in zip(CATEGORIES, interest, strict=True)}
    for name in CATEGORIES:
        value = request.args.get(f"w:{name}")
        if value:
            try:
                weight = float(value)
            except ValueError:
                weight = math.nan
            if not 0 <= weight <= 100:  # NaN fails this too
                abort(400, description=f"The weight of {name} must be a number from 0 to 100.")
            weights[name] = int(weight)
    platform = request.args.get("platform") or None
    if platform is not None and platform not in LABELS:
        abort(400, description="Unknown platform.")
    mix = {name: w / 100 for name, w in weights.items() if w}
    results = similarity.nearest_to_mix(mix, SIMILAR_ON_PAGE * 2, platform) if mix else []
    if source is not None:
        results = [r for r in results if r["id"] != source.id]
    return render_page_or_partial(
        "like.html",
        "partials/_mix_results.html",
        section="profiles",
        weights=weights,
        platform=platform,
        source=source,
        results=results,
        categories=CATEGORIES,
    )


def _roster_form(args) -> tuple[dict, dict, str | None]:
    """The roster form's weights (0-100 by category) and other fields as typed, and the first
    problem with them in words (None when every field reads)."""
    weights = dict.fromkeys(CATEGORIES, 0)
    fields = {name: args.get(name, "").strip() for name in ROSTER_FIELDS if name != "mix"}
    fields["size"] = fields["size"] or str(ROSTER_SIZE)
    problem = None
    for name in CATEGORIES:
        value = args.get(f"w:{name}")
        if value:
            try:
                weight = float(value)
            except ValueError:
                weight = math.nan
            if not 0 <= weight <= 100:  # NaN fails this too
                problem = problem or f"The weight of {name} must be a number from 0 to 100."
                continue
            weights[name] = int(weight)
    for name in ("size", "min_followers", "max_followers"):
        if fields[name] and not fields[name].isdigit():
            problem = problem or f"{ROSTER_FIELDS[name]} must be a whole number."
    return weights, fields, problem


@bp.get("/roster")
def roster_page():
    """Sliders, a size and constraints; the roster that covers the mix beside the N nearest."""
    weights, fields, problem = _roster_form(request.args)
    answer = None
    mix = {name: w for name, w in weights.items() if w}
    if problem is None and mix:
        whole = {k: int(v) if v else None for k, v in fields.items() if k != "platform"}
        constraints = roster.Constraints(
            fields["platform"] or None, whole["min_followers"], whole["max_followers"]
        )
        try:
            answer = roster.build_roster(mix, whole["size"], constraints)
        except roster.BadRoster as error:
            problem = f"{ROSTER_FIELDS[error.loc.split('.')[0]]} {error.msg}."
    if answer is not None:
        names = {item["id"]: item["username"] for item in answer["roster"]["items"]}
        for item in answer["roster"]["items"]:
            item["reason"]["similar_name"] = names.get(item["reason"]["similar_to"])
    response = render_page_or_partial(
        "roster.html",
        "partials/_roster_results.html",
        section="roster",
        weights=weights,
        fields=fields,
        categories=CATEGORIES,
        answer=answer,
        problem=problem,
        sizes=(roster.MIN_SIZE, roster.MAX_SIZE),
    )
    if problem is not None and not is_partial_request():
        response.status_code = 422  # htmx swaps only a success in: the partial says it in place
    return response


@bp.get("/videos")
def video_list():
    """The video catalogue page; htmx asks for the table alone."""
    try:
        result = videos.search(queries.video_query(request.args))
    except queries.BadQuery as error:
        abort(400, description=str(error))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_page_or_partial(
        "videos.html",
        "partials/_videos_table.html",
        section="videos",
        result=result,
        args=args,
        pages=profiles.page_count(result["total"], result["per_page"]),
        categories=CATEGORIES,
    )


@bp.get("/map")
def map_page():
    """The whole population on one map, coloured by platform, dominant interest or cluster."""
    color_by = request.args.get("color", "cluster")
    if color_by not in ("cluster", "platform", "dominant"):
        abort(400, description="color must be cluster, platform or dominant.")
    try:
        k = int(request.args.get("k", 6))
    except ValueError:
        abort(400, description="k must be a whole number.")
    if not 2 <= k <= 12:
        abort(400, description="k must be from 2 to 12.")
    return render_template(
        "map.html",
        section="map",
        color_by=color_by,
        k=k,
        data_url=url_for("api.population_map_data", k=k),
        profile_url=url_for("pages.profile", profile_id=0),
        palette={"categories": charts.category_colours(), "ordered": charts.CATEGORY_PALETTE},
    )


@bp.get("/compare")
def compare():
    """Two to four profiles side by side: overlaid interests, stats, pairwise similarity."""
    ids: list[int] = []
    for value in request.args.getlist("ids"):
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit():
                abort(400, description=f"Profile ids are whole numbers, not {part!r}.")
            if int(part) not in ids:
                ids.append(int(part))
    if not COMPARE_MIN <= len(ids) <= COMPARE_MAX:
        # A bad request, answered with the compare page saying what to do and linking back
        # to the table (the table's script says the same in place before it gets here).
        chosen = [profiles.get_profile(pk) for pk in ids]
        body = render_template(
            "compare.html",
            section="profiles",
            profiles_=[],
            chosen=[record for record in chosen if record is not None],
            problem=compare_problem(len(ids)),
        )
        return body, 400
    records = [_profile_or_404(pk) for pk in ids]
    details = [profiles.profile_detail(record) for record in records]
    return render_template(
        "compare.html",
        section="profiles",
        profiles_=details,
        stat_cards=STAT_CARDS,
        matrix=similarity.pairwise(ids),
        radar_figure=charts.interest_overlay([(d["username"], d["interest"]) for d in details]),
    )


def compare_problem(count: int) -> str:
    """What to do when `count` profiles were chosen for compare, outside 2 to 4 (the profiles
    table's script says the same words in place)."""
    return (
        f"Choose {COMPARE_MIN} to {COMPARE_MAX} profiles to compare: "
        f"{count} {'is' if count == 1 else 'are'} chosen. Tick them in the table's first column."
    )


@bp.get("/profiles/<int:profile_id>/similar")
def profile_similar(profile_id: int):
    """The profile's look-alikes (loaded into the profile page when it scrolls into view)."""
    _profile_or_404(profile_id)
    similar = similarity.similar_profiles(profile_id, SIMILAR_ON_PAGE)
    return render_template("partials/_similar.html", similar=similar)


@bp.get("/profiles/<int:profile_id>/recommended")
def profile_recommended(profile_id: int):
    """Videos to show the profile next (loaded into the profile page when in view)."""
    _profile_or_404(profile_id)
    recommended = recommendations.recommend(profile_id, RECOMMENDED_ON_PAGE)
    return render_template("partials/_recommended.html", recommended=recommended)


@bp.get("/profiles/<int:profile_id>/videos/<kind>")
def profile_videos(profile_id: int, kind: str):
    """One page of a profile's liked or shared videos (the htmx partial)."""
    _profile_or_404(profile_id)
    if kind not in ("liked", "shared"):
        abort(404)
    videos = profiles.profile_videos(profile_id, kind, _pages(queries.PageQuery).page)
    response = render_template("partials/_videos.html", videos=videos, profile_id=profile_id)
    return response


@bp.post("/profiles/<int:profile_id>/resync")
@requires("analyst")
def resync(profile_id: int):
    """Fetch the account again and update it in place."""
    record = _profile_or_404(profile_id)
    audited = onboarding.Audit(current_actor(), "resync")
    try:
        outcome = onboarding.connect_account(record.platform, record.user_id, audited)
    except ConnectorError as error:
        flash(f"Re-sync failed: {error}", "error")
        return redirect(url_for("pages.profile", profile_id=profile_id), code=303)
    if not outcome.accepted:
        flash(f"Re-sync rejected, the stored profile is unchanged: {outcome.reason}", "error")
    else:
        flash("Profile re-synced: updated in place.", "success")
    return redirect(url_for("pages.profile", profile_id=profile_id), code=303)


@bp.post("/profiles/<int:profile_id>/delete")
@requires("admin")
def delete(profile_id: int):
    """Delete a profile, then return to the list."""
    name = _profile_or_404(profile_id).username
    profiles.delete_profile(profile_id, current_actor())
    flash(f"Deleted {name}.", "success")
    return redirect(url_for("pages.profiles"), code=303)


def _chosen_ids(values: list[str]) -> list[int]:
    """The profile ids a bulk form names (each field one id, or several split by commas or
    spaces), each once in the order given; a 400 that says what is wrong with them."""
    ids: dict[int, None] = {}
    for value in values:
        for part in value.replace(",", " ").split():
            if not part.isdigit():
                abort(400, description=f"Profile ids are whole numbers, not {part[:20]!r}.")
            ids[int(part)] = None
    if not ids:
        abort(400, description="No profile is selected: tick them in the table's first column.")
    if len(ids) > BULK_MAX:
        abort(
            400,
            description=f"At most {BULK_MAX:,} profiles at once: {len(ids):,} are selected. "
            "Clear the selection and choose fewer.",
        )
    return list(ids)


def _chosen_profiles(ids: list[int], interests: bool = False) -> list[dict]:
    """The summaries of the chosen profiles (with their interest shares when `interests`); a
    400 naming those not stored."""
    try:
        return profiles.summaries_of(ids, interests)
    except profiles.UnknownProfiles as error:
        abort(400, description=str(error))


@bp.get("/profiles/selected")
def selected():
    """The ticked profiles with what may be done to them all (the way there without
    JavaScript: the table's script posts the bulk forms from the table itself)."""
    ids = _chosen_ids(request.args.getlist("ids"))
    return render_template(
        "selected.html", section="profiles", chosen=_chosen_profiles(ids), bulk_max=BULK_MAX
    )


@bp.post("/profiles/bulk/export")
@requires("viewer")
def bulk_export():
    """The selected profiles as CSV or JSON, as the table's export writes them (every summary
    field and every category's share)."""
    fmt = request.args.get("format", "csv")
    if fmt not in export.FORMATS:
        abort(400, description="format must be csv or json.")
    ids = _chosen_ids(request.form.getlist("ids"))
    chosen = _chosen_profiles(ids, interests=True)
    record_action("export", f"{len(ids)} selected profiles as {fmt}", " ".join(map(str, ids)))
    if fmt == "csv":
        body, mimetype = export.csv_of(chosen), "text/csv"
    else:
        body, mimetype = export.json_of(chosen), "application/json"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="toker-selected.{fmt}"'
    return response


@bp.post("/profiles/bulk/resync")
@requires("analyst")
def bulk_resync():
    """Re-sync the selected profiles as one job, then show the job; unknown ids are named
    and nothing starts."""
    ids = _chosen_ids(request.form.getlist("ids"))
    _chosen_profiles(ids)
    try:
        job = jobs.start_job("resync", {"profile_ids": ids}, current_requester())
    except jobs.InvalidParams as error:  # a profile deleted since the check above
        abort(400, description=f"The re-sync cannot start: {error}.")
    except jobs.QueueUnavailable as error:
        if len(ids) > INLINE_RESYNC_MAX:
            flash(
                f"{error}. Without the queue, at most {INLINE_RESYNC_MAX} profiles are "
                f"re-synced at once: select fewer, or try again shortly.",
                "error",
            )
            return redirect(url_for("pages.profiles"), code=303)
        return _resync_now(ids)
    flash(f"Re-syncing {len(ids)} profile{'' if len(ids) == 1 else 's'}: job {job.id}.", "success")
    return redirect(url_for("jobs.detail", job_id=job.id), code=303)


# Without a queue to take it, a bulk re-sync of this many profiles at most runs in the request.
INLINE_RESYNC_MAX = 20


def _resync_now(ids: list[int]) -> Response:
    """Re-sync the chosen profiles one after another in this request (the queue is not
    answering), each audited as a re-sync; say how each went."""
    done, failed = 0, []
    for pk in ids:
        record = profiles.get_profile(pk)
        if record is None:
            failed.append(f"{pk}: deleted meanwhile")
            continue
        try:
            outcome = onboarding.connect_account(
                record.platform, record.user_id, onboarding.Audit(current_actor(), "resync")
            )
        except ConnectorError as error:
            failed.append(f"{record.username}: {error}")
            continue
        if outcome.accepted:
            done += 1
        else:
            failed.append(f"{record.username}: rejected, unchanged ({outcome.reason})")
    plural = "" if done == 1 else "s"
    flash(f"The job queue is not answering: re-synced {done} profile{plural} now.", "success")
    if failed:
        flash("Not re-synced: " + "; ".join(failed), "error")
    return redirect(url_for("pages.profiles"), code=303)


@bp.post("/profiles/bulk/delete")
@requires("admin")
def bulk_delete():
    """Without confirm: a page that asks "Delete N profiles?" and lists them. With it: delete
    them all in one transaction, each audited, then return to the table."""
    ids = _chosen_ids(request.form.getlist("ids"))
    if request.form.get("confirm") != "yes":
        return render_template("bulk_delete.html", section="profiles", chosen=_chosen_profiles(ids))
    try:
        count = profiles.delete_profiles(ids, current_actor())
    except profiles.UnknownProfiles as error:
        abort(400, description=str(error))
    flash(f"Deleted {count} profile{'' if count == 1 else 's'}.", "success")
    return redirect(url_for("pages.profiles"), code=303)
