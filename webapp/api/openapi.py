"""The OpenAPI 3.1 document of the JSON API, as Python data.

Limits, enums and the taxonomy come from the services' own constants, so the document changes
when the code does. tests/test_openapi.py checks that it lists exactly the app's API routes and
fuzzes every operation with Schemathesis against it.
"""

import re

from ..services.analytics import population_map, recommendations, similarity
from ..services.catalogue import export, profiles, videos
from ..services.ingestion.platforms import PLATFORMS
from ..services.ingestion.processing import TOP_HASHTAGS_KEPT
from ..services.ingestion.taxonomy import CATEGORIES
from ..services.ingestion.validation import (
    MAX_CAPTION,
    MAX_CATEGORIES,
    MAX_CATEGORY_LEN,
    MAX_COUNT,
    MAX_HASHTAG_LEN,
    MAX_HASHTAGS,
    MAX_NAME,
    MAX_USER_ID,
    MAX_VIDEO_ID,
    MAX_VIDEOS,
    STAT_FIELDS,
)

OPENAPI_VERSION = "3.1.0"
PROBLEM_JSON = "application/problem+json"
# Profile ids are 32-bit: the column is an Integer (int4 on PostgreSQL).
MAX_PROFILE_ID = 2**31 - 1
TOP_SHOWN = 5

TAGS = (
    ("profiles", "Stored profiles: list, search, export, read, store and delete."),
    ("onboarding", "Connect a platform account through the onboarding pipeline."),
    ("look-alikes", "Similar profiles, profiles near a mix of interests, recommended videos."),
    ("videos", "The catalogue of every stored video."),
    ("population", "The whole population on one map."),
    ("taxonomy", "The fixed list of interest categories."),
    ("service", "Health of the service and this documentation."),
)


def ref(kind: str, name: str) -> dict:
    """A reference to a reusable component."""
    return {"$ref": f"#/components/{kind}/{name}"}


def schema_ref(name: str) -> dict:
    return ref("schemas", name)


def _object(properties: dict, required=None, additional: bool = False, **extra) -> dict:
    """An object schema; every property is required unless `required` says otherwise."""
    schema = {
        "type": "object",
        "required": list(properties) if required is None else list(required),
        "properties": properties,
        "additionalProperties": additional,
    }
    schema.update(extra)
    return schema


COUNT = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}


def _strings(description: str | None = None, **extra) -> dict:
    schema = {"type": "array", "items": {"type": "string"}, **extra}
    if description:
        schema["description"] = description
    return schema


TIMESTAMP = {
    "type": "string",
    "description": "ISO 8601 date and time in UTC (SQLite-backed servers omit the offset).",
}
NULLABLE_TIMESTAMP = {**TIMESTAMP, "type": ["string", "null"]}
PLATFORM = schema_ref("Platform")
NON_NEGATIVE = {"type": "integer", "minimum": 0}
# Strings are trimmed before their length is checked: at least one character that is not space.
NOT_BLANK = {"type": "string", "minLength": 1, "pattern": r"\S"}

# --- interest filters: Category or Category:share -------------------------------------------

_CATEGORY_ALTERNATION = "|".join(re.escape(name) for name in CATEGORIES)
_SHARE = r"(0(\.[0-9]{1,6})?|1(\.0{1,6})?|\.[0-9]{1,6})"
INTEREST_PATTERN = rf"^({_CATEGORY_ALTERNATION})(:{_SHARE})?$"
MIX_PATTERN = rf"^({_CATEGORY_ALTERNATION}):{_SHARE}$"


# --- schemas ----------------------------------------------------------------------------------


