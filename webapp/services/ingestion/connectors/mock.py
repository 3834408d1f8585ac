"""The mock platform: a deterministic video catalogue and accounts that like and share from it.

Everything is derived from SHA-256 digests of (platform, user id) and of (platform, user id,
date), never from Python's hash(), so an account on a given date comes back identical in every
process; a later date gives the same account moved on: its followers along its trend, its
newest likes, for some accounts a slow drift of interests.
"""

import functools
import hashlib
import math
import random
import secrets
import struct
import threading
import time
from array import array
from bisect import bisect, bisect_left
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from itertools import accumulate, chain

from ... import clock
from ..taxonomy import CATEGORIES, HASHTAG_LEXICON, OTHER
from .base import Connector, ConnectorRateLimited, ConnectorTimeout, MalformedResponse
from .captions import caption
from .traits import PlatformTraits

CATALOGUE_SIZE = 20_000
# The catalogue's first CATALOGUE_SIZE videos were posted between these fixed dates: they must
# not move with the day the catalogue is built. After POSTED_TO the catalogue goes on week by
# week at the same pace, each week's videos made from a digest of (platform, week) when an
# account first needs them, so that every day, today included, has recent videos.
POSTED_FROM = datetime(2024, 1, 1, tzinfo=UTC)
POSTED_TO = datetime(2026, 9, 30, tzinfo=UTC)
WEEKLY_VIDEOS = 140  # 20,000 videos in the 1,003 days before POSTED_TO
WEEK_SECONDS = 7 * 86_400
# Accounts are made for the days between these bounds; a date outside answers as the nearest
# bound. The first leaves half a year of videos to have liked before it; the last bounds how
# far the catalogue grows.
FIRST_DAY = date(2024, 7, 1)
LAST_DAY = date(2035, 12, 31)
TOPICS = tuple(name for name in CATEGORIES if name != OTHER)
TOPIC_INDEX = {name: index for index, name in enumerate(TOPICS)}
# The share of accounts below the likes minimum, so the rejection path shows in a demo.
UNDER_MINIMUM_SHARE = 0.10
# The likes minimum by default (TOKER_MIN_LIKES): every other account has at least this many.
LIKES_MINIMUM = 100

# Spellings a messy platform API sends instead of the taxonomy's names.
_VARIANTS = {
    "Technology": ("tech", "technology"),
    "Music": ("music", "MUSIC"),
    "Comedy": ("funny", "humor"),
    "Food": ("cooking", " food "),
    "Film & TV": ("movies", "film & tv"),
    "Pets": ("animals", "pets"),
}


def _seed(*parts: str) -> int:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


_FOUR_WORDS = struct.Struct(">4Q")
_UNIT = 2.0**-64


class _Dice:
    """Numbers in [0, 1) from the digest of (*parts, label): cheaper than seeding a Random for
    the few draws of one day or one event, and the shared parts are hashed once."""

    def __init__(self, *parts: str):
        self._prefix = hashlib.sha256("".join(part + "\x1f" for part in parts).encode("utf-8"))

    def roll(self, label: str) -> list[float]:
        """Four numbers for `label`, the same in every process."""
        digest = self._prefix.copy()
        digest.update(label.encode("utf-8"))
        return [word * _UNIT for word in _FOUR_WORDS.unpack(digest.digest())]


# Popular videos are in many accounts' likes: their captions are made once per process.
_caption = functools.lru_cache(maxsize=16_384)(caption)


def _tags_by_category() -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {name: [] for name in TOPICS}
    for tag, categories in HASHTAG_LEXICON.items():
        for category in categories:
            tags[category].append(tag)
    for name in TOPICS:
        tags[name].append("#" + "".join(ch for ch in name.lower() if ch.isalnum()))
    return tags


@dataclass(frozen=True)
class NamePool:
    """Handles and names made by Faker once per process, sampled per account."""

    handles: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]


NAME_POOL_SIZE = 2000
_name_pool: NamePool | None = None


