"""The JSON API's bodies and answers as pydantic models: the one description of their shapes.

Request bodies are validated through these models (api/routes.py); the OpenAPI document's
schemas are generated from them (api/openapi.py), with the payload models of
services/ingestion/validation.py and the query models of webapp/queries.py. The answers are
built by the services as plain data for speed; the document's schemas for them come from the
models below, and the Schemathesis tests check every answer against the document.
"""

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    WithJsonSchema,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from ..models import JOB_STATUSES, LIST_STATUSES, MAX_ID
from ..queries import first_error
from ..services.analytics import population_map, roster
from ..services.catalogue import profiles, videos
from ..services.ingestion.platforms import PLATFORMS
from ..services.ingestion.processing import TOP_HASHTAGS_KEPT
from ..services.ingestion.taxonomy import CATEGORIES
from ..services.ingestion.validation import (
    MAX_COUNT,
    MAX_USER_ID,
    STAT_FIELDS,
    BadUserId,
    Payload,
    Video,
    check_user_id,
)
from ..services.jobs import KINDS
from ..services.jobs.base import where
from ..services.jobs.connect import AccountToConnect, ConnectParams
from ..services.jobs.hashtag_sync import (
    HashtagSyncBody,
    HashtagSyncParams,
    TrendingSyncBody,
    TrendingSyncParams,
)
from ..services.jobs.resync import ResyncParams
from ..services.jobs.resync_stale import ResyncStaleParams
from ..services.jobs.runner import MAX_PROBLEMS
from ..services.jobs.seed import SeedParams
from ..services.team import InvalidValue, lists
from ..services.team import views as saved_views

TOP_SHOWN = 5

Platform = StrEnum("Platform", [(name, name) for name in PLATFORMS])
Platform.__doc__ = "A platform Toker connects to."