def _problem_schemas() -> dict:
    return {
        "Problem": _object(
            {
                "type": {
                    "type": "string",
                    "description": "urn:toker:problem:<kind>, or about:blank for plain HTTP "
                    "errors.",
                },
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string", "description": "What went wrong, in words."},
                "errors": {"type": "array", "items": schema_ref("ProblemError")},
            },
            required=["type", "title", "status", "detail"],
            additional=True,
            description="An RFC 9457 problem (application/problem+json). Extension members "
            "may follow, like `platform` and `user_id` on a rejected payload.",
        ),
        "ProblemError": _object(
            {
                "loc": {
                    "type": "string",
                    "description": "Where the problem is: a parameter name or a path into the "
                    "body like liked_videos[3].likes; empty for the body as a whole.",
                },
                "msg": {"type": "string", "description": "What is wrong there."},
            },
            description="One located problem.",
        ),
        "ValidationProblem": {
            "allOf": [
                schema_ref("Problem"),
                {
                    "type": "object",
                    "required": ["errors"],
                    "properties": {
                        "platform": PLATFORM,
                        "user_id": {"type": ["string", "null"]},
                    },
                },
            ],
            "description": "A rejected body or payload: `errors` lists every problem at once. "
            "A payload rejected by the rules also names its `platform` and `user_id`.",
        },
        "PlatformProblem": {
            "allOf": [
                schema_ref("Problem"),
                {
                    "type": "object",
                    "properties": {
                        "attempts": {
                            "type": "integer",
                            "minimum": 1,
                            "description": "How many times the platform was asked.",
                        },
                        "retry_after": {
                            "type": "integer",
                            "minimum": 1,
                            "description": "Seconds to wait, as in the Retry-After header.",
                        },
                    },
                },
            ],
            "description": "The platform failed the onboarding pipeline.",
        },
    }


def _payload_schemas(min_likes: int) -> dict:
    tags = {"type": "string"}
    return {
        "PayloadVideo": _object(
            {
                "video_id": {
                    "type": ["string", "integer"],
                    "minLength": 1,
                    "maxLength": MAX_VIDEO_ID,
                    "minimum": 0,
                    "description": f"1 to {MAX_VIDEO_ID} characters after trimming, or a "
                    "whole number; unique within its list.",
                },
                "categories": {
                    "type": ["array", "null"],
                    "items": {**tags, "maxLength": MAX_CATEGORY_LEN},
                    "maxItems": MAX_CATEGORIES,
                },
                "hashtags": {
                    "type": ["array", "null"],
                    "items": {**tags, "maxLength": MAX_HASHTAG_LEN},
                    "maxItems": MAX_HASHTAGS,
                },
                "likes": COUNT,
                "comments": COUNT,
                "shares": COUNT,
                "caption": {"type": ["string", "null"], "maxLength": MAX_CAPTION},
                "posted_at": {
                    "type": ["string", "null"],
                    "format": "date-time",
                    "maxLength": 40,
                    "description": "ISO 8601 date and time; without an offset it is UTC.",
                },
            },
            required=["video_id", "likes", "comments", "shares"],
            additional=True,
            description="One liked or shared video. Unknown fields are kept in the raw "
            "payload but ignored, up to 16 KiB of them in the whole payload.",
        ),
        "Payload": _object(
            {
                "user_id": {**NOT_BLANK, "maxLength": MAX_USER_ID},
                "username": {**NOT_BLANK, "maxLength": MAX_NAME},
                "user_pseudo": {"type": "string", "maxLength": MAX_NAME},
                "verified": {"type": "boolean"},
                **{name: COUNT for name in STAT_FIELDS},
                "number_of_likes": {
                    **COUNT,
                    "minimum": min_likes,
                    "description": "At least the server's minimum (TOKER_MIN_LIKES), or the "
                    "payload is rejected with a 422 that says how many it has and needs.",
                },
                "liked_videos": {
                    "type": "array",
                    "items": schema_ref("PayloadVideo"),
                    "maxItems": MAX_VIDEOS,
                },
                "shared_videos": {
                    "type": "array",
                    "items": schema_ref("PayloadVideo"),
                    "maxItems": MAX_VIDEOS,
                },
            },
            additional=True,
            description="An account as a platform reports it, accepted or rejected whole: a "
            "rejection is a 422 that lists every problem. Beyond the types, video ids must be "
            "unique within each list, and whole numbers are written without a fraction (1500, "
            "not 1500.0). Strings are trimmed.",
        ),
        "ConnectRequest": _object(
            {
                "platform": PLATFORM,
                "user_id": {
                    "type": ["string", "integer", "null"],
                    "pattern": NOT_BLANK["pattern"],
                    "maxLength": MAX_USER_ID,
                    "minimum": 0,
                    "description": "The account to connect; a new random account when left "
                    "out. The same platform and user id always give the same account.",
                },
            },
            required=["platform"],
            additional=True,
        ),
        "StoreRequest": _object(
            {"platform": PLATFORM, "payload": schema_ref("Payload")},
            additional=True,
        ),
    }


