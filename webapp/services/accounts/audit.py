"""The audit log: who signed in, connected, re-synced, deleted, exported, and when."""

from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ...extensions import db
from ...models import AuditEvent, utcnow

ACTIONS = (
    "sign-in",
    "sign-in-failed",
    "sign-out",
    "connect",
    "resync",
    "delete",
    "export",
    "seed",
    "job-started",
    "job-cancelled",
    "hashtag-sync",
    "user-created",
    "user-deleted",
    "role-changed",
    "password-changed",
    "sessions-ended",
    "token-created",
    "token-revoked",
    "list-created",
    "list-updated",
    "list-deleted",
    "list-members-added",
    "list-member-updated",
    "list-member-removed",
    "view-created",
    "view-updated",
    "view-deleted",
    "view-default-set",
)


@dataclass(frozen=True)
class Actor:
    """Who acts, from which address and through which channel (page, api, token, cli, or
    job: a write a job made for the person who started it)."""

    name: str
    address: str = ""
    via: str = ""


def _row(actor: Actor, action: str, target: str, detail: str) -> dict:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return {
        "at": utcnow(),
        "actor": _text(actor.name)[:64],
        "action": action,
        "target": _text(target)[:200],
        "detail": _text(detail),
        "address": _text(actor.address)[:64],
        "via": actor.via,
    }


def record(
    actor: str, action: str, target: str = "", detail: str = "", address: str = "", via: str = ""
) -> None:
    """Write one audit event in its own transaction."""
    stage(db.session, Actor(actor, address, via), action, target, detail)
    db.session.commit()


def stage(session: Session, actor: Actor, action: str, target: str = "", detail: str = "") -> None:
    """Add one audit event to the caller's transaction: it commits, or rolls back, with the
    write it records (one turn at the database for both)."""
    session.execute(insert(AuditEvent.__table__), _row(actor, action, target, detail))


def _text(value: str | None) -> str:
    """Text as it can be stored anywhere: a NUL character (hostile input) is written as \\x00."""
    return (value or "").replace("\x00", "\\x00")


def events(page: int = 1, per_page: int = 50, action: str | None = None, actor: str | None = None):
    """One page of events, newest first, and the total; optionally one action or one actor."""
    query = select(AuditEvent)
    count = select(func.count()).select_from(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
        count = count.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
        count = count.where(AuditEvent.actor == actor)
    total = db.session.scalar(count) or 0
    rows = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    )
    return list(rows), total
