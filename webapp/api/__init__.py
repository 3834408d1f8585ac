"""The JSON API under /api/v1: thin views over the services."""

from . import docs  # noqa: F401  (registers /openapi.json and /docs on the blueprint)
from .routes import bp

__all__ = ["bp"]
