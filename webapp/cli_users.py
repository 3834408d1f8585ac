"""`toker users` and `toker tokens`: people who sign in, their roles and their API tokens."""

import getpass
import os
import sys

import click
from flask.cli import with_appcontext

from .models import ROLES
from .services.accounts import audit, users


def cli_actor() -> str:
    """Who ran the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except OSError:
        return "cli"


def _fail(error: Exception) -> None:
    click.echo(f"Error: {error}", err=True)
    sys.exit(1)


def _password() -> str:
    """TOKER_PASSWORD, else a hidden prompt typed twice."""
    password = os.environ.get("TOKER_PASSWORD")
    if password:
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group("users")
def users_group():
    """Add, list and delete the people who sign in."""


@users_group.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True)
@with_appcontext
def users_create(name: str, role: str):
    """Add a user; the password comes from TOKER_PASSWORD, else a prompt."""
    password = _password()
    try:
        user = users.create_user(name, password, role)
    except users.AccountError as error:
        _fail(error)
    audit.record(cli_actor(), "user-created", user.name, f"role {user.role}", via="cli")
    click.echo(f"Created user {user.name} ({user.role}).")


@users_group.command("list")
@with_appcontext
def users_list():
    """Every user with their role and last sign-in."""
    everyone = users.list_users()
    if not everyone:
        click.echo("No users yet: add one with 'toker users create NAME --role admin'.")
        return
    for user in everyone:
        last = (
            user.last_signed_in_at.strftime("%Y-%m-%d %H:%M") if user.last_signed_in_at else "never"
        )
        live = sum(1 for token in user.tokens if token.revoked_at is None)
        click.echo(f"{user.name:<24} {user.role:<8} last sign-in {last:<16}  {live} live tokens")


@users_group.command("delete")
@click.argument("name")
@with_appcontext
def users_delete(name: str):
    """Delete a user and their API tokens."""
    try:
        users.delete_user(users.get_user(name))
    except users.AccountError as error:
        _fail(error)
    audit.record(cli_actor(), "user-deleted", name, via="cli")
    click.echo(f"Deleted user {name} and their API tokens.")


@users_group.command("set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@with_appcontext
def users_set_role(name: str, role: str):
    """Give a user another role."""
    try:
        user = users.get_user(name)
        before = user.role
        users.set_role(user, role)
    except users.AccountError as error:
        _fail(error)
    audit.record(cli_actor(), "role-changed", name, f"{before} -> {role}", via="cli")
    click.echo(f"{name} is now {role}.")


@users_group.command("end-sessions")
@click.argument("name")
@with_appcontext
def users_end_sessions(name: str):
    """Sign a user out everywhere: every open session of theirs ends now."""
    try:
        user = users.get_user(name)
    except users.AccountError as error:
        _fail(error)
    ended = users.end_sessions(user)
    noun = "session" if ended == 1 else "sessions"
    audit.record(cli_actor(), "sessions-ended", name, f"{ended} {noun}", via="cli")
    click.echo(f"Ended {ended} {noun} of {name}.")


@users_group.command("first-admin")
@click.option("--name", default="admin", show_default=True)
@with_appcontext
def users_first_admin(name: str):
    """With no user at all, create an admin and print its one-time password; else nothing."""
    created = users.ensure_first_admin(name)
    if created is None:
        return
    audit.record(cli_actor(), "user-created", created.name, "role admin, first start", via="cli")
    click.echo(
        "\n".join(
            [
                "",
                "=" * 64,
                "First start: created the admin user.",
                f"  name:     {created.name}",
                f"  password: {created.password}",
                "Sign in with it at the address below: Toker then asks for a password of your own",
                "before anything else, and this one stops working.",
                "=" * 64,
                "",
            ]
        )
    )


@click.group("tokens")
def tokens_group():
    """Make, list and revoke API tokens."""


@tokens_group.command("create")
@click.argument("name")
@click.option("--label", default="cli", show_default=True, help="What the token is for.")
@with_appcontext
def tokens_create(name: str, label: str):
    """Make an API token for user NAME; the token is the last line printed."""
    try:
        record, token = users.create_token(users.get_user(name), label)
    except users.AccountError as error:
        _fail(error)
    audit.record(
        cli_actor(), "token-created", name, f"token {record.name} ({record.prefix}…)", via="cli"
    )
    click.echo(f"Token {record.id} for {name} ({record.user.role}); it is shown only now:")
    click.echo(token)


@tokens_group.command("list")
@click.option("--user", "name", help="Only this user's tokens.")
@with_appcontext
def tokens_list(name: str | None):
    """Every token: id, user, name, first characters, state."""
    try:
        user = users.get_user(name) if name else None
    except users.AccountError as error:
        _fail(error)
    tokens = users.list_tokens(user)
    if not tokens:
        click.echo("No tokens.")
        return
    for token in tokens:
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "live"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        click.echo(
            f"{token.id:>5}  {token.user.name:<20} {token.name:<20} {token.prefix}…  "
            f"used {used:<16}  {state}"
        )


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def tokens_revoke(token_id: int):
    """Revoke the token with this id (see 'toker tokens list')."""
    try:
        record = users.get_token(token_id)
    except users.AccountError as error:
        _fail(error)
    users.revoke_token(record)
    audit.record(
        cli_actor(),
        "token-revoked",
        record.user.name,
        f"token {record.name} ({record.prefix}…)",
        via="cli",
    )
    click.echo(f"Revoked token {token_id} ({record.name} of {record.user.name}).")
