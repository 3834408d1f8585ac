"""API routes: parse the request, call one service, serialise the answer."""

import math

import orjson
from flask import Blueprint, Response, current_app, request, stream_with_context, url_for
from sqlalchemy import text
from werkzeug.exceptions import BadRequest

from .. import queries
from ..errors import Problem
from ..extensions import db
from ..security import current_actor, record_action, requires
from ..services.analytics import (
    achievements,
    population_map,
    recommendations,
    roster,
    similarity,
)
from ..services.catalogue import export, history, profiles, videos
from ..services.ingestion import onboarding
from ..services.ingestion.connectors import (
    ConnectorError,
    ConnectorRateLimited,
    ConnectorTimeout,
    MalformedResponse,
)
from ..services.ingestion.taxonomy import CATEGORIES
from . import schemas

bp = Blueprint("api", __name__, url_prefix="/api/v1")
health_bp = Blueprint("health", __name__)


def _invalid_body(loc: str, msg: str) -> Problem:
    """A 422 for a request body field, located like payload problems are."""
    where = f"{loc} " if loc else "The body "
    return Problem(
        422,
        "Unprocessable Content",
        f"{where}{msg}.",
        "invalid-body",
        errors=[{"loc": loc, "msg": msg}],
    )


def _json_body() -> dict:
    """The request body as a JSON object, or a 400/415 problem that says what is wrong."""
    if not request.is_json:
        raise Problem(
            415,
            "Unsupported Media Type",
            "Send the body as JSON with Content-Type: application/json.",
        )
    try:
        body = request.get_json()
    except RecursionError:
        raise Problem(400, "Bad Request", "The JSON body is nested too deeply.") from None
    except BadRequest:
        raise Problem(
            400, "Bad Request", f"The body is not valid JSON: {_json_error()}", "invalid-json"
        ) from None
    if not isinstance(body, dict):
        raise _invalid_body("", "must be a JSON object")
    return body


def _json_error() -> str:
    """What is wrong with the body, in the JSON reader's words (position included)."""
    data = request.get_data(cache=True)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"it is not UTF-8 (byte {error.start} is {data[error.start]:#04x})."
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as error:
        return f"{error}."
    return "it could not be read."


def parse_body(model: type[schemas.Body | schemas.JobRequest]) -> schemas.Body:
    """The request body checked through its model; a located 422 for a field it refuses."""
    try:
        return model.parse(_json_body())
    except schemas.InvalidBody as error:
        raise _invalid_body(error.loc, error.msg) from None


def _profile_or_404(profile_id: int):
    profile = profiles.get_profile(profile_id)
    if profile is None:
        raise Problem(404, "Not Found", f"No profile has id {profile_id}.", "not-found")
    return profile


def _outcome_response(outcome: onboarding.Outcome):
    if not outcome.accepted:
        raise Problem(
            422,
            "Payload rejected",
            outcome.reason,
            "payload-rejected",
            errors=[p.as_dict() for p in outcome.problems],
            platform=outcome.platform,
            user_id=outcome.user_id,
        )
    # The answer shows the profile as this write stored it, without reading it back: a
    # request that deletes it after the commit does not change what this one did.
    detail = profiles.profile_detail(outcome.profile, outcome.raw_payload)
    status = 201 if outcome.status == "created" else 200
    body = {"status": outcome.status, "profile": detail}
    location = url_for("api.get_profile", profile_id=outcome.profile_id)
    return body, status, {"Location": location}


@bp.errorhandler(queries.BadQuery)
def _bad_query(error: queries.BadQuery):
    return Problem(
        400,
        "Bad Request",
        str(error),
        "invalid-parameter",
        errors=[{"loc": error.param, "msg": error.message}],
    ).response()


@bp.get("/profiles")
def list_profiles():
    """A page of profiles: the filters, sort, order, page, per_page; facets on request."""
    parsed = queries.ApiListQuery.parse(request.args)
    query = parsed.query()
    answer = profiles.list_profiles(query)
    if parsed.facets:
        answer = {**answer, "facets": profiles.facets(query)}
    return answer


@bp.get("/profiles/export")
def export_profiles():
    """The list's matches (its filters, sort, order) as CSV or JSON, all pages: the chosen
    columns and every category's share."""
    parsed = queries.ExportQuery.parse(request.args)
    query, fmt = parsed.query(), parsed.format
    fields = export.fields_of(parsed.columns)
    if fmt == "csv":
        body, mimetype = export.csv_lines(query, fields), "text/csv"
    else:
        body, mimetype = export.json_chunks(query, fields), "application/json"
    record_action("export", f"profiles as {fmt}", request.query_string.decode("utf-8", "replace"))
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="toker-profiles.{fmt}"'
    return response


@bp.get("/profiles/<int:profile_id>")
def get_profile(profile_id: int):
    """One profile with its payload fields, interest vector and top lists."""
    return profiles.profile_detail(_profile_or_404(profile_id))


@bp.get("/profiles/<int:profile_id>/vector")
def get_vector(profile_id: int):
    """The taxonomy and the profile's weights in the same order."""
    return profiles.profile_vector(_profile_or_404(profile_id))


