"""The dashboard: Streamlit pages in Simplified Chinese, one per user, behind sign-in with roles.

The router (:mod:`dashboard.app`) is given the process's adapters as one
:class:`dashboard.services.Services` object built by the composition root; pages read the archive
through it and the ledger through :mod:`response_ledger`'s services and queries (no SQL here).

Layer 5: it may import :mod:`core`, :mod:`stream`, :mod:`archive`, :mod:`response_ledger`,
:mod:`classifiers`, :mod:`crawlers`, :mod:`briefing` and the settings type (``tests/test_layers.py``).
"""
