"""The team's work on profiles: `lists.py`, shortlists whose members carry a note, tags and a
status, and what changed for each member since it was added; `views.py`, saved views of the
profile table (DESIGN.md, "Team workflow")."""


class InvalidValue(ValueError):
    """A field's value is not acceptable: `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field} {message}")
        self.field = field
        self.message = message
