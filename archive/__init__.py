"""The archive: every enriched post, searchable and aggregable.

:mod:`archive.base` is the port; :mod:`archive.embedded` (SQLite FTS5 over jieba tokens) and
:mod:`archive.elastic` (Elasticsearch 8, template in :mod:`archive.mappings`) implement it and pass
one behavioural test suite. Both index what :mod:`archive.documents` extracts from a post, with the
tokens of :mod:`archive.tokens`.

A search goes: :mod:`archive.querylang` parses the analyst's query into the AST of
:mod:`archive.ast`; :mod:`archive.plan` adds the query's filters and resolves text into tokens;
:mod:`archive.sqlcompile` or :mod:`archive.escompile` turns the tree into SQL or query DSL; hits
come back with :mod:`archive.highlight` spans and a cursor. On top of the port:
:mod:`archive.aggregations` (top terms, top events), :mod:`archive.export` (CSV/XLSX),
:mod:`archive.saved` (named searches) and :mod:`archive.elastic_reindex` (alias swap).

Modules that need a backend's library import it themselves, so importing this package loads
neither jieba nor the Elasticsearch client.

Layer 2: it may import :mod:`core` only (``tests/test_layers.py``).
"""
