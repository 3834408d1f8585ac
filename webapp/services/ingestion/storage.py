"""Writing processed profiles: profiles, videos, links, interest weights and the names' search
index in one transaction."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from ...models import (
    LINK_KINDS,
    HashtagCount,
    HashtagPair,
    Profile,
    ProfileInterest,
    ProfilePayload,
    ProfileSnapshot,
    ProfileVideo,
    Video,
    VideoCategory,
    VideoStats,
)
from .. import clock
from ..analytics import achievements
from ..catalogue import search
from ..live import changes
from ..live.sql import built_once, delete_rows, insert_rows, param_marker, upsert_statement
from .payloads import pack
from .processing import CleanVideo, ProcessedProfile
from .scores import engagement_rate, engagement_score, search_text
from .taxonomy import CATEGORY_INDEX
from .validation import STAT_FIELDS
from .vectors import pack_vector, pack_weights


@dataclass(frozen=True)
class Stored:
    """The outcome of storing one profile, with its row's columns as the write left them (so
    that an answer need not read the profile back)."""

    profile_id: int
    created: bool
    columns: dict = field(compare=False, repr=False)


class KnownVideos:
    """Videos a long-running writer has already stored, so it does not rewrite them unchanged.

    Maps (platform, video_id) to (primary key, fingerprint of the stored fields). Only for a
    single writer's bulk run: videos are never deleted, so a known key stays valid.
    """

    LIMIT = 500_000

    def __init__(self):
        self._known: dict[tuple[str, str], tuple[int, tuple]] = {}

    def pk_if_unchanged(self, key: tuple[str, str], fingerprint: tuple) -> int | None:
        """The stored video's key when it is known with exactly these fields, else None."""
        entry = self._known.get(key)
        if entry is not None and entry[1] == fingerprint:
            return entry[0]
        return None

    def remember(self, key: tuple[str, str], pk: int, fingerprint: tuple) -> None:
        """Note a video as stored with these fields."""
        self._known[key] = (pk, fingerprint)

    def __len__(self) -> int:
        return len(self._known)

    def copy(self) -> "KnownVideos":
        """A copy to stage a transaction's additions in, kept only if it commits."""
        clone = KnownVideos()
        # Bounded: a run over an unbounded stream of new videos starts forgetting.
        if len(self._known) < self.LIMIT:
            clone._known = dict(self._known)
        return clone


def _fingerprint(video) -> tuple:
    # References, not copies: CleanVideo lists are never mutated, and == compares contents.
    return (
        video.categories,
        video.raw_categories,
        video.hashtags,
        video.likes,
        video.comments,
        video.shares,
        video.caption,
        video.posted_at,
    )


def _video_row(platform: str, video: CleanVideo, now: datetime) -> dict:
    """A cleaned video as its row in `videos`, stored `now`."""
    return {
        "platform": platform,
        "video_id": video.video_id,
        "categories": video.categories,
        "raw_categories": video.raw_categories,
        "hashtags": video.hashtags,
        "likes": video.likes,
        "comments": video.comments,
        "shares": video.shares,
        "caption": video.caption,
        "posted_at": video.posted_at,
        "first_seen_at": now,
        "updated_at": now,
        "score": engagement_score(video.likes, video.comments, video.shares),
        "search_text": search_text(video.caption, video.hashtags),
    }


@dataclass
class WritePlan:
    """Everything a write needs, prepared without touching the database.

    Bulk writers build the plan outside their turn at the database and hold the write lock
    only while `apply_plan` runs.
    """

    records: list[ProcessedProfile]
    unique: list[ProcessedProfile]
    known_pks: dict[tuple[str, str], int]
    video_rows: list[dict]
    fingerprints: dict[tuple[str, str], tuple]
    profile_rows: list[dict]
    # (platform, user_id) -> the raw payload packed (services/ingestion/payloads.py).
    payloads: dict[tuple[str, str], bytes]


