"""The mock platform: a deterministic video catalogue and accounts that like and share from it.

Everything is derived from a SHA-256 digest of (platform, user id), never from Python's hash(),
so the same account comes back identical in every process and on every day.
"""

import hashlib
import random
import secrets
import threading
import time
from array import array
from bisect import bisect
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate

from ..taxonomy import CATEGORIES, HASHTAG_LEXICON, OTHER
from .base import Connector, ConnectorRateLimited, ConnectorTimeout, MalformedResponse
from .traits import PlatformTraits

CATALOGUE_SIZE = 20_000
# Fixed bounds: catalogue dates must not move with the day the catalogue is built.
POSTED_FROM = datetime(2024, 1, 1, tzinfo=UTC)
POSTED_TO = datetime(2026, 9, 30, tzinfo=UTC)
TOPICS = tuple(name for name in CATEGORIES if name != OTHER)
# The share of accounts below the likes minimum, so the rejection path shows in a demo.
UNDER_MINIMUM_SHARE = 0.10

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
_caption_words: tuple[str, ...] | None = None


def caption_words() -> tuple[str, ...]:
    """Faker's en_US word list, which captions are drawn from."""
    global _caption_words
    if _caption_words is None:
        from faker import Faker  # imported once accounts are made: 4 MiB a web worker spares

        _caption_words = tuple(Faker("en_US").get_words_list())
    return _caption_words


