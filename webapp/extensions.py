"""Flask extensions, created unbound here and bound to the app by the factory."""

import click
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Migrations:
    """Flask-Migrate, loaded the first time a migration or a `db` command runs: Alembic costs
    a process 11 MiB, and no web worker ever migrates. Binds like Flask-Migrate's `Migrate`."""

    def init_app(self, app, db, **options) -> None:
        app.extensions["migrate"] = _DeferredMigrateConfig(app, db, options)
        app.cli.add_command(_DeferredGroup(app, db, options))


def _load_migrate(app, db, options) -> None:
    """Bind the real Flask-Migrate to the app: its extension entry and `db` command group."""
    from flask_migrate import Migrate

    Migrate().init_app(app, db, **options)


class _DeferredMigrateConfig:
    """Stands in app.extensions["migrate"] until first read, then loads the real one."""

    def __init__(self, app, db, options):
        self._bound = (app, db, options)

    def __getattr__(self, name):
        app = self._bound[0]
        if app.extensions.get("migrate") is self:
            _load_migrate(*self._bound)
        return getattr(app.extensions["migrate"], name)


class _DeferredGroup(click.Group):
    """The `db` command group, its commands loaded from Flask-Migrate when first asked for."""

    def __init__(self, app, db, options):
        super().__init__("db", help="Perform database migrations.")
        self._bound = (app, db, options)

    def _real(self) -> click.Group:
        app = self._bound[0]
        if isinstance(app.extensions.get("migrate"), _DeferredMigrateConfig):
            _load_migrate(*self._bound)
        return app.cli.commands["db"]

    def make_context(self, info_name, args, parent=None, **extra):
        # The real group parses the arguments and runs, its own options and callback included.
        return self._real().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx):
        return self._real().list_commands(ctx)

    def get_command(self, ctx, name):
        return self._real().get_command(ctx, name)


class Base(DeclarativeBase):
    """Declarative base shared by every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrations()
login_manager = LoginManager()
csrf = CSRFProtect()
# No default limits: only the sign-in form is limited, by client address.
limiter = Limiter(key_func=get_remote_address)
cors = CORS()
