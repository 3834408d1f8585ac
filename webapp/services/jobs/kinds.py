"""Every kind of job, by name: a new kind is a module like resync.py, added here."""

from .base import InvalidParams, Kind
from .connect import CONNECT
from .hashtag_sync import HASHTAG_SYNC, TRENDING_SYNC
from .resync import RESYNC
from .resync_stale import RESYNC_STALE
from .seed import SEED

KINDS: dict[str, Kind] = {
    kind.name: kind for kind in (RESYNC, RESYNC_STALE, CONNECT, HASHTAG_SYNC, TRENDING_SYNC, SEED)
}


def kind_of(name: str) -> Kind:
    """The kind called `name`; InvalidParams naming `kind` when there is none."""
    kind = KINDS.get(name)
    if kind is None:
        raise InvalidParams([("kind", f"must be one of {', '.join(KINDS)}, not {name!r}")])
    return kind
