"""The workflow's stages: records, engine, anchoring, prompts, one module per stage."""