def _profile_schemas() -> dict:
    identity = {
        "id": {"type": "integer", "minimum": 1},
        "platform": PLATFORM,
        "user_id": {"type": "string"},
        "username": {"type": "string"},
        "user_pseudo": {"type": "string"},
        "verified": {"type": "boolean"},
        **{name: COUNT for name in STAT_FIELDS},
    }
    dominant = {
        "type": ["string", "null"],
        "description": "The largest interest; null when no video could be classified.",
    }
    return {
        "Platform": {"type": "string", "enum": list(PLATFORMS)},
        "ProfileSummary": _object(
            {
                **identity,
                "liked_count": NON_NEGATIVE,
                "shared_count": NON_NEGATIVE,
                "unclassified_count": NON_NEGATIVE,
                "dominant_interest": dominant,
                "created_at": TIMESTAMP,
                "updated_at": TIMESTAMP,
            },
            description="One row of the profile list.",
        ),
        "ProfileList": _object(
            {
                "items": {"type": "array", "items": schema_ref("ProfileSummary")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": profiles.MAX_PER_PAGE},
                "total": NON_NEGATIVE,
            }
        ),
        "StoredVideo": _object(
            {
                "video_id": {"type": "string"},
                "categories": {"type": ["array", "null"], "items": {"type": "string"}},
                "hashtags": {"type": ["array", "null"], "items": {"type": "string"}},
                "likes": NON_NEGATIVE,
                "comments": NON_NEGATIVE,
                "shares": NON_NEGATIVE,
                "caption": {"type": ["string", "null"]},
                "posted_at": {"type": ["string", "null"]},
            },
            required=["video_id", "likes", "comments", "shares"],
            additional=True,
            description="A video as the payload gave it (video_id as a string); categories and "
            "hashtags are the raw ones, before cleaning.",
        ),
        "Interest": _object(
            {name: {"type": "number", "minimum": 0, "maximum": 1} for name in CATEGORIES},
            description="Category -> share of interest, in taxonomy order; sums to 1, or all "
            "zeros when nothing was classified.",
        ),
        "TopCategory": _object(
            {"category": {"type": "string"}, "weight": {"type": "number", "minimum": 0}}
        ),
        "TopHashtag": _object(
            {"hashtag": {"type": "string"}, "count": {"type": "integer", "minimum": 1}}
        ),
        "ProfileDetail": _object(
            {
                **identity,
                "liked_videos": {"type": "array", "items": schema_ref("StoredVideo")},
                "shared_videos": {"type": "array", "items": schema_ref("StoredVideo")},
                "interest": schema_ref("Interest"),
                "dominant_interest": dominant,
                "top_categories": {
                    "type": "array",
                    "items": schema_ref("TopCategory"),
                    "maxItems": TOP_SHOWN,
                },
                "top_hashtags": {
                    "type": "array",
                    "items": schema_ref("TopHashtag"),
                    "maxItems": min(TOP_SHOWN, TOP_HASHTAGS_KEPT),
                },
                "unclassified_count": NON_NEGATIVE,
                "sync_count": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "1 when created, one more on every re-sync.",
                },
                "created_at": TIMESTAMP,
                "updated_at": TIMESTAMP,
            },
            description="One profile: its payload fields, interest vector and top lists.",
        ),
        "StoreResult": _object(
            {
                "status": {"type": "string", "enum": ["created", "updated"]},
                "profile": schema_ref("ProfileDetail"),
            }
        ),
        "Vector": _object(
            {
                "categories": _strings(
                    "The taxonomy, in order.",
                    minItems=len(CATEGORIES),
                    maxItems=len(CATEGORIES),
                ),
                "weights": {
                    "type": "array",
                    "items": {"type": "number", "minimum": 0, "maximum": 1},
                    "minItems": len(CATEGORIES),
                    "maxItems": len(CATEGORIES),
                    "description": "The interest weights in the same order.",
                },
            }
        ),
    }


