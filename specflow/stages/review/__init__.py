"""The review gate: a change checked against the spec and the rules."""
