"""Toker's business logic: connectors, validation, processing, storage and queries."""
