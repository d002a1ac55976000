"""Crawlers: configuration-driven Scrapy spiders that publish what they find to posts.raw.

``crawlers.sources`` describes boards and ``crawlers.feeds`` the 12345 hotline (API and export-file
inbox) and Weibo-like sources, all in one ``sources.yaml``; ``crawlers.runner.run_crawl`` crawls them
once, incrementally; ``crawlers.schedule`` runs them 7×24; and ``python -m crawlers`` is the command.
The local sites to crawl (with every bad case) are ``demo_site`` of devtools/. See docs/crawlers.md.

Layer 3: it may import :mod:`core`, :mod:`stream` (the broker port it is handed), :mod:`archive`
(the export's columns, for ingest) and the settings type (``tests/test_layers.py``).
"""
