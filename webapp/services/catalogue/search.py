"""Text search on the databases' own indexes: the video catalogue's text and profile names.

A search matches a substring, ignoring case the way Python's str.lower does: the indexed text
and the query are both lowered by Python, then compared exactly, so %, _, quotes, brackets,
backslashes and any Unicode in a query match themselves.

- SQLite: FTS5 tables with the trigram tokenizer, case-sensitive over the lowered text
  (models.SEARCH_SCHEMA). A query of MIN_INDEXED characters or more is an FTS5 phrase, which
  the trigram tokenizer matches as a substring. A shorter query has no trigram to look up:
  it is a LIKE over every row (the catalogue's search text, the profiles' lowered names).
- PostgreSQL: GIN pg_trgm indexes, which LIKE '%q%' uses for queries of three characters or
  more (the index is lossy; the LIKE itself decides), and shorter queries scan.

The catalogue's index follows videos.search_text through triggers; profile_search is written
here, by every write of profiles, in the write's transaction.
"""

from sqlalchemy import column, delete, insert, or_, select, table
from sqlalchemy.orm import Session

from ...models import PROFILE_SEARCH, VIDEO_SEARCH, Video
from ..live.sql import escape_like

# Trigrams: a shorter query cannot be looked up in the index.
MIN_INDEXED = 3


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _profile_table(session: Session):
    # On SQLite the FTS5 table's rowid is the profile's id.
    key = "rowid" if _dialect(session) == "sqlite" else "profile_id"
    return table(PROFILE_SEARCH, column(key), column("username"), column("user_pseudo"))


def _indexed(session: Session, q: str) -> bool:
    """Whether an FTS5 phrase can answer `q` (SQLite: three characters or more, and no NUL,
    which ends an FTS5 query string)."""
    return _dialect(session) == "sqlite" and len(q) >= MIN_INDEXED and "\x00" not in q


def _phrase(q: str) -> str:
    """An FTS5 phrase matching `q` literally: inside double quotes only '"' is special."""
    return '"' + q.replace('"', '""') + '"'


def video_condition(session: Session, q: str):
    """Videos whose search text contains `q` (already lowered)."""
    if _indexed(session, q):
        fts = table(VIDEO_SEARCH, column("rowid"), column(VIDEO_SEARCH))
        return Video.id.in_(select(fts.c.rowid).where(fts.c[VIDEO_SEARCH].match(_phrase(q))))
    # PostgreSQL's trigram index serves this LIKE from three characters on; shorter queries
    # (and SQLite's) scan every video's search text.
    return Video.search_text.like(f"%{escape_like(q)}%", escape="\\")


def profile_ids(session: Session, q: str):
    """A subquery of the ids of profiles whose lowered username or display name contains
    `q` (already lowered)."""
    if _indexed(session, q):
        # A phrase is matched within one column, never across the two.
        fts = table(PROFILE_SEARCH, column("rowid"), column(PROFILE_SEARCH))
        return select(fts.c.rowid).where(fts.c[PROFILE_SEARCH].match(_phrase(q)))
    # Too short for a trigram: every row's names are read (on SQLite, from the FTS5 table's
    # own copy, far smaller than the profiles' rows).
    found = _profile_table(session)
    pattern = f"%{escape_like(q)}%"
    return select(found.c[0]).where(
        or_(
            found.c.username.like(pattern, escape="\\"),
            found.c.user_pseudo.like(pattern, escape="\\"),
        )
    )


def lowered(username: str, user_pseudo: str | None) -> tuple[str, str]:
    """A profile's names as profile_search holds them."""
    return username.lower(), (user_pseudo or "").lower()


def write_profiles(
    session: Session, rows: list[tuple[int, str, str | None]], replaced: list[int]
) -> None:
    """Index (profile id, username, display name) rows in the caller's transaction; `replaced`
    are profiles already indexed, whose row is written again only when their names changed
    (a re-sync mostly keeps them)."""
    found = _profile_table(session)
    if replaced:
        indexed = {}
        for start in range(0, len(replaced), 500):
            chunk = replaced[start : start + 500]
            indexed.update(
                (pk, (name, pseudo))
                for pk, name, pseudo in session.execute(
                    select(found.c[0], found.c.username, found.c.user_pseudo).where(
                        found.c[0].in_(chunk)
                    )
                )
            )
        unchanged = {pk for pk, name, pseudo in rows if indexed.get(pk) == lowered(name, pseudo)}
        forget_profiles(session, [pk for pk in replaced if pk not in unchanged])
        rows = [row for row in rows if row[0] not in unchanged]
    if not rows:
        return
    key = found.c[0].name
    session.execute(
        insert(found),
        [
            dict(zip((key, "username", "user_pseudo"), (pk, *lowered(name, pseudo)), strict=True))
            for pk, name, pseudo in rows
        ],
    )


def forget_profiles(session: Session, profile_ids: list[int]) -> None:
    """Remove these profiles from the index, in the caller's transaction."""
    found = _profile_table(session)
    for start in range(0, len(profile_ids), 500):
        chunk = profile_ids[start : start + 500]
        session.execute(delete(found).where(found.c[0].in_(chunk)))
