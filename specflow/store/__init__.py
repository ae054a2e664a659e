"""The repository's .specflow/ folder: paths, atomic writes, tasks, transcripts."""
