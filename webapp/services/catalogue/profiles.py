"""Queries over stored profiles: the filtered, sorted, paginated list, one profile, its vector."""

import threading
import weakref
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from sqlalchemy import and_, case, delete, func, intersect, literal, or_, select

from ...extensions import db
from ...models import (
    LINK_KINDS,
    Achievement,
    Profile,
    ProfileInterest,
    ProfilePayload,
    ProfileSnapshot,
    ProfileVideo,
    Video,
    is_valid_id,
)
from ..accounts import audit
from ..analytics import similarity
from ..ingestion import storage
from ..ingestion.taxonomy import CATEGORIES, CATEGORY_INDEX
from ..ingestion.validation import STAT_FIELDS
from ..ingestion.vectors import unpack_vector
from ..live import changes, stamps
from ..live.sql import one_transaction
from . import raw_payloads, search

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_QUERY_LENGTH = 100
MAX_PAGE = 1_000_000

# The list reads columns through Core, not ORM entities: it returns plain rows, so the ORM's
# compile and loading steps are cost without use (a page of 50 was a third slower through them).
_profiles = Profile.__table__
_interests = ProfileInterest.__table__

# Public sort names -> column. Short names are aliases a person would type.
SORTS = {
    "id": _profiles.c.id,
    "username": _profiles.c.username,
    "platform": _profiles.c.platform,
    "verified": _profiles.c.verified,
    "followers": _profiles.c.followers_count,
    "followers_count": _profiles.c.followers_count,
    "following_count": _profiles.c.following_count,
    "likes": _profiles.c.number_of_likes,
    "number_of_likes": _profiles.c.number_of_likes,
    "likes_count": _profiles.c.likes_count,
    "number_of_shares": _profiles.c.number_of_shares,
    "videos_count": _profiles.c.videos_count,
    "engagement_rate": _profiles.c.engagement_rate,
    "engagement": _profiles.c.engagement_rate,
    "growth_30d": _profiles.c.growth_30d,
    "growth": _profiles.c.growth_30d,
    "created": _profiles.c.created_at,
    "created_at": _profiles.c.created_at,
    "updated": _profiles.c.updated_at,
    "updated_at": _profiles.c.updated_at,
}
DEFAULT_SORT = "updated"

SUMMARY_COLUMNS = (
    _profiles.c.id,
    _profiles.c.platform,
    _profiles.c.user_id,
    _profiles.c.username,
    _profiles.c.user_pseudo,
    _profiles.c.verified,
    *(_profiles.c[name] for name in STAT_FIELDS),
    _profiles.c.liked_count,
    _profiles.c.shared_count,
    _profiles.c.unclassified_count,
    _profiles.c.dominant_interest,
    _profiles.c.engagement_rate,
    _profiles.c.growth_30d,
    _profiles.c.created_at,
    _profiles.c.updated_at,
)
SUMMARY_NAMES = tuple(column.key for column in SUMMARY_COLUMNS)


@dataclass(frozen=True)
class ListQuery:
    """A parsed, checked request for a page of profiles."""

    q: str = ""
    platform: str | None = None
    sort: str = DEFAULT_SORT
    order: str = "desc"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    # ((category, minimum share), ...): every one must hold.
    interests: tuple[tuple[str, float], ...] = ()
    # ((RANGES key, low, high), ...), inclusive, None leaves an end open; values as stored
    # (engagement and growth as fractions).
    ranges: tuple[tuple[str, float | None, float | None], ...] = ()
    verified: bool | None = None
    synced_since: datetime | None = None  # last synced at or after, UTC
    dominant: str | None = None  # the dominant interest

    @property
    def filtered(self) -> bool:
        """Whether anything beyond platform and interests narrows the list."""
        return bool(self.ranges or self.verified is not None or self.synced_since or self.dominant)


MAX_INTEREST_FILTERS = 5
# The range filters: their name in a query -> the column they bound.
RANGES = {
    "followers": _profiles.c.followers_count,
    "likes": _profiles.c.number_of_likes,
    "engagement": _profiles.c.engagement_rate,
    "growth": _profiles.c.growth_30d,
}
# A filtered page whose walk down the sort order's index would be longer than SCAN_ROWS
# takes its matches' ids from the live matrix, up to this many, and the database sorts those;
# past it, the database plans the query itself.
ID_LIMIT = 5_000


