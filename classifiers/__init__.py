"""Classifiers: sentiment, the department's remit topic, appeal type, risk, near-duplicate events, spikes.

Every model is a scikit-learn ``Pipeline`` built by a factory (``build_sentiment_model``,
``build_topic_model``, ``build_appeal_model``), trained from labelled CSV by :mod:`classifiers.training`,
saved with a card by :mod:`classifiers.store`, and applied by :class:`classifiers.enrich.Enricher`.
See ``docs/classifiers.md``.
"""
