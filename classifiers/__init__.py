"""Classifiers: sentiment, the department's remit topic, appeal type, urgency and risk, near-duplicate
events, spikes.

Every default model is a :class:`classifiers.linear.LinearTextModel` from a recipe of
:mod:`classifiers.training` (by task and genre: letters or social posts), built by
:mod:`classifiers.build`, stored as arrays plus JSON by :mod:`classifiers.store`, and applied by
:class:`classifiers.enrich.Enricher`. See ``docs/classifiers.md``.

Layer 3: it may import :mod:`core` and :mod:`archive` (the tokenizer) (``tests/test_layers.py``).
"""