@bp.get("/profiles/<int:profile_id>/history")
def get_history(profile_id: int):
    """Every snapshot of the profile, the changes over 7, 30 and 90 days, the interest drift."""
    _profile_or_404(profile_id)
    return history.profile_history(profile_id)


@bp.get("/profiles/<int:profile_id>/achievements")
def get_achievements(profile_id: int):
    """What the profile earned from its history and standing, the earliest first."""
    _profile_or_404(profile_id)
    return {"profile_id": profile_id, "items": achievements.of_profile(db.session, profile_id)}


@bp.get("/achievements")
def list_achievements():
    """Every profile's achievements, the latest first, with how many profiles hold each."""
    query = queries.AchievementsQuery.parse(request.args)
    return achievements.recent(db.session, query.page, query.per_page)


@bp.get("/profiles/<int:profile_id>/similar")
def similar(profile_id: int):
    """The k most similar profiles by cosine of interest vectors (k <= 100, optional platform)."""
    _profile_or_404(profile_id)
    query = queries.SimilarQuery.parse(request.args)
    return {"items": similarity.similar_profiles(profile_id, query.k, query.platform)}


@bp.get("/profiles/<int:profile_id>/recommendations")
def recommendations_for(profile_id: int):
    """Videos the profile has not liked or shared, ranked by interest, recency, engagement."""
    _profile_or_404(profile_id)
    query = queries.RecommendationsQuery.parse(request.args)
    return {"items": recommendations.recommend(profile_id, query.k)}


@bp.get("/profiles/nearest")
def nearest():
    """Profiles closest to a mix of interests: mix=Music:0.6&mix=Dance:0.4 (k, platform)."""
    query = queries.NearestQuery.parse(request.args)
    return {"items": similarity.nearest_to_mix(query.weights(), query.k, query.platform)}


@bp.post("/roster")
@requires("viewer")  # reads only: a POST for its body
def build_roster():
    """N profiles covering a mix without repeating each other, beside the plain N nearest."""
    body = parse_body(schemas.RosterRequest)
    return roster.build_roster(body.mix, body.size, body.constraints())


@bp.get("/videos")
def list_videos():
    """The video catalogue: q, hashtag, platform, category, min_score, sort, order, paging."""
    return videos.search(queries.video_query(request.args))


@bp.get("/map")
def population_map_data():
    """Every profile as a map point: PCA position, platform, dominant interest, cluster (k)."""
    return population_map.population_map(queries.MapQuery.parse(request.args).k)


@bp.delete("/profiles/<int:profile_id>")
@requires("admin")
def delete_profile(profile_id: int):
    """Delete a profile."""
    if not profiles.delete_profile(profile_id, current_actor()):
        raise Problem(404, "Not Found", f"No profile has id {profile_id}.", "not-found")
    return Response(status=204)


@bp.post("/connect")
@requires("analyst")
def connect():
    """Run the onboarding pipeline for {"platform", "user_id"?}."""
    body = parse_body(schemas.ConnectRequest)
    platform, user_id = str(body.platform), body.user_id
    try:
        outcome = onboarding.connect_account(platform, user_id, onboarding.Audit(current_actor()))
    except ConnectorError as error:
        raise platform_problem(error) from None
    return _outcome_response(outcome)


def platform_problem(error: ConnectorError) -> Problem:
    """A platform failure the pipeline gave up on, as a problem that says when to try again."""
    # A platform's 429 is Toker's 503 with Retry-After, not a 429: the client did nothing wrong,
    # Toker cannot serve it until the platform lets Toker in again.
    if isinstance(error, ConnectorRateLimited):
        status, title, kind = 503, "Platform rate limit", "platform-rate-limited"
    elif isinstance(error, ConnectorTimeout):
        status, title, kind = 504, "Platform timeout", "platform-timeout"
    elif isinstance(error, MalformedResponse):
        status, title, kind = 502, "Platform error", "platform-malformed"
    else:
        status, title, kind = 502, "Platform error", "platform-error"
    headers, extra = {}, {"attempts": error.attempts}
    if error.retry_after is not None:
        seconds = max(1, math.ceil(error.retry_after))
        headers["Retry-After"] = str(seconds)
        extra["retry_after"] = seconds
    return Problem(status, title, str(error), kind, headers=headers, **extra)


@bp.post("/profiles")
@requires("analyst")
def create_profile():
    """Store a payload given directly: {"platform", "payload"}."""
    body = parse_body(schemas.StoreRequest)
    outcome = onboarding.submit_payload(
        str(body.platform), body.payload, onboarding.Audit(current_actor())
    )
    return _outcome_response(outcome)


@bp.get("/categories")
def categories():
    """The taxonomy in vector order."""
    return {"categories": list(CATEGORIES)}


@health_bp.get("/healthz")
def healthz():
    """Liveness, and whether the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any failure means the database is not usable
        db.session.rollback()
        current_app.logger.warning("health check: database error: %s", error)
        return {"status": "degraded", "database": "unavailable"}, 503
    return {"status": "ok", "database": "ok", "version": current_app.config["TOKER_VERSION"]}
