"""payload dictionary 3: the mock platforms' own category mixes and captions written like posts

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 15:00:00

The mock platforms now lean each to its own categories and write captions like real posts
(issue 12), which dictionary 2 never saw: it packs such a payload to 1,853 bytes on average,
dictionary 3 (trained on them, scripts/train_payload_dictionary.py --id 3 --seed 3) to 561
(2,000 accounts as of the 120 days before 2026-12-07, level 5; README "Storage per
profile"). `payload_dictionaries` gains dictionary 3 and new writes use it.

The stored payloads are not repacked: they hold the accounts as the earlier mock made them
(filler captions, near-uniform interests), which dictionary 2 packs to 634 bytes on average
and dictionary 3 to 2,275 (the same measurement on the earlier code's accounts); every re-sync
writes the account's payload anew with dictionary 3 anyway. So the upgrade is one row,
whatever the database's size.

The downgrade packs the payloads written with dictionary 3 again with dictionary 2 (the same
JSON, key order and values), then deletes dictionary 3, so that revision 0019's code, which
does not know it, reads every row.
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

from webapp.services.ingestion import payloads


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BATCH = 5_000
DICTIONARY = 3  # the dictionary this revision ships
EARLIER = 2  # the one new payloads were packed with before it


def _repack(before: int, after: int) -> None:
    """Pack again with dictionary `after` every stored payload packed with `before`, BATCH
    rows at a time in id order."""
    bind = op.get_bind()
    known = {
        pk: payloads.prepare(bytes(data))
        for pk, data in bind.execute(sa.text("SELECT id, data FROM payload_dictionaries"))
    }
    table = sa.table(
        "profile_payloads",
        sa.column("profile_id", sa.Integer),
        sa.column("payload", sa.LargeBinary),
    )
    update = (
        table.update()
        .where(table.c.profile_id == sa.bindparam("pk"))
        .values(payload=sa.bindparam("blob", type_=sa.LargeBinary()))
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(table.c.profile_id, table.c.payload)
            .where(table.c.profile_id > last).order_by(table.c.profile_id).limit(BATCH)
        ).all()
        if not rows:
            return
        changed = [
            {"pk": pk, "blob": payloads.pack(payloads.unpack(bytes(blob), known.get), after)}
            for pk, blob in rows
            if payloads.dictionary_of(bytes(blob)) == before
        ]
        if changed:
            bind.execute(update, changed)
        last = rows[-1][0]


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


def downgrade():
    _repack(DICTIONARY, EARLIER)
    op.execute(f"DELETE FROM payload_dictionaries WHERE id = {DICTIONARY}")
