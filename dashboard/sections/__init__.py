"""Sections of the pages in ``app_pages/``: each page module stays a page, its larger parts live here."""