NonNegative = Annotated[int, Field(ge=0)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Share = Annotated[float, Field(ge=0, le=1)]
ProfileId = Annotated[int, Field(ge=1)]
Timestamp = Annotated[
    str,
    Field(description="ISO 8601 date and time in UTC (SQLite-backed servers omit the offset)."),
]
Dominant = Annotated[
    str | None,
    Field(description="The largest interest; null when no video could be classified."),
]


EngagementRate = Annotated[
    float,
    Field(
        ge=0,
        description="(likes on own videos + comments) / max(videos, 1) / max(followers, 1), "
        "as of the last sync; a fraction.",
    ),
]
Growth = Annotated[
    float | None,
    Field(
        description="Followers' relative change over the 30 days or more before the last sync "
        "(0.1: +10 %); null while the history is shorter.",
    ),
]


class Answer(BaseModel):
    """An answer's shape: exactly these fields."""

    model_config = ConfigDict(extra="forbid")


# --- problems (RFC 9457) ---------------------------------------------------------------------


class ProblemError(Answer):
    """One located problem."""

    loc: str = Field(
        description="Where the problem is: a parameter name or a path into the body like "
        "liked_videos[3].likes; empty for the body as a whole."
    )
    msg: str = Field(description="What is wrong there.")


class ProblemDetails(BaseModel):
    """An RFC 9457 problem (application/problem+json). Extension members may follow, like
    `platform` and `user_id` on a rejected payload."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="urn:toker:problem:<kind>, or about:blank for plain HTTP errors.")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong, in words.")
    errors: list[ProblemError] = Field(None)


class ValidationProblem(ProblemDetails):
    """A rejected body or payload: `errors` lists every problem at once. A payload rejected by
    the rules also names its `platform` and `user_id`."""

    errors: list[ProblemError]
    platform: Platform = Field(None)
    user_id: str | None = None


class PlatformProblem(ProblemDetails):
    """The platform failed the onboarding pipeline."""

    attempts: int = Field(None, ge=1, description="How many times the platform was asked.")
    retry_after: int = Field(
        None, ge=1, description="Seconds to wait, as in the Retry-After header."
    )


# --- request bodies --------------------------------------------------------------------------


class InvalidBody(ValueError):
    """A body field is not acceptable: `loc` names it, `msg` says what is wrong."""

    def __init__(self, loc: str, msg: str):
        super().__init__(f"{loc}: {msg}")
        self.loc = loc
        self.msg = msg


def _refuse(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_body", "{message}", {"message": message})


class Body(BaseModel):
    """A request body's fields; fields the body does not name are ignored."""

    model_config = ConfigDict(extra="allow")

    @classmethod
    def parse(cls, body: dict):
        """The checked body; InvalidBody naming the first unacceptable field."""
        try:
            return cls.model_validate(body)
        except ValidationError as error:
            loc, kind, message = first_error(error)
            raise InvalidBody(where(loc), "is required" if kind == "missing" else message) from None


def _platform(value: Any) -> str:
    if value is None:
        raise _refuse("is required")
    if not isinstance(value, str) or value not in PLATFORMS:
        raise _refuse(f"must be one of {', '.join(PLATFORMS)}, not {value!r}")
    return value


class ConnectRequest(Body):
    """POST /api/v1/connect."""

    platform: Platform
    user_id: Annotated[
        str | None,
        WithJsonSchema(
            {
                "type": ["string", "integer", "null"],
                "pattern": r"\S",
                "maxLength": MAX_USER_ID,
                "minimum": 0,
            }
        ),
    ] = Field(
        None,
        description="The account to connect; a new random account when left out. The same "
        "platform and user id always give the same account.",
    )

    _platform = field_validator("platform", mode="before")(_platform)

    @field_validator("user_id", mode="before")
    @classmethod
    def _user_id(cls, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)
        if not isinstance(value, str):
            raise _refuse(f"must be a string of 1 to {MAX_USER_ID} characters")
        try:
            return check_user_id(value)
        except BadUserId as error:
            if error.reason == "nul":
                raise _refuse("must not contain a NUL character (\\u0000)") from None
            raise _refuse(f"must be a string of 1 to {MAX_USER_ID} characters") from None


class StoreRequest(Body):
    """POST /api/v1/profiles: the payload is checked whole by the pipeline, which lists every
    problem at once."""

    platform: Platform
    # Documented as the Payload schema (api/openapi.py swaps the marker for a reference).
    payload: Any = Field(json_schema_extra={"x-schema": "Payload"})

    _platform = field_validator("platform", mode="before")(_platform)


class JobBody(Body):
    """A kind of job's request body: `kind`, and that kind's parameters under `params`."""

    def job_params(self) -> dict:
        """The kind's parameters, as the jobs service takes them."""
        return self.params.model_dump(mode="json")


class ResyncJobRequest(JobBody):
    """POST /api/v1/jobs for a re-sync: each profile is fetched again from its platform and
    updated in place, as a connect would."""

    kind: Literal["resync"]
    params: ResyncParams


class ResyncStaleJobRequest(JobBody):
    """POST /api/v1/jobs for a re-sync of stale profiles: every profile last synced more than
    TOKER_RESYNC_HOURS ago (or `hours`), found when the job starts, each platform's calls paced
    below its rate limit. Refused with a 409 while another one is queued or running."""

    kind: Literal["resync-stale"]
    params: ResyncStaleParams = Field(default_factory=ResyncStaleParams)


class HashtagSyncJobRequest(JobBody):
    """POST /api/v1/jobs for a hashtag sync (as POST /api/v1/jobs/sync/{platform})."""

    kind: Literal["hashtag-sync"]
    params: HashtagSyncParams


class TrendingSyncJobRequest(JobBody):
    """POST /api/v1/jobs for a trending sync (as POST /api/v1/jobs/sync/{platform}/trending)."""

    kind: Literal["trending-sync"]
    params: TrendingSyncParams


class HashtagSyncRequest(Body, HashtagSyncBody):
    """POST /api/v1/jobs/sync/{platform}: the platform's videos carrying each hashtag are
    stored in the video catalogue, deduplicated."""


class TrendingSyncRequest(Body, TrendingSyncBody):
    """POST /api/v1/jobs/sync/{platform}/trending (the body may be left out): the platform's
    trending hashtags, asked when the job starts, then as a hashtag sync."""


class SeedJobRequest(JobBody):
    """POST /api/v1/jobs for demo seeding: demo accounts stored through the real pipeline,
    with weekly history when `weeks` asks for it; `params` may be left out (200 accounts)."""

    kind: Literal["seed"]
    params: SeedParams = Field(default_factory=SeedParams)


class ConnectJobRequest(JobBody):
    """POST /api/v1/jobs for a bulk connect: each account is fetched from its platform, checked
    and stored (or updated in place when stored already), as POST /api/v1/connect does for
    one. The whole list is checked first: a bad or repeated account, or a bad line, is named
    where it is, and no job starts."""

    kind: Literal["connect"]
    params: ConnectParams


# Each kind of job's request body, by kind.
JOB_REQUESTS: dict[str, type[JobBody]] = {
    "resync": ResyncJobRequest,
    "resync-stale": ResyncStaleJobRequest,
    "hashtag-sync": HashtagSyncJobRequest,
    "trending-sync": TrendingSyncJobRequest,
    "seed": SeedJobRequest,
    "connect": ConnectJobRequest,
}
assert set(JOB_REQUESTS) == set(KINDS), "every kind of job takes a request body"


class JobRequest(
    RootModel[
        Annotated[
            ResyncJobRequest
            | ResyncStaleJobRequest
            | HashtagSyncJobRequest
            | TrendingSyncJobRequest
            | ConnectJobRequest
            | SeedJobRequest,
            Field(discriminator="kind"),
        ]
    ]  # one member per kind
):
    """POST /api/v1/jobs: `kind` names the kind of job; that kind's parameters sit beside it."""

    @classmethod
    def parse(cls, body: dict) -> JobBody:
        """The kind's body, checked; InvalidBody naming `kind` or the kind's field at fault."""
        kind = body.get("kind")
        if kind is None:
            raise InvalidBody("kind", "is required")
        model = JOB_REQUESTS.get(kind) if isinstance(kind, str) else None
        if model is None:
            raise InvalidBody("kind", f"must be one of {', '.join(JOB_REQUESTS)}, not {kind!r}")
        return model.parse(body)


class RosterRequest(Body):
    """POST /api/v1/roster: a target mix, a size and who may be picked."""

    mix: dict[str, Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]] = Field(
        description="Category -> weight (0 or more; only the proportions count), at least one "
        "above 0.",
        min_length=1,
        json_schema_extra={"propertyNames": {"enum": list(CATEGORIES)}},
    )
    size: Annotated[int, Field(strict=True, ge=roster.MIN_SIZE, le=roster.MAX_SIZE)] = Field(
        description="How many profiles to pick."
    )
    platform: Platform | None = Field(None, description="Only profiles of this platform.")
    min_followers: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        None, description="Only profiles with at least this many followers."
    )
    max_followers: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        None, description="Only profiles with at most this many followers."
    )

    @field_validator("platform", mode="before")
    @classmethod
    def _platform(cls, value: Any) -> str | None:
        return None if value is None else _platform(value)

    @classmethod
    def parse(cls, body: dict):
        """The checked body; InvalidBody naming the first unacceptable field (an unknown
        category as mix.<name>)."""
        parsed = super().parse(body)
        try:
            roster.target_vector(parsed.mix)
            roster.check(parsed.size, parsed.constraints())
        except roster.BadRoster as error:
            raise InvalidBody(error.loc, error.msg) from None
        return parsed

    def constraints(self) -> roster.Constraints:
        """Who may be picked, as the roster builder takes it."""
        platform = None if self.platform is None else str(self.platform)
        return roster.Constraints(platform, self.min_followers, self.max_followers)


