"""the video catalogue in SQL: score and search text on every video, profile counts beside

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:30:00

The catalogue was an index each worker rebuilt from every video after writes. Each video now
carries its engagement score and the text a search looks in, and video_stats how many
profiles liked or shared it (kept by the writes); existing videos get theirs here.
"""
import math

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BATCH = 5_000
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
videos = sa.table(
    "videos",
    sa.column("id", sa.Integer),
    sa.column("likes", sa.BigInteger),
    sa.column("comments", sa.BigInteger),
    sa.column("shares", sa.BigInteger),
    sa.column("caption", sa.Text),
    sa.column("hashtags", JSON),
    sa.column("score", sa.Float),
    sa.column("search_text", sa.Text),
)


def _score(likes, comments, shares):
    # services/ingestion/scores.py's formula, as it stood when this migration was written.
    weighted = max(0, likes) + 2 * max(0, comments) + 3 * max(0, shares)
    return min(100.0, 100.0 * math.log10(1 + weighted) / 7.0)


def upgrade():
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("score", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "video_stats",
        sa.Column("video_pk", sa.Integer(), nullable=False),
        sa.Column("profile_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["video_pk"], ["videos.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("video_pk"),
    )
    op.create_index(
        "ix_video_stats_profile_count", "video_stats", ["profile_count", "video_pk"]
    )
    bind = op.get_bind()
    bind.execute(
        sa.text(
            "INSERT INTO video_stats (video_pk, profile_count) "
            "SELECT video_pk, count(DISTINCT profile_id) FROM profile_videos GROUP BY video_pk"
        )
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(
                videos.c.id, videos.c.likes, videos.c.comments, videos.c.shares,
                videos.c.caption, videos.c.hashtags,
            ).where(videos.c.id > last).order_by(videos.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            videos.update().where(videos.c.id == sa.bindparam("pk")).values(
                score=sa.bindparam("new_score"), search_text=sa.bindparam("new_text")
            ),
            [
                {
                    "pk": pk,
                    "new_score": _score(likes, comments, shares),
                    "new_text": " ".join([(caption or "").lower(), *(hashtags or [])]),
                }
                for pk, likes, comments, shares, caption, hashtags in rows
            ],
        )
        last = rows[-1][0]
    op.create_index("ix_videos_score", "videos", ["score", "id"])


def downgrade():
    op.drop_index("ix_videos_score", table_name="videos")
    op.drop_index("ix_video_stats_profile_count", table_name="video_stats")
    op.drop_table("video_stats")
    with op.batch_alter_table("videos") as batch:
        batch.drop_column("search_text")
        batch.drop_column("score")