def _look_alike_schemas() -> dict:
    named = {
        "id": {"type": "integer", "minimum": 1},
        "username": {"type": "string"},
        "platform": PLATFORM,
        "score": {"type": "number", "description": "Cosine of the interest vectors."},
    }
    return {
        "SimilarProfile": _object(
            {**named, "breakdown": schema_ref("SimilarityBreakdown")},
        ),
        "SimilarityBreakdown": _object(
            {
                "interest_cosine": {"type": "number"},
                "hashtag_jaccard": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1,
                    "description": "Overlap of the two profiles' top 5 hashtags.",
                },
            }
        ),
        "SimilarProfiles": _object(
            {"items": {"type": "array", "items": schema_ref("SimilarProfile")}}
        ),
        "NearestProfile": _object(named),
        "NearestProfiles": _object(
            {"items": {"type": "array", "items": schema_ref("NearestProfile")}}
        ),
        "Recommendation": _object(
            {
                "video_id": {"type": "string"},
                "platform": PLATFORM,
                "score": {
                    "type": "number",
                    "description": "0.6 x interest + 0.2 x recency + 0.2 x engagement.",
                },
                "interest": {"type": "number", "description": "Cosine with the profile."},
                "recency": {"type": "number", "minimum": 0, "maximum": 1},
                "engagement": {"type": "number", "minimum": 0, "maximum": 1},
                "engagement_score": {"type": "number", "minimum": 0, "maximum": 100},
                "categories": _strings(),
                "hashtags": _strings(),
                "caption": {"type": ["string", "null"]},
                "posted_at": NULLABLE_TIMESTAMP,
            }
        ),
        "Recommendations": _object(
            {"items": {"type": "array", "items": schema_ref("Recommendation")}}
        ),
    }


def _catalogue_schemas() -> dict:
    return {
        "CatalogueVideo": _object(
            {
                "video_id": {"type": "string"},
                "platform": PLATFORM,
                "categories": _strings("Cleaned categories."),
                "hashtags": _strings("Cleaned hashtags."),
                "caption": {"type": ["string", "null"]},
                "likes": NON_NEGATIVE,
                "comments": NON_NEGATIVE,
                "shares": NON_NEGATIVE,
                "posted_at": NULLABLE_TIMESTAMP,
                "score": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 100,
                    "description": "Engagement score: 100 x log10(1 + likes + 2 x comments + "
                    "3 x shares) / 7, capped at 100.",
                },
                "profiles": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "How many stored profiles liked or shared it.",
                },
            }
        ),
        "VideoList": _object(
            {
                "items": {"type": "array", "items": schema_ref("CatalogueVideo")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": profiles.MAX_PER_PAGE},
                "total": NON_NEGATIVE,
                "sort": {"type": "string", "enum": list(videos.SORTS)},
                "order": {"type": "string", "enum": ["asc", "desc"]},
            }
        ),
        "PopulationMap": _object(
            {
                "ids": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                "x": {"type": "array", "items": {"type": "number"}},
                "y": {"type": "array", "items": {"type": "number"}},
                "username": _strings(),
                "dominant": _strings("Dominant interest, or Unclassified."),
                "top": {
                    "type": "array",
                    "items": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 0},
                        "minItems": 2,
                        "maxItems": 2,
                    },
                    "description": "Each point's two largest interests, as indices into "
                    "`categories` (of equal shares, the first in the taxonomy).",
                },
                "top_shares": {
                    "type": "array",
                    "items": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 0, "maximum": 100},
                        "minItems": 2,
                        "maxItems": 2,
                    },
                    "description": "Their shares in whole per cent (0: no such interest).",
                },
                "categories": _strings("The taxonomy, in the order `top` indexes."),
                "platform": {"type": "array", "items": PLATFORM},
                "cluster": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0},
                    "description": "Index into `clusters`.",
                },
                "clusters": _strings("Each cluster named by its two largest interests."),
                "cluster_sizes": {
                    "type": "array",
                    "items": NON_NEGATIVE,
                    "description": "How many profiles each cluster has, every profile counted.",
                },
                "total": {
                    **NON_NEGATIVE,
                    "description": "How many profiles there are. Past "
                    f"{population_map.MAX_POINTS:,} the arrays hold an even sample of them.",
                },
            },
            description="Parallel arrays, one entry per profile drawn: the first two principal "
            "components of the interest vectors, and a k-means cluster. Every profile is drawn "
            f"up to {population_map.MAX_POINTS:,}; past that, an even sample of that size.",
        ),
        "Categories": _object(
            {"categories": _strings("The taxonomy in vector order, Other last.")}
        ),
        "Health": _object(
            {
                "status": {"type": "string", "enum": ["ok", "degraded"]},
                "database": {"type": "string", "enum": ["ok", "unavailable"]},
                "version": {"type": "string"},
            },
            required=["status", "database"],
        ),
        "OpenApiDocument": {
            "type": "object",
            "required": ["openapi", "info", "paths"],
            "properties": {"openapi": {"type": "string"}, "info": {"type": "object"}},
            "description": "This document.",
        },
    }


