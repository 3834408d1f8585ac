"""The OpenAPI 3.1 document of the JSON API.

Its schemas and query parameters are generated from the pydantic models the API validates
with (api/schemas.py, webapp/queries.py, the payload models of services/ingestion/validation.py):
limits, enums and the taxonomy come from the code, so the document changes when the code does.
What is written here is the table of operations: their paths, summaries and answers by status.
tests/api/test_openapi.py checks that it lists exactly the app's API routes and fuzzes every
operation with Schemathesis against it.
"""

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from .. import queries
from ..models import MAX_ID
from . import schemas

OPENAPI_VERSION = "3.1.0"
PROBLEM_JSON = "application/problem+json"

TAGS = (
    ("profiles", "Stored profiles: list, search, export, read, store and delete."),
    ("onboarding", "Connect a platform account through the onboarding pipeline."),
    ("look-alikes", "Similar profiles, profiles near a mix of interests, recommended videos."),
    ("videos", "The catalogue of every stored video."),
    ("population", "The whole population on one map."),
    ("taxonomy", "The fixed list of interest categories."),
    (
        "jobs",
        "Work that outlives a request, run by the task queue's workers: start one, follow its "
        "progress, cancel it.",
    ),
    (
        "lists",
        "Shortlists shared with the team: each member with a note, tags, a status and what "
        "changed since it was added. Reading needs the viewer role, changing the analyst role.",
    ),
    (
        "views",
        "Saved views of /profiles: a named query string (filters, sort, order, columns, page "
        "size), personal or shared with the team, and each person's default view. Anyone "
        "signed in saves, changes and deletes their own personal views and chooses a default; "
        "sharing, and changing or deleting a shared view, needs the analyst role and the "
        "view's ownership (an admin may delete any shared view).",
    ),
    ("service", "Health of the service and this documentation."),
)


def ref(kind: str, name: str) -> dict:
    """A reference to a reusable component."""
    return {"$ref": f"#/components/{kind}/{name}"}


def schema_ref(name: str) -> dict:
    return ref("schemas", name)


# --- schemas: generated from the models ------------------------------------------------------


class _Generator(GenerateJsonSchema):
    """pydantic's JSON Schema (2020-12, as OpenAPI 3.1 takes it) without a title on every
    field: the field's name says it."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def _tidy(node):
    """The generated schemas as the document shows them: descriptions on one line, no
    `default: null` on fields that are merely optional, and each {"x-schema": name} marker a
    reference to that component. (Each model keeps its title: Swagger UI names a referenced
    schema by it.)"""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "x-schema" in node:
        return schema_ref(node["x-schema"])
    tidy = {}
    for key, value in node.items():
        if key == "default" and value is None:
            continue
        if key == "description" and isinstance(value, str):
            value = " ".join(value.split())
        tidy[key] = _tidy(value)
    return tidy


def component_schemas(min_likes: int) -> dict:
    """Every schema the document names, from the pydantic models (api/schemas.py, the payload
    models of services/ingestion/validation.py), in the models' order."""
    _keys, top = models_json_schema(
        [(model, "validation") for model in schemas.DOCUMENTED],
        ref_template="#/components/schemas/{model}",
        schema_generator=_Generator,
    )
    found = _tidy(top["$defs"])
    likes = found["Payload"]["properties"]["number_of_likes"]
    likes["minimum"] = min_likes
    likes["description"] = (
        "At least the server's minimum (TOKER_MIN_LIKES), or the payload is rejected with a "
        "422 that says how many it has and needs."
    )
    order = ["Platform", "JobKind"] + [model.__name__ for model in schemas.DOCUMENTED]
    return {name: found[name] for name in order}


# --- parameters -------------------------------------------------------------------------------