# --- profiles ----------------------------------------------------------------------------------


# Who the profile is and its statistics, the payload's STAT_FIELDS in their order.
_Identity = create_model(
    "_Identity",
    __base__=Answer,
    id=(ProfileId, ...),
    platform=(Platform, ...),
    user_id=(str, ...),
    username=(str, ...),
    user_pseudo=(str, ...),
    verified=(bool, ...),
    **{name: (Count, ...) for name in STAT_FIELDS},
)


class ProfileSummary(_Identity):
    """One row of the profile list."""

    liked_count: NonNegative
    shared_count: NonNegative
    unclassified_count: NonNegative
    dominant_interest: Dominant
    engagement_rate: EngagementRate
    growth_30d: Growth
    created_at: Timestamp
    updated_at: Timestamp


class Facets(Answer):
    """How many profiles each value would show: each value's count is of the profiles that
    match every other active filter and have that value."""

    platform: dict[str, NonNegative] = Field(description="Platform -> count.")
    dominant_interest: dict[str, NonNegative] = Field(
        description="Dominant interest -> count, largest first; values with none left out."
    )


class ProfileList(Answer):
    items: list[ProfileSummary]
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=profiles.MAX_PER_PAGE)
    total: NonNegative
    facets: Facets | None = Field(None, description="With facets=true only.")