def name_pool() -> NamePool:
    """Faker's handles and names for en_US, the same in every process (fixed seed)."""
    global _name_pool
    if _name_pool is None:
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(_seed("names"))
        _name_pool = NamePool(
            handles=tuple(fake.user_name() for _ in range(NAME_POOL_SIZE)),
            first_names=tuple(fake.first_name() for _ in range(NAME_POOL_SIZE // 2)),
            last_names=tuple(fake.last_name() for _ in range(NAME_POOL_SIZE // 2)),
        )
    return _name_pool


class PlatformCatalogue:
    """A platform's videos kept in columns, and per category the indices of its videos from
    most to least popular. Every worker holds the three mock platforms' 60,000 videos: as
    objects they took 26 MiB; in columns (shared tuples, packed numbers, captions as word
    indices) they take 7."""

    def __init__(self, id_prefix: str, words: tuple[str, ...]):
        self.id_prefix = id_prefix
        self.words = words
        self.serials = array("q")
        self.categories: list[tuple[str, ...] | None] = []
        self.hashtags: list[tuple[str, ...] | None] = []
        self.likes = array("q")
        self.comments = array("q")
        self.shares = array("q")
        self.posted = array("q")  # whole seconds since the epoch
        self.caption_words = array("H")
        self.caption_ends = array("I")
        self.by_category: dict[str, array] = {}

    def __len__(self) -> int:
        return len(self.serials)

    def append(
        self,
        serial: int,
        categories: tuple[str, ...] | None,
        hashtags: tuple[str, ...] | None,
        counts: tuple[int, int, int],
        posted: datetime,
        caption: list[int],
    ) -> None:
        """Add a video: its likes, comments and shares, and its caption's words as indices in
        `words`. Videos with equal category or hashtag lists should share one tuple."""
        self.serials.append(serial)
        self.categories.append(categories)
        self.hashtags.append(hashtags)
        likes, comments, shares = counts
        self.likes.append(likes)
        self.comments.append(comments)
        self.shares.append(shares)
        self.posted.append(int(posted.replace(microsecond=0).timestamp()))
        self.caption_words.extend(caption)
        self.caption_ends.append(len(self.caption_words))

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
        start = self.caption_ends[index - 1] if index else 0
        words = self.words
        caption = [words[i] for i in self.caption_words[start : self.caption_ends[index]]]
        item["caption"] = " ".join(caption).capitalize()
        item["posted_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.posted[index]))
        return item


def _category_weights(traits: PlatformTraits) -> list[float]:
    return [traits.category_mix.get(name, 1.0) for name in TOPICS]


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
    rng = random.Random(_seed("catalogue", traits.platform))
    words = caption_words()
    word_indices = range(len(words))
    tags = _tags_by_category()
    cumulative = list(accumulate(_category_weights(traits)))
    span = (POSTED_TO - POSTED_FROM).total_seconds()
    built = PlatformCatalogue(traits.video_id_prefix, words)
    shared: dict[tuple, tuple] = {}  # one tuple for each distinct list
    primary = []
    for index in range(CATALOGUE_SIZE):
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
        posted = POSTED_FROM.timestamp() + rng.random() * span
        comments = int(likes * rng.uniform(0.005, 0.05))
        shares = int(likes * rng.uniform(0.002, 0.04))
        caption = rng.choices(word_indices, k=rng.randint(4, 10))
        built.append(
            serial=_seed("video", traits.platform, str(index)) % 10**17,
            categories=shared.setdefault(tuple(shown_cats), tuple(shown_cats))
            if shown_cats
            else None,
            hashtags=shared.setdefault(tuple(shown_tags), tuple(shown_tags))
            if shown_tags
            else None,
            counts=(likes, comments, shares),
            posted=datetime.fromtimestamp(posted, UTC),
            caption=caption,
        )
        primary.append(first)
    by_category: dict[str, list[tuple[int, int]]] = {name: [] for name in TOPICS}
    for index, first in enumerate(primary):
        by_category[first].append((-built.likes[index], index))
    built.by_category = {
        name: array("I", (i for _, i in sorted(entries)))
        for name, entries in by_category.items()
        if entries
    }
    return built


FAULTS = ("timeout", "rate_limit", "malformed")
# What a rate-limited platform asks for when a fault script names no wait.
DEFAULT_RETRY_AFTER = 30.0
# The simulated client gives up on a platform that has not answered after this long.
TIMEOUT_SECONDS = 10


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
        self.latency = latency
        self.fault_rate = fault_rate
        self.faults = faults
        self._weights = list(accumulate(_category_weights(traits)))

    def warm_up(self) -> None:
        """Build the catalogue and name pool now rather than on the first account."""
        catalogue(self.traits)
        name_pool()

    def new_user_id(self, rng: random.Random | None = None) -> str:
        """A fresh account id in the platform's format."""
        low, high = self.traits.user_id_digits
        draw = rng.randrange if rng is not None else secrets.randbelow
        digits = low + (draw(high - low + 1) if high > low else 0)
        first = 1 + draw(9)
        return str(first) + "".join(str(draw(10)) for _ in range(digits - 1))

    def fetch_account(self, user_id: str | None = None) -> dict:
        """Return the account's payload; scripted faults come first, then random ones."""
        if self.latency:
            time.sleep(self.latency)
        scripted = self.faults.next() if self.faults is not None else None
        if scripted is not None:
            if scripted.kind != "ok":
                self._raise_fault(scripted)
        elif self.fault_rate and random.random() < self.fault_rate:
            self._raise_fault(Fault(random.choice(FAULTS)))
        return self.generate(user_id if user_id is not None else self.new_user_id())

    def _raise_fault(self, fault: Fault):
        if fault.kind == "timeout":
            raise ConnectorTimeout(f"{self.label} did not answer within {TIMEOUT_SECONDS} seconds")
        if fault.kind == "rate_limit":
            raise ConnectorRateLimited(
                f"{self.label} is rate limiting requests", retry_after=fault.retry_after
            )
        raise MalformedResponse(f"{self.label} answered with a response that is not an account")

    def generate(self, user_id: str) -> dict:
        """The account for user_id: the same id always gives the same account."""
        rng = random.Random(_seed(self.platform, user_id))
        names = name_pool()
        username = rng.choice(names.handles)
        if rng.random() < 0.6:
            username += str(rng.randrange(10, 99999))
        pseudo = f"{rng.choice(names.first_names)} {rng.choice(names.last_names)}"

        followers = int(rng.lognormvariate(self.traits.follower_log_mu, 2.2))
        verified = followers > 200_000 and rng.random() < 0.6 or rng.random() < 0.01
        videos_count = int(rng.lognormvariate(3.0, 1.4))
        likes_on_own = int(followers * rng.uniform(0.5, 8.0) * min(videos_count, 50) / 10)
        liked_n = rng.randint(10, 40)
        shared_n = rng.randint(1, 10)
        if rng.random() < UNDER_MINIMUM_SHARE:
            number_of_likes = rng.randint(liked_n, 99)
        else:
            number_of_likes = max(100, int(rng.lognormvariate(7.0, 1.3)))

        videos = catalogue(self.traits)
        liked, shared = self._pick_videos(videos, rng, liked_n, shared_n)
        return {
            "user_id": user_id,
            "username": username,
            "user_pseudo": pseudo,
            "verified": verified,
            "followers_count": followers,
            "following_count": int(rng.lognormvariate(5.3, 1.1)),
            "likes_count": likes_on_own + int(rng.lognormvariate(4, 1.5)),
            "videos_count": videos_count,
            "number_of_comments": int(rng.lognormvariate(4.5, 1.5)),
            "number_of_likes_on_own_videos": likes_on_own,
            "number_of_likes": number_of_likes,
            "number_of_shares": max(shared_n, int(number_of_likes * rng.uniform(0.02, 0.3))),
            "liked_videos": [videos.payload(index) for index in liked],
            "shared_videos": [videos.payload(index) for index in shared],
        }

    def _pick_videos(
        self, videos: PlatformCatalogue, rng: random.Random, liked_n: int, shared_n: int
    ):
        """Pick videos clustered around a few interests, favouring popular ones: the indices
        of the liked and of the shared ones in `videos`."""
        books = videos.by_category
        k = rng.choice((1, 2, 2, 3, 3, 4))
        interests = []
        while len(interests) < k:
            name = TOPICS[bisect(self._weights, rng.random() * self._weights[-1])]
            if name not in interests and name in books:
                interests.append(name)
        affinity = list(accumulate(rng.uniform(0.3, 1.0) for _ in interests))

        def pick(taken: set) -> int | None:
            for _ in range(20):
                if rng.random() < 0.85:
                    name = interests[bisect(affinity, rng.random() * affinity[-1])]
                else:
                    name = rng.choice(TOPICS)
                shelf = books.get(name)
                if not shelf:
                    continue
                # u ** 3 crowds picks at the head of the popularity-sorted shelf.
                index = shelf[int(len(shelf) * rng.random() ** 3)]
                if index not in taken:
                    taken.add(index)
                    return index
            return None

        liked_ids: set = set()
        liked = [v for v in (pick(liked_ids) for _ in range(liked_n)) if v is not None]
        shared_ids: set = set()
        shared = [v for v in (pick(shared_ids) for _ in range(shared_n)) if v is not None]
        return liked, shared
