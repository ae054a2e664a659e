"""The implement stage: one file at a time against the spec."""