def plan_write(
    records: list[ProcessedProfile], known: KnownVideos | None = None, at: datetime | None = None
) -> WritePlan:
    """Prepare the rows for a write: latest record per account, videos that need writing.
    The write is stamped `at` (default: the clock's now; seeding with history passes the day
    its accounts stand at)."""
    latest = {(r.platform, r.user_id): r for r in records}
    unique = list(latest.values())
    now = at or clock.now()
    known_pks: dict[tuple[str, str], int] = {}
    fingerprints: dict[tuple[str, str], tuple] = {}
    video_rows: dict[tuple[str, str], dict] = {}
    for record in unique:
        for video in record.videos:
            key = (record.platform, video.video_id)
            if known is not None:
                fingerprint = _fingerprint(video)
                pk = known.pk_if_unchanged(key, fingerprint)
                if pk is not None:
                    known_pks[key] = pk
                    continue
                fingerprints[key] = fingerprint
            known_pks.pop(key, None)
            video_rows[key] = _video_row(record.platform, video, now)
    profile_rows = [
        {
            "platform": record.platform,
            "user_id": record.user_id,
            "username": record.username,
            "user_pseudo": record.user_pseudo,
            "verified": record.verified,
            **record.stats,
            "liked_count": record.liked_count,
            "shared_count": record.shared_count,
            "unclassified_count": record.unclassified_count,
            "dominant_interest": record.dominant_interest,
            "engagement_rate": engagement_rate(record.stats),
            "vector": pack_vector(record.interest),
            "top_hashtags": record.top_hashtags,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        for record in sorted(unique, key=lambda r: (r.platform, r.user_id))
    ]
    return WritePlan(
        records=records,
        unique=unique,
        known_pks=known_pks,
        # A fixed order keeps concurrent writers from taking row locks in opposite orders.
        video_rows=[video_rows[key] for key in sorted(video_rows)],
        fingerprints=fingerprints,
        profile_rows=profile_rows,
        # Compressed here, before the write lock.
        payloads={(r.platform, r.user_id): pack(r.raw_payload) for r in unique},
    )


@dataclass
class TagChanges:
    """How a write changes the hashtag counts: per hashtag and per ordered pair."""

    tags: Counter
    pairs: Counter

    def add(self, hashtags, sign: int) -> None:
        unique = sorted(set(hashtags or ()))
        for tag in unique:
            self.tags[tag] += sign
            for other in unique:
                if other != tag:
                    self.pairs[(tag, other)] += sign


# The fields of a video a write compares with what is stored: the upsert's own, except the
# times it sets and what follows from the rest (score, search text).
_COMPARED = ("categories", "raw_categories", "hashtags", "likes", "comments", "shares")


def _stored_before_statement(_session: Session):
    table = Video.__table__
    columns = [table.c.video_id, table.c.id, table.c.caption, table.c.posted_at]
    columns += [table.c[name] for name in _COMPARED]
    # One platform and a list of ids: a search of the (platform, video_id) index per id. A
    # row-value IN over both columns makes SQLite scan every video instead.
    return (
        select(*columns)
        .where(
            table.c.platform == bindparam("platform"),
            table.c.video_id.in_(bindparam("video_ids", expanding=True)),
        )
        .order_by(table.c.video_id)
        # FOR NO KEY UPDATE, as the upsert itself locks them: a plain FOR UPDATE would block
        # other writers' links and counts that only reference these rows.
        .with_for_update(key_share=True)
    )


def _stored_before(session: Session, plan: WritePlan) -> dict:
    """The stored form of the plan's videos that exist, {(platform, video_id): row}, locked
    until the write commits."""
    by_platform: dict[str, list[str]] = defaultdict(list)
    for row in plan.video_rows:
        by_platform[row["platform"]].append(row["video_id"])
    # Built once (every connect and re-sync runs it): not built and keyed anew each time.
    statement = built_once(session, "videos stored before", _stored_before_statement)
    found = {}
    for platform, video_ids in sorted(by_platform.items()):
        video_ids.sort()
        for start in range(0, len(video_ids), 500):
            chunk = video_ids[start : start + 500]
            rows = session.execute(statement, {"platform": platform, "video_ids": chunk})
            found.update({(platform, row.video_id): row for row in rows})
    return found


def _same_time(stored, given) -> bool:
    """Whether writing `given` leaves the stored time as it is (None keeps the stored one)."""
    if given is None or stored is None:
        return given is None
    if stored.tzinfo is None and given.tzinfo is not None:
        given = given.replace(tzinfo=None)  # SQLite keeps the time as given, without its zone
    return stored == given


def _unchanged(stored, row: dict) -> bool:
    """Whether a planned video row would store exactly what is stored already."""
    return (
        all(stored._mapping[name] == row[name] for name in _COMPARED)
        and (row["caption"] is None or row["caption"] == stored.caption)
        and _same_time(stored.posted_at, row["posted_at"])
    )


def _video_upsert(session: Session):
    table = Video.__table__
    stmt = upsert_statement(session, table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.platform, table.c.video_id],
        set_={
            "categories": stmt.excluded.categories,
            "raw_categories": stmt.excluded.raw_categories,
            "hashtags": stmt.excluded.hashtags,
            "likes": stmt.excluded.likes,
            "comments": stmt.excluded.comments,
            "shares": stmt.excluded.shares,
            "caption": func.coalesce(stmt.excluded.caption, table.c.caption),
            "posted_at": func.coalesce(stmt.excluded.posted_at, table.c.posted_at),
            "updated_at": stmt.excluded.updated_at,
            "score": stmt.excluded.score,
            "search_text": stmt.excluded.search_text,
        },
    ).returning(table.c.id, table.c.platform, table.c.video_id)