class StoredVideo(BaseModel):
    """A video as the payload gave it (video_id as a string); categories and hashtags are the
    raw ones, before cleaning."""

    model_config = ConfigDict(extra="allow")

    video_id: str
    categories: list[str] | None = Field(None)
    hashtags: list[str] | None = Field(None)
    likes: NonNegative
    comments: NonNegative
    shares: NonNegative
    caption: str | None = Field(None)
    posted_at: str | None = Field(None)


Interest = create_model(
    "Interest",
    __config__=ConfigDict(extra="forbid"),
    __doc__="Category -> share of interest, in taxonomy order; sums to 1, or all zeros when "
    "nothing was classified.",
    **{name: (Share, ...) for name in CATEGORIES},
)


class TopCategory(Answer):
    category: str
    weight: float = Field(ge=0)


class TopHashtag(Answer):
    hashtag: str
    count: int = Field(ge=1)


class ProfileDetail(_Identity):
    """One profile: its payload fields, interest vector and top lists."""

    liked_videos: list[StoredVideo]
    shared_videos: list[StoredVideo]
    interest: Interest
    dominant_interest: Dominant
    top_categories: list[TopCategory] = Field(max_length=TOP_SHOWN)
    top_hashtags: list[TopHashtag] = Field(max_length=min(TOP_SHOWN, TOP_HASHTAGS_KEPT))
    unclassified_count: NonNegative
    engagement_rate: EngagementRate
    growth_30d: Growth
    sync_count: int = Field(ge=1, description="1 when created, one more on every re-sync.")
    created_at: Timestamp
    updated_at: Timestamp


class StoreResult(Answer):
    status: Literal["created", "updated"]
    profile: ProfileDetail


class Vector(Answer):
    categories: list[str] = Field(
        min_length=len(CATEGORIES),
        max_length=len(CATEGORIES),
        description="The taxonomy, in order.",
    )
    weights: list[Share] = Field(
        min_length=len(CATEGORIES),
        max_length=len(CATEGORIES),
        description="The interest weights in the same order.",
    )


# --- look-alikes -------------------------------------------------------------------------------


class NearestProfile(Answer):
    id: ProfileId
    username: str
    platform: Platform
    score: float = Field(description="Cosine of the interest vectors.")


class Snapshot(Answer):
    """A profile as one sync found it."""

    taken_at: Timestamp
    followers_count: Count
    likes_received: Count = Field(description="Likes on the account's own videos.")
    engagement_rate: float = Field(
        ge=0,
        description="(likes on own videos + comments) / max(videos, 1) / max(followers, 1).",
    )
    interest: dict[str, Share] = Field(description="The non-zero interest weights by category.")


class Delta(Answer):
    """One figure at the start and at the end of a period."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: float = Field(alias="from")
    to: float
    change: float
    relative: float | None = Field(description="change / from; null when from is 0.")


class PeriodChange(Answer):
    """What changed since the last snapshot taken at least the period before the latest."""

    since: Timestamp
    followers_count: Delta
    likes_received: Delta
    engagement_rate: Delta


class Drift(Answer):
    """How the interest mix moved from the first snapshot to the latest."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: Timestamp = Field(alias="from")
    to: Timestamp
    cosine_distance: float = Field(ge=0, le=1, description="1 - cosine of the two vectors.")
    gained: list[str] = Field(description="Categories weighted now and not at first.")
    lost: list[str] = Field(description="Categories weighted at first and not now.")


class History(Answer):
    """A profile over time: its snapshots oldest first, the changes over 7, 30 and 90 days
    (null where the history is shorter), the interest drift (null without snapshots)."""

    profile_id: ProfileId
    snapshots: list[Snapshot]
    changes: dict[str, PeriodChange | None]
    drift: Drift | None


class Achievement(Answer):
    """An achievement a profile earned, with its badge drawn by the app."""

    code: str = Field(description="What earned it: followers-N, growth-10, top3-X, top1pct-X.")
    title: str
    detail: str
    awarded_at: Timestamp
    badge: str = Field(description="The badge's address (SVG).")


class ProfileAchievements(Answer):
    profile_id: ProfileId
    items: list[Achievement]


class AwardedAchievement(Achievement):
    profile_id: ProfileId
    username: str


class AchievementList(Answer):
    """Every profile's achievements, the latest first, and how many profiles hold each."""

    items: list[AwardedAchievement]
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=profiles.MAX_PER_PAGE)
    total: NonNegative
    counts: dict[str, NonNegative]


class SimilarityBreakdown(Answer):
    interest_cosine: float
    hashtag_jaccard: float = Field(
        ge=0, le=1, description="Overlap of the two profiles' top 5 hashtags."
    )


