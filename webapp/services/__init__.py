"""Toker's business logic, by subject: ingestion (getting accounts in), catalogue (reading what
is stored), analytics (what the profiles say together), accounts (who signs in) and live (the
change feed and data version stamps that keep every process's state current)."""


class ProfileNotFound(LookupError):
    """No profile has that id: never stored, or deleted since it was read. Answered as a 404
    (webapp/errors.py), whichever service finds it missing."""

    def __init__(self, profile_id: int):
        super().__init__(f"No profile has id {profile_id}.")
        self.profile_id = profile_id