# Walking the sort order's index and testing each profile fills a page sooner than fetching
# every match and sorting, as long as the walk is short: about (offset + page size) divided by
# the share of profiles that match. Up to this many rows, walk; beyond, fetch and sort. The
# counts that decide are cached per data version (see _total).
SCAN_ROWS = 5_000


def _filters(query: ListQuery, scan: bool = False) -> list:
    conditions = []
    if query.q:
        conditions.append(_profiles.c.id.in_(search.profile_ids(db.session, query.q.lower())))
    if query.platform:
        platform = _profiles.c.platform
        if (
            scan
            and SORTS[query.sort] is not _profiles.c.followers_count
            and db.session.get_bind().dialect.name == "sqlite"
        ):
            # Keep the planner on the sort order's index: left to itself, SQLite takes the
            # (platform, followers) index and sorts every profile of the platform instead.
            # PostgreSQL walks the sort order's index unaided; the expression would make it
            # read every profile instead (100-220 ms at 100,000 profiles, against 5-10).
            platform = platform.concat("")
        conditions.append(platform == query.platform)
    if query.interests and scan:
        # Walk the sort order's index and test each profile: one primary-key probe of
        # profile_interests per interest, stopping once the page is full.
        for category, minimum in query.interests:
            conditions.append(
                select(_interests.c.profile_id)
                .where(
                    _interests.c.profile_id == _profiles.c.id,
                    _interests.c.category_id == CATEGORY_INDEX[category],
                    _interests.c.weight >= minimum,
                    _interests.c.weight > 0,
                )
                .exists()
            )
    elif query.interests:
        # Few matches: take them from the (category, weight, profile_id) index, one set per
        # interest intersected before any profile row is read, then sort those.
        matches = [
            select(_interests.c.profile_id).where(
                _interests.c.category_id == CATEGORY_INDEX[category],
                _interests.c.weight >= minimum,
                _interests.c.weight > 0,
            )
            for category, minimum in query.interests
        ]
        wanted = matches[0] if len(matches) == 1 else intersect(*matches)
        conditions.append(_profiles.c.id.in_(wanted))
    sqlite = scan and db.session.get_bind().dialect.name == "sqlite"
    for name, low, high in query.ranges:
        column = RANGES[name]
        if sqlite and column is not SORTS[query.sort]:
            # As for the platform above: a range on another indexed column would lead SQLite
            # to read that index's range and sort every row in it; "+ 0" keeps it on the sort
            # order's index.
            column = column + 0
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column <= high)
    if query.verified is not None:
        conditions.append(_profiles.c.verified == query.verified)
    if query.synced_since is not None:
        conditions.append(_profiles.c.updated_at >= query.synced_since)
    if query.dominant is not None:
        conditions.append(_profiles.c.dominant_interest == query.dominant)
    return conditions


