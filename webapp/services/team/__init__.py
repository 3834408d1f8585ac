"""The team's work on profiles: `lists.py`, shortlists whose members carry a note, tags and a
status, and what changed for each member since it was added (DESIGN.md, "Team workflow")."""
