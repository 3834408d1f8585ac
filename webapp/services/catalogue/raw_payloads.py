"""Stored raw payloads: one profile's payload read back exactly as received.

The rows are `profile_payloads`, packed by services/ingestion/payloads.py; the dictionaries
they name are read from this database's `payload_dictionaries`, once per process and database.
"""

from collections.abc import Callable
from weakref import WeakKeyDictionary

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...extensions import db
from ...models import PayloadDictionary, Profile, ProfilePayload
from .. import ProfileNotFound
from ..ingestion.payloads import Dictionaries, PayloadError, unpack

_dictionaries: WeakKeyDictionary = WeakKeyDictionary()  # engine -> Dictionaries


def dictionaries_of(session: Session) -> Callable:
    """A dictionary lookup by id for unpack, reading the session's database."""
    engine = session.get_bind()
    known = _dictionaries.get(engine)
    if known is None:
        known = _dictionaries[engine] = Dictionaries()

    def load(dictionary_id: int) -> bytes | None:
        statement = select(PayloadDictionary.data).where(PayloadDictionary.id == dictionary_id)
        if engine.dialect.name == "postgresql":
            # libpq keeps a connection's input buffer as large as the largest row it has read:
            # a dictionary (4 MiB) read on a pooled connection stays in the worker for that
            # connection's life. Read it on its own connection, closed afterwards. (Once per
            # dictionary and process; a dictionary is committed before any row names it.)
            with engine.connect() as connection:
                data = connection.scalar(statement)
                connection.invalidate()
            if data is not None:
                return data
        return session.scalar(statement)

    return lambda dictionary_id: known.get(dictionary_id, load)


def payload_of(profile_id: int, session: Session | None = None) -> dict:
    """A stored profile's raw payload exactly as received; PayloadError naming the profile
    when it cannot be read."""
    session = session or db.session
    blob = session.scalar(
        select(ProfilePayload.payload).where(ProfilePayload.profile_id == profile_id)
    )
    if blob is None:
        if session.scalar(select(Profile.id).where(Profile.id == profile_id)) is None:
            raise ProfileNotFound(profile_id)
        raise PayloadError(f"profile {profile_id} has no stored raw payload")
    try:
        return unpack(blob, dictionaries_of(session))
    except PayloadError as error:
        raise PayloadError(f"the raw payload of profile {profile_id}: {error}") from None
