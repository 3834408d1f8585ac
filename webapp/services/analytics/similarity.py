"""Look-alike profiles: exact top-k by cosine of interest vectors over an in-memory matrix.

Each process keeps one live matrix per database: built in full once, then kept current by the
change feed (services/live/changes.py). When the data version moved, the matrix reads only the
profiles changed since its own version and patches their rows (insert, update, delete), so
every answer reflects every committed write, including those of other worker processes and
of the CLI, at a cost proportional to what changed. The same matrix maintains the counts and
interest sums the lists, the overview and the map read.
"""

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import func, select

from ...extensions import db
from ...models import Profile
from .. import ProfileNotFound
from ..ingestion.platforms import PLATFORMS
from ..ingestion.taxonomy import CATEGORIES
from ..ingestion.validation import STAT_FIELDS
from ..live import changes, memory, stamps
from ..live.sql import one_transaction

# Scores are rounded before ranking so that ties (identical interest mixes) are ties on every
# machine, and broken by id.
SCORE_DECIMALS = 12
MAX_K = 100
CANDIDATE_MARGIN = 1e-4
WIDTH = len(CATEGORIES)
PLATFORM_CODE = {name: code for code, name in enumerate(PLATFORMS)}
# Filter counts kept current, most recently used first.
MAX_FILTER_COUNTS = 256
# The columns each row keeps for the list's range filters, in this order (see Row.stats).
STATS = (
    "followers_count",
    "number_of_likes",
    "engagement_rate",
    "growth_30d",
    "verified",
    "updated_at",
)
STAT_INDEX = {name: index for index, name in enumerate(STATS)}
# Past this many changed profiles (and a quarter of the matrix), building anew beats patching.
PATCH_LIMIT = 20_000


@dataclass(frozen=True)
class Row:
    """What the matrix keeps of one profile."""

    id: int
    platform: int  # index into PLATFORMS, -1 for an unknown one
    raw: np.ndarray  # the interest weights, float64, taxonomy order
    username: str
    dominant: str | None
    # The STATS columns as float64 (exact for counts below 2**53; a missing growth is NaN,
    # `verified` 0 or 1, `updated_at` microseconds since the epoch, UTC); None: all NaN.
    stats: np.ndarray | None = None


def epoch_us(value: datetime) -> int:
    """A stored time as whole microseconds since the epoch; a naive one is UTC (SQLite)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // timedelta(microseconds=1)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Criteria:
    """What the list's filters ask of a profile, in the matrix's terms: a platform code, the
    (category index, minimum share) pairs, (STATS index, low, high) ranges (inclusive; None
    leaves that end open), and a dominant interest code. Each decides as the SQL filter does."""

    platform: int | None = None
    interests: tuple = ()
    ranges: tuple = ()
    dominant: int | None = None

    def rest(self) -> "Criteria":
        """The criteria without the platform and the dominant interest: facet counts group
        the profiles that pass the rest by those two."""
        return Criteria(None, self.interests, self.ranges, None)


def _passes(raw: np.ndarray, stats: np.ndarray, criteria: Criteria) -> bool:
    """Whether one row passes the criteria's interests and ranges (not platform, dominant)."""
    for c, minimum in criteria.interests:
        if not (raw[c] >= minimum and raw[c] > 0):
            return False
    for index, low, high in criteria.ranges:
        value = stats[index]
        if value != value:  # NULL in SQL: no range holds
            return False
        if (low is not None and value < low) or (high is not None and value > high):
            return False
    return True


def decode_vector(blob: bytes) -> np.ndarray:
    """A stored vector as float64 weights; an older, smaller taxonomy's is padded with zeros."""
    values = np.frombuffer(blob, dtype="<f8")[:WIDTH]
    if len(values) == WIDTH:
        return values.astype(np.float64)
    padded = np.zeros(WIDTH)
    padded[: len(values)] = values
    return padded


