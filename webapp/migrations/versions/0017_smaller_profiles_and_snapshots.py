"""smaller profiles and snapshots: a dictionary for dated payloads, no stored top categories,
compact hashtag counts, sparse snapshot weights

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:40:00

Back under 4 KB a profile on SQLite after history (issue 9, README "Storage per profile"):

- `payload_dictionaries` gains dictionary 2, trained on the accounts as of dated syncs (702
  bytes a payload of today's accounts against 1,277 with dictionary 1). New payloads use it,
  and the stored ones packed with dictionary 1 are repacked with it (the same JSON, key order
  and values, decoded and packed again); the other formats stay as they are.
- `profiles.top_categories` goes: it is the vector's largest weights, and the model reads it
  from the vector (services/ingestion/processing.top_categories), the same list exactly.
- `profiles.top_hashtags` is stored as [[tag, count]] instead of [{"hashtag", "count"}].
- `profile_snapshots.vector` becomes `weights`, kept sparse (services/ingestion/vectors.py).

Rows are converted BATCH at a time, in id order. The downgrade puts each back as revision 0016
stored it, payloads written with dictionary 2 repacked with dictionary 1 first.
"""
from datetime import UTC, datetime

from alembic import op
import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from webapp.services.ingestion import payloads
from webapp.services.ingestion.processing import top_categories
from webapp.services.ingestion.vectors import pack_weights, unpack_vector, unpack_weights


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BATCH = 5_000
DICTIONARY = 2  # the dictionary this revision ships; 0009's is 1


def _json():
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _convert(table: str, key: str, column: str, convert, type_) -> None:
    """Rewrite one column of every row with convert(value), BATCH rows at a time."""
    bind = op.get_bind()
    rows_table = sa.table(table, sa.column(key, sa.Integer), sa.column(column, type_))
    keys, values = rows_table.c[key], rows_table.c[column]
    update = (
        rows_table.update()
        .where(keys == sa.bindparam("pk"))
        .values({column: sa.bindparam("value", type_=type_)})
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(keys, values).where(keys > last).order_by(keys).limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(update, [{"pk": pk, "value": convert(value)} for pk, value in rows])
        last = rows[-1][0]


def _profiles_table(**kwargs):
    # On SQLite this rebuilds the table: keep its AUTOINCREMENT (migration 0003).
    return op.batch_alter_table("profiles", table_kwargs={"sqlite_autoincrement": True}, **kwargs)


def _bytes(blob) -> bytes:
    # SQLite keeps a value as it was given: an empty vector written as '' is text.
    return blob.encode() if isinstance(blob, str) else bytes(blob)


def _sparse(blob) -> bytes:
    return pack_weights(np.frombuffer(_bytes(blob), dtype="<f8"))


def _dense(blob) -> bytes:
    return unpack_weights(_bytes(blob)).astype("<f8").tobytes()


def _repack(before: int, after: int) -> None:
    """Pack again with dictionary `after` every stored payload packed with `before`."""
    known = {
        pk: payloads.prepare(bytes(data))
        for pk, data in op.get_bind().execute(
            sa.text("SELECT id, data FROM payload_dictionaries")
        )
    }

    def repacked(blob: bytes) -> bytes:
        if payloads.dictionary_of(blob) != before:
            return blob
        return payloads.pack(payloads.unpack(blob, known.get), after)

    _convert("profile_payloads", "profile_id", "payload", repacked, sa.LargeBinary())


def upgrade():
    dictionaries = sa.table(
        "payload_dictionaries",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("data", sa.LargeBinary),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(
        dictionaries,
        [{"id": DICTIONARY, "name": payloads.SHIPPED_DICTIONARIES[DICTIONARY][0],
          "data": payloads.shipped_dictionary(DICTIONARY), "created_at": datetime.now(UTC)}],
    )
    _repack(1, DICTIONARY)
    _convert(
        "profiles", "id", "top_hashtags",
        lambda tops: [[entry["hashtag"], entry["count"]] for entry in tops], _json(),
    )
    with _profiles_table() as batch:
        batch.drop_column("top_categories")
    _convert("profile_snapshots", "id", "vector", _sparse, sa.LargeBinary())
    op.alter_column("profile_snapshots", "vector", new_column_name="weights")


def downgrade():
    op.alter_column("profile_snapshots", "weights", new_column_name="vector")
    # A dense vector as long as the taxonomy (a profile's older, shorter one comes back longer).
    _convert("profile_snapshots", "id", "vector", _dense, sa.LargeBinary())

    op.add_column("profiles", sa.Column("top_categories", _json(), nullable=True))
    bind = op.get_bind()
    profiles = sa.table(
        "profiles",
        sa.column("id", sa.Integer),
        sa.column("vector", sa.LargeBinary),
        sa.column("top_categories", _json()),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(profiles.c.id, profiles.c.vector)
            .where(profiles.c.id > last).order_by(profiles.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            profiles.update().where(profiles.c.id == sa.bindparam("pk"))
            .values(top_categories=sa.bindparam("tops", type_=_json())),
            [{"pk": pk, "tops": top_categories(unpack_vector(_bytes(vector)))}
             for pk, vector in rows],
        )
        last = rows[-1][0]
    with _profiles_table() as batch:
        batch.alter_column("top_categories", existing_type=_json(), nullable=False)
    _convert(
        "profiles", "id", "top_hashtags",
        lambda tops: [{"hashtag": tag, "count": count} for tag, count in tops], _json(),
    )

    _repack(DICTIONARY, 1)
    op.execute(f"DELETE FROM payload_dictionaries WHERE id = {DICTIONARY}")