# --- parameters -------------------------------------------------------------------------------


def _query(name: str, schema: dict, description: str, **extra) -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": description, **extra}


def _parameters() -> dict:
    order = {"type": "string", "enum": ["asc", "desc"]}
    return {
        "ProfileId": {
            "name": "profile_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_PROFILE_ID},
            "description": "The profile's id.",
        },
        "ProfileQuery": _query(
            "q",
            {"type": "string", "maxLength": profiles.MAX_QUERY_LENGTH},
            "Text in the username or pseudonym, case-insensitive.",
        ),
        "PlatformFilter": _query("platform", PLATFORM, "Only this platform."),
        "ProfileSort": _query(
            "sort",
            {"type": "string", "enum": list(profiles.SORTS), "default": profiles.DEFAULT_SORT},
            "Sort key; short names are aliases (followers = followers_count).",
        ),
        "ProfileOrder": _query(
            "order",
            order,
            "Sort direction; ascending by default for username and platform, else descending.",
        ),
        "Page": _query(
            "page",
            {"type": "integer", "minimum": 1, "maximum": profiles.MAX_PAGE, "default": 1},
            "Page number, from 1.",
        ),
        "PerPage": _query(
            "per_page",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": profiles.MAX_PAGE,
                "default": profiles.DEFAULT_PER_PAGE,
            },
            f"Items per page; more than {profiles.MAX_PER_PAGE} are served as "
            f"{profiles.MAX_PER_PAGE}.",
        ),
        "InterestFilter": _query(
            "interest",
            {
                "type": "array",
                "items": {"type": "string", "pattern": INTEREST_PATTERN},
                "maxItems": profiles.MAX_INTEREST_FILTERS,
            },
            "Category:minimum share (0 to 1), repeatable: interest=Music:0.3&interest=Dance:0.1 "
            "keeps profiles with at least 30% Music and 10% Dance. A bare category means any "
            "share above 0. Category names are matched case-insensitively.",
            style="form",
            explode=True,
        ),
        "K": _query(
            "k",
            {"type": "integer", "minimum": 1, "maximum": similarity.MAX_K, "default": 10},
            "How many to return.",
        ),
    }


# --- responses --------------------------------------------------------------------------------


def _problem_response(description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": schema_ref("Problem")}},
    }
    if headers:
        response["headers"] = headers
    return response


def _responses() -> dict:
    return {
        "BadParameter": {
            "description": "A query parameter is not acceptable; `errors` names it.",
            "content": {PROBLEM_JSON: {"schema": schema_ref("ValidationProblem")}},
        },
        "BadBody": _problem_response(
            "The body is not valid JSON; or, signed in with a session rather than a token, the "
            "CSRF token is missing or stale."
        ),
        "CsrfFailed": _problem_response(
            "Signed in with a session rather than a token, and the CSRF token is missing or stale."
        ),
        "Unauthorized": _problem_response(
            "No signed-in session and no valid API token.",
            headers={
                "WWW-Authenticate": {
                    "description": 'Bearer realm="toker"',
                    "schema": {"type": "string"},
                }
            },
        ),
        "Forbidden": _problem_response(
            "Signed in, but the role does not allow this, or the one-time password must be "
            "replaced first."
        ),
        "NotFound": _problem_response("No profile has that id."),
        "TooLarge": _problem_response("The body is larger than the configured limit."),
        "NotJson": _problem_response("The body is not sent as application/json."),
        "InvalidBody": {
            "description": "The body or the payload was rejected; `errors` lists every problem.",
            "content": {PROBLEM_JSON: {"schema": schema_ref("ValidationProblem")}},
        },
        "DatabaseUnavailable": _problem_response(
            "The database is not answering; try again shortly.",
            headers={"Retry-After": {"schema": {"type": "integer"}}},
        ),
    }


