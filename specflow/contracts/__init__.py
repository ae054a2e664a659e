"""Output contracts: a pydantic model per stage and a parser from the reply's Markdown."""
