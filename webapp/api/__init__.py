"""The JSON API under /api/v1: thin views over the services."""

from . import docs, jobs, lists  # noqa: F401  (register their routes on the blueprint)
from .routes import bp

__all__ = ["bp"]