def _upsert_videos(
    session: Session,
    plan: WritePlan,
    known: KnownVideos | None,
    tags: TagChanges,
    before: dict | None = None,
) -> dict:
    """Insert or refresh the plan's videos; return {(platform, video_id): pk} for all, and
    note in `tags` how the stored hashtags change. `before` is _stored_before's answer when
    the caller read it already."""
    pks = dict(plan.known_pks)
    if not plan.video_rows:
        return pks
    if before is None:
        before = _stored_before(session, plan)
    # Most videos a profile links are in the catalogue already, as they are: a write leaves
    # those rows (and their index and text-search entries) untouched.
    rows = []
    for row in plan.video_rows:
        key = (row["platform"], row["video_id"])
        stored = before.get(key)
        if stored is not None and _unchanged(stored, row):
            pks[key] = stored.id
            if known is not None:
                known.remember(key, stored.id, plan.fingerprints[key])
            continue
        rows.append(row)
        old = stored.hashtags if stored is not None else None
        if stored is None or set(old or ()) != set(row["hashtags"] or ()):
            if stored is not None:
                tags.add(old, -1)
            tags.add(row["hashtags"], +1)
    if not rows:
        return pks
    table = Video.__table__
    stmt = built_once(session, "upsert videos", _video_upsert)
    for pk, platform, video_id in session.execute(stmt, rows):
        key = (platform, video_id)
        pks[key] = pk
        if known is not None:
            known.remember(key, pk, plan.fingerprints[key])
    _write_categories(session, rows, pks, before)
    # A video seen without its caption keeps the stored one: its search text must too.
    uncaptioned = [pks[(r["platform"], r["video_id"])] for r in rows if r["caption"] is None]
    for start in range(0, len(uncaptioned), 500):
        chunk = uncaptioned[start : start + 500]
        rows = session.execute(
            select(table.c.id, table.c.caption, table.c.hashtags).where(
                table.c.id.in_(chunk), table.c.caption.is_not(None)
            )
        ).all()
        if rows:
            session.execute(
                update(table).where(table.c.id == bindparam("pk")),
                [{"pk": pk, "search_text": search_text(c, tags)} for pk, c, tags in rows],
            )
    return pks


def _category_ids(categories) -> list[int]:
    return sorted({CATEGORY_INDEX[name] for name in categories or () if name in CATEGORY_INDEX})


def _write_categories(session: Session, video_rows: list[dict], pks: dict, before: dict) -> None:
    """Keep video_categories equal to the written videos' categories: rows for a new video,
    and new rows for a stored video whose categories changed (most are unchanged)."""
    changed, rows = [], []
    for row in video_rows:
        key = (row["platform"], row["video_id"])
        wanted = _category_ids(row["categories"])
        if key in before:
            if _category_ids(before[key].categories) == wanted:
                continue
            changed.append(pks[key])
        rows.extend((category_id, pks[key]) for category_id in wanted)
    table = VideoCategory.__table__
    for start in range(0, len(changed), 500):
        session.execute(delete(table).where(table.c.video_pk.in_(changed[start : start + 500])))
    if rows:
        # Two writers that both found a video new (PostgreSQL: the second waited on the
        # first's insert of it) enter the same rows: the second's are already there.
        columns = ("category_id", "video_pk")
        insert_rows(session.connection(), table, columns, sorted(rows), "ON CONFLICT DO NOTHING")


