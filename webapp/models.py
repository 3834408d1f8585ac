"""Database models: profiles, catalogue videos, who liked or shared what, interest weights."""

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    insert,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .services.ingestion import payloads
from .services.ingestion.processing import top_categories
from .services.ingestion.taxonomy import CATEGORIES
from .services.ingestion.vectors import unpack_vector

JSONType = JSON().with_variant(JSONB(), "postgresql")


class HashtagCounts(TypeDecorator):
    """Hashtag counts as [{"hashtag": tag, "count": n}], stored as [[tag, n]]: the keys
    spelled once in the code instead of in every row (200 bytes a profile)."""

    impl = JSONType
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return [[entry["hashtag"], entry["count"]] for entry in value]

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return [{"hashtag": tag, "count": count} for tag, count in value]


# Ids are INTEGER columns: 32-bit on PostgreSQL. A larger number names no row, and asking the
# database for it would overflow the driver instead of finding nothing.
MAX_ID = 2**31 - 1


def is_valid_id(value: int) -> bool:
    """Whether `value` can be the id of a row."""
    return 0 < value <= MAX_ID


def utcnow() -> datetime:
    """Now, timezone-aware in UTC (a callable default, evaluated per row)."""
    return datetime.now(UTC)


class Profile(db.Model):
    """One platform account, unique by (platform, user_id), with its stats and interest vector."""

    __tablename__ = "profiles"
    __table_args__ = (
        UniqueConstraint("platform", "user_id", name="uq_profiles_platform_user_id"),
        Index("ix_profiles_followers", "followers_count", "id"),
        Index("ix_profiles_number_of_likes", "number_of_likes", "id"),
        Index("ix_profiles_username", "username", "id"),
        Index("ix_profiles_created_at", "created_at", "id"),
        Index("ix_profiles_updated_at", "updated_at", "id"),
        Index("ix_profiles_platform_followers", "platform", "followers_count", "id"),
        Index("ix_profiles_engagement_rate", "engagement_rate", "id"),
        Index("ix_profiles_growth_30d", "growth_30d", "id"),
        # A deleted profile's id is never given to another account (SQLite would reuse it).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(100))
    user_pseudo: Mapped[str] = mapped_column(String(100))
    verified: Mapped[bool] = mapped_column(Boolean)
    followers_count: Mapped[int] = mapped_column(BigInteger)
    following_count: Mapped[int] = mapped_column(BigInteger)
    likes_count: Mapped[int] = mapped_column(BigInteger)
    videos_count: Mapped[int] = mapped_column(BigInteger)
    number_of_comments: Mapped[int] = mapped_column(BigInteger)
    number_of_likes_on_own_videos: Mapped[int] = mapped_column(BigInteger)
    number_of_likes: Mapped[int] = mapped_column(BigInteger)
    number_of_shares: Mapped[int] = mapped_column(BigInteger)
    liked_count: Mapped[int] = mapped_column(Integer)
    shared_count: Mapped[int] = mapped_column(Integer)
    unclassified_count: Mapped[int] = mapped_column(Integer)
    dominant_interest: Mapped[str | None] = mapped_column(String(32))
    # As of the last sync (services/ingestion/scores.engagement_rate), a fraction.
    engagement_rate: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # Followers' relative change from the last snapshot taken 30 days or more before the last
    # sync to that sync; None while the history is shorter.
    growth_30d: Mapped[float | None] = mapped_column(Float)
    # 1 when created, incremented by every re-sync.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The interest weights in taxonomy order as little-endian float64, for loading all vectors
    # at once; profile_interests holds the same weights row by row for filtering in SQL.
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    # The most frequent hashtags of the liked and shared videos, read and written as
    # [{"hashtag", "count"}] and stored as [[hashtag, count]].
    top_hashtags: Mapped[list] = mapped_column(HashtagCounts)
    # The payload as received is apart, in profile_payloads: lists never read it.

    interests: Mapped[list["ProfileInterest"]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", passive_deletes=True
    )
    video_links: Mapped[list["ProfileVideo"]] = relationship(
        back_populates="profile",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="(ProfileVideo.kind, ProfileVideo.position)",
    )

    @property
    def top_categories(self) -> list[dict]:
        """The largest interests, ties in taxonomy order: what the sync computed
        (processing.top_categories), read from the vector rather than kept beside it."""
        return top_categories(unpack_vector(self.vector))


class ProfileSnapshot(db.Model):
    """A profile as one sync found it: its statistics, engagement rate and interest weights
    at that time. Every sync (connect, re-sync, seeding) adds one in the same transaction as
    the profile's own row, so a profile's history never misses a stored state."""

    __tablename__ = "profile_snapshots"
    __table_args__ = (Index("ix_profile_snapshots_profile_taken", "profile_id", "taken_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(Integer, ForeignKey("profiles.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    followers_count: Mapped[int] = mapped_column(BigInteger)
    following_count: Mapped[int] = mapped_column(BigInteger)
    likes_count: Mapped[int] = mapped_column(BigInteger)
    videos_count: Mapped[int] = mapped_column(BigInteger)
    number_of_comments: Mapped[int] = mapped_column(BigInteger)
    number_of_likes_on_own_videos: Mapped[int] = mapped_column(BigInteger)
    number_of_likes: Mapped[int] = mapped_column(BigInteger)
    number_of_shares: Mapped[int] = mapped_column(BigInteger)
    engagement_rate: Mapped[float] = mapped_column(Float)
    # The interest weights, sparse (services/ingestion/vectors.pack_weights): the non-zero
    # ones of the profile's vector at that time, exactly.
    weights: Mapped[bytes] = mapped_column(LargeBinary)


class Achievement(db.Model):
    """An achievement a profile earned (services/analytics/achievements.py names the codes),
    once each, with when and what earned it."""

    __tablename__ = "achievements"
    __table_args__ = (
        UniqueConstraint("profile_id", "code", name="uq_achievements_profile_code"),
        Index("ix_achievements_awarded_at", "awarded_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(Integer, ForeignKey("profiles.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    awarded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str] = mapped_column(String(200))


class ProfilePayload(db.Model):
    """A profile's raw payload exactly as received, packed by services/ingestion/payloads.py.

    Apart from `profiles`, so that those rows stay small and dense (lists and filters scan
    them); about 1 KB a payload, zstd with a dictionary named in the packed header.
    """

    __tablename__ = "profile_payloads"

    # INTEGER PRIMARY KEY: on SQLite the row id itself, no second B-tree.
    profile_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class PayloadDictionary(db.Model):
    """A zstd dictionary that stored payloads name by id; kept for as long as any row does."""

    __tablename__ = "payload_dictionaries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Category(db.Model):
    """The taxonomy in vector order: profile_interests name a category by this id."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(32), unique=True)


def shipped_dictionary_rows() -> list[dict]:
    """The rows of payload_dictionaries that every database holds: the shipped dictionaries."""
    return [
        {"id": pk, "name": name, "data": payloads.shipped_dictionary(pk), "created_at": utcnow()}
        for pk, (name, _file) in payloads.SHIPPED_DICTIONARIES.items()
    ]


def category_rows() -> list[dict]:
    """The rows of categories: the taxonomy's names by their position in the vector."""
    return [{"id": i, "name": name} for i, name in enumerate(CATEGORIES)]


# A schema made by create_all holds the same rows as one made by the migrations.
@event.listens_for(PayloadDictionary.__table__, "after_create")
def _insert_dictionaries(table, connection, **kwargs):
    connection.execute(insert(table), shipped_dictionary_rows())


@event.listens_for(Category.__table__, "after_create")
def _insert_categories(table, connection, **kwargs):
    connection.execute(insert(table), category_rows())


class DataVersion(db.Model):
    """A counter bumped by every write to a data set, so caches can tell they are stale."""

    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class ProfileChange(db.Model):
    """That a write created, updated or deleted a profile, numbered by the write's data version.

    The change feed: a process holding state built at one version catches up by reading the
    changes of the later versions, instead of reloading every profile.
    """

    __tablename__ = "profile_changes"
    __table_args__ = ({"sqlite_with_rowid": False},)

    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # No foreign key: a deletion's change outlives its profile.
    profile_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change: Mapped[str] = mapped_column(String(8))  # created, updated or deleted
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Video(db.Model):
    """A video of a platform's catalogue, unique by (platform, video_id); latest counts win."""

    __tablename__ = "videos"
    __table_args__ = (
        UniqueConstraint("platform", "video_id", name="uq_videos_platform_video_id"),
        Index("ix_videos_score", "score", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    video_id: Mapped[str] = mapped_column(String(64))
    categories: Mapped[list] = mapped_column(JSONType)
    raw_categories: Mapped[list | None] = mapped_column(JSONType)
    hashtags: Mapped[list] = mapped_column(JSONType)
    likes: Mapped[int] = mapped_column(BigInteger)
    comments: Mapped[int] = mapped_column(BigInteger)
    shares: Mapped[int] = mapped_column(BigInteger)
    caption: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The engagement score (services/catalogue/videos.py), kept with the counts it is computed from.
    score: Mapped[float] = mapped_column(Float, default=0.0)
    # What the text search matches: the lower-cased caption and the hashtags, space-separated.
    # Indexed by trigrams (see SEARCH_SCHEMA below).
    search_text: Mapped[str] = mapped_column(Text, default="")


class VideoCategory(db.Model):
    """That a video is in a category: the catalogue's category filter and its count read these
    (one index range per category) instead of each video's JSON list. Kept by every write of
    videos, in the same transaction."""

    __tablename__ = "video_categories"
    __table_args__ = ({"sqlite_with_rowid": False},)

    # The category's position in the taxonomy (categories.id), first: a filter is one range.
    category_id: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("categories.id"), primary_key=True
    )
    video_pk: Mapped[int] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )


class VideoStats(db.Model):
    """How many stored profiles liked or shared a video, kept current by every write of links.

    Apart from `videos`: writers update these rows only after taking the data version's lock,
    so they never wait for each other's video rows in opposite orders (a deadlock).
    """

    __tablename__ = "video_stats"

    video_pk: Mapped[int] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    profile_count: Mapped[int] = mapped_column(Integer, default=0)


class HashtagCount(db.Model):
    """How many stored videos carry a hashtag, kept current as videos are stored."""

    __tablename__ = "hashtag_counts"
    __table_args__ = (Index("ix_hashtag_counts_videos", "videos", "hashtag"),)

    hashtag: Mapped[str] = mapped_column(String(128), primary_key=True)
    videos: Mapped[int] = mapped_column(Integer, default=0)


class HashtagPair(db.Model):
    """How many stored videos carry both hashtags (each pair kept in both orders)."""

    __tablename__ = "hashtag_pairs"
    __table_args__ = ({"sqlite_with_rowid": False},)

    hashtag: Mapped[str] = mapped_column(String(128), primary_key=True)
    other: Mapped[str] = mapped_column(String(128), primary_key=True)
    videos: Mapped[int] = mapped_column(Integer, default=0)


# profile_videos.kind: small integers (SQLite stores 0 and 1 in no bytes at all).
LIKED, SHARED = 0, 1
LINK_KINDS = {"liked": LIKED, "shared": SHARED}


class ProfileVideo(db.Model):
    """That a profile liked or shared a video, at a position in its list."""

    __tablename__ = "profile_videos"
    # WITHOUT ROWID in SQLite: the primary key is the table, one B-tree less to write. No index
    # by video: every query reads a profile's links (EXPLAIN QUERY PLAN in the README).
    __table_args__ = (
        CheckConstraint("kind IN (0, 1)", name="ck_profile_videos_kind"),
        {"sqlite_with_rowid": False},
    )

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # LIKED or SHARED
    video_pk: Mapped[int] = mapped_column(
        ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)

    profile: Mapped[Profile] = relationship(back_populates="video_links")
    video: Mapped[Video] = relationship()


class ProfileInterest(db.Model):
    """One non-zero interest weight of a profile, indexed for filters like Music >= 0.3."""

    __tablename__ = "profile_interests"
    __table_args__ = (
        Index("ix_profile_interests_category_weight", "category_id", "weight", "profile_id"),
        {"sqlite_with_rowid": False},
    )

    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    # The category's position in the taxonomy (categories.id), as in the vector.
    category_id: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("categories.id"), primary_key=True
    )
    weight: Mapped[float] = mapped_column(Float)

    profile: Mapped[Profile] = relationship(back_populates="interests")


ROLES = ("viewer", "analyst", "admin")


class User(db.Model):
    """A person who signs in: a unique name, an Argon2id password hash and a role."""

    __tablename__ = "users"
    # Ids are never reused: an old session of a deleted user must not name a new one.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # Sign-in failures in a row, counted in the database so every worker sees them; at
    # SIGNIN_FAILURES_ALLOWED the account waits until signin_locked_until
    # (services/accounts/users.py).
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    signin_locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A one-time password printed by the first start must be replaced at the first sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    tokens: Mapped[list["ApiToken"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class UserSession(db.Model):
    """A signed-in browser session, kept on the server so that it can be ended at once: by
    signing out, a password or role change, or an admin. The cookie carries a random key; only
    its hash is kept."""

    __tablename__ = "user_sessions"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the session key (a 256-bit random secret), as for API tokens.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    address: Mapped[str] = mapped_column(String(64), default="")


class ApiToken(db.Model):
    """A bearer token for the JSON API, acting with its user's role; only its hash is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the token: tokens are 256-bit random secrets, so a fast hash is safe to keep
    # and lets every API request find its token by index instead of running a slow KDF.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, to recognise it in lists.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="tokens")


class AuditEvent(db.Model):
    """Who did what and when: sign-ins, connects, re-syncs, deletes, exports, user changes."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The name is kept as text so the record outlives the user.
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    via: Mapped[str] = mapped_column(String(16), default="")  # page, api, cli, job


LIST_STATUSES = ("candidate", "contacted", "in talks", "agreed", "declined")


class Shortlist(db.Model):
    """A named list of profiles the team shortlists and tracks (services/team/lists.py)."""

    __tablename__ = "lists"
    __table_args__ = (
        CheckConstraint("name <> ''", name="ck_lists_name"),
        # A deleted list's id is never given to another one: an old link must not name it.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Who made it, as text, so the record outlives the user.
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Bumped by every change to the list or to its members.
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ListMember(db.Model):
    """A profile on a list, with the team's note, tags and status, and the profile's latest
    snapshot when it was added: what changed since is read against that one."""

    __tablename__ = "list_members"
    __table_args__ = (
        CheckConstraint(
            "status IN ('candidate', 'contacted', 'in talks', 'agreed', 'declined')",
            name="ck_list_members_status",
        ),
        # The lists a profile is on (its page), and its rows when it is deleted.
        Index("ix_list_members_profile_id", "profile_id"),
    )

    list_id: Mapped[int] = mapped_column(
        ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True
    )
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="candidate", server_default="candidate")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    added_by: Mapped[str] = mapped_column(String(64))
    # None when the profile had no snapshot then, or that snapshot is gone since.
    snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("profile_snapshots.id", ondelete="SET NULL")
    )


class SavedView(db.Model):
    """A named /profiles query (filters, sort, order, columns, page size), personal to its
    owner or shared with the team (services/team/views.py)."""

    __tablename__ = "saved_views"
    __table_args__ = (
        CheckConstraint("name <> ''", name="ck_saved_views_name"),
        # A person's names are unique among their own views.
        UniqueConstraint("owner_id", "name", name="uq_saved_views_owner_name"),
        # A deleted view's id is never given to another one: an old link must not name it.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # None once the owner is deleted: their shared views stay for the team, their personal
    # ones are seen by nobody.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who made it, as text, so the record outlives the user.
    owner: Mapped[str] = mapped_column(String(64))
    shared: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # The /profiles query string, normalised: no page, no empty values, repeats kept.
    query: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DefaultView(db.Model):
    """A person's default view: /profiles with no query goes there. Deleting the view or the
    person deletes the row."""

    __tablename__ = "default_views"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    view_id: Mapped[int] = mapped_column(
        ForeignKey("saved_views.id", ondelete="CASCADE"), index=True
    )


JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")


class Job(db.Model):
    """Work that outlives a request, run by a queue worker (services/jobs). The queue only
    carries the job's id: this row is what pages, the API and the CLI read on either queue,
    and how a worker that takes the job up again knows where the last one stopped."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed', 'cancelled')",
            name="ck_jobs_status",
        ),
        Index("ix_jobs_status", "status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # Items are done in order: the first `done` of the `total` are finished, each counted in
    # the transaction that did its work.
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer)
    # Counts by item outcome and the problems met (services/jobs/runner.py).
    result: Mapped[dict] = mapped_column(JSONType)
    # Why the job could not go on (an item's failure is in `result`, not here).
    error: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Who started it, as text, so the record outlives the user (cli:<name> from the CLI).
    started_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The worker running it ("host:pid:token") and when it last showed it is alive: a claim
    # not renewed within TOKER_JOB_LEASE seconds is taken over by another worker.
    claim: Mapped[str | None] = mapped_column(String(100))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How many times a worker took the job up: more than 1 after a worker stopped or died.
    runs: Mapped[int] = mapped_column(Integer, default=0)


# --- Text search indexes (services/catalogue/search.py) -----------------------------------
# Not mapped: SQLite's are FTS5 virtual tables, PostgreSQL's are pg_trgm indexes. Both index
# text lower-cased by Python (str.lower), so the databases agree with each other and with
# the search's own lowering of the query. create_all makes them (the tests' schema) and
# migration 0008 makes them on migrated databases.
#
# video_search indexes videos.search_text as external content, kept by triggers: they copy
# stored text, so they need no Python function. A migration that rebuilds `videos` on
# SQLite (batch mode) drops these triggers and must create them again.
# profile_search holds each profile's lowered username and display name, written by the
# writes themselves (services/catalogue/search.py) in their transaction.
VIDEO_SEARCH = "video_search"
PROFILE_SEARCH = "profile_search"
TRIGRAM_INDEXES = (
    "ix_videos_search_text_trgm",
    "ix_profile_search_username_trgm",
    "ix_profile_search_user_pseudo_trgm",
)
SEARCH_SCHEMA = {
    "sqlite": (
        # case_sensitive 1: the text is lowered already, and SQLite's folding is not Python's.
        f"""CREATE VIRTUAL TABLE IF NOT EXISTS {VIDEO_SEARCH} USING fts5(
            search_text, content='videos', content_rowid='id',
            tokenize="trigram case_sensitive 1")""",
        f"""CREATE TRIGGER IF NOT EXISTS video_search_insert AFTER INSERT ON videos BEGIN
            INSERT INTO {VIDEO_SEARCH} (rowid, search_text) VALUES (new.id, new.search_text);
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS video_search_delete AFTER DELETE ON videos BEGIN
            INSERT INTO {VIDEO_SEARCH} ({VIDEO_SEARCH}, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
        END""",
        # Every upsert of a video sets its search text: re-index only when it changed.
        f"""CREATE TRIGGER IF NOT EXISTS video_search_update AFTER UPDATE OF search_text
        ON videos WHEN old.search_text IS NOT new.search_text BEGIN
            INSERT INTO {VIDEO_SEARCH} ({VIDEO_SEARCH}, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
            INSERT INTO {VIDEO_SEARCH} (rowid, search_text) VALUES (new.id, new.search_text);
        END""",
        # rowid is the profile's id.
        f"""CREATE VIRTUAL TABLE IF NOT EXISTS {PROFILE_SEARCH} USING fts5(
            username, user_pseudo, tokenize="trigram case_sensitive 1")""",
    ),
    # GIN indexes queue new entries in a pending list that every search reads through until it
    # is merged (at this many kB, or by VACUUM): 512 kB instead of 4 MB keeps a search under
    # writes at about a millisecond for it, not ten or more.
    "postgresql": (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"""CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEXES[0]} ON videos
            USING gin (search_text gin_trgm_ops) WITH (gin_pending_list_limit = 512)""",
        f"""CREATE TABLE IF NOT EXISTS {PROFILE_SEARCH} (
            profile_id INTEGER PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
            username TEXT NOT NULL,
            user_pseudo TEXT NOT NULL)""",
        f"""CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEXES[1]} ON {PROFILE_SEARCH}
            USING gin (username gin_trgm_ops) WITH (gin_pending_list_limit = 512)""",
        f"""CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEXES[2]} ON {PROFILE_SEARCH}
            USING gin (user_pseudo gin_trgm_ops) WITH (gin_pending_list_limit = 512)""",
    ),
}
SEARCH_DROP = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS video_search_insert",
        "DROP TRIGGER IF EXISTS video_search_delete",
        "DROP TRIGGER IF EXISTS video_search_update",
        f"DROP TABLE IF EXISTS {VIDEO_SEARCH}",
        f"DROP TABLE IF EXISTS {PROFILE_SEARCH}",
    ),
    "postgresql": (
        f"DROP TABLE IF EXISTS {PROFILE_SEARCH}",
        f"DROP INDEX IF EXISTS {TRIGRAM_INDEXES[0]}",
    ),
}


def is_search_object(name: str | None, type_: str) -> bool:
    """Whether a table or index is one of the text search's (or an FTS5 table's shadow)."""
    if name is None:
        return False
    if type_ == "table":
        return any(name == t or name.startswith(f"{t}_") for t in (VIDEO_SEARCH, PROFILE_SEARCH))
    return type_ == "index" and name in TRIGRAM_INDEXES


def include_name(name, type_, _parent_names) -> bool:
    """Alembic's filter: the search indexes are made by hand, not described by the models."""
    return not is_search_object(name, type_)


@event.listens_for(db.metadata, "after_create")
def _create_search_schema(_metadata, connection, **_kw) -> None:
    for statement in SEARCH_SCHEMA.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


@event.listens_for(db.metadata, "before_drop")
def _drop_search_schema(_metadata, connection, **_kw) -> None:
    for statement in SEARCH_DROP.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)