def _json(name: str, description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": schema_ref(name)}},
    }
    if headers:
        response["headers"] = headers
    return response


def _errors(*codes_and_names: tuple[str, str]) -> dict:
    """The named shared responses, plus 401, 403 and 503 that every API operation can give."""
    responses = {code: ref("responses", name) for code, name in codes_and_names}
    responses["401"] = ref("responses", "Unauthorized")
    responses["403"] = ref("responses", "Forbidden")
    responses.setdefault("503", ref("responses", "DatabaseUnavailable"))
    return dict(sorted(responses.items()))


def _operation(
    operation_id: str,
    tag: str,
    summary: str,
    description: str,
    responses: dict,
    parameters: list | None = None,
    request_body: dict | None = None,
) -> dict:
    operation = {
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "description": description,
    }
    if parameters:
        operation["parameters"] = parameters
    if request_body:
        operation["requestBody"] = request_body
    operation["responses"] = responses
    return operation


def _param(name: str) -> dict:
    return ref("parameters", name)


LIST_FILTERS = ("ProfileQuery", "PlatformFilter", "InterestFilter", "ProfileSort", "ProfileOrder")
STORED = {
    "Location": {"description": "The profile's address in the API.", "schema": {"type": "string"}}
}


def _json_body(name: str, description: str) -> dict:
    return {
        "required": True,
        "description": description,
        "content": {"application/json": {"schema": schema_ref(name)}},
    }


def _store_responses(extra: tuple = ()) -> dict:
    return {
        "201": _json("StoreResult", "A new profile was stored.", STORED),
        "200": _json("StoreResult", "The profile existed and was updated (a re-sync).", STORED),
        **_errors(
            ("400", "BadBody"),
            ("413", "TooLarge"),
            ("415", "NotJson"),
            ("422", "InvalidBody"),
            *extra,
        ),
    }


