"""Git and what comes out of it: repository access, diffs, secrets, hooks."""
