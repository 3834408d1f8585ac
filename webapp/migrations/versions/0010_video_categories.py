"""video categories as rows: the catalogue's category filter from an index

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 00:30:00

The catalogue's category filter tested each video's JSON list of categories (`json_each` on
SQLite), so counting the videos of one category read all of them: 43 ms at 60,000 videos.
`video_categories` holds one row per (category, video), the category first, so a filter and
its count are one range of the primary key. The writes keep it; existing videos are entered
here, BATCH at a time. A category name outside the taxonomy (none is stored: cleaning keeps
only the taxonomy's names) has no row, as the filter could never ask for it.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from webapp.services.ingestion.taxonomy import CATEGORY_INDEX


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BATCH = 5_000
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
videos = sa.table("videos", sa.column("id", sa.Integer), sa.column("categories", JSON))


def upgrade():
    table = op.create_table(
        "video_categories",
        sa.Column("category_id", sa.SmallInteger(), nullable=False),
        sa.Column("video_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"]),
        sa.ForeignKeyConstraint(["video_pk"], ["videos.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("category_id", "video_pk"),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(videos.c.id, videos.c.categories)
            .where(videos.c.id > last)
            .order_by(videos.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        entries = [
            {"category_id": CATEGORY_INDEX[name], "video_pk": pk}
            for pk, categories in rows
            for name in dict.fromkeys(categories or ())
            if name in CATEGORY_INDEX
        ]
        if entries:
            bind.execute(table.insert(), entries)
        last = rows[-1][0]


def downgrade():
    op.drop_table("video_categories")