def _add_counts(session: Session, table, keys: tuple[str, ...], column: str, rows) -> None:
    """Add (*key, delta) rows to a counter table's `column`, inserting missing keys, in key
    order (a seeding batch has thousands of rows, a connect tens)."""
    rows = sorted(row for row in rows if row[-1])
    tail = (
        f"ON CONFLICT ({', '.join(keys)}) "
        f"DO UPDATE SET {column} = {table.name}.{column} + excluded.{column}"
    )
    insert_rows(session.connection(), table, (*keys, column), rows, tail)


def add_to_hashtag_counts(session: Session, tag_changes: TagChanges) -> None:
    """Apply a write's hashtag changes (after changes.record, as the profile counts)."""
    _add_counts(
        session,
        HashtagCount.__table__,
        ("hashtag",),
        "videos",
        [(tag, n) for tag, n in tag_changes.tags.items()],
    )
    _add_counts(
        session,
        HashtagPair.__table__,
        ("hashtag", "other"),
        "videos",
        [(tag, other, n) for (tag, other), n in tag_changes.pairs.items()],
    )


def add_to_profile_counts(session: Session, deltas: Counter) -> None:
    """Apply per-video changes to the number of profiles that liked or shared each video.

    Call it after changes.record: the data version's lock orders the writers that get here.
    """
    _add_counts(session, VideoStats.__table__, ("video_pk",), "profile_count", list(deltas.items()))


def _upsert_profiles(session: Session, plan: WritePlan) -> dict:
    """Insert or update the profiles; return {(platform, user_id): (pk, version, created_at,
    updated_at)} as stored (a re-synced profile keeps its first created_at)."""
    names = tuple(plan.profile_rows[0])

    def build(session: Session):
        table = Profile.__table__
        stmt = upsert_statement(session, table)
        updated = {
            name: stmt.excluded[name]
            for name in names
            if name not in ("platform", "user_id", "created_at", "version")
        }
        updated["version"] = table.c.version + 1
        return stmt.on_conflict_do_update(
            index_elements=[table.c.platform, table.c.user_id], set_=updated
        ).returning(
            table.c.id,
            table.c.platform,
            table.c.user_id,
            table.c.version,
            table.c.created_at,
            table.c.updated_at,
        )

    stmt = built_once(session, ("upsert profiles", names), build)
    result = session.execute(stmt, plan.profile_rows)
    return {(platform, user_id): (pk, *stored) for pk, platform, user_id, *stored in result}


def _upsert_payloads(session: Session, rows: list[tuple[int, bytes]]) -> None:
    """Store packed raw payloads by profile id, replacing a re-synced profile's."""
    if not rows:
        return
    connection = session.connection()
    marker = param_marker(connection)
    table = ProfilePayload.__table__.name
    connection.exec_driver_sql(
        f"INSERT INTO {table} (profile_id, payload) VALUES ({marker}, {marker}) "
        "ON CONFLICT (profile_id) DO UPDATE SET payload = excluded.payload",
        sorted(rows),
    )


def _add_snapshots(session: Session, plan: WritePlan, profiles: dict) -> None:
    """One snapshot per written profile, taken at the time the write stored (its updated_at):
    the statistics, the engagement rate and the weights, in the write's transaction."""
    rows = []
    for row in plan.profile_rows:
        rows.append(
            {
                "profile_id": profiles[(row["platform"], row["user_id"])][0],
                "taken_at": row["updated_at"],
                **{name: row[name] for name in STAT_FIELDS},
                "engagement_rate": row["engagement_rate"],
                "weights": pack_weights(np.frombuffer(row["vector"], dtype="<f8")),
            }
        )
    session.execute(ProfileSnapshot.__table__.insert(), rows)


def _award(
    session: Session, plan: WritePlan, profiles: dict, resynced: list[int], growth: dict
) -> None:
    """What the write's profiles earn (analytics/achievements.py), from their rows, their
    growth and their last snapshot before this one; the standing among all profiles is
    checked here for a single sync only (a bulk load ranks everyone afterwards)."""
    table = ProfileSnapshot.__table__
    previous: dict[int, bytes] = {}
    for start in range(0, len(resynced), 500):
        latest = (
            select(func.max(table.c.id))
            .where(table.c.profile_id.in_(resynced[start : start + 500]))
            .group_by(table.c.profile_id)
        )
        rows = session.execute(
            select(table.c.profile_id, table.c.weights).where(table.c.id.in_(latest))
        )
        previous.update(dict(rows.all()))
    awards = []
    for row in plan.profile_rows:
        pk = profiles[(row["platform"], row["user_id"])][0]
        found = achievements.earned(row, previous.get(pk), growth.get(pk))
        if len(plan.profile_rows) == 1 and (rank := achievements.standing(session, pk, row)):
            found.append(rank)
        awards += [(pk, code, detail) for code, detail in found]
    if awards:
        achievements.award(session, awards, plan.profile_rows[0]["updated_at"])


