"""Command files for the coding agents people use (Claude Code, Cursor, Copilot, Gemini CLI,
Codex through AGENTS.md), and the Claude Code hook that keeps the review gate on commits.

catalog: the agents (data). marks: marker lines and marked sections. install: install, list,
remove, eject. claude_settings: the hook entry in .claude/settings.json. claude_hook: the hook.
"""
