"""The core every package shares, and nothing else: it imports only the standard library.

It owns the post contract (``messages``: posts.raw, posts.enriched, posts.dlq and their
validation), China time (``china_time``), masking of personal data and pseudonyms (``masking``),
the one set of Chinese words for source, sentiment and reply codes (``labels``), secret redaction
(``redact``) and the cell sanitiser of every spreadsheet the service writes (``spreadsheet``).

Layer 1: every other package may import it; it imports none of them (``tests/test_layers.py``).
"""