GROWTH_DAYS = 30


def _growth(
    session: Session, plan: WritePlan, profiles: dict, resynced: list[int]
) -> dict[int, float | None]:
    """Each re-synced profile's follower growth over GROWTH_DAYS: its followers now against
    the last snapshot taken that long or longer before this sync, as a fraction of those
    (none for a profile without such a snapshot, or one that had 0 followers). Stored on the
    profile; {profile id: growth}. A new profile has no history: nothing to read."""
    if not resynced:
        return {}
    now = plan.profile_rows[0]["updated_at"]
    cutoff = now - timedelta(days=GROWTH_DAYS)
    table = ProfileSnapshot.__table__
    before: dict[int, int] = {}
    for start in range(0, len(resynced), 500):
        chunk = resynced[start : start + 500]
        rows = session.execute(
            select(table.c.profile_id, table.c.followers_count)
            .where(table.c.profile_id.in_(chunk), table.c.taken_at <= cutoff)
            .order_by(table.c.profile_id, table.c.taken_at, table.c.id)
        )
        before.update(dict(rows.all()))  # the latest per profile comes last
    growth: dict[int, float | None] = {}
    for row in plan.profile_rows:
        pk = profiles[(row["platform"], row["user_id"])][0]
        if pk in before:
            then = before[pk]
            growth[pk] = (row["followers_count"] - then) / then if then else None
    if growth:
        session.execute(
            update(Profile.__table__).where(Profile.__table__.c.id == bindparam("pk")),
            [{"pk": pk, "growth_30d": value} for pk, value in growth.items()],
        )
    return growth


# From this many rows, PostgreSQL gets them through COPY rather than INSERTs.
COPY_ROWS = 1_000


