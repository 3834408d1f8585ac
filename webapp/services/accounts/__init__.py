"""People who sign in: users, passwords, sessions, API tokens and the audit log."""
