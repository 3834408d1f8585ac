"""raw payloads apart with a zstd dictionary; small-integer link kinds and categories

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 01:30:00

Toward 4 KB a profile on SQLite (issue 9):

- The raw payload leaves `profiles` for `profile_payloads` (profile id -> packed payload),
  repacked with zstd and a trained dictionary (services/ingestion/payloads.py, format 3). The
  dictionaries are rows of `payload_dictionaries`; this revision inserts the shipped one.
- `profile_videos.kind` becomes 0 (liked) or 1 (shared), and loses its index by video, which
  no query reads (EXPLAIN QUERY PLAN in the README).
- `profile_interests.category` becomes `category_id`, the category's position in the
  taxonomy, kept in the new `categories` table.

Payloads are converted BATCH rows at a time; links and weights in SQL. A category or kind
outside the mapping stops the migration (NOT NULL) instead of losing a row. The downgrade
puts everything back as revision 0007 stored it (payloads zlib-packed, format 1 or 2).
"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

from webapp.services.ingestion import payloads
from webapp.services.ingestion.taxonomy import CATEGORIES


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BATCH = 1_000  # payloads in memory at once: about 7 MB of JSON
# The dictionary this revision ships and packs with; later ones add theirs (0017).
DICTIONARY = 1
KINDS = {"liked": 0, "shared": 1}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _batches(select_rows):
    """Yield lists of (id, value) from select_rows(last_id), BATCH at a time, in id order."""
    last = 0
    while True:
        rows = op.get_bind().execute(select_rows(last)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _profiles_table(**kwargs):
    # On SQLite this rebuilds the table: keep its AUTOINCREMENT (migration 0003).
    return op.batch_alter_table("profiles", table_kwargs={"sqlite_autoincrement": True}, **kwargs)


def _metadata() -> sa.MetaData:
    """A MetaData naming the tables that links and weights refer to."""
    metadata = sa.MetaData()
    for table in ("profiles", "videos"):
        sa.Table(table, metadata, sa.Column("id", sa.Integer(), primary_key=True))
    sa.Table("categories", metadata, sa.Column("id", sa.SmallInteger(), primary_key=True))
    return metadata


def _links_table(name: str, kind_type) -> sa.Table:
    return sa.Table(
        name,
        _metadata(),
        sa.Column("profile_id", sa.Integer(), sa.ForeignKey("profiles.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("kind", kind_type, primary_key=True),
        sa.Column("video_pk", sa.Integer(), sa.ForeignKey("videos.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        *([sa.CheckConstraint("kind IN (0, 1)", name="ck_profile_videos_kind")]
          if isinstance(kind_type, sa.SmallInteger) else []),
        sqlite_with_rowid=False,
    )


def _weights_table(name: str, by_id: bool) -> sa.Table:
    category = (
        sa.Column("category_id", sa.SmallInteger(), sa.ForeignKey("categories.id"),
                  primary_key=True)
        if by_id else sa.Column("category", sa.String(32), primary_key=True)
    )
    return sa.Table(
        name,
        _metadata(),
        sa.Column("profile_id", sa.Integer(), sa.ForeignKey("profiles.id", ondelete="CASCADE"),
                  primary_key=True),
        category,
        sa.Column("weight", sa.Float(), nullable=False),
        sqlite_with_rowid=False,
    )


def _rebuild_sqlite(table: sa.Table, select_sql: str) -> None:
    """Replace the table of the same name (without _new) by `table`, filled by select_sql."""
    final = table.name.removesuffix("_new")
    table.create(op.get_bind())
    before = op.get_bind().execute(sa.text(f"SELECT count(*) FROM {final}")).scalar()
    op.execute(f"INSERT INTO {table.name} {select_sql}")
    after = op.get_bind().execute(sa.text(f"SELECT count(*) FROM {table.name}")).scalar()
    if before != after:  # pragma: no cover - NOT NULL stops a row without a code first
        raise RuntimeError(f"{final}: {before} rows, {after} converted")
    op.drop_table(final)
    op.rename_table(table.name, final)


def upgrade():
    categories = op.create_table(
        "categories",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.bulk_insert(categories, [{"id": i, "name": name} for i, name in enumerate(CATEGORIES)])
    dictionaries = op.create_table(
        "payload_dictionaries",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.bulk_insert(
        dictionaries,
        [
            {"id": DICTIONARY, "name": payloads.SHIPPED_DICTIONARIES[DICTIONARY][0],
             "data": payloads.shipped_dictionary(DICTIONARY), "created_at": datetime.now(UTC)}
        ],
    )
    stored = op.create_table(
        "profile_payloads",
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["profile_id"], ["profiles.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("profile_id"),
    )
    profiles = sa.table("profiles", sa.column("id", sa.Integer),
                        sa.column("raw_payload", sa.LargeBinary))
    for rows in _batches(
        lambda last: sa.select(profiles.c.id, profiles.c.raw_payload)
        .where(profiles.c.id > last).order_by(profiles.c.id).limit(BATCH)
    ):
        op.get_bind().execute(
            stored.insert(),
            [{"profile_id": pk, "payload": payloads.pack(payloads.unpack(raw), DICTIONARY)}
             for pk, raw in rows],
        )
    with _profiles_table() as batch:
        batch.drop_column("raw_payload")

    op.drop_index("ix_profile_videos_video", table_name="profile_videos")
    kind_code = "CASE kind WHEN 'liked' THEN 0 WHEN 'shared' THEN 1 END"
    if _sqlite():
        _rebuild_sqlite(
            _links_table("profile_videos_new", sa.SmallInteger()),
            f"SELECT profile_id, {kind_code}, video_pk, position FROM profile_videos "
            f"ORDER BY profile_id, {kind_code}, video_pk",
        )
    else:
        op.execute(
            f"ALTER TABLE profile_videos ALTER COLUMN kind TYPE SMALLINT USING {kind_code}"
        )
        op.create_check_constraint("ck_profile_videos_kind", "profile_videos", "kind IN (0, 1)")

    op.drop_index("ix_profile_interests_category_weight", table_name="profile_interests")
    if _sqlite():
        _rebuild_sqlite(
            _weights_table("profile_interests_new", by_id=True),
            "SELECT w.profile_id, c.id, w.weight FROM profile_interests w "
            "JOIN categories c ON c.name = w.category ORDER BY w.profile_id, c.id",
        )
    else:
        op.add_column("profile_interests", sa.Column("category_id", sa.SmallInteger()))
        op.execute(
            "UPDATE profile_interests w SET category_id = c.id FROM categories c "
            "WHERE c.name = w.category"
        )
        op.drop_constraint("profile_interests_pkey", "profile_interests", type_="primary")
        op.drop_column("profile_interests", "category")
        op.alter_column("profile_interests", "category_id", nullable=False)  # stops on NULL
        op.create_primary_key(
            "profile_interests_pkey", "profile_interests", ["profile_id", "category_id"]
        )
        op.create_foreign_key(
            "profile_interests_category_id_fkey", "profile_interests", "categories",
            ["category_id"], ["id"],
        )
    op.create_index(
        "ix_profile_interests_category_weight", "profile_interests",
        ["category_id", "weight", "profile_id"],
    )


def downgrade():
    op.drop_index("ix_profile_interests_category_weight", table_name="profile_interests")
    if _sqlite():
        _rebuild_sqlite(
            _weights_table("profile_interests_new", by_id=False),
            "SELECT w.profile_id, c.name, w.weight FROM profile_interests w "
            "JOIN categories c ON c.id = w.category_id ORDER BY w.profile_id, c.name",
        )
    else:
        op.add_column("profile_interests", sa.Column("category", sa.String(32)))
        op.execute(
            "UPDATE profile_interests w SET category = c.name FROM categories c "
            "WHERE c.id = w.category_id"
        )
        op.drop_constraint("profile_interests_pkey", "profile_interests", type_="primary")
        op.drop_constraint(
            "profile_interests_category_id_fkey", "profile_interests", type_="foreignkey"
        )
        op.drop_column("profile_interests", "category_id")
        op.alter_column("profile_interests", "category", nullable=False)
        op.create_primary_key(
            "profile_interests_pkey", "profile_interests", ["profile_id", "category"]
        )
    op.create_index(
        "ix_profile_interests_category_weight", "profile_interests",
        ["category", "weight", "profile_id"],
    )

    kind_name = "CASE kind WHEN 0 THEN 'liked' WHEN 1 THEN 'shared' END"
    if _sqlite():
        _rebuild_sqlite(
            _links_table("profile_videos_new", sa.String(8)),
            f"SELECT profile_id, {kind_name}, video_pk, position FROM profile_videos "
            f"ORDER BY profile_id, {kind_name}, video_pk",
        )
    else:
        op.drop_constraint("ck_profile_videos_kind", "profile_videos", type_="check")
        op.execute(
            f"ALTER TABLE profile_videos ALTER COLUMN kind TYPE VARCHAR(8) USING {kind_name}"
        )
    op.create_index("ix_profile_videos_video", "profile_videos", ["video_pk", "kind"])

    bind = op.get_bind()
    known = {
        pk: payloads.prepare(data)
        for pk, data in bind.execute(sa.text("SELECT id, data FROM payload_dictionaries"))
    }
    op.add_column("profiles", sa.Column("raw_payload", sa.LargeBinary(), nullable=True))
    profiles = sa.table("profiles", sa.column("id", sa.Integer),
                        sa.column("raw_payload", sa.LargeBinary))
    stored = sa.table("profile_payloads", sa.column("profile_id", sa.Integer),
                      sa.column("payload", sa.LargeBinary))
    for rows in _batches(
        lambda last: sa.select(stored.c.profile_id, stored.c.payload)
        .where(stored.c.profile_id > last).order_by(stored.c.profile_id).limit(BATCH)
    ):
        bind.execute(
            profiles.update().where(profiles.c.id == sa.bindparam("pk"))
            .values(raw_payload=sa.bindparam("raw", type_=sa.LargeBinary)),
            [{"pk": pk, "raw": payloads.pack_zlib(payloads.unpack(blob, known.get))}
             for pk, blob in rows],
        )
    with _profiles_table() as batch:
        batch.alter_column("raw_payload", nullable=False)
    op.drop_table("profile_payloads")
    op.drop_table("payload_dictionaries")
    op.drop_table("categories")