def matches(row: Row, criteria: Criteria, dominant_code) -> bool:
    """Whether a profile as a catch-up read it passes the criteria, as the list's SQL filter
    decides; `dominant_code` turns a dominant interest's name into the criteria's code."""
    if criteria.platform is not None and row.platform != criteria.platform:
        return False
    if criteria.dominant is not None and dominant_code(row.dominant) != criteria.dominant:
        return False
    stats = np.full(len(STATS), np.nan) if row.stats is None else np.asarray(row.stats)
    return _passes(row.raw, stats, criteria)


class IdIndex:
    """Profile id -> row number, as a mapping: an int32 array indexed by id, since ids are
    handed out in order and never reused (a dict of 100,000 ints takes 10 MiB, the array
    0.4 MiB). An id far beyond the others (more than DENSE_SLACK times the count) goes to a
    small dict instead, so one outlier cannot make the array huge."""

    DENSE_SLACK = 4
    DENSE_MIN = 1 << 16

    def __init__(self):
        self._rows = np.full(0, -1, dtype=np.int32)
        self._far: dict[int, int] = {}
        self._count = 0

    def _dense_limit(self) -> int:
        return max(self.DENSE_MIN, self.DENSE_SLACK * (self._count + 1))

    def _make_room(self, largest: int) -> None:
        if largest < len(self._rows):
            return
        size = max(largest + 1, len(self._rows) + len(self._rows) // 4)
        rows = np.full(size, -1, dtype=np.int32)
        rows[: len(self._rows)] = self._rows
        self._rows = rows
        for pk in [pk for pk in self._far if pk < size]:  # now within the array
            self._rows[pk] = self._far.pop(pk)

    def assign(self, ids: np.ndarray, rows: np.ndarray) -> None:
        """Set the rows of many new ids at once (a build)."""
        self._count += len(ids)
        limit = self._dense_limit()
        near = ids < limit
        if near.any():
            self._make_room(int(ids[near].max()))
            self._rows[ids[near]] = rows[near]
        self._far.update(zip(ids[~near].tolist(), rows[~near].tolist(), strict=True))

    def __setitem__(self, pk: int, row: int) -> None:
        if pk not in self:
            self._count += 1
        if pk < len(self._rows) or pk < self._dense_limit():
            self._make_room(pk)
            self._rows[pk] = row
        else:
            self._far[pk] = row

    def get(self, pk: int, default=None):
        if 0 <= pk < len(self._rows):
            row = int(self._rows[pk])
            return default if row < 0 else row
        return self._far.get(pk, default)

    def __getitem__(self, pk: int) -> int:
        row = self.get(pk)
        if row is None:
            raise KeyError(pk)
        return row

    def __contains__(self, pk) -> bool:
        return self.get(pk) is not None

    def pop(self, pk: int) -> int:
        row = self[pk]
        if pk < len(self._rows):
            self._rows[pk] = -1
        else:
            del self._far[pk]
        self._count -= 1
        return row

    def __len__(self) -> int:
        return self._count

    def items(self):
        """(id, row) pairs in id order."""
        near = np.flatnonzero(self._rows >= 0)
        yield from zip(near.tolist(), self._rows[near].tolist(), strict=True)
        yield from sorted(self._far.items())

    def __iter__(self):
        return (pk for pk, _row in self.items())

    @property
    def nbytes(self) -> int:
        return self._rows.nbytes


class Names:
    """A column of names kept as small-integer codes into a table of the distinct names (the
    dominant interest: a few dozen names over every row); reads like a list."""

    def __init__(self, table=()):
        self.table: list[str | None] = [None, *table]
        self._code = {name: code for code, name in enumerate(self.table)}
        self.codes = np.zeros(0, dtype=np.int16)

    def code(self, name: str | None) -> int:
        found = self._code.get(name)
        if found is None:
            found = self._code[name] = len(self.table)
            self.table.append(name)
        return found

    def __getitem__(self, row: int) -> str | None:
        return self.table[self.codes[row]]

    def of(self, rows) -> list[str | None]:
        """The names of these rows (a slice or an array of row numbers)."""
        table = self.table
        return [table[code] for code in self.codes[rows].tolist()]


class Matrix:
    """Every profile's interest weights, one row each, with what the counts and the map need.

    Rows are in no fixed order: a new profile is appended, a deleted profile's row takes the
    last row. The arrays keep spare capacity, so appending costs O(1) amortised. `lock`
    guards every read that spans rows against a concurrent patch.

    Every worker holds one, so it is kept compact: NumPy arrays for every number (the id
    index too), codes for the dominant interest, Python strings only for the handles (one per
    distinct handle; the map's hover labels are written by the browser, see `top_two`). The
    float64 weights stay exact (the counts compare them as SQL does), and the look-alikes
    score them divided by their norms: no second, unit-length copy (a float32 one took 124 MB
    at a million profiles). Each row's stamp says when it was last written.
    """

    def __init__(
        self,
        ids=(),
        platforms=(),
        raw=None,
        usernames=None,
        dominant=None,
        capacity: int = 0,
        stats=None,
    ):
        self.n = 0
        self._ids = np.zeros(capacity, dtype=np.int64)
        self._platforms = np.zeros(capacity, dtype=np.int8)
        self._raw = np.zeros((capacity, WIDTH))
        self._norms = np.zeros(capacity)
        self._stats = np.full((capacity, len(STATS)), np.nan)
        self.row_of = IdIndex()
        self.usernames: list[str] = []
        self._dominant = Names(CATEGORIES)
        self._dominant.codes = np.zeros(capacity, dtype=np.int16)
        # A stamp per row: the write count when the row was last written (a patch, or the last
        # row moved into a deleted one's place). State derived row by row (the map's points)
        # catches up on the rows stamped after its own stamp.
        self._stamps = np.zeros(capacity, dtype=np.int64)
        self.stamp = 0
        self.version = 0
        # What the catch-ups read of the last changes (see LiveMatrices.current).
        self.recent = changes.Recent(0)
        # How many row changes were applied since the build (the map refits after enough).
        self.changed = 0
        self.lock = threading.RLock()
        self.platform_counts = np.zeros(len(PLATFORMS), dtype=np.int64)
        self.platform_sums = np.zeros((len(PLATFORMS), WIDTH))
        # Criteria (without platform and dominant interest) -> a table of how many profiles
        # pass them, by platform (the last row: an unknown platform) and dominant interest code.
        self._filter_counts: OrderedDict[Criteria, np.ndarray] = OrderedDict()
        if len(ids):
            self.extend(ids, platforms, raw, usernames, dominant, stats)

    def extend(self, ids, platforms, raw, usernames=None, dominant=None, stats=None) -> None:
        """Append a block of new rows (while building; patches use `apply`)."""
        ids = np.asarray(ids, dtype=np.int64)
        count = len(ids)
        raw = np.asarray(raw, dtype=np.float64).reshape(count, WIDTH)
        platforms = np.asarray(platforms, dtype=np.int8)
        start, end = self.n, self.n + count
        self._grow(end)
        self._ids[start:end] = ids
        self._platforms[start:end] = platforms
        self._raw[start:end] = raw
        self._norms[start:end] = np.linalg.norm(raw, axis=1)
        if stats is not None:
            self._stats[start:end] = np.asarray(stats, dtype=np.float64).reshape(count, len(STATS))
        self.row_of.assign(ids, np.arange(start, end, dtype=np.int32))
        # Handles repeat across platforms: one string object per distinct handle.
        seen: dict[str, str] = {}
        self.usernames.extend(
            seen.setdefault(name, name)
            for name in (usernames if usernames is not None else [""] * count)
        )
        code = self._dominant.code
        self._dominant.codes[start:end] = [
            code(name) for name in (dominant if dominant is not None else [None] * count)
        ]
        self.stamp += 1
        self._stamps[start:end] = self.stamp
        self.n = end
        self.platform_counts += np.bincount(
            platforms[platforms >= 0], minlength=len(PLATFORMS)
        ).astype(np.int64)
        for code in range(len(PLATFORMS)):
            self.platform_sums[code] += raw[platforms == code].sum(axis=0)

    @staticmethod
    def _unit(raw: np.ndarray, norms: np.ndarray) -> np.ndarray:
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return raw * scale[:, None]

    # Views of the live rows.
    @property
    def ids(self) -> np.ndarray:
        return self._ids[: self.n]

    @property
    def platforms(self) -> np.ndarray:
        return self._platforms[: self.n]

    @property
    def raw(self) -> np.ndarray:
        return self._raw[: self.n]

    @property
    def norms(self) -> np.ndarray:
        return self._norms[: self.n]

    @property
    def stats(self) -> np.ndarray:
        """Each row's STATS columns (see Row.stats)."""
        return self._stats[: self.n]

    @property
    def dominant(self) -> Names:
        """Each row's dominant interest (None when it has none): matrix.dominant[row]."""
        return self._dominant

    def dominant_names(self) -> list[str | None]:
        """The dominant interest of every live row, in row order."""
        return self._dominant.of(slice(0, self.n))

    def written_since(self, stamp: int) -> np.ndarray:
        """The live rows written (patched, or filled by a moved row) after `stamp`; every row
        when stamp is below 0. The caller holds `lock`."""
        if stamp < 0:
            return np.arange(self.n)
        return np.flatnonzero(self._stamps[: self.n] > stamp)

    def unit(self, rows) -> np.ndarray:
        """The unit interest vectors of some rows, in float64 (zero rows stay zero)."""
        return self._unit(self._raw[rows], self._norms[rows])

    # Patching.
    def apply(
        self, rows: list[Row], gone: set[int], version: int, readings: dict | None = None
    ) -> None:
        """Bring the matrix to `version`: `rows` are the changed profiles as stored now,
        `gone` the changed ones no longer stored; `readings`, every changed profile's
        Reading (None for the gone), is kept in `recent` for other checks of the change."""
        with self.lock:
            for pk in gone:
                if pk in self.row_of:
                    self._remove(pk)
            for row in rows:
                self._put(row)
            self.changed += len(rows) + len(gone)
            if readings is None:
                self.recent = changes.Recent(max(self.version, version))
            else:
                self.recent.add(self.version, version, readings)
            self.version = max(self.version, version)

    def changed_after(self, version: int) -> dict | None:
        """The profiles changed after `version` that the catch-ups read, {id: Reading, or
        None when deleted}; None when what is kept does not reach back to `version`."""
        with self.lock:
            return self.recent.after(version)

    def _count(self, row: int, sign: int) -> None:
        platform, raw = int(self._platforms[row]), self._raw[row]
        if platform >= 0:
            self.platform_counts[platform] += sign
            self.platform_sums[platform] += sign * raw
        if self._filter_counts:
            stats, code = self._stats[row], int(self._dominant.codes[row])
            for key, table in self._filter_counts.items():
                if _passes(raw, stats, key) and code < table.shape[1]:
                    table[platform if platform >= 0 else -1, code] += sign

    def _remove(self, pk: int) -> None:
        row = self.row_of.pop(pk)
        self._count(row, -1)
        last = self.n - 1
        if row != last:  # the last row fills the gap
            self._ids[row] = self._ids[last]
            self._platforms[row] = self._platforms[last]
            self._raw[row] = self._raw[last]
            self._norms[row] = self._norms[last]
            self._stats[row] = self._stats[last]
            self._dominant.codes[row] = self._dominant.codes[last]
            self.usernames[row] = self.usernames[last]
            self.row_of[int(self._ids[row])] = row
            self._stamp(row)
        self.usernames.pop()
        self.n = last

    def _put(self, new: Row) -> None:
        row = self.row_of.get(new.id)
        if row is None:
            row = self.n
            self._grow(row + 1)
            self.n += 1
            self.row_of[new.id] = row
            self.usernames.append(new.username)
        else:
            self._count(row, -1)
            self.usernames[row] = new.username
        self._dominant.codes[row] = self._dominant.code(new.dominant)
        self._ids[row] = new.id
        self._platforms[row] = new.platform
        self._raw[row] = new.raw
        self._norms[row] = float(np.linalg.norm(new.raw))
        self._stats[row] = np.nan if new.stats is None else new.stats
        self._count(row, +1)
        self._stamp(row)

    def _stamp(self, row: int) -> None:
        self.stamp += 1
        self._stamps[row] = self.stamp

    def _grow(self, size: int) -> None:
        capacity = len(self._ids)
        if size <= capacity:
            return
        capacity = max(size, 1024, capacity + capacity // 4)

        def grown(array):
            bigger = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
            bigger[: self.n] = array[: self.n]
            return bigger

        self._ids, self._platforms = grown(self._ids), grown(self._platforms)
        self._raw, self._norms = grown(self._raw), grown(self._norms)
        stats = np.full((capacity, len(STATS)), np.nan)
        stats[: self.n] = self._stats[: self.n]
        self._stats = stats
        self._dominant.codes = grown(self._dominant.codes)
        self._stamps = grown(self._stamps)

    # Counts and sums, kept current by every patch.
    def count(self, platform: str | None = None, interests: tuple = ()) -> int:
        """How many profiles are on `platform` (all when None) and hold every (category,
        minimum share) of `interests`, as the list's SQL filter decides."""
        wanted = PLATFORM_CODE.get(platform, -2) if platform is not None else None
        if not interests:
            with self.lock:
                if wanted is None:
                    return int(self.n)
                return int(self.platform_counts[wanted]) if wanted >= 0 else 0
        if wanted == -2:
            return 0
        key = tuple((CATEGORIES.index(c), m) for c, m in interests)
        return self.total(Criteria(wanted, key))

    def total(self, criteria: Criteria) -> int:
        """How many profiles pass the criteria."""
        table = self.facet_table(criteria)
        if criteria.platform is not None:
            table = table[criteria.platform : criteria.platform + 1]
        if criteria.dominant is not None:
            table = table[:, criteria.dominant : criteria.dominant + 1]
        return int(table.sum())

    def facet_table(self, criteria: Criteria) -> np.ndarray:
        """How many profiles pass the criteria but for platform and dominant interest, by
        platform code (the last row: an unknown platform) and dominant interest code: counted
        over the rows at the first ask, then kept current by every patch (a copy)."""
        key = criteria.rest()
        with self.lock:
            found = self._filter_counts.get(key)
            if found is None:
                found = self._table(key)
                self._filter_counts[key] = found
                if len(self._filter_counts) > MAX_FILTER_COUNTS:
                    self._filter_counts.popitem(last=False)
            else:
                self._filter_counts.move_to_end(key)
            return found.copy()

    def _table(self, key: Criteria) -> np.ndarray:
        return self.count_table(self.mask(key))

    def count_table(self, keep: np.ndarray) -> np.ndarray:
        """How many of the rows `keep` marks are on each platform code (the last row: an
        unknown platform) with each dominant interest code. The caller holds `lock`."""
        platforms = self.platforms[keep].astype(np.int64)
        platforms[platforms < 0] = len(PLATFORMS)
        codes = self._dominant.codes[: self.n][keep].astype(np.int64)
        # Room for every category and "none", and any other name the rows hold.
        width = max(len(CATEGORIES) + 1, len(self._dominant.table))
        flat = np.bincount(platforms * width + codes, minlength=(len(PLATFORMS) + 1) * width)
        return flat.reshape(len(PLATFORMS) + 1, width).astype(np.int64)

    def mask(self, criteria: Criteria) -> np.ndarray:
        """A boolean per live row: whether it passes the criteria. The caller holds `lock`."""
        keep = np.ones(self.n, dtype=bool)
        if criteria.platform is not None:
            keep &= self.platforms == criteria.platform
        if criteria.dominant is not None:
            keep &= self._dominant.codes[: self.n] == criteria.dominant
        for c, minimum in criteria.interests:
            column = self.raw[:, c]
            keep &= (column >= minimum) & (column > 0)
        stats = self.stats
        for index, low, high in criteria.ranges:
            column = stats[:, index]
            keep &= ~np.isnan(column)
            if low is not None:
                keep &= column >= low
            if high is not None:
                keep &= column <= high
        return keep

    def matching_ids(self, criteria: Criteria, limit: int) -> np.ndarray | None:
        """The ids of the profiles passing the criteria, or None when more than `limit` do."""
        with self.lock:
            keep = self.mask(criteria)
            if int(keep.sum()) > limit:
                return None
            return self.ids[keep].copy()

    def counts_by_platform(self) -> dict[str, int]:
        """How many profiles each platform has."""
        with self.lock:
            return {p: int(self.platform_counts[code]) for code, p in enumerate(PLATFORMS)}

    def interest_sums(self) -> np.ndarray:
        """The sum of every profile's interest weights, per category."""
        with self.lock:
            return self.platform_sums.sum(axis=0)

    def mean_interest_by_platform(self) -> dict[str, np.ndarray]:
        """Each platform's mean raw interest vector."""
        with self.lock:
            return {
                platform: self.platform_sums[code] / self.platform_counts[code]
                for code, platform in enumerate(PLATFORMS)
                if self.platform_counts[code] > 0
            }


def _rows(columns_of_rows) -> list[Row]:
    """Rows of (id, platform, vector blob, username, dominant, *STATS) as the matrix's Rows."""
    columns_of_rows = list(columns_of_rows)
    stats = _stat_block(columns_of_rows)
    return [
        Row(
            int(columns[0]),
            PLATFORM_CODE.get(columns[1], -1),
            decode_vector(columns[2]),
            columns[3],
            columns[4],
            stats[n],
        )
        for n, columns in enumerate(columns_of_rows)
    ]


_COLUMNS = (
    Profile.id,
    Profile.platform,
    Profile.vector,
    Profile.username,
    Profile.dominant_interest,
    *(getattr(Profile, name) for name in STATS),
)
_BASE = 5  # the columns before the STATS ones
# The same, as table columns, for the change feed's catch-up (live/changes.changed_rows),
# with the columns the profile list sorts on: a catch-up keeps what it read of each changed
# profile (Matrix.recent), and the list checks its kept pages against that.
_SORTED = ("verified", *STAT_FIELDS, "engagement_rate", "growth_30d", "created_at", "updated_at")
_CHANGED = tuple(Profile.__table__.c[column.key] for column in _COLUMNS) + tuple(
    Profile.__table__.c[name] for name in _SORTED if name not in STAT_INDEX
)
_READ = tuple(column.key for column in _CHANGED)


@dataclass(frozen=True)
class Reading:
    """A changed profile as a catch-up read it: the matrix's row, and the columns by name."""

    row: Row
    values: dict


def build_matrix(chunk: int = 10_000) -> Matrix:
    """A matrix of every stored profile, read in one scan, a chunk of rows at a time."""
    expected = db.session.scalar(select(func.count(Profile.id)))
    matrix = Matrix(capacity=expected + 1024)
    with one_transaction(db.session):
        result = db.session.execute(
            select(*_COLUMNS).order_by(Profile.id).execution_options(yield_per=chunk)
        )
        for rows in result.partitions():
            _add_rows(matrix, rows)
    return matrix


def _add_rows(matrix: Matrix, rows) -> None:
    """Add a chunk of (id, platform, vector blob, username, dominant, *STATS) rows."""
    blobs = [row[2] for row in rows]
    if all(len(blob) == WIDTH * 8 for blob in blobs):
        # Every vector has the current taxonomy's width: one buffer, one reshape.
        raw = np.frombuffer(b"".join(blobs), dtype="<f8").reshape(len(rows), WIDTH)
    else:
        raw = np.array([decode_vector(blob) for blob in blobs]).reshape(-1, WIDTH)
    matrix.extend(
        [row[0] for row in rows],
        [PLATFORM_CODE.get(row[1], -1) for row in rows],
        raw,
        [row[3] for row in rows],
        [row[4] for row in rows],
        _stat_block(rows),
    )


def _stat_block(rows) -> np.ndarray:
    """The STATS columns of a chunk of rows (after the first _BASE), one float64 row each
    (numpy makes None NaN and True 1.0; the time is the last column)."""
    last = _BASE + len(STATS) - 1
    return np.array(
        [(*row[_BASE:last], None if row[last] is None else epoch_us(row[last])) for row in rows],
        dtype=np.float64,
    ).reshape(len(rows), len(STATS))


def top_two(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's two largest interests, for the map's hover labels: their category indices
    (of equal shares, the first in the taxonomy) and their shares in whole per cent, two
    small-integer arrays of shape (rows, 2). The browser writes the labels ("Music 40%, Dance
    25%", a share of 0 left out, "Unclassified" when both are): as Python strings made for
    each answer they cost 0.1-1 s at 100,000 profiles, and kept they took 7 MB a worker. Two
    argmax passes, not a sort of each row."""
    n = len(raw)
    rows = np.arange(n)
    codes = np.zeros((n, 2), dtype=np.int8)
    shares = np.zeros((n, 2), dtype=np.int16)
    if not n:
        return codes, shares
    codes[:, 0] = raw.argmax(axis=1)
    rest = np.array(raw, dtype=np.float64)  # a copy: the first choice is masked out
    rest[rows, codes[:, 0]] = -1.0
    codes[:, 1] = rest.argmax(axis=1)
    del rest
    shares[:, 0] = np.rint(raw[rows, codes[:, 0]] * 100)
    shares[:, 1] = np.rint(raw[rows, codes[:, 1]] * 100)
    return codes, shares


class LiveMatrices:
    """One live matrix per database engine, caught up with the change feed on every use."""

    def __init__(self):
        self._by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._guard = threading.Lock()
        # Full builds since the process started (a test checks writes cause none).
        self.builds = 0

    def current(self) -> Matrix:
        """The matrix at (at least) the data version this session sees."""
        session = db.session
        version = stamps.current(session)
        engine = session.get_bind()
        matrix = self._by_engine.get(engine)
        if matrix is not None and matrix.version >= version:
            return matrix
        with self._guard:
            lock = self._locks.setdefault(engine, threading.Lock())
        with lock:  # one catch-up at a time; it is proportional to the change, so short
            matrix = self._by_engine.get(engine)
            if matrix is not None and matrix.version >= version:
                return matrix
            changed = None
            if matrix is not None:
                # Most profiles changed (a bulk load): one scan reads them faster.
                limit = max(PATCH_LIMIT, matrix.n // 4)
                changed = changes.changed_rows(session, matrix.version, version, _CHANGED, limit)
            if changed is None:  # first use, too far behind the feed, or most changed
                matrix = build_matrix()
                matrix.version = version
                matrix.recent = changes.Recent(version)
                self.builds += 1
                self._by_engine[engine] = matrix
                memory.give_back()  # the rows and blocks read to build it
            else:
                gone = {row[0] for row in changed if row[1] is None}
                stored = [row[1:] for row in changed if row[1] is not None]
                rows = _rows(columns[: len(_COLUMNS)] for columns in stored)
                readings: dict = dict.fromkeys(gone)
                for row, columns in zip(rows, stored, strict=True):
                    readings[row.id] = Reading(row, dict(zip(_READ, columns, strict=True)))
                matrix.apply(rows, gone, version, readings)
            return matrix


live = LiveMatrices()


def current_matrix() -> Matrix:
    """The live matrix, caught up to the current data version."""
    return live.current()


def weights_of(ids: Iterable[int]) -> dict[int, np.ndarray]:
    """The interest weights of some profiles (a page's), from the live matrix, by id; a
    profile not in it is left out."""
    matrix = current_matrix()
    found = {}
    with matrix.lock:
        for pk in ids:
            row = matrix.row_of.get(pk)
            if row is not None:
                found[pk] = matrix.raw[row].copy()
    return found


def top_k(
    matrix: Matrix,
    query: np.ndarray,
    k: int,
    exclude_row: int | None = None,
    platform: str | None = None,
) -> list[tuple[int, float]]:
    """The k rows most similar to a unit query vector: [(profile id, cosine)], ties by id.

    The caller holds `matrix.lock` when a row number came from the matrix."""
    with matrix.lock:
        n = matrix.n
        if n == 0 or k <= 0:
            return []
        # First pass over the weights divided by their norms (a zero row scores 0) to find the
        # candidates, with a margin far wider than the rounding of that order of operations;
        # then the candidates are scored as unit vectors, as the brute-force ranking does.
        norms = matrix.norms
        scores = matrix.raw @ query  # fresh: safe to divide and mask in place
        np.divide(scores, norms, out=scores, where=norms > 0)
        if exclude_row is not None:
            scores[exclude_row] = -np.inf
        if platform is not None:
            scores[matrix.platforms != PLATFORMS.index(platform)] = -np.inf
        k = min(k, n)
        threshold = np.partition(scores, n - k)[n - k]
        rows = np.flatnonzero(scores >= threshold - CANDIDATE_MARGIN)
        rows = rows[np.isfinite(scores[rows])]
        if len(rows) == 0:
            return []
        picked = np.round(matrix.unit(rows) @ query, SCORE_DECIMALS)
        ids = matrix.ids[rows]
        order = np.lexsort((ids, -picked))[:k]
        return [(int(ids[i]), float(picked[i])) for i in order]


def _jaccard(a: set, b: set) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def similar_profiles(profile_id: int, k: int = 10, platform: str | None = None) -> list[dict]:
    """The k profiles most like this one, with the cosine and a breakdown of why."""
    matrix = current_matrix()
    k = max(1, min(int(k), MAX_K))
    with matrix.lock:  # the row number stays valid until the ranking is done
        row = matrix.row_of.get(profile_id)
        if row is None:
            raise ProfileNotFound(profile_id)
        found = top_k(matrix, matrix.unit([row])[0], k, exclude_row=row, platform=platform)
    if not found:
        return []
    wanted = [profile_id] + [pk for pk, _ in found]
    details = {
        pk: (username, plat, tops)
        for pk, username, plat, tops in db.session.execute(
            select(Profile.id, Profile.username, Profile.platform, Profile.top_hashtags).where(
                Profile.id.in_(wanted)
            )
        )
    }
    if profile_id not in details:
        raise ProfileNotFound(profile_id)  # deleted since the matrix was built
    own_tags = {entry["hashtag"] for entry in details[profile_id][2][:5]}
    items = []
    for pk, score in found:
        if pk not in details:
            continue  # deleted by another request since the matrix was built
        username, plat, tops = details[pk]
        tags = {entry["hashtag"] for entry in tops[:5]}
        items.append(
            {
                "id": pk,
                "username": username,
                "platform": plat,
                "score": score,
                "breakdown": {
                    "interest_cosine": score,
                    "hashtag_jaccard": _jaccard(own_tags, tags),
                },
            }
        )
    return items


def nearest_to_mix(mix: dict[str, float], k: int = 10, platform: str | None = None) -> list[dict]:
    """The k profiles whose interests are closest (cosine) to a mix of category weights."""
    query = np.zeros(len(CATEGORIES))
    for name, weight in mix.items():
        query[CATEGORIES.index(name)] = weight
    norm = np.linalg.norm(query)
    if norm == 0:
        return []
    matrix = current_matrix()
    k = max(1, min(int(k), MAX_K))
    found = top_k(matrix, query / norm, k, platform=platform)
    if not found:
        return []
    rows = db.session.execute(
        select(Profile.id, Profile.username, Profile.platform).where(
            Profile.id.in_([pk for pk, _ in found])
        )
    ).all()
    details = {pk: (username, plat) for pk, username, plat in rows}
    return [
        {"id": pk, "username": details[pk][0], "platform": details[pk][1], "score": score}
        for pk, score in found
        if pk in details  # not deleted since the matrix was built
    ]


def pairwise(profile_ids: list[int]) -> list[list[float]]:
    """The cosine of interest vectors for every pair of the given profiles, in their order."""
    rows = dict(
        db.session.execute(
            select(Profile.id, Profile.vector).where(Profile.id.in_(profile_ids))
        ).all()
    )
    missing = [pk for pk in profile_ids if pk not in rows]
    if missing:
        raise ProfileNotFound(missing[0])
    vectors = np.array([decode_vector(rows[pk]) for pk in profile_ids])
    norms = np.linalg.norm(vectors, axis=1)
    vectors[norms > 0] /= norms[norms > 0, None]
    return np.round(vectors @ vectors.T, SCORE_DECIMALS).tolist()
