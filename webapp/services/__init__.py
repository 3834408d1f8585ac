"""Toker's business logic, by subject: ingestion (getting accounts in), catalogue (reading what
is stored), analytics (what the profiles say together), accounts (who signs in) and live (the
change feed and data version stamps that keep every process's state current)."""
