"""hashtag counts kept by the writes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:45:00

The overview's most common hashtags and the hashtags seen beside them were counted over every
stored video after each write. The writes now keep the counts; existing videos are counted
here once.
"""
from collections import Counter

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BATCH = 5_000
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
videos = sa.table("videos", sa.column("id", sa.Integer), sa.column("hashtags", JSON))


def upgrade():
    counts = op.create_table(
        "hashtag_counts",
        sa.Column("hashtag", sa.String(length=128), nullable=False),
        sa.Column("videos", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hashtag"),
    )
    op.create_index("ix_hashtag_counts_videos", "hashtag_counts", ["videos", "hashtag"])
    pairs = op.create_table(
        "hashtag_pairs",
        sa.Column("hashtag", sa.String(length=128), nullable=False),
        sa.Column("other", sa.String(length=128), nullable=False),
        sa.Column("videos", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hashtag", "other"),
        sqlite_with_rowid=False,
    )
    bind = op.get_bind()
    tags, together = Counter(), Counter()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(videos.c.id, videos.c.hashtags)
            .where(videos.c.id > last)
            .order_by(videos.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for _pk, hashtags in rows:
            unique = sorted(set(hashtags or ()))
            tags.update(unique)
            together.update((a, b) for a in unique for b in unique if a != b)
        last = rows[-1][0]
    if tags:
        bind.execute(counts.insert(), [{"hashtag": t, "videos": n} for t, n in tags.items()])
    if together:
        bind.execute(
            pairs.insert(),
            [{"hashtag": a, "other": b, "videos": n} for (a, b), n in together.items()],
        )


def downgrade():
    op.drop_table("hashtag_pairs")
    op.drop_index("ix_hashtag_counts_videos", table_name="hashtag_counts")
    op.drop_table("hashtag_counts")
