"""The JSON API under /api/v1: thin views over the services."""

# Imported to register their routes on the blueprint.
from . import docs, jobs, lists, saved_views  # noqa: F401
from .routes import bp

__all__ = ["bp"]
