"""raw payloads stored compressed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:30:00

The raw payload was most of a profile's bytes: about 7.4 KB of JSON in each profiles row.
It is now kept zlib-compressed behind a format byte (services/ingestion/payloads.py), about a third of
that, in a BLOB (bytea) column of the same name. Existing rows are converted in batches of
BATCH rows into a new column, which then replaces the old one.

On PostgreSQL the old column was JSONB, which keeps keys sorted, not in the order received:
those rows keep that order; rows written from now on keep the order as received.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

# The app's codec, not a copy: it reads back every format ever written (which the downgrade
# needs) and still writes this revision's format 1 (0009 writes the newer ones).
from webapp.services.ingestion.payloads import pack_zlib as pack, unpack


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BATCH = 1_000  # payloads in memory at once: about 7 MB of JSON
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _convert(source: sa.Column, target: sa.Column, convert) -> None:
    """Fill `target` from `source` for every profile, BATCH rows at a time, in id order."""
    profiles = sa.table("profiles", sa.column("id", sa.Integer), source, target)
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(profiles.c.id, source).where(profiles.c.id > last)
            .order_by(profiles.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            profiles.update().where(profiles.c.id == sa.bindparam("pk"))
            .values({target.name: sa.bindparam("value", type_=target.type)}),
            [{"pk": pk, "value": convert(value)} for pk, value in rows],
        )
        last = rows[-1][0]


def _replace(old: str, new: str) -> None:
    """Drop column `old` of profiles and give `new` its name, NOT NULL."""
    # On SQLite this rebuilds the table: keep its AUTOINCREMENT (migration 0003).
    with op.batch_alter_table("profiles", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column(old)
        batch.alter_column(new, new_column_name=old, nullable=False)


def upgrade():
    op.add_column("profiles", sa.Column("raw_payload_packed", sa.LargeBinary(), nullable=True))
    _convert(
        sa.column("raw_payload", JSON), sa.column("raw_payload_packed", sa.LargeBinary), pack
    )
    _replace("raw_payload", "raw_payload_packed")


def downgrade():
    op.add_column("profiles", sa.Column("raw_payload_json", JSON, nullable=True))
    _convert(
        sa.column("raw_payload", sa.LargeBinary), sa.column("raw_payload_json", JSON), unpack
    )
    _replace("raw_payload", "raw_payload_json")
