"""The names of the trainable tasks, importable without loading scikit-learn (the command line)."""

from __future__ import annotations

TASKS = ("sentiment", "topic", "appeal")