def query_parameters(model: type[queries.Query]) -> list[dict]:
    """The query parameters of one kind of request, from its model (webapp/queries.py)."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = []
    for name, field in schema["properties"].items():
        field = _plain(field)
        parameter = {
            "name": name,
            "in": "query",
            "schema": field,
            "description": field.pop("description"),
        }
        if name in required:
            parameter["required"] = True
        if name in model.repeated:
            parameter.update(style="form", explode=True)
        parameters.append(parameter)
    return parameters


def _plain(field: dict) -> dict:
    """A field's schema as a parameter's: no title, and an optional value (anyOf X or null)
    is X, since a parameter left out is simply absent."""
    field = {key: value for key, value in field.items() if key != "title"}
    choices = field.pop("anyOf", None)
    if choices:
        kept = [choice for choice in choices if choice != {"type": "null"}]
        if len(kept) == 1:
            field = {**kept[0], **field}
        else:
            field["anyOf"] = kept
    if field.get("default") is None:
        field.pop("default", None)
    return field


def _parameters() -> dict:
    return {
        "ProfileId": {
            "name": "profile_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            "description": "The profile's id.",
        },
        "Platform": {
            "name": "platform",
            "in": "path",
            "required": True,
            "schema": schema_ref("Platform"),
            "description": "The platform whose videos to sync.",
        },
        "JobId": {
            "name": "job_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            "description": "The job's id.",
        },
        "ListId": {
            "name": "list_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            "description": "The list's id.",
        },
        "ViewId": {
            "name": "view_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            "description": "The saved view's id.",
        },
    }


# --- responses --------------------------------------------------------------------------------


def _problem_response(description: str, headers: dict | None = None) -> dict:
    response = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": schema_ref("ProblemDetails")}},
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
        "JobNotFound": _problem_response("No job has that id."),
        "JobFinished": _problem_response("The job has ended already: nothing to cancel."),
        "JobActive": _problem_response(
            "A job of this kind is queued or running, and only one runs at a time (a re-sync "
            "of stale profiles); Location and `job_id` name it.",
            headers={"Location": {"schema": {"type": "string"}}},
        ),
        "UnknownPlatform": _problem_response("No platform has that name."),
        "ListNotFound": _problem_response("No list has that id."),
        "MemberNotFound": _problem_response(
            "No list has that id, or the profile is not on the list."
        ),
        "ViewNotFound": _problem_response(
            "No view has that id, or it is another person's personal view."
        ),
        "ViewNameTaken": {
            "description": "The caller has a view with that name; `errors` names the field.",
            "content": {PROBLEM_JSON: {"schema": schema_ref("ValidationProblem")}},
        },
        "NameTaken": {
            "description": "Another list has that name; `errors` names the field.",
            "content": {PROBLEM_JSON: {"schema": schema_ref("ValidationProblem")}},
        },
        "QueueUnavailable": _problem_response(
            "The database or the task queue is not answering; try again shortly. A job the "
            "queue did not take is recorded as failed.",
            headers={"Retry-After": {"schema": {"type": "integer"}}},
        ),
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


def _job_started_responses() -> dict:
    """What a route that queues a job answers."""
    return {
        "202": _json(
            "Job",
            "Queued.",
            {
                "Location": {
                    "description": "The job's address in the API.",
                    "schema": {"type": "string"},
                }
            },
        ),
        **_errors(
            ("400", "BadBody"),
            ("404", "UnknownPlatform"),
            ("413", "TooLarge"),
            ("415", "NotJson"),
            ("422", "InvalidBody"),
            ("503", "QueueUnavailable"),
        ),
    }


def _list_paths() -> dict:
    list_id = [_param("ListId")]
    member = [_param("ListId"), _param("ProfileId")]
    body_errors = (("400", "BadBody"), ("413", "TooLarge"), ("415", "NotJson"))
    return {
        "/api/v1/lists": {
            "get": _operation(
                "list_lists",
                "lists",
                "List the lists",
                "A page of the team's lists, by name, each with how many members it has.",
                {
                    "200": _json("ListOfLists", "One page and the total count."),
                    **_errors(("400", "BadParameter")),
                },
                query_parameters(queries.ListsQuery),
            ),
            "post": _operation(
                "create_list",
                "lists",
                "Make a list",
                "A new list, empty, shared with the team. Needs the analyst role.",
                {
                    "201": _json(
                        "ListSummary",
                        "Made.",
                        {
                            "Location": {
                                "description": "The list's address in the API.",
                                "schema": {"type": "string"},
                            }
                        },
                    ),
                    **_errors(*body_errors, ("409", "NameTaken"), ("422", "InvalidBody")),
                },
                request_body=_json_body("ListCreateRequest", "The name and a description."),
            ),
        },
        "/api/v1/lists/{list_id}": {
            "get": _operation(
                "get_list",
                "lists",
                "Read a list",
                "A list and one page of its members, by default the earliest added first, "
                "each with its followers and engagement rate now and what changed since it "
                "was added: followers and engagement rate from and to, and the interest drift "
                "(cosine distance between the snapshot it was added with and its latest). "
                "Optionally only the members matching a text, of one platform, of one status "
                "or carrying one tag, sorted by another column; `total` counts the members "
                "chosen on every page.",
                {
                    "200": _json("ListDetail", "The list."),
                    **_errors(("400", "BadParameter"), ("404", "ListNotFound")),
                },
                list_id + query_parameters(queries.ListMembersQuery),
            ),
            "patch": _operation(
                "update_list",
                "lists",
                "Rename or describe a list",
                "Change a list's name or description; a field left out stays as it is. Needs "
                "the analyst role.",
                {
                    "200": _json("ListSummary", "The list as changed."),
                    **_errors(
                        *body_errors,
                        ("404", "ListNotFound"),
                        ("409", "NameTaken"),
                        ("422", "InvalidBody"),
                    ),
                },
                list_id,
                request_body=_json_body("ListUpdateRequest", "What to change."),
            ),
            "delete": _operation(
                "delete_list",
                "lists",
                "Delete a list",
                "Delete a list and its members' notes, tags and statuses; the profiles stay. "
                "Needs the analyst role.",
                {
                    "204": {"description": "Deleted."},
                    **_errors(("400", "CsrfFailed"), ("404", "ListNotFound")),
                },
                list_id,
            ),
        },
        "/api/v1/lists/{list_id}/members": {
            "post": _operation(
                "add_members",
                "lists",
                "Add profiles to a list",
                "Add stored profiles in bulk, each as a candidate with the snapshot its changes "
                "will be read against. All or none: when an id names no stored profile, nothing "
                "is added and `errors` names each such id where it is. Profiles on the list "
                "already keep their note, tags and status. Needs the analyst role.",
                {
                    "200": _json("MembersAdded", "Added."),
                    **_errors(*body_errors, ("404", "ListNotFound"), ("422", "InvalidBody")),
                },
                list_id,
                request_body=_json_body("AddMembersRequest", "The profiles."),
            ),
        },
        "/api/v1/lists/{list_id}/members/{profile_id}": {
            "patch": _operation(
                "update_member",
                "lists",
                "Change a member",
                "Change a member's note, tags or status; a field left out stays as it is. "
                "Needs the analyst role.",
                {
                    "200": _json("ListMember", "The member as changed."),
                    **_errors(*body_errors, ("404", "MemberNotFound"), ("422", "InvalidBody")),
                },
                member,
                request_body=_json_body("MemberUpdateRequest", "What to change."),
            ),
            "delete": _operation(
                "remove_member",
                "lists",
                "Take a profile off a list",
                "The profile stays stored. Needs the analyst role.",
                {
                    "204": {"description": "Taken off."},
                    **_errors(("400", "CsrfFailed"), ("404", "MemberNotFound")),
                },
                member,
            ),
        },
    }


def _view_paths() -> dict:
    view_id = [_param("ViewId")]
    body_errors = (("400", "BadBody"), ("413", "TooLarge"), ("415", "NotJson"))
    located = "A name taken or a query /profiles refuses is named in `errors`."
    return {
        "/api/v1/views": {
            "get": _operation(
                "list_views",
                "views",
                "List the views",
                "The caller's own views, then the team's shared ones, each by name, with "
                "whether it is the caller's default.",
                {"200": _json("ViewList", "The views."), **_errors()},
            ),
            "post": _operation(
                "create_view",
                "views",
                "Save a view",
                "Save a /profiles query under a name, personal or shared (sharing needs the "
                f"analyst role), maybe as the caller's default. {located}",
                {
                    "201": _json(
                        "SavedView",
                        "Saved.",
                        {
                            "Location": {
                                "description": "The view's address in the API.",
                                "schema": {"type": "string"},
                            }
                        },
                    ),
                    **_errors(*body_errors, ("409", "ViewNameTaken"), ("422", "InvalidBody")),
                },
                request_body=_json_body("ViewCreateRequest", "The name, query and choices."),
            ),
        },
        "/api/v1/views/{view_id}": {
            "get": _operation(
                "get_view",
                "views",
                "Read a view",
                "One view the caller sees: their own, or a shared one.",
                {"200": _json("SavedView", "The view."), **_errors(("404", "ViewNotFound"))},
                view_id,
            ),
            "patch": _operation(
                "update_view",
                "views",
                "Change a view",
                "Rename it, change its query, share it or stop sharing it (its owner; the "
                "analyst role for a shared view), or make it the caller's default or stop it "
                f"being so (anyone who sees it). A field left out stays as it is. {located}",
                {
                    "200": _json("SavedView", "The view as changed."),
                    **_errors(
                        *body_errors,
                        ("404", "ViewNotFound"),
                        ("409", "ViewNameTaken"),
                        ("422", "InvalidBody"),
                    ),
                },
                view_id,
                request_body=_json_body("ViewUpdateRequest", "What to change."),
            ),
            "delete": _operation(
                "delete_view",
                "views",
                "Delete a view",
                "Its owner deletes it (the analyst role for a shared view); an admin deletes "
                "any shared view. Defaults that named it are cleared.",
                {
                    "204": {"description": "Deleted."},
                    **_errors(("400", "CsrfFailed"), ("404", "ViewNotFound")),
                },
                view_id,
            ),
        },
    }


def _paths() -> dict:
    profile_id = [_param("ProfileId")]
    return {
        "/api/v1/profiles": {
            "get": _operation(
                "list_profiles",
                "profiles",
                "List profiles",
                "A page of profile summaries: search; filter by platform, interest shares, "
                "dominant interest, ranges of followers, likes given, engagement rate and "
                "growth, verified and last sync; sort and paginate; with facets=true, the "
                "counts beside each platform and dominant interest.",
                {
                    "200": _json("ProfileList", "One page and the total count."),
                    **_errors(("400", "BadParameter")),
                },
                query_parameters(queries.ApiListQuery),
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
                query_parameters(queries.ExportQuery),
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
                query_parameters(queries.NearestQuery),
            ),
        },
        "/api/v1/roster": {
            "post": _operation(
                "build_roster",
                "look-alikes",
                "Build a roster for a mix",
                "N profiles that together cover a mix of interests without repeating each "
                "other, each with why it was picked, beside the plain N nearest under the same "
                "constraints, with both rosters' coverage and redundancy. Any role may ask: "
                "it reads only.",
                {
                    "200": _json("Roster", "The roster and the N nearest."),
                    **_errors(
                        ("400", "BadBody"),
                        ("413", "TooLarge"),
                        ("415", "NotJson"),
                        ("422", "InvalidBody"),
                    ),
                },
                request_body=_json_body("RosterRequest", "The mix, the size, the constraints."),
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
        "/api/v1/profiles/{profile_id}/history": {
            "get": _operation(
                "get_history",
                "profiles",
                "A profile's history",
                "Every snapshot of the profile (one per sync), the changes over 7, 30 and 90 "
                "days, and how its interests drifted from the first snapshot to the latest.",
                {"200": _json("History", "The history."), **_errors(("404", "NotFound"))},
                profile_id,
            ),
        },
        "/api/v1/profiles/{profile_id}/achievements": {
            "get": _operation(
                "get_achievements",
                "profiles",
                "A profile's achievements",
                "What the profile earned from its history and standing (follower milestones, "
                "growth, a new top-3 interest, the top 1 % of its band), the earliest first.",
                {
                    "200": _json("ProfileAchievements", "The achievements."),
                    **_errors(("404", "NotFound")),
                },
                profile_id,
            ),
        },
        "/api/v1/achievements": {
            "get": _operation(
                "list_achievements",
                "profiles",
                "Every profile's achievements",
                "Every award, the latest first, a page at a time, with how many profiles hold "
                "each achievement.",
                {
                    "200": _json("AchievementList", "One page, the total and the counts."),
                    **_errors(("400", "BadParameter")),
                },
                query_parameters(queries.AchievementsQuery),
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
                profile_id + query_parameters(queries.SimilarQuery),
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
                profile_id + query_parameters(queries.RecommendationsQuery),
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
                query_parameters(queries.VideoListQuery),
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
                query_parameters(queries.MapQuery),
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
        "/api/v1/jobs": {
            "get": _operation(
                "list_jobs",
                "jobs",
                "List jobs",
                "A page of jobs, newest first, with their progress; optionally of one status or "
                "one kind.",
                {
                    "200": _json("JobList", "One page and the total count."),
                    **_errors(("400", "BadParameter")),
                },
                query_parameters(queries.JobListQuery),
            ),
            "post": _operation(
                "start_job",
                "jobs",
                "Start a job",
                "Check the parameters, record the job and queue it for a worker (`toker "
                "worker`). Needs the analyst role. The answer comes at once, with the job "
                "queued; follow it at its Location.",
                {
                    "202": _json(
                        "Job",
                        "Queued.",
                        {
                            "Location": {
                                "description": "The job's address in the API.",
                                "schema": {"type": "string"},
                            }
                        },
                    ),
                    **_errors(
                        ("400", "BadBody"),
                        ("413", "TooLarge"),
                        ("415", "NotJson"),
                        ("409", "JobActive"),
                        ("422", "InvalidBody"),
                        ("503", "QueueUnavailable"),
                    ),
                },
                request_body=_json_body("JobRequest", "The kind of job and its parameters."),
            ),
        },
        "/api/v1/jobs/sync/{platform}": {
            "post": _operation(
                "sync_hashtags",
                "jobs",
                "Sync hashtags' videos",
                "Queue a hashtag sync: the platform's newest videos carrying each hashtag are "
                "stored in the video catalogue (searchable at once), deduplicated: a video "
                "already stored is refreshed, never doubled. The job's result counts the new "
                "and already stored videos of each hashtag. Needs the analyst role.",
                _job_started_responses(),
                [_param("Platform")],
                request_body=_json_body("HashtagSyncRequest", "The hashtags."),
            ),
        },
        "/api/v1/jobs/sync/{platform}/trending": {
            "post": _operation(
                "sync_trending",
                "jobs",
                "Sync trending hashtags' videos",
                "Ask the platform for its trending hashtags now, then queue their sync as a "
                "hashtag sync (the hashtags are in the job's params). The body may be left "
                "out. Needs the analyst role.",
                {
                    **_job_started_responses(),
                    "502": ref("responses", "PlatformError"),
                    "504": ref("responses", "PlatformTimeout"),
                },
                [_param("Platform")],
                request_body={
                    **_json_body("TrendingSyncRequest", "How many hashtags, how many videos."),
                    "required": False,
                },
            ),
        },
        "/api/v1/jobs/{job_id}": {
            "get": _operation(
                "get_job",
                "jobs",
                "Read a job",
                "One job: its status, progress, and how its items went so far.",
                {"200": _json("Job", "The job."), **_errors(("404", "JobNotFound"))},
                [_param("JobId")],
            ),
        },
        "/api/v1/jobs/{job_id}/cancel": {
            "post": _operation(
                "cancel_job",
                "jobs",
                "Cancel a job",
                "A queued job never starts; a running one stops after the item in hand (what "
                "its finished items stored stays). Your own job needs the analyst role, "
                "another person's the admin role.",
                {
                    "200": _json("Job", "Cancelled."),
                    **_errors(
                        ("400", "CsrfFailed"), ("404", "JobNotFound"), ("409", "JobFinished")
                    ),
                },
                [_param("JobId")],
            ),
        },
        **_list_paths(),
        **_view_paths(),
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
                "This document in Swagger UI, every operation grouped by tag, each one to "
                "read and try. A page for people: without a signed-in session it sends the "
                "browser to sign in (an API token does not sign in to pages).",
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


def resolve(document: dict, item: dict) -> dict:
    """Follow a local $ref (#/components/...) to the object it names."""
    while "$ref" in item:
        node = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


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
            "schemas": component_schemas(min_likes),
        },
    }
