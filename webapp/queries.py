"""Query strings into typed queries: the one place the pages and the JSON API read `request.args`.

Each kind of request has a pydantic model of its parameters. The model checks them (an
unacceptable one is a BadQuery that names it and says what is wrong, as a 400 on both the
pages and the API), gives the typed query the services take (`ListQuery`, `VideoQuery`, a
number), and describes the parameters in the OpenAPI document (api/contract.py reads each
model's fields: names, types, limits, defaults, descriptions). Services never see a request.
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)
from pydantic_core import PydanticCustomError

from .models import JOB_STATUSES, LIST_STATUSES
from .services.accounts import audit
from .services.analytics import population_map, recommendations, similarity
from .services.catalogue import columns as columns_
from .services.catalogue import export, videos
from .services.catalogue.profiles import (
    DEFAULT_PER_PAGE,
    DEFAULT_SORT,
    MAX_INTEREST_FILTERS,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_QUERY_LENGTH,
    SORTS,
    ListQuery,
)
from .services.catalogue.videos import VideoQuery
from .services.ingestion.platforms import PLATFORMS
from .services.ingestion.taxonomy import CATEGORIES, normalise_hashtag
from .services.jobs import KINDS
from .services.team import lists

# Category or Category:share, as a pattern for the document (the check is parse_interest's).
_CATEGORY_ALTERNATION = "|".join(re.escape(name) for name in CATEGORIES)
_SHARE = r"(0(\.[0-9]{1,6})?|1(\.0{1,6})?|\.[0-9]{1,6})"
INTEREST_PATTERN = rf"^({_CATEGORY_ALTERNATION})(:{_SHARE})?$"
MIX_PATTERN = rf"^({_CATEGORY_ALTERNATION}):{_SHARE}$"
_CATEGORY_BY_LOWER = {name.lower(): name for name in CATEGORIES}
ORDERS = ("asc", "desc")
# The list's range filters (each NAME_min and NAME_max), those given in per cent, and bounds.
RANGE_NAMES = ("followers", "likes", "engagement", "growth")
PER_CENT_RANGES = frozenset({"engagement", "growth"})
MAX_COUNT = 10**15
MAX_PER_CENT = 10**6
_TRUTHS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


class BadQuery(ValueError):
    """A query parameter is not acceptable; `param` names it."""

    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


def _refuse(message: str) -> PydanticCustomError:
    # The message is a value of the template, never the template: a parameter's text may hold
    # braces.
    return PydanticCustomError("bad_query", "{message}", {"message": message})


def parse_interest(text: str, param: str = "interest") -> tuple[str, float]:
    """'Music:0.3' -> ('Music', 0.3); the category is matched case-insensitively; a bare
    category means a share of 0."""
    name, sep, share = text.rpartition(":")
    if not sep:
        name, share = text, "0"
    category = _CATEGORY_BY_LOWER.get(name.strip().lower())
    if category is None:
        raise BadQuery(param, f"{name.strip()!r} is not a category; see /api/v1/categories")
    try:
        minimum = float(share)
    except ValueError:
        raise BadQuery(param, f"the minimum share in {text!r} must be a number") from None
    if not 0 <= minimum <= 1 or minimum != minimum:
        raise BadQuery(param, f"the minimum share in {text!r} must be between 0 and 1")
    return category, minimum


def _whole_number(value: Any, low: int, high: int) -> int:
    """A whole number within [low, high], or the parameter's error."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise _refuse(f"must be a whole number from {low} to {high}, not {value!r}")
    return number


