"""Server-rendered pages."""

from .pages import bp

__all__ = ["bp"]