class SimilarProfile(NearestProfile):
    breakdown: SimilarityBreakdown


class SimilarProfiles(Answer):
    items: list[SimilarProfile]


class NearestProfiles(Answer):
    items: list[NearestProfile]


class Recommendation(Answer):
    video_id: str
    platform: Platform
    score: float = Field(description="0.6 x interest + 0.2 x recency + 0.2 x engagement.")
    interest: float = Field(description="Cosine with the profile.")
    recency: Share
    engagement: Share
    engagement_score: float = Field(ge=0, le=100)
    categories: list[str]
    hashtags: list[str]
    caption: str | None
    posted_at: str | None = Field(
        description="ISO 8601 date and time in UTC (SQLite-backed servers omit the offset)."
    )


class Recommendations(Answer):
    items: list[Recommendation]


class RosterReason(Answer):
    """Why a profile was picked, as the greedy step saw it."""

    gain: float = Field(description="How much the roster's coverage rose with this pick.")
    coverage: float = Field(description="The roster's coverage once this pick was added.")
    similarity: float | None = Field(
        description="The pick's largest interest cosine to the picks before it; null for the "
        "first pick."
    )
    similar_to: ProfileId | None = Field(
        description="Which earlier pick that is (the earlier of equals); null for the first."
    )


class RosterProfile(NearestProfile):
    followers_count: Count


class RosterPick(RosterProfile):
    reason: RosterReason


class _Roster(Answer):
    coverage: float = Field(
        description="Cosine of the mean of the unit interest vectors to the mix."
    )
    redundancy: float | None = Field(
        description="Mean cosine over every pair of the profiles; null for fewer than two."
    )


class PickedRoster(_Roster):
    """The roster, in the order it was picked."""

    items: list[RosterPick]


class NearestRoster(_Roster):
    """The plain N nearest to the mix under the same constraints, closest first."""

    items: list[RosterProfile]


class Roster(Answer):
    """A roster that covers the mix without repeating itself, beside the plain N nearest: the
    roster is picked greedily, each pick maximising its coverage minus `penalty` times its
    largest cosine to the picks so far, among a pool of the profiles nearest the mix and
    nearest each of its categories. Fewer than `size` when fewer profiles qualify."""

    mix: dict[str, Share] = Field(description="The mix's weights as shares that sum to 1.")
    size: int = Field(ge=roster.MIN_SIZE, le=roster.MAX_SIZE)
    penalty: float = Field(ge=0)
    pool: NonNegative = Field(description="How many candidates the greedy picking looked at.")
    roster: PickedRoster
    nearest: NearestRoster


# --- the catalogue, the map, the taxonomy, the service -----------------------------------------


class CatalogueVideo(Answer):
    video_id: str
    platform: Platform
    categories: list[str] = Field(description="Cleaned categories.")
    hashtags: list[str] = Field(description="Cleaned hashtags.")
    caption: str | None
    likes: NonNegative
    comments: NonNegative
    shares: NonNegative
    posted_at: str | None = Field(
        description="ISO 8601 date and time in UTC (SQLite-backed servers omit the offset)."
    )
    score: float = Field(
        ge=0,
        le=100,
        description="Engagement score: 100 x log10(1 + likes + 2 x comments + 3 x shares) / 7, "
        "capped at 100.",
    )
    profiles: NonNegative = Field(description="How many stored profiles liked or shared it.")


class VideoList(Answer):
    items: list[CatalogueVideo]
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=profiles.MAX_PER_PAGE)
    total: NonNegative
    sort: Literal[tuple(videos.SORTS)]
    order: Literal["asc", "desc"]


Pair = Annotated[list[NonNegative], Field(min_length=2, max_length=2)]
SharePair = Annotated[list[Annotated[int, Field(ge=0, le=100)]], Field(min_length=2, max_length=2)]


