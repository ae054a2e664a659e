"""specflow: spec-driven development with LLM coding agents."""

__version__ = "0.1.0"