def _paths() -> dict:
    profile_id = [_param("ProfileId")]
    return {
        "/api/v1/profiles": {
            "get": _operation(
                "list_profiles",
                "profiles",
                "List profiles",
                "A page of profile summaries: search, filter by platform and by interest "
                "shares, sort and paginate.",
                {
                    "200": _json("ProfileList", "One page and the total count."),
                    **_errors(("400", "BadParameter")),
                },
                [_param(name) for name in LIST_FILTERS] + [_param("Page"), _param("PerPage")],
            ),
            "post": _operation(
                "create_profile",
                "profiles",
                "Store a payload",
                "Validate, clean, vectorise and store a payload given directly, in the "
                "platform format. A profile is unique by (platform, user_id): storing one "
                "that exists updates it in place.",
                _store_responses(),
                request_body=_json_body("StoreRequest", "The platform and its payload."),
            ),
        },
        "/api/v1/profiles/export": {
            "get": _operation(
                "export_profiles",
                "profiles",
                "Export profiles",
                "Every profile matching the list's filters (all pages), streamed as CSV or "
                "as a JSON array, as a file download.",
                {
                    "200": {
                        "description": "The matching profiles, in the list's order.",
                        "headers": {
                            "Content-Disposition": {
                                "description": 'attachment; filename="toker-profiles.<format>"',
                                "schema": {"type": "string"},
                            }
                        },
                        "content": {
                            "text/csv": {
                                "schema": {
                                    "type": "string",
                                    "description": "A header row with the ProfileSummary "
                                    "fields, then one row per profile.",
                                }
                            },
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": schema_ref("ProfileSummary"),
                                }
                            },
                        },
                    },
                    **_errors(("400", "BadParameter")),
                },
                [_param(name) for name in LIST_FILTERS]
                + [
                    _query(
                        "format",
                        {"type": "string", "enum": list(export.FORMATS), "default": "csv"},
                        "The file format.",
                    )
                ],
            ),
        },
        "/api/v1/profiles/nearest": {
            "get": _operation(
                "nearest",
                "look-alikes",
                "Profiles near a mix of interests",
                "The k profiles whose interest vectors are closest (cosine) to a mix of "
                "category weights.",
                {
                    "200": _json("NearestProfiles", "Closest first."),
                    **_errors(("400", "BadParameter")),
                },
                [
                    _query(
                        "mix",
                        {
                            "type": "array",
                            "items": {"type": "string", "pattern": MIX_PATTERN},
                            "minItems": 1,
                        },
                        "Category:weight (0 to 1), repeatable: mix=Music:0.6&mix=Dance:0.4. At "
                        "least one weight must be above 0.",
                        required=True,
                        style="form",
                        explode=True,
                    ),
                    _param("K"),
                    _param("PlatformFilter"),
                ],
            ),
        },
        "/api/v1/profiles/{profile_id}": {
            "get": _operation(
                "get_profile",
                "profiles",
                "Read a profile",
                "One profile with its payload fields, interest vector and top lists.",
                {
                    "200": _json("ProfileDetail", "The profile."),
                    **_errors(("404", "NotFound")),
                },
                profile_id,
            ),
            "delete": _operation(
                "delete_profile",
                "profiles",
                "Delete a profile",
                "Delete a profile with its links to videos and its interest weights.",
                {
                    "204": {"description": "Deleted."},
                    **_errors(("400", "CsrfFailed"), ("404", "NotFound")),
                },
                profile_id,
            ),
        },
        "/api/v1/profiles/{profile_id}/vector": {
            "get": _operation(
                "get_vector",
                "profiles",
                "A profile's interest vector",
                "The taxonomy and the profile's weights in the same order.",
                {"200": _json("Vector", "The vector."), **_errors(("404", "NotFound"))},
                profile_id,
            ),
        },
        "/api/v1/profiles/{profile_id}/similar": {
            "get": _operation(
                "similar",
                "look-alikes",
                "Similar profiles",
                "The k most similar profiles by cosine of interest vectors, with a breakdown.",
                {
                    "200": _json("SimilarProfiles", "Most similar first."),
                    **_errors(("400", "BadParameter"), ("404", "NotFound")),
                },
                profile_id + [_param("K"), _param("PlatformFilter")],
            ),
        },
        "/api/v1/profiles/{profile_id}/recommendations": {
            "get": _operation(
                "recommendations_for",
                "look-alikes",
                "Recommended videos",
                "Videos of the profile's platform it has not liked or shared, ranked by "
                "interest match, recency and engagement.",
                {
                    "200": _json("Recommendations", "Best first."),
                    **_errors(("400", "BadParameter"), ("404", "NotFound")),
                },
                profile_id
                + [
                    _query(
                        "k",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": recommendations.MAX_K,
                            "default": 10,
                        },
                        "How many videos to return.",
                    )
                ],
            ),
        },
        "/api/v1/videos": {
            "get": _operation(
                "list_videos",
                "videos",
                "List videos",
                "The catalogue of every stored video, searchable and ranked by engagement "
                "score or by how many stored profiles liked or shared it.",
                {
                    "200": _json("VideoList", "One page and the total count."),
                    **_errors(("400", "BadParameter")),
                },
                [
                    _query(
                        "q",
                        {"type": "string", "maxLength": videos.MAX_QUERY},
                        "Text in the caption or hashtags, case-insensitive.",
                    ),
                    _query(
                        "hashtag",
                        {"type": "string"},
                        "Only videos with this hashtag (the leading # is optional).",
                    ),
                    _param("PlatformFilter"),
                    _query(
                        "category",
                        {"type": "string", "enum": list(CATEGORIES)},
                        "Only videos in this category (case-insensitive).",
                    ),
                    _query(
                        "min_score",
                        {"type": "number", "minimum": 0, "maximum": 100, "default": 0},
                        "Only videos with at least this engagement score.",
                    ),
                    _query(
                        "sort",
                        {"type": "string", "enum": list(videos.SORTS), "default": "score"},
                        "Sort key: score, profiles (who liked or shared it), posted, likes.",
                    ),
                    _query(
                        "order",
                        {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
                        "Sort direction.",
                    ),
                    _param("Page"),
                    _param("PerPage"),
                ],
            ),
        },
        "/api/v1/map": {
            "get": _operation(
                "population_map_data",
                "population",
                "The population map",
                "Every profile as a map point: PCA position, platform, dominant interest and "
                "k-means cluster.",
                {
                    "200": _json("PopulationMap", "One entry per profile in each array."),
                    **_errors(("400", "BadParameter")),
                },
                [
                    _query(
                        "k",
                        {
                            "type": "integer",
                            "minimum": 2,
                            "maximum": population_map.MAX_CLUSTERS,
                            "default": 6,
                        },
                        "How many clusters.",
                    )
                ],
            ),
        },
        "/api/v1/connect": {
            "post": _operation(
                "connect",
                "onboarding",
                "Connect an account",
                "Run the onboarding pipeline: fetch the account from the platform, validate, "
                "clean, vectorise and store it.",
                _store_responses(
                    (
                        ("502", "PlatformError"),
                        ("503", "PlatformRateLimited"),
                        ("504", "PlatformTimeout"),
                    )
                ),
                request_body=_json_body("ConnectRequest", "The platform and the account."),
            ),
        },
        "/api/v1/categories": {
            "get": _operation(
                "categories",
                "taxonomy",
                "List categories",
                "The taxonomy in vector order, Other last.",
                {"200": _json("Categories", "The categories."), **_errors()},
            ),
        },
        "/api/v1/openapi.json": {
            "get": _operation(
                "openapi_document",
                "service",
                "This document",
                "The OpenAPI 3.1 description of the JSON API.",
                {"200": _json("OpenApiDocument", "The document."), **_errors()},
            ),
        },
        "/api/v1/docs": {
            "get": _operation(
                "api_docs",
                "service",
                "API documentation page",
                "This document rendered as an HTML page, every operation grouped by tag. "
                "A page for people: without valid credentials it sends the browser to sign in.",
                {
                    "200": {
                        "description": "The page.",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    "302": {
                        "description": "Not signed in: to the sign-in page.",
                        "headers": {
                            "Location": {
                                "description": "/signin?next=/api/v1/docs",
                                "schema": {"type": "string"},
                            }
                        },
                    },
                    **{k: v for k, v in _errors().items() if k != "401"},
                },
            ),
        },
        "/healthz": {
            "get": {
                **_operation(
                    "healthz",
                    "service",
                    "Health",
                    "Liveness, and whether the database answers. Needs no sign-in.",
                    {
                        "200": _json("Health", "Up, with the version."),
                        "503": _json("Health", "Up, but the database does not answer."),
                    },
                ),
                "security": [],
            },
        },
    }


def _connect_failures() -> dict:
    retry_after = {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }

    def failure(description: str) -> dict:
        return {
            "description": description,
            "headers": retry_after,
            "content": {PROBLEM_JSON: {"schema": schema_ref("PlatformProblem")}},
        }

    return {
        "PlatformError": failure("The platform answered with an error or a malformed account."),
        "PlatformRateLimited": failure(
            "The platform's rate limit held even after retries (Retry-After says when to come "
            "back); or the database is not answering."
        ),
        "PlatformTimeout": failure("The platform did not answer in time, even after retries."),
    }


def build_document(version: str, min_likes: int = 100) -> dict:
    """The OpenAPI 3.1 document of the JSON API, for a Toker version and its likes minimum."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Toker API",
            "version": version,
            "summary": "Interest profiles of social media accounts.",
            "description": "JSON in and out. Errors are application/problem+json (RFC 9457) "
            "with `type`, `title`, `status`, `detail` and, for validation, `errors` "
            "[{loc, msg}]. Every operation but /healthz needs a signed-in session or an API "
            "token sent as `Authorization: Bearer <token>`.",
        },
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token made by an administrator. A signed-in "
                    "browser session works too.",
                }
            },
            "parameters": _parameters(),
            "responses": {**_responses(), **_connect_failures()},
            "schemas": {
                **_problem_schemas(),
                **_payload_schemas(min_likes),
                **_profile_schemas(),
                **_look_alike_schemas(),
                **_catalogue_schemas(),
            },
        },
    }