class PopulationMap(Answer):
    """Parallel arrays, one entry per profile drawn: the first two principal components of the
    interest vectors, and a k-means cluster."""

    ids: list[ProfileId]
    x: list[float]
    y: list[float]
    username: list[str]
    dominant: list[str] = Field(description="Dominant interest, or Unclassified.")
    top: list[Pair] = Field(
        description="Each point's two largest interests, as indices into `categories` (of "
        "equal shares, the first in the taxonomy)."
    )
    top_shares: list[SharePair] = Field(
        description="Their shares in whole per cent (0: no such interest)."
    )
    categories: list[str] = Field(description="The taxonomy, in the order `top` indexes.")
    platform: list[Platform]
    cluster: list[NonNegative] = Field(description="Index into `clusters`.")
    clusters: list[str] = Field(description="Each cluster named by its two largest interests.")
    cluster_sizes: list[NonNegative] = Field(
        description="How many profiles each cluster has, every profile counted."
    )
    total: NonNegative = Field(
        description="How many profiles there are. Past "
        f"{population_map.MAX_POINTS:,} the arrays hold an even sample of them."
    )
    explained: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        min_length=2,
        max_length=2,
        description="The share of the interest vectors' total variance that x and y each "
        "explain (0 to 1).",
    )


PopulationMap.__doc__ += (
    f" Every profile is drawn up to {population_map.MAX_POINTS:,}; past that, an even sample "
    "of that size."
)


class Categories(Answer):
    categories: list[str] = Field(description="The taxonomy in vector order, Other last.")


class Health(Answer):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unavailable"]
    version: str = Field(None)


# --- jobs ----------------------------------------------------------------------------------------

JobKind = StrEnum("JobKind", [(name, name) for name in KINDS])
JobKind.__doc__ = "A kind of job."


class JobProgress(Answer):
    done: NonNegative = Field(description="Items finished, whatever their outcome.")
    total: NonNegative


class JobProblem(Answer):
    item: str = Field(description="The item, like 'profile 5'.")
    outcome: str
    reason: str


class JobResult(Answer):
    counts: dict[str, NonNegative] = Field(
        description="Items finished, by outcome. A re-sync's: updated, rejected (the account "
        "no longer passes the rules; the stored profile is unchanged), failed (the platform "
        "failed, after retries), gone (deleted after the job started); a stale re-sync's also "
        "fresh (synced since the job started: left as it is). A hashtag or trending sync's: "
        "synced or failed hashtags, and the videos over all of them: 'new videos', 'videos "
        "already stored' (refreshed, never doubled), 'videos malformed' (left out). A bulk "
        "connect's: stored (a new profile), updated (stored already), rejected (the account "
        "does not pass the rules; nothing stored), failed. A seeding's: created, updated and "
        "rejected accounts, batches stored."
    )
    problems: list[JobProblem] = Field(
        max_length=MAX_PROBLEMS,
        description=f"Why items were not done, the first {MAX_PROBLEMS}; `counts` has them all.",
    )
    items: dict[str, dict[str, NonNegative]] = Field(
        None,
        description="What each item found, by item, for kinds that say (a hashtag sync: each "
        "hashtag's videos found, new and already stored); the first "
        f"{MAX_PROBLEMS} items.",
    )


class JobStarter(Answer):
    id: Annotated[int, Field(ge=1)] | None = Field(
        description="The user's id; null when started from the command line or when the user "
        "was deleted since."
    )
    name: str


class Job(Answer):
    """A job: what it does, how far it got and how its items went."""

    id: int = Field(ge=1)
    kind: JobKind
    label: str = Field(description="What the kind of job does, in words.")
    status: Literal[JOB_STATUSES] = Field(
        description="queued, then running, then done (every item finished, whatever its "
        "outcome), failed (the job could not go on: see `error`) or cancelled."
    )
    params: dict = Field(description="The parameters the job was started with, `kind` aside.")
    progress: JobProgress
    result: JobResult
    error: str | None = Field(description="Why the job could not go on; null otherwise.")
    started_by: JobStarter
    runs: NonNegative = Field(
        description="How many times a worker took the job up: more than 1 when a worker stopped "
        "or died mid-job. The items finished before are not done again."
    )
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


class JobList(Answer):
    items: list[Job] = Field(description="Newest first.")
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=profiles.MAX_PER_PAGE)
    total: NonNegative


# --- lists ---------------------------------------------------------------------------------------

ListStatus = Literal[LIST_STATUSES]


def _string(clean, value: Any) -> str:
    """A string field checked by one of the team services' cleaners (lists, saved views)."""
    if not isinstance(value, str):
        raise _refuse("must be a string")
    try:
        return clean(value)
    except InvalidValue as error:
        raise _refuse(error.message) from None


ListName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=lists.MAX_NAME,
        description="Unique among the lists; spaces around it are dropped, runs inside are one.",
    ),
]
ListDescription = Annotated[str, Field(max_length=lists.MAX_DESCRIPTION)]
Tag = Annotated[
    str,
    Field(
        min_length=1,
        max_length=lists.MAX_TAG,
        pattern=r"^[^,]*\S[^,]*$",
        description="Stored in lower case; no comma.",
    ),
    BeforeValidator(lambda value: _string(lists.clean_tag, value)),
]