def criteria(query: ListQuery, matrix) -> similarity.Criteria:
    """The query's filters (all but the text search) in the live matrix's terms."""
    platform = None
    if query.platform is not None:
        platform = similarity.PLATFORM_CODE.get(query.platform, -2)
    ranges = [
        (similarity.STAT_INDEX[RANGES[name].key], low, high) for name, low, high in query.ranges
    ]
    if query.verified is not None:
        ranges.append(
            (similarity.STAT_INDEX["verified"], float(query.verified), float(query.verified))
        )
    if query.synced_since is not None:
        since = similarity.epoch_us(query.synced_since)
        ranges.append((similarity.STAT_INDEX["updated_at"], since, None))
    return similarity.Criteria(
        platform,
        tuple((CATEGORY_INDEX[category], minimum) for category, minimum in query.interests),
        tuple(ranges),
        None if query.dominant is None else matrix.dominant.code(query.dominant),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _summary(row) -> dict:
    item = dict(zip(SUMMARY_NAMES, row, strict=True))
    item["created_at"] = _iso(item["created_at"])
    item["updated_at"] = _iso(item["updated_at"])
    return item


_counts = stamps.VersionedCache()


def _total(query: ListQuery, conditions: list) -> int:
    """The number of matching profiles.

    Platform and interest filters are counted by the live matrix, which keeps each count
    current as profiles change; a text search is counted once per search and data version.
    """
    if not query.q:
        matrix = similarity.current_matrix()
        return matrix.total(criteria(query, matrix))
    return _counts.get_or_compute(
        db.session,
        ("count", replace(query, sort=DEFAULT_SORT, order="desc", page=1)),
        lambda: db.session.scalar(select(func.count(_profiles.c.id)).where(*conditions)),
    )


# Pages of the list kept across the writes that cannot change them: the first pages of the
# browser and of the API are asked for far more often than anything on them changes.
KEPT_PAGES = 128
# A page is checked against later writes when it and the pages before it hold at most this
# many rows (their ids are kept with it); a deeper page is kept for its data version only.
KEPT_ROWS = 2_000
# More profiles changed than this since a page was read: read it again rather than check.
CHECK_LIMIT = 256


@dataclass
class _Kept:
    """A page read at `version`, and what decides whether a later write could change it."""

    version: int
    answer: dict
    # The sorted ids of the page's rows and of every row before them; None past KEPT_ROWS.
    before: np.ndarray | None
    # The page's last row as (sort value, id); None when the page is not full (any new match
    # would join it).
    last: tuple | None
    # The statement that asks the change feed whether a changed profile lands on the page,
    # built at the first check and used again at every later one (see _unchanged).
    check: object = None


class KeptPages:
    """Pages of the list, each kept until a write could change it.

    A page holds the matching profiles ranked from offset + 1 to offset + per_page. A later
    write changes it only if a profile it changed was on this page or an earlier one when the
    page was read (its id is among `before`), or matches the filters now and sorts on or before
    the page's last row. The change feed names the profiles changed since the page was read;
    one statement tells whether any of them matches and sorts that early now. Otherwise the
    page is served again with the current total: a write costs the pages it lands on, not all.
    """

    def __init__(self, size: int = KEPT_PAGES):
        self.size = size
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._guard = threading.Lock()
        self.reads = 0  # pages read from the database since the process started (tests)

    def page(self, query: ListQuery) -> dict:
        session = db.session
        version = stamps.current(session)
        engine = session.get_bind()
        with self._guard:
            pages = self._by_engine.setdefault(engine, OrderedDict())
            kept = pages.get(query)
            if kept is not None:
                pages.move_to_end(query)
        if kept is not None:
            if kept.version == version:
                return kept.answer
            if kept.version < version and _unchanged(session, query, kept, version):
                answer = {**kept.answer, "total": _total(query, [])}
                self._keep(
                    engine, query, _Kept(version, answer, kept.before, kept.last, kept.check)
                )
                return answer
        kept = _read_page(query, version)
        self.reads += 1
        self._keep(engine, query, kept)
        return kept.answer

    def _keep(self, engine, query: ListQuery, kept: _Kept) -> None:
        with self._guard:
            pages = self._by_engine.setdefault(engine, OrderedDict())
            held = pages.get(query)
            if held is not None and held.version > kept.version:
                return  # a newer read is kept already
            pages[query] = kept
            pages.move_to_end(query)
            while len(pages) > self.size:
                pages.popitem(last=False)


_pages = KeptPages()


def list_profiles(query: ListQuery) -> dict:
    """One page of profile summaries matching the query, with the total count (a page once
    read is served again until a write could change it; the total is always current)."""
    if query.q:  # a text search's page is kept for its data version only
        return _searches.get_or_compute(db.session, query, lambda: _read_page(query, 0).answer)
    return _pages.page(query)


_searches = stamps.VersionedCache(size=32)


def _ordering(query: ListQuery) -> tuple:
    column = SORTS[query.sort]
    if query.order == "asc":
        return (column.asc(), _profiles.c.id.asc())
    return (column.desc(), _profiles.c.id.desc())


def _read_page(query: ListQuery, version: int) -> _Kept:
    conditions = _filters(query)
    total = _total(query, conditions)
    if (query.platform or query.interests or query.filtered) and total:
        everyone = _total(ListQuery(), [])
        walk = query.page * query.per_page * everyone / total
        if walk <= SCAN_ROWS:
            conditions = _filters(query, scan=True)
        elif not query.q and total <= ID_LIMIT:
            # Few matches: the live matrix names them, the database sorts that many rows.
            matrix = similarity.current_matrix()
            ids = matrix.matching_ids(criteria(query, matrix), ID_LIMIT)
            if ids is not None:
                conditions = [_profiles.c.id.in_(ids.tolist())]
    column = SORTS[query.sort]
    ordering = _ordering(query)
    offset = (query.page - 1) * query.per_page
    connection = db.session.connection()
    rows = connection.execute(
        select(*SUMMARY_COLUMNS, column.label("sort_value"))
        .where(*conditions)
        .order_by(*ordering)
        .limit(query.per_page)
        .offset(offset)
    ).all()
    answer = {
        "items": [_summary(row[:-1]) for row in rows],
        "page": query.page,
        "per_page": query.per_page,
        "total": total,
    }
    before = None
    if not query.q and offset + query.per_page <= KEPT_ROWS:
        earlier = []
        if offset:
            earlier = connection.execute(
                select(_profiles.c.id).where(*conditions).order_by(*ordering).limit(offset)
            ).scalars()
        before = np.sort(np.fromiter([*earlier, *(row.id for row in rows)], dtype=np.int64))
    last = (rows[-1][-1], rows[-1].id) if len(rows) == query.per_page else None
    return _Kept(version, answer, before, last)


def _unchanged(session, query: ListQuery, kept: _Kept, version: int) -> bool:
    """Whether no profile changed by the versions in (kept.version, version] can change the
    kept page (see KeptPages)."""
    if kept.before is None or (kept.last is not None and kept.last[0] is None):
        # (Where a missing sort value sorts differs by database: such a page is read again.)
        return False
    # The live matrix's catch-up to this version has read the changed profiles already
    # (Matrix.recent): they are checked here as the statement below would check them.
    matrix = similarity.current_matrix()
    read = matrix.changed_after(kept.version)
    if read is not None and len(read) <= CHECK_LIMIT:
        wanted = criteria(query, matrix)
        return not any(
            _lands(query, kept, pk, reading, wanted, matrix.dominant.code)
            for pk, reading in read.items()
        )
    if kept.check is None:
        kept.check = _check_statement(query, kept.last)
    found = changes.changed_rows(session, kept.version, version, kept.check, CHECK_LIMIT)
    if found is None or any(landed for _pk, landed in found):
        return False
    ids = np.fromiter((pk for pk, _landed in found), dtype=np.int64)
    return not np.isin(ids, kept.before).any()


def _lands(query: ListQuery, kept: _Kept, pk: int, reading, wanted, dominant_code) -> bool:
    """Whether a changed profile, as read by a catch-up (None when deleted), can change the
    kept page: it was on the page or before it, or it matches the filters (`wanted`, the
    query's criteria) and sorts on or before the page's last row. Where the answer is not
    certain here (a text sort, whose order is the database's collation; a missing value), it
    says it may."""
    at = np.searchsorted(kept.before, pk)
    if at < len(kept.before) and kept.before[at] == pk:
        return True
    if reading is None:
        return False
    if not similarity.matches(reading.row, wanted, dominant_code):
        return False
    if kept.last is None:
        return True  # the page is not full: any new match joins it
    value = reading.values.get(SORTS[query.sort].key)
    if value is None or isinstance(value, str):
        return True
    last, last_id = kept.last
    if query.order == "asc":
        return value < last or (value == last and pk <= last_id)
    return value > last or (value == last and pk >= last_id)


def _check_statement(query: ListQuery, last: tuple | None):
    """The change feed's rows with, for each changed profile, 1 when it matches the query and
    sorts on or before the page's last row `last` (any match when the page is not full)."""
    conditions = _filters(query, scan=True)
    if last is not None:
        value, last_id = last
        column = SORTS[query.sort]
        value = literal(value, column.type)  # a bound value, True and False included
        if query.order == "asc":
            earlier = or_(column < value, and_(column == value, _profiles.c.id <= last_id))
        else:
            earlier = or_(column > value, and_(column == value, _profiles.c.id >= last_id))
        conditions.append(or_(column.is_(None), earlier))
    lands = case((and_(_profiles.c.id.is_not(None), *conditions), 1), else_=0)
    return changes.rows_statement((lands,))


def iter_profiles(platform: str | None = None, limit: int | None = None, batch: int = 500):
    """Yield full Profile objects in id order, a batch at a time, for listing at any size."""
    last_id = 0
    served = 0
    while limit is None or served < limit:
        stmt = select(Profile).where(Profile.id > last_id).order_by(Profile.id).limit(batch)
        if platform:
            stmt = stmt.where(Profile.platform == platform)
        chunk = db.session.scalars(stmt).all()
        if not chunk:
            return
        for profile in chunk:
            if limit is not None and served >= limit:
                return
            yield profile
            served += 1
        last_id = chunk[-1].id
        db.session.expunge_all()


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill at `per_page` a page; at least one."""
    return max(1, -(-total // per_page))


def get_profile(profile_id: int) -> Profile | None:
    """The profile with that id, or None."""
    if not is_valid_id(profile_id):
        return None
    return db.session.get(Profile, profile_id)


def interest_of(profile: Profile) -> list[float]:
    """The profile's interest weights in taxonomy order."""
    return unpack_vector(profile.vector)


def _videos(raw: dict, field: str) -> list[dict]:
    videos = []
    for video in raw.get(field) or []:
        item = dict(video)
        item["video_id"] = str(item["video_id"]).strip()
        videos.append(item)
    return videos


def profile_detail(profile: Profile, raw: dict | None = None) -> dict:
    """A profile's payload fields with its id, platform, interest and top lists; `raw` is its
    stored raw payload when the caller has it (a write's answer), else it is read."""
    if raw is None:
        raw = raw_payloads.payload_of(profile.id)
    detail = {
        "id": profile.id,
        "platform": profile.platform,
        "user_id": profile.user_id,
        "username": profile.username,
        "user_pseudo": profile.user_pseudo,
        "verified": profile.verified,
        **{name: getattr(profile, name) for name in STAT_FIELDS},
        "liked_videos": _videos(raw, "liked_videos"),
        "shared_videos": _videos(raw, "shared_videos"),
        "interest": dict(zip(CATEGORIES, interest_of(profile), strict=True)),
        "dominant_interest": profile.dominant_interest,
        "top_categories": profile.top_categories[:5],
        "top_hashtags": profile.top_hashtags[:5],
        "unclassified_count": profile.unclassified_count,
        "engagement_rate": profile.engagement_rate,
        "growth_30d": profile.growth_30d,
        "sync_count": profile.version,
        "created_at": _iso(profile.created_at),
        "updated_at": _iso(profile.updated_at),
    }
    return detail


def profile_vector(profile: Profile) -> dict:
    """The taxonomy in order and the profile's weights in the same order."""
    return {"categories": list(CATEGORIES), "weights": interest_of(profile)}


class UnknownProfiles(LookupError):
    """Some chosen profiles are not stored: `ids` names them (every one; the message the
    first MISSING_NAMED), and nothing was done (`outcome` says it in the action's words: a
    list's bulk add says "nothing was added")."""

    def __init__(self, ids: Sequence[int], outcome: str = "nothing was done"):
        ids = list(ids)
        plural = "s" if len(ids) > 1 else ""
        shown = ", ".join(str(pk) for pk in ids[:MISSING_NAMED])
        more = f" and {len(ids) - MISSING_NAMED} more" if len(ids) > MISSING_NAMED else ""
        super().__init__(f"No profile{plural} with id{plural} {shown}{more}: {outcome}.")
        self.ids = ids


# A refusal names this many missing profiles at most.
MISSING_NAMED = 20


def summaries_of(ids: list[int], interests: bool = False) -> list[dict]:
    """The summaries of the chosen profiles in the order chosen (as the table's export has
    them), with every category's share when `interests`; UnknownProfiles names those not
    stored."""
    found: dict[int, dict] = {}
    columns = (*SUMMARY_COLUMNS, _profiles.c.vector) if interests else SUMMARY_COLUMNS
    with one_transaction(db.session):
        for start in range(0, len(ids), 1000):
            chunk = [pk for pk in ids[start : start + 1000] if is_valid_id(pk)]
            rows = db.session.execute(select(*columns).where(_profiles.c.id.in_(chunk)))
            found.update((row.id, _with_shares(row, interests)) for row in rows)
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise UnknownProfiles(missing)
    return [found[pk] for pk in ids]


def delete_profile(profile_id: int, actor: audit.Actor | None = None) -> bool:
    """Delete a profile with its links, weights and search row; False when there was none.

    With `actor`, the audit event of the delete commits in the same transaction.
    """
    if not is_valid_id(profile_id):
        return False
    try:
        found = _lock_profile(profile_id)
        if found is None:
            db.session.rollback()
            return False
        # SQLite takes no row lock: another delete may have taken the row since it was read.
        deleted = _delete_locked(profile_id, found, actor)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return deleted


def delete_profiles(ids: list[int], actor: audit.Actor) -> int:
    """Delete every chosen profile in one transaction, each audited as a single delete is;
    UnknownProfiles names those not stored, and then none is deleted."""
    try:
        # Locked in id order: two bulk deletes (or a delete and a re-sync) take the rows in
        # the same order and cannot deadlock on PostgreSQL.
        locked = {pk: _lock_profile(pk) for pk in sorted(set(ids)) if is_valid_id(pk)}
        missing = [pk for pk in ids if locked.get(pk) is None]
        if missing:
            raise UnknownProfiles(missing)
        deleted = sum(_delete_locked(pk, found, actor) for pk, found in locked.items())
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return deleted


def _lock_profile(profile_id: int):
    """The profile's platform, user id and user name, its row locked; None when not stored."""
    # The profile row is locked first, as a re-sync locks it first: on PostgreSQL, taking
    # the links first would deadlock against a re-sync of the same profile.
    return db.session.execute(
        select(Profile.platform, Profile.user_id, Profile.username)
        .where(Profile.id == profile_id)
        .with_for_update()
    ).first()


def _delete_locked(profile_id: int, found, actor: audit.Actor | None) -> bool:
    """Delete a locked profile's rows and stage its audit event, without committing; whether
    its row was still there to delete."""
    links = ProfileVideo.__table__
    linked = db.session.scalars(
        delete(links).where(links.c.profile_id == profile_id).returning(links.c.video_pk)
    )
    gone = set(linked)  # each video once, whether liked, shared or both
    # Table deletes, not the ORM's (which would look for the rows in the session first).
    db.session.execute(delete(_interests).where(_interests.c.profile_id == profile_id))
    search.forget_profiles(db.session, [profile_id])
    payloads = ProfilePayload.__table__
    db.session.execute(delete(payloads).where(payloads.c.profile_id == profile_id))
    for table in (ProfileSnapshot.__table__, Achievement.__table__):
        db.session.execute(delete(table).where(table.c.profile_id == profile_id))
    deleted = db.session.execute(delete(_profiles).where(_profiles.c.id == profile_id)).rowcount
    if deleted:
        changes.record(db.session, [(profile_id, changes.DELETED)])
        storage.add_to_profile_counts(db.session, Counter({pk: -1 for pk in gone}))
        if actor is not None:
            platform, user_id, username = found
            detail = f"profile {profile_id} ({username})"
            audit.stage(db.session, actor, "delete", f"{platform}:{user_id}", detail)
    return deleted > 0


def count_profiles(platform: str | None = None) -> int:
    """How many profiles are stored, optionally on one platform."""
    stmt = select(func.count(Profile.id))
    if platform:
        stmt = stmt.where(Profile.platform == platform)
    return db.session.scalar(stmt)


VIDEO_PAGE = 10


def profile_videos(profile_id: int, kind: str, page: int = 1, per_page: int = VIDEO_PAGE) -> dict:
    """One page of a profile's liked or shared videos in the order the platform gave them."""
    if kind not in ("liked", "shared"):
        raise ValueError(f"kind must be 'liked' or 'shared', not {kind!r}")
    page = max(1, page)
    code = LINK_KINDS[kind]
    base = select(ProfileVideo).where(
        ProfileVideo.profile_id == profile_id, ProfileVideo.kind == code
    )
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    rows = db.session.execute(
        select(Video, ProfileVideo.position)
        .join(ProfileVideo, ProfileVideo.video_pk == Video.id)
        .where(ProfileVideo.profile_id == profile_id, ProfileVideo.kind == code)
        .order_by(ProfileVideo.position)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        {
            "video_id": video.video_id,
            "categories": video.categories,
            "hashtags": video.hashtags,
            "likes": video.likes,
            "comments": video.comments,
            "shares": video.shares,
            "caption": video.caption,
            "posted_at": video.posted_at,
        }
        for video, _position in rows
    ]
    pages = page_count(total, per_page)
    return {
        "items": items,
        "page": page,
        "pages": pages,
        "per_page": per_page,
        "total": total,
        "kind": kind,
    }


def _with_shares(row, interests: bool) -> dict:
    """A summary row's dict; with `interests`, the row ends with the vector, and the dict gets
    every category's share under "interests"."""
    if not interests:
        return _summary(row)
    item = _summary(row[:-1])
    item["interests"] = shares_of(row[-1])
    return item


def shares_of(vector) -> dict[str, float]:
    """Every category's share, by category, from a stored interest vector (all 0 when there
    is none), as the exports carry them."""
    weights = similarity.decode_vector(vector) if vector else np.zeros(len(CATEGORIES))
    return {
        category: round(float(weight), SHARE_DECIMALS)
        for category, weight in zip(CATEGORIES, weights, strict=True)
    }


# Shares in exports: a millionth is finer than any share of a few dozen videos.
SHARE_DECIMALS = 6


def iter_matching(query: ListQuery, batch: int = 1000, interests: bool = False):
    """Every profile summary matching the query's filters, in its sort order (no paging),
    with every category's share when `interests`."""
    conditions = _filters(query)
    column = SORTS[query.sort]
    if query.order == "asc":
        ordering = (column.asc(), _profiles.c.id.asc())
    else:
        ordering = (column.desc(), _profiles.c.id.desc())
    columns = (*SUMMARY_COLUMNS, _profiles.c.vector) if interests else SUMMARY_COLUMNS
    stmt = select(*columns).where(*conditions).order_by(*ordering)
    with one_transaction(db.session):
        result = db.session.execute(stmt.execution_options(yield_per=batch))
        for row in result:
            yield _with_shares(row, interests)


_searched = stamps.VersionedCache(size=32)


def facets(query: ListQuery) -> dict:
    """The counts beside each platform and each dominant interest, as datasette's facets: each
    value's count is of the profiles matching every other active filter with that value, so a
    count says how many a click on it would show. Counted by the live matrix (kept current by
    every write); a text search's matches are counted once per search and data version."""
    matrix = similarity.current_matrix()
    wanted = criteria(query, matrix)
    if query.q:
        return _searched.get_or_compute(
            db.session,
            ("facets", replace(query, sort=DEFAULT_SORT, order="desc", page=1)),
            lambda: _facets_of(matrix, wanted, _search_table(matrix, wanted, query.q)),
        )
    return _facets_of(matrix, wanted, matrix.facet_table(wanted))


def _search_table(matrix, wanted, q: str) -> np.ndarray:
    """facet_table's counts over the profiles matching the text search `q`."""
    ids = np.fromiter(db.session.scalars(search.profile_ids(db.session, q.lower())), dtype=np.int64)
    with matrix.lock:
        return matrix.count_table(matrix.mask(wanted.rest()) & np.isin(matrix.ids, ids))


def _facets_of(matrix, wanted, table: np.ndarray) -> dict:
    """The facets from a table of counts by platform and dominant interest code."""
    by_platform = table[:, wanted.dominant] if wanted.dominant is not None else table.sum(axis=1)
    if wanted.platform is None:
        by_dominant = table.sum(axis=0)
    elif wanted.platform >= 0:
        by_dominant = table[wanted.platform]
    else:  # a platform no profile is on
        by_dominant = np.zeros(table.shape[1], dtype=np.int64)
    names = matrix.dominant.table
    dominant = {
        names[code]: int(count)
        for code, count in enumerate(by_dominant.tolist())
        if count and code < len(names) and names[code] is not None
    }
    return {
        "platform": {
            name: int(by_platform[code]) for name, code in similarity.PLATFORM_CODE.items()
        },
        "dominant_interest": dict(sorted(dominant.items(), key=lambda item: (-item[1], item[0]))),
    }
