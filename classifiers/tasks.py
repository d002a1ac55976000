"""The names of the trainable tasks, importable without loading scikit-learn (the command line)."""

from __future__ import annotations

TASKS = ("sentiment", "topic", "appeal", "urgency")
# Letters (boards, 12345 orders) and social posts (Weibo, news) are read by different models.
GENRES = ("letter", "social")
# What a task can be trained as: n-grams (fast), the fine-tuned encoder, or both averaged.
MODEL_KINDS = ("linear", "encoder", "ensemble")
