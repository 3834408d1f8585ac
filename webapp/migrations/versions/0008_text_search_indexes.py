"""text search on the databases' own indexes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:30:00

The catalogue search (videos.search_text) and the profile search (username, display name)
were LIKE '%q%' scans. They now use trigram indexes over text lowered by Python:

- SQLite: FTS5 tables with the trigram tokenizer, case-sensitive. video_search indexes
  videos.search_text as external content, kept by triggers; profile_search holds each
  profile's lowered names under its id (rowid), written by the app's writes.
- PostgreSQL: the pg_trgm extension, a GIN index on videos.search_text, and a
  profile_search table (profile_id, lowered names) with a GIN index on each name.

The GIN indexes merge their pending list of new entries, which every search reads, at 512 kB
(not 4 MB): searches under writes stay fast.

Existing profiles are indexed here, BATCH at a time. The downgrade drops the tables,
triggers and indexes; it leaves the pg_trgm extension installed (other schemas may use it).
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BATCH = 5_000

SQLITE = (
    """CREATE VIRTUAL TABLE video_search USING fts5(
        search_text, content='videos', content_rowid='id',
        tokenize="trigram case_sensitive 1")""",
    "INSERT INTO video_search (video_search) VALUES ('rebuild')",
    """CREATE TRIGGER video_search_insert AFTER INSERT ON videos BEGIN
        INSERT INTO video_search (rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    """CREATE TRIGGER video_search_delete AFTER DELETE ON videos BEGIN
        INSERT INTO video_search (video_search, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END""",
    """CREATE TRIGGER video_search_update AFTER UPDATE OF search_text
    ON videos WHEN old.search_text IS NOT new.search_text BEGIN
        INSERT INTO video_search (video_search, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO video_search (rowid, search_text) VALUES (new.id, new.search_text);
    END""",
    """CREATE VIRTUAL TABLE profile_search USING fts5(
        username, user_pseudo, tokenize="trigram case_sensitive 1")""",
)
POSTGRESQL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE INDEX ix_videos_search_text_trgm ON videos
        USING gin (search_text gin_trgm_ops) WITH (gin_pending_list_limit = 512)""",
    """CREATE TABLE profile_search (
        profile_id INTEGER PRIMARY KEY REFERENCES profiles (id) ON DELETE CASCADE,
        username TEXT NOT NULL,
        user_pseudo TEXT NOT NULL)""",
)
POSTGRESQL_AFTER_FILL = (
    """CREATE INDEX ix_profile_search_username_trgm ON profile_search
        USING gin (username gin_trgm_ops) WITH (gin_pending_list_limit = 512)""",
    """CREATE INDEX ix_profile_search_user_pseudo_trgm ON profile_search
        USING gin (user_pseudo gin_trgm_ops) WITH (gin_pending_list_limit = 512)""",
)


def _fill_profile_search(bind, key: str) -> None:
    """Index every profile's names, lowered by Python as the app lowers them and the query."""
    profiles = sa.table(
        "profiles",
        sa.column("id", sa.Integer),
        sa.column("username", sa.String),
        sa.column("user_pseudo", sa.String),
    )
    found = sa.table(
        "profile_search", sa.column(key), sa.column("username"), sa.column("user_pseudo")
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(profiles.c.id, profiles.c.username, profiles.c.user_pseudo)
            .where(profiles.c.id > last).order_by(profiles.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            sa.insert(found),
            [
                {key: pk, "username": name.lower(), "user_pseudo": (pseudo or "").lower()}
                for pk, name, pseudo in rows
            ],
        )
        last = rows[-1][0]


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)
        _fill_profile_search(bind, "rowid")
    else:
        for statement in POSTGRESQL:
            op.execute(statement)
        _fill_profile_search(bind, "profile_id")
        for statement in POSTGRESQL_AFTER_FILL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("video_search_insert", "video_search_delete", "video_search_update"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE video_search")
        op.execute("DROP TABLE profile_search")
    else:
        op.execute("DROP TABLE profile_search")
        op.execute("DROP INDEX ix_videos_search_text_trgm")
