"""The JSON API under /api/v1: thin views over the services."""

from .routes import bp

__all__ = ["bp"]