def _insert_many(session: Session, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert plain rows (ints, strings, floats) straight to the driver (live.sql.insert_rows),
    or on PostgreSQL, for a bulk write's thousands of rows, through COPY.

    These link rows are the bulk of a batch; skipping per-row statement compilation makes
    seeding several times faster. Values are still sent as data, never formatted into SQL.
    """
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and len(rows) >= COPY_ROWS:
        # psycopg's COPY on the session's own connection: the rows join its transaction.
        with connection.connection.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    insert_rows(connection, table, columns, rows)


# A profile's rows in profile_videos and profile_interests: the table, its columns (the key
# first) and how many of them make the primary key.
_LINK_COLUMNS = (ProfileVideo.__table__, ("profile_id", "kind", "video_pk", "position"), 3)
_WEIGHT_COLUMNS = (ProfileInterest.__table__, ("profile_id", "category_id", "weight"), 2)


def _stored_rows(session: Session, shape: tuple, profile_ids: list[int]) -> set[tuple]:
    """The stored rows of these profiles in a link or weight table, as tuples."""
    table, columns, _key = shape

    def build(_session: Session):
        chosen = select(*(table.c[name] for name in columns))
        return chosen.where(table.c.profile_id.in_(bindparam("ids", expanding=True)))

    statement = built_once(session, ("stored rows", table.name), build)
    found: set[tuple] = set()
    for start in range(0, len(profile_ids), 500):
        chunk = profile_ids[start : start + 500]
        found.update(tuple(row) for row in session.execute(statement, {"ids": chunk}))
    return found


def _replace_rows(session: Session, shape: tuple, old: set[tuple], new: set[tuple]) -> None:
    """Turn the stored rows `old` into `new`: delete what went (by primary key), insert what
    came."""
    table, columns, key = shape
    gone = sorted(row[:key] for row in old - new)
    delete_rows(session.connection(), table, columns[:key], gone)
    _insert_many(session, table, columns, sorted(new - old))


def store_profiles(
    session: Session, records: list[ProcessedProfile], known: KnownVideos | None = None
) -> list[Stored]:
    """Write profiles with their videos and vectors; the caller owns the transaction.

    The same account twice in one batch is stored once, from its last record. Returns one
    outcome per input record, in input order. `known` lets a bulk writer skip videos it has
    already stored unchanged; it must only remember what committed, so callers pass a copy
    or discard it when the transaction rolls back.
    """
    if not records:
        return []
    return apply_plan(session, plan_write(records, known), known)


def apply_plan(session: Session, plan: WritePlan, known: KnownVideos | None = None) -> list[Stored]:
    """Run a prepared write in the caller's transaction; one outcome per planned record."""
    if not plan.records:
        return []
    tags = TagChanges(Counter(), Counter())
    video_pks = _upsert_videos(session, plan, known, tags)
    profiles = _upsert_profiles(session, plan)

    resynced = [pk for pk, version, *_times in profiles.values() if version > 1]
    search.write_profiles(
        session,
        [(profiles[(r.platform, r.user_id)][0], r.username, r.user_pseudo) for r in plan.unique],
        replaced=resynced,
    )

    links, weights, payloads = [], [], []
    for record in plan.unique:
        key = (record.platform, record.user_id)
        profile_pk = profiles[key][0]
        payloads.append((profile_pk, plan.payloads[key]))
        platform = record.platform
        for video in record.videos:
            links.append(
                (
                    profile_pk,
                    LINK_KINDS[video.kind],
                    video_pks[(platform, video.video_id)],
                    video.position,
                )
            )
        for category_id, weight in enumerate(record.interest):
            if weight > 0:
                weights.append((profile_pk, category_id, weight))
    _upsert_payloads(session, payloads)
    growth = _growth(session, plan, profiles, resynced)
    _award(session, plan, profiles, resynced, growth)
    _add_snapshots(session, plan, profiles)
    # A re-synced profile keeps the links and weights it still has: only what changed is
    # deleted and inserted (a re-sync of an unchanged account writes none of them).
    old_links = _stored_rows(session, _LINK_COLUMNS, resynced)
    new_links = set(links)
    _replace_rows(session, _LINK_COLUMNS, old_links, new_links)
    _replace_rows(
        session, _WEIGHT_COLUMNS, _stored_rows(session, _WEIGHT_COLUMNS, resynced), set(weights)
    )
    old_pairs = {(link[0], link[2]) for link in old_links}
    new_pairs = {(link[0], link[2]) for link in new_links}
    counts = Counter(video for _profile, video in new_pairs - old_pairs)
    counts.subtract(Counter(video for _profile, video in old_pairs - new_pairs))
    changes.record(
        session,
        (
            (pk, changes.CREATED if version == 1 else changes.UPDATED)
            for pk, version, *_times in profiles.values()
        ),
    )
    add_to_profile_counts(session, counts)
    add_to_hashtag_counts(session, tags)

    rows = {(row["platform"], row["user_id"]): row for row in plan.profile_rows}
    outcomes = []
    seen: set[tuple[str, str]] = set()
    for record in plan.records:
        key = (record.platform, record.user_id)
        pk, version, created_at, updated_at = profiles[key]
        columns = {
            **rows[key],
            "growth_30d": growth.get(pk),
            "id": pk,
            "version": version,
            "created_at": created_at,
            "updated_at": updated_at,
        }
        # A repeat within the batch is an update of the first occurrence.
        outcomes.append(Stored(pk, version == 1 and key not in seen, columns))
        seen.add(key)
    return outcomes


def store_videos(session: Session, platform: str, videos: list[CleanVideo]) -> tuple[int, int]:
    """Store catalogue videos found apart from any profile (a hashtag sync) in the caller's
    transaction: a new video is inserted, a stored one refreshed with the latest counts,
    never doubled. As for a profile's write, the text search follows (the videos' triggers,
    or PostgreSQL's index), the categories and hashtag counts are kept, and the data version
    moves, so that every process's cached answers (recommendations) see the videos. Returns
    (new, already stored)."""
    if not videos:
        return 0, 0
    now = clock.now()
    rows = {video.video_id: _video_row(platform, video, now) for video in videos}
    plan = WritePlan(
        records=[],
        unique=[],
        known_pks={},
        video_rows=[rows[key] for key in sorted(rows)],
        fingerprints={},
        profile_rows=[],
        payloads={},
    )
    tags = TagChanges(Counter(), Counter())
    before = _stored_before(session, plan)
    _upsert_videos(session, plan, None, tags, before)
    changes.record(session, ())
    add_to_hashtag_counts(session, tags)
    return len(rows) - len(before), len(before)