def name_pool() -> NamePool:
    """Faker's handles and names for en_US, the same in every process (fixed seed)."""
    global _name_pool
    if _name_pool is None:
        from faker import Faker  # imported once accounts are made: 4 MiB a web worker spares

        fake = Faker("en_US")
        fake.seed_instance(_seed("names"))
        _name_pool = NamePool(
            handles=tuple(fake.user_name() for _ in range(NAME_POOL_SIZE)),
            first_names=tuple(fake.first_name() for _ in range(NAME_POOL_SIZE // 2)),
            last_names=tuple(fake.last_name() for _ in range(NAME_POOL_SIZE // 2)),
        )
    return _name_pool


def _category_weights(traits: PlatformTraits) -> list[float]:
    return [traits.category_mix.get(name, traits.unlisted_weight) for name in TOPICS]


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_WEEK_ZERO = int(POSTED_TO.timestamp())
# Tries of a popularity-weighted pick before taking the next free video along.
_ROLLS = 4
_GOLDEN = (math.sqrt(5) - 1) / 2


def _day_start(ordinal: int) -> int:
    """Seconds since the epoch when the day with this ordinal begins (UTC)."""
    return (ordinal - _EPOCH_ORDINAL) * 86_400


def week_of(timestamp: int) -> int:
    """The catalogue week holding a moment: week 0 starts at POSTED_TO, earlier ones are
    negative."""
    return (timestamp - _WEEK_ZERO) // WEEK_SECONDS


class PlatformCatalogue:
    """A platform's videos kept in columns, and per topic a shelf of their indices in posting
    order. Every worker holds the three mock platforms' 60,000 videos: as objects they took
    26 MiB; in columns (shared tuples, packed numbers, each video's topic as a byte: its
    caption is written when it is sent) they take 7. Weeks after POSTED_TO are added when an
    account first needs them."""

    def __init__(self, traits: PlatformTraits):
        self.traits = traits
        self.id_prefix = traits.video_id_prefix
        self.serials = array("q")
        self.categories: list[tuple[str, ...] | None] = []
        self.hashtags: list[tuple[str, ...] | None] = []
        self.likes = array("q")
        self.comments = array("q")
        self.shares = array("q")
        self.posted = array("q")  # whole seconds since the epoch
        self.topics = array("B")  # what each video is about, by index in TOPICS
        # Per topic (by index in TOPICS): its videos' indices in posting order, when each was
        # posted (for bisection), and the running total of their likes along the shelf.
        self.shelves = [array("I") for _ in TOPICS]
        self.shelf_posted = [array("I") for _ in TOPICS]
        self.shelf_likes = [array("q") for _ in TOPICS]
        self.last_week = week_of(int(POSTED_TO.timestamp())) - 1  # the last week made
        self._tags = _tags_by_category()
        self._caption_tags = {name: tuple(tags) for name, tags in self._tags.items()}
        self._cumulative = list(accumulate(_category_weights(traits)))
        self._lock = threading.Lock()
        # Hashtag (lower-cased, without its #) -> the indices of the videos carrying it, made
        # when a hashtag is first asked for; `_tagged` videos are in it so far.
        self._by_tag: dict[str, array] = {}
        self._tagged = 0

    def __len__(self) -> int:
        return len(self.serials)

    def append(
        self,
        serial: int,
        categories: tuple[str, ...] | None,
        hashtags: tuple[str, ...] | None,
        counts: tuple[int, int, int],
        posted: datetime,
        topic: str,
    ) -> None:
        """Add a video: its likes, comments and shares, and the topic its caption is about.
        Videos with equal category or hashtag lists should share one tuple."""
        self.serials.append(serial)
        self.categories.append(categories)
        self.hashtags.append(hashtags)
        likes, comments, shares = counts
        self.likes.append(likes)
        self.comments.append(comments)
        self.shares.append(shares)
        self.posted.append(int(posted.replace(microsecond=0).timestamp()))
        self.topics.append(TOPIC_INDEX[topic])

    def add_random_video(
        self, rng: random.Random, serial: int, start: float, span: float, shared: dict
    ) -> str:
        """Add a video drawn from `rng`, posted within `span` seconds after `start`; return the
        topic it is about (the first of its categories, before any is hidden or misspelt).
        Videos added with the same `shared` dict share one tuple for each distinct list."""
        cumulative, tags, traits = self._cumulative, self._tags, self.traits
        first = TOPICS[bisect(cumulative, rng.random() * cumulative[-1])]
        cats = [first]
        if rng.random() < 0.4:
            second = TOPICS[bisect(cumulative, rng.random() * cumulative[-1])]
            if second != first:
                cats.append(second)
        video_tags = []
        for category in cats:
            video_tags.extend(rng.sample(tags[category], k=min(2, len(tags[category]))))
        if traits.generic_hashtags and rng.random() < 0.6:
            video_tags.append(rng.choice(traits.generic_hashtags))
        video_tags = list(dict.fromkeys(video_tags))
        style = rng.random()
        if style < 0.15:  # hashtags only: classified through the lexicon
            shown_cats, shown_tags = None, video_tags
        elif style < 0.20:  # only generic tags: nothing to classify it by
            shown_cats, shown_tags = None, list(traits.generic_hashtags[:2]) or ["#video"]
        elif style < 0.30:
            shown_cats, shown_tags = cats, None
        else:
            shown_cats, shown_tags = cats, video_tags
        if shown_cats and rng.random() < 0.05:
            shown_cats = [rng.choice(_VARIANTS.get(c, (c.lower(),))) for c in shown_cats]
        # Heavy-tailed popularity: most videos are small, a few are huge.
        views = int(rng.paretovariate(1.2) * 800)
        likes = int(views * rng.uniform(0.03, 0.15))
        posted = start + rng.random() * span
        comments = int(likes * rng.uniform(0.005, 0.05))
        shares = int(likes * rng.uniform(0.002, 0.04))
        self.append(
            serial=serial,
            categories=shared.setdefault(tuple(shown_cats), tuple(shown_cats))
            if shown_cats
            else None,
            hashtags=shared.setdefault(tuple(shown_tags), tuple(shown_tags))
            if shown_tags
            else None,
            counts=(likes, comments, shares),
            posted=datetime.fromtimestamp(posted, UTC),
            topic=first,
        )
        return first

    def shelve(self, videos: Iterable[tuple[str, int]]) -> None:
        """File videos, given as (topic, index) and posted after every video filed before,
        on their topics' shelves."""
        for topic, index in sorted(videos, key=lambda video: self.posted[video[1]]):
            position = TOPIC_INDEX[topic]
            self.shelves[position].append(index)
            self.shelf_posted[position].append(self.posted[index])
            running = self.shelf_likes[position]
            running.append((running[-1] if running else 0) + self.likes[index])

    def extend_to(self, day: date) -> None:
        """Make the weeks after POSTED_TO up to the one holding `day`, each from its own seed,
        so that a week's videos are the same whichever day, process or order asked first."""
        week = week_of(_day_start(day.toordinal()))
        if week <= self.last_week:
            return
        with self._lock:
            platform = self.traits.platform
            while self.last_week < week:
                made = self.last_week + 1
                rng = random.Random(_seed("catalogue", platform, "week", str(made)))
                start = _WEEK_ZERO + made * WEEK_SECONDS
                videos, shared = [], {}
                for number in range(WEEKLY_VIDEOS):
                    serial = _seed("video", platform, "week", str(made), str(number)) % 10**17
                    topic = self.add_random_video(rng, serial, start, WEEK_SECONDS, shared)
                    videos.append((topic, len(self) - 1))
                self.shelve(videos)
                self.last_week = made

    def pick(self, topic: int, since: int, before: int, roll: float, taken: set[int]) -> int | None:
        """A video about `topic` (by index in TOPICS), not in `taken`, posted from `since` to
        before `before` (timestamps).

        `roll` (0 to 1) falls on that stretch of the shelf with each video as wide as its
        likes, so that popular videos draw most likes, as on a real platform; when that one is
        taken, the roll moves on by the golden ratio (a spot far from those tried) a few times,
        then the next free one along is taken. With none free there, the newest free one
        posted earlier; None when there is none.
        """
        shelf, posted, running = (
            self.shelves[topic],
            self.shelf_posted[topic],
            self.shelf_likes[topic],
        )
        end = bisect_left(posted, before)
        start = bisect_left(posted, since, hi=end)
        if start < end:
            below = running[start - 1] if start else 0
            for _ in range(_ROLLS):
                at = bisect(running, below + roll * (running[end - 1] - below), start, end)
                if shelf[at] not in taken:
                    return shelf[at]
                roll = (roll + _GOLDEN) % 1.0
            for position in chain(range(at, end), range(start, at)):
                if shelf[position] not in taken:
                    return shelf[position]
        for position in range(start - 1, -1, -1):
            if shelf[position] not in taken:
                return shelf[position]
        return None

    def _tag_index(self) -> dict[str, array]:
        """The videos by hashtag, brought up to the videos made so far."""
        with self._lock:
            for index in range(self._tagged, len(self)):
                for tag in self.hashtags[index] or ():
                    key = tag_key(tag)
                    if key:
                        self._by_tag.setdefault(key, array("I")).append(index)
            self._tagged = len(self)
        return self._by_tag

    def tagged(self, hashtag: str, before: int) -> list[int]:
        """The videos carrying the hashtag (lower-cased, without its #) posted before the
        timestamp `before`, newest first (ties by id)."""
        found = [i for i in self._tag_index().get(hashtag, ()) if self.posted[i] < before]
        found.sort(key=lambda i: (-self.posted[i], self.serials[i]))
        return found

    def recent_tags(self, since: int, before: int, leave_out: Iterable[str]) -> Counter:
        """How many videos posted from `since` to before `before` carry each hashtag (keys
        lower-cased, without the #), leaving out `leave_out`."""
        skipped = {tag_key(tag) for tag in leave_out}
        counts: Counter = Counter()
        for index in range(len(self)):
            if since <= self.posted[index] < before:
                keys = {tag_key(tag) for tag in self.hashtags[index] or ()}
                counts.update(key for key in keys if key and key not in skipped)
        return counts

    def payload(self, index: int) -> dict:
        """The video at `index` as a platform payload entry (fresh lists every call)."""
        item = {"video_id": f"{self.id_prefix}{self.serials[index]:017d}"}
        categories = self.categories[index]
        if categories is not None:
            item["categories"] = list(categories)
        hashtags = self.hashtags[index]
        if hashtags is not None:
            item["hashtags"] = list(hashtags)
        item["likes"] = self.likes[index]
        item["comments"] = self.comments[index]
        item["shares"] = self.shares[index]
        topic = TOPICS[self.topics[index]]
        item["caption"] = _caption(item["video_id"], topic, hashtags, self._caption_tags[topic])
        item["posted_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.posted[index]))
        return item


def tag_key(tag: str) -> str:
    """A hashtag as the catalogue looks it up: lower-cased, without its # and spaces."""
    return tag.strip().lstrip("#").strip().lower()


_catalogues: dict[str, PlatformCatalogue] = {}


_catalogue_lock = threading.Lock()


def catalogue(traits: PlatformTraits) -> PlatformCatalogue:
    """The platform's catalogue, built once per process; the same traits give the same videos.
    Threads asking while it is built wait for that build rather than each making their own."""
    built = _catalogues.get(traits.platform)
    if built is None:
        with _catalogue_lock:
            built = _catalogues.get(traits.platform)
            if built is None:
                built = _catalogues[traits.platform] = _build_catalogue(traits)
    return built


def _build_catalogue(traits: PlatformTraits) -> PlatformCatalogue:
    """The first CATALOGUE_SIZE videos, posted between POSTED_FROM and POSTED_TO, shelved."""
    rng = random.Random(_seed("catalogue", traits.platform))
    built = PlatformCatalogue(traits)
    start = POSTED_FROM.timestamp()
    span = (POSTED_TO - POSTED_FROM).total_seconds()
    videos, shared = [], {}
    for index in range(CATALOGUE_SIZE):
        serial = _seed("video", traits.platform, str(index)) % 10**17
        videos.append((built.add_random_video(rng, serial, start, span, shared), index))
    built.shelve(videos)
    return built


# The day each account's drawn figures hold; its trends run from there, both ways.
REFERENCE_DAY = date(2026, 12, 1)
# Follower trends: shares of growing and shrinking accounts (the rest stay flat), and the
# largest rates, in log-followers per 30 days. Rates are heavy-tailed: most accounts move a few
# percent a month, a few far more.
GROWING_SHARE = 0.45
SHRINKING_SHARE = 0.20
MAX_GROWTH = 0.25
MAX_SHRINK = 0.10
# A trend bends (tanh in log space) so that no account ever strays more than this factor from
# its reference count, however far the date: fast growth slows, as it does on real platforms.
FOLLOWER_SWING = math.log(50)
# The share of accounts whose interests drift; how far each interest's pull swings either way
# and in how many days; how strong the newcomer (a topic that comes and goes) gets, next to the
# account's strongest interest.
DRIFT_SHARE = 0.30
DRIFT_SWING = (0.2, 0.5)
DRIFT_PERIOD_DAYS = (540.0, 1460.0)
DRIFT_NEWCOMER = (0.3, 0.8)
# Likes and shares go to the account's interests this often, else to any topic the platform
# shows, as often as it shows it (its category mix). Each looks back over a stretch of days,
# mostly a few months, at most two years: recent videos are within reach of every like, older
# ones of fewer. Shorter stretches would crowd an account's
# likes onto the few videos of its topics posted in the last weeks (140 a week in all), so
# that small videos drew as many likes as popular ones.
INTEREST_SHARE = 0.85
REACH_DAYS = (30, 730)
_FIRST_EVENT_DAY = POSTED_FROM.date().toordinal()


def account_day(as_of: date | datetime | None = None) -> date:
    """The day an account is made for: as_of's date in UTC (the clock's now when None),
    brought within FIRST_DAY..LAST_DAY."""
    moment = clock.now() if as_of is None else as_of
    day = clock.parse(moment).date() if isinstance(moment, datetime) else moment
    return min(max(day, FIRST_DAY), LAST_DAY)


@dataclass(frozen=True)
class Interest:
    """A topic an account likes, and its pull on a day: weight * max(0, level + swing *
    sin(2 pi (day / period + phase))). Steady when swing is 0; a latent interest (level 0)
    comes and goes."""

    topic: str
    weight: float
    level: float = 1.0
    swing: float = 0.0
    period: float = 365.0
    phase: float = 0.0

    def pull(self, day: int) -> float:
        """The pull on the day with this ordinal."""
        if not self.swing:
            return self.weight * self.level
        wave = math.sin(math.tau * (day / self.period + self.phase))
        return self.weight * max(0.0, self.level + self.swing * wave)


@dataclass(frozen=True)
class Stream:
    """An account's likes or shares in time: event n happens on day
    POSTED_FROM + floor((n + phase) / rate), the newest first in the payload."""

    kind: str  # "like" or "share"
    count: int  # how many the payload lists
    rate: float  # events a day
    phase: float

    def day(self, number: int) -> int:
        """The ordinal of the day event `number` happens on."""
        return _FIRST_EVENT_DAY + math.floor((number + self.phase) / self.rate)

    def newest(self, day: int) -> int:
        """The number of the last event on or before the day with this ordinal (-1: none)."""
        number = math.ceil((day - _FIRST_EVENT_DAY + 1) * self.rate - self.phase) - 1
        while self.day(number + 1) <= day:  # floating point may land one off
            number += 1
        while number >= 0 and self.day(number) > day:
            number -= 1
        return number


@dataclass(frozen=True)
class MockAccount:
    """What lasts about an account (drawn from its platform and user id) and how the rest moves
    with the date: figures on REFERENCE_DAY, a follower trend, interests, likes and shares."""

    platform: str
    user_id: str
    username: str
    user_pseudo: str
    verified: bool
    followers: int
    trend: str  # "growing", "flat" or "shrinking"
    growth: float  # log-followers per 30 days before the trend bends
    noise: float  # the largest day-to-day deviation from the trend, as a fraction
    following: int
    videos: int
    comments: int
    likes_given: int
    under_minimum: bool  # a lurker: its likes given stay below LIKES_MINIMUM
    engagement: float  # likes on its own videos per follower, per 10 videos
    other_likes: int
    share_ratio: float  # shares per like given
    age: int  # days on the platform before REFERENCE_DAY
    likes: Stream
    shares: Stream
    interests: tuple[Interest, ...]

    @property
    def drifts(self) -> bool:
        """Whether its interests move over time."""
        return any(interest.swing for interest in self.interests)

    def followers_on(self, day: date) -> int:
        """Followers on the day: the reference count along the bent trend, times a
        deterministic day-to-day wobble of at most `noise`."""
        months = (day.toordinal() - REFERENCE_DAY.toordinal()) / 30
        trend = FOLLOWER_SWING * math.tanh(self.growth * months / FOLLOWER_SWING)
        wobble = 2 * _Dice(self.platform, self.user_id, "followers").roll(day.isoformat())[0] - 1
        return round(self.followers * math.exp(trend) * (1 + self.noise * wobble))

    def activity_on(self, day: date) -> float:
        """What it had done by the day (videos, comments, likes given) over what it had done
        by REFERENCE_DAY, at a steady pace since it joined."""
        return max(0.0, 1 + (day.toordinal() - REFERENCE_DAY.toordinal()) / self.age)

    def likes_given_on(self, day: date) -> int:
        """Likes it had given by the day; a lurker's stay below the minimum."""
        if self.under_minimum:
            return self.likes_given
        return max(LIKES_MINIMUM, round(self.likes_given * self.activity_on(day)))

    def mix_on(self, day: date) -> dict[str, float]:
        """How the likes and shares it gives its interests on the day split between them
        (INTEREST_SHARE of all it gives; the rest go anywhere)."""
        pulls = [interest.pull(day.toordinal()) for interest in self.interests]
        total = sum(pulls)
        topics = (interest.topic for interest in self.interests)
        return {topic: pull / total for topic, pull in zip(topics, pulls, strict=True)}


def _choose(shares: dict[str, float], roll: float) -> str:
    """The key whose stretch of [0, 1), in order and as wide as its share, holds `roll`."""
    for key, share in shares.items():
        roll -= share
        if roll < 0:
            return key
    return key  # shares summing a rounding error under 1


FAULTS = ("timeout", "rate_limit", "malformed")
# What a rate-limited platform asks for when a fault script names no wait.
DEFAULT_RETRY_AFTER = 30.0
# The simulated client gives up on a platform that has not answered after this long.
TIMEOUT_SECONDS = 10
# Videos in one page of a hashtag's videos, as the platforms' search APIs page them.
HASHTAG_PAGE = 100
# Trending hashtags are the most used by the videos of these last days.
TRENDING_DAYS = 7


@dataclass(frozen=True)
class Fault:
    """One scripted answer: a fault kind from FAULTS, or "ok" for a normal answer."""

    kind: str
    retry_after: float = DEFAULT_RETRY_AFTER


def parse_faults(spec: str | Iterable[str]) -> list[Fault]:
    """Read a script of comma-separated kind[:seconds][*count] items, e.g. "timeout*2,ok"."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    faults = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        kind, _, count_text = item.partition("*")
        kind, _, seconds_text = kind.strip().partition(":")
        kind = kind.strip()
        if kind not in (*FAULTS, "ok"):
            raise ValueError(
                f"unknown connector fault {item!r}: use timeout, rate_limit[:seconds], "
                "malformed or ok, each optionally followed by *count"
            )
        if seconds_text and kind != "rate_limit":
            raise ValueError(f"connector fault {item!r}: only rate_limit takes :seconds")
        try:
            retry_after = float(seconds_text) if seconds_text else DEFAULT_RETRY_AFTER
            count = int(count_text) if count_text else 1
        except ValueError:
            raise ValueError(
                f"connector fault {item!r}: seconds and count must be numbers"
            ) from None
        if retry_after < 0 or count < 1:
            raise ValueError(f"connector fault {item!r}: seconds must be >= 0 and count >= 1")
        faults.extend([Fault(kind, retry_after)] * count)
    return faults


class FaultScript:
    """Faults handed out one per platform call, in order, then none; safe across threads."""

    def __init__(self, faults: Iterable[Fault]):
        self._faults = deque(faults)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str | Iterable[str]) -> "FaultScript":
        """A script from its text form (see parse_faults)."""
        return cls(parse_faults(spec))

    def next(self) -> Fault | None:
        """The next scripted answer, or None once the script is used up."""
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)


class MockConnector(Connector):
    """A platform connector that invents realistic, deterministic accounts."""

    def __init__(
        self,
        traits: PlatformTraits,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        faults: FaultScript | None = None,
    ):
        self.traits = traits
        self.platform = traits.platform
        self.label = traits.label
        self.rate_limit = traits.rate_limit
        self.latency = latency
        self.fault_rate = fault_rate
        self.faults = faults
        self._weights = list(accumulate(_category_weights(traits)))

    def warm_up(self) -> None:
        """Build the catalogue, up to the clock's week, and the name pool now rather than on
        the first account."""
        catalogue(self.traits).extend_to(account_day())
        name_pool()

    def new_user_id(self, rng: random.Random | None = None) -> str:
        """A fresh account id in the platform's format."""
        low, high = self.traits.user_id_digits
        draw = rng.randrange if rng is not None else secrets.randbelow
        digits = low + (draw(high - low + 1) if high > low else 0)
        first = 1 + draw(9)
        return str(first) + "".join(str(draw(10)) for _ in range(digits - 1))

    def fetch_account(
        self, user_id: str | None = None, as_of: date | datetime | None = None
    ) -> dict:
        """Return the account's payload as of a date (the clock's now by default); scripted
        faults come first, then random ones."""
        self._answer_or_fail()
        return self.generate(user_id if user_id is not None else self.new_user_id(), as_of)

    def _answer_or_fail(self) -> None:
        """What every call goes through: the latency, then a scripted or random fault."""
        if self.latency:
            time.sleep(self.latency)
        scripted = self.faults.next() if self.faults is not None else None
        if scripted is not None:
            if scripted.kind != "ok":
                self._raise_fault(scripted)
        elif self.fault_rate and random.random() < self.fault_rate:
            self._raise_fault(Fault(random.choice(FAULTS)))

    def videos_with_hashtag(
        self, hashtag: str, cursor: int = 0, as_of: date | datetime | None = None
    ) -> dict:
        """One page of the catalogue's videos posted before `as_of`'s day that carry the
        hashtag, newest first; the same hashtag, cursor and day always give the same page."""
        self._answer_or_fail()
        key = tag_key(hashtag)
        day = account_day(as_of)
        videos = catalogue(self.traits)
        videos.extend_to(day)
        found = videos.tagged(key, _day_start(day.toordinal()))
        start = max(0, int(cursor))
        page = found[start : start + HASHTAG_PAGE]
        after = start + len(page)
        return {
            "hashtag": key,
            "videos": [videos.payload(index) for index in page],
            "cursor": after if after < len(found) else None,
        }

    def trending_hashtags(self, as_of: date | datetime | None = None, count: int = 10) -> list:
        """The hashtags carried by most of the videos posted in the TRENDING_DAYS before
        `as_of`'s day, the platform's generic ones (#fyp...) left out; ties by name."""
        self._answer_or_fail()
        day = account_day(as_of)
        videos = catalogue(self.traits)
        videos.extend_to(day)
        before = _day_start(day.toordinal())
        counts = videos.recent_tags(
            before - TRENDING_DAYS * 86_400, before, self.traits.generic_hashtags
        )
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return [tag for tag, _n in ranked[: max(0, int(count))]]

    def _raise_fault(self, fault: Fault):
        if fault.kind == "timeout":
            raise ConnectorTimeout(f"{self.label} did not answer within {TIMEOUT_SECONDS} seconds")
        if fault.kind == "rate_limit":
            raise ConnectorRateLimited(
                f"{self.label} is rate limiting requests", retry_after=fault.retry_after
            )
        raise MalformedResponse(f"{self.label} answered with a response that is not an account")

    def account(self, user_id: str) -> MockAccount:
        """What lasts about the account for user_id, the same in every process."""
        rng = random.Random(_seed(self.platform, user_id))
        names = name_pool()
        username = rng.choice(names.handles)
        if rng.random() < 0.6:
            username += str(rng.randrange(10, 99999))
        pseudo = f"{rng.choice(names.first_names)} {rng.choice(names.last_names)}"

        followers = int(rng.lognormvariate(self.traits.follower_log_mu, 2.2))
        verified = followers > 200_000 and rng.random() < 0.6 or rng.random() < 0.01
        videos = int(rng.lognormvariate(3.0, 1.4))
        engagement = rng.uniform(0.5, 8.0)
        liked_n = rng.randint(10, 40)
        shared_n = rng.randint(1, 10)
        under_minimum = rng.random() < UNDER_MINIMUM_SHARE
        if under_minimum:
            likes_given = rng.randint(liked_n, LIKES_MINIMUM - 1)
        else:
            likes_given = max(LIKES_MINIMUM, int(rng.lognormvariate(7.0, 1.3)))
        interests = self._interests(rng)
        following = int(rng.lognormvariate(5.3, 1.1))
        other_likes = int(rng.lognormvariate(4, 1.5))
        comments = int(rng.lognormvariate(4.5, 1.5))
        share_ratio = rng.uniform(0.02, 0.3)

        roll = rng.random()
        if roll < GROWING_SHARE:
            trend, growth = "growing", min(MAX_GROWTH, 0.02 * rng.paretovariate(1.5))
        elif roll < GROWING_SHARE + SHRINKING_SHARE:
            trend, growth = "shrinking", -min(MAX_SHRINK, 0.01 * rng.paretovariate(1.5))
        else:
            trend, growth = "flat", rng.uniform(-0.002, 0.002)
        noise = rng.uniform(0.002, 0.01)
        age = rng.randint(365, 8 * 365)
        # Listed likes and shares come at least every few days, so that the lists always reach
        # back to videos the catalogue holds.
        like_rate = min(12.0, max(0.4, rng.lognormvariate(0.0, 0.8)))
        share_rate = max(0.1, like_rate * rng.uniform(0.1, 0.3))
        likes = Stream("like", liked_n, like_rate, rng.random())
        shares = Stream("share", shared_n, share_rate, rng.random())
        if rng.random() < DRIFT_SHARE:
            interests = self._drifting(rng, interests)
        return MockAccount(
            platform=self.platform,
            user_id=user_id,
            username=username,
            user_pseudo=pseudo,
            verified=verified,
            followers=followers,
            trend=trend,
            growth=growth,
            noise=noise,
            following=following,
            videos=videos,
            comments=comments,
            likes_given=likes_given,
            under_minimum=under_minimum,
            engagement=engagement,
            other_likes=other_likes,
            share_ratio=share_ratio,
            age=age,
            likes=likes,
            shares=shares,
            interests=interests,
        )

    def _draw_topic(self, rng: random.Random) -> str:
        """A topic drawn by the platform's content mix."""
        return TOPICS[bisect(self._weights, rng.random() * self._weights[-1])]

    def _interests(self, rng: random.Random) -> tuple[Interest, ...]:
        """One to four topics, drawn by the platform's content mix, each with its weight."""
        k = rng.choice((1, 2, 2, 3, 3, 4))
        topics: list[str] = []
        while len(topics) < k:
            name = self._draw_topic(rng)
            if name not in topics:
                topics.append(name)
        return tuple(Interest(topic, rng.uniform(0.3, 1.0)) for topic in topics)

    def _drifting(
        self, rng: random.Random, interests: tuple[Interest, ...]
    ) -> tuple[Interest, ...]:
        """The interests made to swing slowly, each on its own period, plus a latent topic that
        comes and goes: a category gained, later lost."""
        swinging = [
            replace(
                interest,
                swing=rng.uniform(*DRIFT_SWING),
                period=rng.uniform(*DRIFT_PERIOD_DAYS),
                phase=rng.random(),
            )
            for interest in interests
        ]
        held = {interest.topic for interest in interests}
        latent = self._draw_topic(rng)
        while latent in held:
            latent = self._draw_topic(rng)
        swinging.append(
            Interest(
                latent,
                rng.uniform(*DRIFT_NEWCOMER) * max(interest.weight for interest in interests),
                level=0.0,
                swing=1.0,
                period=rng.uniform(*DRIFT_PERIOD_DAYS),
                phase=rng.random(),
            )
        )
        return tuple(swinging)

    def generate(self, user_id: str, as_of: date | datetime | None = None) -> dict:
        """The account for user_id as of a date (the clock's now by default): the same id and
        day always give the same account."""
        account = self.account(user_id)
        day = account_day(as_of)
        videos = catalogue(self.traits)
        videos.extend_to(day)
        followers = account.followers_on(day)
        activity = account.activity_on(day)
        videos_count = round(account.videos * activity)
        likes_on_own = int(followers * account.engagement * min(videos_count, 50) / 10)
        likes_given = account.likes_given_on(day)
        liked = self._recent(videos, account, account.likes, day)
        shared = self._recent(videos, account, account.shares, day)
        return {
            "user_id": user_id,
            "username": account.username,
            "user_pseudo": account.user_pseudo,
            "verified": account.verified,
            "followers_count": followers,
            "following_count": account.following,
            "likes_count": likes_on_own + account.other_likes,
            "videos_count": videos_count,
            "number_of_comments": round(account.comments * activity),
            "number_of_likes_on_own_videos": likes_on_own,
            "number_of_likes": likes_given,
            "number_of_shares": max(account.shares.count, int(likes_given * account.share_ratio)),
            "liked_videos": [videos.payload(index) for index in liked],
            "shared_videos": [videos.payload(index) for index in shared],
        }

    def _recent(
        self, videos: PlatformCatalogue, account: MockAccount, stream: Stream, day: date
    ) -> list[int]:
        """The videos of the stream's newest events on or before the day, newest first.

        Each event draws, from a digest of its own, a topic from the account's mix on the
        event's day, how many days back it reaches (REACH_DAYS) and a roll on the topic's shelf
        that favours popular videos; it takes a video posted before its day began, so none is
        ever newer than the day asked for.
        """
        steady = None if account.drifts else account.mix_on(day)
        picked: list[int] = []
        taken: set[int] = set()
        dice = _Dice(self.platform, account.user_id, stream.kind)
        number = stream.newest(day.toordinal())
        while len(picked) < stream.count and number >= 0:
            event_day = stream.day(number)
            topic_roll, reach_roll, shelf_roll, _ = dice.roll(str(number))
            number -= 1
            if topic_roll < INTEREST_SHARE:
                mix = steady or account.mix_on(date.fromordinal(event_day))
                topic = TOPIC_INDEX[_choose(mix, topic_roll / INTEREST_SHARE)]
            else:  # anything the platform shows, as often as it shows it
                share = (topic_roll - INTEREST_SHARE) / (1 - INTEREST_SHARE)
                topic = bisect(self._weights, share * self._weights[-1])
            before = _day_start(event_day)
            shortest, longest = REACH_DAYS
            reach = shortest + int((longest - shortest) * reach_roll**2)
            index = videos.pick(topic, before - reach * 86_400, before, shelf_roll, taken)
            if index is not None:
                taken.add(index)
                picked.append(index)
        return picked