class _ListText(Body):
    """A list's name and description as the lists service cleans them, new or changed."""

    @field_validator("name", mode="before", check_fields=False)
    @classmethod
    def _name(cls, value: Any) -> str:
        return _string(lists.clean_name, value)

    @field_validator("description", mode="before", check_fields=False)
    @classmethod
    def _description(cls, value: Any) -> str:
        return _string(lists.clean_description, value)


class ListCreateRequest(_ListText):
    """POST /api/v1/lists: a new list, shared with the team."""

    name: ListName
    description: ListDescription = ""


class ListUpdateRequest(_ListText):
    """PATCH /api/v1/lists/{list_id}: rename the list or change its description; a field left
    out stays as it is."""

    name: ListName = Field(None)
    description: ListDescription = Field(None)


class AddMembersRequest(Body):
    """POST /api/v1/lists/{list_id}/members: profiles to add, all or none."""

    profile_ids: list[Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]] = Field(
        min_length=1,
        max_length=lists.MAX_ADD,
        description="Stored profiles to add; an id named twice is added once. If any id names "
        "no stored profile, nothing is added and each such id is named where it is.",
    )


class MemberUpdateRequest(Body):
    """PATCH /api/v1/lists/{list_id}/members/{profile_id}: a field left out stays as it is."""

    note: str = Field(None, max_length=lists.MAX_NOTE)
    tags: list[Tag] = Field(
        None,
        max_length=lists.MAX_TAGS,
        description="Replace the member's tags (repeats are kept once).",
    )
    status: ListStatus = Field(None)

    @field_validator("note", mode="before")
    @classmethod
    def _note(cls, value: Any) -> str:
        return _string(lists.clean_note, value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return list(dict.fromkeys(tags))


class ListCreator(Answer):
    id: Annotated[int, Field(ge=1)] | None = Field(
        description="The user's id; null when the user was deleted since."
    )
    name: str


class ListSummary(Answer):
    """A list without its members."""

    id: int = Field(ge=1)
    name: str
    description: str
    created_by: ListCreator
    created_at: Timestamp
    updated_at: Timestamp = Field(description="The last change to the list or its members.")
    member_count: NonNegative


class ListOfLists(Answer):
    items: list[ListSummary] = Field(description="By name.")
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=profiles.MAX_PER_PAGE)
    total: NonNegative


class ChangeSinceAdded(Answer):
    """What changed from the profile's latest snapshot when it was added to its latest now."""

    since: Timestamp = Field(description="When the snapshot it was added with was taken.")
    latest: Timestamp = Field(description="When the profile's latest snapshot was taken.")
    followers_count: Delta
    engagement_rate: Delta
    interest_drift: float = Field(
        ge=0, le=1, description="1 - cosine of the two snapshots' interest vectors."
    )


class ListMember(Answer):
    """A profile on a list."""

    profile_id: ProfileId
    username: str
    platform: Platform
    followers_count: Count = Field(description="As of the profile's last sync.")
    engagement_rate: EngagementRate
    note: str
    tags: list[str]
    status: ListStatus
    added_at: Timestamp
    added_by: str
    changes: ChangeSinceAdded | None = Field(
        description="Null when the profile had no snapshot when added, or that one is gone."
    )


class ListDetail(ListSummary):
    """A list and one page of its members (those the filters choose, in the order asked; by
    default the earliest added first)."""

    members: list[ListMember] = Field(description="This page of the members chosen.")
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=profiles.MAX_PER_PAGE)
    total: NonNegative = Field(
        description="How many members the filters choose, on every page (member_count counts "
        "the whole list)."
    )


class MembersAdded(Answer):
    added: list[ProfileId] = Field(description="Profiles added, in the order asked.")
    already: list[ProfileId] = Field(description="Profiles on the list already, left as they were.")
    member_count: NonNegative = Field(description="How many members the list has now.")


# --- saved views ---------------------------------------------------------------------------------

ViewName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=saved_views.MAX_NAME,
        description="Unique among the owner's views; spaces around it are dropped, runs inside "
        "are one.",
    ),
]
ViewQuery = Annotated[
    str,
    Field(
        max_length=saved_views.MAX_QUERY + len("/profiles?"),
        description="The /profiles query string (a leading '?' or '/profiles?' is dropped), "
        "checked by the page's own parser: a parameter it refuses is named in `errors` at "
        "`query`. Stored without `page`, `view` and empty values, repeated parameters kept.",
    ),
]