def _positive(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _refuse(f"must be a whole number, not {value!r}") from None
    if number < 1:
        raise _refuse(f"must be 1 or more, not {number}")
    return number


def _one_of(value: Any, choices) -> str:
    if value not in choices:
        raise _refuse(f"must be one of {', '.join(choices)}, not {value!r}")
    return value


def first_error(error: ValidationError) -> tuple[tuple, str, str]:
    """The first problem a model found: where (pydantic's loc), its kind, and what is wrong (a
    refusal's own words, else pydantic's). Pages, the API and bodies answer with the first."""
    first = error.errors(include_url=False)[0]
    return first["loc"], first["type"], first.get("ctx", {}).get("message") or first["msg"]


class Query(BaseModel):
    """The parameters of one kind of request. Empty values count as left out."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    # Parameters that may repeat (interest=...&interest=...).
    repeated: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def parse(cls, args: Mapping):
        """The checked query; BadQuery naming the first unacceptable parameter."""
        data = {}
        for name in cls.model_fields:
            if name in cls.repeated:
                values = args.getlist(name) if hasattr(args, "getlist") else [args.get(name)]
                values = [value for value in values if value]
                if values:
                    data[name] = values
            else:
                value = args.get(name)
                if value not in (None, ""):
                    data[name] = value
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            loc, _kind, message = first_error(error)
            raise BadQuery(str(loc[0]) if loc else "", message) from None


def _order(value: Any) -> str:
    if value not in ORDERS:
        raise _refuse(f"must be 'asc' or 'desc', not {value!r}")
    return value


# Parameter types that carry their check and their documented limits: a model names the type,
# its default and its description.
def WholeNumber(low: int, high: int):  # noqa: N802 (a type, as pydantic's conint was)
    """A whole number from low to high; else "must be a whole number from low to high"."""
    return Annotated[
        int, Field(ge=low, le=high), BeforeValidator(lambda value: _whole_number(value, low, high))
    ]


def OneOf(choices):  # noqa: N802
    """One of `choices`; else "must be one of ..., not ..."."""
    choices = tuple(choices)
    return Annotated[
        str,
        Field(json_schema_extra={"enum": list(choices)}),
        BeforeValidator(lambda value: _one_of(value, choices)),
    ]


Order = Annotated[str, Field(json_schema_extra={"enum": list(ORDERS)}), BeforeValidator(_order)]
PlatformFilter = Annotated[OneOf(PLATFORMS) | None, Field(description="Only this platform.")]


class ListFilters(Query):
    """What chooses and orders profiles: the list's and the export's parameters."""

    repeated = frozenset({"interest"})

    q: str = Field(
        "",
        max_length=MAX_QUERY_LENGTH,
        description="Text in the username or pseudonym, case-insensitive.",
    )
    platform: PlatformFilter = None
    sort: OneOf(SORTS) = Field(
        DEFAULT_SORT,
        description="Sort key; short names are aliases (followers = followers_count).",
    )
    order: Order | None = Field(
        None,
        description="Sort direction; ascending by default for username and platform, else "
        "descending.",
    )
    interest: tuple[str, ...] = Field(
        (),
        max_length=MAX_INTEREST_FILTERS,
        description="Category:minimum share (0 to 1), repeatable: "
        "interest=Music:0.3&interest=Dance:0.1 keeps profiles with at least 30% Music and 10% "
        "Dance. A bare category means any share above 0. Category names are matched "
        "case-insensitively.",
        json_schema_extra={"items": {"type": "string", "pattern": INTEREST_PATTERN}},
    )

    followers_min: int | None = Field(None, ge=0, description="At least this many followers.")
    followers_max: int | None = Field(None, ge=0, description="At most this many followers.")
    likes_min: int | None = Field(
        None, ge=0, description="Likes given (number_of_likes): at least this many."
    )
    likes_max: int | None = Field(
        None, ge=0, description="Likes given (number_of_likes): at most this many."
    )
    engagement_min: float | None = Field(
        None, ge=0, description="Engagement rate at least this, in per cent (2.5 = 2.5 %)."
    )
    engagement_max: float | None = Field(
        None, ge=0, description="Engagement rate at most this, in per cent."
    )
    growth_min: float | None = Field(
        None,
        description="Follower growth over 30 days at least this, in per cent (may be "
        "negative); profiles with a shorter history have none and are left out.",
    )
    growth_max: float | None = Field(
        None, description="Follower growth over 30 days at most this, in per cent."
    )
    verified: bool | None = Field(
        None, description="Only verified (true) or only unverified (false) accounts."
    )
    synced_since: datetime | None = Field(
        None,
        description="Last synced at or after this date (YYYY-MM-DD, midnight UTC) or time "
        "(ISO 8601; UTC when it names no zone).",
        json_schema_extra={"format": "date-time"},
    )
    dominant: OneOf(CATEGORIES) | None = Field(
        None, description="Only profiles whose dominant interest is this category."
    )

    @field_validator("followers_min", "followers_max", "likes_min", "likes_max", mode="before")
    @classmethod
    def _count(cls, value: Any) -> int:
        return _whole_number(value, 0, MAX_COUNT)

    @field_validator("engagement_min", "engagement_max", "growth_min", "growth_max", mode="before")
    @classmethod
    def _per_cent(cls, value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _refuse(f"must be a number (per cent), not {value!r}") from None
        if number != number or abs(number) > MAX_PER_CENT:
            raise _refuse(f"must be a number from -{MAX_PER_CENT} to {MAX_PER_CENT}")
        return number

    @field_validator("verified", mode="before")
    @classmethod
    def _verified(cls, value: Any) -> bool:
        found = _TRUTHS.get(str(value).strip().lower())
        if found is None:
            raise _refuse(f"must be true or false, not {value!r}")
        return found

    @field_validator("synced_since", mode="before")
    @classmethod
    def _since(cls, value: Any) -> datetime:
        text = str(value).strip()
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise _refuse(
                f"must be a date (YYYY-MM-DD) or an ISO 8601 time, not {text!r}"
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        try:
            return when.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the first UTC day
            raise _refuse(f"{text!r} is out of the range of dates") from None

    @field_validator("dominant", mode="before")
    @classmethod
    def _dominant(cls, value: Any) -> str:
        category = _CATEGORY_BY_LOWER.get(str(value).strip().lower())
        if category is None:
            raise _refuse(f"{str(value).strip()!r} is not a category; see /api/v1/categories")
        return category

    @classmethod
    def parse(cls, args: Mapping):
        parsed = super().parse(args)
        for name in RANGE_NAMES:
            low, high = getattr(parsed, f"{name}_min"), getattr(parsed, f"{name}_max")
            if low is not None and high is not None and low > high:
                raise BadQuery(
                    f"{name}_max", f"is below {name}_min ({high:g} < {low:g}): nothing matches"
                )
        return parsed

    def ranges(self) -> tuple:
        """The range filters as the service takes them: (name, low, high), values as stored
        (per cent made a fraction)."""
        found = []
        for name in RANGE_NAMES:
            low, high = getattr(self, f"{name}_min"), getattr(self, f"{name}_max")
            if low is None and high is None:
                continue
            if name in PER_CENT_RANGES:
                low = None if low is None else low / 100
                high = None if high is None else high / 100
            found.append((name, low, high))
        return tuple(found)

    @field_validator("q", mode="before")
    @classmethod
    def _q(cls, value: Any) -> str:
        text = str(value).strip()
        if len(text) > MAX_QUERY_LENGTH:
            raise _refuse(f"is too long ({len(text)} characters, at most {MAX_QUERY_LENGTH})")
        return text

    @field_validator("interest", mode="before")
    @classmethod
    def _interest(cls, values: Any) -> tuple[str, ...]:
        if len(values) > MAX_INTEREST_FILTERS:
            raise _refuse(f"at most {MAX_INTEREST_FILTERS} interest filters")
        for text in values:
            try:
                parse_interest(text)
            except BadQuery as error:
                raise _refuse(error.message) from None
        return tuple(values)


class ProfileListQuery(ListFilters):
    """GET /api/v1/profiles and the /profiles page: the filters and a page."""

    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    per_page: int = Field(
        DEFAULT_PER_PAGE,
        ge=1,
        le=MAX_PAGE,
        description=f"Items per page; more than {MAX_PER_PAGE} are served as {MAX_PER_PAGE}.",
    )

    @field_validator("page", mode="before")
    @classmethod
    def _page(cls, value: Any) -> int:
        page = _positive(value)
        if page > MAX_PAGE:
            raise _refuse(f"must be at most {MAX_PAGE}")
        return page

    @field_validator("per_page", mode="before")
    @classmethod
    def _per_page(cls, value: Any) -> int:
        # More than the cap is served at the cap rather than refused.
        return min(_positive(value), MAX_PER_PAGE)

    def query(self) -> ListQuery:
        """The service's query: interests as sorted (category, minimum) pairs."""
        interests = tuple(sorted(dict(parse_interest(text) for text in self.interest).items()))
        order = self.order or ("asc" if self.sort in ("username", "platform") else "desc")
        return ListQuery(
            self.q,
            self.platform,
            self.sort,
            order,
            self.page,
            self.per_page,
            interests,
            self.ranges(),
            self.verified,
            self.synced_since,
            self.dominant,
        )


class ApiListQuery(ProfileListQuery):
    """GET /api/v1/profiles: the list's parameters and whether to count facets."""

    facets: bool = Field(
        False,
        description="true: add the counts beside each platform and dominant interest, each "
        "counting the profiles that match every other filter with that value.",
    )

    @field_validator("facets", mode="before")
    @classmethod
    def _facets(cls, value: Any) -> bool:
        found = _TRUTHS.get(str(value).strip().lower())
        if found is None:
            raise _refuse(f"must be true or false, not {value!r}")
        return found


def list_query(args: Mapping) -> ListQuery:
    """The profile list's query from a query string; BadQuery."""
    return ProfileListQuery.parse(args).query()


def _column_keys(value: Any) -> tuple[str, ...]:
    """The `columns` parameter checked by the column registry (columns.parse)."""
    try:
        return columns_.parse(str(value))
    except ValueError as error:
        raise _refuse(str(error)) from None


class TableQuery(ProfileListQuery):
    """The /profiles page: the list's parameters and the table's columns."""

    columns: tuple[str, ...] | None = Field(
        None,
        description="The columns, comma-separated: "
        + ", ".join(columns_.FIELD_COLUMNS)
        + ", or share:<category> (e.g. share:Music); the default is "
        + ",".join(columns_.DEFAULT_COLUMNS)
        + ". The share of each interest filter's category is shown too.",
        json_schema_extra={"type": "string"},
    )

    _columns = field_validator("columns", mode="before")(_column_keys)

    def chosen_columns(self) -> tuple[str, ...]:
        return self.columns if self.columns is not None else columns_.DEFAULT_COLUMNS

    def args(self, **changes) -> dict:
        """The query as its one URL form: each parameter once, in a fixed order, defaults left
        out, interests as Category:share; `changes` replace some (None removes one)."""
        query = self.query()
        found: dict = {}
        if self.q:
            found["q"] = self.q
        if self.platform:
            found["platform"] = self.platform
        if query.interests:
            found["interest"] = [f"{category}:{share:g}" for category, share in query.interests]
        if self.dominant:
            found["dominant"] = self.dominant
        for name in RANGE_NAMES:
            for end in ("min", "max"):
                value = getattr(self, f"{name}_{end}")
                if value is not None:
                    found[f"{name}_{end}"] = f"{value:g}" if isinstance(value, float) else value
        if self.verified is not None:
            found["verified"] = "true" if self.verified else "false"
        if self.synced_since is not None:
            since = self.synced_since
            found["synced_since"] = (
                since.date().isoformat()
                if since.time() == datetime.min.time()
                else since.isoformat().replace("+00:00", "Z")
            )
        if self.sort != DEFAULT_SORT or query.order != "desc":
            found["sort"] = self.sort
            found["order"] = query.order
        if self.per_page != DEFAULT_PER_PAGE:
            found["per_page"] = self.per_page
        if self.columns is not None and self.columns != columns_.DEFAULT_COLUMNS:
            found["columns"] = ",".join(self.columns)
        if self.page != 1:
            found["page"] = self.page
        for key, value in changes.items():
            if value is None:
                found.pop(key, None)
            else:
                found[key] = value
        return found


# The filter form's interest pickers: "Interested in" and "and in".
INTEREST_PICKERS = ("", "2")


def form_fields(args, default_columns: tuple[str, ...] = columns_.DEFAULT_COLUMNS) -> bool:
    """Turn a table's filter form's own fields into the query's, in place (a MultiDict): each
    interest picker of /profiles (a category and a minimum in per cent) into
    interest=Category:share, the column ticks into columns=... (`default_columns` when none is
    ticked); whether there were any. BadQuery for a bad per cent."""
    found = False
    for suffix in INTEREST_PICKERS:
        if f"interest_category{suffix}" in args or f"interest_min{suffix}" in args:
            found = True
        category = args.pop(f"interest_category{suffix}", "")
        minimum = args.pop(f"interest_min{suffix}", "")
        if category:
            try:
                share = float(minimum or 0) / 100
            except ValueError:
                raise BadQuery(f"interest_min{suffix}", "must be a number (per cent)") from None
            args.add("interest", f"{category}:{share:g}")
    if "column" in args or "columns_form" in args:
        found = True
        ticked = [key for key in args.poplist("column") if key]
        args.pop("columns_form", None)
        args["columns"] = ",".join(ticked) or ",".join(default_columns)
    return found


class ExportQuery(TableQuery):
    """GET /api/v1/profiles/export: the list's filters and a file format (every page)."""

    page: int = Field(
        1, ge=1, le=MAX_PAGE, description="Checked as the list's; the file holds every page."
    )
    per_page: int = Field(
        DEFAULT_PER_PAGE,
        ge=1,
        le=MAX_PAGE,
        description="Checked as the list's; the file holds every page.",
    )

    format: OneOf(export.FORMATS) = Field(
        "csv",
        description="The file format. The file has each profile's identity, the chosen "
        "columns (or every summary field when none are chosen) and every category's share.",
    )


class SimilarQuery(Query):
    """GET /api/v1/profiles/{id}/similar."""

    k: WholeNumber(1, similarity.MAX_K) = Field(10, description="How many to return.")
    platform: PlatformFilter = None


class RecommendationsQuery(Query):
    """GET /api/v1/profiles/{id}/recommendations."""

    k: WholeNumber(1, recommendations.MAX_K) = Field(10, description="How many videos to return.")


class NearestQuery(Query):
    """GET /api/v1/profiles/nearest."""

    repeated = frozenset({"mix"})

    mix: tuple[str, ...] = Field(
        description="Category:weight (0 to 1), repeatable: mix=Music:0.6&mix=Dance:0.4. At "
        "least one weight must be above 0.",
        min_length=1,
        json_schema_extra={"items": {"type": "string", "pattern": MIX_PATTERN}},
    )
    k: WholeNumber(1, similarity.MAX_K) = Field(10, description="How many to return.")
    platform: PlatformFilter = None

    @field_validator("mix", mode="before")
    @classmethod
    def _mix(cls, values: Any) -> tuple[str, ...]:
        weights = {}
        for text in values:
            try:
                category, weight = parse_interest(text, "mix")
            except BadQuery as error:
                raise _refuse(error.message) from None
            weights[category] = weight
        if not any(weights.values()):
            raise _refuse("give at least one category with a weight above 0, like mix=Music:0.5")
        return tuple(values)

    @classmethod
    def parse(cls, args: Mapping):
        given = args.getlist("mix") if hasattr(args, "getlist") else [args.get("mix")]
        if not [value for value in given if value]:
            raise BadQuery(
                "mix", "give at least one category with a weight above 0, like mix=Music:0.5"
            )
        return super().parse(args)

    def weights(self) -> dict[str, float]:
        """Category -> weight; a category named twice keeps its last weight."""
        return dict(parse_interest(text, "mix") for text in self.mix)


class VideoListQuery(Query):
    """GET /api/v1/videos and the /videos page."""

    q: str = Field(
        "",
        max_length=videos.MAX_QUERY,
        description="Text in the caption or hashtags, case-insensitive.",
    )
    hashtag: str | None = Field(
        None, description="Only videos with this hashtag (the leading # is optional)."
    )
    platform: PlatformFilter = None
    category: str | None = Field(
        None,
        description="Only videos in this category (case-insensitive).",
        json_schema_extra={"enum": list(CATEGORIES)},
    )
    min_score: float = Field(
        0.0, ge=0, le=100, description="Only videos with at least this engagement score."
    )
    sort: OneOf(videos.SORTS) = Field(
        "score", description="Sort key: score, profiles (who liked or shared it), posted, likes."
    )
    order: Order = Field("desc", description="Sort direction.")
    page: WholeNumber(1, MAX_PAGE) = Field(1, description="Page number, from 1.")
    per_page: int = Field(
        DEFAULT_PER_PAGE,
        ge=1,
        le=MAX_PAGE,
        description=f"Items per page; more than {MAX_PER_PAGE} are served as {MAX_PER_PAGE}.",
    )

    @field_validator("q", mode="before")
    @classmethod
    def _q(cls, value: Any) -> str:
        text = str(value).strip().lower()
        if len(text) > videos.MAX_QUERY:
            raise _refuse(f"is too long (at most {videos.MAX_QUERY} characters)")
        return text

    @field_validator("hashtag", mode="before")
    @classmethod
    def _hashtag(cls, value: Any) -> str:
        return normalise_hashtag(str(value))

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: Any) -> str:
        category = _CATEGORY_BY_LOWER.get(str(value).strip().lower())
        if category is None:
            raise _refuse(f"{value!r} is not a category")
        return category

    @field_validator("min_score", mode="before")
    @classmethod
    def _min_score(cls, value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _refuse(f"must be a number, not {value!r}") from None
        if not 0 <= number <= 100:
            raise _refuse("must be from 0 to 100")
        return number

    @field_validator("per_page", mode="before")
    @classmethod
    def _per_page(cls, value: Any) -> int:
        return min(_whole_number(value, 1, 10**6), MAX_PER_PAGE)

    def query(self) -> VideoQuery:
        return VideoQuery(
            self.q,
            self.hashtag,
            self.platform,
            self.category,
            self.min_score,
            self.sort,
            self.order,
            self.page,
            self.per_page,
        )


def video_query(args: Mapping) -> VideoQuery:
    """The video catalogue's query from a query string; BadQuery."""
    return VideoListQuery.parse(args).query()


class MapQuery(Query):
    """GET /api/v1/map."""

    k: WholeNumber(2, population_map.MAX_CLUSTERS) = Field(6, description="How many clusters.")


class JobListQuery(Query):
    """GET /api/v1/jobs and the /jobs page."""

    status: OneOf(JOB_STATUSES) | None = Field(None, description="Only jobs with this status.")
    kind: OneOf(KINDS) | None = Field(None, description="Only jobs of this kind.")
    page: WholeNumber(1, MAX_PAGE) = Field(1, description="Page number, from 1.")
    per_page: int = Field(
        DEFAULT_PER_PAGE,
        ge=1,
        le=MAX_PAGE,
        description=f"Items per page; more than {MAX_PER_PAGE} are served as {MAX_PER_PAGE}.",
    )

    @field_validator("per_page", mode="before")
    @classmethod
    def _per_page(cls, value: Any) -> int:
        return min(_whole_number(value, 1, MAX_PAGE), MAX_PER_PAGE)


class ListsQuery(Query):
    """GET /api/v1/lists: which page of the lists, by name."""

    page: WholeNumber(1, MAX_PAGE) = Field(1, description="Page number, from 1.")
    per_page: WholeNumber(1, MAX_PER_PAGE) = Field(50, description="Lists per page.")


def _tag(value: Any) -> str:
    try:
        return lists.clean_tag(value)
    except lists.InvalidValue as error:
        raise _refuse(error.message) from None


class ListMembersQuery(Query):
    """GET /api/v1/lists/{id}, the list's page and its export: which members to show, in
    what order, and which page of them."""

    q: str = Field(
        "",
        max_length=MAX_QUERY_LENGTH,
        description="Text in the member's username or display name, case-insensitive.",
    )
    platform: PlatformFilter = None
    status: OneOf(LIST_STATUSES) | None = Field(None, description="Only members with this status.")
    tag: Annotated[str, Field(max_length=lists.MAX_TAG), BeforeValidator(_tag)] | None = Field(
        None, description="Only members carrying this tag (case does not matter)."
    )
    sort: OneOf(lists.MEMBER_SORTS) = Field(
        lists.DEFAULT_MEMBER_SORT,
        description="Sort key: when added, username, platform, status (in the order a member "
        "moves through them), followers, engagement (rate) or change (followers gained since "
        "added; members with no known change come last).",
    )
    order: Order | None = Field(
        None,
        description="Sort direction; ascending by default for added, username, platform and "
        "status, else descending.",
    )
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    per_page: int = Field(
        lists.MEMBERS_PER_PAGE,
        ge=1,
        le=MAX_PAGE,
        description=f"Members per page; more than {MAX_PER_PAGE} are served as {MAX_PER_PAGE}.",
    )

    _q = field_validator("q", mode="before")(ListFilters._q.__func__)
    _page = field_validator("page", mode="before")(ProfileListQuery._page.__func__)
    _per_page = field_validator("per_page", mode="before")(ProfileListQuery._per_page.__func__)

    def query(self) -> lists.MemberQuery:
        """The service's query, the direction filled in from the sort when not given."""
        order = self.order or ("asc" if self.sort in lists.ASCENDING_FIRST else "desc")
        return lists.MemberQuery(
            self.q,
            self.platform,
            self.status,
            self.tag,
            self.sort,
            order,
            self.page,
            self.per_page,
        )


class ListTableQuery(ListMembersQuery):
    """A list's page and its export: the members' query and the table's chosen columns."""

    columns: tuple[str, ...] | None = Field(
        None,
        description="The profile columns shown between the username and the list's own "
        "columns, comma-separated: "
        + ", ".join(columns_.FIELD_COLUMNS)
        + ", or share:<category> (e.g. share:Music); the default is "
        + ",".join(lists.DEFAULT_COLUMNS)
        + ". The export carries them (every summary field when none are given) and every "
        "category's share.",
        json_schema_extra={"type": "string"},
    )

    _columns = field_validator("columns", mode="before")(_column_keys)

    def chosen_columns(self) -> tuple[str, ...]:
        return self.columns if self.columns is not None else lists.DEFAULT_COLUMNS

    def columns_arg(self) -> str | None:
        """The columns as the URL carries them: None when they are the default."""
        if self.columns is None or self.columns == lists.DEFAULT_COLUMNS:
            return None
        return ",".join(self.columns)


class AuditQuery(Query):
    """GET /admin/audit: lenient, as a page of the admin's own log may be: a page out of range
    is the nearest one, an unknown action shows every action."""

    page: int = 1
    action: str = ""
    actor: str = ""

    @field_validator("page", mode="before")
    @classmethod
    def _page(cls, value: Any) -> int:
        try:
            return min(max(int(value), 1), MAX_PAGE)
        except (TypeError, ValueError):
            return 1

    @field_validator("action", mode="before")
    @classmethod
    def _action(cls, value: Any) -> str:
        return value if value in audit.ACTIONS else ""

    @field_validator("actor", mode="before")
    @classmethod
    def _actor(cls, value: Any) -> str:
        return str(value).strip()


def _page_number(value: Any) -> int:
    try:
        page = int(value)
    except (TypeError, ValueError):
        page = 0
    if not 1 <= page <= MAX_PAGE:
        raise _refuse(f"must be a whole number from 1 to {MAX_PAGE:,}")
    return page


class VideoPagesQuery(Query):
    """A profile's page: which page of its liked and of its shared videos."""

    liked_page: int = 1
    shared_page: int = 1

    _pages = field_validator("liked_page", "shared_page", mode="before")(_page_number)


class PageQuery(Query):
    """One list's partial: which page."""

    page: int = 1

    _page = field_validator("page", mode="before")(_page_number)


class AchievementsQuery(Query):
    """GET /api/v1/achievements: which page of the awards, the latest first."""

    page: WholeNumber(1, MAX_PAGE) = Field(1, description="Page number, from 1.")
    per_page: WholeNumber(1, MAX_PER_PAGE) = Field(20, description="Awards per page.")