class _ViewFields(Body):
    """A view's name and query as the views service cleans them, new or changed."""

    @field_validator("name", mode="before", check_fields=False)
    @classmethod
    def _name(cls, value: Any) -> str:
        return _string(saved_views.clean_name, value)

    @field_validator("query", mode="before", check_fields=False)
    @classmethod
    def _query(cls, value: Any) -> str:
        return _string(saved_views.normalise_query, value)


class ViewCreateRequest(_ViewFields):
    """POST /api/v1/views: save a /profiles query under a name."""

    name: ViewName
    query: ViewQuery = ""
    shared: bool = Field(
        False, strict=True, description="Share it with the team; needs the analyst role."
    )
    default: bool = Field(
        False, strict=True, description="Make it the caller's default view of /profiles."
    )


class ViewUpdateRequest(_ViewFields):
    """PATCH /api/v1/views/{view_id}: a field left out stays as it is. Renaming, changing the
    query or sharing needs the view's ownership (and the analyst role for a shared view);
    `default` is the caller's own choice, open to anyone who sees the view."""

    name: ViewName = Field(None)
    query: ViewQuery = Field(None)
    shared: bool = Field(None, strict=True, description="Share it with the team, or stop.")
    default: bool = Field(
        None, strict=True, description="Make it the caller's default view, or stop it being so."
    )


class ViewOwner(Answer):
    id: Annotated[int, Field(ge=1)] | None = Field(
        description="The user's id; null when the user was deleted since."
    )
    name: str


class SavedView(Answer):
    """A saved view of /profiles."""

    id: int = Field(ge=1)
    name: str
    owner: ViewOwner
    shared: bool = Field(description="Seen by the whole team; else by its owner alone.")
    query: str = Field(description="The /profiles query string, without page and empty values.")
    url: str = Field(description="The /profiles address that shows the view.")
    default: bool = Field(description="Whether it is the caller's default view of /profiles.")
    created_at: Timestamp
    updated_at: Timestamp


class ViewList(Answer):
    items: list[SavedView] = Field(
        description="The caller's own views, then the shared ones of others, each by name."
    )


class OpenApiDocument(BaseModel):
    """This document."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict
    paths: dict


# Every model the document names, in the order its components list them.
DOCUMENTED = (
    ProblemDetails,
    ProblemError,
    ValidationProblem,
    PlatformProblem,
    Video,
    Payload,
    ConnectRequest,
    StoreRequest,
    ProfileSummary,
    Facets,
    ProfileList,
    StoredVideo,
    Interest,
    TopCategory,
    TopHashtag,
    ProfileDetail,
    StoreResult,
    Vector,
    Snapshot,
    Delta,
    PeriodChange,
    Drift,
    History,
    Achievement,
    ProfileAchievements,
    AwardedAchievement,
    AchievementList,
    SimilarProfile,
    SimilarityBreakdown,
    SimilarProfiles,
    NearestProfile,
    NearestProfiles,
    Recommendation,
    Recommendations,
    RosterRequest,
    Roster,
    RosterReason,
    RosterProfile,
    RosterPick,
    PickedRoster,
    NearestRoster,
    CatalogueVideo,
    VideoList,
    PopulationMap,
    Categories,
    JobRequest,
    ResyncJobRequest,
    ResyncParams,
    ResyncStaleJobRequest,
    ResyncStaleParams,
    HashtagSyncJobRequest,
    HashtagSyncParams,
    TrendingSyncJobRequest,
    TrendingSyncParams,
    HashtagSyncRequest,
    TrendingSyncRequest,
    SeedJobRequest,
    SeedParams,
    ConnectJobRequest,
    ConnectParams,
    AccountToConnect,
    Job,
    JobProgress,
    JobResult,
    JobProblem,
    JobStarter,
    JobList,
    ListCreateRequest,
    ListUpdateRequest,
    AddMembersRequest,
    MemberUpdateRequest,
    ListCreator,
    ListSummary,
    ListOfLists,
    ChangeSinceAdded,
    ListMember,
    ListDetail,
    MembersAdded,
    ViewCreateRequest,
    ViewUpdateRequest,
    ViewOwner,
    SavedView,
    ViewList,
    Health,
    OpenApiDocument,
)
